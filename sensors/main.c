/* main.c - organtrack-sensors: Modbus TCP/RTU sensor-module simulator. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ot_log.h"
#include "ot_parse.h"
#include "ot_signal.h"
#include "ot_time.h"
#include "sensors.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: organtrack-sensors --config FILE\n"
               "       organtrack-sensors --dump-scenario FILE --at SECONDS [--to SECONDS --step "
               "SECONDS]\n"
               "\n"
               "Serves simulated Modbus devices (TCP and RTU) described in FILE, their registers\n"
               "driven by scenario files (route, container thermal model, scripted faults).\n"
               "--dump-scenario prints the model's values at simulated time SECONDS as JSON\n"
               "(one object per line from --at to --to every --step). See docs/sensors.md.\n"
               "  --config FILE   devices to serve\n"
               "  --check         load and validate the config (profiles, scenarios), then exit\n"
               "  --help          this text\n"
               "  --version       print the version\n");
}

static void print_state(const struct scenario *sc, const struct scenario_model *m)
{
    double t = (double)m->step * SCENARIO_STEP_S;
    int64_t ts = sc->start_ms + (int64_t)(t * 1000.0);
    char iso[32];
    double lat, lon, alt, spd, hdg, amb;
    int leg;
    scenario__route_at(sc, t, &lat, &lon, &alt, &spd, &hdg, &amb, &leg);
    printf("{\"t_s\":%.0f,\"ts\":%lld,\"time\":\"%s\",\"leg\":%d,\"mode\":\"%s\","
           "\"pack_left\":%.6f,\"values\":{",
           t, (long long)ts, ot_time_format_iso(ts, iso, sizeof iso), leg,
           leg < (int)sc->nwp - 1 ? (sc->leg[leg].air ? "air" : "road") : "arrived", m->pack_left);
    for (int s = 0; s < SIG__COUNT; s++)
        printf("%s\"%s\":%.9g", s ? "," : "", scenario__signal_name(s), m->v[s]);
    printf("},\"faults\":[");
    int first = 1;
    for (int e = 0; e < EV__COUNT; e++)
        if (scenario__active(sc, (enum scenario_event_type)e, t)) {
            printf("%s\"%s\"", first ? "" : ",", scenario__event_name((enum scenario_event_type)e));
            first = 0;
        }
    printf("]}\n");
}

static int dump(const char *file, const char *at, const char *to, const char *step)
{
    static struct scenario sc;
    struct scenario_model m;
    char err[1024];
    double t0 = 0, t1, dt = 60;
    if (!at || ot_parse_double(at, 0, 1e9, &t0) != 0) {
        fprintf(stderr, "organtrack-sensors: --at expects seconds 0..1e9\n");
        return 2;
    }
    t1 = t0;
    if (to && ot_parse_double(to, t0, 1e9, &t1) != 0) {
        fprintf(stderr, "organtrack-sensors: --to expects seconds >= --at\n");
        return 2;
    }
    if (step && ot_parse_double(step, 1, 1e9, &dt) != 0) {
        fprintf(stderr, "organtrack-sensors: --step expects seconds >= 1\n");
        return 2;
    }
    if (scenario__load(file, ot_time_now_ms(), &sc, err, sizeof err) != OT_OK) {
        fprintf(stderr, "organtrack-sensors: %s\n", err);
        return 1;
    }
    scenario__model_init(&m, &sc);
    for (double t = t0; t <= t1 + 1e-9; t += dt) {
        scenario__model_advance(&m, t);
        print_state(&sc, &m);
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *config = NULL, *scen = NULL, *at = NULL, *to = NULL, *step = NULL;
    int check = 0;
    struct sensors_server srv;
    char err[1024];
    ot_log_init("sensors", OT_LOG_INFO);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--version") == 0) {
            printf("organtrack-sensors %s\n", OT_VERSION);
            return 0;
        }
        if (strcmp(a, "--check") == 0) {
            check = 1;
            continue;
        }
        if (strcmp(a, "--config") == 0)
            slot = &config;
        else if (strcmp(a, "--dump-scenario") == 0)
            slot = &scen;
        else if (strcmp(a, "--at") == 0)
            slot = &at;
        else if (strcmp(a, "--to") == 0)
            slot = &to;
        else if (strcmp(a, "--step") == 0)
            slot = &step;
        if (!slot || i + 1 >= argc) {
            fprintf(stderr, "organtrack-sensors: %s %s\n",
                    slot ? "missing value for" : "unknown option", a);
            usage(stderr);
            return 2;
        }
        *slot = argv[++i];
    }
    if (scen)
        return dump(scen, at, to, step);
    if (!config) {
        fprintf(stderr, "organtrack-sensors: --config FILE is required\n");
        usage(stderr);
        return 2;
    }
    if (sensors__config_load(config, ot_time_now_ms(), &srv, err, sizeof err) != OT_OK) {
        fprintf(stderr, "organtrack-sensors: %s\n", err);
        return 1;
    }
    if (check) {
        printf("config OK: %s devices=%zu\n", config, srv.n);
        sensors__server_free(&srv);
        return 0;
    }
    ot_signal_install();
    enum ot_err rc = sensors__server_open(&srv);
    if (rc == OT_OK) {
        ot_info("started version=%s devices=%zu config=%s", OT_VERSION, srv.n, config);
        rc = sensors__server_run(&srv);
    }
    sensors__server_close(&srv);
    sensors__server_free(&srv);
    if (rc) {
        fprintf(stderr, "organtrack-sensors: %s\n", ot_strerror(rc));
        return 1;
    }
    ot_info("stopped");
    return 0;
}
