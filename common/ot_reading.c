/* ot_reading.c - strict codec for SPEC's readings batch.
 *
 * Decoding never trusts the payload: size cap first, then cJSON parse with
 * the exact length, then every key is checked for type and range. Unknown
 * top-level keys are refused (v1 is closed); unknown reading keys are
 * "extra channels" and must be valid names with number or boolean values.
 * `temp_c` is required: a reading either carries it or lists it in
 * "missing" (the probe could not be read), so a dead probe is visible and
 * never confused with a malformed message. */
#include "ot_reading.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct ot_channel_info ot_channels[OT_CH__COUNT] = {
    [OT_CH_TEMP] = {"temp_c", -273.15, 200.0, 0, 0},
    [OT_CH_TEMP2] = {"temp2_c", -273.15, 200.0, 0, 0},
    [OT_CH_AMBIENT] = {"ambient_c", -273.15, 200.0, 0, 0},
    [OT_CH_LAT] = {"lat", -90.0, 90.0, 0, 0},
    [OT_CH_LON] = {"lon", -180.0, 180.0, 0, 0},
    [OT_CH_ALT] = {"alt_m", -1000.0, 30000.0, 0, 0},
    [OT_CH_SPEED] = {"speed_kmh", 0.0, 1500.0, 0, 0},
    [OT_CH_HEADING] = {"heading_deg", 0.0, 360.0, 0, 0},
    [OT_CH_LID] = {"lid_open", 0.0, 1.0, 1, 0},
    [OT_CH_SHOCK] = {"shock_g", 0.0, 1000.0, 0, 0},
    [OT_CH_BATTERY] = {"battery_pct", 0.0, 100.0, 0, 0},
    [OT_CH_GNSS] = {"gnss_fix", 0.0, 9.0, 0, 1},
};

#define TS_MIN 946684800000LL  /* 2000-01-01 */
#define TS_MAX 4102444800000LL /* 2100-01-01 */

int ot_channel_find(const char *name)
{
    for (int i = 0; i < OT_CH__COUNT; i++)
        if (strcmp(ot_channels[i].name, name) == 0)
            return i;
    return -1;
}

int ot_id_valid(const char *s)
{
    size_t n = 0;
    if (!s)
        return 0;
    for (; s[n]; n++) {
        char ch = s[n];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-'))
            return 0;
        if (n >= OT_ID_MAX)
            return 0;
    }
    return n >= 1;
}

int ot_channel_name_valid(const char *s)
{
    size_t n = 0;
    if (!s || !(s[0] >= 'a' && s[0] <= 'z'))
        return 0;
    for (; s[n]; n++) {
        char ch = s[n];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'))
            return 0;
        if (n >= OT_CHANNEL_NAME_MAX)
            return 0;
    }
    return 1;
}

static enum ot_err fail(struct ot_decode_error *e, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum ot_err fail(struct ot_decode_error *e, const char *reason, const char *fmt, ...)
{
    if (e) {
        e->reason = reason;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->detail, sizeof e->detail, fmt, ap);
        va_end(ap);
    }
    return OT_ERR_PARSE;
}

/* integer-valued JSON number within [min,max] */
static int get_int(const cJSON *it, int64_t min, int64_t max, int64_t *out)
{
    if (!cJSON_IsNumber(it))
        return -1;
    double v = it->valuedouble;
    if (!isfinite(v) || v != floor(v) || v < (double)min || v > (double)max)
        return -1;
    *out = (int64_t)v;
    return 0;
}

void ot_batch_free(struct ot_batch *b)
{
    if (!b)
        return;
    free(b->readings);
    b->readings = NULL;
    b->n = b->cap = 0;
}

enum ot_err ot_batch_push(struct ot_batch *b, const struct ot_reading *r)
{
    if (b->n >= OT_BATCH_MAX_READINGS)
        return OT_ERR_FULL;
    if (b->n == b->cap) {
        size_t ncap = b->cap ? b->cap * 2 : 16;
        if (ncap > OT_BATCH_MAX_READINGS)
            ncap = OT_BATCH_MAX_READINGS;
        struct ot_reading *nr = realloc(b->readings, ncap * sizeof *nr);
        if (!nr)
            return OT_ERR_NOMEM;
        b->readings = nr;
        b->cap = ncap;
    }
    b->readings[b->n++] = *r;
    return OT_OK;
}

