/* config.c - the gateway's JSON configuration (SPEC "Gateway", extra keys in
 * docs/gateway.md). Every error names file, key and expectation; unknown
 * keys are logged and ignored. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway.h"
#include "ot_log.h"
#include "ot_parse.h"

int config__parse_url(struct gw_device_conf *d, const char *url, char *err, size_t errlen)
{
    int64_t v;
    if (!strncmp(url, "tcp://", 6)) {
        const char *h = url + 6, *colon = strrchr(h, ':');
        size_t hl = colon ? (size_t)(colon - h) : strlen(h);
        if (hl == 0 || hl >= sizeof d->host) {
            snprintf(err, errlen, "expected tcp://host:port");
            return -1;
        }
        memcpy(d->host, h, hl);
        d->host[hl] = '\0';
        d->port = 502;
        if (colon) {
            if (ot_parse_i64(colon + 1, 1, 65535, &v)) {
                snprintf(err, errlen, "expected a port 1..65535 after the host");
                return -1;
            }
            d->port = (int)v;
        }
        d->is_rtu = 0;
        return 0;
    }
    if (!strncmp(url, "rtu:", 4)) {
        const char *p = url + 4, *q = strchr(p, '?');
        size_t pl = q ? (size_t)(q - p) : strlen(p);
        if (pl == 0 || pl >= sizeof d->tty || p[0] != '/') {
            snprintf(err, errlen, "expected rtu:/dev/ttyX?baud=9600&parity=N&data=8&stop=1");
            return -1;
        }
        memcpy(d->tty, p, pl);
        d->tty[pl] = '\0';
        d->is_rtu = 1;
        d->baud = 9600;
        d->parity = 'N';
        d->data_bits = 8;
        d->stop_bits = 1;
        char opts[256];
        if (!q)
            return 0;
        if (strlen(q + 1) >= sizeof opts) {
            snprintf(err, errlen, "options too long");
            return -1;
        }
        snprintf(opts, sizeof opts, "%s", q + 1);
        char *save = NULL;
        for (char *kv = strtok_r(opts, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
            char *eq = strchr(kv, '=');
            if (!eq) {
                snprintf(err, errlen, "option %.32s: expected key=value", kv);
                return -1;
            }
            *eq++ = '\0';
            if (!strcmp(kv, "baud") && !ot_parse_i64(eq, 50, 4000000, &v))
                d->baud = (int)v;
            else if (!strcmp(kv, "parity") && strlen(eq) == 1 && strchr("NEO", eq[0]))
                d->parity = eq[0];
            else if (!strcmp(kv, "data") && !ot_parse_i64(eq, 5, 8, &v))
                d->data_bits = (int)v;
            else if (!strcmp(kv, "stop") && !ot_parse_i64(eq, 1, 2, &v))
                d->stop_bits = (int)v;
            else {
                snprintf(err, errlen,
                         "option %.32s=%.32s: expected baud=50..4000000, parity=N|E|O, "
                         "data=5..8, stop=1|2",
                         kv, eq);
                return -1;
            }
        }
        return 0;
    }
    snprintf(err, errlen, "expected tcp://host:port or rtu:/dev/ttyX?baud=..");
    return -1;
}

static enum ot_err load_device(struct gw_config *c, const cJSON *node, size_t idx)
{
    static const char *const known[] = {"name",    "url",      "unit",          "timeout_ms",
                                        "profile", "channels", "stuck_after_s", NULL};
    struct ot_conf *cf = &c->conf;
    struct gw_device_conf *d = &c->dev[idx];
    char where[32], err[512];
    const char *profile = NULL;
    const cJSON *map = NULL;
    enum ot_err rc;
    snprintf(where, sizeof where, "devices[%zu]", idx);
    if (!cJSON_IsObject(node))
        return ot_conf_fail(cf, where, "", "expected an object");
    ot_conf_warn_unknown(cf, node, where, known);
    if ((rc = ot_conf_str(cf, node, where, "name", NULL, &d->name)) ||
        (rc = ot_conf_str(cf, node, where, "url", NULL, &d->url)) ||
        (rc = ot_conf_int(cf, node, where, "unit", 0, 1, 0, 255, &d->unit)) ||
        (rc = ot_conf_int(cf, node, where, "timeout_ms", 0, 500, 10, 60000, &d->timeout_ms)) ||
        (rc = ot_conf_int(cf, node, where, "stuck_after_s", 0, 0, 0, 86400, &d->stuck_after_s)) ||
        (rc = ot_conf_str(cf, node, where, "profile", NULL, &profile)) ||
        (rc = ot_conf_child(cf, node, where, "channels", cJSON_Object, 0, &map)))
        return rc;
    if (!ot_id_valid(d->name) || strlen(d->name) > 32)
        return ot_conf_fail(cf, where, "name", "expected [A-Za-z0-9_-]{1,32}");
    for (size_t i = 0; i < idx; i++)
        if (!strcmp(c->dev[i].name, d->name))
            return ot_conf_fail(cf, where, "name", "duplicate device name \"%s\"", d->name);
    if (config__parse_url(d, d->url, err, sizeof err))
        return ot_conf_fail(cf, where, "url", "%s", err);
    if ((rc = ot_profile_load(profile, c->profile_dir, &d->profile, err, sizeof err)))
        return ot_conf_fail(cf, where, "profile", "%s", err);
    for (size_t k = 0; k < d->profile.n; k++) {
        size_t nl = strnlen(d->profile.ch[k].name, OT_CHANNEL_NAME_MAX);
        memcpy(d->out_name[k], d->profile.ch[k].name, nl);
        d->out_name[k][nl] = '\0';
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, map)
    {
        char w2[64];
        snprintf(w2, sizeof w2, "%s.channels", where);
        size_t k = 0;
        while (k < d->profile.n && strcmp(d->profile.ch[k].name, it->string))
            k++;
        if (k == d->profile.n)
            return ot_conf_fail(cf, w2, it->string, "no such channel in profile %s",
                                d->profile.name);
        if (!cJSON_IsString(it) || !ot_channel_name_valid(it->valuestring))
            return ot_conf_fail(cf, w2, it->string, "expected a channel name [a-z][a-z0-9_]{0,31}");
        snprintf(d->out_name[k], sizeof d->out_name[k], "%s", it->valuestring);
    }
    /* output names are unique across the gateway; extra names are valid */
    for (size_t k = 0; k < d->profile.n; k++) {
        if (d->profile.ch[k].output != OT_OUT_NONE)
            continue; /* outputs are not published: their names do not matter */
        if (!ot_channel_name_valid(d->out_name[k]))
            return ot_conf_fail(cf, where, "channels",
                                "profile channel \"%s\" needs a rename to a valid name",
                                d->out_name[k]);
        for (size_t j = 0; j <= idx; j++) {
            const struct gw_device_conf *o = &c->dev[j];
            size_t lim = j == idx ? k : o->profile.n;
            for (size_t m = 0; m < lim; m++)
                if (o->profile.ch[m].output == OT_OUT_NONE &&
                    !strcmp(o->out_name[m], d->out_name[k]))
                    return ot_conf_fail(cf, where, "channels",
                                        "channel \"%s\" also comes from device %s: rename one",
                                        d->out_name[k], o->name);
        }
    }
    return OT_OK;
}

