/* device.c - one simulated Modbus device: its register tables (a
 * modbus_mapping_t sized to the profile) refreshed from the scenario model
 * with ot_profile_encode, the same codec the gateway decodes with. Output
 * channels (the alarm coil) are the master's to write: the model leaves
 * them alone and every change is logged. */
#include <errno.h>
#include <string.h>

#include "ot_log.h"
#include "sensors.h"

enum ot_err sensors__device_map(struct sensors_device *d)
{
    /* per table: lowest address and span over the profile's channels */
    unsigned lo[4] = {65536, 65536, 65536, 65536}, hi[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < d->prof.n; i++) {
        const struct ot_profile_channel *c = &d->prof.ch[i];
        unsigned f = (unsigned)c->function;
        unsigned end = (unsigned)c->address + (unsigned)ot_profile_channel_width(c);
        if (c->address < lo[f])
            lo[f] = c->address;
        if (end > hi[f])
            hi[f] = end;
    }
    unsigned start[4], nb[4];
    for (int f = 0; f < 4; f++) {
        start[f] = hi[f] ? lo[f] : 0;
        nb[f] = hi[f] ? hi[f] - lo[f] : 0;
    }
    d->map = modbus_mapping_new_start_address(
        start[OT_FN_COIL], nb[OT_FN_COIL], start[OT_FN_DISCRETE], nb[OT_FN_DISCRETE],
        start[OT_FN_HOLDING], nb[OT_FN_HOLDING], start[OT_FN_INPUT], nb[OT_FN_INPUT]);
    if (!d->map) {
        ot_error("cannot allocate register map device=%s error=\"%s\"", d->name,
                 modbus_strerror(errno));
        return OT_ERR_NOMEM;
    }
    return OT_OK;
}

double sensors__device_value(const struct sensors_device *d, size_t ch)
{
    return d->src[ch] < 0 ? d->constant[ch] : d->model.v[d->src[ch]];
}

static void log_faults(struct sensors_device *d, double t)
{
    for (int e = 0; e < EV__COUNT; e++) {
        if (e == EV_LID_OPEN || e == EV_SHOCK)
            continue;
        int on = scenario__active(&d->sc, (enum scenario_event_type)e, t) != NULL;
        if (on != d->fault_on[e])
            ot_info("fault %s device=%s fault=%s t_s=%.0f", on ? "begins" : "ends", d->name,
                    scenario__event_name((enum scenario_event_type)e), t);
        d->fault_on[e] = on;
    }
}

void sensors__device_update(struct sensors_device *d, double t_s)
{
    scenario__model_advance(&d->model, t_s);
    d->t_s = (double)d->model.step * SCENARIO_STEP_S;
    if (d->map) {
        for (size_t i = 0; i < d->prof.n; i++) {
            const struct ot_profile_channel *c = &d->prof.ch[i];
            if (c->output != OT_OUT_NONE)
                continue; /* holds what the gateway wrote */
            double v = sensors__device_value(d, i);
            uint16_t r[2] = {0, 0};
            ot_profile_encode(c, v, r);
            int w = ot_profile_channel_width(c);
            switch (c->function) {
            case OT_FN_COIL:
                d->map->tab_bits[c->address - d->map->start_bits] = (uint8_t)(r[0] ? 1 : 0);
                break;
            case OT_FN_DISCRETE:
                d->map->tab_input_bits[c->address - d->map->start_input_bits] =
                    (uint8_t)(r[0] ? 1 : 0);
                break;
            case OT_FN_HOLDING:
                memcpy(&d->map->tab_registers[c->address - d->map->start_registers], r,
                       sizeof(uint16_t) * (size_t)w);
                break;
            case OT_FN_INPUT:
                memcpy(&d->map->tab_input_registers[c->address - d->map->start_input_registers], r,
                       sizeof(uint16_t) * (size_t)w);
                break;
            }
        }
    }
    log_faults(d, d->t_s);
}

void sensors__device_outputs(struct sensors_device *d)
{
    for (size_t i = 0; i < d->prof.n; i++) {
        const struct ot_profile_channel *c = &d->prof.ch[i];
        if (c->output == OT_OUT_NONE || c->function != OT_FN_COIL)
            continue;
        uint8_t v = d->map->tab_bits[c->address - d->map->start_bits] ? 1 : 0;
        if (v == d->out_state[i])
            continue;
        d->out_state[i] = v;
        ot_info("alarm output %s device=%s channel=%s t_s=%.0f writes=%llu",
                v ? "ON (buzzer and lamp)" : "off", d->name, c->name, d->t_s,
                (unsigned long long)d->n_writes);
    }
}
