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

void rules__silence_on_tick(struct rules_state *s, const struct rules_shipment *sh, int64_t now,
                            int gateway_online, rules_emit_fn emit, void *ctx)
{
    const struct ot_preservation *p = sh->profile;
    int draining = s->late_since_tick;
    s->late_since_tick = 0;
    if (gateway_online && (!s->online || s->online_since < 0))
        s->online_since = now;
    s->online = gateway_online ? 1 : 0;
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
