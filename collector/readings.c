/* readings.c - the batched insert into table readings (readings.h). */
#include "readings.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COLS                                                                                       \
    "container,seq,gateway,boot,ts,received_at,late,shipment_id,temp_c,temp2_c,ambient_c,lat,lon," \
    "alt_m,speed_kmh,heading_deg,lid_open,shock_g,battery_pct,gnss_fix,missing,extra"

/* array parameters of the PostgreSQL statement, in order */
enum {
    A_CTR,
    A_SEQ,
    A_GW,
    A_BOOT,
    A_TS,
    A_LATE,
    A_SHIP,
    A_CH0,
    A_MISS = A_CH0 + OT_CH__COUNT,
    A_EXTRA,
    A__N
};
_Static_assert(A__N == READINGS_ARRAYS, "array parameters");

static int ch_is_int(int ch)
{
    return ot_channels[ch].is_bool || ot_channels[ch].is_int;
}

static enum ot_err prepare_many(struct readings *rd)
{
    static const char *const fixed[A_CH0] = {"TEXT",   "BIGINT",  "TEXT",  "BIGINT",
                                             "BIGINT", "INTEGER", "BIGINT"};
    char sql[2048], *p = sql, *end = sql + sizeof sql;
    p += snprintf(p, (size_t)(end - p),
                  "INSERT INTO readings(" COLS ") SELECT u.a0, u.a1, u.a2, u.a3, u.a4, "
                  "CAST(?1 AS BIGINT)");
    for (int i = A_LATE; i < A__N; i++)
        p += snprintf(p, (size_t)(end - p), ", u.a%d", i);
    p += snprintf(p, (size_t)(end - p), " FROM unnest(");
    for (int i = 0; i < A__N; i++) {
        const char *type = i < A_CH0              ? fixed[i]
                           : i >= A_MISS          ? "TEXT"
                           : ch_is_int(i - A_CH0) ? "INTEGER"
                                                  : "DOUBLE PRECISION";
        p += snprintf(p, (size_t)(end - p), "%sCAST(?%d AS %s[])", i ? ", " : "", i + 2, type);
    }
    p += snprintf(p, (size_t)(end - p), ") AS u(");
    for (int i = 0; i < A__N; i++)
        p += snprintf(p, (size_t)(end - p), "%sa%d", i ? "," : "", i);
    p += snprintf(p, (size_t)(end - p),
                  ") ON CONFLICT (container, seq) DO NOTHING RETURNING container, seq");
    if (p >= end)
        return OT_ERR_TOOBIG;
    return sql__prepare(rd->db, &rd->st_many, sql);
}

enum ot_err readings__open(struct readings *rd, struct ot_sql *db)
{
    memset(rd, 0, sizeof *rd);
    rd->db = db;
    enum ot_err rc =
        sql__prepare(db, &rd->st_flag_future,
                     "UPDATE readings SET clock_future=1 WHERE container=?1 AND seq=?2");
    if (rc)
        return rc;
    if (ot_sql_kind(db) == OT_SQL_POSTGRES)
        return prepare_many(rd);
    return sql__prepare(db, &rd->st_one,
                        "INSERT INTO readings(" COLS ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
                        "?,?,?,?,?) ON CONFLICT (container, seq) DO NOTHING");
}

void readings__close(struct readings *rd)
{
    for (size_t i = 0; i < sizeof rd->cols / sizeof rd->cols[0]; i++)
        sql_arr__free(&rd->cols[i]);
    free(rd->slots);
    memset(rd, 0, sizeof *rd);
}

enum ot_err readings__flag_future(struct readings *rd, const char *container, int64_t seq)
{
    enum ot_err rc = OT_OK;
    sql__bind_txt(rd->st_flag_future, 1, container, &rc);
    sql__bind_i64(rd->st_flag_future, 2, seq, &rc);
    return sql__run(rd->st_flag_future, rc, NULL);
}

