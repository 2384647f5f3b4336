/* config.c - organtrack-api's JSON configuration (docs/api.md lists every
 * key). Relative paths are taken from the working directory, as the demo
 * runs from the repository root. Unknown keys are logged, not fatal. With
 * "tls", listen serves HTTPS only (http.c, tls.c). */
#include "api.h"

#include <arpa/inet.h>
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

/* "HOST:PORT" with a numeric IPv4 address, or "[V6]:PORT" with a numeric
 * IPv6 address (brackets as in a URL). */
static enum ot_err parse_listen(struct ot_conf *c, struct api_config *cfg)
{
    static const char want[] = "expected \"IPV4:PORT\" or \"[IPV6]:PORT\" with a numeric "
                               "address and a port 0..65535 (e.g. 127.0.0.1:8080, [::1]:8443)";
    char buf[128];
    unsigned char addr[16];
    int64_t port;
    const char *host, *ports;
    size_t hlen;
    enum ot_err rc = copy_str(c, "listen", "127.0.0.1:8080", buf, sizeof buf);
    if (rc)
        return rc;
    if (buf[0] == '[') {
        char *close = strchr(buf, ']');
        if (!close || close[1] != ':')
            return ot_conf_fail(c, "", "listen", "%s", want);
        host = buf + 1;
        hlen = (size_t)(close - host);
        ports = close + 2;
        cfg->listen_v6 = 1;
    } else {
        char *colon = strrchr(buf, ':');
        if (!colon || memchr(buf, ':', (size_t)(colon - buf)))
            return ot_conf_fail(c, "", "listen", "%s", want);
        host = buf;
        hlen = (size_t)(colon - buf);
        ports = colon + 1;
        cfg->listen_v6 = 0;
    }
    if (hlen == 0 || hlen >= sizeof cfg->listen_host || ot_parse_i64(ports, 0, 65535, &port))
        return ot_conf_fail(c, "", "listen", "%s", want);
    memcpy(cfg->listen_host, host, hlen);
    cfg->listen_host[hlen] = '\0';
    if (inet_pton(cfg->listen_v6 ? AF_INET6 : AF_INET, cfg->listen_host, addr) != 1)
        return ot_conf_fail(c, "", "listen", "%s is not a numeric %s address; %s", cfg->listen_host,
                            cfg->listen_v6 ? "IPv6" : "IPv4", want);
    cfg->listen_port = (int)port;
    return OT_OK;
}

/* "tls": {"cert_file", "key_file", "hsts_max_age_s"}: HTTPS only on listen. */
static enum ot_err parse_tls(struct ot_conf *c, struct api_config *cfg)
{
    static const char *const known[] = {"cert_file", "key_file", "hsts_max_age_s", "comment", NULL};
    const cJSON *t = NULL;
    const char *cert = NULL, *key = NULL;
    enum ot_err rc = ot_conf_child(c, c->root, "", "tls", cJSON_Object, 0, &t);
    if (rc || !t)
        return rc;
    if ((rc = ot_conf_str(c, t, "tls", "cert_file", NULL, &cert)) ||
        (rc = ot_conf_str(c, t, "tls", "key_file", NULL, &key)) ||
        (rc = ot_conf_int(c, t, "tls", "hsts_max_age_s", 0, 31536000, 0, 2 * 31536000,
                          &cfg->hsts_max_age_s)))
        return rc;
    if (!*cert || strlen(cert) >= sizeof cfg->tls_cert_file)
        return ot_conf_fail(c, "tls", "cert_file", "expected a path shorter than %zu",
                            sizeof cfg->tls_cert_file);
    if (!*key || strlen(key) >= sizeof cfg->tls_key_file)
        return ot_conf_fail(c, "tls", "key_file", "expected a path shorter than %zu",
                            sizeof cfg->tls_key_file);
    snprintf(cfg->tls_cert_file, sizeof cfg->tls_cert_file, "%s", cert);
    snprintf(cfg->tls_key_file, sizeof cfg->tls_key_file, "%s", key);
    cfg->tls = 1;
    ot_conf_warn_unknown(c, t, "tls", known);
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
                                        "report_utc_offset_min",
                                        "mqtt",
                                        "per_ip_connection_limit",
                                        "header_timeout_s",
                                        "idle_timeout_s",
                                        "tls",
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
        /* UTC-12:00 .. UTC+14:00, the offsets in use; Kazakhstan is +5 */
        (rc = ot_conf_int(&c, c.root, "", "report_utc_offset_min", 0, 300, -720, 840,
                          &cfg->report_utc_offset_min)) ||
        (rc = parse_mqtt(&c, cfg)) || (rc = parse_tls(&c, cfg)))
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
