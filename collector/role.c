/* role.c - active or standing by (collector.h).
 *
 * PostgreSQL: several collectors may share one database; exactly one is
 * active. The active one holds pg_try_advisory_lock(ROLE_LOCK_KEY) on the
 * worker's own database session, so the lock dies with the session
 * (SIGKILL, host loss, a network cut the server notices). Only the holder
 * connects to the broker under the shared mqtt.client_id; a standby tries
 * the lock every 500 ms. When the active one loses its session (a failed
 * statement and ot_sql_lost), it disconnects from the broker at once,
 * reconnects to the database (back-off 0.5 s doubling to 5 s; libpq tries
 * every host of a multi-host URI, target_session_attrs=read-write finds the
 * new primary) and tries the lock again: it is active again and replays
 * the batch it had in hand, or another collector took over and it stands
 * by, dropping what it held (none of it was acknowledged).
 *
 * Every activation bumps counters(collector, activations) in the database
 * and remembers the value: if the next activation of the same process
 * finds exactly the next number, nobody else was active in between and the
 * rules keep their state; otherwise they start from the database.
 *
 * SQLite: no standby. A second collector on the same file would write the
 * same readings and fight over one broker session, so it refuses to start:
 * role__exclusive takes an exclusive flock on "<database>.collector-lock"
 * beside the file, held until exit. */
#include "collector.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "ot_log.h"
#include "ot_sql.h"
#include "ot_time.h"

/* advisory lock keys of organtrack: 7302000 migrations, 7302001 events */
#define ROLE_LOCK_KEY "7302100"
#define STANDBY_POLL_MS 500
#define RECONNECT_FIRST_MS 500
#define RECONNECT_MAX_MS 5000
#define RECONNECT_LOG_EVERY_MS 60000

struct role {
    const struct collector_conf *cc;
    struct queue *q;
    struct ingest *in;
    struct status *st;
    volatile sig_atomic_t *stop;
    struct ot_sql *db;
    struct ot_sql_stmt *st_lock, *st_activation;
    int64_t activation; /* counters(collector, activations) when we last became active */
};

int role__exclusive(const struct collector_conf *cc)
{
    char path[4096];
    if (ot_sql_is_uri(cc->database))
        return -2; /* PostgreSQL: the standby lock decides */
    if (snprintf(path, sizeof path, "%s.collector-lock", cc->database) >= (int)sizeof path) {
        ot_error("database path too long for its lock file database=%s", cc->database);
        return -1;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        ot_error("cannot open the collector's lock file lock=%s error=\"%s\"", path,
                 strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB)) {
        int e = errno;
        close(fd);
        if (e == EWOULDBLOCK)
            ot_error("another collector is running on this SQLite database; stop it first "
                     "(several collectors need PostgreSQL) database=%s lock=%s",
                     cc->database, path);
        else
            ot_error("cannot lock the collector's lock file lock=%s error=\"%s\"", path,
                     strerror(e));
        return -1;
    }
    return fd; /* held until the process exits */
}

static void nap(struct role *r, int64_t ms)
{
    int64_t until = ot_time_mono_ms() + ms;
    while (!*r->stop) {
        int64_t left = until - ot_time_mono_ms();
        if (left <= 0)
            break;
        struct timespec ts = {0, (long)(left < 50 ? left : 50) * 1000000L};
        nanosleep(&ts, NULL);
        status__tick(r->st);
    }
}

/* *got: the lock is ours (always on SQLite). */
static enum ot_err try_lock(struct role *r, int *got)
{
    int row = 0;
    *got = 0;
    if (!r->st_lock) {
        *got = 1;
        return OT_OK;
    }
    enum ot_err rc = ot_sql_step(r->st_lock, &row);
    if (!rc && row)
        *got = ot_sql_int64(r->st_lock, 0) != 0;
    ot_sql_reset(r->st_lock);
    return rc;
}

/* Bumps the activation counter: *keep if nobody else was active since our
 * last activation. */
static enum ot_err count_activation(struct role *r, int *keep)
{
    int row = 0;
    int64_t v = 0;
    enum ot_err rc = ot_sql_step(r->st_activation, &row);
    if (!rc && row)
        v = ot_sql_int64(r->st_activation, 0);
    ot_sql_reset(r->st_activation);
    *keep = !rc && r->activation && v == r->activation + 1;
    if (!rc)
        r->activation = v;
    return rc;
}

