/* queue.c - bounded FIFO between Paho's callback thread and the worker.
 *
 * A ring of message slots under one mutex with two condition variables.
 * Bounded twice: by number of messages and by payload bytes, so a flood of
 * large hostile payloads cannot exhaust memory. A payload larger than the
 * readings cap is cut to cap+1 bytes (the decoder then rejects it as
 * too_large without the queue holding the whole thing). When full, the
 * producer waits a bounded time and then reports OT_ERR_FULL; the MQTT
 * layer then leaves the message unacknowledged so the broker redelivers it. */
#include "collector.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ot_time.h"

struct queue {
    pthread_mutex_t mu;
    pthread_cond_t not_empty, not_full;
    struct queue_msg *ring;
    size_t cap, head, n;
    size_t bytes, max_bytes;
};

struct queue *queue__new(size_t max_msgs, size_t max_bytes)
{
    struct queue *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->ring = calloc(max_msgs, sizeof *q->ring);
    if (!q->ring) {
        free(q);
        return NULL;
    }
    q->cap = max_msgs;
    q->max_bytes = max_bytes;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->not_empty, NULL);
    pthread_cond_init(&q->not_full, NULL);
    return q;
}

void queue__msg_free(struct queue_msg *m)
{
    free(m->payload);
    m->payload = NULL;
}

void queue__free(struct queue *q)
{
    if (!q)
        return;
    for (size_t i = 0; i < q->n; i++)
        queue__msg_free(&q->ring[(q->head + i) % q->cap]);
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->not_empty);
    pthread_cond_destroy(&q->not_full);
    free(q->ring);
    free(q);
}

static void deadline_in(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += (time_t)(ms / 1000);
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

enum ot_err queue__push(struct queue *q, const char *topic, const void *payload, size_t len,
                        int64_t wait_ms)
{
    size_t keep = len > OT_BATCH_MAX_BYTES + 1 ? OT_BATCH_MAX_BYTES + 1 : len;
    char *copy = malloc(keep + 1);
    struct timespec dl;
    if (!copy)
        return OT_ERR_NOMEM;
    if (keep)
        memcpy(copy, payload, keep);
    copy[keep] = '\0';
    deadline_in(&dl, wait_ms);
    pthread_mutex_lock(&q->mu);
    while (q->n == q->cap || (q->n > 0 && q->bytes + keep > q->max_bytes)) {
        if (pthread_cond_timedwait(&q->not_full, &q->mu, &dl) == ETIMEDOUT) {
            pthread_mutex_unlock(&q->mu);
            free(copy);
            return OT_ERR_FULL;
        }
    }
    struct queue_msg *m = &q->ring[(q->head + q->n) % q->cap];
    size_t tl = strlen(topic);
    if (tl >= sizeof m->topic)
        tl = sizeof m->topic - 1;
    memcpy(m->topic, topic, tl);
    m->topic[tl] = '\0';
    m->payload = copy;
    m->len = len;
    m->received_at = ot_time_now_ms();
    q->n++;
    q->bytes += keep;
    pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->mu);
    return OT_OK;
}

size_t queue__pop(struct queue *q, struct queue_msg *out, size_t max, int64_t wait_ms)
{
    struct timespec dl;
    size_t k = 0;
    deadline_in(&dl, wait_ms);
    pthread_mutex_lock(&q->mu);
    while (q->n == 0) {
        if (pthread_cond_timedwait(&q->not_empty, &q->mu, &dl) == ETIMEDOUT)
            break;
    }
    while (q->n > 0 && k < max) {
        struct queue_msg *m = &q->ring[q->head];
        size_t keep = m->len > OT_BATCH_MAX_BYTES + 1 ? OT_BATCH_MAX_BYTES + 1 : m->len;
        out[k++] = *m;
        memset(m, 0, sizeof *m);
        q->head = (q->head + 1) % q->cap;
        q->n--;
        q->bytes -= keep;
    }
    if (k)
        pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->mu);
    return k;
}

void queue__kick(struct queue *q)
{
    pthread_mutex_lock(&q->mu);
    pthread_cond_broadcast(&q->not_empty);
    pthread_mutex_unlock(&q->mu);
}

size_t queue__length(struct queue *q)
{
    pthread_mutex_lock(&q->mu);
    size_t n = q->n;
    pthread_mutex_unlock(&q->mu);
    return n;
}
