/* test_gateway_config.c - gateway configuration: device URLs, the rename
 * map and its conflicts, errors that name file and key, the grouping of
 * profile channels into Modbus requests (alarm outputs are never read),
 * spool.sync_ms and the flight keys. */
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

/* spool_extra goes inside "spool", extra at the top level */
static enum ot_err load_cfg(const char *devices, const char *spool_extra, const char *extra,
                            struct gw_config *c)
{
    char buf[4096];
    snprintf(
        buf, sizeof buf,
        "{\"container\":\"KZ-1\",\"gateway\":\"gw-1\",\"mqtt\":{\"url\":\"tcp://127.0.0.1:1\"},"
        "\"profile_dir\":\"%s\",\"spool\":{\"dir\":\"/tmp/ot-gw-x\",\"max_mb\":4%s},"
        "\"devices\":%s%s}",
        PROFILES, spool_extra, devices, extra);
    char *p = write_tmp(buf);
    enum ot_err rc = config__load(c, p);
    unlink(p);
    return rc;
}

static enum ot_err load(const char *devices, struct gw_config *c)
{
    return load_cfg(devices, "", "", c);
}

static enum ot_err load_extra(const char *devices, const char *extra, struct gw_config *c)
{
    return load_cfg(devices, "", extra, c);
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
    /* organtrack-module: discrete 0, holding 100..108, input 0..4; the alarm
     * coil is an output, written and never read */
    assert_int_equal(d.ngroups, 3);
    assert_int_equal(d.noutputs, 1);
    assert_int_equal(c.dev[0].profile.ch[d.outputs[0]].address, 0);
    assert_int_equal(c.dev[0].profile.ch[d.outputs[0]].function, OT_FN_COIL);
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

#define MODULE "[{\"name\":\"probe\",\"url\":\"tcp://h:1\",\"profile\":\"organtrack-module\"}]"
#define CABIN "[{\"name\":\"cabin\",\"url\":\"tcp://h:2\",\"profile\":\"xy-md02\"}]"

static void sync_and_flight(void **state)
{
    (void)state;
    struct gw_config c;
    assert_int_equal(load(MODULE, &c), OT_OK);
    assert_int_equal(c.sync_ms, 1000); /* SPEC default */
    assert_int_equal(c.flight.detect, GW_FLIGHT_OFF);
    config__free(&c);
    assert_int_equal(load_cfg(MODULE, ",\"sync_ms\":0", "", &c), OT_OK);
    assert_int_equal(c.sync_ms, 0);
    config__free(&c);
    assert_int_equal(load_cfg(MODULE, ",\"sync_ms\":-1", "", &c), OT_ERR_CONFIG);
    assert_non_null(strstr(c.conf.err, "spool.sync_ms"));
    config__free(&c);

    assert_int_equal(load_extra(MODULE, ",\"flight\":{\"detect\":\"auto\"}", &c), OT_OK);
    assert_int_equal(c.flight.detect, GW_FLIGHT_AUTO);
    assert_true(c.flight.alt_m_above == 3000 && c.flight.speed_kmh_above == 250);
    assert_int_equal(c.flight.air_s, 60);
    assert_int_equal(c.flight.ground_s, 120);
    config__free(&c);
    assert_int_equal(load_extra(MODULE,
                                ",\"flight\":{\"detect\":\"auto\",\"alt_m_above\":0,"
                                "\"speed_kmh_above\":180,\"air_s\":5,\"ground_s\":30}",
                                &c),
                     OT_OK);
    assert_true(c.flight.alt_m_above == 0 && c.flight.speed_kmh_above == 180);
    assert_int_equal(c.flight.ground_s, 30);
    config__free(&c);
    /* refused, naming the key: a detection without its channels, a typo */
    assert_int_equal(load_extra(CABIN, ",\"flight\":{\"detect\":\"auto\"}", &c), OT_ERR_CONFIG);
    assert_non_null(strstr(c.conf.err, "flight.detect"));
    assert_non_null(strstr(c.conf.err, "alt_m"));
    config__free(&c);
    assert_int_equal(load_extra(MODULE, ",\"flight\":{\"detect\":\"input\"}", &c), OT_ERR_CONFIG);
    assert_non_null(strstr(c.conf.err, "flight_mode"));
    config__free(&c);
    assert_int_equal(load_extra(MODULE, ",\"flight\":{\"detect\":\"sometimes\"}", &c),
                     OT_ERR_CONFIG);
    assert_non_null(strstr(c.conf.err, "expected off, auto or input"));
    config__free(&c);
    assert_int_equal(load_extra(MODULE, ",\"flight\":{\"detect\":\"auto\",\"ground_s\":-5}", &c),
                     OT_ERR_CONFIG);
    assert_non_null(strstr(c.conf.err, "flight.ground_s"));
    config__free(&c);
    /* input: a channel renamed to flight_mode is the switch */
    assert_int_equal(load_extra("[{\"name\":\"sw\",\"url\":\"tcp://h:2\",\"profile\":"
                                "\"xy-md02\",\"channels\":{\"humidity\":\"flight_mode\"}}]",
                                ",\"flight\":{\"detect\":\"input\"}", &c),
                     OT_OK);
    assert_int_equal(c.flight.detect, GW_FLIGHT_INPUT);
    config__free(&c);
    /* two reference modules: their alarm coils share a name, which is fine */
    assert_int_equal(
        load("[{\"name\":\"a\",\"url\":\"tcp://h:1\",\"profile\":\"organtrack-module\"},"
             "{\"name\":\"b\",\"url\":\"tcp://h:2\",\"profile\":\"organtrack-module\","
             "\"channels\":{\"temp_c\":\"t2\",\"temp2_c\":\"t3\",\"ambient_c\":\"a2\","
             "\"shock_g\":\"s2\",\"battery_pct\":\"b2\",\"lid_open\":\"l2\",\"lat\":\"la2\","
             "\"lon\":\"lo2\",\"alt_m\":\"al2\",\"speed_kmh\":\"sp2\",\"heading_deg\":\"h2\","
             "\"gnss_fix\":\"g2\"}}]",
             &c),
        OT_OK);
    config__free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(url_tcp_and_rtu),
        cmocka_unit_test(rename_map_and_conflicts),
        cmocka_unit_test(grouping_contiguous_by_function),
        cmocka_unit_test(sync_and_flight),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
