/* json.c - JSON output of row values for every handler that turns rows
 * (ot_sql, either backend) into objects: times as RFC 3339 (or null), text (or null) and
 * numbers written without cJSON's slow number printing. */
#include "api.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "ot_time.h"

void api__add_iso(cJSON *o, const char *key, const struct ot_sql_stmt *st, int col)
{
    char iso[32];
    if (ot_sql_is_null(st, col))
        cJSON_AddNullToObject(o, key);
    else
        cJSON_AddStringToObject(o, key, ot_time_format_iso(ot_sql_int64(st, col), iso, sizeof iso));
}

void api__add_text(cJSON *o, const char *key, const struct ot_sql_stmt *st, int col)
{
    const char *t = ot_sql_text(st, col);
    if (t)
        cJSON_AddStringToObject(o, key, t);
    else
        cJSON_AddNullToObject(o, key);
}

/* Adds a number as raw JSON text. cJSON prints every number with
 * "%1.15g", parses it back with sscanf and falls back to "%1.17g": about a
 * microsecond per number, which dominated the uncached shipment list.
 * Integers (ids, seq, ts) are written digit by digit; other values take
 * "%.15g" and are checked with strtod, falling back to "%.17g", so the text
 * still reads back as exactly the stored double. */
void api__add_num(cJSON *o, const char *key, double v)
{
    char buf[32];
    if (!isfinite(v)) {
        cJSON_AddNullToObject(o, key);
        return;
    }
    if (v == floor(v) && fabs(v) < 9007199254740992.0) {
        long long n = (long long)v;
        char tmp[24];
        int i = 0, neg = n < 0;
        unsigned long long u = neg ? (unsigned long long)(-n) : (unsigned long long)n;
        do {
            tmp[i++] = (char)('0' + (int)(u % 10));
            u /= 10;
        } while (u);
        int j = 0;
        if (neg)
            buf[j++] = '-';
        while (i)
            buf[j++] = tmp[--i];
        buf[j] = '\0';
    } else {
        snprintf(buf, sizeof buf, "%.15g", v);
        if (strtod(buf, NULL) != v)
            snprintf(buf, sizeof buf, "%.17g", v);
    }
    cJSON_AddRawToObject(o, key, buf);
}
