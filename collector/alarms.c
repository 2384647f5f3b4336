/* alarms.c - glue between the worker and the preservation rules
 * (collector/rules, pure logic): finds each container's open shipment and
 * profile, feeds readings and ticks (alarm_rows.c turns the rules' events
 * into rows, events, points and webhook bodies), notices acknowledgements
 * the API writes, and keeps what a rolled-back transaction must forget:
 * the first time a transaction touches a container, its shipment and rules
 * state are saved, and alarms__rollback puts them back, so that a retried
 * batch raises its alarms again instead of the rules believing they were
 * raised. Runs only on the worker thread; owns its statements and calls no
 * other worker file (alarms.h). */
#include "alarms_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ot_legs.h"
#include "ot_log.h"
#include "ot_preservation.h"
#include "ot_time.h"
#include "ot_trail.h"
#include "sql.h"

#define SHIPMENT_RECHECK_MS 1000
#define HANDOFF_WINDOW_MS (10 * 60 * 1000)
#define RADIO_SILENCE_MS (15 * 60 * 1000)

static enum ot_err prepare(struct alarms *a)
{
    struct ot_sql *db = a->db;
    enum ot_err rc;
    if ((rc = sql__prepare(db, &a->st_sel_shipment,
                           "SELECT id,profile,cross_clamp_at,dest_lat,dest_lon,mode,legs,"
                           "ischemia_ended_at FROM "
                           "shipments WHERE container=?1 AND status IN (" OT_TRAIL_OPEN_SQL ")"
                           " ORDER BY id DESC LIMIT 1")) ||
        (rc = sql__prepare(db, &a->st_sel_handoff,
                           "SELECT MAX(ts) FROM custody WHERE shipment_id=?1 AND type IN "
                           "(" OT_TRAIL_HANDLING_SQL ")")) ||
        (rc = sql__prepare(db, &a->st_sel_acked,
                           "SELECT id,container,type FROM alarms WHERE "
                           "state='acknowledged'")) ||
        (rc = sql__prepare(db, &a->st_sel_open_alarms,
                           "SELECT id,type,severity,state,raised_at FROM alarms WHERE "
                           "shipment_id=?1 AND state<>'cleared' ORDER BY id")) ||
        (rc = sql__prepare(db, &a->st_upd_eta,
                           "UPDATE shipments SET eta=?1,eta_computed_at=?2 WHERE id=?3")) ||
        (rc = alarm_rows__prepare(a)))
        return rc;
    return OT_OK;
}

enum ot_err alarms__open(struct ot_sql *db, struct feed *feed, const char *preservation,
                         struct alarms **out)
{
    enum ot_err rc;
    struct alarms *a = calloc(1, sizeof *a);
    *out = NULL;
    if (!a)
        return OT_ERR_NOMEM;
    a->db = db;
    a->feed = feed;
    if (*preservation) {
        char err[512] = "";
        rc = ot_preservation_load(preservation, &a->profiles, err, sizeof err);
        if (rc) {
            ot_error("cannot load preservation profiles error=\"%s\"", err);
            goto fail;
        }
        ot_info("preservation profiles loaded file=%s count=%zu", preservation,
                ot_preservation_count(a->profiles));
    }
    rc = prepare(a);
    if (rc)
        goto fail;
    *out = a;
    return OT_OK;
fail:
    alarms__close(a);
    return rc;
}

const struct ot_preservation_set *alarms__profiles(const struct alarms *a)
{
    return a->profiles;
}

void alarms__set_flight_limits(struct alarms *a, int64_t overdue_s, int64_t max_s)
{
    a->flight_overdue_ms = overdue_s * 1000;
    a->flight_max_ms = max_s * 1000;
}

void alarms__radio(struct alarms_ctr *c, int flight, int64_t since, int64_t now)
{
    if (c->rsh.in_flight && !flight && now)
        c->landed_at = now;
    c->rsh.in_flight = flight != 0;
    c->rsh.flight_since = flight ? since : 0;
}

static void ctr_free(struct alarms_ctr *c)
{
    rules_state_free(c->rules);
    rules_state_free(c->saved.rules);
    free(c->saved.acked);
    free(c->acked_ids);
    free(c);
}

void alarms__close(struct alarms *a)
{
    if (!a)
        return;
    /* the statements belong to the connection */
    for (size_t i = 0; i < a->n_ct; i++)
        ctr_free(a->ct[i]);
    free(a->ct);
    ot_preservation_free(a->profiles);
    free(a);
}

