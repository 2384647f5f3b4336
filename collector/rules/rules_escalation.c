/* rules_escalation.c - escalation of alarms nobody acknowledged.
 *
 * An active alarm still in phase RAISED (not ACKED) escalate_after_s after
 * its escalation clock started is escalated once per severity level it
 * holds: a warning becomes critical (RULES_ESCALATED, severity critical);
 * a critical alarm left unacknowledged is escalated once more at the same
 * severity so the paging bridge can reach the next person. esc_done keeps
 * one bit per severity, so each level escalates at most once; after the
 * warning→critical step the clock restarts for the critical level.
 *
 * The clock starts at the raise for a live alarm; for an alarm raised from
 * late backlog it starts at the first live reading or tick after it (people
 * cannot acknowledge what they have not yet seen). All on reading time. */
#include <stdio.h>

#include "rules_internal.h"

static void escalation_fire(struct rules_state *s, enum rules__type t, int64_t now,
                            rules_emit_fn emit, void *ctx)
{
    struct rules__alarm *a = &s->a[t];
    struct rules_event ev;
    long long mins = (long long)((now - a->raised_at) / 60000);
    a->esc_done |= 1u << a->severity;
    if (a->severity < RULES_CRITICAL) {
        rules__escalate(s, t, RULES_CRITICAL, now, 0, a->value, emit, ctx,
                        "%s not acknowledged for %lld min: escalated to critical",
                        rules__type_name(t), mins);
        a->esc_from = now; /* clock for the critical level */
        return;
    }
    if (!emit)
        return;
    ev.type = rules__type_name(t);
    ev.change = RULES_ESCALATED;
    ev.severity = RULES_CRITICAL;
    ev.at = now;
    ev.late = 0;
    ev.value = a->value;
    snprintf(ev.message, sizeof ev.message, "critical %s not acknowledged for %lld min: escalated",
             ev.type, mins);
    emit(ctx, &ev);
}

void rules__escalation_check(struct rules_state *s, const struct rules_shipment *sh, int64_t now,
                             rules_emit_fn emit, void *ctx)
{
    int64_t after = sh->profile->escalate_after_s * 1000;
    for (int t = 0; t < RULES__TYPE_COUNT; t++) {
        struct rules__alarm *a = &s->a[t];
        if (a->phase != RULES__RAISED)
            continue;
        if (a->esc_from < 0) {
            a->esc_from = now > a->raised_at ? now : a->raised_at;
            continue;
        }
        if (a->esc_done & (1u << a->severity))
            continue;
        if (now - a->esc_from >= after)
            escalation_fire(s, (enum rules__type)t, now, emit, ctx);
    }
}
