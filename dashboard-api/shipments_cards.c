/* shipments_cards.c - what a coordinator's card needs besides the shipment
 * object, added to a list page on request (GET /api/v1/shipments?include=
 * alarms,spark), so one screen refresh is one request whatever the number
 * of shipments.
 *
 * alarms: the active (raised or acknowledged) alarms of each shipment of
 * the page, in the shape of GET /shipments/{id}/alarms. spark: the last
 * 3 h of product temperature up to the shipment's latest reading, the
 * first temperature of each 2-min bucket (a sample, found by one index
 * seek, so the cost does not grow with the reading rate), as {"from":
 * epoch ms of the first bucket, "every_s": 120, "temp_c": [...]} (null for
 * a bucket without a temperature; the whole spark null without any). Each
 * is one statement for the whole page (the page's id range with the list's
 * own filter and scope), joined to the page in id order here: no query per
 * shipment. */
#include "api.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CARD_ALARMS_MAX 32 /* per shipment; a card shows a handful */

/* db.c's ST_SHIP_CARD_SPARK counts its buckets in SQL (k.i 0..90) */
_Static_assert(API_SPARK_BUCKETS == 90, "ST_SHIP_CARD_SPARK has 90 + 1 buckets");

int api__cards_include(const char *q, unsigned *flags)
{
    *flags = 0;
    if (!q)
        return 0;
    while (*q) {
        const char *end = strchr(q, ',');
        size_t n = end ? (size_t)(end - q) : strlen(q);
        if (n == 6 && memcmp(q, "alarms", 6) == 0)
            *flags |= API_CARDS_ALARMS;
        else if (n == 5 && memcmp(q, "spark", 5) == 0)
            *flags |= API_CARDS_SPARK;
        else
            return -1;
        q += n + (end ? 1 : 0);
        if (end && !*q)
            return -1;
    }
    return 0;
}

/* The item of `items` with this id, searched from *at on (both in id order);
 * the id is a raw number (api__add_num) */
static cJSON *item_for(cJSON **at, int64_t id)
{
    for (cJSON *it = *at; it; it = it->next) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, "id");
        int64_t iid = cJSON_IsRaw(v) && v->valuestring ? strtoll(v->valuestring, NULL, 10)
                      : cJSON_IsNumber(v)              ? (int64_t)v->valuedouble
                                                       : -1;
        if (iid == id) {
            *at = it;
            return it;
        }
        if (iid > id) {
            *at = it;
            return NULL;
        }
    }
    *at = NULL;
    return NULL;
}

static int bind_page(struct ot_sql_stmt *st, const struct api_cards_page *pg,
                     const struct api_principal *who)
{
    return ot_sql_bind_text(st, 1, pg->status, -1) || ot_sql_bind_int64(st, 2, pg->active) ||
           ot_sql_bind_int64(st, 3, pg->after) || ot_sql_bind_int64(st, 4, pg->last) ||
           api__bind_scope(st, 5, who);
}

static int add_alarms(struct api_db *d, cJSON *items, const struct api_cards_page *pg,
                      const struct api_principal *who)
{
    for (cJSON *it = items->child; it; it = it->next)
        if (!cJSON_AddArrayToObject(it, "alarms"))
            return -1;
    struct ot_sql_stmt *st = api__stmt(d, ST_SHIP_CARD_ALARMS);
    if (!st || bind_page(st, pg, who)) {
        if (st)
            ot_sql_reset(st);
        return -1;
    }
    cJSON *at = items->child;
    int have = 0, n = 0;
    int64_t cur = -1;
    enum ot_err rc;
    while (!(rc = ot_sql_step(st, &have)) && have) {
        int64_t sid = ot_sql_int64(st, 14);
        if (sid != cur) {
            cur = sid;
            n = 0;
        }
        cJSON *it = at ? item_for(&at, sid) : NULL;
        if (!it || ++n > CARD_ALARMS_MAX)
            continue;
        cJSON *a = api__alarm_json(st);
        if (!a || !cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(it, "alarms"), a)) {
            cJSON_Delete(a);
            rc = OT_ERR_NOMEM;
            break;
        }
    }
    ot_sql_reset(st);
    return rc ? -1 : 0;
}

