/* test_rules_state.c - the shared alarm machinery: type names, listing,
 * restore after a collector restart, acknowledgement, out-of-order readings,
 * NULL safety. */
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

static void type_names_are_stable(void **state)
{
    (void)state;
    static const char *const want[] = {"temp_excursion", "temp_forecast",  "ischemia_warn",
                                       "ischemia_limit", "eta_late",       "lid_open",
                                       "shock",          "battery_low",    "gnss_lost",
                                       "sensor_silent",  "gateway_offline"};
    size_t n = 0;
    while (rules_type_name(n))
        n++;
    assert_int_equal(n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(rules_type_name(i), want[i]);
}

static void restore_then_clear_without_second_raise(void **state)
{
    (void)state;
    struct ot_preservation p = fx_profile();
    p.max_cold_ischemia_min = 0;
    struct rules_shipment sh = fx_shipment(&p);
    struct rules_state *s = rules_state_new();
    struct rec rec;
    memset(&rec, 0, sizeof rec);
    enum rules_severity sev = RULES_INFO;
    assert_int_equal(rules_alarm_active(s, "temp_excursion", &sev), 0);
    assert_int_equal(rules_alarm_active(s, "nope", &sev), -1);
    assert_int_equal(rules_restore(s, "nope", RULES_WARNING, T0, 0), OT_ERR_INVAL);
    assert_int_equal(rules_restore(s, "temp_excursion", RULES_CRITICAL, T0, 1), OT_OK);
    assert_int_equal(rules_alarm_active(s, "temp_excursion", &sev), 2);
    assert_int_equal(sev, RULES_CRITICAL);
    /* still out of band after the restart: no second RAISED */
    for (int64_t t = T0 + MIN; t < T0 + 30 * MIN; t += 10 * SEC) {
        struct ot_reading r = fx_temp(t, 9.0);
        rules_on_reading(s, &sh, &r, 0, rec_emit, &rec);
    }
    assert_int_equal(rec_count(&rec, "temp_excursion", RULES_RAISED), 0);
    assert_int_equal(rec_count(&rec, "temp_excursion", RULES_ESCALATED), 0); /* acked */
    struct ot_reading r = fx_temp(T0 + 31 * MIN, 4.0);
    rules_on_reading(s, &sh, &r, 0, rec_emit, &rec);
    assert_int_equal(rec_count(&rec, "temp_excursion", RULES_CLEARED), 1);
    assert_int_equal(rules_alarm_active(s, "temp_excursion", NULL), 0);
    /* a restored unacknowledged alarm escalates escalate_after_s after the
     * first live moment, not at once */
    assert_int_equal(rules_restore(s, "gateway_offline", RULES_WARNING, T0 - 5 * HOUR, 0), OT_OK);
    rules_on_tick(s, &sh, T0 + 32 * MIN, 0, rec_emit, &rec);
    assert_int_equal(rec_count(&rec, "gateway_offline", -1), 0);
    rules_on_tick(s, &sh, T0 + 42 * MIN, 0, rec_emit, &rec);
    assert_int_equal(rec_count(&rec, "gateway_offline", RULES_ESCALATED), 1);
    rules_on_ack(s, "gateway_offline", T0 + 43 * MIN);
    assert_int_equal(rules_alarm_active(s, "gateway_offline", &sev), 2);
    rules_state_free(s);
}

static void out_of_order_reading_does_not_clear(void **state)
{
    (void)state;
    struct ot_preservation p = fx_profile();
    p.max_cold_ischemia_min = 0;
    p.escalate_after_s = 86400;
    struct rules_shipment sh = fx_shipment(&p);
    struct rules_state *s = rules_state_new();
    struct rec rec;
    memset(&rec, 0, sizeof rec);
    for (int64_t t = T0 + 10 * MIN; t <= T0 + 16 * MIN; t += 10 * SEC) {
        struct ot_reading r = fx_temp(t, 9.0);
        rules_on_reading(s, &sh, &r, 0, rec_emit, &rec);
    }
    assert_int_equal(rec_count(&rec, "temp_excursion", RULES_RAISED), 1);
    /* a stray older reading (before the excursion began) is delivered late */
    struct ot_reading old = fx_temp(T0 + 5 * MIN, 4.0);
    rules_on_reading(s, &sh, &old, 1, rec_emit, &rec);
    assert_int_equal(rec_count(&rec, "temp_excursion", RULES_CLEARED), 0);
    rules_state_free(s);
}

static void null_safety(void **state)
{
    (void)state;
    struct ot_preservation p = fx_profile();
    struct rules_shipment sh = fx_shipment(&p);
    struct ot_reading r = fx_temp(T0, 4.0);
    rules_state_free(NULL);
    rules_on_reading(NULL, &sh, &r, 0, NULL, NULL);
    rules_on_tick(NULL, &sh, T0, 1, NULL, NULL);
    assert_int_equal(rules_eta(NULL, &sh), 0);
    struct rules_state *s = rules_state_new();
    sh.profile = NULL;
    rules_on_reading(s, &sh, &r, 0, NULL, NULL);
    sh.profile = &p;
    /* a NULL emit callback is allowed: state advances silently */
    for (int64_t t = T0; t < T0 + 10 * MIN; t += 10 * SEC) {
        r = fx_temp(t, 12.0);
        rules_on_reading(s, &sh, &r, 0, NULL, NULL);
    }
    assert_int_equal(rules_alarm_active(s, "temp_excursion", NULL), 1);
    rules_state_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(type_names_are_stable),
        cmocka_unit_test(restore_then_clear_without_second_raise),
        cmocka_unit_test(out_of_order_reading_does_not_clear),
        cmocka_unit_test(null_safety),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
