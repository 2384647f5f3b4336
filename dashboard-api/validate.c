/* validate.c - strict parsing of what clients send: JSON bodies, query
 * parameters, static file paths. Pure functions (no I/O), unit-tested in
 * tests/unit/test_api_validate.c. Every failure names the offending key so
 * the client can fix its request; unknown keys are refused rather than
 * silently ignored. */
#include "api.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ot_geo.h"
#include "ot_parse.h"
#include "ot_reading.h"
#include "ot_time.h"

static enum ot_err fail(char *field, size_t fieldlen, const char *name, char *msg, size_t msglen,
                        const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static enum ot_err fail(char *field, size_t fieldlen, const char *name, char *msg, size_t msglen,
                        const char *fmt, ...)
{
    va_list ap;
    snprintf(field, fieldlen, "%s", name);
    va_start(ap, fmt);
    vsnprintf(msg, msglen, fmt, ap);
    va_end(ap);
    return OT_ERR_INVAL;
}

int api__text_valid(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return 0;
    }
    return 1;
}

int api__donation_code_valid(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == ' ' || c == '.' || c == '_' || c == '/' || c == ':' || c == '-' ||
                 (c == '*' && i == n - 1); /* an ISBT 128 check character */
        if (!ok)
            return 0;
    }
    return 1;
}

/* Copies a string member; required or optional (absent -> ""). */
static int get_str(const cJSON *o, const char *key, int required, size_t max, char *out,
                   size_t outlen, const char *path, char *field, size_t fieldlen, char *msg,
                   size_t msglen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    out[0] = '\0';
    if (!v || cJSON_IsNull(v)) {
        if (required) {
            fail(field, fieldlen, path, msg, msglen, "%s: required", path);
            return -1;
        }
        return 0;
    }
    if (!cJSON_IsString(v) || !api__text_valid(v->valuestring, max) ||
        strlen(v->valuestring) >= outlen) {
        fail(field, fieldlen, path, msg, msglen,
             "%s: expected a string of at most %zu printable characters", path, max);
        return -1;
    }
    if (required && v->valuestring[0] == '\0') {
        fail(field, fieldlen, path, msg, msglen, "%s: must not be empty", path);
        return -1;
    }
    snprintf(out, outlen, "%s", v->valuestring);
    return 0;
}

static int get_num(const cJSON *o, const char *key, double min, double max, double *out,
                   const char *path, char *field, size_t fieldlen, char *msg, size_t msglen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v) {
        fail(field, fieldlen, path, msg, msglen, "%s: required", path);
        return -1;
    }
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < min ||
        v->valuedouble > max) {
        fail(field, fieldlen, path, msg, msglen, "%s: expected a number %g..%g", path, min, max);
        return -1;
    }
    *out = v->valuedouble;
    return 0;
}

/* Refuses members not in known. */
static int known_keys(const cJSON *o, const char *const *known, const char *prefix, char *field,
                      size_t fieldlen, char *msg, size_t msglen)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, o)
    {
        int ok = 0;
        for (const char *const *k = known; *k; k++)
            if (it->string && strcmp(it->string, *k) == 0)
                ok = 1;
        if (!ok) {
            char path[160];
            snprintf(path, sizeof path, "%s%.100s", prefix, it->string ? it->string : "?");
            fail(field, fieldlen, path, msg, msglen, "%s: unknown key", path);
            return -1;
        }
    }
    return 0;
}

static int get_place(const cJSON *o, const char *key, struct api_place *out, char *field,
                     size_t fieldlen, char *msg, size_t msglen)
{
    static const char *const known[] = {"name", "lat", "lon", NULL};
    char path[64];
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!p || !cJSON_IsObject(p)) {
        fail(field, fieldlen, key, msg, msglen, "%s: expected an object {name, lat, lon}", key);
        return -1;
    }
    snprintf(path, sizeof path, "%s.", key);
    if (known_keys(p, known, path, field, fieldlen, msg, msglen))
        return -1;
    snprintf(path, sizeof path, "%s.name", key);
    if (get_str(p, "name", 1, 128, out->name, sizeof out->name, path, field, fieldlen, msg, msglen))
        return -1;
    snprintf(path, sizeof path, "%s.lat", key);
    if (get_num(p, "lat", -90, 90, &out->lat, path, field, fieldlen, msg, msglen))
        return -1;
    snprintf(path, sizeof path, "%s.lon", key);
    if (get_num(p, "lon", -180, 180, &out->lon, path, field, fieldlen, msg, msglen))
        return -1;
    return 0;
}

