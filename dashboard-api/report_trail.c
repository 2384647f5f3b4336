/* report_trail.c - the report after page 1: the chart page (chart,
 * excursions, gaps and losses), then the records an auditor checks line by
 * line: alarms with who acknowledged them, the custody trail with hash
 * prefixes, the electronic signatures, and the signed ledger head with the
 * three steps that verify the bundle offline. */
#include "report_int.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S(key) report_i18n__str(rp->lang, key)
#define W(group, v) report_i18n__word(rp->lang, group, v)
#define HASH_PREFIX 16

static const struct rp_style cell_red = {RP_BOLD, 7.5, 0.75, 0.12, 0.12, PANGO_ALIGN_LEFT};
static const struct rp_style cell_mono = {RP_MONO, 7.0, 0.10, 0.11, 0.13, PANGO_ALIGN_LEFT};
static const struct rp_style cmd_style = {RP_MONO, 7.4, 0.10, 0.11, 0.13, PANGO_ALIGN_LEFT};

static void more_line(struct rp *rp, size_t shown, size_t total)
{
    char n[24], line[96];
    const char *args[1] = {n};
    if (total <= shown)
        return;
    snprintf(n, sizeof n, "%zu", total - shown);
    report_fmt__subst(line, sizeof line, S(RS_MORE), args, 1);
    rp->y += report_layout__text(rp, &rp_small, RP_MARGIN_X, rp->y + 2, RP_CONTENT_W, line) + 2;
}

static void none_line(struct rp *rp, enum report_str key)
{
    report_layout__need(rp, 14);
    rp->y += report_layout__text(rp, &rp_body, RP_MARGIN_X, rp->y, RP_CONTENT_W, S(key)) + 2;
}

/* ---------------------------------------------------------- chart page */

static void exc_row(struct rp *rp, size_t i, const char **c, char (*buf)[RP_CELL_MAX], void *ctx)
{
    const struct report_excursion *e = &rp->st->excursions[i];
    (void)ctx;
    snprintf(buf[0], sizeof buf[0], "E%zu", i + 1);
    c[0] = buf[0];
    report_fmt__time(rp->m, e->from_ts, 1, buf[1], sizeof buf[1]);
    c[1] = buf[1];
    report_fmt__time(rp->m, e->to_ts, 1, buf[2], sizeof buf[2]);
    c[2] = buf[2];
    report_fmt__duration(rp->lang, e->to_ts - e->from_ts, buf[3], sizeof buf[3]);
    c[3] = buf[3];
    report_fmt__temp(rp->lang, e->peak_c, buf[4], sizeof buf[4]);
    c[4] = buf[4];
}

/* A sequence gap or declared loss lies inside a time gap when its
 * readings-either-side times fall within it: one row then says both. */
static int inside(const struct report_gap *g, const struct report_interval *t)
{
    return g->from_ts && g->from_ts >= t->from_ts && g->to_ts <= t->to_ts;
}

static void seq_kind(struct rp *rp, const struct report_gap *g, char *out, size_t len)
{
    char a[24], b[24];
    const char *args[2] = {a, b};
    snprintf(a, sizeof a, "%" PRId64, g->from_seq);
    snprintf(b, sizeof b, "%" PRId64, g->to_seq);
    report_fmt__subst(out, len, g->lost ? S(RS_GAP_LOST) : S(RS_GAP_SEQ), args, 2);
}

struct gap_rows {
    size_t n_time; /* rows 0..n_time-1: time gaps */
    size_t *idx;   /* then the model gaps that lie inside no time gap */
    size_t n_alone;
};

static void gap_row(struct rp *rp, size_t i, const char **c, char (*buf)[RP_CELL_MAX], void *ctx)
{
    const struct report_stats *st = rp->st;
    const struct gap_rows *gr = ctx;
    int64_t from, to;
    if (i < gr->n_time) {
        size_t o = (size_t)snprintf(buf[3], sizeof buf[3], "%s", S(RS_GAP_TIME));
        from = st->time_gaps[i].from_ts;
        to = st->time_gaps[i].to_ts;
        for (size_t j = 0; j < rp->m->n_gaps && o + 2 < sizeof buf[3]; j++) {
            if (!inside(&rp->m->gaps[j], &st->time_gaps[i]))
                continue;
            buf[3][o++] = ';';
            buf[3][o++] = ' ';
            seq_kind(rp, &rp->m->gaps[j], buf[3] + o, sizeof buf[3] - o);
            o += strlen(buf[3] + o);
        }
    } else {
        const struct report_gap *g = &rp->m->gaps[gr->idx[i - gr->n_time]];
        from = g->from_ts;
        to = g->to_ts;
        seq_kind(rp, g, buf[3], sizeof buf[3]);
    }
    c[3] = buf[3];
    report_fmt__time(rp->m, from, 1, buf[0], sizeof buf[0]);
    c[0] = buf[0];
    report_fmt__time(rp->m, to, 1, buf[1], sizeof buf[1]);
    c[1] = buf[1];
    if (from && to >= from)
        report_fmt__duration(rp->lang, to - from, buf[2], sizeof buf[2]);
    else
        snprintf(buf[2], sizeof buf[2], "—");
    c[2] = buf[2];
}

