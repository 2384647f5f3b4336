/* http.c - the libmicrohttpd glue: one access handler that accumulates the
 * request body under a hard cap (413 beyond it; never MHD's PostProcessor),
 * finds the route, authenticates, checks the role (default deny), runs the
 * handler with a pooled database connection and queues the response. Every
 * error leaves as {"error":{"code","message"}}; a failure on a connection
 * that turns out lost (PostgreSQL stopped, failover) leaves as 503
 * "unavailable", and the pool reconnects the slot before its next use.
 * Latency per route goes to the metrics histogram. With a "tls" section the
 * daemon speaks HTTPS only (TLS 1.2+, the certificate from tls.c, reloaded
 * on SIGHUP) and every answer carries Strict-Transport-Security. */
#include "http.h"

#include "conn_guard.h"

#include <arpa/inet.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ot_json_text.h"
#include "ot_log.h"
#include "ot_parse.h"
#include "ot_signal.h"
#include "ot_time.h"
#include "tls.h"

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void api__reply_set(struct api_req *r, unsigned status, struct MHD_Response *resp)
{
    if (r->resp)
        MHD_destroy_response(r->resp);
    r->resp = resp;
    r->status = status;
    r->responded = 1;
}

static struct MHD_Response *buffer_response(char *buf, size_t len, const char *ctype)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(buf);
        return NULL;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    return resp;
}

static void reply_fallback(struct api_req *r)
{
    static const char oom[] = "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}";
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        sizeof oom - 1, (void *)(uintptr_t)oom, MHD_RESPMEM_PERSISTENT);
    if (resp)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    api__reply_set(r, 500, resp);
}

void api__reply_json(struct api_req *r, unsigned status, cJSON *j)
{
    char *txt = j ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    if (!txt) {
        reply_fallback(r);
        return;
    }
    struct MHD_Response *resp = buffer_response(txt, strlen(txt), "application/json");
    if (!resp) {
        reply_fallback(r);
        return;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    api__reply_set(r, status, resp);
}

void api__reply_error(struct api_req *r, unsigned status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (status == 500 && api__db_lost(r->db)) {
        /* the database went away under the request: nothing was written
         * (its transaction died with the session); retrying is right */
        status = 503;
        code = "unavailable";
        snprintf(msg, sizeof msg, "database unavailable (reconnecting), retry");
    }
    cJSON *o = cJSON_CreateObject();
    cJSON *e = o ? cJSON_AddObjectToObject(o, "error") : NULL;
    if (!e || !cJSON_AddStringToObject(e, "code", code) ||
        !cJSON_AddStringToObject(e, "message", msg)) {
        cJSON_Delete(o);
        reply_fallback(r);
        return;
    }
    if (status >= 500)
        ot_error("request failed method=%s path=%s status=%u code=%s", r->method, r->url, status,
                 code);
    api__reply_json(r, status, o);
}

void api__reply_bytes(struct api_req *r, unsigned status, const char *ctype, const char *data,
                      size_t len, const char *disposition)
{
    char *copy = malloc(len ? len : 1);
    if (!copy) {
        reply_fallback(r);
        return;
    }
    memcpy(copy, data, len);
    struct MHD_Response *resp = buffer_response(copy, len, ctype);
    if (!resp) {
        reply_fallback(r);
        return;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (disposition)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, disposition);
    api__reply_set(r, status, resp);
}

void api__reply_header(struct api_req *r, const char *name, const char *value)
{
    if (r->resp)
        MHD_add_response_header(r->resp, name, value);
}

const char *api__query(struct api_req *r, const char *key)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

void api__safe_text(const char *in, char *out, size_t cap)
{
    size_t j = 0, n = in ? strlen(in) : 0;
    for (size_t i = 0; i < n && j + 5 < cap;) {
        const unsigned char *u = (const unsigned char *)in + i;
        size_t l = ot_utf8_seq_len(u, n - i);
        if (l == 0 || (l == 1 && (u[0] < 0x20 || u[0] == 0x7F))) {
            out[j++] = '?'; /* never echo a raw byte */
            i++;
            continue;
        }
        memcpy(out + j, u, l);
        j += l;
        i += l;
    }
    if (cap)
        out[j < cap ? j : cap - 1] = '\0';
}

struct qcheck {
    const char *const *known;
    const char *bad;
};

static enum MHD_Result qcheck_it(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    struct qcheck *q = cls;
    (void)kind;
    (void)value;
    for (const char *const *k = q->known; *k; k++)
        if (strcmp(key, *k) == 0)
            return MHD_YES;
    q->bad = key;
    return MHD_NO;
}

int api__query_check(struct api_req *r, const char *const *known)
{
    struct qcheck q = {known, NULL};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, qcheck_it, &q);
    if (q.bad) {
        char safe[80];
        api__safe_text(q.bad, safe, sizeof safe);
        api__reply_error(r, 400, "invalid_parameter", "%s: unknown query parameter", safe);
        return -1;
    }
    return 0;
}

