/* spool_open.c - opening the spool: every segment is scanned, damage is
 * declared lost, and the next seq is chosen so that no seq is ever reused.
 *
 * What can have happened since the last open:
 * - a clean close: every record is on disk, nothing to do;
 * - the process died (SIGKILL, crash) on the same kernel boot: every record
 *   it wrote with write(2) is in the page cache and reads back, even if it
 *   was never flushed; the next seq is the last one found + 1;
 * - the machine lost power (or its kernel crashed): records written after
 *   the last fdatasync may be missing or torn, yet they may have been
 *   published (and even acknowledged). The meta file says a gateway had the
 *   spool open on another kernel boot (/proc/sys/kernel/random/boot_id), or
 *   a torn record is found. Then every seq from the last record found up to
 *   the highest reservation on disk is declared lost and the next seq comes
 *   after the reservation, so a seq that left the gateway is never reused;
 * - a corrupt record inside a sealed segment, or a hole between segments:
 *   the missing seqs are declared lost.
 * Declarations are written to meta before any damaged bytes are truncated,
 * so a crash during recovery repeats the same decision. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ot_log.h"
#include "ot_parse.h"
#include "spool_int.h"

static int mkdir_p(const char *dir)
{
    char tmp[512];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof tmp)
        return -1;
    memcpy(tmp, dir, n + 1);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) && errno != EEXIST)
                return -1;
            *p = '/';
        }
    if (mkdir(tmp, 0755) && errno != EEXIST)
        return -1;
    return 0;
}

static int cmp_seg(const void *a, const void *b)
{
    const struct segment *x = a, *y = b;
    return (x->first > y->first) - (x->first < y->first);
}

static enum ot_err list_segments(struct spool *s)
{
    DIR *d = opendir(s->dir);
    if (!d)
        return OT_ERR_IO;
    struct dirent *e;
    enum ot_err rc = OT_OK;
    while ((e = readdir(d))) {
        int64_t first;
        if (strncmp(e->d_name, "seg-", 4) || strlen(e->d_name) != 24 ||
            ot_parse_i64(e->d_name + 4, 1, OT_SEQ_MAX, &first))
            continue;
        if ((rc = seg__push(s, first, first - 1, 0)))
            break;
    }
    closedir(d);
    if (s->nseg > 1) /* qsort(NULL, 0, ...) is undefined */
        qsort(s->seg, s->nseg, sizeof s->seg[0], cmp_seg);
    return rc;
}

/* Truncates every segment to its valid prefix (after meta holds the
 * declarations). */
static enum ot_err truncate_damage(struct spool *s)
{
    for (size_t i = 0; i < s->nseg; i++) {
        char path[600];
        struct stat st;
        if (seg__path(s, s->seg[i].first, path, sizeof path) || stat(path, &st))
            continue;
        if ((uint64_t)st.st_size == s->seg[i].size)
            continue;
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || ftruncate(fd, (off_t)s->seg[i].size) || fsync(fd)) {
            ot_error("spool truncate failed path=%s error=\"%s\"", path, strerror(errno));
            if (fd >= 0)
                close(fd);
            return OT_ERR_IO;
        }
        close(fd);
    }
    return OT_OK;
}

/* Scans every segment and declares what is damaged or missing. Returns the
 * next seq to hand out, or -1 on an I/O error. */
static int64_t recover(struct spool *s, const struct spool_meta *m, int mrc)
{
    int64_t last = 0, reserved = 0, torn_bytes = 0; /* the newest segment's reservation wins */
    for (size_t i = 0; i < s->nseg; i++) {
        int64_t bad = seg__scan(s, i, &reserved);
        if (bad < 0) {
            ot_error("spool segment unreadable dir=%s first=%" PRId64, s->dir, s->seg[i].first);
            return -1;
        }
        if (bad > 0) {
            s->torn++;
            if (i + 1 == s->nseg)
                torn_bytes = bad;
            else
                ot_error("spool corrupt record in sealed segment first=%" PRId64
                         " after_seq=%" PRId64 " bytes=%" PRId64 " (declared lost)",
                         s->seg[i].first, s->seg[i].last, bad);
        }
        s->bytes += s->seg[i].size;
        if (s->seg[i].last > last)
            last = s->seg[i].last;
    }
    /* holes: before the first segment and between segments */
    if (s->nseg && s->seg[0].first > s->acked + 1)
        lost__add(s, s->acked + 1, s->seg[0].first - 1);
    for (size_t i = 0; i + 1 < s->nseg; i++)
        if (s->seg[i].last + 1 < s->seg[i + 1].first)
            lost__add(s, s->seg[i].last + 1, s->seg[i + 1].first - 1);

    int64_t held_to = last; /* every seq up to here is held, acked or declared */
    if (s->nseg && s->seg[s->nseg - 1].first - 1 > held_to)
        held_to = s->seg[s->nseg - 1].first - 1;
    char kb[40];
    meta__kernel_boot(kb, sizeof kb);
    int unclean = mrc != 0 ? s->nseg > 0 : m->open;
    int rebooted = !kb[0] || strcmp(kb, m->kernel_boot) != 0;
    if (torn_bytes || (unclean && rebooted)) {
        /* what was written after the last flush may be gone, and may have
         * been published: burn every seq that may have left the gateway */
        int64_t from = held_to + 1, to = reserved;
        if (torn_bytes && to < from)
            to = from; /* the torn record took a seq */
        if (to >= from) {
            lost__add(s, from, to);
            s->lost_total += to - from + 1;
            ot_warn("spool %s: seqs %" PRId64 "..%" PRId64 " may have been issued and are "
                    "not on disk: declared lost, never reused (torn_bytes=%" PRId64 ")",
                    torn_bytes ? "torn tail found" : "opened after a power cut or machine crash",
                    from, to, torn_bytes);
            held_to = to;
        }
    }
    int64_t next = m->next > 1 ? m->next : 1;
    if (next - 1 > held_to) {
        /* meta says these were handed out, yet no segment holds them */
        lost__add(s, held_to + 1, next - 1);
        if (next - 1 > s->acked)
            ot_warn("spool records missing from disk seqs %" PRId64 "..%" PRId64 " (declared lost)",
                    held_to + 1 > s->acked ? held_to + 1 : s->acked + 1, next - 1);
    }
    if (held_to + 1 > next)
        next = held_to + 1;
    if (s->acked >= next)
        next = s->acked + 1;
    for (size_t i = 0; i < s->nlost; i++) /* seqs declared lost are never reused */
        if (s->lost[i].to >= next)
            next = s->lost[i].to + 1;
    s->reserved_to = reserved > next - 1 ? reserved : next - 1;
    return next;
}

