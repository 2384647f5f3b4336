/* Unit tests for the organtrack-sensors scenario model: route interpolation,
 * thermal model monotone toward the pack, pack exhaustion, determinism from
 * the seed (and independence from the sampling pattern), faults switching
 * on and off at their times, hostile scenario files, URL parsing, and the
 * registers a device serves decoding back to the model's values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ot_geo.h"
#include "scenario.h"
#include "sensors.h"

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

static char tmpdir[64];
static struct scenario sc, sc2; /* large: keep off the stack */

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ot_scenario_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *write_file(const char *name, const char *text)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void load(struct scenario *s, const char *text)
{
    char err[1024] = "";
    const char *p = write_file("s.json", text);
    if (scenario__load(p, 1763877600000LL, s, err, sizeof err) != OT_OK)
        fail_msg("load failed: %s", err);
}

#define ROUTE_OA                                                                                   \
    "\"route\":{\"waypoints\":[{\"name\":\"Oral\",\"lat\":51.2333,\"lon\":51.3667,\"alt_m\":40},"  \
    "{\"name\":\"Oral airport\",\"lat\":51.1508,\"lon\":51.5436,\"alt_m\":38},"                    \
    "{\"name\":\"Astana airport\",\"lat\":51.0222,\"lon\":71.4669,\"alt_m\":355}],"                \
    "\"legs\":[{\"mode\":\"road\",\"speed_kmh\":60,\"dwell_s\":600,\"distance_factor\":1.0,"       \
    "\"ambient_c\":-5},"                                                                           \
    "{\"mode\":\"air\",\"speed_kmh\":600,\"altitude_m\":7000,\"dwell_s\":1000,\"ambient_c\":15}]}"

static void route_interpolation(void **state)
{
    (void)state;
    load(&sc, "{\"seed\":1," ROUTE_OA "}");
    double lat, lon, alt, spd, hdg, amb;
    int leg;
    double d_road = ot_geo_distance_km(51.2333, 51.3667, 51.1508, 51.5436);
    double d_air = ot_geo_distance_km(51.1508, 51.5436, 51.0222, 71.4669);
    assert_true(d_road > 15 && d_road < 16);   /* ~15.6 km */
    assert_true(d_air > 1370 && d_air < 1400); /* ~1385 km */
    assert_dbl(sc.leg[0].t_depart, 600, 1e-9);
    assert_dbl(sc.leg[0].t_arrive, 600 + d_road / 60 * 3600, 1e-6);
    assert_dbl(sc.leg[1].t_depart, sc.leg[0].t_arrive + 1000, 1e-6);
    assert_dbl(scenario__route_end_s(&sc), sc.leg[1].t_depart + d_air / 600 * 3600, 1e-6);

    scenario__route_at(&sc, 0, &lat, &lon, &alt, &spd, &hdg, &amb, &leg);
    assert_dbl(lat, 51.2333, 1e-9);
    assert_dbl(lon, 51.3667, 1e-9);
    assert_dbl(spd, 0, 0); /* dwell */
    assert_dbl(amb, -5, 0);
    assert_int_equal(leg, 0);

    double mid = (sc.leg[0].t_depart + sc.leg[0].t_arrive) / 2;
    scenario__route_at(&sc, mid, &lat, &lon, &alt, &spd, &hdg, &amb, &leg);
    double da = ot_geo_distance_km(51.2333, 51.3667, lat, lon);
    double db = ot_geo_distance_km(lat, lon, 51.1508, 51.5436);
    assert_dbl(da, db, 0.01);
    assert_dbl(da + db, d_road, 0.01); /* on the great circle */
    assert_dbl(spd, 60, 0);
    assert_true(hdg > 90 && hdg < 180); /* south-east */
    assert_dbl(alt, 39, 0.01);

    /* mid-flight at cruise, heading east, ambient of the air leg */
    mid = (sc.leg[1].t_depart + sc.leg[1].t_arrive) / 2;
    scenario__route_at(&sc, mid, &lat, &lon, &alt, &spd, &hdg, &amb, &leg);
    assert_int_equal(leg, 1);
    assert_dbl(alt, 7000, 1e-6);
    assert_dbl(spd, 600, 0);
    assert_dbl(amb, 15, 0);
    assert_true(hdg > 60 && hdg < 120);
    assert_true(lon > 60 && lon < 63);
    /* climbing shortly after take-off */
    scenario__route_at(&sc, sc.leg[1].t_depart + 60, &lat, &lon, &alt, &spd, &hdg, &amb, &leg);
    assert_true(alt > 400 && alt < 1000); /* 8 m/s default climb */

    /* after arrival: parked at the last waypoint */
    scenario__route_at(&sc, 1e6, &lat, &lon, &alt, &spd, &hdg, &amb, &leg);
    assert_dbl(lat, 51.0222, 1e-9);
    assert_dbl(lon, 71.4669, 1e-9);
    assert_dbl(alt, 355, 1e-9);
    assert_dbl(spd, 0, 0);
    assert_int_equal(leg, 2);
}

