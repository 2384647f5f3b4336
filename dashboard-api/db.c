/* db.c - the API's database access through ot_sql (SQLite or PostgreSQL):
 * a fixed pool of connections (one per worker thread plus spares, guarded
 * by a mutex and a condition variable), each with every statement prepared
 * once on first use and kept for the connection's life; the transaction
 * helpers (the only place where one begins or ends); audit and event rows.
 *
 * A lost PostgreSQL connection (server stopped, failover) is noticed when
 * a statement fails on it; the request answers 503 (http.c), and the slot
 * reconnects before its next use (libpq tries every host of a multi-host
 * URI again, so target_session_attrs=read-write finds the new primary).
 * A loss seen on one slot bumps the pool's loss epoch: every other slot
 * pings its connection once before its next use and reconnects if that
 * fails, so a failover costs one 503 per process, not one per slot. */
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
    "  (SELECT r2.seq FROM readings r2 WHERE r2.shipment_id = s.id AND r2.clock_future = 0"        \
    "   ORDER BY r2.ts DESC LIMIT 1)"                                                              \
    " LEFT JOIN containers g ON g.container = s.container"                                         \
    " LEFT JOIN readings p ON p.container = s.container AND p.seq ="                               \
    "  (SELECT r3.seq FROM readings r3 WHERE r3.shipment_id = s.id AND r3.clock_future = 0"        \
    "   AND r3.lat IS NOT NULL AND r3.lon IS NOT NULL ORDER BY r3.ts DESC LIMIT 1) "

#define INCIDENT_COLS                                                                              \
    "SELECT id, shipment_id, kind, opened_at, due_at, state, owner, answer, answered_at,"          \
    " closed_at, detail, opened_by FROM incidents "

#define ALARM_COLS                                                                                 \
    "SELECT id, type, severity, state, raised_at, cleared_at, acked_at, acked_by,"                 \
    " ack_comment, escalated_at, late, message, value, container, shipment_id FROM alarms "

/* A crew token's containers, one parameter each (api__bind_scope): the
 * same SQL on both backends (no json_each), and an index can serve it. */
#define SCOPE_6_37                                                                                 \
    "?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,?26,?27,?28,"     \
    "?29,?30,?31,?32,?33,?34,?35,?36,?37"
#define SCOPE_4_35                                                                                 \
    "?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,?26,"       \
    "?27,?28,?29,?30,?31,?32,?33,?34,?35"
/* the shipments of a list page (ST_SHIP_LIST's filter and scope, id range (?3, ?4]) */
#define CARD_PAGE                                                                                  \
    "(CAST(?1 AS TEXT) IS NULL OR s.status = ?1)"                                                  \
    " AND (?2 = 0 OR s.status IN ('created','in_transit')) AND s.id > ?3 AND s.id <= ?4"           \
    " AND (?5 = 0 OR s.container IN (" SCOPE_6_37 "))"
_Static_assert(API_MAX_CONTAINERS == 32, "SCOPE_* lists one parameter per container");

