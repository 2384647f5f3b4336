/* status.c - what `organtrack-gateway status` shows.
 *
 * The running gateway answers on a unix socket in its spool dir
 * (<spool dir>/status.sock): `status` connects and gets the status JSON of
 * that moment. Nothing is written to disk for it while the gateway runs
 * (before, a status file rewritten every second was a disk write per
 * second for nothing). The gateway writes <spool dir>/status.json (temp
 * file + rename) when it stops and once a minute, so that `status` can
 * still show the last figures of a gateway that stopped or was killed. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "gateway.h"
#include "ot_log.h"
#include "ot_time.h"

#define STATUS_FILE "status.json"
#define STATUS_SOCK "status.sock"
#define STATUS_MAX (1 << 20)

static int add_limits(cJSON *o, const struct gw_status *st)
{
    const struct gw_limits *l = st->limits;
    const struct gw_alarm *a = st->alarm;
    cJSON *la = cJSON_AddObjectToObject(o, "local_alarm");
    if (!la || !cJSON_AddBoolToObject(la, "on", a && a->on) ||
        !cJSON_AddNumberToObject(la, "since", a ? (double)a->since_ms : 0) ||
        !cJSON_AddNumberToObject(la, "out_since", a ? (double)a->out_since_ms : 0) ||
        (a && a->have_temp && !cJSON_AddNumberToObject(la, "temp_c", a->temp_c)))
        return -1;
    if (!l || !l->set)
        return cJSON_AddNullToObject(la, "limits") ? 0 : -1;
    cJSON *lj = cJSON_AddObjectToObject(la, "limits");
    if (!lj || !cJSON_AddNumberToObject(lj, "temp_min_c", l->temp_min_c) ||
        !cJSON_AddNumberToObject(lj, "temp_max_c", l->temp_max_c) ||
        !cJSON_AddNumberToObject(lj, "excursion_grace_s", (double)l->grace_s) ||
        !cJSON_AddStringToObject(lj, "shipment", l->shipment) ||
        !cJSON_AddStringToObject(lj, "profile", l->profile) ||
        !cJSON_AddNumberToObject(lj, "ts", (double)l->ts))
        return -1;
    return 0;
}

char *status__json(const struct gw_status *st)
{
    char *js = NULL, *last = NULL;
    cJSON *o = cJSON_CreateObject();
    const struct spool_stats *s = &st->spool;
    int64_t backlog = s->next_seq - 1 - s->acked;
    const char *detect[] = {"off", "auto", "input"};
    const struct gw_flight *f = st->flight;
    if (!o)
        return NULL;
    if (!cJSON_AddNumberToObject(o, "v", 1) ||
        !cJSON_AddNumberToObject(o, "ts", (double)ot_time_now_ms()) ||
        !cJSON_AddNumberToObject(o, "pid", (double)getpid()) ||
        !cJSON_AddBoolToObject(o, "running", !st->stopped) ||
        !cJSON_AddStringToObject(o, "container", st->cfg->container) ||
        !cJSON_AddStringToObject(o, "gateway", st->cfg->gateway) ||
        !cJSON_AddStringToObject(o, "link", st->link_up ? "up" : "down") ||
        !cJSON_AddStringToObject(o, "radio",
                                 !st->radio_on ? "flight"
                                 : st->link_up ? "up"
                                               : "down") ||
        !cJSON_AddBoolToObject(o, "flight", f && f->in_flight) ||
        !cJSON_AddNumberToObject(o, "flight_since", f ? (double)f->since_ms : 0) ||
        !cJSON_AddStringToObject(o, "flight_detect", detect[st->cfg->flight.detect]) ||
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
        !cJSON_AddNumberToObject(o, "sync_ms", (double)st->cfg->sync_ms) ||
        !cJSON_AddNumberToObject(o, "flushes", (double)s->flushes) ||
        !cJSON_AddNumberToObject(o, "flush_errors", (double)s->flush_errors) ||
        !cJSON_AddNumberToObject(o, "readings_total", (double)st->readings_total) ||
        add_limits(o, st) || state__add_devices(o, st->cfg, st->health, st->nhealth))
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
    js = cJSON_PrintUnformatted(o);
out:
    free(last);
    cJSON_Delete(o);
    return js;
}

static int sock_path(const char *dir, struct sockaddr_un *sa)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    int n = snprintf(sa->sun_path, sizeof sa->sun_path, "%s/%s", dir, STATUS_SOCK);
    return n < 0 || (size_t)n >= sizeof sa->sun_path ? -1 : 0;
}

int status__listen(const char *dir)
{
    struct sockaddr_un sa;
    if (sock_path(dir, &sa)) {
        ot_warn("status socket path too long, status.json is kept fresh instead dir=%s", dir);
        return -1;
    }
    unlink(sa.sun_path); /* a stale one: the spool lock says we own the dir */
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    /* as readable as status.json always was (no secrets in it): an operator
     * who is not the gateway's user must not be told it is not running */
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) || chmod(sa.sun_path, 0666) ||
        listen(fd, 4)) {
        ot_warn("status socket unusable, status.json is kept fresh instead path=%s error=\"%s\"",
                sa.sun_path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

void status__unlisten(int lfd, const char *dir)
{
    struct sockaddr_un sa;
    if (lfd < 0)
        return;
    close(lfd);
    if (!sock_path(dir, &sa))
        unlink(sa.sun_path);
}

void status__serve(int lfd, const struct gw_status *st)
{
    for (int i = 0; i < 4; i++) { /* a few per wake: a loop of `status` calls cannot starve us */
        int c = accept(lfd, NULL, NULL);
        if (c < 0)
            return;
        fcntl(c, F_SETFD, FD_CLOEXEC);
        fcntl(c, F_SETFL, fcntl(c, F_GETFL) & ~O_NONBLOCK);
        char *js = status__json(st);
        if (js) {
            /* the answer is a few KiB: a blocking write with a short timeout,
             * so a client that does not read costs at most 200 ms */
            struct timeval tv = {0, 200000};
            setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
            size_t len = strlen(js), done = 0;
            while (done < len) {
                ssize_t w = send(c, js + done, len - done, MSG_NOSIGNAL);
                if (w <= 0)
                    break;
                done += (size_t)w;
            }
            free(js);
        }
        close(c);
    }
}

enum ot_err status__write(const char *dir, const struct gw_status *st)
{
    char path[600], tmp[600];
    char *js = status__json(st);
    if (!js)
        return OT_ERR_NOMEM;
    snprintf(path, sizeof path, "%s/%s", dir, STATUS_FILE);
    snprintf(tmp, sizeof tmp, "%s/%s.tmp", dir, STATUS_FILE);
    enum ot_err rc = OT_ERR_IO;
    FILE *f = fopen(tmp, "w");
    if (f) {
        int ok = fputs(js, f) >= 0 && fputc('\n', f) != EOF;
        ok &= fclose(f) == 0;
        if (ok && rename(tmp, path) == 0)
            rc = OT_OK;
    }
    free(js);
    return rc;
}

/* The running gateway's answer, NULL if none answers. Caller frees. */
static char *ask_running(const char *dir)
{
    struct sockaddr_un sa;
    if (sock_path(dir, &sa))
        return NULL;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return NULL;
    struct timeval tv = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa))
        goto fail;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            if (cap >= STATUS_MAX)
                goto fail;
            char *nb = realloc(buf, cap ? cap * 2 : 16384);
            if (!nb)
                goto fail;
            buf = nb;
            cap = cap ? cap * 2 : 16384;
        }
        ssize_t n = recv(fd, buf + len, cap - len - 1, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto fail;
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    if (!len) {
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    return buf;
fail:
    close(fd);
    free(buf);
    return NULL;
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

static void print_alarm(const cJSON *o, double now)
{
    const cJSON *la = cJSON_GetObjectItemCaseSensitive(o, "local_alarm");
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(la, "limits");
    char a[32], band[160] = "";
    if (!cJSON_IsObject(l)) {
        printf("local alarm: off (no limits from the collector: the alarm output is not driven)\n");
        return;
    }
    snprintf(band, sizeof band, "band %.2f..%.2f degC, grace %.0f s, shipment %s %s",
             num(l, "temp_min_c"), num(l, "temp_max_c"), num(l, "excursion_grace_s"),
             str(l, "shipment"), str(l, "profile"));
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(la, "on"))) {
        age(a, sizeof a, now - num(la, "out_since"));
        printf("local alarm: ON, temp_c %.2f out of band for %s (%s)\n", num(la, "temp_c"), a,
               band);
    } else if (num(la, "out_since") > 0) {
        age(a, sizeof a, now - num(la, "out_since"));
        printf("local alarm: off, temp_c %.2f out of band for %s, within the grace (%s)\n",
               num(la, "temp_c"), a, band);
    } else {
        printf("local alarm: off (%s)\n", band);
    }
}

