/* shipments_redirect.c - a redirect (SPEC v1.1): PATCH /api/v1/shipments/{id}
 * with `destination` and/or `legs` (coordinator) while the shipment is on
 * its way. A new destination is a custody ledger entry `redirected` (from:
 * the old destination, to: the new one, both as "name (lat, lon)"), so it
 * is hash-chained and verified with the rest of the trail; a new plan to
 * the same destination is a ledger `note`. The stored ETA is voided in the
 * same transaction: the collector projects the new one on its next tick
 * (within a second or two), and the API's own estimate stands in till then.
 * Entry, row, event and audit commit together or not at all. */
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ot_ledger.h"
#include "ot_log.h"
#include "ot_time.h"
#include "ot_trail.h"

static void place_text(char *buf, size_t len, const char *name, double lat, double lon)
{
    snprintf(buf, len, "%.128s (%.4f, %.4f)", name, lat, lon);
}

/* A number of the shipment object (api__add_num writes raw numbers). */
static int num(const cJSON *v, double *out)
{
    char *end = NULL;
    if (cJSON_IsNumber(v)) {
        *out = v->valuedouble;
        return 0;
    }
    if (!cJSON_IsRaw(v) || !v->valuestring)
        return -1;
    *out = strtod(v->valuestring, &end);
    return end && end != v->valuestring && *end == '\0' ? 0 : -1;
}

/* The current destination from the shipment object. 0, or -1. */
static int current_dest(const cJSON *ship, struct api_place *out)
{
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(ship, "destination");
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(d, "name");
    const cJSON *lat = cJSON_GetObjectItemCaseSensitive(d, "lat");
    const cJSON *lon = cJSON_GetObjectItemCaseSensitive(d, "lon");
    memset(out, 0, sizeof *out);
    if (num(lat, &out->lat) || num(lon, &out->lon))
        return -1;
    snprintf(out->name, sizeof out->name, "%s", cJSON_IsString(n) ? n->valuestring : "");
    return 0;
}

