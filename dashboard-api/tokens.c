/* tokens.c - token administration: creating (the secret is shown once,
 * only its SHA-256 is stored), listing and revoking bearer tokens, and the
 * admin endpoints GET/POST /api/v1/tokens and DELETE /api/v1/tokens/{id}.
 * Every change is audited. The command line (token_cli.c) uses the same
 * storage functions. */
#include "api.h"

#include <stdio.h>
#include <string.h>

#include "ot_crypto.h"
#include "ot_log.h"
#include "ot_parse.h"
#include "ot_reading.h"
#include "ot_time.h"

#define TOKEN_PREFIX "ot_"

enum ot_err api__token_create(struct api_db *d, enum api_role role, const char *name,
                              const char *const *containers, size_t n, int64_t expires_at,
                              char secret[68], int64_t *id_out)
{
    char rnd[65], hash[OT_SHA256_HEX_LEN + 1];
    enum ot_err rc;
    char *arr_txt = NULL;
    cJSON *arr = cJSON_CreateArray();
    if (!arr)
        return OT_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        cJSON *s = cJSON_CreateString(containers[i]);
        if (!s || !cJSON_AddItemToArray(arr, s)) {
            cJSON_Delete(s);
            rc = OT_ERR_NOMEM;
            goto out;
        }
    }
    arr_txt = cJSON_PrintUnformatted(arr);
    if (!arr_txt) {
        rc = OT_ERR_NOMEM;
        goto out;
    }
    rc = ot_random_hex(32, rnd);
    if (rc)
        goto out;
    snprintf(secret, 68, TOKEN_PREFIX "%s", rnd);
    rc = ot_sha256_hex(secret, strlen(secret), hash);
    if (rc)
        goto out;
    struct ot_sql_stmt *st = api__stmt(d, ST_TOKEN_INSERT);
    if (!st) {
        rc = OT_ERR_DB;
        goto out;
    }
    int row = 0;
    if ((rc = ot_sql_bind_text(st, 1, name, -1)) ||
        (rc = ot_sql_bind_text(st, 2, api__role_name(role), -1)) ||
        (rc = ot_sql_bind_text(st, 3, hash, -1)) || (rc = ot_sql_bind_text(st, 4, arr_txt, -1)) ||
        (rc = ot_sql_bind_int64(st, 5, ot_time_now_ms())) ||
        (rc = expires_at ? ot_sql_bind_int64(st, 6, expires_at) : ot_sql_bind_null(st, 6)) ||
        (rc = ot_sql_step(st, &row))) /* RETURNING id */
        ot_error("token insert failed database=%s error=\"%s\"", ot_sql_name(d->sql),
                 ot_sql_errmsg(d->sql));
    else if (!row)
        rc = OT_ERR_DB;
    else {
        *id_out = ot_sql_int64(st, 0);
        ot_info("token created id=%lld role=%s name=%s", (long long)*id_out, api__role_name(role),
                name);
    }
    ot_sql_reset(st);
out:
    cJSON_free(arr_txt);
    cJSON_Delete(arr);
    return rc;
}

static cJSON *token_row(const struct ot_sql_stmt *st)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddNumberToObject(o, "id", (double)ot_sql_int64(st, 0));
    api__add_text(o, "name", st, 1);
    api__add_text(o, "role", st, 2);
    const char *cont = ot_sql_text(st, 3);
    cJSON *c = cont ? cJSON_Parse(cont) : NULL;
    cJSON_AddItemToObject(o, "containers", c ? c : cJSON_CreateArray());
    api__add_iso(o, "created_at", st, 4);
    api__add_iso(o, "revoked_at", st, 5);
    api__add_iso(o, "expires_at", st, 6);
    return o;
}

int64_t api__duration_parse(const char *s)
{
    int64_t n;
    char num[24];
    size_t len = s ? strlen(s) : 0;
    if (len < 2 || len > sizeof num)
        return -1;
    memcpy(num, s, len - 1);
    num[len - 1] = '\0';
    int64_t unit = s[len - 1] == 's'   ? 1000
                   : s[len - 1] == 'm' ? 60000
                   : s[len - 1] == 'h' ? 3600000
                   : s[len - 1] == 'd' ? 86400000
                                       : 0;
    if (!unit || ot_parse_i64(num, 1, INT64_C(366) * 86400000 / unit, &n))
        return -1;
    return n * unit;
}

