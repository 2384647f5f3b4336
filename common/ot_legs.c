/* ot_legs.c - planned legs: strict parsing (every failure names its key)
 * and printing; see ot_legs.h. */
#include "ot_legs.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ot_time.h"

static enum ot_err fail(char *msg, size_t msglen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum ot_err fail(char *msg, size_t msglen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, msglen, fmt, ap);
    va_end(ap);
    return OT_ERR_INVAL;
}

static int printable(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

static int only_keys(const cJSON *o, const char *const *known, const char **bad)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, o)
    {
        int ok = 0;
        for (const char *const *k = known; *k; k++)
            ok |= it->string && !strcmp(it->string, *k);
        if (!ok) {
            *bad = it->string ? it->string : "?";
            return 0;
        }
    }
    return 1;
}

static enum ot_err get_text(const cJSON *o, const char *key, int required, char *out, size_t outlen,
                            const char *path, char *msg, size_t msglen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    out[0] = '\0';
    if (!v || cJSON_IsNull(v))
        return required ? fail(msg, msglen, "%s.%s: required", path, key) : OT_OK;
    if (!cJSON_IsString(v) || !printable(v->valuestring, outlen - 1) ||
        (required && !v->valuestring[0]))
        return fail(msg, msglen, "%s.%s: expected a string of 1..%zu printable characters", path,
                    key, outlen - 1);
    snprintf(out, outlen, "%s", v->valuestring);
    return OT_OK;
}

static enum ot_err get_place(const cJSON *leg, const char *key, struct ot_leg_place *out,
                             const char *path, char *msg, size_t msglen)
{
    static const char *const known[] = {"name", "lat", "lon", "radius_m", NULL};
    char p[48];
    const char *bad = NULL;
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(leg, key);
    snprintf(p, sizeof p, "%s.%s", path, key);
    if (!cJSON_IsObject(o))
        return fail(msg, msglen, "%s: expected an object {name, lat, lon}", p);
    if (!only_keys(o, known, &bad))
        return fail(msg, msglen, "%s.%.40s: unknown key", p, bad);
    enum ot_err rc = get_text(o, "name", 1, out->name, sizeof out->name, p, msg, msglen);
    if (rc)
        return rc;
    const cJSON *lat = cJSON_GetObjectItemCaseSensitive(o, "lat");
    const cJSON *lon = cJSON_GetObjectItemCaseSensitive(o, "lon");
    if (!cJSON_IsNumber(lat) || !isfinite(lat->valuedouble) || fabs(lat->valuedouble) > 90)
        return fail(msg, msglen, "%s.lat: expected a number -90..90", p);
    if (!cJSON_IsNumber(lon) || !isfinite(lon->valuedouble) || fabs(lon->valuedouble) > 180)
        return fail(msg, msglen, "%s.lon: expected a number -180..180", p);
    out->lat = lat->valuedouble;
    out->lon = lon->valuedouble;
    const cJSON *rad = cJSON_GetObjectItemCaseSensitive(o, "radius_m");
    out->radius_m = 0;
    if (rad && !cJSON_IsNull(rad)) {
        if (!cJSON_IsNumber(rad) || !isfinite(rad->valuedouble) ||
            rad->valuedouble < OT_LEGS_RADIUS_MIN_M || rad->valuedouble > OT_LEGS_RADIUS_MAX_M)
            return fail(msg, msglen, "%s.radius_m: expected a number of metres %.0f..%.0f", p,
                        OT_LEGS_RADIUS_MIN_M, OT_LEGS_RADIUS_MAX_M);
        out->radius_m = rad->valuedouble;
    }
    return OT_OK;
}

static enum ot_err get_time(const cJSON *leg, const char *key, int64_t *ms, const char *path,
                            char *msg, size_t msglen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(leg, key);
    if (!cJSON_IsString(v) || ot_time_parse_iso(v->valuestring, ms))
        return fail(msg, msglen, "%s.%s: expected RFC 3339 time like 2026-11-23T04:10:00Z", path,
                    key);
    return OT_OK;
}

