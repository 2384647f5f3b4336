/* pub.c - load publisher for bench/collector.sh (Paho MQTTAsync, QoS 1).
 *
 * Throughput mode: publishes N readings batches of one reading each (about
 * 200 bytes, like a gateway's live stream) round-robin over K containers
 * and prints epoch-ms timestamps: first publish, last publish confirmed and,
 * with --wait-ack, when the collector's retained ack covered every seq.
 *
 * Latency mode (--latency): one container with an open shipment whose
 * profile has no grace; alternately publishes an out-of-band and an in-band
 * reading and times publish -> alarm list showing temp_excursion raised
 * (resp. cleared). Prints p50/p99 of the raise latency. */
#include <MQTTAsync.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "ot_mqtt.h"
#include "ot_parse.h"
#include "ot_time.h"

static atomic_long delivered;
static atomic_int connected;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int64_t *acks; /* per container */
static int n_containers = 10;
static char root[128] = "organtrack/v1";
static int alarm_state; /* latency mode: 1 raised seen, 2 cleared seen */
static long alarm_raised_id = -1;

static void on_sent(void *ctx, MQTTAsync_successData *r)
{
    (void)ctx;
    (void)r;
    atomic_fetch_add(&delivered, 1);
}

static void on_connect(void *ctx, MQTTAsync_successData *r)
{
    (void)ctx;
    (void)r;
    ot_mqtt_tcp_nodelay_all();
    atomic_store(&connected, 1);
}

static void on_connect_fail(void *ctx, MQTTAsync_failureData *r)
{
    (void)ctx;
    fprintf(stderr, "pub: connect failed code=%d\n", r ? r->code : 0);
    exit(1);
}

static int on_message(void *ctx, char *topic, int tlen, MQTTAsync_message *m)
{
    (void)ctx;
    (void)tlen;
    const char *p = m->payload;
    const char *leaf = strrchr(topic, '/');
    const char *c = strstr(topic, "/containers/");
    if (leaf && c && !strcmp(leaf, "/ack")) {
        int idx = 0;
        const char *num = strstr(p, "\"seq\":");
        sscanf(c + 12, "bench-%d", &idx);
        if (num && idx >= 0 && idx < n_containers) {
            pthread_mutex_lock(&mu);
            acks[idx] = strtoll(num + 6, NULL, 10);
            pthread_cond_broadcast(&cv);
            pthread_mutex_unlock(&mu);
        }
    } else if (leaf && !strcmp(leaf, "/alarms")) {
        /* find the newest temp_excursion entry: state and id */
        char *copy = malloc((size_t)m->payloadlen + 1);
        if (copy) {
            memcpy(copy, p, (size_t)m->payloadlen);
            copy[m->payloadlen] = '\0';
            const char *t = copy, *last = NULL;
            while ((t = strstr(t, "\"type\":\"temp_excursion\"")))
                last = t++;
            if (last) {
                const char *obj = last;
                while (obj > copy && *obj != '{')
                    obj--;
                long id = strtol(strstr(obj, "\"id\":") + 5, NULL, 10);
                int raised = strstr(last, "\"state\":\"raised\"") &&
                             (!strstr(last, "}") ||
                              strstr(last, "\"state\":\"raised\"") < strstr(last, "}"));
                pthread_mutex_lock(&mu);
                if (raised && id != alarm_raised_id) {
                    alarm_raised_id = id;
                    alarm_state = 1;
                } else if (!raised && id == alarm_raised_id) {
                    alarm_state = 2;
                }
                pthread_cond_broadcast(&cv);
                pthread_mutex_unlock(&mu);
            }
            free(copy);
        }
    }
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(topic);
    return 1;
}

