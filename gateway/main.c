/* main.c - organtrack-gateway: polls Modbus devices every poll_interval_ms,
 * writes each reading to the spool and only then lets the sender publish
 * it, judges the local alarm and flight mode on every reading; see
 * docs/gateway.md. The main loop owns the spool, the limits, the alarm and
 * the flight state:
 *   while (!stop) { collect a cycle -> spool, alarm, flight; limits;
 *                   mqtt step; group flush; sleep until the next event }
 * Poll threads and Paho's thread only hand over results and wake it; it
 * wakes once per reading, and between readings only for a timer it set. */
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway.h"
#include "ot_log.h"
#include "ot_signal.h"
#include "ot_time.h"

#define STATUS_FILE_MS 60000 /* the figures a killed gateway leaves behind */

struct gw_run {
    const struct gw_config *cfg;
    struct spool *spool;
    struct gw_poller *poller;
    struct gw_pub *pub;
    struct gw_health health[GW_DEVICES_MAX];
    size_t nh;
    struct ot_reading last;
    int64_t readings_total;
    struct gw_limits limits;
    struct gw_alarm alarm;
    struct gw_flight flight;
    int output; /* what the alarm outputs were told last */
    int status_fd;
    int64_t cache_acked, cache_ts;
};

static void usage(FILE *f)
{
    fprintf(f, "usage: organtrack-gateway --config FILE [--log-level debug|info|warn|error]\n"
               "       organtrack-gateway status [--json] --config FILE\n"
               "Polls Modbus sensors, keeps every reading in an on-disk spool until the\n"
               "collector acknowledges it, publishes readings over MQTT, sounds the\n"
               "container's local alarm and keeps the radio silent in flight\n"
               "(docs/gateway.md).\n"
               "  status   print link, flight mode, local alarm, backlog, last values and\n"
               "           device health of the gateway running with FILE (--json: raw)\n");
}

static struct gw_state_info state_info(const struct gw_run *g)
{
    struct gw_state_info si = {g->health, g->nh, g->alarm.on, g->flight.in_flight};
    return si;
}

static int64_t oldest_unacked(struct gw_run *g, const struct spool_stats *st)
{
    if (g->cache_ts && g->cache_acked == st->acked)
        return g->cache_ts;
    struct spool_cursor c;
    struct ot_reading r;
    spool__seek(g->spool, &c, st->acked + 1);
    g->cache_acked = st->acked;
    g->cache_ts = spool__read(g->spool, &c, &r) == OT_OK ? r.ts : 0;
    return g->cache_ts;
}

static void status_of(struct gw_run *g, struct gw_status *st, int stopped)
{
    memset(st, 0, sizeof *st);
    st->cfg = g->cfg;
    st->link_up = pub__link_up(g->pub) && !stopped;
    st->radio_on = pub__radio_on(g->pub);
    st->stopped = stopped;
    spool__stats(g->spool, &st->spool);
    st->oldest_unacked_ts = oldest_unacked(g, &st->spool);
    st->readings_total = g->readings_total;
    st->last = &g->last;
    st->health = g->health;
    st->nhealth = g->nh;
    st->limits = &g->limits;
    st->alarm = &g->alarm;
    st->flight = &g->flight;
}

static void write_status(struct gw_run *g, int stopped)
{
    struct gw_status st;
    status_of(g, &st, stopped);
    if (status__write(g->cfg->spool_dir, &st))
        ot_warn("status file write failed dir=%s", g->cfg->spool_dir);
}

static void drive_outputs(struct gw_run *g)
{
    int out = alarm__output(&g->alarm, &g->limits);
    if (out >= 0 && out != g->output) {
        poll__set_output(g->poller, out);
        g->output = out;
    }
}

/* A limits message (len 0: cleared) handed over by the MQTT link. */
static int on_limits(struct gw_run *g, const char *buf, size_t len)
{
    struct gw_limits l;
    char err[160];
    if (limits__parse(buf, len, g->cfg->container, &l, err, sizeof err)) {
        ot_warn("limits message refused, keeping the previous limits error=\"%s\"", err);
        return 0;
    }
    if (limits__same(&l, &g->limits))
        return 0;
    if (l.set)
        ot_info("limits received shipment=%s profile=%s band=%.2f..%.2f grace_s=%" PRId64
                " (the local alarm judges every reading against them, online or not)",
                l.shipment[0] ? l.shipment : "-", l.profile[0] ? l.profile : "-", l.temp_min_c,
                l.temp_max_c, l.grace_s);
    else
        ot_info("limits cleared (the shipment ended): no local alarm until new limits come");
    if (limits__save(g->cfg->spool_dir, g->cfg->container, &l))
        ot_error("limits not kept on disk dir=%s (they hold until a restart)", g->cfg->spool_dir);
    g->limits = l;
    if (!l.set) { /* judged at once: the outputs go to 0 now */
        struct ot_reading none;
        memset(&none, 0, sizeof none);
        alarm__judge(&g->alarm, &g->limits, &none, ot_time_mono_ms());
        drive_outputs(g);
        return 1;
    }
    return 0;
}