enum ot_err api__shipment_parse(const cJSON *body, int64_t now_ms, int64_t skew_ms,
                                struct api_shipment_in *out, char *field, size_t fieldlen,
                                char *msg, size_t msglen)
{
    static const char *const known[] = {
        "container",   "profile", "donation_code", "cross_clamp_at", "origin",
        "destination", "mode",    "legs",          "laterality",     "abo",
        NULL};
    char when[40];
    memset(out, 0, sizeof *out);
    if (!cJSON_IsObject(body))
        return fail(field, fieldlen, "", msg, msglen, "body: expected a JSON object");
    if (known_keys(body, known, "", field, fieldlen, msg, msglen))
        return OT_ERR_INVAL;
    if (get_str(body, "container", 1, 64, out->container, sizeof out->container, "container", field,
                fieldlen, msg, msglen))
        return OT_ERR_INVAL;
    if (!ot_id_valid(out->container))
        return fail(field, fieldlen, "container", msg, msglen,
                    "container: must match [A-Za-z0-9_-]{1,64}");
    if (get_str(body, "profile", 1, 47, out->profile, sizeof out->profile, "profile", field,
                fieldlen, msg, msglen))
        return OT_ERR_INVAL;
    if (get_str(body, "donation_code", 1, 64, out->donation_code, sizeof out->donation_code,
                "donation_code", field, fieldlen, msg, msglen))
        return OT_ERR_INVAL;
    if (!api__donation_code_valid(out->donation_code))
        return fail(field, fieldlen, "donation_code", msg, msglen,
                    "donation_code: 1..64 characters of A-Z a-z 0-9 space . _ / : -");
    char want[2];
    if (api__din_check(out->donation_code, want) < 0)
        return fail(field, fieldlen, "donation_code", msg, msglen,
                    "donation_code: ISBT 128 DIN check character %c is wrong (ISO 7064 mod "
                    "37-2 gives %c)",
                    want[1], want[0]);
    if (get_str(body, "cross_clamp_at", 1, 39, when, sizeof when, "cross_clamp_at", field, fieldlen,
                msg, msglen))
        return OT_ERR_INVAL;
    if (ot_time_parse_iso(when, &out->cross_clamp_at))
        return fail(field, fieldlen, "cross_clamp_at", msg, msglen,
                    "cross_clamp_at: expected RFC 3339 time like 2026-11-23T04:10:00Z");
    if (out->cross_clamp_at > now_ms + skew_ms)
        return fail(field, fieldlen, "cross_clamp_at", msg, msglen,
                    "cross_clamp_at: is in the future");
    if (out->cross_clamp_at < now_ms - 7LL * 24 * 3600 * 1000)
        return fail(field, fieldlen, "cross_clamp_at", msg, msglen,
                    "cross_clamp_at: more than 7 days ago");
    if (get_place(body, "origin", &out->origin, field, fieldlen, msg, msglen) ||
        get_place(body, "destination", &out->destination, field, fieldlen, msg, msglen))
        return OT_ERR_INVAL;
    if (get_str(body, "mode", 1, 7, out->mode, sizeof out->mode, "mode", field, fieldlen, msg,
                msglen))
        return OT_ERR_INVAL;
    if (strcmp(out->mode, "ground") && strcmp(out->mode, "air") && strcmp(out->mode, "mixed"))
        return fail(field, fieldlen, "mode", msg, msglen, "mode: expected ground, air or mixed");
    if (get_str(body, "laterality", 0, 7, out->laterality, sizeof out->laterality, "laterality",
                field, fieldlen, msg, msglen))
        return OT_ERR_INVAL;
    if (out->laterality[0] && !api__laterality_valid(out->laterality))
        return fail(field, fieldlen, "laterality", msg, msglen,
                    "laterality: expected left, right or both");
    if (get_str(body, "abo", 0, 3, out->abo, sizeof out->abo, "abo", field, fieldlen, msg,
                msglen) ||
        (out->abo[0] && !api__abo_valid(out->abo)))
        return fail(field, fieldlen, "abo", msg, msglen,
                    "abo: expected O, A, B or AB, optionally followed by + or -");
    const cJSON *legs = cJSON_GetObjectItemCaseSensitive(body, "legs");
    char why[256];
    if (legs && !cJSON_IsNull(legs) &&
        api__legs_parse(legs, &out->destination, out->legs, &out->n_legs, why, sizeof why))
        return fail(field, fieldlen, "legs", msg, msglen, "%s", why);
    return OT_OK;
}

