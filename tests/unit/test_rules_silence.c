/* test_rules_silence.c - sensor_silent vs gateway_offline (rules_on_tick). */
/* cmocka needs these first, in this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <string.h>

#include "test_rules_fixture.h"

static void tweak(struct ot_preservation *p)
{
    p->max_cold_ischemia_min = 0;
}

static int setup(void **state)
{
    return fx_setup_with(state, tweak);
}

static void reading(struct fx *f, int64_t ts, int late)
{
    struct ot_reading r = fx_temp(ts, 4.0);
    rules_on_reading(f->s, &f->sh, &r, late, rec_emit, &f->rec);
}

static void tick(struct fx *f, int64_t now, int online)
{
    rules_on_tick(f->s, &f->sh, now, online, rec_emit, &f->rec);
}

static void sensor_silent_while_gateway_online(void **state)
{
    struct fx *f = *state;
    for (int64_t t = T0; t < T0 + 10 * MIN; t += 10 * SEC) {
        reading(f, t, 0);
        tick(f, t + 5 * SEC, 1);
    }
    assert_int_equal(f->rec.n, 0);
    int64_t last = T0 + 10 * MIN - 10 * SEC;
    /* readings arrive without temp_c (declared missing) */
    for (int64_t t = last + 10 * SEC; t < last + 3 * MIN; t += 10 * SEC) {
        struct ot_reading r = fx_missing(t);
        rules_on_reading(f->s, &f->sh, &r, 0, rec_emit, &f->rec);
        tick(f, t + SEC, 1);
    }
    assert_int_equal(rec_count(&f->rec, "sensor_silent", -1), 0);
    tick(f, last + 3 * MIN, 1);
    assert_int_equal(rec_count(&f->rec, "sensor_silent", RULES_RAISED), 1);
    const struct rules_event *ev = rec_last(&f->rec, "sensor_silent");
    assert_int_equal(ev->severity, RULES_CRITICAL);
    assert_int_equal(ev->at, last + 3 * MIN);
    assert_non_null(strstr(ev->message, "product temperature unknown"));
    assert_int_equal(rec_count(&f->rec, "gateway_offline", -1), 0);
    tick(f, last + 4 * MIN, 1);
    assert_int_equal(rec_count(&f->rec, "sensor_silent", RULES_RAISED), 1);
    reading(f, last + 5 * MIN, 0);
    assert_int_equal(rec_count(&f->rec, "sensor_silent", RULES_CLEARED), 1);
    tick(f, last + 5 * MIN + 5 * SEC, 1);
    assert_int_equal(rec_count(&f->rec, "sensor_silent", RULES_RAISED), 1);
}

static void gateway_offline_is_not_a_dead_sensor(void **state)
{
    struct fx *f = *state;
    for (int64_t t = T0; t < T0 + 10 * MIN; t += 10 * SEC)
        reading(f, t, 0);
    /* the gateway's last will: offline for 40 min (a flight) */
    for (int64_t t = T0 + 10 * MIN; t < T0 + 50 * MIN; t += 30 * SEC)
        tick(f, t, 0);
    assert_int_equal(rec_count(&f->rec, "gateway_offline", RULES_RAISED), 1);
    assert_int_equal(rec_first(&f->rec, "gateway_offline")->severity, RULES_WARNING);
    assert_int_equal(rec_first(&f->rec, "gateway_offline")->at, T0 + 10 * MIN);
    assert_int_equal(rec_count(&f->rec, "sensor_silent", -1), 0);
    /* back online, the backlog drains (late readings between ticks) */
    tick(f, T0 + 50 * MIN, 1);
    assert_int_equal(rec_count(&f->rec, "gateway_offline", RULES_CLEARED), 1);
    int64_t b = T0 + 10 * MIN;
    for (int k = 0; k < 8; k++) {
        for (int i = 0; i < 30; i++, b += 10 * SEC)
            reading(f, b, 1);
        tick(f, T0 + 50 * MIN + (k + 1) * MIN, 1); /* older than 180 s from k = 2 on */
    }
    assert_int_equal(rec_count(&f->rec, "sensor_silent", -1), 0);
    /* nobody acknowledged the offline alarm: critical after 10 min, re-paged
     * once more after another 10 min, then cleared */
    assert_int_equal(rec_count(&f->rec, "gateway_offline", RULES_ESCALATED), 2);
}