/* 1 if some device publishes a (non-output) channel under this name. */
static int provides(const struct gw_config *c, const char *name)
{
    for (size_t i = 0; i < c->n_dev; i++)
        for (size_t k = 0; k < c->dev[i].profile.n; k++)
            if (c->dev[i].profile.ch[k].output == OT_OUT_NONE &&
                !strcmp(c->dev[i].out_name[k], name))
                return 1;
    return 0;
}

/* "flight": {"detect":"off"|"auto"|"input","alt_m_above":3000,
 * "speed_kmh_above":250,"air_s":60,"ground_s":120} (docs/gateway.md). */
static enum ot_err load_flight(struct gw_config *c, const cJSON *fl)
{
    static const char *const known[] = {"detect", "alt_m_above", "speed_kmh_above",
                                        "air_s",  "ground_s",    NULL};
    struct ot_conf *cf = &c->conf;
    struct gw_flight_conf *f = &c->flight;
    const char *detect = "off";
    enum ot_err rc;
    f->detect = GW_FLIGHT_OFF;
    f->alt_m_above = 3000;
    f->speed_kmh_above = 250;
    f->air_s = 60;
    f->ground_s = 120;
    if (!fl)
        return OT_OK;
    ot_conf_warn_unknown(cf, fl, "flight", known);
    if ((rc = ot_conf_str(cf, fl, "flight", "detect", "off", &detect)) ||
        (rc = ot_conf_num(cf, fl, "flight", "alt_m_above", 0, 3000, 0, 20000, &f->alt_m_above)) ||
        (rc = ot_conf_num(cf, fl, "flight", "speed_kmh_above", 0, 250, 0, 2000,
                          &f->speed_kmh_above)) ||
        (rc = ot_conf_int(cf, fl, "flight", "air_s", 0, 60, 0, 3600, &f->air_s)) ||
        (rc = ot_conf_int(cf, fl, "flight", "ground_s", 0, 120, 0, 3600, &f->ground_s)))
        return rc;
    if (!strcmp(detect, "off"))
        return OT_OK;
    if (!strcmp(detect, "input")) {
        f->detect = GW_FLIGHT_INPUT;
        if (!provides(c, "flight_mode"))
            return ot_conf_fail(cf, "flight", "detect",
                                "input needs a device channel named flight_mode (the crew's "
                                "switch; rename one with \"channels\")");
        return OT_OK;
    }
    if (strcmp(detect, "auto"))
        return ot_conf_fail(cf, "flight", "detect", "expected off, auto or input");
    f->detect = GW_FLIGHT_AUTO;
    if (f->alt_m_above <= 0 && f->speed_kmh_above <= 0)
        return ot_conf_fail(cf, "flight", "alt_m_above",
                            "auto needs alt_m_above or speed_kmh_above above 0");
    if ((f->alt_m_above > 0 && !provides(c, "alt_m")) ||
        (f->speed_kmh_above > 0 && !provides(c, "speed_kmh")))
        return ot_conf_fail(cf, "flight", "detect",
                            "auto needs %s from a device (or set its threshold to 0)",
                            f->alt_m_above > 0 && !provides(c, "alt_m") ? "alt_m" : "speed_kmh");
    return OT_OK;
}

