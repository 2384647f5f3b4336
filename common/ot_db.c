/* ot_db.c - opening organtrack's database and migrating its schema on
 * either backend (ot_db.h). */
#include "ot_db.h"
#include "ot_db_schema.h"
#include "ot_log.h"

#include <stdio.h>

/* advisory lock key for migrations (the events lock is in ot_db_schema_pg.c) */
#define OT_PG_LOCK_MIGRATE "7302000"

static int count(const char *const *const *list)
{
    int n = 0;
    while (list[n])
        n++;
    return n;
}

int ot_db_schema_version(void)
{
    return count(ot_db_migrations_sqlite);
}

static const char *const *const *migrations(const struct ot_sql *db)
{
    return ot_sql_kind(db) == OT_SQL_POSTGRES ? ot_db_migrations_pg : ot_db_migrations_sqlite;
}

static enum ot_err query_int(struct ot_sql *db, const char *sql, int *out)
{
    struct ot_sql_stmt *st;
    int row = 0;
    enum ot_err rc = ot_sql_prepare(db, sql, &st);
    if (!rc)
        rc = ot_sql_step(st, &row);
    *out = !rc && row ? (int)ot_sql_int64(st, 0) : 0;
    if (!rc)
        ot_sql_reset(st);
    return rc;
}

enum ot_err ot_db_version(struct ot_sql *db, int *out)
{
    if (ot_sql_kind(db) == OT_SQL_SQLITE)
        return query_int(db, "PRAGMA user_version", out);
    int present = 0;
    enum ot_err rc = query_int(db,
                               "SELECT count(*) FROM pg_catalog.pg_tables"
                               " WHERE schemaname = current_schema()"
                               " AND tablename = 'schema_version'",
                               &present);
    if (rc || !present) {
        *out = 0;
        return rc;
    }
    return query_int(db, "SELECT coalesce(max(version), 0) FROM schema_version", out);
}

static enum ot_err set_version(struct ot_sql *db, int v)
{
    char sql[96];
    if (ot_sql_kind(db) == OT_SQL_SQLITE)
        snprintf(sql, sizeof sql, "PRAGMA user_version=%d", v);
    else
        snprintf(sql, sizeof sql,
                 "DELETE FROM schema_version; INSERT INTO schema_version VALUES (%d)", v);
    return ot_sql_exec(db, sql);
}

static enum ot_err refuse_newer(struct ot_sql *db, int have)
{
    if (have <= ot_db_schema_version())
        return OT_OK;
    ot_error("database schema is newer than this program: upgrade organtrack before starting it"
             " database=%s schema=%d known=%d",
             ot_sql_name(db), have, ot_db_schema_version());
    return OT_ERR_INVAL;
}

static enum ot_err migrate(struct ot_sql *db)
{
    const char *const *const *list = migrations(db);
    int have = 0, want = count(list);
    if (want != ot_db_schema_version()) {
        ot_error("organtrack build error: the SQLite and PostgreSQL migrations differ in number");
        return OT_ERR_INVAL;
    }
    /* one migrating program at a time (collector and API starting together) */
    if (ot_sql_begin(db))
        return OT_ERR_DB;
    if (ot_sql_kind(db) == OT_SQL_POSTGRES &&
        ot_sql_exec(db, "SELECT pg_advisory_xact_lock(" OT_PG_LOCK_MIGRATE ");"
                        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"))
        goto fail;
    enum ot_err rc = ot_db_version(db, &have);
    if (rc || (rc = refuse_newer(db, have)))
        goto fail_rc;
    for (int v = have + 1; v <= want; v++) {
        for (const char *const *sql = list[v - 1]; *sql; sql++)
            if (ot_sql_exec(db, *sql))
                goto fail;
        if (set_version(db, v))
            goto fail;
        ot_info("database migrated database=%s version=%d", ot_sql_name(db), v);
    }
    return ot_sql_commit(db);
fail:
    rc = OT_ERR_DB;
fail_rc:
    ot_sql_rollback(db);
    return rc;
}

enum ot_err ot_db_open(const char *database, struct ot_sql **out)
{
    struct ot_sql *db;
    enum ot_err rc = ot_sql_open(database, &db);
    if (rc)
        return rc;
    if ((rc = migrate(db))) {
        ot_sql_close(db);
        return rc;
    }
    *out = db;
    return OT_OK;
}

enum ot_err ot_db_open_readonly(const char *database, struct ot_sql **out)
{
    struct ot_sql *db;
    int have = 0;
    enum ot_err rc = ot_sql_open_readonly(database, &db);
    if (rc)
        return rc;
    if ((rc = ot_db_version(db, &have)) || (rc = refuse_newer(db, have))) {
        ot_sql_close(db);
        return rc;
    }
    *out = db;
    return OT_OK;
}
