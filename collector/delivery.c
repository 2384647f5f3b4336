/* delivery.c - the end-to-end ack (delivery.h).
 *
 * Per container the worker keeps `ack` (every seq <= ack stored or declared
 * lost) and the sorted set of stored/lost ranges above it; the ack advances
 * while the lowest range starts at ack+1. Baseline for a container never
 * seen: the gateway's state "seq" (its birth message names the highest seq
 * it no longer holds), else the first seq received minus one. ack_seq is
 * persisted in the same transaction (store.c writes the containers row), so
 * a restart continues from it; a failed commit reloads all of it
 * (delivery__load), so an ack never covers a reading that is not stored.
 * Seqs skipped past `hi` are recorded as gaps in seq_gaps and shrunk or
 * closed as they arrive. */
#include "delivery.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ot_log.h"
#include "ot_time.h"
#include "sql.h"

/* ---- statements ------------------------------------------------------- */

enum ot_err delivery__prepare(struct ingest *in)
{
    struct ot_sql *db = in->sql;
    enum ot_err rc;
    if ((rc = sql__prepare(
             db, &in->st_sel_containers,
             "SELECT container,max_seq,ack_seq,online,state_ts,last_seen,flight,radio_since "
             "FROM containers")) ||
        (rc = sql__prepare(db, &in->st_sel_above,
                           "SELECT seq FROM readings WHERE container=?1 AND seq>?2 ORDER BY "
                           "seq LIMIT 1000000")) ||
        (rc = sql__prepare(db, &in->st_sel_min_seq,
                           "SELECT min(seq) FROM readings WHERE container=?1")) ||
        (rc = sql__prepare(db, &in->st_sel_lost_above,
                           "SELECT from_seq,to_seq FROM seq_gaps WHERE container=?1 AND "
                           "kind='lost' AND to_seq>?2")) ||
        (rc = sql__prepare(db, &in->st_ins_gap,
                           "INSERT INTO seq_gaps(container,from_seq,to_seq,kind,detected_at) "
                           "VALUES(?1,?2,?3,?4,?5) "
                           "ON CONFLICT (container, from_seq, kind) DO NOTHING")) ||
        (rc = sql__prepare(db, &in->st_sel_gaps,
                           "SELECT from_seq,to_seq FROM seq_gaps WHERE container=?1 AND "
                           "kind='gap' AND closed_at IS NULL AND from_seq<=?2 AND "
                           "to_seq>=?3")) ||
        (rc = sql__prepare(db, &in->st_gap_close,
                           "UPDATE seq_gaps SET closed_at=?1 WHERE container=?2 AND "
                           "kind='gap' AND from_seq=?3")) ||
        (rc = sql__prepare(db, &in->st_gap_to,
                           "UPDATE seq_gaps SET to_seq=?1 WHERE container=?2 AND kind='gap' "
                           "AND from_seq=?3")) ||
        /* moving a gap's start onto a row that is there already replaces
         * that row: delete it first, then move */
        (rc = sql__prepare(db, &in->st_gap_del,
                           "DELETE FROM seq_gaps WHERE container=?1 AND kind='gap' AND "
                           "from_seq=?2")) ||
        (rc = sql__prepare(db, &in->st_gap_from,
                           "UPDATE seq_gaps SET from_seq=?1 WHERE container=?2 AND "
                           "kind='gap' AND from_seq=?3")))
        return rc;
    return OT_OK;
}

void delivery__close(struct ingest *in)
{
    /* the statements belong to the connection */
    in->st_sel_containers = in->st_sel_above = in->st_sel_lost_above = in->st_sel_min_seq = NULL;
    in->st_ins_gap = in->st_sel_gaps = in->st_gap_close = in->st_gap_to = NULL;
    in->st_gap_from = in->st_gap_del = NULL;
    for (size_t i = 0; i < in->n_ct; i++) {
        seqset__free(&in->ct[i]->above);
        free(in->ct[i]);
    }
    free(in->ct);
    in->ct = NULL;
    in->n_ct = in->cap_ct = 0;
}

/* ---- ack ------------------------------------------------------------ */

