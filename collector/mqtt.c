/* mqtt.c - the collector's MQTT client (Paho MQTTAsync), under the shared
 * client id that only the active collector uses.
 *
 * Persistent session (cleansession 0, fixed client id) so the broker keeps
 * our QoS 1 subscriptions and queues readings while no collector is
 * connected; subscriptions renewed on every connect. Reconnecting is not
 * left to Paho: the worker asks for it (mqtt__tick) between two committed
 * batches, that is while it still holds its database session (and the
 * standby lock), so a collector that lost the lock never takes the session
 * back from the one that has it. The message callback runs on Paho's
 * thread and only copies the message into the bounded queue: returning 0
 * when the queue stays full leaves the message unacknowledged and Paho
 * offers it again later. */
#include "collector.h"

#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "ot_log.h"
#include "ot_time.h"

struct mqtt {
    MQTTAsync client;
    struct queue *q;
    char sub_readings[OT_TOPIC_MAX];
    char sub_state[OT_TOPIC_MAX];
    atomic_int connected;
    atomic_int reconnected;
    atomic_int full_logged;
    /* Paho reconnects by itself only after a first successful connect: an
     * initial connect that fails is retried from mqtt__tick */
    atomic_int connect_failed;
    atomic_int reset_backoff; /* connected since the last mqtt__tick */
    int64_t next_connect;     /* monotonic ms */
    int64_t connect_backoff;
    MQTTAsync_connectOptions co;
    MQTTAsync_SSLOptions ssl;
    const char *client_id;
};

static void on_subscribe_fail(void *ctx, MQTTAsync_failureData *resp)
{
    (void)ctx;
    ot_error("mqtt subscribe failed code=%d", resp ? resp->code : 0);
}

static void on_subscribe(void *ctx, MQTTAsync_successData *resp)
{
    (void)ctx;
    (void)resp;
    ot_info("mqtt subscribed");
}

static void on_connected(void *ctx, char *cause)
{
    struct mqtt *m = ctx;
    char *topics[2] = {m->sub_readings, m->sub_state};
    int qos[2] = {1, 1};
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    (void)cause;
    ot_mqtt_tcp_nodelay_all();
    atomic_store(&m->connected, 1);
    atomic_store(&m->reconnected, 1);
    atomic_store(&m->reset_backoff, 1);
    ot_info("mqtt connected client_id=%s", m->client_id);
    ro.onSuccess = on_subscribe;
    ro.onFailure = on_subscribe_fail;
    ro.context = m;
    int rc = MQTTAsync_subscribeMany(m->client, 2, topics, qos, &ro);
    if (rc != MQTTASYNC_SUCCESS)
        ot_error("mqtt subscribe failed rc=%d error=\"%s\"", rc, MQTTAsync_strerror(rc));
}

static void on_connection_lost(void *ctx, char *cause)
{
    struct mqtt *m = ctx;
    atomic_store(&m->connected, 0);
    atomic_store(&m->connect_failed, 1); /* mqtt__tick reconnects */
    ot_warn("mqtt connection lost cause=\"%s\"", cause ? cause : "unknown");
}

static void on_connect_fail(void *ctx, MQTTAsync_failureData *resp)
{
    struct mqtt *m = ctx;
    atomic_store(&m->connect_failed, 1);
    ot_warn("mqtt connect failed code=%d message=\"%s\"", resp ? resp->code : 0,
            resp && resp->message ? resp->message : "");
}

static int on_message(void *ctx, char *topic, int topic_len, MQTTAsync_message *msg)
{
    struct mqtt *m = ctx;
    char t[OT_TOPIC_MAX];
    size_t tl = topic_len > 0 ? (size_t)topic_len : strlen(topic);
    if (tl >= sizeof t)
        tl = sizeof t - 1; /* longer topics never parse; the worker rejects them */
    memcpy(t, topic, tl);
    t[tl] = '\0';
    size_t len = msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0;
    enum ot_err rc = queue__push(m->q, t, msg->payload, len, 1000);
    if (rc) {
        if (!atomic_exchange(&m->full_logged, 1))
            ot_warn("ingest queue full, leaving message with the broker error=%s", ot_strerror(rc));
        return 0; /* not consumed: Paho retries delivery */
    }
    atomic_store(&m->full_logged, 0);
    MQTTAsync_freeMessage(&msg);
    MQTTAsync_free(topic);
    return 1;
}

