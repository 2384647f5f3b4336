/* state.c - the gateway's retained state message (SPEC "state" plus v1.1's
 * flight and local_alarm) and the device health it and the status share:
 *   {"v":1,"container":…,"gateway":…,"online":true,"ts":…,"boot":N,"seq":N,
 *    "flight":false,"local_alarm":false,"devices":[{"name","ok","errors",
 *    "since","error","stuck","output","output_error"}]}
 * seq: every seq <= it is acknowledged (the collector's baseline). */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "gateway.h"
#include "ot_time.h"

#define STATE_MAX_BYTES 4000

static int add_stuck(cJSON *d, const struct gw_device_conf *dc, uint32_t stuck)
{
    cJSON *st = cJSON_AddArrayToObject(d, "stuck");
    if (!st)
        return -1;
    for (size_t k = 0; k < dc->profile.n; k++) {
        if (!((stuck >> k) & 1u))
            continue;
        cJSON *nm = cJSON_CreateString(dc->out_name[k]);
        if (!nm || !cJSON_AddItemToArray(st, nm)) {
            cJSON_Delete(nm);
            return -1;
        }
    }
    return 0;
}

int state__add_devices(cJSON *obj, const struct gw_config *cfg, const struct gw_health *h, size_t n)
{
    cJSON *arr = cJSON_AddArrayToObject(obj, "devices");
    if (!arr)
        return -1;
    for (size_t i = 0; i < n && i < cfg->n_dev; i++) {
        cJSON *d = cJSON_CreateObject();
        if (!d || !cJSON_AddItemToArray(arr, d)) {
            cJSON_Delete(d);
            return -1;
        }
        if (!cJSON_AddStringToObject(d, "name", cfg->dev[i].name) ||
            !cJSON_AddBoolToObject(d, "ok", h[i].ok) ||
            !cJSON_AddNumberToObject(d, "errors", (double)h[i].errors) ||
            !cJSON_AddNumberToObject(d, "since", (double)h[i].since_ms) ||
            (!h[i].ok && !cJSON_AddStringToObject(d, "error", h[i].error)))
            return -1;
        if (h[i].stuck && add_stuck(d, &cfg->dev[i], h[i].stuck))
            return -1;
        if (h[i].has_output &&
            ((h[i].output < 0 ? !cJSON_AddNullToObject(d, "output")
                              : !cJSON_AddNumberToObject(d, "output", h[i].output)) ||
             (h[i].output_failing &&
              !cJSON_AddStringToObject(d, "output_error", h[i].output_error))))
            return -1;
    }
    return 0;
}

char *state__json(const struct gw_config *cfg, const struct spool_stats *st, int online,
                  const struct gw_state_info *si)
{
    cJSON *o = cJSON_CreateObject();
    char *out = NULL;
    if (o && cJSON_AddNumberToObject(o, "v", 1) &&
        cJSON_AddStringToObject(o, "container", cfg->container) &&
        cJSON_AddStringToObject(o, "gateway", cfg->gateway) &&
        cJSON_AddBoolToObject(o, "online", online) &&
        cJSON_AddBoolToObject(o, "clock_ok", ot_time_now_ms() >= GW_CLOCK_MIN_MS) &&
        cJSON_AddNumberToObject(o, "ts", (double)ot_time_now_ms()) &&
        cJSON_AddNumberToObject(o, "boot", (double)st->boot) &&
        cJSON_AddNumberToObject(o, "seq", (double)st->acked) &&
        cJSON_AddBoolToObject(o, "flight", si && si->flight) &&
        cJSON_AddBoolToObject(o, "local_alarm", si && si->local_alarm) &&
        (!si || !si->health || !state__add_devices(o, cfg, si->health, si->nhealth)))
        out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (out && si && si->health && strlen(out) > STATE_MAX_BYTES) {
        /* many failing devices with long errors: the SPEC keys matter more
         * than the extension (collectors cap state messages, ours at 4 KiB) */
        free(out);
        struct gw_state_info bare = *si;
        bare.health = NULL;
        bare.nhealth = 0;
        return state__json(cfg, st, online, &bare);
    }
    return out;
}
