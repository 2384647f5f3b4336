/* test_lineproto - InfluxDB line protocol: every escaping rule of the
 * reference, number formats, refusals, rollback of a bad line, size cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "lineproto.h"

static void esc_measurement(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(lineproto__escape_measurement("cpu", out, sizeof out), 3);
    assert_string_equal(out, "cpu");
    /* commas and spaces are escaped */
    lineproto__escape_measurement("a,b c", out, sizeof out);
    assert_string_equal(out, "a\\,b\\ c");
    /* equals signs and quotes are NOT escaped in a measurement */
    lineproto__escape_measurement("a=b\"c", out, sizeof out);
    assert_string_equal(out, "a=b\"c");
    /* refused: empty, comment, newline, trailing backslash */
    assert_int_equal(lineproto__escape_measurement("", out, sizeof out), -1);
    assert_int_equal(lineproto__escape_measurement("#x", out, sizeof out), -1);
    assert_int_equal(lineproto__escape_measurement("a\nb", out, sizeof out), -1);
    assert_int_equal(lineproto__escape_measurement("a\\", out, sizeof out), -1);
    /* output too small */
    assert_int_equal(lineproto__escape_measurement("a,b", out, 4), -1);
}

static void esc_tag(void **state)
{
    (void)state;
    char out[64];
    lineproto__escape_tag("KZ-WKO-0001", out, sizeof out);
    assert_string_equal(out, "KZ-WKO-0001");
    /* tag keys, tag values and field keys: comma, equals, space */
    lineproto__escape_tag("a,b=c d", out, sizeof out);
    assert_string_equal(out, "a\\,b\\=c\\ d");
    /* double quotes pass through unescaped */
    lineproto__escape_tag("say \"hi\"", out, sizeof out);
    assert_string_equal(out, "say\\ \"hi\"");
    /* a backslash not at the end is literal */
    lineproto__escape_tag("a\\b", out, sizeof out);
    assert_string_equal(out, "a\\b");
    assert_int_equal(lineproto__escape_tag("", out, sizeof out), -1);
    assert_int_equal(lineproto__escape_tag("x\\", out, sizeof out), -1);
    assert_int_equal(lineproto__escape_tag("x\ry", out, sizeof out), -1);
    assert_int_equal(lineproto__escape_tag("x\ny", out, sizeof out), -1);
}

static void esc_string(void **state)
{
    (void)state;
    char out[64];
    /* string field values: double quote and backslash */
    lineproto__escape_string("he said \"4\\5\"", out, sizeof out);
    assert_string_equal(out, "he said \\\"4\\\\5\\\"");
    /* commas, equals and spaces are literal inside the quotes */
    lineproto__escape_string("a,b=c d", out, sizeof out);
    assert_string_equal(out, "a,b=c d");
    /* empty string is a valid value */
    assert_int_equal(lineproto__escape_string("", out, sizeof out), 0);
    /* newline written as the two characters \n */
    lineproto__escape_string("a\nb", out, sizeof out);
    assert_string_equal(out, "a\\nb");
}

static void full_line(void **state)
{
    (void)state;
    struct lineproto lp;
    lineproto__init(&lp, 0);
    assert_int_equal(lineproto__begin(&lp, "reading"), OT_OK);
    assert_int_equal(lineproto__tag(&lp, "container", "KZ 1"), OT_OK);
    assert_int_equal(lineproto__tag(&lp, "late", "false"), OT_OK);
    assert_int_equal(lineproto__field_int(&lp, "seq", 1042), OT_OK);
    assert_int_equal(lineproto__field_float(&lp, "temp_c", 4.21), OT_OK);
    assert_int_equal(lineproto__field_bool(&lp, "lid_open", 0), OT_OK);
    assert_int_equal(lineproto__field_string(&lp, "msg", "x \"y\""), OT_OK);
    assert_int_equal(lineproto__end(&lp, 1763877600123LL), OT_OK);
    assert_string_equal(lp.buf, "reading,container=KZ\\ 1,late=false seq=1042i,temp_c=4.21,"
                                "lid_open=false,msg=\"x \\\"y\\\"\" 1763877600123\n");
    assert_int_equal(lp.lines, 1);
    /* integers: suffix i, negative; floats: integral value stays a float */
    lineproto__begin(&lp, "m");
    lineproto__field_int(&lp, "i", -5);
    lineproto__field_float(&lp, "f", 3.0);
    lineproto__field_float(&lp, "g", 0.1);
    lineproto__field_bool(&lp, "b", 1);
    assert_int_equal(lineproto__end(&lp, 0), OT_OK);
    assert_non_null(strstr(lp.buf, "m i=-5i,f=3,g=0.1,b=true 0\n"));
    assert_int_equal(lp.lines, 2);
    lineproto__free(&lp);
}

