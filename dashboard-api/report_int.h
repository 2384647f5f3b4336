/* report_int.h - internals of the shipment report shared by its files:
 *   report_i18n.c     the kk/ru/en strings (one table) and value words
 *   report_format.c   times, durations, temperatures, placeholders
 *   report_layout.c   the page machinery: fonts, text, pages, tables
 *   report_chart.c    the temperature chart
 *   report_summary.c  page 1: identity, release, route, ischaemia, statistics
 *   report_trail.c    the chart page's tables, alarms, custody, signatures,
 *                     ledger head and how to verify it
 *   report_pdf.c      the surface, the two passes, determinism, SHA-256
 * Nothing here is for use outside these files (report.h is). */
#ifndef REPORT_INT_H
#define REPORT_INT_H

#include <cairo.h>
#include <pango/pangocairo.h>
#include <stddef.h>
#include <stdint.h>

#include "report.h"

/* ------------------------------------------------------------ strings */

enum report_str {
    RS_TITLE,
    RS_SUBTITLE,
    RS_DONATION_CODE,
    RS_SHIPMENT_NO,
    RS_REPORT_TIME,
    RS_REPORT_TIME_NOTE,
    RS_TIMES_IN,
    RS_PAGE,
    RS_PRIVACY,
    RS_STATUS,
    RS_SEC_IDENTITY,
    RS_CONTENT,
    RS_LATERALITY,
    RS_ABO,
    RS_CONTAINER,
    RS_MODE,
    RS_SEC_RELEASE,
    RS_NOT_SIGNED,
    RS_SEC_ROUTE,
    RS_ORIGIN,
    RS_DESTINATION,
    RS_LEGS,
    RS_LEG_MODE,
    RS_FROM,
    RS_TO,
    RS_PLANNED_DEP,
    RS_PLANNED_ARR,
    RS_CARRIER,
    RS_NO_LEGS,
    RS_SEC_ISCH,
    RS_CROSS_CLAMP,
    RS_ISCH_END,
    RS_END_REPERF,
    RS_END_DELIV,
    RS_END_OPEN,
    RS_ISCH_TOTAL,
    RS_ISCH_LIMIT,
    RS_WITHIN,
    RS_EXCEEDED,
    RS_DEADLINE,
    RS_SEC_STATS,
    RS_BAND,
    RS_MIN,
    RS_MAX,
    RS_MEAN,
    RS_MKT,
    RS_MKT_NOTE,
    RS_OUTSIDE,
    RS_OUTSIDE_VAL,
    RS_RECEIVED,
    RS_RECEIVED_VAL,
    RS_GAPS,
    RS_GAPS_VAL,
    RS_SEQ_MISSING,
    RS_LOST,
    RS_RANGES_VAL,
    RS_EXC_VAL,
    RS_NONE,
    RS_PRODUCT,
    RS_PROBE2,
    RS_AMBIENT,
    RS_MIN_MAX_MEAN,
    RS_PERIOD,
    RS_SEC_CHART,
    RS_LEG_BAND,
    RS_LEG_EXC,
    RS_LEG_GAP,
    RS_LEG_CUSTODY,
    RS_CHART_NOTE,
    RS_NO_READINGS,
    RS_AXIS_TEMP,
    RS_AXIS_TIME,
    RS_SEC_EXC,
    RS_START,
    RS_END,
    RS_DURATION,
    RS_PEAK,
    RS_NO_EXC,
    RS_MORE,
    RS_SEC_GAPS,
    RS_KIND,
    RS_GAP_TIME,
    RS_GAP_SEQ,
    RS_GAP_LOST,
    RS_NO_GAPS,
    RS_SEC_ALARMS,
    RS_ALARM,
    RS_SEVERITY,
    RS_RAISED,
    RS_CLEARED,
    RS_ACKED,
    RS_COMMENT,
    RS_NO_ALARMS,
    RS_SEC_CUSTODY,
    RS_COL_INDEX,
    RS_COL_TIME,
    RS_COL_EVENT,
    RS_COL_PARTIES,
    RS_COL_WITNESS,
    RS_COL_SEAL,
    RS_COL_TEMP,
    RS_COL_HASH,
    RS_LOGGED_BY,
    RS_CUSTODY_NOTE,
    RS_NO_CUSTODY,
    RS_SEC_SIG,
    RS_SIG_NAME,
    RS_ROLE,
    RS_MEANING,
    RS_STATEMENT,
    RS_ENTRY,
    RS_SIG_NOTE,
    RS_NO_SIG,
    RS_SEC_LEDGER,
    RS_HEAD_HASH,
    RS_HEAD_SIG,
    RS_PUBKEY,
    RS_VERIFY_1,
    RS_VERIFY_2,
    RS_VERIFY_3,
    RS_FILE_NOTE,
    RS__COUNT
};

/* The string of key in lang; never NULL. */
const char *report_i18n__str(enum report_lang lang, enum report_str key);
/* The word for a stored value of a vocabulary ("profile", "heart"), or the
 * value itself when the table has none; "—" for NULL. */