void report_trail__chart_page(struct rp *rp)
{
    const struct report_stats *st = rp->st;
    report_layout__new_page(rp);
    report_layout__section(rp, S(RS_SEC_CHART), RP_CHART_H);
    report_chart__draw(rp, RP_MARGIN_X, rp->y, RP_CONTENT_W);
    rp->y += RP_CHART_H;

    report_layout__section(rp, S(RS_SEC_EXC), 30);
    if (st->n_excursions == 0) {
        none_line(rp, RS_NO_EXC);
    } else {
        const struct rp_col cols[] = {
            {"", 30, &cell_red, 0},
            {S(RS_START), 120, NULL, 0},
            {S(RS_END), 120, NULL, 0},
            {S(RS_DURATION), 110, NULL, 0},
            {S(RS_PEAK), RP_CONTENT_W - 380, NULL, 0},
        };
        report_layout__table(rp, cols, 5, st->n_excursions, exc_row, NULL);
        more_line(rp, st->n_excursions, st->n_excursions_total);
    }

    report_layout__section(rp, S(RS_SEC_GAPS), 30);
    struct gap_rows gr = {st->n_time_gaps_kept, NULL, 0};
    if (rp->m->n_gaps && !(gr.idx = malloc(rp->m->n_gaps * sizeof *gr.idx))) {
        rp->failed = 1;
        return;
    }
    for (size_t j = 0; j < rp->m->n_gaps; j++) {
        size_t k = 0;
        while (k < st->n_time_gaps_kept && !inside(&rp->m->gaps[j], &st->time_gaps[k]))
            k++;
        if (k == st->n_time_gaps_kept)
            gr.idx[gr.n_alone++] = j;
    }
    if (gr.n_time + gr.n_alone == 0) {
        none_line(rp, RS_NO_GAPS);
    } else {
        const struct rp_col cols[] = {
            {S(RS_START), 110, NULL, 0},
            {S(RS_END), 110, NULL, 0},
            {S(RS_DURATION), 80, NULL, 0},
            {S(RS_KIND), RP_CONTENT_W - 300, NULL, 0},
        };
        report_layout__table(rp, cols, 4, gr.n_time + gr.n_alone, gap_row, &gr);
        more_line(rp, st->n_time_gaps_kept, st->n_time_gaps);
    }
    free(gr.idx);
}

/* ------------------------------------------------------------- records */

static void alarm_row(struct rp *rp, size_t i, const char **c, char (*buf)[RP_CELL_MAX], void *ctx)
{
    const struct report_alarm *a = &rp->m->alarms[i];
    char v[48] = "";
    (void)ctx;
    if (a->type && strncmp(a->type, "temp_", 5) == 0)
        report_fmt__temp(rp->lang, a->value, v, sizeof v);
    else if (isfinite(a->value))
        report_fmt__num(rp->lang, a->value, 1, v, sizeof v);
    if (strcmp(v, "—") == 0)
        v[0] = '\0';
    snprintf(buf[0], sizeof buf[0], "%s%s%s", W("alarm", a->type), v[0] ? "\n" : "", v);
    c[0] = buf[0];
    c[1] = W("severity", a->severity);
    report_fmt__time(rp->m, a->raised_at, 1, buf[2], sizeof buf[2]);
    c[2] = buf[2];
    report_fmt__time(rp->m, a->cleared_at, 1, buf[3], sizeof buf[3]);
    c[3] = buf[3];
    if (a->acked_by) {
        char t[32];
        report_fmt__time(rp->m, a->acked_at, 0, t, sizeof t);
        snprintf(buf[4], sizeof buf[4], "%.*s\n%s", U8(a->acked_by, 400), t);
        c[4] = buf[4];
    } else {
        c[4] = "—";
    }
    c[5] = report_layout__cell(buf[5], a->comment);
}

