/* test_rules_progress.c - progress of the journey (collector/rules/
 * rules_progress.c): departed, at_airport, airborne, landed and
 * arrival_suggested once each, in order, at the reading time of the fix
 * that showed them; GNSS jitter at a fence's edge; what a restart restores;
 * a flight without fixes. The plan runs east along the equator (1 degree
 * of longitude = 111.195 km): hospital at km 0, airport A at km 30,
 * airport B at km 530, the centre at km 550. */
/* cmocka needs these first, in this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <math.h>
#include <string.h>

#include "test_rules_fixture.h"

#define KM_PER_DEG 111.19508

struct prec {
    size_t n;
    struct rules_progress ev[32];
};

static void prec_emit(void *ctx, const struct rules_progress *p)
{
    struct prec *r = ctx;
    if (r->n < 32)
        r->ev[r->n++] = *p;
}

static struct prec got;

static int setup(void **state)
{
    memset(&got, 0, sizeof got);
    int rc = fx_setup_with(state, NULL);
    struct fx *f = *state;
    int64_t dep = T0 + 10 * MIN;
    double a = 30 / KM_PER_DEG, b = 530 / KM_PER_DEG, c = 550 / KM_PER_DEG;
    struct rules_leg l0 = {0, 0, 0, 0, a, dep, dep + 40 * MIN, 0, 0};
    struct rules_leg l1 = {1, 0, a, 0, b, dep + 85 * MIN, dep + 160 * MIN, 0, 0};
    struct rules_leg l2 = {0, 0, b, 0, c, dep + 190 * MIN, dep + 220 * MIN, 0, 0};
    f->sh.legs[0] = l0;
    f->sh.legs[1] = l1;
    f->sh.legs[2] = l2;
    f->sh.n_legs = 3;
    f->sh.air = 1;
    f->sh.has_dest = 1;
    f->sh.dest_lon = c;
    return rc;
}

/* One fix at km along the equator (speed, altitude: NaN absent). */
static void at(struct fx *f, int64_t ts, double km, double kmh, double alt)
{
    struct ot_reading r = fx_temp(ts, 4.0);
    ot_reading_set(&r, OT_CH_LAT, 0);
    ot_reading_set(&r, OT_CH_LON, km / KM_PER_DEG);
    ot_reading_set(&r, OT_CH_GNSS, 3);
    if (kmh == kmh)
        ot_reading_set(&r, OT_CH_SPEED, kmh);
    if (alt == alt)
        ot_reading_set(&r, OT_CH_ALT, alt);
    rules_progress_on_reading(f->s, &f->sh, &r, 0, prec_emit, &got);
}

/* Moves from *km at kmh for dur, a fix each 10 s; *first: ts of the first
 * fix at or beyond km `mark` (0: not asked). */
static void move(struct fx *f, int64_t *t, double *km, double kmh, int64_t dur, double alt,
                 double mark, int64_t *first)
{
    for (int64_t end = *t + dur; *t < end;) {
        *t += 10 * SEC;
        *km += kmh / 360.0;
        at(f, *t, *km, kmh, alt);
        if (first && !*first && *km >= mark)
            *first = *t;
    }
}

static const struct rules_progress *find(const char *kind)
{
    for (size_t i = 0; i < got.n; i++)
        if (!strcmp(got.ev[i].kind, kind))
            return &got.ev[i];
    return NULL;
}

/* The whole journey, fixes all the way. */
static void journey_in_order(void **state)
{
    struct fx *f = *state;
    int64_t t = T0, t_dep = 0, t_apt = 0, t_air = 0, t_land = 0, t_arr = 0;
    double km = 0.05;
    move(f, &t, &km, 0, 5 * MIN, NAN, 0, NULL);
    assert_int_equal(got.n, 0); /* standing at the hospital */
    /* 60 km/h to the airport: beyond 375 m is departed; within 2 km of A */
    move(f, &t, &km, 60, 27 * MIN, NAN, 0.375 + 1e-9, &t_dep);
    move(f, &t, &km, 30, 3 * MIN, NAN, 28.0 + 1e-9, &t_apt);
    move(f, &t, &km, 0, 30 * MIN, 120, 0, NULL);
    assert_int_equal(got.n, 2);
    /* the take-off roll inside the fence is not airborne yet */
    move(f, &t, &km, 250, 30 * SEC, 125, 0, NULL);
    assert_int_equal(got.n, 2);
    move(f, &t, &km, 400, 10 * MIN, 3000, 32.5 + 1e-9, &t_air);
    move(f, &t, &km, 750, 35 * MIN, 9000, 0, NULL);
    /* approach, touch-down and taxi at B (km 530) */
    km = 526.0;
    move(f, &t, &km, 250, 40 * SEC, 300, 0, NULL);
    move(f, &t, &km, 40, 2 * MIN, 140, 528.0 + 1e-9, &t_land);
    move(f, &t, &km, 0, 20 * MIN, 140, 0, NULL);
    assert_int_equal(got.n, 4);
    move(f, &t, &km, 60, 22 * MIN, NAN, 549.7 + 1e-9, &t_arr);
    move(f, &t, &km, 0, 10 * MIN, NAN, 0, NULL);

    static const char *const order[] = {"departed", "at_airport", "airborne", "landed",
                                        "arrival_suggested"};
    int64_t when[] = {t_dep, t_apt, t_air, t_land, t_arr};
    int legs[] = {-1, 1, 1, 1, -1};
    assert_int_equal(got.n, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(got.ev[i].kind, order[i]);
        assert_int_equal(got.ev[i].leg, legs[i]);
        assert_true(got.ev[i].observed);
        /* the first fix that showed it (landed: the first slow one in B) */
        if (i != 3)
            assert_int_equal(got.ev[i].at, when[i]);
    }
    assert_true(got.ev[3].at >= t_land && got.ev[3].at <= t_land + 20 * SEC);
    assert_int_equal(got.ev[1].place, 2); /* leg 1's from */
    assert_int_equal(got.ev[3].place, 3); /* leg 1's to */
    assert_true(fabs(got.ev[1].radius_m - 2000) < 1e-9);
    assert_true(fabs(got.ev[4].radius_m - 300) < 1e-9);
}