struct alarms_ctr *alarms__track(struct alarms *a, const char *name)
{
    if (a->n_ct == a->cap_ct) {
        size_t ncap = a->cap_ct ? a->cap_ct * 2 : 16;
        struct alarms_ctr **nc = realloc(a->ct, ncap * sizeof *nc);
        if (!nc)
            return NULL;
        a->ct = nc;
        a->cap_ct = ncap;
    }
    struct alarms_ctr *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    snprintf(c->name, sizeof c->name, "%s", name);
    c->alarms_ship_published = -1;
    c->rules_seq = -1;
    a->ct[a->n_ct++] = c;
    return c;
}

int64_t alarms__shipment(const struct alarms_ctr *c)
{
    return c->ship_id;
}

const char *alarms__profile(const struct alarms_ctr *c)
{
    return c->profile;
}

/* ---- what a rollback puts back ---------------------------------------- */

static enum ot_err copy_ids(int64_t **dst, size_t *n_dst, size_t *cap_dst, const int64_t *src,
                            size_t n)
{
    if (n > *cap_dst) {
        int64_t *na = realloc(*dst, n * sizeof *na);
        if (!na)
            return OT_ERR_NOMEM;
        *dst = na;
        *cap_dst = n;
    }
    if (n)
        memcpy(*dst, src, n * sizeof *src);
    *n_dst = n;
    return OT_OK;
}

/* Saves the container's state the first time this transaction touches it. */
static enum ot_err save(struct alarms *a, struct alarms_ctr *c)
{
    struct alarms_saved *s = &c->saved;
    if (s->gen == a->gen)
        return OT_OK;
    if (c->rules) {
        if (!s->rules && !(s->rules = rules_state_new()))
            return OT_ERR_NOMEM;
        rules_state_copy(s->rules, c->rules);
    }
    if (copy_ids(&s->acked, &s->n_acked, &s->cap_acked, c->acked_ids, c->n_acked))
        return OT_ERR_NOMEM;
    s->had_rules = c->rules != NULL;
    s->ship_id = c->ship_id;
    memcpy(s->profile, c->profile, sizeof s->profile);
    s->profile_warned = c->profile_warned;
    s->rsh = c->rsh;
    s->pres = c->pres;
    s->rules_seq = c->rules_seq;
    s->gen = a->gen;
    return OT_OK;
}

static enum ot_err restore(struct alarms_ctr *c)
{
    struct alarms_saved *s = &c->saved;
    if (s->had_rules) {
        if (!c->rules && !(c->rules = rules_state_new()))
            return OT_ERR_NOMEM;
        rules_state_copy(c->rules, s->rules);
    } else {
        rules_state_free(c->rules);
        c->rules = NULL;
    }
    if (copy_ids(&c->acked_ids, &c->n_acked, &c->cap_acked, s->acked, s->n_acked))
        return OT_ERR_NOMEM;
    c->ship_id = s->ship_id;
    memcpy(c->profile, s->profile, sizeof c->profile);
    c->profile_warned = s->profile_warned;
    c->rsh = s->rsh;
    c->pres = s->pres;
    c->rules_seq = s->rules_seq;
    c->ship_checked = 0; /* read the shipment again */
    c->alarms_dirty = 1;
    return OT_OK;
}

void alarms__begin(struct alarms *a)
{
    if (++a->gen == 0)
        ++a->gen; /* 0 is "never saved" */
}

void alarms__rollback(struct alarms *a)
{
    for (size_t i = 0; i < a->n_ct; i++) {
        struct alarms_ctr *c = a->ct[i];
        c->clock_ship = 0;    /* the gateway_clock row may be rolled back: look again */
        c->silence_noted = 0; /* its incident may be gone with the batch: insert again
                                 (once per source, ON CONFLICT DO NOTHING) */
        if (c->saved.gen != a->gen)
            continue;
        if (restore(c)) {
            /* cannot put it back: start that container afresh */
            ot_error("out of memory restoring rules state, rules start afresh container=%s",
                     c->name);
            rules_state_free(c->rules);
            c->rules = NULL;
            c->ship_id = 0;
            c->ship_checked = 0;
            c->n_acked = 0;
        }
        c->saved.gen = 0;
    }
}

void alarms__reset(struct alarms *a)
{
    for (size_t i = 0; i < a->n_ct; i++) {
        struct alarms_ctr *c = a->ct[i];
        rules_state_free(c->rules);
        c->rules = NULL;
        c->pres = NULL;
        c->ship_id = 0;
        c->profile[0] = '\0';
        c->ship_checked = 0;
        c->n_acked = 0;
        c->rules_seq = -1;
        c->saved.gen = 0;
        c->alarms_dirty = 1;
    }
}

