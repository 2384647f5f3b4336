/* test_rules_clock.c - rules driven by the clock: cold-ischaemia thresholds,
 * the ETA's deadline on ticks (test_rules_eta.c: the ETA itself), escalation of unacknowledged
 * alarms. */
/* cmocka needs these first, in this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ot_geo.h"
#include "test_rules_fixture.h"

static int setup(void **state)
{
    return fx_setup_with(state, NULL);
}

static void tick(struct fx *f, int64_t now)
{
    rules_on_tick(f->s, &f->sh, now, 1, rec_emit, &f->rec);
}

static struct ot_reading pos(int64_t ts, double lat, double lon, double speed)
{
    struct ot_reading r = fx_temp(ts, 4.0);
    ot_reading_set(&r, OT_CH_LAT, lat);
    ot_reading_set(&r, OT_CH_LON, lon);
    ot_reading_set(&r, OT_CH_GNSS, 3);
    if (speed >= 0)
        ot_reading_set(&r, OT_CH_SPEED, speed);
    return r;
}

static void ischemia_warn_and_limit_on_ticks(void **state)
{
    struct fx *f = *state;
    /* limit 600 min, warn at 0.8: 480 min; a reading each minute keeps the
     * sensor alive */
    for (int64_t t = T0; t <= T0 + 479 * MIN; t += MIN) {
        struct ot_reading r = fx_temp(t, 4.0);
        rules_on_reading(f->s, &f->sh, &r, 0, rec_emit, &f->rec);
        tick(f, t + 30 * SEC);
        rules_on_ack(f->s, "ischemia_warn", t);
    }
    assert_int_equal(rec_count(&f->rec, "ischemia_warn", -1), 0);
    tick(f, T0 + 480 * MIN + 7 * SEC);
    assert_int_equal(rec_count(&f->rec, "ischemia_warn", RULES_RAISED), 1);
    const struct rules_event *ev = rec_last(&f->rec, "ischemia_warn");
    assert_int_equal(ev->at, T0 + 480 * MIN); /* the exact threshold instant */
    assert_int_equal(ev->severity, RULES_WARNING);
    assert_non_null(strstr(ev->message, "480 of 600 min"));
    rules_on_ack(f->s, "ischemia_warn", T0 + 481 * MIN);
    tick(f, T0 + 599 * MIN);
    assert_int_equal(rec_count(&f->rec, "ischemia_limit", -1), 0);
    struct ot_reading r = fx_temp(T0 + 600 * MIN, 4.0);
    rules_on_reading(f->s, &f->sh, &r, 0, rec_emit, &f->rec);
    assert_int_equal(rec_count(&f->rec, "ischemia_limit", RULES_RAISED), 1);
    ev = rec_last(&f->rec, "ischemia_limit");
    assert_int_equal(ev->severity, RULES_CRITICAL);
    assert_int_equal(ev->at, T0 + 600 * MIN);
    /* raised once; the acknowledged warning never escalates */
    tick(f, T0 + 700 * MIN);
    assert_int_equal(rec_count(&f->rec, "ischemia_limit", RULES_RAISED), 1);
    assert_int_equal(rec_count(&f->rec, "ischemia_warn", RULES_ESCALATED), 0);
    assert_int_equal(rec_count(&f->rec, "ischemia_warn", RULES_CLEARED), 0);
}

static void ischemia_from_late_reading_is_late(void **state)
{
    struct fx *f = *state;
    struct ot_reading r = fx_temp(T0 + 500 * MIN, 4.0);
    rules_on_reading(f->s, &f->sh, &r, 1, rec_emit, &f->rec);
    const struct rules_event *ev = rec_last(&f->rec, "ischemia_warn");
    assert_non_null(ev);
    assert_int_equal(ev->late, 1);
    assert_int_equal(ev->at, T0 + 480 * MIN);
    /* no cross-clamp time, or a tissue profile: no ischaemia clock */
    struct rules_state *s2 = rules_state_new();
    struct rec rec2;
    memset(&rec2, 0, sizeof rec2);
    f->sh.cross_clamp_at = 0;
    rules_on_tick(s2, &f->sh, T0 + 2000 * MIN, 1, rec_emit, &rec2);
    f->sh.cross_clamp_at = T0;
    f->p.max_cold_ischemia_min = 0;
    rules_on_tick(s2, &f->sh, T0 + 2000 * MIN, 1, rec_emit, &rec2);
    assert_int_equal(rec_count(&rec2, "ischemia_warn", -1), 0);
    assert_int_equal(rec_count(&rec2, "ischemia_limit", -1), 0);
    rules_state_free(s2);
}

