/* spool.c - the gateway's durable store of readings.
 *
 * How it works. Readings are appended to segment files in the spool dir,
 * named seg-<first seq, 20 digits>. Each record is framed as
 *   u32 len | u32 crc32(len bytes, payload) | payload[len]
 * (little endian), and each append is written with one pwrite and made
 * durable with fdatasync BEFORE spool__append returns; the caller publishes
 * a reading only after that, so nothing is ever published that a crash could
 * take back. A segment is sealed when it reaches segment_bytes; a new one is
 * created (and the directory fsync'd) named by the seq it will start with.
 * The file "meta" holds the boot counter, the acked floor, the next seq, the
 * counters and the pending lost ranges; it is replaced atomically (write to
 * meta.tmp, fsync, rename, fsync the directory).
 *
 * What it guarantees.
 * - Crash safety (SIGKILL, power loss): only the record being written can be
 *   torn. At open every segment is scanned; the first record whose length,
 *   CRC or seq order is wrong ends the valid data. In the last segment that
 *   is a torn tail: its seq (last valid + 1) is declared lost, the seq is
 *   burnt (never reused for another reading), meta is written, and then the
 *   garbage is truncated. Corruption inside a sealed segment, or a hole
 *   between segments, is declared lost the same way ([from,to] of the hole).
 * - seq is strictly increasing and contiguous across restarts: next seq is
 *   the largest of (last seq found + 1, the newest segment's name, meta's
 *   next seq); every seq below it is either held, acknowledged, or declared
 *   lost. When the spool is empty the newest (empty) segment's name and meta
 *   still carry the next seq.
 * - A segment is deleted only when the collector's ack covers every seq in
 *   it, and only after the new floor is in meta.
 * - Bounded size: when an append would push the spool past max_bytes, the
 *   oldest sealed segment is dropped and its unacknowledged seqs are
 *   declared lost (meta first, unlink second). Sampling never stops: the
 *   newest readings are what the crew and the alarms need; the policy is
 *   justified in docs/internals/spool.md.
 * Lost ranges stay pending (in meta) until the ack covers them, so a batch
 * dropped by a broker cannot make a declaration disappear. */
#include "spool.h"

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
#include "ot_time.h"

#define REC_HDR 8u
#define REC_MIN 26u  /* type, seq, ts, present, missing, n_extra */
#define REC_MAX 512u /* 26 + 12 doubles + 8 extras of (1+32+1+8) = 458 */
#define SEG_SCAN_MAX (256u * 1024u * 1024u)

struct segment {
    int64_t first; /* seq the segment started with (its name) */
    int64_t last;  /* last seq held; first - 1 when empty */
    uint64_t size;
};

struct spool {
    char dir[512];
    int dirfd;
    int lockfd; /* flock'd: one gateway per spool */
    uint64_t max_bytes, segment_bytes;
    struct segment *seg;
    size_t nseg, capseg;
    int wfd; /* active (last) segment, write */
    int rfd; /* read cache */
    int64_t rfd_first;
    int64_t boot, next_seq, acked;
    int64_t torn, dropped, lost_total;
    struct ot_seq_range lost[SPOOL_LOST_MAX];
    size_t nlost;
    uint64_t bytes;
    int meta_dirty;
    int64_t meta_written_mono;
    int nosync;
};

/* ---- CRC-32 (reflected, polynomial 0xEDB88320) ---- */

static uint32_t crc_table[256];
static int crc_ready;

uint32_t spool__crc32(uint32_t crc, const void *buf, size_t len)
{
    if (!crc_ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            crc_table[i] = c;
        }
        crc_ready = 1;
    }
    const uint8_t *p = buf;
    crc = ~crc;
    for (size_t i = 0; i < len; i++)
        crc = crc_table[(crc ^ p[i]) & 0xffu] ^ (crc >> 8);
    return ~crc;
}

