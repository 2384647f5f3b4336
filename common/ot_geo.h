/* ot_geo.h - distances on the Earth, one definition for every program (the
 * collector's ETA, the API's remaining distance, the simulator's routes). */
#ifndef OT_GEO_H
#define OT_GEO_H

/* IUGG mean Earth radius R1 in km: the sphere that best fits the ellipsoid
 * for great-circle distances (error under 0.5 %). */
#define OT_EARTH_KM 6371.0088

/* Great-circle distance in km between two WGS 84 positions in degrees
 * (haversine; exact for antipodes too). */
double ot_geo_distance_km(double lat1, double lon1, double lat2, double lon2);

#endif
