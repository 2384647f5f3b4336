/* token_cli.c - `organtrack-api token create|list|revoke ... --config FILE`:
 * token administration from the operator's shell, on its own connection to
 * the database (either backend), through the storage functions of
 * tokens.c. A change and its audit row commit together. */
#include "api.h"

#include <stdio.h>
#include <string.h>

#include "ot_log.h"
#include "ot_parse.h"
#include "ot_reading.h"
#include "ot_time.h"

static void token_usage(void)
{
    fprintf(stderr,
            "usage: organtrack-api token create --role crew|coordinator|auditor|admin --name N"
            " [--container C]... [--expires 12h] --config FILE\n"
            "       organtrack-api token list --config FILE\n"
            "       organtrack-api token revoke --id N --config FILE\n");
}

/* Token changes from the command line are audited too; the actor is the
 * operator's shell ("cli", admin role), who holds the database file. */
static enum ot_err cli_audit(struct api_db *d, const char *action, int64_t id, const char *role,
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
    enum ot_err rc = detail ? api__audit(d, &who, action, target, detail) : OT_ERR_NOMEM;
    if (rc)
        ot_error("token change not audited, rolled back action=%s id=%lld", action, (long long)id);
    cJSON_Delete(detail);
    return rc;
}

int api__token_cli(int argc, char **argv)
{
    const char *sub = argc > 0 ? argv[0] : NULL;
    const char *role_s = NULL, *name = NULL, *config = NULL, *id_s = NULL, *expires_s = NULL;
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
        else if (strcmp(a, "--expires") == 0)
            expires_s = v;
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
        int64_t expires_ms = expires_s ? api__duration_parse(expires_s) : 0;
        if (expires_ms < 0) {
            fprintf(stderr, "organtrack-api token create: --expires must be a duration such as"
                            " 90s, 30m, 12h or 7d (at most 366d)\n");
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
        exit_code = 1; /* from here on a failure is the database's */
        if (api__db_open(cfg.database, &d) || api__db_begin(&d))
            goto out;
        int64_t expires_at = expires_ms ? ot_time_now_ms() + expires_ms : 0;
        if (api__token_create(&d, role, name, containers, n, expires_at, secret, &id) ||
            cli_audit(&d, "token.create", id, api__role_name(role), name) || api__db_commit(&d))
            goto out;
        printf("created token id=%lld role=%s name=%s (shown once; stored as SHA-256)\n",
               (long long)id, api__role_name(role), name);
        printf("%s\n", secret);
        exit_code = 0;
    } else if (strcmp(sub, "list") == 0) {
        exit_code = 1; /* from here on a failure is the database's */
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
        exit_code = 1; /* from here on a failure is the database's */
        if (api__db_open(cfg.database, &d) || api__db_begin(&d))
            goto out;
        enum ot_err rc = api__token_revoke(&d, id);
        if (rc == OT_ERR_NOTFOUND)
            fprintf(stderr, "organtrack-api token revoke: no live token with id %lld\n",
                    (long long)id);
        if (!rc)
            rc = cli_audit(&d, "token.revoke", id, NULL, NULL);
        if (!rc)
            rc = api__db_commit(&d);
        if (!rc) {
            printf("revoked token id=%lld\n", (long long)id);
            exit_code = 0;
        }
    } else {
        token_usage();
    }
out:
    if (d.sql)
        api__db_rollback(&d); /* after a failure: nothing half-done stays */
    api__db_close(&d);
    return exit_code;
}
