/* report_layout.c - the report's page machinery: text through Pango,
 * a cursor that moves down the page, page breaks with a running header and
 * the "N / M" footer, section headings, key/value grids and tables whose
 * rows never split and whose header repeats on every page.
 *
 * Everything is measured before it is drawn, with the same Pango context
 * that draws it, so the counting pass and the drawing pass break pages at
 * exactly the same places (report_pdf.c). */
#include "report_int.h"

#include <stdio.h>
#include <string.h>

#define INK 0.10, 0.11, 0.13
#define GREY 0.38, 0.40, 0.44
#define ACCENT 0.10, 0.27, 0.45

const struct rp_style rp_body = {RP_REGULAR, 9.0, INK, PANGO_ALIGN_LEFT};
const struct rp_style rp_small = {RP_REGULAR, 7.5, GREY, PANGO_ALIGN_LEFT};
const struct rp_style rp_label = {RP_REGULAR, 8.0, GREY, PANGO_ALIGN_LEFT};
const struct rp_style rp_bold = {RP_BOLD, 9.0, INK, PANGO_ALIGN_LEFT};
const struct rp_style rp_mono_small = {RP_MONO, 7.5, INK, PANGO_ALIGN_LEFT};
const struct rp_style rp_mono = {RP_MONO, 8.5, INK, PANGO_ALIGN_LEFT};
static const struct rp_style table_cell = {RP_REGULAR, 7.5, INK, PANGO_ALIGN_LEFT};
static const struct rp_style table_head = {RP_BOLD, 7.0, GREY, PANGO_ALIGN_LEFT};
static const struct rp_style section_style = {RP_BOLD, 11.0, ACCENT, PANGO_ALIGN_LEFT};
static const struct rp_style running = {RP_REGULAR, 7.5, GREY, PANGO_ALIGN_LEFT};
static const struct rp_style running_r = {RP_REGULAR, 7.5, GREY, PANGO_ALIGN_RIGHT};

#define CELL_PAD 2.5
#define KV_LABEL_W 118.0
#define KV_GAP 14.0

void report_layout__set_rgb(struct rp *rp, double r, double g, double b)
{
    cairo_set_source_rgb(rp->cr, r, g, b);
}