cJSON *api__body_json(struct api_req *r)
{
    if (r->body_too_big) {
        api__reply_error(r, 413, "too_large", "body: larger than %lld bytes",
                         (long long)r->ctx->cfg.max_body_bytes);
        return NULL;
    }
    if (!r->body || r->body_len == 0) {
        api__reply_error(r, 400, "bad_json", "body: a JSON object is required");
        return NULL;
    }
    /* before cJSON, which would cut a "\u0000" string short unseen */
    char where[128];
    enum ot_json_text_fault tf = ot_json_text_check(r->body, r->body_len, where, sizeof where);
    if (tf) {
        api__reply_error(r, 400, "invalid_field", "%s: %s", where, ot_json_text_fault_str(tf));
        return NULL;
    }
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(r->body, r->body_len, &end, 0);
    if (!j) {
        api__reply_error(r, 400, "bad_json", "body: malformed JSON near byte %zu",
                         end ? (size_t)(end - r->body) : 0);
        return NULL;
    }
    /* only whitespace may follow the document */
    for (const char *p = end; p && p < r->body + r->body_len; p++)
        if (*p != ' ' && *p != '\n' && *p != '\r' && *p != '\t') {
            cJSON_Delete(j);
            api__reply_error(r, 400, "bad_json", "body: trailing data after the JSON document");
            return NULL;
        }
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        api__reply_error(r, 400, "bad_json", "body: expected a JSON object");
        return NULL;
    }
    return j;
}

struct api_db *api__req_db(struct api_req *r)
{
    if (!r->db)
        r->db = api__pool_get(r->ctx->pool);
    return r->db;
}

int api__req_begin(struct api_req *r)
{
    struct api_db *d = api__req_db(r);
    enum ot_err rc = api__db_begin(d);
    if (rc == OT_OK)
        return 0;
    if (rc == OT_ERR_TIMEOUT)
        api__reply_error(r, 503, "busy", "database busy, retry");
    else
        api__reply_error(r, 500, "internal", "cannot begin a transaction"); /* 503 if lost */
    return -1;
}

int api__req_commit(struct api_req *r)
{
    enum ot_err rc = api__db_commit(api__req_db(r));
    /* this process's caches drop what they hold at once, whatever the
     * outcome (a commit whose answer was lost may have happened) */
    api__notify_changed(r->ctx);
    if (rc == OT_OK)
        return 0;
    if (!r->responded)
        api__reply_error(r, 500, "internal", "database commit failed; nothing was written");
    return -1;
}

void api__req_rollback(struct api_req *r)
{
    if (r->db)
        api__db_rollback(r->db);
}

int api__body_check(struct api_req *r, const cJSON *body, const char *const *known)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, body)
    {
        const char *const *k = known;
        while (*k && strcmp(it->string, *k))
            k++;
        if (*k)
            continue;
        char list[256];
        size_t n = 0;
        list[0] = '\0';
        for (k = known; *k && n < sizeof list; k++)
            n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", k == known ? "" : ", ", *k);
        api__reply_error(r, 400, "invalid_field", "%.64s: unknown key (%s)", it->string, list);
        return -1;
    }
    return 0;
}

