/* test_collector_decode - hostile payloads the collector must refuse
 * without memory errors (found by tests/fuzz/fuzz_readings): repeated
 * top-level keys that used to overrun the readings and lost arrays. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ot_reading.h"

static void duplicate_readings_key(void **state)
{
    (void)state;
    const char *p = "{\"v\":1,\"container\":\"C\",\"gateway\":\"g\",\"boot\":0,"
                    "\"readings\":[{\"seq\":6,\"ts\":1763877600123,\"temp_c\":4}],"
                    "\"readings\":[{\"seq\":7,\"ts\":1763877600123,\"temp_c\":4}]}";
    struct ot_batch b;
    struct ot_decode_error e;
    memset(&b, 0, sizeof b);
    assert_int_not_equal(ot_batch_decode(p, strlen(p), &b, &e), OT_OK);
    assert_string_equal(e.reason, "schema");
    ot_batch_free(&b);
}

static void duplicate_lost_key(void **state)
{
    (void)state;
    char p[4096];
    size_t o = 0;
    o += (size_t)snprintf(p + o, sizeof p - o,
                          "{\"v\":1,\"container\":\"C\",\"gateway\":\"g\","
                          "\"boot\":0,\"readings\":[{\"seq\":99,\"ts\":"
                          "1763877600123,\"temp_c\":4}]");
    for (int k = 0; k < 3; k++) {
        o += (size_t)snprintf(p + o, sizeof p - o, ",\"lost\":[");
        for (int i = 0; i < OT_LOST_MAX; i++)
            o += (size_t)snprintf(p + o, sizeof p - o, "%s[%d,%d]", i ? "," : "", i, i);
        o += (size_t)snprintf(p + o, sizeof p - o, "]");
    }
    snprintf(p + o, sizeof p - o, "}");
    struct ot_batch b;
    struct ot_decode_error e;
    memset(&b, 0, sizeof b);
    assert_int_not_equal(ot_batch_decode(p, strlen(p), &b, &e), OT_OK);
    assert_true(b.n_lost <= OT_LOST_MAX);
    ot_batch_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(duplicate_readings_key),
        cmocka_unit_test(duplicate_lost_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
