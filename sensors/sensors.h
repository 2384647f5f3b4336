/* sensors.h - internals of organtrack-sensors shared across its files:
 * config.c (config file -> devices), device.c (scenario -> registers),
 * server.c (Modbus TCP/RTU serving with faults), main.c (CLI). */
#ifndef SENSORS_SENSORS_H
#define SENSORS_SENSORS_H

#include <modbus/modbus.h>
#include <stddef.h>
#include <stdint.h>

#include "ot_err.h"
#include "ot_profile.h"
#include "scenario.h"

#define SENSORS_MAX_DEVICES 32
#define SENSORS_MAX_CLIENTS 8  /* TCP connections per device */
#define SENSORS_REPLY_QUEUE 32 /* delayed replies per device */

struct sensors_url {
    int rtu;
    char host[64];
    int port;
    char tty[256];
    int baud;
    char parity; /* 'N', 'E', 'O' */
    int data_bits, stop_bits;
};

struct sensors_reply {
    int fd;
    int64_t due_ms;
    size_t len;
    uint8_t buf[MODBUS_TCP_MAX_ADU_LENGTH];
};

struct sensors_device {
    char name[33];
    struct ot_profile prof;
    struct scenario sc;
    struct scenario_model model;
    int src[OT_PROFILE_MAX_CHANNELS]; /* signal index, or -1: constant[] */
    double constant[OT_PROFILE_MAX_CHANNELS];
    struct sensors_url url;
    int unit;
    double start_at_s, time_scale;
    /* runtime */
    modbus_t *ctx;
    modbus_mapping_t *map;
    int listen_fd, serial_fd;
    int clients[SENSORS_MAX_CLIENTS];
    uint8_t rx[MODBUS_RTU_MAX_ADU_LENGTH]; /* RTU request being received */
    size_t rx_len;
    int64_t rx_last_ms;
    int64_t reopen_ms; /* RTU: next attempt to reopen a lost serial line */
    size_t nq;
    struct sensors_reply q[SENSORS_REPLY_QUEUE];
    int fault_on[EV__COUNT];
    double t_s; /* simulated time of the registers */
    uint64_t noise_counter;
    uint64_t n_req, n_reply, n_dropped, n_corrupted;
    uint64_t n_writes;                          /* write requests (05, 0F) answered */
    uint8_t out_state[OT_PROFILE_MAX_CHANNELS]; /* output coils as last logged */
};

struct sensors_server {
    char file[512];
    int tick_ms;
    size_t n;
    struct sensors_device *dev; /* n entries, calloc'd; sensors__server_free() */
    int pair[2];                /* socketpair capturing libmodbus replies */
    int64_t mono0;
};

/* config.c */
int sensors__url_parse(const char *s, struct sensors_url *u, char *err, size_t errlen);
/* Loads the config, every profile and scenario; err names file and key. */
enum ot_err sensors__config_load(const char *path, int64_t now_ms, struct sensors_server *srv,
                                 char *err, size_t errlen);
void sensors__server_free(struct sensors_server *srv);

/* device.c */
/* Allocates the device's modbus_mapping_t covering its profile's tables. */
enum ot_err sensors__device_map(struct sensors_device *d);
/* Advances the model to t_s, encodes every channel into the mapping and
 * logs fault transitions. */
void sensors__device_update(struct sensors_device *d, double t_s);
/* The engineering value a channel should show now. */
double sensors__device_value(const struct sensors_device *d, size_t ch);
/* Logs every output channel (alarm coil) whose value a write changed. */
void sensors__device_outputs(struct sensors_device *d);

/* server.c */
enum ot_err sensors__server_open(struct sensors_server *srv);
/* Serves until ot_signal_stop is set. */
enum ot_err sensors__server_run(struct sensors_server *srv);
void sensors__server_close(struct sensors_server *srv);

#endif
