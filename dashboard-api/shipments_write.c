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

/* Binds the legs as stored JSON text (NULL when there are none). */
enum ot_err api__bind_legs(struct ot_sql_stmt *st, int i, const struct ot_leg *legs, size_t n)
{
    if (!n)
        return ot_sql_bind_null(st, i);
    cJSON *arr = ot_legs_json(legs, n);
    char *txt = arr ? cJSON_PrintUnformatted(arr) : NULL;
    cJSON_Delete(arr);
    if (!txt)
        return OT_ERR_NOMEM;
    enum ot_err rc = ot_sql_bind_text(st, i, txt, -1);
    cJSON_free(txt);
    return rc;
}

static enum ot_err bind_opt(struct ot_sql_stmt *st, int i, const char *s)
{
    return *s ? ot_sql_bind_text(st, i, s, -1) : ot_sql_bind_null(st, i);
}

/* The shipment row's values, ?1..?16 of ST_SHIP_INSERT. */
static enum ot_err bind_shipment(struct ot_sql_stmt *st, const struct api_shipment_in *in,
                                 int64_t now, const char *by)
{
    enum ot_err rc;
    if ((rc = api__bind_legs(st, 14, in->legs, in->n_legs)) ||
        (rc = bind_opt(st, 15, in->laterality)) || (rc = bind_opt(st, 16, in->abo)))
        return rc;
    if ((rc = ot_sql_bind_text(st, 1, in->container, -1)) ||
        (rc = ot_sql_bind_text(st, 2, in->profile, -1)) ||
        (rc = ot_sql_bind_text(st, 3, in->donation_code, -1)) ||
        (rc = ot_sql_bind_int64(st, 4, in->cross_clamp_at)) ||
        (rc = ot_sql_bind_text(st, 5, in->origin.name, -1)) ||
        (rc = ot_sql_bind_double(st, 6, in->origin.lat)) ||
        (rc = ot_sql_bind_double(st, 7, in->origin.lon)) ||
        (rc = ot_sql_bind_text(st, 8, in->destination.name, -1)) ||
        (rc = ot_sql_bind_double(st, 9, in->destination.lat)) ||
        (rc = ot_sql_bind_double(st, 10, in->destination.lon)) ||
        (rc = ot_sql_bind_text(st, 11, in->mode, -1)) || (rc = ot_sql_bind_int64(st, 12, now)))
        return rc;
    return ot_sql_bind_text(st, 13, by, -1);
}

/* The open shipment of a container (0: none) in *id; -1 on a database failure. */
static int open_shipment(struct api_db *d, const char *container, int64_t *id)
{
    int row = 0;
    *id = 0;
    struct ot_sql_stmt *st = api__stmt(d, ST_SHIP_OPEN_FOR_CONTAINER);
    if (!st)
        return -1;
    int rc = ot_sql_bind_text(st, 1, container, -1) || ot_sql_step(st, &row) ? -1 : 0;
    if (!rc && row)
        *id = ot_sql_int64(st, 0);
    ot_sql_reset(st);
    return rc;
}

void api__h_ship_create(struct api_req *r)
{
    struct api_shipment_in in;
    char field[64], msg[256], target[32];
    int64_t other, id = 0;
    int row = 0;
    cJSON *ship = NULL;
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
    if (open_shipment(d, in.container, &other))
        goto fail;
    if (other) {
        api__req_rollback(r);
        api__reply_error(r, 409, "conflict", "container: %s already has open shipment %lld",
                         in.container, (long long)other);
        return;
    }
    struct ot_sql_stmt *st = api__stmt(d, ST_SHIP_INSERT);
    if (!st)
        goto fail;
    enum ot_err rc = bind_shipment(st, &in, ot_time_now_ms(), r->who.name);
    if (!rc)
        rc = ot_sql_step(st, &row); /* RETURNING id */
    if (!rc && row)
        id = ot_sql_int64(st, 0);
    ot_sql_reset(st);
    if (rc == OT_ERR_CONFLICT) {
        /* another process opened one between our check and the insert: the
         * unique index on open shipments decides */
        api__req_rollback(r);
        api__reply_error(r, 409, "conflict", "container: %s already has an open shipment",
                         in.container);
        return;
    }
    if (rc || id <= 0)
        goto fail;
    snprintf(target, sizeof target, "shipment/%lld", (long long)id);
    if (api__shipment_json(r->ctx, d, id, &ship) || !ship)
        goto fail;
    cJSON *ev = cJSON_CreateObject();
    cJSON *audit = cJSON_CreateObject();
    int ok = ev && audit;
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
    if (!ok)
        goto fail;
    if (api__req_commit(r)) {
        cJSON_Delete(ship);
        return;
    }
    ot_info("shipment created id=%lld container=%s profile=%s by=%s", (long long)id, in.container,
            in.profile, r->who.name);
    api__reply_json(r, 201, ship);
    return;
fail:
    cJSON_Delete(ship);
    api__req_rollback(r);
    api__reply_error(r, 500, "internal", "could not record the shipment; nothing was written");
}

