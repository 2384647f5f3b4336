/* db.c - SQLite access for the API: a fixed pool of connections (one per
 * worker thread plus spares, guarded by a mutex and a condition variable),
 * each with every statement prepared once on first use and kept for the
 * connection's life. A statement handed out is already reset and cleared. */
#include "api.h"

#include <stdlib.h>
#include <string.h>

#include "ot_db.h"
#include "ot_log.h"
#include "ot_time.h"

/* columns shared by the list and the detail of shipments, generated from
 * API_SHIP_COLUMNS (api.h) so that the text and enum api_ship_col agree */
#define SHIP_COL_TEXT(name, expr) expr ", "
#define SHIP_COL_LAST(name, expr) expr
#define SHIP_COLS_TEXT API_SHIP_COLUMNS(SHIP_COL_TEXT, SHIP_COL_LAST)
#define SHIP_SELECT                                                                                \
    "SELECT " SHIP_COLS_TEXT                                                                       \
    " FROM shipments s LEFT JOIN readings r ON r.container = s.container AND r.seq ="              \
    "  (SELECT r2.seq FROM readings r2 WHERE r2.shipment_id = s.id"                                \
    "   ORDER BY r2.ts DESC LIMIT 1) "

#define ALARM_COLS                                                                                 \
    "SELECT id, type, severity, state, raised_at, cleared_at, acked_at, acked_by,"                 \
    " ack_comment, escalated_at, late, message, value, container, shipment_id FROM alarms "

static const char *const sql[ST__COUNT] = {
    [ST_TOKEN_BY_HASH] = "SELECT id, name, role, containers FROM tokens"
                         " WHERE token_hash = ?1 AND revoked_at IS NULL",
    [ST_SHIP_LIST] =
        SHIP_SELECT "WHERE (?1 IS NULL OR s.status = ?1)"
                    " AND (?2 = 0 OR s.status IN ('created','in_transit')) AND s.id > ?3"
                    " AND (?4 IS NULL OR s.container IN (SELECT value FROM json_each(?4)))"
                    " ORDER BY s.id LIMIT ?5",
    [ST_SHIP_GET] = SHIP_SELECT "WHERE s.id = ?1",
    [ST_SHIP_INSERT] =
        "INSERT INTO shipments (container, profile, donation_code, cross_clamp_at,"
        " origin_name, origin_lat, origin_lon, dest_name, dest_lat, dest_lon, mode, status,"
        " created_at, created_by, updated_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'created', ?12, ?13, ?12)",
    [ST_SHIP_OPEN_FOR_CONTAINER] = "SELECT id FROM shipments WHERE container = ?1"
                                   " AND status IN ('created','in_transit')",
    [ST_SHIP_SET_STATUS] =
        "UPDATE shipments SET status = ?2, updated_at = ?3,"
        " delivered_at = CASE WHEN ?2 = 'delivered' THEN ?3 ELSE delivered_at END,"
        " closed_at = CASE WHEN ?2 IN ('closed','discarded') THEN ?3 ELSE closed_at END"
        " WHERE id = ?1 AND status = ?4",
    [ST_PING] = "SELECT count(*) FROM sqlite_schema",
    [ST_READINGS] =
        "SELECT seq, ts, temp_c, temp2_c, ambient_c, lat, lon, alt_m, speed_kmh, heading_deg,"
        " lid_open, shock_g, battery_pct, gnss_fix, missing, extra FROM readings"
        " WHERE shipment_id = ?1 AND ts >= ?2 AND ts <= ?3"
        " AND (ts > ?4 OR (ts = ?4 AND seq > ?5)) ORDER BY ts, seq LIMIT ?6",
    [ST_READINGS_BUCKETED] =
        "SELECT ts / ?6 AS b, max(seq), max(ts), avg(temp_c), avg(temp2_c), avg(ambient_c),"
        " avg(lat), avg(lon), avg(alt_m), avg(speed_kmh), max(lid_open), max(shock_g),"
        " avg(battery_pct), min(gnss_fix), min(temp_c), max(temp_c), count(*)"
        " FROM readings WHERE shipment_id = ?1 AND ts >= ?2 AND ts <= ?3 AND ts >= ?4"
        " GROUP BY b ORDER BY b LIMIT ?5",
    [ST_ALARMS_LIST] = ALARM_COLS "WHERE shipment_id = ?1 AND id > ?2"
                                  " AND (?3 IS NULL OR state = ?3) ORDER BY id LIMIT ?4",
    [ST_ALARM_GET] = ALARM_COLS "WHERE id = ?1",
    [ST_ALARM_ACK] =
        "UPDATE alarms SET state = CASE WHEN state = 'raised' THEN 'acknowledged' ELSE state END,"
        " acked_at = ?2, acked_by = ?3, ack_comment = ?4, updated_at = ?2"
        " WHERE id = ?1 AND acked_at IS NULL",
    [ST_EVENT_INSERT] = "INSERT INTO events (ts, kind, shipment_id, container, payload)"
                        " VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_AUDIT_INSERT] = "INSERT INTO audit (ts, actor_name, actor_role, action, target, detail)"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_EVENTS_AFTER] =
        "SELECT id, ts, kind, shipment_id, container, payload FROM events WHERE id > ?1"
        " AND (?2 IS NULL OR container IN (SELECT value FROM json_each(?2)))"
        " ORDER BY id LIMIT ?3",
    [ST_EVENTS_MAX_ID] = "SELECT coalesce(max(id), 0) FROM events",
    [ST_EVENTS_MIN_ID] = "SELECT min(id) FROM events",
    [ST_TOKEN_INSERT] = "INSERT INTO tokens (name, role, token_hash, containers, created_at)"
                        " VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_TOKEN_LIST] = "SELECT id, name, role, containers, created_at, revoked_at FROM tokens"
                      " ORDER BY id",
    [ST_TOKEN_REVOKE] = "UPDATE tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
};

