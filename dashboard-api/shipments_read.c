/* shipments_read.c - reading shipments: the shipment object, one shipment
 * (GET /api/v1/shipments/{id}) and the list (GET /api/v1/shipments, served
 * from list_cache.c when nothing changed).
 *
 * The shipment object joins the shipment row with its latest reading and
 * its active alarm count in one prepared statement (db.c, SHIP_SELECT;
 * columns named by enum api_ship_col) and adds what the server derives:
 * ischaemia elapsed/remaining against the preservation profile's limit,
 * the viability deadline, and an ETA (the collector's projection when it
 * wrote one, else distance to destination over the current speed). */
#include "ot_geo.h"
#include "api.h"
#include "ot_log.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ot_preservation.h"
#include "ot_reading.h"
#include "ot_time.h"

static double round1(double v)
{
    return round(v * 10.0) / 10.0;
}

static cJSON *place_json(const struct ot_sql_stmt *st, int name, int lat, int lon)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    api__add_text(o, "name", st, name);
    if (!ot_sql_is_null(st, lat)) {
        api__add_num(o, "lat", ot_sql_double(st, lat));
        api__add_num(o, "lon", ot_sql_double(st, lon));
    }
    return o;
}

/* The stored plan, [] without one (a stored plan that no longer parses is
 * logged and shown as []: it was valid when written). */
static cJSON *legs_json(const struct ot_sql_stmt *st)
{
    struct ot_leg legs[OT_LEGS_MAX];
    size_t n = 0;
    char why[160];
    if (ot_legs_parse_text(ot_sql_text(st, SC_LEGS), legs, &n, why, sizeof why)) {
        ot_warn("shipment legs unreadable id=%lld why=\"%s\"", (long long)ot_sql_int64(st, SC_ID),
                why);
        n = 0;
    }
    return ot_legs_json(legs, n);
}

/* the reading columns of a shipment row are laid out as reading_json reads them */
_Static_assert(SC_R_TS == SC_R_SEQ + 1 && SC_R_TEMP_C == SC_R_SEQ + 2 + OT_CH_TEMP &&
                   SC_R_GNSS_FIX == SC_R_SEQ + 2 + OT_CH_GNSS &&
                   SC_R_MISSING == SC_R_SEQ + 2 + OT_CH__COUNT &&
                   SC_R_EXTRA == SC_R_SEQ + 3 + OT_CH__COUNT,
               "SHIP_SELECT reading columns out of reading_json order");

/* The container's radio as its gateway's last state said (SPEC v1.1
 * flight mode) and since when; and the last reading that had a position
 * (the latest one may have none: no fix, or in flight). */
static void radio_json(cJSON *o, const struct ot_sql_stmt *st)
{
    char iso[32];
    int known = !ot_sql_is_null(st, SC_RADIO_ONLINE);
    const char *radio = !known                              ? "offline"
                        : ot_sql_int64(st, SC_RADIO_ONLINE) ? "online"
                        : ot_sql_int64(st, SC_RADIO_FLIGHT) ? "flight"
                                                            : "offline";
    cJSON_AddStringToObject(o, "radio", radio);
    if (known && !ot_sql_is_null(st, SC_RADIO_SINCE))
        cJSON_AddStringToObject(
            o, "radio_since",
            ot_time_format_iso(ot_sql_int64(st, SC_RADIO_SINCE), iso, sizeof iso));
    else
        cJSON_AddNullToObject(o, "radio_since");
    if (ot_sql_is_null(st, SC_POS_TS)) {
        cJSON_AddNullToObject(o, "last_position");
        return;
    }
    cJSON *p = cJSON_AddObjectToObject(o, "last_position");
    if (!p)
        return;
    api__add_num(p, "lat", ot_sql_double(st, SC_POS_LAT));
    api__add_num(p, "lon", ot_sql_double(st, SC_POS_LON));
    cJSON_AddStringToObject(p, "ts",
                            ot_time_format_iso(ot_sql_int64(st, SC_POS_TS), iso, sizeof iso));
}

