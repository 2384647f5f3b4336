/* feed.c - buffered rows of table events for the open transaction
 * (feed.h). */
#include "feed.h"

#include <stdlib.h>
#include <string.h>

#define FEED_FLUSH_ROWS 2000
#define FEED_FLUSH_BYTES (4u * 1024 * 1024)

enum ot_err feed__open(struct feed *f, struct ot_sql *db)
{
    memset(f, 0, sizeof *f);
    f->db = db;
    if (ot_sql_kind(db) == OT_SQL_POSTGRES)
        /* ids are drawn by the events trigger in the order rows arrive:
         * keep the order of the buffer */
        return sql__prepare(db, &f->st_many,
                            "INSERT INTO events(ts,kind,shipment_id,container,payload) "
                            "SELECT CAST(?1 AS BIGINT), u.k, u.s, u.c, u.p FROM unnest("
                            "CAST(?2 AS TEXT[]), CAST(?3 AS BIGINT[]), CAST(?4 AS TEXT[]), "
                            "CAST(?5 AS TEXT[])) WITH ORDINALITY AS u(k, s, c, p, o) "
                            "ORDER BY u.o");
    return sql__prepare(db, &f->st_one,
                        "INSERT INTO events(ts,kind,shipment_id,container,payload) "
                        "VALUES(?1,?2,?3,?4,?5)");
}

void feed__close(struct feed *f)
{
    feed__drop(f);
    free(f->rows);
    sql_arr__free(&f->kind);
    sql_arr__free(&f->ship);
    sql_arr__free(&f->ctr);
    sql_arr__free(&f->pay);
    /* the statements belong to the connection */
    memset(f, 0, sizeof *f);
}

void feed__drop(struct feed *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->rows[i].container);
        free(f->rows[i].payload);
    }
    f->n = 0;
    f->bytes = 0;
}

static enum ot_err flush_one_by_one(struct feed *f, int64_t now)
{
    enum ot_err rc = OT_OK;
    for (size_t i = 0; i < f->n && !rc; i++) {
        const struct feed_row *r = &f->rows[i];
        sql__bind_i64(f->st_one, 1, now, &rc);
        sql__bind_txt(f->st_one, 2, r->kind, &rc);
        if (r->shipment)
            sql__bind_i64(f->st_one, 3, r->shipment, &rc);
        else
            sql__bind_null(f->st_one, 3, &rc);
        sql__bind_txt(f->st_one, 4, r->container, &rc);
        sql__bind_txt(f->st_one, 5, r->payload, &rc);
        rc = sql__run(f->st_one, rc, NULL);
    }
    return rc;
}

static enum ot_err flush_unnest(struct feed *f, int64_t now)
{
    enum ot_err rc = OT_OK;
    sql_arr__start(&f->kind);
    sql_arr__start(&f->ship);
    sql_arr__start(&f->ctr);
    sql_arr__start(&f->pay);
    for (size_t i = 0; i < f->n; i++) {
        const struct feed_row *r = &f->rows[i];
        sql_arr__txt(&f->kind, r->kind);
        if (r->shipment)
            sql_arr__i64(&f->ship, r->shipment);
        else
            sql_arr__null(&f->ship);
        sql_arr__txt(&f->ctr, r->container);
        sql_arr__txt(&f->pay, r->payload);
    }
    const char *k = sql_arr__end(&f->kind), *s = sql_arr__end(&f->ship);
    const char *c = sql_arr__end(&f->ctr), *p = sql_arr__end(&f->pay);
    if (!k || !s || !c || !p)
        return OT_ERR_NOMEM;
    sql__bind_i64(f->st_many, 1, now, &rc);
    sql__bind_txt(f->st_many, 2, k, &rc);
    sql__bind_txt(f->st_many, 3, s, &rc);
    sql__bind_txt(f->st_many, 4, c, &rc);
    sql__bind_txt(f->st_many, 5, p, &rc);
    return sql__run(f->st_many, rc, NULL);
}

enum ot_err feed__flush(struct feed *f, int64_t now)
{
    if (!f->n)
        return OT_OK;
    enum ot_err rc = f->st_many ? flush_unnest(f, now) : flush_one_by_one(f, now);
    /* written, or the transaction fails and is rolled back: either way the
     * rows leave the buffer (a retry builds them again) */
    feed__drop(f);
    return rc;
}

enum ot_err feed__add(struct feed *f, const char *kind, int64_t shipment, const char *container,
                      const char *payload, int64_t now)
{
    if (f->n >= FEED_FLUSH_ROWS || f->bytes >= FEED_FLUSH_BYTES) {
        enum ot_err rc = feed__flush(f, now);
        if (rc)
            return rc;
    }
    if (f->n == f->cap) {
        size_t ncap = f->cap ? f->cap * 2 : 256;
        struct feed_row *nr = realloc(f->rows, ncap * sizeof *nr);
        if (!nr)
            return OT_ERR_NOMEM;
        f->rows = nr;
        f->cap = ncap;
    }
    struct feed_row *r = &f->rows[f->n];
    r->kind = kind;
    r->shipment = shipment;
    r->container = strdup(container);
    r->payload = strdup(payload);
    if (!r->container || !r->payload) {
        free(r->container);
        free(r->payload);
        return OT_ERR_NOMEM;
    }
    f->bytes += strlen(payload);
    f->n++;
    return OT_OK;
}
