/* report_pdf.c - the report as an A4 PDF (cairo's PDF surface, text
 * shaped by Pango), and why the same model always gives the same bytes.
 *
 * Determinism (cairo 1.16, Debian 12), checked by tests/unit/test_report.c:
 * - Dates: cairo writes the current time as /CreationDate and /ModDate
 *   unless told otherwise; we set both from the model (report_model_time,
 *   the trail's last entry), never the wall clock. cairo 1.16 forgets the
 *   "D:" prefix ISO 32000 requires ("(20261123072000+00'00)"), so the two
 *   strings are rewritten in place to "(D:20261123072000Z)" plus three
 *   spaces between dictionary entries: same length, so no object offset
 *   and no xref entry moves. A cairo that writes them correctly is left
 *   alone (the buggy form is looked for exactly).
 * - Fonts: a private fontconfig configuration that knows exactly the three
 *   DejaVu files and nothing else, so neither the machine's font set nor
 *   its fontconfig rules can change the glyphs; hinting is off (PDF is
 *   unhinted anyway). cairo names font subsets from a hash of the glyphs
 *   they hold (e.g. "AEEWAQ+DejaVuSans"), and writes no /ID: nothing random.
 * - Page count: "N / M" needs M before page 1 is drawn, so the report is
 *   laid out twice on identical surfaces; the first pass's bytes are
 *   discarded and it only counts pages.
 * Threads: Pango font maps are not to be shared between threads, and the
 * API renders on its worker threads, so each thread keeps its own (a
 * thread-specific slot, freed when the thread ends or by
 * report_pdf_thread_cleanup): loading the three fonts costs more than
 * drawing a page. A warm font map gives the same bytes as a fresh one
 * (test_report checks). */
#include "report_int.h"

#include <cairo-pdf.h>
#include <fontconfig/fontconfig.h>
#include <pango/pangofc-fontmap.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ot_buf.h"
#include "ot_crypto.h"
#include "ot_log.h"
#include "ot_time.h"

static const char *const font_files[] = {"DejaVuSans.ttf", "DejaVuSans-Bold.ttf",
                                         "DejaVuSansMono.ttf"};

int report_lang_parse(const char *s, enum report_lang *out)
{
    static const char *const names[REPORT_LANG__COUNT] = {"kk", "ru", "en"};
    for (int i = 0; s && i < REPORT_LANG__COUNT; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (enum report_lang)i;
            return 0;
        }
    return -1;
}

int64_t report_model_time(const struct report_model *m)
{
    int64_t t = 0;
    for (size_t i = 0; i < m->n_custody; i++)
        if (m->custody[i].ts > t)
            t = m->custody[i].ts;
    if (!t && m->n_readings)
        t = m->readings[m->n_readings - 1].ts;
    return t ? t : m->cross_clamp_at;
}

/* ---------------------------------------------------------------- fonts */

static enum ot_err font_map_new(const char *dir, PangoFontMap **out)
{
    char path[1024];
    FcConfig *cfg = FcConfigCreate();
    *out = NULL;
    if (!cfg)
        return OT_ERR_NOMEM;
    for (size_t i = 0; i < sizeof font_files / sizeof font_files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, font_files[i]);
        if (!FcConfigAppFontAddFile(cfg, (const FcChar8 *)path)) {
            ot_error("report: cannot load font %s (Debian package fonts-dejavu-core)", path);
            FcConfigDestroy(cfg);
            return OT_ERR_CONFIG;
        }
    }
    PangoFontMap *fm = pango_cairo_font_map_new_for_font_type(CAIRO_FONT_TYPE_FT);
    if (!fm) {
        FcConfigDestroy(cfg);
        return OT_ERR_NOMEM;
    }
    pango_fc_font_map_set_config(PANGO_FC_FONT_MAP(fm), cfg); /* takes a reference */
    FcConfigDestroy(cfg);
    *out = fm;
    return OT_OK;
}

/* Drops the last reference to a font map. pango 1.50 does not release the
 * FcConfig of a finalised font map (its fonts, ~12 KB, stay allocated: seen
 * with ASan), so the config is detached first, which releases it. */
static void font_map_release(PangoFontMap *fm)
{
    pango_fc_font_map_set_config(PANGO_FC_FONT_MAP(fm), NULL);
    g_object_unref(fm);
}

/* This thread's font map, made on first use and kept. */
struct fm_slot {
    PangoFontMap *fm;
    char dir[512];
};

static pthread_key_t slot_key;
static pthread_once_t slot_once = PTHREAD_ONCE_INIT;
static int slot_key_ok;

static void slot_free(void *p)
{
    struct fm_slot *s = p;
    if (!s)
        return;
    if (s->fm)
        font_map_release(s->fm);
    free(s);
}

static void slot_key_make(void)
{
    slot_key_ok = pthread_key_create(&slot_key, slot_free) == 0;
}

