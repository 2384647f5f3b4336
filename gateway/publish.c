/* publish.c - the MQTT link: Paho's async client, connection, subscriptions
 * (ack and limits), the retained state, and the radio switch of flight mode.
 *
 * Paho is used for the wire only: persistence NONE, no offline buffering,
 * clean session, QoS 1. Our spool is the store (sender.c reads it). Paho's
 * callback thread only records events (connected, failed, lost, send
 * completed, the highest ack seen, a limits message) under a mutex and wakes
 * the main loop when it must act; everything else runs in the main loop.
 *
 * Limits: {root}/containers/{c}/limits is subscribed before the ack, in its
 * own SUBSCRIBE, so the broker queues its retained message (if any) before
 * the retained ack. A retained ack that arrives with no limits before it
 * therefore means the broker holds no limits: the shipment ended while the
 * gateway was offline and the empty retained message that cleared them was
 * never seen. The main loop clears its copy then. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ot_log.h"
#include "ot_time.h"
#include "publish_int.h"

#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 10000

struct gw_pub *pub__the;

static void on_connect(void *ctx, MQTTAsync_successData *r)
{
    (void)ctx;
    (void)r;
    pthread_mutex_lock(&pub__the->mu);
    pub__the->ev_connected = 1;
    pthread_mutex_unlock(&pub__the->mu);
    wake__signal();
}

static void on_connect_fail(void *ctx, MQTTAsync_failureData *r)
{
    (void)ctx;
    pthread_mutex_lock(&pub__the->mu);
    pub__the->ev_failed = 1;
    pub__the->fail_code = r ? r->code : 0;
    pthread_mutex_unlock(&pub__the->mu);
    wake__signal();
}

static void on_lost(void *ctx, char *cause)
{
    (void)ctx;
    (void)cause;
    pthread_mutex_lock(&pub__the->mu);
    pub__the->ev_lost = 1;
    pthread_mutex_unlock(&pub__the->mu);
    wake__signal();
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

static void on_ack_message(struct gw_pub *p, const MQTTAsync_message *m)
{
    int64_t seq;
    int ok = !parse_ack(m->payload, (size_t)m->payloadlen, p->cfg->container, &seq);
    pthread_mutex_lock(&p->mu);
    if (!ok)
        p->ack_rejected++;
    else if (seq >= p->issued)
        p->ack_beyond = seq; /* never issued: must not poison later acks */
    else if (seq > p->ack_in)
        p->ack_in = seq;
    int wake = p->blocked;
    if (m->retained && !p->retained_ack_seen) {
        p->retained_ack_seen = 1;
        if (!p->limits_since_sub) { /* the broker holds no limits (see the top) */
            p->limits_new = 1;
            p->limits_len = 0;
            wake = 1;
        }
    }
    pthread_mutex_unlock(&p->mu);
    if (wake)
        wake__signal();
}

static int on_message(void *ctx, char *topic, int tlen, MQTTAsync_message *m)
{
    (void)ctx;
    (void)tlen;
    struct gw_pub *p = pub__the;
    if (!strcmp(topic, p->t_ack)) {
        on_ack_message(p, m);
    } else if (!strcmp(topic, p->t_limits)) {
        pthread_mutex_lock(&p->mu);
        p->limits_since_sub = 1;
        p->limits_new = 1;
        if ((size_t)m->payloadlen <= sizeof p->limits_buf) {
            p->limits_len = (size_t)m->payloadlen;
            memcpy(p->limits_buf, m->payload, p->limits_len);
        } else { /* too large: handed over truncated, the parser refuses it */
            p->limits_len = sizeof p->limits_buf;
            memcpy(p->limits_buf, m->payload, sizeof p->limits_buf);
        }
        pthread_mutex_unlock(&p->mu);
        wake__signal();
    }
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(topic);
    return 1;
}

