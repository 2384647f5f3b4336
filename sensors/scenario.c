/* scenario.c - the scenario model of organtrack-sensors.
 *
 * How it works:
 * - Route: waypoints joined by legs. Leg i waits dwell_s at waypoint i, then
 *   moves at speed_kmh along the great circle to waypoint i+1 (a road leg's
 *   travel time is stretched by distance_factor, since roads are not
 *   straight). Position is spherical interpolation between the two
 *   waypoints; heading is the initial bearing to the leg's destination. Air
 *   legs climb and descend at climb_rate_mps to altitude_m. After the last
 *   waypoint the container stands still. The route is a pure function of t.
 * - Thermal: the product temperature T relaxes, in exact exponential steps,
 *   toward the weighted equilibrium of the pack (pack_c, rate 1/tau_pack,
 *   only while the pack has latent heat left), the ambient (rate
 *   1/tau_ambient, or 1/tau_lid while the lid is open) and an excursion
 *   target (rate 1/tau_s while an excursion event is active). Every step
 *   moves T monotonically toward that equilibrium without overshoot. The
 *   pack's latent heat is used up in proportion to (ambient - pack_c) times
 *   the wall coupling; once exhausted, T drifts to ambient.
 * - Noise and shocks come from a counter-based generator: splitmix64 of
 *   (seed, step, stream). A value at step n depends only on the seed and n,
 *   never on how often the model was sampled, so the live server and
 *   --dump-scenario agree exactly and runs are reproducible.
 * - The model advances in fixed SCENARIO_STEP_S steps from t = 0; stuck and
 *   GNSS-loss faults freeze the values of the step where they began.
 */
#include "scenario.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ot_conf.h"
#include "ot_geo.h"
#include "ot_time.h"

#define DEG2RAD (3.14159265358979323846 / 180.0)

static const char *const sig_names[SIG__COUNT] = {
    "temp_c",      "temp2_c",  "ambient_c", "lat",         "lon",      "alt_m",      "speed_kmh",
    "heading_deg", "lid_open", "shock_g",   "battery_pct", "gnss_fix", "satellites", "humidity"};

static const char *const ev_names[EV__COUNT] = {"dropout",   "slow",      "crc_noise",
                                                "stuck",     "gnss_loss", "link_gap",
                                                "excursion", "lid_open",  "shock"};

int scenario__signal_index(const char *name)
{
    for (int i = 0; i < SIG__COUNT; i++)
        if (strcmp(name, sig_names[i]) == 0)
            return i;
    return -1;
}

const char *scenario__signal_name(int sig)
{
    return sig >= 0 && sig < SIG__COUNT ? sig_names[sig] : "?";
}

const char *scenario__event_name(enum scenario_event_type t)
{
    return (int)t >= 0 && t < EV__COUNT ? ev_names[t] : "?";
}

uint64_t scenario__hash(uint64_t seed, uint64_t step, uint64_t stream)
{
    uint64_t z = seed ^ (step * 0x9E3779B97F4A7C15ull) ^ (stream * 0xD1B54A32D192ED03ull);
    /* splitmix64 finaliser, applied twice for good avalanche on nearby inputs */
    for (int i = 0; i < 2; i++) {
        z += 0x9E3779B97F4A7C15ull;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z = z ^ (z >> 31);
    }
    return z;
}

double scenario__uniform(uint64_t seed, uint64_t step, uint64_t stream)
{
    return (double)(scenario__hash(seed, step, stream) >> 11) * (1.0 / 9007199254740992.0);
}

double scenario__normal(uint64_t seed, uint64_t step, uint64_t stream)
{
    /* Irwin-Hall: the sum of 12 uniforms minus 6 has mean 0, variance 1 */
    double s = 0;
    for (uint64_t i = 0; i < 12; i++)
        s += scenario__uniform(seed, step, stream * 16 + i);
    return s - 6.0;
}

