/* api.h - organtrack-api internals shared across its files (prefix api__).
 * The design is described in docs/internals/api.md: libmicrohttpd with an
 * epoll thread pool, a route table with roles (default deny), a pool of
 * database connections (ot_sql: SQLite or PostgreSQL) with statements
 * prepared once per connection, and a single SSE pump thread that feeds
 * suspended event-stream connections. */
#ifndef OT_API_H
#define OT_API_H

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "ot_err.h"
#include "ot_legs.h"
#include "ot_sql.h"

struct ot_preservation_set;
struct ot_ledger_key;

/* ---- configuration (config.c) ---- */

struct api_config {
    char listen_host[64]; /* numeric address, no brackets */
    int listen_port;
    int listen_v6; /* listen was "[V6]:PORT" */
    int tls;       /* a "tls" section: HTTPS only */
    char tls_cert_file[512];
    char tls_key_file[512];
    int64_t hsts_max_age_s; /* Strict-Transport-Security max-age */
    char database[512];
    char preservation[512];
    char web_root[512];
    char ledger_key[512];
    int64_t max_body_bytes;
    int64_t threads; /* MHD worker threads */
    int64_t connection_limit;
    int64_t per_ip_connection_limit; /* hard cap per client address */
    int64_t header_timeout_s;        /* to complete request headers; unauthenticated idle */
    int64_t idle_timeout_s;          /* an authenticated connection's idle timeout */
    int64_t sse_heartbeat_s;
    int64_t sse_poll_ms;
    int64_t sse_max_clients;
    int64_t clock_skew_min;        /* cross_clamp_at may be this far in the future */
    int64_t report_utc_offset_min; /* the PDF report prints its times in this offset */
    int64_t list_cache_ms;         /* shipment list page cache TTL, 0 = off */
    char mqtt_host[256];           /* set when an "mqtt" section names tcp://host:port */
    int mqtt_port;
    char log_level[16];
};

/* Loads and validates; on failure err names file and key. */
enum ot_err api__config_load(const char *file, struct api_config *cfg, char *err, size_t errlen);

/* ---- roles (auth.c) ---- */

enum api_role {
    API_ROLE_CREW = 1 << 0,
    API_ROLE_COORDINATOR = 1 << 1,
    API_ROLE_AUDITOR = 1 << 2,
    API_ROLE_ADMIN = 1 << 3,
};
#define API_ROLES_READ (API_ROLE_CREW | API_ROLE_COORDINATOR | API_ROLE_AUDITOR)
#define API_MAX_CONTAINERS 32

struct api_principal {
    int64_t token_id;
    int64_t expires_at; /* epoch ms; 0 = never (kept with a cached principal) */
    char name[65];
    enum api_role role;
    size_t n_containers;
    char containers[API_MAX_CONTAINERS][65];
    char containers_json[API_MAX_CONTAINERS * 68 + 4]; /* JSON array text */
};

const char *api__role_name(enum api_role r);
/* Parses "crew" etc.; 0 if unknown. */
enum api_role api__role_parse(const char *s);
/* 1 if the principal may see shipments of container c (crew: listed only). */
int api__may_container(const struct api_principal *p, const char *c);

/* ---- database: connection pool and statements (db.c) ---- */

enum api_stmt {
    ST_TOKEN_BY_HASH,
    ST_TOKEN_BY_HASH_STAMP,
    ST_SHIP_LIST,
    ST_SHIP_GET,
    ST_SHIP_INSERT,
    ST_SHIP_OPEN_FOR_CONTAINER,
    ST_SHIP_SET_STATUS,
    ST_PING,
    ST_READINGS,
    ST_READINGS_BUCKETED,
    ST_ALARMS_LIST,
    ST_ALARM_GET,
    ST_ALARM_ACK,
    ST_EVENT_INSERT,
    ST_AUDIT_INSERT,
    ST_EVENTS_AFTER,
    ST_EVENTS_MAX_ID,
    ST_EVENTS_MIN_ID,
    ST_TOKEN_INSERT,
    ST_TOKEN_LIST,
    ST_TOKEN_REVOKE,
    ST_TOKEN_LIVE,
    ST_SHIP_LOCK,
    ST_SHIP_REDIRECT,
    ST_SHIP_REPERFUSED,
    ST_ALARM_INSERT,
    ST_INCIDENT_INSERT,
    ST_INCIDENT_LIST,
    ST_INCIDENT_GET,
    ST_INCIDENT_UPDATE,
    ST_M_INCIDENTS,
    ST_M_INCIDENTS_OVERDUE,
    ST_STATS_SHIPMENTS,
    ST_STATS_INCIDENTS,
    ST_M_READINGS,
    ST_M_REJECTS,
    ST_M_ALARMS,
    ST_M_ALARMS_TOTAL,
    ST_M_SHIPMENTS,
    ST_M_COUNTERS,
    ST_SHIP_CARD_ALARMS, /* shipments_cards.c */
    ST_SHIP_CARD_SPARK,
    ST__COUNT
};

