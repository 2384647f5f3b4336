/* durable.c - replace a small file so that a power cut leaves the old or the
 * new content: write a temp file, fsync it, rename it over the target, fsync
 * the directory (the rename is only durable once the directory is). */
#include "durable.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ot_log.h"

static int dir_sync(int dirfd, const char *dir)
{
    int fd = dirfd >= 0 ? dirfd : open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    if (fd != dirfd)
        close(fd);
    return rc;
}

enum ot_err durable__write(int dirfd, const char *dir, const char *name, const void *buf,
                           size_t len)
{
    char tmp[600], path[600];
    int n1 = snprintf(tmp, sizeof tmp, "%s/%s.tmp", dir, name);
    int n2 = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (n1 < 0 || (size_t)n1 >= sizeof tmp || n2 < 0 || (size_t)n2 >= sizeof path)
        return OT_ERR_TOOBIG;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        ot_error("state file open failed path=%s error=\"%s\"", tmp, strerror(errno));
        return OT_ERR_IO;
    }
    const char *p = buf;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, p + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    if (done != len || fsync(fd)) {
        ot_error("state file write failed path=%s error=\"%s\"", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        return OT_ERR_IO;
    }
    close(fd);
    if (rename(tmp, path) || dir_sync(dirfd, dir)) {
        ot_error("state file rename failed path=%s error=\"%s\"", path, strerror(errno));
        return OT_ERR_IO;
    }
    return OT_OK;
}

enum ot_err durable__remove(int dirfd, const char *dir, const char *name)
{
    char path[600];
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof path)
        return OT_ERR_TOOBIG;
    if (unlink(path) && errno != ENOENT) {
        ot_error("state file remove failed path=%s error=\"%s\"", path, strerror(errno));
        return OT_ERR_IO;
    }
    if (dir_sync(dirfd, dir)) {
        ot_error("state file remove: directory sync failed dir=%s error=\"%s\"", dir,
                 strerror(errno));
        return OT_ERR_IO;
    }
    return OT_OK;
}
