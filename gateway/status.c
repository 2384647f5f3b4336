/* status.c - the status file the running gateway rewrites about every second
 * (<spool dir>/status.json, written to a temp file and renamed, so a reader
 * never sees half of it), and `organtrack-gateway status`, which prints it
 * for the crew. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "gateway.h"
#include "ot_log.h"
#include "ot_time.h"

#define STATUS_FILE "status.json"

enum ot_err status__write(const char *dir, const struct gw_status *st)
{
    enum ot_err rc = OT_ERR_NOMEM;
    char path[600], tmp[600];
    char *js = NULL, *last = NULL;
    cJSON *o = cJSON_CreateObject();
    const struct spool_stats *s = &st->spool;
    int64_t backlog = s->next_seq - 1 - s->acked;
    if (!o)
        return OT_ERR_NOMEM;
    if (!cJSON_AddNumberToObject(o, "v", 1) ||
        !cJSON_AddNumberToObject(o, "ts", (double)ot_time_now_ms()) ||
        !cJSON_AddNumberToObject(o, "pid", (double)getpid()) ||
        !cJSON_AddBoolToObject(o, "running", !st->stopped) ||
        !cJSON_AddStringToObject(o, "container", st->cfg->container) ||
        !cJSON_AddStringToObject(o, "gateway", st->cfg->gateway) ||
        !cJSON_AddStringToObject(o, "link", st->link_up ? "up" : "down") ||
        !cJSON_AddNumberToObject(o, "boot", (double)s->boot) ||
        !cJSON_AddNumberToObject(o, "next_seq", (double)s->next_seq) ||
        !cJSON_AddNumberToObject(o, "acked", (double)s->acked) ||
        !cJSON_AddNumberToObject(o, "backlog", (double)(backlog > 0 ? backlog : 0)) ||
        !cJSON_AddNumberToObject(o, "oldest_unacked_ts", (double)st->oldest_unacked_ts) ||
        !cJSON_AddNumberToObject(o, "spool_bytes", (double)s->bytes) ||
        !cJSON_AddNumberToObject(o, "segments", (double)s->segments) ||
        !cJSON_AddNumberToObject(o, "torn_records", (double)s->torn_records) ||
        !cJSON_AddNumberToObject(o, "dropped_segments", (double)s->dropped_segments) ||
        !cJSON_AddNumberToObject(o, "lost_readings", (double)s->lost_readings) ||
        !cJSON_AddNumberToObject(o, "readings_total", (double)st->readings_total) ||
        status__add_devices(o, st->cfg, st->health, st->nhealth))
        goto out;
    if (st->last && st->last->seq > 0) {
        if (ot_reading_encode(st->last, &last))
            goto out;
        cJSON *l = cJSON_Parse(last);
        if (!l || !cJSON_AddItemToObject(o, "last", l)) {
            cJSON_Delete(l);
            goto out;
        }
    }
    if (!(js = cJSON_PrintUnformatted(o)))
        goto out;
    snprintf(path, sizeof path, "%s/%s", dir, STATUS_FILE);
    snprintf(tmp, sizeof tmp, "%s/%s.tmp", dir, STATUS_FILE);
    FILE *f = fopen(tmp, "w");
    rc = OT_ERR_IO;
    if (!f)
        goto out;
    int ok = fputs(js, f) >= 0 && fputc('\n', f) != EOF;
    ok &= fclose(f) == 0;
    if (ok && rename(tmp, path) == 0)
        rc = OT_OK;
out:
    free(js);
    free(last);
    cJSON_Delete(o);
    return rc;
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : 0.0;
}

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "?";
}

static void age(char *buf, size_t len, double ms)
{
    if (ms < 0)
        ms = 0;
    if (ms < 60000)
        snprintf(buf, len, "%.1f s", ms / 1000.0);
    else if (ms < 3600000)
        snprintf(buf, len, "%.1f min", ms / 60000.0);
    else
        snprintf(buf, len, "%.1f h", ms / 3600000.0);
}

int status__print(const struct gw_config *cfg)
{
    char path[600], *text = NULL, a[32], iso[32];
    size_t len;
    snprintf(path, sizeof path, "%s/%s", cfg->spool_dir, STATUS_FILE);
    if (ot_file_read(path, 1 << 20, &text, &len)) {
        printf("gateway %s (container %s): not running (no status file %s)\n", cfg->gateway,
               cfg->container, path);
        return 1;
    }
    cJSON *o = cJSON_ParseWithLength(text, len);
    free(text);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        printf("gateway %s: status file %s unreadable\n", cfg->gateway, path);
        return 1;
    }
    double now = (double)ot_time_now_ms();
    double ts = num(o, "ts");
    int stale = now - ts > 5000.0 + 3.0 * (double)cfg->poll_interval_ms;
    double pid = num(o, "pid");
    /* a stopped or killed gateway is not "live", however fresh its file */
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "running")) ||
        (pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH))
        stale = 1;
    age(a, sizeof a, now - ts);
    printf("gateway %s  container %s  boot %.0f  pid %.0f\n", str(o, "gateway"),
           str(o, "container"), num(o, "boot"), num(o, "pid"));
    printf("status:   %s (written %s ago)\n",
           stale ? "NOT RUNNING (figures below are its last)" : "live", a);
    printf("link:     %s\n", stale ? "unknown" : str(o, "link"));
    double backlog = num(o, "backlog"), oldest = num(o, "oldest_unacked_ts");
    if (backlog > 0 && oldest > 0) {
        age(a, sizeof a, now - oldest);
        printf("backlog:  %.0f readings not yet acknowledged, oldest %s old\n", backlog, a);
    } else {
        printf("backlog:  %.0f readings not yet acknowledged\n", backlog);
    }
    printf("seq:      next %.0f, acknowledged up to %.0f\n", num(o, "next_seq"), num(o, "acked"));
    printf("spool:    %.0f bytes in %.0f segment(s); torn records %.0f, dropped segments %.0f, "
           "readings declared lost %.0f\n",
           num(o, "spool_bytes"), num(o, "segments"), num(o, "torn_records"),
           num(o, "dropped_segments"), num(o, "lost_readings"));
    const cJSON *last = cJSON_GetObjectItemCaseSensitive(o, "last");
    if (cJSON_IsObject(last)) {
        double lts = num(last, "ts");
        age(a, sizeof a, now - lts);
        printf("last reading: seq %.0f at %s (%s ago)\n", num(last, "seq"),
               ot_time_format_iso((int64_t)lts, iso, sizeof iso), a);
        const cJSON *it;
        cJSON_ArrayForEach(it, last)
        {
            if (!strcmp(it->string, "seq") || !strcmp(it->string, "ts"))
                continue;
            if (cJSON_IsBool(it))
                printf("  %-14s %s\n", it->string, cJSON_IsTrue(it) ? "true" : "false");
            else if (cJSON_IsNumber(it))
                printf("  %-14s %g\n", it->string, it->valuedouble);
            else if (cJSON_IsArray(it)) {
                printf("  %-14s", "NOT READ:");
                const cJSON *m;
                cJSON_ArrayForEach(m, it) printf(" %s", cJSON_IsString(m) ? m->valuestring : "?");
                printf("\n");
            }
        }
    } else {
        printf("last reading: none yet\n");
    }
    printf("devices:\n");
    const cJSON *devs = cJSON_GetObjectItemCaseSensitive(o, "devices"), *d;
    cJSON_ArrayForEach(d, devs)
    {
        const cJSON *ok = cJSON_GetObjectItemCaseSensitive(d, "ok");
        double since = num(d, "since");
        if (since > 0)
            age(a, sizeof a, now - since);
        else
            snprintf(a, sizeof a, "start");
        const cJSON *stuck = cJSON_GetObjectItemCaseSensitive(d, "stuck"), *sn;
        char sbuf[256] = "";
        size_t used = 0;
        cJSON_ArrayForEach(sn, stuck)
        {
            int w = snprintf(sbuf + used, sizeof sbuf - used, "%s%s",
                             used ? ", " : "; STUCK: ", cJSON_IsString(sn) ? sn->valuestring : "?");
            if (w < 0 || (size_t)w >= sizeof sbuf - used)
                break;
            used += (size_t)w;
        }
        if (cJSON_IsTrue(ok))
            printf("  %-12s ok for %s%s\n", str(d, "name"), a, sbuf);
        else
            printf("  %-12s FAILING for %s, %.0f consecutive errors, last: %s%s\n", str(d, "name"),
                   a, num(d, "errors"), str(d, "error"), sbuf);
    }
    cJSON_Delete(o);
    return stale ? 1 : 0;
}
