/* auth.c - roles and authentication: a request's bearer token is hashed
 * and looked up (api__authenticate), the role and a crew token's
 * containers become the request's principal, and GET /api/v1/me reports
 * it. Tokens are created, listed and revoked in tokens.c.
 * A token is "ot_" + 64 hex chars (32 random bytes from the OS CSPRNG). Only
 * its SHA-256 is stored (tokens.token_hash, UNIQUE); a request's token is
 * hashed and looked up by that hash, so no comparison ever runs over the
 * secret itself and timing cannot reveal a prefix. Revoked tokens
 * (revoked_at set) never match. A crew token carries the list of containers
 * it may see (tokens.containers, JSON array). */
#include "api.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ot_crypto.h"
#include "ot_reading.h"
#include "ot_time.h"

const char *api__role_name(enum api_role r)
{
    switch (r) {
    case API_ROLE_CREW:
        return "crew";
    case API_ROLE_COORDINATOR:
        return "coordinator";
    case API_ROLE_AUDITOR:
        return "auditor";
    case API_ROLE_ADMIN:
        return "admin";
    }
    return "none";
}

enum api_role api__role_parse(const char *s)
{
    static const enum api_role all[] = {API_ROLE_CREW, API_ROLE_COORDINATOR, API_ROLE_AUDITOR,
                                        API_ROLE_ADMIN};
    for (size_t i = 0; s && i < 4; i++)
        if (strcmp(s, api__role_name(all[i])) == 0)
            return all[i];
    return (enum api_role)0;
}

int api__may_container(const struct api_principal *p, const char *c)
{
    if (p->role != API_ROLE_CREW)
        return 1;
    for (size_t i = 0; i < p->n_containers; i++)
        if (strcmp(p->containers[i], c) == 0)
            return 1;
    return 0;
}

static int parse_containers(const char *json, struct api_principal *p)
{
    cJSON *arr = cJSON_Parse(json ? json : "[]");
    const cJSON *it;
    int rc = -1;
    p->n_containers = 0;
    if (!cJSON_IsArray(arr))
        goto out;
    cJSON_ArrayForEach(it, arr)
    {
        if (!cJSON_IsString(it) || !ot_id_valid(it->valuestring) ||
            p->n_containers >= API_MAX_CONTAINERS)
            goto out;
        snprintf(p->containers[p->n_containers++], sizeof p->containers[0], "%s", it->valuestring);
    }
    snprintf(p->containers_json, sizeof p->containers_json, "%s", json ? json : "[]");
    rc = 0;
out:
    cJSON_Delete(arr);
    return rc;
}

int api__authenticate(struct api_db *d, const char *authz, struct api_principal *p, int64_t *stamp)
{
    char hash[OT_SHA256_HEX_LEN + 1];
    int rc = 1, row = 0;
    /* the identity fields; the container arrays are filled as parsed */
    p->token_id = 0;
    p->expires_at = 0;
    p->name[0] = '\0';
    p->role = 0;
    p->n_containers = 0;
    /* the scheme is case-insensitive (RFC 7235 section 2.1, RFC 6750) */
    if (!authz || strncasecmp(authz, "Bearer ", 7) != 0)
        return 1;
    const char *tok = authz + 7;
    while (*tok == ' ')
        tok++;
    size_t n = strlen(tok);
    if (n < 8 || n > 256)
        return 1;
    if (ot_sha256_hex(tok, n, hash))
        return -1;
    struct ot_sql_stmt *st = api__stmt(d, stamp ? ST_TOKEN_BY_HASH_STAMP : ST_TOKEN_BY_HASH);
    if (!st || ot_sql_bind_text(st, 1, hash, -1) || ot_sql_step(st, &row)) {
        if (st)
            ot_sql_reset(st);
        return -1;
    }
    if (row) {
        const char *name = ot_sql_text(st, 1);
        p->token_id = ot_sql_int64(st, 0);
        snprintf(p->name, sizeof p->name, "%s", name ? name : "");
        p->role = api__role_parse(ot_sql_text(st, 2));
        if (p->role && parse_containers(ot_sql_text(st, 3), p) == 0)
            rc = 0;
        p->expires_at = ot_sql_is_null(st, 4) ? 0 : ot_sql_int64(st, 4);
        if (rc == 0 && p->expires_at && p->expires_at <= ot_time_now_ms())
            rc = API_AUTH_EXPIRED;
        if (stamp)
            *stamp = ot_sql_int64(st, 5);
    }
    ot_sql_reset(st);
    return rc;
}

void api__h_me(struct api_req *r)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) {
        api__reply_error(r, 500, "internal", "out of memory");
        return;
    }
    cJSON_AddNumberToObject(o, "token_id", (double)r->who.token_id);
    cJSON_AddStringToObject(o, "name", r->who.name);
    cJSON_AddStringToObject(o, "role", api__role_name(r->who.role));
    cJSON *arr = cJSON_AddArrayToObject(o, "containers");
    for (size_t i = 0; arr && i < r->who.n_containers; i++)
        cJSON_AddItemToArray(arr, cJSON_CreateString(r->who.containers[i]));
    api__reply_json(r, 200, o);
}