static enum ot_err decode_reading(const cJSON *obj, size_t idx, struct ot_reading *r,
                                  struct ot_decode_error *e)
{
    memset(r, 0, sizeof *r);
    int have_seq = 0, have_ts = 0;
    const cJSON *it;
    if (!cJSON_IsObject(obj))
        return fail(e, "schema", "readings[%zu]: expected an object", idx);
    cJSON_ArrayForEach(it, obj)
    {
        const char *k = it->string;
        if (strcmp(k, "seq") == 0) {
            if (get_int(it, 0, OT_SEQ_MAX, &r->seq))
                return fail(e, "schema", "readings[%zu].seq: expected an integer 0..2^53-1", idx);
            have_seq = 1;
        } else if (strcmp(k, "ts") == 0) {
            if (!cJSON_IsNumber(it))
                return fail(e, "schema", "readings[%zu].ts: expected epoch milliseconds", idx);
            if (get_int(it, TS_MIN, TS_MAX, &r->ts))
                return fail(e, "range", "readings[%zu].ts: outside 2000..2100 epoch ms", idx);
            have_ts = 1;
        } else if (strcmp(k, "missing") == 0) {
            const cJSON *m;
            if (!cJSON_IsArray(it) || cJSON_GetArraySize(it) > OT_CH__COUNT + OT_EXTRA_MAX)
                return fail(e, "schema", "readings[%zu].missing: expected an array of names", idx);
            cJSON_ArrayForEach(m, it)
            {
                if (!cJSON_IsString(m) || !ot_channel_name_valid(m->valuestring))
                    return fail(e, "schema", "readings[%zu].missing: bad channel name", idx);
                int ch = ot_channel_find(m->valuestring);
                if (ch >= 0)
                    r->missing |= 1u << ch;
            }
        } else {
            int ch = ot_channel_find(k);
            if (ch >= 0) {
                const struct ot_channel_info *ci = &ot_channels[ch];
                double v;
                if (ci->is_bool) {
                    if (!cJSON_IsBool(it))
                        return fail(e, "schema", "readings[%zu].%s: expected true or false", idx,
                                    k);
                    v = cJSON_IsTrue(it) ? 1.0 : 0.0;
                } else {
                    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble))
                        return fail(e, "schema", "readings[%zu].%s: expected a number", idx, k);
                    v = it->valuedouble;
                    if (ci->is_int && v != floor(v))
                        return fail(e, "schema", "readings[%zu].%s: expected an integer", idx, k);
                    if (v < ci->min || v > ci->max)
                        return fail(e, "range", "readings[%zu].%s: %g outside %g..%g", idx, k, v,
                                    ci->min, ci->max);
                }
                ot_reading_set(r, (enum ot_channel)ch, v);
            } else {
                if (!ot_channel_name_valid(k))
                    return fail(e, "schema", "readings[%zu]: bad channel name", idx);
                if (r->n_extra >= OT_EXTRA_MAX)
                    return fail(e, "too_many", "readings[%zu]: more than %d extra channels", idx,
                                OT_EXTRA_MAX);
                struct ot_extra *x = &r->extra[r->n_extra];
                if (cJSON_IsBool(it)) {
                    x->is_bool = 1;
                    x->value = cJSON_IsTrue(it) ? 1.0 : 0.0;
                } else if (cJSON_IsNumber(it) && isfinite(it->valuedouble) &&
                           fabs(it->valuedouble) <= 1e15) {
                    x->value = it->valuedouble;
                } else {
                    return fail(e, "schema", "readings[%zu].%s: expected a number or boolean", idx,
                                k);
                }
                snprintf(x->name, sizeof x->name, "%s", k);
                r->n_extra++;
            }
        }
    }
    if (!have_seq)
        return fail(e, "schema", "readings[%zu].seq: required", idx);
    if (!have_ts)
        return fail(e, "schema", "readings[%zu].ts: required", idx);
    if (!ot_reading_has(r, OT_CH_TEMP) && !(r->missing & (1u << OT_CH_TEMP)))
        return fail(e, "schema", "readings[%zu].temp_c: required (or listed in missing)", idx);
    if (r->present & r->missing)
        return fail(e, "schema", "readings[%zu].missing: names a channel that is present", idx);
    return OT_OK;
}

enum ot_err ot_batch_decode(const char *buf, size_t len, struct ot_batch *out,
                            struct ot_decode_error *e)
{
    enum ot_err rc;
    cJSON *root = NULL;
    const cJSON *it;
    int have_v = 0, have_c = 0, have_g = 0, have_b = 0, have_r = 0;

