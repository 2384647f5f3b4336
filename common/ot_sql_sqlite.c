/* ot_sql_sqlite.c - ot_sql's SQLite backend: WAL, synchronous=FULL (an ack
 * promises durability), a 5 s busy timeout, foreign keys; statements are
 * sqlite3_stmt kept for the connection's life. */
#include "ot_sql_int.h"

#include <sqlite3.h>
#include <string.h>

#include "ot_log.h"

static sqlite3 *conn(const struct ot_sql *db)
{
    return db->conn;
}

static sqlite3_stmt *hs(const struct ot_sql_stmt *st)
{
    return st->h;
}

static enum ot_err map(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return OT_OK;
    case SQLITE_CONSTRAINT:
        return OT_ERR_CONFLICT;
    case SQLITE_NOMEM:
        return OT_ERR_NOMEM;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return OT_ERR_TIMEOUT;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return OT_ERR_CORRUPT;
    default:
        return OT_ERR_DB;
    }
}

static enum ot_err lite_exec(struct ot_sql *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(conn(db), sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        ot_error("sqlite exec failed database=%s error=\"%s\"", db->name,
                 msg ? msg : sqlite3_errmsg(conn(db)));
        sqlite3_free(msg);
        return map(rc) == OT_OK ? OT_ERR_DB : map(rc);
    }
    return OT_OK;
}

static enum ot_err lite_open(struct ot_sql *db, const char *path, int readonly)
{
    sqlite3 *h = NULL;
    int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(path, &h, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        ot_error("cannot open database path=%s error=\"%s\"", path,
                 h ? sqlite3_errmsg(h) : "out of memory");
        sqlite3_close_v2(h);
        return OT_ERR_DB;
    }
    db->conn = h;
    sqlite3_busy_timeout(h, 5000);
    sqlite3_extended_result_codes(h, 1);
    if (readonly)
        return lite_exec(db, "PRAGMA foreign_keys=ON");
    return lite_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                         "PRAGMA foreign_keys=ON");
}

static void lite_close(struct ot_sql *db)
{
    sqlite3_close_v2(conn(db));
}

static const char *lite_errmsg(const struct ot_sql *db)
{
    return db->conn ? sqlite3_errmsg(conn(db)) : "not open";
}

static int lite_lost(const struct ot_sql *db)
{
    (void)db;
    return 0;
}

static enum ot_err lite_reconnect(struct ot_sql *db)
{
    (void)db;
    return OT_OK;
}

static enum ot_err lite_prepare(struct ot_sql_stmt *st)
{
    sqlite3_stmt *h = NULL;
    int rc = sqlite3_prepare_v3(conn(st->db), st->sql, -1, SQLITE_PREPARE_PERSISTENT, &h, NULL);
    if (rc != SQLITE_OK) {
        ot_error("sqlite prepare failed database=%s error=\"%s\" sql=\"%.80s\"", st->db->name,
                 sqlite3_errmsg(conn(st->db)), st->sql);
        return OT_ERR_DB;
    }
    st->h = h;
    return OT_OK;
}

static void lite_finalize(struct ot_sql_stmt *st)
{
    sqlite3_finalize(hs(st));
    st->h = NULL;
}

static enum ot_err bound(struct ot_sql_stmt *st, int rc)
{
    if (rc == SQLITE_OK)
        return OT_OK;
    ot_error("sqlite bind failed database=%s error=\"%s\"", st->db->name,
             sqlite3_errmsg(conn(st->db)));
    return rc == SQLITE_RANGE ? OT_ERR_RANGE : OT_ERR_DB;
}

static enum ot_err lite_bind_int64(struct ot_sql_stmt *st, int idx, int64_t v)
{
    return bound(st, sqlite3_bind_int64(hs(st), idx, v));
}

static enum ot_err lite_bind_double(struct ot_sql_stmt *st, int idx, double v)
{
    return bound(st, sqlite3_bind_double(hs(st), idx, v));
}

static enum ot_err lite_bind_text(struct ot_sql_stmt *st, int idx, const char *s, size_t len)
{
    if (len > 0x7fffffff)
        return OT_ERR_TOOBIG;
    return bound(st, sqlite3_bind_text(hs(st), idx, s, (int)len, SQLITE_TRANSIENT));
}

static enum ot_err lite_bind_null(struct ot_sql_stmt *st, int idx)
{
    return bound(st, sqlite3_bind_null(hs(st), idx));
}

static enum ot_err lite_step(struct ot_sql_stmt *st, int *row)
{
    int rc = sqlite3_step(hs(st));
    *row = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW)
        return OT_OK;
    if (rc == SQLITE_DONE) {
        st->changes = sqlite3_changes64(conn(st->db));
        return OT_OK;
    }
    enum ot_err e = map(rc);
    if (e != OT_ERR_CONFLICT)
        ot_error("sqlite step failed database=%s error=\"%s\" sql=\"%.80s\"", st->db->name,
                 sqlite3_errmsg(conn(st->db)), st->sql);
    return e == OT_OK ? OT_ERR_DB : e;
}

static void lite_reset(struct ot_sql_stmt *st)
{
    sqlite3_reset(hs(st));
    sqlite3_clear_bindings(hs(st));
    st->changes = 0;
}

static int lite_column_count(const struct ot_sql_stmt *st)
{
    return sqlite3_column_count(hs(st));
}

static int lite_is_null(const struct ot_sql_stmt *st, int col)
{
    return sqlite3_column_type(hs(st), col) == SQLITE_NULL;
}

static const char *lite_text(const struct ot_sql_stmt *st, int col)
{
    return (const char *)sqlite3_column_text(hs(st), col);
}

static int64_t lite_int64(const struct ot_sql_stmt *st, int col)
{
    return sqlite3_column_int64(hs(st), col);
}

static double lite_double(const struct ot_sql_stmt *st, int col)
{
    return sqlite3_column_double(hs(st), col);
}

const struct ot_sql_ops ot_sql__sqlite_ops = {
    .kind = OT_SQL_SQLITE,
    .open = lite_open,
    .close = lite_close,
    .errmsg = lite_errmsg,
    .lost = lite_lost,
    .reconnect = lite_reconnect,
    .exec = lite_exec,
    .begin_sql = "BEGIN IMMEDIATE",
    .prepare = lite_prepare,
    .finalize = lite_finalize,
    .bind_int64 = lite_bind_int64,
    .bind_double = lite_bind_double,
    .bind_text = lite_bind_text,
    .bind_null = lite_bind_null,
    .step = lite_step,
    .reset = lite_reset,
    .column_count = lite_column_count,
    .is_null = lite_is_null,
    .text = lite_text,
    .int64 = lite_int64,
    .dbl = lite_double,
};