static enum ot_err open_active(struct spool *s)
{
    /* drop segments wholly acked (a crash may have come between meta and unlink) */
    while (s->nseg > 1 && s->seg[1].first - 1 <= s->acked)
        seg__unlink_first(s);
    if (s->nseg == 0 || s->seg[s->nseg - 1].size >= s->segment_bytes ||
        s->seg[s->nseg - 1].last + 1 != s->next_seq)
        return seg__create(s, s->next_seq);
    char path[600];
    if (seg__path(s, s->seg[s->nseg - 1].first, path, sizeof path) ||
        (s->wfd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
        return OT_ERR_IO;
    return OT_OK;
}

enum ot_err spool__open(const struct spool_opts *o, struct spool **out)
{
    enum ot_err rc = OT_ERR_IO;
    struct spool *s = calloc(1, sizeof *s);
    *out = NULL;
    if (!s)
        return OT_ERR_NOMEM;
    s->dirfd = s->wfd = s->rfd = s->lockfd = -1;
    s->rbuf_seg = -1;
    if (strlen(o->dir) >= sizeof s->dir) {
        rc = OT_ERR_TOOBIG;
        goto fail;
    }
    snprintf(s->dir, sizeof s->dir, "%s", o->dir);
    s->max_bytes = o->max_bytes;
    s->segment_bytes = o->segment_bytes;
    s->nosync = o->nosync;
    s->sync_ms = o->sync_ms > 0 ? o->sync_ms : 0;
    if (s->segment_bytes < 4096)
        s->segment_bytes = 4096;
    if (s->max_bytes < 2 * s->segment_bytes)
        s->max_bytes = 2 * s->segment_bytes;
    if (mkdir_p(s->dir) || (s->dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        ot_error("spool dir unusable dir=%s error=\"%s\"", s->dir, strerror(errno));
        goto fail;
    }
    char lpath[600];
    snprintf(lpath, sizeof lpath, "%s/lock", s->dir);
    s->lockfd = open(lpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (s->lockfd < 0 || flock(s->lockfd, LOCK_EX | LOCK_NB)) {
        ot_error("spool in use by another process (or unlockable) dir=%s error=\"%s\"", s->dir,
                 strerror(errno));
        rc = OT_ERR_CONFLICT;
        goto fail;
    }
    struct spool_meta m;
    int mrc = meta__read(s, &m);
    if (mrc < 0)
        ot_warn("spool meta unreadable, recovering from segments dir=%s", s->dir);
    if ((rc = list_segments(s)))
        goto fail;
    int64_t next = recover(s, &m, mrc);
    if (next < 0) {
        rc = OT_ERR_IO;
        goto fail;
    }
    s->next_seq = next;
    s->boot++;
    /* the declarations and the burnt seqs are durable before truncation */
    if ((rc = meta__write(s, 1)) || (rc = truncate_damage(s)) || (rc = open_active(s)))
        goto fail;
    ot_info("spool opened dir=%s boot=%" PRId64 " next_seq=%" PRId64 " acked=%" PRId64
            " segments=%zu bytes=%" PRIu64 " lost_pending=%zu sync_ms=%" PRId64,
            s->dir, s->boot, s->next_seq, s->acked, s->nseg, s->bytes, s->nlost, s->sync_ms);
    s->opened = 1;
    *out = s;
    return OT_OK;
fail:
    spool__close(s);
    return rc;
}