/* Buckets of one shipment, collected while its rows stream by. */
struct spark {
    int64_t first_b, last_b;
    double v[API_SPARK_BUCKETS + 1];
    int has[API_SPARK_BUCKETS + 1];
};

static int spark_put(cJSON *it, const struct spark *sp)
{
    if (!it)
        return 0;
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = o ? cJSON_AddArrayToObject(o, "temp_c") : NULL;
    if (!arr) {
        cJSON_Delete(o);
        return -1;
    }
    api__add_num(o, "from", (double)(sp->first_b * API_SPARK_EVERY_S * 1000));
    api__add_num(o, "every_s", API_SPARK_EVERY_S);
    for (int64_t b = sp->first_b; b <= sp->last_b; b++) {
        int i = (int)(b - sp->first_b);
        cJSON *v =
            sp->has[i] ? cJSON_CreateNumber(round(sp->v[i] * 100.0) / 100.0) : cJSON_CreateNull();
        if (!v || !cJSON_AddItemToArray(arr, v)) {
            cJSON_Delete(v);
            cJSON_Delete(o);
            return -1;
        }
    }
    cJSON_ReplaceItemInObjectCaseSensitive(it, "spark", o);
    return 0;
}

static int add_spark(struct api_db *d, cJSON *items, const struct api_cards_page *pg,
                     const struct api_principal *who)
{
    for (cJSON *it = items->child; it; it = it->next)
        if (!cJSON_AddNullToObject(it, "spark"))
            return -1;
    struct ot_sql_stmt *st = api__stmt(d, ST_SHIP_CARD_SPARK);
    if (!st || bind_page(st, pg, who) ||
        ot_sql_bind_int64(st, 38, (int64_t)API_SPARK_EVERY_S * 1000)) {
        if (st)
            ot_sql_reset(st);
        return -1;
    }
    static struct spark zero;
    struct spark sp = zero;
    cJSON *at = items->child, *it = NULL;
    int have = 0, err = 0;
    int64_t cur = -1;
    enum ot_err rc;
    /* rows: shipment id, bucket number, its first temperature or NULL, in
     * bucket order; a spark starts at its first bucket with a temperature */
    while (!(rc = ot_sql_step(st, &have)) && have) {
        int64_t sid = ot_sql_int64(st, 0), b = ot_sql_int64(st, 1);
        if (sid != cur) {
            if (cur >= 0 && sp.first_b >= 0 && spark_put(it, &sp))
                err = 1;
            cur = sid;
            sp = zero;
            sp.first_b = -1;
            it = at ? item_for(&at, sid) : NULL;
        }
        if (ot_sql_is_null(st, 2))
            continue;
        if (sp.first_b < 0)
            sp.first_b = b;
        int i = (int)(b - sp.first_b);
        if (i < 0 || i >= (int)(sizeof sp.v / sizeof sp.v[0]))
            continue;
        sp.v[i] = ot_sql_double(st, 2);
        sp.has[i] = 1;
        sp.last_b = b;
    }
    if (!rc && cur >= 0 && sp.first_b >= 0 && spark_put(it, &sp))
        err = 1;
    ot_sql_reset(st);
    return rc || err ? -1 : 0;
}

int api__cards_add(struct api_db *d, cJSON *items, unsigned flags, const struct api_cards_page *pg,
                   const struct api_principal *who)
{
    if (!items->child)
        return 0;
    if ((flags & API_CARDS_ALARMS) && add_alarms(d, items, pg, who))
        return -1;
    if ((flags & API_CARDS_SPARK) && add_spark(d, items, pg, who))
        return -1;
    return 0;
}
