/* sender.c - publishing readings from the spool, oldest first.
 *
 * The sender reads the spool from a cursor in batches of up to batch_max
 * readings, with at most inflight_max batches awaiting PUBACK and at most
 * inflight_max * batch_max readings ahead of the collector's ack. Live
 * readings are just the newest spool records, so publication order is
 * always seq order. End-to-end delivery: the collector's retained ack moves
 * the spool's floor; after any (re)connect and whenever the ack does not
 * move for ack_timeout_ms while readings are outstanding, the cursor
 * rewinds to ack + 1 and everything not covered is sent again (a broker may
 * drop what it had queued). Pending lost ranges are declared in the first
 * batch after a rewind and whenever they change. Runs on the main loop; only
 * sender__done runs on Paho's thread. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ot_log.h"
#include "publish_int.h"

void sender__rewind(struct gw_pub *p, int64_t now)
{
    struct spool_stats st;
    spool__stats(p->spool, &st);
    spool__seek(p->spool, &p->cur, st.acked + 1);
    p->ndeclared = 0;
    p->last_progress = now;
}

void sender__ack(struct gw_pub *p, int64_t ack, int64_t now)
{
    struct spool_stats st;
    spool__stats(p->spool, &st);
    if (ack <= st.acked || spool__ack(p->spool, ack))
        return;
    p->last_progress = now;
    if (p->cur.want <= ack)
        spool__seek(p->spool, &p->cur, ack + 1);
}

void sender__check_stall(struct gw_pub *p, int64_t now)
{
    struct spool_stats st;
    spool__stats(p->spool, &st);
    if (p->cur.want - 1 > st.acked && now - p->last_progress > p->cfg->ack_timeout_ms) {
        ot_warn("ack stalled, resending from=%" PRId64 " outstanding=%" PRId64, st.acked + 1,
                p->cur.want - 1 - st.acked);
        sender__rewind(p, now);
    }
}

void sender__done(struct gw_pub *p, uintptr_t gen)
{
    pthread_mutex_lock(&p->mu);
    if (gen == p->gen && p->inflight > 0)
        p->inflight--;
    int wake = p->blocked;
    pthread_mutex_unlock(&p->mu);
    /* the main loop is only woken when it waits on this (window full):
     * otherwise the next reading picks it up, a context switch saved */
    if (wake)
        wake__signal();
}

static void on_send(void *ctx, MQTTAsync_successData *r)
{
    (void)r;
    sender__done(pub__the, (uintptr_t)ctx);
}

static void on_send_fail(void *ctx, MQTTAsync_failureData *r)
{
    (void)r;
    sender__done(pub__the, (uintptr_t)ctx);
}

/* Reads up to max readings from a copy of the cursor into b. */
static size_t fill_batch(struct gw_pub *p, struct spool_cursor *c, struct ot_batch *b, size_t max)
{
    struct ot_reading r;
    while (b->n < max) {
        struct spool_cursor save = *c;
        enum ot_err rc = spool__read(p->spool, c, &r);
        if (rc == OT_ERR_NOTFOUND)
            break;
        if (rc) {
            /* unreadable record: skip it (declared lost would need a seq) */
            *c = save;
            c->want++;
            continue;
        }
        if (ot_batch_push(b, &r))
            break;
    }
    return b->n;
}

void sender__send(struct gw_pub *p, int64_t now)
{
    for (;;) {
        struct spool_stats st;
        spool__stats(p->spool, &st);
        if (p->cur.want >= st.next_seq) {
            if (p->blocked_seen) { /* no longer waiting on Paho: stop its wake-ups */
                pthread_mutex_lock(&p->mu);
                p->blocked = p->blocked_seen = 0;
                pthread_mutex_unlock(&p->mu);
            }
            return; /* nothing new: the common case, no lock taken */
        }
        pthread_mutex_lock(&p->mu);
        int inflight = p->inflight;
        uintptr_t gen = p->gen;
        int64_t ahead = p->cur.want - 1 - st.acked;
        int blocked =
            inflight >= p->cfg->inflight_max || ahead >= p->cfg->inflight_max * p->cfg->batch_max;
        p->blocked = p->blocked_seen = blocked;
        /* a completion or ack may have arrived before the flag was set */
        int changed = blocked && (p->inflight != inflight || p->ack_in > st.acked);
        pthread_mutex_unlock(&p->mu);
        if (blocked) {
            if (changed)
                wake__signal();
            return;
        }
        struct ot_batch b;
        memset(&b, 0, sizeof b);
        snprintf(b.container, sizeof b.container, "%s", p->cfg->container);
        snprintf(b.gateway, sizeof b.gateway, "%s", p->cfg->gateway);
        b.boot = st.boot;
        struct spool_cursor c = p->cur;
        if (!fill_batch(p, &c, &b, (size_t)p->cfg->batch_max)) {
            ot_batch_free(&b);
            p->cur = c;
            return;
        }
        struct ot_seq_range lost[SPOOL_LOST_MAX];
        size_t nl = spool__lost(p->spool, lost, SPOOL_LOST_MAX);
        int declare =
            nl && (nl != p->ndeclared || memcmp(lost, p->declared, nl * sizeof lost[0]) != 0);
        if (declare) {
            for (size_t i = 0; i < nl && i < OT_LOST_MAX; i++)
                b.lost[i] = lost[i];
            b.n_lost = nl < OT_LOST_MAX ? nl : OT_LOST_MAX;
        }
        char *js = NULL;
        size_t len = 0;
        enum ot_err erc = ot_batch_encode(&b, &js, &len);
        int64_t first = b.readings[0].seq, last = b.readings[b.n - 1].seq;
        size_t n = b.n;
        ot_batch_free(&b);
        if (erc) {
            ot_error("batch encode failed error=%s", ot_strerror(erc));
            return;
        }
        MQTTAsync_message m = MQTTAsync_message_initializer;
        MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
        m.payload = js;
        m.payloadlen = (int)len;
        m.qos = 1;
        ro.onSuccess = on_send;
        ro.onFailure = on_send_fail;
        ro.context = (void *)gen;
        pthread_mutex_lock(&p->mu);
        p->inflight++;
        pthread_mutex_unlock(&p->mu);
        int rc = MQTTAsync_sendMessage(p->client, p->t_readings, &m, &ro);
        free(js);
        if (rc != MQTTASYNC_SUCCESS) {
            pthread_mutex_lock(&p->mu);
            p->inflight--;
            pthread_mutex_unlock(&p->mu);
            ot_warn("mqtt publish failed rc=%d error=\"%s\"", rc, MQTTAsync_strerror(rc));
            return;
        }
        if (p->cur.want - 1 <= st.acked)
            p->last_progress = now; /* nothing was outstanding: the stall clock starts now */
        p->cur = c;
        p->sent_total += (int64_t)n;
        if (declare) {
            memcpy(p->declared, lost, nl * sizeof lost[0]);
            p->ndeclared = nl;
            ot_info("declared lost ranges=%zu first_from=%" PRId64 " first_to=%" PRId64, nl,
                    lost[0].from, lost[0].to);
        }
        ot_debug("published batch first=%" PRId64 " last=%" PRId64 " n=%zu", first, last, n);
    }
}
