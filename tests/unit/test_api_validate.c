/* Unit tests for dashboard-api/validate.c: every field of the shipment and
 * custody bodies is named when wrong; query parameters, cursors, static
 * paths, content types and SSE framing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include <stdio.h>
#include <string.h>

#include "ot_geo.h"
#include "api.h"

#define NOW 1795407000000LL /* 2026-11-23T04:10:00Z */

static const char *good_shipment =
    "{\"container\":\"KZ-WKO-0001\",\"profile\":\"kidney\",\"donation_code\":\"A9999 26 123456\","
    "\"cross_clamp_at\":\"2026-11-23T03:10:00Z\","
    "\"origin\":{\"name\":\"Oral\",\"lat\":51.2,\"lon\":51.37},"
    "\"destination\":{\"name\":\"Astana\",\"lat\":51.13,\"lon\":71.43},\"mode\":\"mixed\"}";

/* Parses good_shipment with one key replaced (value NULL removes it). */
static enum ot_err parse_with(const char *key, const char *value_json, char *field, char *msg)
{
    struct api_shipment_in in;
    cJSON *b = cJSON_Parse(good_shipment);
    assert_non_null(b);
    if (key) {
        cJSON_DeleteItemFromObjectCaseSensitive(b, key);
        if (value_json)
            cJSON_AddItemToObject(b, key, cJSON_Parse(value_json));
    }
    enum ot_err rc = api__shipment_parse(b, NOW, 5 * 60000, &in, field, 64, msg, 256);
    cJSON_Delete(b);
    return rc;
}

static void shipment_ok(void **state)
{
    (void)state;
    struct api_shipment_in in;
    char field[64], msg[256];
    cJSON *b = cJSON_Parse(good_shipment);
    assert_int_equal(api__shipment_parse(b, NOW, 300000, &in, field, sizeof field, msg, sizeof msg),
                     OT_OK);
    assert_string_equal(in.container, "KZ-WKO-0001");
    assert_string_equal(in.mode, "mixed");
    assert_int_equal(in.cross_clamp_at, NOW - 3600000);
    assert_true(in.destination.lon > 71.4);
    cJSON_Delete(b);
}

