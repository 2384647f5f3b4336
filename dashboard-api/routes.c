/* routes.c - the route table: every endpoint with the roles allowed to call
 * it. Default deny: a path not in the table is 404, a method not listed for
 * a known path is 405, and a role not in `roles` is 403 (after 401 for a
 * missing or bad token). roles == 0 marks the few public endpoints. The
 * flags column (enum api_route_flag, api.h) names what http.c does
 * differently for a route. */
#include "api.h"

#include <string.h>

#include "ot_parse.h"

#define R_READ API_ROLES_READ
#define R_CREW API_ROLE_CREW
#define R_COORD API_ROLE_COORDINATOR
#define R_AUD API_ROLE_AUDITOR
#define R_ADMIN API_ROLE_ADMIN
#define R_ANY (R_READ | R_ADMIN)
#define F_QTOKEN API_RF_QUERY_TOKEN
#define F_READTX API_RF_READ_TX
#define F_STAMP API_RF_CACHE_STAMP

const struct api_route api__routes[] = {
    {"GET", "/api/v1/health", 0, 0, api__h_health, "health"},
    {"GET", "/metrics", R_ANY, 0, api__h_metrics, "metrics"},
    {"GET", "/api/v1/me", R_ANY, 0, api__h_me, "me"},
    {"GET", "/api/v1/profiles", R_READ, 0, api__h_profiles, "profiles"},
    {"GET", "/api/v1/shipments", R_READ, F_READTX | F_STAMP, api__h_ship_list, "shipments"},
    {"POST", "/api/v1/shipments", R_COORD, 0, api__h_ship_create, "shipments_create"},
    {"GET", "/api/v1/shipments/{id}", R_READ, 0, api__h_ship_get, "shipment"},
    {"PATCH", "/api/v1/shipments/{id}", R_COORD, 0, api__h_ship_patch, "shipment_patch"},
    {"GET", "/api/v1/shipments/{id}/readings", R_READ, 0, api__h_readings, "readings"},
    {"GET", "/api/v1/shipments/{id}/alarms", R_READ, 0, api__h_alarms, "alarms"},
    {"POST", "/api/v1/alarms/{id}/ack", R_CREW | R_COORD, 0, api__h_alarm_ack, "alarm_ack"},
    {"GET", "/api/v1/shipments/{id}/custody", R_READ, 0, api__h_custody_list, "custody"},
    {"POST", "/api/v1/shipments/{id}/custody", R_CREW | R_COORD, 0, api__h_custody_post,
     "custody_post"},
    {"GET", "/api/v1/shipments/{id}/export", R_COORD | R_AUD, 0, api__h_export, "export"},
    {"POST", "/api/v1/shipments/{id}/signatures", R_COORD | R_AUD, 0, api__h_signatures,
     "signatures"},
    {"GET", "/api/v1/events", R_READ, F_QTOKEN, api__h_events, "events"},
    {"GET", "/api/v1/incidents", R_COORD | R_AUD, 0, api__h_incident_list, "incidents"},
    {"GET", "/api/v1/stats", R_COORD | R_AUD, 0, api__h_stats, "stats"},
    {"POST", "/api/v1/incidents", R_COORD, 0, api__h_incident_post, "incidents_create"},
    {"PATCH", "/api/v1/incidents/{id}", R_COORD, 0, api__h_incident_patch, "incident_patch"},
    {"GET", "/api/v1/tokens", R_ADMIN, 0, api__h_tokens_list, "tokens"},
    {"POST", "/api/v1/tokens", R_ADMIN, 0, api__h_tokens_create, "tokens_create"},
    {"DELETE", "/api/v1/tokens/{id}", R_ADMIN, 0, api__h_tokens_revoke, "tokens_revoke"},
};
const size_t api__n_routes = sizeof api__routes / sizeof api__routes[0];

int api__route_match(const char *pattern, const char *path, int64_t *id)
{
    const char *p = pattern, *s = path;
    while (*p) {
        if (strncmp(p, "{id}", 4) == 0) {
            char num[20];
            size_t n = 0;
            while (s[n] && s[n] != '/')
                n++;
            if (n == 0 || n >= sizeof num)
                return 0;
            memcpy(num, s, n);
            num[n] = '\0';
            if (num[0] == '0' || ot_parse_i64(num, 1, INT64_MAX, id))
                return 0;
            p += 4;
            s += n;
            continue;
        }
        if (*p != *s)
            return 0;
        p++;
        s++;
    }
    /* a single trailing slash is tolerated */
    return *s == '\0' || (s[0] == '/' && s[1] == '\0');
}

int api__route_find(const char *method, const char *path, int64_t *id, int *path_known)
{
    const char *m = strcmp(method, "HEAD") == 0 ? "GET" : method;
    *path_known = 0;
    for (size_t i = 0; i < api__n_routes; i++) {
        int64_t tmp = 0;
        if (!api__route_match(api__routes[i].pattern, path, &tmp))
            continue;
        if (strcmp(api__routes[i].method, m) == 0) {
            *id = tmp;
            return (int)i;
        }
        *path_known = 1;
    }
    return -1;
}
