/* flight.c - flight mode: in the air the gateway keeps its radio silent
 * (aviation rules, FAA AC 91.21-1D) but goes on sampling, spooling and
 * judging the local alarm; on the ground it reconnects and replays.
 *
 * detect "input": a profile channel named flight_mode (a switch the crew
 * sets) decides at once. detect "auto": a reading is airborne when a
 * configured threshold is exceeded (alt_m above alt_m_above, or speed_kmh
 * above speed_kmh_above), on the ground when every configured threshold has
 * its channel read and not exceeded; anything else (no GNSS fix: position
 * missing) is unknown and changes nothing. Flight mode starts once airborne
 * readings have held for air_s without a ground reading between, and ends
 * once ground readings have held for ground_s (the hysteresis that keeps a
 * slow final approach or a taxi from toggling it). The state is kept in
 * <spool dir>/flight.json, so a gateway restarted in the air stays silent. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "durable.h"
#include "gateway.h"
#include "ot_conf.h"
#include "ot_log.h"

#define FLIGHT_FILE "flight.json"

/* 1 airborne, 0 on the ground, -1 unknown. */
static int airborne(const struct gw_flight_conf *c, const struct ot_reading *r, char *why,
                    size_t len)
{
    if (c->detect == GW_FLIGHT_INPUT) {
        for (size_t i = 0; i < r->n_extra; i++)
            if (!strcmp(r->extra[i].name, "flight_mode")) {
                snprintf(why, len, "flight_mode switch %s", r->extra[i].value != 0 ? "on" : "off");
                return r->extra[i].value != 0;
            }
        return -1;
    }
    int air = 0, known = 1;
    double alt = r->v[OT_CH_ALT], spd = r->v[OT_CH_SPEED];
    if (c->alt_m_above > 0) {
        if (ot_reading_has(r, OT_CH_ALT))
            air |= alt > c->alt_m_above;
        else
            known = 0;
    }
    if (c->speed_kmh_above > 0) {
        if (ot_reading_has(r, OT_CH_SPEED))
            air |= spd > c->speed_kmh_above;
        else
            known = 0;
    }
    snprintf(why, len, "alt_m=%.0f speed_kmh=%.0f", ot_reading_has(r, OT_CH_ALT) ? alt : -1.0,
             ot_reading_has(r, OT_CH_SPEED) ? spd : -1.0);
    return air ? 1 : known ? 0 : -1;
}

int flight__judge(struct gw_flight *f, const struct gw_flight_conf *c, const struct ot_reading *r,
                  int64_t mono)
{
    char why[80] = "";
    if (c->detect == GW_FLIGHT_OFF)
        return 0;
    int air = airborne(c, r, why, sizeof why);
    if (air < 0 || air == f->in_flight) {
        if (air >= 0)
            f->cand_mono = 0; /* the current state holds: any hold restarts */
        return 0;
    }
    int64_t hold = c->detect == GW_FLIGHT_INPUT ? 0 : (air ? c->air_s : c->ground_s) * 1000;
    if (!f->cand_mono)
        f->cand_mono = mono;
    if (mono - f->cand_mono < hold)
        return 0;
    f->in_flight = air;
    f->since_ms = r->ts;
    f->cand_mono = 0;
    snprintf(f->why, sizeof f->why, "%s, held %" PRId64 " s", why, hold / 1000);
    if (air)
        ot_warn("flight mode: entering (%s): the radio goes silent; readings keep spooling and "
                "the local alarm keeps watch",
                f->why);
    else
        ot_warn("flight mode: landed (%s): reconnecting and replaying the backlog", f->why);
    return 1;
}

enum ot_err flight__save(const char *dir, const struct gw_flight *f)
{
    char buf[256];
    int n = snprintf(buf, sizeof buf, "{\"in_flight\":%s,\"since\":%" PRId64 "}\n",
                     f->in_flight ? "true" : "false", f->since_ms);
    return durable__write(-1, dir, FLIGHT_FILE, buf, (size_t)n);
}

enum ot_err flight__load(const char *dir, struct gw_flight *f)
{
    char path[600];
    char *text = NULL;
    size_t len = 0;
    memset(f, 0, sizeof *f);
    snprintf(path, sizeof path, "%s/%s", dir, FLIGHT_FILE);
    FILE *probe = fopen(path, "r");
    if (!probe)
        return OT_OK; /* never flown */
    fclose(probe);
    if (ot_file_read(path, 4096, &text, &len))
        return OT_ERR_IO;
    cJSON *o = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(o, "in_flight");
    const cJSON *since = cJSON_GetObjectItemCaseSensitive(o, "since");
    enum ot_err rc = OT_OK;
    if (!cJSON_IsBool(in) || !cJSON_IsNumber(since)) {
        ot_error("flight state file unreadable, assuming on the ground path=%s", path);
        rc = OT_ERR_CORRUPT;
    } else {
        f->in_flight = cJSON_IsTrue(in);
        f->since_ms = (int64_t)since->valuedouble;
        snprintf(f->why, sizeof f->why, "kept from before the restart");
    }
    cJSON_Delete(o);
    return rc;
}
