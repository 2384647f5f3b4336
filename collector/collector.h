/* collector.h - internals of organtrack-collector shared across its files
 * (module__verb names). Threads (docs/internals/collector.md):
 *   - Paho's callback thread copies each message into the bounded queue;
 *   - the worker thread (worker.c with store.c, delivery.c, alarms.c; its
 *     state in ingest.h) owns the database connection, the rules and the
 *     alarms;
 *   - the InfluxDB writer thread (influx.c) and the webhook thread
 *     (webhook.c) take work from the worker through their own bounded queues.
 * Nothing else is shared. */
#ifndef COLLECTOR_H
#define COLLECTOR_H

#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "ot_conf.h"
#include "ot_err.h"
#include "ot_mqtt.h"
#include "ot_reading.h"

#define COLLECTOR_WEBHOOKS_MAX 8
#define COLLECTOR_INSTANCE_MAX 64

struct collector_webhook {
    const char *url;
    int on_alarm;    /* event kind "alarm": alarm changes */
    int on_progress; /* event kind "progress": departed, at_airport, ... (not alarms) */
};

struct collector_conf {
    struct ot_conf conf; /* owns the tree the strings point into */
    struct ot_mqtt_conf mqtt;
    const char *instance;                          /* this collector's name: an MQTT topic level */
    char instance_buf[COLLECTOR_INSTANCE_MAX + 1]; /* the host name by default */
    const char *database;
    const char *preservation; /* "" = no rules */
    int64_t late_after_s;
    int64_t clock_skew_max_s; /* a reading further ahead of its receive time is flagged */
    int64_t baseline_wait_s;  /* first contact without a state message */
    int64_t queue_max;        /* messages in the ingest queue */
    int64_t queue_max_mb;     /* bytes in the ingest queue */
    int64_t batch_max;        /* messages per transaction */
    int64_t tick_ms;          /* rules tick period */
    int64_t eta_every_s;
    int64_t events_keep_h;    /* age of the SSE change feed kept in table events */
    int64_t ack_poll_ms;      /* poll for API acknowledgements */
    int64_t flight_overdue_s; /* flight mode silence past the planned landing that alarms */
    int64_t flight_max_s;     /* the same without a planned air leg, from entering flight */
    const char *log_level;
    /* influxdb (enabled when url set) */
    int influx_on;
    const char *influx_url, *influx_db, *influx_token, *influx_org, *influx_bucket;
    const char *influx_spool_dir; /* "" = "<database>.influx-spool" */
    int64_t influx_spool_max_mb;
    int64_t influx_batch_lines;
    int64_t influx_flush_ms;
    int64_t influx_timeout_ms;
    /* webhooks */
    size_t n_webhooks;
    struct collector_webhook webhooks[COLLECTOR_WEBHOOKS_MAX];
    int64_t webhook_queue_max;
    int64_t webhook_retries;
    int64_t webhook_timeout_ms;
};

/* config.c */
enum ot_err config__load(struct collector_conf *cc, const char *file);
void config__free(struct collector_conf *cc);
/* A valid instance name: [A-Za-z0-9._-]{1,64} (an MQTT topic level, no
 * wildcard or separator, and safe in logs and JSON). */
int config__instance_valid(const char *s);

/* queue.c: bounded FIFO of received MQTT messages (many producers, one consumer) */
struct queue_msg {
    char topic[OT_TOPIC_MAX];
    char *payload; /* owned, NUL-terminated, may be NULL for an empty payload */
    size_t len;    /* original length (payload holds at most OT_BATCH_MAX_BYTES+1) */
    int64_t received_at;
};
struct queue;
struct queue *queue__new(size_t max_msgs, size_t max_bytes);
void queue__free(struct queue *q);
/* Copies the message in; waits up to wait_ms for room. OT_ERR_FULL if none. */
enum ot_err queue__push(struct queue *q, const char *topic, const void *payload, size_t len,
                        int64_t wait_ms);
/* Takes up to max messages (waits up to wait_ms for the first). Caller frees
 * each payload with queue__msg_free. Returns the number taken. */
size_t queue__pop(struct queue *q, struct queue_msg *out, size_t max, int64_t wait_ms);
void queue__msg_free(struct queue_msg *m);
/* Wakes a waiting consumer. */
void queue__kick(struct queue *q);
size_t queue__length(struct queue *q);

/* seqset.c: sorted disjoint seq ranges above a container's ack */
struct seqset {
    struct ot_seq_range *r;
    size_t n, cap;
};
enum ot_err seqset__add(struct seqset *s, int64_t from, int64_t to);
/* Advances *ack while the lowest range starts at or below *ack+1, dropping
 * the ranges it covers. Returns 1 if *ack moved. */
int seqset__advance(struct seqset *s, int64_t *ack);
/* Drops everything <= ack (the ack was moved up from outside). */
void seqset__drop_upto(struct seqset *s, int64_t ack);
void seqset__clear(struct seqset *s);
void seqset__free(struct seqset *s);

