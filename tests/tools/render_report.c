/* render_report - writes the PDF report of the built-in heart fixture
 * (report_fixture.h), for tests/integration/report_pdf.py and
 * bench/report.sh. Not installed.
 *
 *   render_report [--lang kk|ru|en] [--readings N --interval-ms MS]
 *                 [--add-signature] [--model-json FILE] [--bench RUNS]
 *                 [--font-dir DIR] OUT.pdf
 *
 * Prints "sha256=HEX bytes=N pages?" on success. --model-json writes what
 * a checker needs to recompute and find (readings, parties, signers, head).
 * --bench renders RUNS times and prints each time and the median. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report.h"
#include "report_fixture.h"

static int usage(void)
{
    fprintf(stderr, "usage: render_report [--lang kk|ru|en] [--readings N --interval-ms MS] "
                    "[--add-signature] [--model-json FILE] [--bench RUNS] [--font-dir DIR] "
                    "OUT.pdf\n");
    return 2;
}

static int parse_size(const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static cJSON *str_or_null(const char *s)
{
    return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static int write_model(const struct report_model *m, const char *path)
{
    cJSON *o = cJSON_CreateObject(), *rd = cJSON_CreateArray(), *cu = cJSON_CreateArray(),
          *sg = cJSON_CreateArray();
    if (!o || !rd || !cu || !sg)
        return -1;
    cJSON_AddStringToObject(o, "donation_code", m->donation_code);
    cJSON_AddNumberToObject(o, "band_min_c", m->band_min_c);
    cJSON_AddNumberToObject(o, "band_max_c", m->band_max_c);
    cJSON_AddStringToObject(o, "head_hash", m->head_hash);
    cJSON_AddStringToObject(o, "public_key", m->public_key);
    cJSON_AddNumberToObject(o, "n_custody", (double)m->n_custody);
    for (size_t i = 0; i < m->n_readings; i++) {
        cJSON *r = cJSON_CreateArray();
        cJSON_AddItemToArray(r, cJSON_CreateNumber((double)m->readings[i].ts));
        cJSON_AddItemToArray(r, cJSON_CreateNumber(m->readings[i].temp_c)); /* NaN -> null */
        cJSON_AddItemToArray(rd, r);
    }
    for (size_t i = 0; i < m->n_custody; i++) {
        const struct report_custody *c = &m->custody[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddItemToObject(e, "type", str_or_null(c->type));
        cJSON_AddItemToObject(e, "from", str_or_null(c->from));
        cJSON_AddItemToObject(e, "to", str_or_null(c->to));
        cJSON_AddItemToObject(e, "witness", str_or_null(c->witness));
        cJSON_AddItemToObject(e, "seal", str_or_null(c->seal));
        cJSON_AddItemToObject(e, "hash", str_or_null(c->hash));
        cJSON_AddItemToArray(cu, e);
    }
    for (size_t i = 0; i < m->n_signatures; i++) {
        cJSON *s = cJSON_CreateObject();
        cJSON_AddItemToObject(s, "name", str_or_null(m->signatures[i].name));
        cJSON_AddItemToObject(s, "meaning", str_or_null(m->signatures[i].meaning));
        cJSON_AddItemToArray(sg, s);
    }
    cJSON_AddItemToObject(o, "readings", rd);
    cJSON_AddItemToObject(o, "custody", cu);
    cJSON_AddItemToObject(o, "signatures", sg);
    char *txt = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    FILE *f = txt ? fopen(path, "w") : NULL;
    int rc = f && fputs(txt, f) >= 0 ? 0 : -1;
    if (f && fclose(f))
        rc = -1;
    free(txt);
    return rc;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int run(int argc, char **argv)
{
    enum report_lang lang = REPORT_LANG_EN;
    long long n = 0, interval = 1000, runs = 0;
    int add_sig = 0;
    const char *model_json = NULL, *font_dir = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--lang") == 0 && v) {
            if (report_lang_parse(v, &lang))
                return usage();
            i++;
        } else if (strcmp(a, "--readings") == 0 && v) {
            if (parse_size(v, 1, REPORT_MAX_READINGS, &n))
                return usage();
            i++;
        } else if (strcmp(a, "--interval-ms") == 0 && v) {
            if (parse_size(v, 1, 86400000, &interval))
                return usage();
            i++;
        } else if (strcmp(a, "--bench") == 0 && v) {
            if (parse_size(v, 1, 100, &runs))
                return usage();
            i++;
        } else if (strcmp(a, "--model-json") == 0 && v) {
            model_json = argv[++i];
        } else if (strcmp(a, "--font-dir") == 0 && v) {
            font_dir = argv[++i];
        } else if (strcmp(a, "--add-signature") == 0) {
            add_sig = 1;
        } else if (a[0] != '-' && !out) {
            out = a;
        } else {
            return usage();
        }
    }
    if (!out)
        return usage();
    struct report_fixture fx;
    if (report_fixture_heart(&fx, (size_t)n, interval) ||
        (add_sig && report_fixture_add_signature(&fx, "Gulnara Tulegenova", "reviewed",
                                                 "Second review after the audit.")))
        return 1;
    if (model_json && write_model(&fx.m, model_json)) {
        fprintf(stderr, "render_report: cannot write %s\n", model_json);
        return 1;
    }
    unsigned char *pdf = NULL;
    size_t len = 0;
    double times[100];
    int rounds = runs ? (int)runs : 1;
    for (int r = 0; r < rounds; r++) {
        free(pdf);
        double t0 = now_s();
        enum ot_err rc = report_pdf_render(&fx.m, lang, font_dir, &pdf, &len);
        times[r] = now_s() - t0;
        if (rc) {
            fprintf(stderr, "render_report: %s\n", ot_strerror(rc));
            report_fixture_free(&fx);
            return 1;
        }
        if (runs)
            printf("run %d: %.3f s\n", r + 1, times[r]);
    }
    if (runs) {
        qsort(times, (size_t)rounds, sizeof times[0], cmp_d);
        printf("median of %d: %.3f s (%zu readings, %zu bytes)\n", rounds, times[rounds / 2],
               fx.m.n_readings, len);
    }
    char hex[65];
    FILE *f = fopen(out, "wb");
    int ok = f && fwrite(pdf, 1, len, f) == len;
    if (f && fclose(f))
        ok = 0;
    if (!ok || report_pdf_sha256_hex(pdf, len, hex)) {
        fprintf(stderr, "render_report: cannot write %s\n", out);
        free(pdf);
        report_fixture_free(&fx);
        return 1;
    }
    printf("sha256=%s bytes=%zu\n", hex, len);
    free(pdf);
    report_fixture_free(&fx);
    return 0;
}

int main(int argc, char **argv)
{
    int rc = run(argc, argv);
    report_pdf_thread_cleanup(); /* the font map, for leak checkers */
    return rc;
}