/* JSON of missing channels and of extra channels, or NULL when none */
static char *missing_json(const struct ot_reading *r)
{
    if (!r->missing)
        return NULL;
    cJSON *a = cJSON_CreateArray();
    char *s = NULL;
    if (!a)
        return NULL;
    for (int ch = 0; ch < OT_CH__COUNT; ch++)
        if ((r->missing >> ch) & 1u)
            cJSON_AddItemToArray(a, cJSON_CreateString(ot_channels[ch].name));
    s = cJSON_PrintUnformatted(a);
    cJSON_Delete(a);
    return s;
}

static char *extra_json(const struct ot_reading *r)
{
    if (!r->n_extra)
        return NULL;
    cJSON *o = cJSON_CreateObject();
    char *s = NULL;
    if (!o)
        return NULL;
    for (size_t i = 0; i < r->n_extra; i++) {
        if (r->extra[i].is_bool)
            cJSON_AddBoolToObject(o, r->extra[i].name, r->extra[i].value != 0.0);
        else
            cJSON_AddNumberToObject(o, r->extra[i].name, r->extra[i].value);
    }
    s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* ---- SQLite: one row at a time ---------------------------------------- */

static enum ot_err insert_one(struct readings *rd, struct reading_row *w, int64_t now)
{
    struct ot_sql_stmt *st = rd->st_one;
    const struct ot_reading *r = w->r;
    enum ot_err rc = OT_OK;
    int64_t changed = 0;
    char *miss = missing_json(r), *extra = extra_json(r);
    if ((r->missing && !miss) || (r->n_extra && !extra))
        rc = OT_ERR_NOMEM;
    sql__bind_txt(st, 1, w->container, &rc);
    sql__bind_i64(st, 2, r->seq, &rc);
    sql__bind_txt(st, 3, w->gateway, &rc);
    sql__bind_i64(st, 4, w->boot, &rc);
    sql__bind_i64(st, 5, r->ts, &rc);
    sql__bind_i64(st, 6, now, &rc);
    sql__bind_i64(st, 7, w->late, &rc);
    if (w->shipment)
        sql__bind_i64(st, 8, w->shipment, &rc);
    else
        sql__bind_null(st, 8, &rc);
    for (int ch = 0; ch < OT_CH__COUNT; ch++) {
        if (!ot_reading_has(r, (enum ot_channel)ch))
            sql__bind_null(st, 9 + ch, &rc);
        else if (ch_is_int(ch))
            sql__bind_i64(st, 9 + ch, (int64_t)r->v[ch], &rc);
        else
            sql__bind_dbl(st, 9 + ch, r->v[ch], &rc);
    }
    sql__bind_txt(st, 21, miss, &rc);
    sql__bind_txt(st, 22, extra, &rc);
    rc = sql__run(st, rc, &changed);
    w->stored = !rc && changed > 0;
    cJSON_free(miss);
    cJSON_free(extra);
    return rc;
}

/* ---- PostgreSQL: one statement per group ------------------------------ */

static size_t slot_hash(const char *container, int64_t seq)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *p = container; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    h ^= (uint64_t)seq * 0x9e3779b97f4a7c15ull;
    return (size_t)(h ^ (h >> 29));
}

/* Indexes the first row of each (container, seq); NULL-free slots hold
 * SIZE_MAX. */
static enum ot_err index_rows(struct readings *rd, const struct reading_row *rows, size_t n)
{
    size_t want = 16;
    while (want < 2 * n)
        want *= 2;
    if (want > rd->n_slots) {
        size_t *ns = realloc(rd->slots, want * sizeof *ns);
        if (!ns)
            return OT_ERR_NOMEM;
        rd->slots = ns;
        rd->n_slots = want;
    }
    memset(rd->slots, 0xff, rd->n_slots * sizeof *rd->slots);
    for (size_t i = 0; i < n; i++) {
        size_t k = slot_hash(rows[i].container, rows[i].r->seq) & (rd->n_slots - 1);
        for (;; k = (k + 1) & (rd->n_slots - 1)) {
            size_t j = rd->slots[k];
            if (j == SIZE_MAX) {
                rd->slots[k] = i;
                break;
            }
            if (rows[j].r->seq == rows[i].r->seq && !strcmp(rows[j].container, rows[i].container))
                break; /* the same reading again in this group: the first row wins */
        }
    }
    return OT_OK;
}

