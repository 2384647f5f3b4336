/* events.c - GET /api/v1/events, Server-Sent Events tailing table `events`.
 *
 * How it works: an event-stream connection must not hold one of the few
 * MHD worker threads while it waits. Its response is a content-reader
 * callback that hands out whatever bytes are pending in the client's
 * buffer; when the buffer is empty the callback suspends the connection
 * (MHD_suspend_connection) and returns 0, so the worker thread moves on to
 * other connections. One pump thread, with its own database connection, wakes
 * every sse_poll_ms (default 200 ms), reads the newest event id and, for
 * each client behind it, the rows with id > the client's last id (filtered
 * to the token's containers for crew), formats them as
 *   id: N / event: KIND / data: JSON
 * appends a ": heartbeat" comment after sse_heartbeat_s of silence, and
 * resumes the connections that have bytes to send.
 *
 * Guarantees: events reach a client in id order, each once per connection;
 * a client reconnecting with Last-Event-ID (header, or ?last_event_id=)
 * gets exactly the events after that id that it may see; a new client
 * without it starts at the newest event. A slow client's buffer is capped:
 * the pump stops reading for it until it drains (no unbounded memory).
 * Locking: the suspend decision (reader) and the resume decision (pump)
 * are both taken under the client's mutex, so no wake-up is lost; clients
 * are reference-counted so the pump never touches a freed one.
 *
 * Several API processes on one database: each pump reads the events table
 * itself, so an event written by any process (another API, the collector)
 * reaches every stream; on PostgreSQL ids become visible in increasing
 * order (ot_db_schema_pg.c), so "id > last" skips nothing. A lost database
 * connection is reconnected by the pump, at most once a second; the
 * streams stay open (heartbeats continue) and resume where they were.
 *
 * Revocation and expiry: every SSE_TOKEN_CHECK_MS the pump looks the
 * stream's token up again (ST_TOKEN_LIVE, by id, in the shared database, so
 * a revocation by any API process counts); a token revoked or expired gets
 * "event: unauthorized" and the stream ends. */
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ot_log.h"
#include "ot_parse.h"
#include "ot_time.h"

#define SSE_BUF_HIGH (64 * 1024) /* stop fetching above this many pending bytes */
#define SSE_BATCH 100            /* rows per client per tick */
#define SSE_MSG_MAX (128 * 1024) /* one formatted message */
#define SSE_TOKEN_CHECK_MS 250   /* a revoked or expired token's stream ends within this + a tick */

struct sse_client {
    pthread_mutex_t mu;
    struct api_sse *sse;
    struct MHD_Connection *conn;
    int refs;      /* registry mutex */
    int gone;      /* registry mutex: MHD freed the response */
    int suspended; /* client mutex */
    char *buf;     /* client mutex: pending bytes buf[off..len) */
    size_t len, off, cap;
    int64_t last_id; /* pump only (after registration) */
    int64_t last_write_ms;
    int64_t token_checked_ms; /* pump: last look at the token (monotonic) */
    int ended;                /* client mutex: token revoked or expired, end after the buffer */
    struct api_principal who; /* crew: filtered to its containers */
    struct sse_client *next;
};

struct api_sse {
    struct api_ctx *ctx;
    pthread_mutex_t mu; /* registry */
    pthread_cond_t cv;
    struct sse_client *head;
    int64_t n;
    int stopping;
    pthread_t pump;
    int pump_started;
    struct api_db db;
    int64_t revive_ms; /* pump: last reconnect attempt (monotonic) */
};

static void client_unref_locked(struct api_sse *s, struct sse_client *c)
{
    if (--c->refs > 0)
        return;
    pthread_mutex_destroy(&c->mu);
    free(c->buf);
    free(c);
    (void)s;
}

/* Appends bytes under the client mutex; caps growth. 0 on success. */
static int client_append(struct sse_client *c, const char *data, size_t n)
{
    if (c->off > 0 && c->off == c->len)
        c->off = c->len = 0;
    if (c->len + n > c->cap) {
        if (c->off > 0) {
            memmove(c->buf, c->buf + c->off, c->len - c->off);
            c->len -= c->off;
            c->off = 0;
        }
        if (c->len + n > c->cap) {
            size_t ncap = c->cap ? c->cap : 4096;
            while (ncap < c->len + n)
                ncap *= 2;
            if (ncap > SSE_BUF_HIGH + SSE_MSG_MAX + 4096)
                return -1;
            char *nb = realloc(c->buf, ncap);
            if (!nb)
                return -1;
            c->buf = nb;
            c->cap = ncap;
        }
    }
    memcpy(c->buf + c->len, data, n);
    c->len += n;
    return 0;
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct sse_client *c = cls;
    ssize_t ret = 0;
    (void)pos;
    pthread_mutex_lock(&c->mu);
    if (c->len > c->off) {
        size_t n = c->len - c->off;
        if (n > max)
            n = max;
        memcpy(buf, c->buf + c->off, n);
        c->off += n;
        ret = (ssize_t)n;
    } else if (c->ended || __atomic_load_n(&c->sse->stopping, __ATOMIC_ACQUIRE)) {
        ret = MHD_CONTENT_READER_END_OF_STREAM;
    } else {
        c->suspended = 1;
        MHD_suspend_connection(c->conn);
    }
    pthread_mutex_unlock(&c->mu);
    return ret;
}

