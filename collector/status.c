/* status.c - the collector's own status connection (collector.h): the
 * retained organtrack/v1/collectors/{instance}/state
 * {"v":1,"instance":…,"active":true|false,"ts":…}, published over a
 * connection of its own (client id {client_id}-status-{instance}, clean
 * session, last will active:false), never under the shared client id that
 * only the active collector uses. It also listens to the other collectors'
 * states, so that a standby can name the active one in its log. */
#include "collector.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ot_log.h"
#include "ot_time.h"

#define PEERS_MAX 16

struct peer {
    char instance[COLLECTOR_INSTANCE_MAX + 1];
    int active;
};

struct status {
    MQTTAsync client;
    const struct collector_conf *cc;
    char topic[OT_TOPIC_MAX], sub[OT_TOPIC_MAX], will[256];
    char client_id[512];
    MQTTAsync_connectOptions co;
    MQTTAsync_SSLOptions ssl;
    MQTTAsync_willOptions wo;
    atomic_int active; /* what we say */
    atomic_int connect_failed;
    atomic_int published;          /* states the broker acknowledged */
    int64_t next_connect, backoff; /* monotonic ms, caller's thread */
    pthread_mutex_t mu;            /* peers */
    struct peer peers[PEERS_MAX];
    size_t n_peers;
};

static int state_json(const struct status *s, int active, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "{\"v\":1,\"instance\":\"%s\",\"active\":%s,\"ts\":%lld}",
                     s->cc->instance, active ? "true" : "false", (long long)ot_time_now_ms());
    return n > 0 && (size_t)n < cap ? n : -1;
}

static void on_published(void *ctx, MQTTAsync_successData *resp)
{
    struct status *s = ctx;
    (void)resp;
    atomic_fetch_add(&s->published, 1);
}

static void publish(struct status *s)
{
    char body[256];
    int n = state_json(s, atomic_load(&s->active), body, sizeof body);
    MQTTAsync_message msg = MQTTAsync_message_initializer;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    if (n < 0)
        return;
    ro.onSuccess = on_published;
    ro.context = s;
    msg.payload = body;
    msg.payloadlen = n;
    msg.qos = 1;
    msg.retained = 1;
    int rc = MQTTAsync_sendMessage(s->client, s->topic, &msg, &ro);
    if (rc != MQTTASYNC_SUCCESS)
        ot_debug("collector state not published rc=%d (published on reconnect)", rc);
}

static void on_connected(void *ctx, char *cause)
{
    struct status *s = ctx;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    (void)cause;
    publish(s);
    int rc = MQTTAsync_subscribe(s->client, s->sub, 1, &ro);
    if (rc != MQTTASYNC_SUCCESS)
        ot_warn("status subscribe failed rc=%d", rc);
}

static void on_connect_fail(void *ctx, MQTTAsync_failureData *resp)
{
    struct status *s = ctx;
    atomic_store(&s->connect_failed, 1);
    ot_debug("status connection failed code=%d", resp ? resp->code : 0);
}

static void on_lost(void *ctx, char *cause)
{
    (void)ctx;
    ot_debug("status connection lost cause=\"%s\"", cause ? cause : "unknown");
}

/* organtrack/v1/collectors/{instance}/state from another collector */
static int on_message(void *ctx, char *topic, int topic_len, MQTTAsync_message *msg)
{
    struct status *s = ctx;
    (void)topic_len;
    cJSON *o = msg->payloadlen > 0 && msg->payloadlen < 1024
                   ? cJSON_ParseWithLength(msg->payload, (size_t)msg->payloadlen)
                   : NULL;
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(o, "instance");
    const cJSON *ac = cJSON_GetObjectItemCaseSensitive(o, "active");
    if (cJSON_IsString(in) && config__instance_valid(in->valuestring) && cJSON_IsBool(ac) &&
        strcmp(in->valuestring, s->cc->instance)) {
        pthread_mutex_lock(&s->mu);
        size_t i = 0;
        while (i < s->n_peers && strcmp(s->peers[i].instance, in->valuestring))
            i++;
        if (i == s->n_peers && i < PEERS_MAX)
            snprintf(s->peers[s->n_peers++].instance, sizeof s->peers[0].instance, "%s",
                     in->valuestring);
        if (i < s->n_peers)
            s->peers[i].active = cJSON_IsTrue(ac);
        pthread_mutex_unlock(&s->mu);
    }
    cJSON_Delete(o);
    MQTTAsync_freeMessage(&msg);
    MQTTAsync_free(topic);
    return 1;
}

