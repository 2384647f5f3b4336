/* Unit tests for the readings batch codec: good input round-trips, every
 * kind of hostile input is refused with the right reason code, and the
 * direct encoder writes exactly what cJSON printed for the same batch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <math.h>

#include "ot_reading.h"

static const char *spec_example =
    "{\"v\":1,\"container\":\"KZ-WKO-0001\",\"gateway\":\"gw-ambulance-07\",\"boot\":17,"
    "\"readings\":[{\"seq\":1042,\"ts\":1763877600123,\"temp_c\":4.21,\"temp2_c\":4.35,"
    "\"ambient_c\":21.0,\"lat\":51.2036,\"lon\":51.3703,\"alt_m\":42.0,\"speed_kmh\":63.5,"
    "\"lid_open\":false,\"shock_g\":0.12,\"battery_pct\":91,\"gnss_fix\":3}]}";

static void decode_spec_example(void **state)
{
    (void)state;
    struct ot_batch b;
    struct ot_decode_error e = {0};
    assert_int_equal(ot_batch_decode(spec_example, strlen(spec_example), &b, &e), OT_OK);
    assert_string_equal(b.container, "KZ-WKO-0001");
    assert_string_equal(b.gateway, "gw-ambulance-07");
    assert_int_equal(b.boot, 17);
    assert_int_equal(b.n, 1);
    const struct ot_reading *r = &b.readings[0];
    assert_int_equal(r->seq, 1042);
    assert_int_equal(r->ts, 1763877600123LL);
    assert_true(ot_reading_has(r, OT_CH_TEMP));
    assert_float_equal(r->v[OT_CH_TEMP], 4.21, 1e-12);
    assert_float_equal(r->v[OT_CH_LON], 51.3703, 1e-12);
    assert_true(ot_reading_has(r, OT_CH_LID));
    assert_float_equal(r->v[OT_CH_LID], 0.0, 0);
    assert_false(ot_reading_has(r, OT_CH_HEADING));
    assert_int_equal(r->v[OT_CH_GNSS], 3);
    ot_batch_free(&b);
}

static void roundtrip(void **state)
{
    (void)state;
    struct ot_batch b = {0}, d;
    struct ot_decode_error e = {0};
    snprintf(b.container, sizeof b.container, "C-1");
    snprintf(b.gateway, sizeof b.gateway, "gw_1");
    b.boot = 3;
    for (int i = 0; i < 5; i++) {
        struct ot_reading r = {0};
        r.seq = 100 + i;
        r.ts = 1763877600000LL + i * 1000;
        if (i == 2) {
            r.missing = 1u << OT_CH_TEMP; /* dead probe: declared, not invented */
        } else {
            ot_reading_set(&r, OT_CH_TEMP, 4.0 + i * 0.01);
        }
        ot_reading_set(&r, OT_CH_LID, i == 3);
        snprintf(r.extra[0].name, sizeof r.extra[0].name, "humidity");
        r.extra[0].value = 55.5;
        r.n_extra = 1;
        assert_int_equal(ot_batch_push(&b, &r), OT_OK);
    }
    b.lost[0].from = 90;
    b.lost[0].to = 95;
    b.n_lost = 1;
    char *json = NULL;
    size_t len = 0;
    assert_int_equal(ot_batch_encode(&b, &json, &len), OT_OK);
    assert_int_equal(ot_batch_decode(json, len, &d, &e), OT_OK);
    assert_int_equal(d.n, 5);
    assert_int_equal(d.n_lost, 1);
    assert_int_equal(d.lost[0].from, 90);
    assert_int_equal(d.lost[0].to, 95);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(d.readings[i].seq, b.readings[i].seq);
        assert_int_equal(d.readings[i].ts, b.readings[i].ts);
        assert_int_equal(d.readings[i].present, b.readings[i].present);
        assert_int_equal(d.readings[i].missing, b.readings[i].missing);
        if (ot_reading_has(&b.readings[i], OT_CH_TEMP))
            assert_float_equal(d.readings[i].v[OT_CH_TEMP], b.readings[i].v[OT_CH_TEMP], 1e-12);
        assert_string_equal(d.readings[i].extra[0].name, "humidity");
    }
    assert_null(strstr(json, "null"));
    free(json);
    ot_batch_free(&b);
    ot_batch_free(&d);
}

