/* progress.c - what a progress event of the rules (rules_progress.c:
 * departed, at_airport, airborne, landed, arrival_suggested) writes: its
 * row in table progress (once per shipment, kind and leg: the primary key
 * makes a retried batch, a restarted collector or a second one unable to
 * report it twice), the 'progress' event of the API's stream, the webhook
 * body of kind "progress" and the InfluxDB point `progress`. Not alarms:
 * no alarm row, no alarm list, no acknowledgement. arrival_suggested is
 * only that: the crew confirms the arrival with the custody `arrived`
 * entry; the collector writes no custody. Part of alarms (alarms_int.h),
 * worker thread only. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarms_int.h"
#include "lineproto.h"
#include "ot_legs.h"
#include "ot_log.h"
#include "ot_time.h"
#include "sql.h"

struct progress_ctx {
    struct alarms *a;
    struct alarms_ctr *c;
    int64_t now;
    struct outbox *ob;
    enum ot_err rc;
};

enum ot_err progress__restore(struct alarms *a, struct alarms_ctr *c)
{
    struct ot_sql_stmt *st;
    enum ot_err rc;
    int row = 0;
    /* the origin is the fence of `departed` without legs; it never changes
     * (a redirect changes the destination and the legs) */
    if ((rc = ot_sql_prepare_cached(
             a->db, "SELECT origin_lat,origin_lon FROM shipments WHERE id=?1", &st)))
        return rc;
    sql__bind_i64(st, 1, c->ship_id, &rc);
    if (!rc)
        rc = ot_sql_step(st, &row);
    c->rsh.has_origin = !rc && row && !ot_sql_is_null(st, 0) && !ot_sql_is_null(st, 1);
    c->rsh.origin_lat = c->rsh.has_origin ? ot_sql_double(st, 0) : 0;
    c->rsh.origin_lon = c->rsh.has_origin ? ot_sql_double(st, 1) : 0;
    ot_sql_reset(st);
    if (rc)
        return rc;
    if ((rc = ot_sql_prepare_cached(a->db, "SELECT kind,leg FROM progress WHERE shipment_id=?1",
                                    &st)))
        return rc;
    sql__bind_i64(st, 1, c->ship_id, &rc);
    if (!rc)
        rc = ot_sql_step(st, &row);
    while (!rc && row) {
        const char *kind = ot_sql_text(st, 0);
        if (rules_progress_restore(c->rules, kind, (int)ot_sql_int64(st, 1)) == OT_OK)
            ot_info("progress restored container=%s shipment_id=%lld kind=%s leg=%lld", c->name,
                    (long long)c->ship_id, kind, (long long)ot_sql_int64(st, 1));
        rc = ot_sql_step(st, &row);
    }
    ot_sql_reset(st);
    return rc;
}

/* The place's name as the plan or the shipment has it ("" unknown). */
static enum ot_err place_name(struct alarms *a, int64_t ship, int place, char *out, size_t len)
{
    struct ot_sql_stmt *st;
    enum ot_err rc;
    int row = 0;
    out[0] = '\0';
    if ((rc = ot_sql_prepare_cached(
             a->db, "SELECT origin_name,dest_name,legs FROM shipments WHERE id=?1", &st)))
        return rc;
    sql__bind_i64(st, 1, ship, &rc);
    if (!rc)
        rc = ot_sql_step(st, &row);
    if (!rc && row) {
        struct ot_leg legs[OT_LEGS_MAX];
        size_t n = 0;
        char why[160];
        const char *name = NULL;
        if (!ot_legs_parse_text(ot_sql_text(st, 2), legs, &n, why, sizeof why) && n) {
            if ((size_t)place / 2 < n)
                name = place % 2 ? legs[place / 2].to.name : legs[place / 2].from.name;
        } else {
            name = ot_sql_text(st, place ? 1 : 0);
        }
        snprintf(out, len, "%s", name ? name : "");
    }
    ot_sql_reset(st);
    return rc;
}

static void message(const struct rules_progress *p, const char *place, char *out, size_t len)
{
    const char *k = p->kind;
    if (!strcmp(k, "departed"))
        snprintf(out, len, "departed from %s", place);
    else if (!strcmp(k, "at_airport"))
        snprintf(out, len, "at the airport %s", place);
    else if (!strcmp(k, "airborne"))
        snprintf(out, len, "airborne from %s", place);
    else if (!strcmp(k, "landed"))
        snprintf(out, len, "landed at %s%s", place,
                 p->observed ? "" : " (no position was received in flight)");
    else
        snprintf(out, len, "at %s: confirm the arrival (custody arrived)", place);
}