static void print_devices(const cJSON *o, double now)
{
    char a[32];
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
        char sbuf[256] = "", obuf[200] = "";
        size_t used = 0;
        cJSON_ArrayForEach(sn, stuck)
        {
            int w = snprintf(sbuf + used, sizeof sbuf - used, "%s%s",
                             used ? ", " : "; STUCK: ", cJSON_IsString(sn) ? sn->valuestring : "?");
            if (w < 0 || (size_t)w >= sizeof sbuf - used)
                break;
            used += (size_t)w;
        }
        const cJSON *out = cJSON_GetObjectItemCaseSensitive(d, "output");
        const cJSON *oerr = cJSON_GetObjectItemCaseSensitive(d, "output_error");
        if (cJSON_IsString(oerr))
            snprintf(obuf, sizeof obuf, "; alarm output WRITE FAILING: %s", oerr->valuestring);
        else if (cJSON_IsNumber(out))
            snprintf(obuf, sizeof obuf, "; alarm output %s", out->valuedouble != 0 ? "ON" : "off");
        if (cJSON_IsTrue(ok))
            printf("  %-12s ok for %s%s%s\n", str(d, "name"), a, sbuf, obuf);
        else
            printf("  %-12s FAILING for %s, %.0f consecutive errors, last: %s%s%s\n",
                   str(d, "name"), a, num(d, "errors"), str(d, "error"), sbuf, obuf);
    }
}

