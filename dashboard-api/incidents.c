/* incidents.c - incidents of the internal control (SPEC v1.1 "Incidents"):
 * GET /api/v1/incidents?state=&shipment= (coordinators, auditors),
 * POST /api/v1/incidents (coordinator: a complaint or any event by hand),
 * PATCH /api/v1/incidents/{id} (coordinator: owner, answer, state).
 *
 * An incident is due five calendar days after it opened (the internal
 * control service's deadline for an answer): due_at = opened_at + 5 x 24 h.
 * `overdue` is computed at read time against the server clock: an open
 * incident whose due_at has passed. States: open -> answered (with an
 * answer) -> closed; open -> closed. Automatic incidents carry a `source`
 * (what opened them, unique), so an event opens at most one. */
#include "api.h"

#include <stdio.h>
#include <string.h>

#include "ot_log.h"
#include "ot_parse.h"
#include "ot_time.h"

enum {
    IC_ID,
    IC_SHIP,
    IC_KIND,
    IC_OPENED,
    IC_DUE,
    IC_STATE,
    IC_OWNER,
    IC_ANSWER,
    IC_ANSWERED,
    IC_CLOSED,
    IC_DETAIL,
    IC_BY
};

static const char *const kinds[] = {
    "complaint", "temp_excursion",   "lost_readings", "identity_mismatch",
    "discarded", "arrived_too_late", "radio_silence", NULL};

enum ot_err api__incident_open(struct api_db *d, int64_t shipment_id, const char *kind,
                               const char *source, const char *detail, int64_t opened_at,
                               const char *by, int64_t *id)
{
    int row = 0;
    *id = 0;
    struct ot_sql_stmt *st = api__stmt(d, ST_INCIDENT_INSERT);
    if (!st)
        return OT_ERR_IO;
    enum ot_err rc;
    if (!(rc = shipment_id > 0 ? ot_sql_bind_int64(st, 1, shipment_id) : ot_sql_bind_null(st, 1)) &&
        !(rc = ot_sql_bind_text(st, 2, kind, -1)) &&
        !(rc = source ? ot_sql_bind_text(st, 3, source, -1) : ot_sql_bind_null(st, 3)) &&
        !(rc = detail && *detail ? ot_sql_bind_text(st, 4, detail, -1) : ot_sql_bind_null(st, 4)) &&
        !(rc = ot_sql_bind_int64(st, 5, opened_at)) &&
        !(rc = ot_sql_bind_int64(st, 6, opened_at + API_INCIDENT_DUE_MS)) &&
        !(rc = ot_sql_bind_text(st, 7, by, -1)) && !(rc = ot_sql_step(st, &row)) && row)
        *id = ot_sql_int64(st, 0);
    ot_sql_reset(st);
    if (!rc && *id)
        ot_info("incident opened id=%lld shipment_id=%lld kind=%s", (long long)*id,
                (long long)shipment_id, kind);
    return rc;
}

static cJSON *incident_row(const struct ot_sql_stmt *st, void *arg)
{
    const int64_t *now = arg;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    const char *state = ot_sql_text(st, IC_STATE);
    api__add_num(o, "id", (double)ot_sql_int64(st, IC_ID));
    if (ot_sql_is_null(st, IC_SHIP))
        cJSON_AddNullToObject(o, "shipment_id");
    else
        api__add_num(o, "shipment_id", (double)ot_sql_int64(st, IC_SHIP));
    api__add_text(o, "kind", st, IC_KIND);
    api__add_iso(o, "opened_at", st, IC_OPENED);
    api__add_iso(o, "due_at", st, IC_DUE);
    api__add_text(o, "state", st, IC_STATE);
    api__add_text(o, "owner", st, IC_OWNER);
    api__add_text(o, "answer", st, IC_ANSWER);
    api__add_iso(o, "answered_at", st, IC_ANSWERED);
    api__add_iso(o, "closed_at", st, IC_CLOSED);
    api__add_text(o, "detail", st, IC_DETAIL);
    api__add_text(o, "opened_by", st, IC_BY);
    cJSON_AddBoolToObject(o, "overdue",
                          state && !strcmp(state, "open") && ot_sql_int64(st, IC_DUE) < *now);
    return o;
}

static int state_valid(const char *s)
{
    return !strcmp(s, "open") || !strcmp(s, "answered") || !strcmp(s, "closed");
}

