/* rules_progress.c - the journey's progress, as UNOS reports it (issue 12):
 * departed, at_airport, airborne, landed, and arrival_suggested (the crew
 * confirms it with the custody `arrived` entry; nothing here writes
 * custody). Events, not alarms: they go to their own callback.
 *
 * Places and their fences. With legs, place 2i is leg i's `from` and 2i+1
 * its `to`; without, 0 is the shipment's origin and 1 its destination. A
 * place's radius is its `radius_m` from the plan, else the default for its
 * kind: an airport (either end of an air leg, or the end of a ground leg
 * that meets one) PROGRESS_AIRPORT_M, any other place (a hospital)
 * PROGRESS_PLACE_M. Each place has a hysteresis state: inside from a fix
 * within the radius, outside from a fix beyond radius + max(50 m, radius/4);
 * fixes in between keep the state, so GNSS jitter at the edge flips
 * nothing.
 *
 * Milestones, in journey order: departed (leaving the origin), then per air
 * leg k at_airport(k) (inside its departure airport), airborne(k) (after
 * at_airport(k), outside that airport and faster than PROGRESS_AIR_KMH or
 * PROGRESS_CLIMB_M above the lowest altitude seen there), landed(k)
 * (inside the arrival airport slower than PROGRESS_LANDED_KMH, after
 * airborne(k); also after at_airport(k) alone when no fix came in flight,
 * then marked observed 0), and last arrival_suggested (inside the
 * destination, after departed). When the first leg is a flight, its
 * at_airport comes before departed (the origin is the airport). Each fires
 * once, and never after a later one: progress does not go backwards, and a
 * milestone without fixes is skipped rather than made up.
 *
 * Confirmation: a milestone's condition must hold on PROGRESS_CONFIRM_FIXES
 * consecutive fixes spanning PROGRESS_CONFIRM_MS; one stray fix (a
 * multipath jump, a speed spike) is not a departure. The event carries the
 * reading time of the run's first fix: when it happened, not when it was
 * confirmed. Speed is the speed_kmh channel, else the distance from the
 * previous fix over the time between them. */
#include <math.h>
#include <string.h>

#include "ot_geo.h"
#include "rules_internal.h"

/* A hospital campus: buildings, loading bay and helipad lie within a few
 * hundred metres of the point a coordinator picks on a map, and GNSS in a
 * town errs by tens of metres; 300 m holds a standing vehicle inside and
 * lets one that drove off be outside within a minute. */
#define PROGRESS_PLACE_M 300.0
/* An airport's point (ICAO reference point) lies near the middle of the
 * runways; apron, cargo terminal and runway ends of a 3-3.5 km runway are
 * 1-2 km from it. */
#define PROGRESS_AIRPORT_M 2000.0
#define PROGRESS_AIR_KMH 180.0   /* above any ambulance, below any climb-out */
#define PROGRESS_CLIMB_M 300.0   /* no road near an airport climbs that much */
#define PROGRESS_LANDED_KMH 60.0 /* taxiing, not flying */
#define PROGRESS_CONFIRM_FIXES 2u
#define PROGRESS_CONFIRM_MS 10000LL
#define PROGRESS_IMPLIED_MAX_MS (10 * 60 * 1000LL) /* older fix: no speed from it */

static const char *const kind_names[RULES__P_COUNT] = {"departed", "at_airport", "airborne",
                                                       "landed", "arrival_suggested"};

const char *rules_progress_kind(size_t i)
{
    return i < RULES__P_COUNT ? kind_names[i] : NULL;
}

struct place {
    double lat, lon, radius_m;
};

static int is_airport(const struct rules_shipment *sh, int place)
{
    if (!sh->n_legs)
        return 0;
    size_t i = (size_t)place / 2;
    if (sh->legs[i].air)
        return 1;
    return place % 2 ? i + 1 < sh->n_legs && sh->legs[i + 1].air : i > 0 && sh->legs[i - 1].air;
}

double rules_progress_radius(const struct rules_shipment *sh, int place)
{
    return is_airport(sh, place) ? PROGRESS_AIRPORT_M : PROGRESS_PLACE_M;
}

/* The places of the plan; a missing origin or destination (no legs) has
 * radius 0. Returns how many. */
