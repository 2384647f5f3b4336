/* test_rules_temp.c - temp_excursion and temp_forecast state machines. */
/* cmocka needs these first, in this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "test_rules_fixture.h"

static void tweak(struct ot_preservation *p)
{
    p->max_cold_ischemia_min = 0;
    p->escalate_after_s = 86400; /* no-ack escalation is tested in test_rules_clock */
}

static int setup(void **state)
{
    return fx_setup_with(state, tweak);
}

static void feed(struct fx *f, int64_t ts, double temp, int late)
{
    struct ot_reading r = fx_temp(ts, temp);
    rules_on_reading(f->s, &f->sh, &r, late, rec_emit, &f->rec);
}

/* Feeds temp every step ms over [from, to). */
static void feed_range(struct fx *f, int64_t from, int64_t to, int64_t step, double temp, int late)
{
    for (int64_t t = from; t < to; t += step)
        feed(f, t, temp, late);
}

static void grace_not_expired_no_alarm(void **state)
{
    struct fx *f = *state;
    feed_range(f, T0, T0 + 10 * MIN, 10 * SEC, 4.0, 0);
    feed_range(f, T0 + 10 * MIN, T0 + 10 * MIN + 290 * SEC, 10 * SEC, 9.5, 0); /* 290 s out */
    feed_range(f, T0 + 15 * MIN, T0 + 2 * HOUR, 10 * SEC, 4.0, 0);
    assert_int_equal(f->rec.n, 0);
}

static void raised_after_grace_with_true_time(void **state)
{
    struct fx *f = *state;
    feed_range(f, T0, T0 + 10 * MIN, 10 * SEC, 4.0, 0);
    feed_range(f, T0 + 10 * MIN, T0 + 14 * MIN, 10 * SEC, 9.0, 0);
    assert_int_equal(f->rec.n, 0);
    feed_range(f, T0 + 14 * MIN, T0 + 16 * MIN, 10 * SEC, 9.0, 0);
    assert_int_equal(rec_count(&f->rec, "temp_excursion", RULES_RAISED), 1);
    const struct rules_event *ev = rec_last(&f->rec, "temp_excursion");
    assert_int_equal(ev->at, T0 + 15 * MIN); /* grace 300 s after the first reading out */
    assert_int_equal(ev->severity, RULES_WARNING);
    assert_int_equal(ev->late, 0);
    assert_non_null(strstr(ev->message, "above 8.0"));
    assert_true(fabs(ev->value - 9.0) < 1e-9);
}

static void critical_after_three_graces(void **state)
{
    struct fx *f = *state;
    feed_range(f, T0, T0 + 26 * MIN, 10 * SEC, 9.0, 0);
    assert_int_equal(rec_count(&f->rec, "temp_excursion", RULES_RAISED), 1);
    assert_int_equal(rec_count(&f->rec, "temp_excursion", RULES_ESCALATED), 1);
    const struct rules_event *ev = rec_last(&f->rec, "temp_excursion");
    assert_int_equal(ev->severity, RULES_CRITICAL);
    assert_int_equal(ev->at, T0 + 15 * MIN + 10 * SEC); /* first reading past 3 x 300 s */
}

static void critical_at_once_when_far_out(void **state)
{
    struct fx *f = *state;
    feed_range(f, T0, T0 + 6 * MIN, 10 * SEC, 10.5, 0); /* 2.5 °C above */
    assert_int_equal(rec_count(&f->rec, "temp_excursion", RULES_RAISED), 1);
    assert_int_equal(rec_last(&f->rec, "temp_excursion")->severity, RULES_CRITICAL);
    /* below the band works the same way */
    struct fx *g = f;
    feed_range(g, T0 + 6 * MIN, T0 + 7 * MIN, 10 * SEC, 4.0, 0);
    assert_int_equal(rec_count(&f->rec, "temp_excursion", RULES_CLEARED), 1);
    feed_range(g, T0 + 7 * MIN, T0 + 13 * MIN, 10 * SEC, 1.5, 0);
    assert_int_equal(rec_count(&f->rec, "temp_excursion", RULES_RAISED), 2);
    assert_non_null(strstr(rec_last(&f->rec, "temp_excursion")->message, "below 2.0"));
    assert_int_equal(rec_last(&f->rec, "temp_excursion")->severity, RULES_WARNING);
}