struct bad_case {
    const char *payload;
    const char *reason;
};

#define HDR "{\"v\":1,\"container\":\"C1\",\"gateway\":\"g\",\"boot\":1,"
static const struct bad_case bad_cases[] = {
    {"", "json"},
    {"{", "json"},
    {"[1,2]", "schema"},
    {"not json", "json"},
    {"{\"v\":2,\"container\":\"C1\",\"gateway\":\"g\",\"boot\":1,\"readings\":[]}", "version"},
    {"{\"v\":1,\"container\":\"bad/name\",\"gateway\":\"g\",\"boot\":1,\"readings\":[]}",
     "container"},
    {"{\"v\":1,\"container\":\"\",\"gateway\":\"g\",\"boot\":1,\"readings\":[]}", "container"},
    {"{\"v\":1,\"container\":\"C+#\",\"gateway\":\"g\",\"boot\":1,\"readings\":[]}", "container"},
    {"{\"v\":1,\"gateway\":\"g\",\"boot\":1,\"readings\":[{\"seq\":1,\"ts\":1763877600123,\"temp_"
     "c\":4}]}",
     "container"},
    {HDR "\"readings\":[]}", "schema"},
    {HDR "\"readings\":{}}", "schema"},
    {HDR "\"readings\":[1]}", "schema"},
    {HDR "\"readings\":[{\"seq\":1,\"ts\":1763877600123}]}", "schema"},    /* no temp */
    {HDR "\"readings\":[{\"ts\":1763877600123,\"temp_c\":4}]}", "schema"}, /* no seq */
    {HDR "\"readings\":[{\"seq\":1,\"temp_c\":4}]}", "schema"},            /* no ts */
    {HDR "\"readings\":[{\"seq\":-1,\"ts\":1763877600123,\"temp_c\":4}]}", "schema"},
    {HDR "\"readings\":[{\"seq\":1.5,\"ts\":1763877600123,\"temp_c\":4}]}", "schema"},
    {HDR "\"readings\":[{\"seq\":\"1\",\"ts\":1763877600123,\"temp_c\":4}]}", "schema"},
    {HDR "\"readings\":[{\"seq\":1,\"ts\":5,\"temp_c\":4}]}", "range"},
    {HDR "\"readings\":[{\"seq\":1,\"ts\":1763877600123,\"temp_c\":\"4\"}]}", "schema"},
    {HDR "\"readings\":[{\"seq\":1,\"ts\":1763877600123,\"temp_c\":null}]}", "schema"},
    {HDR "\"readings\":[{\"seq\":1,\"ts\":1763877600123,\"temp_c\":999}]}", "range"},
    {HDR "\"readings\":[{\"seq\":1,\"ts\":1763877600123,\"temp_c\":4,\"lat\":91}]}", "range"},
    {HDR "\"readings\":[{\"seq\":1,\"ts\":1763877600123,\"temp_c\":4,\"lid_open\":1}]}", "schema"},
    {HDR "\"readings\":[{\"seq\":1,\"ts\":1763877600123,\"temp_c\":4,\"gnss_fix\":2.5}]}",
     "schema"},
    {HDR "\"readings\":[{\"seq\":1,\"ts\":1763877600123,\"temp_c\":4,\"Bad Name\":1}]}", "schema"},
    {HDR "\"readings\":[{\"seq\":1,\"ts\":1763877600123,\"temp_c\":4,\"x\":\"str\"}]}", "schema"},
    {HDR "\"readings\":[{\"seq\":2,\"ts\":1763877600123,\"temp_c\":4},"
         "{\"seq\":2,\"ts\":1763877600123,\"temp_c\":4}]}",
     "order"},
    {HDR "\"readings\":[{\"seq\":1,\"ts\":1763877600123,\"temp_c\":4}],\"patient\":\"x\"}",
     "schema"},
    {HDR "\"readings\":[{\"seq\":1,\"ts\":1763877600123,\"temp_c\":4}],\"lost\":[[5,3]]}",
     "schema"},
    {HDR "\"readings\":[{\"seq\":1,\"ts\":1763877600123,\"temp_c\":4,"
         "\"missing\":[\"temp_c\"]}]}",
     "schema"},
    {HDR "\"readings\":[{\"seq\":1,\"ts\":1763877600123,\"temp_c\":1e400}]}", "schema"},
};