static const char *const sql[ST__COUNT] = {
    [ST_TOKEN_BY_HASH] = "SELECT id, name, role, containers, expires_at FROM tokens"
                         " WHERE token_hash = ?1 AND revoked_at IS NULL",
    /* the same and the list cache's stamp (ST_EVENTS_MAX_ID): one round trip */
    [ST_TOKEN_BY_HASH_STAMP] = "SELECT id, name, role, containers, expires_at,"
                               " (SELECT coalesce(max(id), 0) FROM events) FROM tokens"
                               " WHERE token_hash = ?1 AND revoked_at IS NULL",
    /* ?1 status or NULL, ?2 active only, ?3 after id, ?4 limit, ?5.. scope */
    [ST_SHIP_LIST] = SHIP_SELECT "WHERE (CAST(?1 AS TEXT) IS NULL OR s.status = ?1)"
                                 " AND (?2 = 0 OR s.status IN ('created','in_transit'))"
                                 " AND s.id > ?3"
                                 " AND (?5 = 0 OR s.container IN (" SCOPE_6_37 "))"
                                 " ORDER BY s.id LIMIT ?4",
    [ST_SHIP_GET] = SHIP_SELECT "WHERE s.id = ?1",
    [ST_SHIP_INSERT] =
        "INSERT INTO shipments (container, profile, donation_code, cross_clamp_at,"
        " origin_name, origin_lat, origin_lon, dest_name, dest_lat, dest_lon, mode, status,"
        " created_at, created_by, updated_at, legs, laterality, abo)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'created', ?12, ?13, ?12,"
        " ?14, ?15, ?16)"
        " RETURNING id",
    [ST_SHIP_OPEN_FOR_CONTAINER] = "SELECT id FROM shipments WHERE container = ?1"
                                   " AND status IN ('created','in_transit')",
    [ST_SHIP_SET_STATUS] =
        "UPDATE shipments SET status = ?2, updated_at = ?3,"
        " delivered_at = CASE WHEN ?2 = 'delivered' THEN ?3 ELSE delivered_at END,"
        " closed_at = CASE WHEN ?2 IN ('closed','discarded') THEN ?3 ELSE closed_at END"
        " WHERE id = ?1 AND status = ?4",
    [ST_PING] = "SELECT 1",
    [ST_READINGS] =
        "SELECT seq, ts, temp_c, temp2_c, ambient_c, lat, lon, alt_m, speed_kmh, heading_deg,"
        " lid_open, shock_g, battery_pct, gnss_fix, missing, extra, clock_future FROM readings"
        " WHERE shipment_id = ?1 AND ts >= ?2 AND ts <= ?3"
        " AND (ts > ?4 OR (ts = ?4 AND seq > ?5)) ORDER BY ts, seq LIMIT ?6",
    [ST_READINGS_BUCKETED] =
        "SELECT ts / ?6 AS b, max(seq), max(ts), avg(temp_c), avg(temp2_c), avg(ambient_c),"
        " avg(lat), avg(lon), avg(alt_m), avg(speed_kmh), max(lid_open), max(shock_g),"
        " avg(battery_pct), min(gnss_fix), min(temp_c), max(temp_c), count(*)"
        " FROM readings WHERE shipment_id = ?1 AND ts >= ?2 AND ts <= ?3 AND ts >= ?4"
        " GROUP BY b ORDER BY b LIMIT ?5",
    [ST_ALARMS_LIST] = ALARM_COLS "WHERE shipment_id = ?1 AND id > ?2"
                                  " AND (CAST(?3 AS TEXT) IS NULL OR state = ?3)"
                                  " ORDER BY id LIMIT ?4",
    [ST_ALARM_GET] = ALARM_COLS "WHERE id = ?1",
    [ST_ALARM_ACK] =
        "UPDATE alarms SET state = CASE WHEN state = 'raised' THEN 'acknowledged' ELSE state END,"
        " acked_at = ?2, acked_by = ?3, ack_comment = ?4, updated_at = ?2"
        " WHERE id = ?1 AND acked_at IS NULL",
    [ST_EVENT_INSERT] = "INSERT INTO events (ts, kind, shipment_id, container, payload)"
                        " VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_AUDIT_INSERT] = "INSERT INTO audit (ts, actor_name, actor_role, action, target, detail)"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    /* ?1 after id, ?2 limit, ?3.. scope */
    [ST_EVENTS_AFTER] = "SELECT id, ts, kind, shipment_id, container, payload FROM events"
                        " WHERE id > ?1 AND (?3 = 0 OR container IN (" SCOPE_4_35 "))"
                        " ORDER BY id LIMIT ?2",
    [ST_EVENTS_MAX_ID] = "SELECT coalesce(max(id), 0) FROM events",
    [ST_EVENTS_MIN_ID] = "SELECT min(id) FROM events",
    [ST_TOKEN_INSERT] = "INSERT INTO tokens (name, role, token_hash, containers, created_at,"
                        " expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
    [ST_TOKEN_LIST] = "SELECT id, name, role, containers, created_at, revoked_at, expires_at"
                      " FROM tokens ORDER BY id",
    /* an open event stream's token, re-checked by the pump (any process
     * may have revoked it: the database is the only shared state) */
    [ST_TOKEN_LIVE] = "SELECT 1 FROM tokens WHERE id = ?1 AND revoked_at IS NULL"
                      " AND (expires_at IS NULL OR expires_at > ?2)",
    [ST_TOKEN_REVOKE] = "UPDATE tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
    /* takes the shipment's row lock (PostgreSQL; SQLite's BEGIN IMMEDIATE
     * holds the database's write lock already): a status read and the
     * writes that depend on it cannot interleave with another API process */
    [ST_SHIP_LOCK] = "UPDATE shipments SET updated_at = updated_at WHERE id = ?1",
    /* a redirect: the collector's ETA is void until it projects the new one */
    [ST_SHIP_REPERFUSED] = "UPDATE shipments SET ischemia_ended_at = ?2, updated_at = ?3"
                           " WHERE id = ?1 AND ischemia_ended_at IS NULL",
    /* alarms the API raises itself (identity_mismatch at a check-in) */
    [ST_ALARM_INSERT] = "INSERT INTO alarms (shipment_id, container, type, severity, state,"
                        " raised_at, late, message, updated_at)"
                        " VALUES (?1, ?2, ?3, 'critical', 'raised', ?4, 0, ?5, ?4) RETURNING id",
    [ST_INCIDENT_INSERT] = "INSERT INTO incidents (shipment_id, kind, source, detail, opened_at,"
                           " due_at, opened_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                           " ON CONFLICT (source) DO NOTHING RETURNING id",
    [ST_INCIDENT_LIST] = INCIDENT_COLS "WHERE (CAST(?1 AS TEXT) IS NULL OR state = ?1)"
                                       " AND (CAST(?2 AS BIGINT) IS NULL OR shipment_id = ?2)"
                                       " AND id > ?3 ORDER BY id LIMIT ?4",
    [ST_INCIDENT_GET] = INCIDENT_COLS "WHERE id = ?1",
    [ST_INCIDENT_UPDATE] =
        "UPDATE incidents SET state = ?2, owner = coalesce(CAST(?3 AS TEXT), owner),"
        " answer = coalesce(CAST(?4 AS TEXT), answer),"
        " answered_at = CASE WHEN ?2 = 'answered' AND answered_at IS NULL THEN ?5"
        "  ELSE answered_at END,"
        " closed_at = CASE WHEN ?2 = 'closed' THEN ?5 ELSE closed_at END"
        " WHERE id = ?1 AND state = ?6",
    [ST_M_INCIDENTS] = "SELECT state, count(*) FROM incidents GROUP BY state ORDER BY state",
    [ST_M_INCIDENTS_OVERDUE] =
        "SELECT count(*) FROM incidents WHERE state = 'open' AND due_at < ?1",
    /* GET /api/v1/stats (stats.c): shipments created in [?1, ?2) */
    [ST_STATS_SHIPMENTS] =
        "SELECT s.id, s.profile, s.mode, s.cross_clamp_at, s.delivered_at, s.ischemia_ended_at,"
        " (SELECT count(*) FROM alarms a WHERE a.shipment_id = s.id"
        "  AND a.type = 'temp_excursion') FROM shipments s"
        " WHERE s.created_at >= ?1 AND s.created_at < ?2 ORDER BY s.id LIMIT 100001",
    [ST_STATS_INCIDENTS] =
        "SELECT count(*),"
        " CAST(coalesce(sum(CASE WHEN answered_at IS NOT NULL AND answered_at <= due_at"
        "  THEN 1 ELSE 0 END), 0) AS BIGINT),"
        " CAST(coalesce(sum(CASE WHEN state = 'open' AND due_at < ?3 THEN 1 ELSE 0 END), 0)"
        "  AS BIGINT)"
        " FROM incidents WHERE opened_at >= ?1 AND opened_at < ?2",
    [ST_SHIP_REDIRECT] = "UPDATE shipments SET dest_name = ?2, dest_lat = ?3, dest_lon = ?4,"
                         " legs = ?5, eta = NULL, eta_computed_at = NULL, updated_at = ?6"
                         " WHERE id = ?1 AND status IN ('created','in_transit')",
    /* /metrics (metrics.c): label columns first, the value last */
    [ST_M_READINGS] = "SELECT count(*) FROM readings",
    [ST_M_REJECTS] = "SELECT label, value FROM counters WHERE name = 'rejects' ORDER BY label",
    [ST_M_ALARMS] = "SELECT type, state, count(*) FROM alarms GROUP BY type, state"
                    " ORDER BY type, state",
    [ST_M_ALARMS_TOTAL] = "SELECT type, count(*) FROM alarms GROUP BY type ORDER BY type",
    [ST_M_SHIPMENTS] = "SELECT status, count(*) FROM shipments GROUP BY status ORDER BY status",
    [ST_M_COUNTERS] = "SELECT name, label, value FROM counters WHERE name <> 'rejects'"
                      " ORDER BY name, label",
    /* shipments_cards.c: ?1..?5 and the scope as ST_SHIP_LIST's, ?4 the
     * page's last id; one statement for the whole page */
    [ST_SHIP_CARD_ALARMS] =
        "SELECT a.id, a.type, a.severity, a.state, a.raised_at, a.cleared_at, a.acked_at,"
        " a.acked_by, a.ack_comment, a.escalated_at, a.late, a.message, a.value, a.container,"
        " a.shipment_id FROM alarms a JOIN shipments s ON s.id = a.shipment_id"
        " WHERE a.state IN ('raised','acknowledged') AND a.shipment_id > ?3"
        " AND a.shipment_id <= ?4 AND " CARD_PAGE " ORDER BY a.shipment_id, a.id",
    /* ?38 bucket ms: per shipment the first temperature of each of the 91
     * buckets up to its latest reading's, found by one index seek each
     * (readings_shipment_ts): the cost does not grow with the reading
     * rate, which averaging every reading of 3 h did (at 1 Hz, 0.5 s for
     * 50 shipments on SQLite); w MATERIALIZED (SQLite 3.35, PostgreSQL 12)
     * finds each latest reading once, not once per bucket */
    [ST_SHIP_CARD_SPARK] =
        "WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < 90),"
        " w AS MATERIALIZED (SELECT s.id, (SELECT r2.ts FROM readings r2"
        "   WHERE r2.shipment_id = s.id"
        "   AND r2.clock_future = 0 ORDER BY r2.ts DESC LIMIT 1) AS last_ts"
        "   FROM shipments s WHERE " CARD_PAGE ")"
        " SELECT w.id, w.last_ts / ?38 - 90 + k.i,"
        " (SELECT r.temp_c FROM readings r WHERE r.shipment_id = w.id"
        "   AND r.ts >= (w.last_ts / ?38 - 90 + k.i) * ?38"
        "   AND r.ts < (w.last_ts / ?38 - 89 + k.i) * ?38"
        "   AND r.clock_future = 0 AND r.temp_c IS NOT NULL ORDER BY r.ts LIMIT 1)"
        " FROM w, k WHERE w.last_ts IS NOT NULL ORDER BY w.id, k.i",
};

