/* alarms.c - glue between the worker and the preservation rules
 * (collector/rules, pure logic): finds each container's open shipment and
 * profile, feeds readings and ticks, turns rule events into rows of the
 * alarms table (one open alarm per shipment and type), 'alarm' events,
 * InfluxDB points and webhook bodies, notices acknowledgements the API
 * writes, and publishes each container's alarm list (retained) after the
 * transaction commits. Runs only on the worker thread; owns its statements
 * and calls no other worker file (alarms.h). */
#include "alarms.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lineproto.h"
#include "ot_log.h"
#include "ot_preservation.h"
#include "ot_time.h"
#include "rules.h"
#include "sql.h"

#define SHIPMENT_RECHECK_MS 1000
#define HANDOFF_WINDOW_MS (10 * 60 * 1000)

struct alarms_ctr {
    char name[OT_ID_MAX + 1];
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

struct alarms {
    sqlite3 *db; /* the worker's connection (not owned) */
    struct ot_preservation_set *profiles;
    struct alarms_ctr **ct; /* in the order the worker met the containers */
    size_t n_ct, cap_ct;
    /* prepared statements, kept for the connection's life */
    sqlite3_stmt *st_sel_shipment, *st_sel_handoff, *st_sel_open_alarm, *st_ins_alarm;
    sqlite3_stmt *st_upd_alarm_raise, *st_upd_alarm_escalate, *st_upd_alarm_clear;
    sqlite3_stmt *st_sel_alarm_list, *st_sel_acked, *st_sel_open_alarms, *st_upd_eta;
    sqlite3_stmt *st_ins_event;
};

static enum ot_err prepare(struct alarms *a)
{
    enum ot_err rc;
    if ((rc = sql__prepare(a->db, &a->st_sel_shipment,
                           "SELECT id,profile,cross_clamp_at,dest_lat,dest_lon,mode FROM "
                           "shipments WHERE container=? AND status IN ('created','in_transit')"
                           " ORDER BY id DESC LIMIT 1")) ||
        (rc = sql__prepare(a->db, &a->st_sel_handoff,
                           "SELECT MAX(ts) FROM custody WHERE shipment_id=? AND type IN "
                           "('handoff','packed','opened','received')")) ||
        (rc = sql__prepare(a->db, &a->st_sel_open_alarm,
                           "SELECT id,state FROM alarms WHERE shipment_id=? AND type=? AND "
                           "state<>'cleared' ORDER BY id DESC LIMIT 1")) ||
        (rc = sql__prepare(a->db, &a->st_ins_alarm,
                           "INSERT INTO alarms(shipment_id,container,type,severity,state,"
                           "raised_at,late,message,value,updated_at) VALUES"
                           "(?,?,?,?,'raised',?,?,?,?,?)")) ||
        (rc = sql__prepare(a->db, &a->st_upd_alarm_raise,
                           "UPDATE alarms SET severity=?,message=?,value=?,updated_at=? "
                           "WHERE id=?")) ||
        (rc = sql__prepare(a->db, &a->st_upd_alarm_escalate,
                           "UPDATE alarms SET severity=?,escalated_at=?,message=?,value=?,"
                           "updated_at=? WHERE id=?")) ||
        (rc = sql__prepare(a->db, &a->st_upd_alarm_clear,
                           "UPDATE alarms SET state='cleared',cleared_at=?,updated_at=? "
                           "WHERE id=?")) ||
        (rc = sql__prepare(a->db, &a->st_sel_alarm_list,
                           "SELECT * FROM (SELECT id,type,severity,state,raised_at,cleared_at,"
                           "message,late FROM alarms WHERE shipment_id=? ORDER BY id DESC "
                           "LIMIT 200) ORDER BY id")) ||
        (rc = sql__prepare(a->db, &a->st_sel_acked,
                           "SELECT id,container,type FROM alarms WHERE "
                           "state='acknowledged'")) ||
        (rc = sql__prepare(a->db, &a->st_sel_open_alarms,
                           "SELECT id,type,severity,state,raised_at FROM alarms WHERE "
                           "shipment_id=? AND state<>'cleared' ORDER BY id")) ||
        (rc = sql__prepare(a->db, &a->st_upd_eta,
                           "UPDATE shipments SET eta=?,eta_computed_at=? WHERE id=?")) ||
        (rc = sql__prepare(a->db, &a->st_ins_event,
                           "INSERT INTO events(ts,kind,shipment_id,container,payload) "
                           "VALUES(?,?,?,?,?)")))
        return rc;
    return OT_OK;
}

enum ot_err alarms__open(sqlite3 *db, const char *preservation, struct alarms **out)
{
    enum ot_err rc;
    struct alarms *a = calloc(1, sizeof *a);
    *out = NULL;
    if (!a)
        return OT_ERR_NOMEM;
    a->db = db;
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

void alarms__close(struct alarms *a)
{
    if (!a)
        return;
    sqlite3_stmt **all[] = {
        &a->st_sel_shipment,    &a->st_sel_handoff,     &a->st_sel_open_alarm,
        &a->st_ins_alarm,       &a->st_upd_alarm_raise, &a->st_upd_alarm_escalate,
        &a->st_upd_alarm_clear, &a->st_sel_alarm_list,  &a->st_sel_acked,
        &a->st_sel_open_alarms, &a->st_upd_eta,         &a->st_ins_event};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        sqlite3_finalize(*all[i]);
        *all[i] = NULL;
    }
    for (size_t i = 0; i < a->n_ct; i++) {
        rules_state_free(a->ct[i]->rules);
        free(a->ct[i]->acked_ids);
        free(a->ct[i]);
    }
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

static void remember_acked(struct alarms_ctr *c, int64_t id)
{
    if (c->n_acked == c->cap_acked) {
        size_t ncap = c->cap_acked ? c->cap_acked * 2 : 8;
        int64_t *na = realloc(c->acked_ids, ncap * sizeof *na);
        if (!na)
            return;
        c->acked_ids = na;
        c->cap_acked = ncap;
    }
    c->acked_ids[c->n_acked++] = id;
}

/* After a restart (or when the shipment is first seen) the rules start
 * empty: hand them the alarms still open for the shipment, so they clear
 * them later instead of leaving them open or raising them twice. */
static void restore_open(struct alarms *a, struct alarms_ctr *c)
{
    sqlite3_stmt *st = a->st_sel_open_alarms;
    sqlite3_bind_int64(st, 1, c->ship_id);
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        const char *type = (const char *)sqlite3_column_text(st, 1);
        const char *sev = (const char *)sqlite3_column_text(st, 2);
        const char *state = (const char *)sqlite3_column_text(st, 3);
        int acked = state && !strcmp(state, "acknowledged");
        enum rules_severity rs = RULES_WARNING;
        if (!type || !sev)
            continue;
        if (!strcmp(sev, "info"))
            rs = RULES_INFO;
        else if (!strcmp(sev, "critical"))
            rs = RULES_CRITICAL;
        if (rules_restore(c->rules, type, rs, sqlite3_column_int64(st, 4), acked) == OT_OK) {
            if (acked)
                remember_acked(c, id);
            ot_info("alarm restored container=%s shipment_id=%lld type=%s state=%s id=%lld",
                    c->name, (long long)c->ship_id, type, state ? state : "?", (long long)id);
        }
    }
    sqlite3_reset(st);
}

void alarms__refresh_shipment(struct alarms *a, struct alarms_ctr *c, int force)
{
    int64_t mono = ot_time_mono_ms();
    int64_t id = 0;
    if (!force && c->ship_checked && mono - c->ship_checked < SHIPMENT_RECHECK_MS)
        return;
    c->ship_checked = mono;
    sqlite3_stmt *st = a->st_sel_shipment;
    sqlite3_bind_text(st, 1, c->name, -1, SQLITE_STATIC);
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        id = sqlite3_column_int64(st, 0);
        if (id != c->ship_id) {
            const char *prof = (const char *)sqlite3_column_text(st, 1);
            snprintf(c->profile, sizeof c->profile, "%s", prof ? prof : "");
            c->profile_warned = 0;
        }
        struct rules_shipment *rs = &c->rsh;
        rs->id = id;
        rs->cross_clamp_at = sqlite3_column_int64(st, 2);
        rs->has_dest =
            sqlite3_column_type(st, 3) != SQLITE_NULL && sqlite3_column_type(st, 4) != SQLITE_NULL;
        rs->dest_lat = sqlite3_column_double(st, 3);
        rs->dest_lon = sqlite3_column_double(st, 4);
        const char *mode = (const char *)sqlite3_column_text(st, 5);
        rs->air = mode && (!strcmp(mode, "air") || !strcmp(mode, "mixed"));
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (src != SQLITE_ROW && src != SQLITE_DONE) {
        ot_error("sqlite shipment look-up failed error=\"%s\"", sqlite3_errmsg(a->db));
        return;
    }
    if (id != c->ship_id) {
        ot_info("container shipment container=%s shipment_id=%lld profile=%s", c->name,
                (long long)id, id ? c->profile : "-");
        c->ship_id = id;
        c->alarms_dirty = 1;
        c->n_acked = 0;
        rules_state_free(c->rules);
        c->rules = NULL;
        c->pres = NULL;
        c->rules_seq = -1;
        if (id) {
            c->pres = a->profiles ? ot_preservation_find(a->profiles, c->profile) : NULL;
            if (!c->pres && !c->profile_warned) {
                ot_warn("no preservation profile, rules off container=%s shipment_id=%lld "
                        "profile=%s",
                        c->name, (long long)id, c->profile);
                c->profile_warned = 1;
            }
            if (c->pres) {
                c->rules = rules_state_new();
                if (!c->rules)
                    ot_error("out of memory for rules state container=%s", c->name);
                else
                    restore_open(a, c);
            }
        }
    }
    if (id) {
        c->rsh.profile = c->pres;
        c->rsh.handoff_until = 0;
        sqlite3_bind_int64(a->st_sel_handoff, 1, id);
        if (sqlite3_step(a->st_sel_handoff) == SQLITE_ROW &&
            sqlite3_column_type(a->st_sel_handoff, 0) != SQLITE_NULL)
            c->rsh.handoff_until = sqlite3_column_int64(a->st_sel_handoff, 0) + HANDOFF_WINDOW_MS;
        sqlite3_reset(a->st_sel_handoff);
    }
}

static const char *severity_name(enum rules_severity s)
{
    switch (s) {
    case RULES_INFO:
        return "info";
    case RULES_WARNING:
        return "warning";
    case RULES_CRITICAL:
        return "critical";
    }
    return "warning";
}

static const char *change_name(enum rules_change ch)
{
    switch (ch) {
    case RULES_RAISED:
        return "raised";
    case RULES_ESCALATED:
        return "escalated";
    case RULES_CLEARED:
        return "cleared";
    }
    return "raised";
}

struct emit_ctx {
    struct alarms *a;
    struct alarms_ctr *c;
    int64_t now; /* wall clock of the open transaction */
    struct outbox *ob;
};

static int64_t open_alarm(struct alarms *a, int64_t ship, const char *type, char *state,
                          size_t slen)
{
    int64_t id = 0;
    sqlite3_stmt *st = a->st_sel_open_alarm;
    sqlite3_bind_int64(st, 1, ship);
    sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        id = sqlite3_column_int64(st, 0);
        const char *s = (const char *)sqlite3_column_text(st, 1);
        snprintf(state, slen, "%s", s ? s : "raised");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return id;
}

static void bind_value(sqlite3_stmt *st, int idx, double v)
{
    if (v == v) /* not NaN */
        sqlite3_bind_double(st, idx, v);
    else
        sqlite3_bind_null(st, idx);
}

static void on_event(void *vctx, const struct rules_event *ev)
{
    struct emit_ctx *ctx = vctx;
    struct alarms *a = ctx->a;
    struct alarms_ctr *c = ctx->c;
    char state[24] = "raised";
    const char *sev = severity_name(ev->severity);
    int64_t id = open_alarm(a, c->ship_id, ev->type, state, sizeof state);
    enum ot_err rc = OT_OK;
    sqlite3_stmt *st;
    switch (ev->change) {
    case RULES_RAISED:
    case RULES_ESCALATED:
        if (!id) {
            st = a->st_ins_alarm;
            sqlite3_bind_int64(st, 1, c->ship_id);
            sqlite3_bind_text(st, 2, c->name, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 3, ev->type, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 4, sev, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 5, ev->at);
            sqlite3_bind_int(st, 6, ev->late != 0);
            sqlite3_bind_text(st, 7, ev->message, -1, SQLITE_STATIC);
            bind_value(st, 8, ev->value);
            sqlite3_bind_int64(st, 9, ctx->now);
            rc = sql__step_done(a->db, st);
            id = sqlite3_last_insert_rowid(a->db);
            snprintf(state, sizeof state, "raised");
            outbox__count(ctx->ob, "alarms", ev->type, 1);
        } else if (ev->change == RULES_RAISED) {
            st = a->st_upd_alarm_raise;
            sqlite3_bind_text(st, 1, sev, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, ev->message, -1, SQLITE_STATIC);
            bind_value(st, 3, ev->value);
            sqlite3_bind_int64(st, 4, ctx->now);
            sqlite3_bind_int64(st, 5, id);
            rc = sql__step_done(a->db, st);
        } else {
            st = a->st_upd_alarm_escalate;
            sqlite3_bind_text(st, 1, sev, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 2, ev->at);
            sqlite3_bind_text(st, 3, ev->message, -1, SQLITE_STATIC);
            bind_value(st, 4, ev->value);
            sqlite3_bind_int64(st, 5, ctx->now);
            sqlite3_bind_int64(st, 6, id);
            rc = sql__step_done(a->db, st);
        }
        break;
    case RULES_CLEARED:
        if (!id)
            return; /* nothing open */
        st = a->st_upd_alarm_clear;
        sqlite3_bind_int64(st, 1, ev->at);
        sqlite3_bind_int64(st, 2, ctx->now);
        sqlite3_bind_int64(st, 3, id);
        rc = sql__step_done(a->db, st);
        snprintf(state, sizeof state, "cleared");
        break;
    }
    if (rc)
        return;
    char at[32];
    ot_time_format_iso(ev->at, at, sizeof at);
    ot_info("alarm %s container=%s shipment_id=%lld type=%s severity=%s at=%s late=%d id=%lld",
            change_name(ev->change), c->name, (long long)c->ship_id, ev->type, sev, at,
            ev->late != 0, (long long)id);
    c->alarms_dirty = 1;

    /* event for the API stream, webhook body */
    cJSON *o = cJSON_CreateObject();
    if (o) {
        cJSON_AddStringToObject(o, "event", "alarm");
        cJSON_AddNumberToObject(o, "id", (double)id);
        cJSON_AddStringToObject(o, "container", c->name);
        cJSON_AddNumberToObject(o, "shipment_id", (double)c->ship_id);
        cJSON_AddStringToObject(o, "type", ev->type);
        cJSON_AddStringToObject(o, "change", change_name(ev->change));
        cJSON_AddStringToObject(o, "severity", sev);
        cJSON_AddStringToObject(o, "state", state);
        cJSON_AddStringToObject(o, "at", at);
        cJSON_AddBoolToObject(o, "late", ev->late != 0);
        cJSON_AddStringToObject(o, "message", ev->message);
        if (ev->value == ev->value)
            cJSON_AddNumberToObject(o, "value", ev->value);
        char *body = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        if (body) {
            sqlite3_bind_int64(a->st_ins_event, 1, ctx->now);
            sqlite3_bind_text(a->st_ins_event, 2, "alarm", -1, SQLITE_STATIC);
            sqlite3_bind_int64(a->st_ins_event, 3, c->ship_id);
            sqlite3_bind_text(a->st_ins_event, 4, c->name, -1, SQLITE_STATIC);
            sqlite3_bind_text(a->st_ins_event, 5, body, -1, SQLITE_STATIC);
            sql__step_done(a->db, a->st_ins_event);
            outbox__hook(ctx->ob, body);
        }
    }
    struct lineproto *lp = outbox__lines(ctx->ob);
    if (lp) {
        char ship[24];
        snprintf(ship, sizeof ship, "%lld", (long long)c->ship_id);
        lineproto__begin(lp, "alarm");
        lineproto__tag(lp, "container", c->name);
        lineproto__tag(lp, "shipment", ship);
        lineproto__tag(lp, "type", ev->type);
        lineproto__tag(lp, "change", change_name(ev->change));
        lineproto__field_int(lp, "id", id);
        lineproto__field_string(lp, "severity", sev);
        lineproto__field_bool(lp, "late", ev->late != 0);
        lineproto__field_string(lp, "message", ev->message);
        if (ev->value == ev->value)
            lineproto__field_float(lp, "value", ev->value);
        if (lineproto__end(lp, ev->at))
            outbox__count(ctx->ob, "influx", "unencodable", 1);
    }
}

void alarms__on_reading(struct alarms *a, struct alarms_ctr *c, const struct ot_reading *r,
                        int late, int64_t now, struct outbox *ob)
{
    if (!c->ship_id || !c->rules || !c->pres)
        return;
    if (r->seq <= c->rules_seq) {
        outbox__count(ob, "rules", "out_of_order", 1);
        return;
    }
    c->rules_seq = r->seq;
    struct emit_ctx ctx = {a, c, now, ob};
    rules_on_reading(c->rules, &c->rsh, r, late, on_event, &ctx);
}

void alarms__tick(struct alarms *a, struct alarms_ctr *c, int gateway_online, int64_t now,
                  struct outbox *ob)
{
    alarms__refresh_shipment(a, c, 0);
    if (!c->ship_id || !c->rules || !c->pres)
        return;
    struct emit_ctx ctx = {a, c, now, ob};
    rules_on_tick(c->rules, &c->rsh, now, gateway_online, on_event, &ctx);
}

void alarms__update_eta(struct alarms *a, int64_t now)
{
    for (size_t i = 0; i < a->n_ct; i++) {
        struct alarms_ctr *c = a->ct[i];
        if (!c->ship_id || !c->rules || !c->pres)
            continue;
        int64_t eta = rules_eta(c->rules, &c->rsh);
        if (eta <= 0)
            continue;
        sqlite3_bind_int64(a->st_upd_eta, 1, eta);
        sqlite3_bind_int64(a->st_upd_eta, 2, now);
        sqlite3_bind_int64(a->st_upd_eta, 3, c->ship_id);
        sql__step_done(a->db, a->st_upd_eta);
    }
}

void alarms__poll_acks(struct alarms *a, int64_t now)
{
    sqlite3_stmt *st = a->st_sel_acked;
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        const char *cname = (const char *)sqlite3_column_text(st, 1);
        const char *type = (const char *)sqlite3_column_text(st, 2);
        struct alarms_ctr *c = NULL;
        if (!cname || !type)
            continue;
        for (size_t i = 0; i < a->n_ct; i++)
            if (!strcmp(a->ct[i]->name, cname))
                c = a->ct[i];
        if (!c)
            continue;
        int seen = 0;
        for (size_t k = 0; k < c->n_acked; k++)
            if (c->acked_ids[k] == id)
                seen = 1;
        if (seen)
            continue;
        if (c->n_acked == c->cap_acked) {
            size_t ncap = c->cap_acked ? c->cap_acked * 2 : 8;
            int64_t *na = realloc(c->acked_ids, ncap * sizeof *na);
            if (!na)
                continue;
            c->acked_ids = na;
            c->cap_acked = ncap;
        }
        c->acked_ids[c->n_acked++] = id;
        ot_info("alarm acknowledged container=%s id=%lld type=%s", c->name, (long long)id, type);
        if (c->rules)
            rules_on_ack(c->rules, type, now);
        c->alarms_dirty = 1;
    }
    sqlite3_reset(st);
}