static void publish_state(struct gw_pub *p, int online, const struct gw_state_info *si)
{
    struct spool_stats st;
    spool__stats(p->spool, &st);
    char *js = state__json(p->cfg, &st, online, si);
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
        ot_topic(p->t_ack, sizeof p->t_ack, root, cfg->container, "ack") ||
        ot_topic(p->t_limits, sizeof p->t_limits, root, cfg->container, "limits")) {
        free(p);
        return OT_ERR_CONFIG;
    }
    pthread_mutex_init(&p->mu, NULL);
    pub__the = p;
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
        pub__the = NULL;
        return OT_ERR_MQTT;
    }
    MQTTAsync_setCallbacks(p->client, p, on_lost, on_message, NULL);
    spool__seek(spool, &p->cur, 1);
    *out = p;
    return OT_OK;
}

static void do_connect(struct gw_pub *p, const struct gw_state_info *si)
{
    MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
    MQTTAsync_willOptions wo = MQTTAsync_willOptions_initializer;
    MQTTAsync_SSLOptions so = MQTTAsync_SSLOptions_initializer;
    struct spool_stats st;
    spool__stats(p->spool, &st);
    struct gw_state_info bare = {0};
    if (si)
        bare = *si;
    bare.health = NULL; /* the will is small: SPEC keys, flight, local_alarm */
    bare.flight = 0;
    char *will = state__json(p->cfg, &st, 0, &bare);
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

static void subscribe(struct gw_pub *p)
{
    pthread_mutex_lock(&p->mu);
    p->limits_since_sub = p->retained_ack_seen = 0;
    pthread_mutex_unlock(&p->mu);
    /* limits first, in its own SUBSCRIBE: see the top of the file */
    const char *topics[2] = {p->t_limits, p->t_ack};
    for (int i = 0; i < 2; i++) {
        MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
        int rc = MQTTAsync_subscribe(p->client, topics[i], 1, &ro);
        if (rc != MQTTASYNC_SUCCESS)
            ot_warn("mqtt subscribe failed topic=%s rc=%d", topics[i], rc);
    }
}

static void on_connected(struct gw_pub *p, const struct gw_state_info *si, int64_t now)
{
    p->up = 1;
    p->connecting = 0;
    p->backoff = BACKOFF_MIN_MS;
    pthread_mutex_lock(&p->mu);
    p->gen++;
    p->inflight = 0;
    pthread_mutex_unlock(&p->mu);
    ot_mqtt_tcp_nodelay_all();
    subscribe(p);
    publish_state(p, 1, si);
    p->state_dirty = 0;
    p->state_mono = now;
    sender__rewind(p, now);
    ot_info("mqtt connected url=%s resend_from=%" PRId64, p->cfg->mqtt.url, p->cur.want);
}

void pub__set_radio(struct gw_pub *p, int on, const struct gw_state_info *si)
{
    if (on == !p->radio_off)
        return;
    p->radio_off = !on;
    if (on) {
        p->retry_at = 0;
        p->backoff = BACKOFF_MIN_MS;
        return; /* the next step connects */
    }
    if (p->up) {
        /* the broker keeps "in flight" (retained) and gets a clean DISCONNECT,
         * so it does not publish the will; Paho sends the state before the
         * DISCONNECT and lets in-flight messages complete within 2 s */
        publish_state(p, 0, si);
        MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
        d.timeout = 2000;
        int rc = MQTTAsync_disconnect(p->client, &d);
        if (rc != MQTTASYNC_SUCCESS)
            ot_warn("mqtt disconnect failed rc=%d error=\"%s\"", rc, MQTTAsync_strerror(rc));
        ot_info("mqtt radio off (flight mode): state published, disconnecting");
    } else {
        ot_info("mqtt radio off (flight mode): not connected, staying silent");
    }
    p->up = p->connecting = 0;
    pthread_mutex_lock(&p->mu);
    p->gen++; /* completions of the old connection no longer count */
    p->inflight = 0;
    pthread_mutex_unlock(&p->mu);
}

int pub__take_limits(struct gw_pub *p, char *out, size_t cap, size_t *len)
{
    pthread_mutex_lock(&p->mu);
    int got = p->limits_new;
    if (got) {
        *len = p->limits_len < cap ? p->limits_len : cap;
        memcpy(out, p->limits_buf, *len);
        p->limits_new = 0;
    }
    pthread_mutex_unlock(&p->mu);
    return got;
}

void pub__step(struct gw_pub *p, const struct gw_state_info *si, int state_changed)
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
    if (failed && !p->radio_off) {
        p->up = p->connecting = 0;
        ot_warn("mqtt connect failed url=%s rc=%d retry_ms=%" PRId64, p->cfg->mqtt.url, code,
                p->backoff);
        p->retry_at = now + p->backoff;
        p->backoff = p->backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : p->backoff * 2;
    }
    if (lost && !p->radio_off) {
        p->up = p->connecting = 0;
        ot_warn("mqtt connection lost url=%s", p->cfg->mqtt.url);
        p->retry_at = now + BACKOFF_MIN_MS;
    }
    if (connected && !failed && !lost) {
        if (p->radio_off) { /* flight began while connecting */
            p->up = 1;
            p->radio_off = 0;
            pub__set_radio(p, 0, si);
        } else {
            on_connected(p, si, now);
        }
    }
    if (!p->up && !p->connecting && !p->radio_off && now >= p->retry_at)
        do_connect(p, si);

    if (beyond && !p->ack_warned) {
        ot_warn("ack beyond what this gateway issued ignored ack=%" PRId64 " next_seq=%" PRId64
                " (stale retained ack of an older spool?)",
                beyond, st0.next_seq);
        p->ack_warned = 1;
    }
    sender__ack(p, ack, now);
    if (!p->up)
        return;
    /* health or alarm flips republish the state, at most once a second */
    p->state_dirty |= state_changed;
    if (p->state_dirty && now - p->state_mono >= 1000) {
        publish_state(p, 1, si);
        p->state_dirty = 0;
        p->state_mono = now;
    }
    sender__check_stall(p, now);
    sender__send(p, now);
}

