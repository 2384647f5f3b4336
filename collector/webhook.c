/* webhook.c - alarm changes and progress events POSTed as JSON to the
 * configured URLs (each hook chooses its kinds), on one
 * thread, so a slow or dead receiver never delays ingest.
 *
 * A bounded queue of deliveries (one per hook and body). A failed delivery
 * (network error or non-2xx) is retried with exponential back-off (1 s
 * doubling, at most 60 s) up to webhook_retries times, then dropped,
 * counted and logged. When the queue is full the new delivery is dropped
 * and counted: paging is best effort on top of the durable alarms table. */
#include "collector.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ot_log.h"
#include "ot_time.h"

struct delivery {
    size_t hook;
    char *body;
    int64_t attempts;
    int64_t next_try; /* monotonic ms */
};

struct webhook {
    const struct collector_conf *cc;
    pthread_t th;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct delivery *q;
    size_t n, cap;
    int stop;
    int64_t sent, dropped;
    CURL *curl;
    struct curl_slist *headers;
};

static size_t discard_body(char *p, size_t sz, size_t nm, void *u)
{
    (void)p;
    (void)u;
    return sz * nm;
}

static int deliver(struct webhook *w, const struct delivery *d)
{
    long status = 0;
    curl_easy_setopt(w->curl, CURLOPT_URL, w->cc->webhooks[d->hook].url);
    curl_easy_setopt(w->curl, CURLOPT_POSTFIELDS, d->body);
    curl_easy_setopt(w->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(d->body));
    CURLcode cr = curl_easy_perform(w->curl);
    if (cr != CURLE_OK) {
        ot_warn("webhook failed url=%s attempt=%lld error=\"%s\"", w->cc->webhooks[d->hook].url,
                (long long)d->attempts + 1, curl_easy_strerror(cr));
        return -1;
    }
    curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status >= 300) {
        ot_warn("webhook failed url=%s attempt=%lld status=%ld", w->cc->webhooks[d->hook].url,
                (long long)d->attempts + 1, status);
        return -1;
    }
    return 0;
}

static void *webhook_main(void *arg)
{
    struct webhook *w = arg;
    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        int64_t now = ot_time_mono_ms(), soonest = INT64_MAX;
        size_t pick = SIZE_MAX;
        for (size_t i = 0; i < w->n; i++) {
            if (w->q[i].next_try < soonest) {
                soonest = w->q[i].next_try;
                pick = i;
            }
        }
        if (pick == SIZE_MAX || soonest > now) {
            int64_t wait = pick == SIZE_MAX ? 1000 : soonest - now;
            struct timespec dl;
            clock_gettime(CLOCK_REALTIME, &dl);
            dl.tv_sec += (time_t)(wait / 1000);
            dl.tv_nsec += (long)(wait % 1000) * 1000000L;
            if (dl.tv_nsec >= 1000000000L) {
                dl.tv_sec++;
                dl.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&w->cv, &w->mu, &dl);
            continue;
        }
        struct delivery d = w->q[pick];
        memmove(&w->q[pick], &w->q[pick + 1], (w->n - pick - 1) * sizeof *w->q);
        w->n--;
        pthread_mutex_unlock(&w->mu);
        int ok = deliver(w, &d) == 0;
        pthread_mutex_lock(&w->mu);
        if (ok) {
            w->sent++;
            free(d.body);
        } else if (++d.attempts > w->cc->webhook_retries || w->n == w->cap) {
            ot_error("webhook delivery dropped url=%s attempts=%lld", w->cc->webhooks[d.hook].url,
                     (long long)d.attempts);
            w->dropped++;
            free(d.body);
        } else {
            int64_t back = 1000;
            for (int64_t i = 1; i < d.attempts && back < 60000; i++)
                back *= 2;
            d.next_try = ot_time_mono_ms() + (back > 60000 ? 60000 : back);
            w->q[w->n++] = d;
        }
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

enum ot_err webhook__start(const struct collector_conf *cc, struct webhook **out)
{
    struct webhook *w = calloc(1, sizeof *w);
    *out = NULL;
    if (!w)
        return OT_ERR_NOMEM;
    w->cc = cc;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->cap = (size_t)cc->webhook_queue_max;
    w->q = calloc(w->cap, sizeof *w->q);
    w->curl = curl_easy_init();
    w->headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (!w->q || !w->curl || !w->headers)
        goto fail;
    curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, w->headers);
    curl_easy_setopt(w->curl, CURLOPT_TIMEOUT_MS, (long)cc->webhook_timeout_ms);
    curl_easy_setopt(w->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(w->curl, CURLOPT_WRITEFUNCTION, discard_body);
    if (pthread_create(&w->th, NULL, webhook_main, w))
        goto fail;
    w->started = 1;
    ot_info("webhooks started count=%zu", cc->n_webhooks);
    *out = w;
    return OT_OK;
fail:
    webhook__stop(w);
    return OT_ERR_NOMEM;
}

void webhook__stop(struct webhook *w)
{
    if (!w)
        return;
    if (w->started) {
        pthread_mutex_lock(&w->mu);
        w->stop = 1;
        pthread_cond_signal(&w->cv);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->th, NULL);
    }
    if (w->n)
        ot_warn("webhook deliveries not sent at stop count=%zu", w->n);
    for (size_t i = 0; i < w->n; i++)
        free(w->q[i].body);
    free(w->q);
    if (w->curl)
        curl_easy_cleanup(w->curl);
    curl_slist_free_all(w->headers);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
}

void webhook__submit(struct webhook *w, const char *event, const char *body)
{
    pthread_mutex_lock(&w->mu);
    for (size_t h = 0; h < w->cc->n_webhooks; h++) {
        const struct collector_webhook *hk = &w->cc->webhooks[h];
        int want = !strcmp(event, "alarm")      ? hk->on_alarm
                   : !strcmp(event, "progress") ? hk->on_progress
                                                : 0;
        if (!want)
            continue;
        char *copy = w->n < w->cap ? strdup(body) : NULL;
        if (!copy) {
            w->dropped++;
            ot_error("webhook queue full, delivery dropped url=%s", w->cc->webhooks[h].url);
            continue;
        }
        w->q[w->n].hook = h;
        w->q[w->n].body = copy;
        w->q[w->n].attempts = 0;
        w->q[w->n].next_try = 0;
        w->n++;
    }
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void webhook__take_counts(struct webhook *w, int64_t *sent, int64_t *dropped)
{
    pthread_mutex_lock(&w->mu);
    *sent = w->sent;
    *dropped = w->dropped;
    w->sent = w->dropped = 0;
    pthread_mutex_unlock(&w->mu);
}
