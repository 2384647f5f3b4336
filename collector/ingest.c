/* ingest.c - the worker: the only thread that touches SQLite.
 *
 * It drains the bounded queue in batches and handles each batch in ONE
 * transaction: decode every message strictly, INSERT OR IGNORE each reading
 * on (container, seq) (a duplicate changes nothing and is counted), record
 * gaps and declared losses, append 'reading' events for the API's stream,
 * run the rules and store alarm changes, update counters and the containers
 * rows (max_seq, ack_seq). Only after COMMIT returns (synchronous=FULL: on
 * disk) does it publish the retained ack, the alarm lists, and hand lines to
 * the InfluxDB writer and bodies to the webhooks. A batch that fails to
 * commit is rolled back and the in-memory delivery state reloaded from the
 * database, so an ack never covers a reading that is not stored.
 *
 * The ack: per container the worker keeps `ack` (every seq <= ack stored or
 * declared lost) and the sorted set of stored/lost ranges above it; the ack
 * advances while the lowest range starts at ack+1. Baseline for a container
 * never seen: the gateway's state "seq" (its birth message names the highest
 * seq it no longer holds), else the first seq received minus one. ack_seq is
 * persisted in the same transaction, so a restart continues from it. */
#include "ingest.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ot_db.h"
#include "ot_log.h"
#include "ot_time.h"

#include "ot_preservation.h"

#define REJECT_LOG_PER_S 20

/* ---- small helpers ---------------------------------------------------- */

enum ot_err ingest__prepare(struct ingest *in, sqlite3_stmt **st, const char *sql)
{
    if (sqlite3_prepare_v3(in->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK) {
        ot_error("sqlite prepare failed error=\"%s\" sql=\"%.60s\"", sqlite3_errmsg(in->db), sql);
        return OT_ERR_DB;
    }
    return OT_OK;
}

enum ot_err ingest__step_done(struct ingest *in, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        ot_error("sqlite step failed error=\"%s\"", sqlite3_errmsg(in->db));
        return OT_ERR_DB;
    }
    return OT_OK;
}

void ingest__count(struct ingest *in, const char *name, const char *label, int64_t n)
{
    for (size_t i = 0; i < in->n_counters; i++) {
        struct counter_delta *d = &in->counters[i];
        if (!strcmp(d->name, name) && !strcmp(d->label, label)) {
            d->delta += n;
            return;
        }
    }
    if (in->n_counters == COUNTERS_MAX)
        return; /* bounded: labels come from fixed sets */
    struct counter_delta *d = &in->counters[in->n_counters++];
    snprintf(d->name, sizeof d->name, "%s", name);
    snprintf(d->label, sizeof d->label, "%s", label);
    d->delta = n;
}

