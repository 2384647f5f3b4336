/* report.h - the shipment report (issue 13): statistics over a report
 * model and its A4 PDF. Design notes: docs/internals/report.md.
 *
 * The report is a function of the model: the same model and language give
 * the same PDF bytes (no wall clock, no random, fonts from fixed files), so
 * a printed report can be matched to the trail later by its SHA-256.
 * Thread-safe: each thread keeps its own font map (report_pdf.c). */
#ifndef REPORT_H
#define REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "ot_err.h"
#include "report_model.h"

/* Where the DejaVu fonts are read from when font_dir is NULL (Debian's
 * fonts-dejavu-core). */
#define REPORT_FONT_DIR "/usr/share/fonts/truetype/dejavu"

/* "kk", "ru", "en" -> 0 and *out; anything else -> -1. */
int report_lang_parse(const char *s, enum report_lang *out);

/* The report's time: the last custody entry's time, else the last
 * reading's, else the cross-clamp. Printed as "generated at" and written
 * as the PDF's creation and modification dates. */
int64_t report_model_time(const struct report_model *m);

/* ---- statistics (report_stats.c) ---- */

struct report_series_stats {
    size_t n; /* readings with this channel */
    double min, max, mean;
    int64_t min_ts, max_ts;
};

/* A run of product readings outside the band, not interrupted by a gap. */
struct report_excursion {
    int64_t from_ts, to_ts; /* first reading outside .. first back inside (or last outside) */
    double peak_c;          /* the reading farthest from the band */
    int above;              /* 1 above the band, 0 below */
};

struct report_interval {
    int64_t from_ts, to_ts;
};

struct report_stats {
    size_t n_readings;                  /* readings received (rows) */
    struct report_series_stats product; /* temp_c */
    struct report_series_stats probe2;  /* temp2_c */
    struct report_series_stats ambient; /* ambient_c */
    double mkt_c;                       /* NaN without product readings */
    int64_t first_ts, last_ts;          /* of product readings */
    int64_t gap_ms;                     /* the threshold used */
    int64_t measured_ms;                /* time covered by product readings, gaps excluded */
    int64_t outside_ms;                 /* of which outside the band */
    size_t n_time_gaps;                 /* product readings further apart than gap_ms */
    int64_t time_gaps_ms;               /* their total length */
    struct report_interval *time_gaps;  /* owned; the first REPORT_MAX_ROWS of them */
    size_t n_time_gaps_kept;
    size_t n_seq_gaps, seq_gap_readings; /* model gaps that never arrived */
    size_t n_lost, lost_readings;        /* declared losses */
    struct report_excursion *excursions; /* owned; report_stats_free */
    size_t n_excursions;                 /* kept: at most REPORT_MAX_ROWS */
    size_t n_excursions_total;           /* found */
};

/* Computes every figure from every reading of m. OT_ERR_TOOBIG beyond the
 * caps of report_model.h, OT_ERR_NOMEM. Free with report_stats_free (also
 * after a failure). */
enum ot_err report_stats_compute(const struct report_model *m, struct report_stats *st);
void report_stats_free(struct report_stats *st);

/* ---- the PDF (report_pdf.c) ---- */

/* Renders the A4 report of m in lang. font_dir: the DejaVu fonts
 * (DejaVuSans.ttf, DejaVuSans-Bold.ttf, DejaVuSansMono.ttf), NULL =
 * REPORT_FONT_DIR. On success *out is malloc'd (caller frees) and *len its
 * size. Errors: OT_ERR_INVAL (no donation code, a bad language),
 * OT_ERR_TOOBIG (caps), OT_ERR_CONFIG (a font file missing: logged with its
 * path), OT_ERR_NOMEM, OT_ERR_IO (cairo failed: logged with cairo's text). */
enum ot_err report_pdf_render(const struct report_model *m, enum report_lang lang,
                              const char *font_dir, unsigned char **out, size_t *len);

/* Frees the calling thread's font map now (it is also freed when the
 * thread ends). For the main thread before exit, and for leak checkers. */
void report_pdf_thread_cleanup(void);

/* SHA-256 of the PDF bytes as 64 lowercase hex + NUL, for the API's
 * X-Content-SHA256 header. */
enum ot_err report_pdf_sha256_hex(const unsigned char *pdf, size_t len, char hex[65]);

#endif