/* Connects to the database again until it answers (or we stop). */
static void reconnect(struct role *r)
{
    int64_t backoff = RECONNECT_FIRST_MS, since = ot_time_mono_ms(), logged = since;
    int attempts = 0;
    while (!*r->stop) {
        attempts++;
        if (!worker__reconnect(r->in)) {
            if (attempts > 1)
                ot_info("database back after attempts=%d down_ms=%lld database=%s", attempts,
                        (long long)(ot_time_mono_ms() - since), ot_sql_name(r->db));
            return;
        }
        if (attempts == 1 || ot_time_mono_ms() - logged >= RECONNECT_LOG_EVERY_MS) {
            logged = ot_time_mono_ms();
            ot_error("database unreachable, retrying (not connected to the broker meanwhile) "
                     "attempts=%d retry_in_ms=%lld database=%s",
                     attempts, (long long)backoff, ot_sql_name(r->db));
        }
        nap(r, backoff);
        backoff = backoff * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS : backoff * 2;
    }
}

/* Active until stopped or the database session is lost. */
static enum worker_end be_active(struct role *r, int keep)
{
    struct mqtt *m = NULL;
    if (worker__activate(r->in, keep))
        return WORKER_LOST; /* its reads failed: the connection, most likely */
    ot_info("collector active instance=%s database=%s", r->cc->instance, ot_sql_name(r->db));
    if (mqtt__start(r->cc, r->q, &m)) {
        ot_error("cannot start the MQTT client; stopping");
        *r->stop = 1;
        return WORKER_STOPPED;
    }
    /* after the connect: Paho's receive thread, waiting (up to 1 s) on
     * the status connection's socket, takes up the new one when the
     * broker answers this publish */
    status__set(r->st, 1);
    worker__set_mqtt(r->in, m);
    enum worker_end end = worker__run(r->in, r->q, r->stop);
    worker__set_mqtt(r->in, NULL);
    /* lost: whoever holds the lock now may connect under our client id;
     * stop acknowledging at once */
    mqtt__stop(m, end == WORKER_LOST);
    status__set(r->st, 0);
    if (end == WORKER_LOST)
        ot_warn("collector no longer active: database session lost, disconnected from the "
                "broker instance=%s",
                r->cc->instance);
    return end;
}

static void standing_by(struct role *r, int *logged, char *peer_logged, size_t cap)
{
    char peer[COLLECTOR_INSTANCE_MAX + 1] = "unknown";
    status__active_peer(r->st, peer, sizeof peer);
    if (!*logged || strcmp(peer, peer_logged)) {
        ot_info("collector standing by instance=%s active=%s database=%s", r->cc->instance, peer,
                ot_sql_name(r->db));
        snprintf(peer_logged, cap, "%s", peer);
        *logged = 1;
    }
}

enum ot_err role__run(const struct collector_conf *cc, struct queue *q, struct ingest *in,
                      struct status *st, volatile sig_atomic_t *stop)
{
    struct role r = {cc, q, in, st, stop, worker__sql(in), NULL, NULL, 0};
    char peer_logged[COLLECTOR_INSTANCE_MAX + 1] = "";
    int standby_logged = 0;
    enum ot_err rc;
    if (ot_sql_kind(r.db) == OT_SQL_POSTGRES &&
        (rc = ot_sql_prepare(r.db, "SELECT pg_try_advisory_lock(" ROLE_LOCK_KEY ")", &r.st_lock)))
        return rc;
    if ((rc = ot_sql_prepare(r.db,
                             "INSERT INTO counters(name,label,value) VALUES('collector',"
                             "'activations',1) ON CONFLICT(name,label) DO UPDATE SET "
                             "value=counters.value+1 RETURNING value",
                             &r.st_activation)))
        return rc;
    status__set(st, 0);
    while (!*stop) {
        int got = 0, keep = 0;
        rc = try_lock(&r, &got);
        if (!rc && got)
            rc = count_activation(&r, &keep);
        if (rc) {
            if (ot_sql_lost(r.db))
                reconnect(&r);
            else
                nap(&r, STANDBY_POLL_MS);
            continue;
        }
        if (!got) {
            worker__discard(in, q);
            standing_by(&r, &standby_logged, peer_logged, sizeof peer_logged);
            nap(&r, STANDBY_POLL_MS);
            continue;
        }
        standby_logged = 0;
        if (be_active(&r, keep) == WORKER_STOPPED)
            break;
        if (ot_sql_lost(r.db))
            reconnect(&r);
        else
            nap(&r, STANDBY_POLL_MS); /* the activation failed otherwise: try again */
    }
    return OT_OK;
}