enum ot_err ot_legs_parse(const cJSON *arr, struct ot_leg *out, size_t *n, char *msg, size_t msglen)
{
    static const char *const known[] = {
        "mode", "from", "to", "planned_departure", "planned_arrival", "carrier", "flight", NULL};
    enum ot_err rc;
    *n = 0;
    if (!cJSON_IsArray(arr))
        return fail(msg, msglen, "legs: expected an array of legs");
    int count = cJSON_GetArraySize(arr);
    if (count < 1 || count > OT_LEGS_MAX)
        return fail(msg, msglen, "legs: expected 1..%d legs", OT_LEGS_MAX);
    for (int i = 0; i < count; i++) {
        const cJSON *leg = cJSON_GetArrayItem(arr, i);
        struct ot_leg *l = &out[i];
        char path[16];
        const char *bad = NULL;
        snprintf(path, sizeof path, "legs[%d]", i);
        memset(l, 0, sizeof *l);
        if (!cJSON_IsObject(leg))
            return fail(msg, msglen, "%s: expected an object", path);
        if (!only_keys(leg, known, &bad))
            return fail(msg, msglen, "%s.%.40s: unknown key", path, bad);
        const cJSON *mode = cJSON_GetObjectItemCaseSensitive(leg, "mode");
        if (cJSON_IsString(mode) && !strcmp(mode->valuestring, "ground"))
            l->mode = OT_LEG_GROUND;
        else if (cJSON_IsString(mode) && !strcmp(mode->valuestring, "air"))
            l->mode = OT_LEG_AIR;
        else
            return fail(msg, msglen, "%s.mode: expected ground or air", path);
        if ((rc = get_place(leg, "from", &l->from, path, msg, msglen)) ||
            (rc = get_place(leg, "to", &l->to, path, msg, msglen)) ||
            (rc = get_time(leg, "planned_departure", &l->planned_departure, path, msg, msglen)) ||
            (rc = get_time(leg, "planned_arrival", &l->planned_arrival, path, msg, msglen)) ||
            (rc = get_text(leg, "carrier", 0, l->carrier, sizeof l->carrier, path, msg, msglen)) ||
            (rc = get_text(leg, "flight", 0, l->flight, sizeof l->flight, path, msg, msglen)))
            return rc;
        if (l->planned_arrival <= l->planned_departure)
            return fail(msg, msglen, "%s.planned_arrival: must be after planned_departure", path);
        if (i > 0 && l->planned_departure < out[i - 1].planned_arrival)
            return fail(msg, msglen,
                        "%s.planned_departure: before legs[%d].planned_arrival (legs are in "
                        "order)",
                        path, i - 1);
    }
    *n = (size_t)count;
    return OT_OK;
}

enum ot_err ot_legs_parse_text(const char *text, struct ot_leg *out, size_t *n, char *msg,
                               size_t msglen)
{
    *n = 0;
    if (!text || !*text)
        return OT_OK;
    cJSON *arr = cJSON_Parse(text);
    if (!arr)
        return fail(msg, msglen, "legs: not JSON");
    enum ot_err rc = ot_legs_parse(arr, out, n, msg, msglen);
    cJSON_Delete(arr);
    return rc;
}

static cJSON *place_json(const struct ot_leg_place *p)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "name", p->name) ||
        !cJSON_AddNumberToObject(o, "lat", p->lat) || !cJSON_AddNumberToObject(o, "lon", p->lon) ||
        (p->radius_m > 0 && !cJSON_AddNumberToObject(o, "radius_m", p->radius_m))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

cJSON *ot_legs_json(const struct ot_leg *legs, size_t n)
{
    char iso[40];
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr && i < n; i++) {
        const struct ot_leg *l = &legs[i];
        cJSON *o = cJSON_CreateObject();
        cJSON *from = place_json(&l->from), *to = place_json(&l->to);
        int ok = o && from && to && cJSON_AddItemToArray(arr, o);
        if (!ok) {
            cJSON_Delete(o);
            cJSON_Delete(from);
            cJSON_Delete(to);
            cJSON_Delete(arr);
            return NULL;
        }
        cJSON_AddStringToObject(o, "mode", l->mode == OT_LEG_AIR ? "air" : "ground");
        cJSON_AddItemToObject(o, "from", from);
        cJSON_AddItemToObject(o, "to", to);
        cJSON_AddStringToObject(o, "planned_departure",
                                ot_time_format_iso(l->planned_departure, iso, sizeof iso));
        cJSON_AddStringToObject(o, "planned_arrival",
                                ot_time_format_iso(l->planned_arrival, iso, sizeof iso));
        if (l->carrier[0])
            cJSON_AddStringToObject(o, "carrier", l->carrier);
        if (l->flight[0])
            cJSON_AddStringToObject(o, "flight", l->flight);
    }
    return arr;
}
