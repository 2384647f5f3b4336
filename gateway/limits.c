/* limits.c - the preservation band of the container's open shipment, as the
 * collector publishes it (retained {root}/containers/{c}/limits, SPEC v1.1):
 *   {"v":1,"container":C,"shipment":ID,"profile":"heart","temp_min_c":2,
 *    "temp_max_c":8,"excursion_grace_s":600,"ts":…}
 * An empty retained message clears it (the shipment ended). The gateway
 * keeps the last one in <spool dir>/limits.json, written durably, so it
 * judges the band after a restart or a power cut with the broker out of
 * reach. The file holds the same JSON, so loading it is parsing it. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "durable.h"
#include "gateway.h"
#include "ot_conf.h"
#include "ot_log.h"

#define LIMITS_FILE "limits.json"
#define LIMITS_MAX_BYTES 2048

static int num(const cJSON *o, const char *k, int need, double lo, double hi, double *out,
               char *err, size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!v && !need)
        return 0;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < lo ||
        v->valuedouble > hi) {
        snprintf(err, errlen, "%s: expected a number %g..%g", k, lo, hi);
        return -1;
    }
    *out = v->valuedouble;
    return 0;
}

int limits__parse(const char *buf, size_t len, const char *container, struct gw_limits *out,
                  char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (len == 0)
        return 0; /* cleared */
    if (len > LIMITS_MAX_BYTES) {
        snprintf(err, errlen, "larger than %d bytes", LIMITS_MAX_BYTES);
        return -1;
    }
    cJSON *o = cJSON_ParseWithLength(buf, len);
    int rc = -1;
    double v = 0, grace = 0, ts = 0;
    if (!cJSON_IsObject(o)) {
        snprintf(err, errlen, "not a JSON object");
        goto out;
    }
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "container");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(o, "shipment");
    const cJSON *pr = cJSON_GetObjectItemCaseSensitive(o, "profile");
    if (num(o, "v", 1, 1, 1, &v, err, errlen))
        goto out;
    if (!cJSON_IsString(c) || strcmp(c->valuestring, container)) {
        snprintf(err, errlen, "container: expected \"%s\"", container);
        goto out;
    }
    if (num(o, "temp_min_c", 1, -100, 100, &out->temp_min_c, err, errlen) ||
        num(o, "temp_max_c", 1, -100, 100, &out->temp_max_c, err, errlen) ||
        num(o, "excursion_grace_s", 1, 0, 86400, &grace, err, errlen) ||
        num(o, "ts", 0, 0, (double)OT_SEQ_MAX, &ts, err, errlen))
        goto out;
    if (!(out->temp_min_c < out->temp_max_c)) {
        snprintf(err, errlen, "temp_min_c: expected below temp_max_c");
        goto out;
    }
    if (grace != floor(grace)) {
        snprintf(err, errlen, "excursion_grace_s: expected whole seconds");
        goto out;
    }
    if (sh && cJSON_IsNumber(sh) && sh->valuedouble >= 0 && sh->valuedouble <= (double)OT_SEQ_MAX &&
        sh->valuedouble == floor(sh->valuedouble))
        snprintf(out->shipment, sizeof out->shipment, "%.0f", sh->valuedouble);
    else if (sh && cJSON_IsString(sh) && ot_id_valid(sh->valuestring))
        snprintf(out->shipment, sizeof out->shipment, "%s", sh->valuestring);
    else if (sh) {
        snprintf(err, errlen, "shipment: expected an id (number or [A-Za-z0-9_-]{1,64})");
        goto out;
    }
    if (pr && (!cJSON_IsString(pr) || strlen(pr->valuestring) >= sizeof out->profile)) {
        snprintf(err, errlen, "profile: expected a name of at most %zu bytes",
                 sizeof out->profile - 1);
        goto out;
    }
    if (pr)
        snprintf(out->profile, sizeof out->profile, "%s", pr->valuestring);
    out->grace_s = (int64_t)grace;
    out->ts = (int64_t)ts;
    out->set = 1;
    rc = 0;
out:
    cJSON_Delete(o);
    if (rc)
        memset(out, 0, sizeof *out);
    return rc;
}

int limits__same(const struct gw_limits *a, const struct gw_limits *b)
{
    if (a->set != b->set)
        return 0;
    return !a->set || (a->temp_min_c == b->temp_min_c && a->temp_max_c == b->temp_max_c &&
                       a->grace_s == b->grace_s && a->ts == b->ts &&
                       !strcmp(a->shipment, b->shipment) && !strcmp(a->profile, b->profile));
}

enum ot_err limits__save(const char *dir, const char *container, const struct gw_limits *l)
{
    if (!l->set)
        return durable__remove(-1, dir, LIMITS_FILE);
    cJSON *o = cJSON_CreateObject();
    char *js = NULL;
    enum ot_err rc = OT_ERR_NOMEM;
    if (!o || !cJSON_AddNumberToObject(o, "v", 1) ||
        !cJSON_AddStringToObject(o, "container", container) ||
        (l->shipment[0] && !cJSON_AddStringToObject(o, "shipment", l->shipment)) ||
        (l->profile[0] && !cJSON_AddStringToObject(o, "profile", l->profile)) ||
        !cJSON_AddNumberToObject(o, "temp_min_c", l->temp_min_c) ||
        !cJSON_AddNumberToObject(o, "temp_max_c", l->temp_max_c) ||
        !cJSON_AddNumberToObject(o, "excursion_grace_s", (double)l->grace_s) ||
        !cJSON_AddNumberToObject(o, "ts", (double)l->ts) || !(js = cJSON_PrintUnformatted(o)))
        goto out;
    rc = durable__write(-1, dir, LIMITS_FILE, js, strlen(js));
out:
    free(js);
    cJSON_Delete(o);
    return rc;
}

enum ot_err limits__load(const char *dir, const char *container, struct gw_limits *out)
{
    char path[600], err[160];
    char *text = NULL;
    size_t len = 0;
    memset(out, 0, sizeof *out);
    snprintf(path, sizeof path, "%s/%s", dir, LIMITS_FILE);
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? OT_OK : OT_ERR_IO;
    fclose(f);
    if (ot_file_read(path, LIMITS_MAX_BYTES, &text, &len))
        return OT_ERR_IO;
    int rc = limits__parse(text, len, container, out, err, sizeof err);
    free(text);
    if (rc || !out->set) {
        ot_error("limits file unusable, no local alarm until the collector sends limits "
                 "path=%s error=\"%s\"",
                 path, rc ? err : "empty");
        memset(out, 0, sizeof *out);
        return OT_ERR_CORRUPT;
    }
    return OT_OK;
}