struct api_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t n, n_free;
    struct api_db *conns;
    struct api_db **free_list;
    unsigned lost_epoch; /* +1 each time a slot is found lost (atomic) */
};

enum ot_err api__db_open(const char *database, struct api_db *d)
{
    memset(d, 0, sizeof *d);
    enum ot_err rc = ot_db_open(database, &d->sql);
    if (rc)
        return rc;
    return OT_OK;
}

void api__db_close(struct api_db *d)
{
    if (!d)
        return;
    ot_sql_close(d->sql); /* frees the statements too */
    memset(d, 0, sizeof *d);
}

struct ot_sql_stmt *api__stmt(struct api_db *d, enum api_stmt which)
{
    struct ot_sql_stmt *st = d->st[which];
    if (ot_sql_lost(d->sql))
        return NULL; /* known gone (logged once): the request answers 503 */
    if (!st) {
        if (ot_sql_prepare(d->sql, sql[which], &st))
            return NULL; /* logged by ot_sql with the library's text */
        d->st[which] = st;
    }
    ot_sql_reset(st);
    return st;
}

enum ot_err api__db_begin(struct api_db *d)
{
    enum ot_err rc = ot_sql_begin(d->sql);
    d->in_tx = rc == OT_OK;
    return rc;
}

enum ot_err api__db_begin_read(struct api_db *d)
{
    if (ot_sql_kind(d->sql) != OT_SQL_SQLITE)
        return OT_OK;
    enum ot_err rc = ot_sql_exec(d->sql, "BEGIN"); /* deferred: a read transaction */
    d->in_tx = rc == OT_OK;
    return rc;
}

