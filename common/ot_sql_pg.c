/* ot_sql_pg.c - ot_sql's PostgreSQL backend (libpq). Statements are
 * server-side prepared statements (PQprepare) named ot1, ot2, ... and
 * prepared again, on their next use, after a reconnect. Parameters and
 * results travel in text form: integers in decimal, doubles with %.17g
 * (they round-trip exactly). Errors are mapped by SQLSTATE class. */
#include "ot_sql_int.h"

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ot_log.h"
#include "ot_time.h"

static PGconn *conn(const struct ot_sql *db)
{
    return db->conn;
}

static PGresult *res(const struct ot_sql_stmt *st)
{
    return st->h;
}

/* libpq's messages end in a newline; logs are one line each */
static const char *pg_errmsg(const struct ot_sql *db)
{
    static _Thread_local char buf[512];
    const char *m = db->conn ? PQerrorMessage(conn(db)) : "not connected";
    snprintf(buf, sizeof buf, "%s", m);
    for (char *p = buf; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    size_t n = strlen(buf);
    while (n && buf[n - 1] == ' ')
        buf[--n] = '\0';
    return buf;
}

static enum ot_err map_result(const PGresult *r)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (!state)
        return OT_ERR_DB;
    if (!strncmp(state, "23", 2))
        return OT_ERR_CONFLICT; /* integrity constraint violation */
    if (!strcmp(state, "53100"))
        return OT_ERR_FULL; /* disk full */
    if (!strcmp(state, "53200"))
        return OT_ERR_NOMEM;
    return OT_ERR_DB;
}

static void on_notice(void *arg, const char *msg)
{
    (void)arg;
    ot_debug("postgresql notice message=\"%.200s\"", msg);
}

static enum ot_err pg_exec(struct ot_sql *db, const char *sql)
{
    PGresult *r = PQexec(conn(db), sql);
    ExecStatusType s = PQresultStatus(r);
    enum ot_err rc = OT_OK;
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        rc = map_result(r);
        ot_error("postgresql exec failed database=%s error=\"%s\" sql=\"%.80s\"", db->name,
                 pg_errmsg(db), sql);
    }
    PQclear(r);
    return rc;
}

static enum ot_err connected(struct ot_sql *db)
{
    if (PQstatus(conn(db)) != CONNECTION_OK) {
        ot_error("cannot connect to database database=%s error=\"%s\"", db->name, pg_errmsg(db));
        return OT_ERR_DB;
    }
    PQsetNoticeProcessor(conn(db), on_notice, NULL);
    return OT_OK;
}

static enum ot_err pg_open(struct ot_sql *db, const char *uri, int readonly)
{
    db->conn = PQconnectdb(uri);
    if (!db->conn)
        return OT_ERR_NOMEM;
    enum ot_err rc = connected(db);
    if (!rc && readonly)
        rc = pg_exec(db, "SET default_transaction_read_only = on");
    return rc;
}

static void pg_close(struct ot_sql *db)
{
    PQfinish(conn(db));
}

static int pg_lost(const struct ot_sql *db)
{
    return PQstatus(conn(db)) == CONNECTION_BAD;
}

static enum ot_err pg_reconnect(struct ot_sql *db)
{
    PQreset(conn(db)); /* every host of a multi-host URI is tried again */
    enum ot_err rc = connected(db);
    if (!rc)
        ot_info("database reconnected database=%s host=%s port=%s", db->name, PQhost(conn(db)),
                PQport(conn(db)));
    return rc;
}

static enum ot_err ensure_prepared(struct ot_sql_stmt *st)
{
    if (st->gen == st->db->gen)
        return OT_OK;
    PGresult *r = PQprepare(conn(st->db), st->name, st->pgsql, st->nparams, NULL);
    enum ot_err rc = OT_OK;
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        rc = map_result(r);
        ot_error("postgresql prepare failed database=%s error=\"%s\" sql=\"%.80s\"", st->db->name,
                 pg_errmsg(st->db), st->sql);
    } else {
        st->gen = st->db->gen;
    }
    PQclear(r);
    return rc;
}