static void hostile_inputs(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        struct ot_batch b;
        struct ot_decode_error e = {0};
        const char *p = bad_cases[i].payload;
        enum ot_err rc = ot_batch_decode(p, strlen(p), &b, &e);
        if (rc == OT_OK || !e.reason || strcmp(e.reason, bad_cases[i].reason) != 0) {
            print_error("case %zu: %s -> rc=%d reason=%s detail=%s\n", i, p, rc,
                        e.reason ? e.reason : "(none)", e.detail);
            fail();
        }
        assert_null(b.readings);
        assert_int_equal(b.n, 0);
    }
}

static void oversize_and_too_many(void **state)
{
    (void)state;
    struct ot_batch b;
    struct ot_decode_error e = {0};
    size_t big = OT_BATCH_MAX_BYTES + 1;
    char *p = malloc(big + 1);
    assert_non_null(p);
    memset(p, ' ', big);
    p[big] = 0;
    assert_int_equal(ot_batch_decode(p, big, &b, &e), OT_ERR_PARSE);
    assert_string_equal(e.reason, "too_large");
    free(p);

    /* 1001 readings, each small */
    size_t cap = 64 * 1024 * 4;
    p = malloc(cap);
    assert_non_null(p);
    size_t n = (size_t)snprintf(p, cap, HDR "\"readings\":[");
    for (int i = 0; i <= OT_BATCH_MAX_READINGS; i++)
        n += (size_t)snprintf(p + n, cap - n, "%s{\"seq\":%d,\"ts\":1763877600123,\"temp_c\":4}",
                              i ? "," : "", i + 1);
    n += (size_t)snprintf(p + n, cap - n, "]}");
    assert_int_equal(ot_batch_decode(p, n, &b, &e), OT_ERR_PARSE);
    assert_string_equal(e.reason, "too_many");
    free(p);
}

static void missing_probe_is_accepted(void **state)
{
    (void)state;
    const char *p = HDR "\"readings\":[{\"seq\":7,\"ts\":1763877600123,\"missing\":[\"temp_c\"],"
                        "\"lat\":51.2,\"lon\":51.3}]}";
    struct ot_batch b;
    struct ot_decode_error e = {0};
    assert_int_equal(ot_batch_decode(p, strlen(p), &b, &e), OT_OK);
    assert_false(ot_reading_has(&b.readings[0], OT_CH_TEMP));
    assert_true(b.readings[0].missing & (1u << OT_CH_TEMP));
    ot_batch_free(&b);
}

static void id_validation(void **state)
{
    (void)state;
    assert_true(ot_id_valid("KZ-WKO-0001"));
    assert_true(ot_id_valid("a_b-9"));
    assert_false(ot_id_valid(""));
    assert_false(ot_id_valid("a/b"));
    assert_false(ot_id_valid("a b"));
    assert_false(ot_id_valid("ä"));
    char s[70];
    memset(s, 'a', 64);
    s[64] = 0;
    assert_true(ot_id_valid(s));
    s[64] = 'a';
    s[65] = 0;
    assert_false(ot_id_valid(s));
}

/* The batch as the encoder printed it when it built a cJSON tree. */
static char *cjson_reference(const struct ot_batch *b)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "v", 1);
    cJSON_AddStringToObject(root, "container", b->container);
    cJSON_AddStringToObject(root, "gateway", b->gateway);
    cJSON_AddNumberToObject(root, "boot", (double)b->boot);
    cJSON *arr = cJSON_AddArrayToObject(root, "readings");
    for (size_t i = 0; i < b->n; i++) {
        const struct ot_reading *r = &b->readings[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "seq", (double)r->seq);
        cJSON_AddNumberToObject(o, "ts", (double)r->ts);
        for (int ch = 0; ch < OT_CH__COUNT; ch++) {
            if (!ot_reading_has(r, (enum ot_channel)ch))
                continue;
            if (ot_channels[ch].is_bool)
                cJSON_AddBoolToObject(o, ot_channels[ch].name, r->v[ch] != 0.0);
            else
                cJSON_AddNumberToObject(o, ot_channels[ch].name, r->v[ch]);
        }
        for (size_t k = 0; k < r->n_extra; k++) {
            if (r->extra[k].is_bool)
                cJSON_AddBoolToObject(o, r->extra[k].name, r->extra[k].value != 0.0);
            else
                cJSON_AddNumberToObject(o, r->extra[k].name, r->extra[k].value);
        }
        if (r->missing) {
            cJSON *m = cJSON_AddArrayToObject(o, "missing");
            for (int ch = 0; ch < OT_CH__COUNT; ch++)
                if ((r->missing >> ch) & 1u)
                    cJSON_AddItemToArray(m, cJSON_CreateString(ot_channels[ch].name));
        }
        cJSON_AddItemToArray(arr, o);
    }
    if (b->n_lost) {
        cJSON *lost = cJSON_AddArrayToObject(root, "lost");
        for (size_t i = 0; i < b->n_lost; i++) {
            cJSON *pair = cJSON_CreateArray();
            cJSON_AddItemToArray(pair, cJSON_CreateNumber((double)b->lost[i].from));
            cJSON_AddItemToArray(pair, cJSON_CreateNumber((double)b->lost[i].to));
            cJSON_AddItemToArray(lost, pair);
        }
    }
    char *out = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return out;
}

