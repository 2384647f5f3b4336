/* test_spool.c - the gateway spool: append/read back, torn tails at every
 * byte offset, seq continuity across reopen, ack-driven deletion, the
 * full-spool policy, corruption inside a sealed segment, and the group
 * flush (sync_ms): flush timing, seq reservations and what a process crash
 * and a power cut (simulated: records cut off, another kernel boot id in
 * meta) leave behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spool.h"

static char tmpl[] = "/tmp/ot-spool-XXXXXX";
static char *base;
static int dircount;

static int setup(void **state)
{
    (void)state;
    base = mkdtemp(tmpl);
    return base ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", base);
    return system(cmd) == 0 ? 0 : -1;
}

static void newdir(char *buf, size_t len)
{
    snprintf(buf, len, "%s/s%d", base, dircount++);
}

static struct spool *open_at(const char *dir, uint64_t seg, uint64_t max)
{
    struct spool_opts o = {.dir = dir, .max_bytes = max, .segment_bytes = seg};
    struct spool *s = NULL;
    assert_int_equal(spool__open(&o, &s), OT_OK);
    assert_non_null(s);
    return s;
}

static void make_reading(struct ot_reading *r, int i)
{
    memset(r, 0, sizeof *r);
    r->ts = 1763877600000LL + i * 100;
    ot_reading_set(r, OT_CH_TEMP, 4.0 + i * 0.01);
    if (i % 3)
        ot_reading_set(r, OT_CH_LAT, 51.2 + i * 1e-5);
    else
        r->missing |= 1u << OT_CH_LAT;
    ot_reading_set(r, OT_CH_LID, i % 2);
    if (i % 5 == 0) {
        r->n_extra = 1;
        snprintf(r->extra[0].name, sizeof r->extra[0].name, "humidity");
        r->extra[0].value = 40.5 + i;
    }
}

static void check_reading(const struct ot_reading *r, int i)
{
    struct ot_reading e;
    make_reading(&e, i);
    assert_int_equal(r->ts, e.ts);
    assert_int_equal(r->present, e.present);
    assert_int_equal(r->missing, e.missing);
    assert_true(r->v[OT_CH_TEMP] == e.v[OT_CH_TEMP]);
    assert_int_equal(r->n_extra, e.n_extra);
    if (e.n_extra) {
        assert_string_equal(r->extra[0].name, "humidity");
        assert_true(r->extra[0].value == e.extra[0].value);
    }
}

static void append_n(struct spool *s, int from, int n)
{
    for (int i = from; i < from + n; i++) {
        struct ot_reading r;
        make_reading(&r, i);
        assert_int_equal(spool__append(s, &r), OT_OK);
        assert_int_equal(r.seq, i);
    }
}

static void append_read_back(void **state)
{
    (void)state;
    char dir[256];
    newdir(dir, sizeof dir);
    struct spool *s = open_at(dir, 1 << 20, 64 << 20);
    append_n(s, 1, 100);
    struct spool_cursor c;
    struct ot_reading r;
    spool__seek(s, &c, 1);
    for (int i = 1; i <= 100; i++) {
        assert_int_equal(spool__read(s, &c, &r), OT_OK);
        assert_int_equal(r.seq, i);
        check_reading(&r, i);
    }
    assert_int_equal(spool__read(s, &c, &r), OT_ERR_NOTFOUND);
    spool__seek(s, &c, 57);
    assert_int_equal(spool__read(s, &c, &r), OT_OK);
    assert_int_equal(r.seq, 57);
    /* a reader at the end sees a new append */
    spool__seek(s, &c, 101);
    assert_int_equal(spool__read(s, &c, &r), OT_ERR_NOTFOUND);
    append_n(s, 101, 1);
    assert_int_equal(spool__read(s, &c, &r), OT_OK);
    assert_int_equal(r.seq, 101);
    struct ot_seq_range lost[4];
    assert_int_equal(spool__lost(s, lost, 4), 0);
    spool__close(s);
}

static long file_size(const char *p)
{
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    return (long)st.st_size;
}

static void only_segment(const char *dir, char *out, size_t len)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    assert_non_null(d);
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, "seg-", 4)) {
            snprintf(out, len, "%s/%s", dir, e->d_name);
            n++;
        }
    closedir(d);
    assert_int_equal(n, 1);
}

