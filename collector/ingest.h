/* ingest.h - state of the worker thread (data only, no functions), shared
 * by the files that make up the worker:
 *   worker.c    the loop: drains the queue, one transaction per batch, ticks;
 *   store.c     writes a batch's messages (readings, state), containers rows;
 *   delivery.c  the end-to-end ack: seq gaps, declared losses, baselines;
 *   alarms.c    shipments and rules (own state and statements, alarms.h);
 *   limits.c    the retained limits of each open shipment (limits.h);
 *   outbox.c    counters, Influx lines, webhook bodies of the transaction;
 *   feed.c      the events rows of the transaction, written in one go;
 *   readings.c  the batched readings insert;
 *   sql.c       bind / run helpers, PostgreSQL array literals.
 * Each file declares its functions in its own header. Calls go one way:
 * worker -> store -> delivery; worker, store, delivery -> alarms; all of
 * them -> outbox, feed, sql; store -> readings. Only the worker thread touches anything here. */
#ifndef COLLECTOR_INGEST_H
#define COLLECTOR_INGEST_H

#include "alarms.h"
#include "collector.h"
#include "feed.h"
#include "limits.h"
#include "outbox.h"
#include "readings.h"
#include "sql.h"

/* per-container delivery and link state; shipment and rules in `al` */
struct container {
    char name[OT_ID_MAX + 1];
    int known;             /* ack baseline established */
    int64_t ack;           /* every seq <= ack stored or declared lost */
    int64_t ack_published; /* last ack published (INT64_MIN: none) */
    int64_t hi;            /* highest seq stored, declared lost or baseline */
    int64_t max_seq;       /* highest seq stored, -1 none */
    struct seqset above;   /* seqs > ack stored or declared lost */
    int64_t pending_since; /* first contact without state (monotonic ms), 0 none */
    int64_t pending_min;   /* lowest seq received while the baseline is pending */
    int row_dirty;         /* containers row needs writing */
    int64_t last_seen;
    /* gateway state topic */
    int state_seen, online, flight;
    struct alarms_ctr *al; /* owned by alarms.c */
};

struct ingest {
    const struct collector_conf *cc;
    struct ot_sql *sql; /* the connection (ot_sql.h), the worker's own session */
    struct mqtt *mqtt;
    struct alarms *alarms;
    struct limits *limits;
    struct outbox ob;
    struct feed feed;         /* events rows of the open transaction */
    struct readings readings; /* the batched readings insert */
    struct container **ct;
    size_t n_ct, cap_ct;
    int64_t now; /* wall clock of the open transaction */
    int64_t reject_window_start;
    int64_t rejects_in_window, rejects_suppressed;
    /* the drained batch: kept until it commits (retried after a rollback) */
    struct queue_msg *msgs;
    size_t n_msgs;
    struct store_group *grp; /* store.c's scratch for one group of messages */
    int reload;              /* delivery state to be reloaded before the next batch */
    int commit_unknown;      /* the connection died in COMMIT: it may have committed */
    int64_t last_tick, last_eta, last_acks; /* monotonic ms of the housekeeping */
    /* failed attempts of the batch in hand (worker.c) */
    int64_t fail_since, fail_logged, fail_attempts, fail_uncounted, retry_at;
    /* prepared statements, kept for the connection's life (owned by it) */
    /* worker.c (st_counters: PostgreSQL, all deltas in one statement) */
    struct ot_sql_stmt *st_counter, *st_counters, *st_trim_events;
    /* store.c (st_upd_containers: PostgreSQL, all dirty rows in one) */
    struct ot_sql_stmt *st_upd_container, *st_upd_containers, *st_upd_state;
    struct sql_arr scratch[4]; /* array literals of those two, one at a time */
    /* delivery.c */
    struct ot_sql_stmt *st_sel_containers, *st_sel_above, *st_sel_lost_above, *st_sel_min_seq;
    struct ot_sql_stmt *st_ins_gap, *st_sel_gaps, *st_gap_close, *st_gap_to, *st_gap_from;
    struct ot_sql_stmt *st_gap_del;
};

#endif
