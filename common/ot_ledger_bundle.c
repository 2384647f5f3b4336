/* ot_ledger_bundle.c - verifying an exported bundle (the JSON handed to
 * auditors, docs/internals/ledger.md "Bundle"): strict parsing of every
 * key, then the chain and head checks of ot_ledger_verify.c. */
#include "ot_ledger.h"
#include "ot_ledger_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ot_crypto.h"
#include "ot_time.h"

#define LG_BUNDLE_MAX_ENTRIES 100000

/* ------------------------------------------------------- bundle parsing */

static int json_keys_known(const cJSON *o, const char *const *known, const char **bad)
{
    for (const cJSON *c = o->child; c; c = c->next) {
        int ok = 0;
        for (int i = 0; known[i]; i++)
            if (c->string && strcmp(c->string, known[i]) == 0)
                ok = 1;
        if (!ok) {
            *bad = c->string ? c->string : "?";
            return 0;
        }
    }
    return 1;
}

static int j_int(const cJSON *o, const char *k, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
        fabs(v->valuedouble) > 9007199254740991.0)
        return -1;
    *out = (int64_t)v->valuedouble;
    return 0;
}

static int j_num(const cJSON *o, const char *k, struct ot_lg_num *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (cJSON_IsNull(v)) {
        out->set = 0;
        out->v = 0;
        return 0;
    }
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return -1;
    out->set = 1;
    out->v = v->valuedouble;
    return 0;
}

/* integer or null */
static int j_int_or_null(const cJSON *o, const char *k, struct ot_lg_num *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    int64_t i;
    if (cJSON_IsNull(v)) {
        out->set = 0;
        out->v = 0;
        return 0;
    }
    if (j_int(o, k, &i))
        return -1;
    out->set = 1;
    out->v = (double)i;
    return 0;
}

static int j_str_borrow(const cJSON *o, const char *k, int nullable, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (nullable && cJSON_IsNull(v)) {
        *out = NULL;
        return 0;
    }
    if (!cJSON_IsString(v) || !v->valuestring || strlen(v->valuestring) > OT_LG_FIELD_MAX)
        return -1;
    *out = v->valuestring;
    return 0;
}

static int j_str(const cJSON *o, const char *k, int nullable, char **out)
{
    const char *s;
    if (j_str_borrow(o, k, nullable, &s))
        return -1;
    *out = NULL;
    if (!s)
        return 0;
    *out = ot_lg__dupstr(s);
    return *out ? 0 : -2;
}

static int j_hex64(const cJSON *o, const char *k, char out[65])
{
    const char *s;
    uint8_t tmp[32];
    if (j_str_borrow(o, k, 0, &s) || strlen(s) != 64 || ot_hex_decode(s, tmp, 32))
        return -1;
    memcpy(out, s, 65);
    return 0;
}