static void dispatch(struct api_req *r)
{
    int known = 0;
    const char *path = r->url;
    int is_api = strncmp(path, "/api/", 5) == 0 || strcmp(path, "/api") == 0 ||
                 strcmp(path, "/metrics") == 0;
    if (!is_api) {
        r->route = API_ROUTE_STATIC;
        api__h_static(r); /* static.c; refuses methods other than GET and HEAD */
        return;
    }
    r->route = api__route_find(r->method, path, &r->path_id, &known);
    if (r->route < 0) {
        char safe[208];
        api__safe_text(path, safe, sizeof safe);
        r->route = API_ROUTE_UNMATCHED;
        if (known)
            api__reply_error(r, 405, "method_not_allowed", "%s is not allowed on %s", r->method,
                             safe);
        else
            api__reply_error(r, 404, "not_found", "%s: no such endpoint", safe);
        return;
    }
    const struct api_route *rt = &api__routes[r->route];
    if (rt->roles) {
        const char *authz =
            MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        char qauth[300];
        const char *qtok = api__query(r, "access_token");
        if (!authz && qtok && (rt->flags & API_RF_QUERY_TOKEN)) {
            /* EventSource cannot send headers: only routes flagged
             * API_RF_QUERY_TOKEN (the event stream) accept ?access_token=
             * (never logged: we log paths, not queries) */
            snprintf(qauth, sizeof qauth, "Bearer %.280s", qtok);
            authz = qauth;
        }
        if (!authz) {
            api__reply_error(r, 401, "unauthorized", "Authorization: a bearer token is required");
            return;
        }
        /* API_RF_READ_TX (the hot shipment list): token lookup and the
         * handler's reads in one read transaction, one set of WAL locks
         * instead of one per statement */
        /* PostgreSQL with the change listener listening (state odd): a
         * token seen since the last change of tokens and a page made since
         * the last new event need no round trip (notify.c); read both
         * states before anything is read from the database */
        int64_t tok_state = api__notify_state(r->ctx, API_NOTIFY_TOKENS);
        r->list_state = api__notify_state(r->ctx, API_NOTIFY_EVENTS);
        int auth = 0;
        if (api__token_cache_get(r->ctx->tokens, authz, tok_state, &r->who)) {
            /* a cached principal is still judged against the clock */
            if (r->who.expires_at && r->who.expires_at <= ot_time_now_ms())
                auth = API_AUTH_EXPIRED;
        } else {
            if (rt->flags & API_RF_READ_TX)
                (void)api__db_begin_read(api__req_db(r)); /* on failure: reads run one by one */
            int stamp = (rt->flags & API_RF_CACHE_STAMP) && !(r->list_state & 1);
            auth = api__authenticate(api__req_db(r), authz, &r->who, stamp ? &r->list_stamp : NULL);
            if (auth == 0)
                api__token_cache_put(r->ctx->tokens, authz, tok_state, &r->who);
        }
        if (auth < 0) {
            api__reply_error(r, 500, "internal", "cannot check the token"); /* 503 if lost */
            return;
        }
        if (auth == API_AUTH_EXPIRED) {
            api__reply_error(r, 401, "token_expired", "Authorization: the token has expired");
            return;
        }
        if (auth) {
            api__reply_error(r, 401, "unauthorized", "Authorization: token is invalid or revoked");
            return;
        }
        r->authenticated = 1;
        /* the short header timeout is for strangers; a token holder (and
         * its event stream, heartbeats below this) gets the idle timeout */
        MHD_set_connection_option(r->conn, MHD_CONNECTION_OPTION_TIMEOUT,
                                  (unsigned)r->ctx->cfg.idle_timeout_s);
        if (!(rt->roles & (unsigned)r->who.role)) {
            api__reply_error(r, 403, "forbidden", "role %s may not %s %s",
                             api__role_name(r->who.role), r->method, rt->pattern);
            return;
        }
    }
    if (r->body_too_big) {
        api__reply_error(r, 413, "too_large", "body: larger than %lld bytes",
                         (long long)r->ctx->cfg.max_body_bytes);
        return;
    }
    rt->handler(r);
    if (!r->responded)
        api__reply_error(r, 500, "internal", "handler produced no response");
}

/* Our own limits on the request line and headers, answered in the error
 * shape. MHD's memory limit (MHD_MEMORY_LIMIT) lies well above them, so
 * MHD's own 414/431 (an HTML page) only answers requests beyond that. */
#define MAX_URI_BYTES (8 * 1024)
#define MAX_HEADER_BYTES (16 * 1024)
#define MHD_MEMORY_LIMIT (128 * 1024)

struct sizes {
    size_t n;
};

static enum MHD_Result add_size(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    struct sizes *s = cls;
    (void)kind;
    s->n += strlen(key) + (value ? strlen(value) : 0) + 4;
    return MHD_YES;
}

