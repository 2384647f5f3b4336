/* rules_state.c - per-container rule state, event emission and dispatch.
 *
 * rules_on_reading feeds one reading to every rule module in a fixed order;
 * rules_on_tick advances the time-only rules (ischaemia, ETA, silence,
 * escalation). Events are emitted only through rules__raise / escalate /
 * clear so the transitions of the shared state machine (rules_internal.h)
 * are enforced in one place: a raise of an active alarm, a clear of an
 * inactive one and an escalation to a severity already held are no-ops. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules_internal.h"

static const char *const rules_type_names[RULES__TYPE_COUNT] = {
    "temp_excursion", "temp_forecast", "ischemia_warn",  "ischemia_limit",
    "eta_late",       "lid_open",      "shock",          "battery_low",
    "gnss_lost",      "sensor_silent", "gateway_offline"};

const char *rules__type_name(enum rules__type t)
{
    return (unsigned)t < RULES__TYPE_COUNT ? rules_type_names[t] : "?";
}

int rules__type_find(const char *name)
{
    for (int i = 0; name && i < RULES__TYPE_COUNT; i++)
        if (strcmp(rules_type_names[i], name) == 0)
            return i;
    return -1;
}

struct rules_state *rules_state_new(void)
{
    struct rules_state *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->lid_open_since = -1;
    s->last_shock_ts = -1;
    s->online_since = -1;
    s->latest = INT64_MIN;
    return s;
}

void rules_state_free(struct rules_state *s)
{
    free(s);
}

void rules_state_copy(struct rules_state *dst, const struct rules_state *src)
{
    *dst = *src; /* plain data, no pointers */
}

static void rules_emit(enum rules__type t, enum rules_change ch, enum rules_severity sev,
                       int64_t at, int late, double value, rules_emit_fn emit, void *ctx,
                       const char *fmt, va_list ap) __attribute__((format(printf, 9, 0)));
static void rules_emit(enum rules__type t, enum rules_change ch, enum rules_severity sev,
                       int64_t at, int late, double value, rules_emit_fn emit, void *ctx,
                       const char *fmt, va_list ap)
{
    struct rules_event ev;
    if (!emit)
        return;
    memset(&ev, 0, sizeof ev);
    ev.type = rules__type_name(t);
    ev.change = ch;
    ev.severity = sev;
    ev.at = at;
    ev.late = late ? 1 : 0;
    ev.value = value;
    vsnprintf(ev.message, sizeof ev.message, fmt, ap);
    emit(ctx, &ev);
}

void rules__raise(struct rules_state *s, enum rules__type t, enum rules_severity sev, int64_t at,
                  int late, double value, rules_emit_fn emit, void *ctx, const char *fmt, ...)
{
    struct rules__alarm *a = &s->a[t];
    va_list ap;
    if (rules__active(s, t))
        return;
    if (a->phase != RULES__PENDING)
        a->since = at;
    a->phase = RULES__RAISED;
    a->severity = sev;
    a->raised_at = at;
    /* The no-ack clock measures how long people have had to react: an alarm
     * found in replayed backlog starts it at the next live reading or tick. */
    a->esc_from = late ? -1 : at;
    a->esc_done = 0;
    a->value = value;
    va_start(ap, fmt);
    rules_emit(t, RULES_RAISED, sev, at, late, value, emit, ctx, fmt, ap);
    va_end(ap);
}

void rules__escalate(struct rules_state *s, enum rules__type t, enum rules_severity sev, int64_t at,
                     int late, double value, rules_emit_fn emit, void *ctx, const char *fmt, ...)
{
    struct rules__alarm *a = &s->a[t];
    va_list ap;
    if (!rules__active(s, t) || sev <= a->severity)
        return;
    a->severity = sev;
    a->value = value;
    /* A worse situation needs a fresh acknowledgement. */
    if (a->phase == RULES__ACKED) {
        a->phase = RULES__RAISED;
        a->esc_from = late ? -1 : at;
    }
    va_start(ap, fmt);
    rules_emit(t, RULES_ESCALATED, sev, at, late, value, emit, ctx, fmt, ap);
    va_end(ap);
}

