/* publish_int.h - what publish.c (the MQTT link) and sender.c (batches from
 * the spool) share. Nothing else includes it. */
#ifndef GW_PUBLISH_INT_H
#define GW_PUBLISH_INT_H

#include "gateway.h"

#define PUB_LIMITS_MAX 2048 /* bytes of a limits payload handed to the main loop */

struct gw_pub {
    const struct gw_config *cfg;
    struct spool *spool;
    MQTTAsync client;
    char t_readings[OT_TOPIC_MAX], t_state[OT_TOPIC_MAX], t_ack[OT_TOPIC_MAX],
        t_limits[OT_TOPIC_MAX];
    pthread_mutex_t mu;
    /* under mu: written by Paho's thread */
    int ev_connected, ev_failed, ev_lost, fail_code;
    int64_t ack_in;
    int64_t ack_rejected;
    int64_t ack_beyond; /* last ack for a seq this gateway never issued, 0 if none */
    int64_t issued;     /* next seq of the spool, refreshed by the main loop */
    int inflight;
    int blocked; /* the sender waits for a completion or an ack */
    uintptr_t gen;
    int limits_new; /* a limits message waits in limits_buf */
    size_t limits_len;
    char limits_buf[PUB_LIMITS_MAX];
    int limits_since_sub;  /* a retained limits message came after the last subscribe */
    int retained_ack_seen; /* the retained ack after the last subscribe came */
    /* main loop only */
    int up, connecting, radio_off;
    int64_t retry_at, backoff;
    char will[2048];
    MQTTAsync_willOptions will_opts;
    MQTTAsync_SSLOptions ssl;
    struct spool_cursor cur;
    int64_t last_progress;
    int ack_warned;
    struct ot_seq_range declared[SPOOL_LOST_MAX];
    size_t ndeclared;
    int64_t sent_total;
    int state_dirty;
    int64_t state_mono;
    int blocked_seen; /* main loop's copy of blocked */
};

extern struct gw_pub *pub__the; /* Paho callbacks find it here (one per process) */

/* sender.c: the main loop's half of publishing readings */

/* Rewinds the cursor to ack + 1: everything not covered is sent again. */
void sender__rewind(struct gw_pub *p, int64_t now);
/* Moves the spool's floor to ack (the collector's). */
void sender__ack(struct gw_pub *p, int64_t ack, int64_t now);
/* Resends from ack + 1 when the ack has not moved for ack_timeout_ms. */
void sender__check_stall(struct gw_pub *p, int64_t now);
/* Publishes batches while the window (inflight_max batches, inflight_max x
 * batch_max readings ahead of the ack) allows. */
void sender__send(struct gw_pub *p, int64_t now);
/* Paho's completion of a readings publish (any thread). */
void sender__done(struct gw_pub *p, uintptr_t gen);

#endif
