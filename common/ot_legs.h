/* ot_legs.h - planned legs of a shipment (SPEC v1.1 "Shipments: legs"):
 * one parser and one printer shared by the API, which validates what a
 * coordinator sends and stores it as JSON text in shipments.legs, and the
 * collector, which reads that text back to make the ETA follow the plan.
 *
 *   [{"mode":"ground"|"air","from":{name,lat,lon[,radius_m]},"to":{…},
 *     "planned_departure":ISO,"planned_arrival":ISO,
 *     "carrier":"…","flight":"…"}]   (carrier, flight optional)
 *
 * Rules: 1..OT_LEGS_MAX legs; each planned_departure < planned_arrival;
 * each leg departs no earlier than the previous one arrives. radius_m
 * (optional, OT_LEGS_RADIUS_MIN_M..OT_LEGS_RADIUS_MAX_M) is the place's
 * geofence for the progress events (collector/rules/rules_progress.c);
 * absent, the collector uses its default for the kind of place. */
#ifndef OT_LEGS_H
#define OT_LEGS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "ot_err.h"

#define OT_LEGS_MAX 8
#define OT_LEGS_RADIUS_MIN_M 50.0
#define OT_LEGS_RADIUS_MAX_M 20000.0

enum ot_leg_mode { OT_LEG_GROUND = 0, OT_LEG_AIR };

struct ot_leg_place {
    char name[129];
    double lat, lon;
    double radius_m; /* geofence radius, 0: the default for the kind of place */
};

struct ot_leg {
    enum ot_leg_mode mode;
    struct ot_leg_place from, to;
    int64_t planned_departure, planned_arrival; /* epoch ms */
    char carrier[65], flight[17];
};

/* Parses and validates a legs array into out[0..*n). On failure returns
 * OT_ERR_INVAL with msg naming the offending key ("legs[1].planned_arrival:
 * ..."). */
enum ot_err ot_legs_parse(const cJSON *arr, struct ot_leg *out, size_t *n, char *msg,
                          size_t msglen);
/* Same from stored JSON text (NULL or "" gives *n = 0 and OT_OK). */
enum ot_err ot_legs_parse_text(const char *text, struct ot_leg *out, size_t *n, char *msg,
                               size_t msglen);
/* The legs as a JSON array (caller frees with cJSON_Delete); NULL: no memory. */
cJSON *ot_legs_json(const struct ot_leg *legs, size_t n);

#endif
