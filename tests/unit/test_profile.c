/* Unit tests for device profiles: known register contents decode to known
 * values for every type and word order (signed, float, scale, offset);
 * encode/decode round-trips; hostile profile files are refused with a
 * message naming the file and the key; the shipped profiles load. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ot_profile.h"

/* cmocka's assert_float_equal compares as float; these values need double. */
#define assert_dbl(a, b, eps)                                                                      \
    do {                                                                                           \
        double a_ = (a), b_ = (b);                                                                 \
        if (!(fabs(a_ - b_) <= (eps)))                                                             \
            fail_msg("%s = %.12g, expected %.12g (+-%g)", #a, a_, b_, (double)(eps));              \
    } while (0)

#ifndef OT_SOURCE_DIR
#define OT_SOURCE_DIR "."
#endif

static struct ot_profile_channel mk(enum ot_reg_type t, int little, double scale, double offset)
{
    struct ot_profile_channel c;
    memset(&c, 0, sizeof c);
    snprintf(c.name, sizeof c.name, "x");
    c.function = t == OT_T_BOOL ? OT_FN_COIL : OT_FN_HOLDING;
    c.type = t;
    c.word_order_little = little;
    c.scale = scale;
    c.offset = offset;
    return c;
}

static void decode_known(void **state)
{
    (void)state;
    struct ot_profile_channel c;
    uint16_t r[2];

    c = mk(OT_T_U16, 0, 1, 0);
    r[0] = 0xFFFF;
    assert_dbl(ot_profile_decode(&c, r), 65535.0, 0);
    c = mk(OT_T_I16, 0, 1, 0);
    assert_dbl(ot_profile_decode(&c, r), -1.0, 0);
    /* XY-MD02 style: -12.5 degC is 0xFF83 (-125) at x0.1 */
    c = mk(OT_T_I16, 0, 0.1, 0);
    r[0] = 0xFF83;
    assert_dbl(ot_profile_decode(&c, r), -12.5, 1e-9);
    r[0] = 0x8000;
    assert_dbl(ot_profile_decode(&c, r), -3276.8, 1e-9);
    /* offset: raw 500 * 0.01 - 40 = -35 */
    c = mk(OT_T_U16, 0, 0.01, -40);
    r[0] = 500;
    assert_dbl(ot_profile_decode(&c, r), -35.0, 1e-9);

    /* u32 0x12345678 = 305419896 */
    c = mk(OT_T_U32, 0, 1, 0);
    r[0] = 0x1234;
    r[1] = 0x5678;
    assert_dbl(ot_profile_decode(&c, r), 305419896.0, 0);
    c = mk(OT_T_U32, 1, 1, 0);
    r[0] = 0x5678;
    r[1] = 0x1234;
    assert_dbl(ot_profile_decode(&c, r), 305419896.0, 0);
    r[0] = 0xFFFF;
    r[1] = 0xFFFF;
    assert_dbl(ot_profile_decode(&c, r), 4294967295.0, 0);

    /* i32: -1, and longitude 51.3667 as 513667000 * 1e-7 (0x1E9DEFB8) */
    c = mk(OT_T_I32, 0, 1, 0);
    r[0] = 0xFFFF;
    r[1] = 0xFFFF;
    assert_dbl(ot_profile_decode(&c, r), -1.0, 0);
    r[0] = 0x8000;
    r[1] = 0x0000;
    assert_dbl(ot_profile_decode(&c, r), -2147483648.0, 0);
    c = mk(OT_T_I32, 0, 1e-7, 0);
    r[0] = 0x1E9D;
    r[1] = 0xEFB8;
    assert_dbl(ot_profile_decode(&c, r), 51.3667, 1e-9);
    c = mk(OT_T_I32, 1, 1e-7, 0);
    r[0] = 0xEFB8;
    r[1] = 0x1E9D;
    assert_dbl(ot_profile_decode(&c, r), 51.3667, 1e-9);
    /* -51.3667: two's complement of 0x1E9DEFB8 is 0xE1621048 */
    r[0] = 0x1048;
    r[1] = 0xE162;
    assert_dbl(ot_profile_decode(&c, r), -51.3667, 1e-9);

    /* f32, exact: 1.5f = 0x3FC00000, -2.25f = 0xC0100000 */
    c = mk(OT_T_F32, 0, 1, 0);
    r[0] = 0x3FC0;
    r[1] = 0x0000;
    assert_dbl(ot_profile_decode(&c, r), 1.5, 0);
    c = mk(OT_T_F32, 1, 1, 0);
    r[0] = 0x0000;
    r[1] = 0xC010;
    assert_dbl(ot_profile_decode(&c, r), -2.25, 0);
    /* 51.15 as f32 = 0x424C999A */
    c = mk(OT_T_F32, 0, 1, 0);
    r[0] = 0x424C;
    r[1] = 0x999A;
    assert_dbl(ot_profile_decode(&c, r), 51.15, 1e-5);

    c = mk(OT_T_BOOL, 0, 1, 0);
    r[0] = 1;
    assert_dbl(ot_profile_decode(&c, r), 1.0, 0);
    r[0] = 0;
    assert_dbl(ot_profile_decode(&c, r), 0.0, 0);
    c.function = OT_FN_HOLDING; /* a register used as a flag: non-zero is true */
    r[0] = 0x0100;
    assert_dbl(ot_profile_decode(&c, r), 1.0, 0);
}

static void encode_known(void **state)
{
    (void)state;
    struct ot_profile_channel c;
    uint16_t r[2];
    c = mk(OT_T_I16, 0, 0.01, 0);
    ot_profile_encode(&c, -3.21, r);
    assert_int_equal(r[0], 0xFEBF);   /* -321 */
    ot_profile_encode(&c, 1000.0, r); /* 100000 clamps to 32767 */
    assert_int_equal(r[0], 0x7FFF);
    ot_profile_encode(&c, -1000.0, r);
    assert_int_equal(r[0], 0x8000);
    ot_profile_encode(&c, NAN, r);
    assert_int_equal(r[0], 0);
    c = mk(OT_T_U16, 0, 1, 0);
    ot_profile_encode(&c, -5, r);
    assert_int_equal(r[0], 0);
    ot_profile_encode(&c, 70000, r);
    assert_int_equal(r[0], 65535);
    c = mk(OT_T_U32, 0, 1, 0);
    ot_profile_encode(&c, 305419896.0, r);
    assert_int_equal(r[0], 0x1234);
    assert_int_equal(r[1], 0x5678);
    c.word_order_little = 1;
    ot_profile_encode(&c, 305419896.0, r);
    assert_int_equal(r[0], 0x5678);
    assert_int_equal(r[1], 0x1234);
    c = mk(OT_T_I32, 1, 1e-7, 0);
    ot_profile_encode(&c, -51.3667, r);
    assert_int_equal(r[0], 0x1048);
    assert_int_equal(r[1], 0xE162);
    c = mk(OT_T_F32, 0, 1, 0);
    ot_profile_encode(&c, 1.5, r);
    assert_int_equal(r[0], 0x3FC0);
    assert_int_equal(r[1], 0x0000);
    c.word_order_little = 1;
    ot_profile_encode(&c, -2.25, r);
    assert_int_equal(r[0], 0x0000);
    assert_int_equal(r[1], 0xC010);
    c = mk(OT_T_BOOL, 0, 1, 0);
    ot_profile_encode(&c, 1.0, r);
    assert_int_equal(r[0], 1);
    ot_profile_encode(&c, 0.0, r);
    assert_int_equal(r[0], 0);
}

static void roundtrip(void **state)
{
    (void)state;
    static const struct {
        enum ot_reg_type t;
        double scale, offset, lo, hi;
    } cases[] = {
        {OT_T_U16, 1, 0, 0, 65535},        {OT_T_U16, 0.1, -40, -40, 6000},
        {OT_T_I16, 0.01, 0, -327, 327},    {OT_T_I16, 0.1, 0, -3276, 3276},
        {OT_T_U32, 1, 0, 0, 4e9},          {OT_T_I32, 1e-7, 0, -180, 180},
        {OT_T_I32, 0.001, 100, -1e6, 1e6}, {OT_T_F32, 1, 0, -1e4, 1e4},
        {OT_T_F32, 2.0, 5.0, -1e3, 1e3},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        for (int little = 0; little < 2; little++) {
            struct ot_profile_channel c = mk(cases[k].t, little, cases[k].scale, cases[k].offset);
            double tol = cases[k].t == OT_T_F32 ? 1e-3 : fabs(cases[k].scale) / 2 + 1e-9;
            for (int i = 0; i <= 100; i++) {
                double v = cases[k].lo + (cases[k].hi - cases[k].lo) * i / 100.0;
                uint16_t r[2] = {0, 0};
                ot_profile_encode(&c, v, r);
                double d = ot_profile_decode(&c, r);
                if (fabs(d - v) > tol)
                    fail_msg("type %d little %d v %.9g decoded %.9g", (int)cases[k].t, little, v,
                             d);
            }
        }
    }
}

static char tmpdir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ot_profile_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

#define HDR "{\"name\":\"t\",\"source\":\"test\",\"channels\":["

static void load_good(void **state)
{
    (void)state;
    struct ot_profile p;
    char err[512] = "";
    write_file("good.json",
               HDR "{\"name\":\"temp\",\"function\":\"input\",\"address\":1,\"type\":\"i16\","
                   "\"scale\":0.1,\"unit\":\"\xc2\xb0"
                   "C\"},"
                   "{\"name\":\"lat\",\"function\":\"holding\",\"address\":10,\"type\":\"f32\","
                   "\"word_order\":\"little\"},"
                   "{\"name\":\"n\",\"function\":\"holding\",\"address\":12,\"type\":\"u32\"},"
                   "{\"name\":\"lid\",\"function\":\"discrete\",\"address\":0,\"type\":\"bool\"},"
                   "{\"name\":\"top\",\"function\":\"input\",\"address\":65534,\"type\":\"i32\","
                   "\"offset\":-5}]}");
    assert_int_equal(ot_profile_load("good", tmpdir, &p, err, sizeof err), OT_OK);
    assert_string_equal(p.name, "t");
    assert_int_equal(p.n, 5);
    assert_int_equal(p.ch[0].function, OT_FN_INPUT);
    assert_int_equal(p.ch[0].type, OT_T_I16);
    assert_int_equal(p.ch[0].address, 1);
    assert_dbl(p.ch[0].scale, 0.1, 0);
    assert_dbl(p.ch[0].offset, 0, 0);
    assert_string_equal(p.ch[0].unit, "\xc2\xb0"
                                      "C");
    assert_int_equal(p.ch[1].word_order_little, 1);
    assert_int_equal(ot_profile_channel_width(&p.ch[1]), 2);
    assert_int_equal(p.ch[2].word_order_little, 0); /* default big */
    assert_dbl(p.ch[2].scale, 1.0, 0);
    assert_int_equal(p.ch[3].type, OT_T_BOOL);
    assert_int_equal(ot_profile_channel_width(&p.ch[3]), 1);
    assert_dbl(p.ch[4].offset, -5, 0);
    assert_int_equal(p.ch[3].output, OT_OUT_NONE);
    /* an alarm output is a coil */
    write_file("out.json", HDR "{\"name\":\"buzzer\",\"function\":\"coil\",\"address\":3,"
                               "\"type\":\"bool\",\"output\":\"alarm\"}]}");
    assert_int_equal(ot_profile_load("out", tmpdir, &p, err, sizeof err), OT_OK);
    assert_int_equal(p.ch[0].output, OT_OUT_ALARM);
    /* and by path */
    char path[256];
    snprintf(path, sizeof path, "%s/good.json", tmpdir);
    assert_int_equal(ot_profile_load(path, NULL, &p, err, sizeof err), OT_OK);
}

static void expect_bad(const char *body, const char *key_fragment)
{
    struct ot_profile p;
    char err[512] = "";
    write_file("bad.json", body);
    enum ot_err rc = ot_profile_load("bad", tmpdir, &p, err, sizeof err);
    if (rc == OT_OK)
        fail_msg("accepted: %s", body);
    if (!strstr(err, "bad.json") || !strstr(err, key_fragment))
        fail_msg("message \"%s\" lacks file or \"%s\"", err, key_fragment);
    assert_int_equal(p.n, 0);
}

#define CH(x) HDR "{\"name\":\"a\",\"function\":\"holding\",\"address\":0,\"type\":\"u16\"" x "}]}"

static void load_hostile(void **state)
{
    (void)state;
    expect_bad("", "malformed");
    expect_bad("{\"name\":\"t\",\"source\":\"s\",\"channels\":[", "malformed");
    expect_bad("[]", "object");
    expect_bad("{\"source\":\"s\",\"channels\":[]}", "name");
    expect_bad("{\"name\":\"t\",\"channels\":[]}", "source");
    expect_bad("{\"name\":\"t\",\"source\":\"s\"}", "channels");
    expect_bad("{\"name\":\"t\",\"source\":\"s\",\"channels\":{}}", "channels");
    expect_bad("{\"name\":\"t\",\"source\":\"s\",\"channels\":[]}", "channels");
    expect_bad(HDR "1]}", "channels[0]");
    expect_bad(CH(",\"output\":\"alarm\""), "channels[0].output"); /* a holding register */
    expect_bad(HDR "{\"name\":\"b\",\"function\":\"coil\",\"address\":0,\"type\":\"bool\","
                   "\"output\":\"siren\"}]}",
               "channels[0].output");
    expect_bad(HDR "{\"name\":\"a\",\"function\":\"register\",\"address\":0,\"type\":\"u16\"}]}",
               "channels[0].function");
    expect_bad(HDR "{\"name\":\"a\",\"address\":0,\"type\":\"u16\"}]}", "channels[0].function");
    expect_bad(HDR "{\"name\":\"a\",\"function\":\"input\",\"type\":\"u16\"}]}",
               "channels[0].address");
    expect_bad(HDR "{\"name\":\"a\",\"function\":\"input\",\"address\":-1,\"type\":\"u16\"}]}",
               "channels[0].address");
    expect_bad(HDR "{\"name\":\"a\",\"function\":\"input\",\"address\":65536,\"type\":\"u16\"}]}",
               "channels[0].address");
    expect_bad(HDR "{\"name\":\"a\",\"function\":\"input\",\"address\":1.5,\"type\":\"u16\"}]}",
               "channels[0].address");
    expect_bad(HDR "{\"name\":\"a\",\"function\":\"input\",\"address\":\"1\",\"type\":\"u16\"}]}",
               "channels[0].address");
    expect_bad(HDR "{\"name\":\"a\",\"function\":\"input\",\"address\":65535,\"type\":\"f32\"}]}",
               "channels[0].address");
    expect_bad(HDR "{\"name\":\"a\",\"function\":\"input\",\"address\":1,\"type\":\"float\"}]}",
               "channels[0].type");
    expect_bad(HDR "{\"name\":\"a\",\"function\":\"coil\",\"address\":1,\"type\":\"u16\"}]}",
               "channels[0].type");
    expect_bad(CH(",\"word_order\":\"big\""), "channels[0].word_order");
    expect_bad(HDR "{\"name\":\"a\",\"function\":\"input\",\"address\":1,\"type\":\"u32\","
                   "\"word_order\":\"middle\"}]}",
               "channels[0].word_order");
    expect_bad(CH(",\"scale\":0"), "channels[0].scale");
    expect_bad(CH(",\"scale\":\"x\""), "channels[0].scale");
    expect_bad(CH(",\"offset\":true"), "channels[0].offset");
    expect_bad(CH(",\"unit\":\"a very long unit string\""), "channels[0].unit");
    expect_bad(CH(",\"wordorder\":\"big\""), "channels[0].wordorder");
    expect_bad(HDR "{\"name\":\"a b\",\"function\":\"input\",\"address\":1,\"type\":\"u16\"}]}",
               "channels[0].name");
    expect_bad(HDR "{\"name\":\"a\",\"function\":\"input\",\"address\":1,\"type\":\"u16\"},"
                   "{\"name\":\"a\",\"function\":\"input\",\"address\":2,\"type\":\"u16\"}]}",
               "channels[1].name");
    expect_bad(HDR "{\"name\":\"a\",\"function\":\"input\",\"address\":1,\"type\":\"u32\"},"
                   "{\"name\":\"b\",\"function\":\"input\",\"address\":2,\"type\":\"u16\"}]}",
               "channels[1].address");
    expect_bad(HDR "{\"name\":\"a\",\"function\":\"coil\",\"address\":1,\"type\":\"bool\","
                   "\"scale\":2}]}",
               "channels[0].scale");
    /* too many channels */
    char big[8192];
    size_t off = (size_t)snprintf(big, sizeof big, HDR);
    for (int i = 0; i < OT_PROFILE_MAX_CHANNELS + 1; i++)
        off += (size_t)snprintf(big + off, sizeof big - off,
                                "%s{\"name\":\"c%d\",\"function\":\"input\",\"address\":%d,"
                                "\"type\":\"u16\"}",
                                i ? "," : "", i, i);
    snprintf(big + off, sizeof big - off, "]}");
    expect_bad(big, "channels");

    /* larger than the config cap */
    {
        char path[256];
        snprintf(path, sizeof path, "%s/huge.json", tmpdir);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        for (int i = 0; i < 1100 * 1024 / 16; i++)
            fputs("                ", f);
        fclose(f);
        struct ot_profile hp;
        char herr[512] = "";
        assert_int_not_equal(ot_profile_load("huge", tmpdir, &hp, herr, sizeof herr), OT_OK);
        assert_non_null(strstr(herr, "huge.json"));
    }
    /* same address in different tables is fine */
    struct ot_profile p;
    char err[512] = "";
    write_file("ok2.json", HDR "{\"name\":\"a\",\"function\":\"input\",\"address\":1,\"type\":"
                               "\"u16\"},{\"name\":\"b\",\"function\":\"holding\",\"address\":1,"
                               "\"type\":\"u16\"}]}");
    assert_int_equal(ot_profile_load("ok2", tmpdir, &p, err, sizeof err), OT_OK);
    /* missing file, bare names that try to escape */
    assert_int_not_equal(ot_profile_load("nope", tmpdir, &p, err, sizeof err), OT_OK);
    assert_non_null(strstr(err, "nope.json"));
    assert_int_not_equal(ot_profile_load("..", tmpdir, &p, err, sizeof err), OT_OK);
    assert_int_not_equal(ot_profile_load("", tmpdir, &p, err, sizeof err), OT_OK);
    assert_int_not_equal(ot_profile_load("a b", tmpdir, &p, err, sizeof err), OT_OK);
}

static const struct ot_profile_channel *find(const struct ot_profile *p, const char *name)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->ch[i].name, name) == 0)
            return &p->ch[i];
    fail_msg("channel %s missing in %s", name, p->name);
    return NULL;
}

