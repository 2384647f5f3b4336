#include "ot_db.h"
#include "ot_db_schema.h"
#include "ot_log.h"

#include <stdio.h>

int ot_db_schema_version(void)
{
    int n = 0;
    while (ot_db_migrations[n])
        n++;
    return n;
}

enum ot_err ot_db_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        ot_error("sqlite exec failed error=\"%s\"", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return OT_ERR_DB;
    }
    return OT_OK;
}

static enum ot_err user_version(sqlite3 *db, int *v)
{
    sqlite3_stmt *st = NULL;
    enum ot_err rc = OT_ERR_DB;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        *v = sqlite3_column_int(st, 0);
        rc = OT_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

static enum ot_err migrate(sqlite3 *db)
{
    int have = 0;
    int want = ot_db_schema_version();
    /* serialise concurrent first starts (collector and API) */
    if (ot_db_exec(db, "BEGIN IMMEDIATE"))
        return OT_ERR_DB;
    if (user_version(db, &have))
        goto fail;
    if (have > want) {
        ot_error("database schema is newer than this program have=%d know=%d", have, want);
        goto fail;
    }
    for (int v = have + 1; v <= want; v++) {
        char pragma[64];
        for (const char *const *sql = ot_db_migrations[v - 1]; *sql; sql++)
            if (ot_db_exec(db, *sql))
                goto fail;
        snprintf(pragma, sizeof pragma, "PRAGMA user_version=%d", v);
        if (ot_db_exec(db, pragma))
            goto fail;
        ot_info("database migrated version=%d", v);
    }
    return ot_db_exec(db, "COMMIT");
fail:
    ot_db_exec(db, "ROLLBACK");
    return OT_ERR_DB;
}

static enum ot_err open_common(const char *path, int flags, sqlite3 **out)
{
    sqlite3 *db = NULL;
    *out = NULL;
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
        ot_error("cannot open database path=%s error=\"%s\"", path,
                 db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close_v2(db);
        return OT_ERR_DB;
    }
    sqlite3_busy_timeout(db, 5000);
    sqlite3_extended_result_codes(db, 1);
    *out = db;
    return OT_OK;
}

enum ot_err ot_db_open(const char *path, sqlite3 **out)
{
    sqlite3 *db;
    enum ot_err rc = open_common(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &db);
    if (rc)
        return rc;
    if (ot_db_exec(db, "PRAGMA journal_mode=WAL") || ot_db_exec(db, "PRAGMA synchronous=FULL") ||
        ot_db_exec(db, "PRAGMA foreign_keys=ON") || migrate(db)) {
        sqlite3_close_v2(db);
        return OT_ERR_DB;
    }
    *out = db;
    return OT_OK;
}

enum ot_err ot_db_open_readonly(const char *path, sqlite3 **out)
{
    return open_common(path, SQLITE_OPEN_READONLY, out);
}