#define STILL(amb)                                                                                 \
    "\"route\":{\"waypoints\":[{\"lat\":51.2,\"lon\":51.4}],\"arrival_ambient_c\":" #amb "}"

static void thermal_monotone_toward_pack(void **state)
{
    (void)state;
    struct scenario_model m;
    /* ambient == pack: the pack alone decides; from above and from below */
    load(&sc, "{\"seed\":3," STILL(4) ",\"thermal\":{\"initial_c\":12,\"pack_c\":4,"
                                      "\"tau_pack_s\":1800,\"noise_c\":0}}");
    scenario__model_init(&m, &sc);
    double prev = m.temp_c;
    for (int t = 60; t <= 6 * 3600; t += 60) {
        scenario__model_advance(&m, t);
        assert_true(m.temp_c <= prev);
        assert_true(m.temp_c >= 4.0 - 1e-9); /* never overshoots */
        prev = m.temp_c;
    }
    assert_dbl(prev, 4.0, 0.01);
    /* after one time constant: 4 + 8/e */
    scenario__model_init(&m, &sc);
    scenario__model_advance(&m, 1800);
    assert_dbl(m.temp_c, 4 + 8 * exp(-1.0 - 1800.0 / 72000), 0.02);

    load(&sc, "{\"seed\":3," STILL(4) ",\"thermal\":{\"initial_c\":-1,\"noise_c\":0}}");
    scenario__model_init(&m, &sc);
    prev = m.temp_c;
    for (int t = 60; t <= 4 * 3600; t += 60) {
        scenario__model_advance(&m, t);
        assert_true(m.temp_c >= prev);
        assert_true(m.temp_c <= 4.0 + 1e-9);
        prev = m.temp_c;
    }
    assert_dbl(prev, 4.0, 0.05);

    /* warm ambient: settles a little above the pack, pack slowly used up */
    load(&sc, "{\"seed\":3," STILL(24) ",\"thermal\":{\"initial_c\":4,\"noise_c\":0,"
                                       "\"pack_capacity_kh\":300}}");
    scenario__model_init(&m, &sc);
    scenario__model_advance(&m, 2 * 3600);
    double eq = (4.0 / 1800 + 24.0 / 72000) / (1.0 / 1800 + 1.0 / 72000);
    assert_dbl(m.temp_c, eq, 0.05);
    assert_true(m.pack_left < 1.0 && m.pack_left > 0.8);
}

static void pack_exhaustion_and_lid(void **state)
{
    (void)state;
    struct scenario_model m;
    load(&sc, "{\"seed\":3," STILL(25) ",\"thermal\":{\"initial_c\":4,\"noise_c\":0,"
                                       "\"pack_capacity_kh\":42,\"tau_ambient_s\":7200}}");
    scenario__model_init(&m, &sc);
    scenario__model_advance(&m, 3600);
    assert_true(m.pack_left > 0);
    assert_true(m.temp_c < 8.5 &&
                m.temp_c > 7.5); /* equilibrium 8.2 degC: a poorly insulated box */
    scenario__model_advance(&m, 2 * 3600 - 60);
    assert_true(m.pack_left > 0);
    scenario__model_advance(&m, 2 * 3600 + 60);
    assert_dbl(m.pack_left, 0, 0); /* 42 K h at 21 K: two hours */
    double at2h = m.temp_c;
    scenario__model_advance(&m, 8 * 3600);
    assert_true(m.temp_c > at2h + 5); /* drifting to ambient */
    assert_true(m.temp_c < 25);

    /* a lid opening warms the product faster than the closed box */
    load(&sc, "{\"seed\":3," STILL(
                  22) ",\"thermal\":{\"noise_c\":0},"
                      "\"events\":[{\"type\":\"lid_open\",\"at_s\":100,\"duration_s\":300}]}");
    load(&sc2, "{\"seed\":3," STILL(22) ",\"thermal\":{\"noise_c\":0}}");
    struct scenario_model a, b;
    scenario__model_init(&a, &sc);
    scenario__model_init(&b, &sc2);
    scenario__model_advance(&a, 99);
    assert_dbl(a.v[SIG_LID], 0, 0);
    scenario__model_advance(&a, 100);
    assert_dbl(a.v[SIG_LID], 1, 0);
    scenario__model_advance(&a, 400);
    assert_dbl(a.v[SIG_LID], 0, 0);
    scenario__model_advance(&b, 400);
    assert_true(a.temp_c > b.temp_c + 0.5);
}

