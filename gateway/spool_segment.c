/* spool_segment.c - the segment files: seg-<first seq, 20 digits>, records
 * in seq order. Creating one fsyncs the directory before anything is written
 * into it; scanning one at open finds its valid prefix. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ot_log.h"
#include "spool_int.h"

#define SCAN_BUF (32u * 1024u)

int seg__path(const struct spool *s, int64_t first, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s/seg-%020" PRId64, s->dir, first);
    return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

enum ot_err seg__push(struct spool *s, int64_t first, int64_t last, uint64_t size)
{
    if (s->nseg == s->capseg) {
        size_t cap = s->capseg ? s->capseg * 2 : 16;
        struct segment *n = realloc(s->seg, cap * sizeof *n);
        if (!n)
            return OT_ERR_NOMEM;
        s->seg = n;
        s->capseg = cap;
    }
    s->seg[s->nseg].first = first;
    s->seg[s->nseg].last = last;
    s->seg[s->nseg].size = size;
    s->nseg++;
    return OT_OK;
}

enum ot_err seg__create(struct spool *s, int64_t first)
{
    char path[600];
    uint8_t buf[REC_HDR + REC_MAX];
    size_t n = 0;
    if (seg__path(s, first, path, sizeof path))
        return OT_ERR_TOOBIG;
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || fsync(s->dirfd))
        goto fail;
    /* the reservation must survive the deletion of older segments */
    if (s->sync_ms > 0 && s->reserved_to >= first) {
        n = record__encode_reserve(s->reserved_to, buf);
        if (pwrite(fd, buf, n, 0) != (ssize_t)n || (!s->nosync && fdatasync(fd)))
            goto fail;
    }
    enum ot_err rc = seg__push(s, first, first - 1, n);
    if (rc) {
        close(fd);
        return rc;
    }
    s->bytes += n;
    if (s->wfd >= 0)
        close(s->wfd);
    s->wfd = fd;
    return OT_OK;
fail:
    ot_error("spool segment create failed path=%s error=\"%s\"", path, strerror(errno));
    if (fd >= 0)
        close(fd);
    return OT_ERR_IO;
}

void seg__unlink_first(struct spool *s)
{
    char path[600];
    if (!seg__path(s, s->seg[0].first, path, sizeof path) && unlink(path) && errno != ENOENT)
        ot_warn("spool unlink failed path=%s error=\"%s\"", path, strerror(errno));
    if (s->rfd >= 0 && s->rfd_first == s->seg[0].first) {
        close(s->rfd);
        s->rfd = -1;
    }
    if (s->rbuf_seg == s->seg[0].first)
        s->rbuf_len = 0;
    s->bytes -= s->seg[0].size;
    memmove(&s->seg[0], &s->seg[1], (s->nseg - 1) * sizeof s->seg[0]);
    s->nseg--;
}

int64_t seg__scan(struct spool *s, size_t i, int64_t *reserved)
{
    char path[600];
    struct segment *g = &s->seg[i];
    if (seg__path(s, g->first, path, sizeof path))
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    uint8_t *buf = malloc(SCAN_BUF); /* streamed: a 1 MiB segment costs 32 KiB */
    if (fstat(fd, &st) || !buf) {
        close(fd);
        free(buf);
        return -1;
    }
    uint64_t fsize = (uint64_t)st.st_size, off = 0, base = 0, have = 0;
    int64_t prev = g->first - 1, rc = -1;
    for (;;) {
        uint64_t want = fsize - off < REC_HDR + REC_MAX ? fsize - off : REC_HDR + REC_MAX;
        if (off + want > base + have) { /* refill from off */
            memmove(buf, buf + (off - base), (size_t)(base + have - off));
            have -= off - base;
            base = off;
            while (have < SCAN_BUF && base + have < fsize) {
                ssize_t n = pread(fd, buf + have, SCAN_BUF - have, (off_t)(base + have));
                if (n <= 0)
                    goto out; /* I/O error: rc -1 */
                have += (uint64_t)n;
            }
        }
        struct ot_reading r;
        int64_t res = 0;
        unsigned type = 0;
        size_t n = record__check(buf + (off - base), (size_t)(base + have - off), &type, &r, &res);
        if (!n)
            break;
        if (type == REC_READING) {
            if (r.seq <= prev)
                break; /* out of order: not ours to trust */
            prev = r.seq;
        } else {
            *reserved = res; /* the newest reservation counts (a close releases) */
        }
        off += n;
    }
    g->last = prev;
    g->size = off;
    rc = (int64_t)(fsize - off);
out:
    close(fd);
    free(buf);
    return rc;
}
