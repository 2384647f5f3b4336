/* ot_preservation.c - loader of config/preservation.json.
 *
 * How it works: the file is one JSON object
 *   {"defaults": {FIELD: value, …, "sources": {FIELD: "citation"}},
 *    "profiles": {"kidney": {…}, "kidney/hypothermic_machine_perfusion": {…}}}
 * A profile is built in layers: the top-level "defaults", then (for a mode
 * variant "base/mode") the base profile "base", then the profile's own keys.
 * Each layer may only hold the thirteen known fields plus "sources" and
 * "notes"; anything else is an error naming file and key.
 *
 * What it guarantees: after loading, every profile has every field set,
 * every value inside its documented range, temp_min_c < temp_max_c, a
 * hysteresis smaller than half the band, and a non-empty published source
 * for every field (a source travels with the layer that set the value, so a
 * profile cannot override a number and keep the old number's citation).
 * On any failure nothing is returned and err reads
 *   config/preservation.json: profiles.heart.temp_min_c: expected a number -200..60
 */
#include "ot_preservation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ot_conf.h"
#include "ot_log.h"

#define PRES_MAX_PROFILES 256

enum pres_kind { PRES_NUM, PRES_INT };

struct pres_field {
    const char *key;
    enum pres_kind kind;
    double min, max;
    size_t off;
};

#define PRES_F(k, kind, lo, hi)                                                                    \
    {                                                                                              \
#k, kind, lo, hi, offsetof(struct ot_preservation, k)                                      \
    }

/* Ranges are sanity bounds (a typo like 40 instead of 4 is caught by the
 * clinical band check of the reviewer, a unit error like minutes for seconds
 * mostly by these). */
static const struct pres_field pres_fields[] = {
    PRES_F(temp_min_c, PRES_NUM, -200, 60),
    PRES_F(temp_max_c, PRES_NUM, -200, 60),
    PRES_F(excursion_grace_s, PRES_INT, 0, 86400),
    PRES_F(max_cold_ischemia_min, PRES_INT, 0, 20160), /* 0: not applicable (tissue) */
    PRES_F(warn_fraction, PRES_NUM, 0.05, 0.99),
    PRES_F(shock_max_g, PRES_NUM, 0.1, 100),
    PRES_F(lid_open_max_s, PRES_INT, 0, 3600),
    PRES_F(hysteresis_c, PRES_NUM, 0, 10),
    PRES_F(battery_low_pct, PRES_NUM, 1, 95),
    PRES_F(gnss_lost_s, PRES_INT, 1, 86400),
    PRES_F(sensor_silent_s, PRES_INT, 1, 86400),
    PRES_F(escalate_after_s, PRES_INT, 1, 86400),
    PRES_F(forecast_horizon_s, PRES_INT, 0, 86400), /* 0: forecast off */
};
#define PRES_NFIELDS (sizeof pres_fields / sizeof pres_fields[0])

static const char *const pres_layer_keys[] = {"temp_min_c",
                                              "temp_max_c",
                                              "excursion_grace_s",
                                              "max_cold_ischemia_min",
                                              "warn_fraction",
                                              "shock_max_g",
                                              "lid_open_max_s",
                                              "hysteresis_c",
                                              "battery_low_pct",
                                              "gnss_lost_s",
                                              "sensor_silent_s",
                                              "escalate_after_s",
                                              "forecast_horizon_s",
                                              "sources",
                                              "notes",
                                              NULL};

static const char *const pres_top_keys[] = {"defaults", "profiles", "notes", "version", NULL};

struct ot_preservation_set {
    size_t n;
    struct ot_preservation *items;
};

/* A profile under construction: which fields are set, and their sources. */
struct pres_build {
    struct ot_preservation p;
    int set[PRES_NFIELDS];
    int sourced[PRES_NFIELDS];
};

static int pres_name_valid(const char *s)
{
    size_t n = strlen(s);
    int slashes = 0;
    if (n == 0 || n >= sizeof(((struct ot_preservation *)0)->name))
        return 0;
    if (s[0] < 'a' || s[0] > 'z')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '/') {
            if (++slashes > 1 || i + 1 == n || s[i + 1] == '/')
                return 0;
            continue;
        }
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'))
            return 0;
    }
    return 1;
}

