/* test_collector_config - defaults, v1/v2 InfluxDB settings, webhooks, and
 * errors that name file and key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector.h"

static char path[64];

static void write_conf(const char *text)
{
    snprintf(path, sizeof path, "/tmp/ot-collector-conf-%d.json", (int)getpid());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void defaults(void **state)
{
    (void)state;
    struct collector_conf cc;
    write_conf("{\"mqtt\":{\"url\":\"tcp://127.0.0.1:1883\"},\"database\":\"x.db\","
               "\"influxdb\":null}");
    assert_int_equal(config__load(&cc, path), OT_OK);
    assert_string_equal(cc.mqtt.client_id, "organtrack-collector");
    assert_string_equal(cc.mqtt.topic_root, "organtrack/v1");
    assert_int_equal(cc.late_after_s, 60);
    assert_int_equal(cc.influx_on, 0);
    assert_int_equal(cc.n_webhooks, 0);
    config__free(&cc);
    unlink(path);
}

static void influx_and_hooks(void **state)
{
    (void)state;
    struct collector_conf cc;
    write_conf("{\"mqtt\":{\"url\":\"tcp://h:1\",\"client_id\":\"c1\"},\"database\":\"x.db\","
               "\"influxdb\":{\"url\":\"http://127.0.0.1:8086\",\"db\":\"ot\",\"token\":null},"
               "\"webhooks\":[{\"url\":\"http://127.0.0.1:9/h\",\"events\":[\"alarm\"]},"
               "{\"url\":\"http://127.0.0.1:9/p\",\"events\":[\"progress\"]},"
               "{\"url\":\"https://127.0.0.1:9/all\"}],"
               "\"late_after_s\":5,\"surprise\":1}");
    assert_int_equal(config__load(&cc, path), OT_OK);
    assert_int_equal(cc.influx_on, 1);
    assert_string_equal(cc.influx_db, "ot");
    assert_string_equal(cc.influx_token, "");
    assert_int_equal(cc.n_webhooks, 3);
    assert_int_equal(cc.webhooks[0].on_alarm, 1);
    assert_int_equal(cc.webhooks[0].on_progress, 0); /* progress events: only when asked */
    assert_int_equal(cc.webhooks[1].on_alarm, 0);
    assert_int_equal(cc.webhooks[1].on_progress, 1);
    assert_int_equal(cc.webhooks[2].on_alarm, 1); /* no events: every kind */
    assert_int_equal(cc.webhooks[2].on_progress, 1);
    assert_int_equal(cc.late_after_s, 5);
    config__free(&cc);
    /* v2 needs org with bucket */
    write_conf("{\"mqtt\":{\"url\":\"tcp://h:1\"},\"database\":\"x.db\","
               "\"influxdb\":{\"url\":\"http://h:8086\",\"bucket\":\"b\"}}");
    assert_int_equal(config__load(&cc, path), OT_ERR_CONFIG);
    assert_non_null(strstr(cc.conf.err, "influxdb.org"));
    config__free(&cc);
    unlink(path);
}

static void errors_name_key(void **state)
{
    (void)state;
    struct collector_conf cc;
    write_conf("{\"mqtt\":{\"url\":\"tcp://h:1\"}}");
    assert_int_equal(config__load(&cc, path), OT_ERR_CONFIG);
    assert_non_null(strstr(cc.conf.err, "database"));
    assert_non_null(strstr(cc.conf.err, path));
    config__free(&cc);
    write_conf("{\"mqtt\":{\"url\":\"tcp://h:1\"},\"database\":\"x\",\"late_after_s\":-1}");
    assert_int_equal(config__load(&cc, path), OT_ERR_CONFIG);
    assert_non_null(strstr(cc.conf.err, "late_after_s"));
    config__free(&cc);
    write_conf("{\"mqtt\":{\"url\":\"tcp://h:1\"},\"database\":\"x\","
               "\"webhooks\":[{\"url\":\"ftp://x\"}]}");
    assert_int_equal(config__load(&cc, path), OT_ERR_CONFIG);
    assert_non_null(strstr(cc.conf.err, "webhooks[0].url"));
    config__free(&cc);
    unlink(path);
}

static void instance_names(void **state)
{
    (void)state;
    struct collector_conf cc;
    char host[256] = "";
    /* default: the host name */
    write_conf("{\"mqtt\":{\"url\":\"tcp://h:1\"},\"database\":\"x.db\"}");
    assert_int_equal(gethostname(host, sizeof host - 1), 0);
    if (config__instance_valid(host)) {
        assert_int_equal(config__load(&cc, path), OT_OK);
        assert_string_equal(cc.instance, host);
    } else {
        assert_int_equal(config__load(&cc, path), OT_ERR_CONFIG);
        assert_non_null(strstr(cc.conf.err, "instance"));
    }
    config__free(&cc);
    write_conf("{\"mqtt\":{\"url\":\"tcp://h:1\"},\"database\":\"x.db\","
               "\"instance\":\"collector-a.dc1_2\"}");
    assert_int_equal(config__load(&cc, path), OT_OK);
    assert_string_equal(cc.instance, "collector-a.dc1_2");
    config__free(&cc);
    /* a topic level: no separator, no wildcard, not empty, not too long */
    static const char *const bad[] = {"a/b",
                                      "a+",
                                      "#",
                                      "a b",
                                      "\\\"q\\\"",
                                      "0123456789012345678901234567890123456789"
                                      "01234567890123456789012345"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[256];
        snprintf(text, sizeof text,
                 "{\"mqtt\":{\"url\":\"tcp://h:1\"},\"database\":\"x.db\",\"instance\":\"%s\"}",
                 bad[i]);
        write_conf(text);
        assert_int_equal(config__load(&cc, path), OT_ERR_CONFIG);
        assert_non_null(strstr(cc.conf.err, "instance"));
        config__free(&cc);
    }
    assert_false(config__instance_valid(""));
    assert_true(config__instance_valid("h"));
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),
        cmocka_unit_test(influx_and_hooks),
        cmocka_unit_test(errors_name_key),
        cmocka_unit_test(instance_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