static size_t places(const struct rules_shipment *sh, struct place *p)
{
    if (!sh->n_legs) {
        p[0] =
            (struct place){sh->origin_lat, sh->origin_lon, sh->has_origin ? PROGRESS_PLACE_M : 0};
        p[1] = (struct place){sh->dest_lat, sh->dest_lon, sh->has_dest ? PROGRESS_PLACE_M : 0};
        return 2;
    }
    for (size_t i = 0; i < sh->n_legs; i++) {
        const struct rules_leg *l = &sh->legs[i];
        p[2 * i] = (struct place){l->from_lat, l->from_lon, l->from_radius_m};
        p[2 * i + 1] = (struct place){l->to_lat, l->to_lon, l->to_radius_m};
        for (int e = 0; e < 2; e++)
            if (!(p[2 * i + e].radius_m > 0))
                p[2 * i + e].radius_m = rules_progress_radius(sh, (int)(2 * i) + e);
    }
    return 2 * sh->n_legs;
}

static double exit_m(double r)
{
    return r + (r / 4 > 50 ? r / 4 : 50);
}

/* A milestone of the journey. */
struct step {
    enum rules__pkind kind;
    int leg;   /* -1: the shipment */
    int place; /* its fence */
};

static size_t steps(const struct rules_shipment *sh, const struct place *pl, size_t n_pl,
                    struct step *out)
{
    size_t n = 0;
    int origin = pl[0].radius_m > 0 ? 0 : -1;
    int dest = pl[n_pl - 1].radius_m > 0 ? (int)n_pl - 1 : -1;
    int first_air = sh->n_legs && sh->legs[0].air;
    if (first_air)
        out[n++] = (struct step){RULES__P_AT_AIRPORT, 0, 0};
    if (origin >= 0)
        out[n++] = (struct step){RULES__P_DEPARTED, -1, origin};
    for (size_t k = 0; k < sh->n_legs; k++) {
        if (!sh->legs[k].air)
            continue;
        if (k > 0 || !first_air)
            out[n++] = (struct step){RULES__P_AT_AIRPORT, (int)k, (int)(2 * k)};
        out[n++] = (struct step){RULES__P_AIRBORNE, (int)k, (int)(2 * k)};
        out[n++] = (struct step){RULES__P_LANDED, (int)k, (int)(2 * k + 1)};
    }
    if (dest >= 0)
        out[n++] = (struct step){RULES__P_ARRIVAL, -1, dest};
    return n;
}

static int fired(const struct rules__progress *p, enum rules__pkind k, int leg)
{
    return (p->fired[k] >> (leg < 0 ? 0 : leg)) & 1u;
}

static void init(struct rules__progress *p)
{
    if (p->init)
        return;
    for (size_t i = 0; i < RULES__PLACES; i++)
        p->fence[i].inside = -1;
    for (size_t i = 0; i < RULES_LEGS_MAX; i++)
        p->base_alt[i] = NAN;
    p->init = 1;
}

static void update_fences(struct rules__progress *p, const struct place *pl, size_t n_pl,
                          double lat, double lon)
{
    for (size_t i = 0; i < n_pl; i++) {
        if (!(pl[i].radius_m > 0))
            continue;
        if (p->fence[i].lat != pl[i].lat || p->fence[i].lon != pl[i].lon) {
            /* a new plan: this place is another one */
            p->fence[i].lat = pl[i].lat;
            p->fence[i].lon = pl[i].lon;
            p->fence[i].inside = -1;
        }
        double d = ot_geo_distance_km(lat, lon, pl[i].lat, pl[i].lon) * 1000.0;
        if (d <= pl[i].radius_m)
            p->fence[i].inside = 1;
        else if (d > exit_m(pl[i].radius_m))
            p->fence[i].inside = 0;
    }
}

/* Does the fix show step st (ignoring what must come before it)? */
static int shows(const struct rules__progress *p, const struct step *st, double kmh, double alt)
{
    int in = p->fence[st->place].inside;
    switch (st->kind) {
    case RULES__P_DEPARTED:
        return in == 0;
    case RULES__P_AT_AIRPORT:
    case RULES__P_ARRIVAL:
        return in == 1;
    case RULES__P_AIRBORNE: {
        double base = p->base_alt[st->leg];
        return in == 0 && ((kmh == kmh && kmh >= PROGRESS_AIR_KMH) ||
                           (alt == alt && base == base && alt - base >= PROGRESS_CLIMB_M));
    }
    case RULES__P_LANDED:
        return in == 1 && !(kmh == kmh && kmh >= PROGRESS_LANDED_KMH);
    case RULES__P_COUNT:
        break;
    }
    return 0;
}

/* May step st fire now (what it needs first has happened)? *observed: 0
 * for a landing whose flight no fix saw. */
static int allowed(const struct rules__progress *p, const struct step *st, int origin,
                   int *observed)
{
    *observed = 1;
    switch (st->kind) {
    case RULES__P_AIRBORNE:
        return fired(p, RULES__P_AT_AIRPORT, st->leg);
    case RULES__P_LANDED:
        if (fired(p, RULES__P_AIRBORNE, st->leg))
            return 1;
        *observed = 0;
        return fired(p, RULES__P_AT_AIRPORT, st->leg);
    case RULES__P_ARRIVAL:
        return origin < 0 || fired(p, RULES__P_DEPARTED, -1);
    default:
        return 1;
    }
}