static void never_reported_container_goes_silent(void **state)
{
    struct fx *f = *state;
    tick(f, T0, 1);
    tick(f, T0 + 2 * MIN, 1);
    assert_int_equal(f->rec.n, 0);
    tick(f, T0 + 3 * MIN, 1);
    assert_int_equal(rec_count(&f->rec, "sensor_silent", RULES_RAISED), 1);
}

/* flight mode (SPEC v1.1): no gateway_offline while the state says flight,
 * until flight_overdue after the air leg's planned arrival */
static void flight_mode_is_silent_until_overdue(void **state)
{
    struct fx *f = *state;
    reading(f, T0, 0);
    tick(f, T0 + SEC, 1);
    f->sh.in_flight = 1;
    f->sh.flight_since = T0 + 2 * MIN;
    f->sh.flight_overdue_ms = 30 * MIN;
    f->sh.flight_max_ms = 16 * 60 * MIN;
    f->sh.n_legs = 2;
    f->sh.legs[0].air = 0;
    f->sh.legs[0].planned_arrival = T0; /* the road to the airport, done */
    f->sh.legs[1].air = 1;
    f->sh.legs[1].planned_departure = T0 + 5 * MIN;
    f->sh.legs[1].planned_arrival = T0 + 3 * 60 * MIN;
    for (int64_t t = T0 + 2 * MIN; t < T0 + 3 * 60 * MIN + 30 * MIN; t += MIN)
        tick(f, t, 0);
    assert_int_equal(rec_count(&f->rec, "gateway_offline", -1), 0);
    assert_int_equal(rec_count(&f->rec, "sensor_silent", -1), 0);
    tick(f, T0 + 3 * 60 * MIN + 30 * MIN, 0);
    assert_int_equal(rec_count(&f->rec, "gateway_offline", RULES_RAISED), 1);
    const struct rules_event *ev = rec_last(&f->rec, "gateway_offline");
    assert_non_null(strstr(ev->message, "overdue: 30 min after the planned landing"));
    /* landed late: back online clears it */
    f->sh.in_flight = 0;
    tick(f, T0 + 4 * 60 * MIN, 1);
    assert_int_equal(rec_count(&f->rec, "gateway_offline", RULES_CLEARED), 1);
}

static void flight_mode_without_legs_has_a_cap(void **state)
{
    struct fx *f = *state;
    reading(f, T0, 0);
    /* offline first (no coverage), then the crew switches flight mode on:
     * the offline alarm is cleared, the radio is off by plan now */
    tick(f, T0 + MIN, 0);
    assert_int_equal(rec_count(&f->rec, "gateway_offline", RULES_RAISED), 1);
    f->sh.in_flight = 1;
    f->sh.flight_since = T0 + 2 * MIN;
    f->sh.flight_overdue_ms = 30 * MIN;
    f->sh.flight_max_ms = 16 * 60 * MIN;
    tick(f, T0 + 3 * MIN, 0);
    assert_int_equal(rec_count(&f->rec, "gateway_offline", RULES_CLEARED), 1);
    tick(f, T0 + 2 * MIN + 16 * 60 * MIN - SEC, 0);
    assert_int_equal(rec_count(&f->rec, "gateway_offline", RULES_RAISED), 1);
    tick(f, T0 + 2 * MIN + 16 * 60 * MIN, 0);
    assert_int_equal(rec_count(&f->rec, "gateway_offline", RULES_RAISED), 2);
    assert_non_null(
        strstr(rec_last(&f->rec, "gateway_offline")->message, "longer than any planned flight"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(sensor_silent_while_gateway_online, setup, teardown),
        cmocka_unit_test_setup_teardown(gateway_offline_is_not_a_dead_sensor, setup, teardown),
        cmocka_unit_test_setup_teardown(never_reported_container_goes_silent, setup, teardown),
        cmocka_unit_test_setup_teardown(flight_mode_is_silent_until_overdue, setup, teardown),
        cmocka_unit_test_setup_teardown(flight_mode_without_legs_has_a_cap, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
