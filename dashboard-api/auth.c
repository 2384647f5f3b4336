/* auth.c - bearer tokens and roles.
 * A token is "ot_" + 64 hex chars (32 random bytes from the OS CSPRNG). Only
 * its SHA-256 is stored (tokens.token_hash, UNIQUE); a request's token is
 * hashed and looked up by that hash, so no comparison ever runs over the
 * secret itself and timing cannot reveal a prefix. Revoked tokens
 * (revoked_at set) never match. A crew token carries the list of containers
 * it may see (tokens.containers, JSON array). */
#include "api.h"

#include <stdio.h>
#include <string.h>

#include "ot_crypto.h"
#include "ot_log.h"
#include "ot_parse.h"
#include "ot_reading.h"
#include "ot_time.h"

#define TOKEN_PREFIX "ot_"

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

int api__authenticate(struct api_db *d, const char *authz, struct api_principal *p)
{
    char hash[OT_SHA256_HEX_LEN + 1];
    int rc = -1;
    memset(p, 0, sizeof p->token_id + sizeof p->name + sizeof p->role);
    if (!authz || strncmp(authz, "Bearer ", 7) != 0)
        return -1;
    const char *tok = authz + 7;
    while (*tok == ' ')
        tok++;
    size_t n = strlen(tok);
    if (n < 8 || n > 256)
        return -1;
    if (ot_sha256_hex(tok, n, hash))
        return -1;
    sqlite3_stmt *st = api__stmt(d, ST_TOKEN_BY_HASH);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        p->token_id = sqlite3_column_int64(st, 0);
        snprintf(p->name, sizeof p->name, "%s", (const char *)sqlite3_column_text(st, 1));
        p->role = api__role_parse((const char *)sqlite3_column_text(st, 2));
        if (p->role && parse_containers((const char *)sqlite3_column_text(st, 3), p) == 0)
            rc = 0;
    }
    sqlite3_reset(st);
    return rc;
}

enum ot_err api__token_create(struct api_db *d, enum api_role role, const char *name,
                              const char *const *containers, size_t n, char secret[68],
                              int64_t *id_out)
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
    sqlite3_stmt *st = api__stmt(d, ST_TOKEN_INSERT);
    if (!st) {
        rc = OT_ERR_DB;
        goto out;
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, api__role_name(role), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, arr_txt, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, ot_time_now_ms());
    if (sqlite3_step(st) != SQLITE_DONE) {
        ot_error("token insert failed error=\"%s\"", sqlite3_errmsg(d->db));
        rc = OT_ERR_DB;
    } else {
        *id_out = sqlite3_last_insert_rowid(d->db);
        ot_info("token created id=%lld role=%s name=%s", (long long)*id_out, api__role_name(role),
                name);
    }
    sqlite3_reset(st);
out:
    cJSON_free(arr_txt);
    cJSON_Delete(arr);
    return rc;
}

static cJSON *token_row(sqlite3_stmt *st)
{
    char iso[32];
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(st, 0));
    cJSON_AddStringToObject(o, "name", (const char *)sqlite3_column_text(st, 1));
    cJSON_AddStringToObject(o, "role", (const char *)sqlite3_column_text(st, 2));
    cJSON *c = cJSON_Parse((const char *)sqlite3_column_text(st, 3));
    cJSON_AddItemToObject(o, "containers", c ? c : cJSON_CreateArray());
    cJSON_AddStringToObject(o, "created_at",
                            ot_time_format_iso(sqlite3_column_int64(st, 4), iso, sizeof iso));
    if (sqlite3_column_type(st, 5) == SQLITE_NULL)
        cJSON_AddNullToObject(o, "revoked_at");
    else
        cJSON_AddStringToObject(o, "revoked_at",
                                ot_time_format_iso(sqlite3_column_int64(st, 5), iso, sizeof iso));
    return o;
}

cJSON *api__token_list(struct api_db *d)
{
    cJSON *arr = cJSON_CreateArray();
    sqlite3_stmt *st = api__stmt(d, ST_TOKEN_LIST);
    if (!arr || !st) {
        cJSON_Delete(arr);
        return NULL;
    }
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *o = token_row(st);
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            s = SQLITE_NOMEM;
            break;
        }
    }
    sqlite3_reset(st);
    if (s != SQLITE_DONE) {
        cJSON_Delete(arr);
        return NULL;
    }
    return arr;
}

enum ot_err api__token_revoke(struct api_db *d, int64_t id)
{
    sqlite3_stmt *st = api__stmt(d, ST_TOKEN_REVOKE);
    if (!st)
        return OT_ERR_DB;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, ot_time_now_ms());
    int s = sqlite3_step(st);
    sqlite3_reset(st);
    if (s != SQLITE_DONE)
        return OT_ERR_DB;
    if (sqlite3_changes(d->db) == 0)
        return OT_ERR_NOTFOUND;
    ot_info("token revoked id=%lld", (long long)id);
    return OT_OK;
}

/* ---- CLI: organtrack-api token create|list|revoke ... --config FILE ---- */

static void token_usage(void)
{
    fprintf(stderr,
            "usage: organtrack-api token create --role crew|coordinator|auditor|admin --name N"
            " [--container C]... --config FILE\n"
            "       organtrack-api token list --config FILE\n"
            "       organtrack-api token revoke --id N --config FILE\n");
}