struct api_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t n, n_free;
    struct api_db *conns;
    struct api_db **free_list;
};

enum ot_err api__db_open(const char *path, struct api_db *d)
{
    memset(d, 0, sizeof *d);
    enum ot_err rc = ot_db_open(path, &d->sql);
    if (rc)
        return rc;
    d->db = ot_sql_sqlite_handle(d->sql);
    if (!d->db) {
        ot_error("api: PostgreSQL is not supported by this build yet database=%s",
                 ot_sql_name(d->sql));
        ot_sql_close(d->sql);
        return OT_ERR_INVAL;
    }
    return OT_OK;
}

void api__db_close(struct api_db *d)
{
    if (!d)
        return;
    for (int i = 0; i < ST__COUNT; i++)
        sqlite3_finalize(d->st[i]);
    ot_sql_close(d->sql);
    memset(d, 0, sizeof *d);
}

sqlite3_stmt *api__stmt(struct api_db *d, enum api_stmt which)
{
    sqlite3_stmt *st = d->st[which];
    if (!st) {
        if (sqlite3_prepare_v3(d->db, sql[which], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
            SQLITE_OK) {
            ot_error("sqlite prepare failed stmt=%d error=\"%s\"", (int)which,
                     sqlite3_errmsg(d->db));
            return NULL;
        }
        d->st[which] = st;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

enum ot_err api__db_exec(struct api_db *d, const char *s)
{
    return ot_sql_exec(d->sql, s);
}

enum ot_err api__pool_open(const char *path, size_t n, struct api_pool **out)
{
    enum ot_err rc = OT_ERR_NOMEM;
    struct api_pool *p = calloc(1, sizeof *p);
    *out = NULL;
    if (!p)
        return OT_ERR_NOMEM;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->conns = calloc(n, sizeof *p->conns);
    p->free_list = calloc(n, sizeof *p->free_list);
    if (!p->conns || !p->free_list)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        rc = api__db_open(path, &p->conns[i]);
        if (rc)
            goto fail;
        p->n++;
        p->free_list[p->n_free++] = &p->conns[i];
    }
    *out = p;
    return OT_OK;
fail:
    api__pool_close(p);
    return rc;
}

void api__pool_close(struct api_pool *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        api__db_close(&p->conns[i]);
    free(p->conns);
    free(p->free_list);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}

struct api_db *api__pool_get(struct api_pool *p)
{
    pthread_mutex_lock(&p->mu);
    while (p->n_free == 0)
        pthread_cond_wait(&p->cv, &p->mu);
    struct api_db *d = p->free_list[--p->n_free];
    pthread_mutex_unlock(&p->mu);
    return d;
}

void api__pool_put(struct api_pool *p, struct api_db *d)
{
    if (!d)
        return;
    /* never hand on a connection inside a transaction */
    if (!sqlite3_get_autocommit(d->db))
        ot_sql_rollback(d->sql);
    pthread_mutex_lock(&p->mu);
    p->free_list[p->n_free++] = d;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

enum ot_err api__audit(struct api_db *d, const struct api_principal *who, const char *action,
                       const char *target, const cJSON *detail)
{
    enum ot_err rc = OT_ERR_DB;
    char *txt = detail ? cJSON_PrintUnformatted(detail) : NULL;
    sqlite3_stmt *st = api__stmt(d, ST_AUDIT_INSERT);
    if (!st || (detail && !txt))
        goto out;
    sqlite3_bind_int64(st, 1, ot_time_now_ms());
    sqlite3_bind_text(st, 2, who->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, api__role_name(who->role), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, action, -1, SQLITE_STATIC);
    if (target)
        sqlite3_bind_text(st, 5, target, -1, SQLITE_STATIC);
    if (txt)
        sqlite3_bind_text(st, 6, txt, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        ot_error("audit insert failed error=\"%s\"", sqlite3_errmsg(d->db));
    else
        rc = OT_OK;
    sqlite3_reset(st);
out:
    cJSON_free(txt);
    return rc;
}

enum ot_err api__event(struct api_db *d, const char *kind, int64_t shipment_id,
                       const char *container, const cJSON *payload)
{
    enum ot_err rc = OT_ERR_DB;
    char *txt = cJSON_PrintUnformatted(payload);
    sqlite3_stmt *st = api__stmt(d, ST_EVENT_INSERT);
    if (!st || !txt)
        goto out;
    sqlite3_bind_int64(st, 1, ot_time_now_ms());
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    if (shipment_id > 0)
        sqlite3_bind_int64(st, 3, shipment_id);
    if (container)
        sqlite3_bind_text(st, 4, container, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, txt, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        ot_error("event insert failed error=\"%s\"", sqlite3_errmsg(d->db));
    else
        rc = OT_OK;
    sqlite3_reset(st);
out:
    cJSON_free(txt);
    return rc;
}
