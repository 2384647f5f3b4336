/* test_rules_eta.c - the ETA (collector/rules/rules_eta.c, rules_legs.c):
 * the prior until the vehicle is under way, observed progress over minutes,
 * planned legs and flights, and eta_late that does not cry wolf. Journeys
 * run east along the equator (1 degree of longitude = 111.195 km), one fix
 * each 10 s of reading time. */
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

#define KM_PER_DEG 111.19508

static int setup(void **state)
{
    return fx_setup_with(state, NULL);
}

static void fix(struct fx *f, int64_t ts, double lon)
{
    struct ot_reading r = fx_temp(ts, 4.0);
    ot_reading_set(&r, OT_CH_LAT, 0);
    ot_reading_set(&r, OT_CH_LON, lon);
    ot_reading_set(&r, OT_CH_GNSS, 3);
    rules_on_reading(f->s, &f->sh, &r, 0, rec_emit, &f->rec);
}

/* Drives from *lon at kmh for dur ms from *t, a fix each 10 s. */
static void drive(struct fx *f, int64_t *t, double *lon, double kmh, int64_t dur)
{
    for (int64_t end = *t + dur; *t < end;) {
        *t += 10 * SEC;
        *lon += kmh / 360.0 / KM_PER_DEG;
        fix(f, *t, *lon);
    }
}

static void dest_km(struct fx *f, double km)
{
    f->sh.has_dest = 1;
    f->sh.dest_lat = 0;
    f->sh.dest_lon = km / KM_PER_DEG;
}

/* One fix, nothing observed: the mode's prior, 60 km/h on the ground. */
static void prior_until_under_way(void **state)
{
    struct fx *f = *state;
    dest_km(f, 120);
    assert_int_equal(rules_eta(f->s, &f->sh), 0); /* no position yet */
    fix(f, T0, 0);
    assert_true(llabs(rules_eta(f->s, &f->sh) - (T0 + 2 * HOUR)) < 2000);
    /* standing in the car park for 10 min: still the prior, from now */
    int64_t t = T0;
    double lon = 0;
    drive(f, &t, &lon, 0, 10 * MIN);
    assert_true(llabs(rules_eta(f->s, &f->sh) - (t + 2 * HOUR)) < 2000);
    /* crawling at 5 km/h for 20 min (1.7 km): not under way yet */
    drive(f, &t, &lon, 5, 20 * MIN);
    struct rules_eta_info e;
    rules_eta_explain(f->s, &f->sh, &e);
    assert_int_equal(e.observed, 0);
    assert_true(fabs(e.kmh - 60.0) < 1e-9);
}

/* The demo's false alarm: 420 km, 12 h left, leaving town at 5 km/h for a
 * quarter of an hour and 30 km/h for 20 min before the highway. The old
 * ETA said "4300 min late (421 km left at 5 km/h)"; this one never warns. */
static void slow_start_with_ample_time_never_late(void **state)
{
    struct fx *f = *state;
    f->p.max_cold_ischemia_min = 720;
    dest_km(f, 420);
    int64_t t = T0 + 30 * MIN, worst = 0;
    double lon = 0;
    fix(f, t, lon);
    for (int phase = 0; phase < 3; phase++) {
        static const double kmh[] = {5, 30, 90};
        static const int64_t dur[] = {15 * MIN, 20 * MIN, 5 * HOUR};
        for (int64_t end = t + dur[phase]; t < end && lon < f->sh.dest_lon;) {
            drive(f, &t, &lon, kmh[phase], MIN);
            int64_t eta = rules_eta(f->s, &f->sh);
            if (eta > worst)
                worst = eta;
        }
    }
    assert_int_equal(rec_count(&f->rec, "eta_late", -1), 0);
    assert_true(worst < T0 + 720 * MIN);
    assert_true(lon >= f->sh.dest_lon); /* it did arrive, in about 5 h */
}

/* A steady 35 km/h over 420 km takes 12 h with 9 h left at departure: the
 * warning comes hours, not minutes, before the deadline is missed. */
static void truly_late_warns_in_time(void **state)
{
    struct fx *f = *state;
    dest_km(f, 420);
    int64_t t = T0 + 60 * MIN;
    double lon = 0;
    fix(f, t, lon);
    assert_int_equal(rec_count(&f->rec, "eta_late", -1), 0); /* the prior: 7 h, in time */
    while (t < T0 + 600 * MIN && !rec_count(&f->rec, "eta_late", RULES_RAISED))
        drive(f, &t, &lon, 35, MIN);
    const struct rules_event *ev = rec_first(&f->rec, "eta_late");
    assert_non_null(ev);
    assert_int_equal(ev->change, RULES_RAISED);
    assert_true(ev->at <= T0 + 570 * MIN); /* at least 30 min before the deadline */
    assert_true(ev->at <= T0 + 180 * MIN); /* in fact within 2 h of setting off */
    assert_non_null(strstr(ev->message, "observed over minutes"));
    /* it stays raised: no flapping while the vehicle keeps crawling */
    drive(f, &t, &lon, 35, 2 * HOUR);
    assert_int_equal(rec_count(&f->rec, "eta_late", RULES_RAISED), 1);
    assert_int_equal(rec_count(&f->rec, "eta_late", RULES_CLEARED), 0);
}

