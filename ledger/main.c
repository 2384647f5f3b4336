/* organtrack-ledger - offline tool for auditors (SPEC "Custody ledger"):
 *   organtrack-ledger verify [--pubkey HEX] BUNDLE_OR_DATABASE
 *   organtrack-ledger pubkey --config FILE
 *   organtrack-ledger export --config FILE --shipment ID --format bundle|epcis|csv [--out FILE]
 * verify needs no server and no configuration: it tells a JSON bundle from
 * an SQLite database by the file's first bytes, recomputes every hash,
 * Merkle root and the head signature, and prints
 *   OK shipments=N entries=N readings=N            (exit 0)
 *   FAIL shipment=S entry=I: <why>                 (exit 1, first bad entry)
 * Exit 2 on usage, configuration or I/O errors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ot_conf.h"
#include "ot_crypto.h"
#include "ot_db.h"
#include "ot_ledger.h"
#include "ot_log.h"
#include "ot_parse.h"

#define BUNDLE_MAX ((size_t)256 * 1024 * 1024)

static void usage(FILE *f)
{
    fprintf(f, "usage: organtrack-ledger verify [--pubkey HEX] BUNDLE_OR_DATABASE\n"
               "       organtrack-ledger pubkey --config FILE\n"
               "       organtrack-ledger export --config FILE --shipment ID"
               " --format bundle|epcis|csv [--out FILE]\n"
               "       organtrack-ledger --help | --version\n"
               "\n"
               "verify   checks a custody trail offline: a bundle exported by the API\n"
               "         (GET /api/v1/shipments/{id}/export?format=bundle) or the SQLite\n"
               "         database itself (every shipment). Prints OK with counts (exit 0)\n"
               "         or names the first bad entry (exit 1). --pubkey pins the Ed25519\n"
               "         key the head must be signed with (64 hex chars, from `pubkey`).\n"
               "pubkey   prints the server's ledger public key (config keys ledger_key,\n"
               "         default var/ledger.key; the key is created if absent).\n"
               "export   writes one shipment's trail from the database in the config.\n");
}

static int is_sqlite(const char *path, int *yes)
{
    char head[16];
    FILE *f = fopen(path, "rb");
    size_t n;
    if (!f) {
        fprintf(stderr, "organtrack-ledger: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    n = fread(head, 1, sizeof head, f);
    fclose(f);
    *yes = n == sizeof head && memcmp(head, "SQLite format 3", 16) == 0;
    return 0;
}

static int print_report(const struct ot_ledger_report *rep)
{
    if (rep->ok) {
        printf("OK shipments=%lld entries=%lld readings=%lld\n", (long long)rep->shipments,
               (long long)rep->entries, (long long)rep->readings);
        return 0;
    }
    if (rep->bad_shipment >= 0 && rep->bad_index >= 0)
        printf("FAIL shipment=%lld entry=%lld: %s\n", (long long)rep->bad_shipment,
               (long long)rep->bad_index, rep->why);
    else if (rep->bad_shipment >= 0)
        printf("FAIL shipment=%lld: %s\n", (long long)rep->bad_shipment, rep->why);
    else
        printf("FAIL: %s\n", rep->why);
    return 1;
}

static int cmd_verify(int argc, char **argv)
{
    const char *path = NULL, *pin = NULL;
    struct ot_ledger_report rep;
    enum ot_err rc;
    int sqlite = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--pubkey") == 0 && i + 1 < argc) {
            uint8_t tmp[32];
            pin = argv[++i];
            if (strlen(pin) != 64 || ot_hex_decode(pin, tmp, 32)) {
                fprintf(stderr, "organtrack-ledger: --pubkey: expected 64 hex characters\n");
                return 2;
            }
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "organtrack-ledger: verify: unknown option %s\n", argv[i]);
            return 2;
        } else if (!path) {
            path = argv[i];
        } else {
            fprintf(stderr, "organtrack-ledger: verify takes one file\n");
            return 2;
        }
    }
    if (!path) {
        usage(stderr);
        return 2;
    }
    if (is_sqlite(path, &sqlite))
        return 2;
    if (sqlite) {
        struct ot_sql *sql = NULL;
        if (ot_db_open_readonly(path, &sql)) {
            fprintf(stderr, "organtrack-ledger: cannot open database %s\n", path);
            return 2;
        }
        rc = ot_ledger_verify_db_key(sql, pin, &rep);
        ot_sql_close(sql);
    } else {
        char *buf = NULL;
        size_t len = 0;
        rc = ot_file_read(path, BUNDLE_MAX, &buf, &len);
        if (rc) {
            fprintf(stderr, "organtrack-ledger: cannot read %s: %s\n", path, ot_strerror(rc));
            return 2;
        }
        rc = ot_ledger_verify_bundle_key(buf, len, pin, &rep);
        free(buf);
    }
    if (rc && rep.ok) {
        fprintf(stderr, "organtrack-ledger: verification could not run: %s\n", ot_strerror(rc));
        return 2;
    }
    return print_report(&rep);
}

struct tool_conf {
    struct ot_conf c;
    const char *database, *key;
};

static int load_conf(const char *file, struct tool_conf *tc)
{
    memset(tc, 0, sizeof *tc);
    if (!file) {
        fprintf(stderr, "organtrack-ledger: --config FILE is required\n");
        return 2;
    }
    if (ot_conf_load(&tc->c, file) ||
        ot_conf_str(&tc->c, tc->c.root, "", "database", "var/organtrack.db", &tc->database) ||
        ot_conf_str(&tc->c, tc->c.root, "", "ledger_key", "var/ledger.key", &tc->key)) {
        fprintf(stderr, "organtrack-ledger: %s\n", tc->c.err);
        ot_conf_free(&tc->c);
        return 2;
    }
    return 0;
}

static int cmd_pubkey(int argc, char **argv)
{
    const char *config = NULL;
    struct tool_conf tc;
    struct ot_ledger_key *k = NULL;
    char hex[65];
    int rc;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            config = argv[++i];
        } else {
            fprintf(stderr, "organtrack-ledger: pubkey: unexpected argument %s\n", argv[i]);
            return 2;
        }
    }
    if ((rc = load_conf(config, &tc)))
        return rc;
    if (ot_ledger_key_load(tc.key, &k)) {
        fprintf(stderr, "organtrack-ledger: cannot load ledger key %s\n", tc.key);
        ot_conf_free(&tc.c);
        return 2;
    }
    ot_ledger_key_public_hex(k, hex);
    printf("%s\n", hex);
    ot_ledger_key_free(k);
    ot_conf_free(&tc.c);
    return 0;
}

static int cmd_export(int argc, char **argv)
{
    const char *config = NULL, *format = NULL, *ship = NULL, *outpath = NULL;
    struct tool_conf tc;
    struct ot_sql *sql = NULL;
    int64_t id = 0;
    char *out = NULL;
    size_t len = 0;
    enum ot_err rc;
    int ret = 2;
    for (int i = 0; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--config") == 0)
            config = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--format") == 0)
            format = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--shipment") == 0)
            ship = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--out") == 0)
            outpath = argv[++i];
        else {
            fprintf(stderr, "organtrack-ledger: export: unexpected argument %s\n", argv[i]);
            return 2;
        }
    }
    if (!ship || ot_parse_i64(ship, 1, INT64_MAX, &id)) {
        fprintf(stderr,
                "organtrack-ledger: export: --shipment ID (a positive integer) is required\n");
        return 2;
    }
    if (!format)
        format = "bundle";
    if (strcmp(format, "bundle") && strcmp(format, "epcis") && strcmp(format, "csv")) {
        fprintf(stderr, "organtrack-ledger: export: --format must be bundle, epcis or csv\n");
        return 2;
    }
    if (load_conf(config, &tc))
        return 2;
    if (ot_db_open_readonly(tc.database, &sql)) {
        fprintf(stderr, "organtrack-ledger: cannot open database %s\n", tc.database);
        goto out;
    }
    if (!strcmp(format, "bundle"))
        rc = ot_ledger_export_bundle(sql, id, &out, &len);
    else if (!strcmp(format, "epcis"))
        rc = ot_ledger_export_epcis(sql, id, &out, &len);
    else
        rc = ot_ledger_export_csv(sql, id, &out, &len);
    if (rc) {
        fprintf(stderr, "organtrack-ledger: export of shipment %lld failed: %s\n", (long long)id,
                ot_strerror(rc));
        goto out;
    }
    {
        FILE *f = outpath ? fopen(outpath, "wb") : stdout;
        if (!f) {
            fprintf(stderr, "organtrack-ledger: cannot write %s: %s\n", outpath, strerror(errno));
            goto out;
        }
        int bad = fwrite(out, 1, len, f) != len;
        if (strcmp(format, "csv"))
            bad |= fputc('\n', f) == EOF;
        bad |= fflush(f) != 0;
        if (outpath)
            bad |= fclose(f) != 0;
        if (bad) {
            fprintf(stderr, "organtrack-ledger: write failed\n");
            goto out;
        }
    }
    ret = 0;
out:
    free(out);
    ot_sql_close(sql);
    ot_conf_free(&tc.c);
    return ret;
}

int main(int argc, char **argv)
{
    ot_log_init("ledger", OT_LOG_WARN);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("organtrack-ledger %s\n", OT_VERSION);
        return 0;
    }
    if (!strcmp(argv[1], "verify"))
        return cmd_verify(argc - 2, argv + 2);
    if (!strcmp(argv[1], "pubkey"))
        return cmd_pubkey(argc - 2, argv + 2);
    if (!strcmp(argv[1], "export"))
        return cmd_export(argc - 2, argv + 2);
    fprintf(stderr, "organtrack-ledger: unknown command %s (try --help)\n", argv[1]);
    return 2;
}
