/* list_cache.c - the page cache of GET /api/v1/shipments lists.
 * The coordinator screen and every crew phone poll the same first page of
 * active shipments. A rendered page is kept for at most list_cache_ms and
 * only while the newest events id is unchanged: every write through any
 * API process and every reading or alarm stored by the collector appends
 * an event, so a cached page is never older than the last change, whoever
 * made it (several APIs may serve one database). The stamp is read per
 * request (one index-end look-up); on SQLite inside the list's read
 * transaction, on PostgreSQL before the list's own read, so a page may be
 * newer than its stamp but never older. The TTL bounds the drift of
 * time-derived fields (ischaemia minutes, ETA estimate) and of the
 * collector's ETA, which it writes without an event. The key
 * is the query plus the caller's scope (crew container list or "*"); the
 * list handler (api__h_ship_list) builds it. The cache belongs to the
 * server context (struct api_ctx.list_cache). */
#include "api.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ot_time.h"

#define LIST_CACHE_SLOTS 16

struct list_cache_slot {
    char key[API_LIST_CACHE_KEY];
    char *body;
    size_t len;
    int64_t event_id;
    int64_t made_ms;
};

struct api_list_cache {
    pthread_mutex_t mu;
    struct list_cache_slot slot[LIST_CACHE_SLOTS];
};

enum ot_err api__list_cache_new(struct api_list_cache **out)
{
    struct api_list_cache *c = calloc(1, sizeof *c);
    *out = NULL;
    if (!c)
        return OT_ERR_NOMEM;
    if (pthread_mutex_init(&c->mu, NULL)) {
        free(c);
        return OT_ERR_NOMEM;
    }
    *out = c;
    return OT_OK;
}

void api__list_cache_free(struct api_list_cache *c)
{
    if (!c)
        return;
    for (int i = 0; i < LIST_CACHE_SLOTS; i++)
        free(c->slot[i].body);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

int64_t api__list_cache_stamp(struct api_db *d)
{
    int64_t id = -1;
    int row = 0;
    struct ot_sql_stmt *st = api__stmt(d, ST_EVENTS_MAX_ID);
    if (st && !ot_sql_step(st, &row) && row)
        id = ot_sql_int64(st, 0);
    if (st)
        ot_sql_reset(st);
    return id;
}

int api__list_cache_get(struct api_req *r, const char *key, int64_t event_id)
{
    struct api_list_cache *c = r->ctx->list_cache;
    int64_t ttl = r->ctx->cfg.list_cache_ms, now = ot_time_mono_ms();
    if (!c || ttl <= 0 || event_id < 0)
        return 0;
    pthread_mutex_lock(&c->mu);
    for (int i = 0; i < LIST_CACHE_SLOTS; i++) {
        struct list_cache_slot *sl = &c->slot[i];
        if (sl->body && sl->event_id == event_id && now - sl->made_ms < ttl &&
            strcmp(sl->key, key) == 0) {
            api__reply_bytes(r, 200, "application/json", sl->body, sl->len, NULL);
            pthread_mutex_unlock(&c->mu);
            return 1;
        }
    }
    pthread_mutex_unlock(&c->mu);
    return 0;
}

void api__list_cache_put(struct api_req *r, const char *key, int64_t event_id, const char *body,
                         size_t len)
{
    struct api_list_cache *c = r->ctx->list_cache;
    if (!c || r->ctx->cfg.list_cache_ms <= 0 || event_id < 0)
        return;
    char *copy = malloc(len);
    if (!copy)
        return;
    memcpy(copy, body, len);
    pthread_mutex_lock(&c->mu);
    struct list_cache_slot *victim = &c->slot[0];
    for (int i = 0; i < LIST_CACHE_SLOTS; i++) {
        struct list_cache_slot *sl = &c->slot[i];
        if (sl->body && strcmp(sl->key, key) == 0) {
            victim = sl;
            break;
        }
        if (!sl->body || sl->made_ms < victim->made_ms)
            victim = sl;
    }
    free(victim->body);
    snprintf(victim->key, sizeof victim->key, "%s", key);
    victim->body = copy;
    victim->len = len;
    victim->event_id = event_id;
    victim->made_ms = ot_time_mono_ms();
    pthread_mutex_unlock(&c->mu);
}