/* Token changes from the command line are audited too; the actor is the
 * operator's shell ("cli", admin role), who holds the database file. */
static void cli_audit(struct api_db *d, const char *action, int64_t id, const char *role,
                      const char *name)
{
    struct api_principal who;
    char target[32];
    memset(&who, 0, sizeof who);
    snprintf(who.name, sizeof who.name, "cli");
    who.role = API_ROLE_ADMIN;
    snprintf(target, sizeof target, "token/%lld", (long long)id);
    cJSON *detail = cJSON_CreateObject();
    if (detail && role)
        cJSON_AddStringToObject(detail, "role", role);
    if (detail && name)
        cJSON_AddStringToObject(detail, "name", name);
    if (api__audit(d, &who, action, target, detail))
        ot_warn("token change not audited action=%s id=%lld", action, (long long)id);
    cJSON_Delete(detail);
}

int api__token_cli(int argc, char **argv)
{
    const char *sub = argc > 0 ? argv[0] : NULL;
    const char *role_s = NULL, *name = NULL, *config = NULL, *id_s = NULL;
    const char *containers[API_MAX_CONTAINERS];
    size_t n = 0;
    struct api_config cfg;
    struct api_db d;
    char err[1024];
    int exit_code = 2;
    memset(&d, 0, sizeof d);
    if (!sub) {
        token_usage();
        return 2;
    }
    for (int i = 1; i < argc; i += 2) { /* --option value pairs */
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "organtrack-api token: %s needs a value\n", a);
            return 2;
        }
        if (strcmp(a, "--role") == 0)
            role_s = v;
        else if (strcmp(a, "--name") == 0)
            name = v;
        else if (strcmp(a, "--config") == 0)
            config = v;
        else if (strcmp(a, "--id") == 0)
            id_s = v;
        else if (strcmp(a, "--container") == 0) {
            if (n >= API_MAX_CONTAINERS || !ot_id_valid(v)) {
                fprintf(stderr,
                        "organtrack-api token: --container %s: must match"
                        " [A-Za-z0-9_-]{1,64} (at most %d)\n",
                        v, API_MAX_CONTAINERS);
                return 2;
            }
            containers[n++] = v;
        } else {
            fprintf(stderr, "organtrack-api token: unknown option %s\n", a);
            token_usage();
            return 2;
        }
    }
    if (!config) {
        fprintf(stderr, "organtrack-api token: --config FILE is required\n");
        return 2;
    }
    if (api__config_load(config, &cfg, err, sizeof err)) {
        fprintf(stderr, "organtrack-api: %s\n", err);
        return 2;
    }
    if (strcmp(sub, "create") == 0) {
        enum api_role role = api__role_parse(role_s);
        char secret[68];
        int64_t id = 0;
        if (!role) {
            fprintf(stderr, "organtrack-api token create: --role must be crew, coordinator,"
                            " auditor or admin\n");
            return 2;
        }
        if (!name || !*name || strlen(name) > 64 || !api__text_valid(name, 64)) {
            fprintf(stderr, "organtrack-api token create: --name must be 1..64 printable"
                            " characters\n");
            return 2;
        }
        if (role == API_ROLE_CREW && n == 0) {
            fprintf(stderr, "organtrack-api token create: a crew token needs at least one"
                            " --container\n");
            return 2;
        }
        if (role != API_ROLE_CREW && n > 0) {
            fprintf(stderr, "organtrack-api token create: --container applies to crew tokens"
                            " only\n");
            return 2;
        }
        if (api__db_open(cfg.database, &d))
            goto out;
        if (api__token_create(&d, role, name, containers, n, secret, &id))
            goto out;
        cli_audit(&d, "token.create", id, api__role_name(role), name);
        printf("created token id=%lld role=%s name=%s (shown once; stored as SHA-256)\n",
               (long long)id, api__role_name(role), name);
        printf("%s\n", secret);
        exit_code = 0;
    } else if (strcmp(sub, "list") == 0) {
        if (api__db_open(cfg.database, &d))
            goto out;
        cJSON *arr = api__token_list(&d);
        char *txt = arr ? cJSON_Print(arr) : NULL;
        if (txt) {
            printf("%s\n", txt);
            exit_code = 0;
        }
        cJSON_free(txt);
        cJSON_Delete(arr);
    } else if (strcmp(sub, "revoke") == 0) {
        int64_t id;
        if (!id_s || ot_parse_i64(id_s, 1, INT64_MAX, &id)) {
            fprintf(stderr, "organtrack-api token revoke: --id N is required\n");
            return 2;
        }
        if (api__db_open(cfg.database, &d))
            goto out;
        enum ot_err rc = api__token_revoke(&d, id);
        if (rc == OT_ERR_NOTFOUND)
            fprintf(stderr, "organtrack-api token revoke: no live token with id %lld\n",
                    (long long)id);
        else if (rc == OT_OK) {
            cli_audit(&d, "token.revoke", id, NULL, NULL);
            printf("revoked token id=%lld\n", (long long)id);
            exit_code = 0;
        }
        if (rc)
            exit_code = 1;
    } else {
        token_usage();
    }
out:
    if (exit_code == 2 && d.db)
        exit_code = 1;
    api__db_close(&d);
    return exit_code;
}
