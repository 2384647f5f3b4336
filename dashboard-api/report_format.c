/* report_format.c - how the report writes times, durations and numbers.
 *
 * Times are printed in the model's UTC offset ("2026-11-23 09:10"), with
 * the offset stated once per page header, never in the server's local time
 * zone (the report must not depend on where it is rendered). Decimal
 * separator: comma in Kazakh and Russian, point in English. The minus sign
 * is ASCII so that a value can be searched for as typed. */
#include "report_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define NBSP "\u00a0" /* a value never wraps away from its unit */

void report_fmt__subst(char *out, size_t len, const char *tpl, const char *const *args,
                       size_t nargs)
{
    size_t o = 0;
    if (!len)
        return;
    for (const char *p = tpl; *p && o + 1 < len; p++) {
        if (p[0] == '{' && p[1] >= '1' && p[1] <= '9' && p[2] == '}') {
            size_t k = (size_t)(p[1] - '1');
            const char *a = k < nargs && args[k] ? args[k] : "";
            size_t n = strlen(a);
            if (n > len - 1 - o)
                n = len - 1 - o;
            memcpy(out + o, a, n);
            o += n;
            p += 2;
            continue;
        }
        out[o++] = *p;
    }
    out[o] = '\0';
}

void report_fmt__time(const struct report_model *m, int64_t ms, int with_s, char *out, size_t len)
{
    if (ms == 0) {
        snprintf(out, len, "—");
        return;
    }
    int64_t local = ms + (int64_t)m->utc_offset_min * 60000;
    time_t secs = (time_t)(local >= 0 ? local / 1000 : (local - 999) / 1000);
    struct tm tm;
    if (!gmtime_r(&secs, &tm)) {
        snprintf(out, len, "—");
        return;
    }
    if (with_s)
        snprintf(out, len, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    else
        snprintf(out, len, "%04d-%02d-%02d %02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min);
}

void report_fmt__offset(int offset_min, char *out, size_t len)
{
    int a = offset_min < 0 ? -offset_min : offset_min;
    snprintf(out, len, "UTC%c%02d:%02d", offset_min < 0 ? '-' : '+', a / 60, a % 60);
}

void report_fmt__duration(enum report_lang lang, int64_t ms, char *out, size_t len)
{
    static const char *const unit[REPORT_LANG__COUNT][3] = {
        {"сағ", "мин", "с"}, {"ч", "мин", "с"}, {"h", "min", "s"}};
    if ((unsigned)lang >= REPORT_LANG__COUNT)
        lang = REPORT_LANG_EN;
    int neg = ms < 0;
    int64_t s = ((neg ? -ms : ms) + 500) / 1000; /* rounded to the second */
    const char *sign = neg ? "-" : "";
    if (s < 60)
        snprintf(out, len, "%s%lld" NBSP "%s", sign, (long long)s, unit[lang][2]);
    else if (s < 3600 && s % 60)
        snprintf(out, len, "%s%lld" NBSP "%s %lld" NBSP "%s", sign, (long long)(s / 60),
                 unit[lang][1], (long long)(s % 60), unit[lang][2]);
    else if (s < 3600)
        snprintf(out, len, "%s%lld" NBSP "%s", sign, (long long)(s / 60), unit[lang][1]);
    else
        snprintf(out, len, "%s%lld" NBSP "%s %lld" NBSP "%s", sign, (long long)(s / 3600),
                 unit[lang][0], (long long)(s % 3600 / 60), unit[lang][1]);
}

void report_fmt__num(enum report_lang lang, double v, int decimals, char *out, size_t len)
{
    if (!isfinite(v)) {
        snprintf(out, len, "—");
        return;
    }
    snprintf(out, len, "%.*f", decimals, v);
    /* "-0.0" is zero */
    if (out[0] == '-' && strspn(out + 1, "0.") == strlen(out + 1))
        memmove(out, out + 1, strlen(out));
    if (lang != REPORT_LANG_EN) {
        char *dot = strchr(out, '.');
        if (dot)
            *dot = ',';
    }
}

void report_fmt__temp(enum report_lang lang, double v, char *out, size_t len)
{
    char n[32];
    if (!isfinite(v)) {
        snprintf(out, len, "—");
        return;
    }
    report_fmt__num(lang, v, 1, n, sizeof n);
    snprintf(out, len, "%s" NBSP "°C", n);
}
