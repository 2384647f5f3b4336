/* test_gateway_flight.c - flight mode detection: auto (either threshold,
 * the air_s hold, the ground_s hysteresis, unknown readings without a
 * position), input (the crew's switch, at once), and the state kept on disk. */
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
#include "ot_log.h"

static struct ot_reading pos(double alt, double speed)
{
    struct ot_reading r;
    memset(&r, 0, sizeof r);
    r.ts = 1763877600000LL;
    ot_reading_set(&r, OT_CH_TEMP, 4);
    if (alt >= 0)
        ot_reading_set(&r, OT_CH_ALT, alt);
    if (speed >= 0)
        ot_reading_set(&r, OT_CH_SPEED, speed);
    return r;
}

static const struct gw_flight_conf AUTO = {GW_FLIGHT_AUTO, 3000, 250, 60, 120};

static void auto_holds_and_hysteresis(void **state)
{
    (void)state;
    struct gw_flight f;
    memset(&f, 0, sizeof f);
    struct ot_reading r = pos(40, 80); /* a road */
    assert_int_equal(flight__judge(&f, &AUTO, &r, 0), 0);
    r = pos(900, 280); /* the take-off run: fast, low */
    assert_int_equal(flight__judge(&f, &AUTO, &r, 1000), 0);
    r = pos(2000, 240); /* slower but climbing: not airborne by either threshold */
    assert_int_equal(flight__judge(&f, &AUTO, &r, 2000), 0);
    assert_int_equal(f.cand_mono, 0); /* a ground reading restarts the hold */
    r = pos(3500, 240);               /* above the altitude threshold */
    assert_int_equal(flight__judge(&f, &AUTO, &r, 3000), 0);
    r = pos(-1, -1); /* no fix: unknown, the hold goes on */
    assert_int_equal(flight__judge(&f, &AUTO, &r, 30000), 0);
    r = pos(7600, 620);
    assert_int_equal(flight__judge(&f, &AUTO, &r, 62999), 0);
    assert_int_equal(flight__judge(&f, &AUTO, &r, 63000), 1); /* held air_s */
    assert_true(f.in_flight);
    assert_non_null(strstr(f.why, "alt_m=7600"));
    /* a slow final approach and a touch-and-go do not land it */
    r = pos(1500, 230);
    assert_int_equal(flight__judge(&f, &AUTO, &r, 100000), 0);
    r = pos(400, 260);
    assert_int_equal(flight__judge(&f, &AUTO, &r, 150000), 0);
    assert_int_equal(f.cand_mono, 0);
    r = pos(355, 30); /* landed, taxiing */
    assert_int_equal(flight__judge(&f, &AUTO, &r, 200000), 0);
    r = pos(-1, 20); /* altitude unread: not evidence either way */
    assert_int_equal(flight__judge(&f, &AUTO, &r, 250000), 0);
    r = pos(355, 0);
    assert_int_equal(flight__judge(&f, &AUTO, &r, 319999), 0);
    assert_int_equal(flight__judge(&f, &AUTO, &r, 320000), 1); /* held ground_s */
    assert_false(f.in_flight);
}

static void auto_one_threshold(void **state)
{
    (void)state;
    /* speed only (a helicopter service might use this): altitude is ignored */
    struct gw_flight_conf c = {GW_FLIGHT_AUTO, 0, 150, 0, 0};
    struct gw_flight f;
    memset(&f, 0, sizeof f);
    struct ot_reading r = pos(-1, 160);
    assert_int_equal(flight__judge(&f, &c, &r, 1), 1);
    r = pos(9000, 100);
    assert_int_equal(flight__judge(&f, &c, &r, 2), 1);
    assert_false(f.in_flight);
}

static void input_switch(void **state)
{
    (void)state;
    struct gw_flight_conf c = {GW_FLIGHT_INPUT, 3000, 250, 60, 120};
    struct gw_flight f;
    memset(&f, 0, sizeof f);
    struct ot_reading r = pos(7600, 620); /* position does not matter */
    assert_int_equal(flight__judge(&f, &c, &r, 1), 0);
    r.n_extra = 1;
    snprintf(r.extra[0].name, sizeof r.extra[0].name, "flight_mode");
    r.extra[0].is_bool = 1;
    r.extra[0].value = 1;
    assert_int_equal(flight__judge(&f, &c, &r, 2), 1); /* at once */
    assert_true(f.in_flight);
    r.extra[0].value = 0;
    assert_int_equal(flight__judge(&f, &c, &r, 3), 1);
    assert_false(f.in_flight);
    /* off: never */
    struct gw_flight_conf off = {GW_FLIGHT_OFF, 3000, 250, 0, 0};
    r.extra[0].value = 1;
    assert_int_equal(flight__judge(&f, &off, &r, 4), 0);
}

static void kept_on_disk(void **state)
{
    (void)state;
    char dir[] = "/tmp/ot-flight-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct gw_flight f, back;
    assert_int_equal(flight__load(dir, &back), OT_OK);
    assert_false(back.in_flight);
    memset(&f, 0, sizeof f);
    f.in_flight = 1;
    f.since_ms = 1763877600123LL;
    assert_int_equal(flight__save(dir, &f), OT_OK);
    assert_int_equal(flight__load(dir, &back), OT_OK);
    assert_true(back.in_flight);
    assert_int_equal(back.since_ms, 1763877600123LL);
    char path[256];
    snprintf(path, sizeof path, "%s/flight.json", dir);
    FILE *fp = fopen(path, "w");
    fputs("{\"in_flight\":", fp);
    fclose(fp);
    assert_int_equal(flight__load(dir, &back), OT_ERR_CORRUPT);
    assert_false(back.in_flight);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    ot_log_init("test", OT_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(auto_holds_and_hysteresis),
        cmocka_unit_test(auto_one_threshold),
        cmocka_unit_test(input_switch),
        cmocka_unit_test(kept_on_disk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