/* Truncate the segment at every byte offset inside the last record. */
static void torn_tail_every_offset(void **state)
{
    (void)state;
    char dir[256], seg[512];
    newdir(dir, sizeof dir);
    struct spool *s = open_at(dir, 1 << 20, 64 << 20);
    append_n(s, 1, 9);
    spool__close(s);
    only_segment(dir, seg, sizeof seg);
    long start = file_size(seg);
    s = open_at(dir, 1 << 20, 64 << 20);
    append_n(s, 10, 1);
    spool__close(s);
    long end = file_size(seg);
    assert_true(end > start + 8);

    char cmd[1200];
    for (long k = start; k <= end; k++) {
        char d2[256];
        newdir(d2, sizeof d2);
        snprintf(cmd, sizeof cmd, "cp -a %s %s", dir, d2);
        assert_int_equal(system(cmd), 0);
        char seg2[600];
        snprintf(seg2, sizeof seg2, "%s/%s", d2, strrchr(seg, '/') + 1);
        assert_int_equal(truncate(seg2, k), 0);
        s = open_at(d2, 1 << 20, 64 << 20);
        struct spool_stats st;
        spool__stats(s, &st);
        struct ot_seq_range lost[4];
        size_t nl = spool__lost(s, lost, 4);
        int64_t held = k == end ? 10 : 9;
        if (k == end) {
            /* clean end: nothing torn, nothing lost */
            assert_int_equal(nl, 0);
            assert_int_equal(st.next_seq, held + 1);
        } else {
            /* torn, or cut at a record boundary after meta saw seq 10 issued:
             * 10 is declared lost and burnt, never reused */
            assert_int_equal(nl, 1);
            assert_int_equal(lost[0].from, 10);
            assert_int_equal(lost[0].to, 10);
            assert_int_equal(st.next_seq, 11);
            assert_int_equal(st.torn_records, k == start ? 0 : 1);
        }
        struct spool_cursor c;
        struct ot_reading r;
        spool__seek(s, &c, 1);
        for (int i = 1; i <= held; i++) {
            assert_int_equal(spool__read(s, &c, &r), OT_OK);
            assert_int_equal(r.seq, i);
            check_reading(&r, i);
        }
        assert_int_equal(spool__read(s, &c, &r), OT_ERR_NOTFOUND);
        /* the spool keeps working after recovery */
        make_reading(&r, 50);
        assert_int_equal(spool__append(s, &r), OT_OK);
        assert_int_equal(r.seq, st.next_seq);
        spool__close(s);
        /* second open: the declaration persists, nothing new is torn */
        s = open_at(d2, 1 << 20, 64 << 20);
        spool__stats(s, &st);
        assert_int_equal(spool__lost(s, lost, 4), nl);
        assert_int_equal(st.next_seq, r.seq + 1);
        spool__read(s, &c, &r);
        spool__close(s);
    }
}

static void seq_continues_after_reopen(void **state)
{
    (void)state;
    char dir[256];
    newdir(dir, sizeof dir);
    struct spool *s = open_at(dir, 4096, 1 << 20);
    struct spool_stats st;
    spool__stats(s, &st);
    assert_int_equal(st.boot, 1);
    assert_int_equal(st.next_seq, 1);
    append_n(s, 1, 30);
    spool__close(s);
    s = open_at(dir, 4096, 1 << 20);
    spool__stats(s, &st);
    assert_int_equal(st.boot, 2);
    append_n(s, 31, 100);
    /* ack everything: sealed segments go, seq still continues */
    assert_int_equal(spool__ack(s, 130), OT_OK);
    assert_int_equal(spool__ack(s, 131), OT_ERR_RANGE);
    spool__close(s);
    s = open_at(dir, 4096, 1 << 20);
    spool__stats(s, &st);
    assert_int_equal(st.boot, 3);
    assert_int_equal(st.acked, 130);
    assert_int_equal(st.next_seq, 131);
    append_n(s, 131, 1);
    spool__close(s);
}

static int count_segments(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    assert_non_null(d);
    while ((e = readdir(d)))
        n += !strncmp(e->d_name, "seg-", 4);
    closedir(d);
    return n;
}

