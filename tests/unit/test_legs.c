/* test_legs.c - common/ot_legs.c: a place's optional geofence radius_m
 * (issue 12, progress events) is checked, named when wrong, kept through
 * printing, and absent stays absent. */
/* cmocka needs these first, in this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ot_legs.h"

/* One ground leg whose `to` has the given radius_m JSON (NULL: none). */
static enum ot_err parse(const char *radius, struct ot_leg *legs, size_t *n, char *msg)
{
    char text[512];
    snprintf(text, sizeof text,
             "[{\"mode\":\"ground\",\"from\":{\"name\":\"A\",\"lat\":45,\"lon\":60},"
             "\"to\":{\"name\":\"B\",\"lat\":45.2,\"lon\":60%s%s},"
             "\"planned_departure\":\"2026-11-23T05:00:00Z\","
             "\"planned_arrival\":\"2026-11-23T06:00:00Z\"}]",
             radius ? ",\"radius_m\":" : "", radius ? radius : "");
    return ot_legs_parse_text(text, legs, n, msg, 256);
}

static void radius_kept(void **state)
{
    (void)state;
    struct ot_leg legs[OT_LEGS_MAX];
    size_t n = 0;
    char msg[256] = "";
    assert_int_equal(parse("500", legs, &n, msg), OT_OK);
    assert_int_equal(n, 1);
    assert_true(legs[0].to.radius_m == 500.0);
    assert_true(legs[0].from.radius_m == 0.0);
    cJSON *arr = ot_legs_json(legs, n);
    assert_non_null(arr);
    const cJSON *leg = cJSON_GetArrayItem(arr, 0);
    const cJSON *to = cJSON_GetObjectItemCaseSensitive(leg, "to");
    const cJSON *from = cJSON_GetObjectItemCaseSensitive(leg, "from");
    assert_true(cJSON_GetObjectItemCaseSensitive(to, "radius_m")->valuedouble == 500.0);
    assert_null(cJSON_GetObjectItemCaseSensitive(from, "radius_m")); /* absent stays absent */
    cJSON_Delete(arr);
    assert_int_equal(parse("null", legs, &n, msg), OT_OK);
    assert_true(legs[0].to.radius_m == 0.0);
}

static void radius_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {"10", "20001", "\"300\"", "-300", "true", "[1]"};
    struct ot_leg legs[OT_LEGS_MAX];
    size_t n = 0;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char msg[256] = "";
        assert_int_equal(parse(bad[i], legs, &n, msg), OT_ERR_INVAL);
        assert_non_null(strstr(msg, "legs[0].to.radius_m"));
        assert_int_equal(n, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(radius_kept),
        cmocka_unit_test(radius_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