enum ot_err status__start(const struct collector_conf *cc, struct status **out)
{
    struct status *s = calloc(1, sizeof *s);
    MQTTAsync_createOptions cro = MQTTAsync_createOptions_initializer;
    MQTTAsync_connectOptions co0 = MQTTAsync_connectOptions_initializer;
    MQTTAsync_SSLOptions ssl0 = MQTTAsync_SSLOptions_initializer;
    MQTTAsync_willOptions wo0 = MQTTAsync_willOptions_initializer;
    char url[512];
    *out = NULL;
    if (!s)
        return OT_ERR_NOMEM;
    s->cc = cc;
    pthread_mutex_init(&s->mu, NULL);
    snprintf(s->topic, sizeof s->topic, "%s/collectors/%s/state", cc->mqtt.topic_root,
             cc->instance);
    snprintf(s->sub, sizeof s->sub, "%s/collectors/+/state", cc->mqtt.topic_root);
    snprintf(s->client_id, sizeof s->client_id, "%s-status-%s", cc->mqtt.client_id, cc->instance);
    if (state_json(s, 0, s->will, sizeof s->will) < 0)
        goto fail;
    if (!strncmp(cc->mqtt.url, "mqtt://", 7))
        snprintf(url, sizeof url, "tcp://%s", cc->mqtt.url + 7);
    else if (!strncmp(cc->mqtt.url, "mqtts://", 8))
        snprintf(url, sizeof url, "ssl://%s", cc->mqtt.url + 8);
    else
        snprintf(url, sizeof url, "%s", cc->mqtt.url);
    int prc = MQTTAsync_createWithOptions(&s->client, url, s->client_id,
                                          MQTTCLIENT_PERSISTENCE_NONE, NULL, &cro);
    if (prc != MQTTASYNC_SUCCESS) {
        ot_error("mqtt create failed (status connection) rc=%d error=\"%s\"", prc,
                 MQTTAsync_strerror(prc));
        goto fail;
    }
    MQTTAsync_setCallbacks(s->client, s, on_lost, on_message, NULL);
    MQTTAsync_setConnected(s->client, s, on_connected);
    s->co = co0;
    s->ssl = ssl0;
    s->wo = wo0;
    ot_mqtt_apply(&cc->mqtt, &s->co, &s->ssl);
    if (s->co.ssl)
        s->co.ssl = &s->ssl;
    s->wo.topicName = s->topic;
    s->wo.message = s->will;
    s->wo.retained = 1;
    s->wo.qos = 1;
    s->co.will = &s->wo;
    s->co.cleansession = 1;
    s->co.automaticReconnect = 1;
    s->co.minRetryInterval = 1;
    s->co.maxRetryInterval = 8;
    s->co.onFailure = on_connect_fail;
    s->co.context = s;
    prc = MQTTAsync_connect(s->client, &s->co);
    if (prc != MQTTASYNC_SUCCESS) {
        ot_error("mqtt connect failed (status connection) rc=%d error=\"%s\"", prc,
                 MQTTAsync_strerror(prc));
        goto fail;
    }
    ot_info("status connection connecting client_id=%s topic=%s", s->client_id, s->topic);
    *out = s;
    return OT_OK;
fail:
    if (s->client)
        MQTTAsync_destroy(&s->client);
    pthread_mutex_destroy(&s->mu);
    free(s);
    return OT_ERR_MQTT;
}

void status__set(struct status *s, int active)
{
    if (!s)
        return;
    atomic_store(&s->active, active);
    if (MQTTAsync_isConnected(s->client))
        publish(s);
}

void status__tick(struct status *s)
{
    int64_t now = ot_time_mono_ms();
    /* Paho reconnects by itself only after a first successful connect */
    if (!s || !atomic_load(&s->connect_failed) || now < s->next_connect)
        return;
    atomic_store(&s->connect_failed, 0);
    s->backoff = s->backoff ? s->backoff * 2 : 1000;
    if (s->backoff > 8000)
        s->backoff = 8000;
    s->next_connect = now + s->backoff;
    if (MQTTAsync_connect(s->client, &s->co) != MQTTASYNC_SUCCESS)
        atomic_store(&s->connect_failed, 1);
}

int status__active_peer(struct status *s, char *buf, size_t cap)
{
    int found = 0;
    if (!s)
        return 0;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->n_peers && !found; i++)
        if (s->peers[i].active) {
            snprintf(buf, cap, "%s", s->peers[i].instance);
            found = 1;
        }
    pthread_mutex_unlock(&s->mu);
    return found;
}

static void nap_ms(long ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

void status__stop(struct status *s)
{
    if (!s)
        return;
    MQTTAsync_disconnectOptions dop = MQTTAsync_disconnectOptions_initializer;
    dop.timeout = 0;
    if (MQTTAsync_isConnected(s->client)) {
        /* a clean disconnect sends no will: say it, wait (briefly) for the
         * broker to have it, then go */
        int before = atomic_load(&s->published);
        atomic_store(&s->active, 0);
        publish(s);
        for (int i = 0; i < 50 && atomic_load(&s->published) == before; i++)
            nap_ms(10);
        MQTTAsync_disconnect(s->client, &dop);
        for (int i = 0; i < 50 && MQTTAsync_isConnected(s->client); i++)
            nap_ms(10);
    }
    MQTTAsync_destroy(&s->client);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
