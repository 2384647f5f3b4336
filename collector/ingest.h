/* ingest.h - state of the worker thread (data only, no functions), shared
 * by the files that make up the worker:
 *   worker.c    the loop: drains the queue, one transaction per batch, ticks;
 *   store.c     writes a batch's messages (readings, state), containers rows;
 *   delivery.c  the end-to-end ack: seq gaps, declared losses, baselines;
 *   alarms.c    shipments and rules (own state and statements, alarms.h);
 *   outbox.c    counters, Influx lines, webhook bodies of the transaction;
 *   sql.c       prepare / step helpers.
 * Each file declares its functions in its own header. Calls go one way:
 * worker -> store -> delivery; worker, store, delivery -> alarms; all of
 * them -> outbox, sql. Only the worker thread touches anything here. */
#ifndef COLLECTOR_INGEST_H
#define COLLECTOR_INGEST_H

#include "alarms.h"
#include "collector.h"
#include "outbox.h"

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
    int state_seen, online;
    struct alarms_ctr *al; /* owned by alarms.c */
};

struct ingest {
    const struct collector_conf *cc;
    struct ot_sql *sql; /* the connection (ot_sql.h) */
    sqlite3 *db;        /* TRANSITIONAL: ot_sql_sqlite_handle(sql) until the port */
    struct mqtt *mqtt;
    struct alarms *alarms;
    struct outbox ob;
    struct container **ct;
    size_t n_ct, cap_ct;
    int64_t now; /* wall clock of the open transaction */
    int64_t reject_window_start;
    int64_t rejects_in_window, rejects_suppressed;
    /* prepared statements, kept for the connection's life */
    /* worker.c */
    sqlite3_stmt *st_begin, *st_commit, *st_rollback, *st_counter, *st_trim_events;
    /* store.c */
    sqlite3_stmt *st_ins_reading, *st_ins_event, *st_upd_container, *st_upd_state;
    /* delivery.c */
    sqlite3_stmt *st_sel_containers, *st_sel_above, *st_sel_lost_above, *st_sel_min_seq;
    sqlite3_stmt *st_ins_gap, *st_sel_gaps, *st_gap_close, *st_gap_to, *st_gap_from;
};

#endif
