/* test_api_din.c - ISBT 128 DIN check characters (dashboard-api/din.c),
 * ISO 7064 MOD 37-2. The known-good DINs are built here from the standard's
 * definition, by the weighted sum itself (sum of a_i * 2^(14-i) over the 13
 * characters plus the check value = 1 mod 37), independently of the
 * iterative form din.c uses; then every single substitution and every
 * adjacent transposition must be caught, as ISO 7064 promises. */
/* cmocka needs these first, in this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <stdio.h>
#include <string.h>

#include "api.h"

static const char alpha[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*";

static int val(char c)
{
    return (int)(strchr(alpha, c) - alpha);
}

/* check character from the weighted-sum definition */
static char by_definition(const char *din)
{
    long sum = 0, w = 1;
    for (int i = 12; i >= 0; i--) {
        w = (w * 2) % 37; /* weight of position i: 2^(13-i) mod 37 */
        sum = (sum + val(din[i]) * w) % 37;
    }
    for (int c = 0; c < 37; c++)
        if ((sum + c) % 37 == 1)
            return alpha[c];
    return '?';
}

static void check_chars_match_the_definition(void **state)
{
    (void)state;
    static const char *const dins[] = {"W123426123456", "A999926123456", "G151710123456",
                                       "0000000000000", "Z999999999999", "B004226000001"};
    for (size_t i = 0; i < sizeof dins / sizeof dins[0]; i++) {
        char k = by_definition(dins[i]);
        assert_int_equal(api__din_check_char(dins[i]), k);
        char code[40], want[2];
        snprintf(code, sizeof code, "%.5s %.2s %.6s 00 %c", dins[i], dins[i] + 5, dins[i] + 7, k);
        assert_int_equal(api__din_check(code, want), 1);
        snprintf(code, sizeof code, "%.13s%c", dins[i], k); /* no flags, no spaces */
        assert_int_equal(api__din_check(code, want), 1);
    }
    /* all-zero DIN: p stays 0, check value (38 - 0) mod 37 = 1 */
    assert_int_equal(api__din_check_char("0000000000000"), '1');
}

static void every_error_is_caught(void **state)
{
    (void)state;
    const char *din = "W123426123456";
    char k = api__din_check_char(din), code[20], want[2];
    for (int i = 0; i < 13; i++) {
        for (int d = 0; d < 10; d++) {
            snprintf(code, sizeof code, "%s%c", din, k);
            if (i > 0 && code[i] == '0' + d)
                continue;
            if (i == 0 && code[0] == 'A' + d)
                continue;
            code[i] = i == 0 ? (char)('A' + d) : (char)('0' + d);
            assert_int_equal(api__din_check(code, want), -1);
            assert_int_equal(want[0], api__din_check_char(code));
            assert_int_equal(want[1], k);
        }
        if (i > 0 && i < 12) { /* (swapping the letter away is no DIN at all) */
            snprintf(code, sizeof code, "%s%c", din, k);
            if (code[i] == code[i + 1])
                continue;
            char t = code[i];
            code[i] = code[i + 1];
            code[i + 1] = t;
            assert_int_equal(api__din_check(code, want), -1);
        }
    }
    /* a wrong check character itself */
    snprintf(code, sizeof code, "%s%c", din, k == 'A' ? 'B' : 'A');
    assert_int_equal(api__din_check(code, want), -1);
    assert_int_equal(want[0], k);
}

static void other_codes_are_free_form(void **state)
{
    (void)state;
    char want[2];
    assert_int_equal(api__din_check("A9999 26 123456", want), 0); /* no check character */
    assert_int_equal(api__din_check("DIN-KZ-0001", want), 0);
    assert_int_equal(api__din_check("KZ/2026/000123", want), 0);
    assert_int_equal(api__din_check("w123426123456X", want), 0);       /* lower-case: not a DIN */
    assert_int_equal(api__din_check("W1234 26 123456 0A K", want), 0); /* flags are digits */
    assert_int_equal(api__din_check("", want), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(check_chars_match_the_definition),
        cmocka_unit_test(every_error_is_caught),
        cmocka_unit_test(other_codes_are_free_form),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