static struct reading_row *find_row(struct readings *rd, struct reading_row *rows,
                                    const char *container, int64_t seq)
{
    size_t k = slot_hash(container, seq) & (rd->n_slots - 1);
    for (;; k = (k + 1) & (rd->n_slots - 1)) {
        size_t j = rd->slots[k];
        if (j == SIZE_MAX)
            return NULL;
        if (rows[j].r->seq == seq && !strcmp(rows[j].container, container))
            return &rows[j];
    }
}

static enum ot_err build_arrays(struct readings *rd, const struct reading_row *rows, size_t n)
{
    struct sql_arr *a = rd->cols;
    for (int i = 0; i < A__N; i++)
        sql_arr__start(&a[i]);
    for (size_t i = 0; i < n; i++) {
        const struct reading_row *w = &rows[i];
        const struct ot_reading *r = w->r;
        char *miss = missing_json(r), *extra = extra_json(r);
        if ((r->missing && !miss) || (r->n_extra && !extra)) {
            cJSON_free(miss);
            cJSON_free(extra);
            return OT_ERR_NOMEM;
        }
        sql_arr__txt(&a[A_CTR], w->container);
        sql_arr__i64(&a[A_SEQ], r->seq);
        sql_arr__txt(&a[A_GW], w->gateway);
        sql_arr__i64(&a[A_BOOT], w->boot);
        sql_arr__i64(&a[A_TS], r->ts);
        sql_arr__i64(&a[A_LATE], w->late);
        if (w->shipment)
            sql_arr__i64(&a[A_SHIP], w->shipment);
        else
            sql_arr__null(&a[A_SHIP]);
        for (int ch = 0; ch < OT_CH__COUNT; ch++) {
            struct sql_arr *c = &a[A_CH0 + ch];
            if (!ot_reading_has(r, (enum ot_channel)ch))
                sql_arr__null(c);
            else if (ch_is_int(ch))
                sql_arr__i64(c, (int64_t)r->v[ch]);
            else
                sql_arr__dbl(c, r->v[ch]);
        }
        sql_arr__txt(&a[A_MISS], miss);
        sql_arr__txt(&a[A_EXTRA], extra);
        cJSON_free(miss);
        cJSON_free(extra);
    }
    return OT_OK;
}

static enum ot_err insert_many(struct readings *rd, struct reading_row *rows, size_t n, int64_t now)
{
    struct ot_sql_stmt *st = rd->st_many;
    enum ot_err rc = index_rows(rd, rows, n);
    if (!rc)
        rc = build_arrays(rd, rows, n);
    if (rc)
        return rc;
    sql__bind_i64(st, 1, now, &rc);
    for (int i = 0; i < A__N; i++) {
        const char *lit = sql_arr__end(&rd->cols[i]);
        if (!lit && !rc)
            rc = OT_ERR_NOMEM;
        sql__bind_txt(st, i + 2, lit, &rc);
    }
    int row = 0;
    if (!rc)
        rc = ot_sql_step(st, &row);
    while (!rc && row) {
        const char *c = ot_sql_text(st, 0);
        struct reading_row *w = c ? find_row(rd, rows, c, ot_sql_int64(st, 1)) : NULL;
        if (w)
            w->stored = 1;
        rc = ot_sql_step(st, &row);
    }
    ot_sql_reset(st);
    return rc;
}

enum ot_err readings__insert(struct readings *rd, struct reading_row *rows, size_t n, int64_t now)
{
    enum ot_err rc = OT_OK;
    for (size_t i = 0; i < n; i++)
        rows[i].stored = 0;
    if (!n)
        return OT_OK;
    if (rd->st_many)
        return insert_many(rd, rows, n, now);
    for (size_t i = 0; i < n && !rc; i++)
        rc = insert_one(rd, &rows[i], now);
    return rc;
}