static void deterministic_from_seed(void **state)
{
    (void)state;
    struct scenario_model a, b;
    load(&sc, "{\"seed\":99," ROUTE_OA "}");
    load(&sc2, "{\"seed\":99," ROUTE_OA "}");
    scenario__model_init(&a, &sc);
    scenario__model_init(&b, &sc2);
    /* a is sampled every step, b jumps: same values at the same time */
    for (int t = 1; t <= 5000; t++) {
        scenario__model_advance(&a, t);
        if (t % 997 == 0) {
            scenario__model_advance(&b, t + 0.5); /* same step */
            assert_memory_equal(a.v, b.v, sizeof a.v);
        }
    }
    /* another seed gives other noise but the same physics */
    load(&sc2, "{\"seed\":100," ROUTE_OA "}");
    scenario__model_init(&b, &sc2);
    scenario__model_advance(&b, 5000);
    assert_true(a.v[SIG_TEMP] != b.v[SIG_TEMP]);
    assert_dbl(a.v[SIG_LAT], b.v[SIG_LAT], 1e-12);
    assert_dbl(a.temp_c, b.temp_c, 1e-12);
    /* the generator is roughly normal: mean ~0, sd ~1 */
    double s = 0, s2 = 0;
    for (uint64_t i = 0; i < 20000; i++) {
        double x = scenario__normal(5, i, 1);
        s += x;
        s2 += x * x;
    }
    assert_dbl(s / 20000, 0, 0.05);
    assert_dbl(sqrt(s2 / 20000), 1, 0.05);
    /* advancing backwards is a no-op */
    int64_t step = a.step;
    scenario__model_advance(&a, 10);
    assert_int_equal(a.step, step);
}

static void faults_switch_on_and_off(void **state)
{
    (void)state;
    struct scenario_model m;
    load(&sc, "{\"seed\":5," ROUTE_OA ",\"events\":["
              "{\"type\":\"dropout\",\"at_s\":100,\"duration_s\":50},"
              "{\"type\":\"slow\",\"at_s\":200,\"duration_s\":50,\"delay_ms\":700},"
              "{\"type\":\"crc_noise\",\"at_s\":300,\"duration_s\":50,\"probability\":0.5},"
              "{\"type\":\"stuck\",\"at_s\":1000,\"duration_s\":300,\"signal\":\"temp_c\"},"
              "{\"type\":\"gnss_loss\",\"at_s\":1200,\"duration_s\":200},"
              "{\"type\":\"link_gap\",\"at_s\":3000,\"duration_s\":10},"
              "{\"type\":\"excursion\",\"at_s\":4000,\"duration_s\":3600,\"target_c\":15},"
              "{\"type\":\"shock\",\"at_s\":50,\"g\":3.5}]}");
    assert_null(scenario__active(&sc, EV_DROPOUT, 99.9));
    assert_non_null(scenario__active(&sc, EV_DROPOUT, 100));
    assert_non_null(scenario__active(&sc, EV_DROPOUT, 149.9));
    assert_null(scenario__active(&sc, EV_DROPOUT, 150));
    const struct scenario_event *e = scenario__active(&sc, EV_SLOW, 220);
    assert_non_null(e);
    assert_dbl(e->delay_ms, 700, 0);
    assert_dbl(scenario__active(&sc, EV_CRC_NOISE, 300)->probability, 0.5, 0);
    assert_non_null(scenario__active(&sc, EV_LINK_GAP, 3005));
    assert_null(scenario__active(&sc, EV_LINK_GAP, 3010));

    scenario__model_init(&m, &sc);
    scenario__model_advance(&m, 50);
    assert_dbl(m.v[SIG_SHOCK], 3.5, 0);
    scenario__model_advance(&m, 51);
    assert_true(m.v[SIG_SHOCK] < 1.0);

    scenario__model_advance(&m, 1000);
    double frozen = m.v[SIG_TEMP];
    for (int t = 1001; t < 1300; t++) {
        scenario__model_advance(&m, t);
        assert_dbl(m.v[SIG_TEMP], frozen, 0); /* stuck */
        if (t < 1200)
            assert_dbl(m.v[SIG_GNSS_FIX], 3, 0);
    }
    /* GNSS loss: fix and satellites 0, position and speed frozen */
    scenario__model_advance(&m, 1199);
    double lat0 = m.v[SIG_LAT], lon0 = m.v[SIG_LON];
    scenario__model_advance(&m, 1200);
    assert_dbl(m.v[SIG_GNSS_FIX], 0, 0);
    assert_dbl(m.v[SIG_SATELLITES], 0, 0);
    assert_dbl(m.v[SIG_LAT], lat0, 0);
    scenario__model_advance(&m, 1399);
    assert_dbl(m.v[SIG_LAT], lat0, 0);
    assert_dbl(m.v[SIG_LON], lon0, 0);
    scenario__model_advance(&m, 1400);
    assert_dbl(m.v[SIG_GNSS_FIX], 3, 0);
    assert_true(m.v[SIG_LON] != lon0); /* moving again */
    /* stuck ended: the probe moves again */
    scenario__model_advance(&m, 1401);
    assert_true(m.v[SIG_TEMP] != frozen);
    /* excursion: above 8 degC within 20 minutes, back under 8 after it ends */
    scenario__model_advance(&m, 3999);
    assert_true(m.temp_c < 8);
    scenario__model_advance(&m, 4000 + 1200);
    assert_true(m.temp_c > 8);
    scenario__model_advance(&m, 4000 + 3600 + 4 * 3600);
    assert_true(m.temp_c < 8);
}