enum ot_err api__redirect_parse(const cJSON *body, struct api_redirect_in *out, char *msg,
                                size_t msglen)
{
    static const char *const known[] = {"destination", "legs", "comment", NULL};
    char field[64], why[256];
    memset(out, 0, sizeof *out);
    if (known_keys(body, known, "", field, sizeof field, msg, msglen))
        return OT_ERR_INVAL;
    const cJSON *dest = cJSON_GetObjectItemCaseSensitive(body, "destination");
    if (dest) {
        if (get_place(body, "destination", &out->destination, field, sizeof field, msg, msglen))
            return OT_ERR_INVAL;
        out->has_dest = 1;
    }
    const cJSON *legs = cJSON_GetObjectItemCaseSensitive(body, "legs");
    if (legs && !cJSON_IsNull(legs)) {
        if (ot_legs_parse(legs, out->legs, &out->n_legs, why, sizeof why))
            return fail(field, sizeof field, "legs", msg, msglen, "%s", why);
        out->legs_json = legs;
    }
    if (!out->has_dest && !out->n_legs)
        return fail(field, sizeof field, "destination", msg, msglen,
                    "destination or legs: a redirect changes at least one");
    if (get_str(body, "comment", 0, 1000, out->comment, sizeof out->comment, "comment", field,
                sizeof field, msg, msglen))
        return OT_ERR_INVAL;
    return OT_OK;
}

int api__laterality_valid(const char *s)
{
    return !strcmp(s, "left") || !strcmp(s, "right") || !strcmp(s, "both");
}

int api__abo_valid(const char *s)
{
    size_t n = strlen(s);
    if (n && (s[n - 1] == '+' || s[n - 1] == '-'))
        n--;
    return (n == 1 && (s[0] == 'O' || s[0] == 'A' || s[0] == 'B')) ||
           (n == 2 && s[0] == 'A' && s[1] == 'B');
}

int api__legs_parse(const cJSON *arr, const struct api_place *dest, struct ot_leg *legs, size_t *n,
                    char *msg, size_t msglen)
{
    if (ot_legs_parse(arr, legs, n, msg, msglen))
        return -1;
    const struct ot_leg *last = &legs[*n - 1];
    double km = ot_geo_distance_km(last->to.lat, last->to.lon, dest->lat, dest->lon);
    if (km > 10.0) {
        snprintf(msg, msglen,
                 "legs[%zu].to: %.0f km from the destination (the last leg ends there)", *n - 1,
                 km);
        return -1;
    }
    return 0;
}

