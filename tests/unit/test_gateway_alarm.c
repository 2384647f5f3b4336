/* test_gateway_alarm.c - the gateway's local alarm: the limits message
 * parsed strictly (and what is refused), kept and loaded from the spool
 * dir, and the alarm's judgement: the grace, readings without temp_c,
 * recovery, a clear, and what the outputs are told at each step. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway.h"
#include "ot_log.h"

#define C "KZ-WKO-0001"

static int parse(const char *js, struct gw_limits *l)
{
    char err[160];
    return limits__parse(js, strlen(js), C, l, err, sizeof err);
}

static void limits_parsing(void **state)
{
    (void)state;
    struct gw_limits l;
    assert_int_equal(parse("{\"v\":1,\"container\":\"" C "\",\"shipment\":17,\"profile\":\"heart\","
                           "\"temp_min_c\":2,\"temp_max_c\":8,\"excursion_grace_s\":600,"
                           "\"ts\":1763877600123}",
                           &l),
                     0);
    assert_true(l.set);
    assert_string_equal(l.shipment, "17");
    assert_string_equal(l.profile, "heart");
    assert_true(l.temp_min_c == 2 && l.temp_max_c == 8);
    assert_int_equal(l.grace_s, 600);
    assert_int_equal(l.ts, 1763877600123LL);
    /* a string shipment id, no profile, no ts, an unknown key: accepted */
    assert_int_equal(parse("{\"v\":1,\"container\":\"" C
                           "\",\"shipment\":\"S-9\",\"temp_min_c\":-1,"
                           "\"temp_max_c\":4.5,\"excursion_grace_s\":0,\"shock_max_g\":3}",
                           &l),
                     0);
    assert_string_equal(l.shipment, "S-9");
    assert_int_equal(l.grace_s, 0);
    /* empty payload: cleared */
    assert_int_equal(limits__parse("", 0, C, &l, NULL, 0), 0);
    assert_false(l.set);
    static const char *const bad[] = {
        "not json",
        "[]",
        "{\"v\":2,\"container\":\"" C
        "\",\"temp_min_c\":2,\"temp_max_c\":8,\"excursion_grace_s\":1}",
        "{\"v\":1,\"container\":\"KZ-OTHER\",\"temp_min_c\":2,\"temp_max_c\":8,"
        "\"excursion_grace_s\":1}",
        "{\"v\":1,\"container\":\"" C "\",\"temp_max_c\":8,\"excursion_grace_s\":1}",
        "{\"v\":1,\"container\":\"" C
        "\",\"temp_min_c\":8,\"temp_max_c\":2,\"excursion_grace_s\":1}",
        "{\"v\":1,\"container\":\"" C
        "\",\"temp_min_c\":2,\"temp_max_c\":8,\"excursion_grace_s\":-1}",
        "{\"v\":1,\"container\":\"" C "\",\"temp_min_c\":2,\"temp_max_c\":8,"
        "\"excursion_grace_s\":1.5}",
        "{\"v\":1,\"container\":\"" C "\",\"temp_min_c\":\"2\",\"temp_max_c\":8,"
        "\"excursion_grace_s\":1}",
        "{\"v\":1,\"container\":\"" C "\",\"temp_min_c\":2,\"temp_max_c\":800,"
        "\"excursion_grace_s\":1}",
        "{\"v\":1,\"container\":\"" C "\",\"temp_min_c\":2,\"temp_max_c\":8,"
        "\"excursion_grace_s\":1,\"shipment\":\"a b\"}",
        "{\"v\":1,\"container\":\"" C "\",\"temp_min_c\":2,\"temp_max_c\":8,"
        "\"excursion_grace_s\":1,\"shipment\":-3}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[160] = "";
        if (limits__parse(bad[i], strlen(bad[i]), C, &l, err, sizeof err) == 0)
            fail_msg("accepted: %s", bad[i]);
        assert_false(l.set);
        assert_true(err[0] != '\0');
    }
    char big[4096];
    memset(big, ' ', sizeof big);
    assert_int_not_equal(limits__parse(big, sizeof big, C, &l, (char[64]){0}, 64), 0);
}

static void limits_kept_on_disk(void **state)
{
    (void)state;
    char dir[] = "/tmp/ot-limits-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct gw_limits l, back;
    assert_int_equal(limits__load(dir, C, &back), OT_OK); /* none yet */
    assert_false(back.set);
    assert_int_equal(parse("{\"v\":1,\"container\":\"" C "\",\"shipment\":5,\"profile\":\"liver\","
                           "\"temp_min_c\":2,\"temp_max_c\":8,\"excursion_grace_s\":300,\"ts\":9}",
                           &l),
                     0);
    assert_int_equal(limits__save(dir, C, &l), OT_OK);
    assert_int_equal(limits__load(dir, C, &back), OT_OK);
    assert_true(limits__same(&l, &back));
    /* a file for another container (a spool dir reused) is not ours */
    assert_int_equal(limits__load(dir, "KZ-OTHER", &back), OT_ERR_CORRUPT);
    assert_false(back.set);
    /* cleared: the file goes */
    struct gw_limits none;
    memset(&none, 0, sizeof none);
    assert_int_equal(limits__save(dir, C, &none), OT_OK);
    assert_int_equal(limits__load(dir, C, &back), OT_OK);
    assert_false(back.set);
    char path[256];
    snprintf(path, sizeof path, "%s/limits.json", dir);
    assert_int_not_equal(access(path, F_OK), 0);
    /* garbage in the file: refused, no limits */
    FILE *f = fopen(path, "w");
    fputs("{\"v\":1,", f);
    fclose(f);
    assert_int_equal(limits__load(dir, C, &back), OT_ERR_CORRUPT);
    assert_false(back.set);
    unlink(path);
    rmdir(dir);
}

