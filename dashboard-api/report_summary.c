/* report_summary.c - page 1 of the report, what a reader needs first:
 * which organ (by donation code, never the patient), whether it was
 * signed off, where it went, how long it was cold against its limit, and
 * the temperature figures. Everything shown is taken from the model or
 * from the statistics computed on every reading. */
#include "report_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const struct rp_style title_style = {RP_BOLD, 16.0, 0.10, 0.27, 0.45, PANGO_ALIGN_LEFT};
static const struct rp_style code_label = {RP_REGULAR, 7.5, 0.38, 0.40, 0.44, PANGO_ALIGN_RIGHT};
static const struct rp_style code_style = {RP_BOLD, 14.0, 0.10, 0.11, 0.13, PANGO_ALIGN_RIGHT};
static const struct rp_style sub_style = {RP_REGULAR, 9.0, 0.38, 0.40, 0.44, PANGO_ALIGN_LEFT};
static const struct rp_style tile_label = {RP_REGULAR, 7.5, 0.38, 0.40, 0.44, PANGO_ALIGN_LEFT};
static const struct rp_style tile_value = {RP_BOLD, 15.0, 0.10, 0.11, 0.13, PANGO_ALIGN_LEFT};
static const struct rp_style tile_sub = {RP_REGULAR, 7.0, 0.38, 0.40, 0.44, PANGO_ALIGN_LEFT};
static const struct rp_style release_style = {RP_BOLD, 10.0, 0.10, 0.11, 0.13, PANGO_ALIGN_LEFT};

#define S(key) report_i18n__str(rp->lang, key)
#define W(group, v) report_i18n__word(rp->lang, group, v)

static void header(struct rp *rp)
{
    const struct report_model *m = rp->m;
    char line[512], off[16], tz[64], no[32], when_note[512];
    const char *args[1] = {off};
    double right_w = 190, y0 = rp->y;
    double h1 = report_layout__text(rp, &title_style, RP_MARGIN_X, y0, RP_CONTENT_W - right_w - 10,
                                    S(RS_TITLE));
    double h2 = report_layout__text(rp, &sub_style, RP_MARGIN_X, y0 + h1 + 1,
                                    RP_CONTENT_W - right_w - 10, S(RS_SUBTITLE));
    double rx = RP_PAGE_W - RP_MARGIN_X - right_w;
    double c1 = report_layout__text(rp, &code_label, rx, y0, right_w, S(RS_DONATION_CODE));
    double c2 = report_layout__text(rp, &code_style, rx, y0 + c1, right_w, m->donation_code);
    double h = h1 + 1 + h2 > c1 + c2 ? h1 + 1 + h2 : c1 + c2;
    rp->y = y0 + h + 6;

    report_fmt__offset(m->utc_offset_min, off, sizeof off);
    report_fmt__subst(tz, sizeof tz, S(RS_TIMES_IN), args, 1);
    snprintf(no, sizeof no, "%lld", (long long)m->shipment_id);
    snprintf(line, sizeof line, "%s %s  ·  %s: %s  ·  %s", S(RS_SHIPMENT_NO), no, S(RS_STATUS),
             W("status", m->status), tz);
    rp->y += report_layout__text(rp, &rp_body, RP_MARGIN_X, rp->y, RP_CONTENT_W, line);
    snprintf(when_note, sizeof when_note, "%s: %s (%s)", S(RS_REPORT_TIME), rp->when,
             S(RS_REPORT_TIME_NOTE));
    rp->y += report_layout__text(rp, &rp_small, RP_MARGIN_X, rp->y + 1, RP_CONTENT_W, when_note);
    rp->y += 4;
}