    memset(out, 0, sizeof *out);
    if (!buf || len == 0)
        return fail(e, "json", "empty payload");
    if (len > OT_BATCH_MAX_BYTES)
        return fail(e, "too_large", "payload of %zu bytes exceeds %d", len, OT_BATCH_MAX_BYTES);
    root = cJSON_ParseWithLength(buf, len);
    if (!root)
        return fail(e, "json", "malformed JSON");
    if (!cJSON_IsObject(root)) {
        rc = fail(e, "schema", "expected a JSON object");
        goto fail;
    }
    cJSON_ArrayForEach(it, root)
    {
        const char *k = it->string;
        int64_t iv;
        if (strcmp(k, "v") == 0) {
            if (get_int(it, 1, 1, &iv)) {
                rc = fail(e, "version", "v: only version 1 is understood");
                goto fail;
            }
            have_v = 1;
        } else if (strcmp(k, "container") == 0 || strcmp(k, "gateway") == 0) {
            int is_c = k[0] == 'c';
            if (!cJSON_IsString(it) || !ot_id_valid(it->valuestring)) {
                rc = fail(e, is_c ? "container" : "schema", "%s: expected [A-Za-z0-9_-]{1,64}", k);
                goto fail;
            }
            snprintf(is_c ? out->container : out->gateway, OT_ID_MAX + 1, "%s", it->valuestring);
            if (is_c)
                have_c = 1;
            else
                have_g = 1;
        } else if (strcmp(k, "boot") == 0) {
            if (get_int(it, 0, OT_SEQ_MAX, &out->boot)) {
                rc = fail(e, "schema", "boot: expected a non-negative integer");
                goto fail;
            }
            have_b = 1;
        } else if (strcmp(k, "readings") == 0) {
            if (have_r) { /* a repeated key would overrun the readings array */
                rc = fail(e, "schema", "readings: duplicate key");
                goto fail;
            }
            have_r = 1;
            if (!cJSON_IsArray(it)) {
                rc = fail(e, "schema", "readings: expected an array");
                goto fail;
            }
            int n = cJSON_GetArraySize(it);
            if (n < 1) {
                rc = fail(e, "schema", "readings: expected 1..%d readings", OT_BATCH_MAX_READINGS);
                goto fail;
            }
            if (n > OT_BATCH_MAX_READINGS) {
                rc = fail(e, "too_many", "readings: %d readings exceed %d", n,
                          OT_BATCH_MAX_READINGS);
                goto fail;
            }
            out->readings = calloc((size_t)n, sizeof *out->readings);
            if (!out->readings) {
                rc = OT_ERR_NOMEM;
                if (e) {
                    e->reason = "nomem";
                    snprintf(e->detail, sizeof e->detail, "out of memory");
                }
                goto fail;
            }
            out->cap = (size_t)n;
            const cJSON *r;
            cJSON_ArrayForEach(r, it)
            {
                rc = decode_reading(r, out->n, &out->readings[out->n], e);
                if (rc)
                    goto fail;
                if (out->n > 0 && out->readings[out->n].seq <= out->readings[out->n - 1].seq) {
                    rc = fail(e, "order", "readings[%zu].seq: not increasing within the batch",
                              out->n);
                    goto fail;
                }
                out->n++;
            }
        } else if (strcmp(k, "lost") == 0) {
            const cJSON *pair;
            if (!cJSON_IsArray(it) || out->n_lost ||
                cJSON_GetArraySize(it) > OT_LOST_MAX) { /* also refuses a repeated key */
                rc = fail(e, "schema", "lost: expected up to %d [from,to] pairs", OT_LOST_MAX);
                goto fail;
            }
            cJSON_ArrayForEach(pair, it)
            {
                struct ot_seq_range *sr = &out->lost[out->n_lost];
                if (!cJSON_IsArray(pair) || cJSON_GetArraySize(pair) != 2 ||
                    get_int(cJSON_GetArrayItem(pair, 0), 0, OT_SEQ_MAX, &sr->from) ||
                    get_int(cJSON_GetArrayItem(pair, 1), 0, OT_SEQ_MAX, &sr->to) ||
                    sr->from > sr->to) {
                    rc = fail(e, "schema", "lost[%zu]: expected [from_seq,to_seq]", out->n_lost);
                    goto fail;
                }
                out->n_lost++;
            }
        } else {
            rc = fail(e, "schema", "%.64s: unknown key", k);
            goto fail;
        }
    }
    if (!have_v || !have_c || !have_g || !have_b || !have_r) {
        rc = fail(e, have_c ? "schema" : "container", "%s: required",
                  !have_v   ? "v"
                  : !have_c ? "container"
                  : !have_g ? "gateway"
                  : !have_b ? "boot"
                            : "readings");
        goto fail;
    }
    cJSON_Delete(root);
    return OT_OK;
fail:
    cJSON_Delete(root);
    ot_batch_free(out);
    out->n_lost = 0;
    return rc;
}
