/* rules_temp.c - temp_excursion: product temperature outside its band.
 *
 * State machine (reading time only, temp_c readings only):
 *   INACTIVE --temp outside [min,max]--> PENDING (since = ts of that reading)
 *   PENDING  --inside the band--> INACTIVE (no event: within grace)
 *   PENDING  --outside and ts - since >= excursion_grace_s--> RAISED warning
 *   RAISED   --outside and (ts - since > 3 x grace or more than 2 °C beyond
 *              the band)--> ESCALATED critical
 *   RAISED   --inside the band by at least hysteresis_c--> CLEARED
 * Between the limit and limit ∓ hysteresis_c a raised alarm stays raised, so
 * a value hovering at the limit raises once and clears once. A reading
 * without temp_c (declared missing) neither clears nor advances the rule:
 * the unknown temperature is sensor_silent's business. A reading older than
 * the start of the current excursion is ignored. With grace 0 the
 * first reading outside raises. Late readings run the same machine; the
 * events carry the reading's own ts and late=1. */
#include <math.h>

#include "rules_internal.h"

#define TEMP_CRIT_OVER_C 2.0 /* °C beyond the band that is critical at once */
#define TEMP_CRIT_GRACES 3   /* excursion longer than 3 graces is critical */

static enum rules_severity temp_severity(const struct ot_preservation *p, double over,
                                         int64_t dur_ms)
{
    int64_t grace = p->excursion_grace_s * 1000;
    if (over > TEMP_CRIT_OVER_C || dur_ms > TEMP_CRIT_GRACES * grace)
        return RULES_CRITICAL;
    return RULES_WARNING;
}

void rules__temp_on_reading(struct rules_state *s, const struct rules_shipment *sh,
                            const struct ot_reading *r, int late, rules_emit_fn emit, void *ctx)
{
    const struct ot_preservation *p = sh->profile;
    struct rules__alarm *a = &s->a[RULES__TEMP_EXCURSION];
    if (!ot_reading_has(r, OT_CH_TEMP))
        return;
    double t = r->v[OT_CH_TEMP];
    int below = t<p->temp_min_c, above = t> p->temp_max_c;
    double over = below ? p->temp_min_c - t : above ? t - p->temp_max_c : 0;
    const char *side = below ? "below" : "above";
    double lim = below ? p->temp_min_c : p->temp_max_c;

    /* out-of-order delivery: a reading older than the current excursion's
     * start says nothing about it */
    if (a->phase != RULES__INACTIVE && r->ts < a->since)
        return;
    switch (a->phase) {
    case RULES__INACTIVE:
        if (!(below || above))
            return;
        a->phase = RULES__PENDING;
        a->since = r->ts;
        a->value = t;
        /* grace may be 0: evaluate this reading as PENDING too */
        /* fall through */
    case RULES__PENDING:
        if (!(below || above)) {
            a->phase = RULES__INACTIVE;
            return;
        }
        if (fabs(t - lim) > fabs(a->value - lim))
            a->value = t; /* peak */
        if (r->ts - a->since >= p->excursion_grace_s * 1000) {
            int64_t dur = r->ts - a->since;
            rules__raise(s, RULES__TEMP_EXCURSION, temp_severity(p, over, dur), r->ts, late, t,
                         emit, ctx, "temperature %.1f °C %s %.1f °C for %lld s", t, side, lim,
                         (long long)(dur / 1000));
        }
        return;
    case RULES__RAISED:
    case RULES__ACKED:
        if (below || above) {
            int64_t dur = r->ts - a->since;
            if (temp_severity(p, over, dur) == RULES_CRITICAL)
                rules__escalate(s, RULES__TEMP_EXCURSION, RULES_CRITICAL, r->ts, late, t, emit, ctx,
                                "temperature %.1f °C %s %.1f °C for %lld min: critical", t, side,
                                lim, (long long)(dur / 60000));
            return;
        }
        if (t >= p->temp_min_c + p->hysteresis_c && t <= p->temp_max_c - p->hysteresis_c)
            rules__clear(s, RULES__TEMP_EXCURSION, r->ts, late, t, emit, ctx,
                         "temperature %.1f °C back in band %.1f..%.1f °C after %lld min", t,
                         p->temp_min_c, p->temp_max_c, (long long)((r->ts - a->since) / 60000));
        return;
    }
}