static char *alarm_list_json(struct alarms *al, struct alarms_ctr *c)
{
    cJSON *root = cJSON_CreateObject(), *arr;
    char *out = NULL;
    if (!root)
        return NULL;
    cJSON_AddNumberToObject(root, "v", 1);
    cJSON_AddStringToObject(root, "container", c->name);
    arr = cJSON_AddArrayToObject(root, "alarms");
    if (!arr)
        goto done;
    if (c->ship_id) {
        sqlite3_stmt *st = al->st_sel_alarm_list;
        sqlite3_bind_int64(st, 1, c->ship_id);
        while (sqlite3_step(st) == SQLITE_ROW) {
            char t[32];
            cJSON *a = cJSON_CreateObject();
            if (!a)
                break;
            cJSON_AddNumberToObject(a, "id", (double)sqlite3_column_int64(st, 0));
            cJSON_AddStringToObject(a, "type", (const char *)sqlite3_column_text(st, 1));
            cJSON_AddStringToObject(a, "severity", (const char *)sqlite3_column_text(st, 2));
            cJSON_AddStringToObject(a, "state", (const char *)sqlite3_column_text(st, 3));
            cJSON_AddStringToObject(a, "raised_at",
                                    ot_time_format_iso(sqlite3_column_int64(st, 4), t, sizeof t));
            if (sqlite3_column_type(st, 5) == SQLITE_NULL)
                cJSON_AddNullToObject(a, "cleared_at");
            else
                cJSON_AddStringToObject(
                    a, "cleared_at", ot_time_format_iso(sqlite3_column_int64(st, 5), t, sizeof t));
            cJSON_AddStringToObject(a, "message", (const char *)sqlite3_column_text(st, 6));
            cJSON_AddBoolToObject(a, "late", sqlite3_column_int(st, 7) != 0);
            cJSON_AddItemToArray(arr, a);
        }
        sqlite3_reset(st);
    }
    out = cJSON_PrintUnformatted(root);
done:
    cJSON_Delete(root);
    return out;
}

void alarms__publish_dirty(struct alarms *a, struct mqtt *m, const char *topic_root, int all)
{
    char topic[OT_TOPIC_MAX];
    if (!m)
        return;
    for (size_t i = 0; i < a->n_ct; i++) {
        struct alarms_ctr *c = a->ct[i];
        int want = c->alarms_dirty || (all && (c->ship_id || c->alarms_ship_published > 0));
        if (!want)
            continue;
        if (ot_topic(topic, sizeof topic, topic_root, c->name, "alarms"))
            continue;
        char *body = alarm_list_json(a, c);
        if (!body)
            continue;
        if (!mqtt__publish_retained(m, topic, body, strlen(body))) {
            c->alarms_dirty = 0;
            c->alarms_ship_published = c->ship_id;
        }
        cJSON_free(body);
    }
}