static void ack_deletes_only_covered(void **state)
{
    (void)state;
    char dir[256];
    newdir(dir, sizeof dir);
    struct spool *s = open_at(dir, 4096, 1 << 20);
    append_n(s, 1, 300);
    int before = count_segments(dir);
    assert_true(before >= 4);
    struct spool_cursor c;
    struct ot_reading r;
    /* find where the second segment starts: ack one short of it */
    spool__seek(s, &c, 1);
    int64_t seg1 = c.seg_first;
    int64_t second = 0;
    for (int i = 1; i <= 300; i++) {
        assert_int_equal(spool__read(s, &c, &r), OT_OK);
        if (c.seg_first != seg1) {
            second = c.seg_first;
            break;
        }
    }
    assert_true(second > 1);
    assert_int_equal(spool__ack(s, second - 2), OT_OK);
    assert_int_equal(count_segments(dir), before); /* not wholly covered */
    assert_int_equal(spool__ack(s, second - 1), OT_OK);
    assert_int_equal(count_segments(dir), before - 1);
    assert_int_equal(spool__ack(s, second + 1), OT_OK);
    assert_int_equal(count_segments(dir), before - 1);
    /* a reader rewound to ack + 1 still finds every unacked reading */
    spool__seek(s, &c, second + 2);
    for (int64_t i = second + 2; i <= 300; i++) {
        assert_int_equal(spool__read(s, &c, &r), OT_OK);
        assert_int_equal(r.seq, i);
    }
    /* a stale cursor into a deleted segment re-seeks */
    struct spool_cursor stale = {1, 0, 150};
    assert_int_equal(spool__read(s, &stale, &r), OT_OK);
    assert_int_equal(r.seq, 150);
    struct spool_stats st;
    spool__stats(s, &st);
    assert_int_equal(st.first_seq, second);
    spool__close(s);
    s = open_at(dir, 4096, 1 << 20);
    spool__stats(s, &st);
    assert_int_equal(st.acked, second + 1);
    struct ot_seq_range lost[4];
    assert_int_equal(spool__lost(s, lost, 4), 0);
    spool__close(s);
}

static void full_spool_drops_oldest(void **state)
{
    (void)state;
    char dir[256];
    newdir(dir, sizeof dir);
    struct spool *s = open_at(dir, 4096, 3 * 4096);
    append_n(s, 1, 1000);
    struct spool_stats st;
    spool__stats(s, &st);
    assert_true(st.bytes <= 3 * 4096);
    assert_true(st.dropped_segments > 0);
    assert_int_equal(st.next_seq, 1001);
    struct ot_seq_range lost[4];
    size_t nl = spool__lost(s, lost, 4);
    assert_int_equal(nl, 1);
    assert_int_equal(lost[0].from, 1);
    assert_int_equal(lost[0].to, st.first_seq - 1);
    assert_int_equal(st.lost_readings, st.first_seq - 1);
    /* everything after the lost range is held, contiguous */
    struct spool_cursor c;
    struct ot_reading r;
    spool__seek(s, &c, 1);
    for (int64_t i = st.first_seq; i <= 1000; i++) {
        assert_int_equal(spool__read(s, &c, &r), OT_OK);
        assert_int_equal(r.seq, i);
    }
    /* the ack covering the range clears the declaration */
    assert_int_equal(spool__ack(s, st.first_seq + 3), OT_OK);
    assert_int_equal(spool__lost(s, lost, 4), 0);
    spool__close(s);
}

static void corrupt_sealed_segment(void **state)
{
    (void)state;
    char dir[256];
    newdir(dir, sizeof dir);
    struct spool *s = open_at(dir, 4096, 1 << 20);
    append_n(s, 1, 120);
    spool__close(s);
    char seg[600];
    snprintf(seg, sizeof seg, "%s/seg-%020d", dir, 1);
    int fd = open(seg, O_RDWR);
    assert_true(fd >= 0);
    uint8_t b = 0;
    assert_int_equal(pread(fd, &b, 1, 1000), 1);
    b ^= 0x5a;
    assert_int_equal(pwrite(fd, &b, 1, 1000), 1);
    close(fd);
    s = open_at(dir, 4096, 1 << 20);
    struct ot_seq_range lost[4];
    size_t nl = spool__lost(s, lost, 4);
    assert_int_equal(nl, 1);
    assert_true(lost[0].from > 1 && lost[0].from < 40);
    struct spool_stats st;
    spool__stats(s, &st);
    assert_int_equal(st.next_seq, 121);
    struct spool_cursor c;
    struct ot_reading r;
    spool__seek(s, &c, 1);
    int64_t expect = 1;
    while (spool__read(s, &c, &r) == OT_OK) {
        if (expect == lost[0].from)
            expect = lost[0].to + 1;
        assert_int_equal(r.seq, expect);
        expect++;
    }
    assert_int_equal(expect, 121);
    spool__close(s);
}

