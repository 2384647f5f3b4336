/* misc.c - health, identity, preservation profiles, token administration
 * and the static web dashboard. Static files are served from the realpath
 * of web_root only: the URL path is checked segment by segment (no "..",
 * no hidden files) and the resolved file must still lie under web_root. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "http.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ot_log.h"
#include "ot_preservation.h"
#include "ot_reading.h"

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

void api__h_health(struct api_req *r)
{
    struct api_db *d = api__req_db(r);
    sqlite3_stmt *st = api__stmt(d, ST_PING);
    int db_ok = st && sqlite3_step(st) == SQLITE_ROW;
    if (st)
        sqlite3_reset(st);
    const char *broker = "unknown";
    if (r->ctx->cfg.mqtt_host[0])
        broker =
            tcp_probe(r->ctx->cfg.mqtt_host, r->ctx->cfg.mqtt_port, 300) ? "ok" : "unreachable";
    cJSON *o = cJSON_CreateObject();
    if (!o) {
        api__reply_error(r, 500, "internal", "out of memory");
        return;
    }
    cJSON_AddStringToObject(o, "status", db_ok ? "ok" : "error");
    cJSON_AddStringToObject(o, "database", db_ok ? "ok" : "error");
    cJSON_AddStringToObject(o, "broker", broker);
    cJSON_AddStringToObject(o, "version", OT_VERSION);
    api__reply_json(r, db_ok ? 200 : 503, o);
}

void api__h_me(struct api_req *r)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) {
        api__reply_error(r, 500, "internal", "out of memory");
        return;
    }
    cJSON_AddNumberToObject(o, "token_id", (double)r->who.token_id);
    cJSON_AddStringToObject(o, "name", r->who.name);
    cJSON_AddStringToObject(o, "role", api__role_name(r->who.role));
    cJSON *arr = cJSON_AddArrayToObject(o, "containers");
    for (size_t i = 0; arr && i < r->who.n_containers; i++)
        cJSON_AddItemToArray(arr, cJSON_CreateString(r->who.containers[i]));
    api__reply_json(r, 200, o);
}

void api__h_profiles(struct api_req *r)
{
    cJSON *items = cJSON_CreateArray();
    size_t n = r->ctx->pres ? ot_preservation_count(r->ctx->pres) : 0;
    for (size_t i = 0; items && i < n; i++) {
        const struct ot_preservation *p = ot_preservation_at(r->ctx->pres, i);
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(items, o)) {
            cJSON_Delete(o);
            break;
        }
        cJSON_AddStringToObject(o, "name", p->name);
        cJSON_AddNumberToObject(o, "temp_min_c", p->temp_min_c);
        cJSON_AddNumberToObject(o, "temp_max_c", p->temp_max_c);
        cJSON_AddNumberToObject(o, "max_cold_ischemia_min", (double)p->max_cold_ischemia_min);
        cJSON_AddNumberToObject(o, "warn_fraction", p->warn_fraction);
    }
    cJSON *o = cJSON_CreateObject();
    if (!items || !o) {
        cJSON_Delete(items);
        cJSON_Delete(o);
        api__reply_error(r, 500, "internal", "out of memory");
        return;
    }
    cJSON_AddItemToObject(o, "items", items);
    cJSON_AddNullToObject(o, "next");
    api__reply_json(r, 200, o);
}

void api__h_tokens_list(struct api_req *r)
{
    cJSON *arr = api__token_list(api__req_db(r));
    cJSON *o = cJSON_CreateObject();
    if (!arr || !o) {
        cJSON_Delete(arr);
        cJSON_Delete(o);
        api__reply_error(r, 500, "internal", "cannot list tokens");
        return;
    }
    cJSON_AddItemToObject(o, "items", arr);
    cJSON_AddNullToObject(o, "next");
    api__reply_json(r, 200, o);
}

void api__h_tokens_create(struct api_req *r)
{
    const char *containers[API_MAX_CONTAINERS];
    size_t n = 0;
    char secret[68], target[32];
    int64_t id = 0;
    cJSON *body = api__body_json(r);
    if (!body)
        return;
    const cJSON *it;
    cJSON_ArrayForEach(it, body)
    {
        if (strcmp(it->string, "role") && strcmp(it->string, "name") &&
            strcmp(it->string, "containers")) {
            api__reply_error(r, 400, "invalid_field", "%.64s: unknown key (role, name, containers)",
                             it->string);
            goto out;
        }
    }
    const cJSON *role_j = cJSON_GetObjectItemCaseSensitive(body, "role");
    const cJSON *name_j = cJSON_GetObjectItemCaseSensitive(body, "name");
    const cJSON *cont_j = cJSON_GetObjectItemCaseSensitive(body, "containers");
    enum api_role role = cJSON_IsString(role_j) ? api__role_parse(role_j->valuestring) : 0;
    if (!role) {
        api__reply_error(r, 400, "invalid_field",
                         "role: expected crew, coordinator, auditor or admin");
        goto out;
    }
    if (!cJSON_IsString(name_j) || !name_j->valuestring[0] ||
        !api__text_valid(name_j->valuestring, 64)) {
        api__reply_error(r, 400, "invalid_field", "name: expected 1..64 printable characters");
        goto out;
    }
    if (cont_j && !cJSON_IsNull(cont_j)) {
        if (!cJSON_IsArray(cont_j)) {
            api__reply_error(r, 400, "invalid_field", "containers: expected an array of ids");
            goto out;
        }
        cJSON_ArrayForEach(it, cont_j)
        {
            if (!cJSON_IsString(it) || !ot_id_valid(it->valuestring) || n >= API_MAX_CONTAINERS) {
                api__reply_error(r, 400, "invalid_field",
                                 "containers[%zu]: expected an id matching [A-Za-z0-9_-]{1,64} "
                                 "(at most %d)",
                                 n, API_MAX_CONTAINERS);
                goto out;
            }
            containers[n++] = it->valuestring;
        }
    }
    if (role == API_ROLE_CREW && n == 0) {
        api__reply_error(r, 400, "invalid_field", "containers: a crew token needs at least one");
        goto out;
    }
    if (role != API_ROLE_CREW && n > 0) {
        api__reply_error(r, 400, "invalid_field", "containers: only crew tokens are scoped");
        goto out;
    }
    struct api_db *d = api__req_db(r);
    if (api__db_exec(d, "BEGIN IMMEDIATE")) {
        api__reply_error(r, 503, "busy", "database busy, retry");
        goto out;
    }
    int ok = api__token_create(d, role, name_j->valuestring, containers, n, secret, &id) == OT_OK;
    cJSON *au = cJSON_CreateObject();
    if (ok && au) {
        snprintf(target, sizeof target, "token/%lld", (long long)id);
        cJSON_AddStringToObject(au, "role", api__role_name(role));
        cJSON_AddStringToObject(au, "name", name_j->valuestring);
        ok = api__audit(d, &r->who, "token.create", target, au) == OT_OK;
    }
    cJSON_Delete(au);
    if (!ok || api__db_exec(d, "COMMIT")) {
        api__db_exec(d, "ROLLBACK");
        api__reply_error(r, 500, "internal", "could not create the token");
        goto out;
    }
    cJSON *o = cJSON_CreateObject();
    if (!o) {
        api__reply_error(r, 500, "internal", "out of memory");
        goto out;
    }
    cJSON_AddNumberToObject(o, "id", (double)id);
    cJSON_AddStringToObject(o, "name", name_j->valuestring);
    cJSON_AddStringToObject(o, "role", api__role_name(role));
    cJSON *arr = cJSON_AddArrayToObject(o, "containers");
    for (size_t i = 0; arr && i < n; i++)
        cJSON_AddItemToArray(arr, cJSON_CreateString(containers[i]));
    cJSON_AddStringToObject(o, "token", secret);
    api__reply_json(r, 201, o);
out:
    cJSON_Delete(body);
}

void api__h_tokens_revoke(struct api_req *r)
{
    char target[32];
    struct api_db *d = api__req_db(r);
    if (api__db_exec(d, "BEGIN IMMEDIATE")) {
        api__reply_error(r, 503, "busy", "database busy, retry");
        return;
    }
    enum ot_err rc = api__token_revoke(d, r->path_id);
    if (rc == OT_ERR_NOTFOUND) {
        api__db_exec(d, "ROLLBACK");
        api__reply_error(r, 404, "not_found", "token %lld: no such live token",
                         (long long)r->path_id);
        return;
    }
    snprintf(target, sizeof target, "token/%lld", (long long)r->path_id);
    if (rc || api__audit(d, &r->who, "token.revoke", target, NULL) || api__db_exec(d, "COMMIT")) {
        api__db_exec(d, "ROLLBACK");
        api__reply_error(r, 500, "internal", "could not revoke the token");
        return;
    }
    cJSON *o = cJSON_CreateObject();
    if (o) {
        cJSON_AddNumberToObject(o, "id", (double)r->path_id);
        cJSON_AddBoolToObject(o, "revoked", 1);
    }
    api__reply_json(r, 200, o);
}

void api__h_static(struct api_req *r)
{
    char rel[1100], full[8192], real[4096];
    const char *root = r->ctx->web_root_real;
    if (api__static_path(r->url, rel, sizeof rel)) {
        api__reply_error(r, 404, "not_found", "%.200s: no such file", r->url);
        return;
    }
    if (!root[0]) {
        api__reply_error(r, 404, "not_found", "%.200s: the web dashboard is not built", r->url);
        return;
    }
    snprintf(full, sizeof full, "%s/%s", root, rel);
    size_t rl = strlen(root);
    /* resolve symlinks and make sure we are still below the root */
    if (!realpath(full, real) || strncmp(real, root, rl) != 0 || real[rl] != '/') {
        api__reply_error(r, 404, "not_found", "%.200s: no such file", r->url);
        return;
    }
    int fd = open(real, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        if (fd >= 0)
            close(fd);
        api__reply_error(r, 404, "not_found", "%.200s: no such file", r->url);
        return;
    }
    struct MHD_Response *resp = MHD_create_response_from_fd((size_t)sb.st_size, fd);
    if (!resp) {
        close(fd);
        api__reply_error(r, 500, "internal", "cannot serve file");
        return;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, api__content_type(rel));
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
                            strcmp(rel, "index.html") == 0 ? "no-cache" : "public, max-age=300");
    api__reply_set(r, 200, resp);
}