static void identity(struct rp *rp)
{
    const struct report_model *m = rp->m;
    struct rp_kv kv[] = {
        {S(RS_DONATION_CODE), m->donation_code},
        {S(RS_CONTENT), W("profile", m->profile)},
        {S(RS_LATERALITY), W("laterality", m->laterality)},
        {S(RS_ABO), m->abo ? m->abo : "—"},
        {S(RS_CONTAINER), m->container ? m->container : "—"},
        {S(RS_MODE), W("mode", m->mode)},
    };
    report_layout__section(rp, S(RS_SEC_IDENTITY), 40);
    report_layout__kv(rp, kv, sizeof kv / sizeof kv[0]);
}

/* "рұқсат берілді" -> "Рұқсат берілді" (the first character in title case) */
static void capitalise(const char *in, char *out, size_t len)
{
    gunichar c = g_utf8_get_char_validated(in, -1);
    if (c == (gunichar)-1 || c == (gunichar)-2 || len < 8) {
        snprintf(out, len, "%s", in);
        return;
    }
    int n = g_unichar_to_utf8(g_unichar_totitle(c), out);
    snprintf(out + n, len - (size_t)n, "%s", g_utf8_next_char(in));
}

/* A rejection anywhere makes the box red; else a release green; else
 * (reviewed only) blue; no signature grey. One line per signature. */
static void release(struct rp *rp)
{
    const struct report_model *m = rp->m;
    char lines[2048] = "", one[640], t[32], mean[96];
    double r = 0.45, g = 0.47, b = 0.50;
    int released = 0, rejected = 0;
    size_t o = 0;
    if (m->n_signatures == 0)
        snprintf(lines, sizeof lines, "%s", S(RS_NOT_SIGNED));
    for (size_t i = 0; i < m->n_signatures && o + 1 < sizeof lines; i++) {
        const struct report_signature *s = &m->signatures[i];
        report_fmt__time(m, s->ts, 0, t, sizeof t);
        capitalise(W("meaning", s->meaning), mean, sizeof mean);
        snprintf(one, sizeof one, "%s%s — %.*s (%s), %s", i ? "\n" : "", mean, U8(s->name, 200),
                 W("role", s->role), t);
        size_t n = strlen(one);
        if (o + n >= sizeof lines)
            break;
        memcpy(lines + o, one, n + 1);
        o += n;
        released |= s->meaning && strcmp(s->meaning, "released") == 0;
        rejected |= s->meaning && strcmp(s->meaning, "rejected") == 0;
    }
    if (rejected)
        r = 0.75, g = 0.12, b = 0.12;
    else if (released)
        r = 0.13, g = 0.50, b = 0.25;
    else if (m->n_signatures)
        r = 0.10, g = 0.27, b = 0.45;
    report_layout__section(rp, S(RS_SEC_RELEASE), 24);
    PangoLayout *l = report_layout__make(rp, &release_style, lines, RP_CONTENT_W - 20);
    if (!l)
        return;
    double h = report_layout__height(l) + 12;
    report_layout__need(rp, h);
    cairo_set_source_rgb(rp->cr, r, g, b);
    cairo_rectangle(rp->cr, RP_MARGIN_X, rp->y, 4, h);
    cairo_fill(rp->cr);
    cairo_set_source_rgba(rp->cr, r, g, b, 0.08);
    cairo_rectangle(rp->cr, RP_MARGIN_X + 4, rp->y, RP_CONTENT_W - 4, h);
    cairo_fill(rp->cr);
    cairo_set_source_rgb(rp->cr, r * 0.8, g * 0.8, b * 0.8);
    cairo_move_to(rp->cr, RP_MARGIN_X + 12, rp->y + 6);
    pango_cairo_show_layout(rp->cr, l);
    g_object_unref(l);
    rp->y += h + 2;
}

static void place(char *buf, size_t len, const struct report_place *p)
{
    if (!p->name)
        snprintf(buf, len, "—");
    else if (isfinite(p->lat) && isfinite(p->lon))
        snprintf(buf, len, "%s (%.4f, %.4f)", p->name, p->lat, p->lon);
    else
        snprintf(buf, len, "%s", p->name);
}