static void sse_free(void *cls)
{
    struct sse_client *c = cls;
    struct api_sse *s = c->sse;
    pthread_mutex_lock(&s->mu);
    struct sse_client **pp = &s->head;
    while (*pp && *pp != c)
        pp = &(*pp)->next;
    if (*pp) {
        *pp = c->next;
        s->n--;
    }
    c->gone = 1;
    client_unref_locked(s, c);
    pthread_mutex_unlock(&s->mu);
    ot_info("event stream closed");
}

/* Formats one events row into out; returns length or -1. */
static int format_row(const struct ot_sql_stmt *st, char *out, size_t cap)
{
    char iso[32];
    cJSON *o = cJSON_CreateObject();
    int n = -1;
    if (!o)
        return -1;
    int64_t id = ot_sql_int64(st, 0);
    const char *kind = ot_sql_text(st, 2);
    cJSON_AddNumberToObject(o, "id", (double)id);
    cJSON_AddStringToObject(o, "ts", ot_time_format_iso(ot_sql_int64(st, 1), iso, sizeof iso));
    cJSON_AddStringToObject(o, "kind", kind ? kind : "");
    if (ot_sql_is_null(st, 3))
        cJSON_AddNullToObject(o, "shipment_id");
    else
        cJSON_AddNumberToObject(o, "shipment_id", (double)ot_sql_int64(st, 3));
    const char *cont = ot_sql_text(st, 4);
    if (cont)
        cJSON_AddStringToObject(o, "container", cont);
    else
        cJSON_AddNullToObject(o, "container");
    const char *payload = ot_sql_text(st, 5);
    cJSON *p = payload ? cJSON_Parse(payload) : NULL;
    if (p)
        cJSON_AddItemToObject(o, "data", p);
    else if (payload)
        cJSON_AddStringToObject(o, "data", payload);
    else
        cJSON_AddNullToObject(o, "data");
    char *txt = cJSON_PrintUnformatted(o); /* one line: no raw newlines */
    if (txt)
        n = api__sse_format(out, cap, id, kind ? kind : "message", txt);
    cJSON_free(txt);
    cJSON_Delete(o);
    return n;
}

/* Appends the client's new events (and a heartbeat when due); resumes it
 * when it has bytes. head: the newest event id (-1: unknown), so a client
 * that has everything costs no query. A database failure is left for
 * pump_revive. */
static void pump_client(struct api_sse *s, struct sse_client *c, char *msg, int64_t now,
                        int64_t head)
{
    int want, row = 0;
    if (now - c->token_checked_ms >= SSE_TOKEN_CHECK_MS) {
        /* revoked (by any process on this database) or expired: the
         * stream ends; a database failure keeps it (pump_revive) */
        c->token_checked_ms = now;
        if (api__token_live(&s->db, c->who.token_id, ot_time_now_ms()) == 0) {
            static const char bye[] = "event: unauthorized\ndata: {\"reason\":\"token\"}\n\n";
            pthread_mutex_lock(&c->mu);
            if (!c->ended) {
                (void)client_append(c, bye, sizeof bye - 1);
                c->ended = 1;
                ot_info("event stream ended: token revoked or expired token_id=%lld",
                        (long long)c->who.token_id);
            }
            if (c->suspended) {
                c->suspended = 0;
                MHD_resume_connection(c->conn);
            }
            pthread_mutex_unlock(&c->mu);
        }
    }
    pthread_mutex_lock(&c->mu);
    want = !c->ended && c->len - c->off < SSE_BUF_HIGH;
    pthread_mutex_unlock(&c->mu);
    int appended = 0;
    if (want && head > c->last_id) {
        struct ot_sql_stmt *st = api__stmt(&s->db, ST_EVENTS_AFTER);
        if (st && !ot_sql_bind_int64(st, 1, c->last_id) && !ot_sql_bind_int64(st, 2, SSE_BATCH) &&
            !api__bind_scope(st, 3, &c->who)) {
            int nrows = 0;
            enum ot_err src;
            while (!(src = ot_sql_step(st, &row)) && row) {
                int64_t id = ot_sql_int64(st, 0);
                nrows++;
                int n = format_row(st, msg, SSE_MSG_MAX);
                if (n < 0) {
                    ot_warn("event too large for the stream, skipped id=%lld", (long long)id);
                    c->last_id = id;
                    continue;
                }
                pthread_mutex_lock(&c->mu);
                int rc = client_append(c, msg, (size_t)n);
                int full = c->len - c->off >= SSE_BUF_HIGH;
                pthread_mutex_unlock(&c->mu);
                if (rc)
                    break;
                c->last_id = id;
                appended = 1;
                if (full)
                    break;
            }
            /* nothing for this client up to head (a crew stream while other
             * containers' events flow): no need to ask again for those */
            if (!src && nrows == 0 && head > c->last_id)
                c->last_id = head;
        }
        if (st)
            ot_sql_reset(st);
    }
    pthread_mutex_lock(&c->mu);
    if (!appended && now - c->last_write_ms >= s->ctx->cfg.sse_heartbeat_s * 1000) {
        static const char hb[] = ": heartbeat\n\n";
        if (client_append(c, hb, sizeof hb - 1) == 0)
            appended = 1;
    }
    if (appended)
        c->last_write_ms = now;
    if (c->len > c->off && c->suspended) {
        c->suspended = 0;
        MHD_resume_connection(c->conn);
    }
    pthread_mutex_unlock(&c->mu);
}