/* Shipment object from a SHIP_SELECT row (columns: enum api_ship_col). */
static cJSON *shipment_row(struct api_ctx *ctx, const struct ot_sql_stmt *st, int64_t now)
{
    char iso[32];
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    const char *status = ot_sql_text(st, SC_STATUS);
    const char *profile = ot_sql_text(st, SC_PROFILE);
    int64_t clamp = ot_sql_int64(st, SC_CROSS_CLAMP_AT);
    api__add_num(o, "id", (double)ot_sql_int64(st, SC_ID));
    api__add_text(o, "container", st, SC_CONTAINER);
    api__add_text(o, "profile", st, SC_PROFILE);
    api__add_text(o, "donation_code", st, SC_DONATION_CODE);
    api__add_text(o, "status", st, SC_STATUS);
    api__add_iso(o, "cross_clamp_at", st, SC_CROSS_CLAMP_AT);
    cJSON_AddItemToObject(o, "origin",
                          place_json(st, SC_ORIGIN_NAME, SC_ORIGIN_LAT, SC_ORIGIN_LON));
    cJSON_AddItemToObject(o, "destination", place_json(st, SC_DEST_NAME, SC_DEST_LAT, SC_DEST_LON));
    api__add_text(o, "mode", st, SC_MODE);
    api__add_text(o, "laterality", st, SC_LATERALITY);
    api__add_text(o, "abo", st, SC_ABO);
    cJSON_AddItemToObject(o, "legs", legs_json(st));
    api__add_iso(o, "created_at", st, SC_CREATED_AT);
    api__add_text(o, "created_by", st, SC_CREATED_BY);
    api__add_iso(o, "updated_at", st, SC_UPDATED_AT);
    api__add_iso(o, "delivered_at", st, SC_DELIVERED_AT);
    api__add_iso(o, "closed_at", st, SC_CLOSED_AT);

    /* cold ischaemia runs from cross-clamp until reperfusion, else until
     * delivery (or closure) */
    int64_t end = now;
    int ended = !ot_sql_is_null(st, SC_ISCHEMIA_ENDED_AT);
    if (ended)
        end = ot_sql_int64(st, SC_ISCHEMIA_ENDED_AT);
    else if (!ot_sql_is_null(st, SC_DELIVERED_AT))
        end = ot_sql_int64(st, SC_DELIVERED_AT);
    else if (!ot_sql_is_null(st, SC_CLOSED_AT))
        end = ot_sql_int64(st, SC_CLOSED_AT);
    /* a cross-clamp up to clock_skew_min in the future (a clock a little
     * ahead) has not started the clock yet: never a negative elapsed time,
     * never more time remaining than the limit */
    double elapsed = end > clamp ? (double)(end - clamp) / 60000.0 : 0.0;
    const struct ot_preservation *pp =
        ctx->pres && profile ? ot_preservation_find(ctx->pres, profile) : NULL;
    double warn_min = pp ? (double)pp->max_cold_ischemia_min * pp->warn_fraction : 0;
    cJSON *isch = cJSON_AddObjectToObject(o, "ischemia");
    if (isch) {
        api__add_num(isch, "elapsed_min", round1(elapsed));
        api__add_iso(isch, "ended_at", st, SC_ISCHEMIA_ENDED_AT);
        if (ended)
            api__add_num(isch, "total_min", round1(elapsed));
        else
            cJSON_AddNullToObject(isch, "total_min");
        if (pp) {
            api__add_num(isch, "remaining_min",
                         round1((double)pp->max_cold_ischemia_min - elapsed));
            api__add_num(isch, "limit_min", (double)pp->max_cold_ischemia_min);
            api__add_num(isch, "warn_min", round1(warn_min));
        } else {
            cJSON_AddNullToObject(isch, "remaining_min");
            cJSON_AddNullToObject(isch, "limit_min");
            cJSON_AddNullToObject(isch, "warn_min");
        }
    }
    if (pp)
        cJSON_AddStringToObject(
            o, "deadline",
            ot_time_format_iso(clamp + pp->max_cold_ischemia_min * 60000, iso, sizeof iso));
    else
        cJSON_AddNullToObject(o, "deadline");

    int has_latest = !ot_sql_is_null(st, SC_R_SEQ);
    int open = status && (strcmp(status, "created") == 0 || strcmp(status, "in_transit") == 0);
    if (!ot_sql_is_null(st, SC_ETA) && open) {
        api__add_iso(o, "eta", st, SC_ETA);
        cJSON_AddStringToObject(o, "eta_source", "collector");
    } else if (open && has_latest && !ot_sql_is_null(st, SC_R_LAT) &&
               !ot_sql_is_null(st, SC_R_LON) && !ot_sql_is_null(st, SC_R_SPEED_KMH) &&
               !ot_sql_is_null(st, SC_DEST_LAT) && ot_sql_double(st, SC_R_SPEED_KMH) >= 5.0) {
        double km =
            ot_geo_distance_km(ot_sql_double(st, SC_R_LAT), ot_sql_double(st, SC_R_LON),
                               ot_sql_double(st, SC_DEST_LAT), ot_sql_double(st, SC_DEST_LON));
        double hours = km / ot_sql_double(st, SC_R_SPEED_KMH);
        cJSON_AddStringToObject(
            o, "eta", ot_time_format_iso(now + (int64_t)(hours * 3600000.0), iso, sizeof iso));
        cJSON_AddStringToObject(o, "eta_source", "estimate");
    } else {
        cJSON_AddNullToObject(o, "eta");
        cJSON_AddNullToObject(o, "eta_source");
    }
    if (has_latest)
        cJSON_AddItemToObject(o, "latest", api__reading_json(st, SC_R_SEQ));
    else
        cJSON_AddNullToObject(o, "latest");
    radio_json(o, st);
    int64_t active = ot_sql_int64(st, SC_ALARMS_ACTIVE);
    int64_t critical = ot_sql_int64(st, SC_ALARMS_CRITICAL);
    api__add_num(o, "alarms_active", (double)active);
    api__add_num(o, "alarms_critical", (double)critical);
    /* the state the screen shows: what the collector raised (alarms) and
     * the profile's own warning threshold, never a fraction of its own */
    cJSON_AddStringToObject(o, "state",
                            critical > 0 || (pp && !ended && elapsed >= pp->max_cold_ischemia_min)
                                ? "alarm"
                            : active > 0 || (pp && !ended && elapsed >= warn_min) ? "warning"
                                                                                  : "ok");
    if (pp) {
        cJSON *band = cJSON_AddObjectToObject(o, "band");
        if (band) {
            api__add_num(band, "temp_min_c", pp->temp_min_c);
            api__add_num(band, "temp_max_c", pp->temp_max_c);
        }
    } else {
        cJSON_AddNullToObject(o, "band");
    }
    return o;
}

