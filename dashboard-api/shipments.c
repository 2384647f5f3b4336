/* shipments.c - shipments: list, create, detail, status change, readings
 * history (optionally down-sampled) and alarms.
 *
 * The shipment object joins the shipment row with its latest reading and
 * its active alarm count in one prepared statement (db.c, SHIP_SELECT) and
 * adds what the server derives: ischaemia elapsed/remaining against the
 * preservation profile's limit, the viability deadline, and an ETA (the
 * collector's projection when it wrote one, else distance to destination
 * over the current speed).
 *
 * Paging is keyset-based: a cursor is the last key returned ("id", or
 * "ts.seq" for readings, or the next bucket start for down-sampled
 * readings), so pages stay stable while rows are being inserted. */
#include "http.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ot_ledger.h"
#include "ot_log.h"
#include "ot_preservation.h"
#include "ot_reading.h"
#include "ot_time.h"

#define LIST_DEFAULT 50
#define LIST_MAX 500
#define READINGS_DEFAULT 1000
#define READINGS_MAX 10000

static void add_iso(cJSON *o, const char *key, sqlite3_stmt *st, int col)
{
    char iso[32];
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        cJSON_AddNullToObject(o, key);
    else
        cJSON_AddStringToObject(o, key,
                                ot_time_format_iso(sqlite3_column_int64(st, col), iso, sizeof iso));
}

static void add_text(cJSON *o, const char *key, sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    if (t)
        cJSON_AddStringToObject(o, key, (const char *)t);
    else
        cJSON_AddNullToObject(o, key);
}

/* Adds a number as raw JSON text. cJSON prints every number with
 * "%1.15g", parses it back with sscanf and falls back to "%1.17g": about a
 * microsecond per number, which dominated the uncached shipment list.
 * Integers (ids, seq, ts) are written digit by digit; other values take
 * "%.15g" and are checked with strtod, falling back to "%.17g", so the text
 * still reads back as exactly the stored double. */
static void add_num(cJSON *o, const char *key, double v)
{
    char buf[32];
    if (!isfinite(v)) {
        cJSON_AddNullToObject(o, key);
        return;
    }
    if (v == floor(v) && fabs(v) < 9007199254740992.0) {
        long long n = (long long)v;
        char tmp[24];
        int i = 0, neg = n < 0;
        unsigned long long u = neg ? (unsigned long long)(-n) : (unsigned long long)n;
        do {
            tmp[i++] = (char)('0' + (int)(u % 10));
            u /= 10;
        } while (u);
        int j = 0;
        if (neg)
            buf[j++] = '-';
        while (i)
            buf[j++] = tmp[--i];
        buf[j] = '\0';
    } else {
        snprintf(buf, sizeof buf, "%.15g", v);
        if (strtod(buf, NULL) != v)
            snprintf(buf, sizeof buf, "%.17g", v);
    }
    cJSON_AddRawToObject(o, key, buf);
}

static double round1(double v)
{
    return round(v * 10.0) / 10.0;
}

/* A reading as in the batch: seq, ts, present channels, missing, extras.
 * Columns from `base`: seq, ts, the 12 canonical channels in enum order,
 * missing (JSON array text), extra (JSON object text). */
static cJSON *reading_json(sqlite3_stmt *st, int base)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    add_num(o, "seq", (double)sqlite3_column_int64(st, base));
    add_num(o, "ts", (double)sqlite3_column_int64(st, base + 1));
    for (int ch = 0; ch < OT_CH__COUNT; ch++) {
        int col = base + 2 + ch;
        if (sqlite3_column_type(st, col) == SQLITE_NULL)
            continue;
        if (ot_channels[ch].is_bool)
            cJSON_AddBoolToObject(o, ot_channels[ch].name, sqlite3_column_int(st, col) != 0);
        else
            add_num(o, ot_channels[ch].name, sqlite3_column_double(st, col));
    }
    const char *missing = (const char *)sqlite3_column_text(st, base + 2 + OT_CH__COUNT);
    if (missing) {
        cJSON *m = cJSON_Parse(missing);
        if (cJSON_IsArray(m) && cJSON_GetArraySize(m) > 0)
            cJSON_AddItemToObject(o, "missing", m);
        else
            cJSON_Delete(m);
    }
    const char *extra = (const char *)sqlite3_column_text(st, base + 3 + OT_CH__COUNT);
    if (extra) {
        cJSON *x = cJSON_Parse(extra);
        cJSON *it;
        if (cJSON_IsObject(x)) {
            cJSON_ArrayForEach(it, x)
            {
                if (it->string && !cJSON_GetObjectItemCaseSensitive(o, it->string))
                    cJSON_AddItemToObject(o, it->string, cJSON_Duplicate(it, 1));
            }
        }
        cJSON_Delete(x);
    }
    return o;
}

