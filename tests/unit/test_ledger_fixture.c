/* test_ledger_fixture DIR - builds a real custody trail (two shipments,
 * readings, entries) for tests/integration/ledger_*.py: in DIR/organtrack.db,
 * or, with OT_TEST_DATABASE set to a postgresql:// URI, in a schema of that
 * database of its own; the key is DIR/ledger.key (kept if present), and
 * DIR/api.json is a config with "database" and "ledger_key". Prints
 * shipment=ID (the long trail) and database=... (without the password). */
#include <stdio.h>

#include "test_ledger_trail.h"

int main(int argc, char **argv)
{
    struct ot_sql *db = NULL;
    struct ot_ledger_key *key = NULL;
    int64_t ship = 0;
    char path[1200], database[1024];
    FILE *f;
    if (argc != 2) {
        fprintf(stderr, "usage: test_ledger_fixture DIR\n");
        return 2;
    }
    if (ledger_trail_build(argv[1], &db, &key, &ship)) {
        fprintf(stderr, "test_ledger_fixture: cannot build the trail\n");
        return 1;
    }
    printf("shipment=%lld\ndatabase=%s\n", (long long)ship, ot_sql_name(db));
    ot_ledger_key_free(key);
    ot_sql_close(db);
    ledger_trail_database(argv[1], database, sizeof database);
    snprintf(path, sizeof path, "%s/api.json", argv[1]);
    f = fopen(path, "w");
    if (!f)
        return 1;
    fprintf(f, "{\"database\": \"%s\", \"ledger_key\": \"%s/ledger.key\"}\n", database, argv[1]);
    if (fclose(f))
        return 1;
    return 0;
}
