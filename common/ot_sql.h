/* ot_sql.h - one SQL interface over the two stores organtrack runs on:
 * SQLite (embedded, a file path) and PostgreSQL 15 through libpq (a
 * `postgresql://` URI, multi-host allowed). The backends sit behind a
 * table of functions (ot_sql_int.h), as libmodbus keeps its transports.
 *
 * SQL is written once, in the dialect both accept (ON CONFLICT DO NOTHING,
 * RETURNING, ...), with SQLite's placeholders: ?N, or ? for the next number.
 * For PostgreSQL they are rewritten to $N (string literals, quoted names
 * and comments are left alone). Statements are prepared once per
 * connection and kept for its life; after a lost PostgreSQL connection is
 * re-established (ot_sql_reconnect) each statement is prepared again on its
 * next use, so callers keep their handles.
 *
 * Values travel as int64, double, text or NULL. Transactions: ot_sql_begin
 * takes the write lock at once on SQLite (BEGIN IMMEDIATE), so a
 * transaction that starts never fails later for lock order; on PostgreSQL
 * it is BEGIN at the default isolation (read committed).
 *
 * Ownership: the connection owns its statements (ot_sql_close frees them);
 * a text column's pointer is valid until the next step or reset of that
 * statement. Not thread-safe: one connection per thread. */
#ifndef OT_SQL_H
#define OT_SQL_H

#include <stddef.h>
#include <stdint.h>

#include "ot_err.h"

enum ot_sql_kind { OT_SQL_SQLITE = 1, OT_SQL_POSTGRES = 2 };

struct ot_sql;
struct ot_sql_stmt;

/* Is database a PostgreSQL URI (postgresql:// or postgres://)? */
int ot_sql_is_uri(const char *database);

/* Connects: a path opens (creating) a SQLite file in WAL mode with
 * synchronous=FULL and a busy timeout; a URI connects with libpq. Logs the
 * library's own error text (never the URI's password) on failure. */
enum ot_err ot_sql_open(const char *database, struct ot_sql **out);
/* Opens an existing SQLite file read-only, or connects to PostgreSQL with
 * default_transaction_read_only on (the ledger tool). */
enum ot_err ot_sql_open_readonly(const char *database, struct ot_sql **out);
/* Frees every statement, then the connection; NULL is fine. */
void ot_sql_close(struct ot_sql *db);

enum ot_sql_kind ot_sql_kind(const struct ot_sql *db);
/* The database named without credentials, for logs. */
const char *ot_sql_name(const struct ot_sql *db);
/* The last error text of the connection's library. */
const char *ot_sql_errmsg(const struct ot_sql *db);

/* PostgreSQL: is the connection gone (server stopped, failover)? SQLite: 0. */
int ot_sql_lost(const struct ot_sql *db);
/* PostgreSQL: connects again with the same URI (libpq tries every host of a
 * multi-host URI); statements are prepared again on next use. SQLite: OK. */
enum ot_err ot_sql_reconnect(struct ot_sql *db);

/* Runs SQL without parameters or results (several statements allowed). */
enum ot_err ot_sql_exec(struct ot_sql *db, const char *sql);

enum ot_err ot_sql_begin(struct ot_sql *db);
enum ot_err ot_sql_commit(struct ot_sql *db);
/* Always ends the transaction (or does nothing outside one). */
void ot_sql_rollback(struct ot_sql *db);

/* Prepares sql for this connection; *out stays owned by db. */
enum ot_err ot_sql_prepare(struct ot_sql *db, const char *sql, struct ot_sql_stmt **out);
/* The connection's statement for exactly this SQL text: prepared on the
 * first call, the same handle (reset) on every later call. For code that
 * is handed a connection and keeps no handles of its own (the ledger), so
 * it still prepares each statement once per connection. Only statements
 * made by this function are shared: do not interleave two runs of one text. */
enum ot_err ot_sql_prepare_cached(struct ot_sql *db, const char *sql, struct ot_sql_stmt **out);

/* Parameters are numbered from 1. Text is copied (len -1: up to the NUL). */
enum ot_err ot_sql_bind_int64(struct ot_sql_stmt *st, int idx, int64_t v);
enum ot_err ot_sql_bind_double(struct ot_sql_stmt *st, int idx, double v);
enum ot_err ot_sql_bind_text(struct ot_sql_stmt *st, int idx, const char *s, ptrdiff_t len);
enum ot_err ot_sql_bind_null(struct ot_sql_stmt *st, int idx);

/* Runs the statement (first call) or moves to its next row: *row is 1 while
 * a row is there, 0 when there are no (more) rows. A unique or check
 * constraint failing answers OT_ERR_CONFLICT, anything else OT_ERR_DB. */
enum ot_err ot_sql_step(struct ot_sql_stmt *st, int *row);
/* Rows changed by the last INSERT, UPDATE or DELETE run by st. */
int64_t ot_sql_changes(const struct ot_sql_stmt *st);
/* Back to before the first step, parameters cleared. */
void ot_sql_reset(struct ot_sql_stmt *st);

/* Columns of the current row, numbered from 0. */
int ot_sql_column_count(const struct ot_sql_stmt *st);
int ot_sql_is_null(const struct ot_sql_stmt *st, int col);
int64_t ot_sql_int64(const struct ot_sql_stmt *st, int col);
double ot_sql_double(const struct ot_sql_stmt *st, int col);
/* NULL for an SQL NULL. */
const char *ot_sql_text(const struct ot_sql_stmt *st, int col);

/* Rewrites SQLite placeholders (?N, ?) to PostgreSQL's ($N) into out
 * (cap bytes); *nparams gets the highest number. OT_ERR_TOOBIG if out is
 * too small, OT_ERR_PARSE for a malformed ?N. Pure; exposed for tests. */
enum ot_err ot_sql_rewrite_placeholders(const char *sql, char *out, size_t cap, int *nparams);

#endif
