#include "ot_mqtt.h"
#include "ot_reading.h"

#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <stdio.h>
#include <string.h>

enum ot_err ot_mqtt_conf_parse(struct ot_conf *c, const cJSON *m, const char *where,
                               struct ot_mqtt_conf *out)
{
    memset(out, 0, sizeof *out);
    if (ot_conf_str(c, m, where, "url", NULL, &out->url) ||
        ot_conf_str(c, m, where, "client_id", "", &out->client_id) ||
        ot_conf_str(c, m, where, "username", "", &out->username) ||
        ot_conf_str(c, m, where, "password", "", &out->password) ||
        ot_conf_str(c, m, where, "ca_file", "", &out->ca_file) ||
        ot_conf_str(c, m, where, "cert_file", "", &out->cert_file) ||
        ot_conf_str(c, m, where, "key_file", "", &out->key_file) ||
        ot_conf_str(c, m, where, "topic_root", OT_TOPIC_ROOT_DEFAULT, &out->topic_root) ||
        ot_conf_int(c, m, where, "keepalive_s", 0, 10, 2, 3600, &out->keepalive_s) ||
        ot_conf_int(c, m, where, "connect_timeout_s", 0, 5, 1, 120, &out->connect_timeout_s))
        return OT_ERR_CONFIG;
    if (strncmp(out->url, "tcp://", 6) && strncmp(out->url, "ssl://", 6) &&
        strncmp(out->url, "mqtt://", 7) && strncmp(out->url, "mqtts://", 8))
        return ot_conf_fail(c, where, "url", "expected tcp://, ssl://, mqtt:// or mqtts://");
    if (!*out->topic_root || strlen(out->topic_root) > 128 || strchr(out->topic_root, '+') ||
        strchr(out->topic_root, '#'))
        return ot_conf_fail(c, where, "topic_root", "expected 1..128 chars without + or #");
    return OT_OK;
}

void ot_mqtt_apply(const struct ot_mqtt_conf *mc, MQTTAsync_connectOptions *co,
                   MQTTAsync_SSLOptions *ssl)
{
    co->keepAliveInterval = (int)mc->keepalive_s;
    co->connectTimeout = (int)mc->connect_timeout_s;
    if (mc->username && *mc->username)
        co->username = mc->username;
    if (mc->password && *mc->password)
        co->password = mc->password;
    int tls = !strncmp(mc->url, "ssl://", 6) || !strncmp(mc->url, "mqtts://", 8) ||
              (mc->ca_file && *mc->ca_file);
    if (tls) {
        if (mc->ca_file && *mc->ca_file) {
            ssl->trustStore = mc->ca_file;
            ssl->enableServerCertAuth = 1;
            ssl->verify = 1;
        }
        if (mc->cert_file && *mc->cert_file)
            ssl->keyStore = mc->cert_file;
        if (mc->key_file && *mc->key_file)
            ssl->privateKey = mc->key_file;
        ssl->sslVersion = MQTT_SSL_VERSION_TLS_1_2;
        co->ssl = ssl;
    }
}

int ot_topic(char *buf, size_t len, const char *root, const char *container, const char *leaf)
{
    if (!ot_id_valid(container))
        return -1;
    int n = snprintf(buf, len, "%s/containers/%s/%s", root, container, leaf);
    return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

const char *ot_topic_parse(const char *topic, const char *root, char container[65])
{
    size_t rl = strlen(root);
    if (strncmp(topic, root, rl) || strncmp(topic + rl, "/containers/", 12))
        return NULL;
    const char *c = topic + rl + 12;
    const char *slash = strchr(c, '/');
    if (!slash || slash == c || slash - c > 64)
        return NULL;
    memcpy(container, c, (size_t)(slash - c));
    container[slash - c] = '\0';
    if (!ot_id_valid(container))
        return NULL;
    return slash + 1;
}

void ot_mqtt_tcp_nodelay_all(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int one = 1;
    if (!d)
        return;
    while ((e = readdir(d))) {
        char *end = NULL;
        long fd = strtol(e->d_name, &end, 10);
        int type = 0;
        socklen_t tl = sizeof type;
        struct sockaddr_storage sa;
        socklen_t sl = sizeof sa;
        if (!end || *end || fd < 0 || fd == dirfd(d))
            continue;
        if (getsockopt((int)fd, SOL_SOCKET, SO_TYPE, &type, &tl) || type != SOCK_STREAM)
            continue;
        if (getsockname((int)fd, (struct sockaddr *)&sa, &sl) ||
            (sa.ss_family != AF_INET && sa.ss_family != AF_INET6))
            continue;
        setsockopt((int)fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    closedir(d);
}