/* Applies one layer (defaults, base profile or the profile itself). */
static enum ot_err pres_apply(struct ot_conf *c, const cJSON *layer, const char *where,
                              struct pres_build *b)
{
    enum ot_err rc = ot_conf_known(c, layer, where, pres_layer_keys);
    if (rc)
        return rc;
    const cJSON *notes = cJSON_GetObjectItemCaseSensitive(layer, "notes");
    if (notes && !cJSON_IsString(notes) && !cJSON_IsArray(notes))
        return ot_conf_fail(c, where, "notes", "expected a string or an array of strings");
    const cJSON *sources = NULL;
    rc = ot_conf_child(c, layer, where, "sources", cJSON_Object, 0, &sources);
    if (rc)
        return rc;
    char swhere[200];
    snprintf(swhere, sizeof swhere, "%s%ssources", where, *where ? "." : "");
    if (sources) {
        /* sources may only name fields */
        static const char *const fkeys[] = {
            "temp_min_c",         "temp_max_c",  "excursion_grace_s", "max_cold_ischemia_min",
            "warn_fraction",      "shock_max_g", "lid_open_max_s",    "hysteresis_c",
            "battery_low_pct",    "gnss_lost_s", "sensor_silent_s",   "escalate_after_s",
            "forecast_horizon_s", NULL};
        rc = ot_conf_known(c, sources, swhere, fkeys);
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < PRES_NFIELDS; i++) {
        const struct pres_field *f = &pres_fields[i];
        const cJSON *it = cJSON_GetObjectItemCaseSensitive(layer, f->key);
        const cJSON *src = sources ? cJSON_GetObjectItemCaseSensitive(sources, f->key) : NULL;
        if (src) {
            if (!cJSON_IsString(src) || !src->valuestring || strlen(src->valuestring) < 4)
                return ot_conf_fail(c, swhere, f->key, "expected a citation string");
        }
        if (!it) {
            if (src) /* re-citing an inherited value is fine */
                b->sourced[i] = 1;
            continue;
        }
        char *dst = (char *)&b->p + f->off;
        if (f->kind == PRES_NUM) {
            double v;
            rc = ot_conf_num(c, layer, where, f->key, 1, 0, f->min, f->max, &v);
            if (rc)
                return rc;
            memcpy(dst, &v, sizeof v);
        } else {
            int64_t v;
            rc = ot_conf_int(c, layer, where, f->key, 1, 0, (int64_t)f->min, (int64_t)f->max, &v);
            if (rc)
                return rc;
            memcpy(dst, &v, sizeof v);
        }
        b->set[i] = 1;
        b->sourced[i] = src != NULL; /* a new value needs its own citation */
    }
    return OT_OK;
}

static enum ot_err pres_build_one(struct ot_conf *c, const cJSON *defaults, const cJSON *profiles,
                                  const cJSON *prof, struct ot_preservation *out)
{
    enum ot_err rc;
    struct pres_build b;
    char where[160];
    const char *name = prof->string;
    memset(&b, 0, sizeof b);
    snprintf(where, sizeof where, "profiles.%.100s", name);
    if (!pres_name_valid(name))
        return ot_conf_fail(c, "profiles", name,
                            "profile name must match [a-z][a-z0-9_]* or base/mode, < 48 chars");
    if (!cJSON_IsObject(prof))
        return ot_conf_fail(c, "profiles", name, "expected an object");
    snprintf(b.p.name, sizeof b.p.name, "%s", name);
    if (defaults) {
        rc = pres_apply(c, defaults, "defaults", &b);
        if (rc)
            return rc;
    }
    const char *slash = strchr(name, '/');
    if (slash) {
        char base[48];
        snprintf(base, sizeof base, "%.*s", (int)(slash - name), name);
        const cJSON *bp = cJSON_GetObjectItemCaseSensitive(profiles, base);
        if (!bp)
            return ot_conf_fail(c, "profiles", name, "mode variant of unknown profile \"%s\"",
                                base);
        if (!cJSON_IsObject(bp))
            return ot_conf_fail(c, "profiles", base, "expected an object");
        char bwhere[160];
        snprintf(bwhere, sizeof bwhere, "profiles.%s", base);
        rc = pres_apply(c, bp, bwhere, &b);
        if (rc)
            return rc;
    }
    rc = pres_apply(c, prof, where, &b);
    if (rc)
        return rc;
    for (size_t i = 0; i < PRES_NFIELDS; i++) {
        if (!b.set[i])
            return ot_conf_fail(c, where, pres_fields[i].key,
                                "required %s is missing (not in the profile nor in defaults)",
                                pres_fields[i].kind == PRES_NUM ? "number" : "integer");
        if (!b.sourced[i])
            return ot_conf_fail(c, where, pres_fields[i].key,
                                "value has no published source (add sources.%s)",
                                pres_fields[i].key);
    }
    if (!(b.p.temp_min_c < b.p.temp_max_c))
        return ot_conf_fail(c, where, "temp_min_c", "must be below temp_max_c (%g >= %g)",
                            b.p.temp_min_c, b.p.temp_max_c);
    if (!(b.p.hysteresis_c * 2 < b.p.temp_max_c - b.p.temp_min_c))
        return ot_conf_fail(c, where, "hysteresis_c", "must be below half the band (%g)",
                            (b.p.temp_max_c - b.p.temp_min_c) / 2);
    *out = b.p;
    return OT_OK;
}

