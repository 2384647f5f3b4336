/* ot_reading_encode.c - SPEC readings batch (and single reading) to JSON.
 *
 * Written straight into a capped buffer (ot_buf) instead of building a
 * cJSON tree: the gateway encodes every reading it publishes, and a tree
 * cost a dozen allocations and a sprintf + sscanf per number. The bytes are
 * the ones cJSON_PrintUnformatted (1.7.15) printed for the same tree (key
 * order; numbers as %1.15g unless that does not read back within
 * DBL_EPSILON, then %1.17g; NaN and infinities as null), which
 * tests/unit/test_reading.c checks against cJSON itself. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ot_buf.h"
#include "ot_reading.h"

static void put_num(struct ot_buf *b, double d)
{
    char nb[32];
    int n;
    if (isnan(d) || isinf(d)) {
        n = snprintf(nb, sizeof nb, "null");
    } else {
        n = snprintf(nb, sizeof nb, "%1.15g", d);
        double t = strtod(nb, NULL);
        double big = fabs(t) > fabs(d) ? fabs(t) : fabs(d);
        if (!(fabs(t - d) <= big * DBL_EPSILON))
            n = snprintf(nb, sizeof nb, "%1.17g", d);
    }
    ot_buf_add(b, nb, (size_t)n);
}

/* A JSON string: ids and channel names are validated ASCII, but escape
 * anyway so a caller's mistake can never break the document. */
static void put_str(struct ot_buf *b, const char *s)
{
    ot_buf_add(b, "\"", 1);
    const char *run = s;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        ot_buf_add(b, run, (size_t)(s - run));
        char esc[8];
        int n = snprintf(esc, sizeof esc, "\\u%04x", c);
        ot_buf_add(b, esc, (size_t)n);
        run = s + 1;
    }
    ot_buf_add(b, run, (size_t)(s - run));
    ot_buf_add(b, "\"", 1);
}

static void put_key(struct ot_buf *b, const char *k, int first)
{
    if (!first)
        ot_buf_add(b, ",", 1);
    put_str(b, k);
    ot_buf_add(b, ":", 1);
}

static void put_reading(struct ot_buf *b, const struct ot_reading *r)
{
    ot_buf_str(b, "{\"seq\":");
    put_num(b, (double)r->seq);
    put_key(b, "ts", 0);
    put_num(b, (double)r->ts);
    for (int ch = 0; ch < OT_CH__COUNT; ch++) {
        if (!ot_reading_has(r, (enum ot_channel)ch))
            continue;
        put_key(b, ot_channels[ch].name, 0);
        if (ot_channels[ch].is_bool)
            ot_buf_str(b, r->v[ch] != 0.0 ? "true" : "false");
        else
            put_num(b, r->v[ch]);
    }
    for (size_t i = 0; i < r->n_extra && i < OT_EXTRA_MAX; i++) {
        put_key(b, r->extra[i].name, 0);
        if (r->extra[i].is_bool)
            ot_buf_str(b, r->extra[i].value != 0.0 ? "true" : "false");
        else
            put_num(b, r->extra[i].value);
    }
    if (r->missing) {
        put_key(b, "missing", 0);
        ot_buf_add(b, "[", 1);
        int first = 1;
        for (int ch = 0; ch < OT_CH__COUNT; ch++)
            if ((r->missing >> ch) & 1u) {
                if (!first)
                    ot_buf_add(b, ",", 1);
                put_str(b, ot_channels[ch].name);
                first = 0;
            }
        ot_buf_add(b, "]", 1);
    }
    ot_buf_add(b, "}", 1);
}

enum ot_err ot_reading_encode(const struct ot_reading *r, char **out)
{
    struct ot_buf b = OT_BUF_INIT(64 * 1024);
    put_reading(&b, r);
    if (b.failed || !b.p) {
        free(b.p);
        return OT_ERR_NOMEM;
    }
    *out = b.p;
    return OT_OK;
}

enum ot_err ot_batch_encode(const struct ot_batch *b, char **out, size_t *len)
{
    struct ot_buf o = OT_BUF_INIT(OT_BATCH_MAX_BYTES * 4);
    ot_buf_str(&o, "{\"v\":1,\"container\":");
    put_str(&o, b->container);
    put_key(&o, "gateway", 0);
    put_str(&o, b->gateway);
    put_key(&o, "boot", 0);
    put_num(&o, (double)b->boot);
    put_key(&o, "readings", 0);
    ot_buf_add(&o, "[", 1);
    for (size_t i = 0; i < b->n; i++) {
        if (i)
            ot_buf_add(&o, ",", 1);
        put_reading(&o, &b->readings[i]);
    }
    ot_buf_add(&o, "]", 1);
    if (b->n_lost) {
        put_key(&o, "lost", 0);
        ot_buf_add(&o, "[", 1);
        for (size_t i = 0; i < b->n_lost && i < OT_LOST_MAX; i++) {
            ot_buf_add(&o, i ? ",[" : "[", i ? 2 : 1);
            put_num(&o, (double)b->lost[i].from);
            ot_buf_add(&o, ",", 1);
            put_num(&o, (double)b->lost[i].to);
            ot_buf_add(&o, "]", 1);
        }
        ot_buf_add(&o, "]", 1);
    }
    ot_buf_add(&o, "}", 1);
    if (o.failed || !o.p) {
        free(o.p);
        return OT_ERR_NOMEM;
    }
    *out = o.p;
    if (len)
        *len = o.n;
    return OT_OK;
}
