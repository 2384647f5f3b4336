/* limits.h - the retained {root}/containers/{c}/limits the gateways judge
 * their local alarm by (SPEC v1.1 "Local alarm and flight mode"; limits.c).
 * Worker thread only; the active collector only (the worker has an MQTT
 * client only while active). */
#ifndef COLLECTOR_LIMITS_H
#define COLLECTOR_LIMITS_H

#include <stdint.h>

#include "collector.h"
#include "ot_preservation.h"
#include "ot_sql.h"

struct limits;

/* Prepares the statements on db; profiles (NULL: none, nothing is
 * published but clears) stay the caller's. */
enum ot_err limits__open(struct ot_sql *db, const struct ot_preservation_set *profiles,
                         struct limits **out);
void limits__close(struct limits *l);
/* Reads the open shipments (in the open transaction or not: read only)
 * and notes which containers' limits must be published or cleared. */
enum ot_err limits__poll(struct limits *l);
/* Becoming active: the next poll also clears the limits of every
 * container whose shipments all ended (they may have ended while no
 * collector was active), and everything is published again. */
void limits__activate(struct limits *l);
/* Publishes what changed since the last successful publish (all: every
 * container again, after a (re)connection). Never blocks: a publish that
 * fails (broker down) is tried again on the next call. m NULL: nothing. */
void limits__publish(struct limits *l, struct mqtt *m, const char *topic_root, int all,
                     int64_t now);

#endif
