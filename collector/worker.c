/* worker.c - the worker loop: the only thread that touches the database.
 *
 * It drains the bounded queue in batches and handles each batch in ONE
 * transaction (ot_sql_begin ... COMMIT): every message (store.c, which
 * hands the ack bookkeeping to delivery.c and stored readings to the rules
 * in alarms.c), the housekeeping due this round (acknowledgement poll,
 * rules tick, ETA and the trim of the change feed), baselines that waited
 * long enough, the dirty containers rows and the counter deltas. Only after
 * COMMIT returns (durable: SQLite synchronous=FULL, PostgreSQL
 * synchronous_commit on) does it publish the retained acks and alarm lists
 * and hand lines to the InfluxDB writer and bodies to the webhooks
 * (outbox.c).
 *
 * Any failed write fails the batch: it is rolled back, its outputs are
 * dropped, the delivery state is reloaded from the database and the rules
 * state put back (alarms__rollback), so an ack never covers a write that
 * is not stored. The batch itself stays in hand and is tried again, with a
 * back-off from 100 ms doubling to 5 s, for as long as it takes: a write
 * the database refuses (a trigger, a full disk) stalls the collector
 * loudly (an error line at once and then once a minute, counter
 * batches/failed) rather than losing a reading or the alarm it raises.
 * When the connection itself is gone (ot_sql_lost) worker__run returns
 * WORKER_LOST with the batch still in hand; role.c reconnects and runs the
 * worker again, which replays it. */
#include "ingest.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "delivery.h"
#include "ot_db.h"
#include "ot_log.h"
#include "ot_time.h"
#include "sql.h"
#include "store.h"

#define RETRY_FIRST_MS 100
#define RETRY_MAX_MS 5000
#define FAIL_LOG_EVERY_MS 60000

/* PostgreSQL: every delta in one statement */
static enum ot_err flush_counters_many(struct ingest *in)
{
    struct sql_arr *a = in->scratch;
    enum ot_err rc = OT_OK;
    size_t n = 0;
    for (int k = 0; k < 3; k++)
        sql_arr__start(&a[k]);
    for (size_t i = 0; i < in->ob.n_counters; i++) {
        struct counter_delta *d = &in->ob.counters[i];
        if (!d->delta)
            continue;
        n++;
        sql_arr__txt(&a[0], d->name);
        sql_arr__txt(&a[1], d->label);
        sql_arr__i64(&a[2], d->delta);
    }
    if (!n)
        return OT_OK;
    for (int k = 0; k < 3; k++) {
        const char *lit = sql_arr__end(&a[k]);
        if (!lit && !rc)
            rc = OT_ERR_NOMEM;
        sql__bind_txt(in->st_counters, k + 1, lit, &rc);
    }
    return sql__run(in->st_counters, rc, NULL);
}

/* Writes the counter deltas of the transaction (with the writer threads'). */
static enum ot_err flush_counters(struct ingest *in)
{
    enum ot_err rc = OT_OK;
    outbox__take_writer_counts(&in->ob);
    if (in->st_counters)
        return flush_counters_many(in);
    for (size_t i = 0; i < in->ob.n_counters && !rc; i++) {
        struct counter_delta *d = &in->ob.counters[i];
        if (!d->delta)
            continue;
        sql__bind_txt(in->st_counter, 1, d->name, &rc);
        sql__bind_txt(in->st_counter, 2, d->label, &rc);
        sql__bind_i64(in->st_counter, 3, d->delta, &rc);
        rc = sql__run(in->st_counter, rc, NULL);
    }
    return rc;
}

void worker__set_mqtt(struct ingest *in, struct mqtt *m)
{
    in->mqtt = m;
}

struct ot_sql *worker__sql(struct ingest *in)
{
    return in->sql;
}

struct due {
    int tick, eta, acks;
};

/* The housekeeping due this round, inside the transaction. */
static enum ot_err housekeeping(struct ingest *in, const struct due *due)
{
    enum ot_err rc = OT_OK;
    if (due->acks)
        rc = alarms__poll_acks(in->alarms, in->now);
    if (!rc && due->acks) /* shipments the API opened or ended */
        rc = limits__poll(in->limits);
    for (size_t i = 0; i < in->n_ct && !rc && due->tick; i++) {
        struct container *c = in->ct[i];
        /* no state message ever seen: offline is unknown, not claimed
         * (silence is sensor_silent's business) */
        rc = alarms__tick(in->alarms, c->al, c->state_seen ? c->online : 1, in->now, &in->ob);
    }
    if (!rc && due->eta) {
        rc = alarms__update_eta(in->alarms, in->now);
        /* the change feed (SSE) keeps events_keep_h; the record stays */
        sql__bind_i64(in->st_trim_events, 1, in->now - in->cc->events_keep_h * 3600000, &rc);
        rc = sql__run(in->st_trim_events, rc, NULL);
    }
    return rc;
}

