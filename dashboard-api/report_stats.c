/* report_stats.c - the report's figures, computed on every reading.
 *
 * Product temperature (temp_c) is what the band is about; the second probe
 * and ambient get min/max/mean for context. Readings are taken in the
 * model's order, (ts, seq); a time that goes backwards is refused.
 *
 * Gaps. Two consecutive product readings further apart than the threshold
 * (the model's gap_ms, else five times the median spacing, at least 30 s)
 * are a gap: nothing is known in between, so the interval counts neither as
 * inside nor as outside the band, and the chart breaks its line there.
 *
 * Time outside the band is time-weighted: the interval from a reading to
 * the next (when no gap) is attributed to the first of the two (sample and
 * hold, which is what a logger's reading means until the next one). An
 * excursion is a run of readings outside the band; it lasts from its first
 * reading outside to the first reading back inside (or to its last reading
 * outside when a gap or the end follows), so the excursions' durations add
 * up to the time outside exactly.
 *
 * Mean and mean kinetic temperature are NOT time-weighted: each product
 * reading counts once. That is the USP <1079.2> form, meant for equally
 * spaced readings, which is what a gateway produces (a fixed poll
 * interval). Where spacing is unequal it is because of a gap or a replay,
 * and weighting each reading by the time to the next would hand the
 * reading before a gap the weight of the whole gap, i.e. invent the
 * temperature of a period nobody measured. Gaps are reported instead.
 *
 *   MKT = (ΔH/R) / (−ln(Σ exp(−ΔH/(R·T_i)) / n)) − 273.15,  T_i in kelvin,
 *   ΔH = 83.144 kJ/mol, R = 8.314462618 J/(mol·K).
 *
 * The sum is taken relative to the warmest reading (every term ≤ 1), so
 * neither overflow nor a total underflow can happen whatever the band
 * (cryopreserved tissue at −196 °C included). */
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MKT_DH_J_PER_MOL 83144.0
#define MKT_R_J_PER_MOL_K 8.314462618
#define KELVIN_OFFSET 273.15
#define GAP_MIN_MS 30000
#define GAP_MEDIAN_FACTOR 5

static void series_init(struct report_series_stats *s)
{
    s->n = 0;
    s->min = s->max = s->mean = NAN;
    s->min_ts = s->max_ts = 0;
}

/* sums in sum; mean filled by series_finish */
static void series_add(struct report_series_stats *s, double *sum, double v, int64_t ts)
{
    if (!isfinite(v))
        return;
    if (s->n == 0 || v < s->min) {
        s->min = v;
        s->min_ts = ts;
    }
    if (s->n == 0 || v > s->max) {
        s->max = v;
        s->max_ts = ts;
    }
    *sum += v;
    s->n++;
}

