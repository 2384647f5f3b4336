/* influx.c - InfluxDB writer thread with a bounded on-disk retry queue.
 *
 * The worker hands over complete line-protocol lines after each commit
 * (influx__submit only appends to a capped memory buffer under a mutex; it
 * never waits on the network). Every flush_ms the writer takes the buffer:
 *   - if nothing is spooled and the server is not in back-off, it POSTs the
 *     lines directly (batch_lines per request);
 *   - otherwise, or if that POST fails, it writes them as a new numbered
 *     file in the spool directory and sends spooled files oldest first,
 *     deleting each only after InfluxDB answered 2xx.
 * Failures back off exponentially (1 s .. 30 s). The spool is capped in MB:
 * only when it is full is the OLDEST file dropped, counted and logged. A 400
 * (bad points) drops the request, counted, since retrying cannot help. The
 * spool survives restarts (files are re-read at start), so an InfluxDB
 * outage loses nothing; a crash of the collector itself can lose the lines
 * of the last flush interval not yet spooled. */
#include "collector.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ot_log.h"
#include "ot_parse.h"
#include "ot_time.h"

#define MEM_MAX (32u * 1024u * 1024u)
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 30000

struct spool_file {
    int64_t num;
    int64_t bytes;
};

struct influx {
    const struct collector_conf *cc;
    char dir[600];
    char *url;
    struct curl_slist *headers;
    CURL *curl;
    pthread_t th;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char *buf;
    size_t len, cap;
    int stop;
    int64_t written, dropped, failures; /* under mu */
    /* writer thread only */
    struct spool_file *files;
    size_t n_files, cap_files;
    int64_t spool_bytes;
    int64_t next_num;
    int64_t backoff_ms, next_try;
    int down_logged;
};

static void count(struct influx *ix, int64_t *field, int64_t n)
{
    pthread_mutex_lock(&ix->mu);
    *field += n;
    pthread_mutex_unlock(&ix->mu);
}

static int64_t count_lines(const char *b, size_t n)
{
    int64_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += b[i] == '\n';
    return k;
}

static void file_path(struct influx *ix, int64_t num, char *out, size_t len)
{
    snprintf(out, len, "%s/%016lld.lp", ix->dir, (long long)num);
}

static int cmp_files(const void *a, const void *b)
{
    const struct spool_file *x = a, *y = b;
    return (x->num > y->num) - (x->num < y->num);
}

static enum ot_err files_push(struct influx *ix, int64_t num, int64_t bytes)
{
    if (ix->n_files == ix->cap_files) {
        size_t ncap = ix->cap_files ? ix->cap_files * 2 : 64;
        struct spool_file *nf = realloc(ix->files, ncap * sizeof *nf);
        if (!nf)
            return OT_ERR_NOMEM;
        ix->files = nf;
        ix->cap_files = ncap;
    }
    ix->files[ix->n_files].num = num;
    ix->files[ix->n_files].bytes = bytes;
    ix->n_files++;
    ix->spool_bytes += bytes;
    return OT_OK;
}

static void files_pop_front(struct influx *ix)
{
    ix->spool_bytes -= ix->files[0].bytes;
    memmove(&ix->files[0], &ix->files[1], (ix->n_files - 1) * sizeof *ix->files);
    ix->n_files--;
}

static enum ot_err scan_spool(struct influx *ix)
{
    DIR *d = opendir(ix->dir);
    struct dirent *e;
    if (!d) {
        ot_error("cannot open influx spool dir=%s error=\"%s\"", ix->dir, strerror(errno));
        return OT_ERR_IO;
    }
    while ((e = readdir(d))) {
        char name[64], path[700];
        size_t nl = strlen(e->d_name);
        int64_t num;
        struct stat sb;
        if (nl < 4 || nl > 40 || strcmp(e->d_name + nl - 3, ".lp"))
            continue;
        memcpy(name, e->d_name, nl - 3);
        name[nl - 3] = '\0';
        if (ot_parse_i64(name, 0, INT64_MAX / 2, &num))
            continue;
        file_path(ix, num, path, sizeof path);
        if (stat(path, &sb))
            continue;
        if (files_push(ix, num, (int64_t)sb.st_size)) {
            closedir(d);
            return OT_ERR_NOMEM;
        }
        if (num >= ix->next_num)
            ix->next_num = num + 1;
    }
    closedir(d);
    if (ix->n_files > 1)
        qsort(ix->files, ix->n_files, sizeof *ix->files, cmp_files);
    if (ix->n_files)
        ot_info("influx spool found files=%zu bytes=%lld", ix->n_files, (long long)ix->spool_bytes);
    return OT_OK;
}

