/* spool_fill.c - bench helper: pre-fills a gateway spool with COUNT readings
 * (all canonical channels, one per second ending now), as a gateway would
 * have written them during an outage of COUNT seconds at 1 Hz. Uses the
 * gateway's own spool code, so the records are exactly the real ones.
 *   gateway-spool-fill DIR COUNT */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ot_log.h"
#include "ot_parse.h"
#include "ot_time.h"
#include "spool.h"

int main(int argc, char **argv)
{
    int64_t count;
    if (argc != 3 || ot_parse_i64(argv[2], 1, 10000000, &count)) {
        fprintf(stderr, "usage: gateway-spool-fill DIR COUNT\n");
        return 2;
    }
    ot_log_init("spool-fill", OT_LOG_WARN);
    struct spool_opts o = {
        .dir = argv[1], .max_bytes = 64u << 20, .segment_bytes = 1u << 20, .nosync = 1};
    /* nosync: a pre-fill need not survive power loss; spool__close syncs meta */
    struct spool *s;
    if (spool__open(&o, &s))
        return 1;
    int64_t t0 = ot_time_now_ms() - count * 1000;
    for (int64_t i = 0; i < count; i++) {
        struct ot_reading r;
        memset(&r, 0, sizeof r);
        r.ts = t0 + i * 1000;
        ot_reading_set(&r, OT_CH_TEMP, 4.0 + (double)(i % 50) * 0.01);
        ot_reading_set(&r, OT_CH_TEMP2, 4.35);
        ot_reading_set(&r, OT_CH_AMBIENT, 21.5);
        ot_reading_set(&r, OT_CH_LAT, 51.2036 + (double)i * 1e-6);
        ot_reading_set(&r, OT_CH_LON, 51.3703 + (double)i * 1e-6);
        ot_reading_set(&r, OT_CH_ALT, 42.5);
        ot_reading_set(&r, OT_CH_SPEED, 63.5);
        ot_reading_set(&r, OT_CH_HEADING, 270.25);
        ot_reading_set(&r, OT_CH_LID, 0);
        ot_reading_set(&r, OT_CH_SHOCK, 0.12);
        ot_reading_set(&r, OT_CH_BATTERY, 91);
        ot_reading_set(&r, OT_CH_GNSS, 3);
        if (spool__append(s, &r)) {
            spool__close(s);
            return 1;
        }
    }
    struct spool_stats st;
    spool__stats(s, &st);
    printf("filled %s: seq %" PRId64 "..%" PRId64 ", %" PRIu64 " bytes\n", argv[1],
           st.next_seq - count, st.next_seq - 1, st.bytes);
    spool__close(s);

    return 0;
}
