/* config.c - organtrack-api's JSON configuration (docs/api.md lists every
 * key). Relative paths are taken from the working directory, as the demo
 * runs from the repository root. Unknown keys are logged, not fatal. */
#include "api.h"

#include <stdio.h>
#include <string.h>

#include "ot_conf.h"
#include "ot_log.h"
#include "ot_parse.h"

static enum ot_err copy_str(struct ot_conf *c, const char *key, const char *def, char *out,
                            size_t outlen)
{
    const char *v = NULL;
    enum ot_err rc = ot_conf_str(c, c->root, "", key, def, &v);
    if (rc)
        return rc;
    if (!*v || strlen(v) >= outlen)
        return ot_conf_fail(c, "", key, "expected a non-empty string shorter than %zu", outlen);
    snprintf(out, outlen, "%s", v);
    return OT_OK;
}

static enum ot_err parse_listen(struct ot_conf *c, struct api_config *cfg)
{
    char buf[128];
    int64_t port;
    enum ot_err rc = copy_str(c, "listen", "127.0.0.1:8080", buf, sizeof buf);
    if (rc)
        return rc;
    char *colon = strrchr(buf, ':');
    if (!colon || colon == buf || (size_t)(colon - buf) >= sizeof cfg->listen_host ||
        ot_parse_i64(colon + 1, 0, 65535, &port))
        return ot_conf_fail(c, "", "listen",
                            "expected \"HOST:PORT\" (IPv4 address, port 0..65535)");
    memcpy(cfg->listen_host, buf, (size_t)(colon - buf));
    cfg->listen_host[colon - buf] = '\0';
    cfg->listen_port = (int)port;
    return OT_OK;
}

static enum ot_err parse_mqtt(struct ot_conf *c, struct api_config *cfg)
{
    const cJSON *m = NULL;
    const char *url = NULL;
    int64_t port;
    enum ot_err rc = ot_conf_child(c, c->root, "", "mqtt", cJSON_Object, 0, &m);
    if (rc || !m)
        return rc;
    rc = ot_conf_str(c, m, "mqtt", "url", NULL, &url);
    if (rc)
        return rc;
    const char *hp = strstr(url, "://");
    hp = hp ? hp + 3 : url;
    const char *colon = strrchr(hp, ':');
    if (!colon || colon == hp || (size_t)(colon - hp) >= sizeof cfg->mqtt_host ||
        ot_parse_i64(colon + 1, 1, 65535, &port))
        return ot_conf_fail(c, "mqtt", "url", "expected scheme://host:port");
    memcpy(cfg->mqtt_host, hp, (size_t)(colon - hp));
    cfg->mqtt_host[colon - hp] = '\0';
    cfg->mqtt_port = (int)port;
    return OT_OK;
}

enum ot_err api__config_load(const char *file, struct api_config *cfg, char *err, size_t errlen)
{
    static const char *const known[] = {"listen",
                                        "database",
                                        "preservation",
                                        "web_root",
                                        "ledger_key",
                                        "max_body_bytes",
                                        "threads",
                                        "connection_limit",
                                        "sse_heartbeat_s",
                                        "sse_poll_ms",
                                        "sse_max_clients",
                                        "clock_skew_min",
                                        "list_cache_ms",
                                        "mqtt",
                                        "per_ip_connection_limit",
                                        "header_timeout_s",
                                        "idle_timeout_s",
                                        "log_level",
                                        "comment",
                                        "_comment",
                                        NULL};
    struct ot_conf c;
    enum ot_err rc;
    memset(cfg, 0, sizeof *cfg);
    rc = ot_conf_load(&c, file);
    if (rc)
        goto out;
    if ((rc = parse_listen(&c, cfg)) ||
        (rc = copy_str(&c, "database", "var/organtrack.db", cfg->database, sizeof cfg->database)) ||
        (rc = copy_str(&c, "preservation", "config/preservation.json", cfg->preservation,
                       sizeof cfg->preservation)) ||
        (rc = copy_str(&c, "web_root", "dashboard-api/web/dist", cfg->web_root,
                       sizeof cfg->web_root)) ||
        (rc = copy_str(&c, "ledger_key", "var/ledger.key", cfg->ledger_key,
                       sizeof cfg->ledger_key)) ||
        (rc = copy_str(&c, "log_level", "info", cfg->log_level, sizeof cfg->log_level)) ||
        (rc = ot_conf_int(&c, c.root, "", "max_body_bytes", 0, 65536, 1024, 16 * 1024 * 1024,
                          &cfg->max_body_bytes)) ||
        (rc = ot_conf_int(&c, c.root, "", "threads", 0, 4, 1, 64, &cfg->threads)) ||
        (rc = ot_conf_int(&c, c.root, "", "connection_limit", 0, 512, 8, 10000,
                          &cfg->connection_limit)) ||
        (rc = ot_conf_int(&c, c.root, "", "per_ip_connection_limit", 0, 64, 4, 10000,
                          &cfg->per_ip_connection_limit)) ||
        (rc = ot_conf_int(&c, c.root, "", "header_timeout_s", 0, 10, 1, 300,
                          &cfg->header_timeout_s)) ||
        (rc =
             ot_conf_int(&c, c.root, "", "idle_timeout_s", 0, 60, 1, 3600, &cfg->idle_timeout_s)) ||
        (rc = ot_conf_int(&c, c.root, "", "sse_heartbeat_s", 0, 15, 1, 300,
                          &cfg->sse_heartbeat_s)) ||
        (rc = ot_conf_int(&c, c.root, "", "sse_poll_ms", 0, 200, 20, 5000, &cfg->sse_poll_ms)) ||
        (rc = ot_conf_int(&c, c.root, "", "sse_max_clients", 0, 256, 1, 5000,
                          &cfg->sse_max_clients)) ||
        (rc = ot_conf_int(&c, c.root, "", "clock_skew_min", 0, 5, 0, 60, &cfg->clock_skew_min)) ||
        (rc = ot_conf_int(&c, c.root, "", "list_cache_ms", 0, 1000, 0, 60000,
                          &cfg->list_cache_ms)) ||
        (rc = parse_mqtt(&c, cfg)))
        goto out;
    if (ot_log_level_parse(cfg->log_level) < 0) {
        rc = ot_conf_fail(&c, "", "log_level", "expected debug, info, warn or error");
        goto out;
    }
    if (cfg->sse_max_clients >= cfg->connection_limit) {
        rc = ot_conf_fail(&c, "", "sse_max_clients", "must be below connection_limit (%lld)",
                          (long long)cfg->connection_limit);
        goto out;
    }
    if (cfg->per_ip_connection_limit > cfg->connection_limit) {
        rc = ot_conf_fail(&c, "", "per_ip_connection_limit",
                          "must not exceed connection_limit (%lld)",
                          (long long)cfg->connection_limit);
        goto out;
    }
    if (cfg->sse_heartbeat_s >= cfg->idle_timeout_s) {
        rc = ot_conf_fail(&c, "", "sse_heartbeat_s", "must be below idle_timeout_s (%lld)",
                          (long long)cfg->idle_timeout_s);
        goto out;
    }
    ot_conf_warn_unknown(&c, c.root, "", known);
out:
    if (rc)
        snprintf(err, errlen, "%s", c.err[0] ? c.err : "bad configuration");
    ot_conf_free(&c);
    return rc;
}