static void expect_bad(const char *text, const char *key)
{
    char err[1024] = "";
    const char *p = write_file("bad.json", text);
    if (scenario__load(p, 0, &sc, err, sizeof err) == OT_OK)
        fail_msg("accepted: %s", text);
    if (!strstr(err, "bad.json") || !strstr(err, key))
        fail_msg("message \"%s\" lacks file or \"%s\"", err, key);
}

static void hostile_scenarios(void **state)
{
    (void)state;
    expect_bad("{", "malformed");
    expect_bad("{\"seed\":1}", "route");
    expect_bad("{\"seed\":-1," STILL(4) "}", "seed");
    expect_bad("{\"start\":\"yesterday\"," STILL(4) "}", "start");
    expect_bad("{\"time_scale\":-1," STILL(4) "}", "time_scale");
    expect_bad("{\"route\":{\"waypoints\":[]}}", "route.waypoints");
    expect_bad("{\"route\":{\"waypoints\":[{\"lat\":91,\"lon\":0}]}}", "route.waypoints[0].lat");
    expect_bad("{\"route\":{\"waypoints\":[{\"lat\":1,\"lon\":0},{\"lat\":2,\"lon\":0}]}}",
               "route.legs");
    expect_bad("{\"route\":{\"waypoints\":[{\"lat\":1,\"lon\":0},{\"lat\":2,\"lon\":0}],"
               "\"legs\":[{\"mode\":\"sea\",\"speed_kmh\":10}]}}",
               "route.legs[0].mode");
    expect_bad("{\"route\":{\"waypoints\":[{\"lat\":1,\"lon\":0},{\"lat\":2,\"lon\":0}],"
               "\"legs\":[{\"mode\":\"road\",\"speed_kmh\":0}]}}",
               "route.legs[0].speed_kmh");
    expect_bad("{" STILL(4) ",\"events\":[{\"type\":\"meteor\",\"at_s\":1}]}", "events[0].type");
    expect_bad("{" STILL(4) ",\"events\":[{\"type\":\"slow\",\"at_s\":1,\"duration_s\":5}]}",
               "events[0].delay_ms");
    expect_bad("{" STILL(4) ",\"events\":[{\"type\":\"stuck\",\"at_s\":1,\"duration_s\":5,"
                            "\"signal\":\"pressure\"}]}",
               "events[0].signal");
    expect_bad("{" STILL(4) ",\"events\":[{\"type\":\"dropout\",\"at_s\":1}]}",
               "events[0].duration_s");
    expect_bad("{" STILL(4) ",\"thermal\":{\"tau_pack_s\":0}}", "thermal.tau_pack_s");
    expect_bad("{" STILL(4) ",\"thermal\":{\"tau_pak_s\":10}}", "thermal.tau_pak_s");
    expect_bad("{" STILL(4) ",\"colour\":1}", "colour");
}