/* Reperfusion ends cold ischaemia: the clock stops, its alarms clear and
 * never come back. */
static void ischemia_stops_at_reperfusion(void **state)
{
    struct fx *f = *state;
    tick(f, T0 + 500 * MIN); /* past the 480 min warning */
    assert_int_equal(rec_count(&f->rec, "ischemia_warn", RULES_RAISED), 1);
    f->sh.ischemia_ended_at = T0 + 510 * MIN;
    tick(f, T0 + 505 * MIN); /* before the reperfusion time: still running */
    assert_int_equal(rec_count(&f->rec, "ischemia_warn", RULES_CLEARED), 0);
    tick(f, T0 + 511 * MIN);
    assert_int_equal(rec_count(&f->rec, "ischemia_warn", RULES_CLEARED), 1);
    assert_non_null(strstr(rec_last(&f->rec, "ischemia_warn")->message, "510 min"));
    tick(f, T0 + 700 * MIN); /* past the 600 min limit on the wall: no longer cold */
    assert_int_equal(rec_count(&f->rec, "ischemia_limit", -1), 0);
    assert_int_equal(rec_count(&f->rec, "ischemia_warn", RULES_RAISED), 1);
}

static void distance_known_values(void **state)
{
    (void)state;
    /* one degree of longitude on the equator: 2*pi*6371.0088/360 */
    assert_true(fabs(ot_geo_distance_km(0, 0, 0, 1) - 111.1951) < 0.01);
    assert_true(fabs(ot_geo_distance_km(10, 20, 10, 20)) < 1e-9);
    /* pole to pole */
    assert_true(fabs(ot_geo_distance_km(90, 0, -90, 0) - 20015.115) < 0.01);
    /* Oral (51.20, 51.37) to Astana (51.13, 71.43): about 1395 km */
    double d = ot_geo_distance_km(51.20, 51.37, 51.13, 71.43);
    assert_true(d > 1380 && d < 1410);
}

/* By air, far from the destination and still at ambulance speed: the flight
 * is ahead, so the ETA is distance at air cruise plus the airport transfers,
 * not the ambulance's speed over the whole great circle. */
static void eta_air_flight_ahead(void **state)
{
    struct fx *f = *state;
    f->sh.has_dest = 1;
    f->sh.dest_lat = 0;
    f->sh.dest_lon = 9; /* about 1000.8 km east */
    f->sh.air = 1;
    struct ot_reading r = pos(T0, 0, 0, 60.0);
    rules_on_reading(f->s, &f->sh, &r, 0, rec_emit, &f->rec);
    double km = ot_geo_distance_km(0, 0, 0, 9);
    int64_t eta = rules_eta(f->s, &f->sh) - T0;
    assert_true(llabs(eta - (int64_t)((km / 500.0 + 0.75) * 3600000.0)) < 2000);
    f->sh.air = 0; /* the same trip by road takes the ambulance's speed */
    eta = rules_eta(f->s, &f->sh) - T0;
    assert_true(llabs(eta - (int64_t)(km / 60.0 * 3600000.0)) < 2000);
}

static void eta_deadline_breach_on_tick_when_reports_stop(void **state)
{
    struct fx *f = *state;
    f->sh.has_dest = 1;
    f->sh.dest_lat = 0;
    f->sh.dest_lon = 1;
    /* 111.2 km at 60 km/h: arrival at 591.2 min, deadline 600 min */
    struct ot_reading r = pos(T0 + 480 * MIN, 0, 0, 60);
    rules_on_reading(f->s, &f->sh, &r, 0, rec_emit, &f->rec);
    assert_int_equal(rec_count(&f->rec, "eta_late", -1), 0);
    tick(f, T0 + 590 * MIN);
    assert_int_equal(rec_count(&f->rec, "eta_late", -1), 0);
    /* no fix since; the projected arrival has passed without arriving: the
     * ETA is never earlier than now */
    tick(f, T0 + 600 * MIN + 30 * SEC);
    assert_int_equal(rec_count(&f->rec, "eta_late", RULES_RAISED), 1);
    /* a fix at the destination clears it */
    r = pos(T0 + 601 * MIN, 0, 1, 10);
    rules_on_reading(f->s, &f->sh, &r, 0, rec_emit, &f->rec);
    assert_int_equal(rec_count(&f->rec, "eta_late", RULES_CLEARED), 1);
    assert_int_equal(rules_eta(f->s, &f->sh), T0 + 601 * MIN);
}