/* ---- little-endian helpers ---- */

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}
static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}
static uint64_t dbits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}
static double bitsd(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* Encodes r into buf (REC_MAX + REC_HDR bytes); returns the frame length. */
static size_t rec_encode(const struct ot_reading *r, uint8_t *buf)
{
    uint8_t *p = buf + REC_HDR;
    *p++ = 1;
    put64(p, (uint64_t)r->seq);
    p += 8;
    put64(p, (uint64_t)r->ts);
    p += 8;
    uint32_t present = r->present & ((1u << OT_CH__COUNT) - 1u);
    put32(p, present);
    p += 4;
    put32(p, r->missing & ((1u << OT_CH__COUNT) - 1u));
    p += 4;
    for (int ch = 0; ch < OT_CH__COUNT; ch++)
        if ((present >> ch) & 1u) {
            put64(p, dbits(r->v[ch]));
            p += 8;
        }
    size_t ne = r->n_extra > OT_EXTRA_MAX ? OT_EXTRA_MAX : r->n_extra;
    *p++ = (uint8_t)ne;
    for (size_t i = 0; i < ne; i++) {
        size_t nl = strnlen(r->extra[i].name, OT_CHANNEL_NAME_MAX);
        *p++ = (uint8_t)nl;
        memcpy(p, r->extra[i].name, nl);
        p += nl;
        *p++ = (uint8_t)(r->extra[i].is_bool != 0);
        put64(p, dbits(r->extra[i].value));
        p += 8;
    }
    uint32_t len = (uint32_t)(p - (buf + REC_HDR));
    put32(buf, len);
    uint32_t crc = spool__crc32(0, buf, 4);
    crc = spool__crc32(crc, buf + REC_HDR, len);
    put32(buf + 4, crc);
    return REC_HDR + len;
}

/* Checks a frame header: 0 if len is plausible. */
static int rec_len_ok(uint32_t len)
{
    return len >= REC_MIN && len <= REC_MAX;
}

/* Decodes a payload (CRC already checked). 0 on success. */
static int rec_decode(const uint8_t *p, uint32_t len, struct ot_reading *r)
{
    const uint8_t *end = p + len;
    memset(r, 0, sizeof *r);
    if (len < REC_MIN || p[0] != 1)
        return -1;
    p++;
    r->seq = (int64_t)get64(p);
    p += 8;
    r->ts = (int64_t)get64(p);
    p += 8;
    r->present = get32(p);
    p += 4;
    r->missing = get32(p);
    p += 4;
    if ((r->present | r->missing) >> OT_CH__COUNT)
        return -1;
    for (int ch = 0; ch < OT_CH__COUNT; ch++)
        if ((r->present >> ch) & 1u) {
            if (end - p < 8)
                return -1;
            r->v[ch] = bitsd(get64(p));
            p += 8;
        }
    if (end - p < 1)
        return -1;
    size_t ne = *p++;
    if (ne > OT_EXTRA_MAX)
        return -1;
    for (size_t i = 0; i < ne; i++) {
        if (end - p < 1)
            return -1;
        size_t nl = *p++;
        if (nl < 1 || nl > OT_CHANNEL_NAME_MAX || (size_t)(end - p) < nl + 9)
            return -1;
        memcpy(r->extra[i].name, p, nl);
        r->extra[i].name[nl] = '\0';
        p += nl;
        r->extra[i].is_bool = *p++;
        r->extra[i].value = bitsd(get64(p));
        p += 8;
    }
    r->n_extra = ne;
    return p == end ? 0 : -1;
}

/* ---- files ---- */

static int seg_path(const struct spool *s, int64_t first, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s/seg-%020" PRId64, s->dir, first);
    return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

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

static enum ot_err write_meta(struct spool *s)
{
    char buf[4096], tmp[600], path[600];
    int n = snprintf(buf, sizeof buf,
                     "organtrack-spool 1\nboot %" PRId64 "\nacked %" PRId64 "\nnext %" PRId64
                     "\ntorn %" PRId64 "\ndropped %" PRId64 "\nlost_total %" PRId64 "\n",
                     s->boot, s->acked, s->next_seq, s->torn, s->dropped, s->lost_total);
    for (size_t i = 0; i < s->nlost && n > 0 && (size_t)n < sizeof buf; i++)
        n += snprintf(buf + n, sizeof buf - (size_t)n, "lost %" PRId64 " %" PRId64 "\n",
                      s->lost[i].from, s->lost[i].to);
    if (n < 0 || (size_t)n >= sizeof buf)
        return OT_ERR_TOOBIG;
    snprintf(tmp, sizeof tmp, "%s/meta.tmp", s->dir);
    snprintf(path, sizeof path, "%s/meta", s->dir);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        ot_error("spool meta open failed path=%s error=\"%s\"", tmp, strerror(errno));
        return OT_ERR_IO;
    }
    ssize_t w = write(fd, buf, (size_t)n);
    if (w != n || fsync(fd)) {
        ot_error("spool meta write failed path=%s error=\"%s\"", tmp, strerror(errno));
        close(fd);
        return OT_ERR_IO;
    }
    close(fd);
    if (rename(tmp, path) || fsync(s->dirfd)) {
        ot_error("spool meta rename failed path=%s error=\"%s\"", path, strerror(errno));
        return OT_ERR_IO;
    }
    s->meta_dirty = 0;
    s->meta_written_mono = ot_time_mono_ms();
    return OT_OK;
}

static void add_lost(struct spool *s, int64_t from, int64_t to);

static int read_meta(struct spool *s, int64_t *next)
{
    char path[600], line[128];
    snprintf(path, sizeof path, "%s/meta", s->dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? 1 : -1;
    int rc = 0, first = 1;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (first) {
            first = 0;
            if (strcmp(line, "organtrack-spool 1")) {
                rc = -1;
                break;
            }
            continue;
        }
        char *key = line, *v1 = strchr(line, ' ');
        if (!v1) {
            rc = -1;
            break;
        }
        *v1++ = '\0';
        char *v2 = strchr(v1, ' ');
        if (v2)
            *v2++ = '\0';
        int64_t a = 0, b = 0;
        if (ot_parse_i64(v1, 0, OT_SEQ_MAX, &a) || (v2 && ot_parse_i64(v2, 0, OT_SEQ_MAX, &b))) {
            rc = -1;
            break;
        }
        if (!strcmp(key, "boot"))
            s->boot = a;
        else if (!strcmp(key, "acked"))
            s->acked = a;
        else if (!strcmp(key, "next"))
            *next = a;
        else if (!strcmp(key, "torn"))
            s->torn = a;
        else if (!strcmp(key, "dropped"))
            s->dropped = a;
        else if (!strcmp(key, "lost_total"))
            s->lost_total = a;
        else if (!strcmp(key, "lost") && v2 && a <= b)
            add_lost(s, a, b);
    }
    if (first)
        rc = -1;
    fclose(f);
    return rc;
}

/* Adds [from,to] to the pending lost ranges (sorted, merged). When the list
 * is full (32 separate losses with no ack in between: 32 crashes each with a
 * torn record, say) the two oldest ranges are merged, which over-declares
 * the seqs between them: the collector may then hold a reading that is also
 * marked lost. Over-declaring is the safe side: a loss is never hidden. */
static void add_lost(struct spool *s, int64_t from, int64_t to)
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

static enum ot_err seg_push(struct spool *s, int64_t first, int64_t last, uint64_t size)
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

static int cmp_seg(const void *a, const void *b)
{
    const struct segment *x = a, *y = b;
    return (x->first > y->first) - (x->first < y->first);
}

/* Scans segment i: sets last and size to the valid prefix. Returns the
 * number of invalid bytes after it (0 = clean), or -1 on I/O error. */
static int64_t seg_scan(struct spool *s, size_t i)
{
    char path[600];
    struct segment *g = &s->seg[i];
    if (seg_path(s, g->first, path, sizeof path))
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) || (uint64_t)st.st_size > SEG_SCAN_MAX) {
        close(fd);
        return -1;
    }
    uint64_t fsize = (uint64_t)st.st_size, off = 0;
    uint8_t *buf = malloc(fsize ? fsize : 1);
    if (!buf) {
        close(fd);
        return -1;
    }
    uint64_t got = 0;
    while (got < fsize) {
        ssize_t n = pread(fd, buf + got, fsize - got, (off_t)got);
        if (n <= 0)
            break;
        got += (uint64_t)n;
    }
    close(fd);
    if (got != fsize) {
        free(buf);
        return -1;
    }
    int64_t prev = g->first - 1;
    while (off + REC_HDR <= fsize) {
        uint32_t len = get32(buf + off);
        if (!rec_len_ok(len) || off + REC_HDR + len > fsize)
            break;
        uint32_t crc = spool__crc32(0, buf + off, 4);
        crc = spool__crc32(crc, buf + off + REC_HDR, len);
        struct ot_reading r;
        if (crc != get32(buf + off + 4) || rec_decode(buf + off + REC_HDR, len, &r) ||
            r.seq <= prev || r.seq > OT_SEQ_MAX)
            break;
        prev = r.seq;
        off += REC_HDR + len;
    }
    free(buf);
    g->last = prev;
    g->size = off;
    return (int64_t)(fsize - off);
}