void api__h_incident_list(struct api_req *r)
{
    static const char *const known[] = {"state", "shipment", "cursor", "limit", NULL};
    int64_t limit, after = 0, unused, ship = 0;
    char next[32];
    if (api__query_check(r, known))
        return;
    const char *state = api__query(r, "state");
    const char *sq = api__query(r, "shipment");
    if (state && !state_valid(state)) {
        api__reply_error(r, 400, "invalid_parameter", "state: expected open, answered or closed");
        return;
    }
    if (sq && ot_parse_i64(sq, 1, INT64_MAX, &ship)) {
        api__reply_error(r, 400, "invalid_parameter", "shipment: expected a shipment id");
        return;
    }
    if (api__page_args(r, API_LIST_DEFAULT, API_LIST_MAX, &limit, &after, &unused) < 0)
        return;
    struct ot_sql_stmt *st = api__stmt(api__req_db(r), ST_INCIDENT_LIST);
    cJSON *items = cJSON_CreateArray();
    if (!st || !items || ot_sql_bind_text(st, 1, state, -1) ||
        (ship ? ot_sql_bind_int64(st, 2, ship) : ot_sql_bind_null(st, 2)) ||
        ot_sql_bind_int64(st, 3, after) || ot_sql_bind_int64(st, 4, limit + 1)) {
        if (st)
            ot_sql_reset(st);
        cJSON_Delete(items);
        api__reply_error(r, 500, "internal", "database unavailable");
        return;
    }
    int64_t now = ot_time_now_ms();
    int more;
    if (api__page_fill(r, st, limit, items, &more, incident_row, &now))
        return;
    int n = cJSON_GetArraySize(items);
    const cJSON *last =
        n ? cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(items, n - 1), "id") : NULL;
    snprintf(next, sizeof next, "%s", last && last->valuestring ? last->valuestring : "0");
    if (last && cJSON_IsNumber(last))
        snprintf(next, sizeof next, "%lld", (long long)last->valuedouble);
    cJSON *doc = api__page(items, more ? next : NULL);
    if (!doc) {
        api__reply_error(r, 500, "internal", "out of memory");
        return;
    }
    api__reply_json(r, 200, doc);
}

static int reply_incident(struct api_req *r, int64_t id, unsigned status)
{
    int row = 0;
    int64_t now = ot_time_now_ms();
    struct ot_sql_stmt *st = api__stmt(api__req_db(r), ST_INCIDENT_GET);
    cJSON *o = NULL;
    if (st && !ot_sql_bind_int64(st, 1, id) && !ot_sql_step(st, &row) && row)
        o = incident_row(st, &now);
    if (st)
        ot_sql_reset(st);
    if (!o) {
        api__reply_error(r, row ? 500 : 404, row ? "internal" : "not_found", "incident %lld: %s",
                         (long long)id, row ? "cannot be read" : "no such incident");
        return -1;
    }
    api__reply_json(r, status, o);
    return 0;
}

void api__h_incident_post(struct api_req *r)
{
    static const char *const known[] = {"shipment_id", "kind", "detail", NULL};
    cJSON *body = api__body_json(r);
    if (!body)
        return;
    if (api__body_check(r, body, known)) {
        cJSON_Delete(body);
        return;
    }
    const cJSON *sid = cJSON_GetObjectItemCaseSensitive(body, "shipment_id");
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(body, "kind");
    const cJSON *detail = cJSON_GetObjectItemCaseSensitive(body, "detail");
    const char *k = cJSON_IsString(kind) ? kind->valuestring : kind ? NULL : "complaint";
    int ok_kind = 0;
    for (const char *const *p = kinds; k && *p; p++)
        ok_kind |= !strcmp(k, *p);
    int64_t ship = 0, id = 0;
    if (sid && !cJSON_IsNull(sid)) {
        if (!cJSON_IsNumber(sid) || sid->valuedouble < 1 || sid->valuedouble > 9e15) {
            cJSON_Delete(body);
            api__reply_error(r, 400, "invalid_field", "shipment_id: expected a shipment id");
            return;
        }
        ship = (int64_t)sid->valuedouble;
    }
    if (!ok_kind) {
        cJSON_Delete(body);
        api__reply_error(r, 400, "invalid_field",
                         "kind: expected complaint, temp_excursion, lost_readings, "
                         "identity_mismatch, discarded, arrived_too_late or radio_silence");
        return;
    }
    if (!cJSON_IsString(detail) || !detail->valuestring[0] ||
        !api__text_valid(detail->valuestring, 1000)) {
        cJSON_Delete(body);
        api__reply_error(r, 400, "invalid_field",
                         "detail: required, at most 1000 printable characters (no patient "
                         "identity)");
        return;
    }
    struct api_db *d = api__req_db(r);
    if (ship) {
        cJSON *s = api__shipment_load(r, d, ship, NULL, 0, NULL, 0);
        if (!s) {
            cJSON_Delete(body);
            return;
        }
        cJSON_Delete(s);
    }
    if (api__req_begin(r)) {
        cJSON_Delete(body);
        return;
    }
    char target[32];
    enum ot_err rc = api__incident_open(d, ship, k, NULL, detail->valuestring, ot_time_now_ms(),
                                        r->who.name, &id);
    cJSON *au = cJSON_CreateObject();
    snprintf(target, sizeof target, "incident/%lld", (long long)id);
    if (!rc && au) {
        cJSON_AddStringToObject(au, "kind", k);
        rc = api__audit(d, &r->who, "incident.open", target, au);
    }
    cJSON_Delete(au);
    cJSON_Delete(body);
    if (rc || !id) {
        api__req_rollback(r);
        api__reply_error(r, 500, "internal", "could not open the incident; nothing was written");
        return;
    }
    if (api__req_commit(r))
        return;
    reply_incident(r, id, 201);
}