int api__token_live(struct api_db *d, int64_t id, int64_t now_ms)
{
    struct ot_sql_stmt *st = api__stmt(d, ST_TOKEN_LIVE);
    int row = 0;
    if (!st || ot_sql_bind_int64(st, 1, id) || ot_sql_bind_int64(st, 2, now_ms) ||
        ot_sql_step(st, &row)) {
        if (st)
            ot_sql_reset(st);
        return -1;
    }
    ot_sql_reset(st);
    return row ? 1 : 0;
}

cJSON *api__token_list(struct api_db *d)
{
    cJSON *arr = cJSON_CreateArray();
    struct ot_sql_stmt *st = api__stmt(d, ST_TOKEN_LIST);
    int row = 0;
    enum ot_err rc = OT_ERR_DB;
    if (!arr || !st)
        goto fail;
    while (!(rc = ot_sql_step(st, &row)) && row) {
        cJSON *o = token_row(st);
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            rc = OT_ERR_NOMEM;
            break;
        }
    }
    ot_sql_reset(st);
    if (rc)
        goto fail;
    return arr;
fail:
    cJSON_Delete(arr);
    return NULL;
}

enum ot_err api__token_revoke(struct api_db *d, int64_t id)
{
    int row = 0;
    struct ot_sql_stmt *st = api__stmt(d, ST_TOKEN_REVOKE);
    if (!st)
        return OT_ERR_DB;
    enum ot_err rc = ot_sql_bind_int64(st, 1, id);
    if (!rc)
        rc = ot_sql_bind_int64(st, 2, ot_time_now_ms());
    if (!rc)
        rc = ot_sql_step(st, &row);
    int64_t changed = ot_sql_changes(st);
    ot_sql_reset(st);
    if (rc)
        return rc;
    if (changed == 0)
        return OT_ERR_NOTFOUND;
    ot_info("token revoked id=%lld", (long long)id);
    return OT_OK;
}

void api__h_tokens_list(struct api_req *r)
{
    cJSON *arr = api__token_list(api__req_db(r));
    cJSON *o = arr ? api__page(arr, NULL) : NULL;
    if (!o) {
        api__reply_error(r, 500, "internal", "cannot list tokens");
        return;
    }
    api__reply_json(r, 200, o);
}

