/* alarm_rows.c - what an alarm change writes (alarms_int.h): the alarms
 * row (one open alarm per shipment and type), the 'alarm' event for the
 * API's stream, the InfluxDB point and the webhook body; and, after
 * COMMIT, each container's retained alarm list. Every write's error is
 * kept in the emit context and fails the transaction. */
#include "alarms_int.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lineproto.h"
#include "ot_log.h"
#include "ot_time.h"
#include "sql.h"

enum ot_err alarm_rows__prepare(struct alarms *a)
{
    struct ot_sql *db = a->db;
    enum ot_err rc;
    if ((rc = sql__prepare(db, &a->st_sel_open_alarm,
                           "SELECT id,state FROM alarms WHERE shipment_id=?1 AND type=?2 AND "
                           "state<>'cleared' ORDER BY id DESC LIMIT 1")) ||
        (rc = sql__prepare(db, &a->st_ins_alarm,
                           "INSERT INTO alarms(shipment_id,container,type,severity,state,"
                           "raised_at,late,message,value,updated_at) VALUES"
                           "(?1,?2,?3,?4,'raised',?5,?6,?7,?8,?9) RETURNING id")) ||
        (rc = sql__prepare(db, &a->st_upd_alarm_raise,
                           "UPDATE alarms SET severity=?1,message=?2,value=?3,updated_at=?4 "
                           "WHERE id=?5")) ||
        (rc = sql__prepare(db, &a->st_upd_alarm_escalate,
                           "UPDATE alarms SET severity=?1,escalated_at=?2,message=?3,value=?4,"
                           "updated_at=?5 WHERE id=?6")) ||
        (rc = sql__prepare(db, &a->st_upd_alarm_clear,
                           "UPDATE alarms SET state='cleared',cleared_at=?1,updated_at=?2 "
                           "WHERE id=?3")) ||
        (rc = sql__prepare(db, &a->st_sel_alarm_list,
                           "SELECT * FROM (SELECT id,type,severity,state,raised_at,cleared_at,"
                           "message,late FROM alarms WHERE shipment_id=?1 ORDER BY id DESC "
                           "LIMIT 200) AS newest ORDER BY id")) ||
        (rc = sql__prepare(db, &a->st_ins_incident,
                           "INSERT INTO incidents(shipment_id,kind,source,detail,opened_at,due_at,"
                           "opened_by) VALUES(?1,?2,?3,?4,?5,?6,'collector') "
                           "ON CONFLICT (source) DO NOTHING")))
        return rc;
    return OT_OK;
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

/* The open alarm of that type for the shipment: its id (0 none), state. */
static enum ot_err open_alarm(struct alarms *a, int64_t ship, const char *type, int64_t *id,
                              char *state, size_t slen)
{
    struct ot_sql_stmt *st = a->st_sel_open_alarm;
    enum ot_err rc = OT_OK;
    int row = 0;
    *id = 0;
    sql__bind_i64(st, 1, ship, &rc);
    sql__bind_txt(st, 2, type, &rc);
    if (!rc)
        rc = ot_sql_step(st, &row);
    if (!rc && row) {
        *id = ot_sql_int64(st, 0);
        const char *s = ot_sql_text(st, 1);
        snprintf(state, slen, "%s", s ? s : "raised");
    }
    ot_sql_reset(st);
    return rc;
}

static enum ot_err insert_alarm(struct emit_ctx *ctx, const struct rules_event *ev, const char *sev,
                                int64_t *id)
{
    struct ot_sql_stmt *st = ctx->a->st_ins_alarm;
    enum ot_err rc = OT_OK;
    int row = 0;
    sql__bind_i64(st, 1, ctx->c->ship_id, &rc);
    sql__bind_txt(st, 2, ctx->c->name, &rc);
    sql__bind_txt(st, 3, ev->type, &rc);
    sql__bind_txt(st, 4, sev, &rc);
    sql__bind_i64(st, 5, ev->at, &rc);
    sql__bind_i64(st, 6, ev->late != 0, &rc);
    sql__bind_txt(st, 7, ev->message, &rc);
    sql__bind_dbl(st, 8, ev->value, &rc);
    sql__bind_i64(st, 9, ctx->now, &rc);
    if (!rc)
        rc = ot_sql_step(st, &row);
    if (!rc && !row)
        rc = OT_ERR_DB; /* RETURNING gives the row */
    if (!rc)
        *id = ot_sql_int64(st, 0);
    ot_sql_reset(st);
    if (rc)
        ot_error("alarm not stored, the batch is rolled back container=%s shipment_id=%lld "
                 "type=%s database=%s error=%s",
                 ctx->c->name, (long long)ctx->c->ship_id, ev->type, ot_sql_name(ctx->a->db),
                 ot_strerror(rc));
    return rc;
}

enum ot_err alarm_rows__is_open(struct alarms *a, int64_t ship, const char *type, int *open)
{
    int64_t id = 0;
    char state[24];
    enum ot_err rc = open_alarm(a, ship, type, &id, state, sizeof state);
    *open = id != 0;
    return rc;
}

/* The row: insert, update (raised again, escalated) or clear. *skip: a
 * clear with nothing open (no row, nothing else to write). */
static enum ot_err write_row(struct emit_ctx *ctx, const struct rules_event *ev, const char *sev,
                             int64_t *id, char *state, size_t slen, int *skip)
{
    struct alarms *a = ctx->a;
    struct ot_sql_stmt *st;
    enum ot_err rc = open_alarm(a, ctx->c->ship_id, ev->type, id, state, slen);
    *skip = 0;
    if (rc)
        return rc;
    switch (ev->change) {
    case RULES_RAISED:
    case RULES_ESCALATED:
        if (!*id) {
            rc = insert_alarm(ctx, ev, sev, id);
            snprintf(state, slen, "raised");
            if (!rc)
                outbox__count(ctx->ob, "alarms", ev->type, 1);
        } else if (ev->change == RULES_RAISED) {
            st = a->st_upd_alarm_raise;
            sql__bind_txt(st, 1, sev, &rc);
            sql__bind_txt(st, 2, ev->message, &rc);
            sql__bind_dbl(st, 3, ev->value, &rc);
            sql__bind_i64(st, 4, ctx->now, &rc);
            sql__bind_i64(st, 5, *id, &rc);
            rc = sql__run(st, rc, NULL);
        } else {
            st = a->st_upd_alarm_escalate;
            sql__bind_txt(st, 1, sev, &rc);
            sql__bind_i64(st, 2, ev->at, &rc);
            sql__bind_txt(st, 3, ev->message, &rc);
            sql__bind_dbl(st, 4, ev->value, &rc);
            sql__bind_i64(st, 5, ctx->now, &rc);
            sql__bind_i64(st, 6, *id, &rc);
            rc = sql__run(st, rc, NULL);
        }
        break;
    case RULES_CLEARED:
        if (!*id) {
            *skip = 1; /* nothing open */
            break;
        }
        st = a->st_upd_alarm_clear;
        sql__bind_i64(st, 1, ev->at, &rc);
        sql__bind_i64(st, 2, ctx->now, &rc);
        sql__bind_i64(st, 3, *id, &rc);
        rc = sql__run(st, rc, NULL);
        snprintf(state, slen, "cleared");
        break;
    }
    return rc;
}

/* The 'alarm' event (API stream) and the webhook body. */
static enum ot_err write_event(struct emit_ctx *ctx, const struct rules_event *ev, const char *sev,
                               int64_t id, const char *state, const char *at)
{
    struct alarms_ctr *c = ctx->c;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return OT_ERR_NOMEM;
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
    if (!body)
        return OT_ERR_NOMEM;
    enum ot_err rc = feed__add(ctx->a->feed, "alarm", c->ship_id, c->name, body, ctx->now);
    if (rc) {
        cJSON_free(body);
        return rc;
    }
    outbox__hook(ctx->ob, body); /* takes it */
    return OT_OK;
}

static void write_line(struct emit_ctx *ctx, const struct rules_event *ev, const char *sev,
                       int64_t id)
{
    struct lineproto *lp = outbox__lines(ctx->ob);
    char ship[24];
    if (!lp)
        return;
    snprintf(ship, sizeof ship, "%lld", (long long)ctx->c->ship_id);
    lineproto__begin(lp, "alarm");
    lineproto__tag(lp, "container", ctx->c->name);
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

void alarm_rows__on_event(void *vctx, const struct rules_event *ev)
{
    struct emit_ctx *ctx = vctx;
    struct alarms_ctr *c = ctx->c;
    char state[24] = "raised", at[32];
    const char *sev = severity_name(ev->severity);
    int64_t id = 0;
    int skip = 0;
    if (ctx->rc)
        return; /* an earlier write failed: the transaction is lost anyway */
    ctx->rc = write_row(ctx, ev, sev, &id, state, sizeof state, &skip);
    if (ctx->rc || skip)
        return;
    ot_time_format_iso(ev->at, at, sizeof at);
    ctx->rc = write_event(ctx, ev, sev, id, state, at);
    if (ctx->rc)
        return;
    write_line(ctx, ev, sev, id);
    if (!strcmp(ev->type, "temp_excursion") && ev->severity == RULES_CRITICAL &&
        ev->change != RULES_CLEARED) {
        /* an excursion that became critical is an incident (SPEC v1.1) */
        char source[40];
        snprintf(source, sizeof source, "alarm/%lld", (long long)id);
        ctx->rc = alarms__incident(ctx->a, c, "temp_excursion", source, ev->message, ctx->now);
        if (ctx->rc)
            return;
    }
    ot_info("alarm %s container=%s shipment_id=%lld type=%s severity=%s at=%s late=%d id=%lld",
            change_name(ev->change), c->name, (long long)c->ship_id, ev->type, sev, at,
            ev->late != 0, (long long)id);
    c->alarms_dirty = 1;
}

/* ---- incidents ---------------------------------------------------------- */

#define INCIDENT_DUE_MS (5LL * 24 * 3600 * 1000) /* five calendar days to answer */

enum ot_err alarms__incident(struct alarms *a, struct alarms_ctr *c, const char *kind,
                             const char *source, const char *detail, int64_t now)
{
    enum ot_err rc = OT_OK;
    if (!c || !c->ship_id)
        return OT_OK;
    struct ot_sql_stmt *st = a->st_ins_incident;
    int64_t n = 0;
    sql__bind_i64(st, 1, c->ship_id, &rc);
    sql__bind_txt(st, 2, kind, &rc);
    sql__bind_txt(st, 3, source, &rc);
    sql__bind_txt(st, 4, detail, &rc);
    sql__bind_i64(st, 5, now, &rc);
    sql__bind_i64(st, 6, now + INCIDENT_DUE_MS, &rc);
    rc = sql__run(st, rc, &n);
    if (rc)
        ot_error("incident not stored, the batch is rolled back container=%s shipment_id=%lld "
                 "kind=%s database=%s error=%s",
                 c->name, (long long)c->ship_id, kind, ot_sql_name(a->db), ot_strerror(rc));
    else if (n)
        ot_info("incident opened container=%s shipment_id=%lld kind=%s source=%s", c->name,
                (long long)c->ship_id, kind, source);
    return rc;
}

/* ---- alarm lists (after COMMIT) --------------------------------------- */

static enum ot_err list_rows(struct alarms *al, struct alarms_ctr *c, cJSON *arr)
{
    struct ot_sql_stmt *st = al->st_sel_alarm_list;
    enum ot_err rc = OT_OK;
    int row = 0;
    sql__bind_i64(st, 1, c->ship_id, &rc);
    if (!rc)
        rc = ot_sql_step(st, &row);
    while (!rc && row) {
        char t[32];
        cJSON *a = cJSON_CreateObject();
        if (!a) {
            rc = OT_ERR_NOMEM;
            break;
        }
        const char *type = ot_sql_text(st, 1), *sev = ot_sql_text(st, 2);
        const char *state = ot_sql_text(st, 3), *msg = ot_sql_text(st, 6);
        cJSON_AddNumberToObject(a, "id", (double)ot_sql_int64(st, 0));
        cJSON_AddStringToObject(a, "type", type ? type : "");
        cJSON_AddStringToObject(a, "severity", sev ? sev : "");
        cJSON_AddStringToObject(a, "state", state ? state : "");
        cJSON_AddStringToObject(a, "raised_at",
                                ot_time_format_iso(ot_sql_int64(st, 4), t, sizeof t));
        if (ot_sql_is_null(st, 5))
            cJSON_AddNullToObject(a, "cleared_at");
        else
            cJSON_AddStringToObject(a, "cleared_at",
                                    ot_time_format_iso(ot_sql_int64(st, 5), t, sizeof t));
        cJSON_AddStringToObject(a, "message", msg ? msg : "");
        cJSON_AddBoolToObject(a, "late", ot_sql_int64(st, 7) != 0);
        cJSON_AddItemToArray(arr, a);
        rc = ot_sql_step(st, &row);
    }
    ot_sql_reset(st);
    return rc;
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
    if (arr && (!c->ship_id || !list_rows(al, c, arr)))
        out = cJSON_PrintUnformatted(root);
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
        /* a failed read leaves the list dirty: published after the next
         * commit */
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