static void leg_row(struct rp *rp, size_t i, const char **c, char (*buf)[RP_CELL_MAX], void *ctx)
{
    const struct report_leg *l = &((const struct report_leg *)ctx)[i];
    c[0] = W("leg", l->mode);
    c[1] = report_layout__cell(buf[1], l->from);
    c[2] = report_layout__cell(buf[2], l->to);
    report_fmt__time(rp->m, l->planned_departure, 0, buf[3], sizeof buf[3]);
    c[3] = buf[3];
    report_fmt__time(rp->m, l->planned_arrival, 0, buf[4], sizeof buf[4]);
    c[4] = buf[4];
    snprintf(buf[5], sizeof buf[5], "%s%s%s", l->carrier ? l->carrier : "",
             l->carrier && l->flight ? ", " : "", l->flight ? l->flight : "");
    c[5] = buf[5][0] ? buf[5] : "—";
}

static void route(struct rp *rp)
{
    const struct report_model *m = rp->m;
    char o[300], d[300];
    place(o, sizeof o, &m->origin);
    place(d, sizeof d, &m->destination);
    struct rp_kv kv[] = {{S(RS_ORIGIN), o}, {S(RS_DESTINATION), d}};
    report_layout__section(rp, S(RS_SEC_ROUTE), 40);
    report_layout__kv(rp, kv, 2);
    if (m->n_legs == 0) {
        rp->y +=
            report_layout__text(rp, &rp_small, RP_MARGIN_X, rp->y, RP_CONTENT_W, S(RS_NO_LEGS));
        return;
    }
    const struct rp_col cols[] = {
        {S(RS_LEG_MODE), 52, NULL, 0},    {S(RS_FROM), 118, NULL, 0},
        {S(RS_TO), 118, NULL, 0},         {S(RS_PLANNED_DEP), 72, NULL, 0},
        {S(RS_PLANNED_ARR), 72, NULL, 0}, {S(RS_CARRIER), RP_CONTENT_W - 432, NULL, 0},
    };
    rp->y += 3;
    report_layout__table(rp, cols, 6, m->n_legs, leg_row, (void *)m->legs);
}

static void ischaemia(struct rp *rp)
{
    const struct report_model *m = rp->m;
    char clamp[32], end[160], endt[32], total[160], dur[48], pct[16], limit[48], dl[32];
    const char *args[1] = {pct};
    int64_t report_t = report_model_time(m);
    int64_t end_ms = m->ischemia_end_at ? m->ischemia_end_at : report_t;
    report_fmt__time(m, m->cross_clamp_at, 0, clamp, sizeof clamp);
    report_fmt__time(m, m->ischemia_end_at, 0, endt, sizeof endt);
    if (!m->ischemia_end_at)
        snprintf(end, sizeof end, "%s", S(RS_END_OPEN));
    else
        snprintf(end, sizeof end, "%s (%s)", endt,
                 m->ischemia_end_reperfusion ? S(RS_END_REPERF) : S(RS_END_DELIV));
    int64_t total_ms =
        m->cross_clamp_at && end_ms > m->cross_clamp_at ? end_ms - m->cross_clamp_at : 0;
    report_fmt__duration(rp->lang, total_ms, dur, sizeof dur);
    if (m->limit_min > 0 && m->cross_clamp_at) {
        double p = (double)total_ms / ((double)m->limit_min * 60000.0) * 100.0;
        char st[96];
        report_fmt__num(rp->lang, p, 0, pct, sizeof pct);
        report_fmt__subst(st, sizeof st,
                          total_ms <= m->limit_min * 60000 ? S(RS_WITHIN) : S(RS_EXCEEDED), args,
                          1);
        snprintf(total, sizeof total, "%s — %s", dur, st);
        report_fmt__duration(rp->lang, m->limit_min * 60000, limit, sizeof limit);
        report_fmt__time(m, m->cross_clamp_at + m->limit_min * 60000, 0, dl, sizeof dl);
    } else {
        snprintf(total, sizeof total, "%s", dur);
        snprintf(limit, sizeof limit, "—");
        snprintf(dl, sizeof dl, "—");
    }
    struct rp_kv kv[] = {
        {S(RS_CROSS_CLAMP), clamp}, {S(RS_ISCH_END), end}, {S(RS_ISCH_TOTAL), total},
        {S(RS_ISCH_LIMIT), limit},  {S(RS_DEADLINE), dl},
    };
    report_layout__section(rp, S(RS_SEC_ISCH), 40);
    report_layout__kv(rp, kv, sizeof kv / sizeof kv[0]);
}