static enum ot_err seg_create(struct spool *s, int64_t first)
{
    char path[600];
    if (seg_path(s, first, path, sizeof path))
        return OT_ERR_TOOBIG;
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || fsync(s->dirfd)) {
        ot_error("spool segment create failed path=%s error=\"%s\"", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return OT_ERR_IO;
    }
    enum ot_err rc = seg_push(s, first, first - 1, 0);
    if (rc) {
        close(fd);
        return rc;
    }
    if (s->wfd >= 0)
        close(s->wfd);
    s->wfd = fd;
    return OT_OK;
}

static void seg_unlink_first(struct spool *s)
{
    char path[600];
    if (!seg_path(s, s->seg[0].first, path, sizeof path) && unlink(path) && errno != ENOENT)
        ot_warn("spool unlink failed path=%s error=\"%s\"", path, strerror(errno));
    if (s->rfd >= 0 && s->rfd_first == s->seg[0].first) {
        close(s->rfd);
        s->rfd = -1;
    }
    s->bytes -= s->seg[0].size;
    memmove(&s->seg[0], &s->seg[1], (s->nseg - 1) * sizeof s->seg[0]);
    s->nseg--;
}

enum ot_err spool__open(const struct spool_opts *o, struct spool **out)
{
    enum ot_err rc = OT_ERR_IO;
    struct spool *s = calloc(1, sizeof *s);
    DIR *d = NULL;
    *out = NULL;
    if (!s)
        return OT_ERR_NOMEM;
    s->dirfd = s->wfd = s->rfd = s->lockfd = -1;
    if (strlen(o->dir) >= sizeof s->dir) {
        rc = OT_ERR_TOOBIG;
        goto fail;
    }
    snprintf(s->dir, sizeof s->dir, "%s", o->dir);
    s->max_bytes = o->max_bytes;
    s->segment_bytes = o->segment_bytes;
    s->nosync = o->nosync;
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
    int64_t meta_next = 1;
    int mrc = read_meta(s, &meta_next);
    if (mrc < 0)
        ot_warn("spool meta unreadable, recovering from segments dir=%s", s->dir);

