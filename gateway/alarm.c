/* alarm.c - the local alarm: the gateway judges the product temperature
 * against the shipment's band on every reading, online or not, because in
 * the air or on a road without coverage nobody else can.
 *
 * The alarm comes on once temp_c has been outside [temp_min_c, temp_max_c]
 * for excursion_grace_s without a reading inside (the same rule as the
 * collector's excursion), and goes off at the first reading inside. A
 * reading without temp_c changes nothing (an unread probe is neither inside
 * nor outside). The grace runs on the monotonic clock, so a wall-clock step
 * neither fires nor hides it; after a restart it counts again from the
 * first reading out of band, and the outputs keep what they show meanwhile.
 * Without limits there is no alarm, and the outputs are never driven until
 * limits were known at least once in this run (then a clear drives them to
 * 0). */
#include <inttypes.h>

#include "gateway.h"
#include "ot_log.h"
#include "ot_time.h"

int alarm__judge(struct gw_alarm *a, const struct gw_limits *l, const struct ot_reading *r,
                 int64_t mono)
{
    int was = a->on;
    if (l->set)
        a->driven = 1;
    if (!l->set) {
        a->on = 0;
        a->out_since_mono = a->out_since_ms = 0;
    } else if (ot_reading_has(r, OT_CH_TEMP)) {
        double t = r->v[OT_CH_TEMP];
        a->temp_c = t;
        a->have_temp = 1;
        if (t >= l->temp_min_c && t <= l->temp_max_c) {
            if (a->out_since_mono && !a->on)
                ot_info("local alarm: temperature back in band before the grace temp_c=%.2f "
                        "band=%.2f..%.2f",
                        t, l->temp_min_c, l->temp_max_c);
            a->on = 0;
            a->out_since_mono = a->out_since_ms = 0;
        } else {
            if (!a->out_since_mono) {
                a->out_since_mono = mono;
                a->out_since_ms = r->ts;
                ot_warn("local alarm: temperature out of band temp_c=%.2f band=%.2f..%.2f "
                        "grace_s=%" PRId64 " shipment=%s",
                        t, l->temp_min_c, l->temp_max_c, l->grace_s,
                        l->shipment[0] ? l->shipment : "-");
            }
            if (!a->on && mono - a->out_since_mono >= l->grace_s * 1000)
                a->on = 1;
        }
    }
    if (a->on == was)
        return 0;
    a->since_ms = ot_time_now_ms();
    if (a->on)
        ot_error("local alarm ON: temperature out of band for %.1f s temp_c=%.2f band=%.2f..%.2f "
                 "grace_s=%" PRId64 " shipment=%s (alarm outputs driven to 1)",
                 (double)(mono - a->out_since_mono) / 1000.0, a->temp_c, l->temp_min_c,
                 l->temp_max_c, l->grace_s, l->shipment[0] ? l->shipment : "-");
    else if (l->set)
        ot_warn("local alarm off: temperature back in band temp_c=%.2f band=%.2f..%.2f "
                "(alarm outputs driven to 0)",
                a->temp_c, l->temp_min_c, l->temp_max_c);
    else
        ot_warn("local alarm off: limits cleared (alarm outputs driven to 0)");
    return 1;
}

int alarm__output(const struct gw_alarm *a, const struct gw_limits *l)
{
    if (!l->set)
        return a->driven ? 0 : -1;
    if (a->on)
        return 1;
    /* out of band within the grace, or not judged yet: the output stays as
     * it is (after a restart mid-excursion a sounding buzzer keeps sounding
     * while the grace counts again) */
    return a->have_temp && !a->out_since_mono ? 0 : -1;
}
