/* ot_ledger_store.c - reading the custody trail from SQLite: shipment
 * identity, entries, covered readings (and their Merkle root), the latest
 * signed head. Writing is ot_ledger_append.c's job. */
#include "ot_ledger_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ot_log.h"

/* --------------------------------------------------------- DB helpers */

enum ot_err ot_lg__prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
        ot_error("ledger: sqlite prepare failed error=\"%s\"", sqlite3_errmsg(db));
        *st = NULL;
        return OT_ERR_DB;
    }
    return OT_OK;
}

static char *col_dup(sqlite3_stmt *st, int i, int *oom)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return NULL;
    const char *t = (const char *)sqlite3_column_text(st, i);
    char *p = ot_lg__dupstr(t ? t : "");
    if (!p)
        *oom = 1;
    return p;
}

struct ot_lg_num ot_lg__col_num(sqlite3_stmt *st, int i)
{
    struct ot_lg_num n = {0, 0};
    int t = sqlite3_column_type(st, i);
    if (t == SQLITE_INTEGER) {
        n.set = 1;
        n.v = (double)sqlite3_column_int64(st, i);
    } else if (t != SQLITE_NULL) {
        n.set = 1;
        n.v = sqlite3_column_double(st, i);
    }
    return n;
}

enum ot_err ot_lg_load_shipment(sqlite3 *db, int64_t id, struct ot_lg_shipment *out)
{
    sqlite3_stmt *st = NULL;
    int oom = 0;
    enum ot_err rc =
        ot_lg__prepare(db,
                       "SELECT container, profile, donation_code, cross_clamp_at, created_at"
                       " FROM shipments WHERE id=?",
                       &st);
    memset(out, 0, sizeof *out);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        out->id = id;
        out->container = col_dup(st, 0, &oom);
        out->profile = col_dup(st, 1, &oom);
        out->donation_code = col_dup(st, 2, &oom);
        out->cross_clamp_at = sqlite3_column_int64(st, 3);
        out->created_at = sqlite3_column_int64(st, 4);
        rc = oom ? OT_ERR_NOMEM : OT_OK;
    } else if (s == SQLITE_DONE) {
        rc = OT_ERR_NOTFOUND;
    } else {
        ot_error("ledger: sqlite step failed error=\"%s\"", sqlite3_errmsg(db));
        rc = OT_ERR_DB;
    }
    sqlite3_finalize(st);
    if (rc)
        ot_lg_shipment_clear(out);
    return rc;
}

static enum ot_err entry_from_row(sqlite3_stmt *st, struct ot_lg_entry *e)
{
    int oom = 0;
    const char *t;
    memset(e, 0, sizeof *e);
    e->shipment = sqlite3_column_int64(st, 0);
    e->index = sqlite3_column_int64(st, 1);
    e->ts = sqlite3_column_int64(st, 2);
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
    e->readings_count = sqlite3_column_int64(st, 15);
    e->readings_from_seq = ot_lg__col_num(st, 16);
    e->readings_to_seq = ot_lg__col_num(st, 17);
    t = (const char *)sqlite3_column_text(st, 18);
    snprintf(e->readings_root, sizeof e->readings_root, "%s", t ? t : "");
    t = (const char *)sqlite3_column_text(st, 19);
    snprintf(e->prev_hash, sizeof e->prev_hash, "%s", t ? t : "");
    t = (const char *)sqlite3_column_text(st, 20);
    snprintf(e->hash, sizeof e->hash, "%s", t ? t : "");
    if (oom) {
        ot_lg_entry_clear(e);
        return OT_ERR_NOMEM;
    }
    return OT_OK;
}

enum ot_err ot_lg_load_entries(sqlite3 *db, int64_t shipment_id, struct ot_lg_entry **v, size_t *n)
{
    sqlite3_stmt *st = NULL;
    struct ot_lg_entry *arr = NULL;
    size_t cnt = 0, cap = 0;
    int s;
    enum ot_err rc = ot_lg__prepare(
        db, "SELECT " OT_LG_ENTRY_COLS " FROM custody WHERE shipment_id=? ORDER BY idx", &st);
    *v = NULL;
    *n = 0;
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, shipment_id);
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
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
        rc = entry_from_row(st, &arr[cnt]);
        if (rc)
            goto fail;
        cnt++;
    }
    if (s != SQLITE_DONE) {
        ot_error("ledger: sqlite step failed error=\"%s\"", sqlite3_errmsg(db));
        rc = OT_ERR_DB;
        goto fail;
    }
    sqlite3_finalize(st);
    *v = arr;
    *n = cnt;
    return OT_OK;
