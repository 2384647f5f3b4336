/* test_rules_device.c - lid_open, shock, battery_low, gnss_lost. */
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

static void feed_ch(struct fx *f, int64_t ts, enum ot_channel ch, double v, int late)
{
    struct ot_reading r = fx_temp(ts, 4.0);
    ot_reading_set(&r, ch, v);
    rules_on_reading(f->s, &f->sh, &r, late, rec_emit, &f->rec);
}

static void lid_open_outside_handoff_warns_at_once(void **state)
{
    struct fx *f = *state;
    feed_ch(f, T0, OT_CH_LID, 0, 0);
    feed_ch(f, T0 + 10 * SEC, OT_CH_LID, 1, 0);
    assert_int_equal(rec_count(&f->rec, "lid_open", RULES_RAISED), 1);
    const struct rules_event *ev = rec_last(&f->rec, "lid_open");
    assert_int_equal(ev->severity, RULES_WARNING);
    assert_int_equal(ev->at, T0 + 10 * SEC);
    feed_ch(f, T0 + 120 * SEC, OT_CH_LID, 1, 0); /* 110 s open: not yet too long */
    assert_int_equal(rec_count(&f->rec, "lid_open", RULES_ESCALATED), 0);
    feed_ch(f, T0 + 140 * SEC, OT_CH_LID, 1, 0); /* 130 s > 120 s */
    assert_int_equal(rec_count(&f->rec, "lid_open", RULES_ESCALATED), 1);
    assert_int_equal(rec_last(&f->rec, "lid_open")->severity, RULES_CRITICAL);
    /* a reading without the lid channel changes nothing */
    struct ot_reading r = fx_temp(T0 + 150 * SEC, 4.0);
    rules_on_reading(f->s, &f->sh, &r, 0, rec_emit, &f->rec);
    assert_int_equal(rec_count(&f->rec, "lid_open", RULES_CLEARED), 0);
    feed_ch(f, T0 + 160 * SEC, OT_CH_LID, 0, 0);
    assert_int_equal(rec_count(&f->rec, "lid_open", RULES_CLEARED), 1);
    assert_non_null(strstr(rec_last(&f->rec, "lid_open")->message, "150 s"));
}

static void lid_open_during_handoff_allowed_until_max(void **state)
{
    struct fx *f = *state;
    f->sh.handoff_until = T0 + 10 * MIN;
    feed_ch(f, T0, OT_CH_LID, 1, 0);
    feed_ch(f, T0 + 60 * SEC, OT_CH_LID, 1, 0);
    feed_ch(f, T0 + 90 * SEC, OT_CH_LID, 0, 0);
    assert_int_equal(rec_count(&f->rec, "lid_open", -1), 0);
    /* open again inside the window but for too long: critical at once */
    for (int64_t t = T0 + 2 * MIN; t <= T0 + 5 * MIN; t += 10 * SEC)
        feed_ch(f, t, OT_CH_LID, 1, 0);
    assert_int_equal(rec_count(&f->rec, "lid_open", RULES_RAISED), 1);
    assert_int_equal(rec_last(&f->rec, "lid_open")->severity, RULES_CRITICAL);
    assert_int_equal(rec_last(&f->rec, "lid_open")->at, T0 + 4 * MIN + 10 * SEC);
    feed_ch(f, T0 + 6 * MIN, OT_CH_LID, 0, 0);
    /* open just after the window closed: warning */
    feed_ch(f, T0 + 10 * MIN, OT_CH_LID, 1, 0);
    assert_int_equal(rec_count(&f->rec, "lid_open", RULES_RAISED), 2);
    assert_int_equal(rec_last(&f->rec, "lid_open")->severity, RULES_WARNING);
}

static void shock_clears_after_quiet_minute(void **state)
{
    struct fx *f = *state;
    feed_ch(f, T0, OT_CH_SHOCK, 2.9, 0);
    assert_int_equal(f->rec.n, 0);
    feed_ch(f, T0 + 10 * SEC, OT_CH_SHOCK, 4.2, 0);
    assert_int_equal(rec_count(&f->rec, "shock", RULES_RAISED), 1);
    assert_int_equal(rec_last(&f->rec, "shock")->severity, RULES_WARNING);
    feed_ch(f, T0 + 40 * SEC, OT_CH_SHOCK, 3.5, 0); /* re-arms the quiet period */
    feed_ch(f, T0 + 90 * SEC, OT_CH_SHOCK, 0.1, 0); /* 50 s quiet */
    assert_int_equal(rec_count(&f->rec, "shock", RULES_CLEARED), 0);
    feed_ch(f, T0 + 100 * SEC, OT_CH_SHOCK, 0.1, 0); /* 60 s quiet */
    assert_int_equal(rec_count(&f->rec, "shock", RULES_CLEARED), 1);
    assert_non_null(strstr(rec_last(&f->rec, "shock")->message, "4.2 g"));
    /* a drop: over twice the limit is critical */
    feed_ch(f, T0 + 200 * SEC, OT_CH_SHOCK, 8.0, 0);
    assert_int_equal(rec_last(&f->rec, "shock")->severity, RULES_CRITICAL);
}

