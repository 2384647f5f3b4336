/* publish.c - MQTT with Paho's async client, and the sender.
 *
 * Paho is used for the wire only: persistence NONE, no offline buffering,
 * clean session, QoS 1. Our spool is the store. Paho's callback thread only
 * records events (connected, failed, lost, send completed, the highest ack
 * seen) under a mutex and wakes the main loop; everything else runs in the
 * main loop, which owns the spool.
 *
 * The sender reads the spool from a cursor, oldest first, in batches of up
 * to batch_max readings, with at most inflight_max batches awaiting PUBACK
 * and at most inflight_max * batch_max readings ahead of the collector's
 * ack. Live readings are just the newest spool records, so publication
 * order is always seq order. End-to-end delivery: the collector's retained
 * ack ({root}/containers/{c}/ack) moves the spool's floor; after any
 * (re)connect and whenever the ack does not move for ack_timeout_ms while
 * readings are outstanding, the cursor rewinds to ack + 1 and everything
 * not covered is sent again (a broker may drop what it had queued). Pending
 * lost ranges are declared in the first batch after a rewind and whenever
 * they change. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "gateway.h"
#include "ot_log.h"
#include "ot_time.h"

#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 10000
#define STATE_MAX_BYTES 4000

struct gw_pub {
    const struct gw_config *cfg;
    struct spool *spool;
    MQTTAsync client;
    char t_readings[OT_TOPIC_MAX], t_state[OT_TOPIC_MAX], t_ack[OT_TOPIC_MAX];
    pthread_mutex_t mu;
    /* under mu: written by Paho's thread */
    int ev_connected, ev_failed, ev_lost, fail_code;
    int64_t ack_in;
    int64_t ack_rejected;
    int64_t ack_beyond; /* last ack for a seq this gateway never issued, 0 if none */
    int64_t issued;     /* next seq of the spool, refreshed by the main loop */
    int inflight;
    int blocked; /* the sender waits for a completion or an ack */
    uintptr_t gen;
    /* main loop only */
    int up, connecting;
    int64_t retry_at, backoff;
    char will[2048];
    MQTTAsync_willOptions will_opts;
    MQTTAsync_SSLOptions ssl;
    struct spool_cursor cur;
    int64_t last_progress;
    int ack_warned;
    struct ot_seq_range declared[SPOOL_LOST_MAX];
    size_t ndeclared;
    int64_t sent_total;
    int state_dirty;
    int64_t state_mono;
};

static struct gw_pub *the_pub; /* Paho callbacks find it here (one per process) */

static void on_connect(void *ctx, MQTTAsync_successData *r)
{
    (void)ctx;
    (void)r;
    pthread_mutex_lock(&the_pub->mu);
    the_pub->ev_connected = 1;
    pthread_mutex_unlock(&the_pub->mu);
    wake__signal();
}

static void on_connect_fail(void *ctx, MQTTAsync_failureData *r)
{
    (void)ctx;
    pthread_mutex_lock(&the_pub->mu);
    the_pub->ev_failed = 1;
    the_pub->fail_code = r ? r->code : 0;
    pthread_mutex_unlock(&the_pub->mu);
    wake__signal();
}

static void on_lost(void *ctx, char *cause)
{
    (void)ctx;
    (void)cause;
    pthread_mutex_lock(&the_pub->mu);
    the_pub->ev_lost = 1;
    pthread_mutex_unlock(&the_pub->mu);
    wake__signal();
}

/* Completions and acks wake the main loop only when the sender is waiting on
 * them (window full): otherwise the next poll tick picks them up, which
 * saves a context switch per reading. */
static void send_done(void *ctx)
{
    pthread_mutex_lock(&the_pub->mu);
    if ((uintptr_t)ctx == the_pub->gen && the_pub->inflight > 0)
        the_pub->inflight--;
    int wake = the_pub->blocked;
    pthread_mutex_unlock(&the_pub->mu);
    if (wake)
        wake__signal();
}

static void on_send(void *ctx, MQTTAsync_successData *r)
{
    (void)r;
    send_done(ctx);
}

static void on_send_fail(void *ctx, MQTTAsync_failureData *r)
{
    (void)r;
    send_done(ctx);
}

/* Strict: exactly {"v":1,"container":OURS,"seq":0..2^53-1}. */
static int parse_ack(const char *buf, size_t len, const char *container, int64_t *seq)
{
    if (len > 512)
        return -1;
    cJSON *o = cJSON_ParseWithLength(buf, len);
    int rc = -1;
    if (!cJSON_IsObject(o) || cJSON_GetArraySize(o) != 3)
        goto out;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "v");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "container");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "seq");
    if (!cJSON_IsNumber(v) || v->valuedouble != 1.0 || !cJSON_IsString(c) ||
        strcmp(c->valuestring, container) || !cJSON_IsNumber(s))
        goto out;
    double d = s->valuedouble;
    if (!(d >= 0.0 && d <= (double)OT_SEQ_MAX) || d != (double)(int64_t)d)
        goto out;
    *seq = (int64_t)d;
    rc = 0;
