/* main.c - organtrack-api: the HTTP JSON API, live event stream and web
 * dashboard (SPEC "HTTP API"). `organtrack-api --config FILE` serves;
 * `organtrack-api token create|list|revoke ... --config FILE` manages
 * tokens. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "http.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ot_ledger.h"
#include "ot_log.h"
#include "ot_preservation.h"
#include "ot_signal.h"

static void usage(FILE *f)
{
    fprintf(
        f, "usage: organtrack-api --config FILE\n"
           "       organtrack-api token create --role R --name N [--container C]... --config FILE\n"
           "       organtrack-api token list --config FILE\n"
           "       organtrack-api token revoke --id N --config FILE\n"
           "       organtrack-api signer set --name N --config FILE   (PIN on stdin)\n"
           "       organtrack-api --help | --version\n"
           "Serves the organtrack HTTP API, event stream and web dashboard (docs/api.md).\n");
}

/* mkdir -p of the directory part of path (var/ is created on demand). */
static void make_parent(const char *path)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", path);
    char *slash = strrchr(buf, '/');
    if (!slash || slash == buf)
        return;
    *slash = '\0';
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(buf, 0755);
            *p = '/';
        }
    }
    mkdir(buf, 0755);
}

int main(int argc, char **argv)
{
    const char *config = NULL;
    struct api_ctx ctx;
    char err[1024];
    int exit_code = 1;
    memset(&ctx, 0, sizeof ctx);
    ot_log_init("api", OT_LOG_INFO);
    if (argc > 1 && strcmp(argv[1], "token") == 0)
        return api__token_cli(argc - 2, argv + 2);
    if (argc > 1 && strcmp(argv[1], "signer") == 0)
        return api__signer_cli(argc - 2, argv + 2);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("organtrack-api %s\n", OT_VERSION);
            return 0;
        }
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            config = argv[++i];
            continue;
        }
        fprintf(stderr, "organtrack-api: unknown argument %s\n", argv[i]);
        usage(stderr);
        return 2;
    }
    if (!config) {
        fprintf(stderr, "organtrack-api: --config FILE is required\n");
        return 2;
    }
    if (api__config_load(config, &ctx.cfg, err, sizeof err)) {
        fprintf(stderr, "organtrack-api: %s\n", err);
        return 1;
    }
    ot_log_set_level((enum ot_log_level)ot_log_level_parse(ctx.cfg.log_level));
    if (ot_preservation_load(ctx.cfg.preservation, &ctx.pres, err, sizeof err)) {
        fprintf(stderr, "organtrack-api: %s: preservation: %s\n", config, err);
        return 1;
    }
    make_parent(ctx.cfg.database);
    make_parent(ctx.cfg.ledger_key);
    if (ot_ledger_key_load(ctx.cfg.ledger_key, &ctx.key)) {
        fprintf(stderr, "organtrack-api: %s: ledger_key: cannot load or create %s\n", config,
                ctx.cfg.ledger_key);
        goto out;
    }
    if (!realpath(ctx.cfg.web_root, ctx.web_root_real)) {
        ot_warn("web_root not found; the dashboard is not served web_root=%s", ctx.cfg.web_root);
        ctx.web_root_real[0] = '\0';
    }
    if (api__pool_open(ctx.cfg.database, (size_t)ctx.cfg.threads + 2, &ctx.pool)) {
        fprintf(stderr, "organtrack-api: %s: database: cannot open %s\n", config, ctx.cfg.database);
        goto out;
    }
    if (api__metrics_new(&ctx.metrics) || api__list_cache_new(&ctx.list_cache) ||
        api__token_cache_new(&ctx.tokens) || api__notify_start(&ctx) || api__sse_start(&ctx))
        goto out;
    ot_signal_install();
    if (api__http_run(&ctx) == OT_OK)
        exit_code = 0;
out:
    api__sse_free(&ctx);
    api__notify_stop(&ctx);
    api__token_cache_free(ctx.tokens);
    api__list_cache_free(ctx.list_cache);
    api__metrics_free(ctx.metrics);
    api__pool_close(ctx.pool);
    ot_ledger_key_free(ctx.key);
    ot_preservation_free(ctx.pres);
    if (exit_code == 0)
        ot_info("stopped");
    return exit_code;
}
