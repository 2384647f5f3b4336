/* ingest.h - state of the worker thread (ingest.c, alarms.c). Only the
 * worker touches anything declared here. */
#ifndef COLLECTOR_INGEST_H
#define COLLECTOR_INGEST_H

#include "collector.h"
#include "lineproto.h"

#include "rules.h"

struct ot_preservation_set;

/* per-container delivery, shipment and rules state */
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
    /* open shipment (re-read from the database, never cached for long) */
    int64_t ship_id; /* 0: none */
    char profile[48];
    int64_t ship_checked; /* monotonic ms of last look-up */
    int profile_warned;
    int alarms_dirty;              /* republish the alarm list after commit */
    int64_t alarms_ship_published; /* shipment of the last published list, -1 none */
    int64_t *acked_ids;            /* acknowledged alarms already passed to the rules */
    size_t n_acked, cap_acked;
    struct rules_state *rules;
    struct rules_shipment rsh;
    const struct ot_preservation *pres;
    int64_t rules_seq; /* last seq fed to the rules */
};

struct counter_delta {
    char name[24];
    char label[40];
    int64_t delta;
};
#define COUNTERS_MAX 64

struct pending_hook {
    char *body;
};
#define PENDING_HOOKS_MAX 256

struct ingest {
    const struct collector_conf *cc;
    sqlite3 *db;
    struct mqtt *mqtt;
    struct influx *ix;
    struct webhook *wh;
    struct ot_preservation_set *profiles;
    struct container **ct;
    size_t n_ct, cap_ct;
    struct counter_delta counters[COUNTERS_MAX];
    size_t n_counters;
    struct lineproto lp; /* Influx lines of the open transaction */
    struct pending_hook hooks[PENDING_HOOKS_MAX];
    size_t n_hooks;
    int64_t now; /* wall clock of the open transaction */
    int64_t reject_window_start;
    int64_t rejects_in_window, rejects_suppressed;
    /* prepared statements, kept for the connection's life */
    sqlite3_stmt *st_begin, *st_commit, *st_rollback;
    sqlite3_stmt *st_ins_reading, *st_ins_event, *st_upd_container, *st_upd_state;
    sqlite3_stmt *st_sel_containers, *st_sel_above, *st_sel_lost_above, *st_sel_min_seq;
    sqlite3_stmt *st_ins_gap, *st_sel_gaps, *st_gap_close, *st_gap_to, *st_gap_from;
    sqlite3_stmt *st_counter, *st_sel_shipment, *st_sel_handoff;
    sqlite3_stmt *st_sel_open_alarm, *st_ins_alarm, *st_upd_alarm_raise, *st_upd_alarm_escalate;
    sqlite3_stmt *st_upd_alarm_clear, *st_sel_alarm_list, *st_sel_acked, *st_upd_eta;
    sqlite3_stmt *st_trim_events;
    sqlite3_stmt *st_sel_open_alarms;
};

/* ingest.c */
void ingest__count(struct ingest *in, const char *name, const char *label, int64_t n);
struct container *ingest__container(struct ingest *in, const char *name);
enum ot_err ingest__prepare(struct ingest *in, sqlite3_stmt **st, const char *sql);
enum ot_err ingest__step_done(struct ingest *in, sqlite3_stmt *st);
void ingest__queue_hook(struct ingest *in, char *body);

/* alarms.c */
enum ot_err alarms__prepare(struct ingest *in);
/* Re-reads the container's open shipment (rate-limited unless force). */
void alarms__refresh_shipment(struct ingest *in, struct container *c, int force);
/* Feeds a stored reading to the rules (no-op without rules or shipment). */
void alarms__on_reading(struct ingest *in, struct container *c, const struct ot_reading *r,
                        int late);
/* Housekeeping inside the open transaction: ticks, ETA, acknowledgements. */
void alarms__tick(struct ingest *in, int64_t now);
void alarms__update_eta(struct ingest *in);
void alarms__poll_acks(struct ingest *in);
/* After commit: publishes the alarm list of every dirty container. */
void alarms__publish_dirty(struct ingest *in, int all);
void alarms__container_free(struct container *c);

#endif