static double bearing_deg(double lat1, double lon1, double lat2, double lon2)
{
    double p1 = lat1 * DEG2RAD, p2 = lat2 * DEG2RAD, dl = (lon2 - lon1) * DEG2RAD;
    double y = sin(dl) * cos(p2);
    double x = cos(p1) * sin(p2) - sin(p1) * cos(p2) * cos(dl);
    double b = atan2(y, x) / DEG2RAD;
    return fmod(b + 360.0, 360.0);
}

/* Spherical linear interpolation between two points, f in [0,1]. */
static void slerp(double lat1, double lon1, double lat2, double lon2, double f, double *lat,
                  double *lon)
{
    double p1 = lat1 * DEG2RAD, l1 = lon1 * DEG2RAD, p2 = lat2 * DEG2RAD, l2 = lon2 * DEG2RAD;
    double d = ot_geo_distance_km(lat1, lon1, lat2, lon2) / OT_EARTH_KM;
    if (d < 1e-12) {
        *lat = lat1;
        *lon = lon1;
        return;
    }
    double a = sin((1 - f) * d) / sin(d), b = sin(f * d) / sin(d);
    double x = a * cos(p1) * cos(l1) + b * cos(p2) * cos(l2);
    double y = a * cos(p1) * sin(l1) + b * cos(p2) * sin(l2);
    double z = a * sin(p1) + b * sin(p2);
    *lat = atan2(z, sqrt(x * x + y * y)) / DEG2RAD;
    *lon = atan2(y, x) / DEG2RAD;
}

double scenario__route_end_s(const struct scenario *sc)
{
    return sc->nwp > 1 ? sc->leg[sc->nwp - 2].t_arrive : 0.0;
}

void scenario__route_at(const struct scenario *sc, double t, double *lat, double *lon,
                        double *alt_m, double *speed_kmh, double *heading_deg, double *ambient_c,
                        int *leg_index)
{
    const struct scenario_waypoint *w = sc->wp;
    size_t nl = sc->nwp - 1;
    if (nl == 0 || t >= sc->leg[nl - 1].t_arrive) {
        const struct scenario_waypoint *e = &w[sc->nwp - 1];
        *lat = e->lat;
        *lon = e->lon;
        *alt_m = e->alt_m;
        *speed_kmh = 0;
        *heading_deg = nl ? bearing_deg(w[nl - 1].lat, w[nl - 1].lon, e->lat, e->lon) : 0;
        *ambient_c = sc->arrival_ambient_c;
        *leg_index = (int)nl;
        return;
    }
    size_t i = 0;
    while (i + 1 < nl && t >= sc->leg[i].t_arrive)
        i++;
    const struct scenario_leg *L = &sc->leg[i];
    const struct scenario_waypoint *a = &w[i], *b = &w[i + 1];
    *leg_index = (int)i;
    *ambient_c = L->ambient_c;
    *heading_deg = bearing_deg(a->lat, a->lon, b->lat, b->lon);
    if (t < L->t_depart) {
        *lat = a->lat;
        *lon = a->lon;
        *alt_m = a->alt_m;
        *speed_kmh = 0;
        return;
    }
    double dur = L->t_arrive - L->t_depart;
    double f = dur > 0 ? (t - L->t_depart) / dur : 1.0;
    if (f > 1)
        f = 1;
    slerp(a->lat, a->lon, b->lat, b->lon, f, lat, lon);
    *heading_deg = bearing_deg(*lat, *lon, b->lat, b->lon);
    double base = a->alt_m + (b->alt_m - a->alt_m) * f;
    *alt_m = base;
    if (L->air && L->altitude_m > base) {
        double climb_t = (L->altitude_m - base) / sc->climb_rate_mps;
        if (climb_t > dur / 2)
            climb_t = dur / 2;
        double up = climb_t > 0
                        ? fmin(1.0, fmin((t - L->t_depart) / climb_t, (L->t_arrive - t) / climb_t))
                        : 1.0;
        *alt_m = base + (L->altitude_m - base) * up;
    }
    *speed_kmh = L->speed_kmh;
}

