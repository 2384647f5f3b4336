/* libFuzzer target: device profiles (register maps users and vendors
 * write) -> ot_profile_load, then decode/encode of every loaded channel on
 * bytes from the input. The loader takes a path, so the input is written to
 * a private temp file first. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ot_profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0])
        snprintf(path, sizeof path, "/tmp/fuzz_profile_%ld.json", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    static struct ot_profile p;
    char err[512];
    if (ot_profile_load(path, NULL, &p, err, sizeof err) != OT_OK) {
        if (!memchr(err, '\0', sizeof err))
            abort(); /* message must be terminated */
        return 0;
    }
    if (p.n < 1 || p.n > OT_PROFILE_MAX_CHANNELS)
        abort();
    for (size_t i = 0; i < p.n; i++) {
        uint16_t regs[2] = {0, 0};
        memcpy(regs, data + (i * 4) % (size > 4 ? size - 4 : 1), size >= 4 ? 4 : 0);
        double v = ot_profile_decode(&p.ch[i], regs);
        uint16_t back[2] = {0, 0};
        ot_profile_encode(&p.ch[i], v, back);
        int w = ot_profile_channel_width(&p.ch[i]);
        if (w < 1 || w > 2 || (long)p.ch[i].address + w - 1 > 65535)
            abort();
    }
    return 0;
}