/* Four figures in boxes: min, max, mean, MKT. */
static void tiles(struct rp *rp)
{
    const struct report_stats *st = rp->st;
    const struct report_model *m = rp->m;
    char v[4][32], sub[4][64];
    const char *lab[4] = {S(RS_MIN), S(RS_MAX), S(RS_MEAN), S(RS_MKT)};
    double w = (RP_CONTENT_W - 3 * 8) / 4, h = 54;
    report_fmt__temp(rp->lang, st->product.min, v[0], sizeof v[0]);
    report_fmt__temp(rp->lang, st->product.max, v[1], sizeof v[1]);
    report_fmt__temp(rp->lang, st->product.mean, v[2], sizeof v[2]);
    report_fmt__temp(rp->lang, st->mkt_c, v[3], sizeof v[3]);
    report_fmt__time(m, st->product.n ? st->product.min_ts : 0, 0, sub[0], sizeof sub[0]);
    report_fmt__time(m, st->product.n ? st->product.max_ts : 0, 0, sub[1], sizeof sub[1]);
    snprintf(sub[2], sizeof sub[2], "n = %zu", st->product.n);
    snprintf(sub[3], sizeof sub[3], "n = %zu", st->product.n);
    report_layout__need(rp, h + 4);
    for (int i = 0; i < 4; i++) {
        double x = RP_MARGIN_X + i * (w + 8);
        int bad = (i < 2 && st->product.n &&
                   (i == 0 ? st->product.min < m->band_min_c : st->product.max > m->band_max_c));
        cairo_set_source_rgb(rp->cr, bad ? 0.99 : 0.96, bad ? 0.93 : 0.97, bad ? 0.93 : 0.98);
        cairo_rectangle(rp->cr, x, rp->y, w, h);
        cairo_fill(rp->cr);
        report_layout__text(rp, &tile_label, x + 6, rp->y + 4, w - 12, lab[i]);
        report_layout__text(rp, &tile_value, x + 6, rp->y + h - 31, w - 12, v[i]);
        report_layout__text(rp, &tile_sub, x + 6, rp->y + h - 12, w - 12, sub[i]);
    }
    rp->y += h + 6;
}

static void series_line(struct rp *rp, const struct report_series_stats *s, char *out, size_t len)
{
    char a[32], b[32], c[32];
    const char *args[3] = {a, b, c};
    if (!s->n) {
        snprintf(out, len, "—");
        return;
    }
    report_fmt__temp(rp->lang, s->min, a, sizeof a);
    report_fmt__temp(rp->lang, s->max, b, sizeof b);
    report_fmt__temp(rp->lang, s->mean, c, sizeof c);
    report_fmt__subst(out, len, S(RS_MIN_MAX_MEAN), args, 3);
}

