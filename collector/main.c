/* main.c - organtrack-collector: arguments, configuration, start and stop
 * of the threads. The main thread becomes the worker (worker.c). */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector.h"
#include "ot_log.h"
#include "ot_signal.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: organtrack-collector --config FILE\n"
               "  subscribes to gateway readings and state over MQTT, validates and stores\n"
               "  them (SQLite or PostgreSQL), acknowledges end to end, runs the preservation\n"
               "  rules and publishes alarms; optionally writes InfluxDB and calls webhooks.\n"
               "  --config FILE  JSON configuration (docs/collector.md)\n"
               "  --help         this text\n"
               "  --version      print the version\n");
}

int main(int argc, char **argv)
{
    const char *file = NULL;
    struct collector_conf cc;
    struct queue *q = NULL;
    struct influx *ix = NULL;
    struct webhook *wh = NULL;
    struct ingest *in = NULL;
    struct status *st = NULL;
    int lock_fd = -2;
    int rc = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--version")) {
            printf("organtrack-collector %s\n", OT_VERSION);
            return 0;
        } else if (!strcmp(argv[i], "--config") && i + 1 < argc) {
            file = argv[++i];
        } else {
            fprintf(stderr, "organtrack-collector: unknown argument %s\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!file) {
        fprintf(stderr, "organtrack-collector: --config FILE is required\n");
        return 2;
    }
    ot_log_init("collector", OT_LOG_INFO);
    if (config__load(&cc, file)) {
        fprintf(stderr, "organtrack-collector: %s\n", cc.conf.err);
        config__free(&cc);
        return 1;
    }
    ot_log_set_level((enum ot_log_level)ot_log_level_parse(cc.log_level));
    ot_signal_install();
    /* SQLite: one collector per database file, checked before anything */
    lock_fd = role__exclusive(&cc);
    if (lock_fd == -1) {
        config__free(&cc);
        return 1;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
        ot_error("curl init failed");
        goto done;
    }
    q = queue__new((size_t)cc.queue_max, (size_t)cc.queue_max_mb * 1024 * 1024);
    if (!q) {
        ot_error("out of memory for the ingest queue");
        goto done;
    }
    if (cc.influx_on && influx__start(&cc, &ix))
        goto done;
    if (cc.n_webhooks && webhook__start(&cc, &wh))
        goto done;
    /* the database before MQTT: nothing is taken from the broker that we
     * could not store */
    if (worker__open(&cc, NULL, ix, wh, &in))
        goto done;
    if (status__start(&cc, &st))
        goto done;
    ot_info("collector started version=%s config=%s instance=%s", OT_VERSION, file, cc.instance);
    if (role__run(&cc, q, in, st, &ot_signal_stop) == OT_OK)
        rc = 0;
    ot_info("collector stopping");
done:
    /* role__run stopped the main MQTT connection; then the database, the
     * status connection (says active:false), the writers */
    worker__close(in);
    status__stop(st);
    webhook__stop(wh);
    influx__stop(ix);
    queue__free(q);
    curl_global_cleanup();
    config__free(&cc);
    if (lock_fd >= 0)
        close(lock_fd);
    if (rc)
        ot_error("collector exiting with failure");
    else
        ot_info("collector stopped");
    return rc;
}