enum ot_err api__db_commit(struct api_db *d)
{
    if (!d->in_tx)
        return OT_OK;
    enum ot_err rc = ot_sql_commit(d->sql);
    if (rc)
        ot_sql_rollback(d->sql);
    d->in_tx = 0;
    return rc;
}

void api__db_rollback(struct api_db *d)
{
    if (!d->in_tx)
        return;
    if (!ot_sql_lost(d->sql)) /* a lost session's transaction is gone with it */
        ot_sql_rollback(d->sql);
    d->in_tx = 0;
}

int api__db_lost(const struct api_db *d)
{
    return d && d->sql && ot_sql_lost(d->sql);
}

enum ot_err api__db_revive(struct api_db *d)
{
    if (!ot_sql_lost(d->sql))
        return OT_OK;
    d->in_tx = 0;
    enum ot_err rc = ot_sql_reconnect(d->sql); /* logs either way */
    if (!rc)
        d->lost_noted = 0;
    return rc;
}

enum ot_err api__bind_int64s(struct ot_sql_stmt *st, const int64_t *v, int n)
{
    enum ot_err rc = OT_OK;
    for (int i = 0; !rc && i < n; i++)
        rc = ot_sql_bind_int64(st, i + 1, v[i]);
    return rc;
}

enum ot_err api__bind_scope(struct ot_sql_stmt *st, int first, const struct api_principal *who)
{
    int scoped = who && who->role == API_ROLE_CREW;
    enum ot_err rc = ot_sql_bind_int64(st, first, scoped);
    for (size_t i = 0; !rc && scoped && i < who->n_containers && i < API_MAX_CONTAINERS; i++)
        rc = ot_sql_bind_text(st, first + 1 + (int)i, who->containers[i], -1);
    return rc;
}

