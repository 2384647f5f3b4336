/* ot_ledger_store.c - reading the custody trail through ot_sql (SQLite or
 * PostgreSQL, the same SQL): shipment identity, entries, covered readings
 * (and their Merkle root), the latest signed head. Every statement is the
 * connection's cached one (ot_lg__stmt), so it is prepared once per
 * connection. Writing is ot_ledger_append.c's job. */
#include "ot_ledger_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ot_log.h"
#include "ot_sql.h"

/* --------------------------------------------------------- DB helpers */

enum ot_err ot_lg__stmt(struct ot_sql *db, const char *sql, struct ot_sql_stmt **st)
{
    enum ot_err rc = ot_sql_prepare_cached(db, sql, st);
    if (rc) {
        ot_error("ledger: cannot prepare a statement database=%s error=\"%s\"", ot_sql_name(db),
                 ot_strerror(rc));
        *st = NULL;
    }
    return rc;
}

static char *col_dup(const struct ot_sql_stmt *st, int i, int *oom)
{
    const char *t = ot_sql_text(st, i);
    if (!t)
        return NULL;
    char *p = ot_lg__dupstr(t);
    if (!p)
        *oom = 1;
    return p;
}

static void col_copy(const struct ot_sql_stmt *st, int i, char *out, size_t cap)
{
    const char *t = ot_sql_text(st, i);
    snprintf(out, cap, "%s", t ? t : "");
}

struct ot_lg_num ot_lg__col_num(const struct ot_sql_stmt *st, int i)
{
    struct ot_lg_num n = {0, 0};
    if (!ot_sql_is_null(st, i)) {
        n.set = 1;
        n.v = ot_sql_double(st, i);
    }
    return n;
}

enum ot_err ot_lg__bind_num(struct ot_sql_stmt *st, int i, const struct ot_lg_num *n)
{
    if (!n->set)
        return ot_sql_bind_null(st, i);
    if (n->v == floor(n->v) && fabs(n->v) <= 9007199254740992.0)
        return ot_sql_bind_int64(st, i, (int64_t)n->v);
    return ot_sql_bind_double(st, i, n->v);
}

enum ot_err ot_lg_load_shipment(struct ot_sql *db, int64_t id, struct ot_lg_shipment *out)
{
    struct ot_sql_stmt *st = NULL;
    int oom = 0, row = 0;
    enum ot_err rc = ot_lg__stmt(db,
                                 "SELECT container, profile, donation_code, cross_clamp_at,"
                                 " created_at FROM shipments WHERE id=?1",
                                 &st);
    memset(out, 0, sizeof *out);
    if (rc)
        return rc;
    if ((rc = ot_sql_bind_int64(st, 1, id)) || (rc = ot_sql_step(st, &row)))
        goto out;
    if (!row) {
        rc = OT_ERR_NOTFOUND;
        goto out;
    }
    out->id = id;
    out->container = col_dup(st, 0, &oom);
    out->profile = col_dup(st, 1, &oom);
    out->donation_code = col_dup(st, 2, &oom);
    out->cross_clamp_at = ot_sql_int64(st, 3);
    out->created_at = ot_sql_int64(st, 4);
    rc = oom ? OT_ERR_NOMEM : OT_OK;
out:
    ot_sql_reset(st);
    if (rc)
        ot_lg_shipment_clear(out);
    return rc;
}

static enum ot_err entry_from_row(const struct ot_sql_stmt *st, struct ot_lg_entry *e)
{
    int oom = 0;
    memset(e, 0, sizeof *e);
    e->shipment = ot_sql_int64(st, 0);
    e->index = ot_sql_int64(st, 1);
    e->ts = ot_sql_int64(st, 2);
    e->type = col_dup(st, 3, &oom);
    e->actor_name = col_dup(st, 4, &oom);
    e->actor_role = col_dup(st, 5, &oom);
    e->from = col_dup(st, 6, &oom);
    e->to = col_dup(st, 7, &oom);
    e->witness = col_dup(st, 8, &oom);
    e->lat = ot_lg__col_num(st, 9);
    e->lon = ot_lg__col_num(st, 10);
    e->temp_c = ot_lg__col_num(st, 11);
    e->temp_ts = ot_lg__col_num(st, 12);
    e->seal = col_dup(st, 13, &oom);
    e->comment = col_dup(st, 14, &oom);
    e->readings_count = ot_sql_int64(st, 15);
    e->readings_from_seq = ot_lg__col_num(st, 16);
    e->readings_to_seq = ot_lg__col_num(st, 17);
    col_copy(st, 18, e->readings_root, sizeof e->readings_root);
    col_copy(st, 19, e->prev_hash, sizeof e->prev_hash);
    col_copy(st, 20, e->hash, sizeof e->hash);
    e->meaning = col_dup(st, 21, &oom);
    if (oom) {
        ot_lg_entry_clear(e);
        return OT_ERR_NOMEM;
    }
    return OT_OK;
}