/* Collects a finished cycle: spool, local alarm, flight mode. */
static int on_reading(struct gw_run *g, uint64_t cycle)
{
    struct ot_reading r;
    int changed = 0;
    memset(&r, 0, sizeof r);
    poll__collect(g->poller, cycle, &r);
    int64_t mono = ot_time_mono_ms();
    static int64_t clock_skips;
    if (r.ts < GW_CLOCK_MIN_MS) {
        /* the wall clock is unset (issue 15): a reading stamped now would lie;
         * none is taken, the local alarm still judges (monotonic time) */
        if (clock_skips++ % 60 == 0)
            ot_warn("wall clock unset, no reading taken skipped=%" PRId64, clock_skips);
    } else if (spool__append(g->spool, &r) == OT_OK) {
        g->last = r;
        g->readings_total++;
    }
    /* judged whether or not the disk took it: the alarm protects the organ */
    changed |= alarm__judge(&g->alarm, &g->limits, &r, mono);
    drive_outputs(g);
    if (flight__judge(&g->flight, &g->cfg->flight, &r, mono)) {
        if (flight__save(g->cfg->spool_dir, &g->flight))
            ot_error("flight state not kept on disk dir=%s", g->cfg->spool_dir);
        struct gw_state_info si = state_info(g);
        pub__set_radio(g->pub, !g->flight.in_flight, &si);
        changed = 1;
    }
    return changed;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static void loop(struct gw_run *g)
{
    int64_t next_status = ot_time_mono_ms();
    int64_t status_every = g->status_fd >= 0 ? STATUS_FILE_MS : 1000;
    char lbuf[2048];
    size_t llen;
    while (!ot_signal_stop) {
        int64_t now = ot_time_mono_ms(), deadline;
        int changed = 0;
        uint64_t cycle = poll__cycle(g->poller, &deadline);
        if (poll__ready(g->poller, cycle, now)) {
            changed |= on_reading(g, cycle);
            cycle = poll__cycle(g->poller, &deadline);
            /* a flush due before the next reading is done now, in this wake,
             * instead of in a wake of its own (at 1 Hz every reading is
             * flushed either way); it only ever comes early, never late */
            if (spool__flush_due(g->spool) < deadline)
                spool__flush(g->spool, 0, 1);
        }
        if (pub__take_limits(g->pub, lbuf, sizeof lbuf, &llen))
            changed |= on_limits(g, lbuf, llen);
        changed |= poll__health(g->poller, g->health, GW_DEVICES_MAX, &g->nh);
        struct gw_state_info si = state_info(g);
        pub__step(g->pub, &si, changed);
        now = ot_time_mono_ms();
        spool__flush(g->spool, now, 0);
        if (now >= next_status) {
            write_status(g, 0);
            next_status = now + status_every;
        }
        int64_t until = min64(deadline, min64(spool__flush_due(g->spool), next_status));
        until = min64(until, pub__next_timer(g->pub));
        if (wake__wait(until - ot_time_mono_ms(), g->status_fd)) {
            struct gw_status st;
            status_of(g, &st, 0);
            status__serve(g->status_fd, &st);
        }
    }
}

static int run(struct gw_config *cfg)
{
    int rc = 1;
    struct gw_run g;
    memset(&g, 0, sizeof g);
    g.cfg = cfg;
    g.output = -1;
    g.status_fd = -1;
    uint64_t seg = (uint64_t)cfg->segment_kb * 1024u;
    struct spool_opts so = {.dir = cfg->spool_dir,
                            .max_bytes = (uint64_t)cfg->max_mb * 1048576u,
                            .segment_bytes = seg,
                            .sync_ms = cfg->sync_ms};
    if (wake__init())
        goto out;
    if (spool__open(&so, &g.spool)) {
        ot_error("spool open failed dir=%s", cfg->spool_dir);
        goto out;
    }
    limits__load(cfg->spool_dir, cfg->container, &g.limits);
    if (cfg->flight.detect != GW_FLIGHT_OFF)
        flight__load(cfg->spool_dir, &g.flight);
    if (poll__start(&g.poller, cfg, ot_time_mono_ms()) || pub__create(&g.pub, cfg, g.spool))
        goto out;
    g.status_fd = status__listen(cfg->spool_dir);
    if (g.flight.in_flight) {
        struct gw_state_info si = state_info(&g);
        ot_warn("flight mode: still in the air after a restart: the radio stays silent");
        pub__set_radio(g.pub, 0, &si);
    }
    static const char *const detect[] = {"off", "auto", "input"};
    ot_info("gateway started container=%s gateway=%s devices=%zu poll_interval_ms=%" PRId64
            " sync_ms=%" PRId64 " flight_detect=%s limits=%s",
            cfg->container, cfg->gateway, cfg->n_dev, cfg->poll_interval_ms, cfg->sync_ms,
            detect[cfg->flight.detect], g.limits.set ? "kept from disk" : "none");
    loop(&g);
    write_status(&g, 1);
    ot_info("gateway stopping readings=%" PRId64 " sent=%" PRId64, g.readings_total,
            pub__sent_total(g.pub));
    rc = 0;
out:
    if (g.pub) {
        struct gw_state_info si = state_info(&g);
        pub__destroy(g.pub, &si);
    }
    poll__stop(g.poller);
    status__unlisten(g.status_fd, cfg->spool_dir);
    spool__close(g.spool);
    return rc;
}

int main(int argc, char **argv)
{
    const char *config = NULL, *level = NULL;
    int status = 0, json = 0;
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
        else if (!strcmp(argv[i], "--json") && status)
            json = 1;
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
    int rc = 2;
    if (config__load(&cfg, config)) {
        fprintf(stderr, "organtrack-gateway: %s\n", cfg.conf.err);
        goto out;
    }
    if (!level && *cfg.log_level) /* the command line wins over the file */
        ot_log_set_level((enum ot_log_level)ot_log_level_parse(cfg.log_level));
    if (status) {
        rc = status__print(&cfg, json);
    } else {
        ot_signal_install();
        rc = run(&cfg);
    }
out:
    config__free(&cfg);
    return rc;
}