/* The newest event id, or -1 if the database does not answer. Ids become
 * visible in increasing order (on PostgreSQL too: ot_db_schema_pg.c), so a
 * client whose last id is at least this has every event there is. */
static int64_t pump_head(struct api_sse *s)
{
    int64_t head = -1;
    int row = 0;
    struct ot_sql_stmt *st = api__stmt(&s->db, ST_EVENTS_MAX_ID);
    if (st && !ot_sql_step(st, &row) && row)
        head = ot_sql_int64(st, 0);
    if (st)
        ot_sql_reset(st);
    return head;
}

/* The pump's connection went away: reconnect, at most once a second. */
static void pump_revive(struct api_sse *s, int64_t now)
{
    if (!api__db_lost(&s->db) || now - s->revive_ms < 1000)
        return;
    s->revive_ms = now;
    if (api__db_revive(&s->db) == OT_OK)
        ot_info("event stream pump reconnected database=%s", ot_sql_name(s->db.sql));
}

static void *pump_main(void *arg)
{
    struct api_sse *s = arg;
    char *msg = malloc(SSE_MSG_MAX);
    struct sse_client **snap = NULL;
    size_t snap_cap = 0;
    if (!msg) {
        ot_error("event pump out of memory");
        return NULL;
    }
    for (;;) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        int64_t ns = until.tv_nsec + s->ctx->cfg.sse_poll_ms * 1000000;
        until.tv_sec += (time_t)(ns / 1000000000);
        until.tv_nsec = (long)(ns % 1000000000);
        pthread_mutex_lock(&s->mu);
        if (!s->stopping)
            pthread_cond_timedwait(&s->cv, &s->mu, &until);
        if (s->stopping) {
            pthread_mutex_unlock(&s->mu);
            break;
        }
        size_t n = 0;
        for (struct sse_client *c = s->head; c; c = c->next)
            n++;
        if (n > snap_cap) {
            struct sse_client **ns2 = realloc(snap, n * sizeof *snap);
            if (!ns2) {
                pthread_mutex_unlock(&s->mu);
                continue;
            }
            snap = ns2;
            snap_cap = n;
        }
        n = 0;
        for (struct sse_client *c = s->head; c; c = c->next) {
            c->refs++;
            snap[n++] = c;
        }
        pthread_mutex_unlock(&s->mu);
        int64_t now = ot_time_mono_ms();
        pump_revive(s, now);
        int64_t head = n ? pump_head(s) : -1; /* one query per tick when idle */
        for (size_t i = 0; i < n; i++)
            pump_client(s, snap[i], msg, now, head);
        pthread_mutex_lock(&s->mu);
        for (size_t i = 0; i < n; i++)
            client_unref_locked(s, snap[i]);
        pthread_mutex_unlock(&s->mu);
    }
    free(snap);
    free(msg);
    return NULL;
}

enum ot_err api__sse_start(struct api_ctx *ctx)
{
    struct api_sse *s = calloc(1, sizeof *s);
    if (!s)
        return OT_ERR_NOMEM;
    s->ctx = ctx;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (api__db_open(ctx->cfg.database, &s->db)) {
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
        free(s);
        return OT_ERR_DB;
    }
    if (pthread_create(&s->pump, NULL, pump_main, s) != 0) {
        api__db_close(&s->db);
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
        free(s);
        return OT_ERR_NOMEM;
    }
    s->pump_started = 1;
    ctx->sse = s;
    return OT_OK;
}