/* Parses one bundle entry; on failure *what names the key. */
static int parse_entry(const cJSON *o, struct ot_lg_entry *e, const char **what)
{
    static const char *const keys[] = {"index",     "shipment", "ts",      "time",    "type",
                                       "actor",     "from",     "to",      "witness", "place",
                                       "temp_c",    "temp_ts",  "seal",    "comment", "readings",
                                       "prev_hash", "hash",     "meaning", NULL};
    static const char *const akeys[] = {"name", "role", NULL};
    static const char *const pkeys[] = {"lat", "lon", NULL};
    static const char *const rkeys[] = {"count", "from_seq", "to_seq", "root", NULL};
    const cJSON *actor, *place, *rd, *time;
    char iso[32];
    memset(e, 0, sizeof *e);
    if (!cJSON_IsObject(o)) {
        *what = "(not an object)";
        return -1;
    }
    if (!json_keys_known(o, keys, what))
        return -1;
#define REQ(cond, name)                                                                            \
    do {                                                                                           \
        if (cond) {                                                                                \
            *what = name;                                                                          \
            return -1;                                                                             \
        }                                                                                          \
    } while (0)
    REQ(j_int(o, "index", &e->index), "index");
    REQ(j_int(o, "shipment", &e->shipment), "shipment");
    REQ(j_int(o, "ts", &e->ts), "ts");
    time = cJSON_GetObjectItemCaseSensitive(o, "time");
    REQ(!cJSON_IsString(time) ||
            strcmp(time->valuestring, ot_time_format_iso(e->ts, iso, sizeof iso)) != 0,
        "time (must be ts in ISO 8601)");
    REQ(j_str(o, "type", 0, &e->type), "type");
    actor = cJSON_GetObjectItemCaseSensitive(o, "actor");
    REQ(!cJSON_IsObject(actor) || !json_keys_known(actor, akeys, what), "actor");
    REQ(j_str(actor, "name", 0, &e->actor_name), "actor.name");
    REQ(j_str(actor, "role", 0, &e->actor_role), "actor.role");
    REQ(j_str(o, "from", 1, &e->from), "from");
    REQ(j_str(o, "to", 1, &e->to), "to");
    REQ(j_str(o, "witness", 1, &e->witness), "witness");
    place = cJSON_GetObjectItemCaseSensitive(o, "place");
    if (cJSON_IsObject(place)) {
        REQ(!json_keys_known(place, pkeys, what), "place");
        REQ(j_num(place, "lat", &e->lat), "place.lat");
        REQ(j_num(place, "lon", &e->lon), "place.lon");
        REQ(!e->lat.set && !e->lon.set, "place (empty object)");
    } else {
        REQ(!cJSON_IsNull(place), "place");
    }
    REQ(j_num(o, "temp_c", &e->temp_c), "temp_c");
    REQ(j_int_or_null(o, "temp_ts", &e->temp_ts), "temp_ts");
    REQ(j_str(o, "seal", 1, &e->seal), "seal");
    REQ(j_str(o, "comment", 1, &e->comment), "comment");
    /* v1.1: `signed` entries carry their meaning (hash-covered); no other
     * entry may have the key */
    if (strcmp(e->type, "signed") == 0)
        REQ(j_str(o, "meaning", 0, &e->meaning), "meaning");
    else
        REQ(cJSON_GetObjectItemCaseSensitive(o, "meaning") != NULL,
            "meaning (only signed entries)");
    rd = cJSON_GetObjectItemCaseSensitive(o, "readings");
    REQ(!cJSON_IsObject(rd) || !json_keys_known(rd, rkeys, what), "readings");
    REQ(j_int(rd, "count", &e->readings_count), "readings.count");
    REQ(j_int_or_null(rd, "from_seq", &e->readings_from_seq), "readings.from_seq");
    REQ(j_int_or_null(rd, "to_seq", &e->readings_to_seq), "readings.to_seq");
    REQ(j_hex64(rd, "root", e->readings_root), "readings.root");
    REQ(j_hex64(o, "prev_hash", e->prev_hash), "prev_hash");
    REQ(j_hex64(o, "hash", e->hash), "hash");
#undef REQ
    return 0;
}

static int parse_reading(const cJSON *o, struct ot_lg_reading *r, const char **what)
{
    static const char *const keys[] = {
        "entry",    "container", "seq",         "gateway",  "boot",    "ts",        "temp_c",
        "temp2_c",  "ambient_c", "lat",         "lon",      "alt_m",   "speed_kmh", "heading_deg",
        "lid_open", "shock_g",   "battery_pct", "gnss_fix", "missing", "extra",     NULL};
    memset(r, 0, sizeof *r);
    if (!cJSON_IsObject(o)) {
        *what = "(not an object)";
        return -1;
    }
    if (!json_keys_known(o, keys, what))
        return -1;
    if (j_int(o, "entry", &r->entry)) {
        *what = "entry";
        return -1;
    }
    if (j_str_borrow(o, "container", 0, &r->container)) {
        *what = "container";
        return -1;
    }
    if (j_int(o, "seq", &r->seq)) {
        *what = "seq";
        return -1;
    }
    if (j_str_borrow(o, "gateway", 0, &r->gateway)) {
        *what = "gateway";
        return -1;
    }
    if (j_int(o, "boot", &r->boot)) {
        *what = "boot";
        return -1;
    }
    if (j_int(o, "ts", &r->ts)) {
        *what = "ts";
        return -1;
    }
    for (int i = 0; i < OT_LG_NCH; i++)
        if (j_num(o, ot_lg_channel_names[i], &r->ch[i])) {
            *what = ot_lg_channel_names[i];
            return -1;
        }
    if (j_str_borrow(o, "missing", 1, &r->missing)) {
        *what = "missing";
        return -1;
    }
    if (j_str_borrow(o, "extra", 1, &r->extra)) {
        *what = "extra";
        return -1;
    }
    return 0;
}