/* The shipped profiles load and decode known register contents right. */
static void shipped_profiles(void **state)
{
    (void)state;
    struct ot_profile p;
    char err[512] = "";
    const char *dir = OT_SOURCE_DIR "/sensors/profiles";
    uint16_t r[2];

    if (ot_profile_load("xy-md02", dir, &p, err, sizeof err) != OT_OK)
        fail_msg("%s", err);
    const struct ot_profile_channel *c = find(&p, "temperature");
    assert_int_equal(c->function, OT_FN_INPUT);
    assert_int_equal(c->address, 1);
    r[0] = 0xFF33; /* the manual's example: -20.5 degC */
    assert_dbl(ot_profile_decode(c, r), -20.5, 1e-9);
    r[0] = 0x0131;
    assert_dbl(ot_profile_decode(c, r), 30.5, 1e-9);
    c = find(&p, "humidity");
    assert_int_equal(c->address, 2);
    r[0] = 0x0222;
    assert_dbl(ot_profile_decode(c, r), 54.6, 1e-9);

    if (ot_profile_load("teltonika-rut955", dir, &p, err, sizeof err) != OT_OK)
        fail_msg("%s", err);
    c = find(&p, "latitude");
    assert_int_equal(c->function, OT_FN_HOLDING);
    assert_int_equal(c->address, 143);
    assert_int_equal(c->type, OT_T_F32);
    assert_int_equal(c->word_order_little, 0);
    r[0] = 0x424C; /* 51.15f = 0x424C999A, high word first */
    r[1] = 0x999A;
    assert_dbl(ot_profile_decode(c, r), 51.15, 1e-5);
    assert_int_equal(find(&p, "longitude")->address, 145);
    c = find(&p, "satellites");
    r[0] = 0;
    r[1] = 9;
    assert_dbl(ot_profile_decode(c, r), 9.0, 0);

    if (ot_profile_load("organtrack-module", dir, &p, err, sizeof err) != OT_OK)
        fail_msg("%s", err);
    static const char *const canon[] = {"temp_c",   "temp2_c", "ambient_c",   "lat",
                                        "lon",      "alt_m",   "speed_kmh",   "heading_deg",
                                        "lid_open", "shock_g", "battery_pct", "gnss_fix"};
    for (size_t i = 0; i < sizeof canon / sizeof canon[0]; i++)
        (void)find(&p, canon[i]);
    c = find(&p, "temp_c");
    r[0] = 0xFE70; /* -400 * 0.01 */
    assert_dbl(ot_profile_decode(c, r), -4.0, 1e-9);
    c = find(&p, "lon");
    r[0] = 0x1E9D; /* 51.3667 as i32 1e-7, big word order */
    r[1] = 0xEFB8;
    assert_dbl(ot_profile_decode(c, r), 51.3667, 1e-9);
    c = find(&p, "alt_m");
    assert_int_equal(c->word_order_little, 1);
    r[0] = 0x0000; /* 1.5f little word order */
    r[1] = 0x3FC0;
    assert_dbl(ot_profile_decode(c, r), 1.5, 0);
    assert_int_equal(find(&p, "lid_open")->function, OT_FN_DISCRETE);
    /* the local alarm's buzzer/lamp: coil 0, an output */
    c = find(&p, "alarm");
    assert_int_equal(c->function, OT_FN_COIL);
    assert_int_equal(c->address, 0);
    assert_int_equal(c->output, OT_OUT_ALARM);
    assert_int_equal(find(&p, "temp_c")->output, OT_OUT_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decode_known), cmocka_unit_test(encode_known),
        cmocka_unit_test(roundtrip),    cmocka_unit_test(load_good),
        cmocka_unit_test(load_hostile), cmocka_unit_test(shipped_profiles),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