void api__sse_stop(struct api_ctx *ctx)
{
    struct api_sse *s = ctx->sse;
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    __atomic_store_n(&s->stopping, 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    if (s->pump_started)
        pthread_join(s->pump, NULL);
    s->pump_started = 0;
    /* let every suspended stream end so MHD can stop */
    pthread_mutex_lock(&s->mu);
    for (struct sse_client *c = s->head; c; c = c->next) {
        pthread_mutex_lock(&c->mu);
        if (c->suspended) {
            c->suspended = 0;
            MHD_resume_connection(c->conn);
        }
        pthread_mutex_unlock(&c->mu);
    }
    pthread_mutex_unlock(&s->mu);
}

/* After MHD_stop_daemon: no client is left. */
void api__sse_free(struct api_ctx *ctx)
{
    struct api_sse *s = ctx->sse;
    if (!s)
        return;
    api__db_close(&s->db);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
    ctx->sse = NULL;
}

int64_t api__sse_clients(const struct api_ctx *ctx)
{
    struct api_sse *s = ctx->sse;
    if (!s)
        return 0;
    pthread_mutex_lock(&s->mu);
    int64_t n = s->n;
    pthread_mutex_unlock(&s->mu);
    return n;
}

void api__h_events(struct api_req *r)
{
    static const char *const known[] = {"last_event_id", "access_token", NULL};
    struct api_sse *s = r->ctx->sse;
    int64_t last = -1;
    if (api__query_check(r, known))
        return;
    const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Last-Event-ID");
    const char *q = api__query(r, "last_event_id");
    const char *from = h ? h : q;
    if (from && ot_parse_i64(from, 0, INT64_MAX, &last)) {
        api__reply_error(r, 400, "invalid_parameter", "%s: expected a non-negative event id",
                         h ? "Last-Event-ID" : "last_event_id");
        return;
    }
    /* the feed is trimmed by age (collector events_keep_h): a client resuming
     * from before the oldest kept event missed changes it can no longer get,
     * so it is told to reload instead of silently skipping them */
    int64_t oldest = 0;
    int row = 0;
    struct ot_sql_stmt *st =
        api__stmt(api__req_db(r), last >= 0 ? ST_EVENTS_MIN_ID : ST_EVENTS_MAX_ID);
    if (!st || ot_sql_step(st, &row) || !row) {
        if (st)
            ot_sql_reset(st);
        api__reply_error(r, 500, "internal", "database unavailable"); /* 503 if lost */
        return;
    }
    if (last >= 0)
        oldest = ot_sql_is_null(st, 0) ? 0 : ot_sql_int64(st, 0);
    else
        last = ot_sql_int64(st, 0);
    ot_sql_reset(st);
    struct sse_client *c = calloc(1, sizeof *c);
    if (!c) {
        api__reply_error(r, 500, "internal", "out of memory");
        return;
    }
    pthread_mutex_init(&c->mu, NULL);
    c->sse = s;
    c->conn = r->conn;
    c->last_id = last;
    c->last_write_ms = ot_time_mono_ms();
    c->refs = 1; /* the response's */
    c->who = r->who;
    static const char hello[] = "retry: 3000\n: connected\n\n";
    char reset[128];
    int nreset = 0;
    if (oldest > last + 1)
        nreset =
            snprintf(reset, sizeof reset,
                     "id: %lld\nevent: reset\ndata: {\"reason\":\"trimmed\",\"oldest\":%lld}\n\n",
                     (long long)(oldest - 1), (long long)oldest);
    if (client_append(c, hello, sizeof hello - 1) ||
        (nreset > 0 && client_append(c, reset, (size_t)nreset))) {
        pthread_mutex_destroy(&c->mu);
        free(c->buf);
        free(c);
        api__reply_error(r, 500, "internal", "out of memory");
        return;
    }
    pthread_mutex_lock(&s->mu);
    if (s->stopping || s->n >= r->ctx->cfg.sse_max_clients) {
        int stopping = s->stopping;
        pthread_mutex_unlock(&s->mu);
        pthread_mutex_destroy(&c->mu);
        free(c->buf);
        free(c);
        api__reply_error(r, 503, stopping ? "stopping" : "busy", "events: %s",
                         stopping ? "server is stopping" : "too many open streams");
        return;
    }
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, sse_read, c, sse_free);
    if (!resp) {
        pthread_mutex_unlock(&s->mu);
        pthread_mutex_destroy(&c->mu);
        free(c->buf);
        free(c);
        api__reply_error(r, 500, "internal", "cannot create the stream");
        return;
    }
    c->next = s->head;
    s->head = c;
    s->n++;
    pthread_mutex_unlock(&s->mu);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    /* a stream that ends (token revoked or expired) closes its connection */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    ot_info("event stream opened role=%s name=%s after=%lld", api__role_name(r->who.role),
            r->who.name, (long long)last);
    api__reply_set(r, 200, resp);
}
