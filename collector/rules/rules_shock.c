/* rules_shock.c - shock: acceleration above the profile's limit.
 *
 * State machine (shock_g readings, reading time):
 *   INACTIVE --shock_g > shock_max_g--> RAISED warning (value = peak g)
 *   RAISED   --further shocks--> stays raised, the quiet clock restarts;
 *              > 2 x shock_max_g escalates to critical (a drop, a crash)
 *   RAISED   --RULES_SHOCK_QUIET_MS of reading time without a shock
 *              (any reading counts as evidence of quiet)--> CLEARED
 * A shock is an event, not a level: clearing says "no further shocks", the
 * raised alarm and its acknowledgement stay in the record. */
#include "rules_internal.h"

#define RULES_SHOCK_QUIET_MS (60 * 1000LL)

void rules__shock_on_reading(struct rules_state *s, const struct rules_shipment *sh,
                             const struct ot_reading *r, int late, rules_emit_fn emit, void *ctx)
{
    const struct ot_preservation *p = sh->profile;
    struct rules__alarm *a = &s->a[RULES__SHOCK];
    if (ot_reading_has(r, OT_CH_SHOCK) && r->v[OT_CH_SHOCK] > p->shock_max_g) {
        double g = r->v[OT_CH_SHOCK];
        s->last_shock_ts = r->ts;
        if (!rules__active(s, RULES__SHOCK)) {
            rules__raise(s, RULES__SHOCK, g > 2 * p->shock_max_g ? RULES_CRITICAL : RULES_WARNING,
                         r->ts, late, g, emit, ctx, "shock %.1f g (limit %.1f g)", g,
                         p->shock_max_g);
            return;
        }
        if (g > a->value)
            a->value = g;
        if (g > 2 * p->shock_max_g)
            rules__escalate(s, RULES__SHOCK, RULES_CRITICAL, r->ts, late, g, emit, ctx,
                            "shock %.1f g (over twice the limit %.1f g)", g, p->shock_max_g);
        return;
    }
    if (rules__active(s, RULES__SHOCK) && r->ts - s->last_shock_ts >= RULES_SHOCK_QUIET_MS)
        rules__clear(s, RULES__SHOCK, r->ts, late, a->value, emit, ctx,
                     "no shock for %lld s (peak was %.1f g)",
                     (long long)((r->ts - s->last_shock_ts) / 1000), a->value);
}
