/* alarms.c - alarms of a shipment (GET /api/v1/shipments/{id}/alarms) and
 * their acknowledgement (POST /api/v1/alarms/{id}/ack: alarm state, event
 * and audit row in one transaction). The collector raises and clears
 * alarms; the API only lists and acknowledges them. */
#include "api.h"

#include <stdio.h>
#include <string.h>

#include "ot_log.h"
#include "ot_time.h"

/* Alarm object from an ST_ALARMS_LIST/ST_ALARM_GET row (also the cards' list). */
cJSON *api__alarm_json(const struct ot_sql_stmt *st)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    api__add_num(o, "id", (double)ot_sql_int64(st, 0));
    api__add_text(o, "type", st, 1);
    api__add_text(o, "severity", st, 2);
    api__add_text(o, "state", st, 3);
    api__add_iso(o, "raised_at", st, 4);
    api__add_iso(o, "cleared_at", st, 5);
    api__add_iso(o, "acked_at", st, 6);
    api__add_text(o, "acked_by", st, 7);
    api__add_text(o, "ack_comment", st, 8);
    api__add_iso(o, "escalated_at", st, 9);
    cJSON_AddBoolToObject(o, "late", ot_sql_int64(st, 10) != 0);
    api__add_text(o, "message", st, 11);
    if (ot_sql_is_null(st, 12))
        cJSON_AddNullToObject(o, "value");
    else
        api__add_num(o, "value", ot_sql_double(st, 12));
    api__add_text(o, "container", st, 13);
    if (ot_sql_is_null(st, 14))
        cJSON_AddNullToObject(o, "shipment_id");
    else
        api__add_num(o, "shipment_id", (double)ot_sql_int64(st, 14));
    return o;
}

static cJSON *alarm_page_row(const struct ot_sql_stmt *st, void *arg)
{
    *(int64_t *)arg = ot_sql_int64(st, 0);
    return api__alarm_json(st);
}

void api__h_alarms(struct api_req *r)
{
    static const char *const known[] = {"state", "cursor", "limit", NULL};
    int64_t limit, after = 0, unused;
    char next[32];
    if (api__query_check(r, known))
        return;
    const char *state = api__query(r, "state");
    if (state && strcmp(state, "raised") && strcmp(state, "acknowledged") &&
        strcmp(state, "cleared")) {
        api__reply_error(r, 400, "invalid_parameter",
                         "state: expected raised, acknowledged or cleared");
        return;
    }
    if (api__page_args(r, API_LIST_DEFAULT, API_LIST_MAX, &limit, &after, &unused) < 0)
        return;
    struct api_db *d = api__req_db(r);
    cJSON *ship = api__shipment_load(r, d, r->path_id, NULL, 0, NULL, 0);
    if (!ship)
        return;
    cJSON_Delete(ship);
    cJSON *items = cJSON_CreateArray();
    struct ot_sql_stmt *st = api__stmt(d, ST_ALARMS_LIST);
    if (!items || !st || ot_sql_bind_int64(st, 1, r->path_id) || ot_sql_bind_int64(st, 2, after) ||
        ot_sql_bind_text(st, 3, state, -1) || ot_sql_bind_int64(st, 4, limit + 1)) {
        cJSON_Delete(items);
        api__reply_error(r, 500, "internal", "database unavailable");
        return;
    }
    int64_t last = 0;
    int more;
    if (api__page_fill(r, st, limit, items, &more, alarm_page_row, &last))
        return;
    snprintf(next, sizeof next, "%lld", (long long)last);
    api__reply_json(r, 200, api__page(items, more ? next : NULL));
}

/* The alarm as JSON in *out (NULL when there is no such alarm); -1 on a
 * database failure, 0 otherwise. */
static int alarm_load(struct api_db *d, int64_t id, cJSON **out)
{
    int row = 0;
    *out = NULL;
    struct ot_sql_stmt *st = api__stmt(d, ST_ALARM_GET);
    if (!st || ot_sql_bind_int64(st, 1, id) || ot_sql_step(st, &row)) {
        if (st)
            ot_sql_reset(st);
        return -1;
    }
    if (row && !(*out = api__alarm_json(st))) {
        ot_sql_reset(st);
        return -1;
    }
    ot_sql_reset(st);
    return 0;
}

