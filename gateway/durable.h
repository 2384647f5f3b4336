/* durable.h - small state files that survive a power cut: the spool's meta,
 * the last limits, the flight state. */
#ifndef GW_DURABLE_H
#define GW_DURABLE_H

#include <stddef.h>

#include "ot_err.h"

/* Replaces dir/name with buf atomically and durably: written to
 * dir/name.tmp, fsync'd, renamed over dir/name, then the directory (dirfd,
 * or dir when dirfd < 0) is fsync'd. A crash at any point leaves either the
 * old or the new content, never a mix. Logs what failed. */
enum ot_err durable__write(int dirfd, const char *dir, const char *name, const void *buf,
                           size_t len);
/* Removes dir/name durably (unlink, then fsync the directory). Absent is OK. */
enum ot_err durable__remove(int dirfd, const char *dir, const char *name);

#endif