/* mqtt.c */
struct mqtt;
/* Connects under the shared client id (the active collector only). */
enum ot_err mqtt__start(const struct collector_conf *cc, struct queue *q, struct mqtt **out);
/* Disconnects and frees; at_once: without waiting for messages in flight. */
void mqtt__stop(struct mqtt *m, int at_once);
/* Publishes retained QoS 1; OT_ERR_MQTT if not connected. Thread-safe. */
enum ot_err mqtt__publish_retained(struct mqtt *m, const char *topic, const char *payload,
                                   size_t len);
/* Worker housekeeping, between committed batches: (re)connects after a
 * failed connect or a lost connection, with back-off 1 s doubling to 8 s. */
void mqtt__tick(struct mqtt *m);
/* Would mqtt__tick connect now? (The worker first checks that its database
 * session, and so the standby lock, is still there.) */
int mqtt__reconnect_due(struct mqtt *m);
/* Returns 1 once after each (re)connection: the caller republishes state. */
int mqtt__take_reconnected(struct mqtt *m);
int mqtt__connected(struct mqtt *m);

/* influx.c: writer thread; lines are handed over, never block ingest */
struct influx;
enum ot_err influx__start(const struct collector_conf *cc, struct influx **out);
void influx__stop(struct influx *ix);
/* Appends complete line-protocol lines (ending in \n). Never blocks on the
 * network; if the in-memory buffer is full the writer spools it. */
void influx__submit(struct influx *ix, const char *lines, size_t len);
/* Counter deltas since last call (for the counters table). */
void influx__take_counts(struct influx *ix, int64_t *written, int64_t *dropped, int64_t *failures);

/* webhook.c */
struct webhook;
enum ot_err webhook__start(const struct collector_conf *cc, struct webhook **out);
void webhook__stop(struct webhook *w);
/* Queues one JSON body for every hook subscribed to `event` ("alarm",
 * "progress"); copies body. */
void webhook__submit(struct webhook *w, const char *event, const char *body);
void webhook__take_counts(struct webhook *w, int64_t *sent, int64_t *dropped);

/* worker.c: the worker (its state, struct ingest, in ingest.h) */
struct ingest;
struct ot_sql;
/* Opens (and migrates) the database, prepares, loads the delivery state. */
enum ot_err worker__open(const struct collector_conf *cc, struct mqtt *m, struct influx *ix,
                         struct webhook *wh, struct ingest **out);
/* MQTT client for acks and alarm lists (NULL: publish nothing). */
void worker__set_mqtt(struct ingest *in, struct mqtt *m);
/* The worker's own connection (its session holds the standby lock). */
struct ot_sql *worker__sql(struct ingest *in);
enum worker_end {
    WORKER_STOPPED, /* *stop was set: the queue is drained */
    WORKER_LOST     /* the database connection is gone: the batch in hand is kept */
};
/* Runs until *stop is set (then drains what is queued) or the connection
 * is lost. */
enum worker_end worker__run(struct ingest *in, struct queue *q, volatile sig_atomic_t *stop);
/* After WORKER_LOST: connects again (libpq tries every host); the delivery
 * state is reloaded before the next batch, which replays the one in hand. */
enum ot_err worker__reconnect(struct ingest *in);
/* Becoming the active collector: reloads the delivery state and, unless
 * keep_rules (nobody else was active since this process last was), forgets
 * the rules state: it is read again from the database's open alarms. */
enum ot_err worker__activate(struct ingest *in, int keep_rules);
/* Becoming a standby: drops the batch in hand and what is queued (none of
 * it was acknowledged; the gateways resend it to the active one). */
void worker__discard(struct ingest *in, struct queue *q);
void worker__close(struct ingest *in);

/* status.c: the retained {root}/collectors/{instance}/state over a status
 * connection of its own (client id {client_id}-status-{instance}, last
 * will active:false); it also follows the other collectors' states. */
struct status;
enum ot_err status__start(const struct collector_conf *cc, struct status **out);
/* Says active or not (retained, now and after every reconnect). */
void status__set(struct status *s, int active);
/* Retries a failed first connect with back-off (call it now and then). */
void status__tick(struct status *s);
/* The instance another collector says is active: 1 and buf, or 0. */
int status__active_peer(struct status *s, char *buf, size_t cap);
/* Says active:false, disconnects, frees. */
void status__stop(struct status *s);

/* role.c: active or standing by (PostgreSQL advisory lock; SQLite: one
 * collector per file). */
/* SQLite: takes the exclusive lock file beside the database (-1: another
 * collector holds it, or it cannot be made: logged). Returns the fd to keep
 * open, or -2 for PostgreSQL (nothing to hold). */
int role__exclusive(const struct collector_conf *cc);
/* Until *stop: tries the lock, stands by, or is active (the main MQTT
 * connection, the worker), and reconnects to the database when lost. */
enum ot_err role__run(const struct collector_conf *cc, struct queue *q, struct ingest *in,
                      struct status *st, volatile sig_atomic_t *stop);

#endif