static void hovering_at_limit_does_not_flap(void **state)
{
    struct fx *f = *state;
    feed_range(f, T0, T0 + 6 * MIN, 10 * SEC, 8.3, 0);
    assert_int_equal(rec_count(&f->rec, "temp_excursion", RULES_RAISED), 1);
    /* one hour hovering 7.8 / 8.2 around the 8.0 limit */
    for (int i = 0; i < 360; i++)
        feed(f, T0 + 6 * MIN + i * 10 * SEC, (i % 2) ? 8.2 : 7.8, 0);
    assert_int_equal(rec_count(&f->rec, "temp_excursion", RULES_RAISED), 1);
    assert_int_equal(rec_count(&f->rec, "temp_excursion", RULES_CLEARED), 0);
    /* 7.6 is inside but not by the 0.5 °C hysteresis */
    feed(f, T0 + 2 * HOUR, 7.6, 0);
    assert_int_equal(rec_count(&f->rec, "temp_excursion", RULES_CLEARED), 0);
    feed(f, T0 + 2 * HOUR + 10 * SEC, 7.5, 0);
    assert_int_equal(rec_count(&f->rec, "temp_excursion", RULES_CLEARED), 1);
    const struct rules_event *ev = rec_last(&f->rec, "temp_excursion");
    assert_int_equal(ev->at, T0 + 2 * HOUR + 10 * SEC);
    assert_int_equal(ev->severity, RULES_CRITICAL); /* it lasted > 3 graces */
    /* hovering without hysteresis-crossing before the raise never raises:
     * each reading inside resets the grace */
    for (int i = 0; i < 360; i++)
        feed(f, T0 + 3 * HOUR + i * 10 * SEC, (i % 2) ? 8.2 : 7.8, 0);
    assert_int_equal(rec_count(&f->rec, "temp_excursion", RULES_RAISED), 1);
}

static void missing_temp_neither_clears_nor_raises(void **state)
{
    struct fx *f = *state;
    feed_range(f, T0, T0 + 6 * MIN, 10 * SEC, 9.0, 0);
    assert_int_equal(rec_count(&f->rec, "temp_excursion", RULES_RAISED), 1);
    for (int64_t t = T0 + 6 * MIN; t < T0 + 30 * MIN; t += 10 * SEC) {
        struct ot_reading r = fx_missing(t);
        rules_on_reading(f->s, &f->sh, &r, 0, rec_emit, &f->rec);
    }
    assert_int_equal(rec_count(&f->rec, "temp_excursion", -1), 1);
    feed(f, T0 + 31 * MIN, 4.0, 0);
    assert_int_equal(rec_count(&f->rec, "temp_excursion", RULES_CLEARED), 1);
    /* a pending excursion is not advanced by missing readings */
    feed(f, T0 + 40 * MIN, 9.0, 0);
    for (int64_t t = T0 + 40 * MIN + 10 * SEC; t < T0 + 50 * MIN; t += 10 * SEC) {
        struct ot_reading r = fx_missing(t);
        rules_on_reading(f->s, &f->sh, &r, 0, rec_emit, &f->rec);
    }
    assert_int_equal(rec_count(&f->rec, "temp_excursion", RULES_RAISED), 1);
}

static void late_backlog_excursion_keeps_true_time(void **state)
{
    struct fx *f = *state;
    /* live until the aircraft door closes at T0+20 min */
    feed_range(f, T0, T0 + 20 * MIN, 10 * SEC, 4.0, 0);
    /* backlog replayed after landing: excursion from T0+30 to T0+50 min */
    feed_range(f, T0 + 20 * MIN, T0 + 30 * MIN, 10 * SEC, 4.0, 1);
    feed_range(f, T0 + 30 * MIN, T0 + 50 * MIN, 10 * SEC, 9.0, 1);
    feed_range(f, T0 + 50 * MIN, T0 + 60 * MIN, 10 * SEC, 4.0, 1);
    feed_range(f, T0 + 60 * MIN, T0 + 61 * MIN, 10 * SEC, 4.0, 0);
    assert_int_equal(rec_count(&f->rec, "temp_excursion", RULES_RAISED), 1);
    assert_int_equal(rec_count(&f->rec, "temp_excursion", RULES_ESCALATED), 1);
    assert_int_equal(rec_count(&f->rec, "temp_excursion", RULES_CLEARED), 1);
    const struct rules_event *raised = &f->rec.ev[0];
    assert_string_equal(raised->type, "temp_excursion");
    assert_int_equal(raised->change, RULES_RAISED);
    assert_int_equal(raised->at, T0 + 35 * MIN);
    assert_int_equal(raised->late, 1);
    const struct rules_event *cleared = rec_last(&f->rec, "temp_excursion");
    assert_int_equal(cleared->at, T0 + 50 * MIN);
    assert_int_equal(cleared->late, 1);
    /* no escalation for lack of acknowledgement while nobody could see it:
     * the first live reading starts that clock, and the alarm is cleared */
    for (size_t i = 0; i < f->rec.n; i++)
        assert_int_equal(f->rec.ev[i].late, 1);
}