static void alarms(struct rp *rp)
{
    report_layout__section(rp, S(RS_SEC_ALARMS), 30);
    if (rp->m->n_alarms == 0) {
        none_line(rp, RS_NO_ALARMS);
        return;
    }
    const struct rp_col cols[] = {
        {S(RS_ALARM), 112, NULL, 1}, {S(RS_SEVERITY), 58, NULL, 0},
        {S(RS_RAISED), 70, NULL, 0}, {S(RS_CLEARED), 70, NULL, 0},
        {S(RS_ACKED), 90, NULL, 0},  {S(RS_COMMENT), RP_CONTENT_W - 400, NULL, 0},
    };
    report_layout__table(rp, cols, 6, rp->m->n_alarms, alarm_row, NULL);
}

static void custody_row(struct rp *rp, size_t i, const char **c, char (*buf)[RP_CELL_MAX],
                        void *ctx)
{
    const struct report_custody *e = &rp->m->custody[i];
    char who[300], logged[340];
    const char *args[1] = {who};
    (void)ctx;
    snprintf(buf[0], sizeof buf[0], "%" PRId64, e->index);
    c[0] = buf[0];
    report_fmt__time(rp->m, e->ts, 1, buf[1], sizeof buf[1]);
    c[1] = buf[1];
    snprintf(who, sizeof who, "%.*s (%s)", U8(e->actor_name, 200), W("role_short", e->actor_role));
    report_fmt__subst(logged, sizeof logged, S(RS_LOGGED_BY), args, 1);
    snprintf(buf[2], sizeof buf[2], "%s\n%s", W("ctype", e->type), logged);
    c[2] = buf[2];
    /* from -> to, then the comment on its own line */
    const char *cm = e->comment ? e->comment : "";
    if (e->from && e->to)
        snprintf(buf[3], sizeof buf[3], "%.*s → %.*s%s%.*s", U8(e->from, 200), U8(e->to, 200),
                 cm[0] ? "\n" : "", U8(cm, 1000));
    else if (e->from || e->to)
        snprintf(buf[3], sizeof buf[3], "%s%.*s%s%.*s", e->to ? "→ " : "",
                 U8(e->from ? e->from : e->to, 200), cm[0] ? "\n" : "", U8(cm, 1000));
    else
        snprintf(buf[3], sizeof buf[3], "%.*s", U8(e->comment, 1000));
    c[3] = buf[3];
    c[4] = report_layout__cell(buf[4], e->witness);
    c[5] = report_layout__cell(buf[5], e->seal);
    report_fmt__num(rp->lang, e->temp_c, 1, buf[6], sizeof buf[6]);
    c[6] = buf[6];
    snprintf(buf[7], sizeof buf[7], "%.*s", HASH_PREFIX, e->hash ? e->hash : "—");
    c[7] = buf[7];
}

static void custody(struct rp *rp)
{
    report_layout__section(rp, S(RS_SEC_CUSTODY), 120); /* the header and a few rows */
    if (rp->m->n_custody == 0) {
        none_line(rp, RS_NO_CUSTODY);
        return;
    }
    const struct rp_col cols[] = {
        {S(RS_COL_INDEX), 16, NULL, 0},   {S(RS_COL_TIME), 52, NULL, 0},
        {S(RS_COL_EVENT), 80, NULL, 1},   {S(RS_COL_PARTIES), 118, NULL, 0},
        {S(RS_COL_WITNESS), 68, NULL, 0}, {S(RS_COL_SEAL), 78, &cell_mono, 0},
        {S(RS_COL_TEMP), 24, NULL, 0},    {S(RS_COL_HASH), RP_CONTENT_W - 436, &cell_mono, 0},
    };
    report_layout__table(rp, cols, 8, rp->m->n_custody, custody_row, NULL);
    rp->y += report_layout__text(rp, &rp_small, RP_MARGIN_X, rp->y + 3, RP_CONTENT_W,
                                 S(RS_CUSTODY_NOTE)) +
             4;
}

static void sig_row(struct rp *rp, size_t i, const char **c, char (*buf)[RP_CELL_MAX], void *ctx)
{
    const struct report_signature *s = &rp->m->signatures[i];
    (void)ctx;
    c[0] = report_layout__cell(buf[0], s->name);
    c[1] = W("role_short", s->role);
    c[2] = W("meaning", s->meaning);
    report_fmt__time(rp->m, s->ts, 1, buf[3], sizeof buf[3]);
    c[3] = buf[3];
    if (s->index >= 0)
        snprintf(buf[4], sizeof buf[4], "%" PRId64, s->index);
    else
        snprintf(buf[4], sizeof buf[4], "—");
    c[4] = buf[4];
    c[5] = report_layout__cell(buf[5], s->statement);
}

