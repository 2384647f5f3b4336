/* sub.c - the broker's ceiling for bench/collector.sh: a bare Paho
 * subscriber (QoS 1, same settings as the collector) that only counts
 * readings messages. Prints epoch ms of the first and last message once
 * --messages N arrived (or after 120 s). */
#include <MQTTAsync.h>
#include <netinet/in.h>
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

static atomic_long received;
static atomic_llong first_ms, last_ms;
static atomic_int subscribed;

static int on_message(void *ctx, char *topic, int tlen, MQTTAsync_message *m)
{
    (void)ctx;
    (void)tlen;
    long n = atomic_fetch_add(&received, 1);
    int64_t now = ot_time_now_ms();
    if (n == 0)
        atomic_store(&first_ms, now);
    atomic_store(&last_ms, now);
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(topic);
    return 1;
}

static void on_sub(void *ctx, MQTTAsync_successData *r)
{
    (void)ctx;
    (void)r;
    ot_mqtt_tcp_nodelay_all();
    atomic_store(&subscribed, 1);
}

int main(int argc, char **argv)
{
    const char *url = NULL, *root = "organtrack/v1";
    int64_t n = 10000, v;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--url") && i + 1 < argc)
            url = argv[++i];
        else if (!strcmp(argv[i], "--root") && i + 1 < argc)
            root = argv[++i];
        else if (!strcmp(argv[i], "--messages") && i + 1 < argc &&
                 !ot_parse_i64(argv[++i], 1, 100000000, &v))
            n = v;
        else {
            fprintf(stderr, "usage: %s --url URL [--root R] [--messages N]\n", argv[0]);
            return 2;
        }
    }
    if (!url)
        return 2;
    MQTTAsync cl;
    if (MQTTAsync_create(&cl, url, "bench-sub", MQTTCLIENT_PERSISTENCE_NONE, NULL) !=
        MQTTASYNC_SUCCESS)
        return 1;
    MQTTAsync_setCallbacks(cl, NULL, NULL, on_message, NULL);
    MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
    co.cleansession = 1;
    if (MQTTAsync_connect(cl, &co) != MQTTASYNC_SUCCESS)
        return 1;
    char topic[256];
    snprintf(topic, sizeof topic, "%s/containers/+/readings", root);
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.onSuccess = on_sub;
    int64_t t0 = ot_time_mono_ms();
    while (MQTTAsync_subscribe(cl, topic, 1, &ro) != MQTTASYNC_SUCCESS) {
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
        if (ot_time_mono_ms() - t0 > 10000)
            return 1;
    }
    while (!atomic_load(&subscribed)) {
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    printf("subscribed\n");
    fflush(stdout);
    t0 = ot_time_mono_ms();
    while (atomic_load(&received) < n && ot_time_mono_ms() - t0 < 120000) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    printf("messages=%ld first_ms=%lld done_ms=%lld\n", atomic_load(&received),
           (long long)atomic_load(&first_ms), (long long)atomic_load(&last_ms));
    MQTTAsync_disconnectOptions dop = MQTTAsync_disconnectOptions_initializer;
    MQTTAsync_disconnect(cl, &dop);
    MQTTAsync_destroy(&cl);
    return 0;
}