/* This thread's font map for dir in *out, and *owned = 1 when it is not
 * kept (the caller then releases it with font_map_release, else unrefs). */
static enum ot_err font_map_get(const char *dir, PangoFontMap **out, int *owned)
{
    PangoFontMap *fm = NULL;
    enum ot_err rc;
    pthread_once(&slot_once, slot_key_make);
    struct fm_slot *s = slot_key_ok ? pthread_getspecific(slot_key) : NULL;
    *owned = 0;
    if (s && s->fm && strcmp(s->dir, dir) == 0) {
        *out = g_object_ref(s->fm);
        return OT_OK;
    }
    if ((rc = font_map_new(dir, &fm)) != OT_OK)
        return rc;
    *out = fm;
    *owned = 1;
    if (!slot_key_ok || strlen(dir) >= sizeof s->dir)
        return OT_OK; /* not kept: correct, only slower */
    if (!s) {
        if (!(s = calloc(1, sizeof *s)) || pthread_setspecific(slot_key, s)) {
            free(s);
            return OT_OK;
        }
    }
    *owned = 0;
    if (s->fm)
        font_map_release(s->fm);
    s->fm = g_object_ref(fm);
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    return OT_OK;
}

void report_pdf_thread_cleanup(void)
{
    pthread_once(&slot_once, slot_key_make);
    if (!slot_key_ok)
        return;
    slot_free(pthread_getspecific(slot_key));
    pthread_setspecific(slot_key, NULL);
}

/* --------------------------------------------------------------- output */

struct sink {
    struct ot_buf buf;
    int discard; /* counting pass */
    int toobig;  /* the cap, not memory, stopped it */
};

static cairo_status_t sink_write(void *closure, const unsigned char *data, unsigned int len)
{
    struct sink *s = closure;
    if (s->discard)
        return CAIRO_STATUS_SUCCESS;
    if (!s->buf.failed && len >= s->buf.max - s->buf.n)
        s->toobig = 1;
    ot_buf_add(&s->buf, data, len);
    return s->buf.failed ? CAIRO_STATUS_WRITE_ERROR : CAIRO_STATUS_SUCCESS;
}

/* "2026-11-23T07:20:00+00:00" for cairo, and the two forms of the PDF
 * date: what cairo 1.16 writes and what ISO 32000 wants (same length once
 * padded). */
static void pdf_dates(int64_t ms, char iso[32], char bad[40], char good[40])
{
    char z[32];
    ot_time_format_iso(ms, z, sizeof z); /* 2026-11-23T07:20:00.000Z */
    snprintf(iso, 32, "%.19s+00:00", z);
    snprintf(bad, 40, "(%.4s%.2s%.2s%.2s%.2s%.2s+00'00)", z, z + 5, z + 8, z + 11, z + 14, z + 17);
    snprintf(good, 40, "(D:%.4s%.2s%.2s%.2s%.2s%.2sZ)   ", z, z + 5, z + 8, z + 11, z + 14, z + 17);
}

static void fix_date(struct ot_buf *b, const char *key, const char *bad, const char *good)
{
    size_t kl = strlen(key), bl = strlen(bad);
    if (strlen(good) != bl || b->n < kl + bl)
        return;
    for (size_t i = b->n - kl - bl + 1; i-- > 0;) { /* the Info dictionary is near the end */
        if (memcmp(b->p + i, key, kl) == 0 && memcmp(b->p + i + kl, bad, bl) == 0) {
            memcpy(b->p + i + kl, good, bl);
            return;
        }
    }
}

/* ----------------------------------------------------------------- pass */

