/* ot_sql_pg_off.c - the PostgreSQL backend of a build without libpq
 * (cmake -DOT_POSTGRESQL=OFF: the arm64 cross build of the gateway and the
 * ledger, which use SQLite files or nothing). Opening a postgresql://
 * database fails with one line; no connection is ever made, so the other
 * entries are never called (open failed; ot_sql_close only calls close). */
#include "ot_log.h"
#include "ot_sql_int.h"

static enum ot_err off_open(struct ot_sql *db, const char *database, int readonly)
{
    (void)database;
    (void)readonly;
    ot_error("database is a PostgreSQL URI but this build has no PostgreSQL support "
             "(built with OT_POSTGRESQL=OFF) database=%s",
             db->name);
    return OT_ERR_CONFIG;
}

static void off_close(struct ot_sql *db)
{
    (void)db;
}

static const char *off_errmsg(const struct ot_sql *db)
{
    (void)db;
    return "built without PostgreSQL support";
}

const struct ot_sql_ops ot_sql__pg_ops = {
    .kind = OT_SQL_POSTGRES,
    .open = off_open,
    .close = off_close,
    .errmsg = off_errmsg,
    .begin_sql = "BEGIN",
};