/* Columns of a shipment row (ST_SHIP_LIST, ST_SHIP_GET): one list from
 * which both the column indexes (enum api_ship_col) and the column text of
 * db.c's SHIP_SELECT are generated, so adding a column cannot shift the
 * others. X(name, expression) for each column, LAST(...) for the final one
 * (no comma after it in the SQL). The reading columns SC_R_SEQ..SC_R_EXTRA
 * keep the layout of api__reading_json: seq, ts, the channels in enum
 * ot_channel order, missing, extra. */
#define API_SHIP_COLUMNS(X, LAST)                                                                  \
    X(SC_ID, "s.id")                                                                               \
    X(SC_CONTAINER, "s.container")                                                                 \
    X(SC_PROFILE, "s.profile")                                                                     \
    X(SC_DONATION_CODE, "s.donation_code")                                                         \
    X(SC_CROSS_CLAMP_AT, "s.cross_clamp_at")                                                       \
    X(SC_ORIGIN_NAME, "s.origin_name")                                                             \
    X(SC_ORIGIN_LAT, "s.origin_lat")                                                               \
    X(SC_ORIGIN_LON, "s.origin_lon")                                                               \
    X(SC_DEST_NAME, "s.dest_name")                                                                 \
    X(SC_DEST_LAT, "s.dest_lat")                                                                   \
    X(SC_DEST_LON, "s.dest_lon")                                                                   \
    X(SC_MODE, "s.mode")                                                                           \
    X(SC_STATUS, "s.status")                                                                       \
    X(SC_CREATED_AT, "s.created_at")                                                               \
    X(SC_CREATED_BY, "s.created_by")                                                               \
    X(SC_UPDATED_AT, "s.updated_at")                                                               \
    X(SC_DELIVERED_AT, "s.delivered_at")                                                           \
    X(SC_CLOSED_AT, "s.closed_at")                                                                 \
    X(SC_ETA, "s.eta")                                                                             \
    X(SC_LEGS, "s.legs")                                                                           \
    X(SC_LATERALITY, "s.laterality")                                                               \
    X(SC_ABO, "s.abo")                                                                             \
    X(SC_ISCHEMIA_ENDED_AT, "s.ischemia_ended_at")                                                 \
    X(SC_RADIO_ONLINE, "g.online")                                                                 \
    X(SC_RADIO_FLIGHT, "g.flight")                                                                 \
    X(SC_RADIO_SINCE, "g.radio_since")                                                             \
    X(SC_POS_LAT, "p.lat")                                                                         \
    X(SC_POS_LON, "p.lon")                                                                         \
    X(SC_POS_TS, "p.ts")                                                                           \
    X(SC_R_SEQ, "r.seq")                                                                           \
    X(SC_R_TS, "r.ts")                                                                             \
    X(SC_R_TEMP_C, "r.temp_c")                                                                     \
    X(SC_R_TEMP2_C, "r.temp2_c")                                                                   \
    X(SC_R_AMBIENT_C, "r.ambient_c")                                                               \
    X(SC_R_LAT, "r.lat")                                                                           \
    X(SC_R_LON, "r.lon")                                                                           \
    X(SC_R_ALT_M, "r.alt_m")                                                                       \
    X(SC_R_SPEED_KMH, "r.speed_kmh")                                                               \
    X(SC_R_HEADING_DEG, "r.heading_deg")                                                           \
    X(SC_R_LID_OPEN, "r.lid_open")                                                                 \
    X(SC_R_SHOCK_G, "r.shock_g")                                                                   \
    X(SC_R_BATTERY_PCT, "r.battery_pct")                                                           \
    X(SC_R_GNSS_FIX, "r.gnss_fix")                                                                 \
    X(SC_R_MISSING, "r.missing")                                                                   \
    X(SC_R_EXTRA, "r.extra")                                                                       \
    X(SC_ALARMS_ACTIVE, "(SELECT count(*) FROM alarms a WHERE a.shipment_id = s.id"                \
                        " AND a.state IN ('raised','acknowledged'))")                              \
    LAST(SC_ALARMS_CRITICAL,                                                                       \
         "(SELECT count(*) FROM alarms a WHERE a.shipment_id = s.id"                               \
         " AND a.state IN ('raised','acknowledged') AND a.severity = 'critical')")

