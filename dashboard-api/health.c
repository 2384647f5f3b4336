/* health.c - GET /api/v1/health (public): the database answers a ping
 * ("database":{"kind":"sqlite"|"postgresql","status":"ok"|"unreachable"},
 * SPEC v1.1) and, when an mqtt section is configured, the broker accepts a
 * TCP connection within 300 ms. 503 when the database does not answer. */
#include "api.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* TCP connect within timeout_ms; 1 if something accepts. */
static int tcp_probe(const char *host, int port, int timeout_ms)
{
    struct addrinfo hints, *res = NULL;
    char portstr[8];
    int ok = 0;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(portstr, sizeof portstr, "%d", port);
    if (getaddrinfo(host, portstr, &hints, &res) != 0 || !res)
        return 0;
    int fd = socket(res->ai_family, SOCK_STREAM, 0);
    if (fd >= 0) {
        int fl = fcntl(fd, F_GETFL, 0);
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
        int rc = connect(fd, res->ai_addr, res->ai_addrlen);
        if (rc == 0)
            ok = 1;
        else if (errno == EINPROGRESS) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            if (poll(&p, 1, timeout_ms) == 1) {
                int err = 0;
                socklen_t l = sizeof err;
                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) == 0 && err == 0)
                    ok = 1;
            }
        }
        close(fd);
    }
    freeaddrinfo(res);
    return ok;
}

/* 1 if the database answers a trivial query. */
static int db_ping(struct api_db *d)
{
    int row = 0;
    struct ot_sql_stmt *st = api__stmt(d, ST_PING);
    int ok = st && !ot_sql_step(st, &row) && row;
    if (st)
        ot_sql_reset(st);
    return ok;
}

void api__h_health(struct api_req *r)
{
    struct api_db *d = api__req_db(r);
    int db_ok = db_ping(d);
    /* the question is "does the database answer now": a connection found
     * lost is reconnected at once and asked again */
    if (!db_ok && api__db_lost(d) && api__db_revive(d) == OT_OK)
        db_ok = db_ping(d);
    const char *broker = "unknown";
    if (r->ctx->cfg.mqtt_host[0])
        broker =
            tcp_probe(r->ctx->cfg.mqtt_host, r->ctx->cfg.mqtt_port, 300) ? "ok" : "unreachable";
    cJSON *o = cJSON_CreateObject();
    cJSON *db = o ? cJSON_AddObjectToObject(o, "database") : NULL;
    if (!db) {
        cJSON_Delete(o);
        api__reply_error(r, 500, "internal", "out of memory");
        return;
    }
    cJSON_AddStringToObject(o, "status", db_ok ? "ok" : "error");
    cJSON_AddStringToObject(db, "kind",
                            ot_sql_kind(d->sql) == OT_SQL_POSTGRES ? "postgresql" : "sqlite");
    cJSON_AddStringToObject(db, "status", db_ok ? "ok" : "unreachable");
    cJSON_AddStringToObject(o, "broker", broker);
    cJSON_AddStringToObject(o, "version", OT_VERSION);
    api__reply_json(r, db_ok ? 200 : 503, o);
}
