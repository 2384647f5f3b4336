/* libFuzzer target: the gateway's JSON config file (written by operators,
 * shipped as examples) -> config__load. The loader takes a path, so the input
 * is written to a private temp file first. A refused file must leave a
 * terminated one-line reason; an accepted one must free cleanly. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0])
        snprintf(path, sizeof path, "/tmp/fuzz_gateway_config_%ld.json", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    static struct gw_config c;
    memset(&c, 0, sizeof c);
    if (config__load(&c, path) != OT_OK && !memchr(c.conf.err, '\0', sizeof c.conf.err))
        abort(); /* the reason must be a terminated string */
    config__free(&c);
    return 0;
}
