/* test_preservation.c - loader of config/preservation.json: the shipped file,
 * layering (defaults, base profile, mode variant) and hostile files whose
 * errors must name the file and the key. */
/* cmocka needs these first, in this order */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ot_preservation.h"

static char path[64];
static char err[1024];

/* A defaults block that sources every field (profiles then only set the band). */
#define DEFAULTS                                                                                   \
    "\"defaults\":{\"temp_min_c\":2,\"temp_max_c\":8,\"excursion_grace_s\":300,"                   \
    "\"max_cold_ischemia_min\":600,\"warn_fraction\":0.8,\"shock_max_g\":3,"                       \
    "\"lid_open_max_s\":120,\"hysteresis_c\":0.5,\"battery_low_pct\":20,"                          \
    "\"gnss_lost_s\":600,\"sensor_silent_s\":180,\"escalate_after_s\":600,"                        \
    "\"forecast_horizon_s\":1800,\"sources\":{\"temp_min_c\":\"src a\",\"temp_max_c\":"            \
    "\"src b\",\"excursion_grace_s\":\"src c\",\"max_cold_ischemia_min\":\"src d\","               \
    "\"warn_fraction\":\"src e\",\"shock_max_g\":\"src f\",\"lid_open_max_s\":\"src g\","          \
    "\"hysteresis_c\":\"src h\",\"battery_low_pct\":\"src i\",\"gnss_lost_s\":\"src j\","          \
    "\"sensor_silent_s\":\"src k\",\"escalate_after_s\":\"src l\","                                \
    "\"forecast_horizon_s\":\"src m\"}}"

static void write_file(const char *text)
{
    snprintf(path, sizeof path, "/tmp/ot_pres_test_%d.json", (int)getpid());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Loads text; expects failure with an error that names the file and holds want. */
static void expect_fail(const char *text, const char *want)
{
    struct ot_preservation_set *set = (void *)1;
    write_file(text);
    err[0] = '\0';
    assert_int_not_equal(ot_preservation_load(path, &set, err, sizeof err), OT_OK);
    assert_null(set);
    if (!strstr(err, path) || !strstr(err, want))
        fail_msg("error \"%s\" lacks \"%s\"", err, want);
    unlink(path);
}

static void shipped_file_has_all_types(void **state)
{
    (void)state;
    struct ot_preservation_set *set = NULL;
    enum ot_err rc =
        ot_preservation_load(OT_SOURCE_DIR "/config/preservation.json", &set, err, sizeof err);
    if (rc)
        fail_msg("%s", err);
    static const char *const types[] = {"heart",  "lung",          "liver",
                                        "kidney", "pancreas",      "intestine",
                                        "cornea", "frozen_tissue", "cryopreserved_tissue"};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        const struct ot_preservation *p = ot_preservation_find(set, types[i]);
        if (!p)
            fail_msg("profile %s missing", types[i]);
        assert_true(p->temp_min_c < p->temp_max_c);
        assert_true(p->warn_fraction > 0 && p->warn_fraction < 1);
    }
    assert_true(ot_preservation_count(set) >= 9);
    const struct ot_preservation *heart = ot_preservation_find(set, "heart");
    assert_true(heart->temp_min_c == 2.0 && heart->temp_max_c == 8.0);
    assert_int_equal(heart->max_cold_ischemia_min, 360);
    assert_int_equal(heart->escalate_after_s, 300);
    assert_int_equal(heart->gnss_lost_s, 600); /* from defaults */
    const struct ot_preservation *kidney = ot_preservation_find(set, "kidney");
    assert_int_equal(kidney->max_cold_ischemia_min, 2160);
    /* the variant inherits the base profile and overrides the band */
    const struct ot_preservation *hmp =
        ot_preservation_find(set, "kidney/hypothermic_machine_perfusion");
    assert_non_null(hmp);
    assert_true(hmp->temp_min_c == 1.0);
    assert_int_equal(hmp->max_cold_ischemia_min, 2160);
    assert_int_equal(hmp->excursion_grace_s, 600);
    assert_true(ot_preservation_find(set, "cornea")->temp_max_c == 8.0);
    assert_true(ot_preservation_find(set, "cryopreserved_tissue")->temp_max_c <= -135.0);
    assert_int_equal(ot_preservation_find(set, "frozen_tissue")->max_cold_ischemia_min, 0);
    assert_null(ot_preservation_find(set, "spleen"));
    for (size_t i = 0; i < ot_preservation_count(set); i++)
        assert_non_null(ot_preservation_at(set, i));
    assert_null(ot_preservation_at(set, ot_preservation_count(set)));
    ot_preservation_free(set);
}