    if (!(d = opendir(s->dir)))
        goto fail;
    struct dirent *e;
    while ((e = readdir(d))) {
        int64_t first;
        if (strncmp(e->d_name, "seg-", 4) || strlen(e->d_name) != 24 ||
            ot_parse_i64(e->d_name + 4, 1, OT_SEQ_MAX, &first))
            continue;
        if ((rc = seg_push(s, first, first - 1, 0)))
            goto fail;
    }
    closedir(d);
    d = NULL;
    if (s->nseg > 1) /* qsort(NULL, 0, ...) is undefined */
        qsort(s->seg, s->nseg, sizeof s->seg[0], cmp_seg);

    int64_t last = 0, torn_seq = 0;
    for (size_t i = 0; i < s->nseg; i++) {
        int64_t bad = seg_scan(s, i);
        if (bad < 0) {
            ot_error("spool segment unreadable dir=%s first=%" PRId64, s->dir, s->seg[i].first);
            rc = OT_ERR_IO;
            goto fail;
        }
        if (bad > 0) {
            s->torn++;
            if (i + 1 == s->nseg) {
                torn_seq = s->seg[i].last + 1;
                s->lost_total++;
                ot_warn("spool torn tail found seq=%" PRId64 " bytes=%" PRId64 " (declared lost)",
                        torn_seq, bad);
            } else {
                ot_error("spool corrupt record in sealed segment first=%" PRId64
                         " after_seq=%" PRId64 " bytes=%" PRId64,
                         s->seg[i].first, s->seg[i].last, bad);
            }
        }
        s->bytes += s->seg[i].size;
        if (s->seg[i].last > last)
            last = s->seg[i].last;
    }
    /* holes: before the first segment and between segments */
    if (s->nseg && s->seg[0].first > s->acked + 1)
        add_lost(s, s->acked + 1, s->seg[0].first - 1);
    for (size_t i = 0; i + 1 < s->nseg; i++)
        if (s->seg[i].last + 1 < s->seg[i + 1].first)
            add_lost(s, s->seg[i].last + 1, s->seg[i + 1].first - 1);
    if (torn_seq)
        add_lost(s, torn_seq, torn_seq);

