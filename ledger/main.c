/* organtrack-ledger - offline tool for auditors (SPEC "Custody ledger"):
 *   organtrack-ledger verify [--pubkey HEX] BUNDLE_OR_DATABASE
 *   organtrack-ledger pubkey --config FILE
 *   organtrack-ledger export (--config FILE | --database DB) --shipment ID
 *                            --format bundle|epcis|csv [--out FILE]
 * verify needs no server and no configuration: it takes a JSON bundle, a
 * SQLite database (told by the file's first bytes) or a postgresql:// URI,
 * recomputes every hash, Merkle root and the head signature, and prints
 *   OK shipments=N entries=N readings=N            (exit 0)
 *   FAIL shipment=S entry=I: <why>                 (exit 1, first bad entry)
 * Exit 2 on usage, configuration or I/O errors. A database is read in a
 * read-only session (SQLite opened read-only, PostgreSQL with
 * default_transaction_read_only) and in one snapshot, so appends committed
 * meanwhile by a running API do not disturb the check. The tool links the
 * ledger's read side only (common/CMakeLists.txt). */
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
#include "ot_sql.h"
#include "ot_time.h"

#define BUNDLE_MAX ((size_t)256 * 1024 * 1024)

static void usage(FILE *f)
{
    fprintf(f, "usage: organtrack-ledger verify [--pubkey HEX] BUNDLE_OR_DATABASE\n"
               "       organtrack-ledger pubkey --config FILE\n"
               "       organtrack-ledger export (--config FILE | --database DB) --shipment ID"
               " --format bundle|epcis|csv [--out FILE]\n"
               "       organtrack-ledger --help | --version\n"
               "\n"
               "verify   checks a custody trail offline: a bundle exported by the API\n"
               "         (GET /api/v1/shipments/{id}/export?format=bundle) or the database\n"
               "         itself, every shipment: a SQLite file or a postgresql:// URI (read\n"
               "         only). Prints OK with counts (exit 0) or names the first bad entry\n"
               "         (exit 1). --pubkey pins the Ed25519 key the head must be signed\n"
               "         with (64 hex chars, from `pubkey`).\n"
               "pubkey   prints the server's ledger public key (config keys ledger_key,\n"
               "         default var/ledger.key; the key is created if absent).\n"
               "export   writes one shipment's trail from the database in the config, or\n"
               "         from --database (a SQLite path or a postgresql:// URI).\n"
               "A URI's password is better kept out of the command line: libpq reads\n"
               "PGPASSWORD and ~/.pgpass (PGPASSFILE).\n");
}

/* The database named for a message: a URI without user, password and
 * parameters (a message must not carry the password). */
static const char *shown(const char *database, char *buf, size_t cap)
{
    const char *p = strstr(database, "://");
    if (!ot_sql_is_uri(database) || !p)
        return database;
    const char *host = p + 3, *at = strchr(host, '@'), *slash = strchr(host, '/');
    if (at && (!slash || at < slash))
        host = at + 1;
    snprintf(buf, cap, "%.*s%.*s", (int)(p + 3 - database), database, (int)strcspn(host, "?"),
             host);
    return buf;
}

/* What verify was given: 1 a database (SQLite file or URI), 0 a bundle
 * file, -1 unreadable. */
static int is_database(const char *path)
{
    char head[16];
    FILE *f;
    size_t n;
    if (ot_sql_is_uri(path))
        return 1;
    f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "organtrack-ledger: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    n = fread(head, 1, sizeof head, f);
    fclose(f);
    return n == sizeof head && memcmp(head, "SQLite format 3", 16) == 0;
}

/* Opens the database read-only and starts one read-only snapshot: every
 * query of a verify or an export sees the same trail. */