/* ---- shipments -------------------------------------------------------- */

static enum ot_err remember_acked(struct alarms_ctr *c, int64_t id)
{
    if (c->n_acked == c->cap_acked) {
        size_t ncap = c->cap_acked ? c->cap_acked * 2 : 8;
        int64_t *na = realloc(c->acked_ids, ncap * sizeof *na);
        if (!na)
            return OT_ERR_NOMEM;
        c->acked_ids = na;
        c->cap_acked = ncap;
    }
    c->acked_ids[c->n_acked++] = id;
    return OT_OK;
}

/* After a restart (or when the shipment is first seen) the rules start
 * empty: hand them the alarms still open for the shipment, so they clear
 * them later instead of leaving them open or raising them twice. */
static enum ot_err restore_open(struct alarms *a, struct alarms_ctr *c)
{
    struct ot_sql_stmt *st = a->st_sel_open_alarms;
    enum ot_err rc = OT_OK;
    int row = 0;
    sql__bind_i64(st, 1, c->ship_id, &rc);
    if (!rc)
        rc = ot_sql_step(st, &row);
    while (!rc && row) {
        int64_t id = ot_sql_int64(st, 0);
        const char *type = ot_sql_text(st, 1);
        const char *sev = ot_sql_text(st, 2);
        const char *state = ot_sql_text(st, 3);
        int acked = state && !strcmp(state, "acknowledged");
        enum rules_severity rs = RULES_WARNING;
        if (type && sev) {
            if (!strcmp(sev, "info"))
                rs = RULES_INFO;
            else if (!strcmp(sev, "critical"))
                rs = RULES_CRITICAL;
            if (rules_restore(c->rules, type, rs, ot_sql_int64(st, 4), acked) == OT_OK) {
                if (acked)
                    rc = remember_acked(c, id);
                ot_info("alarm restored container=%s shipment_id=%lld type=%s state=%s id=%lld",
                        c->name, (long long)c->ship_id, type, state ? state : "?", (long long)id);
            }
        }
        if (!rc)
            rc = ot_sql_step(st, &row);
    }
    ot_sql_reset(st);
    return rc;
}

/* The planned legs as the ETA sees them (none if the stored text does not
 * parse: the API validated it, so that is logged once and ignored). */
static void read_legs(struct alarms_ctr *c, const char *text)
{
    struct ot_leg legs[OT_LEGS_MAX];
    size_t n = 0;
    char why[160];
    struct rules_shipment *rs = &c->rsh;
    if (ot_legs_parse_text(text, legs, &n, why, sizeof why)) {
        if (rs->n_legs || !c->legs_warned)
            ot_warn("shipment legs ignored container=%s shipment_id=%lld why=\"%s\"", c->name,
                    (long long)rs->id, why);
        c->legs_warned = 1;
        n = 0;
    }
    _Static_assert(OT_LEGS_MAX <= RULES_LEGS_MAX, "rules hold every planned leg");
    rs->n_legs = n;
    for (size_t i = 0; i < n; i++) {
        struct rules_leg *l = &rs->legs[i];
        l->air = legs[i].mode == OT_LEG_AIR;
        l->from_lat = legs[i].from.lat;
        l->from_lon = legs[i].from.lon;
        l->to_lat = legs[i].to.lat;
        l->to_lon = legs[i].to.lon;
        l->planned_departure = legs[i].planned_departure;
        l->planned_arrival = legs[i].planned_arrival;
        l->from_radius_m = legs[i].from.radius_m;
        l->to_radius_m = legs[i].to.radius_m;
    }
}

/* The container's open shipment: *found, and the rules' view of it. */
static enum ot_err read_shipment(struct alarms *a, struct alarms_ctr *c, int64_t *found)
{
    struct ot_sql_stmt *st = a->st_sel_shipment;
    enum ot_err rc = OT_OK;
    int row = 0;
    *found = 0;
    sql__bind_txt(st, 1, c->name, &rc);
    if (!rc)
        rc = ot_sql_step(st, &row);
    if (!rc && row) {
        int64_t id = *found = ot_sql_int64(st, 0);
        if (id != c->ship_id) {
            const char *prof = ot_sql_text(st, 1);
            snprintf(c->profile, sizeof c->profile, "%s", prof ? prof : "");
            c->profile_warned = 0;
        }
        struct rules_shipment *rs = &c->rsh;
        rs->id = id;
        rs->cross_clamp_at = ot_sql_int64(st, 2);
        rs->has_dest = !ot_sql_is_null(st, 3) && !ot_sql_is_null(st, 4);
        rs->dest_lat = ot_sql_double(st, 3);
        rs->dest_lon = ot_sql_double(st, 4);
        const char *mode = ot_sql_text(st, 5);
        rs->air = mode && (!strcmp(mode, "air") || !strcmp(mode, "mixed"));
        read_legs(c, ot_sql_text(st, 6));
        rs->ischemia_ended_at = ot_sql_is_null(st, 7) ? 0 : ot_sql_int64(st, 7);
    }
    ot_sql_reset(st);
    if (rc)
        ot_error("shipment look-up failed container=%s database=%s", c->name, ot_sql_name(a->db));
    return rc;
}