enum ot_err ot_lg_load_entries(struct ot_sql *db, int64_t shipment_id, struct ot_lg_entry **v,
                               size_t *n)
{
    struct ot_sql_stmt *st = NULL;
    struct ot_lg_entry *arr = NULL;
    size_t cnt = 0, cap = 0;
    int row = 0;
    enum ot_err rc = ot_lg__stmt(
        db, "SELECT " OT_LG_ENTRY_COLS " FROM custody WHERE shipment_id=?1 ORDER BY idx", &st);
    *v = NULL;
    *n = 0;
    if (rc)
        return rc;
    if ((rc = ot_sql_bind_int64(st, 1, shipment_id)))
        goto fail;
    while (!(rc = ot_sql_step(st, &row)) && row) {
        if (cnt == cap) {
            size_t nc = cap ? cap * 2 : 16;
            struct ot_lg_entry *p = realloc(arr, nc * sizeof *arr);
            if (!p) {
                rc = OT_ERR_NOMEM;
                goto fail;
            }
            arr = p;
            cap = nc;
        }
        if ((rc = entry_from_row(st, &arr[cnt])))
            goto fail;
        cnt++;
    }
    if (rc)
        goto fail;
    ot_sql_reset(st);
    *v = arr;
    *n = cnt;
    return OT_OK;
fail:
    ot_sql_reset(st);
    ot_lg_entries_free(arr, cnt);
    return rc;
}

enum ot_err ot_lg_readings_open(struct ot_sql *db, int64_t shipment, int64_t idx,
                                struct ot_sql_stmt **st)
{
    enum ot_err rc =
        ot_lg__stmt(db,
                    "SELECT r.container, r.seq, r.gateway, r.boot, r.ts, r.temp_c, r.temp2_c,"
                    " r.ambient_c, r.lat, r.lon, r.alt_m, r.speed_kmh, r.heading_deg, r.lid_open,"
                    " r.shock_g, r.battery_pct, r.gnss_fix, r.missing, r.extra"
                    " FROM custody_readings c JOIN readings r"
                    " ON r.container = c.container AND r.seq = c.seq"
                    " WHERE c.shipment_id=?1 AND c.idx=?2 ORDER BY c.container, c.seq",
                    st);
    if (rc)
        return rc;
    if ((rc = ot_sql_bind_int64(*st, 1, shipment)) || (rc = ot_sql_bind_int64(*st, 2, idx))) {
        ot_sql_reset(*st);
        *st = NULL;
    }
    return rc;
}

void ot_lg_reading_row(const struct ot_sql_stmt *st, int64_t idx, struct ot_lg_reading *r)
{
    const char *t;
    memset(r, 0, sizeof *r);
    r->entry = idx;
    t = ot_sql_text(st, 0);
    r->container = t ? t : "";
    r->seq = ot_sql_int64(st, 1);
    t = ot_sql_text(st, 2);
    r->gateway = t ? t : "";
    r->boot = ot_sql_int64(st, 3);
    r->ts = ot_sql_int64(st, 4);
    for (int i = 0; i < OT_LG_NCH; i++)
        r->ch[i] = ot_lg__col_num(st, 5 + i);
    r->missing = ot_sql_text(st, 17);
    r->extra = ot_sql_text(st, 18);
}

enum ot_err ot_lg__db_interval_digest(struct ot_sql *db, int64_t shipment, int64_t idx,
                                      struct ot_lg_leaves *l, char root[65])
{
    struct ot_sql_stmt *st = NULL;
    struct ot_lg_reading r;
    int row = 0;
    enum ot_err rc;
    ot_lg__leaves_reset(l);
    if ((rc = ot_lg_readings_open(db, shipment, idx, &st)))
        return rc;
    while (!(rc = ot_sql_step(st, &row)) && row) {
        ot_lg_reading_row(st, idx, &r);
        if ((rc = ot_lg__leaves_push(l, &r)))
            break;
    }
    ot_sql_reset(st);
    return rc ? rc : ot_lg__leaves_root(l, root);
}

enum ot_err ot_lg_load_head(struct ot_sql *db, int64_t shipment_id, int64_t *idx, char hash[65],
                            char sig[129], char pub[65])
{
    struct ot_sql_stmt *st = NULL;
    int row = 0;
    enum ot_err rc = ot_lg__stmt(db,
                                 "SELECT idx, hash, signature, public_key FROM ledger_heads"
                                 " WHERE shipment_id=?1 ORDER BY idx DESC LIMIT 1",
                                 &st);
    if (rc)
        return rc;
    if (!(rc = ot_sql_bind_int64(st, 1, shipment_id)) && !(rc = ot_sql_step(st, &row))) {
        if (row) {
            *idx = ot_sql_int64(st, 0);
            col_copy(st, 1, hash, 65);
            col_copy(st, 2, sig, 129);
            col_copy(st, 3, pub, 65);
        } else {
            rc = OT_ERR_NOTFOUND;
        }
    }
    ot_sql_reset(st);
    return rc;
}