const struct scenario_event *scenario__active(const struct scenario *sc, enum scenario_event_type t,
                                              double t_s)
{
    for (size_t i = 0; i < sc->nev; i++) {
        const struct scenario_event *e = &sc->ev[i];
        if (e->type == t && t_s >= e->at_s && t_s < e->at_s + e->duration_s)
            return e;
    }
    return NULL;
}

/* ---- model ---- */

/* noise streams */
enum { ST_T1 = 1, ST_T2, ST_AMB, ST_SHOCK, ST_BUMP, ST_SPEED, ST_SATS, ST_HUM };

static void compute_outputs(struct scenario_model *m)
{
    const struct scenario *sc = m->sc;
    uint64_t seed = sc->seed, n = (uint64_t)m->step;
    double t = (double)m->step * SCENARIO_STEP_S;
    double lat, lon, alt, spd, hdg, amb_target;
    int leg;
    scenario__route_at(sc, t, &lat, &lon, &alt, &spd, &hdg, &amb_target, &leg);
    int air = leg < (int)sc->nwp - 1 ? sc->leg[leg].air : 0;
    double *v = m->v;

    v[SIG_TEMP] = m->temp_c + sc->th.noise_c * scenario__normal(seed, n, ST_T1);
    v[SIG_TEMP2] =
        m->temp_c + sc->th.probe2_offset_c + sc->th.noise_c * scenario__normal(seed, n, ST_T2);
    v[SIG_AMBIENT] = m->ambient_c + 0.05 * scenario__normal(seed, n, ST_AMB);
    v[SIG_LAT] = lat;
    v[SIG_LON] = lon;
    v[SIG_ALT] = alt;
    v[SIG_SPEED] =
        spd > 0 ? fmax(0.0, spd * (1.0 + 0.03 * scenario__normal(seed, n, ST_SPEED))) : 0.0;
    v[SIG_HEADING] = hdg;
    v[SIG_LID] = scenario__active(sc, EV_LID_OPEN, t) ? 1.0 : 0.0;

    /* vibration: still < air < road; rare potholes on the road */
    double base = spd <= 0 ? 0.01 : air ? 0.04 : 0.08;
    double g = base + fabs(scenario__normal(seed, n, ST_SHOCK)) * base;
    if (spd > 0 && !air && scenario__uniform(seed, n, ST_BUMP) < 0.002)
        g += 0.6 + scenario__uniform(seed, n, ST_BUMP + 100) * 0.9;
    const struct scenario_event *sh = scenario__active(sc, EV_SHOCK, t);
    if (sh)
        g = fmax(g, sh->g);
    v[SIG_SHOCK] = g;

    double bat = sc->battery_start_pct - sc->battery_drain_pct_h * t / 3600.0;
    v[SIG_BATTERY] = fmin(100.0, fmax(0.0, bat));
    v[SIG_GNSS_FIX] = 3;
    v[SIG_SATELLITES] = 8 + floor(scenario__uniform(seed, n / 60, ST_SATS) * 5);
    v[SIG_HUMIDITY] = fmin(100.0, fmax(0.0, sc->humidity_pct + 5.0 * sin(t / 3600.0) +
                                                0.3 * scenario__normal(seed, n, ST_HUM)));

    /* GNSS loss: position, motion and fix frozen at the last fix */
    if (scenario__active(sc, EV_GNSS_LOSS, t)) {
        if (!m->gnss_lost)
            m->gnss_lost = 1;
        static const int gs[] = {SIG_LAT, SIG_LON, SIG_ALT, SIG_SPEED, SIG_HEADING};
        for (size_t i = 0; i < sizeof gs / sizeof gs[0]; i++)
            v[gs[i]] = m->fix_v[gs[i]];
        v[SIG_GNSS_FIX] = 0;
        v[SIG_SATELLITES] = 0;
    } else {
        m->gnss_lost = 0;
        memcpy(m->fix_v, v, sizeof m->fix_v);
    }

    /* stuck: frozen at the value of the onset step */
    int stuck[SIG__COUNT] = {0};
    for (size_t i = 0; i < sc->nev; i++) {
        const struct scenario_event *e = &sc->ev[i];
        if (e->type != EV_STUCK || t < e->at_s || t >= e->at_s + e->duration_s)
            continue;
        for (int s = 0; s < SIG__COUNT; s++)
            if (e->signal < 0 || e->signal == s)
                stuck[s] = 1;
    }
    for (int s = 0; s < SIG__COUNT; s++) {
        if (stuck[s]) {
            if (!m->stuck_on[s])
                m->stuck_v[s] = v[s];
            v[s] = m->stuck_v[s];
        }
        m->stuck_on[s] = stuck[s];
    }
}