/* Ground to the airport, a flight, ground to the centre. */
static void plan(struct fx *f, int64_t dep)
{
    /* 30 km in 40 min; 500 km flight 1 h 15 min after 45 min at the
     * airport; 20 km in 30 min after 30 min on the apron */
    double a = 30 / KM_PER_DEG, b = 530 / KM_PER_DEG, c = 550 / KM_PER_DEG;
    struct rules_leg l0 = {0, 0, 0, 0, a, dep, dep + 40 * MIN, 0, 0};
    struct rules_leg l1 = {1, 0, a, 0, b, dep + 85 * MIN, dep + 160 * MIN, 0, 0};
    struct rules_leg l2 = {0, 0, b, 0, c, dep + 190 * MIN, dep + 220 * MIN, 0, 0};
    f->sh.legs[0] = l0;
    f->sh.legs[1] = l1;
    f->sh.legs[2] = l2;
    f->sh.n_legs = 3;
    f->sh.air = 1;
    dest_km(f, 550);
}

/* Keeping to the plan: the ETA is the planned arrival at every step, and a
 * deadline 20 min after it never raises eta_late. The flight's ETA is its
 * planned time, with no fixes while airborne. */
static void legs_kept_to_plan(void **state)
{
    struct fx *f = *state;
    int64_t dep = T0 + 60 * MIN, arrive = dep + 220 * MIN;
    f->p.max_cold_ischemia_min = (int64_t)((arrive - T0) / MIN) + 20;
    plan(f, dep);
    int64_t t = T0 + 30 * MIN;
    double lon = 0;
    fix(f, t, lon); /* waiting at the donor hospital */
    assert_true(llabs(rules_eta(f->s, &f->sh) - arrive) < 2000);
    t = dep;
    fix(f, t, lon);
    drive(f, &t, &lon, 45, 40 * MIN); /* 45 km/h: the planned 30 km in 40 min */
    struct rules_eta_info e;
    rules_eta_explain(f->s, &f->sh, &e);
    assert_int_equal(e.leg, 1); /* at the airport: the flight is next */
    assert_true(llabs(e.eta - arrive) < 2 * MIN);
    /* airborne, GNSS off: ticks only */
    for (int64_t k = t; k < dep + 160 * MIN; k += 5 * MIN) {
        rules_on_tick(f->s, &f->sh, k, 1, rec_emit, &f->rec);
        assert_true(llabs(rules_eta(f->s, &f->sh) - arrive) < 2 * MIN);
    }
    t = dep + 160 * MIN;
    lon = 530 / KM_PER_DEG;
    fix(f, t, lon); /* landed */
    rules_eta_explain(f->s, &f->sh, &e);
    assert_int_equal(e.leg, 2);
    assert_true(llabs(e.eta - arrive) < 2 * MIN);
    t = dep + 190 * MIN;
    fix(f, t, lon);
    drive(f, &t, &lon, 40, 30 * MIN);
    assert_int_equal(rec_count(&f->rec, "eta_late", -1), 0);
    assert_true(fabs(lon * KM_PER_DEG - 550) < 0.6);
}

/* A flight is not early because the ambulance was: it leaves at its
 * planned time; and a missed departure moves the whole plan. */
static void legs_flight_keeps_its_times(void **state)
{
    struct fx *f = *state;
    int64_t dep = T0 + 60 * MIN, arrive = dep + 220 * MIN;
    plan(f, dep);
    int64_t t = dep;
    double lon = 0;
    fix(f, t, lon);
    drive(f, &t, &lon, 90, 20 * MIN); /* at the airport 20 min early */
    assert_true(llabs(rules_eta(f->s, &f->sh) - arrive) < 2 * MIN);
    /* still on the apron 30 min after the planned flight */
    for (int64_t k = t; k < dep + 115 * MIN; k += MIN)
        fix(f, k, lon);
    rules_on_tick(f->s, &f->sh, dep + 115 * MIN, 1, rec_emit, &f->rec);
    /* the planned arrival of the flight stands, but never before now */
    assert_true(rules_eta(f->s, &f->sh) >= arrive - 2 * MIN);
}

/* A new plan (a redirect) is taken at once, on the next tick. */
static void new_plan_recomputes_on_tick(void **state)
{
    struct fx *f = *state;
    f->p.max_cold_ischemia_min = 300;
    dest_km(f, 120);
    int64_t t = T0 + 60 * MIN;
    double lon = 0;
    fix(f, t, lon);
    drive(f, &t, &lon, 60, 30 * MIN);
    int64_t before = rules_eta(f->s, &f->sh);
    assert_true(llabs(before - (T0 + 180 * MIN)) < 5 * MIN);
    /* redirected to a centre 300 km farther: late now */
    dest_km(f, 420);
    rules_on_tick(f->s, &f->sh, t + SEC, 1, rec_emit, &f->rec);
    assert_true(rules_eta(f->s, &f->sh) > before + 4 * HOUR);
    assert_int_equal(rec_count(&f->rec, "eta_late", RULES_RAISED), 1);
    /* and back: cleared on the next tick */
    dest_km(f, 120);
    rules_on_tick(f->s, &f->sh, t + 2 * SEC, 1, rec_emit, &f->rec);
    assert_int_equal(rec_count(&f->rec, "eta_late", RULES_CLEARED), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(prior_until_under_way, setup, teardown),
        cmocka_unit_test_setup_teardown(slow_start_with_ample_time_never_late, setup, teardown),
        cmocka_unit_test_setup_teardown(truly_late_warns_in_time, setup, teardown),
        cmocka_unit_test_setup_teardown(legs_kept_to_plan, setup, teardown),
        cmocka_unit_test_setup_teardown(legs_flight_keeps_its_times, setup, teardown),
        cmocka_unit_test_setup_teardown(new_plan_recomputes_on_tick, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