int api__shipment_json(struct api_ctx *ctx, struct api_db *d, int64_t id, cJSON **out)
{
    int row = 0, rc = 0;
    *out = NULL;
    struct ot_sql_stmt *st = api__stmt(d, ST_SHIP_GET);
    if (!st || ot_sql_bind_int64(st, 1, id) || ot_sql_step(st, &row))
        rc = -1;
    else if (row && !(*out = shipment_row(ctx, st, ot_time_now_ms())))
        rc = -1;
    if (st)
        ot_sql_reset(st);
    return rc;
}

cJSON *api__shipment_load(struct api_req *r, struct api_db *d, int64_t id, char *container,
                          size_t clen, char *status, size_t slen)
{
    cJSON *o = NULL;
    if (api__shipment_json(r->ctx, d, id, &o)) {
        api__reply_error(r, 500, "internal", "cannot read shipment %lld", (long long)id);
        return NULL;
    }
    if (!o) {
        api__reply_error(r, 404, "not_found", "shipment %lld: no such shipment", (long long)id);
        return NULL;
    }
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "container");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "status");
    if (!cJSON_IsString(c) || !api__may_container(&r->who, c->valuestring)) {
        cJSON_Delete(o);
        api__reply_error(r, 403, "forbidden",
                         "shipment %lld: its container is not on this crew token", (long long)id);
        return NULL;
    }
    if (container)
        snprintf(container, clen, "%s", c->valuestring);
    if (status)
        snprintf(status, slen, "%s", cJSON_IsString(s) ? s->valuestring : "");
    return o;
}

struct ship_page {
    struct api_ctx *ctx;
    int64_t now, last;
};

static cJSON *ship_page_row(const struct ot_sql_stmt *st, void *arg)
{
    struct ship_page *pg = arg;
    pg->last = ot_sql_int64(st, SC_ID);
    return shipment_row(pg->ctx, st, pg->now);
}