static void advance_ack(struct container *c)
{
    if (seqset__advance(&c->above, &c->ack))
        c->row_dirty = 1;
}

void delivery__advance_ack(struct container *c)
{
    advance_ack(c);
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
    c->al = alarms__track(in->alarms, name);
    if (!c->al) {
        free(c);
        return NULL;
    }
    snprintf(c->name, sizeof c->name, "%s", name);
    c->ack_published = INT64_MIN;
    c->max_seq = -1;
    c->pending_min = INT64_MAX;
    in->ct[in->n_ct++] = c;
    return c;
}

struct container *delivery__container(struct ingest *in, const char *name)
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
    int row = 0;
    struct ot_sql_stmt *st = in->st_sel_above;
    seqset__clear(&c->above);
    sql__bind_txt(st, 1, c->name, &rc);
    sql__bind_i64(st, 2, c->ack, &rc);
    if (!rc)
        rc = ot_sql_step(st, &row);
    while (!rc && row) {
        int64_t s = ot_sql_int64(st, 0);
        rc = seqset__add(&c->above, s, s);
        if (!rc)
            rc = ot_sql_step(st, &row);
    }
    ot_sql_reset(st);
    st = in->st_sel_lost_above;
    sql__bind_txt(st, 1, c->name, &rc);
    sql__bind_i64(st, 2, c->ack, &rc);
    if (!rc)
        rc = ot_sql_step(st, &row);
    while (!rc && row) {
        int64_t f = ot_sql_int64(st, 0);
        int64_t t = ot_sql_int64(st, 1);
        if (f <= c->ack)
            f = c->ack + 1;
        rc = seqset__add(&c->above, f, t);
        if (t > c->hi)
            c->hi = t;
        if (!rc)
            rc = ot_sql_step(st, &row);
    }
    ot_sql_reset(st);
    advance_ack(c);
    return rc;
}

void delivery__forget(struct ingest *in)
{
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
}

