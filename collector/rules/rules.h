/* rules.h - preservation rules of the collector (issue 4).
 * Pure logic, no I/O: the collector feeds readings (in seq order per
 * container, each marked live or late) and clock ticks, the rules keep one
 * explicit state machine per alarm type and emit alarm changes through a
 * callback. All clinical timers run on READING time (ts of readings, or the
 * `now` passed to rules_on_tick), never on the wall clock, so tests replay
 * hours in milliseconds. Implementation in collector/rules/rules_*.c. */
#ifndef RULES_H
#define RULES_H

#include <stddef.h>
#include <stdint.h>

#include "ot_err.h"
#include "ot_preservation.h"
#include "ot_reading.h"

/* A planned leg as the ETA sees it (common/ot_legs.h is the full record). */
#define RULES_LEGS_MAX 8
struct rules_leg {
    int air; /* a flight: planned times, not observed speed */
    double from_lat, from_lon, to_lat, to_lon;
    int64_t planned_departure, planned_arrival; /* epoch ms */
    double from_radius_m, to_radius_m;          /* geofences (0: default for the kind) */
};

/* What the rules need to know of the shipment the container carries. */
struct rules_shipment {
    int64_t id;
    const struct ot_preservation *profile;
    int64_t cross_clamp_at;    /* epoch ms */
    int64_t ischemia_ended_at; /* reperfusion, epoch ms (0: not yet): the clock stops */
    int has_dest;
    double dest_lat, dest_lon;
    int has_origin; /* the origin's fence, when there are no legs (else legs[0].from) */
    double origin_lat, origin_lon;
    int air;               /* mode air/mixed: use air speeds for ETA */
    int64_t handoff_until; /* lid may be open until this time (hand-off in progress) */
    size_t n_legs;         /* planned legs (0: none, the ETA goes straight to dest) */
    struct rules_leg legs[RULES_LEGS_MAX];
    /* flight mode (SPEC v1.1): the gateway's last state said flight:true
     * (radio off by design); rules_silence.c says how long that is trusted */
    int in_flight;
    int64_t flight_since;      /* epoch ms the gateway entered flight mode */
    int64_t flight_overdue_ms; /* past the air leg's planned arrival */
    int64_t flight_max_ms;     /* from flight_since, without a planned air leg */
};

enum rules_severity { RULES_INFO = 0, RULES_WARNING, RULES_CRITICAL };
enum rules_change { RULES_RAISED = 0, RULES_ESCALATED, RULES_CLEARED };

/* Alarm types (stable strings, used in API, MQTT and storage):
 * temp_excursion, temp_forecast, ischemia_warn, ischemia_limit, eta_late,
 * lid_open, shock, battery_low, gnss_lost, sensor_silent, gateway_offline,
 * escalation is a change (RULES_ESCALATED) of an existing alarm. */
struct rules_event {
    const char *type;
    enum rules_change change;
    enum rules_severity severity;
    int64_t at; /* reading time it happened */
    int late;   /* happened in replayed backlog */
    double value;
    char message[192]; /* human text, no patient data */
};

typedef void (*rules_emit_fn)(void *ctx, const struct rules_event *ev);

struct rules_state; /* per container */
struct rules_state *rules_state_new(void);
void rules_state_free(struct rules_state *s);
/* dst becomes a copy of src (the collector saves a container's state when
 * a transaction first touches it and puts it back after a rollback). */
void rules_state_copy(struct rules_state *dst, const struct rules_state *src);

/* Feeds one reading. */
void rules_on_reading(struct rules_state *s, const struct rules_shipment *sh,
                      const struct ot_reading *r, int late, rules_emit_fn emit, void *ctx);
/* Time passes without readings (silence, ischaemia, escalation); now is ms.
 * gateway_online: last state message said online. */
void rules_on_tick(struct rules_state *s, const struct rules_shipment *sh, int64_t now,
                   int gateway_online, rules_emit_fn emit, void *ctx);