static enum ot_err shipment_changed(struct alarms *a, struct alarms_ctr *c, int64_t id)
{
    ot_info("container shipment container=%s shipment_id=%lld profile=%s", c->name, (long long)id,
            id ? c->profile : "-");
    c->ship_id = id;
    c->alarms_dirty = 1;
    c->n_acked = 0;
    rules_state_free(c->rules);
    c->rules = NULL;
    c->pres = NULL;
    c->rules_seq = -1;
    if (!id)
        return OT_OK;
    c->pres = a->profiles ? ot_preservation_find(a->profiles, c->profile) : NULL;
    if (!c->pres && !c->profile_warned) {
        ot_warn("no preservation profile, rules off container=%s shipment_id=%lld profile=%s",
                c->name, (long long)id, c->profile);
        c->profile_warned = 1;
    }
    if (!c->pres)
        return OT_OK;
    c->rules = rules_state_new();
    if (!c->rules) {
        ot_error("out of memory for rules state container=%s", c->name);
        return OT_ERR_NOMEM;
    }
    enum ot_err rc = restore_open(a, c);
    return rc ? rc : progress__restore(a, c);
}

enum ot_err alarms__refresh_shipment(struct alarms *a, struct alarms_ctr *c, int force)
{
    int64_t mono = ot_time_mono_ms();
    int64_t id = 0;
    enum ot_err rc;
    if (!force && c->ship_checked && mono - c->ship_checked < SHIPMENT_RECHECK_MS)
        return OT_OK;
    if ((rc = save(a, c)))
        return rc;
    c->ship_checked = mono;
    if ((rc = read_shipment(a, c, &id)))
        return rc;
    if (id != c->ship_id && (rc = shipment_changed(a, c, id)))
        return rc;
    if (!id)
        return OT_OK;
    struct ot_sql_stmt *st = a->st_sel_handoff;
    int row = 0;
    c->rsh.profile = c->pres;
    c->rsh.handoff_until = 0;
    sql__bind_i64(st, 1, id, &rc);
    if (!rc)
        rc = ot_sql_step(st, &row);
    if (!rc && row && !ot_sql_is_null(st, 0))
        c->rsh.handoff_until = ot_sql_int64(st, 0) + HANDOFF_WINDOW_MS;
    ot_sql_reset(st);
    return rc;
}

/* ---- rules ------------------------------------------------------------ */

enum ot_err alarms__on_reading(struct alarms *a, struct alarms_ctr *c, const struct ot_reading *r,
                               int late, int64_t now, struct outbox *ob)
{
    enum ot_err rc;
    if (!c->ship_id || !c->rules || !c->pres)
        return OT_OK;
    if (r->seq <= c->rules_seq) {
        outbox__count(ob, "rules", "out_of_order", 1);
        return OT_OK;
    }
    if ((rc = save(a, c)))
        return rc;
    c->rules_seq = r->seq;
    struct emit_ctx ctx = {a, c, now, ob, OT_OK};
    rules_on_reading(c->rules, &c->rsh, r, late, alarm_rows__on_event, &ctx);
    return ctx.rc ? ctx.rc : progress__on_reading(a, c, r, late, now, ob);
}

enum ot_err alarms__clock(struct alarms *a, struct alarms_ctr *c, int ahead, int64_t ahead_ms,
                          int64_t now, struct outbox *ob)
{
    enum ot_err rc;
    if (!c->ship_id)
        return OT_OK;
    if (c->clock_ship != c->ship_id) {
        /* first look for this shipment (or after a rollback): the row says */
        if ((rc = alarm_rows__is_open(a, c->ship_id, "gateway_clock", &c->clock_open)))
            return rc;
        c->clock_ship = c->ship_id;
    }
    if ((ahead != 0) == c->clock_open)
        return OT_OK;
    struct rules_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = "gateway_clock";
    ev.change = ahead ? RULES_RAISED : RULES_CLEARED;
    ev.severity = RULES_WARNING;
    ev.at = now; /* the reading's own time is the wrong one */
    ev.value = ahead ? (double)ahead_ms / 1000.0 : NAN;
    if (ahead)
        snprintf(ev.message, sizeof ev.message,
                 "gateway clock %lld s ahead of the collector: its readings are kept but not used",
                 (long long)(ahead_ms / 1000));
    else
        snprintf(ev.message, sizeof ev.message, "gateway clock agrees with the collector again");
    struct emit_ctx ctx = {a, c, now, ob, OT_OK};
    alarm_rows__on_event(&ctx, &ev);
    if (!ctx.rc)
        c->clock_open = ahead != 0;
    return ctx.rc;
}