fail:
    sqlite3_finalize(st);
    ot_lg_entries_free(arr, cnt);
    return rc;
}

enum ot_err ot_lg_readings_prepare(sqlite3 *db, sqlite3_stmt **st)
{
    return ot_lg__prepare(
        db,
        "SELECT r.container, r.seq, r.gateway, r.boot, r.ts, r.temp_c, r.temp2_c,"
        " r.ambient_c, r.lat, r.lon, r.alt_m, r.speed_kmh, r.heading_deg, r.lid_open,"
        " r.shock_g, r.battery_pct, r.gnss_fix, r.missing, r.extra"
        " FROM custody_readings c JOIN readings r"
        " ON r.container = c.container AND r.seq = c.seq"
        " WHERE c.shipment_id=? AND c.idx=? ORDER BY c.container, c.seq",
        st);
}

void ot_lg_readings_bind(sqlite3_stmt *st, int64_t shipment, int64_t idx)
{
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, shipment);
    sqlite3_bind_int64(st, 2, idx);
}

void ot_lg_reading_row(sqlite3_stmt *st, int64_t idx, struct ot_lg_reading *r)
{
    const char *t;
    memset(r, 0, sizeof *r);
    r->entry = idx;
    t = (const char *)sqlite3_column_text(st, 0);
    r->container = t ? t : "";
    r->seq = sqlite3_column_int64(st, 1);
    t = (const char *)sqlite3_column_text(st, 2);
    r->gateway = t ? t : "";
    r->boot = sqlite3_column_int64(st, 3);
    r->ts = sqlite3_column_int64(st, 4);
    for (int i = 0; i < OT_LG_NCH; i++)
        r->ch[i] = ot_lg__col_num(st, 5 + i);
    r->missing = (const char *)sqlite3_column_text(st, 17);
    r->extra = (const char *)sqlite3_column_text(st, 18);
}

/* Digest of the readings linked to entry (shipment, idx) in the database. */
enum ot_err ot_lg__db_interval_digest(sqlite3 *db, sqlite3_stmt *st, int64_t shipment, int64_t idx,
                                      struct ot_lg_leaves *l, char root[65])
{
    int s;
    enum ot_err rc;
    struct ot_lg_reading r;
    ot_lg__leaves_reset(l);
    ot_lg_readings_bind(st, shipment, idx);
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        ot_lg_reading_row(st, idx, &r);
        rc = ot_lg__leaves_push(l, &r);
        if (rc) {
            sqlite3_reset(st);
            return rc;
        }
    }
    sqlite3_reset(st);
    if (s != SQLITE_DONE) {
        ot_error("ledger: sqlite step failed error=\"%s\"", sqlite3_errmsg(db));
        return OT_ERR_DB;
    }
    return ot_lg__leaves_root(l, root);
}

enum ot_err ot_lg_load_head(sqlite3 *db, int64_t shipment_id, int64_t *idx, char hash[65],
                            char sig[129], char pub[65])
{
    sqlite3_stmt *st = NULL;
    enum ot_err rc = ot_lg__prepare(db,
                                    "SELECT idx, hash, signature, public_key FROM ledger_heads"
                                    " WHERE shipment_id=? ORDER BY idx DESC LIMIT 1",
                                    &st);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, shipment_id);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        const char *t;
        *idx = sqlite3_column_int64(st, 0);
        t = (const char *)sqlite3_column_text(st, 1);
        snprintf(hash, 65, "%s", t ? t : "");
        t = (const char *)sqlite3_column_text(st, 2);
        snprintf(sig, 129, "%s", t ? t : "");
        t = (const char *)sqlite3_column_text(st, 3);
        snprintf(pub, 65, "%s", t ? t : "");
        rc = OT_OK;
    } else {
        rc = s == SQLITE_DONE ? OT_ERR_NOTFOUND : OT_ERR_DB;
    }
    sqlite3_finalize(st);
    return rc;
}