PangoLayout *report_layout__make(struct rp *rp, const struct rp_style *s, const char *text,
                                 double w)
{
    PangoLayout *l = pango_layout_new(rp->pc);
    PangoFontDescription *fd = pango_font_description_new();
    if (!l || !fd) {
        if (l)
            g_object_unref(l);
        if (fd)
            pango_font_description_free(fd);
        rp->failed = 1;
        return NULL;
    }
    pango_font_description_set_family_static(fd, s->font == RP_MONO ? "DejaVu Sans Mono"
                                                                    : "DejaVu Sans");
    pango_font_description_set_weight(fd,
                                      s->font == RP_BOLD ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
    pango_font_description_set_absolute_size(fd, s->size * PANGO_SCALE);
    pango_layout_set_font_description(l, fd);
    pango_font_description_free(fd);
    pango_layout_set_width(l, (int)(w * PANGO_SCALE));
    pango_layout_set_wrap(l, s->font == RP_MONO ? PANGO_WRAP_CHAR : PANGO_WRAP_WORD_CHAR);
    pango_layout_set_alignment(l, s->align);
    /* Pango 1.44+ inserts a hyphen where it breaks inside a word: a hash,
     * a seal number or a command must never gain a character */
    PangoAttrList *al = pango_attr_list_new();
    pango_attr_list_insert(al, pango_attr_insert_hyphens_new(FALSE));
    pango_layout_set_attributes(l, al);
    pango_attr_list_unref(al);
    if (!text)
        text = "";
    if (g_utf8_validate(text, -1, NULL)) {
        pango_layout_set_text(l, text, -1);
    } else { /* a model string that is not UTF-8: shown with U+FFFD, never dropped */
        gchar *ok = g_utf8_make_valid(text, -1);
        pango_layout_set_text(l, ok ? ok : "?", -1);
        g_free(ok);
    }
    return l;
}

int report_layout__u8len(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : strlen("—");
    if (!s || n <= max)
        return (int)n;
    n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return (int)n;
}

const char *report_layout__cell(char *buf, const char *s)
{
    size_t n;
    if (!s)
        return "—";
    n = strlen(s);
    if (n < RP_CELL_MAX) {
        memcpy(buf, s, n + 1);
        return buf;
    }
    n = RP_CELL_MAX - 4; /* room for "…" (3 bytes) and the NUL */
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--; /* s[n] starts a character: cut before it */
    memcpy(buf, s, n);
    memcpy(buf + n, "…", 4);
    return buf;
}

double report_layout__height(PangoLayout *l)
{
    int w, h;
    pango_layout_get_size(l, &w, &h);
    return (double)h / PANGO_SCALE;
}

static void show(struct rp *rp, const struct rp_style *s, PangoLayout *l, double x, double y)
{
    cairo_set_source_rgb(rp->cr, s->r, s->g, s->b);
    cairo_move_to(rp->cr, x, y);
    pango_cairo_show_layout(rp->cr, l);
}

double report_layout__text(struct rp *rp, const struct rp_style *s, double x, double y, double w,
                           const char *text)
{
    PangoLayout *l = report_layout__make(rp, s, text, w);
    if (!l)
        return 0;
    double h = report_layout__height(l);
    show(rp, s, l, x, y);
    g_object_unref(l);
    return h;
}

static void rule(struct rp *rp, double y, double width_pt, double grey)
{
    cairo_set_source_rgb(rp->cr, grey, grey, grey);
    cairo_set_line_width(rp->cr, width_pt);
    cairo_move_to(rp->cr, RP_MARGIN_X, y);
    cairo_line_to(rp->cr, RP_PAGE_W - RP_MARGIN_X, y);
    cairo_stroke(rp->cr);
}

void report_layout__end_page(struct rp *rp)
{
    const char *args[2];
    char n[16], m[16], page[64], left[256];
    double fy = RP_PAGE_H - RP_BOTTOM + 14;
    rule(rp, fy - 4, 0.5, 0.75);
    snprintf(n, sizeof n, "%d", rp->page);
    snprintf(m, sizeof m, "%d", rp->pages ? rp->pages : rp->page); /* counting: unknown yet */
    args[0] = n;
    args[1] = m;
    report_fmt__subst(page, sizeof page, report_i18n__str(rp->lang, RS_PAGE), args, 2);
    snprintf(left, sizeof left, "organtrack · %s %s · %s %s",
             report_i18n__str(rp->lang, RS_DONATION_CODE), rp->m->donation_code,
             report_i18n__str(rp->lang, RS_REPORT_TIME), rp->when);
    report_layout__text(rp, &running, RP_MARGIN_X, fy, RP_CONTENT_W - 80, left);
    report_layout__text(rp, &running_r, RP_PAGE_W - RP_MARGIN_X - 80, fy, 80, page);
    report_layout__text(rp, &running, RP_MARGIN_X, fy + 10, RP_CONTENT_W,
                        report_i18n__str(rp->lang, RS_PRIVACY));
    cairo_show_page(rp->cr);
}

void report_layout__new_page(struct rp *rp)
{
    char off[16], tz[64], left[256];
    const char *args[1] = {off};
    if (rp->page > 0)
        report_layout__end_page(rp);
    rp->page++;
    rp->y = RP_TOP;
    if (rp->page == 1)
        return; /* page 1 has the full header (report_sections.c) */
    report_fmt__offset(rp->m->utc_offset_min, off, sizeof off);
    report_fmt__subst(tz, sizeof tz, report_i18n__str(rp->lang, RS_TIMES_IN), args, 1);
    snprintf(left, sizeof left, "%s · %s", report_i18n__str(rp->lang, RS_TITLE),
             rp->m->donation_code);
    report_layout__text(rp, &running, RP_MARGIN_X, rp->y, RP_CONTENT_W - 120, left);
    report_layout__text(rp, &running_r, RP_PAGE_W - RP_MARGIN_X - 120, rp->y, 120, tz);
    rule(rp, rp->y + 12, 0.5, 0.75);
    rp->y += 22;
}

int report_layout__need(struct rp *rp, double h)
{
    if (rp->y + h <= RP_PAGE_H - RP_BOTTOM)
        return 0;
    report_layout__new_page(rp);
    return 1;
}

void report_layout__section(struct rp *rp, const char *title, double keep)
{
    PangoLayout *l = report_layout__make(rp, &section_style, title, RP_CONTENT_W);
    if (!l)
        return;
    double h = report_layout__height(l);
    rp->y += 6;
    report_layout__need(rp, h + 6 + keep);
    show(rp, &section_style, l, RP_MARGIN_X, rp->y);
    g_object_unref(l);
    rp->y += h + 2;
    cairo_set_source_rgb(rp->cr, ACCENT);
    cairo_set_line_width(rp->cr, 0.8);
    cairo_move_to(rp->cr, RP_MARGIN_X, rp->y);
    cairo_line_to(rp->cr, RP_PAGE_W - RP_MARGIN_X, rp->y);
    cairo_stroke(rp->cr);
    rp->y += 5;
}

/* One label/value pair at (x, y) in width w; returns its height. */
static double kv_one(struct rp *rp, const struct rp_kv *kv, double x, double y, double w, int draw)
{
    PangoLayout *a = report_layout__make(rp, &rp_label, kv->label, KV_LABEL_W - 6);
    PangoLayout *b = report_layout__make(rp, &rp_body, kv->value ? kv->value : "—", w - KV_LABEL_W);
    double h = 0;
    if (a && b) {
        double ha = report_layout__height(a), hb = report_layout__height(b);
        h = ha > hb ? ha : hb;
        if (draw) {
            show(rp, &rp_label, a, x, y + 0.8); /* label baseline close to the value's */
            show(rp, &rp_body, b, x + KV_LABEL_W, y);
        }
    }
    if (a)
        g_object_unref(a);
    if (b)
        g_object_unref(b);
    return h;
}

void report_layout__kv(struct rp *rp, const struct rp_kv *kv, size_t n)
{
    double colw = (RP_CONTENT_W - KV_GAP) / 2;
    for (size_t i = 0; i < n; i += 2) {
        double h1 = kv_one(rp, &kv[i], 0, 0, colw, 0);
        double h2 = i + 1 < n ? kv_one(rp, &kv[i + 1], 0, 0, colw, 0) : 0;
        double h = (h1 > h2 ? h1 : h2) + 3;
        report_layout__need(rp, h);
        kv_one(rp, &kv[i], RP_MARGIN_X, rp->y, colw, 1);
        if (i + 1 < n)
            kv_one(rp, &kv[i + 1], RP_MARGIN_X + colw + KV_GAP, rp->y, colw, 1);
        rp->y += h;
    }
}

static void bold_first_line(PangoLayout *l, const char *text)
{
    const char *nl = strchr(text, '\n');
    PangoAttrList *al = pango_attr_list_copy(pango_layout_get_attributes(l));
    PangoAttribute *b = pango_attr_weight_new(PANGO_WEIGHT_BOLD);
    if (!al || !b) {
        if (al)
            pango_attr_list_unref(al);
        if (b)
            pango_attribute_destroy(b);
        return;
    }
    b->start_index = 0;
    b->end_index = nl ? (guint)(nl - text) : (guint)strlen(text);
    pango_attr_list_insert(al, b);
    pango_layout_set_attributes(l, al);
    pango_attr_list_unref(al);
}

/* The header row at rp->y; returns its height. */
static double table_header(struct rp *rp, const struct rp_col *cols, size_t ncols, int draw)
{
    double h = 0;
    for (size_t j = 0; j < ncols; j++) {
        PangoLayout *l =
            report_layout__make(rp, &table_head, cols[j].head, cols[j].w - 2 * CELL_PAD);
        if (!l)
            return 0;
        double hj = report_layout__height(l);
        if (hj > h)
            h = hj;
        g_object_unref(l);
    }
    h += 2 * CELL_PAD;
    if (!draw)
        return h;
    cairo_set_source_rgb(rp->cr, 0.91, 0.93, 0.95);
    cairo_rectangle(rp->cr, RP_MARGIN_X, rp->y, RP_CONTENT_W, h);
    cairo_fill(rp->cr);
    double x = RP_MARGIN_X;
    for (size_t j = 0; j < ncols; j++) {
        report_layout__text(rp, &table_head, x + CELL_PAD, rp->y + CELL_PAD,
                            cols[j].w - 2 * CELL_PAD, cols[j].head);
        x += cols[j].w;
    }
    return h;
}

#define TABLE_MAX_COLS 10

void report_layout__table(struct rp *rp, const struct rp_col *cols, size_t ncols, size_t nrows,
                          rp_row_fn row, void *ctx)
{
    const char *cells[TABLE_MAX_COLS];
    static _Thread_local char buf[TABLE_MAX_COLS][RP_CELL_MAX]; /* 20 KB: off the stack */
    PangoLayout *ls[TABLE_MAX_COLS];
    if (ncols > TABLE_MAX_COLS) {
        rp->failed = 1;
        return;
    }
    double hh = table_header(rp, cols, ncols, 0);
    report_layout__need(rp, hh + 14);
    rp->y += table_header(rp, cols, ncols, 1);
    for (size_t i = 0; i < nrows && !rp->failed; i++) {
        double h = 0;
        memset(cells, 0, sizeof cells);
        row(rp, i, cells, buf, ctx);
        for (size_t j = 0; j < ncols; j++) {
            const struct rp_style *s = cols[j].style ? cols[j].style : &table_cell;
            ls[j] = report_layout__make(rp, s, cells[j] ? cells[j] : "", cols[j].w - 2 * CELL_PAD);
            if (ls[j] && cols[j].bold_first_line && cells[j])
                bold_first_line(ls[j], cells[j]);
            if (ls[j] && report_layout__height(ls[j]) > h)
                h = report_layout__height(ls[j]);
        }
        h += 2 * CELL_PAD;
        if (report_layout__need(rp, h))
            rp->y += table_header(rp, cols, ncols, 1);
        if (i % 2) {
            cairo_set_source_rgb(rp->cr, 0.97, 0.975, 0.98);
            cairo_rectangle(rp->cr, RP_MARGIN_X, rp->y, RP_CONTENT_W, h);
            cairo_fill(rp->cr);
        }
        double x = RP_MARGIN_X;
        for (size_t j = 0; j < ncols; j++) {
            const struct rp_style *s = cols[j].style ? cols[j].style : &table_cell;
            if (ls[j]) {
                show(rp, s, ls[j], x + CELL_PAD, rp->y + CELL_PAD);
                g_object_unref(ls[j]);
            }
            x += cols[j].w;
        }
        rp->y += h;
        cairo_set_source_rgb(rp->cr, 0.85, 0.86, 0.88);
        cairo_set_line_width(rp->cr, 0.4);
        cairo_move_to(rp->cr, RP_MARGIN_X, rp->y);
        cairo_line_to(rp->cr, RP_PAGE_W - RP_MARGIN_X, rp->y);
        cairo_stroke(rp->cr);
    }
}
