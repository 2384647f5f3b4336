/* signer_cli.c - `organtrack-api signer set --name N --config FILE`: an
 * admin sets the signing PIN of one printed name (the token name a
 * coordinator or auditor signs with). The PIN is read from standard input
 * (one line, at least API_PIN_MIN characters), never from the command line
 * where `ps` and shell history would keep it; it is stored as scrypt
 * (signer.c) and the change is audited (without the PIN) in the same
 * transaction. Setting a PIN again replaces it and lifts a lock-out. */
#include "api.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ot_log.h"
#include "ot_time.h"

static void signer_usage(void)
{
    fprintf(stderr,
            "usage: organtrack-api signer set --name N --config FILE  (PIN on stdin,"
            " %d..%d characters)\n",
            API_PIN_MIN, API_PIN_MAX);
}

static enum ot_err cli_audit(struct api_db *d, const char *name)
{
    struct api_principal who;
    char target[96];
    memset(&who, 0, sizeof who);
    snprintf(who.name, sizeof who.name, "cli");
    who.role = API_ROLE_ADMIN;
    snprintf(target, sizeof target, "signer/%.80s", name);
    cJSON *detail = cJSON_CreateObject();
    if (detail)
        cJSON_AddStringToObject(detail, "name", name);
    enum ot_err rc = detail ? api__audit(d, &who, "signer.set", target, detail) : OT_ERR_NOMEM;
    cJSON_Delete(detail);
    return rc;
}

int api__signer_cli(int argc, char **argv)
{
    const char *name = NULL, *config = NULL;
    struct api_config cfg;
    struct api_db d;
    char err[1024], pin[API_PIN_MAX + 2];
    int exit_code = 1;
    memset(&d, 0, sizeof d);
    if (argc < 1 || strcmp(argv[0], "set") != 0) {
        signer_usage();
        return 2;
    }
    for (int i = 1; i < argc; i += 2) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "organtrack-api signer: %s needs a value\n", argv[i]);
            return 2;
        }
        if (strcmp(argv[i], "--name") == 0)
            name = v;
        else if (strcmp(argv[i], "--config") == 0)
            config = v;
        else {
            fprintf(stderr, "organtrack-api signer: unknown option %s\n", argv[i]);
            signer_usage();
            return 2;
        }
    }
    if (!config || !name) {
        signer_usage();
        return 2;
    }
    if (!*name || !api__text_valid(name, 64)) {
        fprintf(stderr, "organtrack-api signer set: --name must be 1..64 printable characters\n");
        return 2;
    }
    if (api__config_load(config, &cfg, err, sizeof err)) {
        fprintf(stderr, "organtrack-api: %s\n", err);
        return 2;
    }
    if (!fgets(pin, sizeof pin, stdin)) {
        fprintf(stderr, "organtrack-api signer set: no PIN on standard input\n");
        return 2;
    }
    pin[strcspn(pin, "\r\n")] = '\0';
    if (!api__pin_valid(pin)) {
        OPENSSL_cleanse(pin, sizeof pin);
        fprintf(stderr, "organtrack-api signer set: the PIN must be %d..%d characters\n",
                API_PIN_MIN, API_PIN_MAX);
        return 2;
    }
    if (api__db_open(cfg.database, &d) || api__db_begin(&d))
        goto out;
    if (api__signer_set(&d, name, pin, ot_time_now_ms()) || cli_audit(&d, name) ||
        api__db_commit(&d)) {
        ot_error("signer set failed name=%s", name);
        goto out;
    }
    printf("signing PIN set for name=%s (scrypt)\n", name);
    exit_code = 0;
out:
    OPENSSL_cleanse(pin, sizeof pin);
    if (d.sql)
        api__db_rollback(&d);
    api__db_close(&d);
    return exit_code;
}