static void shipment_fields_named(void **state)
{
    (void)state;
    static const struct {
        const char *key, *value, *field;
    } cases[] = {
        {"container", "\"bad id\"", "container"},
        {"container", NULL, "container"},
        {"container", "42", "container"},
        {"profile", "\"\"", "profile"},
        {"donation_code", "\"\"", "donation_code"},
        {"donation_code", "\"has\\ttab\"", "donation_code"},
        {"donation_code", "\"<b>\"", "donation_code"},
        {"cross_clamp_at", "\"23/11/2026\"", "cross_clamp_at"},
        {"cross_clamp_at", "\"2026-11-23T04:20:00Z\"", "cross_clamp_at"}, /* 10 min ahead */
        {"cross_clamp_at", "\"2026-11-01T04:10:00Z\"", "cross_clamp_at"}, /* too old */
        {"origin", "[]", "origin"},
        {"origin", "{\"name\":\"x\",\"lat\":-91,\"lon\":0}", "origin.lat"},
        {"origin", "{\"name\":\"x\",\"lat\":0,\"lon\":181}", "origin.lon"},
        {"origin", "{\"name\":\"\",\"lat\":0,\"lon\":0}", "origin.name"},
        {"destination", "{\"name\":\"x\",\"lat\":0}", "destination.lon"},
        {"destination", "{\"name\":\"x\",\"lat\":0,\"lon\":0,\"alt\":3}", "destination.alt"},
        {"mode", "\"rail\"", "mode"},
        {"mode", "null", "mode"},
        {"patient", "\"x\"", "patient"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char field[64] = "", msg[256] = "";
        enum ot_err rc = parse_with(cases[i].key, cases[i].value, field, msg);
        if (rc != OT_ERR_INVAL || strcmp(field, cases[i].field) != 0 ||
            strstr(msg, cases[i].field) == NULL)
            fail_msg("case %zu (%s=%s): rc=%d field=%s msg=%s", i, cases[i].key,
                     cases[i].value ? cases[i].value : "absent", rc, field, msg);
    }
    /* 4 minutes ahead is inside the allowed clock skew */
    char field[64], msg[256];
    assert_int_equal(parse_with("cross_clamp_at", "\"2026-11-23T04:14:00Z\"", field, msg), OT_OK);
}

static void custody_rules(void **state)
{
    (void)state;
    struct api_custody_in in;
    char field[64], msg[256];
    cJSON *b = cJSON_Parse("{\"type\":\"handoff\",\"from\":\"A\",\"to\":\"B\",\"witness\":\"W\","
                           "\"place\":{\"lat\":51,\"lon\":71},\"seal\":\"S1\",\"comment\":\"ok\"}");
    assert_int_equal(api__custody_parse(b, &in, field, sizeof field, msg, sizeof msg), OT_OK);
    assert_true(in.has_place);
    assert_string_equal(in.witness, "W");
    cJSON_Delete(b);
    static const struct {
        const char *body, *field;
    } bad[] = {
        {"{\"type\":\"handoff\",\"from\":\"A\",\"to\":\"B\"}", "witness"},
        {"{\"type\":\"handoff\",\"witness\":\"W\"}", "to"},
        {"{\"type\":\"beamed\"}", "type"},
        {"{}", "type"},
        {"{\"type\":\"note\",\"place\":{\"lat\":0}}", "place.lon"},
        {"{\"type\":\"note\",\"place\":\"here\"}", "place"},
        {"{\"type\":\"note\",\"seal\":7}", "seal"},
        {"{\"type\":\"note\",\"extra\":1}", "extra"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *j = cJSON_Parse(bad[i].body);
        enum ot_err rc = api__custody_parse(j, &in, field, sizeof field, msg, sizeof msg);
        cJSON_Delete(j);
        if (rc != OT_ERR_INVAL || strcmp(field, bad[i].field) != 0)
            fail_msg("custody case %zu: rc=%d field=%s msg=%s", i, rc, field, msg);
    }
}

static void query_helpers(void **state)
{
    (void)state;
    int64_t v, a, b;
    assert_int_equal(api__parse_limit(NULL, 50, 500, &v), 0);
    assert_int_equal(v, 50);
    assert_int_equal(api__parse_limit("500", 50, 500, &v), 0);
    assert_int_not_equal(api__parse_limit("501", 50, 500, &v), 0);
    assert_int_not_equal(api__parse_limit("0", 50, 500, &v), 0);
    assert_int_not_equal(api__parse_limit("5x", 50, 500, &v), 0);
    assert_int_equal(api__parse_time("1763877600123", &v), 0);
    assert_int_equal(v, 1763877600123LL);
    assert_int_equal(api__parse_time("2026-11-23T04:10:00Z", &v), 0);
    assert_int_equal(v, NOW);
    assert_int_not_equal(api__parse_time("", &v), 0);
    assert_int_not_equal(api__parse_time("-1", &v), 0);
    assert_int_equal(api__parse_cursor("42", &a, &b), 0);
    assert_int_equal(a, 42);
    assert_int_equal(b, 0);
    assert_int_equal(api__parse_cursor("1763877600123.17", &a, &b), 0);
    assert_int_equal(b, 17);
    assert_int_not_equal(api__parse_cursor(".5", &a, &b), 0);
    assert_int_not_equal(api__parse_cursor("5.", &a, &b), 0);
    assert_int_not_equal(api__parse_cursor("a.b", &a, &b), 0);
    assert_true(api__donation_code_valid("A9999 26 123456"));
    assert_false(api__donation_code_valid(""));
    assert_false(api__donation_code_valid("a;b"));
    assert_true(api__text_valid("", 5));
    assert_false(api__text_valid("abcdef", 5));
    assert_false(api__text_valid("a\x01", 5));
}

static void static_paths(void **state)
{
    (void)state;
    char out[256];
    assert_int_equal(api__static_path("/", out, sizeof out), 0);
    assert_string_equal(out, "index.html");
    assert_int_equal(api__static_path("/assets/app.js", out, sizeof out), 0);
    assert_string_equal(out, "assets/app.js");
    const char *bad[] = {"/..",       "/../etc/passwd", "/a/../b", "/a//b", "/.env",
                         "/a/.git/x", "/a\\b",          "",        "x",     "/a/",
                         "/a/./b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (api__static_path(bad[i], out, sizeof out) == 0)
            fail_msg("accepted %s", bad[i]);
    assert_string_equal(api__content_type("index.html"), "text/html; charset=utf-8");
    assert_string_equal(api__content_type("a/b.js"), "text/javascript; charset=utf-8");
    assert_string_equal(api__content_type("x.woff2"), "font/woff2");
    assert_string_equal(api__content_type("dir.d/noext"), "application/octet-stream");
}

static void sse_framing(void **state)
{
    (void)state;
    char buf[256];
    int n = api__sse_format(buf, sizeof buf, 7, "alarm", "{\"a\":1}");
    assert_int_equal(n, (int)strlen(buf));
    assert_string_equal(buf, "id: 7\nevent: alarm\ndata: {\"a\":1}\n\n");
    api__sse_format(buf, sizeof buf, 8, "x", "l1\nl2\r\nl3");
    assert_string_equal(buf, "id: 8\nevent: x\ndata: l1\ndata: l2\ndata: l3\n\n");
    char small[16];
    assert_int_equal(api__sse_format(small, sizeof small, 9, "reading", "{}"), -1);
    /* Oral -> Astana is about 1390 km */
    double km = ot_geo_distance_km(51.20, 51.37, 51.13, 71.43);
    assert_true(km > 1350 && km < 1420);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shipment_ok),   cmocka_unit_test(shipment_fields_named),
        cmocka_unit_test(custody_rules), cmocka_unit_test(query_helpers),
        cmocka_unit_test(static_paths),  cmocka_unit_test(sse_framing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