static enum ot_err flush_counters(struct ingest *in)
{
    enum ot_err rc = OT_OK;
    int64_t w = 0, dr = 0, f = 0, s = 0, wd = 0;
    if (in->ix) {
        influx__take_counts(in->ix, &w, &dr, &f);
        if (w)
            ingest__count(in, "influx", "written", w);
        if (dr)
            ingest__count(in, "influx", "dropped", dr);
        if (f)
            ingest__count(in, "influx", "failures", f);
    }
    if (in->wh) {
        webhook__take_counts(in->wh, &s, &wd);
        if (s)
            ingest__count(in, "webhooks", "sent", s);
        if (wd)
            ingest__count(in, "webhooks", "dropped", wd);
    }
    for (size_t i = 0; i < in->n_counters && !rc; i++) {
        struct counter_delta *d = &in->counters[i];
        if (!d->delta)
            continue;
        sqlite3_bind_text(in->st_counter, 1, d->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(in->st_counter, 2, d->label, -1, SQLITE_STATIC);
        sqlite3_bind_int64(in->st_counter, 3, d->delta);
        rc = ingest__step_done(in, in->st_counter);
    }
    return rc;
}

void ingest__queue_hook(struct ingest *in, char *body)
{
    if (in->n_hooks == PENDING_HOOKS_MAX) {
        ingest__count(in, "webhooks", "dropped", 1);
        free(body);
        return;
    }
    in->hooks[in->n_hooks++].body = body;
}

static void drop_pending(struct ingest *in)
{
    for (size_t i = 0; i < in->n_hooks; i++)
        free(in->hooks[i].body);
    in->n_hooks = 0;
    in->n_counters = 0;
    lineproto__reset(&in->lp);
}

/* ---- ack ------------------------------------------------------------ */

static void advance_ack(struct container *c)
{
    if (seqset__advance(&c->above, &c->ack))
        c->row_dirty = 1;
}

/* ---- containers ------------------------------------------------------- */

static struct container *container_new(struct ingest *in, const char *name)
{
    struct container *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (in->n_ct == in->cap_ct) {
        size_t ncap = in->cap_ct ? in->cap_ct * 2 : 16;
        struct container **nc = realloc(in->ct, ncap * sizeof *nc);
        if (!nc) {
            free(c);
            return NULL;
        }
        in->ct = nc;
        in->cap_ct = ncap;
    }
    snprintf(c->name, sizeof c->name, "%s", name);
    c->ack_published = INT64_MIN;
    c->max_seq = -1;
    c->alarms_ship_published = -1;
    c->pending_min = INT64_MAX;
    in->ct[in->n_ct++] = c;
    return c;
}

struct container *ingest__container(struct ingest *in, const char *name)
{
    for (size_t i = 0; i < in->n_ct; i++)
        if (!strcmp(in->ct[i]->name, name))
            return in->ct[i];
    return container_new(in, name);
}

/* Rebuilds the set of stored or lost seqs above the ack from the database
 * (readings and lost ranges), then advances the ack over it. */
static enum ot_err rebuild_set(struct ingest *in, struct container *c)
{
    enum ot_err rc = OT_OK;
    seqset__clear(&c->above);
    sqlite3_bind_text(in->st_sel_above, 1, c->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(in->st_sel_above, 2, c->ack);
    while (!rc && sqlite3_step(in->st_sel_above) == SQLITE_ROW) {
        int64_t s = sqlite3_column_int64(in->st_sel_above, 0);
        rc = seqset__add(&c->above, s, s);
    }
    sqlite3_reset(in->st_sel_above);
    sqlite3_bind_text(in->st_sel_lost_above, 1, c->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(in->st_sel_lost_above, 2, c->ack);
    while (!rc && sqlite3_step(in->st_sel_lost_above) == SQLITE_ROW) {
        int64_t f = sqlite3_column_int64(in->st_sel_lost_above, 0);
        int64_t t = sqlite3_column_int64(in->st_sel_lost_above, 1);
        if (f <= c->ack)
            f = c->ack + 1;
        rc = seqset__add(&c->above, f, t);
        if (t > c->hi)
            c->hi = t;
    }
    sqlite3_reset(in->st_sel_lost_above);
    advance_ack(c);
    return rc;
}

/* Loads delivery state of every known container (start, or after a failed
 * commit). Rules state is kept. */
static enum ot_err load_containers(struct ingest *in)
{
    enum ot_err rc = OT_OK;
    sqlite3_stmt *st = in->st_sel_containers;
    int src;
    /* forget what a rolled-back transaction taught us */
    for (size_t i = 0; i < in->n_ct; i++) {
        struct container *c = in->ct[i];
        c->known = 0;
        seqset__clear(&c->above);
        c->max_seq = -1;
        c->hi = 0;
        c->ack = 0;
        c->row_dirty = 0;
        c->ack_published = INT64_MIN;
        c->pending_since = 0;
        c->pending_min = INT64_MAX;
    }
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        if (!name || !ot_id_valid(name))
            continue;
        struct container *c = ingest__container(in, name);
        if (!c) {
            rc = OT_ERR_NOMEM;
            break;
        }
        seqset__clear(&c->above);
        c->known = 0;
        c->max_seq = sqlite3_column_type(st, 1) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 1);
        c->online = sqlite3_column_int(st, 3);
        c->state_seen = sqlite3_column_type(st, 4) != SQLITE_NULL;
        c->last_seen = sqlite3_column_int64(st, 5);
        if (sqlite3_column_type(st, 2) == SQLITE_NULL)
            continue;
        c->known = 1;
        c->ack = sqlite3_column_int64(st, 2);
        c->hi = c->max_seq > c->ack ? c->max_seq : c->ack;
    }
    sqlite3_reset(st);
    if (src != SQLITE_DONE && !rc) {
        ot_error("sqlite load containers failed error=\"%s\"", sqlite3_errmsg(in->db));
        rc = OT_ERR_DB;
    }
    for (size_t i = 0; i < in->n_ct && !rc; i++)
        if (in->ct[i]->known)
            rc = rebuild_set(in, in->ct[i]);
    return rc;
}

/* Establishes the ack baseline of a container first seen now (from its
 * state message, or from the lowest seq received during the wait). Readings
 * stored while waiting are taken into the set from the database. */
static enum ot_err baseline_set(struct ingest *in, struct container *c, int64_t ack,
                                const char *source)
{
    if (!strcmp(source, "first_seq")) {
        /* readings stored before a restart count as received too */
        sqlite3_bind_text(in->st_sel_min_seq, 1, c->name, -1, SQLITE_STATIC);
        if (sqlite3_step(in->st_sel_min_seq) == SQLITE_ROW &&
            sqlite3_column_type(in->st_sel_min_seq, 0) != SQLITE_NULL &&
            sqlite3_column_int64(in->st_sel_min_seq, 0) - 1 < ack)
            ack = sqlite3_column_int64(in->st_sel_min_seq, 0) - 1;
        sqlite3_reset(in->st_sel_min_seq);
    }
    c->known = 1;
    c->ack = ack;
    c->hi = c->max_seq > ack ? c->max_seq : ack;
    c->pending_since = 0;
    c->pending_min = INT64_MAX;
    c->row_dirty = 1;
    ot_info("container first seen container=%s ack_baseline=%lld source=%s", c->name,
            (long long)ack, source);
    return rebuild_set(in, c);
}

static enum ot_err write_container(struct ingest *in, struct container *c)
{
    sqlite3_stmt *st = in->st_upd_container;
    sqlite3_bind_text(st, 1, c->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, c->last_seen);
    if (c->max_seq >= 0)
        sqlite3_bind_int64(st, 3, c->max_seq);
    if (c->known)
        sqlite3_bind_int64(st, 4, c->ack);
    c->row_dirty = 0;
    return ingest__step_done(in, st);
}

/* ---- rejects ---------------------------------------------------------- */

static void reject(struct ingest *in, const char *container, const char *reason, const char *detail)
{
    ingest__count(in, "rejects", reason, 1);
    int64_t now = ot_time_mono_ms();
    if (now - in->reject_window_start >= 1000) {
        if (in->rejects_suppressed)
            ot_warn("rejected messages not logged suppressed=%lld",
                    (long long)in->rejects_suppressed);
        in->reject_window_start = now;
        in->rejects_in_window = 0;
        in->rejects_suppressed = 0;
    }
    if (in->rejects_in_window++ < REJECT_LOG_PER_S) {
        /* the detail names a key or an index; never echo payload text */
        char safe[96];
        size_t k = 0;
        if (detail && strstr(detail, "unknown key"))
            detail = "unknown key";
        for (const char *p = detail ? detail : ""; *p && k + 1 < sizeof safe; p++) {
            char ch = *p;
            int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                     (ch >= '0' && ch <= '9') || strchr("_.[]:=-+ ^{}|,", ch);
            safe[k++] = ok ? ch : '?';
        }
        safe[k] = '\0';
        ot_warn("message rejected container=%s reason=%s detail=\"%s\"", container, reason, safe);
    } else
        in->rejects_suppressed++;
}

/* ---- gaps ------------------------------------------------------------- */

static enum ot_err gap_insert(struct ingest *in, const char *container, int64_t from, int64_t to,
                              const char *kind, int *inserted)
{
    sqlite3_stmt *st = in->st_ins_gap;
    sqlite3_bind_text(st, 1, container, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, from);
    sqlite3_bind_int64(st, 3, to);
    sqlite3_bind_text(st, 4, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, in->now);
    enum ot_err rc = ingest__step_done(in, st);
    if (inserted)
        *inserted = !rc && sqlite3_changes(in->db) > 0;
    return rc;
}

/* Seqs [a,b] arrived (stored or declared lost): close or shrink open gaps. */
static enum ot_err gap_fill(struct ingest *in, struct container *c, int64_t a, int64_t b)
{
    struct ot_seq_range hit[16];
    size_t n = 0;
    enum ot_err rc = OT_OK;
    sqlite3_stmt *st = in->st_sel_gaps;
    sqlite3_bind_text(st, 1, c->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, b);
    sqlite3_bind_int64(st, 3, a);
    while (n < 16 && sqlite3_step(st) == SQLITE_ROW) {
        hit[n].from = sqlite3_column_int64(st, 0);
        hit[n].to = sqlite3_column_int64(st, 1);
        n++;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    for (size_t i = 0; i < n && !rc; i++) {
        int64_t g1 = hit[i].from, g2 = hit[i].to;
        int left = a > g1, right = b < g2;
        if (right) {
            /* the part after the fill stays open */
            if (left) {
                sqlite3_stmt *ins = in->st_ins_gap;
                sqlite3_bind_text(ins, 1, c->name, -1, SQLITE_STATIC);
                sqlite3_bind_int64(ins, 2, b + 1);
                sqlite3_bind_int64(ins, 3, g2);
                sqlite3_bind_text(ins, 4, "gap", -1, SQLITE_STATIC);
                sqlite3_bind_int64(ins, 5, in->now);
                rc = ingest__step_done(in, ins);
            } else {
                sqlite3_bind_int64(in->st_gap_from, 1, b + 1);
                sqlite3_bind_text(in->st_gap_from, 2, c->name, -1, SQLITE_STATIC);
                sqlite3_bind_int64(in->st_gap_from, 3, g1);
                rc = ingest__step_done(in, in->st_gap_from);
            }
        }
        if (!rc && left) {
            sqlite3_bind_int64(in->st_gap_to, 1, a - 1);
            sqlite3_bind_text(in->st_gap_to, 2, c->name, -1, SQLITE_STATIC);
            sqlite3_bind_int64(in->st_gap_to, 3, g1);
            rc = ingest__step_done(in, in->st_gap_to);
        }
        if (!rc && !left && !right) {
            sqlite3_bind_int64(in->st_gap_close, 1, in->now);
            sqlite3_bind_text(in->st_gap_close, 2, c->name, -1, SQLITE_STATIC);
            sqlite3_bind_int64(in->st_gap_close, 3, g1);
            rc = ingest__step_done(in, in->st_gap_close);
        }
    }
    return rc;
}

/* ---- readings --------------------------------------------------------- */

static void bind_double_opt(sqlite3_stmt *st, int idx, const struct ot_reading *r,
                            enum ot_channel ch)
{
    if (ot_reading_has(r, ch))
        sqlite3_bind_double(st, idx, r->v[ch]);
    else
        sqlite3_bind_null(st, idx);
}

/* JSON of missing channels and extra channels, or NULL when none */
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

static enum ot_err store_reading(struct ingest *in, struct container *c, const struct ot_batch *b,
                                 const struct ot_reading *r, int late, int *stored)
{
    static const int cols[OT_CH__COUNT] = {9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
    sqlite3_stmt *st = in->st_ins_reading;
    char *miss = missing_json(r), *extra = extra_json(r);
    sqlite3_bind_text(st, 1, c->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, r->seq);
    sqlite3_bind_text(st, 3, b->gateway, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, b->boot);
    sqlite3_bind_int64(st, 5, r->ts);
    sqlite3_bind_int64(st, 6, in->now);
    sqlite3_bind_int(st, 7, late);
    if (c->ship_id)
        sqlite3_bind_int64(st, 8, c->ship_id);
    for (int ch = 0; ch < OT_CH__COUNT; ch++) {
        if (!ot_reading_has(r, (enum ot_channel)ch))
            sqlite3_bind_null(st, cols[ch]);
        else if (ot_channels[ch].is_bool || ot_channels[ch].is_int)
            sqlite3_bind_int64(st, cols[ch], (sqlite3_int64)r->v[ch]);
        else
            bind_double_opt(st, cols[ch], r, (enum ot_channel)ch);
    }
    if (miss)
        sqlite3_bind_text(st, 21, miss, -1, SQLITE_TRANSIENT);
    if (extra)
        sqlite3_bind_text(st, 22, extra, -1, SQLITE_TRANSIENT);
    enum ot_err rc = ingest__step_done(in, st);
    *stored = !rc && sqlite3_changes(in->db) > 0;
    cJSON_free(miss);
    cJSON_free(extra);
    return rc;
}

static enum ot_err store_event(struct ingest *in, struct container *c, const struct ot_reading *r,
                               int late)
{
    char *enc = NULL, *payload = NULL;
    char head[160];
    enum ot_err rc = ot_reading_encode(r, &enc);
    if (rc)
        return rc;
    int hn = c->ship_id ? snprintf(head, sizeof head,
                                   "{\"container\":\"%s\",\"shipment_id\":%lld,"
                                   "\"late\":%s,",
                                   c->name, (long long)c->ship_id, late ? "true" : "false")
                        : snprintf(head, sizeof head,
                                   "{\"container\":\"%s\",\"shipment_id\":null,"
                                   "\"late\":%s,",
                                   c->name, late ? "true" : "false");
    size_t el = strlen(enc);
    payload = malloc((size_t)hn + el);
    if (!payload || el < 2) {
        rc = OT_ERR_NOMEM;
        goto done;
    }
    memcpy(payload, head, (size_t)hn);
    memcpy(payload + hn, enc + 1, el); /* skips "{", copies the NUL */
    sqlite3_bind_int64(in->st_ins_event, 1, in->now);
    sqlite3_bind_text(in->st_ins_event, 2, "reading", -1, SQLITE_STATIC);
    if (c->ship_id)
        sqlite3_bind_int64(in->st_ins_event, 3, c->ship_id);
    sqlite3_bind_text(in->st_ins_event, 4, c->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(in->st_ins_event, 5, payload, -1, SQLITE_STATIC);
    rc = ingest__step_done(in, in->st_ins_event);
done:
    free(payload);
    cJSON_free(enc);
    return rc;
}

static void influx_reading(struct ingest *in, struct container *c, const struct ot_reading *r,
                           int late)
{
    struct lineproto *lp = &in->lp;
    char ship[24];
    if (!in->ix)
        return;
    lineproto__begin(lp, "reading");
    lineproto__tag(lp, "container", c->name);
    if (c->ship_id) {
        snprintf(ship, sizeof ship, "%lld", (long long)c->ship_id);
        lineproto__tag(lp, "shipment", ship);
        if (c->profile[0])
            lineproto__tag(lp, "profile", c->profile);
    }
    lineproto__tag(lp, "late", late ? "true" : "false");
    lineproto__field_int(lp, "seq", r->seq);
    for (int ch = 0; ch < OT_CH__COUNT; ch++) {
        if (!ot_reading_has(r, (enum ot_channel)ch))
            continue;
        if (ot_channels[ch].is_bool)
            lineproto__field_bool(lp, ot_channels[ch].name, r->v[ch] != 0.0);
        else if (ot_channels[ch].is_int)
            lineproto__field_int(lp, ot_channels[ch].name, (int64_t)r->v[ch]);
        else
            lineproto__field_float(lp, ot_channels[ch].name, r->v[ch]);
    }
    for (size_t i = 0; i < r->n_extra; i++) {
        if (r->extra[i].is_bool)
            lineproto__field_bool(lp, r->extra[i].name, r->extra[i].value != 0.0);
        else
            lineproto__field_float(lp, r->extra[i].name, r->extra[i].value);
    }
    enum ot_err rc = lineproto__end(lp, r->ts);
    if (rc == OT_ERR_FULL) {
        /* hand over what is built and retry the line once */
        influx__submit(in->ix, lp->buf, lp->len);
        lineproto__reset(lp);
        influx_reading(in, c, r, late);
    } else if (rc) {
        ingest__count(in, "influx", "unencodable", 1);
    }
}

static enum ot_err handle_readings(struct ingest *in, const char *cname, const char *payload,
                                   size_t len, int64_t received_at)
{
    struct ot_batch b;
    struct ot_decode_error de;
    enum ot_err rc = OT_OK;
    memset(&b, 0, sizeof b);
    memset(&de, 0, sizeof de);
    if (ot_batch_decode(payload ? payload : "", len, &b, &de)) {
        reject(in, cname, de.reason ? de.reason : "schema", de.detail);
        return OT_OK;
    }
    if (strcmp(b.container, cname)) {
        reject(in, cname, "topic_mismatch", "payload container differs from topic");
        ot_batch_free(&b);
        return OT_OK;
    }
    ingest__count(in, "messages", "readings", 1);
    struct container *c = ingest__container(in, cname);
    if (!c) {
        ot_batch_free(&b);
        return OT_ERR_NOMEM;
    }
    if (!c->known) {
        /* no state message yet: remember the lowest seq; the baseline is
         * that minus one once baseline_wait_s passed without a state */
        for (size_t i = 0; i < b.n; i++)
            if (b.readings[i].seq < c->pending_min)
                c->pending_min = b.readings[i].seq;
        for (size_t i = 0; i < b.n_lost; i++)
            if (b.lost[i].from < c->pending_min)
                c->pending_min = b.lost[i].from;
        if (!c->pending_since)
            c->pending_since = ot_time_mono_ms();
        if (in->cc->baseline_wait_s == 0 && c->pending_min != INT64_MAX)
            rc = baseline_set(in, c, c->pending_min - 1, "first_seq");
    }
    alarms__refresh_shipment(in, c, 0);
    for (size_t i = 0; i < b.n_lost && !rc; i++) {
        struct ot_seq_range lr = b.lost[i];
        int inserted = 0;
        rc = gap_insert(in, c->name, lr.from, lr.to, "lost", &inserted);
        if (rc)
            break;
        if (inserted) {
            ingest__count(in, "lost", "", lr.to - lr.from + 1);
            ot_warn("readings declared lost container=%s from_seq=%lld to_seq=%lld", c->name,
                    (long long)lr.from, (long long)lr.to);
        }
        if (!c->known)
            continue; /* taken from the database when the baseline is set */
        if (lr.from <= c->hi)
            rc = gap_fill(in, c, lr.from, lr.to < c->hi ? lr.to : c->hi);
        if (!rc && lr.from > c->hi + 1) {
            rc = gap_insert(in, c->name, c->hi + 1, lr.from - 1, "gap", NULL);
            ingest__count(in, "gaps", "", 1);
        }
        if (lr.to > c->hi)
            c->hi = lr.to;
        if (!rc && lr.to > c->ack)
            rc = seqset__add(&c->above, lr.from > c->ack ? lr.from : c->ack + 1, lr.to);
    }
    for (size_t i = 0; i < b.n && !rc; i++) {
        const struct ot_reading *r = &b.readings[i];
        int late = received_at - r->ts > in->cc->late_after_s * 1000;
        int stored = 0;
        rc = store_reading(in, c, &b, r, late, &stored);
        if (rc)
            break;
        if (!stored) {
            ingest__count(in, "duplicates", "", 1);
            continue;
        }
        ingest__count(in, "readings", "stored", 1);
        if (late)
            ingest__count(in, "readings", "late", 1);
        if (!c->known) {
            /* baseline pending: no gap bookkeeping yet */
        } else if (r->seq > c->hi + 1) {
            rc = gap_insert(in, c->name, c->hi + 1, r->seq - 1, "gap", NULL);
            ingest__count(in, "gaps", "", 1);
            ot_info("seq gap container=%s from_seq=%lld to_seq=%lld", c->name,
                    (long long)(c->hi + 1), (long long)(r->seq - 1));
        } else if (r->seq <= c->hi) {
            rc = gap_fill(in, c, r->seq, r->seq);
        }
        if (rc)
            break;
        if (r->seq > c->hi)
            c->hi = r->seq;
        if (r->seq > c->max_seq)
            c->max_seq = r->seq;
        if (c->known && r->seq > c->ack)
            rc = seqset__add(&c->above, r->seq, r->seq);
        if (!rc)
            rc = store_event(in, c, r, late);
        if (rc)
            break;
        influx_reading(in, c, r, late);
        alarms__on_reading(in, c, r, late);
    }
    if (!rc) {
        if (c->known)
            advance_ack(c);
        c->last_seen = in->now;
        c->row_dirty = 1;
    }
    ot_batch_free(&b);
    return rc;
}

/* ---- state topic ------------------------------------------------------ */

static int json_int(const cJSON *o, const char *key, int64_t min, int64_t max, int64_t *out)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(it) || it->valuedouble != (double)(int64_t)it->valuedouble ||
        it->valuedouble < (double)min || it->valuedouble > (double)max)
        return -1;
    *out = (int64_t)it->valuedouble;
    return 0;
}

static enum ot_err handle_state(struct ingest *in, const char *cname, const char *payload,
                                size_t len)
{
    cJSON *o = NULL;
    enum ot_err rc = OT_OK;
    int64_t v = 0, ts = 0, boot = 0, seq = -1;
    const char *why = NULL;
    if (len == 0)
        return OT_OK; /* a retained state being cleared */
    if (len > 4096) {
        reject(in, cname, "too_large", "state message");
        return OT_OK;
    }
    o = cJSON_ParseWithLength(payload, len);
    if (!o || !cJSON_IsObject(o)) {
        reject(in, cname, "json", "state message");
        goto done;
    }
    const cJSON *jc = cJSON_GetObjectItemCaseSensitive(o, "container");
    const cJSON *jg = cJSON_GetObjectItemCaseSensitive(o, "gateway");
    const cJSON *jon = cJSON_GetObjectItemCaseSensitive(o, "online");
    if (json_int(o, "v", 1, 1, &v))
        why = "v";
    else if (!cJSON_IsString(jc) || !ot_id_valid(jc->valuestring))
        why = "container";
    else if (!cJSON_IsString(jg) || !ot_id_valid(jg->valuestring))
        why = "gateway";
    else if (!cJSON_IsBool(jon))
        why = "online";
    else if (cJSON_GetObjectItemCaseSensitive(o, "ts") &&
             json_int(o, "ts", 0, INT64_C(1) << 50, &ts))
        why = "ts";
    else if (cJSON_GetObjectItemCaseSensitive(o, "boot") &&
             json_int(o, "boot", 0, OT_SEQ_MAX, &boot))
        why = "boot";
    else if (cJSON_GetObjectItemCaseSensitive(o, "seq") && json_int(o, "seq", 0, OT_SEQ_MAX, &seq))
        why = "seq";
    if (why) {
        char detail[64];
        snprintf(detail, sizeof detail, "state key %s", why);
        reject(in, cname, "state", detail);
        goto done;
    }
    if (strcmp(jc->valuestring, cname)) {
        reject(in, cname, "topic_mismatch", "state container differs from topic");
        goto done;
    }
    ingest__count(in, "messages", "state", 1);
    struct container *c = ingest__container(in, cname);
    if (!c) {
        rc = OT_ERR_NOMEM;
        goto done;
    }
    c->state_seen = 1;
    c->online = cJSON_IsTrue(jon);
    c->last_seen = in->now;
    ot_info("gateway state container=%s gateway=%s online=%d boot=%lld seq=%lld", cname,
            jg->valuestring, c->online, (long long)boot, (long long)seq);
    if (seq >= 0) {
        /* the gateway no longer holds any seq <= seq: they were acknowledged
         * (possibly by an earlier database) or declared lost */
        if (!c->known) {
            rc = baseline_set(in, c, seq, "state");
            if (rc)
                goto done;
        } else if (seq > c->ack) {
            ot_warn("ack advanced by gateway state container=%s from=%lld to=%lld", c->name,
                    (long long)c->ack, (long long)seq);
            c->ack = seq;
            if (seq > c->hi)
                c->hi = seq;
            seqset__drop_upto(&c->above, c->ack);
            advance_ack(c);
            c->row_dirty = 1;
        }
    }
    sqlite3_stmt *st = in->st_upd_state;
    sqlite3_bind_text(st, 1, cname, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, jg->valuestring, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, c->online);
    sqlite3_bind_int64(st, 4, boot);
    sqlite3_bind_int64(st, 5, ts);
    sqlite3_bind_int64(st, 6, in->now);
    rc = ingest__step_done(in, st);
done:
    cJSON_Delete(o);
    return rc;
}

/* ---- the transaction -------------------------------------------------- */

static enum ot_err handle_msg(struct ingest *in, const struct queue_msg *m)
{
    char cname[OT_ID_MAX + 1];
    const char *leaf = ot_topic_parse(m->topic, in->cc->mqtt.topic_root, cname);
    if (!leaf) {
        reject(in, "?", "topic", "topic does not name a valid container");
        return OT_OK;
    }
    if (!strcmp(leaf, "readings"))
        return handle_readings(in, cname, m->payload, m->len, m->received_at);
    if (!strcmp(leaf, "state"))
        return handle_state(in, cname, m->payload, m->len);
    reject(in, cname, "topic", "unexpected topic leaf");
    return OT_OK;
}

void ingest__set_mqtt(struct ingest *in, struct mqtt *m)
{
    in->mqtt = m;
}

static void publish_acks(struct ingest *in, int all)
{
    char topic[OT_TOPIC_MAX], body[160];
    if (!in->mqtt)
        return;
    for (size_t i = 0; i < in->n_ct; i++) {
        struct container *c = in->ct[i];
        if (!c->known || (!all && c->ack == c->ack_published))
            continue;
        if (ot_topic(topic, sizeof topic, in->cc->mqtt.topic_root, c->name, "ack"))
            continue;
        int n = snprintf(body, sizeof body, "{\"v\":1,\"container\":\"%s\",\"seq\":%lld}", c->name,
                         (long long)c->ack);
        if (!mqtt__publish_retained(in->mqtt, topic, body, (size_t)n))
            c->ack_published = c->ack;
    }
}

struct due {
    int tick, eta, acks;
};

static enum ot_err run_txn(struct ingest *in, struct queue_msg *msgs, size_t n,
                           const struct due *due)
{
    enum ot_err rc;
    in->now = ot_time_now_ms();
    rc = ingest__step_done(in, in->st_begin);
    if (rc)
        return rc;
    for (size_t i = 0; i < n && !rc; i++)
        rc = handle_msg(in, &msgs[i]);
    if (!rc && due->acks)
        alarms__poll_acks(in);
    if (!rc && due->tick)
        alarms__tick(in, in->now);
    if (!rc && due->eta) {
        alarms__update_eta(in);
        /* the change feed (SSE) keeps events_keep_h; the record stays */
        sqlite3_bind_int64(in->st_trim_events, 1, in->now - in->cc->events_keep_h * 3600000);
        rc = ingest__step_done(in, in->st_trim_events);
    }
    int64_t mono = ot_time_mono_ms();
    for (size_t i = 0; i < in->n_ct && !rc; i++) {
        struct container *c = in->ct[i];
        if (!c->known && c->pending_since && c->pending_min != INT64_MAX &&
            mono - c->pending_since >= in->cc->baseline_wait_s * 1000)
            rc = baseline_set(in, c, c->pending_min - 1, "first_seq");
    }
    for (size_t i = 0; i < in->n_ct && !rc; i++)
        if (in->ct[i]->row_dirty)
            rc = write_container(in, in->ct[i]);
    if (!rc)
        rc = flush_counters(in);
    if (!rc)
        rc = ingest__step_done(in, in->st_commit);
    if (rc) {
        ot_error("transaction failed, rolled back messages=%zu", n);
        sqlite3_step(in->st_rollback);
        sqlite3_reset(in->st_rollback);
        drop_pending(in);
        load_containers(in);
        return rc;
    }
    in->n_counters = 0;
    if (n)
        ot_debug("batch committed messages=%zu queued_ms=%lld", n,
                 (long long)(ot_time_now_ms() - msgs[0].received_at));
    /* durable now: tell the world */
    publish_acks(in, 0);
    alarms__publish_dirty(in, 0);
    if (in->ix && in->lp.len) {
        influx__submit(in->ix, in->lp.buf, in->lp.len);
        lineproto__reset(&in->lp);
    }
    for (size_t i = 0; i < in->n_hooks; i++) {
        if (in->wh)
            webhook__submit(in->wh, "alarm", in->hooks[i].body);
        free(in->hooks[i].body);
    }
    in->n_hooks = 0;
    return OT_OK;
}

enum ot_err ingest__run(struct ingest *in, struct queue *q, volatile sig_atomic_t *stop)
{
    size_t max = (size_t)in->cc->batch_max;
    struct queue_msg *msgs = calloc(max, sizeof *msgs);
    int64_t last_tick = 0, last_eta = ot_time_mono_ms(), last_acks = 0;
    if (!msgs)
        return OT_ERR_NOMEM;
    int64_t stop_at = 0;
    for (;;) {
        int stopping = *stop != 0;
        if (stopping && !stop_at)
            stop_at = ot_time_mono_ms();
        size_t n = queue__pop(q, msgs, max, stopping ? 0 : 100);
        int64_t mono = ot_time_mono_ms();
        struct due due = {0, 0, 0};
        if (mono - last_tick >= in->cc->tick_ms) {
            due.tick = 1;
            last_tick = mono;
        }
        if (mono - last_eta >= in->cc->eta_every_s * 1000) {
            due.eta = 1;
            last_eta = mono;
        }
        if (mono - last_acks >= in->cc->ack_poll_ms) {
            due.acks = 1;
            last_acks = mono;
        }
        if (n || due.tick || due.eta || due.acks) {
            if (run_txn(in, msgs, n, &due) && n)
                ot_warn("batch not stored; gateways resend what the ack does not cover "
                        "messages=%zu",
                        n);
        }
        for (size_t i = 0; i < n; i++)
            queue__msg_free(&msgs[i]);
        if (in->mqtt)
            mqtt__tick(in->mqtt);
        if (in->mqtt && mqtt__take_reconnected(in->mqtt)) {
            publish_acks(in, 1);
            alarms__publish_dirty(in, 1);
        }
        /* stop once the queue is empty, or after 3 s under sustained load:
         * what is left was never acknowledged and will be resent */
        if (stopping && (n == 0 || ot_time_mono_ms() - stop_at > 3000))
            break;
    }
    free(msgs);
    return OT_OK;
}

/* ---- open / close ----------------------------------------------------- */

enum ot_err ingest__open(const struct collector_conf *cc, struct mqtt *m, struct influx *ix,
                         struct webhook *wh, struct ingest **out)
{
    enum ot_err rc;
    struct ingest *in = calloc(1, sizeof *in);
    *out = NULL;
    if (!in)
        return OT_ERR_NOMEM;
    in->cc = cc;
    in->mqtt = m;
    in->ix = ix;
    in->wh = wh;
    lineproto__init(&in->lp, 4 * 1024 * 1024);
    rc = ot_db_open(cc->database, &in->db);
    if (rc)
        goto fail;
    if (*cc->preservation) {
        char err[512] = "";
        rc = ot_preservation_load(cc->preservation, &in->profiles, err, sizeof err);
        if (rc) {
            ot_error("cannot load preservation profiles error=\"%s\"", err);
            goto fail;
        }
        ot_info("preservation profiles loaded file=%s count=%zu", cc->preservation,
                ot_preservation_count(in->profiles));
    }
    static const char reading_sql[] =
        "INSERT OR IGNORE INTO readings(container,seq,gateway,boot,ts,received_at,late,"
        "shipment_id,temp_c,temp2_c,ambient_c,lat,lon,alt_m,speed_kmh,heading_deg,lid_open,"
        "shock_g,battery_pct,gnss_fix,missing,extra) VALUES"
        "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
    if ((rc = ingest__prepare(in, &in->st_begin, "BEGIN IMMEDIATE")) ||
        (rc = ingest__prepare(in, &in->st_commit, "COMMIT")) ||
        (rc = ingest__prepare(in, &in->st_rollback, "ROLLBACK")) ||
        (rc = ingest__prepare(in, &in->st_ins_reading, reading_sql)) ||
        (rc = ingest__prepare(in, &in->st_ins_event,
                              "INSERT INTO events(ts,kind,shipment_id,container,payload) "
                              "VALUES(?,?,?,?,?)")) ||
        (rc = ingest__prepare(in, &in->st_upd_container,
                              "INSERT INTO containers(container,last_seen,max_seq,ack_seq) "
                              "VALUES(?1,?2,?3,?4) ON CONFLICT(container) DO UPDATE SET "
                              "last_seen=?2, max_seq=?3, ack_seq=?4")) ||
        (rc = ingest__prepare(in, &in->st_upd_state,
                              "INSERT INTO containers(container,gateway,online,boot,state_ts,"
                              "last_seen) VALUES(?1,?2,?3,?4,?5,?6) ON CONFLICT(container) DO "
                              "UPDATE SET gateway=?2, online=?3, boot=?4, state_ts=?5, "
                              "last_seen=?6")) ||
        (rc = ingest__prepare(in, &in->st_sel_containers,
                              "SELECT container,max_seq,ack_seq,online,state_ts,last_seen "
                              "FROM containers")) ||
        (rc = ingest__prepare(in, &in->st_sel_above,
                              "SELECT seq FROM readings WHERE container=? AND seq>? ORDER BY "
                              "seq LIMIT 1000000")) ||
        (rc = ingest__prepare(in, &in->st_sel_min_seq,
                              "SELECT min(seq) FROM readings WHERE container=?")) ||
        (rc = ingest__prepare(in, &in->st_sel_lost_above,
                              "SELECT from_seq,to_seq FROM seq_gaps WHERE container=? AND "
                              "kind='lost' AND to_seq>?")) ||
        (rc = ingest__prepare(in, &in->st_ins_gap,
                              "INSERT OR IGNORE INTO seq_gaps(container,from_seq,to_seq,kind,"
                              "detected_at) VALUES(?,?,?,?,?)")) ||
        (rc = ingest__prepare(in, &in->st_sel_gaps,
                              "SELECT from_seq,to_seq FROM seq_gaps WHERE container=?1 AND "
                              "kind='gap' AND closed_at IS NULL AND from_seq<=?2 AND "
                              "to_seq>=?3")) ||
        (rc = ingest__prepare(in, &in->st_gap_close,
                              "UPDATE seq_gaps SET closed_at=? WHERE container=? AND "
                              "kind='gap' AND from_seq=?")) ||
        (rc = ingest__prepare(in, &in->st_gap_to,
                              "UPDATE seq_gaps SET to_seq=? WHERE container=? AND kind='gap' "
                              "AND from_seq=?")) ||
        (rc = ingest__prepare(in, &in->st_gap_from,
                              "UPDATE OR REPLACE seq_gaps SET from_seq=? WHERE container=? AND "
                              "kind='gap' AND from_seq=?")) ||
        (rc = ingest__prepare(in, &in->st_trim_events,
                              "DELETE FROM events WHERE id IN (SELECT id FROM events"
                              " WHERE ts < ? LIMIT 10000)")) ||
        (rc = ingest__prepare(in, &in->st_counter,
                              "INSERT INTO counters(name,label,value) VALUES(?,?,?) "
                              "ON CONFLICT(name,label) DO UPDATE SET "
                              "value=value+excluded.value")) ||
        (rc = alarms__prepare(in)))
        goto fail;
    rc = load_containers(in);
    if (rc)
        goto fail;
    ot_info("database open path=%s containers=%zu", cc->database, in->n_ct);
    *out = in;
    return OT_OK;
fail:
    ingest__close(in);
    return rc;
}

void ingest__close(struct ingest *in)
{
    if (!in)
        return;
    sqlite3_stmt **all[] = {&in->st_begin,
                            &in->st_commit,
                            &in->st_rollback,
                            &in->st_ins_reading,
                            &in->st_ins_event,
                            &in->st_upd_container,
                            &in->st_upd_state,
                            &in->st_sel_containers,
                            &in->st_sel_above,
                            &in->st_sel_lost_above,
                            &in->st_sel_min_seq,
                            &in->st_ins_gap,
                            &in->st_sel_gaps,
                            &in->st_gap_close,
                            &in->st_gap_to,
                            &in->st_gap_from,
                            &in->st_counter,
                            &in->st_sel_shipment,
                            &in->st_sel_handoff,
                            &in->st_sel_open_alarm,
                            &in->st_ins_alarm,
                            &in->st_upd_alarm_raise,
                            &in->st_upd_alarm_escalate,
                            &in->st_upd_alarm_clear,
                            &in->st_sel_alarm_list,
                            &in->st_sel_acked,
                            &in->st_upd_eta,
                            &in->st_trim_events,
                            &in->st_sel_open_alarms};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        sqlite3_finalize(*all[i]);
        *all[i] = NULL;
    }
    for (size_t i = 0; i < in->n_ct; i++) {
        alarms__container_free(in->ct[i]);
        seqset__free(&in->ct[i]->above);
        free(in->ct[i]->acked_ids);
        free(in->ct[i]);
    }
    free(in->ct);
    drop_pending(in);
    lineproto__free(&in->lp);
    ot_preservation_free(in->profiles);
    if (in->db)
        sqlite3_close_v2(in->db);
    free(in);
}