static enum ot_err render_pass(struct rp *rp, PangoFontMap *fm, struct sink *sink, int64_t when)
{
    char iso[32], bad[40], good[40], title[256];
    enum ot_err rc = OT_OK;
    cairo_surface_t *surf =
        cairo_pdf_surface_create_for_stream(sink_write, sink, RP_PAGE_W, RP_PAGE_H);
    if (cairo_surface_status(surf) != CAIRO_STATUS_SUCCESS) {
        ot_error("report: cairo PDF surface: %s",
                 cairo_status_to_string(cairo_surface_status(surf)));
        cairo_surface_destroy(surf);
        return OT_ERR_IO;
    }
    pdf_dates(when, iso, bad, good);
    snprintf(title, sizeof title, "%s · %s", report_i18n__str(rp->lang, RS_TITLE),
             rp->m->donation_code);
    cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_TITLE, title);
    cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_CREATOR, "organtrack");
    cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_CREATE_DATE, iso);
    cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_MOD_DATE, iso);

    cairo_t *cr = cairo_create(surf);
    PangoContext *pc = pango_font_map_create_context(fm);
    cairo_font_options_t *fo = cairo_font_options_create();
    cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
    cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
    pango_cairo_context_set_font_options(pc, fo);
    cairo_font_options_destroy(fo);
    pango_context_set_round_glyph_positions(pc, FALSE);
    pango_cairo_update_context(cr, pc);

    rp->cr = cr;
    rp->pc = pc;
    rp->page = 0;
    rp->failed = 0;
    report_layout__new_page(rp);
    report_summary__page1(rp);
    report_trail__chart_page(rp);
    report_trail__records(rp);
    report_layout__end_page(rp);

    g_object_unref(pc);
    cairo_status_t cs = cairo_status(cr);
    cairo_destroy(cr);
    cairo_surface_finish(surf);
    if (cs == CAIRO_STATUS_SUCCESS)
        cs = cairo_surface_status(surf);
    cairo_surface_destroy(surf);
    if (sink->buf.failed) {
        if (sink->toobig)
            ot_error("report: the PDF passed its cap of %u bytes", REPORT_MAX_PDF_BYTES);
        rc = sink->toobig ? OT_ERR_TOOBIG : OT_ERR_NOMEM;
    } else if (cs != CAIRO_STATUS_SUCCESS) {
        ot_error("report: cairo: %s", cairo_status_to_string(cs));
        rc = cs == CAIRO_STATUS_NO_MEMORY ? OT_ERR_NOMEM : OT_ERR_IO;
    } else if (rp->failed) {
        rc = OT_ERR_NOMEM;
    }
    if (!rc && !sink->discard) {
        fix_date(&sink->buf, "/CreationDate ", bad, good);
        fix_date(&sink->buf, "/ModDate ", bad, good);
    }
    return rc;
}

static enum ot_err check_model(const struct report_model *m)
{
    if (!m || !m->donation_code || !m->donation_code[0])
        return OT_ERR_INVAL;
    if (m->n_readings > REPORT_MAX_READINGS || m->n_legs > REPORT_MAX_ROWS ||
        m->n_gaps > REPORT_MAX_ROWS || m->n_alarms > REPORT_MAX_ROWS ||
        m->n_custody > REPORT_MAX_ROWS || m->n_signatures > REPORT_MAX_ROWS)
        return OT_ERR_TOOBIG;
    if ((m->n_readings && !m->readings) || (m->n_legs && !m->legs) || (m->n_gaps && !m->gaps) ||
        (m->n_alarms && !m->alarms) || (m->n_custody && !m->custody) ||
        (m->n_signatures && !m->signatures))
        return OT_ERR_INVAL;
    if (!(m->band_min_c <= m->band_max_c))
        return OT_ERR_INVAL;
    return OT_OK;
}

enum ot_err report_pdf_render(const struct report_model *m, enum report_lang lang,
                              const char *font_dir, unsigned char **out, size_t *len)
{
    struct report_stats st;
    struct sink sink = {OT_BUF_INIT(REPORT_MAX_PDF_BYTES), 1, 0};
    PangoFontMap *fm = NULL;
    int fm_owned = 0;
    char t[32], off[16];
    enum ot_err rc;
    *out = NULL;
    *len = 0;
    memset(&st, 0, sizeof st);
    if ((unsigned)lang >= REPORT_LANG__COUNT)
        return OT_ERR_INVAL;
    if ((rc = check_model(m)) != OT_OK)
        return rc;
    if ((rc = report_stats_compute(m, &st)) != OT_OK)
        goto done;
    if ((rc = font_map_get(font_dir ? font_dir : REPORT_FONT_DIR, &fm, &fm_owned)) != OT_OK)
        goto done;
    int64_t when = report_model_time(m);
    struct rp rp = {.m = m, .st = &st, .lang = lang};
    report_fmt__time(m, when, 1, t, sizeof t);
    report_fmt__offset(m->utc_offset_min, off, sizeof off);
    snprintf(rp.when, sizeof rp.when, "%s %s", t, off);

    if ((rc = render_pass(&rp, fm, &sink, when)) != OT_OK) /* counts pages */
        goto done;
    rp.pages = rp.page;
    sink.discard = 0;
    if ((rc = render_pass(&rp, fm, &sink, when)) != OT_OK)
        goto done;
    if (rp.page != rp.pages) { /* cannot happen: both passes lay out the same */
        ot_error("report: page count changed between passes (%d, then %d)", rp.pages, rp.page);
        rc = OT_ERR_CORRUPT;
        goto done;
    }
    *out = (unsigned char *)sink.buf.p;
    *len = sink.buf.n;
    sink.buf.p = NULL;
done:
    free(sink.buf.p);
    if (fm && fm_owned)
        font_map_release(fm);
    else if (fm)
        g_object_unref(fm);
    report_stats_free(&st);
    return rc;
}

enum ot_err report_pdf_sha256_hex(const unsigned char *pdf, size_t len, char hex[65])
{
    return ot_sha256_hex(pdf, len, hex);
}
