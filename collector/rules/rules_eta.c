/* rules_eta.c - eta_late: projected arrival past the viability deadline.
 *
 * The ETA must not cry wolf: an ambulance leaving a hospital car park at
 * 5 km/h is not 80 h from a city 400 km away. So it never rests on one
 * reading:
 *
 * Progress, not speed. Every rate below is the rate of approach to the
 * current target (the end of the current ground leg, else the
 * destination): how much the great-circle distance to it shrank over the
 * time taken, roads, lights and stops included; a speed_kmh channel is not
 * used (it overstates progress on winding roads). The rules keep the fixes
 * of the last 30 min of reading time (one per 15 s).
 *
 * Under way. The vehicle has really moved once it is 3 km from where it
 * began the leg (its first fix on it) and at least 5 min of fixes are
 * kept. Until then the whole remaining distance is projected at the prior,
 * starting no earlier than the planned departure: the leg's planned speed
 * (leg distance over planned duration) with legs, else the mode's cruise
 * (60 km/h ground).
 *
 * Under way, the ETA has two parts:
 *   near: the recent pace (rate of approach over the kept fixes, >= 5 min)
 *         holds for as long as it has been seen, at most 30 min;
 *   rest: at the long-run speed = (prior x 60 min + average since the leg
 *         began x time on the leg) / (60 min + time on the leg).
 * So ten slow minutes in town move the ETA by minutes, not days, while a
 * vehicle that keeps crawling for hours pulls the long-run speed down to
 * what it really does and the ETA moves out in time to warn. A vehicle
 * that keeps to its planned speed gets the planned ETA.
 *
 * Legs (rules_legs.c): with planned legs the ETA walks the plan from the
 * current leg: a ground leg by the estimate above, a flight by its planned
 * arrival (flight legs use planned times); later legs by their planned
 * durations, a flight never leaving before its planned departure.
 *
 * Without legs, by air (modes air and mixed), while not flying (recent
 * progress below 200 km/h) more than 150 km from the destination: the flight is
 * still ahead, ETA = distance / 500 km/h + 45 min for the airports.
 *
 * Within 0.5 km of the destination the ETA is the fix time. On a tick the
 * ETA is never earlier than now (a vehicle that stopped reporting is not
 * assumed to have arrived). Arrival clears the alarm whatever the time.
 *
 * State machine (deadline = cross_clamp_at + max_cold_ischemia_min):
 *   INACTIVE --ETA > deadline--> RAISED warning
 *   RAISED   --ETA <= deadline - margin--> CLEARED, margin = min(10 min, 5 % of
 *              the limit), so an ETA hovering at the deadline does not flap.
 * Skipped without destination, position, cross-clamp time or limit. */
#include <math.h>
#include <string.h>

#include "ot_geo.h"
#include "rules_internal.h"

#define ETA_GROUND_KMH 60.0
#define ETA_AIR_KMH 500.0
#define ETA_FLYING_KMH 200.0 /* progress above this: airborne */
#define ETA_ARRIVED_KM 0.5
#define ETA_UNDERWAY_KM 3.0
#define ETA_MIN_KMH 3.0
#define ETA_MIN_SPAN_MS (5 * 60 * 1000LL)
#define ETA_PRIOR_WEIGHT_MS (60 * 60 * 1000LL)
#define ETA_AIR_MIN_KM 150.0  /* farther than this by air: a flight is ahead */
#define ETA_AIR_GROUND_H 0.75 /* airport transfers, loading, taxi at both ends */

static void eta_fix_push(struct rules_state *s, int64_t ts, double lat, double lon)
{
    size_t drop = 0;
    if (s->pos_n && ts < s->pos[s->pos_n - 1].ts)
        s->pos_n = 0; /* time went back (a new device clock): start over */
    if (s->pos_n && ts - s->pos[s->pos_n - 1].ts < RULES__POS_STEP_MS)
        return;
    while (drop < s->pos_n && ts - s->pos[drop].ts > RULES__POS_WINDOW_MS)
        drop++;
    if (s->pos_n - drop == RULES__POS_CAP)
        drop++;
    if (drop) {
        memmove(s->pos, s->pos + drop, (s->pos_n - drop) * sizeof s->pos[0]);
        s->pos_n -= drop;
    }
    s->pos[s->pos_n].ts = ts;
    s->pos[s->pos_n].lat = lat;
    s->pos[s->pos_n].lon = lon;
    s->pos_n++;
}