enum ot_err delivery__load(struct ingest *in)
{
    enum ot_err rc = OT_OK;
    struct ot_sql_stmt *st = in->st_sel_containers;
    int row = 0;
    /* forget what a rolled-back transaction taught us */
    delivery__forget(in);
    rc = ot_sql_step(st, &row);
    while (!rc && row) {
        const char *name = ot_sql_text(st, 0);
        if (name && ot_id_valid(name)) {
            struct container *c = delivery__container(in, name);
            if (!c) {
                rc = OT_ERR_NOMEM;
                break;
            }
            seqset__clear(&c->above);
            c->known = 0;
            c->max_seq = ot_sql_is_null(st, 1) ? -1 : ot_sql_int64(st, 1);
            c->online = (int)ot_sql_int64(st, 3);
            c->state_seen = !ot_sql_is_null(st, 4);
            c->last_seen = ot_sql_int64(st, 5);
            /* in flight when we stopped: still, until a state says otherwise */
            c->flight = !c->online && ot_sql_int64(st, 6) != 0;
            alarms__radio(c->al, c->flight, ot_sql_is_null(st, 7) ? 0 : ot_sql_int64(st, 7), 0);
            if (!ot_sql_is_null(st, 2)) {
                c->known = 1;
                c->ack = ot_sql_int64(st, 2);
                c->hi = c->max_seq > c->ack ? c->max_seq : c->ack;
            }
        }
        rc = ot_sql_step(st, &row);
    }
    ot_sql_reset(st);
    if (rc)
        ot_error("cannot load the containers' delivery state database=%s error=%s",
                 ot_sql_name(in->sql), ot_strerror(rc));
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
        struct ot_sql_stmt *st = in->st_sel_min_seq;
        enum ot_err rc = OT_OK;
        int row = 0;
        sql__bind_txt(st, 1, c->name, &rc);
        if (!rc)
            rc = ot_sql_step(st, &row);
        if (!rc && row && !ot_sql_is_null(st, 0) && ot_sql_int64(st, 0) - 1 < ack)
            ack = ot_sql_int64(st, 0) - 1;
        ot_sql_reset(st);
        if (rc)
            return rc;
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

/* ---- gaps ------------------------------------------------------------- */

static enum ot_err gap_insert(struct ingest *in, const char *container, int64_t from, int64_t to,
                              const char *kind, int *inserted)
{
    struct ot_sql_stmt *st = in->st_ins_gap;
    enum ot_err rc = OT_OK;
    int64_t changed = 0;
    sql__bind_txt(st, 1, container, &rc);
    sql__bind_i64(st, 2, from, &rc);
    sql__bind_i64(st, 3, to, &rc);
    sql__bind_txt(st, 4, kind, &rc);
    sql__bind_i64(st, 5, in->now, &rc);
    rc = sql__run(st, rc, &changed);
    if (inserted)
        *inserted = !rc && changed > 0;
    return rc;
}

/* UPDATE seq_gaps SET <col> = v WHERE container AND kind='gap' AND from_seq = g1 */
static enum ot_err gap_update(struct ot_sql_stmt *st, int64_t v, const char *container, int64_t g1)
{
    enum ot_err rc = OT_OK;
    sql__bind_i64(st, 1, v, &rc);
    sql__bind_txt(st, 2, container, &rc);
    sql__bind_i64(st, 3, g1, &rc);
    return sql__run(st, rc, NULL);
}

/* Seqs [a,b] arrived (stored or declared lost): close or shrink open gaps. */
static enum ot_err gap_fill(struct ingest *in, struct container *c, int64_t a, int64_t b)
{
    struct ot_seq_range hit[16];
    size_t n = 0;
    enum ot_err rc = OT_OK;
    int row = 0;
    struct ot_sql_stmt *st = in->st_sel_gaps;
    sql__bind_txt(st, 1, c->name, &rc);
    sql__bind_i64(st, 2, b, &rc);
    sql__bind_i64(st, 3, a, &rc);
    if (!rc)
        rc = ot_sql_step(st, &row);
    while (!rc && row && n < 16) {
        hit[n].from = ot_sql_int64(st, 0);
        hit[n].to = ot_sql_int64(st, 1);
        n++;
        rc = ot_sql_step(st, &row);
    }
    ot_sql_reset(st);
    for (size_t i = 0; i < n && !rc; i++) {
        int64_t g1 = hit[i].from, g2 = hit[i].to;
        int left = a > g1, right = b < g2;
        if (right) {
            /* the part after the fill stays open */
            if (left) {
                rc = gap_insert(in, c->name, b + 1, g2, "gap", NULL);
            } else {
                struct ot_sql_stmt *del = in->st_gap_del;
                sql__bind_txt(del, 1, c->name, &rc);
                sql__bind_i64(del, 2, b + 1, &rc);
                rc = sql__run(del, rc, NULL);
                if (!rc)
                    rc = gap_update(in->st_gap_from, b + 1, c->name, g1);
            }
        }
        if (!rc && left)
            rc = gap_update(in->st_gap_to, a - 1, c->name, g1);
        if (!rc && !left && !right)
            rc = gap_update(in->st_gap_close, in->now, c->name, g1);
    }
    return rc;
}

/* ---- per message ------------------------------------------------------ */

enum ot_err delivery__pending(struct ingest *in, struct container *c, const struct ot_batch *b)
{
    if (c->known)
        return OT_OK;
    /* no state message yet: remember the lowest seq; the baseline is
     * that minus one once baseline_wait_s passed without a state */
    for (size_t i = 0; i < b->n; i++)
        if (b->readings[i].seq < c->pending_min)
            c->pending_min = b->readings[i].seq;
    for (size_t i = 0; i < b->n_lost; i++)
        if (b->lost[i].from < c->pending_min)
            c->pending_min = b->lost[i].from;
    if (!c->pending_since)
        c->pending_since = ot_time_mono_ms();
    if (in->cc->baseline_wait_s == 0 && c->pending_min != INT64_MAX)
        return baseline_set(in, c, c->pending_min - 1, "first_seq");
    return OT_OK;
}

enum ot_err delivery__lost(struct ingest *in, struct container *c, const struct ot_batch *b)
{
    enum ot_err rc = OT_OK;
    for (size_t i = 0; i < b->n_lost && !rc; i++) {
        struct ot_seq_range lr = b->lost[i];
        int inserted = 0;
        rc = gap_insert(in, c->name, lr.from, lr.to, "lost", &inserted);
        if (rc)
            break;
        if (inserted) {
            outbox__count(&in->ob, "lost", "", lr.to - lr.from + 1);
            ot_warn("readings declared lost container=%s from_seq=%lld to_seq=%lld", c->name,
                    (long long)lr.from, (long long)lr.to);
            /* declared losses are an incident of the shipment (SPEC v1.1) */
            char source[96], detail[128];
            snprintf(source, sizeof source, "lost/%s/%lld-%lld", c->name, (long long)lr.from,
                     (long long)lr.to);
            snprintf(detail, sizeof detail, "readings %lld..%lld declared lost by the gateway",
                     (long long)lr.from, (long long)lr.to);
            rc = alarms__refresh_shipment(in->alarms, c->al, 0);
            if (!rc)
                rc = alarms__incident(in->alarms, c->al, "lost_readings", source, detail, in->now);
            if (rc)
                break;
        }
        if (!c->known)
            continue; /* taken from the database when the baseline is set */
        if (lr.from <= c->hi)
            rc = gap_fill(in, c, lr.from, lr.to < c->hi ? lr.to : c->hi);
        if (!rc && lr.from > c->hi + 1) {
            rc = gap_insert(in, c->name, c->hi + 1, lr.from - 1, "gap", NULL);
            outbox__count(&in->ob, "gaps", "", 1);
        }
        if (lr.to > c->hi)
            c->hi = lr.to;
        if (!rc && lr.to > c->ack)
            rc = seqset__add(&c->above, lr.from > c->ack ? lr.from : c->ack + 1, lr.to);
    }
    return rc;
}

enum ot_err delivery__stored(struct ingest *in, struct container *c, int64_t seq)
{
    enum ot_err rc = OT_OK;
    if (!c->known) {
        /* baseline pending: no gap bookkeeping yet */
    } else if (seq > c->hi + 1) {
        rc = gap_insert(in, c->name, c->hi + 1, seq - 1, "gap", NULL);
        outbox__count(&in->ob, "gaps", "", 1);
        ot_info("seq gap container=%s from_seq=%lld to_seq=%lld", c->name, (long long)(c->hi + 1),
                (long long)(seq - 1));
    } else if (seq <= c->hi) {
        rc = gap_fill(in, c, seq, seq);
    }
    if (rc)
        return rc;
    if (seq > c->hi)
        c->hi = seq;
    if (seq > c->max_seq)
        c->max_seq = seq;
    if (c->known && seq > c->ack)
        rc = seqset__add(&c->above, seq, seq);
    return rc;
}

enum ot_err delivery__state_seq(struct ingest *in, struct container *c, int64_t seq)
{
    /* the gateway no longer holds any seq <= seq: they were acknowledged
     * (possibly by an earlier database) or declared lost */
    if (!c->known)
        return baseline_set(in, c, seq, "state");
    if (seq > c->ack) {
        ot_warn("ack advanced by gateway state container=%s from=%lld to=%lld", c->name,
                (long long)c->ack, (long long)seq);
        c->ack = seq;
        if (seq > c->hi)
            c->hi = seq;
        seqset__drop_upto(&c->above, c->ack);
        advance_ack(c);
        c->row_dirty = 1;
    }
    return OT_OK;
}

/* ---- per transaction -------------------------------------------------- */

enum ot_err delivery__baselines_due(struct ingest *in)
{
    enum ot_err rc = OT_OK;
    int64_t mono = ot_time_mono_ms();
    for (size_t i = 0; i < in->n_ct && !rc; i++) {
        struct container *c = in->ct[i];
        if (!c->known && c->pending_since && c->pending_min != INT64_MAX &&
            mono - c->pending_since >= in->cc->baseline_wait_s * 1000)
            rc = baseline_set(in, c, c->pending_min - 1, "first_seq");
    }
    return rc;
}

void delivery__publish_acks(struct ingest *in, int all)
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