void api__h_alarm_ack(struct api_req *r)
{
    char comment[1001] = "", target[32];
    cJSON *alarm = NULL;
    if (r->body_len > 0) {
        cJSON *body = api__body_json(r);
        if (!body)
            return;
        if (api__body_check(r, body, (const char *const[]){"comment", NULL})) {
            cJSON_Delete(body);
            return;
        }
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(body, "comment");
        if (c && !cJSON_IsNull(c)) {
            if (!cJSON_IsString(c) || !api__text_valid(c->valuestring, 1000)) {
                api__reply_error(r, 400, "invalid_field",
                                 "comment: expected a string of at most 1000 printable "
                                 "characters");
                cJSON_Delete(body);
                return;
            }
            snprintf(comment, sizeof comment, "%s", c->valuestring);
        }
        cJSON_Delete(body);
    }
    struct api_db *d = api__req_db(r);
    if (api__req_begin(r))
        return;
    if (alarm_load(d, r->path_id, &alarm))
        goto fail;
    if (!alarm) {
        api__req_rollback(r);
        api__reply_error(r, 404, "not_found", "alarm %lld: no such alarm", (long long)r->path_id);
        return;
    }
    const cJSON *cont = cJSON_GetObjectItemCaseSensitive(alarm, "container");
    const cJSON *acked = cJSON_GetObjectItemCaseSensitive(alarm, "acked_at");
    const cJSON *sid = cJSON_GetObjectItemCaseSensitive(alarm, "shipment_id");
    if (!cJSON_IsString(cont) || !api__may_container(&r->who, cont->valuestring)) {
        api__req_rollback(r);
        cJSON_Delete(alarm);
        api__reply_error(r, 403, "forbidden", "alarm %lld: its container is not on this crew token",
                         (long long)r->path_id);
        return;
    }
    char who[160], container[65];
    int64_t ship_id = cJSON_IsNumber(sid) ? (int64_t)sid->valuedouble : 0;
    int row;
    snprintf(container, sizeof container, "%s", cont->valuestring);
    snprintf(who, sizeof who, "%s (%s)", r->who.name, api__role_name(r->who.role));
    int was_acked = !cJSON_IsNull(acked);
    cJSON_Delete(alarm);
    alarm = NULL;
    /* acked_at IS NULL in the UPDATE decides, not the read above: of two
     * acknowledgements racing (two API processes), one changes the row */
    struct ot_sql_stmt *st = was_acked ? NULL : api__stmt(d, ST_ALARM_ACK);
    if (!was_acked &&
        (!st || ot_sql_bind_int64(st, 1, r->path_id) ||
         ot_sql_bind_int64(st, 2, ot_time_now_ms()) || ot_sql_bind_text(st, 3, who, -1) ||
         ot_sql_bind_text(st, 4, comment[0] ? comment : NULL, -1) || ot_sql_step(st, &row))) {
        if (st)
            ot_sql_reset(st);
        goto fail;
    }
    int64_t changed = st ? ot_sql_changes(st) : 0;
    if (st)
        ot_sql_reset(st);
    if (changed != 1) {
        api__req_rollback(r);
        api__reply_error(r, 409, "conflict", "alarm %lld: already acknowledged",
                         (long long)r->path_id);
        return;
    }
    if (alarm_load(d, r->path_id, &alarm) || !alarm)
        goto fail;
    cJSON *ev = cJSON_CreateObject();
    cJSON *au = cJSON_CreateObject();
    int ok = ev && au;
    if (ok) {
        snprintf(target, sizeof target, "alarm/%lld", (long long)r->path_id);
        cJSON_AddStringToObject(ev, "change", "acknowledged");
        cJSON_AddItemToObject(ev, "alarm", cJSON_Duplicate(alarm, 1));
        if (comment[0])
            cJSON_AddStringToObject(au, "comment", comment);
        ok = api__event(d, "alarm", ship_id, container, ev) == OT_OK &&
             api__audit(d, &r->who, "alarm.ack", target, au) == OT_OK;
    }
    cJSON_Delete(ev);
    cJSON_Delete(au);
    if (!ok)
        goto fail;
    if (api__req_commit(r)) {
        cJSON_Delete(alarm);
        return;
    }
    ot_info("alarm acknowledged id=%lld by=%s", (long long)r->path_id, r->who.name);
    api__reply_json(r, 200, alarm);
    return;
fail:
    cJSON_Delete(alarm);
    api__req_rollback(r);
    api__reply_error(r, 500, "internal", "could not acknowledge the alarm");
}