struct bundle_digest_ctx {
    struct ot_lg_leaves *buckets; /* one per entry position */
    size_t n;
};

static enum ot_err bundle_digest(void *ctx, int64_t idx, struct ot_lg_leaves *l, char root[65])
{
    struct bundle_digest_ctx *c = ctx;
    const struct ot_lg_leaves *b = &c->buckets[idx];
    l->n = b->n;
    l->min_seq = b->min_seq;
    l->max_seq = b->max_seq;
    /* the caller's l is only read for n/min/max; hash the bucket itself */
    return ot_lg__leaves_root(b, root);
}

enum ot_err ot_ledger_verify_bundle_key(const char *json, size_t len, const char *pubkey_hex,
                                        struct ot_ledger_report *rep)
{
    static const char *const keys[] = {"format", "shipment",   "entries",     "readings",
                                       "head",   "public_key", "exported_at", NULL};
    static const char *const skeys[] = {
        "id", "container", "profile", "donation_code", "cross_clamp_at", "created_at", NULL};
    static const char *const hkeys[] = {"index", "hash", "signature", NULL};
    cJSON *root = NULL;
    const cJSON *js, *jentries, *jreadings, *jhead, *it, *fmt;
    struct ot_lg_shipment sh = {0};
    struct ot_lg_entry *v = NULL;
    size_t n = 0, nr = 0;
    struct bundle_digest_ctx bc = {NULL, 0};
    const char *what = "", *sig = NULL, *pub = NULL;
    char hhash[65] = "";
    int64_t hidx = -1, orphan = -1, shid = -1;
    enum ot_err rc = OT_OK;

