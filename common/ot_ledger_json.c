/* ot_ledger_json.c - custody entries and covered readings as JSON objects
 * (the API's trail and append answers, the bundle export), and
 * ot_ledger_entries, the trail as a JSON array. */
#include "ot_ledger.h"
#include "ot_ledger_int.h"

#include <stdint.h>
#include <string.h>

#include "ot_time.h"

/* ------------------------------------------------------------- JSON out */

static cJSON *str_or_null(const char *s)
{
    return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *num_or_null(const struct ot_lg_num *n)
{
    return n->set ? cJSON_CreateNumber(n->v) : cJSON_CreateNull();
}

static int add(cJSON *obj, const char *k, cJSON *v)
{
    if (!v)
        return -1;
    if (!cJSON_AddItemToObject(obj, k, v)) {
        cJSON_Delete(v);
        return -1;
    }
    return 0;
}

cJSON *ot_lg_entry_json(const struct ot_lg_entry *e)
{
    char iso[32];
    cJSON *o = cJSON_CreateObject(), *actor = NULL, *place = NULL, *rd = NULL;
    int bad = 0;
    if (!o)
        return NULL;
    bad |= add(o, "index", cJSON_CreateNumber((double)e->index));
    bad |= add(o, "shipment", cJSON_CreateNumber((double)e->shipment));
    bad |= add(o, "ts", cJSON_CreateNumber((double)e->ts));
    bad |= add(o, "time", cJSON_CreateString(ot_time_format_iso(e->ts, iso, sizeof iso)));
    bad |= add(o, "type", str_or_null(e->type));
    actor = cJSON_CreateObject();
    if (actor) {
        bad |= add(actor, "name", str_or_null(e->actor_name));
        bad |= add(actor, "role", str_or_null(e->actor_role));
    }
    bad |= add(o, "actor", actor);
    bad |= add(o, "from", str_or_null(e->from));
    bad |= add(o, "to", str_or_null(e->to));
    bad |= add(o, "witness", str_or_null(e->witness));
    if (e->lat.set || e->lon.set) {
        place = cJSON_CreateObject();
        if (place) {
            bad |= add(place, "lat", num_or_null(&e->lat));
            bad |= add(place, "lon", num_or_null(&e->lon));
        }
    } else {
        place = cJSON_CreateNull();
    }
    bad |= add(o, "place", place);
    bad |= add(o, "temp_c", num_or_null(&e->temp_c));
    bad |= add(o, "temp_ts", num_or_null(&e->temp_ts));
    bad |= add(o, "seal", str_or_null(e->seal));
    bad |= add(o, "comment", str_or_null(e->comment));
    if (e->type && strcmp(e->type, "signed") == 0) /* v1.1: only signatures have it */
        bad |= add(o, "meaning", str_or_null(e->meaning));
    rd = cJSON_CreateObject();
    if (rd) {
        bad |= add(rd, "count", cJSON_CreateNumber((double)e->readings_count));
        bad |= add(rd, "from_seq", num_or_null(&e->readings_from_seq));
        bad |= add(rd, "to_seq", num_or_null(&e->readings_to_seq));
        bad |= add(rd, "root", cJSON_CreateString(e->readings_root));
    }
    bad |= add(o, "readings", rd);
    bad |= add(o, "prev_hash", cJSON_CreateString(e->prev_hash));
    bad |= add(o, "hash", cJSON_CreateString(e->hash));
    if (bad) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

cJSON *ot_lg_reading_json(const struct ot_lg_reading *r)
{
    cJSON *o = cJSON_CreateObject();
    int bad = 0;
    if (!o)
        return NULL;
    bad |= add(o, "entry", cJSON_CreateNumber((double)r->entry));
    bad |= add(o, "container", cJSON_CreateString(r->container));
    bad |= add(o, "seq", cJSON_CreateNumber((double)r->seq));
    bad |= add(o, "gateway", cJSON_CreateString(r->gateway));
    bad |= add(o, "boot", cJSON_CreateNumber((double)r->boot));
    bad |= add(o, "ts", cJSON_CreateNumber((double)r->ts));
    for (int i = 0; i < OT_LG_NCH; i++)
        bad |= add(o, ot_lg_channel_names[i], num_or_null(&r->ch[i]));
    bad |= add(o, "missing", str_or_null(r->missing));
    bad |= add(o, "extra", str_or_null(r->extra));
    if (bad) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

enum ot_err ot_ledger_entries(struct ot_sql *db, int64_t shipment_id, cJSON **out)
{
    struct ot_lg_entry *v = NULL;
    size_t n = 0;
    cJSON *arr = NULL;
    enum ot_err rc;
    *out = NULL;
    rc = ot_lg_load_entries(db, shipment_id, &v, &n);
    if (rc)
        return rc;
    arr = cJSON_CreateArray();
    if (!arr) {
        rc = OT_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        cJSON *e = ot_lg_entry_json(&v[i]);
        if (!e || !cJSON_AddItemToArray(arr, e)) {
            cJSON_Delete(e);
            cJSON_Delete(arr);
            rc = OT_ERR_NOMEM;
            goto out;
        }
    }
    *out = arr;
out:
    ot_lg_entries_free(v, n);
    return rc;
}