    s->next_seq = meta_next > 1 ? meta_next : 1;
    if (last + 1 > s->next_seq)
        s->next_seq = last + 1;
    if (torn_seq && torn_seq + 1 > s->next_seq)
        s->next_seq = torn_seq + 1;
    if (s->nseg && s->seg[s->nseg - 1].first > s->next_seq)
        s->next_seq = s->seg[s->nseg - 1].first;
    if (s->acked >= s->next_seq)
        s->next_seq = s->acked + 1;
    for (size_t i = 0; i < s->nlost; i++) /* seqs declared lost are never reused */
        if (s->lost[i].to >= s->next_seq)
            s->next_seq = s->lost[i].to + 1;
    s->boot++;
    /* lost declarations and the burnt seq are durable before truncation */
    if ((rc = write_meta(s)))
        goto fail;
    for (size_t i = 0; i < s->nseg; i++) {
        char path[600];
        struct stat st;
        if (seg_path(s, s->seg[i].first, path, sizeof path) || stat(path, &st))
            continue;
        if ((uint64_t)st.st_size != s->seg[i].size) {
            int fd = open(path, O_WRONLY | O_CLOEXEC);
            if (fd < 0 || ftruncate(fd, (off_t)s->seg[i].size) || fsync(fd)) {
                ot_error("spool truncate failed path=%s error=\"%s\"", path, strerror(errno));
                if (fd >= 0)
                    close(fd);
                rc = OT_ERR_IO;
                goto fail;
            }
            close(fd);
        }
    }
    /* drop segments wholly acked (a crash may have come between meta and unlink) */
    while (s->nseg > 1 && s->seg[1].first - 1 <= s->acked)
        seg_unlink_first(s);
    if (s->nseg == 0 || s->seg[s->nseg - 1].size >= s->segment_bytes ||
        s->seg[s->nseg - 1].last + 1 != s->next_seq) {
        if ((rc = seg_create(s, s->next_seq)))
            goto fail;
    } else {
        char path[600];
        if (seg_path(s, s->seg[s->nseg - 1].first, path, sizeof path) ||
            (s->wfd = open(path, O_WRONLY | O_CLOEXEC)) < 0) {
            rc = OT_ERR_IO;
            goto fail;
        }
    }
    ot_info("spool opened dir=%s boot=%" PRId64 " next_seq=%" PRId64 " acked=%" PRId64
            " segments=%zu bytes=%" PRIu64 " lost_pending=%zu",
            s->dir, s->boot, s->next_seq, s->acked, s->nseg, s->bytes, s->nlost);
    *out = s;
    return OT_OK;
fail:
    if (d)
        closedir(d);
    spool__close(s);
    return rc;
}