static void bad_lines_roll_back(void **state)
{
    (void)state;
    struct lineproto lp;
    lineproto__init(&lp, 0);
    lineproto__begin(&lp, "ok");
    lineproto__field_int(&lp, "v", 1);
    assert_int_equal(lineproto__end(&lp, 1), OT_OK);
    size_t good = lp.len;
    /* NaN refused: whole line dropped */
    lineproto__begin(&lp, "m");
    lineproto__field_float(&lp, "a", 1.0);
    lineproto__field_float(&lp, "b", NAN);
    assert_int_not_equal(lineproto__end(&lp, 2), OT_OK);
    assert_int_equal(lp.len, good);
    lineproto__begin(&lp, "m");
    lineproto__field_float(&lp, "b", INFINITY);
    assert_int_not_equal(lineproto__end(&lp, 2), OT_OK);
    /* no field */
    lineproto__begin(&lp, "m");
    lineproto__tag(&lp, "t", "v");
    assert_int_equal(lineproto__end(&lp, 2), OT_ERR_INVAL);
    /* empty tag value */
    lineproto__begin(&lp, "m");
    lineproto__tag(&lp, "t", "");
    lineproto__field_int(&lp, "v", 1);
    assert_int_equal(lineproto__end(&lp, 2), OT_ERR_INVAL);
    /* tag after field */
    lineproto__begin(&lp, "m");
    lineproto__field_int(&lp, "v", 1);
    lineproto__tag(&lp, "t", "x");
    assert_int_equal(lineproto__end(&lp, 2), OT_ERR_INVAL);
    /* bad measurement */
    lineproto__begin(&lp, "#m");
    lineproto__field_int(&lp, "v", 1);
    assert_int_equal(lineproto__end(&lp, 2), OT_ERR_INVAL);
    assert_int_equal(lp.len, good);
    assert_int_equal(lp.lines, 1);
    assert_string_equal(lp.buf, "ok v=1i 1\n");
    lineproto__free(&lp);
}

static void size_cap(void **state)
{
    (void)state;
    struct lineproto lp;
    lineproto__init(&lp, 64);
    int ok = 0;
    for (int i = 0; i < 10; i++) {
        lineproto__begin(&lp, "measurement");
        lineproto__field_int(&lp, "value", i);
        if (lineproto__end(&lp, 1000) == OT_OK)
            ok++;
    }
    assert_true(ok >= 1 && ok < 10);
    assert_true(lp.len <= 64);
    assert_int_equal(lp.lines, (size_t)ok);
    assert_int_equal(lp.buf[lp.len - 1], '\n');
    lineproto__reset(&lp);
    assert_int_equal(lp.len, 0);
    lineproto__free(&lp);
}

static void float_roundtrip(void **state)
{
    (void)state;
    struct lineproto lp;
    lineproto__init(&lp, 0);
    lineproto__begin(&lp, "m");
    lineproto__field_float(&lp, "x", 0.1 + 0.2);
    lineproto__end(&lp, 1);
    /* 0.30000000000000004 needs 17 digits to read back exactly */
    assert_string_equal(lp.buf, "m x=0.30000000000000004 1\n");
    lineproto__free(&lp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(esc_measurement),     cmocka_unit_test(esc_tag),
        cmocka_unit_test(esc_string),          cmocka_unit_test(full_line),
        cmocka_unit_test(bad_lines_roll_back), cmocka_unit_test(size_cap),
        cmocka_unit_test(float_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