void api__h_ship_list(struct api_req *r)
{
    static const char *const known[] = {"status", "cursor", "limit", "include", NULL};
    static const char *const statuses[] = {"created", "in_transit", "delivered",
                                           "closed",  "discarded",  NULL};
    int64_t limit, after = 0, unused;
    char next[32];
    if (api__query_check(r, known))
        return;
    const char *status = api__query(r, "status");
    int active = 0;
    if (status && strcmp(status, "active") == 0) {
        active = 1;
        status = NULL;
    } else if (status) {
        int ok = 0;
        for (const char *const *s = statuses; *s; s++)
            ok |= strcmp(status, *s) == 0;
        if (!ok) {
            api__reply_error(r, 400, "invalid_parameter",
                             "status: expected active, created, in_transit, delivered, closed "
                             "or discarded");
            return;
        }
    }
    unsigned cards = 0; /* ?include=: what coordinator cards need (shipments_cards.c) */
    if (api__cards_include(api__query(r, "include"), &cards)) {
        api__reply_error(r, 400, "invalid_parameter",
                         "include: expected alarms, spark or both (comma-separated)");
        return;
    }
    if (api__page_args(r, API_LIST_DEFAULT, API_LIST_MAX, &limit, &after, &unused) < 0)
        return;
    char key[API_LIST_CACHE_KEY];
    int n_key = snprintf(key, sizeof key, "%s|%d|%lld|%lld|%u|%s", status ? status : "", active,
                         (long long)after, (long long)limit, cards,
                         r->who.role == API_ROLE_CREW ? r->who.containers_json : "*");
    int cacheable = n_key > 0 && (size_t)n_key < sizeof key;
    int64_t state = r->list_state; /* odd: the change listener vouches for it */
    int64_t event_id = !cacheable || (state & 1) ? -1
                       : r->list_stamp >= 0      ? r->list_stamp /* read with the token */
                                                 : api__list_cache_stamp(api__req_db(r));
    if (cacheable && api__list_cache_get(r, key, state, event_id))
        return; /* with the listener: no pooled connection taken at all */
    struct api_db *d = api__req_db(r);
    struct ot_sql_stmt *st = api__stmt(d, ST_SHIP_LIST);
    cJSON *items = cJSON_CreateArray();
    if (!st || !items || ot_sql_bind_text(st, 1, status, -1) || ot_sql_bind_int64(st, 2, active) ||
        ot_sql_bind_int64(st, 3, after) || ot_sql_bind_int64(st, 4, limit + 1) ||
        api__bind_scope(st, 5, &r->who)) {
        if (st)
            ot_sql_reset(st);
        cJSON_Delete(items);
        api__reply_error(r, 500, "internal", "database unavailable");
        return;
    }
    struct ship_page pg = {r->ctx, ot_time_now_ms(), 0};
    int more;
    if (api__page_fill(r, st, limit, items, &more, ship_page_row, &pg))
        return;
    const struct api_cards_page cpg = {status, active, after, pg.last};
    if (cards && api__cards_add(d, items, cards, &cpg, &r->who)) {
        cJSON_Delete(items);
        api__reply_error(r, 500, "internal", "database query failed"); /* 503 if lost */
        return;
    }
    snprintf(next, sizeof next, "%lld", (long long)pg.last);
    cJSON *doc = api__page(items, more ? next : NULL);
    char *txt = doc ? cJSON_PrintUnformatted(doc) : NULL;
    cJSON_Delete(doc);
    if (!txt) {
        api__reply_error(r, 500, "internal", "out of memory");
        return;
    }
    size_t len = strlen(txt);
    if (cacheable)
        api__list_cache_put(r, key, state, event_id, txt, len);
    api__reply_bytes(r, 200, "application/json", txt, len, NULL);
    cJSON_free(txt);
}

void api__h_ship_get(struct api_req *r)
{
    if (api__query_check(r, (const char *const[]){NULL}))
        return;
    cJSON *o = api__shipment_load(r, api__req_db(r), r->path_id, NULL, 0, NULL, 0);
    if (o)
        api__reply_json(r, 200, o);
}

void api__reply_shipment_changed(struct api_req *r, struct api_db *d)
{
    cJSON *o = NULL;
    if (api__shipment_json(r->ctx, d, r->path_id, &o) || !o)
        api__reply_error(r, 500, "internal", "shipment %lld changed but cannot be read back",
                         (long long)r->path_id);
    else
        api__reply_json(r, 200, o);
}
