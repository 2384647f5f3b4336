/* test_gateway_config.c - gateway configuration: device URLs, the rename
 * map and its conflicts, errors that name file and key, and the grouping of
 * profile channels into Modbus requests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway.h"

#define PROFILES OT_SOURCE_DIR "/sensors/profiles"

static void url_tcp_and_rtu(void **state)
{
    (void)state;
    struct gw_device_conf d;
    char err[256];
    memset(&d, 0, sizeof d);
    assert_int_equal(config__parse_url(&d, "tcp://127.0.0.1:15020", err, sizeof err), 0);
    assert_false(d.is_rtu);
    assert_string_equal(d.host, "127.0.0.1");
    assert_int_equal(d.port, 15020);
    assert_int_equal(config__parse_url(&d, "tcp://plc.local", err, sizeof err), 0);
    assert_int_equal(d.port, 502);
    assert_int_equal(config__parse_url(&d, "rtu:/dev/ttyUSB0?baud=19200&parity=E&data=8&stop=2",
                                       err, sizeof err),
                     0);
    assert_true(d.is_rtu);
    assert_string_equal(d.tty, "/dev/ttyUSB0");
    assert_int_equal(d.baud, 19200);
    assert_int_equal(d.parity, 'E');
    assert_int_equal(d.stop_bits, 2);
    assert_int_equal(config__parse_url(&d, "rtu:/dev/ttyS1", err, sizeof err), 0);
    assert_int_equal(d.baud, 9600);
    assert_int_equal(d.parity, 'N');
    const char *bad[] = {"udp://x:1",           "tcp://:502",        "tcp://h:0",
                         "tcp://h:70000",       "rtu:ttyUSB0",       "rtu:/dev/x?baud=abc",
                         "rtu:/dev/x?parity=X", "rtu:/dev/x?data=9", "rtu:/dev/x?baud",
                         "rtu:/dev/x?speed=1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_not_equal(config__parse_url(&d, bad[i], err, sizeof err), 0);
}

static char *write_tmp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/ot-gwconf-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static enum ot_err load(const char *devices, struct gw_config *c)
{
    char buf[4096];
    snprintf(
        buf, sizeof buf,
        "{\"container\":\"KZ-1\",\"gateway\":\"gw-1\",\"mqtt\":{\"url\":\"tcp://127.0.0.1:1\"},"
        "\"profile_dir\":\"%s\",\"spool\":{\"dir\":\"/tmp/ot-gw-x\",\"max_mb\":4},"
        "\"devices\":%s}",
        PROFILES, devices);
    char *p = write_tmp(buf);
    enum ot_err rc = config__load(c, p);
    unlink(p);
    return rc;
}

static void rename_map_and_conflicts(void **state)
{
    (void)state;
    struct gw_config c;
    assert_int_equal(
        load("[{\"name\":\"probe\",\"url\":\"tcp://h:1\",\"profile\":\"organtrack-module\"},"
             "{\"name\":\"cabin\",\"url\":\"rtu:/dev/ttyUSB0\",\"profile\":\"xy-md02\","
             "\"channels\":{\"temperature\":\"cabin_c\"}}]",
             &c),
        OT_OK);
    assert_int_equal(c.n_dev, 2);
    assert_int_equal(c.poll_interval_ms, 1000);
    assert_int_equal(c.ack_timeout_ms, 10000);
    assert_int_equal(c.dev[1].timeout_ms, 500);
    assert_string_equal(c.dev[1].out_name[0], "cabin_c");
    assert_string_equal(c.dev[1].out_name[1], "humidity");
    config__free(&c);

    /* two devices publishing ambient_c: refused, naming the key */
    assert_int_equal(
        load("[{\"name\":\"probe\",\"url\":\"tcp://h:1\",\"profile\":\"organtrack-module\"},"
             "{\"name\":\"cabin\",\"url\":\"tcp://h:2\",\"profile\":\"xy-md02\","
             "\"channels\":{\"temperature\":\"ambient_c\"}}]",
             &c),
        OT_ERR_CONFIG);
    assert_non_null(strstr(c.conf.err, "devices[1]"));
    assert_non_null(strstr(c.conf.err, "ambient_c"));
    config__free(&c);

    /* rename of a channel the profile does not have */
    assert_int_equal(load("[{\"name\":\"cabin\",\"url\":\"tcp://h:2\",\"profile\":\"xy-md02\","
                          "\"channels\":{\"temp\":\"ambient_c\"}}]",
                          &c),
                     OT_ERR_CONFIG);
    assert_non_null(strstr(c.conf.err, "devices[0].channels"));
    config__free(&c);

    /* bad timeout, duplicate names, missing profile */
    assert_int_equal(load("[{\"name\":\"a\",\"url\":\"tcp://h:2\",\"profile\":\"xy-md02\","
                          "\"timeout_ms\":0}]",
                          &c),
                     OT_ERR_CONFIG);
    assert_non_null(strstr(c.conf.err, "timeout_ms"));
    config__free(&c);
    assert_int_equal(load("[{\"name\":\"a\",\"url\":\"tcp://h:2\",\"profile\":\"xy-md02\"},"
                          "{\"name\":\"a\",\"url\":\"tcp://h:3\",\"profile\":\"xy-md02\","
                          "\"channels\":{\"temperature\":\"t2\",\"humidity\":\"h2\"}}]",
                          &c),
                     OT_ERR_CONFIG);
    assert_non_null(strstr(c.conf.err, "duplicate"));
    config__free(&c);
    assert_int_equal(load("[{\"name\":\"a\",\"url\":\"tcp://h:2\",\"profile\":\"no-such\"}]", &c),
                     OT_ERR_CONFIG);
    assert_non_null(strstr(c.conf.err, "devices[0].profile"));
    config__free(&c);
}