const char *report_i18n__word(enum report_lang lang, const char *group, const char *value);

/* ------------------------------------------------------------ format */

/* "{1}".."{9}" in tpl replaced by args[0..]; out always NUL-terminated. */
void report_fmt__subst(char *out, size_t len, const char *tpl, const char *const *args,
                       size_t nargs);
/* "2026-11-23 08:10" in the model's offset ("—" for 0); with_s adds ":ss". */
void report_fmt__time(const struct report_model *m, int64_t ms, int with_s, char *out, size_t len);
/* "UTC+05:00" */
void report_fmt__offset(int offset_min, char *out, size_t len);
/* "4 h 35 min", "45 s", in lang */
void report_fmt__duration(enum report_lang lang, int64_t ms, char *out, size_t len);
/* a number with `decimals` decimals and the language's separator ("4,2") */
void report_fmt__num(enum report_lang lang, double v, int decimals, char *out, size_t len);
/* "4,2 °C", "—" for NaN */
void report_fmt__temp(enum report_lang lang, double v, char *out, size_t len);

/* ------------------------------------------------------------ layout */

#define RP_PAGE_W 595.2756 /* A4 in points */
#define RP_PAGE_H 841.8898
#define RP_MARGIN_X 42.52 /* 15 mm */
#define RP_TOP 42.52
#define RP_BOTTOM 56.69 /* 20 mm: the footer lives here */
#define RP_CONTENT_W (RP_PAGE_W - 2 * RP_MARGIN_X)

enum rp_font { RP_REGULAR, RP_BOLD, RP_MONO };

/* One render pass. The first pass counts pages (its bytes are thrown
 * away); the second draws the same thing knowing the total. */
struct rp {
    const struct report_model *m;
    const struct report_stats *st;
    enum report_lang lang;
    cairo_t *cr;
    PangoContext *pc;
    int page;  /* current page, 1-based */
    int pages; /* total from the counting pass, 0 while counting */
    double y;  /* cursor: top of the next thing */
    char when[48];
    int failed; /* a layout could not be made: the render fails */
};

struct rp_style {
    enum rp_font font;
    double size;
    double r, g, b;
    PangoAlignment align;
};

extern const struct rp_style rp_body, rp_small, rp_label, rp_bold, rp_mono_small, rp_mono;

/* Lays out text in width w (wrapping on words, or anywhere for mono); the
 * caller unrefs. NULL on failure (rp->failed set). */
PangoLayout *report_layout__make(struct rp *rp, const struct rp_style *s, const char *text,
                                 double w);
double report_layout__height(PangoLayout *l);
/* Draws text at (x, y) in width w; returns its height. */
double report_layout__text(struct rp *rp, const struct rp_style *s, double x, double y, double w,
                           const char *text);
/* Starts a new page if fewer than h points are left; 1 if it did. */
int report_layout__need(struct rp *rp, double h);
void report_layout__new_page(struct rp *rp);
/* Finishes the current page: its footer, cairo_show_page. */
void report_layout__end_page(struct rp *rp);
/* A section heading, kept with at least keep points of what follows. */
void report_layout__section(struct rp *rp, const char *title, double keep);
void report_layout__set_rgb(struct rp *rp, double r, double g, double b);

/* A table: columns of given widths (summing to RP_CONTENT_W); a row
 * callback fills the cell texts of row i (each may be NULL). The header
 * is repeated after every page break; rows never split. */
#define RP_CELL_MAX 2048 /* bytes per table cell: ~1000 Cyrillic letters */

struct rp_col {
    const char *head;
    double w;
    const struct rp_style *style;
    int bold_first_line; /* the cell's first line in bold (what happened) */
};
typedef void (*rp_row_fn)(struct rp *rp, size_t i, const char **cells, char (*buf)[RP_CELL_MAX],
                          void *ctx);
void report_layout__table(struct rp *rp, const struct rp_col *cols, size_t ncols, size_t nrows,
                          rp_row_fn row, void *ctx);
/* Label/value pairs in two columns. */
struct rp_kv {
    const char *label;
    const char *value;
};
void report_layout__kv(struct rp *rp, const struct rp_kv *kv, size_t n);

/* ------------------------------------------------------------ content */

/* The chart block (title, two panels, legend): its fixed height. */
#define RP_CHART_H 420.0
void report_chart__draw(struct rp *rp, double x, double y, double w);

void report_summary__page1(struct rp *rp);
void report_trail__chart_page(struct rp *rp);
void report_trail__records(struct rp *rp);

/* Copies s (NULL -> "—") into buf[RP_CELL_MAX]; a longer s is cut at a
 * UTF-8 boundary and ends in "…", so a reader sees that it was cut. */
const char *report_layout__cell(char *buf, const char *s);
/* The length of the longest prefix of s (NULL: "—") of at most max bytes
 * that ends on a character boundary, for printf's "%.*s"; U8(s, max) gives
 * both arguments. */
int report_layout__u8len(const char *s, size_t max);
#define U8(s, max) report_layout__u8len((s), (max)), ((s) ? (s) : "—")

#endif
