/* shipments_write.c - changing shipments: create (POST /api/v1/shipments,
 * one open shipment per container), status change (PATCH, the transitions
 * of docs/api.md) and closing or discarding, which first seals the custody
 * trail with a ledger note. Every change writes its events row and audit
 * row in the same transaction; api__shipment_set_status is shared with the
 * custody trail (custody.c). */
#include "api.h"

#include <stdio.h>
#include <string.h>

#include "ot_ledger.h"
#include "ot_log.h"
#include "ot_preservation.h"
#include "ot_time.h"
#include "ot_trail.h"

/* Commits or rolls back; replies 500 on a failed commit. 0 on success. */
static int finish_tx(struct api_req *r, struct api_db *d, int ok)
{
    if (ok && api__db_exec(d, "COMMIT") == OT_OK)
        return 0;
    api__db_exec(d, "ROLLBACK");
    if (ok)
        api__reply_error(r, 500, "internal", "database commit failed");
    return -1;
}

void api__h_ship_create(struct api_req *r)
{
    struct api_shipment_in in;
    char field[64], msg[256];
    cJSON *body = api__body_json(r);
    if (!body)
        return;
    if (api__shipment_parse(body, ot_time_now_ms(), r->ctx->cfg.clock_skew_min * 60000, &in, field,
                            sizeof field, msg, sizeof msg)) {
        cJSON_Delete(body);
        api__reply_error(r, 400, "invalid_field", "%s", msg);
        return;
    }
    cJSON_Delete(body);
    if (!r->ctx->pres || !ot_preservation_find(r->ctx->pres, in.profile)) {
        api__reply_error(r, 400, "invalid_field",
                         "profile: %s is not a preservation profile (GET /api/v1/profiles)",
                         in.profile);
        return;
    }
    struct api_db *d = api__req_db(r);
    if (api__req_begin(r))
        return;
    sqlite3_stmt *st = api__stmt(d, ST_SHIP_OPEN_FOR_CONTAINER);
    if (!st)
        goto fail;
    sqlite3_bind_text(st, 1, in.container, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        long long other = sqlite3_column_int64(st, 0);
        sqlite3_reset(st);
        api__db_exec(d, "ROLLBACK");
        api__reply_error(r, 409, "conflict", "container: %s already has open shipment %lld",
                         in.container, other);
        return;
    }
    sqlite3_reset(st);
    st = api__stmt(d, ST_SHIP_INSERT);
    if (!st)
        goto fail;
    int64_t now = ot_time_now_ms();
    sqlite3_bind_text(st, 1, in.container, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, in.profile, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, in.donation_code, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, in.cross_clamp_at);
    sqlite3_bind_text(st, 5, in.origin.name, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 6, in.origin.lat);
    sqlite3_bind_double(st, 7, in.origin.lon);
    sqlite3_bind_text(st, 8, in.destination.name, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 9, in.destination.lat);
    sqlite3_bind_double(st, 10, in.destination.lon);
    sqlite3_bind_text(st, 11, in.mode, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 12, now);
    sqlite3_bind_text(st, 13, r->who.name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        int ext = sqlite3_extended_errcode(d->db);
        sqlite3_reset(st);
        api__db_exec(d, "ROLLBACK");
        if ((ext & 0xff) == SQLITE_CONSTRAINT)
            api__reply_error(r, 409, "conflict", "container: %s already has an open shipment",
                             in.container);
        else
            api__reply_error(r, 500, "internal", "database insert failed");
        return;
    }
    sqlite3_reset(st);
    int64_t id = sqlite3_last_insert_rowid(d->db);
    char target[32];
    snprintf(target, sizeof target, "shipment/%lld", (long long)id);
    cJSON *ship = api__shipment_json(r->ctx, d, id);
    cJSON *ev = cJSON_CreateObject();
    cJSON *audit = cJSON_CreateObject();
    int ok = ship && ev && audit;
    if (ok) {
        cJSON_AddStringToObject(ev, "change", "created");
        cJSON_AddItemToObject(ev, "shipment", cJSON_Duplicate(ship, 1));
        cJSON_AddStringToObject(audit, "container", in.container);
        cJSON_AddStringToObject(audit, "profile", in.profile);
        cJSON_AddStringToObject(audit, "mode", in.mode);
        ok = api__event(d, "shipment", id, in.container, ev) == OT_OK &&
             api__audit(d, &r->who, "shipment.create", target, audit) == OT_OK;
    }
    cJSON_Delete(ev);
    cJSON_Delete(audit);
    if (finish_tx(r, d, ok)) {
        cJSON_Delete(ship);
        if (!r->responded)
            api__reply_error(r, 500, "internal", "could not record the shipment");
        return;
    }
    ot_info("shipment created id=%lld container=%s profile=%s by=%s", (long long)id, in.container,
            in.profile, r->who.name);
    api__reply_json(r, 201, ship);
    return;
fail:
    api__db_exec(d, "ROLLBACK");
    api__reply_error(r, 500, "internal", "database unavailable");
}

/* Sets the status inside the caller's transaction and records the event and
 * the audit row. 0 on success; -1 if the status changed under us. */
