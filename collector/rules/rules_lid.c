/* rules_lid.c - lid_open: container opened outside a hand-off, or too long.
 *
 * State machine (lid_open readings, reading time):
 *   INACTIVE --open, ts >= handoff_until--> RAISED warning (at once: an
 *              unplanned opening breaks the cold chain and the seal)
 *   INACTIVE/RAISED --open for longer than lid_open_max_s (even during a
 *              hand-off)--> RAISED/ESCALATED critical
 *   RAISED   --closed--> CLEARED
 * open_since is the first reading that saw the lid open; a reading without
 * lid_open changes nothing. An opening inside the hand-off window is
 * allowed until lid_open_max_s. */
#include "rules_internal.h"

void rules__lid_on_reading(struct rules_state *s, const struct rules_shipment *sh,
                           const struct ot_reading *r, int late, rules_emit_fn emit, void *ctx)
{
    const struct ot_preservation *p = sh->profile;
    if (!ot_reading_has(r, OT_CH_LID))
        return;
    if (r->v[OT_CH_LID] < 0.5) {
        /* emits only when raised; a pending (hand-off) opening ends silently */
        rules__clear(s, RULES__LID_OPEN, r->ts, late, 0, emit, ctx, "lid closed after %lld s",
                     (long long)(s->lid_open_since >= 0 ? (r->ts - s->lid_open_since) / 1000 : 0));
        s->lid_open_since = -1;
        return;
    }
    if (s->lid_open_since < 0 || r->ts < s->lid_open_since)
        s->lid_open_since = r->ts;
    int64_t open_ms = r->ts - s->lid_open_since;
    double open_s = (double)open_ms / 1000.0;
    int too_long = open_ms > p->lid_open_max_s * 1000;
    int in_handoff = r->ts < sh->handoff_until;
    if (!rules__active(s, RULES__LID_OPEN)) {
        if (too_long)
            rules__raise(s, RULES__LID_OPEN, RULES_CRITICAL, r->ts, late, open_s, emit, ctx,
                         "lid open for %lld s (allowed %lld s)", (long long)open_s,
                         (long long)p->lid_open_max_s);
        else if (!in_handoff)
            rules__raise(s, RULES__LID_OPEN, RULES_WARNING, r->ts, late, open_s, emit, ctx,
                         "lid open outside a hand-off");
        else if (s->a[RULES__LID_OPEN].phase == RULES__INACTIVE) {
            s->a[RULES__LID_OPEN].phase = RULES__PENDING; /* allowed for now */
            s->a[RULES__LID_OPEN].since = s->lid_open_since;
        }
        return;
    }
    if (too_long)
        rules__escalate(s, RULES__LID_OPEN, RULES_CRITICAL, r->ts, late, open_s, emit, ctx,
                        "lid open for %lld s (allowed %lld s)", (long long)open_s,
                        (long long)p->lid_open_max_s);
}
