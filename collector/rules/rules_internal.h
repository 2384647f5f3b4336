/* rules_internal.h - shared inside collector/rules only.
 *
 * Every alarm type has one struct rules__alarm holding its explicit state:
 *
 *   INACTIVE --condition seen--> PENDING --grace expired--> RAISED
 *   RAISED --rules_on_ack--> ACKED            (still active, escalation clock stopped)
 *   RAISED/ACKED --worse (rule) or unacked past escalate_after_s--> ESCALATED event
 *   PENDING --condition gone--> INACTIVE      (no event: nothing was raised)
 *   RAISED/ACKED --condition gone past hysteresis--> INACTIVE (RULES_CLEARED)
 *
 * Rules without a grace time go straight from INACTIVE to RAISED. The
 * helpers below are the only place that emits events, so every event
 * carries the alarm's type, its current severity, the reading time and the
 * late flag consistently. */
#ifndef RULES_INTERNAL_H
#define RULES_INTERNAL_H

#include "rules.h"

enum rules__phase { RULES__INACTIVE = 0, RULES__PENDING, RULES__RAISED, RULES__ACKED };

enum rules__type {
    RULES__TEMP_EXCURSION = 0,
    RULES__TEMP_FORECAST,
    RULES__ISCHEMIA_WARN,
    RULES__ISCHEMIA_LIMIT,
    RULES__ETA_LATE,
    RULES__LID_OPEN,
    RULES__SHOCK,
    RULES__BATTERY_LOW,
    RULES__GNSS_LOST,
    RULES__SENSOR_SILENT,
    RULES__GATEWAY_OFFLINE,
    RULES__TYPE_COUNT
};

struct rules__alarm {
    enum rules__phase phase;
    enum rules_severity severity;
    int64_t since;     /* PENDING/RAISED: reading time the condition began */
    int64_t raised_at; /* reading time of RULES_RAISED */
    int64_t esc_from;  /* start of the no-ack escalation clock, -1: not started (late) */
    unsigned esc_done; /* bit per severity already escalated for lack of ack */
    double value;      /* value quoted in messages (peak for some rules) */
};

/* Forecast window: readings of the last RULES__FC_WINDOW_MS, at most
 * RULES__FC_CAP of them. */
#define RULES__FC_CAP 128
#define RULES__FC_WINDOW_MS (10 * 60 * 1000LL)
#define RULES__FC_MIN_POINTS 5
#define RULES__FC_MIN_SPAN_MS (5 * 60 * 1000LL)

/* ETA: positions of the last RULES__POS_WINDOW_MS, one per RULES__POS_STEP_MS */
#define RULES__POS_CAP 160
#define RULES__POS_WINDOW_MS (30 * 60 * 1000LL)
#define RULES__POS_STEP_MS (15 * 1000LL)

struct rules__fix {
    int64_t ts;
    double lat, lon;
};

struct rules__sample {
    int64_t ts;
    double v;
};

/* Progress (rules_progress.c): one confirmation run per milestone, one
 * hysteresis state per place. */
enum rules__pkind {
    RULES__P_DEPARTED = 0,
    RULES__P_AT_AIRPORT,
    RULES__P_AIRBORNE,
    RULES__P_LANDED,
    RULES__P_ARRIVAL,
    RULES__P_COUNT
};
#define RULES__PLACES (2 * RULES_LEGS_MAX)

struct rules__prun {
    int64_t since; /* first fix of the run (0: none) */
    unsigned n;    /* fixes in it */
    int late;      /* that fix's */
    double lat, lon, kmh, alt;
};

struct rules__progress {
    uint32_t fired[RULES__P_COUNT]; /* bit per leg (bit 0 for the shipment-wide ones) */
    struct rules__prun run[RULES__P_COUNT][RULES_LEGS_MAX];
    struct {
        double lat, lon;    /* the place this state is for (a new plan resets it) */
        signed char inside; /* 1 inside, 0 outside, -1 unknown */
    } fence[RULES__PLACES];
    double base_alt[RULES_LEGS_MAX]; /* altitude seen at the departure airport (NaN) */
    int64_t prev_ts;                 /* previous fix (0: none) */
    double prev_lat, prev_lon;
    int init;
};

struct rules_state {
    struct rules__alarm a[RULES__TYPE_COUNT];
    struct rules__progress prog; /* journey progress, not an alarm */

    /* temperature (temp_excursion, temp_forecast, sensor_silent) */
    int has_temp;
    int64_t last_temp_ts;
    double last_temp;
    struct rules__sample fc[RULES__FC_CAP];
    size_t fc_n;
    double fc_proj; /* last projection at the horizon */