static int open_snapshot(const char *database, struct ot_sql **out)
{
    char buf[512];
    int version = 0;
    *out = NULL;
    if (ot_db_open_readonly(database, out)) {
        fprintf(stderr, "organtrack-ledger: cannot open database %s\n",
                shown(database, buf, sizeof buf));
        return -1;
    }
    if (ot_db_version(*out, &version) || version == 0) {
        fprintf(stderr, "organtrack-ledger: %s is not an organtrack database (no schema)\n",
                ot_sql_name(*out));
        ot_sql_close(*out);
        *out = NULL;
        return -1;
    }
    if (version < ot_db_schema_version()) {
        /* the ledger reads custody.meaning (migration 0005, signatures);
         * a read-only check migrates nothing */
        fprintf(stderr,
                "organtrack-ledger: %s has schema version %d, this tool reads %d: let"
                " organtrack-api or organtrack-collector open it once (they migrate), or"
                " verify an exported bundle\n",
                ot_sql_name(*out), version, ot_db_schema_version());
        ot_sql_close(*out);
        *out = NULL;
        return -1;
    }
    if (ot_sql_exec(*out, ot_sql_kind(*out) == OT_SQL_POSTGRES
                              ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
                              : "BEGIN")) {
        fprintf(stderr, "organtrack-ledger: cannot read database %s\n", ot_sql_name(*out));
        ot_sql_close(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

/* Ends the snapshot (nothing was written) and closes. */
static void close_snapshot(struct ot_sql *sql)
{
    if (sql)
        ot_sql_rollback(sql);
    ot_sql_close(sql);
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

/* After a successful verify: one line per electronic signature (a `signed`
 * entry, SPEC v1.1), who, when and what it means; the entry's hash covers
 * every field printed. */
static void print_signature(int64_t shipment, int64_t idx, int64_t ts, const char *name,
                            const char *role, const char *meaning)
{
    char iso[40];
    printf("signature shipment=%lld entry=%lld time=%s name=\"%s\" role=%s meaning=%s\n",
           (long long)shipment, (long long)idx, ot_time_format_iso(ts, iso, sizeof iso),
           name ? name : "", role ? role : "", meaning ? meaning : "");
}

static void print_db_signatures(struct ot_sql *sql)
{
    struct ot_sql_stmt *st = NULL;
    int row = 0;
    if (ot_sql_prepare(sql,
                       "SELECT shipment_id, idx, ts, actor_name, actor_role, meaning FROM custody"
                       " WHERE type = 'signed' ORDER BY shipment_id, idx",
                       &st))
        return;
    while (!ot_sql_step(st, &row) && row)
        print_signature(ot_sql_int64(st, 0), ot_sql_int64(st, 1), ot_sql_int64(st, 2),
                        ot_sql_text(st, 3), ot_sql_text(st, 4), ot_sql_text(st, 5));
    ot_sql_reset(st);
}

static void print_bundle_signatures(const char *buf, size_t len)
{
    cJSON *root = cJSON_ParseWithLength(buf, len);
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(root, "entries"))
    {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(e, "type");
        const cJSON *actor = cJSON_GetObjectItemCaseSensitive(e, "actor");
        if (!cJSON_IsString(type) || strcmp(type->valuestring, "signed") != 0)
            continue;
        print_signature(
            (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(e, "shipment")),
            (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(e, "index")),
            (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(e, "ts")),
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(actor, "name")),
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(actor, "role")),
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "meaning")));
    }
    cJSON_Delete(root);
}

static int cmd_verify(int argc, char **argv)
{
    const char *path = NULL, *pin = NULL;
    struct ot_ledger_report rep;
    enum ot_err rc;
    int database;
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
            fprintf(stderr, "organtrack-ledger: verify takes one file or database\n");
            return 2;
        }
    }
    if (!path) {
        usage(stderr);
        return 2;
    }
    if ((database = is_database(path)) < 0)
        return 2;
    if (database) {
        struct ot_sql *sql = NULL;
        if (open_snapshot(path, &sql))
            return 2;
        rc = ot_ledger_verify_db_key(sql, pin, &rep);
        if (!rc && rep.ok) {
            print_report(&rep);
            print_db_signatures(sql);
            close_snapshot(sql);
            return 0;
        }
        close_snapshot(sql);
    } else {
        char *buf = NULL;
        size_t len = 0;
        rc = ot_file_read(path, BUNDLE_MAX, &buf, &len);
        if (rc) {
            fprintf(stderr, "organtrack-ledger: cannot read %s: %s\n", path, ot_strerror(rc));
            return 2;
        }
        rc = ot_ledger_verify_bundle_key(buf, len, pin, &rep);
        if (!rc && rep.ok) {
            print_report(&rep);
            print_bundle_signatures(buf, len);
            free(buf);
            return 0;
        }
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
    const char *config = NULL, *database = NULL, *format = NULL, *ship = NULL, *outpath = NULL;
    struct tool_conf tc = {0};
    struct ot_sql *sql = NULL;
    int64_t id = 0;
    char *out = NULL;
    size_t len = 0;
    enum ot_err rc;
    int ret = 2;
    for (int i = 0; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--config") == 0)
            config = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--database") == 0)
            database = argv[++i];
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
    if (config && database) {
        fprintf(stderr, "organtrack-ledger: export: --config or --database, not both\n");
        return 2;
    }
    if (!config && !database) {
        fprintf(stderr, "organtrack-ledger: export: --config FILE or --database DB is required\n");
        return 2;
    }
    if (!database) {
        if (load_conf(config, &tc))
            return 2;
        database = tc.database;
    }
    if (open_snapshot(database, &sql))
        goto out;
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
    close_snapshot(sql);
    if (config)
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