/* After a failed batch: forget everything it did. */
static void roll_back(struct ingest *in)
{
    int lost = ot_sql_lost(in->sql);
    if (!lost) /* a lost session has rolled back by itself */
        ot_sql_rollback(in->sql);
    outbox__drop(&in->ob);
    feed__drop(&in->feed);
    alarms__rollback(in->alarms);
    /* what the rolled-back batch taught the ack is forgotten: reload now
     * (if that cannot be done, every container is unknown until the reload
     * succeeds, so no ack leaves meanwhile) */
    if (lost)
        delivery__forget(in);
    in->reload = lost || delivery__load(in) != OT_OK;
}

/* One transaction: the drained messages, the housekeeping due, the rows,
 * COMMIT; only then acks, alarm lists, lines and bodies leave. */
static enum ot_err run_txn(struct ingest *in, struct queue_msg *msgs, size_t n,
                           const struct due *due)
{
    enum ot_err rc = OT_OK;
    if (in->reload) {
        if ((rc = delivery__load(in)))
            return rc;
        in->reload = 0;
    }
    in->now = ot_time_now_ms();
    if ((rc = ot_sql_begin(in->sql)))
        goto failed;
    alarms__begin(in->alarms);
    rc = store__messages(in, msgs, n);
    if (!rc)
        rc = housekeeping(in, due);
    if (!rc)
        rc = delivery__baselines_due(in);
    if (!rc)
        rc = store__containers(in);
    if (!rc)
        rc = feed__flush(&in->feed, in->now); /* alarm events of the ticks */
    if (!rc && in->fail_uncounted)
        outbox__count(&in->ob, "batches", "failed", in->fail_uncounted);
    if (!rc)
        rc = flush_counters(in);
    if (!rc && (rc = ot_sql_commit(in->sql)) && ot_sql_lost(in->sql))
        in->commit_unknown = 1; /* it may have committed: the replay sorts it out */
failed:
    if (rc) {
        roll_back(in);
        return rc;
    }
    in->fail_uncounted = 0;
    outbox__counters_done(&in->ob);
    if (n)
        ot_debug("batch committed messages=%zu queued_ms=%lld", n,
                 (long long)(ot_time_now_ms() - msgs[0].received_at));
    /* durable now: tell the world */
    delivery__publish_acks(in, 0);
    alarms__publish_dirty(in->alarms, in->mqtt, in->cc->mqtt.topic_root, 0);
    limits__publish(in->limits, in->mqtt, in->cc->mqtt.topic_root, 0, in->now);
    outbox__send(&in->ob);
    return OT_OK;
}

/* Best effort, outside the failing transaction: counts the failed
 * attempts so /metrics shows the stall while it lasts. */
static void count_failures_now(struct ingest *in)
{
    enum ot_err rc = OT_OK;
    sql__bind_txt(in->st_counter, 1, "batches", &rc);
    sql__bind_txt(in->st_counter, 2, "failed", &rc);
    sql__bind_i64(in->st_counter, 3, in->fail_uncounted, &rc);
    if (!sql__run(in->st_counter, rc, NULL))
        in->fail_uncounted = 0;
}

static void batch_failed(struct ingest *in, size_t n, int64_t mono)
{
    int64_t backoff = RETRY_FIRST_MS << (in->fail_attempts < 6 ? in->fail_attempts : 6);
    if (backoff > RETRY_MAX_MS)
        backoff = RETRY_MAX_MS;
    in->fail_attempts++;
    in->fail_uncounted++;
    in->retry_at = mono + backoff;
    if (in->fail_attempts == 1) {
        in->fail_since = in->fail_logged = mono;
        ot_error("batch not stored, rolled back; retrying it (nothing it holds is acknowledged "
                 "until it is stored) messages=%zu retry_in_ms=%lld database=%s",
                 n, (long long)backoff, ot_sql_name(in->sql));
        count_failures_now(in);
    } else if (mono - in->fail_logged >= FAIL_LOG_EVERY_MS) {
        in->fail_logged = mono;
        ot_error("batch still not stored, collector stalled: the database refuses a write in it; "
                 "retrying every %lld ms messages=%zu attempts=%lld failing_for_s=%lld "
                 "database=%s",
                 (long long)backoff, n, (long long)in->fail_attempts,
                 (long long)((mono - in->fail_since) / 1000), ot_sql_name(in->sql));
        count_failures_now(in);
    }
}

