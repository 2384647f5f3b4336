/* rules_ischemia.c - ischemia_warn and ischemia_limit: cold-ischaemia time.
 *
 * Elapsed cold ischaemia = t - cross_clamp_at, with t the reading ts or the
 * tick's now (never the wall clock). Two alarms, no grace:
 *   ischemia_warn  RAISED warning  at warn_fraction x max_cold_ischemia_min
 *   ischemia_limit RAISED critical at 100 %
 * The threshold instant is known exactly, so the event's `at` is
 * cross_clamp_at + threshold (the true time), even when first noticed on a
 * later reading or tick; late is copied from the reading that noticed it.
 * Time only grows, so they clear only when t falls back under the threshold
 * (a corrected cross-clamp time). Skipped without a cross-clamp time or when
 * the profile has no ischaemia limit (max_cold_ischemia_min = 0: tissue). */
#include "rules_internal.h"

static void ischemia_one(struct rules_state *s, enum rules__type t, int64_t start, int64_t thr_ms,
                         int64_t now, int late, enum rules_severity sev, int64_t limit_min,
                         rules_emit_fn emit, void *ctx)
{
    int64_t at = start + thr_ms;
    double elapsed_min = (double)(now - start) / 60000.0;
    if (now >= at) {
        if (!rules__active(s, t))
            rules__raise(s, t, sev, at, late, elapsed_min, emit, ctx,
                         "cold ischaemia %lld of %lld min (%s)", (long long)(thr_ms / 60000),
                         (long long)limit_min,
                         t == RULES__ISCHEMIA_LIMIT ? "limit reached" : "warning threshold");
    } else if (rules__active(s, t)) {
        rules__clear(s, t, now, late, elapsed_min, emit, ctx,
                     "cold ischaemia %.0f min: below threshold (cross-clamp time changed)",
                     elapsed_min);
    }
}

void rules__ischemia_check(struct rules_state *s, const struct rules_shipment *sh, int64_t now,
                           int late, rules_emit_fn emit, void *ctx)
{
    const struct ot_preservation *p = sh->profile;
    if (sh->cross_clamp_at <= 0 || p->max_cold_ischemia_min <= 0)
        return;
    int64_t limit_ms = p->max_cold_ischemia_min * 60000;
    int64_t warn_ms = (int64_t)((double)limit_ms * p->warn_fraction);
    int64_t end = sh->ischemia_ended_at;
    if (end > 0 && now >= end) {
        double total = (double)(end - sh->cross_clamp_at) / 60000.0;
        for (int k = 0; k < 2; k++)
            rules__clear(s, k ? RULES__ISCHEMIA_LIMIT : RULES__ISCHEMIA_WARN, now, late, total,
                         emit, ctx, "cold ischaemia ended at reperfusion after %.0f min", total);
        return;
    }
    ischemia_one(s, RULES__ISCHEMIA_WARN, sh->cross_clamp_at, warn_ms, now, late, RULES_WARNING,
                 p->max_cold_ischemia_min, emit, ctx);
    ischemia_one(s, RULES__ISCHEMIA_LIMIT, sh->cross_clamp_at, limit_ms, now, late, RULES_CRITICAL,
                 p->max_cold_ischemia_min, emit, ctx);
}