void api__h_incident_patch(struct api_req *r)
{
    static const char *const known[] = {"state", "owner", "answer", NULL};
    int row = 0;
    cJSON *body = api__body_json(r);
    if (!body)
        return;
    if (api__body_check(r, body, known)) {
        cJSON_Delete(body);
        return;
    }
    const cJSON *state = cJSON_GetObjectItemCaseSensitive(body, "state");
    const cJSON *owner = cJSON_GetObjectItemCaseSensitive(body, "owner");
    const cJSON *answer = cJSON_GetObjectItemCaseSensitive(body, "answer");
    const char *err = NULL;
    if (state && (!cJSON_IsString(state) || !state_valid(state->valuestring)))
        err = "state: expected open, answered or closed";
    else if (owner && (!cJSON_IsString(owner) || !api__text_valid(owner->valuestring, 128)))
        err = "owner: expected a name of at most 128 printable characters";
    else if (answer && (!cJSON_IsString(answer) || !answer->valuestring[0] ||
                        !api__text_valid(answer->valuestring, 2000)))
        err = "answer: expected at most 2000 printable characters (no patient identity)";
    if (err) {
        cJSON_Delete(body);
        api__reply_error(r, 400, "invalid_field", "%s", err);
        return;
    }
    struct api_db *d = api__req_db(r);
    if (api__req_begin(r)) {
        cJSON_Delete(body);
        return;
    }
    /* the current state (the update below is guarded by it) */
    char cur[16] = "";
    int has_answer = 0;
    struct ot_sql_stmt *st = api__stmt(d, ST_INCIDENT_GET);
    if (st && !ot_sql_bind_int64(st, 1, r->path_id) && !ot_sql_step(st, &row) && row) {
        snprintf(cur, sizeof cur, "%s", ot_sql_text(st, IC_STATE));
        has_answer = !ot_sql_is_null(st, IC_ANSWER);
    }
    if (st)
        ot_sql_reset(st);
    const char *to = cJSON_IsString(state) ? state->valuestring : cur;
    if (!row) {
        err = "not_found";
    } else if (!strcmp(cur, "closed")) {
        err = "state: the incident is closed";
    } else if (!strcmp(to, "open") && strcmp(cur, "open")) {
        err = "state: an answered incident is not reopened; open a new one";
    } else if (!strcmp(to, "answered") && !answer && !has_answer) {
        err = "answer: required to answer an incident";
    }
    if (err) {
        api__req_rollback(r);
        cJSON_Delete(body);
        if (!strcmp(err, "not_found"))
            api__reply_error(r, 404, "not_found", "incident %lld: no such incident",
                             (long long)r->path_id);
        else
            api__reply_error(r, 409, "conflict", "%s", err);
        return;
    }
    char target[32];
    snprintf(target, sizeof target, "incident/%lld", (long long)r->path_id);
    st = api__stmt(d, ST_INCIDENT_UPDATE);
    enum ot_err rc = st ? OT_OK : OT_ERR_IO;
    if (!rc && !(rc = ot_sql_bind_int64(st, 1, r->path_id)) &&
        !(rc = ot_sql_bind_text(st, 2, to, -1)) &&
        !(rc = ot_sql_bind_text(st, 3, cJSON_IsString(owner) ? owner->valuestring : NULL, -1)) &&
        !(rc = ot_sql_bind_text(st, 4, cJSON_IsString(answer) ? answer->valuestring : NULL, -1)) &&
        !(rc = ot_sql_bind_int64(st, 5, ot_time_now_ms())) &&
        !(rc = ot_sql_bind_text(st, 6, cur, -1)))
        rc = ot_sql_step(st, &row);
    int64_t n = st && !rc ? ot_sql_changes(st) : 0;
    if (st)
        ot_sql_reset(st);
    cJSON *au = cJSON_CreateObject();
    if (!rc && n == 1 && au) {
        cJSON_AddStringToObject(au, "from", cur);
        cJSON_AddStringToObject(au, "to", to);
        rc = api__audit(d, &r->who, "incident.update", target, au);
    }
    cJSON_Delete(au);
    cJSON_Delete(body);
    if (rc || n != 1) {
        api__req_rollback(r);
        api__reply_error(r, rc ? 500 : 409, rc ? "internal" : "conflict",
                         rc ? "could not update the incident; nothing was written"
                            : "state: changed meanwhile, reload");
        return;
    }
    if (api__req_commit(r))
        return;
    reply_incident(r, r->path_id, 200);
}