out:
    cJSON_Delete(o);
    return rc;
}

static int on_message(void *ctx, char *topic, int tlen, MQTTAsync_message *m)
{
    (void)ctx;
    (void)tlen;
    int64_t seq;
    if (!strcmp(topic, the_pub->t_ack)) {
        int ok = !parse_ack(m->payload, (size_t)m->payloadlen, the_pub->cfg->container, &seq);
        pthread_mutex_lock(&the_pub->mu);
        if (!ok)
            the_pub->ack_rejected++;
        else if (seq >= the_pub->issued)
            the_pub->ack_beyond = seq; /* never issued: must not poison later acks */
        else if (seq > the_pub->ack_in)
            the_pub->ack_in = seq;
        int wake = the_pub->blocked;
        pthread_mutex_unlock(&the_pub->mu);
        if (wake)
            wake__signal();
    }
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(topic);
    return 1;
}

int status__add_devices(cJSON *obj, const struct gw_config *cfg, const struct gw_health *h,
                        size_t n)
{
    cJSON *arr = cJSON_AddArrayToObject(obj, "devices");
    if (!arr)
        return -1;
    for (size_t i = 0; i < n && i < cfg->n_dev; i++) {
        cJSON *d = cJSON_CreateObject();
        if (!d || !cJSON_AddItemToArray(arr, d)) {
            cJSON_Delete(d);
            return -1;
        }
        if (!cJSON_AddStringToObject(d, "name", cfg->dev[i].name) ||
            !cJSON_AddBoolToObject(d, "ok", h[i].ok) ||
            !cJSON_AddNumberToObject(d, "errors", (double)h[i].errors) ||
            !cJSON_AddNumberToObject(d, "since", (double)h[i].since_ms) ||
            (!h[i].ok && !cJSON_AddStringToObject(d, "error", h[i].error)))
            return -1;
        if (h[i].stuck) {
            cJSON *st = cJSON_AddArrayToObject(d, "stuck");
            if (!st)
                return -1;
            for (size_t k = 0; k < cfg->dev[i].profile.n; k++) {
                if (!((h[i].stuck >> k) & 1u))
                    continue;
                cJSON *nm = cJSON_CreateString(cfg->dev[i].out_name[k]);
                if (!nm || !cJSON_AddItemToArray(st, nm)) {
                    cJSON_Delete(nm);
                    return -1;
                }
            }
        }
    }
    return 0;
}

/* Retained state: SPEC keys plus "devices". seq = every seq <= it is
 * acknowledged (the collector's baseline). Caller frees. */
static char *state_json(struct gw_pub *p, int online, const struct gw_health *h, size_t nh)
{
    struct spool_stats st;
    spool__stats(p->spool, &st);
    cJSON *o = cJSON_CreateObject();
    char *out = NULL;
    if (o && cJSON_AddNumberToObject(o, "v", 1) &&
        cJSON_AddStringToObject(o, "container", p->cfg->container) &&
        cJSON_AddStringToObject(o, "gateway", p->cfg->gateway) &&
        cJSON_AddBoolToObject(o, "online", online) &&
        cJSON_AddNumberToObject(o, "ts", (double)ot_time_now_ms()) &&
        cJSON_AddBoolToObject(o, "clock_ok", ot_time_now_ms() >= GW_CLOCK_MIN_MS) &&
        cJSON_AddNumberToObject(o, "boot", (double)st.boot) &&
        cJSON_AddNumberToObject(o, "seq", (double)st.acked) &&
        (!h || !status__add_devices(o, p->cfg, h, nh)))
        out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (out && h && strlen(out) > STATE_MAX_BYTES) {
        /* many failing devices with long errors: the SPEC keys matter more
         * than the extension (collectors cap state messages, ours at 4 KiB) */
        free(out);
        return state_json(p, online, NULL, 0);
    }
    return out;
}

static void publish_state(struct gw_pub *p, int online, const struct gw_health *h, size_t nh)
{
    char *js = state_json(p, online, h, nh);
    if (!js) {
        ot_error("mqtt state encode failed");
        return;
    }
    MQTTAsync_message m = MQTTAsync_message_initializer;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    m.payload = js;
    m.payloadlen = (int)strlen(js);
    m.qos = 1;
    m.retained = 1;
    int rc = MQTTAsync_sendMessage(p->client, p->t_state, &m, &ro);
    if (rc != MQTTASYNC_SUCCESS)
        ot_warn("mqtt state publish failed rc=%d error=\"%s\"", rc, MQTTAsync_strerror(rc));
    else if (!online)
        MQTTAsync_waitForCompletion(p->client, ro.token, 2000);
    free(js);
}

