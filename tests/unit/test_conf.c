#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ot_conf.h"
#include "ot_mqtt.h"

static char path[64];

static void write_conf(const char *text)
{
    snprintf(path, sizeof path, "/tmp/ot_conf_test_%d.json", (int)getpid());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void errors_name_file_and_key(void **state)
{
    (void)state;
    struct ot_conf c;
    write_conf("{\"poll_interval_ms\":\"fast\",\"mqtt\":{\"url\":\"tcp://127.0.0.1:1\"},"
               "\"devices\":[{\"name\":\"p\",\"timeout_ms\":-1}]}");
    assert_int_equal(ot_conf_load(&c, path), OT_OK);
    int64_t v;
    assert_int_equal(ot_conf_int(&c, c.root, "", "poll_interval_ms", 0, 1000, 10, 60000, &v),
                     OT_ERR_CONFIG);
    assert_non_null(strstr(c.err, path));
    assert_non_null(strstr(c.err, "poll_interval_ms: expected an integer 10..60000"));
    const cJSON *devs, *d0;
    assert_int_equal(ot_conf_child(&c, c.root, "", "devices", cJSON_Array, 1, &devs), OT_OK);
    d0 = cJSON_GetArrayItem(devs, 0);
    assert_int_equal(ot_conf_int(&c, d0, "devices[0]", "timeout_ms", 0, 500, 1, 60000, &v),
                     OT_ERR_CONFIG);
    assert_non_null(strstr(c.err, "devices[0].timeout_ms"));
    const char *s;
    assert_int_equal(ot_conf_str(&c, c.root, "", "container", NULL, &s), OT_ERR_CONFIG);
    assert_non_null(strstr(c.err, "container: required string is missing"));
    ot_conf_free(&c);
    unlink(path);
}

static void malformed_json_names_line(void **state)
{
    (void)state;
    struct ot_conf c;
    write_conf("{\n\"a\": 1,\n\"b\": ,\n}");
    assert_int_equal(ot_conf_load(&c, path), OT_ERR_CONFIG);
    assert_non_null(strstr(c.err, "line 3"));
    ot_conf_free(&c);
    assert_int_equal(ot_conf_load(&c, "/nonexistent/x.json"), OT_ERR_CONFIG);
    assert_non_null(strstr(c.err, "cannot read"));
    ot_conf_free(&c);
    unlink(path);
}

static void mqtt_section(void **state)
{
    (void)state;
    struct ot_conf c;
    struct ot_mqtt_conf m;
    const cJSON *mq;
    write_conf("{\"mqtt\":{\"url\":\"http://x\"}}");
    assert_int_equal(ot_conf_load(&c, path), OT_OK);
    ot_conf_child(&c, c.root, "", "mqtt", cJSON_Object, 1, &mq);
    assert_int_equal(ot_mqtt_conf_parse(&c, mq, "mqtt", &m), OT_ERR_CONFIG);
    assert_non_null(strstr(c.err, "mqtt.url"));
    ot_conf_free(&c);
    write_conf("{\"mqtt\":{\"url\":\"tcp://127.0.0.1:18883\"}}");
    assert_int_equal(ot_conf_load(&c, path), OT_OK);
    ot_conf_child(&c, c.root, "", "mqtt", cJSON_Object, 1, &mq);
    assert_int_equal(ot_mqtt_conf_parse(&c, mq, "mqtt", &m), OT_OK);
    assert_string_equal(m.topic_root, "organtrack/v1");
    char topic[OT_TOPIC_MAX], cont[65];
    assert_int_equal(ot_topic(topic, sizeof topic, m.topic_root, "KZ-1", "readings"), 0);
    assert_string_equal(topic, "organtrack/v1/containers/KZ-1/readings");
    assert_string_equal(ot_topic_parse(topic, m.topic_root, cont), "readings");
    assert_string_equal(cont, "KZ-1");
    assert_null(ot_topic_parse("organtrack/v1/containers/a+b/readings", m.topic_root, cont));
    assert_int_not_equal(ot_topic(topic, sizeof topic, m.topic_root, "a/b", "readings"), 0);
    ot_conf_free(&c);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(errors_name_file_and_key),
                                       cmocka_unit_test(malformed_json_names_line),
                                       cmocka_unit_test(mqtt_section)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