static int record(struct api_req *r, struct api_db *d, const char *container,
                  const struct api_place *old, const struct api_redirect_in *in)
{
    char from[200], to[200], text[1000], why[256] = "", target[32];
    int moved =
        in->has_dest && (in->destination.lat != old->lat || in->destination.lon != old->lon ||
                         strcmp(in->destination.name, old->name));
    const struct api_place *dest = in->has_dest ? &in->destination : old;
    place_text(from, sizeof from, old->name, old->lat, old->lon);
    place_text(to, sizeof to, dest->name, dest->lat, dest->lon);
    if (moved)
        snprintf(text, sizeof text, "redirected from %s to %s%s%.500s", from, to,
                 in->comment[0] ? ": " : "", in->comment);
    else
        snprintf(text, sizeof text, "plan changed: %zu legs to %s%s%.500s", in->n_legs, to,
                 in->comment[0] ? ": " : "", in->comment);
    struct ot_custody_input ci = {
        .type = moved ? OT_TRAIL_REDIRECTED : OT_TRAIL_NOTE,
        .actor_name = r->who.name,
        .actor_role = api__role_name(r->who.role),
        .from_party = moved ? from : NULL,
        .to_party = moved ? to : NULL,
        .comment = text,
        .ts = ot_time_now_ms(),
    };
    enum ot_err rc = ot_ledger_append(d->sql, r->ctx->key, r->path_id, &ci, NULL, why, sizeof why);
    if (rc) {
        api__reply_error(r, rc == OT_ERR_CONFLICT ? 409 : 500,
                         rc == OT_ERR_CONFLICT ? "conflict" : "internal",
                         "could not record the redirect in the custody trail: %s",
                         why[0] ? why : ot_strerror(rc));
        return -1;
    }
    int row = 0;
    struct ot_sql_stmt *st = api__stmt(d, ST_SHIP_REDIRECT);
    if (!st || ot_sql_bind_int64(st, 1, r->path_id) || ot_sql_bind_text(st, 2, dest->name, -1) ||
        ot_sql_bind_double(st, 3, dest->lat) || ot_sql_bind_double(st, 4, dest->lon) ||
        api__bind_legs(st, 5, in->legs, in->n_legs) || ot_sql_bind_int64(st, 6, ot_time_now_ms()) ||
        ot_sql_step(st, &row)) {
        if (st)
            ot_sql_reset(st);
        api__reply_error(r, 500, "internal", "could not store the redirect; nothing was written");
        return -1;
    }
    int64_t changed = ot_sql_changes(st);
    ot_sql_reset(st);
    if (changed != 1) {
        api__reply_error(r, 409, "conflict", "status: changed meanwhile, reload");
        return -1;
    }
    snprintf(target, sizeof target, "shipment/%lld", (long long)r->path_id);
    cJSON *ev = cJSON_CreateObject();
    cJSON *au = cJSON_CreateObject();
    int ok = ev && au;
    if (ok) {
        cJSON_AddStringToObject(ev, "change", moved ? "redirected" : "replanned");
        api__add_num(ev, "id", (double)r->path_id);
        cJSON_AddStringToObject(ev, "container", container);
        cJSON_AddStringToObject(ev, "from", from);
        cJSON_AddStringToObject(ev, "to", to);
        cJSON_AddStringToObject(au, "from", from);
        cJSON_AddStringToObject(au, "to", to);
        api__add_num(au, "legs", (double)in->n_legs);
        ok = api__event(d, "shipment", r->path_id, container, ev) == OT_OK &&
             api__audit(d, &r->who, moved ? "shipment.redirect" : "shipment.replan", target, au) ==
                 OT_OK;
    }
    cJSON_Delete(ev);
    cJSON_Delete(au);
    if (!ok) {
        api__reply_error(r, 500, "internal", "could not record the redirect; nothing was written");
        return -1;
    }
    ot_info("shipment %s id=%lld legs=%zu by=%s", moved ? "redirected" : "replanned",
            (long long)r->path_id, in->n_legs, r->who.name);
    return 0;
}

void api__ship_redirect(struct api_req *r, const cJSON *body)
{
    struct api_redirect_in in;
    struct api_place old;
    char container[65], status[16], msg[300];
    if (api__redirect_parse(body, &in, msg, sizeof msg)) {
        api__reply_error(r, 400, "invalid_field", "%s", msg);
        return;
    }
    struct api_db *d = api__req_db(r);
    if (api__req_begin(r))
        return;
    if (api__shipment_lock(r, d, r->path_id))
        goto rollback;
    cJSON *cur =
        api__shipment_load(r, d, r->path_id, container, sizeof container, status, sizeof status);
    if (!cur)
        goto rollback;
    int have_old = current_dest(cur, &old) == 0;
    cJSON_Delete(cur);
    if (!ot_trail_status_is_open(status)) {
        api__reply_error(r, 409, "conflict",
                         "status: shipment %lld is %s: only a shipment on its way is redirected",
                         (long long)r->path_id, status);
        goto rollback;
    }
    if (!have_old && !in.has_dest) {
        api__reply_error(r, 400, "invalid_field",
                         "destination: required (the shipment has no destination yet)");
        goto rollback;
    }
    if (!have_old)
        old = (struct api_place){"(none)", 0, 0};
    if (in.n_legs && api__legs_parse(in.legs_json, in.has_dest ? &in.destination : &old, in.legs,
                                     &in.n_legs, msg, sizeof msg)) {
        api__reply_error(r, 400, "invalid_field", "%s", msg);
        goto rollback;
    }
    if (record(r, d, container, &old, &in))
        goto rollback;
    if (api__req_commit(r))
        return;
    api__reply_shipment_changed(r, d);
    return;
rollback:
    api__req_rollback(r);
}
