/* config.c - organtrack-sensors configuration: the devices to serve, each
 * with a profile, a Modbus URL, a unit id, a scenario and the mapping of
 * profile channels onto scenario signals (docs/sensors.md). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ot_conf.h"
#include "ot_log.h"
#include "ot_parse.h"
#include "sensors.h"

int sensors__url_parse(const char *s, struct sensors_url *u, char *err, size_t errlen)
{
    memset(u, 0, sizeof *u);
    if (strncmp(s, "tcp://", 6) == 0) {
        const char *hp = s + 6, *colon = strrchr(hp, ':');
        int64_t port;
        if (!colon || colon == hp || (size_t)(colon - hp) >= sizeof u->host ||
            ot_parse_i64(colon + 1, 1, 65535, &port) != 0) {
            snprintf(err, errlen, "expected tcp://HOST:PORT");
            return -1;
        }
        snprintf(u->host, sizeof u->host, "%.*s", (int)(colon - hp), hp);
        u->port = (int)port;
        return 0;
    }
    if (strncmp(s, "rtu:", 4) == 0) {
        const char *p = s + 4, *q = strchr(p, '?');
        size_t plen = q ? (size_t)(q - p) : strlen(p);
        if (plen == 0 || plen >= sizeof u->tty) {
            snprintf(err, errlen, "expected rtu:DEVICE?baud=N&parity=N|E|O&data=8&stop=1");
            return -1;
        }
        snprintf(u->tty, sizeof u->tty, "%.*s", (int)plen, p);
        u->rtu = 1;
        u->baud = 9600;
        u->parity = 'N';
        u->data_bits = 8;
        u->stop_bits = 1;
        while (q && *q) {
            char kv[64];
            const char *amp = strchr(q + 1, '&');
            size_t n = amp ? (size_t)(amp - q - 1) : strlen(q + 1);
            if (n >= sizeof kv) {
                snprintf(err, errlen, "URL parameter too long");
                return -1;
            }
            snprintf(kv, sizeof kv, "%.*s", (int)n, q + 1);
            char *eq = strchr(kv, '=');
            int64_t v = 0;
            if (!eq) {
                snprintf(err, errlen, "URL parameter \"%s\" lacks '='", kv);
                return -1;
            }
            *eq = '\0';
            const char *val = eq + 1;
            if (strcmp(kv, "baud") == 0 && ot_parse_i64(val, 50, 4000000, &v) == 0)
                u->baud = (int)v;
            else if (strcmp(kv, "parity") == 0 && strlen(val) == 1 && strchr("NEO", val[0]))
                u->parity = val[0];
            else if (strcmp(kv, "data") == 0 && ot_parse_i64(val, 5, 8, &v) == 0)
                u->data_bits = (int)v;
            else if (strcmp(kv, "stop") == 0 && ot_parse_i64(val, 1, 2, &v) == 0)
                u->stop_bits = (int)v;
            else {
                snprintf(err, errlen,
                         "bad URL parameter %s=%s (baud 50..4000000, parity N|E|O, "
                         "data 5..8, stop 1..2)",
                         kv, val);
                return -1;
            }
            q = amp;
        }
        return 0;
    }
    snprintf(err, errlen, "expected tcp://HOST:PORT or rtu:DEVICE?baud=...");
    return -1;
}

/* A relative file name is taken as given if it exists (programs run from
 * the repository root), else relative to the config file's directory. */
static void resolve(const char *cfg_file, const char *name, char *out, size_t outlen)
{
    if (name[0] == '/' || access(name, F_OK) == 0 ||
        ot_path_relative(cfg_file, name, out, outlen) != 0 || access(out, F_OK) != 0)
        snprintf(out, outlen, "%s", name);
}

