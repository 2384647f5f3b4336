/* notify.c - the change listener (PostgreSQL): one connection per API
 * process that LISTENs on organtrack_changes (triggers of migration 0004
 * notify 'events' after a statement adds events, 'tokens' after any change
 * of tokens), watched by one thread. It keeps two cache states, one for
 * the shipment list's page cache and one for the token cache
 * (token_cache.c): a 64-bit counter whose low bit says "the listener is
 * connected and listening". A notification adds 2 to its state; losing the
 * connection, or a ping left unanswered, clears the bit (and moves the
 * counter); listening again moves the counter and sets the bit. So an
 * entry made at state S is used only while the state is still S and odd:
 * nothing made before a gap in listening is ever trusted after it, and
 * while the bit is clear the caches fall back to the per-request check
 * (token lookup with max(events.id)). A write committed through this
 * process moves both states at once (api__notify_changed), without waiting
 * for its own notification. SQLite: no listener, the states stay 0 (even),
 * every request checks the database as before. */
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ot_log.h"
#include "ot_time.h"

#define NOTIFY_CHANNEL "organtrack_changes"
#define NOTIFY_WAIT_MS 200       /* one wait: also how soon the thread sees stop */
#define NOTIFY_IDLE_PING_MS 1000 /* ping after this long without traffic */
#define NOTIFY_PING_TIMEOUT_MS 1000
#define NOTIFY_RETRY_MAX_MS 5000

struct api_notify {
    int64_t state[2]; /* API_NOTIFY_EVENTS, API_NOTIFY_TOKENS (atomic) */
    int stop;         /* atomic */
    pthread_t th;
    int started;
    char database[512];
    struct ot_sql *sql;
};

int64_t api__notify_state(const struct api_ctx *ctx, enum api_notify_what w)
{
    return ctx->notify ? __atomic_load_n(&ctx->notify->state[w], __ATOMIC_ACQUIRE) : 0;
}

void api__notify_changed(struct api_ctx *ctx)
{
    if (!ctx->notify)
        return;
    for (int w = 0; w < 2; w++) /* +2 keeps the listening bit as it is */
        __atomic_add_fetch(&ctx->notify->state[w], 2, __ATOMIC_ACQ_REL);
}

static void bump(struct api_notify *n, int w)
{
    __atomic_add_fetch(&n->state[w], 2, __ATOMIC_ACQ_REL);
}

/* Moves both counters on and sets or clears the listening bit. */
static void set_listening(struct api_notify *n, int on)
{
    for (int w = 0; w < 2; w++) {
        int64_t old = __atomic_load_n(&n->state[w], __ATOMIC_ACQUIRE), next;
        do
            next = (((old >> 1) + 1) << 1) | (on ? 1 : 0);
        while (!__atomic_compare_exchange_n(&n->state[w], &old, next, 0, __ATOMIC_ACQ_REL,
                                            __ATOMIC_ACQUIRE));
    }
}

static int stopping(struct api_notify *n)
{
    return __atomic_load_n(&n->stop, __ATOMIC_ACQUIRE);
}

static void nap_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Connects (or reconnects) and LISTENs; OT_OK when listening. */
static enum ot_err subscribe(struct api_notify *n)
{
    enum ot_err rc = n->sql ? ot_sql_reconnect(n->sql) : ot_sql_open(n->database, &n->sql);
    if (!rc)
        rc = ot_sql_listen(n->sql, NOTIFY_CHANNEL);
    return rc;
}

static void *listener(void *arg)
{
    struct api_notify *n = arg;
    int listening = 0, retry_ms = 0, warned = 0;
    int64_t next_try = 0, last_io = 0;
    char payload[64];
    while (!stopping(n)) {
        int64_t now = ot_time_mono_ms();
        if (!listening) {
            if (now < next_try) {
                nap_ms(NOTIFY_WAIT_MS);
                continue;
            }
            if (subscribe(n)) {
                retry_ms = retry_ms ? retry_ms * 2 : 500;
                if (retry_ms > NOTIFY_RETRY_MAX_MS)
                    retry_ms = NOTIFY_RETRY_MAX_MS;
                next_try = ot_time_mono_ms() + retry_ms;
                continue;
            }
            /* from here on every committed change is notified to us: what
             * the caches hold from before is dropped by the state change */
            set_listening(n, 1);
            listening = 1;
            retry_ms = warned = 0;
            last_io = ot_time_mono_ms();
            ot_info("change listener is listening channel=" NOTIFY_CHANNEL " database=%s",
                    ot_sql_name(n->sql));
            continue;
        }
        int got = 0;
        enum ot_err rc = ot_sql_wait_notify(n->sql, NOTIFY_WAIT_MS, payload, sizeof payload, &got);
        now = ot_time_mono_ms();
        if (!rc && got) {
            last_io = now;
            if (strcmp(payload, "events") == 0)
                bump(n, API_NOTIFY_EVENTS);
            else if (strcmp(payload, "tokens") == 0)
                bump(n, API_NOTIFY_TOKENS);
            else {
                bump(n, API_NOTIFY_EVENTS); /* unknown: drop both */
                bump(n, API_NOTIFY_TOKENS);
            }
            continue;
        }
        if (!rc && now - last_io >= NOTIFY_IDLE_PING_MS) {
            /* a silent network cut shows no error: an unanswered ping does */
            rc = ot_sql_ping(n->sql, NOTIFY_PING_TIMEOUT_MS);
            last_io = ot_time_mono_ms();
        }
        if (rc) {
            set_listening(n, 0);
            listening = 0;
            next_try = 0; /* first retry at once, then backing off */
            if (!warned)
                ot_warn("change listener lost its connection; requests check the database "
                        "until it listens again database=%s error=\"%s\"",
                        ot_sql_name(n->sql), ot_strerror(rc));
            warned = 1;
        }
    }
    return NULL;
}

enum ot_err api__notify_start(struct api_ctx *ctx)
{
    if (!ot_sql_is_uri(ctx->cfg.database))
        return OT_OK; /* SQLite: every request checks the database (cheap there) */
    struct api_notify *n = calloc(1, sizeof *n);
    if (!n)
        return OT_ERR_NOMEM;
    snprintf(n->database, sizeof n->database, "%s", ctx->cfg.database);
    if (pthread_create(&n->th, NULL, listener, n)) {
        free(n);
        return OT_ERR_NOMEM;
    }
    n->started = 1;
    ctx->notify = n;
    return OT_OK;
}

void api__notify_stop(struct api_ctx *ctx)
{
    struct api_notify *n = ctx->notify;
    if (!n)
        return;
    __atomic_store_n(&n->stop, 1, __ATOMIC_RELEASE);
    if (n->started)
        pthread_join(n->th, NULL);
    ctx->notify = NULL;
    ot_sql_close(n->sql);
    free(n);
}
