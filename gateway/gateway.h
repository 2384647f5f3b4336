/* gateway.h - what the gateway's files share: configuration, devices, the
 * poller, the publisher and the status file. Names are module__verb. */
#ifndef GW_GATEWAY_H
#define GW_GATEWAY_H

#include <modbus.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>

#include "ot_conf.h"
#include "ot_err.h"
#include "ot_mqtt.h"
#include "ot_profile.h"
#include "ot_reading.h"
#include "spool.h"

#define GW_DEVICES_MAX 16
#define GW_ERROR_MAX 128

/* ---- config.c ---- */

struct gw_device_conf {
    const char *name;
    const char *url;
    int64_t unit, timeout_ms;
    int64_t stuck_after_s; /* report a channel whose value has not changed this long (0 = off) */
    struct ot_profile profile;
    /* output name of each profile channel after the "channels" rename map */
    char out_name[OT_PROFILE_MAX_CHANNELS][OT_CHANNEL_NAME_MAX + 1];
    int is_rtu;
    char host[128];
    int port;
    char tty[128];
    int baud, data_bits, stop_bits;
    char parity;
};

struct gw_config {
    struct ot_conf conf; /* owns the tree the strings point into */
    const char *container, *gateway;
    struct ot_mqtt_conf mqtt;
    int64_t poll_interval_ms, ack_timeout_ms, batch_max, inflight_max;
    const char *spool_dir;
    int64_t max_mb, segment_kb, sync_ms;
    const char *profile_dir;
    const char *log_level; /* "" when not set */
    size_t n_dev;
    struct gw_device_conf dev[GW_DEVICES_MAX];
};

/* Loads and validates; on failure c->conf.err says file, key and why. */
enum ot_err config__load(struct gw_config *c, const char *file);
void config__free(struct gw_config *c);
/* Parses a device url (tcp://host:port or rtu:/dev/tty?baud=..). 0 on success. */
int config__parse_url(struct gw_device_conf *d, const char *url, char *err, size_t errlen);

/* ---- wake.c: the main loop sleeps here; threads and callbacks wake it ---- */

void wake__signal(void);
void wake__wait(int64_t ms);

/* ---- device.c: one Modbus device (owned by its poll thread) ---- */

struct gw_group {
    enum ot_reg_function fn;
    uint16_t addr, count;
    size_t n;
    size_t ch[OT_PROFILE_MAX_CHANNELS]; /* profile channel indexes */
};

struct gw_device {
    const struct gw_device_conf *conf;
    modbus_t *ctx;
    int connected;
    int64_t backoff_ms, retry_at_mono;
    size_t ngroups;
    struct gw_group groups[OT_PROFILE_MAX_CHANNELS];
    size_t noutputs;
    size_t outputs[OT_PROFILE_MAX_CHANNELS]; /* profile channels marked "output":"alarm" */
};

struct gw_dev_result {
    int ok[OT_PROFILE_MAX_CHANNELS];
    double val[OT_PROFILE_MAX_CHANNELS];
    int failed;               /* groups that failed this cycle */
    int skipped;              /* in reconnect backoff: nothing tried */
    char error[GW_ERROR_MAX]; /* first error of the cycle */
};

void device__init(struct gw_device *d, const struct gw_device_conf *conf);
/* Reads every group; never blocks longer than about timeout_ms per group. */
void device__poll(struct gw_device *d, struct gw_dev_result *res);
void device__close(struct gw_device *d);

/* ---- poll.c: a thread per device, cycles triggered by the main loop ---- */

struct gw_health {
    int ok;
    int64_t errors; /* consecutive failed cycles */
    int64_t total_errors;
    char error[GW_ERROR_MAX];
    int64_t since_ms; /* wall clock of the last ok/failed flip */
    uint32_t stuck;   /* bit k: profile channel k unchanged for stuck_after_s */
};

struct gw_poller;

enum ot_err poll__start(struct gw_poller **out, const struct gw_config *cfg);
void poll__stop(struct gw_poller *p); /* accepts NULL */
/* Starts cycle N (returned) on every device thread that is idle. */
uint64_t poll__trigger(struct gw_poller *p);
int poll__all_done(struct gw_poller *p, uint64_t cycle);
/* Builds the reading of a cycle: channels read in it, canonical channels
 * not read listed in missing (temp_c always present or missing). */
void poll__collect(struct gw_poller *p, uint64_t cycle, struct ot_reading *r);
/* Copies device health; returns 1 if any device flipped since last call. */
int poll__health(struct gw_poller *p, struct gw_health *out, size_t max, size_t *n);

/* ---- publish.c: MQTT (Paho async) and the sender ---- */

struct gw_pub;

enum ot_err pub__create(struct gw_pub **out, const struct gw_config *cfg, struct spool *spool);
/* Publishes the offline state when connected, disconnects; accepts NULL. */
void pub__destroy(struct gw_pub *p, const struct gw_health *h, size_t nh);
/* One step of the main loop: connection, events, acks, resends, sends. */
void pub__step(struct gw_pub *p, const struct gw_health *h, size_t nh, int health_changed);
int pub__link_up(const struct gw_pub *p);
int64_t pub__sent_total(const struct gw_pub *p);

/* ---- status.c ---- */

struct gw_status {
    int link_up;
    int stopped; /* final write of a clean stop */
    struct spool_stats spool;
    int64_t oldest_unacked_ts; /* 0 if none */
    int64_t readings_total;
    const struct ot_reading *last;
    const struct gw_health *health;
    size_t nhealth;
    const struct gw_config *cfg;
};

enum ot_err status__write(const char *dir, const struct gw_status *st);
/* `organtrack-gateway status`: prints the status file of cfg; exit code. */
int status__print(const struct gw_config *cfg);
/* Appends the devices health array to a cJSON object (state and status). */
struct cJSON;
int status__add_devices(struct cJSON *obj, const struct gw_config *cfg, const struct gw_health *h,
                        size_t n);

#endif
