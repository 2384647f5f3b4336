/* main.c - organtrack-gateway: polls Modbus devices every poll_interval_ms,
 * appends each reading to the spool (fsync'd) and only then lets the sender
 * publish it; see docs/gateway.md. The main loop owns the spool:
 *   while (!stop) { tick -> trigger poll; collect -> spool; mqtt step; status }
 * Poll threads and Paho's thread only hand over results and wake it. */
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "gateway.h"
#include "ot_log.h"
#include "ot_signal.h"
#include "ot_time.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: organtrack-gateway --config FILE [--log-level debug|info|warn|error]\n"
               "       organtrack-gateway status --config FILE\n"
               "Polls Modbus sensors, keeps every reading in an on-disk spool until the\n"
               "collector acknowledges it, publishes readings over MQTT (docs/gateway.md).\n"
               "  status   print link, backlog, last values and device health of the\n"
               "           gateway running with FILE (reads <spool dir>/status.json)\n");
}

static int64_t oldest_unacked(struct spool *s, const struct spool_stats *st, int64_t *cache_acked,
                              int64_t *cache_ts)
{
    if (*cache_ts && *cache_acked == st->acked)
        return *cache_ts;
    struct spool_cursor c;
    struct ot_reading r;
    spool__seek(s, &c, st->acked + 1);
    *cache_acked = st->acked;
    *cache_ts = spool__read(s, &c, &r) == OT_OK ? r.ts : 0;
    return *cache_ts;
}

static void write_status(const struct gw_config *cfg, struct spool *spool, struct gw_pub *pub,
                         const struct ot_reading *last, const struct gw_health *health, size_t nh,
                         int64_t readings_total, int stopped)
{
    static int64_t cache_acked = -1, cache_ts;
    struct gw_status st;
    memset(&st, 0, sizeof st);
    st.cfg = cfg;
    st.link_up = pub__link_up(pub) && !stopped;
    st.stopped = stopped;
    spool__stats(spool, &st.spool);
    st.oldest_unacked_ts = oldest_unacked(spool, &st.spool, &cache_acked, &cache_ts);
    st.readings_total = readings_total;
    st.last = last;
    st.health = health;
    st.nhealth = nh;
    if (status__write(cfg->spool_dir, &st))
        ot_warn("status file write failed dir=%s", cfg->spool_dir);
}

static int run(struct gw_config *cfg)
{
    int rc = 1;
    struct spool *spool = NULL;
    struct gw_poller *poller = NULL;
    struct gw_pub *pub = NULL;
    struct gw_health health[GW_DEVICES_MAX];
    size_t nh = 0;
    struct ot_reading last;
    memset(&last, 0, sizeof last);
    memset(health, 0, sizeof health);

    uint64_t seg = (uint64_t)cfg->segment_kb * 1024u;
    struct spool_opts so = {.dir = cfg->spool_dir,
                            .max_bytes = (uint64_t)cfg->max_mb * 1048576u,
                            .segment_bytes = seg,
                            .sync_ms = cfg->sync_ms};
    if (spool__open(&so, &spool)) {
        ot_error("spool open failed dir=%s", cfg->spool_dir);
        goto out;
    }
    if (poll__start(&poller, cfg) || pub__create(&pub, cfg, spool))
        goto out;
    ot_info("gateway started container=%s gateway=%s devices=%zu poll_interval_ms=%" PRId64,
            cfg->container, cfg->gateway, cfg->n_dev, cfg->poll_interval_ms);

    int64_t interval = cfg->poll_interval_ms;
    int64_t next_tick = ot_time_mono_ms(), next_status = next_tick, deadline = 0;
    int64_t sample_ts = 0, readings_total = 0, overruns = 0;
    uint64_t cycle = 0;
    int pending = 0;
    while (!ot_signal_stop) {
        int64_t now = ot_time_mono_ms();
        if (pending && (poll__all_done(poller, cycle) || now >= deadline)) {
            struct ot_reading r;
            memset(&r, 0, sizeof r);
            r.ts = sample_ts;
            poll__collect(poller, cycle, &r);
            if (spool__append(spool, &r) == OT_OK) {
                last = r;
                readings_total++;
            }
            pending = 0;
        }
        if (!pending && now >= next_tick) {
            sample_ts = ot_time_now_ms();
            cycle = poll__trigger(poller);
            pending = 1;
            deadline = next_tick + interval * 9 / 10;
            next_tick += interval;
            if (next_tick <= now) { /* we fell behind: skip, never burst */
                if (overruns++ % 100 == 0)
                    ot_warn("poll cycle overrun interval_ms=%" PRId64 " count=%" PRId64, interval,
                            overruns);
                next_tick = now + interval;
            }
        }
        int changed = poll__health(poller, health, GW_DEVICES_MAX, &nh);
        pub__step(pub, health, nh, changed);
        now = ot_time_mono_ms();
        spool__flush(spool, now, 0);
        if (now >= next_status) {
            write_status(cfg, spool, pub, &last, health, nh, readings_total, 0);
            next_status = now + 1000;
        }
        int64_t until = pending ? deadline : next_tick;
        if (next_status < until)
            until = next_status;
        if (spool__flush_due(spool) < until)
            until = spool__flush_due(spool);
        int64_t wait = until - now;
        wake__wait(wait > 100 ? 100 : wait);
    }
    write_status(cfg, spool, pub, &last, health, nh, readings_total, 1);
    ot_info("gateway stopping readings=%" PRId64 " sent=%" PRId64, readings_total,
            pub__sent_total(pub));
    rc = 0;
out:
    pub__destroy(pub, health, nh);
    poll__stop(poller);
    spool__close(spool);
    return rc;
}

int main(int argc, char **argv)
{
    const char *config = NULL, *level = NULL;
    int status = 0;
    /* a small daemon on the container: one malloc arena for its few threads
     * (poll threads, main loop, Paho's two) instead of one per thread keeps
     * the resident set down (measured: about 180 KiB, docs/performance.md) */
    mallopt(M_ARENA_MAX, 1);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--version")) {
            printf("organtrack-gateway %s\n", OT_VERSION);
            return 0;
        }
        if (!strcmp(argv[i], "--config") && i + 1 < argc)
            config = argv[++i];
        else if (!strcmp(argv[i], "--log-level") && i + 1 < argc)
            level = argv[++i];
        else if (!strcmp(argv[i], "status") && i == 1)
            status = 1;
        else {
            fprintf(stderr, "organtrack-gateway: unknown argument %s (try --help)\n", argv[i]);
            return 2;
        }
    }
    if (!config) {
        fprintf(stderr, "organtrack-gateway: --config FILE is required (try --help)\n");
        return 2;
    }
    int lv = level ? ot_log_level_parse(level) : OT_LOG_INFO;
    if (lv < 0) {
        fprintf(stderr, "organtrack-gateway: --log-level: expected debug, info, warn or error\n");
        return 2;
    }
    ot_log_init("gateway", (enum ot_log_level)lv);
    struct gw_config cfg;
    if (config__load(&cfg, config)) {
        fprintf(stderr, "organtrack-gateway: %s\n", cfg.conf.err);
        config__free(&cfg);
        return 2;
    }
    if (!level && *cfg.log_level) /* the command line wins over the file */
        ot_log_set_level((enum ot_log_level)ot_log_level_parse(cfg.log_level));
    int rc;
    if (status) {
        rc = status__print(&cfg);
    } else {
        ot_signal_install();
        rc = run(&cfg);
    }
    config__free(&cfg);
    return rc;
}
