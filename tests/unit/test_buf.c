/* ot_buf: appends grow the buffer, stay NUL-terminated, and stop for good
 * at the cap (the terminating NUL counts) or on a failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ot_buf.h"

static void grows_and_terminates(void **state)
{
    (void)state;
    struct ot_buf b = OT_BUF_INIT(1 << 20);
    for (int i = 0; i < 1000; i++)
        ot_buf_str(&b, "abc");
    assert_false(b.failed);
    assert_int_equal(b.n, 3000);
    assert_int_equal(strlen(b.p), 3000);
    assert_memory_equal(b.p + 2997, "abc", 4);
    free(b.p);
}

static void cap_is_hard_and_sticky(void **state)
{
    (void)state;
    struct ot_buf b = OT_BUF_INIT(8); /* 7 bytes + NUL */
    ot_buf_add(&b, "1234567", 7);
    assert_false(b.failed);
    assert_string_equal(b.p, "1234567");
    ot_buf_add(&b, "8", 1); /* would need 9 bytes */
    assert_true(b.failed);
    assert_int_equal(b.n, 7);
    assert_true(b.cap <= 8);
    free(b.p);
    /* after a failure nothing is appended, even what would fit */
    struct ot_buf roomy = OT_BUF_INIT(32);
    ot_buf_add(&roomy, "ab", 2);
    roomy.failed = 1;
    ot_buf_add(&roomy, "cd", 2);
    assert_true(roomy.failed);
    assert_int_equal(roomy.n, 2);
    assert_string_equal(roomy.p, "ab");
    roomy.failed = 0; /* the same append, with no failure before it, does append */
    ot_buf_add(&roomy, "cd", 2);
    assert_false(roomy.failed);
    assert_string_equal(roomy.p, "abcd");
    free(roomy.p);
    struct ot_buf big = OT_BUF_INIT(16);
    ot_buf_add(&big, "0123456789abcdefXYZ", 19);
    assert_true(big.failed);
    assert_null(big.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(grows_and_terminates),
                                       cmocka_unit_test(cap_is_hard_and_sticky)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