void scenario__model_init(struct scenario_model *m, const struct scenario *sc)
{
    memset(m, 0, sizeof *m);
    m->sc = sc;
    m->temp_c = sc->th.initial_c;
    m->pack_left = 1.0;
    double lat, lon, alt, spd, hdg, amb;
    int leg;
    scenario__route_at(sc, 0, &lat, &lon, &alt, &spd, &hdg, &amb, &leg);
    m->ambient_c = amb;
    compute_outputs(m);
}

/* One step from t to t + dt: exact solution of the linear relaxation with
 * the rates held constant over the step. */
static void thermal_step(struct scenario_model *m, double t, double dt)
{
    const struct scenario *sc = m->sc;
    const struct scenario_thermal *th = &sc->th;
    double lat, lon, alt, spd, hdg, amb_target;
    int leg;
    scenario__route_at(sc, t, &lat, &lon, &alt, &spd, &hdg, &amb_target, &leg);
    /* the air around the box follows the leg's ambient within minutes */
    m->ambient_c = amb_target + (m->ambient_c - amb_target) * exp(-dt / 300.0);

    int lid = scenario__active(sc, EV_LID_OPEN, t) != NULL;
    const struct scenario_event *ex = scenario__active(sc, EV_EXCURSION, t);
    double k_pack = m->pack_left > 0 ? 1.0 / th->tau_pack_s : 0.0;
    double k_amb = 1.0 / (lid ? th->tau_lid_s : th->tau_ambient_s);
    double k_ex = ex ? 1.0 / ex->tau_s : 0.0;
    double k = k_pack + k_amb + k_ex;
    double eq = (k_pack * th->pack_c + k_amb * m->ambient_c + (ex ? k_ex * ex->target_c : 0.0)) / k;
    m->temp_c = eq + (m->temp_c - eq) * exp(-k * dt);

    if (m->pack_left > 0) {
        /* heat through the walls (faster with the lid open) melts the pack; an
         * excursion is a forced disturbance and does not use it up */
        double load_kh = (m->ambient_c - th->pack_c) * (k_amb * th->tau_ambient_s) * dt / 3600.0;
        if (load_kh > 0)
            m->pack_left -= load_kh / th->pack_capacity_kh;
        if (m->pack_left < 0)
            m->pack_left = 0;
    }
}

void scenario__model_advance(struct scenario_model *m, double t_s)
{
    if (!(t_s >= 0))
        return;
    int64_t target = (int64_t)floor(t_s / SCENARIO_STEP_S);
    while (m->step < target) {
        thermal_step(m, (double)m->step * SCENARIO_STEP_S, SCENARIO_STEP_S);
        m->step++;
        compute_outputs(m);
    }
}

/* ---- loading ---- */

