/* scenario.h - the simulated world of organtrack-sensors: a route, a thermal
 * model of the container and scripted faults, read from a scenario file
 * (format: docs/sensors.md) and evaluated deterministically from its seed. */
#ifndef SENSORS_SCENARIO_H
#define SENSORS_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#include "ot_err.h"

#define SCENARIO_MAX_WAYPOINTS 32
#define SCENARIO_MAX_EVENTS 64
#define SCENARIO_STEP_S 1.0 /* model time step, simulated seconds */

/* Signals the model produces; a device maps profile channels onto them. */
enum scenario_signal {
    SIG_TEMP = 0,
    SIG_TEMP2,
    SIG_AMBIENT,
    SIG_LAT,
    SIG_LON,
    SIG_ALT,
    SIG_SPEED,
    SIG_HEADING,
    SIG_LID,
    SIG_SHOCK,
    SIG_BATTERY,
    SIG_GNSS_FIX,
    SIG_SATELLITES,
    SIG_HUMIDITY,
    SIG__COUNT
};

enum scenario_event_type {
    EV_DROPOUT = 0, /* device stops answering */
    EV_SLOW,        /* device answers after delay_ms */
    EV_CRC_NOISE,   /* RTU replies corrupted with probability */
    EV_STUCK,       /* signal (or all, signal = -1) frozen at its onset value */
    EV_GNSS_LOSS,   /* fix 0, satellites 0, position/speed/heading frozen */
    EV_LINK_GAP,    /* no Modbus effect: marks the demo's network outage */
    EV_EXCURSION,   /* product temperature pulled toward target_c */
    EV_LID_OPEN,    /* lid switch open; container warms toward ambient fast */
    EV_SHOCK,       /* mechanical shock of g */
    EV__COUNT
};

struct scenario_event {
    enum scenario_event_type type;
    double at_s, duration_s;
    double delay_ms;    /* slow */
    double probability; /* crc_noise */
    double target_c;    /* excursion */
    double tau_s;       /* excursion time constant */
    double g;           /* shock */
    int signal;         /* stuck: signal index or -1 for all */
};

struct scenario_waypoint {
    char name[64];
    double lat, lon, alt_m;
};

struct scenario_leg {
    int air;                /* 0 road, 1 air */
    double speed_kmh;       /* cruise speed */
    double altitude_m;      /* air: cruise altitude above sea level */
    double ambient_c;       /* ambient around the container on this leg */
    double dwell_s;         /* standing at the start waypoint before moving */
    double distance_factor; /* road: route length / great-circle length */
    /* computed at load */
    double t_depart, t_arrive, distance_km;
};

struct scenario_thermal {
    double initial_c;        /* product temperature at t=0 */
    double pack_c;           /* phase-change temperature of the pack */
    double tau_pack_s;       /* coupling product <-> pack */
    double tau_ambient_s;    /* coupling product <-> ambient through the walls */
    double tau_lid_s;        /* coupling product <-> ambient with the lid open */
    double pack_capacity_kh; /* pack latent heat in kelvin-hours of (ambient - pack) */
    double probe2_offset_c;  /* second probe sits nearer the pack */
    double noise_c;          /* probe noise (1 sigma) */
};

struct scenario {
    char file[256];
    char name[64];
    uint64_t seed;
    int64_t start_ms;  /* epoch ms of simulated t = 0 */
    double time_scale; /* simulated seconds per real second */
    size_t nwp;
    struct scenario_waypoint wp[SCENARIO_MAX_WAYPOINTS];
    struct scenario_leg leg[SCENARIO_MAX_WAYPOINTS]; /* leg[i]: wp[i] -> wp[i+1] */
    double arrival_ambient_c;
    double climb_rate_mps;
    struct scenario_thermal th;
    double battery_start_pct, battery_drain_pct_h;
    double humidity_pct;
    size_t nev;
    struct scenario_event ev[SCENARIO_MAX_EVENTS];
};

/* Model state: advanced in fixed SCENARIO_STEP_S steps from t = 0, so the
 * values at simulated time t do not depend on how often it was sampled. */
struct scenario_model {
    const struct scenario *sc;
    int64_t step;  /* values below are for t = step * SCENARIO_STEP_S */
    double temp_c; /* noiseless product temperature */
    double ambient_c;
    double pack_left; /* 1 = full, 0 = exhausted */
    double v[SIG__COUNT];
    double stuck_v[SIG__COUNT];
    int stuck_on[SIG__COUNT];
    int gnss_lost;
    double fix_v[SIG__COUNT]; /* last values with a fix */
};

/* Loads and validates; err names file and key. start "now" uses now_ms. */
enum ot_err scenario__load(const char *path, int64_t now_ms, struct scenario *sc, char *err,
                           size_t errlen);
/* Signal name <-> index; -1 if unknown. */
int scenario__signal_index(const char *name);
const char *scenario__signal_name(int sig);
const char *scenario__event_name(enum scenario_event_type t);

void scenario__model_init(struct scenario_model *m, const struct scenario *sc);
/* Advances to the last step at or before t_s (never backwards). */
void scenario__model_advance(struct scenario_model *m, double t_s);
/* The first event of type active at t_s (at_s <= t < at_s + duration_s), or NULL. */
const struct scenario_event *scenario__active(const struct scenario *sc, enum scenario_event_type t,
                                              double t_s);
/* Route only (pure function of t): position and motion at t_s. */
void scenario__route_at(const struct scenario *sc, double t_s, double *lat, double *lon,
                        double *alt_m, double *speed_kmh, double *heading_deg, double *ambient_c,
                        int *leg_index);
/* Total scheduled duration of the route (arrival at the last waypoint). */
double scenario__route_end_s(const struct scenario *sc);

/* Deterministic randomness: splitmix64 of (seed, step, stream). */
uint64_t scenario__hash(uint64_t seed, uint64_t step, uint64_t stream);
/* Uniform [0,1) and approximately normal(0,1) from the hash. */
double scenario__uniform(uint64_t seed, uint64_t step, uint64_t stream);
double scenario__normal(uint64_t seed, uint64_t step, uint64_t stream);

#endif