static void one_process_per_spool(void **state)
{
    (void)state;
    char dir[256];
    newdir(dir, sizeof dir);
    struct spool *s = open_at(dir, 4096, 1 << 20);
    struct spool_opts o = {.dir = dir, .max_bytes = 1 << 20, .segment_bytes = 4096};
    struct spool *s2 = NULL;
    /* flock is per open file description: a second open is refused */
    assert_int_equal(spool__open(&o, &s2), OT_ERR_CONFLICT);
    assert_null(s2);
    spool__close(s);
    assert_int_equal(spool__open(&o, &s2), OT_OK);
    spool__close(s2);
}

/* A full disk: writes fail with EFBIG (RLIMIT_FSIZE, SIGXFSZ ignored, as
 * ENOSPC would). Tried: appending past the limit. Proved: the append fails,
 * the seq it took is declared lost and never reused, nothing already stored
 * is lost, and once there is room again appending and reopening go on. */
static void full_disk_declares_lost(void **state)
{
    (void)state;
    char dir[256];
    newdir(dir, sizeof dir);
    struct spool *s = open_at(dir, 1 << 20, 64 << 20);
    append_n(s, 1, 20);
    char seg[512];
    only_segment(dir, seg, sizeof seg);
    long used = file_size(seg);
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, SIG_IGN);
    lim.rlim_cur = (rlim_t)used + 10; /* room for part of one record only */
    lim.rlim_max = old.rlim_max;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    struct ot_reading r;
    make_reading(&r, 21);
    assert_int_equal(spool__append(s, &r), OT_ERR_IO);
    assert_int_equal(r.seq, 21);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    struct ot_seq_range lost[4];
    assert_int_equal(spool__lost(s, lost, 4), 1);
    assert_int_equal(lost[0].from, 21);
    assert_int_equal(lost[0].to, 21);
    /* room again: the next reading gets the next seq, not the burnt one */
    make_reading(&r, 22);
    assert_int_equal(spool__append(s, &r), OT_OK);
    assert_int_equal(r.seq, 22);
    spool__close(s);
    s = open_at(dir, 1 << 20, 64 << 20);
    struct spool_cursor c;
    spool__seek(s, &c, 1);
    for (int i = 1; i <= 20; i++) {
        assert_int_equal(spool__read(s, &c, &r), OT_OK);
        assert_int_equal(r.seq, i);
        check_reading(&r, i);
    }
    assert_int_equal(spool__read(s, &c, &r), OT_OK);
    assert_int_equal(r.seq, 22);
    struct spool_stats st;
    spool__stats(s, &st);
    assert_int_equal(st.next_seq, 23);
    spool__close(s);
}

static struct spool *open_sync(const char *dir, uint64_t seg, int64_t sync_ms)
{
    struct spool_opts o = {
        .dir = dir, .max_bytes = 64 << 20, .segment_bytes = seg, .sync_ms = sync_ms};
    struct spool *s = NULL;
    assert_int_equal(spool__open(&o, &s), OT_OK);
    return s;
}

/* With sync_ms the appends are written but flushed together: nothing is due
 * before sync_ms after the first unflushed append, one flush covers them. */