static char *payload(const struct progress_ctx *x, const struct rules_progress *p,
                     const char *place, const char *at)
{
    char msg[192];
    cJSON *o = cJSON_CreateObject(), *pl, *pos;
    if (!o)
        return NULL;
    message(p, place, msg, sizeof msg);
    cJSON_AddStringToObject(o, "event", "progress");
    cJSON_AddStringToObject(o, "kind", p->kind);
    cJSON_AddStringToObject(o, "container", x->c->name);
    cJSON_AddNumberToObject(o, "shipment_id", (double)x->c->ship_id);
    if (p->leg < 0)
        cJSON_AddNullToObject(o, "leg");
    else
        cJSON_AddNumberToObject(o, "leg", p->leg);
    if ((pl = cJSON_AddObjectToObject(o, "place"))) {
        cJSON_AddStringToObject(pl, "name", place);
        cJSON_AddNumberToObject(pl, "radius_m", p->radius_m);
    }
    cJSON_AddStringToObject(o, "at", at);
    cJSON_AddBoolToObject(o, "late", p->late != 0);
    cJSON_AddBoolToObject(o, "observed", p->observed != 0);
    if ((pos = cJSON_AddObjectToObject(o, "position"))) {
        cJSON_AddNumberToObject(pos, "lat", p->lat);
        cJSON_AddNumberToObject(pos, "lon", p->lon);
        if (p->kmh == p->kmh)
            cJSON_AddNumberToObject(pos, "speed_kmh", p->kmh);
        if (p->alt_m == p->alt_m)
            cJSON_AddNumberToObject(pos, "alt_m", p->alt_m);
    }
    cJSON_AddStringToObject(o, "message", msg);
    char *body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return body;
}

/* InfluxDB point `progress` (Grafana draws them as annotations). */
static void write_line(struct progress_ctx *x, const struct rules_progress *p, const char *place)
{
    struct lineproto *lp = outbox__lines(x->ob);
    char ship[24];
    if (!lp)
        return;
    snprintf(ship, sizeof ship, "%lld", (long long)x->c->ship_id);
    lineproto__begin(lp, "progress");
    lineproto__tag(lp, "container", x->c->name);
    lineproto__tag(lp, "shipment", ship);
    lineproto__tag(lp, "kind", p->kind);
    lineproto__field_int(lp, "leg", p->leg);
    lineproto__field_string(lp, "place", place);
    lineproto__field_bool(lp, "late", p->late != 0);
    lineproto__field_bool(lp, "observed", p->observed != 0);
    lineproto__field_float(lp, "lat", p->lat);
    lineproto__field_float(lp, "lon", p->lon);
    if (lineproto__end(lp, p->at))
        outbox__count(x->ob, "influx", "unencodable", 1);
}

static void on_progress(void *vctx, const struct rules_progress *p)
{
    struct progress_ctx *x = vctx;
    struct alarms_ctr *c = x->c;
    struct ot_sql_stmt *st;
    char place[129], at[32];
    int64_t n = 0;
    enum ot_err rc;
    if (x->rc)
        return; /* an earlier write failed: the transaction is lost anyway */
    if ((rc = place_name(x->a, c->ship_id, p->place, place, sizeof place)) ||
        (rc = ot_sql_prepare_cached(x->a->db,
                                    "INSERT INTO progress(shipment_id,kind,leg,happened_at,late,"
                                    "place,lat,lon,created_at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)"
                                    " ON CONFLICT (shipment_id,kind,leg) DO NOTHING",
                                    &st))) {
        x->rc = rc;
        return;
    }
    sql__bind_i64(st, 1, c->ship_id, &rc);
    sql__bind_txt(st, 2, p->kind, &rc);
    sql__bind_i64(st, 3, p->leg, &rc);
    sql__bind_i64(st, 4, p->at, &rc);
    sql__bind_i64(st, 5, p->late != 0, &rc);
    sql__bind_txt(st, 6, place, &rc);
    sql__bind_dbl(st, 7, p->lat, &rc);
    sql__bind_dbl(st, 8, p->lon, &rc);
    sql__bind_i64(st, 9, x->now, &rc);
    if ((rc = sql__run(st, rc, &n))) {
        ot_error("progress not stored, the batch is rolled back container=%s shipment_id=%lld "
                 "kind=%s database=%s error=%s",
                 c->name, (long long)c->ship_id, p->kind, ot_sql_name(x->a->db), ot_strerror(rc));
        x->rc = rc;
        return;
    }
    if (!n)
        return; /* reported before (by this process before a restart, or another) */
    ot_time_format_iso(p->at, at, sizeof at);
    char *body = payload(x, p, place, at);
    if (!body) {
        x->rc = OT_ERR_NOMEM;
        return;
    }
    if ((x->rc = feed__add(x->a->feed, "progress", c->ship_id, c->name, body, x->now))) {
        cJSON_free(body);
        return;
    }
    outbox__hook_kind(x->ob, "progress", body); /* takes it */
    write_line(x, p, place);
    outbox__count(x->ob, "progress", p->kind, 1);
    ot_info("progress container=%s shipment_id=%lld kind=%s leg=%d at=%s late=%d observed=%d",
            c->name, (long long)c->ship_id, p->kind, p->leg, at, p->late != 0, p->observed != 0);
}

enum ot_err progress__on_reading(struct alarms *a, struct alarms_ctr *c, const struct ot_reading *r,
                                 int late, int64_t now, struct outbox *ob)
{
    struct progress_ctx x = {a, c, now, ob, OT_OK};
    rules_progress_on_reading(c->rules, &c->rsh, r, late, on_progress, &x);
    return x.rc;
}
