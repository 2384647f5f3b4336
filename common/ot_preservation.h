/* ot_preservation.h - preservation profiles (config/preservation.json):
 * per organ or tissue type, optionally per preservation mode, the limits the
 * collector's rules enforce and the API shows (band, ischaemia limit).
 * Every number in the file carries its published source.
 * Implementation: common/ot_preservation.c (owned by the rules work). */
#ifndef OT_PRESERVATION_H
#define OT_PRESERVATION_H

#include <stddef.h>
#include <stdint.h>

#include "ot_err.h"

struct ot_preservation {
    char name[48]; /* "kidney", or "kidney/hypothermic" for a mode variant */
    double temp_min_c, temp_max_c;
    int64_t excursion_grace_s;
    int64_t max_cold_ischemia_min;
    double warn_fraction; /* e.g. 0.8: warn at 80 % of the ischaemia limit */
    double shock_max_g;
    int64_t lid_open_max_s;
    double hysteresis_c; /* band re-entry margin so a hovering value does not flap */
    double battery_low_pct;
    int64_t gnss_lost_s;
    int64_t sensor_silent_s;
    int64_t escalate_after_s;
    int64_t forecast_horizon_s; /* warn when the trend leaves the band within this */
};

struct ot_preservation_set; /* opaque */

/* Loads and validates; on failure err names file, key and expectation. */
enum ot_err ot_preservation_load(const char *path, struct ot_preservation_set **out, char *err,
                                 size_t errlen);
void ot_preservation_free(struct ot_preservation_set *p);
/* Exact name match ("kidney", "kidney/hypothermic"); NULL if none. */
const struct ot_preservation *ot_preservation_find(const struct ot_preservation_set *p,
                                                   const char *name);
/* Number of profiles and access by index (for listing in the API). */
size_t ot_preservation_count(const struct ot_preservation_set *p);
const struct ot_preservation *ot_preservation_at(const struct ot_preservation_set *p, size_t i);

#endif
