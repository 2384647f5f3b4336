/* spool.c - the gateway's durable store of readings: append, group flush,
 * acknowledgement, reading back.
 *
 * How it works. Readings are appended to segment files (spool_segment.c),
 * one write(2) per reading, BEFORE spool__append returns: only then may the
 * caller publish it, so a SIGKILL can never take back a published reading
 * (the page cache holds it). Making it durable against a power cut costs an
 * fdatasync; with spool.sync_ms = 0 every append pays it, otherwise appends
 * are flushed together at most sync_ms after the first unflushed one, so a
 * power cut loses at most the last sync_ms of readings. Those readings may
 * already have been published (and acknowledged), so their seqs must never
 * be reused: seqs are reserved on disk in blocks (a reservation record goes
 * into the segment and is made durable by the same fdatasync as the
 * readings, before any seq beyond the previous reservation is handed out),
 * and open() after a power cut declares everything from the last record on
 * disk to the end of the reservation lost (spool_open.c).
 *
 * What it guarantees.
 * - Every reading that spool__append accepted survives the death of the
 *   process; a power cut loses at most the readings appended in the last
 *   sync_ms (0: none that were published), and declares them lost.
 * - seq is strictly increasing across restarts and power cuts: every seq
 *   below next is held, acknowledged, or declared lost.
 * - A segment is deleted only when the collector's ack covers every seq in
 *   it, and only after the new floor is in meta.
 * - Bounded size: when an append would push the spool past max_bytes, the
 *   oldest sealed segment is dropped and its unacknowledged seqs are
 *   declared lost (meta first, unlink second). Sampling never stops; the
 *   policy is justified in docs/internals/spool.md.
 * Lost ranges stay pending (in meta) until the ack covers them, so a batch
 * dropped by a broker cannot make a declaration disappear. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ot_log.h"
#include "ot_time.h"
#include "spool_int.h"

#define RESERVE_MIN 16 /* seqs reserved at least per block */

/* Adds [from,to] to the pending lost ranges (sorted, merged). When the list
 * is full (32 separate losses with no ack in between: 32 crashes each with a
 * torn record, say) the two oldest ranges are merged, which over-declares
 * the seqs between them: the collector may then hold a reading that is also
 * marked lost. Over-declaring is the safe side: a loss is never hidden. */
void lost__add(struct spool *s, int64_t from, int64_t to)
{
    if (from <= s->acked)
        from = s->acked + 1;
    if (from > to)
        return;
    size_t i = 0;
    while (i < s->nlost && s->lost[i].to + 1 < from)
        i++;
    if (i < s->nlost && s->lost[i].from <= to + 1) {
        if (from < s->lost[i].from)
            s->lost[i].from = from;
        if (to > s->lost[i].to)
            s->lost[i].to = to;
        while (i + 1 < s->nlost && s->lost[i + 1].from <= s->lost[i].to + 1) {
            if (s->lost[i + 1].to > s->lost[i].to)
                s->lost[i].to = s->lost[i + 1].to;
            memmove(&s->lost[i + 1], &s->lost[i + 2], (s->nlost - i - 2) * sizeof s->lost[0]);
            s->nlost--;
        }
    } else {
        if (s->nlost == SPOOL_LOST_MAX) {
            s->lost[0].to = s->lost[1].to;
            memmove(&s->lost[1], &s->lost[2], (s->nlost - 2) * sizeof s->lost[0]);
            s->nlost--;
            if (i > 0)
                i--;
        }
        memmove(&s->lost[i + 1], &s->lost[i], (s->nlost - i) * sizeof s->lost[0]);
        s->lost[i].from = from;
        s->lost[i].to = to;
        s->nlost++;
    }
    s->meta_dirty = 1;
}

static enum ot_err write_frame(struct spool *s, const uint8_t *buf, size_t n);