static void publish(MQTTAsync cl, const char *topic, const char *payload)
{
    MQTTAsync_message msg = MQTTAsync_message_initializer;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    msg.payload = (void *)(uintptr_t)payload;
    msg.payloadlen = (int)strlen(payload);
    msg.qos = 1;
    ro.onSuccess = on_sent;
    while (MQTTAsync_sendMessage(cl, topic, &msg, &ro) != MQTTASYNC_SUCCESS) {
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* ts: now, or (throughput mode) a fixed base + seq ms so that no two
 * readings of a container share a timestamp (InfluxDB keeps one point per
 * series and time). */
static int64_t ts_base;

static void reading(char *buf, size_t len, const char *container, int64_t seq, double temp)
{
    snprintf(buf, len,
             "{\"v\":1,\"container\":\"%s\",\"gateway\":\"gw-bench\",\"boot\":1,\"readings\":"
             "[{\"seq\":%lld,\"ts\":%lld,\"temp_c\":%.2f,\"temp2_c\":4.35,\"ambient_c\":21.0,"
             "\"lat\":51.2036,\"lon\":51.3703,\"speed_kmh\":63.5,\"battery_pct\":91}]}",
             container, (long long)seq, (long long)(ts_base ? ts_base + seq : ot_time_now_ms()),
             temp);
}

int main(int argc, char **argv)
{
    const char *url = NULL;
    int64_t n = 10000, start = 1, count = 100;
    int wait_ack = 0, latency = 0;
    for (int i = 1; i < argc; i++) {
        int64_t v;
        if (!strcmp(argv[i], "--url") && i + 1 < argc)
            url = argv[++i];
        else if (!strcmp(argv[i], "--root") && i + 1 < argc)
            snprintf(root, sizeof root, "%s", argv[++i]);
        else if (!strcmp(argv[i], "--messages") && i + 1 < argc &&
                 !ot_parse_i64(argv[++i], 1, 100000000, &v))
            n = v;
        else if (!strcmp(argv[i], "--containers") && i + 1 < argc &&
                 !ot_parse_i64(argv[++i], 1, 1000, &v))
            n_containers = (int)v;
        else if (!strcmp(argv[i], "--start-seq") && i + 1 < argc &&
                 !ot_parse_i64(argv[++i], 1, 1000000000, &v))
            start = v;
        else if (!strcmp(argv[i], "--count") && i + 1 < argc &&
                 !ot_parse_i64(argv[++i], 1, 100000, &v))
            count = v;
        else if (!strcmp(argv[i], "--wait-ack"))
            wait_ack = 1;
        else if (!strcmp(argv[i], "--latency"))
            latency = 1;
        else {
            fprintf(stderr,
                    "usage: %s --url URL [--root R] [--messages N] [--containers K] "
                    "[--start-seq S] [--wait-ack] | --latency [--count K]\n",
                    argv[0]);
            return 2;
        }
    }
    if (!url)
        return 2;
    acks = calloc((size_t)n_containers, sizeof *acks);
    if (!acks)
        return 1;
    MQTTAsync cl;
    char cid[64];
    snprintf(cid, sizeof cid, "bench-pub-%d", (int)(ot_time_mono_ms() % 100000));
    if (MQTTAsync_create(&cl, url, cid, MQTTCLIENT_PERSISTENCE_NONE, NULL) != MQTTASYNC_SUCCESS)
        return 1;
    MQTTAsync_setCallbacks(cl, NULL, NULL, on_message, NULL);
    MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
    co.cleansession = 1;
    co.maxInflight = 1000;
    co.onSuccess = on_connect;
    co.onFailure = on_connect_fail;
    if (MQTTAsync_connect(cl, &co) != MQTTASYNC_SUCCESS)
        return 1;
    while (!atomic_load(&connected)) {
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    char topic[256], payload[512], sub[256];
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    if (latency) {
        int64_t *lat = calloc((size_t)count, sizeof *lat);
        const char *c = "bench-latency";
        snprintf(sub, sizeof sub, "%s/containers/%s/alarms", root, c);
        MQTTAsync_subscribe(cl, sub, 1, &ro);
        snprintf(topic, sizeof topic, "%s/containers/%s/readings", root, c);
        struct timespec ts = {0, 300000000};
        nanosleep(&ts, NULL); /* let the subscription and the retained list settle */
        int64_t seq = start;
        for (int64_t i = 0; i < count; i++) {
            int64_t t0 = ot_time_mono_ms();
            struct timespec t0s, t1s;
            clock_gettime(CLOCK_MONOTONIC, &t0s);
            reading(payload, sizeof payload, c, seq++, 20.0);
            publish(cl, topic, payload);
            pthread_mutex_lock(&mu);
            while (alarm_state != 1 && ot_time_mono_ms() - t0 < 5000) {
                struct timespec dl;
                clock_gettime(CLOCK_REALTIME, &dl);
                dl.tv_nsec += 10000000;
                if (dl.tv_nsec >= 1000000000L) {
                    dl.tv_sec++;
                    dl.tv_nsec -= 1000000000L;
                }
                pthread_cond_timedwait(&cv, &mu, &dl);
            }
            int ok = alarm_state == 1;
            pthread_mutex_unlock(&mu);
            clock_gettime(CLOCK_MONOTONIC, &t1s);
            if (!ok) {
                fprintf(stderr, "pub: no alarm within 5 s (iteration %lld)\n", (long long)i);
                return 1;
            }
            lat[i] =
                (int64_t)(t1s.tv_sec - t0s.tv_sec) * 1000000 + (t1s.tv_nsec - t0s.tv_nsec) / 1000;
            reading(payload, sizeof payload, c, seq++, 4.0);
            publish(cl, topic, payload);
            t0 = ot_time_mono_ms();
            pthread_mutex_lock(&mu);
            while (alarm_state != 2 && ot_time_mono_ms() - t0 < 5000) {
                struct timespec dl;
                clock_gettime(CLOCK_REALTIME, &dl);
                dl.tv_nsec += 10000000;
                if (dl.tv_nsec >= 1000000000L) {
                    dl.tv_sec++;
                    dl.tv_nsec -= 1000000000L;
                }
                pthread_cond_timedwait(&cv, &mu, &dl);
            }
            pthread_mutex_unlock(&mu);
        }
        qsort(lat, (size_t)count, sizeof *lat, cmp64);
        printf("alarms=%lld p50_us=%lld p99_us=%lld max_us=%lld\n", (long long)count,
               (long long)lat[count / 2],
               (long long)lat[(count * 99) / 100 >= count ? count - 1 : (count * 99) / 100],
               (long long)lat[count - 1]);
        free(lat);
    } else {
        if (wait_ack) {
            snprintf(sub, sizeof sub, "%s/containers/+/ack", root);
            MQTTAsync_subscribe(cl, sub, 1, &ro);
            struct timespec ts = {0, 200000000};
            nanosleep(&ts, NULL);
        }
        /* like a gateway: a retained birth state first (nothing delivered
         * before start), so the collector fixes its ack baseline at once */
        for (int k = 0; k < n_containers; k++) {
            MQTTAsync_message msg = MQTTAsync_message_initializer;
            MQTTAsync_responseOptions sro = MQTTAsync_responseOptions_initializer;
            snprintf(topic, sizeof topic, "%s/containers/bench-%d/state", root, k);
            snprintf(payload, sizeof payload,
                     "{\"v\":1,\"container\":\"bench-%d\",\"gateway\":\"gw-bench\","
                     "\"online\":true,\"ts\":%lld,\"boot\":1,\"seq\":%lld}",
                     k, (long long)ot_time_now_ms(), (long long)(start - 1));
            msg.payload = payload;
            msg.payloadlen = (int)strlen(payload);
            msg.qos = 1;
            msg.retained = 1;
            while (MQTTAsync_sendMessage(cl, topic, &msg, &sro) != MQTTASYNC_SUCCESS) {
                struct timespec ts = {0, 200000};
                nanosleep(&ts, NULL);
            }
        }
        int64_t first = ot_time_now_ms();
        ts_base = first;
        for (int64_t i = 0; i < n; i++) {
            char c[32];
            int k = (int)(i % n_containers);
            snprintf(c, sizeof c, "bench-%d", k);
            snprintf(topic, sizeof topic, "%s/containers/%s/readings", root, c);
            reading(payload, sizeof payload, c, start + i / n_containers, 4.2);
            publish(cl, topic, payload);
        }
        while (atomic_load(&delivered) < n) {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
        int64_t last = ot_time_now_ms();
        int64_t done = last;
        if (wait_ack) {
            int64_t want_last = start + (n - 1) / n_containers;
            pthread_mutex_lock(&mu);
            for (;;) {
                int all = 1;
                for (int k = 0; k < n_containers; k++) {
                    int64_t want = k < (int)(n % n_containers) || n % n_containers == 0
                                       ? want_last
                                       : want_last - 1;
                    if (acks[k] < want)
                        all = 0;
                }
                if (all || ot_time_now_ms() - last > 120000)
                    break;
                struct timespec dl;
                clock_gettime(CLOCK_REALTIME, &dl);
                dl.tv_sec += 1;
                pthread_cond_timedwait(&cv, &mu, &dl);
            }
            pthread_mutex_unlock(&mu);
            done = ot_time_now_ms();
        }
        printf("messages=%lld first_ms=%lld published_ms=%lld done_ms=%lld\n", (long long)n,
               (long long)first, (long long)last, (long long)done);
    }
    MQTTAsync_disconnectOptions dop = MQTTAsync_disconnectOptions_initializer;
    MQTTAsync_disconnect(cl, &dop);
    struct timespec ts = {0, 100000000};
    nanosleep(&ts, NULL);
    MQTTAsync_destroy(&cl);
    free(acks);
    return 0;
}
