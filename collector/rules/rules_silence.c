/* rules_silence.c - sensor_silent vs gateway_offline.
 *
 * Two different situations, two alarms:
 *  - gateway_offline (warning): the gateway's retained state says
 *    online=false (its last will). Readings are expected later as backlog;
 *    the sensor is not known to be dead. Raised on the first tick that sees
 *    the gateway offline, cleared on a tick that sees it online or on any
 *    live reading.
 *  - sensor_silent (critical): the gateway is online but no reading with
 *    temp_c arrived for sensor_silent_s: the product temperature is unknown
 *    while the link works. Evaluated on ticks only while online, from the
 *    later of the newest temp_c reading ts and the tick that first saw the
 *    gateway online (again): a gateway that just reconnected gets
 *    sensor_silent_s to deliver before its sensor is called silent. Not
 *    raised on a tick when late readings with temp_c arrived since the
 *    previous tick (a backlog is draining: the sensor works). Cleared by any
 *    reading with temp_c. While the gateway is offline sensor_silent is
 *    neither raised nor cleared (a raised one stays: the temperature is
 *    still unknown).
 *  - flight mode: while the gateway's last state said flight:true its radio
 *    is off by design and gateway_offline is not raised (one raised before
 *    is cleared), until the flight is overdue: flight_overdue_ms after the
 *    planned arrival of the air leg it flies (the first air leg whose
 *    planned arrival plus that margin lies after flight_since), or, with no
 *    such leg, flight_max_ms after flight_since. Then gateway_offline is
 *    raised, saying the flight is overdue.
 * Timers compare the tick's now with reading ts: both are epoch ms. */
#include "rules_internal.h"

void rules__silence_on_reading(struct rules_state *s, const struct rules_shipment *sh,
                               const struct ot_reading *r, int late, rules_emit_fn emit, void *ctx)
{
    (void)sh;
    if (!late && rules__active(s, RULES__GATEWAY_OFFLINE))
        rules__clear(s, RULES__GATEWAY_OFFLINE, r->ts, 0, 0, emit, ctx,
                     "gateway back: live readings arriving");
    if (!ot_reading_has(r, OT_CH_TEMP))
        return;
    if (!s->has_temp || r->ts > s->last_temp_ts) {
        s->last_temp_ts = r->ts;
        s->last_temp = r->v[OT_CH_TEMP];
    }
    s->has_temp = 1;
    if (late)
        s->late_since_tick = 1;
    if (rules__active(s, RULES__SENSOR_SILENT))
        rules__clear(s, RULES__SENSOR_SILENT, r->ts, late, r->v[OT_CH_TEMP], emit, ctx,
                     "temperature readings back: %.1f °C", r->v[OT_CH_TEMP]);
}

/* When the flight the gateway is in counts as overdue (epoch ms); *planned:
 * the planned arrival it rests on, 0 when there is none. */
static int64_t flight_due(const struct rules_shipment *sh, int64_t *planned)
{
    *planned = 0;
    for (size_t i = 0; i < sh->n_legs; i++) {
        const struct rules_leg *l = &sh->legs[i];
        if (l->air && l->planned_arrival > 0 &&
            l->planned_arrival + sh->flight_overdue_ms > sh->flight_since) {
            *planned = l->planned_arrival;
            return l->planned_arrival + sh->flight_overdue_ms;
        }
    }
    return sh->flight_since + sh->flight_max_ms;
}

static void flight_tick(struct rules_state *s, const struct rules_shipment *sh, int64_t now,
                        rules_emit_fn emit, void *ctx)
{
    int64_t planned = 0, due = flight_due(sh, &planned);
    if (now < due) {
        if (rules__active(s, RULES__GATEWAY_OFFLINE))
            rules__clear(s, RULES__GATEWAY_OFFLINE, now, 0, 0, emit, ctx,
                         "gateway in flight mode: radio silent by plan");
        return;
    }
    if (planned)
        rules__raise(s, RULES__GATEWAY_OFFLINE, RULES_WARNING, now, 0, 0, emit, ctx,
                     "gateway silent in flight mode, overdue: %lld min after the planned landing",
                     (long long)((now - planned) / 60000));
    else
        rules__raise(s, RULES__GATEWAY_OFFLINE, RULES_WARNING, now, 0, 0, emit, ctx,
                     "gateway silent in flight mode for %lld min, longer than any planned flight",
                     (long long)((now - sh->flight_since) / 60000));
}

void rules__silence_on_tick(struct rules_state *s, const struct rules_shipment *sh, int64_t now,
                            int gateway_online, rules_emit_fn emit, void *ctx)
{
    const struct ot_preservation *p = sh->profile;
    int draining = s->late_since_tick;
    s->late_since_tick = 0;
    if (gateway_online && (!s->online || s->online_since < 0))
        s->online_since = now;
    s->online = gateway_online ? 1 : 0;
    if (!gateway_online && sh->in_flight) {
        flight_tick(s, sh, now, emit, ctx);
        return;
    }
    if (!gateway_online) {
        rules__raise(s, RULES__GATEWAY_OFFLINE, RULES_WARNING, now, 0, 0, emit, ctx,
                     "gateway offline: readings will arrive as backlog");
        return;
    }
    if (rules__active(s, RULES__GATEWAY_OFFLINE))
        rules__clear(s, RULES__GATEWAY_OFFLINE, now, 0, 0, emit, ctx, "gateway back online");
    int64_t last = s->online_since;
    if (s->has_temp && s->last_temp_ts > last)
        last = s->last_temp_ts;
    int64_t silent_ms = now - last;
    if (!rules__active(s, RULES__SENSOR_SILENT) && !draining &&
        silent_ms >= p->sensor_silent_s * 1000)
        rules__raise(s, RULES__SENSOR_SILENT, RULES_CRITICAL, now, 0, (double)silent_ms / 1000.0,
                     emit, ctx,
                     "gateway online but no temperature for %lld s: product temperature unknown",
                     (long long)(silent_ms / 1000));
}