static enum ot_err load_event(struct ot_conf *c, const cJSON *o, const char *where,
                              struct scenario_event *e)
{
    static const char *const known[] = {"type",        "at_s",     "duration_s", "delay_ms",
                                        "probability", "target_c", "tau_s",      "g",
                                        "signal",      "comment",  NULL};
    enum ot_err rc;
    const char *s;
    if (!cJSON_IsObject(o))
        return ot_conf_fail(c, where, "", "expected an object");
    if ((rc = ot_conf_known(c, o, where, known)))
        return rc;
    if ((rc = ot_conf_str(c, o, where, "type", NULL, &s)))
        return rc;
    int ty = -1;
    for (int i = 0; i < EV__COUNT; i++)
        if (strcmp(s, ev_names[i]) == 0)
            ty = i;
    if (ty < 0)
        return ot_conf_fail(c, where, "type",
                            "expected dropout, slow, crc_noise, stuck, gnss_loss, link_gap, "
                            "excursion, lid_open or shock");
    e->type = (enum scenario_event_type)ty;
    if ((rc = ot_conf_num(c, o, where, "at_s", 1, 0, 0, 1e9, &e->at_s)))
        return rc;
    if ((rc = ot_conf_num(c, o, where, "duration_s", e->type != EV_SHOCK, 1.0, 0, 1e9,
                          &e->duration_s)))
        return rc;
    if ((rc = ot_conf_num(c, o, where, "delay_ms", e->type == EV_SLOW, 0, 0, 60000, &e->delay_ms)))
        return rc;
    if ((rc = ot_conf_num(c, o, where, "probability", 0, 1.0, 0, 1, &e->probability)))
        return rc;
    if ((rc = ot_conf_num(c, o, where, "target_c", e->type == EV_EXCURSION, 0, -80, 80,
                          &e->target_c)))
        return rc;
    if ((rc = ot_conf_num(c, o, where, "tau_s", 0, 600, 1, 1e7, &e->tau_s)))
        return rc;
    if ((rc = ot_conf_num(c, o, where, "g", e->type == EV_SHOCK, 0, 0, 100, &e->g)))
        return rc;
    e->signal = -1;
    if ((rc = ot_conf_str(c, o, where, "signal", "all", &s)))
        return rc;
    if (strcmp(s, "all") != 0) {
        e->signal = scenario__signal_index(s);
        if (e->signal < 0)
            return ot_conf_fail(c, where, "signal", "unknown signal \"%.40s\"", s);
    }
    return OT_OK;
}

