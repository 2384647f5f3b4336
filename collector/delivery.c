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
    enum ot_err rc;
    if ((rc = sql__prepare(in->db, &in->st_sel_containers,
                           "SELECT container,max_seq,ack_seq,online,state_ts,last_seen "
                           "FROM containers")) ||
        (rc = sql__prepare(in->db, &in->st_sel_above,
                           "SELECT seq FROM readings WHERE container=? AND seq>? ORDER BY "
                           "seq LIMIT 1000000")) ||
        (rc = sql__prepare(in->db, &in->st_sel_min_seq,
                           "SELECT min(seq) FROM readings WHERE container=?")) ||
        (rc = sql__prepare(in->db, &in->st_sel_lost_above,
                           "SELECT from_seq,to_seq FROM seq_gaps WHERE container=? AND "
                           "kind='lost' AND to_seq>?")) ||
        (rc = sql__prepare(in->db, &in->st_ins_gap,
                           "INSERT OR IGNORE INTO seq_gaps(container,from_seq,to_seq,kind,"
                           "detected_at) VALUES(?,?,?,?,?)")) ||
        (rc = sql__prepare(in->db, &in->st_sel_gaps,
                           "SELECT from_seq,to_seq FROM seq_gaps WHERE container=?1 AND "
                           "kind='gap' AND closed_at IS NULL AND from_seq<=?2 AND "
                           "to_seq>=?3")) ||
        (rc = sql__prepare(in->db, &in->st_gap_close,
                           "UPDATE seq_gaps SET closed_at=? WHERE container=? AND "
                           "kind='gap' AND from_seq=?")) ||
        (rc = sql__prepare(in->db, &in->st_gap_to,
                           "UPDATE seq_gaps SET to_seq=? WHERE container=? AND kind='gap' "
                           "AND from_seq=?")) ||
        (rc = sql__prepare(in->db, &in->st_gap_from,
                           "UPDATE OR REPLACE seq_gaps SET from_seq=? WHERE container=? AND "
                           "kind='gap' AND from_seq=?")))
        return rc;
    return OT_OK;
}

void delivery__close(struct ingest *in)
{
    sqlite3_stmt **all[] = {&in->st_sel_containers, &in->st_sel_above, &in->st_sel_lost_above,
                            &in->st_sel_min_seq,    &in->st_ins_gap,   &in->st_sel_gaps,
                            &in->st_gap_close,      &in->st_gap_to,    &in->st_gap_from};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        sqlite3_finalize(*all[i]);
        *all[i] = NULL;
    }
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

enum ot_err delivery__load(struct ingest *in)
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
        struct container *c = delivery__container(in, name);
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
    enum ot_err rc = sql__step_done(in->db, st);
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
                rc = sql__step_done(in->db, ins);
            } else {
                sqlite3_bind_int64(in->st_gap_from, 1, b + 1);
                sqlite3_bind_text(in->st_gap_from, 2, c->name, -1, SQLITE_STATIC);
                sqlite3_bind_int64(in->st_gap_from, 3, g1);
                rc = sql__step_done(in->db, in->st_gap_from);
            }
        }
        if (!rc && left) {
            sqlite3_bind_int64(in->st_gap_to, 1, a - 1);
            sqlite3_bind_text(in->st_gap_to, 2, c->name, -1, SQLITE_STATIC);
            sqlite3_bind_int64(in->st_gap_to, 3, g1);
            rc = sql__step_done(in->db, in->st_gap_to);
        }
        if (!rc && !left && !right) {
            sqlite3_bind_int64(in->st_gap_close, 1, in->now);
            sqlite3_bind_text(in->st_gap_close, 2, c->name, -1, SQLITE_STATIC);
            sqlite3_bind_int64(in->st_gap_close, 3, g1);
            rc = sql__step_done(in->db, in->st_gap_close);
        }
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