void spool__close(struct spool *s)
{
    if (!s)
        return;
    if (s->meta_dirty && s->dirfd >= 0)
        write_meta(s);
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
        add_lost(s, from, to);
        s->lost_total += to - from + 1;
    }
    s->dropped++;
    enum ot_err rc = write_meta(s);
    if (rc)
        return rc;
    ot_warn("spool full, dropped oldest segment first=%" PRId64 " lost_from=%" PRId64
            " lost_to=%" PRId64 " dropped_total=%" PRId64,
            g.first, from, to, s->dropped);
    seg_unlink_first(s);
    fsync(s->dirfd);
    return OT_OK;
}

enum ot_err spool__append(struct spool *s, struct ot_reading *r)
{
    uint8_t buf[REC_HDR + REC_MAX];
    enum ot_err rc;
    if (s->next_seq > OT_SEQ_MAX)
        return OT_ERR_RANGE;
    r->seq = s->next_seq;
    size_t n = rec_encode(r, buf);
    struct segment *a = &s->seg[s->nseg - 1];
    if (a->size > 0 && a->size + n > s->segment_bytes) {
        if ((rc = seg_create(s, s->next_seq)))
            return rc;
        a = &s->seg[s->nseg - 1];
    }
    while (s->nseg > 1 && s->bytes + n > s->max_bytes) {
        if ((rc = drop_oldest(s)))
            return rc;
        a = &s->seg[s->nseg - 1];
    }
    ssize_t w = pwrite(s->wfd, buf, n, (off_t)a->size);
    if (w != (ssize_t)n || (!s->nosync && fdatasync(s->wfd))) {
        int err = errno;
        /* the seq may or may not be on disk: burn it and declare it lost */
        if (ftruncate(s->wfd, (off_t)a->size) == 0)
            fdatasync(s->wfd);
        add_lost(s, r->seq, r->seq);
        s->lost_total++;
        s->next_seq++;
        write_meta(s);
        ot_error("spool append failed seq=%" PRId64 " error=\"%s\" (declared lost)", r->seq,
                 strerror(err));
        return OT_ERR_IO;
    }
    a->size += n;
    a->last = r->seq;
    s->bytes += n;
    s->next_seq++;
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
    s->meta_dirty = 1;
    int deleting = s->nseg > 1 && s->seg[1].first - 1 <= seq;
    if (deleting || ot_time_mono_ms() - s->meta_written_mono >= 1000) {
        enum ot_err rc = write_meta(s);
        if (rc)
            return rc;
    }
    if (deleting) {
        while (s->nseg > 1 && s->seg[1].first - 1 <= seq)
            seg_unlink_first(s);
        fsync(s->dirfd);
    }
    return OT_OK;
}

enum ot_err spool__sync_meta(struct spool *s)
{
    return write_meta(s);
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
    for (size_t i = 0; i < s->nseg; i++)
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
    if (seg_path(s, first, path, sizeof path))
        return -1;
    s->rfd = open(path, O_RDONLY | O_CLOEXEC);
    s->rfd_first = first;
    return s->rfd;
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
        int fd = read_fd(s, g->first);
        uint8_t buf[REC_HDR + REC_MAX];
        if (fd < 0 || pread(fd, buf, REC_HDR, (off_t)c->off) != (ssize_t)REC_HDR) {
            ot_error("spool read failed first=%" PRId64 " off=%" PRIu64, g->first, c->off);
            return OT_ERR_IO;
        }
        uint32_t len = get32(buf);
        if (!rec_len_ok(len) || c->off + REC_HDR + len > g->size ||
            pread(fd, buf + REC_HDR, len, (off_t)(c->off + REC_HDR)) != (ssize_t)len) {
            ot_error("spool corrupt record first=%" PRId64 " off=%" PRIu64, g->first, c->off);
            return OT_ERR_CORRUPT;
        }
        uint32_t crc = spool__crc32(0, buf, 4);
        crc = spool__crc32(crc, buf + REC_HDR, len);
        if (crc != get32(buf + 4) || rec_decode(buf + REC_HDR, len, r)) {
            ot_error("spool corrupt record first=%" PRId64 " off=%" PRIu64, g->first, c->off);
            return OT_ERR_CORRUPT;
        }
        c->off += REC_HDR + len;
        if (r->seq < c->want)
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
}