    ot_lg__rep_init(rep);
    if (!json) {
        ot_lg__rep_fail(rep, -1, -1, "no bundle");
        return OT_OK;
    }
    root = cJSON_ParseWithLength(json, len);
    if (!cJSON_IsObject(root)) {
        ot_lg__rep_fail(rep, -1, -1, "bundle is not a JSON object (truncated or corrupt)");
        goto out;
    }
    if (!json_keys_known(root, keys, &what)) {
        ot_lg__rep_fail(rep, -1, -1, "bundle: unknown key \"%s\"", what);
        goto out;
    }
    fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, OT_LEDGER_BUNDLE_FORMAT) != 0) {
        ot_lg__rep_fail(rep, -1, -1, "bundle: format is not \"" OT_LEDGER_BUNDLE_FORMAT "\"");
        goto out;
    }
    js = cJSON_GetObjectItemCaseSensitive(root, "shipment");
    if (!cJSON_IsObject(js) || j_int(js, "id", &shid)) {
        ot_lg__rep_fail(rep, -1, -1, "bundle: shipment.id missing");
        goto out;
    }
    sh.id = shid;
    if (!json_keys_known(js, skeys, &what) || j_str(js, "container", 0, &sh.container) ||
        j_str(js, "profile", 0, &sh.profile) || j_str(js, "donation_code", 0, &sh.donation_code) ||
        j_int(js, "cross_clamp_at", &sh.cross_clamp_at) ||
        j_int(js, "created_at", &sh.created_at)) {
        ot_lg__rep_fail(rep, shid, 0, "bundle: shipment record is malformed");
        goto out;
    }
    jentries = cJSON_GetObjectItemCaseSensitive(root, "entries");
    jreadings = cJSON_GetObjectItemCaseSensitive(root, "readings");
    jhead = cJSON_GetObjectItemCaseSensitive(root, "head");
    if (!cJSON_IsArray(jentries) || !cJSON_IsArray(jreadings) || !cJSON_IsObject(jhead)) {
        ot_lg__rep_fail(rep, shid, -1, "bundle: entries, readings or head missing");
        goto out;
    }
    n = (size_t)cJSON_GetArraySize(jentries);
    if (n > LG_BUNDLE_MAX_ENTRIES) {
        ot_lg__rep_fail(rep, shid, -1, "bundle: too many entries");
        n = 0;
        goto out;
    }
    v = calloc(n ? n : 1, sizeof *v);
    bc.buckets = calloc(n ? n : 1, sizeof *bc.buckets);
    if (!v || !bc.buckets) {
        rc = OT_ERR_NOMEM;
        goto out;
    }
    bc.n = n;
    {
        size_t i = 0;
        cJSON_ArrayForEach(it, jentries)
        {
            int pr = parse_entry(it, &v[i], &what);
            if (pr) {
                ot_lg__rep_fail(rep, shid, (int64_t)i, "entry is malformed at key \"%s\"", what);
                goto out;
            }
            i++;
        }
    }
    {
        size_t i = 0;
        cJSON_ArrayForEach(it, jreadings)
        {
            struct ot_lg_reading r;
            if (parse_reading(it, &r, &what)) {
                const cJSON *je = cJSON_GetObjectItemCaseSensitive(it, "entry");
                ot_lg__rep_fail(rep, shid, cJSON_IsNumber(je) ? (int64_t)je->valuedouble : -1,
                                "readings[%zu] is malformed at key \"%s\"", i, what);
                goto out;
            }
            if (r.entry < 0 || r.entry >= (int64_t)n) {
                if (orphan < 0 || r.entry < orphan)
                    orphan = r.entry < 0 ? 0 : r.entry;
            } else if ((rc = ot_lg__leaves_push(&bc.buckets[r.entry], &r))) {
                goto out;
            }
            i++;
            nr++;
        }
    }
    if ((rc = ot_lg__check_chain(&sh, v, n, bundle_digest, &bc, rep)))
        goto out;
    if (!rep->ok)
        goto out;
    if (j_int(jhead, "index", &hidx) || j_hex64(jhead, "hash", hhash) ||
        j_str_borrow(jhead, "signature", 0, &sig) || !json_keys_known(jhead, hkeys, &what)) {
        ot_lg__rep_fail(rep, shid, (int64_t)n - 1, "bundle: head is malformed");
        goto out;
    }
    if (j_str_borrow(root, "public_key", 0, &pub)) {
        ot_lg__rep_fail(rep, shid, (int64_t)n - 1, "bundle: public_key missing");
        goto out;
    }
    ot_lg__check_head(&sh, v, n, hidx, hhash, sig, pub, pubkey_hex, rep);
    if (rep->ok && orphan >= 0)
        ot_lg__rep_fail(rep, shid, orphan, "a reading names entry %lld, which is not in the trail",
                        (long long)orphan);
    if (rep->ok && n == 0)
        ot_lg__rep_fail(rep, shid, 0, "bundle holds no entries");
    (void)nr;
out:
    if (rc)
        ot_lg__rep_fail(rep, shid, -1, "verification could not run: %s", ot_strerror(rc));
    if (bc.buckets) {
        for (size_t i = 0; i < bc.n; i++)
            free(bc.buckets[i].h);
        free(bc.buckets);
    }
    ot_lg_entries_free(v, n);
    ot_lg_shipment_clear(&sh);
    cJSON_Delete(root);
    return rc;
}

enum ot_err ot_ledger_verify_bundle(const char *json, size_t len, struct ot_ledger_report *rep)
{
    return ot_ledger_verify_bundle_key(json, len, NULL, rep);
}