int api__shipment_set_status(struct api_req *r, struct api_db *d, int64_t id, const char *container,
                             const char *from, const char *to, const char *why)
{
    char target[32];
    sqlite3_stmt *st = api__stmt(d, ST_SHIP_SET_STATUS);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, ot_time_now_ms());
    sqlite3_bind_text(st, 4, from, -1, SQLITE_STATIC);
    int s = sqlite3_step(st);
    sqlite3_reset(st);
    if (s != SQLITE_DONE || sqlite3_changes(d->db) != 1)
        return -1;
    snprintf(target, sizeof target, "shipment/%lld", (long long)id);
    cJSON *ev = cJSON_CreateObject();
    cJSON *au = cJSON_CreateObject();
    int ok = ev && au;
    if (ok) {
        cJSON_AddStringToObject(ev, "change", "status");
        api__add_num(ev, "id", (double)id);
        cJSON_AddStringToObject(ev, "container", container);
        cJSON_AddStringToObject(ev, "from", from);
        cJSON_AddStringToObject(ev, "status", to);
        cJSON_AddStringToObject(au, "from", from);
        cJSON_AddStringToObject(au, "to", to);
        if (why && *why)
            cJSON_AddStringToObject(au, "comment", why);
        ok = api__event(d, "shipment", id, container, ev) == OT_OK &&
             api__audit(d, &r->who, "shipment.status", target, au) == OT_OK;
    }
    cJSON_Delete(ev);
    cJSON_Delete(au);
    if (ok)
        ot_info("shipment status id=%lld from=%s to=%s by=%s", (long long)id, from, to,
                r->who.name);
    return ok ? 0 : -1;
}

/* Closing or discarding ends the trail: first seal it with a ledger `note`
 * entry, so the readings since the last custody event are covered by a hash
 * too (the ledger refuses entries on a closed shipment afterwards). Runs in
 * the request's transaction, so the seal and the status change commit
 * together. 0 when sealed; otherwise the reply has been sent (roll back). */
static int seal_trail(struct api_req *r, struct api_db *d, const char *to, const char *comment)
{
    char status[16], why[256] = "", text[1100];
    cJSON *cur = api__shipment_load(r, d, r->path_id, NULL, 0, status, sizeof status);
    if (!cur)
        return -1;
    cJSON_Delete(cur);
    if (!ot_trail_transition_ok(status, to)) {
        api__reply_error(r, 409, "conflict", "status: cannot change from %s to %s", status, to);
        return -1;
    }
    snprintf(text, sizeof text, "shipment %s%s%s", to, comment ? ": " : "", comment ? comment : "");
    struct ot_custody_input ci = {
        .type = "note",
        .actor_name = r->who.name,
        .actor_role = api__role_name(r->who.role),
        .comment = text,
        .ts = ot_time_now_ms(),
    };
    enum ot_err rc = ot_ledger_append(d->sql, r->ctx->key, r->path_id, &ci, NULL, why, sizeof why);
    if (rc) {
        api__reply_error(r, rc == OT_ERR_CONFLICT ? 409 : 500,
                         rc == OT_ERR_CONFLICT ? "conflict" : "internal",
                         "could not seal the custody trail: %s", why[0] ? why : ot_strerror(rc));
        return -1;
    }
    return 0;
}

void api__h_ship_patch(struct api_req *r)
{
    char container[65], status[16];
    cJSON *body = api__body_json(r);
    if (!body)
        return;
    if (api__body_check(r, body, (const char *const[]){"status", "comment", NULL})) {
        cJSON_Delete(body);
        return;
    }
    const cJSON *to = cJSON_GetObjectItemCaseSensitive(body, "status");
    const cJSON *comment = cJSON_GetObjectItemCaseSensitive(body, "comment");
    if (!cJSON_IsString(to) ||
        (strcmp(to->valuestring, "in_transit") && strcmp(to->valuestring, "delivered") &&
         strcmp(to->valuestring, "closed") && strcmp(to->valuestring, "discarded"))) {
        api__reply_error(r, 400, "invalid_field",
                         "status: expected in_transit, delivered, closed or discarded");
        cJSON_Delete(body);
        return;
    }
    if (comment && !cJSON_IsNull(comment) &&
        (!cJSON_IsString(comment) || !api__text_valid(comment->valuestring, 1000))) {
        api__reply_error(r, 400, "invalid_field",
                         "comment: expected a string of at most 1000 printable characters");
        cJSON_Delete(body);
        return;
    }
    struct api_db *d = api__req_db(r);
    if (api__req_begin(r)) {
        cJSON_Delete(body);
        return;
    }
    if ((!strcmp(to->valuestring, "closed") || !strcmp(to->valuestring, "discarded")) &&
        seal_trail(r, d, to->valuestring, cJSON_IsString(comment) ? comment->valuestring : NULL)) {
        api__db_exec(d, "ROLLBACK");
        cJSON_Delete(body);
        return;
    }
    cJSON *cur =
        api__shipment_load(r, d, r->path_id, container, sizeof container, status, sizeof status);
    if (!cur) {
        api__db_exec(d, "ROLLBACK");
        cJSON_Delete(body);
        return;
    }
    cJSON_Delete(cur);
    if (!ot_trail_transition_ok(status, to->valuestring)) {
        api__db_exec(d, "ROLLBACK");
        api__reply_error(r, 409, "conflict", "status: cannot change from %s to %s", status,
                         to->valuestring);
        cJSON_Delete(body);
        return;
    }
    int ok = api__shipment_set_status(r, d, r->path_id, container, status, to->valuestring,
                                      cJSON_IsString(comment) ? comment->valuestring : NULL) == 0;
    cJSON_Delete(body);
    if (finish_tx(r, d, ok)) {
        if (!r->responded)
            api__reply_error(r, 500, "internal", "could not change the status");
        return;
    }
    cJSON *o = api__shipment_json(r->ctx, d, r->path_id);
    if (!o)
        api__reply_error(r, 500, "internal", "shipment vanished");
    else
        api__reply_json(r, 200, o);
}
