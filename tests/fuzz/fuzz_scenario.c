/* libFuzzer target: organtrack-sensors scenario files (routes, thermal model,
 * scripted faults; written by users) -> scenario__load, then the model run
 * over the whole route. The loader takes a path, so the input is written to
 * a private temp file first. A refused file leaves a terminated one-line
 * reason; an accepted one has its counts within their caps and a model that
 * advances without trouble. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    static struct scenario sc;
    static struct scenario_model m;
    char err[512];
    if (!path[0])
        snprintf(path, sizeof path, "/tmp/fuzz_scenario_%ld.json", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    memset(&sc, 0, sizeof sc);
    err[0] = '\0';
    if (scenario__load(path, 1700000000000, &sc, err, sizeof err) != OT_OK) {
        if (!memchr(err, '\0', sizeof err))
            abort(); /* the reason must be a terminated string */
        return 0;
    }
    double end = scenario__route_end_s(&sc);
    if (!(end >= 0.0))
        abort();
    scenario__model_init(&m, &sc);
    /* a few points along the route (bounded: a long route is not a hang) */
    for (int i = 1; i <= 8; i++)
        scenario__model_advance(&m, end * i / 8 < 7200.0 ? end * i / 8 : 7200.0);
    return 0;
}