void spool__close(struct spool *s)
{
    if (!s)
        return;
    if (s->opened && s->wfd >= 0) {
        /* every issued seq is on disk after this flush: release the rest of
         * the reservation, so the next open has nothing to burn */
        if (s->sync_ms > 0 && s->reserved_to > s->next_seq - 1) {
            uint8_t buf[REC_HDR + REC_MAX];
            size_t n = record__encode_reserve(s->next_seq - 1, buf);
            if (write_frame(s, buf, n) == OT_OK)
                s->reserved_to = s->next_seq - 1;
        }
        spool__flush(s, ot_time_mono_ms(), 1);
        meta__write(s, 0); /* a clean close: nothing to recover next time */
    }
    if (s->wfd >= 0)
        close(s->wfd);
    if (s->rfd >= 0)
        close(s->rfd);
    if (s->dirfd >= 0)
        close(s->dirfd);
    if (s->lockfd >= 0)
        close(s->lockfd); /* releases the flock */
    free(s->seg);
    free(s);
}

/* Full-spool policy: drop the oldest sealed segment, declaring its
 * unacknowledged readings lost. Meta is written before the unlink. */
static enum ot_err drop_oldest(struct spool *s)
{
    struct segment g = s->seg[0];
    int64_t to = s->seg[1].first - 1;
    int64_t from = g.first > s->acked + 1 ? g.first : s->acked + 1;
    if (from <= to) {
        lost__add(s, from, to);
        s->lost_total += to - from + 1;
    }
    s->dropped++;
    enum ot_err rc = meta__write(s, 1);
    if (rc)
        return rc;
    ot_warn("spool full, dropped oldest segment first=%" PRId64 " lost_from=%" PRId64
            " lost_to=%" PRId64 " dropped_total=%" PRId64,
            g.first, from, to, s->dropped);
    seg__unlink_first(s);
    fsync(s->dirfd);
    return OT_OK;
}

static enum ot_err write_frame(struct spool *s, const uint8_t *buf, size_t n)
{
    struct segment *a = &s->seg[s->nseg - 1];
    ssize_t w = pwrite(s->wfd, buf, n, (off_t)a->size);
    if (w != (ssize_t)n) {
        if (w >= 0)
            errno = ENOSPC; /* a short write: the file system is full */
        return OT_ERR_IO;
    }
    a->size += n;
    s->bytes += n;
    if (!s->dirty) {
        s->dirty = 1;
        s->dirty_mono = ot_time_mono_ms();
    }
    return OT_OK;
}

/* Tops up the reservation when less than half a block is left; the block
 * covers two flush periods at the recent rate (at least RESERVE_MIN). The
 * record becomes durable with the next fdatasync. */
static enum ot_err reserve(struct spool *s, int force)
{
    int64_t want = 2 * s->since_flush + 2;
    if (want < RESERVE_MIN)
        want = RESERVE_MIN;
    int64_t left = s->reserved_to - (s->next_seq - 1);
    if (!force && left > want / 2)
        return OT_OK;
    uint8_t buf[REC_HDR + REC_MAX];
    int64_t to = s->next_seq - 1 + want;
    size_t n = record__encode_reserve(to, buf);
    enum ot_err rc = write_frame(s, buf, n);
    if (rc) {
        ot_error("spool reservation write failed error=\"%s\"", strerror(errno));
        return rc;
    }
    s->reserved_to = to;
    return OT_OK;
}

enum ot_err spool__flush(struct spool *s, int64_t now_mono, int force)
{
    if (!s->dirty || (!force && now_mono < s->dirty_mono + s->sync_ms))
        return OT_OK;
    if (s->sync_ms > 0 && reserve(s, 0))
        return OT_ERR_IO;
    if (!s->nosync && fdatasync(s->wfd)) {
        if (s->flush_errors++ % 100 == 0)
            ot_error("spool flush failed error=\"%s\" count=%" PRId64, strerror(errno),
                     s->flush_errors);
        return OT_ERR_IO;
    }
    s->dirty = 0;
    s->since_flush = 0;
    s->flushes++;
    return OT_OK;
}

int64_t spool__flush_due(const struct spool *s)
{
    return s->dirty ? s->dirty_mono + s->sync_ms : INT64_MAX;
}

static void tail_keep(struct spool *s, int64_t seq, uint64_t off, const uint8_t *buf, size_t n)
{
    struct tail_frame *t = &s->tail[(uint64_t)seq % SPOOL_TAIL];
    t->seq = seq;
    t->seg_first = s->seg[s->nseg - 1].first;
    t->off = off;
    t->len = (uint32_t)n;
    memcpy(t->frame, buf, n);
}