#define API_SHIP_COL_ENUM(name, expr) name,
enum api_ship_col { API_SHIP_COLUMNS(API_SHIP_COL_ENUM, API_SHIP_COL_ENUM) SC__COUNT };
#undef API_SHIP_COL_ENUM

struct api_db {
    struct ot_sql *sql;                /* the connection (ot_sql.h) */
    struct ot_sql_stmt *st[ST__COUNT]; /* prepared on first use */
    int in_tx;                         /* a transaction is open */
    unsigned epoch;                    /* pool loss epoch it was last checked in */
    int lost_noted;                    /* its loss was logged and told to the pool */
};

struct api_pool;
enum ot_err api__pool_open(const char *database, size_t n, struct api_pool **out);
void api__pool_close(struct api_pool *p);
/* Blocks until a connection is free. Never NULL. A connection that was
 * lost (PostgreSQL stopped, failover) is reconnected here, before its next
 * use; so is one not used since another connection was found lost. */
struct api_db *api__pool_get(struct api_pool *p);
/* Rolls back an open transaction; notes a lost connection. */
void api__pool_put(struct api_pool *p, struct api_db *d);
/* The statement, prepared on first use and reset; NULL on failure (logged)
 * or when the connection is known lost. */
struct ot_sql_stmt *api__stmt(struct api_db *d, enum api_stmt which);
/* Opens one stand-alone connection (CLI, SSE pump); migrates the schema. */
enum ot_err api__db_open(const char *database, struct api_db *d);
void api__db_close(struct api_db *d);
/* Transactions, the only place they start and end: a write transaction
 * (SQLite: BEGIN IMMEDIATE, the write lock at once; PostgreSQL: BEGIN), a
 * read transaction (SQLite: one set of WAL locks for several reads;
 * PostgreSQL: nothing, every statement reads committed data), commit and
 * rollback (a no-op outside a transaction). */
enum ot_err api__db_begin(struct api_db *d);
enum ot_err api__db_begin_read(struct api_db *d);
enum ot_err api__db_commit(struct api_db *d);
void api__db_rollback(struct api_db *d);
/* 1 if the connection is gone (PostgreSQL; never on SQLite). */
int api__db_lost(const struct api_db *d);
/* Reconnects a lost connection; OT_OK if it is usable. */
enum ot_err api__db_revive(struct api_db *d);
/* Binds who's scope to a statement: parameter `first` gets 1 for a crew
 * token (else 0), first+1 .. first+API_MAX_CONTAINERS its containers (the
 * rest stay NULL); the SQL reads (?F = 0 OR container IN (?F+1, ...)), so
 * scoping happens in SQL the same way on both backends. */
enum ot_err api__bind_scope(struct ot_sql_stmt *st, int first, const struct api_principal *who);
/* Binds v[0..n-1] to parameters 1..n; the first failure's code. */
enum ot_err api__bind_int64s(struct ot_sql_stmt *st, const int64_t *v, int n);
/* Appends an audit row and (when kind != NULL) an events row, in the caller's transaction. */
enum ot_err api__audit(struct api_db *d, const struct api_principal *who, const char *action,
                       const char *target, const cJSON *detail);
enum ot_err api__event(struct api_db *d, const char *kind, int64_t shipment_id,
                       const char *container, const cJSON *payload);

/* ---- server context ---- */

struct api_ctx {
    struct api_config cfg;
    struct api_pool *pool;
    struct ot_preservation_set *pres;
    struct ot_ledger_key *key;
    struct api_sse *sse;
    struct api_metrics *metrics;
    struct api_list_cache *list_cache; /* shipment list pages (list_cache.c) */
    struct api_notify *notify;         /* change listener (notify.c); NULL on SQLite */
    struct api_token_cache *tokens;    /* principals of recent tokens (token_cache.c) */
    struct api_guard *guard;           /* connection shedding (conn_guard.c) */
    char web_root_real[4096];          /* realpath of web_root, "" if absent */
};

/* ---- request and response (http.c) ---- */

