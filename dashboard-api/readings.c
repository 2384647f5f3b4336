/* readings.c - the readings history of a shipment
 * (GET /api/v1/shipments/{id}/readings): stored readings page by page, or
 * down-sampled into buckets of ?every= seconds; and the reading object,
 * shared with the shipment's "latest". */
#include "api.h"

#include <stdint.h>
#include <stdio.h>

#include "ot_reading.h"
#include "ot_time.h"

#define READINGS_DEFAULT 1000
#define READINGS_MAX 10000

cJSON *api__reading_json(const struct ot_sql_stmt *st, int base)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    api__add_num(o, "seq", (double)ot_sql_int64(st, base));
    api__add_num(o, "ts", (double)ot_sql_int64(st, base + 1));
    for (int ch = 0; ch < OT_CH__COUNT; ch++) {
        int col = base + 2 + ch;
        if (ot_sql_is_null(st, col))
            continue;
        if (ot_channels[ch].is_bool)
            cJSON_AddBoolToObject(o, ot_channels[ch].name, ot_sql_int64(st, col) != 0);
        else
            api__add_num(o, ot_channels[ch].name, ot_sql_double(st, col));
    }
    const char *missing = ot_sql_text(st, base + 2 + OT_CH__COUNT);
    if (missing) {
        cJSON *m = cJSON_Parse(missing);
        if (cJSON_IsArray(m) && cJSON_GetArraySize(m) > 0)
            cJSON_AddItemToObject(o, "missing", m);
        else
            cJSON_Delete(m);
    }
    const char *extra = ot_sql_text(st, base + 3 + OT_CH__COUNT);
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

/* A down-sampled bucket: columns bucket, seq, ts, channel averages,
 * temp_c min/max, count. arg: the last bucket number (the page cursor). */
static cJSON *bucket_page_row(const struct ot_sql_stmt *st, void *arg)
{
    static const int cols[] = {OT_CH_TEMP,  OT_CH_TEMP2,   OT_CH_AMBIENT, OT_CH_LAT,
                               OT_CH_LON,   OT_CH_ALT,     OT_CH_SPEED,   OT_CH_LID,
                               OT_CH_SHOCK, OT_CH_BATTERY, OT_CH_GNSS};
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    *(int64_t *)arg = ot_sql_int64(st, 0);
    api__add_num(o, "seq", (double)ot_sql_int64(st, 1));
    api__add_num(o, "ts", (double)ot_sql_int64(st, 2));
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
        int col = 3 + (int)i;
        if (ot_sql_is_null(st, col))
            continue;
        if (ot_channels[cols[i]].is_bool)
            cJSON_AddBoolToObject(o, ot_channels[cols[i]].name, ot_sql_int64(st, col) != 0);
        else
            api__add_num(o, ot_channels[cols[i]].name, ot_sql_double(st, col));
    }
    if (!ot_sql_is_null(st, 14)) {
        api__add_num(o, "temp_c_min", ot_sql_double(st, 14));
        api__add_num(o, "temp_c_max", ot_sql_double(st, 15));
    }
    api__add_num(o, "n", (double)ot_sql_int64(st, 16));
    return o;
}

/* A stored reading; arg: int64_t[2] {seq, ts} of the last row (the cursor). */
static cJSON *reading_page_row(const struct ot_sql_stmt *st, void *arg)
{
    int64_t *last = arg;
    last[0] = ot_sql_int64(st, 0);
    last[1] = ot_sql_int64(st, 1);
    cJSON *o = api__reading_json(st, 0);
    /* dated too far ahead of its arrival (the gateway's clock was wrong):
     * stored and shown, flagged, never taken as the shipment's latest */
    if (o && ot_sql_int64(st, 4 + OT_CH__COUNT) != 0)
        cJSON_AddBoolToObject(o, "clock_future", 1);
    return o;
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
    int has_cur = api__page_args(r, READINGS_DEFAULT, READINGS_MAX, &limit, &ca, &cb);
    if (has_cur < 0)
        return;
    struct api_db *d = api__req_db(r);
    cJSON *ship = api__shipment_load(r, d, r->path_id, NULL, 0, NULL, 0);
    if (!ship)
        return;
    cJSON_Delete(ship);
    cJSON *items = cJSON_CreateArray();
    struct ot_sql_stmt *st = api__stmt(d, every ? ST_READINGS_BUCKETED : ST_READINGS);
    if (!items || !st) {
        cJSON_Delete(items);
        api__reply_error(r, 500, "internal", "database unavailable");
        return;
    }
    int more = 0, rc;
    if (every) {
        int64_t bucket = every * 1000, last_b = 0;
        const int64_t args[] = {r->path_id, from, to, has_cur ? ca : from, limit + 1, bucket};
        rc = api__bind_int64s(st, args, 6)
                 ? -1
                 : api__page_fill(r, st, limit, items, &more, bucket_page_row, &last_b);
        snprintf(next, sizeof next, "%lld", (long long)((last_b + 1) * bucket));
    } else {
        /* (ts, seq) > cursor; the first page: every ts >= from */
        const int64_t args[] = {
            r->path_id, from, to, has_cur ? ca : from - 1, has_cur ? cb : INT64_MAX, limit + 1};
        int64_t last[2] = {0, 0}; /* seq, ts */
        rc = api__bind_int64s(st, args, 6)
                 ? -1
                 : api__page_fill(r, st, limit, items, &more, reading_page_row, last);
        snprintf(next, sizeof next, "%lld.%lld", (long long)last[1], (long long)last[0]);
    }
    if (rc < 0 && !r->responded) {
        ot_sql_reset(st);
        cJSON_Delete(items);
        api__reply_error(r, 500, "internal", "database query failed");
    }
    if (rc)
        return;
    api__reply_json(r, 200, api__page(items, more ? next : NULL));
}
