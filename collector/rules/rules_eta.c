/* rules_eta.c - eta_late: projected arrival past the viability deadline.
 *
 * How: remaining distance = haversine great-circle distance (mean Earth
 * radius, ot_geo.h) from the last fix to the destination. Speed = mean
 * of the speed samples of the last 10 min of reading time: speed_kmh when
 * the reading carries it, otherwise derived from two successive fixes at
 * least 10 s apart. Without samples, or when the mean is below 5 km/h (a
 * stop at lights, loading onto an aircraft), the typical cruise of the mode
 * is assumed: 60 km/h ground, 500 km/h air. ETA = time of the last fix +
 * distance / speed; within 0.5 km of the destination the ETA is the fix time.
 * By air (modes air and mixed), while the container is still on the ground
 * (recent speed below the air cruise) more than 150 km from the destination,
 * the flight is still ahead: ETA = distance / 500 km/h + 45 min for the
 * transfers at both airports, rather than the ambulance's speed over the
 * whole great circle (which would call every heart flight late at the
 * donor hospital's door).
 * On a tick the ETA is never earlier than now (a vehicle that stopped
 * reporting is not assumed to have arrived). Arrival (a fix within 0.5 km)
 * clears the alarm whatever the time.
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
#define ETA_STOPPED_KMH 5.0
#define ETA_ARRIVED_KM 0.5
#define ETA_MIN_FIX_GAP_MS 10000
#define ETA_AIR_MIN_KM 150.0  /* farther than this by air: a flight is ahead */
#define ETA_AIR_GROUND_H 0.75 /* airport transfers, loading, taxi at both ends */

static void eta_speed_push(struct rules_state *s, int64_t ts, double kmh)
{
    size_t drop = 0;
    if (s->speed_n && ts < s->speed[s->speed_n - 1].ts)
        s->speed_n = 0;
    while (drop < s->speed_n && ts - s->speed[drop].ts > RULES__SPEED_WINDOW_MS)
        drop++;
    if (s->speed_n - drop == RULES__SPEED_CAP)
        drop++;
    if (drop) {
        memmove(s->speed, s->speed + drop, (s->speed_n - drop) * sizeof s->speed[0]);
        s->speed_n -= drop;
    }
    s->speed[s->speed_n].ts = ts;
    s->speed[s->speed_n].v = kmh;
    s->speed_n++;
}

static double eta_speed(const struct rules_state *s, const struct rules_shipment *sh)
{
    double sum = 0;
    size_t n = 0;
    for (size_t i = 0; i < s->speed_n; i++) {
        if (s->pos_ts - s->speed[i].ts > RULES__SPEED_WINDOW_MS)
            continue;
        sum += s->speed[i].v;
        n++;
    }
    double v = n ? sum / (double)n : 0;
    if (v < ETA_STOPPED_KMH)
        v = sh->air ? ETA_AIR_KMH : ETA_GROUND_KMH;
    return v;
}

int64_t rules_eta(const struct rules_state *s, const struct rules_shipment *sh)
{
    if (!s || !sh || !sh->has_dest || !s->has_pos)
        return 0;
    double km = ot_geo_distance_km(s->lat, s->lon, sh->dest_lat, sh->dest_lon);
    if (km <= ETA_ARRIVED_KM)
        return s->pos_ts;
    double v = eta_speed(s, sh);
    double h = km / v;
    if (sh->air && km > ETA_AIR_MIN_KM && v < ETA_AIR_KMH)
        h = km / ETA_AIR_KMH + ETA_AIR_GROUND_H;
    return s->pos_ts + (int64_t)(h * 3600000.0);
}

void rules__eta_check(struct rules_state *s, const struct rules_shipment *sh, int64_t now, int late,
                      rules_emit_fn emit, void *ctx)
{
    const struct ot_preservation *p = sh->profile;
    if (sh->cross_clamp_at <= 0 || p->max_cold_ischemia_min <= 0)
        return;
    int64_t eta = rules_eta(s, sh);
    if (!eta)
        return;
    double km = ot_geo_distance_km(s->lat, s->lon, sh->dest_lat, sh->dest_lon);
    if (km <= ETA_ARRIVED_KM) {
        /* arrived: the projection is over, late or not */
        rules__clear(
            s, RULES__ETA_LATE, now, late, 0, emit, ctx,
            "arrived at the destination %.0f min %s the viability deadline",
            fabs((double)(s->pos_ts - sh->cross_clamp_at - p->max_cold_ischemia_min * 60000) /
                 60000.0),
            s->pos_ts > sh->cross_clamp_at + p->max_cold_ischemia_min * 60000 ? "after" : "before");
        return;
    }
    if (eta < now)
        eta = now;
    int64_t limit_ms = p->max_cold_ischemia_min * 60000;
    int64_t deadline = sh->cross_clamp_at + limit_ms;
    int64_t margin = limit_ms / 20 < 600000 ? limit_ms / 20 : 600000;
    double late_min = (double)(eta - deadline) / 60000.0;
    if (!rules__active(s, RULES__ETA_LATE)) {
        if (eta > deadline)
            rules__raise(s, RULES__ETA_LATE, RULES_WARNING, now, late, late_min, emit, ctx,
                         "projected arrival %.0f min after the viability deadline (%.0f km left "
                         "at %.0f km/h)",
                         late_min, km, eta_speed(s, sh));
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
    if (ot_reading_has(r, OT_CH_SPEED) && r->v[OT_CH_SPEED] >= 0) {
        eta_speed_push(s, r->ts, r->v[OT_CH_SPEED]);
    } else if (fix && s->anchor_ts > 0 && r->ts - s->anchor_ts >= ETA_MIN_FIX_GAP_MS) {
        /* no speed channel: speed over ground between two fixes >= 10 s apart */
        double km =
            ot_geo_distance_km(s->anchor_lat, s->anchor_lon, r->v[OT_CH_LAT], r->v[OT_CH_LON]);
        eta_speed_push(s, r->ts, km / ((double)(r->ts - s->anchor_ts) / 3600000.0));
    }
    if (fix && (!s->has_pos || r->ts >= s->pos_ts)) {
        s->lat = r->v[OT_CH_LAT];
        s->lon = r->v[OT_CH_LON];
        s->pos_ts = r->ts;
        s->has_pos = 1;
        if (s->anchor_ts <= 0 || r->ts - s->anchor_ts >= ETA_MIN_FIX_GAP_MS) {
            s->anchor_lat = s->lat;
            s->anchor_lon = s->lon;
            s->anchor_ts = r->ts;
        }
    }
    if (fix)
        rules__eta_check(s, sh, r->ts, late, emit, ctx);
}