static void forecast_warns_before_leaving_band(void **state)
{
    struct fx *f = *state;
    f->p.forecast_horizon_s = 1800;
    feed_range(f, T0, T0 + 20 * MIN, 30 * SEC, 4.0, 0);
    assert_int_equal(f->rec.n, 0);
    /* warming 0.1 °C/min: 8.0 °C is 40 min away at the start */
    int64_t start = T0 + 20 * MIN, raised_at = 0;
    for (int i = 0; i <= 60; i++) {
        int64_t t = start + i * 30 * SEC;
        feed(f, t, 4.0 + 0.05 * i, 0);
        if (!raised_at && rec_count(&f->rec, "temp_forecast", RULES_RAISED))
            raised_at = t;
    }
    assert_int_equal(rec_count(&f->rec, "temp_forecast", RULES_RAISED), 1);
    assert_int_equal(rec_count(&f->rec, "temp_excursion", -1), 0);
    /* warned while still inside, before 8 °C would be reached in 30 min:
     * the fit over a window that still holds flat readings lags a little */
    double temp_at_raise = 4.0 + 0.05 * (double)((raised_at - start) / (30 * SEC));
    assert_true(temp_at_raise >= 5.0 && temp_at_raise < 7.0);
    const struct rules_event *ev = rec_last(&f->rec, "temp_forecast");
    assert_int_equal(ev->severity, RULES_WARNING);
    assert_non_null(strstr(ev->message, "leaves 8.0"));
    /* plateau at 7.0 °C: after the 10 min window the projection is flat */
    feed_range(f, start + 31 * MIN, start + 50 * MIN, 30 * SEC, 7.0, 0);
    assert_int_equal(rec_count(&f->rec, "temp_forecast", RULES_CLEARED), 1);
    assert_int_equal(rec_count(&f->rec, "temp_forecast", RULES_RAISED), 1);
}

static void forecast_quiet_on_noise(void **state)
{
    struct fx *f = *state;
    f->p.forecast_horizon_s = 1800;
    static const double noise[] = {0.2, -0.1, 0.15, -0.2, 0.05, -0.15, 0.1, 0.0};
    for (int i = 0; i < 6 * 360; i++) /* 6 h at 10 s */
        feed(f, T0 + i * 10 * SEC, 4.5 + noise[i % 8], 0);
    assert_int_equal(f->rec.n, 0);
}

static void forecast_at_one_hertz(void **state)
{
    struct fx *f = *state;
    f->p.forecast_horizon_s = 1800;
    /* 1 Hz for 30 min flat, then cooling 0.1 °C/min towards 2.0 °C */
    for (int i = 0; i < 1800; i++)
        feed(f, T0 + i * SEC, 5.0 + ((i % 2) ? 0.1 : -0.1), 0);
    assert_int_equal(f->rec.n, 0);
    int64_t start = T0 + 1800 * SEC, raised_at = 0;
    for (int i = 0; i < 1500; i++) {
        int64_t t = start + i * SEC;
        feed(f, t, 5.0 - 0.1 * (double)i / 60.0, 0);
        if (!raised_at && rec_count(&f->rec, "temp_forecast", RULES_RAISED))
            raised_at = t;
    }
    assert_true(raised_at > 0);
    /* warned before 5.0 - 3.0 = 2.0 °C was 30 min away, i.e. early enough */
    double temp_at_raise = 5.0 - 0.1 * (double)(raised_at - start) / 60000.0;
    assert_true(temp_at_raise > 2.0 && temp_at_raise <= 4.5);
    assert_non_null(strstr(rec_last(&f->rec, "temp_forecast")->message, "leaves 2.0"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(grace_not_expired_no_alarm, setup, teardown),
        cmocka_unit_test_setup_teardown(raised_after_grace_with_true_time, setup, teardown),
        cmocka_unit_test_setup_teardown(critical_after_three_graces, setup, teardown),
        cmocka_unit_test_setup_teardown(critical_at_once_when_far_out, setup, teardown),
        cmocka_unit_test_setup_teardown(hovering_at_limit_does_not_flap, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_temp_neither_clears_nor_raises, setup, teardown),
        cmocka_unit_test_setup_teardown(late_backlog_excursion_keeps_true_time, setup, teardown),
        cmocka_unit_test_setup_teardown(forecast_warns_before_leaving_band, setup, teardown),
        cmocka_unit_test_setup_teardown(forecast_quiet_on_noise, setup, teardown),
        cmocka_unit_test_setup_teardown(forecast_at_one_hertz, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