enum ot_err alarms__tick(struct alarms *a, struct alarms_ctr *c, int gateway_online, int64_t now,
                         struct outbox *ob)
{
    enum ot_err rc = alarms__refresh_shipment(a, c, 0);
    if (rc || !c->ship_id || !c->rules || !c->pres)
        return rc;
    if ((rc = save(a, c)))
        return rc;
    c->rsh.flight_overdue_ms = a->flight_overdue_ms;
    c->rsh.flight_max_ms = a->flight_max_ms;
    struct emit_ctx ctx = {a, c, now, ob, OT_OK};
    rules_on_tick(c->rules, &c->rsh, now, gateway_online, alarm_rows__on_event, &ctx);
    if (ctx.rc)
        return ctx.rc;
    /* radio silence outside flight longer than 15 min: an incident, once
     * per silence (keyed by the last reading before it). Flight mode is
     * silent by design: not while the gateway says so, and after landing
     * the silence counts from the landing (the backlog is on its way). */
    int64_t since = 0;
    int64_t silent = rules_radio_silence(c->rules, &c->rsh, now, &since);
    if (c->rsh.in_flight)
        silent = 0;
    else if (since && since < c->landed_at)
        silent = now - c->landed_at;
    if (silent > RADIO_SILENCE_MS && since != c->silence_noted) {
        char source[96], detail[96];
        snprintf(source, sizeof source, "silence/%lld/%lld", (long long)c->ship_id,
                 (long long)since);
        snprintf(detail, sizeof detail, "no readings for %lld min outside flight",
                 (long long)((now - since) / 60000));
        if ((rc = alarms__incident(a, c, "radio_silence", source, detail, now)))
            return rc;
        c->silence_noted = since;
    }
    return OT_OK;
}

enum ot_err alarms__update_eta(struct alarms *a, int64_t now)
{
    enum ot_err rc = OT_OK;
    for (size_t i = 0; i < a->n_ct && !rc; i++) {
        struct alarms_ctr *c = a->ct[i];
        if (!c->ship_id || !c->rules || !c->pres)
            continue;
        int64_t eta = rules_eta(c->rules, &c->rsh);
        if (eta <= 0)
            continue;
        sql__bind_i64(a->st_upd_eta, 1, eta, &rc);
        sql__bind_i64(a->st_upd_eta, 2, now, &rc);
        sql__bind_i64(a->st_upd_eta, 3, c->ship_id, &rc);
        rc = sql__run(a->st_upd_eta, rc, NULL);
    }
    return rc;
}

static struct alarms_ctr *find(struct alarms *a, const char *name)
{
    for (size_t i = 0; i < a->n_ct; i++)
        if (!strcmp(a->ct[i]->name, name))
            return a->ct[i];
    return NULL;
}

static int was_acked(const struct alarms_ctr *c, int64_t id)
{
    for (size_t k = 0; k < c->n_acked; k++)
        if (c->acked_ids[k] == id)
            return 1;
    return 0;
}

enum ot_err alarms__poll_acks(struct alarms *a, int64_t now)
{
    struct ot_sql_stmt *st = a->st_sel_acked;
    int row = 0;
    enum ot_err rc = ot_sql_step(st, &row);
    while (!rc && row) {
        int64_t id = ot_sql_int64(st, 0);
        const char *cname = ot_sql_text(st, 1);
        const char *type = ot_sql_text(st, 2);
        struct alarms_ctr *c = cname && type ? find(a, cname) : NULL;
        if (c && !was_acked(c, id) && !(rc = save(a, c)) && !(rc = remember_acked(c, id))) {
            ot_info("alarm acknowledged container=%s id=%lld type=%s", c->name, (long long)id,
                    type);
            if (c->rules)
                rules_on_ack(c->rules, type, now);
            c->alarms_dirty = 1;
        }
        if (!rc)
            rc = ot_sql_step(st, &row);
    }
    ot_sql_reset(st);
    return rc;
}
