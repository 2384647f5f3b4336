/* ot_sql.c - the backend-neutral half of ot_sql: choosing the backend,
 * owning statements, dispatching through the backend's table, and the
 * placeholder rewrite for PostgreSQL. */
#include "ot_sql.h"
#include "ot_sql_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ot_log.h"

int ot_sql_is_uri(const char *database)
{
    return database &&
           (!strncmp(database, "postgresql://", 13) || !strncmp(database, "postgres://", 11));
}

/* The URI without "user:password@" and without its parameters (which may
 * hold password=...), or the path as it is. */
static void safe_name(const char *database, char *out, size_t cap)
{
    const char *p = strstr(database, "://");
    size_t n = 0;
    if (p) {
        p += 3;
        const char *at = strchr(p, '@'), *slash = strchr(p, '/');
        size_t scheme = (size_t)(p - database);
        if (scheme >= cap)
            scheme = cap - 1;
        memcpy(out, database, scheme);
        n = scheme;
        if (at && (!slash || at < slash))
            p = at + 1;
        database = p;
    }
    size_t rest = p ? strcspn(database, "?") : strlen(database);
    if (n + rest >= cap)
        rest = cap - 1 - n;
    memcpy(out + n, database, rest);
    out[n + rest] = '\0';
}

static enum ot_err open_as(const char *database, int readonly, struct ot_sql **out)
{
    *out = NULL;
    if (!database || !*database)
        return OT_ERR_INVAL;
    struct ot_sql *db = calloc(1, sizeof *db);
    if (!db || !(db->database = strdup(database))) {
        free(db);
        return OT_ERR_NOMEM;
    }
    db->ops = ot_sql_is_uri(database) ? &ot_sql__pg_ops : &ot_sql__sqlite_ops;
    db->gen = 1;
    safe_name(database, db->name, sizeof db->name);
    enum ot_err rc = db->ops->open(db, database, readonly);
    if (rc) {
        ot_sql_close(db);
        return rc;
    }
    *out = db;
    return OT_OK;
}

enum ot_err ot_sql_open(const char *database, struct ot_sql **out)
{
    return open_as(database, 0, out);
}

enum ot_err ot_sql_open_readonly(const char *database, struct ot_sql **out)
{
    return open_as(database, 1, out);
}

void ot_sql_close(struct ot_sql *db)
{
    if (!db)
        return;
    struct ot_sql_stmt *st = db->stmts, *next;
    for (; st; st = next) {
        next = st->next;
        db->ops->finalize(st);
        free(st->sql);
        free(st->pgsql);
        free(st);
    }
    db->ops->close(db);
    free(db->database);
    free(db);
}

enum ot_sql_kind ot_sql_kind(const struct ot_sql *db)
{
    return db->ops->kind;
}

const char *ot_sql_name(const struct ot_sql *db)
{
    return db->name;
}

const char *ot_sql_errmsg(const struct ot_sql *db)
{
    return db->ops->errmsg(db);
}

int ot_sql_lost(const struct ot_sql *db)
{
    return db->ops->lost(db);
}

enum ot_err ot_sql_reconnect(struct ot_sql *db)
{
    enum ot_err rc = db->ops->reconnect(db);
    if (!rc)
        db->gen++;
    return rc;
}

enum ot_err ot_sql_exec(struct ot_sql *db, const char *sql)
{
    return db->ops->exec(db, sql);
}

enum ot_err ot_sql_begin(struct ot_sql *db)
{
    return db->ops->exec(db, db->ops->begin_sql);
}

enum ot_err ot_sql_commit(struct ot_sql *db)
{
    return db->ops->exec(db, "COMMIT");
}

void ot_sql_rollback(struct ot_sql *db)
{
    (void)db->ops->exec(db, "ROLLBACK");
}

enum ot_err ot_sql_prepare(struct ot_sql *db, const char *sql, struct ot_sql_stmt **out)
{
    *out = NULL;
    struct ot_sql_stmt *st = calloc(1, sizeof *st);
    if (!st || !(st->sql = strdup(sql))) {
        free(st);
        return OT_ERR_NOMEM;
    }
    st->db = db;
    enum ot_err rc = db->ops->prepare(st);
    if (rc) {
        db->ops->finalize(st);
        free(st->sql);
        free(st->pgsql);
        free(st);
        return rc;
    }
    st->next = db->stmts;
    db->stmts = st;
    *out = st;
    return OT_OK;
}