static cJSON *place_json(sqlite3_stmt *st, int name, int lat, int lon)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    add_text(o, "name", st, name);
    if (sqlite3_column_type(st, lat) != SQLITE_NULL) {
        add_num(o, "lat", sqlite3_column_double(st, lat));
        add_num(o, "lon", sqlite3_column_double(st, lon));
    }
    return o;
}

/* the reading columns of a shipment row are laid out as reading_json reads them */
_Static_assert(SC_R_TS == SC_R_SEQ + 1 && SC_R_TEMP_C == SC_R_SEQ + 2 + OT_CH_TEMP &&
                   SC_R_GNSS_FIX == SC_R_SEQ + 2 + OT_CH_GNSS &&
                   SC_R_MISSING == SC_R_SEQ + 2 + OT_CH__COUNT &&
                   SC_R_EXTRA == SC_R_SEQ + 3 + OT_CH__COUNT,
               "SHIP_SELECT reading columns out of reading_json order");

/* Shipment object from a SHIP_SELECT row (columns: enum api_ship_col). */
static cJSON *shipment_row(struct api_ctx *ctx, sqlite3_stmt *st, int64_t now)
{
    char iso[32];
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    const char *status = (const char *)sqlite3_column_text(st, SC_STATUS);
    const char *profile = (const char *)sqlite3_column_text(st, SC_PROFILE);
    int64_t clamp = sqlite3_column_int64(st, SC_CROSS_CLAMP_AT);
    add_num(o, "id", (double)sqlite3_column_int64(st, SC_ID));
    add_text(o, "container", st, SC_CONTAINER);
    add_text(o, "profile", st, SC_PROFILE);
    add_text(o, "donation_code", st, SC_DONATION_CODE);
    add_text(o, "status", st, SC_STATUS);
    add_iso(o, "cross_clamp_at", st, SC_CROSS_CLAMP_AT);
    cJSON_AddItemToObject(o, "origin",
                          place_json(st, SC_ORIGIN_NAME, SC_ORIGIN_LAT, SC_ORIGIN_LON));
    cJSON_AddItemToObject(o, "destination", place_json(st, SC_DEST_NAME, SC_DEST_LAT, SC_DEST_LON));
    add_text(o, "mode", st, SC_MODE);
    add_iso(o, "created_at", st, SC_CREATED_AT);
    add_text(o, "created_by", st, SC_CREATED_BY);
    add_iso(o, "updated_at", st, SC_UPDATED_AT);
    add_iso(o, "delivered_at", st, SC_DELIVERED_AT);
    add_iso(o, "closed_at", st, SC_CLOSED_AT);

    /* cold ischaemia runs from cross-clamp until delivery (or closure) */
    int64_t end = now;
    if (sqlite3_column_type(st, SC_DELIVERED_AT) != SQLITE_NULL)
        end = sqlite3_column_int64(st, SC_DELIVERED_AT);
    else if (sqlite3_column_type(st, SC_CLOSED_AT) != SQLITE_NULL)
        end = sqlite3_column_int64(st, SC_CLOSED_AT);
    double elapsed = (double)(end - clamp) / 60000.0;
    const struct ot_preservation *pp =
        ctx->pres && profile ? ot_preservation_find(ctx->pres, profile) : NULL;
    cJSON *isch = cJSON_AddObjectToObject(o, "ischemia");
    if (isch) {
        add_num(isch, "elapsed_min", round1(elapsed));
        if (pp) {
            add_num(isch, "remaining_min", round1((double)pp->max_cold_ischemia_min - elapsed));
            add_num(isch, "limit_min", (double)pp->max_cold_ischemia_min);
        } else {
            cJSON_AddNullToObject(isch, "remaining_min");
            cJSON_AddNullToObject(isch, "limit_min");
        }
    }
    if (pp)
        cJSON_AddStringToObject(
            o, "deadline",
            ot_time_format_iso(clamp + pp->max_cold_ischemia_min * 60000, iso, sizeof iso));
    else
        cJSON_AddNullToObject(o, "deadline");

    int has_latest = sqlite3_column_type(st, SC_R_SEQ) != SQLITE_NULL;
    int open = status && (strcmp(status, "created") == 0 || strcmp(status, "in_transit") == 0);
    if (sqlite3_column_type(st, SC_ETA) != SQLITE_NULL && open) {
        add_iso(o, "eta", st, SC_ETA);
        cJSON_AddStringToObject(o, "eta_source", "collector");
    } else if (open && has_latest && sqlite3_column_type(st, SC_R_LAT) != SQLITE_NULL &&
               sqlite3_column_type(st, SC_R_LON) != SQLITE_NULL &&
               sqlite3_column_type(st, SC_R_SPEED_KMH) != SQLITE_NULL &&
               sqlite3_column_type(st, SC_DEST_LAT) != SQLITE_NULL &&
               sqlite3_column_double(st, SC_R_SPEED_KMH) >= 5.0) {
        double km = api__haversine_km(
            sqlite3_column_double(st, SC_R_LAT), sqlite3_column_double(st, SC_R_LON),
            sqlite3_column_double(st, SC_DEST_LAT), sqlite3_column_double(st, SC_DEST_LON));
        double hours = km / sqlite3_column_double(st, SC_R_SPEED_KMH);
        cJSON_AddStringToObject(
            o, "eta", ot_time_format_iso(now + (int64_t)(hours * 3600000.0), iso, sizeof iso));
        cJSON_AddStringToObject(o, "eta_source", "estimate");
    } else {
        cJSON_AddNullToObject(o, "eta");
        cJSON_AddNullToObject(o, "eta_source");
    }
    if (has_latest)
        cJSON_AddItemToObject(o, "latest", reading_json(st, SC_R_SEQ));
    else
        cJSON_AddNullToObject(o, "latest");
    add_num(o, "alarms_active", (double)sqlite3_column_int64(st, SC_ALARMS_ACTIVE));
    if (pp) {
        cJSON *band = cJSON_AddObjectToObject(o, "band");
        if (band) {
            add_num(band, "temp_min_c", pp->temp_min_c);
            add_num(band, "temp_max_c", pp->temp_max_c);
        }
    } else {
        cJSON_AddNullToObject(o, "band");
    }
    return o;
}

