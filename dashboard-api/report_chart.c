/* report_chart.c - the temperature chart, as vector graphics.
 *
 * Two panels share one time axis: above, the product probe (and the second
 * probe) against the preservation band, which is what the report is
 * about; below, ambient, whose range (-12 .. +21 °C in a November flight)
 * would otherwise flatten the product line. The band is shaded, every
 * excursion is a red span with its number (E1, E2, ... as in the
 * excursions table) and the product line turns red outside the band; gaps
 * (consecutive readings further apart than the statistics' threshold) are
 * grey spans and the lines break there instead of bridging them; custody
 * entries are dashed verticals with their ledger index.
 *
 * Down-sampling: a 24-hour shipment at 1 Hz has 86,400 readings and the
 * panel is ~480 pt wide. Readings are bucketed into two columns per point
 * and each column contributes its minimum and maximum in time order, so a
 * one-reading spike stays visible, while the path has at most four points
 * per point of width. The statistics never see this: they are computed on
 * every reading (report_stats.c). */
#include "report_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define AXIS_W 34.0 /* room for the °C labels */
#define QUARTER_TURN 1.57079632679489661923
#define PANEL_GAP 16.0
#define COLS_PER_PT 2
#define PRODUCT_RGB 0.08, 0.30, 0.62
#define RED_RGB 0.80, 0.10, 0.10
#define PROBE2_RGB 0.90, 0.50, 0.05
#define AMBIENT_RGB 0.35, 0.35, 0.38
#define BAND_FILL 0.86, 0.94, 0.87
#define BAND_EDGE 0.30, 0.60, 0.35
#define GAP_RGBA 0.55, 0.55, 0.60, 0.25
#define EXC_RGBA 0.85, 0.20, 0.20, 0.14
#define CUSTODY_RGB 0.35, 0.42, 0.55

static const struct rp_style tick = {RP_REGULAR, 6.5, 0.30, 0.32, 0.36, PANGO_ALIGN_RIGHT};
static const struct rp_style tick_c = {RP_REGULAR, 6.5, 0.30, 0.32, 0.36, PANGO_ALIGN_CENTER};
static const struct rp_style marker = {RP_REGULAR, 6.0, CUSTODY_RGB, PANGO_ALIGN_CENTER};
static const struct rp_style exc_label = {RP_BOLD, 6.5, RED_RGB, PANGO_ALIGN_LEFT};
static const struct rp_style legend = {RP_REGULAR, 7.0, 0.20, 0.22, 0.25, PANGO_ALIGN_LEFT};

enum series { S_PRODUCT, S_PROBE2, S_AMBIENT };

struct frame {
    double x, y, w, h; /* plot area */
    double lo, hi;     /* °C at bottom, top */
    int64_t t0, t1;
};

static double value(const struct report_reading *r, enum series s)
{
    return s == S_PRODUCT ? r->temp_c : s == S_PROBE2 ? r->temp2_c : r->ambient_c;
}

static double fx(const struct frame *f, int64_t ts)
{
    return f->x + (double)(ts - f->t0) / (double)(f->t1 - f->t0) * f->w;
}

static double fy(const struct frame *f, double c)
{
    return f->y + (f->hi - c) / (f->hi - f->lo) * f->h;
}