static void url_parsing(void **state)
{
    (void)state;
    struct sensors_url u;
    char err[256];
    assert_int_equal(sensors__url_parse("tcp://127.0.0.1:15020", &u, err, sizeof err), 0);
    assert_false(u.rtu);
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 15020);
    assert_int_equal(
        sensors__url_parse("rtu:/dev/pts/7?baud=19200&parity=E&data=8&stop=2", &u, err, sizeof err),
        0);
    assert_true(u.rtu);
    assert_string_equal(u.tty, "/dev/pts/7");
    assert_int_equal(u.baud, 19200);
    assert_int_equal(u.parity, 'E');
    assert_int_equal(u.stop_bits, 2);
    assert_int_equal(sensors__url_parse("rtu:/dev/ttyUSB0", &u, err, sizeof err), 0);
    assert_int_equal(u.baud, 9600);
    assert_int_equal(u.parity, 'N');
    static const char *const bad[] = {
        "tcp://host",          "tcp://:80",         "tcp://h:0",      "tcp://h:65536",
        "tcp://h:8x",          "udp://h:1",         "rtu:",           "rtu:/dev/x?baud=abc",
        "rtu:/dev/x?parity=X", "rtu:/dev/x?data=9", "rtu:/dev/x?foo", "rtu:/dev/x?stop=3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (sensors__url_parse(bad[i], &u, err, sizeof err) == 0)
            fail_msg("accepted %s", bad[i]);
}

/* The registers a device serves decode (with the gateway's codec) to the
 * model's values. */
static void device_registers(void **state)
{
    (void)state;
    static struct sensors_device d;
    char err[512];
    memset(&d, 0, sizeof d);
    snprintf(d.name, sizeof d.name, "t");
    if (ot_profile_load("organtrack-module", OT_SOURCE_DIR "/sensors/profiles", &d.prof, err,
                        sizeof err) != OT_OK)
        fail_msg("%s", err);
    load(&d.sc, "{\"seed\":11," ROUTE_OA "}");
    for (size_t i = 0; i < d.prof.n; i++) {
        d.src[i] = scenario__signal_index(d.prof.ch[i].name);
        assert_true(d.src[i] >= 0 || d.prof.ch[i].output != OT_OUT_NONE);
    }
    assert_int_equal(sensors__device_map(&d), OT_OK);
    scenario__model_init(&d.model, &d.sc);
    sensors__device_update(&d, 5000.7);
    assert_dbl(d.t_s, 5000, 0);
    for (size_t i = 0; i < d.prof.n; i++) {
        const struct ot_profile_channel *c = &d.prof.ch[i];
        uint16_t r[2] = {0, 0};
        if (c->output != OT_OUT_NONE) {
            /* the alarm coil is the master's: the model leaves it at 0 */
            assert_int_equal(d.map->tab_bits[c->address - d.map->start_bits], 0);
            continue;
        }
        switch (c->function) {
        case OT_FN_DISCRETE:
            r[0] = d.map->tab_input_bits[c->address - d.map->start_input_bits];
            break;
        case OT_FN_COIL:
            r[0] = d.map->tab_bits[c->address - d.map->start_bits];
            break;
        case OT_FN_HOLDING:
            memcpy(r, &d.map->tab_registers[c->address - d.map->start_registers],
                   sizeof(uint16_t) * (size_t)ot_profile_channel_width(c));
            break;
        case OT_FN_INPUT:
            memcpy(r, &d.map->tab_input_registers[c->address - d.map->start_input_registers],
                   sizeof(uint16_t) * (size_t)ot_profile_channel_width(c));
            break;
        }
        double want = d.model.v[d.src[i]];
        double tol = c->type == OT_T_F32 ? fabs(want) * 1e-6 : fabs(c->scale) / 2 + 1e-9;
        double got = ot_profile_decode(c, r);
        if (fabs(got - want) > tol)
            fail_msg("%s: register decodes to %.9g, model %.9g", c->name, got, want);
    }
    assert_int_equal(d.map->start_registers, 100);
    assert_int_equal(d.map->nb_registers, 9);
    modbus_mapping_free(d.map);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(route_interpolation),
        cmocka_unit_test(thermal_monotone_toward_pack),
        cmocka_unit_test(pack_exhaustion_and_lid),
        cmocka_unit_test(deterministic_from_seed),
        cmocka_unit_test(faults_switch_on_and_off),
        cmocka_unit_test(hostile_scenarios),
        cmocka_unit_test(url_parsing),
        cmocka_unit_test(device_registers),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