enum ot_err pub__create(struct gw_pub **out, const struct gw_config *cfg, struct spool *spool)
{
    struct gw_pub *p = calloc(1, sizeof *p);
    *out = NULL;
    if (!p)
        return OT_ERR_NOMEM;
    p->cfg = cfg;
    p->spool = spool;
    p->ack_in = -1;
    struct spool_stats st;
    spool__stats(spool, &st);
    p->issued = st.next_seq;
    p->backoff = BACKOFF_MIN_MS;
    const char *root = cfg->mqtt.topic_root;
    if (ot_topic(p->t_readings, sizeof p->t_readings, root, cfg->container, "readings") ||
        ot_topic(p->t_state, sizeof p->t_state, root, cfg->container, "state") ||
        ot_topic(p->t_ack, sizeof p->t_ack, root, cfg->container, "ack")) {
        free(p);
        return OT_ERR_CONFIG;
    }
    pthread_mutex_init(&p->mu, NULL);
    the_pub = p;
    /* OpenSSL initialises itself on first use (TLS configured); letting Paho
     * initialise it eagerly costs ~3 MiB of resident memory for nothing */
    MQTTAsync_init_options io = MQTTAsync_init_options_initializer;
    io.do_openssl_init = 0;
    MQTTAsync_global_init(&io);
    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
    co.sendWhileDisconnected = 0;
    const char *id =
        cfg->mqtt.client_id && *cfg->mqtt.client_id ? cfg->mqtt.client_id : cfg->gateway;
    int rc = MQTTAsync_createWithOptions(&p->client, cfg->mqtt.url, id, MQTTCLIENT_PERSISTENCE_NONE,
                                         NULL, &co);
    if (rc != MQTTASYNC_SUCCESS) {
        ot_error("mqtt client create failed url=%s rc=%d error=\"%s\"", cfg->mqtt.url, rc,
                 MQTTAsync_strerror(rc));
        pthread_mutex_destroy(&p->mu);
        free(p);
        the_pub = NULL;
        return OT_ERR_MQTT;
    }
    MQTTAsync_setCallbacks(p->client, p, on_lost, on_message, NULL);
    spool__seek(spool, &p->cur, 1);
    *out = p;
    return OT_OK;
}

static void do_connect(struct gw_pub *p)
{
    MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
    MQTTAsync_willOptions wo = MQTTAsync_willOptions_initializer;
    MQTTAsync_SSLOptions so = MQTTAsync_SSLOptions_initializer;
    char *will = state_json(p, 0, NULL, 0);
    if (!will)
        return;
    snprintf(p->will, sizeof p->will, "%s", will);
    free(will);
    p->will_opts = wo;
    p->will_opts.topicName = p->t_state;
    p->will_opts.message = p->will;
    p->will_opts.retained = 1;
    p->will_opts.qos = 1;
    p->ssl = so;
    co.cleansession = 1;
    co.will = &p->will_opts;
    co.onSuccess = on_connect;
    co.onFailure = on_connect_fail;
    co.context = p;
    co.automaticReconnect = 0;
    ot_mqtt_apply(&p->cfg->mqtt, &co, &p->ssl);
    int rc = MQTTAsync_connect(p->client, &co);
    if (rc != MQTTASYNC_SUCCESS) {
        ot_warn("mqtt connect failed url=%s rc=%d error=\"%s\"", p->cfg->mqtt.url, rc,
                MQTTAsync_strerror(rc));
        p->retry_at = ot_time_mono_ms() + p->backoff;
        return;
    }
    p->connecting = 1;
}