static enum ot_err load_route(struct ot_conf *c, const cJSON *route, struct scenario *sc)
{
    static const char *const known[] = {"waypoints",      "legs",    "arrival_ambient_c",
                                        "climb_rate_mps", "comment", NULL};
    static const char *const wknown[] = {"name", "lat", "lon", "alt_m", "comment", NULL};
    static const char *const lknown[] = {"mode",    "speed_kmh",       "altitude_m", "ambient_c",
                                         "dwell_s", "distance_factor", "comment",    NULL};
    enum ot_err rc;
    const cJSON *wps, *legs, *it;
    char where[48];
    const char *s;
    if ((rc = ot_conf_known(c, route, "route", known)))
        return rc;
    if ((rc = ot_conf_child(c, route, "route", "waypoints", cJSON_Array, 1, &wps)))
        return rc;
    int n = cJSON_GetArraySize(wps);
    if (n < 1 || n > SCENARIO_MAX_WAYPOINTS)
        return ot_conf_fail(c, "route", "waypoints", "expected 1..%d waypoints",
                            SCENARIO_MAX_WAYPOINTS);
    int i = 0;
    cJSON_ArrayForEach(it, wps)
    {
        struct scenario_waypoint *w = &sc->wp[i];
        snprintf(where, sizeof where, "route.waypoints[%d]", i);
        if (!cJSON_IsObject(it))
            return ot_conf_fail(c, where, "", "expected an object");
        if ((rc = ot_conf_known(c, it, where, wknown)))
            return rc;
        if ((rc = ot_conf_str(c, it, where, "name", "", &s)))
            return rc;
        snprintf(w->name, sizeof w->name, "%s", s);
        if ((rc = ot_conf_num(c, it, where, "lat", 1, 0, -90, 90, &w->lat)) ||
            (rc = ot_conf_num(c, it, where, "lon", 1, 0, -180, 180, &w->lon)) ||
            (rc = ot_conf_num(c, it, where, "alt_m", 0, 0, -500, 9000, &w->alt_m)))
            return rc;
        i++;
    }
    sc->nwp = (size_t)n;
    if ((rc = ot_conf_child(c, route, "route", "legs", cJSON_Array, n > 1, &legs)))
        return rc;
    int nl = legs ? cJSON_GetArraySize(legs) : 0;
    if (nl != n - 1)
        return ot_conf_fail(c, "route", "legs", "expected %d legs (one per pair of waypoints)",
                            n - 1);
    double t = 0;
    i = 0;
    if (legs) {
        cJSON_ArrayForEach(it, legs)
        {
            struct scenario_leg *L = &sc->leg[i];
            snprintf(where, sizeof where, "route.legs[%d]", i);
            if (!cJSON_IsObject(it))
                return ot_conf_fail(c, where, "", "expected an object");
            if ((rc = ot_conf_known(c, it, where, lknown)))
                return rc;
            if ((rc = ot_conf_str(c, it, where, "mode", NULL, &s)))
                return rc;
            if (strcmp(s, "road") == 0)
                L->air = 0;
            else if (strcmp(s, "air") == 0)
                L->air = 1;
            else
                return ot_conf_fail(c, where, "mode", "expected road or air");
            if ((rc = ot_conf_num(c, it, where, "speed_kmh", 1, 0, 1, 1200, &L->speed_kmh)) ||
                (rc = ot_conf_num(c, it, where, "altitude_m", 0, 0, -500, 15000, &L->altitude_m)) ||
                (rc = ot_conf_num(c, it, where, "ambient_c", 0, 20, -60, 60, &L->ambient_c)) ||
                (rc = ot_conf_num(c, it, where, "dwell_s", 0, 0, 0, 1e7, &L->dwell_s)) ||
                (rc = ot_conf_num(c, it, where, "distance_factor", 0, L->air ? 1.0 : 1.25, 1.0, 5.0,
                                  &L->distance_factor)))
                return rc;
            const struct scenario_waypoint *a = &sc->wp[i], *b = &sc->wp[i + 1];
            L->distance_km = ot_geo_distance_km(a->lat, a->lon, b->lat, b->lon);
            L->t_depart = t + L->dwell_s;
            L->t_arrive = L->t_depart + L->distance_km * L->distance_factor / L->speed_kmh * 3600;
            t = L->t_arrive;
            i++;
        }
    }
    double last_amb = nl > 0 ? sc->leg[nl - 1].ambient_c : 20.0;
    if ((rc = ot_conf_num(c, route, "route", "arrival_ambient_c", 0, last_amb, -60, 60,
                          &sc->arrival_ambient_c)) ||
        (rc = ot_conf_num(c, route, "route", "climb_rate_mps", 0, 8.0, 0.5, 100,
                          &sc->climb_rate_mps)))
        return rc;
    return OT_OK;
}