static void signatures(struct rp *rp)
{
    report_layout__section(rp, S(RS_SEC_SIG), 40);
    if (rp->m->n_signatures == 0) {
        none_line(rp, RS_NO_SIG);
        return;
    }
    const struct rp_col cols[] = {
        {S(RS_SIG_NAME), 100, &rp_bold, 0}, {S(RS_ROLE), 80, NULL, 0},
        {S(RS_MEANING), 70, NULL, 0},       {S(RS_COL_TIME), 62, NULL, 0},
        {S(RS_ENTRY), 34, NULL, 0},         {S(RS_STATEMENT), RP_CONTENT_W - 346, NULL, 0},
    };
    report_layout__table(rp, cols, 6, rp->m->n_signatures, sig_row, NULL);
    rp->y +=
        report_layout__text(rp, &rp_small, RP_MARGIN_X, rp->y + 3, RP_CONTENT_W, S(RS_SIG_NOTE)) +
        4;
}

/* a label above a monospace value */
static void mono_field(struct rp *rp, const char *label, const char *value)
{
    PangoLayout *l = report_layout__make(rp, &rp_mono, value ? value : "—", RP_CONTENT_W);
    if (!l)
        return;
    double h = report_layout__height(l);
    g_object_unref(l);
    report_layout__need(rp, h + 14);
    rp->y += report_layout__text(rp, &rp_label, RP_MARGIN_X, rp->y, RP_CONTENT_W, label);
    rp->y +=
        report_layout__text(rp, &rp_mono, RP_MARGIN_X, rp->y, RP_CONTENT_W, value ? value : "—") +
        4;
}

static void ledger(struct rp *rp)
{
    const struct report_model *m = rp->m;
    char idx[24], lab[128], id[24], step[512], cmd[256], n[24];
    const char *args[1] = {idx};
    report_layout__section(rp, S(RS_SEC_LEDGER), 230); /* kept on one page */
    snprintf(idx, sizeof idx, "%" PRId64, m->head_index);
    report_fmt__subst(lab, sizeof lab, S(RS_HEAD_HASH), args, 1);
    mono_field(rp, lab, m->head_hash);
    mono_field(rp, S(RS_HEAD_SIG), m->head_signature);
    mono_field(rp, S(RS_PUBKEY), m->public_key);

    rp->y += 4;
    snprintf(id, sizeof id, "%" PRId64, m->shipment_id);
    args[0] = id;
    report_fmt__subst(step, sizeof step, S(RS_VERIFY_1), args, 1);
    snprintf(cmd, sizeof cmd, "organtrack-ledger verify --pubkey %.64s bundle.json",
             m->public_key ? m->public_key : "KEY");
    PangoLayout *l = report_layout__make(rp, &cmd_style, cmd, RP_CONTENT_W - 16);
    double hc = l ? report_layout__height(l) : 10;
    report_layout__need(rp, 60 + hc);
    rp->y += report_layout__text(rp, &rp_body, RP_MARGIN_X, rp->y, RP_CONTENT_W, step) + 3;
    rp->y +=
        report_layout__text(rp, &rp_body, RP_MARGIN_X, rp->y, RP_CONTENT_W, S(RS_VERIFY_2)) + 3;
    cairo_set_source_rgb(rp->cr, 0.95, 0.96, 0.97);
    cairo_rectangle(rp->cr, RP_MARGIN_X, rp->y, RP_CONTENT_W, hc + 8);
    cairo_fill(rp->cr);
    if (l) {
        cairo_set_source_rgb(rp->cr, cmd_style.r, cmd_style.g, cmd_style.b);
        cairo_move_to(rp->cr, RP_MARGIN_X + 8, rp->y + 4);
        pango_cairo_show_layout(rp->cr, l);
        g_object_unref(l);
    }
    rp->y += hc + 12;
    snprintf(n, sizeof n, "%zu", m->n_custody);
    args[0] = n;
    report_fmt__subst(step, sizeof step, S(RS_VERIFY_3), args, 1);
    rp->y += report_layout__text(rp, &rp_body, RP_MARGIN_X, rp->y, RP_CONTENT_W, step) + 8;
    report_layout__need(rp, 30);
    rp->y += report_layout__text(rp, &rp_small, RP_MARGIN_X, rp->y, RP_CONTENT_W, S(RS_FILE_NOTE));
}

void report_trail__records(struct rp *rp)
{
    alarms(rp);
    custody(rp);
    signatures(rp);
    ledger(rp);
}