static enum ot_err pg_prepare(struct ot_sql_stmt *st)
{
    size_t cap = strlen(st->sql) * 4 + 16; /* "?" grows to at most "$999" */
    enum ot_err rc;
    if (!(st->pgsql = malloc(cap)))
        return OT_ERR_NOMEM;
    if ((rc = ot_sql_rewrite_placeholders(st->sql, st->pgsql, cap, &st->nparams))) {
        ot_error("bad placeholder in sql=\"%.80s\"", st->sql);
        return rc;
    }
    if (st->nparams && !(st->vals = calloc((size_t)st->nparams, sizeof *st->vals)))
        return OT_ERR_NOMEM;
    snprintf(st->name, sizeof st->name, "ot%u", ++st->db->next_id);
    return ensure_prepared(st);
}

static void clear_vals(struct ot_sql_stmt *st)
{
    for (int i = 0; i < st->nparams; i++) {
        free(st->vals[i]);
        st->vals[i] = NULL;
    }
}

static void pg_finalize(struct ot_sql_stmt *st)
{
    PQclear(res(st));
    st->h = NULL;
    if (st->vals)
        clear_vals(st);
    free(st->vals);
    st->vals = NULL;
}

static enum ot_err set_val(struct ot_sql_stmt *st, int idx, char *v)
{
    if (idx < 1 || idx > st->nparams) {
        free(v);
        ot_error("bind index out of range index=%d params=%d sql=\"%.80s\"", idx, st->nparams,
                 st->sql);
        return OT_ERR_RANGE;
    }
    free(st->vals[idx - 1]);
    st->vals[idx - 1] = v;
    return OT_OK;
}