/* Oldest kept fix within the window of the last fix, or NULL. */
static const struct rules__fix *eta_oldest(const struct rules_state *s)
{
    for (size_t i = 0; i < s->pos_n; i++)
        if (s->pos_ts - s->pos[i].ts <= RULES__POS_WINDOW_MS)
            return &s->pos[i];
    return NULL;
}

/* Observed rate of approach to (lat, lon) in km/h over the recent window,
 * *span_ms its length; 0 with *span_ms = 0 under 5 min of fixes. */
static double eta_recent(const struct rules_state *s, double lat, double lon, int64_t *span_ms)
{
    const struct rules__fix *o = eta_oldest(s);
    *span_ms = 0;
    if (!o || s->pos_ts - o->ts < ETA_MIN_SPAN_MS)
        return 0;
    *span_ms = s->pos_ts - o->ts;
    double gained =
        ot_geo_distance_km(o->lat, o->lon, lat, lon) - ot_geo_distance_km(s->lat, s->lon, lat, lon);
    double v = gained / ((double)*span_ms / 3600000.0);
    return v > 0 ? v : 0;
}

int64_t rules__ground_eta(const struct rules_state *s, double lat, double lon, double prior_kmh,
                          int64_t not_before, struct rules_eta_info *out)
{
    int64_t span;
    const struct rules__fix *st = &s->leg_start;
    double km = ot_geo_distance_km(s->lat, s->lon, lat, lon);
    double recent = eta_recent(s, lat, lon, &span);
    int64_t on_leg = st->ts ? s->pos_ts - st->ts : 0;
    int underway = span > 0 && st->ts &&
                   ot_geo_distance_km(st->lat, st->lon, s->lat, s->lon) >= ETA_UNDERWAY_KM;
    out->observed = underway;
    if (km <= ETA_ARRIVED_KM) {
        out->kmh = prior_kmh;
        return s->pos_ts;
    }
    if (!underway) {
        /* standing, or crawling out of the car park: the prior, from the
         * planned departure if that is still ahead */
        int64_t start = not_before > s->pos_ts ? not_before : s->pos_ts;
        out->kmh = prior_kmh;
        return start + (int64_t)(km / prior_kmh * 3600000.0);
    }
    /* the average since the leg began, weighed against the prior */
    double gained = ot_geo_distance_km(st->lat, st->lon, lat, lon) - km;
    double avg = on_leg > 0 ? gained / ((double)on_leg / 3600000.0) : 0;
    if (avg < 0)
        avg = 0;
    double v_long = (prior_kmh * (double)ETA_PRIOR_WEIGHT_MS + avg * (double)on_leg) /
                    (double)(ETA_PRIOR_WEIGHT_MS + on_leg);
    if (v_long < ETA_MIN_KMH)
        v_long = ETA_MIN_KMH;
    /* the recent pace holds for as long as it has been seen (<= 30 min) */
    double hold_h = (double)span / 3600000.0;
    double near_km = recent * hold_h < km ? recent * hold_h : km;
    double near_h = recent > 0 ? near_km / recent : hold_h;
    out->kmh = recent > 0 ? recent : v_long;
    return s->pos_ts + (int64_t)((near_h + (km - near_km) / v_long) * 3600000.0);
}

void rules_eta_explain(const struct rules_state *s, const struct rules_shipment *sh,
                       struct rules_eta_info *out)
{
    memset(out, 0, sizeof *out);
    if (!s || !sh || !sh->has_dest || !s->has_pos)
        return;
    double km = ot_geo_distance_km(s->lat, s->lon, sh->dest_lat, sh->dest_lon);
    out->km_left = km;
    out->leg = sh->n_legs;
    if (km <= ETA_ARRIVED_KM) {
        out->eta = s->pos_ts;
        return;
    }
    if (sh->n_legs && rules__legs_current(s, sh) < sh->n_legs) {
        out->eta = rules__legs_eta(s, sh, out);
        return;
    }
    int64_t span;
    double obs = eta_recent(s, sh->dest_lat, sh->dest_lon, &span);
    if (sh->air && !sh->n_legs && km > ETA_AIR_MIN_KM && obs < ETA_FLYING_KMH) {
        out->kmh = 0; /* by the flight still ahead */
        out->eta = s->pos_ts + (int64_t)((km / ETA_AIR_KMH + ETA_AIR_GROUND_H) * 3600000.0);
        return;
    }
    double prior = sh->air && obs >= ETA_FLYING_KMH ? ETA_AIR_KMH : ETA_GROUND_KMH;
    out->eta = rules__ground_eta(s, sh->dest_lat, sh->dest_lon, prior, 0, out);
}