static void print_last(const cJSON *o, double now)
{
    char a[32], iso[32];
    const cJSON *last = cJSON_GetObjectItemCaseSensitive(o, "last");
    if (!cJSON_IsObject(last)) {
        printf("last reading: none yet\n");
        return;
    }
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
}

int status__print(const struct gw_config *cfg, int json)
{
    char path[600], *text = NULL, a[32], iso[32];
    size_t len;
    int live = 1;
    text = ask_running(cfg->spool_dir);
    if (!text) {
        live = 0;
        snprintf(path, sizeof path, "%s/%s", cfg->spool_dir, STATUS_FILE);
        if (ot_file_read(path, STATUS_MAX, &text, &len)) {
            printf("gateway %s (container %s): not running (no status file %s)\n", cfg->gateway,
                   cfg->container, path);
            return 1;
        }
    }
    cJSON *o = cJSON_Parse(text);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        free(text);
        printf("gateway %s: status unreadable\n", cfg->gateway);
        return 1;
    }
    double now = (double)ot_time_now_ms(), pid = num(o, "pid");
    /* the file of a gateway that is still running but has no socket (path
     * too long) is fresh; otherwise a file means it stopped or was killed */
    if (!live && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "running")) && pid > 0 &&
        !(kill((pid_t)pid, 0) != 0 && errno == ESRCH) &&
        now - num(o, "ts") < 5000.0 + 3.0 * (double)cfg->poll_interval_ms)
        live = 1;
    if (json) {
        printf("%s\n", text);
        free(text);
        cJSON_Delete(o);
        return live ? 0 : 1;
    }
    free(text);
    age(a, sizeof a, now - num(o, "ts"));
    printf("gateway %s  container %s  boot %.0f  pid %.0f\n", str(o, "gateway"),
           str(o, "container"), num(o, "boot"), pid);
    printf("status:   %s\n", live ? "live" : "NOT RUNNING (figures below are its last)");
    if (!live)
        printf("          (written %s ago)\n", a);
    printf("link:     %s\n", live ? str(o, "link") : "unknown");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "flight"))) {
        double since = num(o, "flight_since");
        age(a, sizeof a, now - since);
        printf("radio:    FLIGHT MODE since %s (%s): silent, readings spool (detect %s)\n",
               ot_time_format_iso((int64_t)since, iso, sizeof iso), a, str(o, "flight_detect"));
    }
    print_alarm(o, now);
    double backlog = num(o, "backlog"), oldest = num(o, "oldest_unacked_ts");
    if (backlog > 0 && oldest > 0) {
        age(a, sizeof a, now - oldest);
        printf("backlog:  %.0f readings not yet acknowledged, oldest %s old\n", backlog, a);
    } else {
        printf("backlog:  %.0f readings not yet acknowledged\n", backlog);
    }
    printf("seq:      next %.0f, acknowledged up to %.0f\n", num(o, "next_seq"), num(o, "acked"));
    printf("spool:    %.0f bytes in %.0f segment(s); torn records %.0f, dropped segments %.0f, "
           "readings declared lost %.0f; flushed every %.0f ms (%.0f flushes, %.0f failed)\n",
           num(o, "spool_bytes"), num(o, "segments"), num(o, "torn_records"),
           num(o, "dropped_segments"), num(o, "lost_readings"), num(o, "sync_ms"),
           num(o, "flushes"), num(o, "flush_errors"));
    print_last(o, now);
    print_devices(o, now);
    cJSON_Delete(o);
    return live ? 0 : 1;
}