static void good_file_layers(void **state)
{
    (void)state;
    struct ot_preservation_set *set = NULL;
    write_file("{\"version\":1,\"future_key\":true," DEFAULTS ",\"profiles\":{"
               "\"kidney\":{\"max_cold_ischemia_min\":2160,\"sources\":{"
               "\"max_cold_ischemia_min\":\"textbook\"},\"notes\":\"n\"},"
               "\"kidney/hmp\":{\"temp_min_c\":1,\"sources\":{\"temp_min_c\":\"device\"}},"
               "\"heart\":{\"temp_max_c\":6,\"sources\":{\"temp_max_c\":\"x y z\"}}}}");
    assert_int_equal(ot_preservation_load(path, &set, err, sizeof err), OT_OK);
    assert_int_equal(ot_preservation_count(set), 3);
    const struct ot_preservation *v = ot_preservation_find(set, "kidney/hmp");
    assert_string_equal(v->name, "kidney/hmp");
    assert_true(v->temp_min_c == 1.0 && v->temp_max_c == 8.0);
    assert_int_equal(v->max_cold_ischemia_min, 2160);
    assert_int_equal(ot_preservation_find(set, "heart")->max_cold_ischemia_min, 600);
    assert_true(ot_preservation_find(set, "heart")->temp_max_c == 6.0);
    ot_preservation_free(set);
    ot_preservation_free(NULL);
    assert_null(ot_preservation_find(NULL, "heart"));
    assert_int_equal(ot_preservation_count(NULL), 0);
    unlink(path);
}

static void hostile_files(void **state)
{
    (void)state;
    /* malformed JSON names the line */
    expect_fail("{\n\"profiles\": {\n\"heart\": {,}\n}}", "line 3: malformed JSON");
    expect_fail("[1,2]", "expected a JSON object");
    expect_fail("{\"defaults\":{}}", "profiles: required object is missing");
    expect_fail("{\"profiles\":[]}", "profiles: expected an object");
    expect_fail("{\"profiles\":{}}", "profiles: expected 1..");
    /* missing key: no default either */
    expect_fail(
        "{\"profiles\":{\"heart\":{\"temp_min_c\":2,\"sources\":{\"temp_min_c\":\"abcd\"}}}}",
        "profiles.heart.temp_max_c: required number is missing");
    /* wrong type */
    expect_fail("{" DEFAULTS ",\"profiles\":{\"heart\":{\"temp_min_c\":\"cold\"}}}",
                "profiles.heart.temp_min_c: expected a number");
    expect_fail("{" DEFAULTS ",\"profiles\":{\"heart\":{\"excursion_grace_s\":1.5,"
                "\"sources\":{\"excursion_grace_s\":\"abcd\"}}}}",
                "profiles.heart.excursion_grace_s: expected an integer 0..86400");
    expect_fail("{" DEFAULTS ",\"profiles\":{\"heart\":{\"lid_open_max_s\":-1}}}",
                "profiles.heart.lid_open_max_s: expected an integer");
    expect_fail("{" DEFAULTS ",\"profiles\":{\"heart\":7}}", "profiles.heart: expected an object");
    /* min >= max */
    expect_fail("{" DEFAULTS ",\"profiles\":{\"heart\":{\"temp_min_c\":8,\"sources\":{"
                "\"temp_min_c\":\"abcd\"}}}}",
                "profiles.heart.temp_min_c: must be below temp_max_c");
    expect_fail("{" DEFAULTS ",\"profiles\":{\"heart\":{\"hysteresis_c\":3,\"sources\":{"
                "\"hysteresis_c\":\"abcd\"}}}}",
                "profiles.heart.hysteresis_c: must be below half the band");
    /* unknown keys inside profiles, defaults and sources */
    expect_fail("{" DEFAULTS ",\"profiles\":{\"heart\":{\"colour\":\"red\"}}}",
                "profiles.heart.colour: unknown key");
    expect_fail("{\"defaults\":{\"temp_mni_c\":2},\"profiles\":{\"heart\":{}}}",
                "defaults.temp_mni_c: unknown key");
    expect_fail("{" DEFAULTS ",\"profiles\":{\"heart\":{\"sources\":{\"colour\":\"abcd\"}}}}",
                "profiles.heart.sources.colour: unknown key");
    /* every number needs its source, a new value a new source */
    expect_fail("{" DEFAULTS ",\"profiles\":{\"heart\":{\"temp_max_c\":6}}}",
                "profiles.heart.temp_max_c: value has no published source");
    expect_fail("{" DEFAULTS ",\"profiles\":{\"heart\":{\"sources\":{\"temp_max_c\":7}}}}",
                "profiles.heart.sources.temp_max_c: expected a citation string");
    /* names and variants */
    expect_fail("{" DEFAULTS ",\"profiles\":{\"spleen/hmp\":{}}}",
                "mode variant of unknown profile \"spleen\"");
    expect_fail("{" DEFAULTS ",\"profiles\":{\"Heart\":{}}}", "profiles.Heart: profile name");
    expect_fail("{" DEFAULTS ",\"profiles\":{\"heart\":{},\"heart\":{}}}",
                "profiles.heart: duplicate profile");
    /* unreadable file */
    struct ot_preservation_set *set = NULL;
    assert_int_not_equal(ot_preservation_load("/nonexistent/p.json", &set, err, sizeof err), OT_OK);
    assert_non_null(strstr(err, "/nonexistent/p.json: cannot read"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shipped_file_has_all_types),
        cmocka_unit_test(good_file_layers),
        cmocka_unit_test(hostile_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
