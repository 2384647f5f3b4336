/* config.c - collector configuration (SPEC keys plus those documented in
 * docs/collector.md). Errors name file, key and expectation; unknown keys
 * are logged as warnings and otherwise ignored. */
#include "collector.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ot_log.h"
#include "ot_sql.h"

static enum ot_err parse_influx(struct collector_conf *cc, const cJSON *ix)
{
    struct ot_conf *c = &cc->conf;
    static const char *const known[] = {
        "url",          "db",          "token",    "org",        "bucket", "spool_dir",
        "spool_max_mb", "batch_lines", "flush_ms", "timeout_ms", NULL};
    if (!ix)
        return OT_OK;
    ot_conf_warn_unknown(c, ix, "influxdb", known);
    if (ot_conf_str(c, ix, "influxdb", "url", NULL, &cc->influx_url) ||
        ot_conf_str(c, ix, "influxdb", "db", "", &cc->influx_db) ||
        ot_conf_str(c, ix, "influxdb", "token", "", &cc->influx_token) ||
        ot_conf_str(c, ix, "influxdb", "org", "", &cc->influx_org) ||
        ot_conf_str(c, ix, "influxdb", "bucket", "", &cc->influx_bucket) ||
        ot_conf_str(c, ix, "influxdb", "spool_dir", "", &cc->influx_spool_dir) ||
        ot_conf_int(c, ix, "influxdb", "spool_max_mb", 0, 256, 1, 65536,
                    &cc->influx_spool_max_mb) ||
        ot_conf_int(c, ix, "influxdb", "batch_lines", 0, 5000, 1, 100000,
                    &cc->influx_batch_lines) ||
        ot_conf_int(c, ix, "influxdb", "flush_ms", 0, 1000, 10, 60000, &cc->influx_flush_ms) ||
        ot_conf_int(c, ix, "influxdb", "timeout_ms", 0, 10000, 100, 120000, &cc->influx_timeout_ms))
        return OT_ERR_CONFIG;
    if (strncmp(cc->influx_url, "http://", 7) && strncmp(cc->influx_url, "https://", 8))
        return ot_conf_fail(c, "influxdb", "url", "expected http:// or https://");
    if (!*cc->influx_db && !*cc->influx_bucket)
        return ot_conf_fail(c, "influxdb", "db",
                            "expected \"db\" (v1 /write) or \"org\"+\"bucket\" (v2)");
    if (*cc->influx_bucket && !*cc->influx_org)
        return ot_conf_fail(c, "influxdb", "org", "required with \"bucket\" (v2 /api/v2/write)");
    /* the spool sits beside a SQLite file by default; a URI has no "beside" */
    if (!*cc->influx_spool_dir && ot_sql_is_uri(cc->database))
        return ot_conf_fail(c, "influxdb", "spool_dir",
                            "required when database is a PostgreSQL URI (a local directory)");
    cc->influx_on = 1;
    return OT_OK;
}

static enum ot_err parse_webhooks(struct collector_conf *cc, const cJSON *arr)
{
    struct ot_conf *c = &cc->conf;
    static const char *const known[] = {"url", "events", NULL};
    const cJSON *it;
    size_t i = 0;
    if (!arr)
        return OT_OK;
    cJSON_ArrayForEach(it, arr)
    {
        char where[48];
        snprintf(where, sizeof where, "webhooks[%zu]", i);
        if (i >= COLLECTOR_WEBHOOKS_MAX)
            return ot_conf_fail(c, "webhooks", "", "at most %d webhooks", COLLECTOR_WEBHOOKS_MAX);
        if (!cJSON_IsObject(it))
            return ot_conf_fail(c, where, "", "expected an object");
        ot_conf_warn_unknown(c, it, where, known);
        struct collector_webhook *w = &cc->webhooks[i];
        const cJSON *events = NULL, *ev;
        if (ot_conf_str(c, it, where, "url", NULL, &w->url) ||
            ot_conf_child(c, it, where, "events", cJSON_Array, 0, &events))
            return OT_ERR_CONFIG;
        if (strncmp(w->url, "http://", 7) && strncmp(w->url, "https://", 8))
            return ot_conf_fail(c, where, "url", "expected http:// or https://");
        w->on_alarm = w->on_progress = events ? 0 : 1; /* default: every event kind */
        cJSON_ArrayForEach(ev, events)
        {
            if (!cJSON_IsString(ev))
                return ot_conf_fail(c, where, "events", "expected an array of strings");
            if (strcmp(ev->valuestring, "alarm") == 0)
                w->on_alarm = 1;
            else if (strcmp(ev->valuestring, "progress") == 0)
                w->on_progress = 1;
            else
                ot_warn("unknown webhook event ignored file=%s key=%s.events value=%s", c->file,
                        where, ev->valuestring);
        }
        i++;
    }
    cc->n_webhooks = i;
    return OT_OK;
}