static void batch_stored(struct ingest *in, int64_t mono)
{
    if (in->fail_attempts)
        ot_warn("batch stored after failed attempts attempts=%lld failing_for_ms=%lld",
                (long long)in->fail_attempts, (long long)(mono - in->fail_since));
    in->fail_attempts = 0;
    in->retry_at = 0;
}

static void free_held(struct ingest *in)
{
    for (size_t i = 0; i < in->n_msgs; i++)
        queue__msg_free(&in->msgs[i]);
    in->n_msgs = 0;
}

static void nap_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

enum worker_end worker__run(struct ingest *in, struct queue *q, volatile sig_atomic_t *stop)
{
    size_t max = (size_t)in->cc->batch_max;
    int64_t stop_at = 0;
    for (;;) {
        int stopping = *stop != 0;
        if (stopping && !stop_at)
            stop_at = ot_time_mono_ms();
        int64_t mono = ot_time_mono_ms();
        if (in->n_msgs && mono < in->retry_at) {
            nap_ms(in->retry_at - mono < 50 ? in->retry_at - mono : 50);
        } else {
            if (!in->n_msgs)
                in->n_msgs = queue__pop(q, in->msgs, max, stopping ? 0 : 100);
            size_t n = in->n_msgs;
            mono = ot_time_mono_ms();
            struct due due = {0, 0, 0};
            if (mono - in->last_tick >= in->cc->tick_ms) {
                due.tick = 1;
                in->last_tick = mono;
            }
            if (mono - in->last_eta >= in->cc->eta_every_s * 1000) {
                due.eta = 1;
                in->last_eta = mono;
            }
            if (mono - in->last_acks >= in->cc->ack_poll_ms) {
                due.acks = 1;
                in->last_acks = mono;
            }
            if (n || due.tick || due.eta || due.acks) {
                if (run_txn(in, in->msgs, n, &due)) {
                    if (ot_sql_lost(in->sql)) {
                        ot_error("database connection lost, batch rolled back and kept for "
                                 "replay messages=%zu database=%s",
                                 n, ot_sql_name(in->sql));
                        return WORKER_LOST;
                    }
                    batch_failed(in, n, ot_time_mono_ms());
                } else {
                    batch_stored(in, ot_time_mono_ms());
                    free_held(in);
                }
            }
        }
        if (in->mqtt && mqtt__reconnect_due(in->mqtt)) {
            /* connect under the shared client id only while our session
             * (and with it the standby lock) is alive */
            if (ot_sql_exec(in->sql, "SELECT 1") && ot_sql_lost(in->sql)) {
                ot_error("database connection lost database=%s", ot_sql_name(in->sql));
                return WORKER_LOST;
            }
            mqtt__tick(in->mqtt);
        }
        if (in->mqtt && mqtt__take_reconnected(in->mqtt)) {
            delivery__publish_acks(in, 1);
            alarms__publish_dirty(in->alarms, in->mqtt, in->cc->mqtt.topic_root, 1);
            limits__publish(in->limits, in->mqtt, in->cc->mqtt.topic_root, 1, ot_time_now_ms());
        }
        /* stop once the queue is empty, at once with a failing batch, or
         * after 3 s under sustained load: what is left was never
         * acknowledged and will be resent */
        if (stopping &&
            (in->n_msgs == 0 || in->fail_attempts || ot_time_mono_ms() - stop_at > 3000))
            break;
    }
    if (in->n_msgs)
        ot_warn("stopping with a batch not stored; gateways resend it messages=%zu", in->n_msgs);
    free_held(in);
    return WORKER_STOPPED;
}

/* ---- connection ------------------------------------------------------- */