static void series_finish(struct report_series_stats *s, double sum)
{
    if (s->n)
        s->mean = sum / (double)s->n;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Five times the median spacing of product readings, at least GAP_MIN_MS. */
static enum ot_err auto_gap(const struct report_model *m, int64_t *out)
{
    size_t n = 0;
    int64_t prev = 0;
    int have = 0;
    *out = GAP_MIN_MS;
    int64_t *dts = malloc((m->n_readings ? m->n_readings : 1) * sizeof *dts);
    if (!dts)
        return OT_ERR_NOMEM;
    for (size_t i = 0; i < m->n_readings; i++) {
        if (!isfinite(m->readings[i].temp_c))
            continue;
        if (have && m->readings[i].ts > prev)
            dts[n++] = m->readings[i].ts - prev;
        prev = m->readings[i].ts;
        have = 1;
    }
    if (n) {
        qsort(dts, n, sizeof *dts, cmp_i64);
        int64_t g = dts[n / 2] * GAP_MEDIAN_FACTOR;
        if (g > *out)
            *out = g;
    }
    free(dts);
    return OT_OK;
}

/* Mean kinetic temperature (°C) over the product readings; NaN if none. */
static double mkt_c(const struct report_model *m, enum ot_err *rc)
{
    const double a = MKT_DH_J_PER_MOL / MKT_R_J_PER_MOL_K; /* kelvin */
    double tmax = -INFINITY, sum = 0;
    size_t n = 0;
    for (size_t i = 0; i < m->n_readings; i++) {
        double t = m->readings[i].temp_c;
        if (!isfinite(t))
            continue;
        if (t + KELVIN_OFFSET <= 0) {
            *rc = OT_ERR_RANGE;
            return NAN;
        }
        if (t + KELVIN_OFFSET > tmax)
            tmax = t + KELVIN_OFFSET;
    }
    if (!isfinite(tmax))
        return NAN;
    /* Σ exp(−a/T_i) = exp(−a/Tmax) · Σ exp(a/Tmax − a/T_i), each term ≤ 1 */
    for (size_t i = 0; i < m->n_readings; i++) {
        double t = m->readings[i].temp_c;
        if (!isfinite(t))
            continue;
        sum += exp(a / tmax - a / (t + KELVIN_OFFSET));
        n++;
    }
    double ln_mean = -a / tmax + log(sum / (double)n);
    return a / -ln_mean - KELVIN_OFFSET;
}

static int outside(const struct report_model *m, double t)
{
    return t < m->band_min_c || t > m->band_max_c;
}

/* distance outside the band (positive), for the peak of an excursion */
static double excess(const struct report_model *m, double t)
{
    return t > m->band_max_c ? t - m->band_max_c : m->band_min_c - t;
}

static enum ot_err exc_close(struct report_stats *st, const struct report_excursion *e, size_t *cap)
{
    st->n_excursions_total++;
    if (st->n_excursions >= REPORT_MAX_ROWS)
        return OT_OK; /* counted, not kept */
    if (st->n_excursions == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        struct report_excursion *p = realloc(st->excursions, nc * sizeof *p);
        if (!p)
            return OT_ERR_NOMEM;
        st->excursions = p;
        *cap = nc;
    }
    st->excursions[st->n_excursions++] = *e;
    return OT_OK;
}

static enum ot_err gap_keep(struct report_stats *st, int64_t from, int64_t to, size_t *cap)
{
    if (st->n_time_gaps_kept >= REPORT_MAX_ROWS)
        return OT_OK;
    if (st->n_time_gaps_kept == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        struct report_interval *p = realloc(st->time_gaps, nc * sizeof *p);
        if (!p)
            return OT_ERR_NOMEM;
        st->time_gaps = p;
        *cap = nc;
    }
    st->time_gaps[st->n_time_gaps_kept++] = (struct report_interval){from, to};
    return OT_OK;
}

/* The product series: time measured, time outside, gaps, excursions. */
static enum ot_err walk_product(const struct report_model *m, struct report_stats *st)
{
    struct report_excursion cur = {0};
    int open = 0, have = 0;
    size_t cap = 0, gcap = 0;
    int64_t prev_ts = 0;
    double prev_t = NAN;
    enum ot_err rc = OT_OK;
    for (size_t i = 0; i < m->n_readings && !rc; i++) {
        const struct report_reading *r = &m->readings[i];
        if (!isfinite(r->temp_c))
            continue;
        int gap = 0;
        if (have) {
            int64_t dt = r->ts - prev_ts;
            if (dt > st->gap_ms) {
                gap = 1;
                st->n_time_gaps++;
                st->time_gaps_ms += dt;
                rc = gap_keep(st, prev_ts, r->ts, &gcap);
            } else {
                st->measured_ms += dt;
                if (outside(m, prev_t))
                    st->outside_ms += dt;
            }
        } else {
            st->first_ts = r->ts;
        }
        if (!rc && open && (gap || !outside(m, r->temp_c))) {
            cur.to_ts = gap ? prev_ts : r->ts;
            rc = exc_close(st, &cur, &cap);
            open = 0;
        }
        if (outside(m, r->temp_c)) {
            if (!open) {
                cur.from_ts = r->ts;
                cur.peak_c = r->temp_c;
                open = 1;
            } else if (excess(m, r->temp_c) > excess(m, cur.peak_c)) {
                cur.peak_c = r->temp_c;
            }
            cur.above = cur.peak_c > m->band_max_c;
        }
        prev_ts = r->ts;
        prev_t = r->temp_c;
        have = 1;
    }
    if (!rc && open) {
        cur.to_ts = prev_ts;
        rc = exc_close(st, &cur, &cap);
    }
    st->last_ts = have ? prev_ts : 0;
    return rc;
}

enum ot_err report_stats_compute(const struct report_model *m, struct report_stats *st)
{
    double s1 = 0, s2 = 0, s3 = 0;
    enum ot_err rc = OT_OK;
    memset(st, 0, sizeof *st);
    series_init(&st->product);
    series_init(&st->probe2);
    series_init(&st->ambient);
    st->mkt_c = NAN;
    if (m->n_readings > REPORT_MAX_READINGS || m->n_gaps > REPORT_MAX_ROWS)
        return OT_ERR_TOOBIG;
    if (m->n_readings && !m->readings)
        return OT_ERR_INVAL;
    st->n_readings = m->n_readings;
    for (size_t i = 0; i < m->n_readings; i++) {
        const struct report_reading *r = &m->readings[i];
        if (i && r->ts < m->readings[i - 1].ts)
            return OT_ERR_INVAL; /* not in time order */
        series_add(&st->product, &s1, r->temp_c, r->ts);
        series_add(&st->probe2, &s2, r->temp2_c, r->ts);
        series_add(&st->ambient, &s3, r->ambient_c, r->ts);
    }
    series_finish(&st->product, s1);
    series_finish(&st->probe2, s2);
    series_finish(&st->ambient, s3);
    st->gap_ms = m->gap_ms;
    if (st->gap_ms <= 0 && (rc = auto_gap(m, &st->gap_ms)) != OT_OK)
        return rc;
    st->mkt_c = mkt_c(m, &rc);
    if (rc)
        return rc;
    if ((rc = walk_product(m, st)) != OT_OK)
        return rc;
    for (size_t i = 0; i < m->n_gaps; i++) {
        const struct report_gap *g = &m->gaps[i];
        size_t k = g->to_seq >= g->from_seq ? (size_t)(g->to_seq - g->from_seq + 1) : 0;
        if (g->lost) {
            st->n_lost++;
            st->lost_readings += k;
        } else {
            st->n_seq_gaps++;
            st->seq_gap_readings += k;
        }
    }
    return OT_OK;
}

void report_stats_free(struct report_stats *st)
{
    if (!st)
        return;
    free(st->excursions);
    free(st->time_gaps);
    st->excursions = NULL;
    st->time_gaps = NULL;
    st->n_excursions = st->n_time_gaps_kept = 0;
}