/* 1 and a reply when the request line or the headers are too large. */
static int too_large_head(struct api_req *r, const char *url)
{
    struct sizes uri = {strlen(url)}, hdr = {0};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, add_size, &uri);
    if (uri.n > MAX_URI_BYTES) {
        api__reply_error(r, 414, "uri_too_long", "request target: longer than %d bytes",
                         MAX_URI_BYTES);
        return 1;
    }
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, add_size, &hdr);
    if (hdr.n > MAX_HEADER_BYTES) {
        api__reply_error(r, 431, "headers_too_large", "request headers: larger than %d bytes",
                         MAX_HEADER_BYTES);
        return 1;
    }
    return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct api_ctx *ctx = cls;
    struct api_req *r = *con_cls;
    (void)version;
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r)
            return MHD_NO;
        r->ctx = ctx;
        r->conn = conn;
        r->method = method;
        r->url = url;
        r->route = API_ROUTE_UNMATCHED;
        r->list_stamp = -1;
        r->started_mono_us = mono_us();
        *con_cls = r;
        api__guard_mark(ctx->guard, conn, 1); /* headers complete: not idle junk */
        if (too_large_head(r, url)) {
            r->body_too_big = 1; /* the body, if any, is not read */
            goto queue;
        }
        const char *cl =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        int64_t n;
        if (cl && (ot_parse_i64(cl, 0, INT64_MAX, &n) || n > ctx->cfg.max_body_bytes)) {
            /* refuse before reading the body; MHD closes the connection */
            r->body_too_big = 1;
            api__reply_error(r, 413, "too_large", "body: larger than %lld bytes",
                             (long long)ctx->cfg.max_body_bytes);
            goto queue;
        }
        return MHD_YES;
    }
    if (r->responded && r->queued) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (r->body_too_big)
            return MHD_YES;
        if (r->body_len + n > (size_t)ctx->cfg.max_body_bytes) {
            r->body_too_big = 1;
            free(r->body);
            r->body = NULL;
            r->body_len = 0;
            return MHD_YES;
        }
        char *nb = realloc(r->body, r->body_len + n + 1);
        if (!nb)
            return MHD_NO;
        memcpy(nb + r->body_len, upload_data, n);
        r->body = nb;
        r->body_len += n;
        r->body[r->body_len] = '\0';
        return MHD_YES;
    }
    dispatch(r);
    if (r->db) {
        api__pool_put(ctx->pool, r->db);
        r->db = NULL;
    }
queue:;
    enum MHD_Result ret = MHD_NO;
    if (r->resp) {
        if (ctx->cfg.tls) { /* every HTTPS answer, errors and streams included */
            char hsts[48];
            snprintf(hsts, sizeof hsts, "max-age=%lld", (long long)ctx->cfg.hsts_max_age_s);
            MHD_add_response_header(r->resp, "Strict-Transport-Security", hsts);
        }
        ret = MHD_queue_response(conn, r->status, r->resp);
        MHD_destroy_response(r->resp);
        r->resp = NULL;
    }
    r->queued = 1;
    api__metrics_observe(ctx->metrics, r->route, r->status, mono_us() - r->started_mono_us);
    ot_debug("request method=%s path=%s status=%u us=%lld", method, url, r->status,
             (long long)(mono_us() - r->started_mono_us));
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct api_req *r = *con_cls;
    struct api_ctx *ctx = cls;
    (void)toe;
    api__guard_mark(ctx->guard, conn, 0); /* keep-alive: idle until the next request */
    if (!r)
        return;
    if (r->db)
        api__pool_put(r->ctx->pool, r->db);
    if (r->resp)
        MHD_destroy_response(r->resp);
    free(r->body);
    free(r);
    *con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    (void)cls;
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    ot_warn("libmicrohttpd message=\"%s\"", msg);
}

/* SIGHUP asks for a certificate reload (the unit's ExecReload); like
 * ot_signal's handlers it only sets a flag for the main loop. */
static volatile sig_atomic_t reload_requested;

static void on_hup(int sig)
{
    (void)sig;
    reload_requested = 1;
}

/* TLS 1.2 and 1.3 only, GnuTLS's NORMAL set otherwise. */
#define API_TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