enum ot_err ot_sql_prepare_cached(struct ot_sql *db, const char *sql, struct ot_sql_stmt **out)
{
    for (struct ot_sql_stmt *st = db->stmts; st; st = st->next)
        if (st->cached && strcmp(st->sql, sql) == 0) {
            db->ops->reset(st);
            *out = st;
            return OT_OK;
        }
    enum ot_err rc = ot_sql_prepare(db, sql, out);
    if (!rc)
        (*out)->cached = 1;
    return rc;
}

enum ot_err ot_sql_bind_int64(struct ot_sql_stmt *st, int idx, int64_t v)
{
    return st->db->ops->bind_int64(st, idx, v);
}

enum ot_err ot_sql_bind_double(struct ot_sql_stmt *st, int idx, double v)
{
    return st->db->ops->bind_double(st, idx, v);
}

enum ot_err ot_sql_bind_text(struct ot_sql_stmt *st, int idx, const char *s, ptrdiff_t len)
{
    if (!s)
        return st->db->ops->bind_null(st, idx);
    return st->db->ops->bind_text(st, idx, s, len < 0 ? strlen(s) : (size_t)len);
}

enum ot_err ot_sql_bind_null(struct ot_sql_stmt *st, int idx)
{
    return st->db->ops->bind_null(st, idx);
}

enum ot_err ot_sql_step(struct ot_sql_stmt *st, int *row)
{
    return st->db->ops->step(st, row);
}

int64_t ot_sql_changes(const struct ot_sql_stmt *st)
{
    return st->changes;
}

void ot_sql_reset(struct ot_sql_stmt *st)
{
    st->db->ops->reset(st);
}

int ot_sql_column_count(const struct ot_sql_stmt *st)
{
    return st->db->ops->column_count(st);
}

int ot_sql_is_null(const struct ot_sql_stmt *st, int col)
{
    return st->db->ops->is_null(st, col);
}

int64_t ot_sql_int64(const struct ot_sql_stmt *st, int col)
{
    return st->db->ops->int64(st, col);
}

double ot_sql_double(const struct ot_sql_stmt *st, int col)
{
    return st->db->ops->dbl(st, col);
}

const char *ot_sql_text(const struct ot_sql_stmt *st, int col)
{
    return st->db->ops->text(st, col);
}

/* Quoted text ('...', "...", with doubled quotes inside) and -- comments
 * are copied as they are: a ? there is not a placeholder. */
enum ot_err ot_sql_rewrite_placeholders(const char *sql, char *out, size_t cap, int *nparams)
{
    size_t n = 0;
    int max = 0;
    const char *p = sql;
    *nparams = 0;
    while (*p) {
        if (*p == '\'' || *p == '"') {
            char q = *p;
            if (n + 1 >= cap)
                return OT_ERR_TOOBIG;
            out[n++] = *p++;
            while (*p) {
                if (n + 2 >= cap)
                    return OT_ERR_TOOBIG;
                if (*p == q && p[1] == q) {
                    out[n++] = *p++;
                    out[n++] = *p++;
                    continue;
                }
                out[n++] = *p;
                if (*p++ == q)
                    break;
            }
            continue;
        }
        if (p[0] == '-' && p[1] == '-') {
            while (*p && *p != '\n') {
                if (n + 1 >= cap)
                    return OT_ERR_TOOBIG;
                out[n++] = *p++;
            }
            continue;
        }
        if (*p == '?') {
            long v;
            p++;
            if (*p >= '0' && *p <= '9') {
                char *end;
                v = strtol(p, &end, 10);
                if (v < 1 || v > 999)
                    return OT_ERR_PARSE;
                p = end;
            } else {
                v = max + 1;
            }
            if (v > max)
                max = (int)v;
            if (n + 5 >= cap)
                return OT_ERR_TOOBIG;
            out[n++] = '$';
            n += (size_t)snprintf(out + n, cap - n, "%ld", v);
            continue;
        }
        if (n + 1 >= cap)
            return OT_ERR_TOOBIG;
        out[n++] = *p++;
    }
    out[n] = '\0';
    *nparams = max;
    return OT_OK;
}