enum ot_err spool__append(struct spool *s, struct ot_reading *r)
{
    uint8_t buf[REC_HDR + REC_MAX];
    enum ot_err rc;
    if (s->next_seq > OT_SEQ_MAX)
        return OT_ERR_RANGE;
    /* a seq leaves the gateway only once it is reserved on disk */
    if (s->sync_ms > 0 && s->next_seq > s->reserved_to) {
        if ((rc = reserve(s, 1)) || (rc = spool__flush(s, 0, 1)))
            return rc;
    }
    r->seq = s->next_seq;
    size_t n = record__encode_reading(r, buf);
    struct segment *a = &s->seg[s->nseg - 1];
    if (a->size > 0 && a->size + n > s->segment_bytes) {
        /* the sealed segment's tail is flushed before it is left behind */
        if ((rc = spool__flush(s, 0, 1)) || (rc = seg__create(s, s->next_seq)))
            return rc;
        a = &s->seg[s->nseg - 1];
    }
    while (s->nseg > 1 && s->bytes + n > s->max_bytes) {
        if ((rc = drop_oldest(s)))
            return rc;
        a = &s->seg[s->nseg - 1];
    }
    uint64_t off = a->size;
    rc = write_frame(s, buf, n);
    if (!rc && s->sync_ms == 0)
        rc = spool__flush(s, 0, 1);
    if (rc) {
        int err = errno;
        /* the seq may or may not be on disk: burn it and declare it lost */
        a = &s->seg[s->nseg - 1];
        if (a->size > off) {
            s->bytes -= a->size - off;
            a->size = off;
        }
        if (ftruncate(s->wfd, (off_t)off) == 0 && !s->nosync)
            fdatasync(s->wfd);
        lost__add(s, r->seq, r->seq);
        s->lost_total++;
        s->next_seq++;
        meta__write(s, 1);
        ot_error("spool append failed seq=%" PRId64 " error=\"%s\" (declared lost)", r->seq,
                 strerror(err));
        return OT_ERR_IO;
    }
    a->last = r->seq;
    s->next_seq++;
    s->since_flush++;
    tail_keep(s, r->seq, off, buf, n);
    return OT_OK;
}

enum ot_err spool__ack(struct spool *s, int64_t seq)
{
    if (seq >= s->next_seq)
        return OT_ERR_RANGE;
    if (seq <= s->acked)
        return OT_OK;
    s->acked = seq;
    size_t k = 0;
    for (size_t i = 0; i < s->nlost; i++) {
        if (s->lost[i].to <= seq)
            continue;
        if (s->lost[i].from <= seq)
            s->lost[i].from = seq + 1;
        s->lost[k++] = s->lost[i];
    }
    s->nlost = k;
    /* The floor reaches meta when a segment goes (it must be durable before
     * the unlink) and at close; in between a crash only costs a resend from
     * an older floor, which the collector de-duplicates. */
    s->meta_dirty = 1;
    if (s->nseg > 1 && s->seg[1].first - 1 <= seq) {
        enum ot_err rc = meta__write(s, 1);
        if (rc)
            return rc;
        while (s->nseg > 1 && s->seg[1].first - 1 <= seq)
            seg__unlink_first(s);
        fsync(s->dirfd);
    }
    return OT_OK;
}

enum ot_err spool__sync_meta(struct spool *s)
{
    return meta__write(s, 1);
}

void spool__seek(struct spool *s, struct spool_cursor *c, int64_t seq)
{
    size_t i = 0;
    while (i + 1 < s->nseg && s->seg[i + 1].first <= seq)
        i++;
    c->seg_first = s->nseg ? s->seg[i].first : 0;
    c->off = 0;
    c->want = seq;
}

static int seg_find(const struct spool *s, int64_t first, size_t *idx)
{
    for (size_t i = s->nseg; i-- > 0;) /* cursors are mostly in the newest */
        if (s->seg[i].first == first) {
            *idx = i;
            return 0;
        }
    return -1;
}