enum ot_err api__pool_open(const char *database, size_t n, struct api_pool **out)
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
        rc = api__db_open(database, &p->conns[i]);
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

/* Before a slot is handed out: reconnect it if it is known lost, or, when
 * another slot was found lost since this one was last checked, ping it
 * first (its server may be the one that went away). */
static void slot_check(struct api_pool *p, struct api_db *d)
{
    unsigned epoch = __atomic_load_n(&p->lost_epoch, __ATOMIC_ACQUIRE);
    if (d->epoch != epoch && !ot_sql_lost(d->sql)) {
        struct ot_sql_stmt *st = api__stmt(d, ST_PING);
        int row = 0;
        if (st) {
            (void)ot_sql_step(st, &row);
            ot_sql_reset(st);
        }
    }
    if (api__db_revive(d) == OT_OK)
        d->epoch = epoch;
}

struct api_db *api__pool_get(struct api_pool *p)
{
    pthread_mutex_lock(&p->mu);
    while (p->n_free == 0)
        pthread_cond_wait(&p->cv, &p->mu);
    struct api_db *d = p->free_list[--p->n_free];
    pthread_mutex_unlock(&p->mu);
    slot_check(p, d);
    return d;
}

void api__pool_put(struct api_pool *p, struct api_db *d)
{
    if (!d)
        return;
    /* never hand on a connection inside a transaction */
    api__db_rollback(d);
    if (ot_sql_lost(d->sql) && !d->lost_noted) {
        /* the others are told to check theirs before their next use */
        __atomic_add_fetch(&p->lost_epoch, 1, __ATOMIC_ACQ_REL);
        d->lost_noted = 1;
        ot_warn("database connection lost; reconnecting before its next use database=%s",
                ot_sql_name(d->sql));
    }
    pthread_mutex_lock(&p->mu);
    p->free_list[p->n_free++] = d;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

enum ot_err api__audit(struct api_db *d, const struct api_principal *who, const char *action,
                       const char *target, const cJSON *detail)
{
    enum ot_err rc = OT_ERR_DB;
    int row;
    char *txt = detail ? cJSON_PrintUnformatted(detail) : NULL;
    struct ot_sql_stmt *st = api__stmt(d, ST_AUDIT_INSERT);
    if (!st || (detail && !txt))
        goto out;
    if ((rc = ot_sql_bind_int64(st, 1, ot_time_now_ms())) ||
        (rc = ot_sql_bind_text(st, 2, who->name, -1)) ||
        (rc = ot_sql_bind_text(st, 3, api__role_name(who->role), -1)) ||
        (rc = ot_sql_bind_text(st, 4, action, -1)) || (rc = ot_sql_bind_text(st, 5, target, -1)) ||
        (rc = ot_sql_bind_text(st, 6, txt, -1)) || (rc = ot_sql_step(st, &row)))
        ot_error("audit insert failed database=%s action=%s error=\"%s\"", ot_sql_name(d->sql),
                 action, ot_sql_errmsg(d->sql));
    ot_sql_reset(st);
out:
    cJSON_free(txt);
    return rc;
}

enum ot_err api__event(struct api_db *d, const char *kind, int64_t shipment_id,
                       const char *container, const cJSON *payload)
{
    enum ot_err rc = OT_ERR_DB;
    int row;
    char *txt = cJSON_PrintUnformatted(payload);
    struct ot_sql_stmt *st = api__stmt(d, ST_EVENT_INSERT);
    if (!st || !txt)
        goto out;
    if ((rc = ot_sql_bind_int64(st, 1, ot_time_now_ms())) ||
        (rc = ot_sql_bind_text(st, 2, kind, -1)) ||
        (rc = shipment_id > 0 ? ot_sql_bind_int64(st, 3, shipment_id) : ot_sql_bind_null(st, 3)) ||
        (rc = ot_sql_bind_text(st, 4, container, -1)) || (rc = ot_sql_bind_text(st, 5, txt, -1)) ||
        (rc = ot_sql_step(st, &row)))
        ot_error("event insert failed database=%s kind=%s error=\"%s\"", ot_sql_name(d->sql), kind,
                 ot_sql_errmsg(d->sql));
    ot_sql_reset(st);
out:
    cJSON_free(txt);
    return rc;
}