static void battery_hysteresis(void **state)
{
    struct fx *f = *state;
    feed_ch(f, T0, OT_CH_BATTERY, 21, 0);
    feed_ch(f, T0 + MIN, OT_CH_BATTERY, 19, 0);
    assert_int_equal(rec_count(&f->rec, "battery_low", RULES_RAISED), 1);
    rules_on_ack(f->s, "battery_low", T0 + MIN); /* keep escalation out */
    /* jitter 19/21/24 does not flap */
    for (int i = 0; i < 100; i++)
        feed_ch(f, T0 + (2 + i) * MIN, OT_CH_BATTERY, (double[]){19, 21, 24}[i % 3], 0);
    assert_int_equal(rec_count(&f->rec, "battery_low", -1), 1);
    feed_ch(f, T0 + 200 * MIN, OT_CH_BATTERY, 25, 0);
    assert_int_equal(rec_count(&f->rec, "battery_low", RULES_CLEARED), 1);
    feed_ch(f, T0 + 201 * MIN, OT_CH_BATTERY, 9, 0);
    assert_int_equal(rec_count(&f->rec, "battery_low", RULES_RAISED), 2);
    assert_int_equal(rec_last(&f->rec, "battery_low")->severity, RULES_CRITICAL);
}

static void gnss_lost_after_grace(void **state)
{
    struct fx *f = *state;
    /* a logger without GNSS never raises it */
    for (int64_t t = T0; t < T0 + HOUR; t += MIN) {
        struct ot_reading r = fx_temp(t, 4.0);
        rules_on_reading(f->s, &f->sh, &r, 0, rec_emit, &f->rec);
    }
    assert_int_equal(rec_count(&f->rec, "gnss_lost", -1), 0);
    struct ot_reading r = fx_temp(T0 + HOUR, 4.0);
    ot_reading_set(&r, OT_CH_LAT, 51.2);
    ot_reading_set(&r, OT_CH_LON, 51.4);
    ot_reading_set(&r, OT_CH_GNSS, 3);
    rules_on_reading(f->s, &f->sh, &r, 0, rec_emit, &f->rec);
    /* fix 0 from now: 600 s grace */
    for (int64_t t = T0 + HOUR + MIN; t <= T0 + HOUR + 10 * MIN; t += MIN)
        feed_ch(f, t, OT_CH_GNSS, 0, 0);
    assert_int_equal(rec_count(&f->rec, "gnss_lost", -1), 0);
    feed_ch(f, T0 + HOUR + 11 * MIN, OT_CH_GNSS, 0, 0);
    assert_int_equal(rec_count(&f->rec, "gnss_lost", RULES_RAISED), 1);
    assert_int_equal(rec_last(&f->rec, "gnss_lost")->at, T0 + HOUR + 11 * MIN);
    /* lat/lon absent counts as lost too; a fix clears */
    struct ot_reading nofix = fx_temp(T0 + HOUR + 12 * MIN, 4.0);
    rules_on_reading(f->s, &f->sh, &nofix, 0, rec_emit, &f->rec);
    assert_int_equal(rec_count(&f->rec, "gnss_lost", RULES_CLEARED), 0);
    r.ts = T0 + HOUR + 13 * MIN;
    rules_on_reading(f->s, &f->sh, &r, 0, rec_emit, &f->rec);
    assert_int_equal(rec_count(&f->rec, "gnss_lost", RULES_CLEARED), 1);
}

static void ack_of_unknown_or_inactive_is_harmless(void **state)
{
    struct fx *f = *state;
    rules_on_ack(f->s, "no_such_alarm", T0);
    rules_on_ack(f->s, "shock", T0);
    rules_on_ack(NULL, "shock", T0);
    feed_ch(f, T0, OT_CH_SHOCK, 5, 0);
    assert_int_equal(rec_count(&f->rec, "shock", RULES_RAISED), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(lid_open_outside_handoff_warns_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(lid_open_during_handoff_allowed_until_max, setup, teardown),
        cmocka_unit_test_setup_teardown(shock_clears_after_quiet_minute, setup, teardown),
        cmocka_unit_test_setup_teardown(battery_hysteresis, setup, teardown),
        cmocka_unit_test_setup_teardown(gnss_lost_after_grace, setup, teardown),
        cmocka_unit_test_setup_teardown(ack_of_unknown_or_inactive_is_harmless, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