int api__shipment_lock(struct api_req *r, struct api_db *d, int64_t id)
{
    int row = 0;
    struct ot_sql_stmt *st = api__stmt(d, ST_SHIP_LOCK);
    int rc = !st || ot_sql_bind_int64(st, 1, id) || ot_sql_step(st, &row) ? -1 : 0;
    if (st)
        ot_sql_reset(st);
    if (rc)
        api__reply_error(r, 500, "internal", "cannot lock shipment %lld", (long long)id);
    return rc;
}

/* Sets the status inside the caller's transaction and records the event and
 * the audit row. 0 on success; 1 if the status is no longer `from`; -1 if
 * a write failed (the caller rolls back). */
int api__shipment_set_status(struct api_req *r, struct api_db *d, int64_t id, const char *container,
                             const char *from, const char *to, const char *why)
{
    char target[32];
    int row = 0;
    struct ot_sql_stmt *st = api__stmt(d, ST_SHIP_SET_STATUS);
    if (!st)
        return -1;
    if (ot_sql_bind_int64(st, 1, id) || ot_sql_bind_text(st, 2, to, -1) ||
        ot_sql_bind_int64(st, 3, ot_time_now_ms()) || ot_sql_bind_text(st, 4, from, -1) ||
        ot_sql_step(st, &row)) {
        ot_sql_reset(st);
        return -1;
    }
    int64_t changed = ot_sql_changes(st);
    ot_sql_reset(st);
    if (changed != 1)
        return 1;
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
    if (api__body_check(r, body,
                        (const char *const[]){"status", "comment", "destination", "legs", NULL})) {
        cJSON_Delete(body);
        return;
    }
    int redirect = cJSON_GetObjectItemCaseSensitive(body, "destination") ||
                   cJSON_GetObjectItemCaseSensitive(body, "legs");
    if (redirect && cJSON_GetObjectItemCaseSensitive(body, "status")) {
        api__reply_error(r, 400, "invalid_field",
                         "status: change the status or redirect (destination, legs), not both");
        cJSON_Delete(body);
        return;
    }
    if (redirect) {
        api__ship_redirect(r, body);
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
    const char *why = cJSON_IsString(comment) ? comment->valuestring : NULL;
    cJSON *cur = NULL;
    int set = -1;
    if (api__req_begin(r)) {
        cJSON_Delete(body);
        return;
    }
    /* the row lock first: the status read below stays true until commit */
    if (api__shipment_lock(r, d, r->path_id))
        goto rollback;
    if ((!strcmp(to->valuestring, "closed") || !strcmp(to->valuestring, "discarded")) &&
        seal_trail(r, d, to->valuestring, why))
        goto rollback;
    cur = api__shipment_load(r, d, r->path_id, container, sizeof container, status, sizeof status);
    if (!cur)
        goto rollback;
    if (!ot_trail_transition_ok(status, to->valuestring)) {
        api__reply_error(r, 409, "conflict", "status: cannot change from %s to %s", status,
                         to->valuestring);
        goto rollback;
    }
    set = api__shipment_set_status(r, d, r->path_id, container, status, to->valuestring, why);
    if (!set && !strcmp(to->valuestring, "discarded") &&
        api__custody_incidents(r, d, "discarded", 0, 0))
        goto rollback; /* replied */
    if (set) {
        if (set > 0)
            api__reply_error(r, 409, "conflict", "status: changed meanwhile, reload");
        else
            api__reply_error(r, 500, "internal",
                             "could not change the status; nothing was written");
        goto rollback;
    }
    cJSON_Delete(cur);
    cJSON_Delete(body);
    if (api__req_commit(r))
        return;
    api__reply_shipment_changed(r, d);
    return;
rollback:
    api__req_rollback(r);
    cJSON_Delete(cur);
    cJSON_Delete(body);
}
