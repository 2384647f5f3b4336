/* metrics.c - GET /metrics in Prometheus text format (version 0.0.4).
 * Request latency is a histogram per route kept in lock-free counters
 * (relaxed atomics: a scrape may see a request in _count a moment before
 * its bucket, which Prometheus tolerates). Store figures (readings
 * ingested, rejects by reason, alarms by type and state, shipments by
 * status) are read from the database at scrape time (statements of db.c,
 * prepared once per connection). */
#include "http.h"
#include "conn_guard.h"
#include "ot_time.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double bucket_s[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                  0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
#define N_BUCKETS (sizeof bucket_s / sizeof bucket_s[0])
#define MAX_ROUTES 64

struct route_stats {
    uint64_t buckets[N_BUCKETS + 1]; /* last = +Inf */
    uint64_t count;
    uint64_t sum_us;
    uint64_t by_class[6]; /* 0: other, 1..5: 1xx..5xx */
};

struct api_metrics {
    struct route_stats routes[MAX_ROUTES + 2]; /* + static, unmatched */
};

enum ot_err api__metrics_new(struct api_metrics **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? OT_OK : OT_ERR_NOMEM;
}

void api__metrics_free(struct api_metrics *m)
{
    free(m);
}

static size_t route_slot(int route)
{
    if (route >= 0 && route < MAX_ROUTES && (size_t)route < api__n_routes)
        return (size_t)route;
    return route == API_ROUTE_STATIC ? MAX_ROUTES : MAX_ROUTES + 1;
}

static const char *route_label(size_t slot)
{
    if (slot < api__n_routes)
        return api__routes[slot].name;
    return slot == MAX_ROUTES ? "static" : "unmatched";
}

void api__metrics_observe(struct api_metrics *m, int route, unsigned status, int64_t us)
{
    struct route_stats *rs = &m->routes[route_slot(route)];
    double s = (double)us / 1e6;
    size_t b = 0;
    while (b < N_BUCKETS && s > bucket_s[b])
        b++;
    __atomic_fetch_add(&rs->buckets[b], 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&rs->count, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&rs->sum_us, (uint64_t)(us > 0 ? us : 0), __ATOMIC_RELAXED);
    unsigned cls = status / 100;
    __atomic_fetch_add(&rs->by_class[cls >= 1 && cls <= 5 ? cls : 0], 1, __ATOMIC_RELAXED);
}

struct out {
    char *buf;
    size_t len, cap;
    int oom;
};

static void outf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void outf(struct out *o, const char *fmt, ...)
{
    va_list ap;
    if (o->oom)
        return;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            o->oom = 1;
            return;
        }
        if ((size_t)n < o->cap - o->len) {
            o->len += (size_t)n;
            return;
        }
        size_t ncap = o->cap * 2 + (size_t)n;
        if (ncap > 4 * 1024 * 1024) {
            o->oom = 1;
            return;
        }
        char *nb = realloc(o->buf, ncap);
        if (!nb) {
            o->oom = 1;
            return;
        }
        o->buf = nb;
        o->cap = ncap;
    }
}

/* Label values from the database: escape \ " and newlines. */
static void esc(const char *in, char *out, size_t cap)
{
    size_t j = 0;
    for (size_t i = 0; in && in[i] && j + 3 < cap; i++) {
        char c = in[i];
        if (c == '\\' || c == '"') {
            out[j++] = '\\';
            out[j++] = c;
        } else if (c == '\n') {
            out[j++] = '\\';
            out[j++] = 'n';
        } else {
            out[j++] = c;
        }
    }
    out[j] = '\0';
}

/* One metric family from a statement of db.c: label columns first (l1,
 * then l2 when given), the value last. 0, or -1 on a database failure. */
