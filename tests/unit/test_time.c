#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "ot_parse.h"
#include "ot_time.h"

static void iso_roundtrip(void **state)
{
    (void)state;
    int64_t ms = 0;
    char buf[32];
    assert_int_equal(ot_time_parse_iso("2026-11-23T04:10:00Z", &ms), 0);
    assert_int_equal(ms, 1795407000000LL);
    assert_string_equal(ot_time_format_iso(ms, buf, sizeof buf), "2026-11-23T04:10:00.000Z");
    assert_int_equal(ot_time_parse_iso("2026-11-23T09:10:00.5+05:00", &ms), 0);
    assert_int_equal(ms, 1795407000500LL);
    assert_int_equal(ot_time_parse_iso("1970-01-01T00:00:00Z", &ms), 0);
    assert_int_equal(ms, 0);
    assert_int_equal(ot_time_parse_iso("2024-02-29T00:00:00Z", &ms), 0);
}

static void iso_rejects(void **state)
{
    (void)state;
    int64_t ms;
    const char *bad[] = {"",
                         "2026-11-23",
                         "2026-11-23T04:10:00",
                         "2026-13-01T00:00:00Z",
                         "2026-02-30T00:00:00Z",
                         "2025-02-29T00:00:00Z",
                         "2026-11-23T24:00:00Z",
                         "2026-11-23T04:10:00Zjunk",
                         "2026-11-23T04:10:00.Z",
                         "abcd-11-23T04:10:00Z",
                         "2026-11-23T04:10:00+5:00"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_not_equal(ot_time_parse_iso(bad[i], &ms), 0);
}

static void numbers(void **state)
{
    (void)state;
    int64_t v;
    double d;
    assert_int_equal(ot_parse_i64("42", 0, 100, &v), 0);
    assert_int_equal(v, 42);
    assert_int_not_equal(ot_parse_i64("101", 0, 100, &v), 0);
    assert_int_not_equal(ot_parse_i64("4x", 0, 100, &v), 0);
    assert_int_not_equal(ot_parse_i64("", 0, 100, &v), 0);
    assert_int_not_equal(ot_parse_i64("99999999999999999999", 0, INT64_MAX, &v), 0);
    assert_int_equal(ot_parse_double("4.5", 0, 10, &d), 0);
    assert_int_not_equal(ot_parse_double("nan", -1e9, 1e9, &d), 0);
    assert_int_not_equal(ot_parse_double("inf", -1e9, 1e9, &d), 0);
    assert_int_not_equal(ot_parse_double("1e3x", -1e9, 1e9, &d), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(iso_roundtrip),
                                       cmocka_unit_test(iso_rejects), cmocka_unit_test(numbers)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