static void grouping_contiguous_by_function(void **state)
{
    (void)state;
    struct gw_config c;
    assert_int_equal(
        load("[{\"name\":\"probe\",\"url\":\"tcp://h:1\",\"profile\":\"organtrack-module\"}]", &c),
        OT_OK);
    struct gw_device d;
    device__init(&d, &c.dev[0]);
    /* organtrack-module: discrete 0, holding 100..108, input 0..4 */
    assert_int_equal(d.ngroups, 3);
    int seen = 0;
    for (size_t i = 0; i < d.ngroups; i++) {
        const struct gw_group *g = &d.groups[i];
        if (g->fn == OT_FN_DISCRETE) {
            assert_int_equal(g->addr, 0);
            assert_int_equal(g->count, 1);
            seen |= 1;
        } else if (g->fn == OT_FN_HOLDING) {
            assert_int_equal(g->addr, 100);
            assert_int_equal(g->count, 9);
            assert_int_equal(g->n, 6);
            seen |= 2;
        } else if (g->fn == OT_FN_INPUT) {
            assert_int_equal(g->addr, 0);
            assert_int_equal(g->count, 5);
            seen |= 4;
        }
    }
    assert_int_equal(seen, 7);
    config__free(&c);

    /* teltonika: holding 143..146 contiguous, 179..184 contiguous: 2 groups */
    assert_int_equal(
        load("[{\"name\":\"gps\",\"url\":\"tcp://h:1\",\"profile\":\"teltonika-rut955\"}]", &c),
        OT_OK);
    device__init(&d, &c.dev[0]);
    assert_int_equal(d.ngroups, 2);
    assert_int_equal(d.groups[0].addr, 143);
    assert_int_equal(d.groups[0].count, 4);
    assert_int_equal(d.groups[1].addr, 179);
    assert_int_equal(d.groups[1].count, 6);
    config__free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(url_tcp_and_rtu),
        cmocka_unit_test(rename_map_and_conflicts),
        cmocka_unit_test(grouping_contiguous_by_function),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