enum ot_err api__custody_parse(const cJSON *body, struct api_custody_in *out, char *field,
                               size_t fieldlen, char *msg, size_t msglen)
{
    static const char *const known[] = {"type", "from",    "to",     "witness", "place",
                                        "seal", "comment", "verify", "at",      NULL};
    static const char *const types[] = {"packed",   "handoff",    "departed",  "arrived",
                                        "received", "opened",     "discarded", "note",
                                        "checkin",  "reperfused", NULL};
    memset(out, 0, sizeof *out);
    if (!cJSON_IsObject(body))
        return fail(field, fieldlen, "", msg, msglen, "body: expected a JSON object");
    if (known_keys(body, known, "", field, fieldlen, msg, msglen))
        return OT_ERR_INVAL;
    if (get_str(body, "type", 1, 15, out->type, sizeof out->type, "type", field, fieldlen, msg,
                msglen))
        return OT_ERR_INVAL;
    int ok = 0;
    for (const char *const *t = types; *t; t++)
        if (strcmp(out->type, *t) == 0)
            ok = 1;
    if (!ok)
        return fail(field, fieldlen, "type", msg, msglen,
                    "type: expected packed, handoff, departed, arrived, received, opened, "
                    "discarded, note, checkin or reperfused");
    if (get_str(body, "from", 0, 128, out->from, sizeof out->from, "from", field, fieldlen, msg,
                msglen) ||
        get_str(body, "to", 0, 128, out->to, sizeof out->to, "to", field, fieldlen, msg, msglen) ||
        get_str(body, "witness", 0, 128, out->witness, sizeof out->witness, "witness", field,
                fieldlen, msg, msglen) ||
        get_str(body, "seal", 0, 64, out->seal, sizeof out->seal, "seal", field, fieldlen, msg,
                msglen) ||
        get_str(body, "comment", 0, 1000, out->comment, sizeof out->comment, "comment", field,
                fieldlen, msg, msglen))
        return OT_ERR_INVAL;
    if (strcmp(out->type, "handoff") == 0) {
        if (!out->to[0])
            return fail(field, fieldlen, "to", msg, msglen,
                        "to: a handoff names the receiving party");
        if (!out->witness[0])
            return fail(field, fieldlen, "witness", msg, msglen,
                        "witness: a handoff names a second person who verified label and seal");
    }
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(body, "verify");
    if (strcmp(out->type, "checkin") == 0) {
        static const char *const vknown[] = {"donation_code", "profile", "laterality", "abo", NULL};
        if (!out->witness[0])
            return fail(field, fieldlen, "witness", msg, msglen,
                        "witness: a check-in names a second person who read the label too");
        if (!cJSON_IsObject(ver))
            return fail(field, fieldlen, "verify", msg, msglen,
                        "verify: a check-in states the label: {donation_code, profile, "
                        "laterality, abo}");
        if (known_keys(ver, vknown, "verify.", field, fieldlen, msg, msglen) ||
            get_str(ver, "donation_code", 1, 64, out->v_donation_code, sizeof out->v_donation_code,
                    "verify.donation_code", field, fieldlen, msg, msglen) ||
            get_str(ver, "profile", 1, 47, out->v_profile, sizeof out->v_profile, "verify.profile",
                    field, fieldlen, msg, msglen) ||
            get_str(ver, "laterality", 0, 7, out->v_laterality, sizeof out->v_laterality,
                    "verify.laterality", field, fieldlen, msg, msglen) ||
            get_str(ver, "abo", 0, 3, out->v_abo, sizeof out->v_abo, "verify.abo", field, fieldlen,
                    msg, msglen))
            return OT_ERR_INVAL;
        out->has_verify = 1;
    } else if (ver) {
        return fail(field, fieldlen, "verify", msg, msglen, "verify: only for a checkin");
    }
    const cJSON *at = cJSON_GetObjectItemCaseSensitive(body, "at");
    if (at && !cJSON_IsNull(at)) {
        if (strcmp(out->type, "reperfused") != 0)
            return fail(field, fieldlen, "at", msg, msglen, "at: only for reperfused");
        if (!cJSON_IsString(at) || ot_time_parse_iso(at->valuestring, &out->at))
            return fail(field, fieldlen, "at", msg, msglen,
                        "at: expected RFC 3339 time like 2026-11-23T04:10:00Z");
    }
    const cJSON *pl = cJSON_GetObjectItemCaseSensitive(body, "place");
    if (pl && !cJSON_IsNull(pl)) {
        static const char *const pknown[] = {"lat", "lon", NULL};
        if (!cJSON_IsObject(pl))
            return fail(field, fieldlen, "place", msg, msglen,
                        "place: expected an object {lat, lon}");
        if (known_keys(pl, pknown, "place.", field, fieldlen, msg, msglen) ||
            get_num(pl, "lat", -90, 90, &out->lat, "place.lat", field, fieldlen, msg, msglen) ||
            get_num(pl, "lon", -180, 180, &out->lon, "place.lon", field, fieldlen, msg, msglen))
            return OT_ERR_INVAL;
        out->has_place = 1;
    }
    return OT_OK;
}