void api__h_tokens_create(struct api_req *r)
{
    const char *containers[API_MAX_CONTAINERS];
    size_t n = 0;
    char secret[68], target[32];
    int64_t id = 0;
    cJSON *body = api__body_json(r);
    if (!body)
        return;
    const cJSON *it;
    if (api__body_check(r, body,
                        (const char *const[]){"role", "name", "containers", "expires", NULL}))
        goto out;
    const cJSON *exp_j = cJSON_GetObjectItemCaseSensitive(body, "expires");
    int64_t expires_at = 0;
    if (exp_j && !cJSON_IsNull(exp_j)) {
        int64_t ms = cJSON_IsString(exp_j) ? api__duration_parse(exp_j->valuestring) : -1;
        if (ms < 0) {
            api__reply_error(r, 400, "invalid_field",
                             "expires: expected a duration such as \"90s\", \"30m\", \"12h\" "
                             "or \"7d\" (at most 366d)");
            goto out;
        }
        expires_at = ot_time_now_ms() + ms;
    }
    const cJSON *role_j = cJSON_GetObjectItemCaseSensitive(body, "role");
    const cJSON *name_j = cJSON_GetObjectItemCaseSensitive(body, "name");
    const cJSON *cont_j = cJSON_GetObjectItemCaseSensitive(body, "containers");
    enum api_role role = cJSON_IsString(role_j) ? api__role_parse(role_j->valuestring) : 0;
    if (!role) {
        api__reply_error(r, 400, "invalid_field",
                         "role: expected crew, coordinator, auditor or admin");
        goto out;
    }
    if (!cJSON_IsString(name_j) || !name_j->valuestring[0] ||
        !api__text_valid(name_j->valuestring, 64)) {
        api__reply_error(r, 400, "invalid_field", "name: expected 1..64 printable characters");
        goto out;
    }
    if (cont_j && !cJSON_IsNull(cont_j)) {
        if (!cJSON_IsArray(cont_j)) {
            api__reply_error(r, 400, "invalid_field", "containers: expected an array of ids");
            goto out;
        }
        cJSON_ArrayForEach(it, cont_j)
        {
            if (!cJSON_IsString(it) || !ot_id_valid(it->valuestring) || n >= API_MAX_CONTAINERS) {
                api__reply_error(r, 400, "invalid_field",
                                 "containers[%zu]: expected an id matching [A-Za-z0-9_-]{1,64} "
                                 "(at most %d)",
                                 n, API_MAX_CONTAINERS);
                goto out;
            }
            containers[n++] = it->valuestring;
        }
    }
    if (role == API_ROLE_CREW && n == 0) {
        api__reply_error(r, 400, "invalid_field", "containers: a crew token needs at least one");
        goto out;
    }
    if (role != API_ROLE_CREW && n > 0) {
        api__reply_error(r, 400, "invalid_field", "containers: only crew tokens are scoped");
        goto out;
    }
    struct api_db *d = api__req_db(r);
    if (api__req_begin(r))
        goto out;
    int ok = api__token_create(d, role, name_j->valuestring, containers, n, expires_at, secret,
                               &id) == OT_OK;
    cJSON *au = cJSON_CreateObject();
    if (ok && au) {
        snprintf(target, sizeof target, "token/%lld", (long long)id);
        cJSON_AddStringToObject(au, "role", api__role_name(role));
        cJSON_AddStringToObject(au, "name", name_j->valuestring);
        ok = api__audit(d, &r->who, "token.create", target, au) == OT_OK;
    }
    cJSON_Delete(au);
    if (!ok) {
        api__req_rollback(r);
        api__reply_error(r, 500, "internal", "could not create the token");
        goto out;
    }
    if (api__req_commit(r))
        goto out;
    cJSON *o = cJSON_CreateObject();
    if (!o) {
        api__reply_error(r, 500, "internal", "out of memory");
        goto out;
    }
    cJSON_AddNumberToObject(o, "id", (double)id);
    cJSON_AddStringToObject(o, "name", name_j->valuestring);
    cJSON_AddStringToObject(o, "role", api__role_name(role));
    cJSON *arr = cJSON_AddArrayToObject(o, "containers");
    for (size_t i = 0; arr && i < n; i++)
        cJSON_AddItemToArray(arr, cJSON_CreateString(containers[i]));
    if (expires_at) {
        char iso[32];
        cJSON_AddStringToObject(o, "expires_at", ot_time_format_iso(expires_at, iso, sizeof iso));
    } else {
        cJSON_AddNullToObject(o, "expires_at");
    }
    cJSON_AddStringToObject(o, "token", secret);
    api__reply_json(r, 201, o);
out:
    cJSON_Delete(body);
}

void api__h_tokens_revoke(struct api_req *r)
{
    char target[32];
    struct api_db *d = api__req_db(r);
    if (api__req_begin(r))
        return;
    enum ot_err rc = api__token_revoke(d, r->path_id);
    if (rc == OT_ERR_NOTFOUND) {
        api__req_rollback(r);
        api__reply_error(r, 404, "not_found", "token %lld: no such live token",
                         (long long)r->path_id);
        return;
    }
    snprintf(target, sizeof target, "token/%lld", (long long)r->path_id);
    if (rc || api__audit(d, &r->who, "token.revoke", target, NULL)) {
        api__req_rollback(r);
        api__reply_error(r, 500, "internal", "could not revoke the token");
        return;
    }
    if (api__req_commit(r))
        return;
    cJSON *o = cJSON_CreateObject();
    if (o) {
        cJSON_AddNumberToObject(o, "id", (double)r->path_id);
        cJSON_AddBoolToObject(o, "revoked", 1);
    }
    api__reply_json(r, 200, o);
}