static void group_flush_timing(void **state)
{
    (void)state;
    char dir[256];
    newdir(dir, sizeof dir);
    struct spool *s = open_sync(dir, 1 << 20, 1000);
    struct spool_stats st;
    assert_int_equal(spool__flush_due(s), INT64_MAX);
    append_n(s, 1, 1); /* the first seq needs a reservation: one forced flush */
    spool__stats(s, &st);
    assert_int_equal(st.flushes, 1);
    assert_true(st.reserved_to >= 2);
    int64_t due = spool__flush_due(s); /* the reading itself is not flushed yet */
    assert_true(due != INT64_MAX);
    append_n(s, 2, 5);
    assert_int_equal(spool__flush_due(s), due); /* the oldest unflushed write counts */
    assert_int_equal(spool__flush(s, due - 1, 0), OT_OK);
    spool__stats(s, &st);
    assert_int_equal(st.flushes, 1); /* not yet due */
    assert_int_equal(spool__flush(s, due, 0), OT_OK);
    spool__stats(s, &st);
    assert_int_equal(st.flushes, 2);
    assert_int_equal(spool__flush_due(s), INT64_MAX);
    /* a burst beyond the reservation forces a flush before the seq is issued */
    int64_t before = st.flushes, reserved = st.reserved_to;
    append_n(s, 7, (int)(reserved - 6 + 1));
    spool__stats(s, &st);
    assert_true(st.flushes > before);
    assert_true(st.reserved_to > reserved);
    assert_true(st.next_seq - 1 <= st.reserved_to);
    /* every reading reads back, reservation records are skipped */
    struct spool_cursor c;
    struct ot_reading r;
    spool__seek(s, &c, 1);
    for (int i = 1; i < st.next_seq; i++) {
        assert_int_equal(spool__read(s, &c, &r), OT_OK);
        assert_int_equal(r.seq, i);
        check_reading(&r, i);
    }
    assert_int_equal(spool__read(s, &c, &r), OT_ERR_NOTFOUND);
    spool__close(s);
}

/* A child appends n readings and dies without closing (as SIGKILL would). */
static void crash_child(const char *dir, uint64_t seg, int64_t sync_ms, int n, int ack)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct spool_opts o = {
            .dir = dir, .max_bytes = 64 << 20, .segment_bytes = seg, .sync_ms = sync_ms};
        struct spool *s = NULL;
        if (spool__open(&o, &s))
            _exit(1);
        for (int i = 1; i <= n; i++) {
            struct ot_reading r;
            make_reading(&r, i);
            if (spool__append(s, &r) || r.seq != i)
                _exit(2);
        }
        if (ack && spool__ack(s, ack))
            _exit(3);
        _exit(0);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* Replaces meta's kernel boot id: the next open believes the machine rebooted. */