enum ot_err ot_preservation_load(const char *path, struct ot_preservation_set **out, char *err,
                                 size_t errlen)
{
    enum ot_err rc;
    struct ot_conf c;
    struct ot_preservation_set *set = NULL;
    const cJSON *defaults = NULL, *profiles = NULL, *it;
    *out = NULL;
    rc = ot_conf_load(&c, path);
    if (rc)
        goto fail;
    cJSON_ArrayForEach(it, c.root)
    {
        int known = 0;
        for (const char *const *k = pres_top_keys; *k; k++)
            known |= it->string && strcmp(it->string, *k) == 0;
        if (!known)
            ot_warn("preservation: unknown top-level key ignored file=%s key=%s", path,
                    it->string ? it->string : "?");
    }
    rc = ot_conf_child(&c, c.root, "", "defaults", cJSON_Object, 0, &defaults);
    if (rc)
        goto fail;
    rc = ot_conf_child(&c, c.root, "", "profiles", cJSON_Object, 1, &profiles);
    if (rc)
        goto fail;
    int n = cJSON_GetArraySize(profiles);
    if (n < 1 || n > PRES_MAX_PROFILES) {
        rc = ot_conf_fail(&c, "", "profiles", "expected 1..%d profiles", PRES_MAX_PROFILES);
        goto fail;
    }
    set = calloc(1, sizeof *set);
    if (!set) {
        rc = OT_ERR_NOMEM;
        snprintf(c.err, sizeof c.err, "%s: out of memory", path);
        goto fail;
    }
    set->items = calloc((size_t)n, sizeof *set->items);
    if (!set->items) {
        rc = OT_ERR_NOMEM;
        snprintf(c.err, sizeof c.err, "%s: out of memory", path);
        goto fail;
    }
    cJSON_ArrayForEach(it, profiles)
    {
        for (size_t j = 0; j < set->n; j++)
            if (strcmp(set->items[j].name, it->string) == 0) {
                rc = ot_conf_fail(&c, "profiles", it->string, "duplicate profile");
                goto fail;
            }
        rc = pres_build_one(&c, defaults, profiles, it, &set->items[set->n]);
        if (rc)
            goto fail;
        set->n++;
    }
    ot_conf_free(&c);
    *out = set;
    return OT_OK;
fail:
    if (err && errlen)
        snprintf(err, errlen, "%s", c.err[0] ? c.err : ot_strerror(rc));
    ot_conf_free(&c);
    ot_preservation_free(set);
    return rc;
}

void ot_preservation_free(struct ot_preservation_set *p)
{
    if (!p)
        return;
    free(p->items);
    free(p);
}

const struct ot_preservation *ot_preservation_find(const struct ot_preservation_set *p,
                                                   const char *name)
{
    if (!p || !name)
        return NULL;
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->items[i].name, name) == 0)
            return &p->items[i];
    return NULL;
}

size_t ot_preservation_count(const struct ot_preservation_set *p)
{
    return p ? p->n : 0;
}

const struct ot_preservation *ot_preservation_at(const struct ot_preservation_set *p, size_t i)
{
    return (p && i < p->n) ? &p->items[i] : NULL;
}