    /* position and progress (eta_late, gnss_lost) */
    int has_pos;
    double lat, lon;
    int64_t pos_ts;
    struct rules__fix pos[RULES__POS_CAP]; /* recent fixes, oldest first */
    size_t pos_n;
    struct rules__fix leg_start; /* first fix on the current leg (ts 0: none) */
    size_t legs_done;            /* planned legs completed (a fix reached the leg's end) */
    uint64_t legs_hash;          /* of the legs legs_done counts, to notice a new plan */
    int gnss_seen;               /* container reports GNSS at all: arms gnss_lost */

    /* lid, shock */
    int64_t lid_open_since; /* -1: closed */
    int64_t last_shock_ts;

    /* silence */
    int64_t online_since; /* tick time the gateway was first seen online (again), -1 */
    int online;           /* gateway_online of the previous tick */
    int late_since_tick;  /* a late reading with temp_c arrived since the last tick */

    int64_t latest;       /* highest reading time seen (readings and ticks) */
    int64_t last_reading; /* highest ts of a reading (0: none yet) */
};

/* Stable type string of an alarm index, and index of a string (-1). */
const char *rules__type_name(enum rules__type t);
int rules__type_find(const char *name);

/* State changes; each emits exactly one event (fmt: message). */
void rules__raise(struct rules_state *s, enum rules__type t, enum rules_severity sev, int64_t at,
                  int late, double value, rules_emit_fn emit, void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 9, 10)));
/* Raises severity of an active alarm (no-op if already at sev or above). */
void rules__escalate(struct rules_state *s, enum rules__type t, enum rules_severity sev, int64_t at,
                     int late, double value, rules_emit_fn emit, void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 9, 10)));
void rules__clear(struct rules_state *s, enum rules__type t, int64_t at, int late, double value,
                  rules_emit_fn emit, void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));

static inline int rules__active(const struct rules_state *s, enum rules__type t)
{
    return s->a[t].phase == RULES__RAISED || s->a[t].phase == RULES__ACKED;
}

/* One function pair per rule module. */
void rules__temp_on_reading(struct rules_state *s, const struct rules_shipment *sh,
                            const struct ot_reading *r, int late, rules_emit_fn emit, void *ctx);
void rules__forecast_on_reading(struct rules_state *s, const struct rules_shipment *sh,
                                const struct ot_reading *r, int late, rules_emit_fn emit,
                                void *ctx);
void rules__ischemia_check(struct rules_state *s, const struct rules_shipment *sh, int64_t now,
                           int late, rules_emit_fn emit, void *ctx);
void rules__eta_on_reading(struct rules_state *s, const struct rules_shipment *sh,
                           const struct ot_reading *r, int late, rules_emit_fn emit, void *ctx);
void rules__eta_check(struct rules_state *s, const struct rules_shipment *sh, int64_t now, int late,
                      rules_emit_fn emit, void *ctx);
/* rules_legs.c: which planned leg the container is on, and the plan's ETA */
void rules__legs_track(struct rules_state *s, const struct rules_shipment *sh);
size_t rules__legs_current(const struct rules_state *s, const struct rules_shipment *sh);
int64_t rules__legs_eta(const struct rules_state *s, const struct rules_shipment *sh,
                        struct rules_eta_info *out);
/* rules_eta.c: projected arrival at (lat, lon) on the ground from the last
 * fix: prior_kmh until the vehicle is under way, then prior blended with the
 * observed progress; not before not_before (a planned departure). */
int64_t rules__ground_eta(const struct rules_state *s, double lat, double lon, double prior_kmh,
                          int64_t not_before, struct rules_eta_info *out);
void rules__lid_on_reading(struct rules_state *s, const struct rules_shipment *sh,
                           const struct ot_reading *r, int late, rules_emit_fn emit, void *ctx);
void rules__shock_on_reading(struct rules_state *s, const struct rules_shipment *sh,
                             const struct ot_reading *r, int late, rules_emit_fn emit, void *ctx);
void rules__battery_on_reading(struct rules_state *s, const struct rules_shipment *sh,
                               const struct ot_reading *r, int late, rules_emit_fn emit, void *ctx);
void rules__gnss_on_reading(struct rules_state *s, const struct rules_shipment *sh,
                            const struct ot_reading *r, int late, rules_emit_fn emit, void *ctx);
void rules__silence_on_reading(struct rules_state *s, const struct rules_shipment *sh,
                               const struct ot_reading *r, int late, rules_emit_fn emit, void *ctx);
void rules__silence_on_tick(struct rules_state *s, const struct rules_shipment *sh, int64_t now,
                            int gateway_online, rules_emit_fn emit, void *ctx);
void rules__escalation_check(struct rules_state *s, const struct rules_shipment *sh, int64_t now,
                             rules_emit_fn emit, void *ctx);

#endif
