/* ot_mqtt.h - the MQTT settings every program shares ("mqtt" object of
 * SPEC's configs) and topic names. Paho is used for the wire only. */
#ifndef OT_MQTT_H
#define OT_MQTT_H

#include <MQTTAsync.h>
#include <stddef.h>

#include "ot_conf.h"

#define OT_TOPIC_ROOT_DEFAULT "organtrack/v1"
#define OT_TOPIC_MAX 256

struct ot_mqtt_conf {
    const char *url;       /* tcp://host:port, ssl://host:port (mqtts:// accepted) */
    const char *client_id; /* may be NULL: program chooses */
    const char *username, *password;
    const char *ca_file, *cert_file, *key_file; /* TLS; ca_file implies server verification */
    const char *topic_root;
    int64_t keepalive_s;
    int64_t connect_timeout_s;
};

/* Parses the "mqtt" object (strings point into the conf tree). */
enum ot_err ot_mqtt_conf_parse(struct ot_conf *c, const cJSON *mqtt, const char *where,
                               struct ot_mqtt_conf *out);

/* Fills Paho connect/SSL options from conf. ssl must outlive the connect call. */
void ot_mqtt_apply(const struct ot_mqtt_conf *mc, MQTTAsync_connectOptions *co,
                   MQTTAsync_SSLOptions *ssl);

/* Paho C 1.3 leaves Nagle's algorithm on and does not expose its socket.
 * Small writes that follow a PUBACK (acks, alarm lists, the next QoS 1
 * publish) then wait for the peer's delayed ACK (~40 ms on Linux). Sets
 * TCP_NODELAY on every TCP (IPv4/IPv6) socket of this process; call it after
 * each connect. */
void ot_mqtt_tcp_nodelay_all(void);

/* "{root}/containers/{container}/{leaf}"; returns 0, or -1 if too long/invalid. */
int ot_topic(char *buf, size_t len, const char *root, const char *container, const char *leaf);
/* Parses a topic of that form: copies container (65 bytes) and returns leaf
 * pointer into topic, or NULL if the topic does not match. */
const char *ot_topic_parse(const char *topic, const char *root, char container[65]);

#endif
