/* Unit tests for dashboard-api/routes.c: pattern matching with {id}, 404 vs
 * 405, and the role table (default deny: admin is clinical-blind, auditors
 * never write, crew only reads, hands off and acknowledges). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include <string.h>

#include "api.h"

static void matching(void **state)
{
    (void)state;
    int64_t id = 0;
    assert_true(api__route_match("/api/v1/shipments/{id}", "/api/v1/shipments/42", &id));
    assert_int_equal(id, 42);
    assert_true(
        api__route_match("/api/v1/shipments/{id}/readings", "/api/v1/shipments/7/readings", &id));
    assert_int_equal(id, 7);
    assert_true(api__route_match("/api/v1/shipments", "/api/v1/shipments/", &id));
    assert_false(api__route_match("/api/v1/shipments/{id}", "/api/v1/shipments/0", &id));
    assert_false(api__route_match("/api/v1/shipments/{id}", "/api/v1/shipments/007", &id));
    assert_false(api__route_match("/api/v1/shipments/{id}", "/api/v1/shipments/-1", &id));
    assert_false(api__route_match("/api/v1/shipments/{id}", "/api/v1/shipments/1x", &id));
    assert_false(api__route_match("/api/v1/shipments/{id}", "/api/v1/shipments/", &id));
    assert_false(
        api__route_match("/api/v1/shipments/{id}", "/api/v1/shipments/99999999999999999999", &id));
    assert_false(api__route_match("/api/v1/shipments/{id}", "/api/v1/shipments/1/x", &id));
    assert_false(api__route_match("/api/v1/shipments", "/api/v1/shipmentsX", &id));
}

static void find(void **state)
{
    (void)state;
    int64_t id = 0;
    int known = 0;
    int r = api__route_find("GET", "/api/v1/shipments/3/custody", &id, &known);
    assert_true(r >= 0);
    assert_int_equal(id, 3);
    assert_ptr_equal(api__routes[r].handler, api__h_custody_list);
    r = api__route_find("POST", "/api/v1/shipments/3/custody", &id, &known);
    assert_true(r >= 0);
    assert_ptr_equal(api__routes[r].handler, api__h_custody_post);
    r = api__route_find("HEAD", "/api/v1/health", &id, &known);
    assert_true(r >= 0);
    assert_ptr_equal(api__routes[r].handler, api__h_health);
    assert_int_equal(api__route_find("PUT", "/api/v1/shipments/3", &id, &known), -1);
    assert_int_equal(known, 1); /* 405 */
    assert_int_equal(api__route_find("GET", "/api/v1/nope", &id, &known), -1);
    assert_int_equal(known, 0); /* 404 */
}

static unsigned roles_of(const char *method, const char *path)
{
    int64_t id;
    int known;
    int r = api__route_find(method, path, &id, &known);
    assert_true(r >= 0);
    return api__routes[r].roles;
}

static void roles(void **state)
{
    (void)state;
    /* public: health only (SPEC); metrics takes any valid token */
    assert_int_equal(roles_of("GET", "/api/v1/health"), 0);
    assert_int_equal(roles_of("GET", "/metrics"), API_ROLES_READ | API_ROLE_ADMIN);
    /* no write route admits auditors but the sign-off (SPEC v1.1: an
     * auditor's electronic signature); no clinical route admits admins */
    for (size_t i = 0; i < api__n_routes; i++) {
        const struct api_route *rt = &api__routes[i];
        int write = strcmp(rt->method, "GET") != 0;
        int tokens = strncmp(rt->pattern, "/api/v1/tokens", 14) == 0;
        int me = strcmp(rt->pattern, "/api/v1/me") == 0;
        int metrics = strcmp(rt->pattern, "/metrics") == 0; /* counts, not clinical */
        int sign = strcmp(rt->pattern, "/api/v1/shipments/{id}/signatures") == 0;
        if (write && !sign)
            assert_false(rt->roles & API_ROLE_AUDITOR);
        if (!tokens && !me && !metrics)
            assert_false(rt->roles & API_ROLE_ADMIN);
        if (tokens)
            assert_int_equal(rt->roles, API_ROLE_ADMIN);
        assert_non_null(rt->name);
    }
    assert_int_equal(roles_of("POST", "/api/v1/shipments"), API_ROLE_COORDINATOR);
    assert_int_equal(roles_of("PATCH", "/api/v1/shipments/1"), API_ROLE_COORDINATOR);
    assert_int_equal(roles_of("POST", "/api/v1/shipments/1/custody"),
                     API_ROLE_CREW | API_ROLE_COORDINATOR);
    assert_int_equal(roles_of("POST", "/api/v1/alarms/1/ack"),
                     API_ROLE_CREW | API_ROLE_COORDINATOR);
    assert_int_equal(roles_of("GET", "/api/v1/shipments/1/export"),
                     API_ROLE_COORDINATOR | API_ROLE_AUDITOR);
    assert_int_equal(roles_of("POST", "/api/v1/shipments/1/signatures"),
                     API_ROLE_COORDINATOR | API_ROLE_AUDITOR);
}

/* Route flags: a token in the URL only for the event stream (a GET that
 * EventSource opens); the shared read transaction only on the list. */
static void flags(void **state)
{
    (void)state;
    int64_t id;
    int known;
    for (size_t i = 0; i < api__n_routes; i++) {
        const struct api_route *rt = &api__routes[i];
        int events = strcmp(rt->pattern, "/api/v1/events") == 0;
        int list = strcmp(rt->method, "GET") == 0 && strcmp(rt->pattern, "/api/v1/shipments") == 0;
        assert_int_equal(!!(rt->flags & API_RF_QUERY_TOKEN), events);
        assert_int_equal(!!(rt->flags & API_RF_READ_TX), list);
        assert_int_equal(!!(rt->flags & API_RF_CACHE_STAMP), list);
        assert_int_equal(
            rt->flags & ~(unsigned)(API_RF_QUERY_TOKEN | API_RF_READ_TX | API_RF_CACHE_STAMP), 0);
    }
    int r = api__route_find("GET", "/api/v1/events", &id, &known);
    assert_true(r >= 0);
    assert_ptr_equal(api__routes[r].handler, api__h_events);
    assert_true(api__routes[r].flags & API_RF_QUERY_TOKEN);
}

static void crew_scope(void **state)
{
    (void)state;
    struct api_principal p;
    memset(&p, 0, sizeof p);
    p.role = API_ROLE_CREW;
    p.n_containers = 1;
    strcpy(p.containers[0], "KZ-1");
    assert_true(api__may_container(&p, "KZ-1"));
    assert_false(api__may_container(&p, "KZ-2"));
    assert_false(api__may_container(&p, "KZ-10"));
    p.role = API_ROLE_AUDITOR;
    assert_true(api__may_container(&p, "KZ-2"));
    assert_int_equal(api__role_parse("coordinator"), API_ROLE_COORDINATOR);
    assert_int_equal(api__role_parse("root"), 0);
    assert_int_equal(api__role_parse(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(matching), cmocka_unit_test(find),       cmocka_unit_test(roles),
        cmocka_unit_test(flags),    cmocka_unit_test(crew_scope),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