/* A person acknowledged alarm `type`: stops its escalation clock. */
void rules_on_ack(struct rules_state *s, const char *type, int64_t now);

/* Listing and restart support (added after the interface freeze; additive).
 * rules_type_name: the stable alarm type strings, i = 0.. ; NULL past the last.
 * rules_alarm_active: 1 raised, 2 acknowledged, 0 inactive (or still within
 * its grace); *severity (may be NULL) set when active; -1 for an unknown type.
 * rules_restore: after a collector restart, marks alarm `type` active as it
 * was stored (raised at raised_at with severity, acknowledged or not) without
 * emitting anything, so the rules clear it later instead of raising it
 * twice. Returns OT_ERR_INVAL for an unknown type. */
const char *rules_type_name(size_t i);
int rules_alarm_active(const struct rules_state *s, const char *type,
                       enum rules_severity *severity);
enum ot_err rules_restore(struct rules_state *s, const char *type, enum rules_severity severity,
                          int64_t raised_at, int acknowledged);

/* Projected arrival (epoch ms) from the last position, the planned legs and
 * the observed progress (rules_eta.c says how), or 0 if unknown. */
int64_t rules_eta(const struct rules_state *s, const struct rules_shipment *sh);

/* Radio silence outside flight (SPEC v1.1 "Incidents"): ms since the
 * newest reading at `now`, 0 when there is none yet or the container is on
 * a planned flight leg; *since = that reading's ts. */
int64_t rules_radio_silence(const struct rules_state *s, const struct rules_shipment *sh,
                            int64_t now, int64_t *since);

/* The same with what it rests on, for messages and the API. */
struct rules_eta_info {
    int64_t eta;    /* epoch ms, 0: unknown */
    double km_left; /* great-circle km to the destination */
    double kmh;     /* speed the current ground stretch is projected at (0: by the plan) */
    int observed;   /* 1: kmh blends observed progress; 0: the prior (not under way yet) */
    size_t leg;     /* index of the current leg (n_legs: past the last, or no legs) */
};
void rules_eta_explain(const struct rules_state *s, const struct rules_shipment *sh,
                       struct rules_eta_info *out);

/* Progress of the journey (rules_progress.c): departed, at_airport,
 * airborne, landed, arrival_suggested, each once per shipment (the flight
 * ones once per air leg), from geofences around the places and the speed
 * and altitude of the fixes. Not alarms: a separate callback. */
struct rules_progress {
    const char *kind; /* stable strings, rules_progress_kind(i) */
    int leg;          /* the leg it belongs to, -1: the shipment */
    int place;        /* 2*leg: that leg's from, 2*leg+1: its to; without legs
                       * 0 origin, 1 destination */
    int64_t at;       /* reading time of the first fix that showed it */
    int late;         /* that fix came in a replayed backlog */
    int observed;     /* 0: landed without a fix in flight (airborne not seen) */
    double lat, lon;  /* the fix */
    double kmh;       /* speed (channel, else from the fixes), NaN: unknown */
    double alt_m;     /* NaN: unknown */
    double radius_m;  /* the fence of the place */
};
typedef void (*rules_progress_fn)(void *ctx, const struct rules_progress *p);

/* Feeds one reading to the progress detector (independent of the alarm
 * rules; the caller may skip it). */
void rules_progress_on_reading(struct rules_state *s, const struct rules_shipment *sh,
                               const struct ot_reading *r, int late, rules_progress_fn emit,
                               void *ctx);
/* After a restart: progress `kind` (of `leg`, -1 none) was already reported;
 * it is not reported again and nothing before it in the journey is.
 * OT_ERR_INVAL for an unknown kind or leg. */
enum ot_err rules_progress_restore(struct rules_state *s, const char *kind, int leg);
/* The kinds, i = 0.. ; NULL past the last. */
const char *rules_progress_kind(size_t i);
/* Default fence radius of a place (metres): see rules_progress.c. */
double rules_progress_radius(const struct rules_shipment *sh, int place);

#endif
