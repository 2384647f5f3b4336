/* worker.c - the worker loop: the only thread that touches SQLite.
 *
 * It drains the bounded queue in batches and handles each batch in ONE
 * transaction (BEGIN IMMEDIATE ... COMMIT): every message (store.c, which
 * hands the ack bookkeeping to delivery.c and stored readings to the rules
 * in alarms.c), the housekeeping due this round (acknowledgement poll,
 * rules tick, ETA and the trim of the change feed), baselines that waited
 * long enough, the dirty containers rows and the counter deltas. Only after
 * COMMIT returns (synchronous=FULL: on disk) does it publish the retained
 * acks and alarm lists and hand lines to the InfluxDB writer and bodies to
 * the webhooks (outbox.c). A batch that fails to commit is rolled back, its
 * outputs dropped and the delivery state reloaded from the database, so an
 * ack never covers a reading that is not stored. */
#include "ingest.h"

#include <stdlib.h>

#include "delivery.h"
#include "ot_db.h"
#include "ot_log.h"
#include "ot_time.h"
#include "sql.h"
#include "store.h"

/* Writes the counter deltas of the transaction (with the writer threads'). */
static enum ot_err flush_counters(struct ingest *in)
{
    enum ot_err rc = OT_OK;
    outbox__take_writer_counts(&in->ob);
    for (size_t i = 0; i < in->ob.n_counters && !rc; i++) {
        struct counter_delta *d = &in->ob.counters[i];
        if (!d->delta)
            continue;
        sqlite3_bind_text(in->st_counter, 1, d->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(in->st_counter, 2, d->label, -1, SQLITE_STATIC);
        sqlite3_bind_int64(in->st_counter, 3, d->delta);
        rc = sql__step_done(in->db, in->st_counter);
    }
    return rc;
}

void worker__set_mqtt(struct ingest *in, struct mqtt *m)
{
    in->mqtt = m;
}

struct due {
    int tick, eta, acks;
};

/* One transaction: the drained messages, the housekeeping due, the rows,
 * COMMIT; only then acks, alarm lists, lines and bodies leave. */
static enum ot_err run_txn(struct ingest *in, struct queue_msg *msgs, size_t n,
                           const struct due *due)
{
    enum ot_err rc;
    in->now = ot_time_now_ms();
    rc = sql__step_done(in->db, in->st_begin);
    if (rc)
        return rc;
    for (size_t i = 0; i < n && !rc; i++)
        rc = store__message(in, &msgs[i]);
    if (!rc && due->acks)
        alarms__poll_acks(in->alarms, in->now);
    if (!rc && due->tick) {
        for (size_t i = 0; i < in->n_ct; i++) {
            struct container *c = in->ct[i];
            /* no state message ever seen: offline is unknown, not claimed
             * (silence is sensor_silent's business) */
            alarms__tick(in->alarms, c->al, c->state_seen ? c->online : 1, in->now, &in->ob);
        }
    }
    if (!rc && due->eta) {
        alarms__update_eta(in->alarms, in->now);
        /* the change feed (SSE) keeps events_keep_h; the record stays */
        sqlite3_bind_int64(in->st_trim_events, 1, in->now - in->cc->events_keep_h * 3600000);
        rc = sql__step_done(in->db, in->st_trim_events);
    }
    if (!rc)
        rc = delivery__baselines_due(in);
    if (!rc)
        rc = store__containers(in);
    if (!rc)
        rc = flush_counters(in);
    if (!rc)
        rc = sql__step_done(in->db, in->st_commit);
    if (rc) {
        ot_error("transaction failed, rolled back messages=%zu", n);
        sqlite3_step(in->st_rollback);
        sqlite3_reset(in->st_rollback);
        outbox__drop(&in->ob);
        delivery__load(in);
        return rc;
    }
    outbox__counters_done(&in->ob);
    if (n)
        ot_debug("batch committed messages=%zu queued_ms=%lld", n,
                 (long long)(ot_time_now_ms() - msgs[0].received_at));
    /* durable now: tell the world */
    delivery__publish_acks(in, 0);
    alarms__publish_dirty(in->alarms, in->mqtt, in->cc->mqtt.topic_root, 0);
    outbox__send(&in->ob);
    return OT_OK;
}

enum ot_err worker__run(struct ingest *in, struct queue *q, volatile sig_atomic_t *stop)
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
            delivery__publish_acks(in, 1);
            alarms__publish_dirty(in->alarms, in->mqtt, in->cc->mqtt.topic_root, 1);
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
    outbox__init(&in->ob, ix, wh);
    rc = ot_db_open(cc->database, &in->sql);
    if (rc)
        goto fail;
    in->db = ot_sql_sqlite_handle(in->sql);
    if (!in->db) {
        ot_error("collector: PostgreSQL is not supported by this build yet database=%s",
                 ot_sql_name(in->sql));
        rc = OT_ERR_INVAL;
        goto fail;
    }
    rc = alarms__open(in->db, cc->preservation, &in->alarms);
    if (rc)
        goto fail;
    if ((rc = sql__prepare(in->db, &in->st_begin, "BEGIN IMMEDIATE")) ||
        (rc = sql__prepare(in->db, &in->st_commit, "COMMIT")) ||
        (rc = sql__prepare(in->db, &in->st_rollback, "ROLLBACK")) ||
        (rc = sql__prepare(in->db, &in->st_trim_events,
                           "DELETE FROM events WHERE id IN (SELECT id FROM events"
                           " WHERE ts < ? LIMIT 10000)")) ||
        (rc = sql__prepare(in->db, &in->st_counter,
                           "INSERT INTO counters(name,label,value) VALUES(?,?,?) "
                           "ON CONFLICT(name,label) DO UPDATE SET "
                           "value=value+excluded.value")) ||
        (rc = store__prepare(in)) || (rc = delivery__prepare(in)))
        goto fail;
    rc = delivery__load(in);
    if (rc)
        goto fail;
    ot_info("database open path=%s containers=%zu", cc->database, in->n_ct);
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
    sqlite3_stmt **all[] = {&in->st_begin, &in->st_commit, &in->st_rollback, &in->st_counter,
                            &in->st_trim_events};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        sqlite3_finalize(*all[i]);
        *all[i] = NULL;
    }
    store__close(in);
    delivery__close(in);
    alarms__close(in->alarms);
    outbox__free(&in->ob);
    ot_sql_close(in->sql);
    free(in);
}