enum ot_err api__http_run(struct api_ctx *ctx)
{
    const struct api_config *cfg = &ctx->cfg;
    struct sockaddr_storage ss;
    struct api_tls *tls = NULL;
    struct MHD_Daemon *d = NULL;
    enum ot_err rc = OT_OK;
    memset(&ss, 0, sizeof ss);
    if (cfg->listen_v6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)cfg->listen_port);
        inet_pton(AF_INET6, cfg->listen_host, &s6->sin6_addr); /* checked by config.c */
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)cfg->listen_port);
        inet_pton(AF_INET, cfg->listen_host, &s4->sin_addr);
    }
    /* idle connections (headers not complete, or keep-alive between
     * requests) get half of an address's hard cap and 3/4 of the whole
     * limit; the rest is headroom for requests and for shed connections
     * that MHD has not closed yet (conn_guard.c) */
    int64_t per_ip_idle = ctx->cfg.per_ip_connection_limit / 2;
    int64_t total_idle = ctx->cfg.connection_limit * 3 / 4;
    if (api__guard_new(per_ip_idle > 0 ? per_ip_idle : 1, total_idle > 0 ? total_idle : 1,
                       ctx->cfg.header_timeout_s * 1000, &ctx->guard))
        return OT_ERR_NOMEM;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG;
    if (cfg->listen_v6) {
        /* "[::]:PORT" is every address, IPv4 ones included (dual stack);
         * any other IPv6 address is that address alone */
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;
        flags |= IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr) ? MHD_USE_DUAL_STACK : MHD_USE_IPv6;
    }
    if (cfg->tls) {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES ||
            MHD_is_feature_supported(MHD_FEATURE_HTTPS_CERT_CALLBACK) != MHD_YES) {
            ot_error("tls: this libmicrohttpd was built without TLS (GnuTLS); "
                     "remove \"tls\" from the config or install a libmicrohttpd with TLS");
            rc = OT_ERR_CONFIG;
            goto out;
        }
        if (api__tls_open(cfg->tls_cert_file, cfg->tls_key_file, &tls)) {
            rc = OT_ERR_CONFIG;
            goto out;
        }
        flags |= MHD_USE_TLS;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_hup;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGHUP, &sa, NULL);
    /* MHD takes options as varargs: the TLS ones only when tls is on (an
     * MHD_OPTION_HTTPS_* on a plain daemon is an error) */
    struct MHD_OptionItem tls_opts[] = {
        {MHD_OPTION_HTTPS_CERT_CALLBACK, 0, (void *)(uintptr_t)api__tls_retrieve},
        {MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)(uintptr_t)API_TLS_PRIORITIES},
        {MHD_OPTION_END, 0, NULL}};
    struct MHD_OptionItem no_opts[] = {{MHD_OPTION_END, 0, NULL}};
    d = MHD_start_daemon(
        flags, (uint16_t)cfg->listen_port, NULL, NULL, on_request, ctx, MHD_OPTION_EXTERNAL_LOGGER,
        mhd_log, ctx, /* first, or MHD logs some to stderr */
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)cfg->threads, MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->connection_limit,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)MHD_MEMORY_LIMIT,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg->per_ip_connection_limit,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->header_timeout_s,
        MHD_OPTION_NOTIFY_CONNECTION, api__guard_notify, ctx->guard, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, ctx, MHD_OPTION_ARRAY, tls ? tls_opts : no_opts, MHD_OPTION_END);
    if (!d) {
        ot_error("cannot start HTTP server listen=%s%s%s:%d", cfg->listen_v6 ? "[" : "",
                 cfg->listen_host, cfg->listen_v6 ? "]" : "", cfg->listen_port);
        rc = OT_ERR_IO;
        goto out;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    ot_info("listening url=%s://%s%s%s:%u/ threads=%lld", tls ? "https" : "http",
            cfg->listen_v6 ? "[" : "", cfg->listen_host, cfg->listen_v6 ? "]" : "",
            info ? (unsigned)info->port : (unsigned)cfg->listen_port, (long long)cfg->threads);
    while (!ot_signal_stop) {
        ot_time_sleep_ms(200, &ot_signal_stop);
        api__guard_sweep(ctx->guard);
        if (reload_requested) {
            reload_requested = 0;
            if (tls)
                api__tls_reload(tls);
            else
                ot_info("SIGHUP: nothing to reload (no tls section)");
        }
    }
    ot_info("stopping");
    MHD_quiesce_daemon(d);
out:
    /* stops the pump thread (main frees the SSE state after us, also when
     * the daemon never started) and resumes every suspended stream so MHD
     * may stop */
    api__sse_stop(ctx);
    if (d)
        MHD_stop_daemon(d);
    api__tls_free(tls);
    api__guard_free(ctx->guard);
    ctx->guard = NULL;
    return rc;
}