enum ot_err scenario__load(const char *path, int64_t now_ms, struct scenario *sc, char *err,
                           size_t errlen)
{
    static const char *const known[] = {"name",         "description", "seed",    "start",
                                        "time_scale",   "route",       "thermal", "battery",
                                        "humidity_pct", "events",      "comment", NULL};
    static const char *const tknown[] = {
        "initial_c",        "pack_c",          "tau_pack_s", "tau_ambient_s", "tau_lid_s",
        "pack_capacity_kh", "probe2_offset_c", "noise_c",    "comment",       NULL};
    static const char *const bknown[] = {"start_pct", "drain_pct_per_h", NULL};
    struct ot_conf c;
    enum ot_err rc;
    const char *s;
    const cJSON *o;
    int64_t seed = 0;
    memset(sc, 0, sizeof *sc);
    snprintf(sc->file, sizeof sc->file, "%s", path);
    if ((rc = ot_conf_load(&c, path)))
        goto fail;
    const cJSON *root = c.root;
    if ((rc = ot_conf_known(&c, root, "", known)))
        goto fail;
    if ((rc = ot_conf_str(&c, root, "", "name", "scenario", &s)))
        goto fail;
    snprintf(sc->name, sizeof sc->name, "%s", s);
    if ((rc = ot_conf_int(&c, root, "", "seed", 0, 1, 0, 9007199254740991LL, &seed)))
        goto fail;
    sc->seed = (uint64_t)seed;
    if ((rc = ot_conf_str(&c, root, "", "start", "now", &s)))
        goto fail;
    if (strcmp(s, "now") == 0) {
        sc->start_ms = now_ms;
    } else if (ot_time_parse_iso(s, &sc->start_ms) != 0) {
        rc = ot_conf_fail(&c, "", "start", "expected \"now\" or an RFC 3339 time");
        goto fail;
    }
    if ((rc = ot_conf_num(&c, root, "", "time_scale", 0, 1.0, 0, 100000, &sc->time_scale)))
        goto fail;

    if ((rc = ot_conf_child(&c, root, "", "route", cJSON_Object, 1, &o)))
        goto fail;
    if ((rc = load_route(&c, o, sc)))
        goto fail;

    if ((rc = ot_conf_child(&c, root, "", "thermal", cJSON_Object, 0, &o)))
        goto fail;
    struct scenario_thermal *th = &sc->th;
    if (o && (rc = ot_conf_known(&c, o, "thermal", tknown)))
        goto fail;
    if ((rc = ot_conf_num(&c, o, "thermal", "initial_c", 0, 4.0, -40, 60, &th->initial_c)) ||
        (rc = ot_conf_num(&c, o, "thermal", "pack_c", 0, 4.0, -40, 40, &th->pack_c)) ||
        (rc = ot_conf_num(&c, o, "thermal", "tau_pack_s", 0, 1800, 1, 1e7, &th->tau_pack_s)) ||
        (rc = ot_conf_num(&c, o, "thermal", "tau_ambient_s", 0, 72000, 1, 1e8,
                          &th->tau_ambient_s)) ||
        (rc = ot_conf_num(&c, o, "thermal", "tau_lid_s", 0, 1200, 1, 1e7, &th->tau_lid_s)) ||
        (rc = ot_conf_num(&c, o, "thermal", "pack_capacity_kh", 0, 300, 0.01, 1e6,
                          &th->pack_capacity_kh)) ||
        (rc = ot_conf_num(&c, o, "thermal", "probe2_offset_c", 0, -0.15, -10, 10,
                          &th->probe2_offset_c)) ||
        (rc = ot_conf_num(&c, o, "thermal", "noise_c", 0, 0.02, 0, 5, &th->noise_c)))
        goto fail;

    if ((rc = ot_conf_child(&c, root, "", "battery", cJSON_Object, 0, &o)))
        goto fail;
    if (o && (rc = ot_conf_known(&c, o, "battery", bknown)))
        goto fail;
    if ((rc = ot_conf_num(&c, o, "battery", "start_pct", 0, 95, 0, 100, &sc->battery_start_pct)) ||
        (rc = ot_conf_num(&c, o, "battery", "drain_pct_per_h", 0, 4, 0, 100,
                          &sc->battery_drain_pct_h)))
        goto fail;
    if ((rc = ot_conf_num(&c, root, "", "humidity_pct", 0, 45, 0, 100, &sc->humidity_pct)))
        goto fail;

    if ((rc = ot_conf_child(&c, root, "", "events", cJSON_Array, 0, &o)))
        goto fail;
    if (o) {
        int n = cJSON_GetArraySize(o);
        if (n > SCENARIO_MAX_EVENTS) {
            rc = ot_conf_fail(&c, "", "events", "expected at most %d events", SCENARIO_MAX_EVENTS);
            goto fail;
        }
        const cJSON *it;
        int i = 0;
        cJSON_ArrayForEach(it, o)
        {
            char where[32];
            snprintf(where, sizeof where, "events[%d]", i);
            if ((rc = load_event(&c, it, where, &sc->ev[i])))
                goto fail;
            i++;
        }
        sc->nev = (size_t)i;
    }
    ot_conf_free(&c);
    return OT_OK;
fail:
    snprintf(err, errlen, "%s", c.err[0] ? c.err : ot_strerror(rc));
    ot_conf_free(&c);
    return rc ? rc : OT_ERR_CONFIG;
}