static void rewind_sender(struct gw_pub *p, int64_t now)
{
    struct spool_stats st;
    spool__stats(p->spool, &st);
    spool__seek(p->spool, &p->cur, st.acked + 1);
    p->ndeclared = 0;
    p->last_progress = now;
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

static void send_some(struct gw_pub *p, int64_t now)
{
    for (;;) {
        struct spool_stats st;
        spool__stats(p->spool, &st);
        pthread_mutex_lock(&p->mu);
        int inflight = p->inflight;
        uintptr_t gen = p->gen;
        pthread_mutex_unlock(&p->mu);
        int64_t ahead = p->cur.want - 1 - st.acked;
        int blocked =
            inflight >= p->cfg->inflight_max || ahead >= p->cfg->inflight_max * p->cfg->batch_max;
        pthread_mutex_lock(&p->mu);
        p->blocked = blocked;
        pthread_mutex_unlock(&p->mu);
        if (blocked) {
            /* a completion or ack may have arrived before the flag was set */
            pthread_mutex_lock(&p->mu);
            int changed = p->inflight != inflight || p->ack_in > st.acked;
            pthread_mutex_unlock(&p->mu);
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

void pub__step(struct gw_pub *p, const struct gw_health *h, size_t nh, int health_changed)
{
    int64_t now = ot_time_mono_ms();
    struct spool_stats st0;
    spool__stats(p->spool, &st0);
    pthread_mutex_lock(&p->mu);
    p->issued = st0.next_seq;
    int connected = p->ev_connected, failed = p->ev_failed, lost = p->ev_lost;
    int code = p->fail_code;
    int64_t ack = p->ack_in, rejected = p->ack_rejected, beyond = p->ack_beyond;
    p->ev_connected = p->ev_failed = p->ev_lost = 0;
    p->ack_rejected = p->ack_beyond = 0;
    if (lost || failed) {
        p->gen++; /* completions of the old connection no longer count */
        p->inflight = 0;
    }
    pthread_mutex_unlock(&p->mu);

    if (rejected)
        ot_warn("ack rejected (malformed or another container) count=%" PRId64, rejected);
    if (failed) {
        p->up = p->connecting = 0;
        ot_warn("mqtt connect failed url=%s rc=%d retry_ms=%" PRId64, p->cfg->mqtt.url, code,
                p->backoff);
        p->retry_at = now + p->backoff;
        p->backoff = p->backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : p->backoff * 2;
    }
    if (lost) {
        p->up = p->connecting = 0;
        ot_warn("mqtt connection lost url=%s", p->cfg->mqtt.url);
        p->retry_at = now + BACKOFF_MIN_MS;
    }
    if (connected && !failed && !lost) {
        p->up = 1;
        p->connecting = 0;
        p->backoff = BACKOFF_MIN_MS;
        pthread_mutex_lock(&p->mu);
        p->gen++;
        p->inflight = 0;
        pthread_mutex_unlock(&p->mu);
        MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
        int rc = MQTTAsync_subscribe(p->client, p->t_ack, 1, &ro);
        if (rc != MQTTASYNC_SUCCESS)
            ot_warn("mqtt subscribe failed topic=%s rc=%d", p->t_ack, rc);
        publish_state(p, 1, h, nh);
        p->state_dirty = 0;
        p->state_mono = now;
        rewind_sender(p, now);
        ot_info("mqtt connected url=%s resend_from=%" PRId64, p->cfg->mqtt.url, p->cur.want);
    }
    if (!p->up && !p->connecting && now >= p->retry_at)
        do_connect(p);

    struct spool_stats st;
    spool__stats(p->spool, &st);
    if (beyond && !p->ack_warned) {
        ot_warn("ack beyond what this gateway issued ignored ack=%" PRId64 " next_seq=%" PRId64
                " (stale retained ack of an older spool?)",
                beyond, st.next_seq);
        p->ack_warned = 1;
    }
    if (ack > st.acked) {
        if (!spool__ack(p->spool, ack)) {
            p->last_progress = now;
            if (p->cur.want <= ack)
                spool__seek(p->spool, &p->cur, ack + 1);
            st.acked = ack;
        }
    }
    if (!p->up)
        return;
    /* health flips republish the state, at most once a second */
    p->state_dirty |= health_changed;
    if (p->state_dirty && now - p->state_mono >= 1000) {
        publish_state(p, 1, h, nh);
        p->state_dirty = 0;
        p->state_mono = now;
    }
    if (p->cur.want - 1 > st.acked && now - p->last_progress > p->cfg->ack_timeout_ms) {
        ot_warn("ack stalled, resending from=%" PRId64 " outstanding=%" PRId64, st.acked + 1,
                p->cur.want - 1 - st.acked);
        rewind_sender(p, now);
    }
    send_some(p, now);
}

int pub__link_up(const struct gw_pub *p)
{
    return p->up;
}

int64_t pub__sent_total(const struct gw_pub *p)
{
    return p->sent_total;
}

void pub__destroy(struct gw_pub *p, const struct gw_health *h, size_t nh)
{
    if (!p)
        return;
    /* an ack that arrived since the last step still counts: the final state
     * and the persisted floor should not lag behind the collector */
    pthread_mutex_lock(&p->mu);
    int64_t ack = p->ack_in;
    pthread_mutex_unlock(&p->mu);
    spool__ack(p->spool, ack);
    if (p->up) {
        publish_state(p, 0, h, nh);
        MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
        d.timeout = 2000;
        MQTTAsync_disconnect(p->client, &d);
        for (int i = 0; i < 40 && MQTTAsync_isConnected(p->client); i++)
            ot_time_sleep_ms(50, NULL);
    }
    MQTTAsync_destroy(&p->client);
    pthread_mutex_destroy(&p->mu);
    the_pub = NULL;
    free(p);
}
