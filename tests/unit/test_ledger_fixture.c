/* test_ledger_fixture DIR - writes DIR/organtrack.db (schema, two shipments,
 * readings, custody trails), DIR/ledger.key and DIR/api.json (a config with
 * "database" and "ledger_key") for tests/integration/ledger_cli.py. */
#include <stdio.h>

#include "ot_ledger.h"

int ledger_trail_build(const char *dir, sqlite3 **db_out, struct ot_ledger_key **key_out,
                       int64_t *ship_out);

int main(int argc, char **argv)
{
    sqlite3 *db = NULL;
    struct ot_ledger_key *key = NULL;
    int64_t ship = 0;
    char path[512];
    FILE *f;
    if (argc != 2) {
        fprintf(stderr, "usage: test_ledger_fixture DIR\n");
        return 2;
    }
    if (ledger_trail_build(argv[1], &db, &key, &ship)) {
        fprintf(stderr, "test_ledger_fixture: cannot build the trail\n");
        return 1;
    }
    ot_ledger_key_free(key);
    sqlite3_close_v2(db);
    snprintf(path, sizeof path, "%s/api.json", argv[1]);
    f = fopen(path, "w");
    if (!f)
        return 1;
    fprintf(f, "{\"database\": \"%s/organtrack.db\", \"ledger_key\": \"%s/ledger.key\"}\n", argv[1],
            argv[1]);
    if (fclose(f))
        return 1;
    printf("shipment=%lld\n", (long long)ship);
    return 0;
}
