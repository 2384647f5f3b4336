#include "ot_geo.h"

#include <math.h>

double ot_geo_distance_km(double lat1, double lon1, double lat2, double lon2)
{
    const double d2r = 3.14159265358979323846 / 180.0;
    double p1 = lat1 * d2r, p2 = lat2 * d2r;
    double dp = (lat2 - lat1) * d2r, dl = (lon2 - lon1) * d2r;
    double h = sin(dp / 2) * sin(dp / 2) + cos(p1) * cos(p2) * sin(dl / 2) * sin(dl / 2);
    if (h > 1) /* rounding near antipodes */
        h = 1;
    return 2 * OT_EARTH_KM * asin(sqrt(h));
}
