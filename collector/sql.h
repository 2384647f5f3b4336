/* sql.h - helpers every worker file uses over ot_sql (common/ot_sql.h):
 * prepare a statement for the connection's life, bind values while keeping
 * the first error, run a statement whose rows we do not read, and build
 * PostgreSQL array literals for the batched inserts (readings.c, feed.c).
 *
 * Binding: each sql__bind_* does nothing once *rc holds an error, so a
 * caller binds every parameter and checks once, in sql__run. Statements
 * are always reset after use (sql__run does it; a caller that reads rows
 * resets when done), so the next use starts clean. */
#ifndef COLLECTOR_SQL_H
#define COLLECTOR_SQL_H

#include <stddef.h>
#include <stdint.h>

#include "ot_err.h"
#include "ot_sql.h"

enum ot_err sql__prepare(struct ot_sql *db, struct ot_sql_stmt **st, const char *sql);

void sql__bind_i64(struct ot_sql_stmt *st, int idx, int64_t v, enum ot_err *rc);
/* NaN binds NULL */
void sql__bind_dbl(struct ot_sql_stmt *st, int idx, double v, enum ot_err *rc);
/* NULL binds NULL */
void sql__bind_txt(struct ot_sql_stmt *st, int idx, const char *s, enum ot_err *rc);
void sql__bind_null(struct ot_sql_stmt *st, int idx, enum ot_err *rc);

/* Steps st once (when rc is OT_OK), then resets it. *changes (may be NULL)
 * gets the rows the statement changed. Returns the first error: rc, or the
 * step's. */
enum ot_err sql__run(struct ot_sql_stmt *st, enum ot_err rc, int64_t *changes);

/* A PostgreSQL array literal ({1,2,NULL}, {"a","b\"c"}) built in memory. */
struct sql_arr {
    char *buf;
    size_t len, cap;
    size_t n;  /* elements */
    int nomem; /* an append failed */
};
void sql_arr__start(struct sql_arr *a);
void sql_arr__i64(struct sql_arr *a, int64_t v);
void sql_arr__dbl(struct sql_arr *a, double v);      /* NaN: NULL */
void sql_arr__txt(struct sql_arr *a, const char *s); /* NULL: NULL */
void sql_arr__null(struct sql_arr *a);
/* Closes the literal; NULL when out of memory. Valid until the next start. */
const char *sql_arr__end(struct sql_arr *a);
void sql_arr__free(struct sql_arr *a);

#endif
