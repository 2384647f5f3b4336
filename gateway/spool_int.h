/* spool_int.h - what the spool's files share (spool.c: append, flush, ack,
 * read; spool_open.c: open and recovery; spool_segment.c: segment files;
 * spool_record.c: record framing; spool_meta.c: the meta file). Nothing outside gateway/spool*.c
 * includes it. See docs/internals/spool.md. */
#ifndef GW_SPOOL_INT_H
#define GW_SPOOL_INT_H

#include <stddef.h>
#include <stdint.h>

#include "spool.h"

#define REC_HDR 8u
#define REC_MIN 9u   /* a reservation record: type, reserved_to */
#define REC_MAX 512u /* a reading: 26 + 12 doubles + 8 extras of (1+32+1+8) = 458 */
#define REC_READING 1u
#define REC_RESERVE 2u
#define SPOOL_TAIL 8u /* recently appended frames kept for the sender */
#define SPOOL_RBUF 4096u

struct segment {
    int64_t first; /* seq the segment started with (its name) */
    int64_t last;  /* last reading seq held; first - 1 when empty */
    uint64_t size;
};

/* a frame the sender will most likely read next, kept in memory */
struct tail_frame {
    int64_t seq, seg_first;
    uint64_t off;
    uint32_t len; /* whole frame, header included; 0 = empty slot */
    uint8_t frame[REC_HDR + REC_MAX];
};

struct spool {
    char dir[512];
    int dirfd;
    int lockfd; /* flock'd: one gateway per spool */
    uint64_t max_bytes, segment_bytes;
    int64_t sync_ms; /* 0: fdatasync every append; else group flush period */
    int nosync;
    int opened; /* open succeeded: close persists meta */
    struct segment *seg;
    size_t nseg, capseg;
    int wfd; /* active (last) segment, write */
    int rfd; /* read cache */
    int64_t rfd_first;
    int64_t boot, next_seq, acked;
    int64_t reserved_to; /* seqs up to here may have been issued (power-cut bound) */
    int64_t torn, dropped, lost_total;
    struct ot_seq_range lost[SPOOL_LOST_MAX];
    size_t nlost;
    uint64_t bytes;
    int meta_dirty;
    /* group flush */
    int dirty;           /* written since the last fdatasync */
    int64_t dirty_mono;  /* when the oldest unflushed write happened */
    int64_t since_flush; /* readings appended since the last flush */
    int64_t flushes, flush_errors;
    /* reading back */
    struct tail_frame tail[SPOOL_TAIL];
    int64_t rbuf_seg;
    uint64_t rbuf_off, rbuf_len;
    uint8_t rbuf[SPOOL_RBUF];
};

/* ---- spool_record.c ---- */

/* Encodes a reading frame into buf (REC_HDR + REC_MAX); returns its length. */
size_t record__encode_reading(const struct ot_reading *r, uint8_t *buf);
/* Encodes a reservation frame ("seqs up to reserved_to may be issued"). */
size_t record__encode_reserve(int64_t reserved_to, uint8_t *buf);
/* Checks a whole frame at p (avail bytes readable). Returns the frame length
 * and its type (REC_READING or REC_RESERVE), or 0 when the bytes are not a
 * valid frame (short, bad length, bad CRC, bad payload). A reading is decoded
 * into r (may be NULL), a reservation into *reserved (may be NULL). */
size_t record__check(const uint8_t *p, size_t avail, unsigned *type, struct ot_reading *r,
                     int64_t *reserved);

/* ---- spool_meta.c ---- */

struct spool_meta {
    int64_t next;         /* next seq when it was written */
    int open;             /* 1 while a gateway runs on the spool (cleared at a clean close) */
    char kernel_boot[40]; /* /proc/sys/kernel/random/boot_id of the last open */
};

/* Reads boot, acked, counters and lost ranges into s, the rest into m.
 * 0 read, 1 absent, -1 unreadable. */
int meta__read(struct spool *s, struct spool_meta *m);
/* Replaces meta atomically from s (open flag and kernel boot id given). */
enum ot_err meta__write(struct spool *s, int open);
/* This kernel's boot id ("" if unknown): a power cut reboots the kernel. */
void meta__kernel_boot(char *buf, size_t len);

/* ---- spool_segment.c: the segment files ---- */

int seg__path(const struct spool *s, int64_t first, char *buf, size_t len);
enum ot_err seg__push(struct spool *s, int64_t first, int64_t last, uint64_t size);
/* Creates segment `first` as the new active one (directory fsync'd; with
 * group flush its first record carries the current reservation). */
enum ot_err seg__create(struct spool *s, int64_t first);
void seg__unlink_first(struct spool *s);
/* Scans segment i: sets last and size to its valid prefix and sets
 * *reserved to the last reservation in it (untouched if it has none). Returns the number of invalid
 * bytes after the prefix (0 = clean), or -1 on I/O error. */
int64_t seg__scan(struct spool *s, size_t i, int64_t *reserved);

/* ---- spool.c, used by spool_open.c ---- */

void lost__add(struct spool *s, int64_t from, int64_t to);

#endif