static double pick(unsigned *seed, int i)
{
    static const double fixed[] = {4.21,     -1.5,      0.1 + 0.2,  1e-7,         51.2036123,
                                   -33.8688, 1.0 / 3.0, 7600.5,     1e15,         123456789.0,
                                   0,        -0.0,      2147483647, 2147483648.0, -2147483649.0,
                                   1e-300,   5e-324};
    if (i < (int)(sizeof fixed / sizeof fixed[0]))
        return fixed[i];
    *seed = *seed * 1103515245u + 12345u;
    return ((double)(*seed % 2000001u) - 1000000.0) / pow(10.0, (double)(*seed % 9u));
}

static void encode_matches_cjson(void **state)
{
    (void)state;
    unsigned seed = 7;
    for (int round = 0; round < 200; round++) {
        struct ot_batch b;
        memset(&b, 0, sizeof b);
        snprintf(b.container, sizeof b.container, "KZ-WKO-0001");
        snprintf(b.gateway, sizeof b.gateway, "gw-ambulance-07");
        b.boot = round;
        for (int i = 0; i < 3; i++) {
            struct ot_reading r;
            memset(&r, 0, sizeof r);
            r.seq = 1000 * round + i + 1;
            r.ts = 1763877600123LL + round * 1000 + i;
            for (int ch = 0; ch < OT_CH__COUNT; ch++) {
                if ((round + ch + i) % 4 == 0)
                    r.missing |= 1u << ch;
                else
                    ot_reading_set(&r, (enum ot_channel)ch, pick(&seed, (round * 3 + ch) % 40));
            }
            r.n_extra = (size_t)(round % 3);
            for (size_t k = 0; k < r.n_extra; k++) {
                snprintf(r.extra[k].name, sizeof r.extra[k].name, "x%zu", k);
                r.extra[k].value = pick(&seed, 20 + (int)k);
                r.extra[k].is_bool = k == 1;
            }
            assert_int_equal(ot_batch_push(&b, &r), OT_OK);
        }
        if (round % 5 == 0) {
            b.n_lost = 2;
            b.lost[0].from = 3;
            b.lost[0].to = 9;
            b.lost[1].from = 9007199254740990LL;
            b.lost[1].to = 9007199254740991LL;
        }
        char *got = NULL, *want = cjson_reference(&b);
        size_t len = 0;
        assert_int_equal(ot_batch_encode(&b, &got, &len), OT_OK);
        if (strcmp(got, want)) {
            size_t k = 0;
            while (got[k] == want[k])
                k++;
            fail_msg("differs at %zu:\n ours  %.80s\n cJSON %.80s", k, got + (k > 30 ? k - 30 : 0),
                     want + (k > 30 ? k - 30 : 0));
        }
        assert_int_equal(len, strlen(want));
        free(got);
        free(want);
        ot_batch_free(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decode_spec_example),
        cmocka_unit_test(encode_matches_cjson),
        cmocka_unit_test(roundtrip),
        cmocka_unit_test(hostile_inputs),
        cmocka_unit_test(oversize_and_too_many),
        cmocka_unit_test(missing_probe_is_accepted),
        cmocka_unit_test(id_validation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
