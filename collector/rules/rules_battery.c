/* rules_battery.c - battery_low: the logger may stop before arrival.
 *
 * State machine (battery_pct readings):
 *   INACTIVE --battery_pct < battery_low_pct--> RAISED warning
 *   RAISED   --below half of battery_low_pct--> ESCALATED critical
 *   RAISED   --battery_pct >= battery_low_pct + 5--> CLEARED
 * The 5-point hysteresis keeps a reading that jitters around the threshold
 * (voltage sag under radio load) from flapping; a fresh battery clears. */
#include "rules_internal.h"

#define RULES_BATTERY_HYST_PCT 5.0

void rules__battery_on_reading(struct rules_state *s, const struct rules_shipment *sh,
                               const struct ot_reading *r, int late, rules_emit_fn emit, void *ctx)
{
    const struct ot_preservation *p = sh->profile;
    if (!ot_reading_has(r, OT_CH_BATTERY))
        return;
    double b = r->v[OT_CH_BATTERY];
    if (!rules__active(s, RULES__BATTERY_LOW)) {
        if (b < p->battery_low_pct)
            rules__raise(s, RULES__BATTERY_LOW,
                         b < p->battery_low_pct / 2 ? RULES_CRITICAL : RULES_WARNING, r->ts, late,
                         b, emit, ctx, "battery %.0f %% (low below %.0f %%)", b,
                         p->battery_low_pct);
        return;
    }
    if (b < p->battery_low_pct / 2)
        rules__escalate(s, RULES__BATTERY_LOW, RULES_CRITICAL, r->ts, late, b, emit, ctx,
                        "battery %.0f %%: critically low", b);
    else if (b >= p->battery_low_pct + RULES_BATTERY_HYST_PCT)
        rules__clear(s, RULES__BATTERY_LOW, r->ts, late, b, emit, ctx, "battery %.0f %%", b);
}
