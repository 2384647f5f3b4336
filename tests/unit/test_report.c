/* test_report.c - the shipment report (issue 13) on the heart fixture
 * (tests/tools/report_fixture.c: a replayed flight with an excursion, a
 * declared loss, hand-offs, two signatures):
 * - the statistics against values this test computes itself from the
 *   readings (min, max, mean, MKT straight from the USP formula, time
 *   outside the band), to 0.1 °C and to the millisecond;
 * - kk, ru and en render to a PDF; two renders of the same model are the
 *   same bytes (and SHA-256); a new ledger entry changes them;
 * - the PDF dates are the trail's, with the "D:" prefix;
 * - bad models are refused, hostile strings are not a crash, long ones are
 *   cut on a character boundary with "…". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka needs the four headers above first */
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "report_fixture.h"
#include "report_int.h" /* the cell helpers */

static int setup(void **state)
{
    struct report_fixture *f = calloc(1, sizeof *f);
    if (!f || report_fixture_heart(f, 0, 0)) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct report_fixture *f = *state;
    report_fixture_free(f);
    free(f);
    return 0;
}

/* ------------------------------------------------------------ statistics */

/* MKT exactly as USP <1079.2> writes it, no rearrangement */
static double usp_mkt(const struct report_model *m)
{
    double sum = 0;
    size_t n = 0;
    for (size_t i = 0; i < m->n_readings; i++) {
        double t = m->readings[i].temp_c;
        if (isnan(t))
            continue;
        sum += exp(-83144.0 / (8.314462618 * (t + 273.15)));
        n++;
    }
    return (83144.0 / 8.314462618) / -log(sum / (double)n) - 273.15;
}

static void stats_match_independent_values(void **state)
{
    struct report_fixture *f = *state;
    const struct report_model *m = &f->m;
    struct report_stats st;
    double mn = INFINITY, mx = -INFINITY, sum = 0;
    size_t n = 0;
    int64_t outside = 0;
    for (size_t i = 0; i < m->n_readings; i++) {
        double t = m->readings[i].temp_c;
        mn = t < mn ? t : mn;
        mx = t > mx ? t : mx;
        sum += t;
        n++;
        if (i + 1 < m->n_readings && (t < 2.0 || t > 8.0) &&
            m->readings[i + 1].ts - m->readings[i].ts <= 30000)
            outside += m->readings[i + 1].ts - m->readings[i].ts;
    }
    assert_int_equal(report_stats_compute(m, &st), OT_OK);
    assert_int_equal(st.n_readings, m->n_readings);
    assert_int_equal(st.product.n, n);
    assert_true(fabs(st.product.min - mn) < 0.1);
    assert_true(fabs(st.product.max - mx) < 0.1);
    assert_true(fabs(st.product.mean - sum / (double)n) < 0.1);
    assert_true(fabs(st.mkt_c - usp_mkt(m)) < 0.1);
    /* the fixture's shape: an excursion above 8 °C of about six minutes,
     * one six-minute hole (declared lost), MKT above the mean */
    assert_true(mx > 8.5 && mx < 9.5);
    assert_true(st.mkt_c > st.product.mean);
    assert_int_equal(st.gap_ms, 30000); /* 5 s spacing: the 30 s floor */
    assert_int_equal(st.outside_ms, outside);
    assert_int_equal(st.n_excursions, 1);
    assert_true(st.excursions[0].above);
    assert_true(fabs(st.excursions[0].peak_c - mx) < 1e-9);
    assert_int_equal(st.excursions[0].to_ts - st.excursions[0].from_ts, st.outside_ms);
    assert_true(st.outside_ms > 5 * 60000 && st.outside_ms < 8 * 60000);
    assert_int_equal(st.n_time_gaps, 1);
    assert_true(st.time_gaps_ms >= 6 * 60000);
    assert_int_equal(st.n_lost, 1);
    assert_int_equal(st.lost_readings, 72);
    assert_int_equal(st.n_seq_gaps, 0);
    assert_int_equal(st.measured_ms + st.time_gaps_ms, st.last_ts - st.first_ts);
    report_stats_free(&st);
}

