/* test_collector_sql - the PostgreSQL array literals of the collector's
 * batched inserts (collector/sql.c): numbers, NULLs, and text quoted with
 * its quotes and backslashes escaped, so a JSON payload survives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "sql.h"

static void numbers_and_nulls(void **state)
{
    (void)state;
    struct sql_arr a = {0};
    sql_arr__start(&a);
    assert_string_equal(sql_arr__end(&a), "{}");
    sql_arr__start(&a);
    sql_arr__i64(&a, 1);
    sql_arr__i64(&a, -9007199254740991LL);
    sql_arr__null(&a);
    sql_arr__dbl(&a, 4.25);
    sql_arr__dbl(&a, NAN);
    assert_string_equal(sql_arr__end(&a), "{1,-9007199254740991,NULL,4.25,NULL}");
    assert_int_equal(a.n, 5);
    /* doubles round-trip exactly */
    sql_arr__start(&a);
    sql_arr__dbl(&a, 0.1);
    assert_string_equal(sql_arr__end(&a), "{0.10000000000000001}");
    sql_arr__free(&a);
}

static void text_quoted(void **state)
{
    (void)state;
    struct sql_arr a = {0};
    sql_arr__start(&a);
    sql_arr__txt(&a, "KZ-1");
    sql_arr__txt(&a, "NULL");
    sql_arr__txt(&a, NULL);
    sql_arr__txt(&a, "{\"a\":\"b\\\\c\",\"d\":[1,2]}");
    sql_arr__txt(&a, "");
    assert_string_equal(
        sql_arr__end(&a),
        "{\"KZ-1\",\"NULL\",NULL,\"{\\\"a\\\":\\\"b\\\\\\\\c\\\",\\\"d\\\":[1,2]}\",\"\"}");
    sql_arr__free(&a);
}

static void grows(void **state)
{
    (void)state;
    struct sql_arr a = {0};
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    sql_arr__start(&a);
    for (int i = 0; i < 100; i++)
        sql_arr__txt(&a, big);
    const char *s = sql_arr__end(&a);
    assert_non_null(s);
    assert_int_equal(strlen(s), 2 + 100 * (sizeof big - 1 + 2) + 99);
    sql_arr__free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(numbers_and_nulls),
        cmocka_unit_test(text_quoted),
        cmocka_unit_test(grows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