static void escalation_only_without_ack(void **state)
{
    struct fx *f = *state;
    f->p.max_cold_ischemia_min = 0;
    /* two shock alarms: one acknowledged, one not (separate states) */
    struct rules_state *s2 = rules_state_new();
    struct rec rec2;
    memset(&rec2, 0, sizeof rec2);
    struct ot_reading r = fx_temp(T0, 4.0);
    ot_reading_set(&r, OT_CH_BATTERY, 15);
    rules_on_reading(f->s, &f->sh, &r, 0, rec_emit, &f->rec);
    rules_on_reading(s2, &f->sh, &r, 0, rec_emit, &rec2);
    assert_int_equal(rec_count(&f->rec, "battery_low", RULES_RAISED), 1);
    rules_on_ack(s2, "battery_low", T0 + 5 * MIN);
    for (int64_t t = T0 + MIN; t < T0 + 10 * MIN; t += MIN) {
        tick(f, t);
        rules_on_tick(s2, &f->sh, t, 1, rec_emit, &rec2);
        r = fx_temp(t, 4.0);
        rules_on_reading(f->s, &f->sh, &r, 0, rec_emit, &f->rec);
        rules_on_reading(s2, &f->sh, &r, 0, rec_emit, &rec2);
    }
    assert_int_equal(rec_count(&f->rec, "battery_low", RULES_ESCALATED), 0);
    tick(f, T0 + 10 * MIN);
    rules_on_tick(s2, &f->sh, T0 + 10 * MIN, 1, rec_emit, &rec2);
    assert_int_equal(rec_count(&f->rec, "battery_low", RULES_ESCALATED), 1);
    const struct rules_event *ev = rec_last(&f->rec, "battery_low");
    assert_int_equal(ev->severity, RULES_CRITICAL);
    assert_int_equal(ev->at, T0 + 10 * MIN);
    assert_non_null(strstr(ev->message, "not acknowledged"));
    assert_int_equal(rec_count(&rec2, "battery_low", RULES_ESCALATED), 0);
    /* once per level: the critical level escalates once more after another
     * escalate_after_s, then never again */
    for (int64_t t = T0 + 11 * MIN; t < T0 + 3 * HOUR; t += MIN)
        tick(f, t);
    assert_int_equal(rec_count(&f->rec, "battery_low", RULES_ESCALATED), 2);
    assert_int_equal(rec_last(&f->rec, "battery_low")->at, T0 + 20 * MIN);
    /* acknowledged alarm stays quiet for hours */
    for (int64_t t = T0 + 11 * MIN; t < T0 + 3 * HOUR; t += MIN)
        rules_on_tick(s2, &f->sh, t, 1, rec_emit, &rec2);
    assert_int_equal(rec_count(&rec2, "battery_low", RULES_ESCALATED), 0);
    rules_state_free(s2);
}

static void escalation_clock_of_late_alarm_starts_when_seen(void **state)
{
    struct fx *f = *state;
    f->p.max_cold_ischemia_min = 0;
    /* shock found in backlog two hours old */
    struct ot_reading r = fx_temp(T0, 4.0);
    ot_reading_set(&r, OT_CH_SHOCK, 4.0);
    rules_on_reading(f->s, &f->sh, &r, 1, rec_emit, &f->rec);
    assert_int_equal(rec_count(&f->rec, "shock", RULES_RAISED), 1);
    assert_int_equal(rec_last(&f->rec, "shock")->late, 1);
    tick(f, T0 + 2 * HOUR); /* first live moment: the clock starts */
    assert_int_equal(rec_count(&f->rec, "shock", RULES_ESCALATED), 0);
    tick(f, T0 + 2 * HOUR + 9 * MIN);
    assert_int_equal(rec_count(&f->rec, "shock", RULES_ESCALATED), 0);
    tick(f, T0 + 2 * HOUR + 10 * MIN);
    assert_int_equal(rec_count(&f->rec, "shock", RULES_ESCALATED), 1);
    assert_int_equal(rec_last(&f->rec, "shock")->late, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(ischemia_warn_and_limit_on_ticks, setup, teardown),
        cmocka_unit_test_setup_teardown(ischemia_from_late_reading_is_late, setup, teardown),
        cmocka_unit_test(distance_known_values),
        cmocka_unit_test_setup_teardown(eta_air_flight_ahead, setup, teardown),
        cmocka_unit_test_setup_teardown(ischemia_stops_at_reperfusion, setup, teardown),
        cmocka_unit_test_setup_teardown(eta_deadline_breach_on_tick_when_reports_stop, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(escalation_only_without_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(escalation_clock_of_late_alarm_starts_when_seen, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