static void mkt_of_known_series(void **state)
{
    (void)state;
    struct report_reading r[4] = {{1000, 5.0, NAN, NAN},
                                  {2000, 5.0, NAN, NAN},
                                  {3000, NAN, NAN, NAN}, /* not read: skipped */
                                  {4000, 5.0, NAN, NAN}};
    struct report_model m = {
        .donation_code = "X", .readings = r, .n_readings = 4, .band_min_c = 2, .band_max_c = 8};
    struct report_stats st;
    assert_int_equal(report_stats_compute(&m, &st), OT_OK);
    assert_true(fabs(st.mkt_c - 5.0) < 1e-9); /* constant: MKT is that constant */
    assert_int_equal(st.product.n, 3);
    report_stats_free(&st);
    /* 0 and 20 °C: MKT lies above the mean (Arrhenius weighs the warm one) */
    r[0].temp_c = 0;
    r[1].temp_c = 20;
    m.n_readings = 2;
    assert_int_equal(report_stats_compute(&m, &st), OT_OK);
    double a = 83144.0 / 8.314462618;
    double want = a / -log((exp(-a / 273.15) + exp(-a / 293.15)) / 2) - 273.15;
    assert_true(fabs(st.mkt_c - want) < 1e-9);
    assert_true(st.mkt_c > 14 && st.mkt_c < 16);
    /* below the band, then above it: one run of 1 s (the last reading holds
     * for no time), its peak the reading farthest from the band */
    assert_int_equal(st.outside_ms, 1000);
    assert_int_equal(st.n_excursions, 1);
    assert_true(st.excursions[0].above);
    assert_true(st.excursions[0].peak_c == 20);
    report_stats_free(&st);
    /* cryopreserved tissue at -196 °C: no underflow to NaN */
    r[0].temp_c = -196;
    r[1].temp_c = -190;
    assert_int_equal(report_stats_compute(&m, &st), OT_OK);
    assert_true(isfinite(st.mkt_c) && st.mkt_c > -196 && st.mkt_c < -190);
    report_stats_free(&st);
}

static void stats_refuse_bad_input(void **state)
{
    (void)state;
    struct report_reading r[2] = {{2000, 5.0, NAN, NAN}, {1000, 5.0, NAN, NAN}};
    struct report_model m = {
        .donation_code = "X", .readings = r, .n_readings = 2, .band_min_c = 2, .band_max_c = 8};
    struct report_stats st;
    assert_int_equal(report_stats_compute(&m, &st), OT_ERR_INVAL); /* time goes back */
    report_stats_free(&st);
    r[0].ts = 0;
    r[0].temp_c = -300; /* below absolute zero */
    assert_int_equal(report_stats_compute(&m, &st), OT_ERR_RANGE);
    report_stats_free(&st);
}

/* ---------------------------------------------------------------- PDF */

static void render(const struct report_model *m, enum report_lang lang, unsigned char **pdf,
                   size_t *len)
{
    assert_int_equal(report_pdf_render(m, lang, NULL, pdf, len), OT_OK);
    assert_non_null(*pdf);
    assert_true(*len > 10000);
    assert_memory_equal(*pdf, "%PDF-1.", 7);
    assert_memory_equal(*pdf + *len - 6, "%%EOF\n", 6);
}

static int contains(const unsigned char *p, size_t n, const char *s)
{
    size_t k = strlen(s);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(p + i, s, k) == 0)
            return 1;
    return 0;
}

static void three_languages_same_bytes_twice(void **state)
{
    struct report_fixture *f = *state;
    unsigned char *first[REPORT_LANG__COUNT];
    size_t len[REPORT_LANG__COUNT];
    for (int l = 0; l < REPORT_LANG__COUNT; l++) {
        unsigned char *again;
        size_t alen;
        char h1[65], h2[65];
        report_pdf_thread_cleanup(); /* the first render on a fresh font map */
        render(&f->m, (enum report_lang)l, &first[l], &len[l]);
        render(&f->m, (enum report_lang)l, &again, &alen); /* the second on a warm one */
        assert_int_equal(len[l], alen);
        assert_memory_equal(first[l], again, alen);
        assert_int_equal(report_pdf_sha256_hex(first[l], len[l], h1), OT_OK);
        assert_int_equal(report_pdf_sha256_hex(again, alen, h2), OT_OK);
        assert_string_equal(h1, h2);
        assert_int_equal(strlen(h1), 64);
        /* dates from the trail's last entry (09:14 UTC), as ISO 32000 wants them */
        assert_true(contains(first[l], len[l], "/CreationDate (D:20261123091400Z)"));
        assert_true(contains(first[l], len[l], "/ModDate (D:20261123091400Z)"));
        assert_false(contains(first[l], len[l], "/ID"));
        free(again);
    }
    /* the language changes the file */
    assert_true(len[0] != len[2] || memcmp(first[0], first[2], len[0]) != 0);
    for (int l = 0; l < REPORT_LANG__COUNT; l++)
        free(first[l]);
}

static void new_entry_changes_the_bytes(void **state)
{
    struct report_fixture *f = *state;
    unsigned char *a, *b;
    size_t alen, blen;
    render(&f->m, REPORT_LANG_KK, &a, &alen);
    assert_int_equal(
        report_fixture_add_signature(f, "Gulnara Tulegenova", "reviewed", "Second review."), 0);
    render(&f->m, REPORT_LANG_KK, &b, &blen);
    assert_true(alen != blen || memcmp(a, b, alen) != 0);
    /* the report's time moved with the trail */
    assert_true(contains(b, blen, "/CreationDate (D:20261123091500Z)"));
    free(a);
    free(b);
}

