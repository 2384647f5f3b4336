/* rules_gnss.c - gnss_lost: no position for longer than gnss_lost_s.
 *
 * A reading has a fix when it carries lat and lon and does not say
 * gnss_fix = 0. The rule is armed once the container has shown it reports
 * GNSS at all (a fix, or a gnss_fix channel), so a logger without a GNSS
 * module never raises it.
 *   INACTIVE --reading without fix--> PENDING (since = its ts)
 *   PENDING  --fix--> INACTIVE;  --no fix and ts - since >= gnss_lost_s--> RAISED warning
 *   RAISED   --fix--> CLEARED
 * Without a position the ETA is frozen at the last fix, hence a warning. */
#include "rules_internal.h"

void rules__gnss_on_reading(struct rules_state *s, const struct rules_shipment *sh,
                            const struct ot_reading *r, int late, rules_emit_fn emit, void *ctx)
{
    const struct ot_preservation *p = sh->profile;
    struct rules__alarm *a = &s->a[RULES__GNSS_LOST];
    int has_ll = ot_reading_has(r, OT_CH_LAT) && ot_reading_has(r, OT_CH_LON);
    int has_fixch = ot_reading_has(r, OT_CH_GNSS);
    int fix = has_ll && !(has_fixch && r->v[OT_CH_GNSS] < 1);
    if (has_ll || has_fixch)
        s->gnss_seen = 1;
    if (!s->gnss_seen)
        return;
    if (fix) {
        if (rules__active(s, RULES__GNSS_LOST))
            rules__clear(s, RULES__GNSS_LOST, r->ts, late, 0, emit, ctx,
                         "GNSS fix back after %lld s", (long long)((r->ts - a->since) / 1000));
        a->phase = RULES__INACTIVE;
        return;
    }
    if (a->phase == RULES__INACTIVE) {
        a->phase = RULES__PENDING;
        a->since = r->ts;
    }
    if (a->phase == RULES__PENDING && r->ts - a->since >= p->gnss_lost_s * 1000)
        rules__raise(s, RULES__GNSS_LOST, RULES_WARNING, r->ts, late,
                     (double)(r->ts - a->since) / 1000.0, emit, ctx, "no GNSS fix for %lld s",
                     (long long)((r->ts - a->since) / 1000));
}