int64_t pub__next_timer(const struct gw_pub *p)
{
    int64_t t = INT64_MAX;
    if (!p->up && !p->connecting && !p->radio_off)
        t = p->retry_at;
    if (p->up) {
        if (p->state_dirty)
            t = p->state_mono + 1000;
        struct spool_stats st;
        spool__stats(p->spool, &st);
        if (p->cur.want - 1 > st.acked && p->last_progress + p->cfg->ack_timeout_ms + 1 < t)
            t = p->last_progress + p->cfg->ack_timeout_ms + 1;
    }
    return t;
}

int pub__link_up(const struct gw_pub *p)
{
    return p->up;
}

int pub__radio_on(const struct gw_pub *p)
{
    return !p->radio_off;
}

int64_t pub__sent_total(const struct gw_pub *p)
{
    return p->sent_total;
}

void pub__destroy(struct gw_pub *p, const struct gw_state_info *si)
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
        struct spool_stats st;
        spool__stats(p->spool, &st);
        char *js = state__json(p->cfg, &st, 0, si);
        if (js) {
            MQTTAsync_message m = MQTTAsync_message_initializer;
            MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
            m.payload = js;
            m.payloadlen = (int)strlen(js);
            m.qos = 1;
            m.retained = 1;
            if (MQTTAsync_sendMessage(p->client, p->t_state, &m, &ro) == MQTTASYNC_SUCCESS)
                MQTTAsync_waitForCompletion(p->client, ro.token, 2000);
            free(js);
        }
        MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
        d.timeout = 2000;
        MQTTAsync_disconnect(p->client, &d);
        for (int i = 0; i < 40 && MQTTAsync_isConnected(p->client); i++)
            ot_time_sleep_ms(50, NULL);
    }
    MQTTAsync_destroy(&p->client);
    pthread_mutex_destroy(&p->mu);
    pub__the = NULL;
    free(p);
}