static int read_fd(struct spool *s, int64_t first)
{
    if (s->rfd >= 0 && s->rfd_first == first)
        return s->rfd;
    if (s->rfd >= 0)
        close(s->rfd);
    char path[600];
    s->rfd = -1;
    if (seg__path(s, first, path, sizeof path))
        return -1;
    s->rfd = open(path, O_RDONLY | O_CLOEXEC);
    s->rfd_first = first;
    return s->rfd;
}

/* The bytes of the frame at (g, off): from the tail cache, the read buffer,
 * or the file (one pread of up to SPOOL_RBUF, read ahead for a backlog). */
static const uint8_t *frame_at(struct spool *s, const struct segment *g, uint64_t off, int64_t want,
                               size_t *avail)
{
    const struct tail_frame *t = &s->tail[(uint64_t)want % SPOOL_TAIL];
    if (t->len && t->seq == want && t->seg_first == g->first && t->off == off) {
        *avail = t->len;
        return t->frame;
    }
    uint64_t need = g->size - off < REC_HDR + REC_MAX ? g->size - off : REC_HDR + REC_MAX;
    if (s->rbuf_seg != g->first || off < s->rbuf_off || off + need > s->rbuf_off + s->rbuf_len) {
        int fd = read_fd(s, g->first);
        uint64_t len = g->size - off < SPOOL_RBUF ? g->size - off : SPOOL_RBUF;
        ssize_t n = fd < 0 ? -1 : pread(fd, s->rbuf, len, (off_t)off);
        if (n < (ssize_t)need) {
            s->rbuf_len = 0;
            ot_error("spool read failed first=%" PRId64 " off=%" PRIu64, g->first, off);
            return NULL;
        }
        s->rbuf_seg = g->first;
        s->rbuf_off = off;
        s->rbuf_len = (uint64_t)n;
    }
    *avail = (size_t)(s->rbuf_off + s->rbuf_len - off);
    return s->rbuf + (off - s->rbuf_off);
}

enum ot_err spool__read(struct spool *s, struct spool_cursor *c, struct ot_reading *r)
{
    size_t i;
    if (seg_find(s, c->seg_first, &i)) {
        spool__seek(s, c, c->want);
        if (seg_find(s, c->seg_first, &i))
            return OT_ERR_NOTFOUND;
    }
    for (;;) {
        const struct segment *g = &s->seg[i];
        if (c->off >= g->size || g->last < c->want) {
            if (i + 1 >= s->nseg)
                return OT_ERR_NOTFOUND;
            i++;
            c->seg_first = s->seg[i].first;
            c->off = 0;
            continue;
        }
        size_t avail = 0;
        const uint8_t *p = frame_at(s, g, c->off, c->want, &avail);
        if (!p)
            return OT_ERR_IO;
        unsigned type = 0;
        size_t n = record__check(p, avail, &type, r, NULL);
        if (!n) {
            ot_error("spool corrupt record first=%" PRId64 " off=%" PRIu64, g->first, c->off);
            return OT_ERR_CORRUPT;
        }
        c->off += n;
        if (type != REC_READING || r->seq < c->want)
            continue;
        c->want = r->seq + 1;
        return OT_OK;
    }
}

size_t spool__lost(const struct spool *s, struct ot_seq_range *out, size_t max)
{
    size_t n = s->nlost < max ? s->nlost : max;
    memcpy(out, s->lost, n * sizeof *out);
    return n;
}

void spool__stats(const struct spool *s, struct spool_stats *st)
{
    memset(st, 0, sizeof *st);
    st->boot = s->boot;
    st->next_seq = s->next_seq;
    st->acked = s->acked;
    st->first_seq = s->next_seq;
    for (size_t i = 0; i < s->nseg; i++)
        if (s->seg[i].last >= s->seg[i].first) {
            st->first_seq = s->seg[i].first;
            break;
        }
    st->bytes = s->bytes;
    st->segments = s->nseg;
    st->torn_records = s->torn;
    st->dropped_segments = s->dropped;
    st->lost_readings = s->lost_total;
    st->flushes = s->flushes;
    st->flush_errors = s->flush_errors;
    st->reserved_to = s->reserved_to;
}