enum ot_err mqtt__start(const struct collector_conf *cc, struct queue *q, struct mqtt **out)
{
    enum ot_err rc = OT_ERR_MQTT;
    struct mqtt *m = calloc(1, sizeof *m);
    MQTTAsync_createOptions cro = MQTTAsync_createOptions_initializer;
    int prc;
    char url[512];
    *out = NULL;
    if (!m)
        return OT_ERR_NOMEM;
    m->q = q;
    m->client_id = cc->mqtt.client_id;
    MQTTAsync_connectOptions co0 = MQTTAsync_connectOptions_initializer;
    MQTTAsync_SSLOptions ssl0 = MQTTAsync_SSLOptions_initializer;
    m->co = co0;
    m->ssl = ssl0;
    if (snprintf(m->sub_readings, sizeof m->sub_readings, "%s/containers/+/readings",
                 cc->mqtt.topic_root) >= (int)sizeof m->sub_readings ||
        snprintf(m->sub_state, sizeof m->sub_state, "%s/containers/+/state", cc->mqtt.topic_root) >=
            (int)sizeof m->sub_state)
        goto fail;
    /* Paho wants tcp:// or ssl://; accept mqtt:// and mqtts:// as aliases */
    if (!strncmp(cc->mqtt.url, "mqtt://", 7))
        snprintf(url, sizeof url, "tcp://%s", cc->mqtt.url + 7);
    else if (!strncmp(cc->mqtt.url, "mqtts://", 8))
        snprintf(url, sizeof url, "ssl://%s", cc->mqtt.url + 8);
    else
        snprintf(url, sizeof url, "%s", cc->mqtt.url);
    cro.sendWhileDisconnected = 0;
    prc = MQTTAsync_createWithOptions(&m->client, url, cc->mqtt.client_id,
                                      MQTTCLIENT_PERSISTENCE_NONE, NULL, &cro);
    if (prc != MQTTASYNC_SUCCESS) {
        ot_error("mqtt create failed rc=%d error=\"%s\"", prc, MQTTAsync_strerror(prc));
        goto fail;
    }
    MQTTAsync_setCallbacks(m->client, m, on_connection_lost, on_message, NULL);
    MQTTAsync_setConnected(m->client, m, on_connected);
    ot_mqtt_apply(&cc->mqtt, &m->co, &m->ssl);
    if (m->co.ssl)
        m->co.ssl = &m->ssl;
    m->co.cleansession = 0;
    m->co.automaticReconnect = 0;
    m->co.onFailure = on_connect_fail;
    m->co.context = m;
    prc = MQTTAsync_connect(m->client, &m->co);
    if (prc != MQTTASYNC_SUCCESS) {
        ot_error("mqtt connect failed rc=%d error=\"%s\"", prc, MQTTAsync_strerror(prc));
        goto fail;
    }
    ot_info("mqtt connecting url=%s client_id=%s", url, cc->mqtt.client_id);
    *out = m;
    return OT_OK;
fail:
    if (m->client)
        MQTTAsync_destroy(&m->client);
    free(m);
    return rc;
}

void mqtt__stop(struct mqtt *m, int at_once)
{
    if (!m)
        return;
    MQTTAsync_disconnectOptions dop = MQTTAsync_disconnectOptions_initializer;
    /* at once: no waiting for acks in flight (they are re-sent, all of
     * them, by whoever connects next) */
    dop.timeout = at_once ? 0 : 2000;
    if (MQTTAsync_isConnected(m->client))
        MQTTAsync_disconnect(m->client, &dop);
    for (int i = 0; i < 40 && MQTTAsync_isConnected(m->client); i++) {
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    MQTTAsync_destroy(&m->client);
    free(m);
}

enum ot_err mqtt__publish_retained(struct mqtt *m, const char *topic, const char *payload,
                                   size_t len)
{
    MQTTAsync_message msg = MQTTAsync_message_initializer;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    msg.payload = (void *)(uintptr_t)payload;
    msg.payloadlen = (int)len;
    msg.qos = 1;
    msg.retained = 1;
    int rc = MQTTAsync_sendMessage(m->client, topic, &msg, &ro);
    if (rc != MQTTASYNC_SUCCESS) {
        ot_debug("mqtt publish failed topic=%s rc=%d error=\"%s\"", topic, rc,
                 MQTTAsync_strerror(rc));
        return OT_ERR_MQTT;
    }
    return OT_OK;
}

void mqtt__tick(struct mqtt *m)
{
    int64_t now = ot_time_mono_ms();
    if (atomic_exchange(&m->reset_backoff, 0))
        m->connect_backoff = 0;
    if (!atomic_load(&m->connect_failed) || now < m->next_connect)
        return;
    atomic_store(&m->connect_failed, 0);
    m->connect_backoff = m->connect_backoff ? m->connect_backoff * 2 : 1000;
    if (m->connect_backoff > 8000)
        m->connect_backoff = 8000;
    m->next_connect = now + m->connect_backoff;
    int rc = MQTTAsync_connect(m->client, &m->co);
    if (rc != MQTTASYNC_SUCCESS) {
        ot_warn("mqtt connect retry failed rc=%d error=\"%s\"", rc, MQTTAsync_strerror(rc));
        atomic_store(&m->connect_failed, 1);
    }
}

int mqtt__reconnect_due(struct mqtt *m)
{
    return atomic_load(&m->connect_failed) && ot_time_mono_ms() >= m->next_connect;
}

int mqtt__take_reconnected(struct mqtt *m)
{
    return atomic_exchange(&m->reconnected, 0);
}

int mqtt__connected(struct mqtt *m)
{
    return atomic_load(&m->connected);
}
