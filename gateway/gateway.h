/* gateway.h - what the gateway's files share: configuration, devices, the
 * poller, the local alarm, flight mode, the MQTT link and sender, and the
 * status. Names are module__verb. */
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

/* A wall clock before this (2025-01-01T00:00:00Z, safely before this
 * release was built; `make test-clock` moves clocks 375 days back) is known
 * to be unset (dead RTC, no time sync yet): no reading is stamped with it,
 * and the state says "clock_ok":false. */
#define GW_CLOCK_MIN_MS INT64_C(1735689600000)
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

enum gw_flight_detect { GW_FLIGHT_OFF = 0, GW_FLIGHT_AUTO, GW_FLIGHT_INPUT };

struct gw_flight_conf {
    enum gw_flight_detect detect;
    double alt_m_above;     /* auto: airborne above this altitude (m); 0 = not used */
    double speed_kmh_above; /* auto: airborne above this speed (km/h); 0 = not used */
    int64_t air_s;          /* auto: airborne this long before flight mode starts */
    int64_t ground_s;       /* auto: on the ground this long before it ends */
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
    struct gw_flight_conf flight;
    size_t n_dev;
    struct gw_device_conf *dev; /* n_dev entries, owned (config__free) */
};

/* Loads and validates; on failure c->conf.err says file, key and why.
 * config__free always. */
enum ot_err config__load(struct gw_config *c, const char *file);
void config__free(struct gw_config *c);
/* Parses a device url (tcp://host:port or rtu:/dev/tty?baud=..). 0 on success. */
int config__parse_url(struct gw_device_conf *d, const char *url, char *err, size_t errlen);

/* ---- wake.c: the main loop sleeps here; threads and callbacks wake it ---- */

enum ot_err wake__init(void);
void wake__signal(void);
/* Sleeps until woken, fd (if >= 0) is readable, or ms pass. 1: fd readable. */
int wake__wait(int64_t ms, int fd);

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
/* Writes value (0/1) to every alarm output coil (function 05). 0 on success,
 * -1 with err set (not connected, timeout, exception). */
int device__write_outputs(struct gw_device *d, int value, char *err, size_t errlen);
void device__close(struct gw_device *d);

/* ---- poll.c: a thread per device, each on the shared cycle clock ---- */

struct gw_health {
    int ok;
    int64_t errors; /* consecutive failed cycles */
    int64_t total_errors;
    char error[GW_ERROR_MAX];
    int64_t since_ms; /* wall clock of the last ok/failed flip */
    uint32_t stuck;   /* bit k: profile channel k unchanged for stuck_after_s */
    /* alarm outputs (devices whose profile has one) */
    int has_output;
    int output;                      /* value last written: -1 never, 0, 1 */
    int output_failing;              /* the last write failed (retried every cycle) */
    char output_error[GW_ERROR_MAX]; /* why */
};

struct gw_poller;

/* Starts one thread per device; cycle k starts at t0_mono + k * interval. */
enum ot_err poll__start(struct gw_poller **out, const struct gw_config *cfg, int64_t t0_mono);
void poll__stop(struct gw_poller *p); /* accepts NULL */
/* The cycle to collect next and the mono time by which it is collected even
 * if a device has not answered (90 % of the interval). */
uint64_t poll__cycle(const struct gw_poller *p, int64_t *deadline_mono);
/* 1 when cycle may be collected now: every device answered, or now is past
 * its deadline. */
int poll__ready(struct gw_poller *p, uint64_t cycle, int64_t now_mono);
/* Builds the reading of a cycle (ts: when it started): channels read in it,
 * canonical channels not read listed in missing (temp_c always present or
 * missing). Moves on to the next cycle (skipping any the loop missed). */
void poll__collect(struct gw_poller *p, uint64_t cycle, struct ot_reading *r);
/* Copies device health; returns 1 if any device flipped since last call. */
int poll__health(struct gw_poller *p, struct gw_health *out, size_t max, size_t *n);
/* What the alarm outputs should show: -1 leave alone (never written), 0, 1.
 * Each device thread writes it before its next read, and again every cycle
 * until a write succeeds. */
void poll__set_output(struct gw_poller *p, int value);

/* ---- limits.c: the preservation band the collector publishes ---- */

struct gw_limits {
    int set; /* 0: none (never received, or cleared) */
    char shipment[OT_ID_MAX + 1];
    char profile[33];
    double temp_min_c, temp_max_c;
    int64_t grace_s;
    int64_t ts; /* the collector's, epoch ms */
};

/* Parses a retained limits payload for container (SPEC v1.1); an empty
 * payload clears (out->set = 0). 0 on success, -1 with err set. */
int limits__parse(const char *buf, size_t len, const char *container, struct gw_limits *out,
                  char *err, size_t errlen);
/* Keeps l in <dir>/limits.json durably (l->set = 0 removes it). */
enum ot_err limits__save(const char *dir, const char *container, const struct gw_limits *l);
/* Loads what limits__save kept; none is OT_OK with out->set = 0. */
enum ot_err limits__load(const char *dir, const char *container, struct gw_limits *out);
int limits__same(const struct gw_limits *a, const struct gw_limits *b);