/* drops oldest files until `more` bytes fit under the cap */
static void enforce_cap(struct influx *ix, int64_t more)
{
    int64_t cap = ix->cc->influx_spool_max_mb * 1024 * 1024;
    while (ix->n_files && ix->spool_bytes + more > cap) {
        char path[700];
        char *text = NULL;
        size_t len = 0;
        int64_t lines = 0;
        file_path(ix, ix->files[0].num, path, sizeof path);
        if (!ot_file_read(path, (size_t)cap, &text, &len))
            lines = count_lines(text, len);
        free(text);
        unlink(path);
        ot_error("influx spool full, dropped oldest file lines=%lld cap_mb=%lld", (long long)lines,
                 (long long)ix->cc->influx_spool_max_mb);
        count(ix, &ix->dropped, lines);
        files_pop_front(ix);
    }
}

static enum ot_err spool_write(struct influx *ix, const char *b, size_t n)
{
    char path[700], tmp[720];
    enforce_cap(ix, (int64_t)n);
    int64_t num = ix->next_num++;
    file_path(ix, num, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        goto fail;
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, b + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            unlink(tmp);
            goto fail;
        }
        off += (size_t)w;
    }
    if (fsync(fd) || close(fd) || rename(tmp, path)) {
        unlink(tmp);
        goto fail;
    }
    return files_push(ix, num, (int64_t)n);
fail:
    ot_error("influx spool write failed path=%s error=\"%s\" lines=%lld", path, strerror(errno),
             (long long)count_lines(b, n));
    count(ix, &ix->dropped, count_lines(b, n));
    return OT_ERR_IO;
}