static int db_series(struct out *o, struct api_db *d, enum api_stmt which, const char *metric,
                     const char *l1, const char *l2)
{
    char a[128], b[128];
    int row = 0;
    enum ot_err rc = OT_ERR_DB;
    struct ot_sql_stmt *st = api__stmt(d, which);
    if (!st)
        return -1;
    while (!(rc = ot_sql_step(st, &row)) && row) {
        int col = 0;
        outf(o, "%s", metric);
        if (l1) {
            esc(ot_sql_text(st, col++), a, sizeof a);
            if (l2) {
                esc(ot_sql_text(st, col++), b, sizeof b);
                outf(o, "{%s=\"%s\",%s=\"%s\"}", l1, a, l2, b);
            } else {
                outf(o, "{%s=\"%s\"}", l1, a);
            }
        }
        outf(o, " %lld\n", (long long)ot_sql_int64(st, col));
    }
    ot_sql_reset(st);
    return rc ? -1 : 0;
}

/* The collector's other counters, one family per name (promtool: a counter
 * is named for what it counts and ends in _total):
 * organtrack_collector_NAME_total{label="..."}. 0, or -1 on a failure. */
static int counter_families(struct out *o, struct api_db *d)
{
    char fam[96] = "", name[64], lab[128];
    int row = 0;
    enum ot_err rc = OT_ERR_DB;
    struct ot_sql_stmt *st = api__stmt(d, ST_M_COUNTERS);
    if (!st)
        return -1;
    while (!(rc = ot_sql_step(st, &row)) && row) {
        const char *n = ot_sql_text(st, 0);
        size_t k = 0;
        for (; n && n[k] && k + 1 < sizeof name; k++) {
            char ch = n[k];
            int ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
            name[k] = ok ? ch : (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : '_';
        }
        name[k] = '\0';
        if (strcmp(fam, name)) {
            snprintf(fam, sizeof fam, "%s", name);
            outf(o,
                 "# HELP organtrack_collector_%s_total Collector counter %s, by label.\n"
                 "# TYPE organtrack_collector_%s_total counter\n",
                 name, name, name);
        }
        esc(ot_sql_text(st, 1), lab, sizeof lab);
        outf(o, "organtrack_collector_%s_total{label=\"%s\"} %lld\n", name, lab,
             (long long)ot_sql_int64(st, 2));
    }
    ot_sql_reset(st);
    return rc ? -1 : 0;
}

void api__h_metrics(struct api_req *r)
{
    struct out o = {malloc(16384), 0, 16384, 0};
    if (!o.buf) {
        api__reply_error(r, 500, "internal", "out of memory");
        return;
    }
    struct api_db *d = api__req_db(r);
    int bad = 0;
    outf(&o, "# HELP organtrack_readings_ingested_total Readings stored by the collector.\n"
             "# TYPE organtrack_readings_ingested_total counter\n");
    bad |= db_series(&o, d, ST_M_READINGS, "organtrack_readings_ingested_total", NULL, NULL);
    outf(&o, "# HELP organtrack_rejects_total Rejected messages by reason (collector).\n"
             "# TYPE organtrack_rejects_total counter\n");
    bad |= db_series(&o, d, ST_M_REJECTS, "organtrack_rejects_total", "reason", NULL);
    outf(&o, "# HELP organtrack_alarms Alarms by type and state.\n"
             "# TYPE organtrack_alarms gauge\n");
    bad |= db_series(&o, d, ST_M_ALARMS, "organtrack_alarms", "type", "state");
    outf(&o, "# HELP organtrack_alarms_total Alarms ever raised, by type.\n"
             "# TYPE organtrack_alarms_total counter\n");
    bad |= db_series(&o, d, ST_M_ALARMS_TOTAL, "organtrack_alarms_total", "type", NULL);
    outf(&o, "# HELP organtrack_shipments Shipments by status.\n"
             "# TYPE organtrack_shipments gauge\n");
    bad |= db_series(&o, d, ST_M_SHIPMENTS, "organtrack_shipments", "status", NULL);
    bad |= counter_families(&o, d);
    outf(&o, "# HELP organtrack_incidents Incidents (internal control) by state.\n"
             "# TYPE organtrack_incidents gauge\n");
    bad |= db_series(&o, d, ST_M_INCIDENTS, "organtrack_incidents", "state", NULL);
    struct ot_sql_stmt *ov = api__stmt(d, ST_M_INCIDENTS_OVERDUE);
    int orow = 0;
    if (!ov || ot_sql_bind_int64(ov, 1, ot_time_now_ms()) || ot_sql_step(ov, &orow) || !orow)
        bad = 1;
    else
        outf(&o,
             "# HELP organtrack_incidents_overdue Open incidents past their five-day answer "
             "deadline.\n# TYPE organtrack_incidents_overdue gauge\n"
             "organtrack_incidents_overdue %lld\n",
             (long long)ot_sql_int64(ov, 0));
    if (ov)
        ot_sql_reset(ov);
    if (bad) {
        free(o.buf);
        api__reply_error(r, 500, "internal", "metrics: the database did not answer");
        return;
    }
    outf(&o,
         "# HELP organtrack_sse_clients Open event streams.\n"
         "# TYPE organtrack_sse_clients gauge\norgantrack_sse_clients %lld\n",
         (long long)api__sse_clients(r->ctx));
    outf(&o,
         "# HELP organtrack_api_connections_shed_total Idle or slow connections shut down to "
         "keep room for requests.\n"
         "# TYPE organtrack_api_connections_shed_total counter\n"
         "organtrack_api_connections_shed_total %llu\n",
         (unsigned long long)api__guard_shed(r->ctx->guard));

    outf(&o, "# HELP organtrack_http_request_duration_seconds Time to produce a response, by "
             "route.\n# TYPE organtrack_http_request_duration_seconds histogram\n");
    for (size_t slot = 0; slot < MAX_ROUTES + 2; slot++) {
        struct route_stats *rs = &r->ctx->metrics->routes[slot];
        if (slot >= api__n_routes && slot < MAX_ROUTES)
            continue;
        const char *name = route_label(slot);
        uint64_t cum = 0;
        for (size_t b = 0; b <= N_BUCKETS; b++) {
            cum += __atomic_load_n(&rs->buckets[b], __ATOMIC_RELAXED);
            if (b < N_BUCKETS)
                outf(&o,
                     "organtrack_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} "
                     "%llu\n",
                     name, bucket_s[b], (unsigned long long)cum);
            else
                outf(&o,
                     "organtrack_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"}"
                     " %llu\n",
                     name, (unsigned long long)cum);
        }
        outf(&o, "organtrack_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", name,
             (double)__atomic_load_n(&rs->sum_us, __ATOMIC_RELAXED) / 1e6);
        outf(&o, "organtrack_http_request_duration_seconds_count{route=\"%s\"} %llu\n", name,
             (unsigned long long)cum);
    }
    outf(&o, "# HELP organtrack_http_responses_total Responses by route and status class.\n"
             "# TYPE organtrack_http_responses_total counter\n");
    for (size_t slot = 0; slot < MAX_ROUTES + 2; slot++) {
        if (slot >= api__n_routes && slot < MAX_ROUTES)
            continue;
        struct route_stats *rs = &r->ctx->metrics->routes[slot];
        for (unsigned c = 1; c <= 5; c++) {
            uint64_t v = __atomic_load_n(&rs->by_class[c], __ATOMIC_RELAXED);
            if (v)
                outf(&o, "organtrack_http_responses_total{route=\"%s\",code=\"%uxx\"} %llu\n",
                     route_label(slot), c, (unsigned long long)v);
        }
    }
    if (o.oom) {
        free(o.buf);
        api__reply_error(r, 500, "internal", "metrics too large");
        return;
    }
    api__reply_bytes(r, 200, "text/plain; version=0.0.4; charset=utf-8", o.buf, o.len, NULL);
    free(o.buf);
}
