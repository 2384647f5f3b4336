/* rules_legs.c - the planned legs of a shipment (SPEC v1.1): which leg the
 * container is on, and the ETA that follows the plan.
 *
 * Current leg. legs_done counts the legs whose end a fix has reached: within
 * 5 km of an airport (the end of a flight, or of a ground leg that a flight
 * follows), within 1 km of any other place. A fix at the end of a later
 * leg completes every leg up to it (GNSS is often off in flight: the first
 * fix after landing is at the arrival airport). A new plan (a redirect
 * changes the legs) starts the count again from the current position.
 *
 * ETA. From the current leg k:
 *   ground leg: rules__ground_eta to the leg's end, prior = the leg's
 *               planned speed (great-circle km over planned duration,
 *               5..150 km/h), not before its planned departure;
 *   flight:     its planned arrival (the flight's own times, not a guess
 *               from an ambulance's speed);
 * then each later leg in turn leaves at its planned departure or when the
 * container reaches it, whichever is later (a flight does not leave early
 * because the ambulance was early; unloading and transfers are in the
 * plan's gaps), and takes its planned duration. */
#include <string.h>

#include "ot_geo.h"
#include "rules_internal.h"

#define LEGS_AIRPORT_KM 5.0
#define LEGS_PLACE_KM 1.0
#define LEGS_MIN_KMH 5.0
#define LEGS_MAX_KMH 150.0

static uint64_t fnv(uint64_t h, const void *v, size_t n)
{
    const unsigned char *p = v;
    for (size_t k = 0; k < n; k++)
        h = (h ^ p[k]) * 1099511628211ULL;
    return h;
}

static uint64_t legs_hash(const struct rules_shipment *sh)
{
    uint64_t h = fnv(1469598103934665603ULL, &sh->n_legs, sizeof sh->n_legs);
    for (size_t i = 0; i < sh->n_legs; i++) {
        const struct rules_leg *l = &sh->legs[i];
        h = fnv(h, &l->air, sizeof l->air);
        h = fnv(h, &l->from_lat, sizeof l->from_lat);
        h = fnv(h, &l->from_lon, sizeof l->from_lon);
        h = fnv(h, &l->to_lat, sizeof l->to_lat);
        h = fnv(h, &l->to_lon, sizeof l->to_lon);
        h = fnv(h, &l->planned_departure, sizeof l->planned_departure);
        h = fnv(h, &l->planned_arrival, sizeof l->planned_arrival);
    }
    return h;
}

static double leg_radius(const struct rules_shipment *sh, size_t i)
{
    int airport = sh->legs[i].air || (i + 1 < sh->n_legs && sh->legs[i + 1].air);
    return airport ? LEGS_AIRPORT_KM : LEGS_PLACE_KM;
}

size_t rules__legs_current(const struct rules_state *s, const struct rules_shipment *sh)
{
    size_t done = s->legs_hash == legs_hash(sh) ? s->legs_done : 0;
    if (!s->has_pos)
        return done;
    for (size_t i = done; i < sh->n_legs; i++) {
        const struct rules_leg *l = &sh->legs[i];
        if (ot_geo_distance_km(s->lat, s->lon, l->to_lat, l->to_lon) <= leg_radius(sh, i))
            done = i + 1;
    }
    return done;
}

void rules__legs_track(struct rules_state *s, const struct rules_shipment *sh)
{
    size_t done = rules__legs_current(s, sh);
    uint64_t h = legs_hash(sh);
    if (s->has_pos && (!s->leg_start.ts || done != s->legs_done || h != s->legs_hash)) {
        /* progress on a leg is measured from where the container began it */
        s->leg_start.ts = s->pos_ts;
        s->leg_start.lat = s->lat;
        s->leg_start.lon = s->lon;
    }
    s->legs_done = done;
    s->legs_hash = h;
}

static double leg_kmh(const struct rules_leg *l)
{
    double km = ot_geo_distance_km(l->from_lat, l->from_lon, l->to_lat, l->to_lon);
    double h = (double)(l->planned_arrival - l->planned_departure) / 3600000.0;
    double v = h > 0 ? km / h : LEGS_MIN_KMH;
    return v < LEGS_MIN_KMH ? LEGS_MIN_KMH : v > LEGS_MAX_KMH ? LEGS_MAX_KMH : v;
}

int64_t rules__legs_eta(const struct rules_state *s, const struct rules_shipment *sh,
                        struct rules_eta_info *out)
{
    size_t k = rules__legs_current(s, sh);
    if (k >= sh->n_legs)
        return 0;
    const struct rules_leg *cur = &sh->legs[k];
    int64_t t;
    out->leg = k;
    if (cur->air) {
        t = cur->planned_arrival;
        out->kmh = 0;
        out->observed = 0;
    } else {
        t = rules__ground_eta(s, cur->to_lat, cur->to_lon, leg_kmh(cur), cur->planned_departure,
                              out);
    }
    for (size_t i = k + 1; i < sh->n_legs; i++) {
        const struct rules_leg *l = &sh->legs[i];
        int64_t dur = l->planned_arrival - l->planned_departure;
        if (t < l->planned_departure)
            t = l->planned_departure;
        t += dur;
    }
    return t;
}