static void bad_models_are_refused(void **state)
{
    struct report_fixture *f = *state;
    struct report_model m = f->m;
    unsigned char *pdf = (unsigned char *)"x";
    size_t len = 1;
    m.donation_code = NULL;
    assert_int_equal(report_pdf_render(&m, REPORT_LANG_EN, NULL, &pdf, &len), OT_ERR_INVAL);
    assert_null(pdf);
    assert_int_equal(len, 0);
    m = f->m;
    assert_int_equal(report_pdf_render(&m, REPORT_LANG__COUNT, NULL, &pdf, &len), OT_ERR_INVAL);
    m.band_min_c = 9;
    assert_int_equal(report_pdf_render(&m, REPORT_LANG_EN, NULL, &pdf, &len), OT_ERR_INVAL);
    m = f->m;
    m.n_custody = REPORT_MAX_ROWS + 1;
    assert_int_equal(report_pdf_render(&m, REPORT_LANG_EN, NULL, &pdf, &len), OT_ERR_TOOBIG);
    m = f->m;
    assert_int_equal(report_pdf_render(&m, REPORT_LANG_EN, "/nonexistent", &pdf, &len),
                     OT_ERR_CONFIG);
    assert_null(pdf);
    enum report_lang l;
    assert_int_equal(report_lang_parse("kk", &l), 0);
    assert_int_equal(l, REPORT_LANG_KK);
    assert_int_equal(report_lang_parse("ru", &l), 0);
    assert_int_equal(report_lang_parse("en", &l), 0);
    assert_int_equal(report_lang_parse("de", &l), -1);
    assert_int_equal(report_lang_parse(NULL, &l), -1);
}

static void empty_and_hostile_models_render(void **state)
{
    struct report_fixture *f = *state;
    unsigned char *pdf;
    size_t len;
    /* a shipment just created: no readings, no trail */
    struct report_model e = {.donation_code = "KZ-DIN-A0009-26",
                             .cross_clamp_at = 1795405200000,
                             .band_min_c = 2,
                             .band_max_c = 8,
                             .limit_min = 360};
    render(&e, REPORT_LANG_RU, &pdf, &len);
    free(pdf);
    /* not UTF-8, control characters, a very long comment, many rows */
    static char longc[5000];
    memset(longc, 'x', sizeof longc - 1);
    for (size_t i = 0; i < sizeof longc - 1; i += 7)
        longc[i] = ' ';
    struct report_model m = f->m;
    struct report_custody c[FIX_MAX_ENTRIES];
    memcpy(c, f->custody, sizeof c);
    c[1].from = "Crew \xff\xfe broken";
    c[1].witness = "line\nbreak\ttab";
    c[2].comment = longc;
    m.custody = c;
    render(&m, REPORT_LANG_EN, &pdf, &len);
    free(pdf);
    struct report_alarm *many = calloc(300, sizeof *many);
    assert_non_null(many);
    for (int i = 0; i < 300; i++)
        many[i] = f->alarms[i % 2];
    m.alarms = many;
    m.n_alarms = 300;
    render(&m, REPORT_LANG_KK, &pdf, &len);
    free(pdf);
    free(many);
}

/* cells are cut on a character boundary and say so; never invalid UTF-8 */
static void cells_cut_on_characters(void **state)
{
    (void)state;
    static char big[3 * RP_CELL_MAX], out[RP_CELL_MAX];
    size_t o = 0;
    while (o + 2 < sizeof big - 1) {
        memcpy(big + o, "ә", 2); /* 2 bytes each */
        o += 2;
    }
    big[o] = '\0';
    for (int shift = 0; shift < 2; shift++) {
        const char *cut = report_layout__cell(out, big + shift); /* shift 1: starts mid-char */
        size_t n = strlen(cut);
        assert_true(n < RP_CELL_MAX);
        assert_string_equal(cut + n - 3, "…");
        if (shift == 0)
            assert_true(g_utf8_validate(cut, -1, NULL));
    }
    assert_string_equal(report_layout__cell(out, "short"), "short");
    assert_string_equal(report_layout__cell(out, NULL), "—");
    assert_int_equal(report_layout__u8len("әә", 3), 2); /* not 3: that would split ә */
    assert_int_equal(report_layout__u8len("әә", 4), 4);
    assert_int_equal(report_layout__u8len("abc", 2), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(stats_match_independent_values, setup, teardown),
        cmocka_unit_test(mkt_of_known_series),
        cmocka_unit_test(stats_refuse_bad_input),
        cmocka_unit_test_setup_teardown(three_languages_same_bytes_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(new_entry_changes_the_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_models_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(empty_and_hostile_models_render, setup, teardown),
        cmocka_unit_test(cells_cut_on_characters),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    report_pdf_thread_cleanup();
    return failed;
}
