/* alarms_int.h - inside alarms (alarms.h): the state of alarms.c, which
 * tracks shipments and feeds the rules, shared with alarm_rows.c, which
 * turns rule events into rows and publishes alarm lists, and progress.c,
 * which writes the journey's progress events. Only those three include it;
 * alarm_rows.c and progress.c call nothing in alarms.c. */
#ifndef COLLECTOR_ALARMS_INT_H
#define COLLECTOR_ALARMS_INT_H

#include "alarms.h"
#include "feed.h"
#include "ot_sql.h"
#include "rules.h"

/* A container's shipment and rules state as it was when the open
 * transaction first touched it (restored by alarms__rollback). */
struct alarms_saved {
    unsigned gen; /* == alarms.gen: saved in this transaction */
    int64_t ship_id;
    char profile[48];
    int profile_warned;
    struct rules_shipment rsh;
    const struct ot_preservation *pres;
    int64_t rules_seq;
    int had_rules;
    struct rules_state *rules; /* a copy (allocated once, reused) */
    int64_t *acked;
    size_t n_acked, cap_acked;
};

struct alarms_ctr {
    char name[OT_ID_MAX + 1];
    /* open shipment (re-read from the database, never cached for long) */
    int64_t ship_id; /* 0: none */
    char profile[48];
    int64_t ship_checked; /* monotonic ms of last look-up */
    int profile_warned;
    int legs_warned;
    int64_t silence_noted;         /* last reading before the silence an incident was opened for */
    int64_t landed_at;             /* collector clock when flight mode last ended, 0 never */
    int alarms_dirty;              /* republish the alarm list after commit */
    int64_t alarms_ship_published; /* shipment of the last published list, -1 none */
    int64_t *acked_ids;            /* acknowledged alarms already passed to the rules */
    size_t n_acked, cap_acked;
    struct rules_state *rules;
    struct rules_shipment rsh;
    const struct ot_preservation *pres;
    int64_t rules_seq;  /* last seq fed to the rules */
    int64_t clock_ship; /* shipment clock_open is known for; 0: look it up */
    int clock_open;     /* that shipment has an open gateway_clock alarm */
    struct alarms_saved saved;
};

struct alarms {
    struct ot_sql *db; /* the worker's connection (not owned) */
    struct feed *feed; /* the transaction's events rows (not owned) */
    struct ot_preservation_set *profiles;
    int64_t flight_overdue_ms, flight_max_ms;
    struct alarms_ctr **ct; /* in the order the worker met the containers */
    size_t n_ct, cap_ct;
    unsigned gen; /* +1 per transaction (alarms__begin) */
    /* prepared statements, owned by the connection */
    struct ot_sql_stmt *st_sel_shipment, *st_sel_handoff, *st_sel_open_alarm, *st_ins_alarm;
    struct ot_sql_stmt *st_upd_alarm_raise, *st_upd_alarm_escalate, *st_upd_alarm_clear;
    struct ot_sql_stmt *st_sel_alarm_list, *st_sel_acked, *st_sel_open_alarms, *st_upd_eta;
    struct ot_sql_stmt *st_ins_incident;
};

/* What a rule event needs: who, the transaction's clock and outbox, and
 * the first error (later events of the same call then write nothing). */
struct emit_ctx {
    struct alarms *a;
    struct alarms_ctr *c;
    int64_t now;
    struct outbox *ob;
    enum ot_err rc;
};

/* alarm_rows.c */
enum ot_err alarm_rows__prepare(struct alarms *a);
/* *open: the shipment has a not-cleared alarm of that type. */
enum ot_err alarm_rows__is_open(struct alarms *a, int64_t ship, const char *type, int *open);
/* rules_emit_fn: one alarm change -> its row, 'alarm' event, line, body */
void alarm_rows__on_event(void *vctx, const struct rules_event *ev);

/* progress.c */
/* The shipment was (re)read with fresh rules: its origin for the fences,
 * and what was already reported, so that nothing is reported twice. */
enum ot_err progress__restore(struct alarms *a, struct alarms_ctr *c);
/* Feeds a reading to the progress detector; its events -> rows, events,
 * webhook bodies. */
enum ot_err progress__on_reading(struct alarms *a, struct alarms_ctr *c, const struct ot_reading *r,
                                 int late, int64_t now, struct outbox *ob);

#endif