enum ot_err config__load(struct gw_config *c, const char *file)
{
    static const char *const known[] = {
        "container", "gateway",        "mqtt",      "poll_interval_ms", "spool",
        "devices",   "ack_timeout_ms", "batch_max", "inflight_max",     "profile_dir",
        "log_level", "flight",         NULL};
    static const char *const spool_known[] = {"dir", "max_mb", "segment_kb", "sync_ms", NULL};
    struct ot_conf *cf = &c->conf;
    const cJSON *mqtt = NULL, *spool = NULL, *devs = NULL, *flight = NULL;
    enum ot_err rc;
    memset(c, 0, sizeof *c);
    if ((rc = ot_conf_load(cf, file)))
        return rc;
    const cJSON *root = cf->root;
    ot_conf_warn_unknown(cf, root, "", known);
    if ((rc = ot_conf_str(cf, root, "", "container", NULL, &c->container)) ||
        (rc = ot_conf_str(cf, root, "", "gateway", NULL, &c->gateway)) ||
        (rc = ot_conf_child(cf, root, "", "mqtt", cJSON_Object, 1, &mqtt)) ||
        (rc = ot_mqtt_conf_parse(cf, mqtt, "mqtt", &c->mqtt)) ||
        (rc = ot_conf_int(cf, root, "", "poll_interval_ms", 0, 1000, 10, 3600000,
                          &c->poll_interval_ms)) ||
        (rc = ot_conf_int(cf, root, "", "ack_timeout_ms", 0, 10000, 100, 3600000,
                          &c->ack_timeout_ms)) ||
        (rc = ot_conf_int(cf, root, "", "batch_max", 0, 250, 1, 500, &c->batch_max)) ||
        (rc = ot_conf_int(cf, root, "", "inflight_max", 0, 4, 1, 64, &c->inflight_max)) ||
        (rc = ot_conf_str(cf, root, "", "profile_dir", "sensors/profiles", &c->profile_dir)) ||
        (rc = ot_conf_str(cf, root, "", "log_level", "", &c->log_level)) ||
        (rc = ot_conf_child(cf, root, "", "spool", cJSON_Object, 1, &spool)) ||
        (rc = ot_conf_child(cf, root, "", "devices", cJSON_Array, 1, &devs)) ||
        (rc = ot_conf_child(cf, root, "", "flight", cJSON_Object, 0, &flight)))
        goto fail;
    if (*c->log_level && ot_log_level_parse(c->log_level) < 0) {
        rc = ot_conf_fail(cf, "", "log_level", "expected debug, info, warn or error");
        goto fail;
    }
    if (!ot_id_valid(c->container)) {
        rc = ot_conf_fail(cf, "", "container", "expected [A-Za-z0-9_-]{1,64}");
        goto fail;
    }
    if (!ot_id_valid(c->gateway)) {
        rc = ot_conf_fail(cf, "", "gateway", "expected [A-Za-z0-9_-]{1,64}");
        goto fail;
    }
    ot_conf_warn_unknown(cf, spool, "spool", spool_known);
    if ((rc = ot_conf_str(cf, spool, "spool", "dir", NULL, &c->spool_dir)) ||
        (rc = ot_conf_int(cf, spool, "spool", "max_mb", 0, 64, 1, 1048576, &c->max_mb)) ||
        (rc = ot_conf_int(cf, spool, "spool", "segment_kb", 0, 1024, 4, 65536, &c->segment_kb)) ||
        (rc = ot_conf_int(cf, spool, "spool", "sync_ms", 0, 1000, 0, 60000, &c->sync_ms)))
        goto fail;
    if (!*c->spool_dir || strlen(c->spool_dir) > 400) {
        rc = ot_conf_fail(cf, "spool", "dir", "expected a directory path (1..400 chars)");
        goto fail;
    }
    if (c->segment_kb * 1024 * 2 > c->max_mb * 1048576) {
        rc = ot_conf_fail(cf, "spool", "segment_kb", "expected at most half of max_mb");
        goto fail;
    }
    int n = cJSON_GetArraySize(devs);
    if (n < 1 || n > GW_DEVICES_MAX) {
        rc = ot_conf_fail(cf, "", "devices", "expected 1..%d devices", GW_DEVICES_MAX);
        goto fail;
    }
    /* sized to the devices: a device conf is 4.5 KiB, 16 of them resident
     * for nothing would be a tenth of the gateway's own memory */
    if (!(c->dev = calloc((size_t)n, sizeof *c->dev))) {
        rc = ot_conf_fail(cf, "", "devices", "out of memory");
        goto fail;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, devs)
    {
        if ((rc = load_device(c, it, c->n_dev)))
            goto fail;
        c->n_dev++;
    }
    if ((rc = load_flight(c, flight)))
        goto fail;
    return OT_OK;
fail:
    if (!rc)
        rc = OT_ERR_CONFIG;
    return rc;
}

void config__free(struct gw_config *c)
{
    ot_conf_free(&c->conf);
    free(c->dev);
    c->dev = NULL;
    c->n_dev = 0;
}
