/* token_cache.c - the principals of recently seen bearer tokens, so that a
 * request whose token was checked a moment ago needs no token lookup. Used
 * only while the change listener (notify.c) listens: an entry is made at
 * the token state read before its lookup (api__notify_state) and is used
 * only while that state is unchanged and odd, so any change of tokens
 * committed anywhere (a revocation through another process, the
 * `organtrack-api token` command) drops every entry once its notification
 * arrives, a change through this process drops them at its commit, and
 * nothing survives a gap in listening. Keyed by the SHA-256 of the whole
 * Authorization value (never the secret itself; no comparison runs over
 * it), at most TOKEN_CACHE_SLOTS entries, each at most TOKEN_CACHE_MAX_MS
 * old. */
#include "api.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ot_crypto.h"
#include "ot_time.h"

#define TOKEN_CACHE_SLOTS 64
#define TOKEN_CACHE_MAX_MS 60000
#define TOKEN_CACHE_MAX_AUTHZ 300

struct token_slot {
    char key[OT_SHA256_HEX_LEN + 1];
    int64_t state;
    int64_t made_ms;
    struct api_principal who;
};

struct api_token_cache {
    pthread_mutex_t mu;
    struct token_slot slot[TOKEN_CACHE_SLOTS];
};

enum ot_err api__token_cache_new(struct api_token_cache **out)
{
    struct api_token_cache *c = calloc(1, sizeof *c);
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

void api__token_cache_free(struct api_token_cache *c)
{
    if (!c)
        return;
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static int cache_key(const char *authz, char key[OT_SHA256_HEX_LEN + 1])
{
    size_t n = authz ? strlen(authz) : 0;
    return n == 0 || n > TOKEN_CACHE_MAX_AUTHZ || ot_sha256_hex(authz, n, key) ? -1 : 0;
}

int api__token_cache_get(struct api_token_cache *c, const char *authz, int64_t state,
                         struct api_principal *who)
{
    char key[OT_SHA256_HEX_LEN + 1];
    int hit = 0;
    if (!c || !(state & 1) || cache_key(authz, key))
        return 0;
    int64_t now = ot_time_mono_ms();
    pthread_mutex_lock(&c->mu);
    for (int i = 0; i < TOKEN_CACHE_SLOTS && !hit; i++) {
        struct token_slot *sl = &c->slot[i];
        if (sl->state == state && now - sl->made_ms < TOKEN_CACHE_MAX_MS &&
            memcmp(sl->key, key, sizeof key) == 0) {
            *who = sl->who;
            hit = 1;
        }
    }
    pthread_mutex_unlock(&c->mu);
    return hit;
}

void api__token_cache_put(struct api_token_cache *c, const char *authz, int64_t state,
                          const struct api_principal *who)
{
    char key[OT_SHA256_HEX_LEN + 1];
    if (!c || !(state & 1) || cache_key(authz, key))
        return;
    pthread_mutex_lock(&c->mu);
    struct token_slot *victim = &c->slot[0];
    for (int i = 0; i < TOKEN_CACHE_SLOTS; i++) {
        struct token_slot *sl = &c->slot[i];
        if (sl->state != state) { /* stale or empty: reuse */
            victim = sl;
            break;
        }
        if (memcmp(sl->key, key, sizeof key) == 0) {
            victim = sl;
            break;
        }
        if (sl->made_ms < victim->made_ms)
            victim = sl;
    }
    memcpy(victim->key, key, sizeof key);
    victim->state = state;
    victim->made_ms = ot_time_mono_ms();
    victim->who = *who;
    pthread_mutex_unlock(&c->mu);
}