static enum ot_err load_device(struct ot_conf *c, const cJSON *o, const char *where,
                               const char *profiles_dir, int64_t now_ms, struct sensors_device *d)
{
    static const char *const known[] = {
        "name",           "profile",    "url",        "unit",    "scenario",
        "channel_source", "start_at_s", "time_scale", "comment", NULL};
    enum ot_err rc;
    const char *s;
    int64_t unit;
    char path[512], err[768];
    const cJSON *map;

    if (!cJSON_IsObject(o))
        return ot_conf_fail(c, where, "", "expected an object");
    ot_conf_warn_unknown(c, o, where, known);
    if ((rc = ot_conf_str(c, o, where, "name", NULL, &s)))
        return rc;
    if (!*s || strlen(s) >= sizeof d->name)
        return ot_conf_fail(c, where, "name", "expected 1..%zu characters", sizeof d->name - 1);
    snprintf(d->name, sizeof d->name, "%s", s);

    if ((rc = ot_conf_str(c, o, where, "url", NULL, &s)))
        return rc;
    if (sensors__url_parse(s, &d->url, err, sizeof err) != 0)
        return ot_conf_fail(c, where, "url", "%s", err);
    if ((rc = ot_conf_int(c, o, where, "unit", 0, 1, 1, 247, &unit)))
        return rc;
    d->unit = (int)unit;

    if ((rc = ot_conf_str(c, o, where, "profile", NULL, &s)))
        return rc;
    const char *pdir = profiles_dir;
    char pbuf[512];
    int is_path = strchr(s, '/') != NULL;
    if (is_path) {
        resolve(c->file, s, pbuf, sizeof pbuf);
        s = pbuf;
    }
    if (ot_profile_load(s, pdir, &d->prof, err, sizeof err) != OT_OK)
        return ot_conf_fail(c, where, "profile", "%s", err);

    if ((rc = ot_conf_str(c, o, where, "scenario", NULL, &s)))
        return rc;
    resolve(c->file, s, path, sizeof path);
    if (scenario__load(path, now_ms, &d->sc, err, sizeof err) != OT_OK)
        return ot_conf_fail(c, where, "scenario", "%s", err);
    if ((rc = ot_conf_num(c, o, where, "start_at_s", 0, 0, 0, 1e9, &d->start_at_s)))
        return rc;
    if ((rc = ot_conf_num(c, o, where, "time_scale", 0, d->sc.time_scale, 0, 100000,
                          &d->time_scale)))
        return rc;

    if ((rc = ot_conf_child(c, o, where, "channel_source", cJSON_Object, 0, &map)))
        return rc;
    if (map) {
        const cJSON *it;
        cJSON_ArrayForEach(it, map)
        {
            int found = 0;
            for (size_t i = 0; i < d->prof.n; i++)
                found |= strcmp(d->prof.ch[i].name, it->string) == 0;
            if (!found) {
                char w2[96];
                snprintf(w2, sizeof w2, "%s.channel_source", where);
                return ot_conf_fail(c, w2, it->string, "profile %s has no such channel",
                                    d->prof.name);
            }
        }
    }
    for (size_t i = 0; i < d->prof.n; i++) {
        const char *ch = d->prof.ch[i].name;
        const cJSON *m = map ? cJSON_GetObjectItemCaseSensitive(map, ch) : NULL;
        char w2[96];
        snprintf(w2, sizeof w2, "%s.channel_source", where);
        if (d->prof.ch[i].output != OT_OUT_NONE) {
            /* an output (the alarm coil) is written by the gateway, not the model */
            if (m)
                return ot_conf_fail(c, w2, ch,
                                    "an output channel is written by the gateway, not driven "
                                    "by the scenario");
            d->src[i] = -1;
            d->constant[i] = 0;
            continue;
        }
        if (m && cJSON_IsNumber(m)) {
            d->src[i] = -1;
            d->constant[i] = m->valuedouble;
        } else if (m && cJSON_IsString(m)) {
            d->src[i] = scenario__signal_index(m->valuestring);
            if (d->src[i] < 0)
                return ot_conf_fail(c, w2, ch, "unknown scenario signal \"%.40s\"", m->valuestring);
        } else if (m) {
            return ot_conf_fail(c, w2, ch, "expected a scenario signal name or a number");
        } else {
            d->src[i] = scenario__signal_index(ch);
            if (d->src[i] < 0)
                return ot_conf_fail(c, w2, ch,
                                    "profile channel is not a scenario signal: map it to one "
                                    "(temp_c, ambient_c, lat, humidity, satellites, ...) or a "
                                    "number");
        }
    }
    return OT_OK;
}

