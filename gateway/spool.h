/* spool.h - the gateway's on-disk store of readings (see spool.c,
 * spool_open.c and docs/internals/spool.md). Owned by one thread (the main
 * loop). */
#ifndef GW_SPOOL_H
#define GW_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "ot_err.h"
#include "ot_reading.h"

#define SPOOL_LOST_MAX OT_LOST_MAX /* pending lost ranges (= what one batch can declare) */

struct spool;

struct spool_opts {
    const char *dir;        /* created if absent (parents must exist or are created) */
    uint64_t max_bytes;     /* bound on the sum of segment sizes */
    uint64_t segment_bytes; /* a segment is sealed once it reaches this size */
    int nosync;             /* bench pre-fill helper only: skip fdatasync (the
                             * gateway never sets it) */
    int64_t sync_ms;        /* 0: fdatasync every append; N: flush at most N ms
                             * after the first unflushed append (spool.sync_ms) */
};

/* Where a reader is: the segment (by first seq), the byte offset in it and
 * the seq it wants next. Survives segment deletion (it re-seeks). */
struct spool_cursor {
    int64_t seg_first;
    uint64_t off;
    int64_t want; /* next seq wanted; records below it are skipped */
};

struct spool_stats {
    int64_t boot;      /* this start's boot counter (incremented at open) */
    int64_t next_seq;  /* seq the next append gets */
    int64_t acked;     /* every seq <= acked is acknowledged by the collector */
    int64_t first_seq; /* first seq held (next_seq when empty) */
    uint64_t bytes;    /* total size of segments */
    size_t segments;
    int64_t torn_records;     /* torn/corrupt records found at open (all boots) */
    int64_t dropped_segments; /* segments dropped by the full-spool policy (all boots) */
    int64_t lost_readings;    /* readings declared lost (all boots) */
    int64_t flushes;          /* fdatasyncs of readings (this boot) */
    int64_t flush_errors;     /* failed fdatasyncs (this boot) */
    int64_t reserved_to;      /* seqs reserved on disk up to here */
};

/* Opens (creating or recovering) the spool in opts->dir. Recovery truncates a
 * torn tail and declares what a crash or power cut may have taken (see
 * spool_open.c); the boot counter is incremented and persisted before this
 * returns. *out is freed with spool__close. */
enum ot_err spool__open(const struct spool_opts *opts, struct spool **out);
/* Accepts NULL; flushes, persists the acked floor and marks the close clean. */
void spool__close(struct spool *s);

/* Assigns r->seq and writes the record (write(2): a SIGKILL cannot take it
 * back); with sync_ms 0 also fdatasyncs it. Only after OT_OK may the reading
 * be published. Applies the full-spool policy (drops the oldest sealed
 * segment, declaring its unacked seqs lost) when needed. */
enum ot_err spool__append(struct spool *s, struct ot_reading *r);

/* fdatasyncs what was appended once sync_ms have passed since the first
 * unflushed append (at once with force). Call it from the main loop. */
enum ot_err spool__flush(struct spool *s, int64_t now_mono, int force);
/* Monotonic ms at which spool__flush has work, INT64_MAX when none. */
int64_t spool__flush_due(const struct spool *s);

/* The collector acknowledged every seq <= seq: deletes sealed segments it
 * covers wholly (after persisting the floor), drops lost ranges it covers.
 * Ignores seq >= next_seq (returns OT_ERR_RANGE) and seq <= current floor. */
enum ot_err spool__ack(struct spool *s, int64_t seq);

/* Positions c at the first held reading with seq >= seq. */
void spool__seek(struct spool *s, struct spool_cursor *c, int64_t seq);
/* Reads the next reading at c into r and advances c. OT_ERR_NOTFOUND at the
 * end of the spool; OT_ERR_CORRUPT/IO on failure (logged). */
enum ot_err spool__read(struct spool *s, struct spool_cursor *c, struct ot_reading *r);

/* Lost ranges not yet covered by the ack (declared in batches). */
size_t spool__lost(const struct spool *s, struct ot_seq_range *out, size_t max);

void spool__stats(const struct spool *s, struct spool_stats *st);

/* Persists meta now (acked floor, counters). */
enum ot_err spool__sync_meta(struct spool *s);

/* CRC-32 (IEEE 802.3, as zlib's crc32), exposed for tests. */
uint32_t spool__crc32(uint32_t crc, const void *buf, size_t len);

#endif