static struct ot_reading temp(double t, int64_t ts)
{
    struct ot_reading r;
    memset(&r, 0, sizeof r);
    r.ts = ts;
    ot_reading_set(&r, OT_CH_TEMP, t);
    return r;
}

static void alarm_grace_and_recovery(void **state)
{
    (void)state;
    struct gw_limits l;
    struct gw_alarm a;
    memset(&a, 0, sizeof a);
    memset(&l, 0, sizeof l);
    struct ot_reading r = temp(12, 1000);
    /* no limits: no alarm, outputs never driven */
    assert_int_equal(alarm__judge(&a, &l, &r, 1000), 0);
    assert_false(a.on);
    assert_int_equal(alarm__output(&a, &l), -1);
    assert_int_equal(parse("{\"v\":1,\"container\":\"" C "\",\"temp_min_c\":2,\"temp_max_c\":8,"
                           "\"excursion_grace_s\":10}",
                           &l),
                     0);
    /* limits known, not judged yet: leave the outputs alone */
    assert_int_equal(alarm__output(&a, &l), -1);
    r = temp(4, 1000);
    assert_int_equal(alarm__judge(&a, &l, &r, 1000), 0);
    assert_int_equal(alarm__output(&a, &l), 0); /* in band: 0 */
    /* out of band: the grace counts from the first reading outside */
    r = temp(8.5, 2000);
    assert_int_equal(alarm__judge(&a, &l, &r, 2000), 0);
    assert_int_equal(a.out_since_mono, 2000);
    assert_int_equal(alarm__output(&a, &l), -1); /* within the grace: as it is */
    /* a reading without temp_c changes nothing */
    struct ot_reading none;
    memset(&none, 0, sizeof none);
    none.missing = 1u << OT_CH_TEMP;
    assert_int_equal(alarm__judge(&a, &l, &none, 11000), 0);
    assert_int_equal(a.out_since_mono, 2000);
    r = temp(9, 11999);
    assert_int_equal(alarm__judge(&a, &l, &r, 11999), 0);
    assert_false(a.on);
    r = temp(9, 12000);
    assert_int_equal(alarm__judge(&a, &l, &r, 12000), 1); /* grace passed: on */
    assert_true(a.on);
    assert_int_equal(alarm__output(&a, &l), 1);
    r = temp(1.5, 13000); /* below the band is out of band too */
    assert_int_equal(alarm__judge(&a, &l, &r, 13000), 0);
    assert_true(a.on);
    r = temp(2, 14000); /* the band's edges are inside */
    assert_int_equal(alarm__judge(&a, &l, &r, 14000), 1);
    assert_false(a.on);
    assert_int_equal(a.out_since_mono, 0);
    assert_int_equal(alarm__output(&a, &l), 0);
    /* a short excursion within the grace never turns it on, and a new one
     * counts its own grace */
    r = temp(10, 15000);
    alarm__judge(&a, &l, &r, 15000);
    r = temp(7, 20000);
    alarm__judge(&a, &l, &r, 20000);
    r = temp(10, 21000);
    alarm__judge(&a, &l, &r, 21000);
    r = temp(10, 30999);
    assert_int_equal(alarm__judge(&a, &l, &r, 30999), 0);
    assert_false(a.on);
    r = temp(10, 31000);
    assert_int_equal(alarm__judge(&a, &l, &r, 31000), 1);
    /* cleared while on: off at once, outputs to 0 (they were driven) */
    struct gw_limits cleared;
    memset(&cleared, 0, sizeof cleared);
    assert_int_equal(alarm__judge(&a, &cleared, &none, 32000), 1);
    assert_false(a.on);
    assert_int_equal(alarm__output(&a, &cleared), 0);
}

static void alarm_zero_grace(void **state)
{
    (void)state;
    struct gw_limits l;
    struct gw_alarm a;
    memset(&a, 0, sizeof a);
    assert_int_equal(parse("{\"v\":1,\"container\":\"" C "\",\"temp_min_c\":2,\"temp_max_c\":8,"
                           "\"excursion_grace_s\":0}",
                           &l),
                     0);
    struct ot_reading r = temp(8.01, 5);
    assert_int_equal(alarm__judge(&a, &l, &r, 5), 1);
    assert_int_equal(alarm__output(&a, &l), 1);
}

int main(void)
{
    ot_log_init("test", OT_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(limits_parsing),
        cmocka_unit_test(limits_kept_on_disk),
        cmocka_unit_test(alarm_grace_and_recovery),
        cmocka_unit_test(alarm_zero_grace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