cJSON *api__shipment_json(struct api_ctx *ctx, struct api_db *d, int64_t id)
{
    sqlite3_stmt *st = api__stmt(d, ST_SHIP_GET);
    cJSON *o = NULL;
    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW)
        o = shipment_row(ctx, st, ot_time_now_ms());
    sqlite3_reset(st);
    return o;
}

cJSON *api__shipment_load(struct api_req *r, struct api_db *d, int64_t id, char *container,
                          size_t clen, char *status, size_t slen)
{
    cJSON *o = api__shipment_json(r->ctx, d, id);
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

/* Wraps items into {"items":[...],"next":cursor|null}. */
static cJSON *page(cJSON *items, const char *next)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) {
        cJSON_Delete(items);
        return NULL;
    }
    cJSON_AddItemToObject(o, "items", items);
    if (next)
        cJSON_AddStringToObject(o, "next", next);
    else
        cJSON_AddNullToObject(o, "next");
    return o;
}

/* One page of a list: steps st (bound with a LIMIT of limit + 1), adds the
 * rows row() builds to items and sets *more when a row beyond the page
 * exists; row() also records the page's cursor from its row. Resets st. On a
 * database or memory failure replies 500, frees items and returns -1. */
typedef cJSON *(*page_row_fn)(sqlite3_stmt *st, void *arg);

/* ?limit= (default def, 1..max) and ?cursor= of a list. A bad one gets a
 * 400 naming it and -1; otherwise 1 when a cursor was given (its two parts
 * in *ca, *cb), 0 when not. */
static int page_args(struct api_req *r, int64_t def, int64_t max, int64_t *limit, int64_t *ca,
                     int64_t *cb)
{
    if (api__parse_limit(api__query(r, "limit"), def, max, limit)) {
        api__reply_error(r, 400, "invalid_parameter", "limit: expected an integer 1..%lld",
                         (long long)max);
        return -1;
    }
    const char *cur = api__query(r, "cursor");
    if (cur && api__parse_cursor(cur, ca, cb)) {
        api__reply_error(r, 400, "invalid_parameter", "cursor: not a cursor from this list");
        return -1;
    }
    return cur != NULL;
}

