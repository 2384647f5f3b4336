/* profiles.c - GET /api/v1/profiles: the preservation profiles loaded at
 * start-up (temperature band, cold ischaemia limit, warning fraction). */
#include "api.h"

#include "ot_preservation.h"

void api__h_profiles(struct api_req *r)
{
    cJSON *items = cJSON_CreateArray();
    size_t n = r->ctx->pres ? ot_preservation_count(r->ctx->pres) : 0;
    for (size_t i = 0; items && i < n; i++) {
        const struct ot_preservation *p = ot_preservation_at(r->ctx->pres, i);
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(items, o)) {
            cJSON_Delete(o);
            break;
        }
        cJSON_AddStringToObject(o, "name", p->name);
        cJSON_AddNumberToObject(o, "temp_min_c", p->temp_min_c);
        cJSON_AddNumberToObject(o, "temp_max_c", p->temp_max_c);
        cJSON_AddNumberToObject(o, "max_cold_ischemia_min", (double)p->max_cold_ischemia_min);
        cJSON_AddNumberToObject(o, "warn_fraction", p->warn_fraction);
    }
    cJSON *o = items ? api__page(items, NULL) : NULL;
    if (!o) {
        api__reply_error(r, 500, "internal", "out of memory");
        return;
    }
    api__reply_json(r, 200, o);
}