enum ot_err sensors__config_load(const char *path, int64_t now_ms, struct sensors_server *srv,
                                 char *err, size_t errlen)
{
    static const char *const known[] = {"devices",   "tick_ms", "profiles_dir",
                                        "log_level", "comment", NULL};
    struct ot_conf c;
    enum ot_err rc;
    const cJSON *devs, *it;
    const char *s;
    int64_t tick;
    char pdir[512];

    memset(srv, 0, sizeof *srv);
    srv->pair[0] = srv->pair[1] = -1;
    snprintf(srv->file, sizeof srv->file, "%s", path);
    if ((rc = ot_conf_load(&c, path)))
        goto fail;
    ot_conf_warn_unknown(&c, c.root, "", known);
    if ((rc = ot_conf_str(&c, c.root, "", "log_level", "info", &s)))
        goto fail;
    int lvl = ot_log_level_parse(s);
    if (lvl < 0) {
        rc = ot_conf_fail(&c, "", "log_level", "expected debug, info, warn or error");
        goto fail;
    }
    ot_log_set_level((enum ot_log_level)lvl);
    if ((rc = ot_conf_int(&c, c.root, "", "tick_ms", 0, 100, 10, 10000, &tick)))
        goto fail;
    srv->tick_ms = (int)tick;
    if ((rc = ot_conf_str(&c, c.root, "", "profiles_dir", "sensors/profiles", &s)))
        goto fail;
    resolve(path, s, pdir, sizeof pdir);
    if ((rc = ot_conf_child(&c, c.root, "", "devices", cJSON_Array, 1, &devs)))
        goto fail;
    int n = cJSON_GetArraySize(devs);
    if (n < 1 || n > SENSORS_MAX_DEVICES) {
        rc = ot_conf_fail(&c, "", "devices", "expected 1..%d devices", SENSORS_MAX_DEVICES);
        goto fail;
    }
    srv->dev = calloc((size_t)n, sizeof *srv->dev);
    if (!srv->dev) {
        rc = OT_ERR_NOMEM;
        snprintf(c.err, sizeof c.err, "%s: out of memory", path);
        goto fail;
    }
    int i = 0;
    cJSON_ArrayForEach(it, devs)
    {
        char where[32];
        snprintf(where, sizeof where, "devices[%d]", i);
        struct sensors_device *d = &srv->dev[i];
        d->listen_fd = d->serial_fd = -1;
        for (int k = 0; k < SENSORS_MAX_CLIENTS; k++)
            d->clients[k] = -1;
        srv->n = (size_t)i + 1;
        if ((rc = load_device(&c, it, where, pdir, now_ms, d)))
            goto fail;
        for (int j = 0; j < i; j++) {
            const struct sensors_device *o = &srv->dev[j];
            if (strcmp(o->name, d->name) == 0) {
                rc = ot_conf_fail(&c, where, "name", "duplicate device name \"%s\"", d->name);
                goto fail;
            }
            if (o->url.rtu == d->url.rtu &&
                (d->url.rtu
                     ? strcmp(o->url.tty, d->url.tty) == 0
                     : (o->url.port == d->url.port && strcmp(o->url.host, d->url.host) == 0))) {
                rc = ot_conf_fail(&c, where, "url", "same endpoint as devices[%d]", j);
                goto fail;
            }
        }
        i++;
    }
    ot_conf_free(&c);
    return OT_OK;
fail:
    snprintf(err, errlen, "%s", c.err[0] ? c.err : ot_strerror(rc));
    ot_conf_free(&c);
    sensors__server_free(srv);
    return rc ? rc : OT_ERR_CONFIG;
}

void sensors__server_free(struct sensors_server *srv)
{
    free(srv->dev);
    srv->dev = NULL;
    srv->n = 0;
}