struct api_req {
    struct api_ctx *ctx;
    struct MHD_Connection *conn;
    const char *method; /* "GET", ... (HEAD is served as GET) */
    const char *url;
    char *body;
    size_t body_len;
    int body_too_big;
    int64_t started_mono_us;
    int route;       /* index in the route table, or API_ROUTE_* */
    int64_t path_id; /* {id} of the route */
    int authenticated;
    struct api_principal who;
    /* response being built */
    unsigned status;
    struct MHD_Response *resp;
    int responded;
    int queued;
    struct api_db *db;  /* pooled connection, taken on first use (api__req_db) */
    int64_t list_stamp; /* API_RF_CACHE_STAMP: read with the token; -1 if not */
    int64_t list_state; /* the events cache state read before authentication */
};

#define API_ROUTE_UNMATCHED (-1)
#define API_ROUTE_STATIC (-2)

/* The request's pooled connection (released after the handler). */
struct api_db *api__req_db(struct api_req *r);

/* Copies in for an error message: valid UTF-8 only, a '?' for any other
 * byte and for control characters (cap bytes, always terminated). */
void api__safe_text(const char *in, char *out, size_t cap);
/* Queue a JSON document (takes ownership of j). */
void api__reply_json(struct api_req *r, unsigned status, cJSON *j);
/* Queue {"error":{"code":code,"message":msg}}. */
void api__reply_error(struct api_req *r, unsigned status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Queue raw bytes (copied) with a content type. */
void api__reply_bytes(struct api_req *r, unsigned status, const char *ctype, const char *data,
                      size_t len, const char *disposition);
/* Adds a header to the reply queued so far (nothing if none is). */
void api__reply_header(struct api_req *r, const char *name, const char *value);
/* Query parameter or NULL. */
const char *api__query(struct api_req *r, const char *key);
/* 400 naming the first query parameter not in known (NULL-terminated); 0 if all known. */
int api__query_check(struct api_req *r, const char *const *known);
/* Parses the body as a JSON object; replies 400/413 itself and returns NULL on failure. */
cJSON *api__body_json(struct api_req *r);
/* 400 naming the first key of body not in known (NULL-terminated), listing
 * the known ones; 0 if all known. */
int api__body_check(struct api_req *r, const cJSON *body, const char *const *known);
/* The request's write transaction (one per request that writes): begins it
 * on the request's connection; on failure replies 503 (busy, or
 * unavailable when the database is gone) and returns -1; 0 otherwise. */
int api__req_begin(struct api_req *r);
/* Commits; on failure rolls back, replies 500 (503 if the database is
 * gone) unless a reply is queued, and returns -1. 0 on success. */
int api__req_commit(struct api_req *r);
/* Rolls the request's transaction back (nothing if none is open). */
void api__req_rollback(struct api_req *r);

/* ---- route table (routes.c) ---- */

typedef void (*api_handler)(struct api_req *r);

/* What http.c does differently for a route (struct api_route.flags). */
enum api_route_flag {
    /* the bearer token may also come as ?access_token= (EventSource cannot
     * send headers); the header wins when both are present */
    API_RF_QUERY_TOKEN = 1 << 0,
    /* token lookup and the handler's reads share one read transaction
     * (BEGIN before authentication): one set of WAL locks per request */
    API_RF_READ_TX = 1 << 1,
    /* the token lookup also reads the list cache's stamp (max events id) in
     * the same statement, into api_req.list_stamp: on PostgreSQL one round
     * trip instead of two for a page served from the cache */
    API_RF_CACHE_STAMP = 1 << 2,
};

struct api_route {
    const char *method;
    const char *pattern; /* segments; "{id}" matches a positive integer */
    unsigned roles;      /* 0 = public (no token) */
    unsigned flags;      /* enum api_route_flag bits */
    api_handler handler;
    const char *name; /* metrics label */
};

extern const struct api_route api__routes[];
extern const size_t api__n_routes;
/* Finds the route for method+path. Returns index, or -1 with *path_known set
 * when some route matches the path under another method (405). */
int api__route_find(const char *method, const char *path, int64_t *id, int *path_known);
/* Matches a path against a pattern; 1 on match (id filled when {id} present). */
int api__route_match(const char *pattern, const char *path, int64_t *id);

/* ---- JSON of row values (json.c) ---- */

/* Column col as an RFC 3339 time (epoch ms in the row), or null. */
void api__add_iso(cJSON *o, const char *key, const struct ot_sql_stmt *st, int col);
/* Column col as a string, or null. */
void api__add_text(cJSON *o, const char *key, const struct ot_sql_stmt *st, int col);
/* A number as raw JSON text that reads back as exactly v (null if not finite). */
void api__add_num(cJSON *o, const char *key, double v);

/* ---- keyset paging (paging.c) ---- */

#define API_LIST_DEFAULT 50
#define API_LIST_MAX 500

/* Builds one list item from the current row of st and records the page's
 * cursor from it in arg; NULL when out of memory. */
typedef cJSON *(*api_page_row_fn)(const struct ot_sql_stmt *st, void *arg);
/* Wraps items into {"items":[...],"next":cursor|null} (takes items; NULL on
 * failure). */
cJSON *api__page(cJSON *items, const char *next);
/* ?limit= (default def, 1..max) and ?cursor= of a list. A bad one gets a
 * 400 naming it and -1; otherwise 1 when a cursor was given (its two parts
 * in *ca, *cb), 0 when not. */
int api__page_args(struct api_req *r, int64_t def, int64_t max, int64_t *limit, int64_t *ca,
                   int64_t *cb);
/* One page of a list: steps st (bound with a LIMIT of limit + 1), adds the
 * rows row() builds to items and sets *more when a row beyond the page
 * exists. Resets st. On a database or memory failure replies 500, frees
 * items and returns -1; 0 otherwise. */
int api__page_fill(struct api_req *r, struct ot_sql_stmt *st, int64_t limit, cJSON *items,
                   int *more, api_page_row_fn row, void *arg);

/* ---- readings (readings.c) ---- */

/* A reading as in the batch: seq, ts, present channels, missing, extras.
 * Columns from `base`: seq, ts, the 12 canonical channels in enum order,
 * missing (JSON array text), extra (JSON object text). */
cJSON *api__reading_json(const struct ot_sql_stmt *st, int base);

/* ---- what a coordinator's card needs, on a list page (shipments_cards.c) ---- */

#define API_CARDS_ALARMS 1u /* ?include=alarms: active alarms of each shipment */
#define API_CARDS_SPARK 2u  /* ?include=spark: its last 3 h of temperature */
#define API_SPARK_EVERY_S 120
#define API_SPARK_BUCKETS 90

/* The list page the cards are added to: its filter (as ST_SHIP_LIST's ?1,
 * ?2) and id range (after, last]. */
struct api_cards_page {
    const char *status;
    int active;
    int64_t after, last;
};
/* ?include= (comma-separated alarms, spark) into API_CARDS_* flags; -1 if
 * it names anything else. */
int api__cards_include(const char *q, unsigned *flags);
/* Adds "alarms" and/or "spark" to each shipment object of items (in id
 * order, the page pg of who's scope): one statement each for the page.
 * -1 on a database or memory failure. */
int api__cards_add(struct api_db *d, cJSON *items, unsigned flags, const struct api_cards_page *pg,
                   const struct api_principal *who);
/* An alarm object from an ALARM_COLS row (alarms.c). */
cJSON *api__alarm_json(const struct ot_sql_stmt *st);

/* ---- shipment list page cache (list_cache.c) ---- */

#define API_LIST_CACHE_KEY 640 /* key: query plus scope */

struct api_list_cache;
enum ot_err api__list_cache_new(struct api_list_cache **out);
void api__list_cache_free(struct api_list_cache *c);
/* The cache's validity stamp: the newest events id; -1 if unknown. */
int64_t api__list_cache_stamp(struct api_db *d);
/* Replies with the cached page for key if it is younger than
 * list_cache_ms and, while the change listener listens (state odd), was
 * made at this events state, else was made at stamp event_id; 1 if it did. */
int api__list_cache_get(struct api_req *r, const char *key, int64_t state, int64_t event_id);
/* Keeps a copy of a rendered page (evicting the oldest slot). */
void api__list_cache_put(struct api_req *r, const char *key, int64_t state, int64_t event_id,
                         const char *body, size_t len);

/* ---- change listener (notify.c) and token cache (token_cache.c) ---- */

enum api_notify_what { API_NOTIFY_EVENTS = 0, API_NOTIFY_TOKENS = 1 };
struct api_notify;
/* PostgreSQL: starts the listener thread (its own connection, LISTEN
 * organtrack_changes). SQLite: nothing, the states stay 0. */
enum ot_err api__notify_start(struct api_ctx *ctx);
void api__notify_stop(struct api_ctx *ctx);
/* A cache state: odd while the listener listens, moved by every change
 * notified; an entry made at state S is good while the state is S and odd. */
int64_t api__notify_state(const struct api_ctx *ctx, enum api_notify_what w);
/* This process committed a write: moves both states (no waiting for the
 * notification of our own write). */
void api__notify_changed(struct api_ctx *ctx);

struct api_token_cache;
enum ot_err api__token_cache_new(struct api_token_cache **out);
void api__token_cache_free(struct api_token_cache *c);
/* Fills who from the entry for this Authorization value made at the token
 * state `state` (odd only); 1 on a hit. */
int api__token_cache_get(struct api_token_cache *c, const char *authz, int64_t state,
                         struct api_principal *who);
/* Keeps who for authz, made at state (nothing unless state is odd). */
void api__token_cache_put(struct api_token_cache *c, const char *authz, int64_t state,
                          const struct api_principal *who);

/* ---- validation helpers (validate.c; pure, unit-tested) ---- */

struct api_place {
    char name[129];
    double lat, lon;
};

struct api_shipment_in {
    char container[65];
    char profile[48];
    char donation_code[65];
    int64_t cross_clamp_at;
    struct api_place origin, destination;
    char mode[8];
    char laterality[8]; /* left, right, both or "" */
    char abo[4];        /* O, A, B, AB with optional + or -, or "" */
    size_t n_legs;      /* planned legs (0: none) */
    struct ot_leg legs[OT_LEGS_MAX];
};

/* Validates a create-shipment body; on failure fills field (the JSON key
 * path, e.g. "origin.lat") and msg, and returns OT_ERR_INVAL. now_ms and
 * skew_ms bound cross_clamp_at. Profile existence is the caller's check. */
enum ot_err api__shipment_parse(const cJSON *body, int64_t now_ms, int64_t skew_ms,
                                struct api_shipment_in *out, char *field, size_t fieldlen,
                                char *msg, size_t msglen);

struct api_custody_in {
    char type[16];
    char from[129], to[129], witness[129];
    int has_place;
    double lat, lon;
    char seal[65];
    char comment[1001];
    /* checkin: what the receiver reads on the label (SPEC v1.1) */
    int has_verify;
    char v_donation_code[65], v_profile[48], v_laterality[8], v_abo[4];
    /* reperfused: when (0: now) */
    int64_t at;
};
enum ot_err api__custody_parse(const cJSON *body, struct api_custody_in *out, char *field,
                               size_t fieldlen, char *msg, size_t msglen);

/* Receipt (receipt.c), inside the custody POST's transaction. The label as
 * the receiver read it, as ledger comment text; and whether it matches the
 * shipment (`mismatch`: "laterality (label left, shipment right); ...").
 * api__checkin_effects raises the critical identity_mismatch alarm and
 * opens its incident when there is a mismatch; api__reperfused_effects ends
 * cold ischaemia at `at`. 0, -1 after a failed write (reply sent). */
void api__checkin_text(const struct api_custody_in *in, const char *mismatch, char *buf,
                       size_t len);
int api__checkin_compare(const cJSON *ship, const struct api_custody_in *in, char *mismatch,
                         size_t len);
int api__checkin_effects(struct api_req *r, struct api_db *d, const char *container,
                         const char *mismatch, int64_t entry_index);
int api__reperfused_effects(struct api_req *r, struct api_db *d, int64_t at);
/* The incidents a custody entry opens by itself: discarded, and an arrival
 * (arrived, received, checkin) after the viability deadline (0: none). */
int api__custody_incidents(struct api_req *r, struct api_db *d, const char *type, int64_t deadline,
                           int64_t entry_index);

/* Incidents (incidents.c). Opens one (source: what opened it, e.g.
 * "custody/3/7", so an automatic incident opens once; NULL by hand);
 * *id = 0 when that source already has one. due_at = opened_at + 5 days. */
#define API_INCIDENT_DUE_MS (5LL * 24 * 3600 * 1000)
enum ot_err api__incident_open(struct api_db *d, int64_t shipment_id, const char *kind,
                               const char *source, const char *detail, int64_t opened_at,
                               const char *by, int64_t *id);
void api__h_incident_list(struct api_req *r);
void api__h_stats(struct api_req *r); /* stats.c */
void api__h_incident_post(struct api_req *r);
void api__h_incident_patch(struct api_req *r);

/* A redirect (PATCH with destination and/or legs, shipments_redirect.c).
 * legs_json points into the body (legs are checked against the
 * destination once it is known); absent or null legs: the plan is dropped. */
struct api_redirect_in {
    int has_dest;
    struct api_place destination;
    const cJSON *legs_json;
    size_t n_legs;
    struct ot_leg legs[OT_LEGS_MAX];
    char comment[1001];
};
enum ot_err api__redirect_parse(const cJSON *body, struct api_redirect_in *out, char *msg,
                                size_t msglen);
void api__ship_redirect(struct api_req *r, const cJSON *body);

/* Legs of a create or a redirect: parsed, and the last one must end at the
 * destination (within 10 km). 0, or -1 with msg. */
int api__legs_parse(const cJSON *arr, const struct api_place *dest, struct ot_leg *legs, size_t *n,
                    char *msg, size_t msglen);
/* 1 if s is a laterality (left, right, both) / an ABO group (O A B AB, +/-). */
int api__laterality_valid(const char *s);
/* Binds legs as shipments.legs JSON text, NULL when n is 0 (shipments_write.c). */
enum ot_err api__bind_legs(struct ot_sql_stmt *st, int i, const struct ot_leg *legs, size_t n);
int api__abo_valid(const char *s);

/* ISBT 128 DIN (din.c): api__din_check is 1 when code is a DIN with a
 * right check character, -1 with a wrong one (expected[0]: the right one,
 * expected[1]: the one given), 0
 * when code is not a DIN with a check character (free-form). The check
 * character of 13 DIN characters ('\0' if one is outside 0-9 A-Z *). */
int api__din_check(const char *code, char expected[2]);
char api__din_check_char(const char din[13]);

/* 1 if s is 1..64 chars of [A-Za-z0-9 ._/:*-] (donation codes: ISBT 128 DIN etc). */
int api__donation_code_valid(const char *s);
/* Optional short free text without control characters; 1 if valid (len <= max). */
int api__text_valid(const char *s, size_t max);
/* limit parameter: NULL -> def; else 1..max. 0 on success. */
int api__parse_limit(const char *s, int64_t def, int64_t max, int64_t *out);
/* Time parameter: RFC 3339 or epoch ms. 0 on success. */
int api__parse_time(const char *s, int64_t *ms);
/* Cursor "A" or "A.B" of non-negative integers. 0 on success. */
int api__parse_cursor(const char *s, int64_t *a, int64_t *b);
/* Static path: rejects "..", NUL, backslash, empty segments; maps "/" to
 * "/index.html"; writes the relative path (no leading '/'). 0 on success. */
int api__static_path(const char *url, char *out, size_t outlen);
/* Content type for a file name by extension. */
const char *api__content_type(const char *name);
/* Formats one SSE message; data may contain newlines (split into data: lines).
 * Returns bytes written or -1 if it does not fit. */
int api__sse_format(char *buf, size_t cap, int64_t id, const char *event, const char *data);
/* Great-circle distance in km. */

/* ---- handlers, by file ---- */

void api__h_health(struct api_req *r);        /* health.c */
void api__h_me(struct api_req *r);            /* auth.c */
void api__h_profiles(struct api_req *r);      /* profiles.c */
void api__h_ship_list(struct api_req *r);     /* shipments_read.c */
void api__h_ship_get(struct api_req *r);      /* shipments_read.c */
void api__h_ship_create(struct api_req *r);   /* shipments_write.c */
void api__h_ship_patch(struct api_req *r);    /* shipments_write.c */
void api__h_readings(struct api_req *r);      /* readings.c */
void api__h_alarms(struct api_req *r);        /* alarms.c */
void api__h_alarm_ack(struct api_req *r);     /* alarms.c */
void api__h_custody_list(struct api_req *r);  /* custody.c */
void api__h_custody_post(struct api_req *r);  /* custody.c */
void api__h_export(struct api_req *r);        /* custody.c */
void api__h_signatures(struct api_req *r);    /* signatures.c */
void api__h_events(struct api_req *r);        /* events.c */
void api__h_metrics(struct api_req *r);       /* metrics.c */
void api__h_tokens_list(struct api_req *r);   /* tokens.c */
void api__h_tokens_create(struct api_req *r); /* tokens.c */
void api__h_tokens_revoke(struct api_req *r); /* tokens.c */
void api__h_static(struct api_req *r);        /* static.c */

/* ---- shipments (shipments_read.c, shipments_write.c) ---- */

/* Loads a shipment row and checks the principal may see it; replies 404/403
 * itself and returns NULL. The JSON is the full shipment object. */
cJSON *api__shipment_load(struct api_req *r, struct api_db *d, int64_t id, char *container,
                          size_t clen, char *status, size_t slen);
/* Shipment object for row id (full detail) in *out, NULL if there is no
 * such shipment; -1 on a database failure, 0 otherwise. */
int api__shipment_json(struct api_ctx *ctx, struct api_db *d, int64_t id, cJSON **out);
/* After a committed change of shipment r->path_id: 200 with it as it is
 * now, or 500 if it cannot be read back (shipments_read.c). */
void api__reply_shipment_changed(struct api_req *r, struct api_db *d);
/* Takes the shipment's row lock for the caller's transaction (a no-op
 * update: PostgreSQL's row lock, SQLite's write lock is held already), so
 * a status read and the writes depending on it cannot interleave with
 * another API process. -1 on a database failure, with the 500 replied
 * (the caller rolls back; shipments_write.c). */
int api__shipment_lock(struct api_req *r, struct api_db *d, int64_t id);
/* Changes the status inside the caller's transaction (event + audit): 0 on
 * success, 1 if it is no longer `from`, -1 on a failed write (shipments_write.c). */
int api__shipment_set_status(struct api_req *r, struct api_db *d, int64_t id, const char *container,
                             const char *from, const char *to, const char *why);

/* ---- electronic signatures (signer.c, signer_cli.c, signatures.c) ---- */

#define API_PIN_MIN 6
#define API_PIN_MAX 128
#define API_PIN_MAX_FAILURES 5             /* wrong PINs ... */
#define API_PIN_WINDOW_MS (15 * 60 * 1000) /* ... within this ... */
#define API_PIN_LOCK_MS (15 * 60 * 1000)   /* ... lock the signer this long */

/* A stored signing PIN: algorithm, its parameters, salt and hash (hex). */
struct api_signer {
    char kdf[16];
    char params[64];
    char salt[129];
    char hash[129];
};

/* 6..128 bytes? */
int api__pin_valid(const char *pin);
/* Stores name's PIN (scrypt, fresh salt) and clears its failures, in the
 * caller's transaction. OT_ERR_INVAL for a PIN out of length. */
enum ot_err api__signer_set(struct api_db *d, const char *name, const char *pin, int64_t now);
/* name's stored PIN; OT_ERR_NOTFOUND when none is set. */
enum ot_err api__signer_get(struct api_db *d, const char *name, struct api_signer *s);
/* 1: pin is right; 0: wrong; -1: the stored record is unusable or the KDF failed. */
int api__signer_pin_ok(const struct api_signer *s, const char *pin);
/* *until_ms > 0: name is locked out until then (server clock, now). */
enum ot_err api__signer_locked(struct api_db *d, const char *name, int64_t now, int64_t *until_ms);
/* Records a wrong PIN at now; clears name's failures (a right PIN). */
enum ot_err api__signer_fail(struct api_db *d, const char *name, int64_t now);
enum ot_err api__signer_clear(struct api_db *d, const char *name);
/* `organtrack-api signer set --name N --config FILE` (PIN on stdin) */
int api__signer_cli(int argc, char **argv);

/* ---- authentication (auth.c) ---- */

/* Looks up "Bearer X" header value: 0 and fills p on success, 1 for a
 * missing, malformed, unknown or revoked token, -1 if the database failed.
 * stamp != NULL: the same statement reads the list cache's stamp into it. */
/* 0 valid, 1 unknown or revoked, API_AUTH_EXPIRED, -1 database failure. */
#define API_AUTH_EXPIRED 2
int api__authenticate(struct api_db *d, const char *authz, struct api_principal *p, int64_t *stamp);

/* ---- tokens (tokens.c; the command line in token_cli.c) ---- */

/* Creates a token; writes the secret ("ot_" + 64 hex) into secret (68 bytes). */
enum ot_err api__token_create(struct api_db *d, enum api_role role, const char *name,
                              const char *const *containers, size_t n, int64_t expires_at,
                              char secret[68], int64_t *id_out);
/* "90s", "30m", "12h", "7d" (1 s .. 366 d) -> milliseconds; -1 if malformed. */
int64_t api__duration_parse(const char *s);
/* 1 if the token is neither revoked nor expired at now_ms, 0 if it is, -1
 * if the database did not answer. */
int api__token_live(struct api_db *d, int64_t id, int64_t now_ms);
/* Token rows as JSON array (no hashes); caller frees. */
cJSON *api__token_list(struct api_db *d);
/* 0 revoked, OT_ERR_NOTFOUND if no such live token. */
enum ot_err api__token_revoke(struct api_db *d, int64_t id);
/* The `organtrack-api token ...` subcommand; returns exit code. */
int api__token_cli(int argc, char **argv);

/* ---- SSE (events.c) and metrics (metrics.c) ---- */

enum ot_err api__sse_start(struct api_ctx *ctx);
void api__sse_stop(struct api_ctx *ctx);
void api__sse_free(struct api_ctx *ctx);
int64_t api__sse_clients(const struct api_ctx *ctx);

enum ot_err api__metrics_new(struct api_metrics **out);
void api__metrics_free(struct api_metrics *m);
void api__metrics_observe(struct api_metrics *m, int route, unsigned status, int64_t us);

#endif