/* GNSS jitter across the hospital's fence and at the centre's edge. */
static void jitter_at_the_edge(void **state)
{
    struct fx *f = *state;
    int64_t t = T0;
    /* standing 290 m / 400 m from the hospital in turn: never 10 s outside */
    for (int i = 0; i < 60; i++)
        at(f, t += 5 * SEC, i % 2 ? 0.290 : 0.400, 0, NAN);
    assert_int_equal(got.n, 0);
    /* leaves */
    int64_t t_dep = 0;
    double km = 0.3;
    move(f, &t, &km, 60, 10 * MIN, NAN, 0.375 + 1e-9, &t_dep);
    assert_int_equal(got.n, 1);
    assert_int_equal(got.ev[0].at, t_dep);
    /* no flight fixes: far beyond, then at the centre's edge, 290 m / 330 m
     * (inside the band: stays inside) for ten minutes, then 420 m and back */
    double edge = 550 - 0.290;
    at(f, t += 10 * SEC, 500, 60, NAN);
    at(f, t += 10 * SEC, 549.0, 30, NAN);
    int64_t t_in = t + 10 * SEC;
    for (int i = 0; i < 60; i++)
        at(f, t += 10 * SEC, i % 2 ? 550 - 0.330 : edge, 5, NAN);
    at(f, t += 10 * SEC, 550 - 0.420, 5, NAN);
    at(f, t += 10 * SEC, edge, 5, NAN);
    at(f, t += 10 * SEC, edge, 5, NAN);
    size_t arrivals = 0;
    for (size_t i = 0; i < got.n; i++)
        arrivals += !strcmp(got.ev[i].kind, "arrival_suggested");
    assert_int_equal(arrivals, 1);
    assert_int_equal(find("arrival_suggested")->at, t_in);
    assert_null(find("airborne")); /* not made up */
    assert_null(find("landed"));   /* never seen at A */
}

/* A restarted collector restores what was reported: nothing again, nothing
 * before it. */
static void restore_after_restart(void **state)
{
    struct fx *f = *state;
    assert_int_equal(rules_progress_restore(f->s, "departed", -1), OT_OK);
    assert_int_equal(rules_progress_restore(f->s, "at_airport", 1), OT_OK);
    assert_int_equal(rules_progress_restore(f->s, "airborne", 1), OT_OK);
    assert_int_equal(rules_progress_restore(f->s, "airborne", -1), OT_ERR_INVAL);
    assert_int_equal(rules_progress_restore(f->s, "departed", 0), OT_ERR_INVAL);
    assert_int_equal(rules_progress_restore(f->s, "boarding", 1), OT_ERR_INVAL);
    int64_t t = T0;
    double km = 25;
    /* passes airport A again (no at_airport twice), then lands at B */
    move(f, &t, &km, 60, 10 * MIN, NAN, 0, NULL);
    assert_int_equal(got.n, 0);
    km = 529.9;
    move(f, &t, &km, 0, 2 * MIN, NAN, 0, NULL);
    assert_int_equal(got.n, 1);
    assert_string_equal(got.ev[0].kind, "landed");
}

/* No fix in flight: landed (observed 0) after at_airport, airborne not
 * made up; a car at 150 km/h to the airport is not airborne. */
static void flight_without_fixes(void **state)
{
    struct fx *f = *state;
    int64_t t = T0;
    double km = 0.0;
    move(f, &t, &km, 150, 12 * MIN, NAN, 0, NULL);
    assert_int_equal(got.n, 2); /* departed, at_airport */
    move(f, &t, &km, 0, 5 * MIN, NAN, 0, NULL);
    km = 530.1;
    move(f, &t, &km, 0, 2 * MIN, NAN, 0, NULL);
    assert_int_equal(got.n, 3);
    assert_string_equal(got.ev[2].kind, "landed");
    assert_false(got.ev[2].observed);
    assert_null(find("airborne"));
}

/* radius_m from the plan replaces the default. */
static void radius_from_the_plan(void **state)
{
    struct fx *f = *state;
    f->sh.legs[0].from_radius_m = 1000;
    int64_t t = T0, t_dep = 0;
    double km = 0.52;
    move(f, &t, &km, 0, 2 * MIN, NAN, 0, NULL);
    move(f, &t, &km, 30, 5 * MIN, NAN, 1.25 + 1e-9, &t_dep);
    assert_int_equal(got.n, 1);
    assert_int_equal(got.ev[0].at, t_dep);
    assert_true(fabs(got.ev[0].radius_m - 1000) < 1e-9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(journey_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(jitter_at_the_edge, setup, teardown),
        cmocka_unit_test_setup_teardown(restore_after_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(flight_without_fixes, setup, teardown),
        cmocka_unit_test_setup_teardown(radius_from_the_plan, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