static int page_fill(struct api_req *r, sqlite3_stmt *st, int64_t limit, cJSON *items, int *more,
                     page_row_fn row, void *arg)
{
    int64_t n = 0;
    int s;
    *more = 0;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == limit) {
            *more = 1;
            break;
        }
        cJSON *o = row(st, arg);
        if (!o || !cJSON_AddItemToArray(items, o)) {
            cJSON_Delete(o);
            s = SQLITE_NOMEM;
            break;
        }
        n++;
    }
    sqlite3_reset(st);
    if (s != SQLITE_DONE && s != SQLITE_ROW) {
        cJSON_Delete(items);
        api__reply_error(r, 500, "internal", "database query failed");
        return -1;
    }
    return 0;
}

struct ship_page {
    struct api_ctx *ctx;
    int64_t now, last;
};

static cJSON *ship_page_row(sqlite3_stmt *st, void *arg)
{
    struct ship_page *pg = arg;
    pg->last = sqlite3_column_int64(st, SC_ID);
    return shipment_row(pg->ctx, st, pg->now);
}

void api__h_ship_list(struct api_req *r)
{
    static const char *const known[] = {"status", "cursor", "limit", NULL};
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
    if (page_args(r, LIST_DEFAULT, LIST_MAX, &limit, &after, &unused) < 0)
        return;
    struct api_db *d = api__req_db(r);
    char key[API_LIST_CACHE_KEY];
    int n_key = snprintf(key, sizeof key, "%s|%d|%lld|%lld|%s", status ? status : "", active,
                         (long long)after, (long long)limit,
                         r->who.role == API_ROLE_CREW ? r->who.containers_json : "*");
    int cacheable = n_key > 0 && (size_t)n_key < sizeof key;
    int64_t event_id = cacheable ? api__list_cache_stamp(d) : -1;
    if (cacheable && api__list_cache_get(r, key, event_id))
        return;
    sqlite3_stmt *st = api__stmt(d, ST_SHIP_LIST);
    cJSON *items = cJSON_CreateArray();
    if (!st || !items) {
        cJSON_Delete(items);
        api__reply_error(r, 500, "internal", "database unavailable");
        return;
    }
    if (status)
        sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, active);
    sqlite3_bind_int64(st, 3, after);
    if (r->who.role == API_ROLE_CREW)
        sqlite3_bind_text(st, 4, r->who.containers_json, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, limit + 1);
    struct ship_page pg = {r->ctx, ot_time_now_ms(), 0};
    int more;
    if (page_fill(r, st, limit, items, &more, ship_page_row, &pg))
        return;
    snprintf(next, sizeof next, "%lld", (long long)pg.last);
    cJSON *doc = page(items, more ? next : NULL);
    char *txt = doc ? cJSON_PrintUnformatted(doc) : NULL;
    cJSON_Delete(doc);
    if (!txt) {
        api__reply_error(r, 500, "internal", "out of memory");
        return;
    }
    size_t len = strlen(txt);
    if (cacheable)
        api__list_cache_put(r, key, event_id, txt, len);
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
    if (api__db_exec(d, "BEGIN IMMEDIATE")) {
        api__reply_error(r, 503, "busy", "database busy, retry");
        return;
    }
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