/* 0 sent, 1 retry later, 2 rejected for good */
static int post(struct influx *ix, const char *b, size_t n)
{
    long status = 0;
    curl_easy_setopt(ix->curl, CURLOPT_POSTFIELDS, b);
    curl_easy_setopt(ix->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
    CURLcode cr = curl_easy_perform(ix->curl);
    if (cr != CURLE_OK) {
        if (!ix->down_logged)
            ot_warn("influx write failed error=\"%s\"", curl_easy_strerror(cr));
        ix->down_logged = 1;
        return 1;
    }
    curl_easy_getinfo(ix->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300) {
        if (ix->down_logged)
            ot_info("influx write ok again");
        ix->down_logged = 0;
        return 0;
    }
    if (status == 400 || status == 413) {
        ot_error("influx rejected points status=%ld lines=%lld", status,
                 (long long)count_lines(b, n));
        return 2;
    }
    if (!ix->down_logged)
        ot_warn("influx write failed status=%ld", status);
    ix->down_logged = 1;
    return 1;
}

static size_t discard_body(char *p, size_t sz, size_t nm, void *u)
{
    (void)p;
    (void)u;
    return sz * nm;
}

static void backoff(struct influx *ix)
{
    count(ix, &ix->failures, 1);
    ix->backoff_ms = ix->backoff_ms ? ix->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (ix->backoff_ms > BACKOFF_MAX_MS)
        ix->backoff_ms = BACKOFF_MAX_MS;
    ix->next_try = ot_time_mono_ms() + ix->backoff_ms;
}

/* Sends spooled files oldest first until one fails or `until` (monotonic
 * ms, 0 = no limit) passes. */
static void drain_spool(struct influx *ix, int64_t until)
{
    while (ix->n_files && ot_time_mono_ms() >= ix->next_try &&
           (!until || ot_time_mono_ms() < until)) {
        char path[700];
        char *text = NULL;
        size_t len = 0;
        file_path(ix, ix->files[0].num, path, sizeof path);
        if (ot_file_read(path, 512u * 1024u * 1024u, &text, &len)) {
            ot_error("influx spool file unreadable, dropped path=%s", path);
            unlink(path);
            files_pop_front(ix);
            continue;
        }
        int r = post(ix, text, len);
        if (r == 1) {
            free(text);
            backoff(ix);
            return;
        }
        count(ix, r == 0 ? &ix->written : &ix->dropped, count_lines(text, len));
        free(text);
        unlink(path);
        files_pop_front(ix);
        ix->backoff_ms = 0;
    }
}

/* Handles one taken buffer: split into requests of batch_lines lines. */
static void handle_lines(struct influx *ix, const char *b, size_t n)
{
    size_t off = 0;
    while (off < n) {
        size_t end = off;
        int64_t lines = 0;
        while (end < n && lines < ix->cc->influx_batch_lines) {
            const char *nl = memchr(b + end, '\n', n - end);
            end = nl ? (size_t)(nl - b) + 1 : n;
            lines++;
        }
        int direct = ix->n_files == 0 && ot_time_mono_ms() >= ix->next_try;
        int r = direct ? post(ix, b + off, end - off) : 1;
        if (r == 0)
            count(ix, &ix->written, lines);
        else if (r == 2)
            count(ix, &ix->dropped, lines);
        else {
            if (direct)
                backoff(ix);
            spool_write(ix, b + off, end - off);
        }
        off = end;
    }
}

static void *writer_main(void *arg)
{
    struct influx *ix = arg;
    char *mine = NULL;
    size_t mine_cap = 0;
    for (;;) {
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        int64_t ms = ix->cc->influx_flush_ms;
        dl.tv_sec += (time_t)(ms / 1000);
        dl.tv_nsec += (long)(ms % 1000) * 1000000L;
        if (dl.tv_nsec >= 1000000000L) {
            dl.tv_sec++;
            dl.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&ix->mu);
        if (!ix->stop)
            pthread_cond_timedwait(&ix->cv, &ix->mu, &dl);
        int stopping = ix->stop;
        /* swap buffers: the worker keeps appending into the other one */
        char *taken = ix->buf;
        size_t taken_len = ix->len, taken_cap = ix->cap;
        ix->buf = mine;
        ix->cap = mine_cap;
        ix->len = 0;
        mine = taken;
        mine_cap = taken_cap;
        pthread_mutex_unlock(&ix->mu);
        if (stopping) {
            /* shut down: one last attempt while InfluxDB answers (each
             * request bounded by timeout_ms); the rest stays on disk for
             * the next start */
            if (taken_len)
                handle_lines(ix, taken, taken_len);
            drain_spool(ix, ot_time_mono_ms() + 5000);
            break;
        }
        if (taken_len)
            handle_lines(ix, taken, taken_len);
        drain_spool(ix, 0);
    }
    free(mine);
    return NULL;
}

enum ot_err influx__start(const struct collector_conf *cc, struct influx **out)
{
    enum ot_err rc = OT_ERR_NOMEM;
    struct influx *ix = calloc(1, sizeof *ix);
    char *e1 = NULL, *e2 = NULL;
    *out = NULL;
    if (!ix)
        return OT_ERR_NOMEM;
    ix->cc = cc;
    pthread_mutex_init(&ix->mu, NULL);
    pthread_cond_init(&ix->cv, NULL);
    if (*cc->influx_spool_dir)
        snprintf(ix->dir, sizeof ix->dir, "%s", cc->influx_spool_dir);
    else
        snprintf(ix->dir, sizeof ix->dir, "%s.influx-spool", cc->database);
    if (mkdir(ix->dir, 0700) && errno != EEXIST) {
        ot_error("cannot create influx spool dir=%s error=\"%s\"", ix->dir, strerror(errno));
        rc = OT_ERR_IO;
        goto fail;
    }
    ix->curl = curl_easy_init();
    if (!ix->curl)
        goto fail;
    size_t ul = strlen(cc->influx_url);
    while (ul && cc->influx_url[ul - 1] == '/')
        ul--;
    size_t need = ul + 512;
    ix->url = malloc(need);
    if (!ix->url)
        goto fail;
    if (*cc->influx_bucket) {
        e1 = curl_easy_escape(ix->curl, cc->influx_org, 0);
        e2 = curl_easy_escape(ix->curl, cc->influx_bucket, 0);
        if (!e1 || !e2)
            goto fail;
        snprintf(ix->url, need, "%.*s/api/v2/write?org=%.200s&bucket=%.200s&precision=ms", (int)ul,
                 cc->influx_url, e1, e2);
    } else {
        e1 = curl_easy_escape(ix->curl, cc->influx_db, 0);
        if (!e1)
            goto fail;
        snprintf(ix->url, need, "%.*s/write?db=%.400s&precision=ms", (int)ul, cc->influx_url, e1);
    }
    ix->headers = curl_slist_append(NULL, "Content-Type: text/plain; charset=utf-8");
    if (!ix->headers)
        goto fail;
    if (*cc->influx_token) {
        char auth[600];
        snprintf(auth, sizeof auth, "Authorization: Token %.500s", cc->influx_token);
        struct curl_slist *h = curl_slist_append(ix->headers, auth);
        if (!h)
            goto fail;
        ix->headers = h;
    }
    curl_easy_setopt(ix->curl, CURLOPT_URL, ix->url);
    curl_easy_setopt(ix->curl, CURLOPT_HTTPHEADER, ix->headers);
    curl_easy_setopt(ix->curl, CURLOPT_TIMEOUT_MS, (long)cc->influx_timeout_ms);
    curl_easy_setopt(ix->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)cc->influx_timeout_ms);
    curl_easy_setopt(ix->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(ix->curl, CURLOPT_WRITEFUNCTION, discard_body);
    rc = scan_spool(ix);
    if (rc)
        goto fail;
    if (pthread_create(&ix->th, NULL, writer_main, ix)) {
        rc = OT_ERR_NOMEM;
        goto fail;
    }
    ix->started = 1;
    ot_info("influx writer started url=%s spool=%s", ix->url, ix->dir);
    curl_free(e1);
    curl_free(e2);
    *out = ix;
    return OT_OK;
fail:
    curl_free(e1);
    curl_free(e2);
    influx__stop(ix);
    return rc;
}

void influx__stop(struct influx *ix)
{
    if (!ix)
        return;
    if (ix->started) {
        pthread_mutex_lock(&ix->mu);
        ix->stop = 1;
        pthread_cond_signal(&ix->cv);
        pthread_mutex_unlock(&ix->mu);
        pthread_join(ix->th, NULL);
    }
    if (ix->curl)
        curl_easy_cleanup(ix->curl);
    curl_slist_free_all(ix->headers);
    free(ix->url);
    free(ix->buf);
    free(ix->files);
    pthread_mutex_destroy(&ix->mu);
    pthread_cond_destroy(&ix->cv);
    free(ix);
}

void influx__submit(struct influx *ix, const char *lines, size_t len)
{
    pthread_mutex_lock(&ix->mu);
    if (ix->len + len > MEM_MAX) {
        ix->dropped += count_lines(lines, len);
        pthread_mutex_unlock(&ix->mu);
        ot_error("influx memory buffer full, points dropped lines=%lld",
                 (long long)count_lines(lines, len));
        return;
    }
    if (ix->len + len + 1 > ix->cap || !ix->buf) {
        size_t ncap = ix->cap && ix->buf ? ix->cap : 65536;
        while (ncap < ix->len + len + 1)
            ncap *= 2;
        char *nb = realloc(ix->buf, ncap);
        if (!nb) {
            ix->dropped += count_lines(lines, len);
            pthread_mutex_unlock(&ix->mu);
            return;
        }
        ix->buf = nb;
        ix->cap = ncap;
    }
    memcpy(ix->buf + ix->len, lines, len);
    ix->len += len;
    ix->buf[ix->len] = '\0';
    pthread_mutex_unlock(&ix->mu);
}

void influx__take_counts(struct influx *ix, int64_t *written, int64_t *dropped, int64_t *failures)
{
    pthread_mutex_lock(&ix->mu);
    *written = ix->written;
    *dropped = ix->dropped;
    *failures = ix->failures;
    ix->written = ix->dropped = ix->failures = 0;
    pthread_mutex_unlock(&ix->mu);
}