/* ---- alarm.c: the local alarm, judged on every reading ---- */

struct gw_alarm {
    int on;
    int driven;             /* the outputs were ever given a value in this run */
    int64_t out_since_mono; /* first out-of-band reading of this excursion, 0: in band */
    int64_t out_since_ms;   /* the same, wall clock */
    int64_t since_ms;       /* wall clock of the last on/off flip */
    double temp_c;          /* last product temperature judged */
    int have_temp;
};

/* Judges r (sampled at mono ms) against l. Returns 1 when `on` flipped. */
int alarm__judge(struct gw_alarm *a, const struct gw_limits *l, const struct ot_reading *r,
                 int64_t mono);
/* What the outputs should show: 1 on, 0 in band (or limits cleared after
 * being known), -1 leave them as they are (no limits ever known in this
 * run, not judged yet, or out of band within the grace). */
int alarm__output(const struct gw_alarm *a, const struct gw_limits *l);

/* ---- flight.c: flight mode (radio silent in the air) ---- */

struct gw_flight {
    int in_flight;
    int64_t since_ms;  /* wall clock of the last flip (0: never) */
    int64_t cand_mono; /* since when the opposite state has held (0: it does not) */
    char why[128];     /* what the last flip saw, for logs and status */
};

/* Judges r (sampled at mono ms). Returns 1 when in_flight flipped. */
int flight__judge(struct gw_flight *f, const struct gw_flight_conf *c, const struct ot_reading *r,
                  int64_t mono);
/* Keeps the state in <dir>/flight.json (a gateway restarted in the air stays
 * silent). */
enum ot_err flight__save(const char *dir, const struct gw_flight *f);
enum ot_err flight__load(const char *dir, struct gw_flight *f);

/* ---- publish.c: MQTT (Paho async): connection, subscriptions, state ---- */

struct gw_pub;

/* What the retained state carries beside the SPEC keys. */
struct gw_state_info {
    const struct gw_health *health;
    size_t nhealth;
    int local_alarm;
    int flight;
};

enum ot_err pub__create(struct gw_pub **out, const struct gw_config *cfg, struct spool *spool);
/* Publishes the offline state when connected, disconnects; accepts NULL. */
void pub__destroy(struct gw_pub *p, const struct gw_state_info *si);
/* One step of the main loop: connection, events, acks, resends, sends. */
void pub__step(struct gw_pub *p, const struct gw_state_info *si, int state_changed);
/* Mono ms by which pub__step wants to run again (reconnect, ack stall). */
int64_t pub__next_timer(const struct gw_pub *p);
/* Radio off (flight): publishes the retained state online:false flight:true,
 * then disconnects, and stays off. Radio on: connects again. */
void pub__set_radio(struct gw_pub *p, int on, const struct gw_state_info *si);
/* A limits message that arrived since the last call: 1 and *out (payload
 * copied, len 0 = clear). */
int pub__take_limits(struct gw_pub *p, char *out, size_t cap, size_t *len);
int pub__link_up(const struct gw_pub *p);
int pub__radio_on(const struct gw_pub *p);
int64_t pub__sent_total(const struct gw_pub *p);

/* ---- state.c: JSON of the retained state and of the device health ---- */

struct cJSON;
/* Appends the devices health array to a cJSON object (state and status). */
int state__add_devices(struct cJSON *obj, const struct gw_config *cfg, const struct gw_health *h,
                       size_t n);
/* Retained state: SPEC keys plus flight, local_alarm and devices. Caller
 * frees; NULL when out of memory. */
char *state__json(const struct gw_config *cfg, const struct spool_stats *st, int online,
                  const struct gw_state_info *si);

/* ---- status.c ---- */

struct gw_status {
    int link_up, radio_on;
    int stopped; /* final write of a clean stop */
    struct spool_stats spool;
    int64_t oldest_unacked_ts; /* 0 if none */
    int64_t readings_total;
    const struct ot_reading *last;
    const struct gw_health *health;
    size_t nhealth;
    const struct gw_config *cfg;
    const struct gw_limits *limits;
    const struct gw_alarm *alarm;
    const struct gw_flight *flight;
};

/* The status JSON; caller frees. */
char *status__json(const struct gw_status *st);
/* Listens on <dir>/status.sock for `organtrack-gateway status` (-1 when the
 * path does not fit a socket address: the status file is then kept fresh
 * instead). */
int status__listen(const char *dir);
/* Answers one connection on the listening socket with the status JSON. */
void status__serve(int lfd, const struct gw_status *st);
void status__unlisten(int lfd, const char *dir);
/* Writes <dir>/status.json (temp file + rename): the figures a stopped or
 * killed gateway leaves for `status`. */
enum ot_err status__write(const char *dir, const struct gw_status *st);
/* `organtrack-gateway status`: asks the running gateway of cfg, else prints
 * its last status file; json: the raw JSON. Returns the exit code. */
int status__print(const struct gw_config *cfg, int json);

#endif