int64_t rules_eta(const struct rules_state *s, const struct rules_shipment *sh)
{
    struct rules_eta_info e;
    rules_eta_explain(s, sh, &e);
    return e.eta;
}

void rules__eta_check(struct rules_state *s, const struct rules_shipment *sh, int64_t now, int late,
                      rules_emit_fn emit, void *ctx)
{
    const struct ot_preservation *p = sh->profile;
    struct rules_eta_info e;
    if (sh->cross_clamp_at <= 0 || p->max_cold_ischemia_min <= 0)
        return;
    if (sh->ischemia_ended_at > 0) {
        /* reperfused: the organ is in the recipient, the journey is over */
        rules__clear(s, RULES__ETA_LATE, now, late, 0, emit, ctx,
                     "cold ischaemia ended at reperfusion");
        return;
    }
    rules__legs_track(s, sh);
    rules_eta_explain(s, sh, &e);
    int64_t eta = e.eta;
    if (!eta)
        return;
    int64_t limit_ms = p->max_cold_ischemia_min * 60000;
    int64_t deadline = sh->cross_clamp_at + limit_ms;
    if (e.km_left <= ETA_ARRIVED_KM) {
        /* arrived: the projection is over, late or not */
        rules__clear(s, RULES__ETA_LATE, now, late, 0, emit, ctx,
                     "arrived at the destination %.0f min %s the viability deadline",
                     fabs((double)(s->pos_ts - deadline) / 60000.0),
                     s->pos_ts > deadline ? "after" : "before");
        return;
    }
    if (eta < now)
        eta = now;
    int64_t margin = limit_ms / 20 < 600000 ? limit_ms / 20 : 600000;
    double late_min = (double)(eta - deadline) / 60000.0;
    if (!rules__active(s, RULES__ETA_LATE)) {
        if (eta > deadline) {
            if (e.kmh > 0)
                rules__raise(s, RULES__ETA_LATE, RULES_WARNING, now, late, late_min, emit, ctx,
                             "projected arrival %.0f min after the viability deadline (%.0f km "
                             "left, %.0f km/h %s%s)",
                             late_min, e.km_left, e.kmh,
                             e.observed ? "observed over minutes" : "assumed, not under way",
                             sh->n_legs ? ", planned legs" : "");
            else
                rules__raise(s, RULES__ETA_LATE, RULES_WARNING, now, late, late_min, emit, ctx,
                             "projected arrival %.0f min after the viability deadline (%.0f km "
                             "left, by the %s)",
                             late_min, e.km_left, sh->n_legs ? "planned flight" : "flight ahead");
        }
    } else if (eta <= deadline - margin) {
        rules__clear(s, RULES__ETA_LATE, now, late, late_min, emit, ctx,
                     "projected arrival %.0f min before the viability deadline", -late_min);
    }
}

void rules__eta_on_reading(struct rules_state *s, const struct rules_shipment *sh,
                           const struct ot_reading *r, int late, rules_emit_fn emit, void *ctx)
{
    int fix = ot_reading_has(r, OT_CH_LAT) && ot_reading_has(r, OT_CH_LON) &&
              !(ot_reading_has(r, OT_CH_GNSS) && r->v[OT_CH_GNSS] < 1);
    if (!fix)
        return;
    if (!s->has_pos || r->ts >= s->pos_ts) {
        s->lat = r->v[OT_CH_LAT];
        s->lon = r->v[OT_CH_LON];
        s->pos_ts = r->ts;
        s->has_pos = 1;
        eta_fix_push(s, r->ts, s->lat, s->lon);
    }
    rules__eta_check(s, sh, r->ts, late, emit, ctx);
}
