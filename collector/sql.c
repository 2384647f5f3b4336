/* sql.c - helpers of the worker thread over ot_sql (sql.h). */
#include "sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum ot_err sql__prepare(struct ot_sql *db, struct ot_sql_stmt **st, const char *sql)
{
    /* ot_sql logs the backend's error text with the statement */
    return ot_sql_prepare(db, sql, st);
}

void sql__bind_i64(struct ot_sql_stmt *st, int idx, int64_t v, enum ot_err *rc)
{
    if (!*rc)
        *rc = ot_sql_bind_int64(st, idx, v);
}

void sql__bind_dbl(struct ot_sql_stmt *st, int idx, double v, enum ot_err *rc)
{
    if (!*rc)
        *rc = v == v ? ot_sql_bind_double(st, idx, v) : ot_sql_bind_null(st, idx);
}

void sql__bind_txt(struct ot_sql_stmt *st, int idx, const char *s, enum ot_err *rc)
{
    if (!*rc)
        *rc = s ? ot_sql_bind_text(st, idx, s, -1) : ot_sql_bind_null(st, idx);
}

void sql__bind_null(struct ot_sql_stmt *st, int idx, enum ot_err *rc)
{
    if (!*rc)
        *rc = ot_sql_bind_null(st, idx);
}

enum ot_err sql__run(struct ot_sql_stmt *st, enum ot_err rc, int64_t *changes)
{
    int row = 0;
    if (!rc)
        rc = ot_sql_step(st, &row);
    if (changes)
        *changes = rc ? 0 : ot_sql_changes(st);
    ot_sql_reset(st);
    return rc;
}

/* ---- array literals --------------------------------------------------- */

static void put(struct sql_arr *a, const char *s, size_t n)
{
    if (a->nomem)
        return;
    if (a->len + n + 2 > a->cap) {
        size_t ncap = a->cap ? a->cap : 4096;
        while (a->len + n + 2 > ncap)
            ncap *= 2;
        char *nb = realloc(a->buf, ncap);
        if (!nb) {
            a->nomem = 1;
            return;
        }
        a->buf = nb;
        a->cap = ncap;
    }
    memcpy(a->buf + a->len, s, n);
    a->len += n;
}

static void sep(struct sql_arr *a)
{
    if (a->n++)
        put(a, ",", 1);
}

void sql_arr__start(struct sql_arr *a)
{
    a->len = 0;
    a->n = 0;
    a->nomem = 0;
    put(a, "{", 1);
}

void sql_arr__i64(struct sql_arr *a, int64_t v)
{
    char b[24];
    int k = snprintf(b, sizeof b, "%lld", (long long)v);
    sep(a);
    put(a, b, (size_t)k);
}

void sql_arr__dbl(struct sql_arr *a, double v)
{
    char b[32];
    if (v != v) {
        sql_arr__null(a);
        return;
    }
    int k = snprintf(b, sizeof b, "%.17g", v);
    sep(a);
    put(a, b, (size_t)k);
}

void sql_arr__txt(struct sql_arr *a, const char *s)
{
    if (!s) {
        sql_arr__null(a);
        return;
    }
    sep(a);
    put(a, "\"", 1);
    for (const char *p = s; *p;) {
        size_t run = strcspn(p, "\"\\");
        put(a, p, run);
        p += run;
        if (*p) {
            char esc[2] = {'\\', *p++};
            put(a, esc, 2);
        }
    }
    put(a, "\"", 1);
}

void sql_arr__null(struct sql_arr *a)
{
    sep(a);
    put(a, "NULL", 4);
}

const char *sql_arr__end(struct sql_arr *a)
{
    put(a, "}", 1);
    if (a->nomem)
        return NULL;
    a->buf[a->len] = '\0';
    return a->buf;
}

void sql_arr__free(struct sql_arr *a)
{
    free(a->buf);
    memset(a, 0, sizeof *a);
}
