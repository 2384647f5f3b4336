/* ot_sql_int.h - inside ot_sql: the connection and statement structs and
 * the table of functions each backend fills (ot_sql_sqlite.c,
 * ot_sql_pg.c). Only ot_sql*.c include this. */
#ifndef OT_SQL_INT_H
#define OT_SQL_INT_H

#include "ot_sql.h"

struct ot_sql_ops {
    enum ot_sql_kind kind;
    enum ot_err (*open)(struct ot_sql *db, const char *database, int readonly);
    void (*close)(struct ot_sql *db);
    const char *(*errmsg)(const struct ot_sql *db);
    int (*lost)(const struct ot_sql *db);
    enum ot_err (*reconnect)(struct ot_sql *db);
    enum ot_err (*exec)(struct ot_sql *db, const char *sql);
    const char *begin_sql;
    enum ot_err (*prepare)(struct ot_sql_stmt *st);
    void (*finalize)(struct ot_sql_stmt *st);
    enum ot_err (*bind_int64)(struct ot_sql_stmt *st, int idx, int64_t v);
    enum ot_err (*bind_double)(struct ot_sql_stmt *st, int idx, double v);
    enum ot_err (*bind_text)(struct ot_sql_stmt *st, int idx, const char *s, size_t len);
    enum ot_err (*bind_null)(struct ot_sql_stmt *st, int idx);
    enum ot_err (*step)(struct ot_sql_stmt *st, int *row);
    void (*reset)(struct ot_sql_stmt *st);
    int (*column_count)(const struct ot_sql_stmt *st);
    int (*is_null)(const struct ot_sql_stmt *st, int col);
    const char *(*text)(const struct ot_sql_stmt *st, int col);
    int64_t (*int64)(const struct ot_sql_stmt *st, int col);
    double (*dbl)(const struct ot_sql_stmt *st, int col);
};

struct ot_sql {
    const struct ot_sql_ops *ops;
    void *conn;       /* sqlite3 *, PGconn * */
    char *database;   /* as given: a path or the URI (credentials included) */
    char name[256];   /* for logs: the URI without user and password */
    unsigned gen;     /* connection generation: +1 per reconnect */
    unsigned next_id; /* PostgreSQL statement names */
    struct ot_sql_stmt *stmts;
};

struct ot_sql_stmt {
    struct ot_sql *db;
    struct ot_sql_stmt *next;
    char *sql; /* as written, SQLite placeholders */
    void *h;   /* sqlite3_stmt * / PGresult * of the current run */
    /* PostgreSQL */
    char name[24];
    char *pgsql; /* placeholders rewritten */
    int nparams;
    char **vals;  /* nparams texts, NULL = SQL NULL */
    unsigned gen; /* generation it was prepared in; 0 = not yet */
    int started, row, nrows;
    int cached; /* made by ot_sql_prepare_cached: shared by its text */
    int64_t changes;
};

extern const struct ot_sql_ops ot_sql__sqlite_ops;
extern const struct ot_sql_ops ot_sql__pg_ops;

#endif