void rules_progress_on_reading(struct rules_state *s, const struct rules_shipment *sh,
                               const struct ot_reading *r, int late, rules_progress_fn emit,
                               void *ctx)
{
    struct rules__progress *p = &s->prog;
    struct place pl[RULES__PLACES];
    struct step st[2 + 3 * RULES_LEGS_MAX];
    int fix = ot_reading_has(r, OT_CH_LAT) && ot_reading_has(r, OT_CH_LON) &&
              !(ot_reading_has(r, OT_CH_GNSS) && r->v[OT_CH_GNSS] < 1);
    init(p);
    if (!fix || (p->prev_ts && r->ts < p->prev_ts))
        return; /* no position, or one older than what was judged */
    double lat = r->v[OT_CH_LAT], lon = r->v[OT_CH_LON];
    double alt = ot_reading_has(r, OT_CH_ALT) ? r->v[OT_CH_ALT] : NAN;
    double kmh = NAN;
    if (ot_reading_has(r, OT_CH_SPEED))
        kmh = r->v[OT_CH_SPEED];
    else if (p->prev_ts && r->ts - p->prev_ts >= 1000 &&
             r->ts - p->prev_ts <= PROGRESS_IMPLIED_MAX_MS)
        kmh = ot_geo_distance_km(p->prev_lat, p->prev_lon, lat, lon) /
              ((double)(r->ts - p->prev_ts) / 3600000.0);
    p->prev_ts = r->ts;
    p->prev_lat = lat;
    p->prev_lon = lon;

    size_t n_pl = places(sh, pl);
    update_fences(p, pl, n_pl, lat, lon);
    for (size_t k = 0; k < sh->n_legs; k++)
        if (sh->legs[k].air && p->fence[2 * k].inside == 1 && alt == alt &&
            !(p->base_alt[k] <= alt))
            p->base_alt[k] = alt; /* the lowest seen at the departure airport */

    size_t n = steps(sh, pl, n_pl, st), next = 0;
    int origin = pl[0].radius_m > 0 ? 0 : -1; /* departed is a step */
    for (size_t j = 0; j < n; j++)
        if (fired(p, st[j].kind, st[j].leg))
            next = j + 1;
    for (size_t j = next; j < n; j++) {
        struct rules__prun *run = &p->run[st[j].kind][st[j].leg < 0 ? 0 : st[j].leg];
        int observed = 1;
        if (!shows(p, &st[j], kmh, alt)) {
            run->since = 0;
            run->n = 0;
            continue;
        }
        if (!run->since) {
            run->since = r->ts;
            run->n = 0;
            run->late = late;
            run->lat = lat;
            run->lon = lon;
            run->kmh = kmh;
            run->alt = alt;
        }
        run->n++;
        if (run->n < PROGRESS_CONFIRM_FIXES || r->ts - run->since < PROGRESS_CONFIRM_MS ||
            !allowed(p, &st[j], origin, &observed))
            continue;
        struct rules_progress ev = {kind_names[st[j].kind],
                                    st[j].leg,
                                    st[j].place,
                                    run->since,
                                    run->late,
                                    observed,
                                    run->lat,
                                    run->lon,
                                    run->kmh,
                                    run->alt,
                                    pl[st[j].place].radius_m};
        p->fired[st[j].kind] |= 1u << (st[j].leg < 0 ? 0 : st[j].leg);
        run->since = 0;
        run->n = 0;
        /* what lies before it in the journey can no longer happen */
        for (size_t i = next; i < j; i++) {
            p->run[st[i].kind][st[i].leg < 0 ? 0 : st[i].leg].since = 0;
            p->run[st[i].kind][st[i].leg < 0 ? 0 : st[i].leg].n = 0;
        }
        next = j + 1;
        if (emit)
            emit(ctx, &ev);
    }
}

enum ot_err rules_progress_restore(struct rules_state *s, const char *kind, int leg)
{
    for (int k = 0; k < RULES__P_COUNT; k++) {
        if (!kind || strcmp(kind, kind_names[k]))
            continue;
        int wide = k == RULES__P_DEPARTED || k == RULES__P_ARRIVAL;
        if (wide ? leg != -1 : (leg < 0 || leg >= RULES_LEGS_MAX))
            return OT_ERR_INVAL;
        init(&s->prog);
        s->prog.fired[k] |= 1u << (leg < 0 ? 0 : leg);
        return OT_OK;
    }
    return OT_ERR_INVAL;
}