int api__parse_limit(const char *s, int64_t def, int64_t max, int64_t *out)
{
    if (!s) {
        *out = def;
        return 0;
    }
    return ot_parse_i64(s, 1, max, out);
}

int api__parse_time(const char *s, int64_t *ms)
{
    if (!s || !*s)
        return -1;
    if (ot_parse_i64(s, 0, 253402300799999LL, ms) == 0)
        return 0;
    return ot_time_parse_iso(s, ms);
}

int api__parse_cursor(const char *s, int64_t *a, int64_t *b)
{
    char left[24];
    const char *dot = strchr(s, '.');
    *b = 0;
    if (!dot)
        return ot_parse_i64(s, 0, INT64_MAX, a);
    size_t n = (size_t)(dot - s);
    if (n == 0 || n >= sizeof left)
        return -1;
    memcpy(left, s, n);
    left[n] = '\0';
    if (ot_parse_i64(left, 0, INT64_MAX, a))
        return -1;
    return ot_parse_i64(dot + 1, 0, INT64_MAX, b);
}

int api__static_path(const char *url, char *out, size_t outlen)
{
    if (!url || url[0] != '/')
        return -1;
    if (strcmp(url, "/") == 0)
        url = "/index.html";
    const char *p = url + 1;
    size_t n = strlen(p);
    if (n == 0 || n >= outlen || n > 1024)
        return -1;
    /* walk segments: none empty, none "." or "..", no hidden files, no
     * backslashes or control characters */
    const char *seg = p;
    for (size_t i = 0; i <= n; i++) {
        char c = p[i];
        if (c == '/' || c == '\0') {
            size_t len = (size_t)(p + i - seg);
            if (len == 0 || seg[0] == '.')
                return -1;
            seg = p + i + 1;
            continue;
        }
        if ((unsigned char)c < 0x20 || c == '\\' || c == 0x7f)
            return -1;
    }
    memcpy(out, p, n + 1);
    return 0;
}

const char *api__content_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } map[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".map", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".jpg", "image/jpeg"},
        {".jpeg", "image/jpeg"},
        {".gif", "image/gif"},
        {".ico", "image/x-icon"},
        {".webp", "image/webp"},
        {".woff", "font/woff"},
        {".woff2", "font/woff2"},
        {".ttf", "font/ttf"},
        {".txt", "text/plain; charset=utf-8"},
        {".geojson", "application/geo+json"},
        {".webmanifest", "application/manifest+json"},
        {".wasm", "application/wasm"},
    };
    const char *dot = strrchr(name, '.');
    const char *slash = strrchr(name, '/');
    if (!dot || (slash && dot < slash))
        return "application/octet-stream";
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(dot, map[i].ext) == 0)
            return map[i].type;
    return "application/octet-stream";
}

int api__sse_format(char *buf, size_t cap, int64_t id, const char *event, const char *data)
{
    size_t used = 0;
    int n = snprintf(buf, cap, "id: %lld\nevent: %s\n", (long long)id, event);
    if (n < 0 || (size_t)n >= cap)
        return -1;
    used = (size_t)n;
    const char *p = data;
    for (;;) {
        const char *nl = strpbrk(p, "\r\n");
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (used + 6 + len + 1 >= cap)
            return -1;
        memcpy(buf + used, "data: ", 6);
        used += 6;
        memcpy(buf + used, p, len);
        used += len;
        buf[used++] = '\n';
        if (!nl)
            break;
        p = nl + 1;
        if (nl[0] == '\r' && nl[1] == '\n')
            p++;
    }
    if (used + 2 > cap)
        return -1;
    buf[used++] = '\n';
    buf[used] = '\0';
    return (int)used;
}
