/* sql.c - prepared-statement helpers of the worker thread (sql.h). */
#include "sql.h"

#include <stddef.h>

#include "ot_log.h"

enum ot_err sql__prepare(sqlite3 *db, sqlite3_stmt **st, const char *sql)
{
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK) {
        ot_error("sqlite prepare failed error=\"%s\" sql=\"%.60s\"", sqlite3_errmsg(db), sql);
        return OT_ERR_DB;
    }
    return OT_OK;
}

enum ot_err sql__step_done(sqlite3 *db, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        ot_error("sqlite step failed error=\"%s\"", sqlite3_errmsg(db));
        return OT_ERR_DB;
    }
    return OT_OK;
}