/* 1, 2 or 5 times a power of ten, about span/target */
static double nice_step(double span, int target)
{
    double raw = span / target, p = pow(10, floor(log10(raw))), m = raw / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

/* Widens [lo, hi] to whole ticks with a little headroom; returns the step. */
static double y_range(double *lo, double *hi)
{
    double pad = (*hi - *lo) * 0.08;
    if (pad < 0.5)
        pad = 0.5;
    *lo -= pad;
    *hi += pad;
    double step = nice_step(*hi - *lo, 6);
    *lo = floor(*lo / step) * step;
    *hi = ceil(*hi / step) * step;
    return step;
}

static void y_axis(struct rp *rp, const struct frame *f, double step)
{
    char n[32], lab[48];
    cairo_t *cr = rp->cr;
    for (double c = f->lo; c <= f->hi + step / 2; c += step) {
        double y = fy(f, c);
        cairo_set_source_rgb(cr, 0.88, 0.89, 0.91);
        cairo_set_line_width(cr, 0.4);
        cairo_move_to(cr, f->x, y);
        cairo_line_to(cr, f->x + f->w, y);
        cairo_stroke(cr);
        report_fmt__num(rp->lang, fabs(c) < step / 1000 ? 0 : c, step < 1 ? 1 : 0, n, sizeof n);
        snprintf(lab, sizeof lab, "%s", n);
        report_layout__text(rp, &tick, f->x - AXIS_W, y - 4.5, AXIS_W - 4, lab);
    }
    /* the unit, turned along the axis */
    PangoLayout *l =
        report_layout__make(rp, &tick_c, report_i18n__str(rp->lang, RS_AXIS_TEMP), f->h);
    if (!l)
        return;
    cairo_save(cr);
    cairo_translate(cr, f->x - AXIS_W - 2, f->y + f->h);
    cairo_rotate(cr, -QUARTER_TURN);
    cairo_set_source_rgb(cr, tick_c.r, tick_c.g, tick_c.b);
    cairo_move_to(cr, 0, 0);
    pango_cairo_show_layout(cr, l);
    cairo_restore(cr);
    g_object_unref(l);
}

/* Time grid through both panels, labels under the lower one. */
static void x_axis(struct rp *rp, const struct frame *f, double top, double bottom)
{
    static const int64_t steps_min[] = {1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880};
    int64_t span = f->t1 - f->t0, step = steps_min[0] * 60000;
    int64_t off = (int64_t)rp->m->utc_offset_min * 60000;
    for (size_t i = 0; i < sizeof steps_min / sizeof steps_min[0]; i++) {
        step = steps_min[i] * 60000;
        if (span / step <= 8)
            break;
    }
    int64_t first = ((f->t0 + off) / step + 1) * step - off;
    int last_day = -1;
    for (int64_t t = first; t <= f->t1; t += step) {
        char hm[16], day[16];
        double x = fx(f, t);
        cairo_set_source_rgb(rp->cr, 0.88, 0.89, 0.91);
        cairo_set_line_width(rp->cr, 0.4);
        cairo_move_to(rp->cr, x, top);
        cairo_line_to(rp->cr, x, bottom);
        cairo_stroke(rp->cr);
        int64_t local_min = (t + off) / 60000;
        int mins = (int)(local_min % 1440), dayno = (int)(local_min / 1440);
        snprintf(hm, sizeof hm, "%02d:%02d", mins / 60, mins % 60);
        report_layout__text(rp, &tick_c, x - 20, bottom + 3, 40, hm);
        if (dayno != last_day) {
            char full[32];
            report_fmt__time(rp->m, t, 0, full, sizeof full);
            snprintf(day, sizeof day, "%.10s", full);
            report_layout__text(rp, &tick_c, x - 30, bottom + 11, 60, day);
            last_day = dayno;
        }
    }
}

/* The path of one series, min/max per column in time order, broken at
 * gaps. */
static void series_path(struct rp *rp, const struct frame *f, enum series s, int64_t gap_ms)
{
    const struct report_model *m = rp->m;
    cairo_t *cr = rp->cr;
    long cols = (long)(f->w * COLS_PER_PT), col = -1;
    double vmin = 0, vmax = 0;
    size_t k = 0, min_pos = 0, max_pos = 0;
    int open = 0, fresh = 1;
    int64_t prev_ts = 0, span = f->t1 - f->t0;
    for (size_t i = 0; i <= m->n_readings; i++) {
        const struct report_reading *r = i < m->n_readings ? &m->readings[i] : NULL;
        double v = r ? value(r, s) : NAN;
        if (r && !isfinite(v))
            continue;
        long c = -1;
        int gap = 0;
        if (r) {
            c = (long)((double)(r->ts - f->t0) * (double)cols / (double)span);
            c = c < 0 ? 0 : c >= cols ? cols - 1 : c;
            gap = open && r->ts - prev_ts > gap_ms;
        }
        if (open && (!r || gap || c != col)) {
            double x = f->x + ((double)col + 0.5) / COLS_PER_PT;
            double first = min_pos <= max_pos ? vmin : vmax;
            double second = min_pos <= max_pos ? vmax : vmin;
            if (fresh)
                cairo_move_to(cr, x, fy(f, first));
            else
                cairo_line_to(cr, x, fy(f, first));
            cairo_line_to(cr, x, fy(f, second)); /* a lone reading: a dot (round caps) */
            fresh = 0;
            open = 0;
        }
        if (!r)
            break;
        if (gap)
            fresh = 1;
        if (!open) {
            col = c;
            vmin = vmax = v;
            k = min_pos = max_pos = 0;
            open = 1;
        } else {
            k++;
            if (v < vmin) {
                vmin = v;
                min_pos = k;
            }
            if (v > vmax) {
                vmax = v;
                max_pos = k;
            }
        }
        prev_ts = r->ts;
    }
}

static void spans(struct rp *rp, const struct frame *f, double top, double bottom)
{
    const struct report_stats *st = rp->st;
    cairo_t *cr = rp->cr;
    cairo_set_source_rgba(cr, GAP_RGBA);
    for (size_t i = 0; i < st->n_time_gaps_kept; i++) {
        double a = fx(f, st->time_gaps[i].from_ts), b = fx(f, st->time_gaps[i].to_ts);
        cairo_rectangle(cr, a, top, b - a < 0.8 ? 0.8 : b - a, bottom - top);
    }
    cairo_fill(cr);
    cairo_set_source_rgba(cr, EXC_RGBA);
    for (size_t i = 0; i < st->n_excursions; i++) {
        double a = fx(f, st->excursions[i].from_ts), b = fx(f, st->excursions[i].to_ts);
        cairo_rectangle(cr, a, f->y, b - a < 1.2 ? 1.2 : b - a, f->h);
    }
    cairo_fill(cr);
    double last_x = -1e9;
    for (size_t i = 0; i < st->n_excursions && st->n_excursions <= 40; i++) {
        char lab[24];
        double a = fx(f, st->excursions[i].from_ts);
        if (a - last_x < 14)
            continue;
        snprintf(lab, sizeof lab, "E%zu", i + 1);
        report_layout__text(rp, &exc_label, a + 1.5, f->y + 2, 20, lab);
        last_x = a;
    }
}

static void custody_marks(struct rp *rp, const struct frame *f, double bottom)
{
    static const double dash[] = {2.0, 2.0};
    double last_x = -1e9;
    int row = 0;
    for (size_t i = 0; i < rp->m->n_custody; i++) {
        const struct report_custody *c = &rp->m->custody[i];
        char lab[24];
        if (c->ts < f->t0 || c->ts > f->t1)
            continue;
        double x = fx(f, c->ts);
        cairo_set_source_rgb(rp->cr, CUSTODY_RGB);
        cairo_set_line_width(rp->cr, 0.5);
        cairo_set_dash(rp->cr, dash, 2, 0);
        cairo_move_to(rp->cr, x, f->y);
        cairo_line_to(rp->cr, x, bottom);
        cairo_stroke(rp->cr);
        cairo_set_dash(rp->cr, NULL, 0, 0);
        row = x - last_x < 10 ? !row : 0;
        snprintf(lab, sizeof lab, "%lld", (long long)c->index);
        report_layout__text(rp, &marker, x - 8, f->y - 9 - row * 7, 16, lab);
        last_x = x;
    }
}

static void stroke_series(struct rp *rp, const struct frame *f, enum series s, double lw, double r,
                          double g, double b)
{
    cairo_save(rp->cr);
    cairo_rectangle(rp->cr, f->x, f->y, f->w, f->h);
    cairo_clip(rp->cr);
    series_path(rp, f, s, rp->st->gap_ms);
    cairo_set_source_rgb(rp->cr, r, g, b);
    cairo_set_line_width(rp->cr, lw);
    cairo_set_line_join(rp->cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_line_cap(rp->cr, CAIRO_LINE_CAP_ROUND);
    cairo_stroke(rp->cr);
    cairo_restore(rp->cr);
}

/* The product line: blue inside the band, red outside it. */
static void stroke_product(struct rp *rp, const struct frame *f)
{
    cairo_t *cr = rp->cr;
    double yb_hi = fy(f, rp->m->band_max_c), yb_lo = fy(f, rp->m->band_min_c);
    series_path(rp, f, S_PRODUCT, rp->st->gap_ms);
    cairo_path_t *path = cairo_copy_path(cr);
    cairo_new_path(cr);
    cairo_set_line_width(cr, 1.1);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    for (int pass = 0; pass < 2; pass++) {
        cairo_save(cr);
        if (pass == 0) {
            cairo_rectangle(cr, f->x, yb_hi, f->w, yb_lo - yb_hi);
            cairo_set_source_rgb(cr, PRODUCT_RGB);
        } else {
            cairo_rectangle(cr, f->x, f->y, f->w, yb_hi - f->y);
            cairo_rectangle(cr, f->x, yb_lo, f->w, f->y + f->h - yb_lo);
            cairo_set_source_rgb(cr, RED_RGB);
        }
        cairo_clip(cr);
        cairo_append_path(cr, path);
        cairo_stroke(cr);
        cairo_restore(cr);
    }
    cairo_path_destroy(path);
}

static void frame_box(struct rp *rp, const struct frame *f)
{
    cairo_set_source_rgb(rp->cr, 0.55, 0.57, 0.60);
    cairo_set_line_width(rp->cr, 0.6);
    cairo_rectangle(rp->cr, f->x, f->y, f->w, f->h);
    cairo_stroke(rp->cr);
}

static double legend_item(struct rp *rp, double x, double y, int kind, double r, double g, double b,
                          const char *text)
{
    cairo_t *cr = rp->cr;
    cairo_set_source_rgb(cr, r, g, b);
    if (kind == 0) { /* line */
        cairo_set_line_width(cr, 1.4);
        cairo_move_to(cr, x, y + 4.5);
        cairo_line_to(cr, x + 14, y + 4.5);
        cairo_stroke(cr);
    } else if (kind == 2) { /* dashed */
        static const double dash[] = {2.0, 2.0};
        cairo_set_line_width(cr, 0.6);
        cairo_set_dash(cr, dash, 2, 0);
        cairo_move_to(cr, x + 7, y);
        cairo_line_to(cr, x + 7, y + 9);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
    } else { /* swatch */
        cairo_rectangle(cr, x, y + 1, 14, 7);
        cairo_fill(cr);
    }
    PangoLayout *l = report_layout__make(rp, &legend, text, 140);
    if (!l)
        return x;
    int w, h;
    pango_layout_get_size(l, &w, &h);
    cairo_set_source_rgb(cr, legend.r, legend.g, legend.b);
    cairo_move_to(cr, x + 18, y);
    pango_cairo_show_layout(cr, l);
    g_object_unref(l);
    return x + 18 + (double)w / PANGO_SCALE + 12;
}

static void legend_rows(struct rp *rp, double x, double y, int has2, int has_amb)
{
    enum report_lang L = rp->lang;
    x = legend_item(rp, x, y, 0, PRODUCT_RGB, report_i18n__str(L, RS_PRODUCT));
    if (has2)
        x = legend_item(rp, x, y, 0, PROBE2_RGB, report_i18n__str(L, RS_PROBE2));
    if (has_amb)
        x = legend_item(rp, x, y, 0, AMBIENT_RGB, report_i18n__str(L, RS_AMBIENT));
    x = legend_item(rp, x, y, 1, BAND_FILL, report_i18n__str(L, RS_LEG_BAND));
    (void)x;
    x = RP_MARGIN_X;
    y += 12;
    x = legend_item(rp, x, y, 1, 0.93, 0.72, 0.72, report_i18n__str(L, RS_LEG_EXC));
    x = legend_item(rp, x, y, 1, 0.85, 0.85, 0.87, report_i18n__str(L, RS_LEG_GAP));
    legend_item(rp, x, y, 2, CUSTODY_RGB, report_i18n__str(L, RS_LEG_CUSTODY));
}

void report_chart__draw(struct rp *rp, double x, double y, double w)
{
    const struct report_stats *st = rp->st;
    const struct report_model *m = rp->m;
    char off[16], axis[64], nbuf[32], note[512];
    const char *args[1];
    if (st->product.n == 0 && st->ambient.n == 0) {
        report_layout__text(rp, &rp_body, x, y + 10, w, report_i18n__str(rp->lang, RS_NO_READINGS));
        return;
    }
    int has_amb = st->ambient.n > 0, has2 = st->probe2.n > 0;
    struct frame f = {.x = x + AXIS_W, .y = y + 16, .w = w - AXIS_W - 6};
    f.h = has_amb ? 238 : 334;
    f.t0 = st->product.n ? st->first_ts : m->readings[0].ts;
    f.t1 = st->product.n ? st->last_ts : m->readings[m->n_readings - 1].ts;
    if (f.t1 <= f.t0)
        f.t1 = f.t0 + 60000;
    f.lo = m->band_min_c;
    f.hi = m->band_max_c;
    if (st->product.n && st->product.min < f.lo)
        f.lo = st->product.min;
    if (st->product.n && st->product.max > f.hi)
        f.hi = st->product.max;
    if (has2 && st->probe2.min < f.lo)
        f.lo = st->probe2.min;
    if (has2 && st->probe2.max > f.hi)
        f.hi = st->probe2.max;
    double step = y_range(&f.lo, &f.hi);
    struct frame a = f;
    a.y = f.y + f.h + PANEL_GAP;
    a.h = has_amb ? 80 : 0;
    double bottom = has_amb ? a.y + a.h : f.y + f.h;

    /* band, grid, spans, markers, lines, frames */
    cairo_set_source_rgb(rp->cr, BAND_FILL);
    cairo_rectangle(rp->cr, f.x, fy(&f, m->band_max_c), f.w,
                    fy(&f, m->band_min_c) - fy(&f, m->band_max_c));
    cairo_fill(rp->cr);
    y_axis(rp, &f, step);
    if (has_amb) {
        a.lo = st->ambient.min;
        a.hi = st->ambient.max;
        double astep = y_range(&a.lo, &a.hi);
        y_axis(rp, &a, astep);
        report_layout__text(rp, &legend, a.x, a.y - 10, 200,
                            report_i18n__str(rp->lang, RS_AMBIENT));
    }
    x_axis(rp, &f, f.y, bottom);
    cairo_set_source_rgb(rp->cr, BAND_EDGE);
    cairo_set_line_width(rp->cr, 0.6);
    for (int k = 0; k < 2; k++) {
        double yy = fy(&f, k ? m->band_max_c : m->band_min_c);
        cairo_move_to(rp->cr, f.x, yy);
        cairo_line_to(rp->cr, f.x + f.w, yy);
    }
    cairo_stroke(rp->cr);
    spans(rp, &f, f.y, bottom);
    custody_marks(rp, &f, f.y + f.h);
    if (has2)
        stroke_series(rp, &f, S_PROBE2, 0.6, PROBE2_RGB);
    if (st->product.n) {
        cairo_save(rp->cr);
        cairo_rectangle(rp->cr, f.x, f.y, f.w, f.h);
        cairo_clip(rp->cr);
        stroke_product(rp, &f);
        cairo_restore(rp->cr);
    }
    frame_box(rp, &f);
    if (has_amb) {
        stroke_series(rp, &a, S_AMBIENT, 0.8, AMBIENT_RGB);
        frame_box(rp, &a);
    }

    report_fmt__offset(m->utc_offset_min, off, sizeof off);
    args[0] = off;
    report_fmt__subst(axis, sizeof axis, report_i18n__str(rp->lang, RS_AXIS_TIME), args, 1);
    report_layout__text(rp, &tick_c, f.x, bottom + 21, f.w, axis);
    legend_rows(rp, x, bottom + 34, has2, has_amb);
    snprintf(nbuf, sizeof nbuf, "%zu", st->n_readings);
    args[0] = nbuf;
    report_fmt__subst(note, sizeof note, report_i18n__str(rp->lang, RS_CHART_NOTE), args, 1);
    report_layout__text(rp, &rp_small, x, bottom + 60, w, note);
}