static void statistics(struct rp *rp)
{
    const struct report_stats *st = rp->st;
    const struct report_model *m = rp->m;
    char band[96], lo[32], hi[32], outside[128], od[48], md[48], rec[96], n1[24], n2[24];
    char gaps[192], gd[48], gt[48], seq[96], lost[96], period[96], t0[32], t1[32], p2[160],
        amb[160], exc[160], peak[32];
    const char *args[3];
    report_layout__section(rp, S(RS_SEC_STATS), 60);
    tiles(rp);
    report_fmt__temp(rp->lang, m->band_min_c, lo, sizeof lo);
    report_fmt__temp(rp->lang, m->band_max_c, hi, sizeof hi);
    snprintf(band, sizeof band, "%s … %s", lo, hi);
    report_fmt__duration(rp->lang, st->outside_ms, od, sizeof od);
    report_fmt__duration(rp->lang, st->measured_ms, md, sizeof md);
    args[0] = od;
    args[1] = md;
    report_fmt__subst(outside, sizeof outside, S(RS_OUTSIDE_VAL), args, 2);
    snprintf(n1, sizeof n1, "%zu", st->n_readings);
    snprintf(n2, sizeof n2, "%zu", st->product.n);
    args[0] = n1;
    args[1] = n2;
    report_fmt__subst(rec, sizeof rec, S(RS_RECEIVED_VAL), args, 2);
    snprintf(n1, sizeof n1, "%zu", st->n_time_gaps);
    report_fmt__duration(rp->lang, st->time_gaps_ms, gd, sizeof gd);
    report_fmt__duration(rp->lang, st->gap_ms, gt, sizeof gt);
    args[0] = n1;
    args[1] = gd;
    args[2] = gt;
    report_fmt__subst(gaps, sizeof gaps, st->n_time_gaps ? S(RS_GAPS_VAL) : S(RS_NONE), args, 3);
    snprintf(n1, sizeof n1, "%zu", st->n_seq_gaps);
    snprintf(n2, sizeof n2, "%zu", st->seq_gap_readings);
    args[0] = n1;
    args[1] = n2;
    report_fmt__subst(seq, sizeof seq, st->n_seq_gaps ? S(RS_RANGES_VAL) : S(RS_NONE), args, 2);
    snprintf(n1, sizeof n1, "%zu", st->n_lost);
    snprintf(n2, sizeof n2, "%zu", st->lost_readings);
    report_fmt__subst(lost, sizeof lost, st->n_lost ? S(RS_RANGES_VAL) : S(RS_NONE), args, 2);
    /* the excursion farthest from the band */
    double worst = NAN, mid = (m->band_min_c + m->band_max_c) / 2;
    for (size_t i = 0; i < st->n_excursions; i++)
        if (isnan(worst) || fabs(st->excursions[i].peak_c - mid) > fabs(worst - mid))
            worst = st->excursions[i].peak_c;
    snprintf(n1, sizeof n1, "%zu", st->n_excursions_total);
    report_fmt__temp(rp->lang, worst, peak, sizeof peak);
    args[0] = n1;
    args[1] = peak;
    report_fmt__subst(exc, sizeof exc, st->n_excursions_total ? S(RS_EXC_VAL) : S(RS_NONE), args,
                      2);
    report_fmt__time(m, st->first_ts, 0, t0, sizeof t0);
    report_fmt__time(m, st->last_ts, 0, t1, sizeof t1);
    snprintf(period, sizeof period, "%s … %s", t0, t1);
    series_line(rp, &st->probe2, p2, sizeof p2);
    series_line(rp, &st->ambient, amb, sizeof amb);
    struct rp_kv kv[] = {
        {S(RS_BAND), band},       {S(RS_OUTSIDE), outside}, {S(RS_SEC_EXC), exc},
        {S(RS_RECEIVED), rec},    {S(RS_PERIOD), period},   {S(RS_GAPS), gaps},
        {S(RS_SEQ_MISSING), seq}, {S(RS_LOST), lost},       {S(RS_PROBE2), p2},
        {S(RS_AMBIENT), amb},
    };
    report_layout__kv(rp, kv, sizeof kv / sizeof kv[0]);
    rp->y +=
        report_layout__text(rp, &rp_small, RP_MARGIN_X, rp->y + 2, RP_CONTENT_W, S(RS_MKT_NOTE));
}

void report_summary__page1(struct rp *rp)
{
    header(rp);
    identity(rp);
    release(rp);
    route(rp);
    ischaemia(rp);
    statistics(rp);
}