enum ot_err worker__reconnect(struct ingest *in)
{
    enum ot_err rc = ot_sql_reconnect(in->sql);
    if (rc)
        return rc;
    if (in->commit_unknown) {
        /* the last COMMIT may have gone through: read the rules' open
         * alarms again instead of trusting what was put back */
        alarms__reset(in->alarms);
        in->commit_unknown = 0;
    }
    in->reload = 1;
    return OT_OK;
}

enum ot_err worker__activate(struct ingest *in, int keep_rules)
{
    /* another collector may have written since we last looked: the
     * delivery state always comes from the database; the rules state too
     * unless nobody else was active meanwhile */
    if (!keep_rules)
        alarms__reset(in->alarms);
    limits__activate(in->limits);
    enum ot_err rc = delivery__load(in);
    in->reload = rc != OT_OK;
    return rc;
}

void worker__discard(struct ingest *in, struct queue *q)
{
    size_t dropped = in->n_msgs;
    free_held(in);
    struct queue_msg m;
    while (queue__pop(q, &m, 1, 0) == 1) {
        queue__msg_free(&m);
        dropped++;
    }
    in->fail_attempts = 0;
    in->retry_at = 0;
    if (dropped)
        ot_info("dropped messages taken but not stored; the active collector gets them from the "
                "gateways' resend messages=%zu",
                dropped);
}

/* ---- open / close ----------------------------------------------------- */

enum ot_err worker__open(const struct collector_conf *cc, struct mqtt *m, struct influx *ix,
                         struct webhook *wh, struct ingest **out)
{
    enum ot_err rc;
    struct ingest *in = calloc(1, sizeof *in);
    *out = NULL;
    if (!in)
        return OT_ERR_NOMEM;
    in->cc = cc;
    in->mqtt = m;
    in->last_eta = ot_time_mono_ms();
    outbox__init(&in->ob, ix, wh);
    if (!(in->msgs = calloc((size_t)cc->batch_max, sizeof *in->msgs))) {
        rc = OT_ERR_NOMEM;
        goto fail;
    }
    rc = ot_db_open(cc->database, &in->sql);
    if (rc)
        goto fail;
    if ((rc = feed__open(&in->feed, in->sql)) ||
        (rc = alarms__open(in->sql, &in->feed, cc->preservation, &in->alarms)) ||
        (rc = limits__open(in->sql, alarms__profiles(in->alarms), &in->limits)))
        goto fail;
    alarms__set_flight_limits(in->alarms, cc->flight_overdue_s, cc->flight_max_s);
    if ((rc = sql__prepare(in->sql, &in->st_trim_events,
                           "DELETE FROM events WHERE id IN (SELECT id FROM events"
                           " WHERE ts < ?1 LIMIT 10000)")) ||
        (rc = sql__prepare(in->sql, &in->st_counter,
                           "INSERT INTO counters(name,label,value) VALUES(?1,?2,?3) "
                           "ON CONFLICT(name,label) DO UPDATE SET "
                           "value=counters.value+excluded.value")) ||
        (ot_sql_kind(in->sql) == OT_SQL_POSTGRES &&
         (rc = sql__prepare(in->sql, &in->st_counters,
                            "INSERT INTO counters(name,label,value) SELECT * FROM unnest("
                            "CAST(?1 AS TEXT[]), CAST(?2 AS TEXT[]), CAST(?3 AS BIGINT[])) "
                            "ON CONFLICT(name,label) DO UPDATE SET "
                            "value=counters.value+excluded.value"))) ||
        (rc = store__prepare(in)) || (rc = delivery__prepare(in)))
        goto fail;
    rc = delivery__load(in);
    if (rc)
        goto fail;
    ot_info("database open database=%s kind=%s containers=%zu", ot_sql_name(in->sql),
            ot_sql_kind(in->sql) == OT_SQL_POSTGRES ? "postgresql" : "sqlite", in->n_ct);
    *out = in;
    return OT_OK;
fail:
    worker__close(in);
    return rc;
}

void worker__close(struct ingest *in)
{
    if (!in)
        return;
    free_held(in);
    free(in->msgs);
    for (size_t i = 0; i < sizeof in->scratch / sizeof in->scratch[0]; i++)
        sql_arr__free(&in->scratch[i]);
    store__close(in);
    delivery__close(in);
    limits__close(in->limits);
    alarms__close(in->alarms);
    feed__close(&in->feed);
    outbox__free(&in->ob);
    ot_sql_close(in->sql); /* frees every statement */
    free(in);
}
