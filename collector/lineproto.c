/* lineproto.c - InfluxDB line protocol encoder; rules in lineproto.h. */
#include "lineproto.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum esc_kind { ESC_MEASUREMENT, ESC_TAG, ESC_STRING };

/* Escapes in into out; -1 when not representable or out too small. */
static long escape(enum esc_kind kind, const char *in, char *out, size_t outlen)
{
    size_t o = 0;
    size_t n = strlen(in);
    if (kind != ESC_STRING) {
        if (n == 0 || in[n - 1] == '\\')
            return -1;
        if (kind == ESC_MEASUREMENT && in[0] == '#')
            return -1;
    }
    for (size_t i = 0; i < n; i++) {
        char ch = in[i];
        const char *rep = NULL;
        char one[3] = {'\\', ch, '\0'};
        switch (kind) {
        case ESC_MEASUREMENT:
            if (ch == '\n' || ch == '\r')
                return -1;
            if (ch == ',' || ch == ' ')
                rep = one;
            break;
        case ESC_TAG:
            if (ch == '\n' || ch == '\r')
                return -1;
            if (ch == ',' || ch == '=' || ch == ' ')
                rep = one;
            break;
        case ESC_STRING:
            if (ch == '"' || ch == '\\')
                rep = one;
            else if (ch == '\n')
                rep = "\\n";
            else if (ch == '\r')
                rep = "\\r";
            break;
        }
        size_t need = rep ? strlen(rep) : 1;
        if (o + need + 1 > outlen)
            return -1;
        if (rep) {
            memcpy(out + o, rep, need);
        } else {
            out[o] = ch;
        }
        o += need;
    }
    if (o + 1 > outlen)
        return -1;
    out[o] = '\0';
    return (long)o;
}

long lineproto__escape_measurement(const char *in, char *out, size_t outlen)
{
    return escape(ESC_MEASUREMENT, in, out, outlen);
}

long lineproto__escape_tag(const char *in, char *out, size_t outlen)
{
    return escape(ESC_TAG, in, out, outlen);
}

long lineproto__escape_string(const char *in, char *out, size_t outlen)
{
    return escape(ESC_STRING, in, out, outlen);
}

void lineproto__init(struct lineproto *lp, size_t max)
{
    memset(lp, 0, sizeof *lp);
    lp->max = max ? max : 1024 * 1024;
}

void lineproto__free(struct lineproto *lp)
{
    if (!lp)
        return;
    free(lp->buf);
    lp->buf = NULL;
    lp->len = lp->cap = lp->line_start = lp->lines = 0;
}

void lineproto__reset(struct lineproto *lp)
{
    lp->len = lp->line_start = lp->lines = 0;
    lp->nfields = 0;
    lp->err = OT_OK;
    if (lp->buf)
        lp->buf[0] = '\0';
}

static int reserve(struct lineproto *lp, size_t more)
{
    if (lp->len + more + 1 > lp->max) {
        lp->err = lp->err ? lp->err : OT_ERR_FULL;
        return -1;
    }
    if (lp->len + more + 1 > lp->cap) {
        size_t ncap = lp->cap ? lp->cap : 4096;
        while (ncap < lp->len + more + 1)
            ncap *= 2;
        if (ncap > lp->max)
            ncap = lp->max;
        char *nb = realloc(lp->buf, ncap);
        if (!nb) {
            lp->err = lp->err ? lp->err : OT_ERR_NOMEM;
            return -1;
        }
        lp->buf = nb;
        lp->cap = ncap;
    }
    return 0;
}

static enum ot_err append(struct lineproto *lp, const char *s, size_t n)
{
    if (reserve(lp, n))
        return lp->err;
    memcpy(lp->buf + lp->len, s, n);
    lp->len += n;
    lp->buf[lp->len] = '\0';
    return OT_OK;
}

/* appends an escaped token; the escaped form is at most 2x the input */
static enum ot_err append_escaped(struct lineproto *lp, enum esc_kind kind, const char *s)
{
    size_t need = 2 * strlen(s) + 1;
    if (reserve(lp, need))
        return lp->err;
    long n = escape(kind, s, lp->buf + lp->len, lp->cap - lp->len);
    if (n < 0) {
        lp->buf[lp->len] = '\0';
        lp->err = lp->err ? lp->err : OT_ERR_INVAL;
        return OT_ERR_INVAL;
    }
    lp->len += (size_t)n;
    return OT_OK;
}

enum ot_err lineproto__begin(struct lineproto *lp, const char *measurement)
{
    lp->line_start = lp->len;
    lp->nfields = 0;
    lp->err = OT_OK;
    return append_escaped(lp, ESC_MEASUREMENT, measurement);
}

enum ot_err lineproto__tag(struct lineproto *lp, const char *key, const char *value)
{
    if (lp->err)
        return lp->err;
    if (lp->nfields) {
        lp->err = OT_ERR_INVAL; /* tags come before fields */
        return lp->err;
    }
    if (append(lp, ",", 1) || append_escaped(lp, ESC_TAG, key) || append(lp, "=", 1) ||
        append_escaped(lp, ESC_TAG, value))
        return lp->err;
    return OT_OK;
}

static enum ot_err field_key(struct lineproto *lp, const char *key)
{
    if (lp->err)
        return lp->err;
    if (append(lp, lp->nfields ? "," : " ", 1) || append_escaped(lp, ESC_TAG, key) ||
        append(lp, "=", 1))
        return lp->err;
    lp->nfields++;
    return OT_OK;
}

enum ot_err lineproto__field_float(struct lineproto *lp, const char *key, double v)
{
    char num[40];
    if (!isfinite(v)) {
        lp->err = lp->err ? lp->err : OT_ERR_INVAL;
        return lp->err;
    }
    /* shortest of %.15g / %.17g that reads back exactly */
    snprintf(num, sizeof num, "%.15g", v);
    if (strtod(num, NULL) != v)
        snprintf(num, sizeof num, "%.17g", v);
    if (field_key(lp, key))
        return lp->err;
    return append(lp, num, strlen(num));
}

enum ot_err lineproto__field_int(struct lineproto *lp, const char *key, int64_t v)
{
    char num[32];
    int n = snprintf(num, sizeof num, "%lldi", (long long)v);
    if (field_key(lp, key))
        return lp->err;
    return append(lp, num, (size_t)n);
}

enum ot_err lineproto__field_bool(struct lineproto *lp, const char *key, int v)
{
    if (field_key(lp, key))
        return lp->err;
    return v ? append(lp, "true", 4) : append(lp, "false", 5);
}

enum ot_err lineproto__field_string(struct lineproto *lp, const char *key, const char *v)
{
    if (field_key(lp, key) || append(lp, "\"", 1) || append_escaped(lp, ESC_STRING, v))
        return lp->err;
    return append(lp, "\"", 1);
}

void lineproto__abort(struct lineproto *lp)
{
    lp->len = lp->line_start;
    if (lp->buf)
        lp->buf[lp->len] = '\0';
    lp->nfields = 0;
    lp->err = OT_OK;
}

enum ot_err lineproto__end(struct lineproto *lp, int64_t ts)
{
    char num[32];
    enum ot_err rc = lp->err;
    if (!rc && lp->nfields == 0)
        rc = OT_ERR_INVAL;
    if (!rc) {
        int n = snprintf(num, sizeof num, " %lld\n", (long long)ts);
        rc = append(lp, num, (size_t)n);
    }
    if (rc) {
        lineproto__abort(lp);
        return rc;
    }
    lp->lines++;
    lp->line_start = lp->len;
    lp->nfields = 0;
    return OT_OK;
}