void rules__clear(struct rules_state *s, enum rules__type t, int64_t at, int late, double value,
                  rules_emit_fn emit, void *ctx, const char *fmt, ...)
{
    struct rules__alarm *a = &s->a[t];
    va_list ap;
    if (!rules__active(s, t)) {
        a->phase = RULES__INACTIVE; /* PENDING is dropped silently */
        return;
    }
    enum rules_severity sev = a->severity;
    memset(a, 0, sizeof *a);
    a->phase = RULES__INACTIVE;
    va_start(ap, fmt);
    rules_emit(t, RULES_CLEARED, sev, at, late, value, emit, ctx, fmt, ap);
    va_end(ap);
}

void rules_on_reading(struct rules_state *s, const struct rules_shipment *sh,
                      const struct ot_reading *r, int late, rules_emit_fn emit, void *ctx)
{
    if (!s || !sh || !sh->profile || !r)
        return;
    if (r->ts > s->latest)
        s->latest = r->ts;
    if (r->ts > s->last_reading)
        s->last_reading = r->ts;
    rules__silence_on_reading(s, sh, r, late, emit, ctx);
    rules__temp_on_reading(s, sh, r, late, emit, ctx);
    rules__forecast_on_reading(s, sh, r, late, emit, ctx);
    rules__ischemia_check(s, sh, r->ts, late, emit, ctx);
    rules__eta_on_reading(s, sh, r, late, emit, ctx);
    rules__lid_on_reading(s, sh, r, late, emit, ctx);
    rules__shock_on_reading(s, sh, r, late, emit, ctx);
    rules__battery_on_reading(s, sh, r, late, emit, ctx);
    rules__gnss_on_reading(s, sh, r, late, emit, ctx);
    if (!late)
        rules__escalation_check(s, sh, r->ts, emit, ctx);
}

void rules_on_tick(struct rules_state *s, const struct rules_shipment *sh, int64_t now,
                   int gateway_online, rules_emit_fn emit, void *ctx)
{
    if (!s || !sh || !sh->profile)
        return;
    if (now > s->latest)
        s->latest = now;
    rules__silence_on_tick(s, sh, now, gateway_online, emit, ctx);
    rules__ischemia_check(s, sh, now, 0, emit, ctx);
    rules__eta_check(s, sh, now, 0, emit, ctx);
    rules__escalation_check(s, sh, now, emit, ctx);
}

void rules_on_ack(struct rules_state *s, const char *type, int64_t now)
{
    (void)now;
    int t = s ? rules__type_find(type) : -1;
    if (t < 0)
        return;
    if (s->a[t].phase == RULES__RAISED)
        s->a[t].phase = RULES__ACKED;
}

const char *rules_type_name(size_t i)
{
    return i < RULES__TYPE_COUNT ? rules_type_names[i] : NULL;
}

int rules_alarm_active(const struct rules_state *s, const char *type, enum rules_severity *severity)
{
    int t = s ? rules__type_find(type) : -1;
    if (t < 0)
        return -1;
    if (!rules__active(s, (enum rules__type)t))
        return 0;
    if (severity)
        *severity = s->a[t].severity;
    return s->a[t].phase == RULES__ACKED ? 2 : 1;
}

enum ot_err rules_restore(struct rules_state *s, const char *type, enum rules_severity severity,
                          int64_t raised_at, int acknowledged)
{
    int t = s ? rules__type_find(type) : -1;
    if (t < 0 || severity < RULES_INFO || severity > RULES_CRITICAL)
        return OT_ERR_INVAL;
    struct rules__alarm *a = &s->a[t];
    memset(a, 0, sizeof *a);
    a->phase = acknowledged ? RULES__ACKED : RULES__RAISED;
    a->severity = severity;
    a->since = raised_at;
    a->raised_at = raised_at;
    a->esc_from = -1; /* restarts at the next live reading or tick */
    /* what the rule modules keep beside the alarm */
    if (t == RULES__LID_OPEN)
        s->lid_open_since = raised_at;
    else if (t == RULES__SHOCK)
        s->last_shock_ts = raised_at;
    else if (t == RULES__GNSS_LOST)
        s->gnss_seen = 1;
    return OT_OK;
}

int64_t rules_radio_silence(const struct rules_state *s, const struct rules_shipment *sh,
                            int64_t now, int64_t *since)
{
    struct rules_eta_info e;
    *since = 0;
    if (!s || !sh || s->last_reading <= 0 || now <= s->last_reading)
        return 0;
    rules_eta_explain(s, sh, &e);
    if (sh->n_legs && e.leg < sh->n_legs && sh->legs[e.leg].air)
        return 0; /* in flight the container is expected to be quiet */
    *since = s->last_reading;
    return now - s->last_reading;
}