static char *print(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *print(const char *fmt, ...)
{
    char buf[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return strdup(buf);
}

static enum ot_err pg_bind_int64(struct ot_sql_stmt *st, int idx, int64_t v)
{
    char *s = print("%lld", (long long)v);
    return s ? set_val(st, idx, s) : OT_ERR_NOMEM;
}

static enum ot_err pg_bind_double(struct ot_sql_stmt *st, int idx, double v)
{
    char *s = print("%.17g", v);
    return s ? set_val(st, idx, s) : OT_ERR_NOMEM;
}

static enum ot_err pg_bind_text(struct ot_sql_stmt *st, int idx, const char *s, size_t len)
{
    if (memchr(s, '\0', len))
        return OT_ERR_INVAL; /* PostgreSQL text cannot hold NUL */
    char *v = strndup(s, len);
    return v ? set_val(st, idx, v) : OT_ERR_NOMEM;
}

static enum ot_err pg_bind_null(struct ot_sql_stmt *st, int idx)
{
    return set_val(st, idx, NULL);
}

static enum ot_err pg_step(struct ot_sql_stmt *st, int *row)
{
    enum ot_err rc;
    *row = 0;
    if (st->started) {
        if (st->row < st->nrows)
            st->row++;
        *row = st->row < st->nrows;
        return OT_OK;
    }
    if ((rc = ensure_prepared(st)))
        return rc;
    PGresult *r = PQexecPrepared(conn(st->db), st->name, st->nparams, (const char *const *)st->vals,
                                 NULL, NULL, 0);
    ExecStatusType s = PQresultStatus(r);
    if (s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK) {
        rc = map_result(r);
        if (rc != OT_ERR_CONFLICT)
            ot_error("postgresql step failed database=%s error=\"%s\" sql=\"%.80s\"", st->db->name,
                     pg_errmsg(st->db), st->sql);
        PQclear(r);
        return rc;
    }
    st->h = r;
    st->started = 1;
    st->row = 0;
    st->nrows = s == PGRES_TUPLES_OK ? PQntuples(r) : 0;
    const char *n = PQcmdTuples(r);
    st->changes = n && *n ? strtoll(n, NULL, 10) : 0;
    *row = st->nrows > 0;
    return OT_OK;
}

static void pg_reset(struct ot_sql_stmt *st)
{
    PQclear(res(st));
    st->h = NULL;
    st->started = st->row = st->nrows = 0;
    st->changes = 0;
    clear_vals(st);
}

static int pg_column_count(const struct ot_sql_stmt *st)
{
    return res(st) ? PQnfields(res(st)) : 0;
}

static int col_is_null(const struct ot_sql_stmt *st, int col)
{
    if (!res(st) || st->row >= st->nrows || col < 0 || col >= PQnfields(res(st)))
        return 1;
    return PQgetisnull(res(st), st->row, col);
}

static const char *col_text(const struct ot_sql_stmt *st, int col)
{
    return col_is_null(st, col) ? NULL : PQgetvalue(res(st), st->row, col);
}

static int64_t col_int64(const struct ot_sql_stmt *st, int col)
{
    const char *v = col_text(st, col);
    if (!v)
        return 0;
    if (!strcmp(v, "t") || !strcmp(v, "f")) /* boolean */
        return *v == 't';
    return strtoll(v, NULL, 10);
}

static double col_double(const struct ot_sql_stmt *st, int col)
{
    const char *v = col_text(st, col);
    return v ? strtod(v, NULL) : 0.0;
}

/* ---- LISTEN / NOTIFY ---- */

static enum ot_err pg_listen(struct ot_sql *db, const char *channel)
{
    char sql[80];
    size_t n = strlen(channel);
    if (n == 0 || n > 63 || strspn(channel, "abcdefghijklmnopqrstuvwxyz0123456789_") != n)
        return OT_ERR_INVAL; /* an identifier, not quoted: nothing to escape */
    snprintf(sql, sizeof sql, "LISTEN %s", channel);
    return pg_exec(db, sql);
}

/* 1 when the socket is readable, 0 when timeout_ms passed, -1 on error */
static int wait_readable(const struct ot_sql *db, int timeout_ms)
{
    struct pollfd p = {.fd = PQsocket(conn(db)), .events = POLLIN};
    if (p.fd < 0)
        return -1;
    int64_t end = ot_time_mono_ms() + timeout_ms;
    for (;;) {
        int left = (int)(end - ot_time_mono_ms());
        int n = poll(&p, 1, left > 0 ? left : 0);
        if (n >= 0)
            return n > 0;
        if (errno != EINTR)
            return -1;
    }
}

static enum ot_err pg_wait_notify(struct ot_sql *db, int timeout_ms, char *payload, size_t cap,
                                  int *got)
{
    for (int waited = 0;; waited = 1) {
        if (!PQconsumeInput(conn(db))) /* also how a closed connection shows */
            return OT_ERR_DB;
        PGnotify *n = PQnotifies(conn(db));
        if (n) {
            if (cap)
                snprintf(payload, cap, "%s", n->extra);
            PQfreemem(n);
            *got = 1;
            return OT_OK;
        }
        if (waited)
            return OT_OK; /* readable but no notification (yet): the caller asks again */
        int w = wait_readable(db, timeout_ms);
        if (w < 0)
            return OT_ERR_DB;
        if (w == 0)
            return OT_OK;
    }
}

static enum ot_err pg_ping(struct ot_sql *db, int timeout_ms)
{
    int64_t end = ot_time_mono_ms() + timeout_ms;
    enum ot_err rc = OT_OK;
    if (!PQsendQuery(conn(db), "SELECT 1"))
        return OT_ERR_DB;
    for (;;) {
        if (!PQconsumeInput(conn(db)))
            return OT_ERR_DB;
        if (!PQisBusy(conn(db)))
            break;
        int left = (int)(end - ot_time_mono_ms());
        if (left <= 0)
            return OT_ERR_TIMEOUT;
        int w = wait_readable(db, left);
        if (w < 0)
            return OT_ERR_DB;
    }
    PGresult *r;
    while ((r = PQgetResult(conn(db)))) {
        if (PQresultStatus(r) != PGRES_TUPLES_OK)
            rc = OT_ERR_DB;
        PQclear(r);
    }
    return rc;
}

const struct ot_sql_ops ot_sql__pg_ops = {
    .kind = OT_SQL_POSTGRES,
    .open = pg_open,
    .close = pg_close,
    .errmsg = pg_errmsg,
    .lost = pg_lost,
    .reconnect = pg_reconnect,
    .exec = pg_exec,
    .begin_sql = "BEGIN",
    .prepare = pg_prepare,
    .finalize = pg_finalize,
    .bind_int64 = pg_bind_int64,
    .bind_double = pg_bind_double,
    .bind_text = pg_bind_text,
    .bind_null = pg_bind_null,
    .step = pg_step,
    .reset = pg_reset,
    .column_count = pg_column_count,
    .is_null = col_is_null,
    .text = col_text,
    .int64 = col_int64,
    .dbl = col_double,
    .listen = pg_listen,
    .wait_notify = pg_wait_notify,
    .ping = pg_ping,
};