/* Allowed status changes through PATCH (docs/api.md). */
static int transition_ok(const char *from, const char *to)
{
    static const char *const allowed[][2] = {
        {"created", "in_transit"},   {"created", "discarded"},    {"created", "closed"},
        {"in_transit", "delivered"}, {"in_transit", "discarded"}, {"delivered", "closed"},
        {"delivered", "discarded"},
    };
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        if (strcmp(allowed[i][0], from) == 0 && strcmp(allowed[i][1], to) == 0)
            return 1;
    return 0;
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
        add_num(ev, "id", (double)id);
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
 * too (the ledger refuses entries on a closed shipment afterwards). 0 when
 * sealed; otherwise the reply has been sent. */
static int seal_trail(struct api_req *r, struct api_db *d, const char *to, const char *comment)
{
    char status[16], why[256] = "", text[1100];
    cJSON *cur = api__shipment_load(r, d, r->path_id, NULL, 0, status, sizeof status);
    if (!cur)
        return -1;
    cJSON_Delete(cur);
    if (!transition_ok(status, to)) {
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
    enum ot_err rc = ot_ledger_append(d->db, r->ctx->key, r->path_id, &ci, NULL, why, sizeof why);
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
    const cJSON *it;
    cJSON_ArrayForEach(it, body)
    {
        if (strcmp(it->string, "status") && strcmp(it->string, "comment")) {
            api__reply_error(r, 400, "invalid_field", "%.64s: unknown key (status, comment)",
                             it->string);
            cJSON_Delete(body);
            return;
        }
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
    if ((!strcmp(to->valuestring, "closed") || !strcmp(to->valuestring, "discarded")) &&
        seal_trail(r, d, to->valuestring, cJSON_IsString(comment) ? comment->valuestring : NULL)) {
        cJSON_Delete(body);
        return;
    }
    if (api__db_exec(d, "BEGIN IMMEDIATE")) {
        cJSON_Delete(body);
        api__reply_error(r, 503, "busy", "database busy, retry");
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
    if (!transition_ok(status, to->valuestring)) {
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

/* A down-sampled bucket: columns bucket, seq, ts, channel averages,
 * temp_c min/max, count. arg: the last bucket number (the page cursor). */
static cJSON *bucket_page_row(sqlite3_stmt *st, void *arg)
{
    static const int cols[] = {OT_CH_TEMP,  OT_CH_TEMP2,   OT_CH_AMBIENT, OT_CH_LAT,
                               OT_CH_LON,   OT_CH_ALT,     OT_CH_SPEED,   OT_CH_LID,
                               OT_CH_SHOCK, OT_CH_BATTERY, OT_CH_GNSS};
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    *(int64_t *)arg = sqlite3_column_int64(st, 0);
    add_num(o, "seq", (double)sqlite3_column_int64(st, 1));
    add_num(o, "ts", (double)sqlite3_column_int64(st, 2));
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
        int col = 3 + (int)i;
        if (sqlite3_column_type(st, col) == SQLITE_NULL)
            continue;
        if (ot_channels[cols[i]].is_bool)
            cJSON_AddBoolToObject(o, ot_channels[cols[i]].name, sqlite3_column_int(st, col) != 0);
        else
            add_num(o, ot_channels[cols[i]].name, sqlite3_column_double(st, col));
    }
    if (sqlite3_column_type(st, 14) != SQLITE_NULL) {
        add_num(o, "temp_c_min", sqlite3_column_double(st, 14));
        add_num(o, "temp_c_max", sqlite3_column_double(st, 15));
    }
    add_num(o, "n", (double)sqlite3_column_int64(st, 16));
    return o;
}

/* A stored reading; arg: int64_t[2] {seq, ts} of the last row (the cursor). */
static cJSON *reading_page_row(sqlite3_stmt *st, void *arg)
{
    int64_t *last = arg;
    last[0] = sqlite3_column_int64(st, 0);
    last[1] = sqlite3_column_int64(st, 1);
    return reading_json(st, 0);
}

void api__h_readings(struct api_req *r)
{
    static const char *const known[] = {"from", "to", "every", "cursor", "limit", NULL};
    int64_t from = 0, to = INT64_MAX / 2, every = 0, limit, ca = 0, cb = 0;
    char next[48];
    if (api__query_check(r, known))
        return;
    const char *q;
    if ((q = api__query(r, "from")) && api__parse_time(q, &from)) {
        api__reply_error(r, 400, "invalid_parameter",
                         "from: expected RFC 3339 time or epoch milliseconds");
        return;
    }
    if ((q = api__query(r, "to")) && api__parse_time(q, &to)) {
        api__reply_error(r, 400, "invalid_parameter",
                         "to: expected RFC 3339 time or epoch milliseconds");
        return;
    }
    if (to < from) {
        api__reply_error(r, 400, "invalid_parameter", "to: is before from");
        return;
    }
    if ((q = api__query(r, "every")) && api__parse_limit(q, 0, 86400, &every)) {
        api__reply_error(r, 400, "invalid_parameter", "every: expected seconds 1..86400");
        return;
    }
    int has_cur = page_args(r, READINGS_DEFAULT, READINGS_MAX, &limit, &ca, &cb);
    if (has_cur < 0)
        return;
    struct api_db *d = api__req_db(r);
    cJSON *ship = api__shipment_load(r, d, r->path_id, NULL, 0, NULL, 0);
    if (!ship)
        return;
    cJSON_Delete(ship);
    cJSON *items = cJSON_CreateArray();
    sqlite3_stmt *st = api__stmt(d, every ? ST_READINGS_BUCKETED : ST_READINGS);
    if (!items || !st) {
        cJSON_Delete(items);
        api__reply_error(r, 500, "internal", "database unavailable");
        return;
    }
    sqlite3_bind_int64(st, 1, r->path_id);
    sqlite3_bind_int64(st, 2, from);
    sqlite3_bind_int64(st, 3, to);
    int more = 0, rc;
    if (every) {
        int64_t bucket = every * 1000, last_b = 0;
        sqlite3_bind_int64(st, 4, has_cur ? ca : from);
        sqlite3_bind_int64(st, 5, limit + 1);
        sqlite3_bind_int64(st, 6, bucket);
        rc = page_fill(r, st, limit, items, &more, bucket_page_row, &last_b);
        snprintf(next, sizeof next, "%lld", (long long)((last_b + 1) * bucket));
    } else {
        sqlite3_bind_int64(st, 4, has_cur ? ca : from - 1);
        sqlite3_bind_int64(st, 5, has_cur ? cb : INT64_MAX);
        if (!has_cur) /* first page: every ts >= from */
            sqlite3_bind_int64(st, 5, INT64_MAX);
        sqlite3_bind_int64(st, 6, limit + 1);
        int64_t last[2] = {0, 0}; /* seq, ts */
        rc = page_fill(r, st, limit, items, &more, reading_page_row, last);
        snprintf(next, sizeof next, "%lld.%lld", (long long)last[1], (long long)last[0]);
    }
    if (rc)
        return;
    api__reply_json(r, 200, page(items, more ? next : NULL));
}

cJSON *api__alarm_row(sqlite3_stmt *st)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    add_num(o, "id", (double)sqlite3_column_int64(st, 0));
    add_text(o, "type", st, 1);
    add_text(o, "severity", st, 2);
    add_text(o, "state", st, 3);
    add_iso(o, "raised_at", st, 4);
    add_iso(o, "cleared_at", st, 5);
    add_iso(o, "acked_at", st, 6);
    add_text(o, "acked_by", st, 7);
    add_text(o, "ack_comment", st, 8);
    add_iso(o, "escalated_at", st, 9);
    cJSON_AddBoolToObject(o, "late", sqlite3_column_int(st, 10) != 0);
    add_text(o, "message", st, 11);
    if (sqlite3_column_type(st, 12) == SQLITE_NULL)
        cJSON_AddNullToObject(o, "value");
    else
        add_num(o, "value", sqlite3_column_double(st, 12));
    add_text(o, "container", st, 13);
    if (sqlite3_column_type(st, 14) == SQLITE_NULL)
        cJSON_AddNullToObject(o, "shipment_id");
    else
        add_num(o, "shipment_id", (double)sqlite3_column_int64(st, 14));
    return o;
}

static cJSON *alarm_page_row(sqlite3_stmt *st, void *arg)
{
    *(int64_t *)arg = sqlite3_column_int64(st, 0);
    return api__alarm_row(st);
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
    if (page_args(r, LIST_DEFAULT, LIST_MAX, &limit, &after, &unused) < 0)
        return;
    struct api_db *d = api__req_db(r);
    cJSON *ship = api__shipment_load(r, d, r->path_id, NULL, 0, NULL, 0);
    if (!ship)
        return;
    cJSON_Delete(ship);
    cJSON *items = cJSON_CreateArray();
    sqlite3_stmt *st = api__stmt(d, ST_ALARMS_LIST);
    if (!items || !st) {
        cJSON_Delete(items);
        api__reply_error(r, 500, "internal", "database unavailable");
        return;
    }
    sqlite3_bind_int64(st, 1, r->path_id);
    sqlite3_bind_int64(st, 2, after);
    if (state)
        sqlite3_bind_text(st, 3, state, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, limit + 1);
    int64_t last = 0;
    int more;
    if (page_fill(r, st, limit, items, &more, alarm_page_row, &last))
        return;
    snprintf(next, sizeof next, "%lld", (long long)last);
    api__reply_json(r, 200, page(items, more ? next : NULL));
}