static void fake_reboot(const char *dir)
{
    char path[600], buf[4096], out[4200];
    snprintf(path, sizeof path, "%s/meta", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *k = strstr(buf, "kernel_boot ");
    assert_non_null(k);
    char *eol = strchr(k, '\n');
    assert_non_null(eol);
    snprintf(out, sizeof out, "%.*skernel_boot 00000000-0000-0000-0000-000000000000%s",
             (int)(k - buf), buf, eol);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(out, f);
    fclose(f);
}

/* Offset of the frame of reading seq in a single segment (scanning frames). */
static long frame_offset(const char *seg, int64_t seq)
{
    FILE *f = fopen(seg, "rb");
    assert_non_null(f);
    long off = 0;
    for (;;) {
        uint8_t h[17];
        if (fseek(f, off, SEEK_SET) || fread(h, 1, sizeof h, f) < 9)
            break;
        uint32_t len =
            (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
        int64_t v = 0;
        for (int i = 7; i >= 0; i--)
            v = (v << 8) | h[9 + i];
        if (h[8] == 1 && v == seq) {
            fclose(f);
            return off;
        }
        off += 8 + (long)len;
    }
    fclose(f);
    fail_msg("seq %lld not found in %s", (long long)seq, seg);
    return -1;
}

/* The process dies (same kernel boot): everything it wrote reads back, even
 * unflushed, and nothing is declared lost. */
static void crash_same_boot_loses_nothing(void **state)
{
    (void)state;
    char dir[256];
    newdir(dir, sizeof dir);
    crash_child(dir, 1 << 20, 1000, 40, 20);
    struct spool *s = open_sync(dir, 1 << 20, 1000);
    struct spool_stats st;
    spool__stats(s, &st);
    struct ot_seq_range lost[4];
    assert_int_equal(spool__lost(s, lost, 4), 0);
    assert_int_equal(st.next_seq, 41);
    struct spool_cursor c;
    struct ot_reading r;
    spool__seek(s, &c, 1);
    for (int i = 1; i <= 40; i++) {
        assert_int_equal(spool__read(s, &c, &r), OT_OK);
        assert_int_equal(r.seq, i);
    }
    spool__close(s);
}

/* A power cut: the machine reboots and the unflushed end of the segment is
 * gone (cut mid-record). Every seq that may have been published is declared
 * lost and never reused: the next seq comes after the reservation. */
static void power_cut_burns_reserved_seqs(void **state)
{
    (void)state;
    char dir[256], seg[512];
    newdir(dir, sizeof dir);
    crash_child(dir, 1 << 20, 1000, 40, 20);
    fake_reboot(dir);
    only_segment(dir, seg, sizeof seg);
    long cut = frame_offset(seg, 31) + 20; /* readings 31..40 did not reach the disk */
    assert_int_equal(truncate(seg, cut), 0);
    struct spool *s = open_sync(dir, 1 << 20, 1000);
    struct spool_stats st;
    spool__stats(s, &st);
    struct ot_seq_range lost[4];
    assert_int_equal(spool__lost(s, lost, 4), 1);
    assert_int_equal(lost[0].from, 31);
    assert_true(lost[0].to >= 40);
    assert_int_equal(st.next_seq, lost[0].to + 1);
    assert_int_equal(st.acked, 0); /* the child's ack never reached meta */
    struct spool_cursor c;
    struct ot_reading r;
    spool__seek(s, &c, 1);
    for (int i = 1; i <= 30; i++) {
        assert_int_equal(spool__read(s, &c, &r), OT_OK);
        assert_int_equal(r.seq, i);
    }
    assert_int_equal(spool__read(s, &c, &r), OT_ERR_NOTFOUND);
    append_n(s, (int)st.next_seq, 1);
    spool__close(s);
    /* a clean close and reopen on "another boot" declares nothing new */
    fake_reboot(dir);
    s = open_sync(dir, 1 << 20, 1000);
    struct spool_stats st2;
    spool__stats(s, &st2);
    assert_int_equal(spool__lost(s, lost, 4), 1);
    assert_int_equal(st2.next_seq, st.next_seq + 1);
    spool__close(s);
}

/* The reservation lives in the newest segment even when the older ones are
 * acknowledged and deleted: a power cut that takes the last records after
 * that still burns every seq that may have been issued. */
static void reservation_survives_segment_deletion(void **state)
{
    (void)state;
    char dir[256], seg[512];
    newdir(dir, sizeof dir);
    crash_child(dir, 4096, 1000, 200, 190); /* the ack deletes every sealed segment */
    assert_int_equal(count_segments(dir), 1);
    fake_reboot(dir);
    only_segment(dir, seg, sizeof seg);
    assert_int_equal(truncate(seg, frame_offset(seg, 199) + 3), 0);
    struct spool *s = open_sync(dir, 4096, 1000);
    struct spool_stats st;
    spool__stats(s, &st);
    struct ot_seq_range lost[4];
    assert_int_equal(spool__lost(s, lost, 4), 1);
    assert_int_equal(lost[0].from, 199);
    assert_true(lost[0].to >= 200);
    assert_true(st.next_seq > 200); /* 199 and 200 may have been published */
    assert_int_equal(st.acked, 190);
    spool__close(s);
}

/* sync_ms 0 flushes every append: a reboot after a crash declares nothing. */
static void sync_every_append_reboot_loses_nothing(void **state)
{
    (void)state;
    char dir[256];
    newdir(dir, sizeof dir);
    crash_child(dir, 1 << 20, 0, 25, 0);
    fake_reboot(dir);
    struct spool *s = open_sync(dir, 1 << 20, 0);
    struct spool_stats st;
    spool__stats(s, &st);
    struct ot_seq_range lost[4];
    assert_int_equal(spool__lost(s, lost, 4), 0);
    assert_int_equal(st.next_seq, 26);
    assert_int_equal(st.flushes, 0);
    spool__close(s);
}

static void crc_known_value(void **state)
{
    (void)state;
    assert_int_equal(spool__crc32(0, "123456789", 9), 0xCBF43926u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crc_known_value),
        cmocka_unit_test(append_read_back),
        cmocka_unit_test(torn_tail_every_offset),
        cmocka_unit_test(seq_continues_after_reopen),
        cmocka_unit_test(ack_deletes_only_covered),
        cmocka_unit_test(full_spool_drops_oldest),
        cmocka_unit_test(corrupt_sealed_segment),
        cmocka_unit_test(one_process_per_spool),
        cmocka_unit_test(full_disk_declares_lost),
        cmocka_unit_test(group_flush_timing),
        cmocka_unit_test(crash_same_boot_loses_nothing),
        cmocka_unit_test(power_cut_burns_reserved_seqs),
        cmocka_unit_test(reservation_survives_segment_deletion),
        cmocka_unit_test(sync_every_append_reboot_loses_nothing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
