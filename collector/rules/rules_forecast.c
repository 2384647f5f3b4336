/* rules_forecast.c - temp_forecast: warn before the band is left.
 *
 * How: the temp_c readings of the last 10 min of reading time (at most 128,
 * thinned to one per ~4.7 s at high rates, the newest always kept) are
 * fitted with an ordinary least-squares line T(t) = a + b·t, with t relative
 * to the newest reading (numerically stable over epoch ms). The fit at the
 * newest reading plus b·forecast_horizon_s is the projection. At least 5
 * points spanning at least 5 min are needed (a shorter span extrapolated
 * over a 30 min horizon turns probe noise of +/-0.2 °C into phantom trends of
 * several °C); otherwise the state is held.
 *
 * State machine:
 *   INACTIVE --newest temp inside the band and projection outside--> RAISED warning
 *   RAISED   --projection inside the band by hysteresis_c and newest temp
 *              inside the band--> CLEARED
 * While the temperature is already outside, temp_excursion owns the alarm;
 * the forecast is neither raised nor cleared then. A reading whose ts goes
 * backwards restarts the window. forecast_horizon_s = 0 disables the rule. */
#include <math.h>
#include <string.h>

#include "rules_internal.h"

/* Fits the window; returns 0 when there is not enough data. */
static int forecast_fit(const struct rules_state *s, double *fit_now, double *slope_per_s)
{
    if (s->fc_n < RULES__FC_MIN_POINTS)
        return 0;
    int64_t t0 = s->fc[s->fc_n - 1].ts;
    if (t0 - s->fc[0].ts < RULES__FC_MIN_SPAN_MS)
        return 0;
    double n = (double)s->fc_n, sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (size_t i = 0; i < s->fc_n; i++) {
        double x = (double)(s->fc[i].ts - t0) / 1000.0, y = s->fc[i].v;
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
    }
    double den = n * sxx - sx * sx;
    if (!(fabs(den) > 1e-9))
        return 0;
    double b = (n * sxy - sx * sy) / den;
    double a = (sy - b * sx) / n;
    *fit_now = a; /* x = 0 at the newest reading */
    *slope_per_s = b;
    return 1;
}

static void forecast_push(struct rules_state *s, int64_t ts, double v)
{
    if (s->fc_n && ts < s->fc[s->fc_n - 1].ts)
        s->fc_n = 0; /* time went backwards: start over */
    /* at high reading rates keep samples about window/cap apart: the newest
     * sample replaces the previous one while they are closer than that */
    if (s->fc_n >= 2 && ts - s->fc[s->fc_n - 2].ts < RULES__FC_WINDOW_MS / RULES__FC_CAP) {
        s->fc[s->fc_n - 1].ts = ts;
        s->fc[s->fc_n - 1].v = v;
        return;
    }
    size_t drop = 0;
    while (drop < s->fc_n && ts - s->fc[drop].ts > RULES__FC_WINDOW_MS)
        drop++;
    if (s->fc_n - drop == RULES__FC_CAP)
        drop++;
    if (drop) {
        memmove(s->fc, s->fc + drop, (s->fc_n - drop) * sizeof s->fc[0]);
        s->fc_n -= drop;
    }
    s->fc[s->fc_n].ts = ts;
    s->fc[s->fc_n].v = v;
    s->fc_n++;
}

void rules__forecast_on_reading(struct rules_state *s, const struct rules_shipment *sh,
                                const struct ot_reading *r, int late, rules_emit_fn emit, void *ctx)
{
    const struct ot_preservation *p = sh->profile;
    double now_fit, b;
    if (!ot_reading_has(r, OT_CH_TEMP) || p->forecast_horizon_s <= 0)
        return;
    double t = r->v[OT_CH_TEMP];
    forecast_push(s, r->ts, t);
    if (!forecast_fit(s, &now_fit, &b))
        return;
    double h = (double)p->forecast_horizon_s;
    double proj = now_fit + b * h;
    s->fc_proj = proj;
    int inside = t >= p->temp_min_c && t <= p->temp_max_c;
    if (!inside)
        return;
    if (!rules__active(s, RULES__TEMP_FORECAST)) {
        if (proj > p->temp_max_c || proj < p->temp_min_c) {
            double lim = proj > p->temp_max_c ? p->temp_max_c : p->temp_min_c;
            double secs = fabs(b) > 1e-12 ? (lim - now_fit) / b : h;
            if (secs < 0)
                secs = 0;
            rules__raise(s, RULES__TEMP_FORECAST, RULES_WARNING, r->ts, late, proj, emit, ctx,
                         "temperature %.1f °C trending %+.2f °C/min: leaves %.1f °C in about "
                         "%lld min",
                         t, b * 60.0, lim, (long long)(secs / 60.0 + 0.5));
        }
        return;
    }
    if (proj >= p->temp_min_c + p->hysteresis_c && proj <= p->temp_max_c - p->hysteresis_c)
        rules__clear(s, RULES__TEMP_FORECAST, r->ts, late, proj, emit, ctx,
                     "temperature trend steady: %.1f °C projected in %lld min", proj,
                     (long long)(h / 60));
}