enum ot_err config__load(struct collector_conf *cc, const char *file)
{
    static const char *const known[] = {"mqtt",
                                        "instance",
                                        "database",
                                        "influxdb",
                                        "preservation",
                                        "webhooks",
                                        "late_after_s",
                                        "baseline_wait_s",
                                        "queue_max",
                                        "queue_max_mb",
                                        "batch_max",
                                        "tick_ms",
                                        "eta_every_s",
                                        "events_keep_h",
                                        "ack_poll_ms",
                                        "flight_overdue_s",
                                        "flight_max_s",
                                        "log_level",
                                        "clock_skew_max_s",
                                        "webhook_queue_max",
                                        "webhook_retries",
                                        "webhook_timeout_ms",
                                        "notes",
                                        NULL};
    struct ot_conf *c = &cc->conf;
    const cJSON *mqtt = NULL, *ix = NULL, *hooks = NULL;
    memset(cc, 0, sizeof *cc);
    if (ot_conf_load(c, file))
        return OT_ERR_CONFIG;
    ot_conf_warn_unknown(c, c->root, "", known);
    if (ot_conf_child(c, c->root, "", "mqtt", cJSON_Object, 1, &mqtt) ||
        ot_mqtt_conf_parse(c, mqtt, "mqtt", &cc->mqtt) ||
        ot_conf_str(c, c->root, "", "instance", "", &cc->instance) ||
        ot_conf_str(c, c->root, "", "database", NULL, &cc->database) ||
        ot_conf_str(c, c->root, "", "preservation", "", &cc->preservation) ||
        ot_conf_int(c, c->root, "", "late_after_s", 0, 60, 0, 86400 * 365, &cc->late_after_s) ||
        ot_conf_int(c, c->root, "", "clock_skew_max_s", 0, 300, 1, 86400, &cc->clock_skew_max_s) ||
        ot_conf_int(c, c->root, "", "baseline_wait_s", 0, 3, 0, 3600, &cc->baseline_wait_s) ||
        ot_conf_int(c, c->root, "", "queue_max", 0, 20000, 16, 1000000, &cc->queue_max) ||
        ot_conf_int(c, c->root, "", "queue_max_mb", 0, 64, 1, 4096, &cc->queue_max_mb) ||
        ot_conf_int(c, c->root, "", "batch_max", 0, 500, 1, 10000, &cc->batch_max) ||
        ot_conf_int(c, c->root, "", "tick_ms", 0, 1000, 50, 60000, &cc->tick_ms) ||
        ot_conf_int(c, c->root, "", "eta_every_s", 0, 10, 1, 3600, &cc->eta_every_s) ||
        ot_conf_int(c, c->root, "", "events_keep_h", 0, 24, 1, 24 * 366, &cc->events_keep_h) ||
        ot_conf_int(c, c->root, "", "ack_poll_ms", 0, 1000, 50, 60000, &cc->ack_poll_ms) ||
        ot_conf_int(c, c->root, "", "flight_overdue_s", 0, 1800, 0, 86400, &cc->flight_overdue_s) ||
        ot_conf_int(c, c->root, "", "flight_max_s", 0, 16 * 3600, 600, 7 * 86400,
                    &cc->flight_max_s) ||
        ot_conf_str(c, c->root, "", "log_level", "info", &cc->log_level) ||
        ot_conf_int(c, c->root, "", "webhook_queue_max", 0, 1000, 1, 100000,
                    &cc->webhook_queue_max) ||
        ot_conf_int(c, c->root, "", "webhook_retries", 0, 8, 0, 100, &cc->webhook_retries) ||
        ot_conf_int(c, c->root, "", "webhook_timeout_ms", 0, 5000, 100, 120000,
                    &cc->webhook_timeout_ms))
        return OT_ERR_CONFIG;
    if (!*cc->database)
        return ot_conf_fail(c, "", "database", "expected a file path or a postgresql:// URI");
    if (ot_log_level_parse(cc->log_level) < 0)
        return ot_conf_fail(c, "", "log_level", "expected debug, info, warn or error");
    if (ot_conf_child(c, c->root, "", "influxdb", cJSON_Object, 0, &ix) || parse_influx(cc, ix))
        return OT_ERR_CONFIG;
    if (ot_conf_child(c, c->root, "", "webhooks", cJSON_Array, 0, &hooks) ||
        parse_webhooks(cc, hooks))
        return OT_ERR_CONFIG;
    if (!*cc->mqtt.client_id)
        cc->mqtt.client_id = "organtrack-collector";
    if (!*cc->instance) {
        /* default: the host name */
        char host[256] = "";
        if (gethostname(host, sizeof host - 1) || !config__instance_valid(host))
            return ot_conf_fail(c, "", "instance",
                                "the host name \"%.64s\" is not a valid instance name: set "
                                "\"instance\" ([A-Za-z0-9._-]{1,64})",
                                host);
        memcpy(cc->instance_buf, host, strlen(host) + 1); /* valid: at most 64 bytes */
        cc->instance = cc->instance_buf;
    } else if (!config__instance_valid(cc->instance)) {
        return ot_conf_fail(c, "", "instance",
                            "expected [A-Za-z0-9._-]{1,64} (one MQTT topic level: no /, + or #)");
    }
    return OT_OK;
}

int config__instance_valid(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char ch = s[n];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '-'))
            return 0;
    }
    return n >= 1 && n <= COLLECTOR_INSTANCE_MAX;
}

void config__free(struct collector_conf *cc)
{
    ot_conf_free(&cc->conf);
}
