/* test_ledger_sql.c - the ledger on its storage (ot_sql), on the backend
 * OT_TEST_DATABASE names (PostgreSQL: integration.ledger_postgres runs this
 * binary there) or a fresh SQLite file:
 * - an append, a verify and the exports prepare their statements once per
 *   connection: after the first round the connection holds no more
 *   prepared statements however many appends follow (sqlite_stmt,
 *   pg_prepared_statements);
 * - PostgreSQL: two API processes appending to one trail at once take
 *   turns (the shipment row lock) and both entries are stored, in order;
 *   while an append holds that lock the collector still stores readings
 *   of the shipment (its foreign-key check is not blocked). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka needs the four headers above first */
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ot_ledger.h"
#include "ot_log.h"
#include "ot_sql.h"
#include "test_ledger_trail.h"

struct fx {
    char dir[64];
    struct ot_sql *db;
    struct ot_ledger_key *key;
    int64_t ship;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/ot_ledger_s_XXXXXX");
    if (!mkdtemp(f->dir) || ledger_trail_build(f->dir, &f->db, &f->key, &f->ship))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    if (!f)
        return 0;
    ot_ledger_key_free(f->key);
    int rc = ledger_trail_remove(f->dir, f->db);
    free(f);
    return rc;
}

static enum ot_err append_note(struct ot_sql *db, const struct ot_ledger_key *key, int64_t ship,
                               int64_t ts, int64_t *index)
{
    char why[256];
    cJSON *entry = NULL;
    struct ot_custody_input in = {
        .type = "note", .actor_name = "tester", .actor_role = "coordinator", .ts = ts};
    enum ot_err rc = ot_sql_begin(db);
    if (rc)
        return rc;
    rc = ot_ledger_append(db, key, ship, &in, &entry, why, sizeof why);
    if (!rc)
        rc = ot_sql_commit(db);
    if (rc) {
        fprintf(stderr, "append failed: %s: %s\n", ot_strerror(rc), why);
        ot_sql_rollback(db);
    } else if (index) {
        *index = (int64_t)cJSON_GetObjectItem(entry, "index")->valuedouble;
    }
    cJSON_Delete(entry);
    return rc;
}

/* Prepared statements the connection holds now. */
static int64_t prepared(struct ot_sql *db)
{
    return ledger_trail_int(db, ot_sql_kind(db) == OT_SQL_POSTGRES
                                    ? "SELECT count(*) FROM pg_prepared_statements"
                                    : "SELECT count(*) FROM sqlite_stmt");
}

/* append, verify, trail and the three exports */
static void one_round(struct fx *f, int64_t ts)
{
    struct ot_ledger_report rep;
    cJSON *arr = NULL;
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(append_note(f->db, f->key, f->ship, ts, NULL), OT_OK);
    assert_int_equal(ot_ledger_verify_db(f->db, &rep), OT_OK);
    assert_true(rep.ok);
    assert_int_equal(ot_ledger_entries(f->db, f->ship, &arr), OT_OK);
    cJSON_Delete(arr);
    assert_int_equal(ot_ledger_export_bundle(f->db, f->ship, &out, &len), OT_OK);
    free(out);
    assert_int_equal(ot_ledger_export_epcis(f->db, f->ship, &out, &len), OT_OK);
    free(out);
    assert_int_equal(ot_ledger_export_csv(f->db, f->ship, &out, &len), OT_OK);
    free(out);
}

static void statements_prepared_once(void **state)
{
    struct fx *f = *state;
    int64_t t = LEDGER_T0 + 200 * 60000;
    one_round(f, t++);
    (void)prepared(f->db); /* the counting statement itself is prepared once too */
    int64_t after_first = prepared(f->db);
    assert_true(after_first > 0);
    for (int i = 0; i < 20; i++)
        one_round(f, t++);
    int64_t after_more = prepared(f->db);
    fprintf(stderr, "prepared statements on the connection: %lld after one round, %lld after 21\n",
            (long long)after_first, (long long)after_more);
    assert_int_equal(after_more, after_first);
}

/* ------------------------------------------------------- PostgreSQL only */

struct racer {
    const char *database, *keypath;
    int64_t ship, ts, index;
    enum ot_err rc;
};

static void *race(void *arg)
{
    struct racer *r = arg;
    struct ot_sql *db = NULL;
    struct ot_ledger_key *key = NULL;
    r->rc = ot_sql_open(r->database, &db);
    if (!r->rc)
        r->rc = ot_ledger_key_load(r->keypath, &key);
    if (!r->rc)
        r->rc = append_note(db, key, r->ship, r->ts, &r->index);
    ot_ledger_key_free(key);
    ot_sql_close(db);
    return NULL;
}

/* Waits (at most 20 s) until a session of this database waits for a lock. */
static int wait_for_lock_waiter(struct ot_sql *watch)
{
    struct timespec pause = {0, 20 * 1000 * 1000};
    for (int i = 0; i < 1000; i++) {
        if (ledger_trail_int(watch,
                             "SELECT count(*) FROM pg_stat_activity WHERE"
                             " datname = current_database() AND wait_event_type = 'Lock'") > 0)
            return 0;
        nanosleep(&pause, NULL);
    }
    return -1;
}

static void concurrent_appends_take_turns(void **state)
{
    struct fx *f = *state;
    char database[1024], keypath[128];
    char why[256];
    struct ot_ledger_report rep;
    struct ot_sql *watch = NULL;
    cJSON *entry = NULL;
    pthread_t th;
    if (ot_sql_kind(f->db) != OT_SQL_POSTGRES) {
        fprintf(stderr, "SQLite: BEGIN IMMEDIATE serialises appends; nothing to race\n");
        skip();
    }
    assert_int_equal(f->ship, 1); /* the counts below name it */
    ledger_trail_database(f->dir, database, sizeof database);
    snprintf(keypath, sizeof keypath, "%s/ledger.key", f->dir);
    int64_t before = ledger_trail_int(f->db, "SELECT count(*) FROM custody WHERE shipment_id=1");
    int64_t t = LEDGER_T0 + 300 * 60000;
    struct ot_custody_input in = {
        .type = "note", .actor_name = "first", .actor_role = "coordinator", .ts = t};
    struct racer second = {database, keypath, f->ship, t + 1, -1, OT_ERR_DB};

    /* the first append holds its transaction open ... */
    assert_int_equal(ot_sql_begin(f->db), OT_OK);
    assert_int_equal(ot_ledger_append(f->db, f->key, f->ship, &in, &entry, why, sizeof why), OT_OK);
    int64_t first = (int64_t)cJSON_GetObjectItem(entry, "index")->valuedouble;
    cJSON_Delete(entry);
    /* ... a second process appends meanwhile and has to wait for it */
    assert_int_equal(pthread_create(&th, NULL, race, &second), 0);
    assert_int_equal(ot_sql_open(database, &watch), OT_OK);
    assert_int_equal(wait_for_lock_waiter(watch), 0);
    assert_int_equal(ot_sql_commit(f->db), OT_OK);
    assert_int_equal(pthread_join(th, NULL), 0);
    ot_sql_close(watch);

    /* both stored, the second after the first, and the trail verifies */
    assert_int_equal(second.rc, OT_OK);
    assert_int_equal(second.index, first + 1);
    assert_int_equal(ledger_trail_int(f->db, "SELECT count(*) FROM custody WHERE shipment_id=1"),
                     before + 2);
    assert_int_equal(ot_ledger_verify_db(f->db, &rep), OT_OK);
    if (!rep.ok)
        fprintf(stderr, "verify: entry=%lld %s\n", (long long)rep.bad_index, rep.why);
    assert_true(rep.ok);
}

static void readings_flow_during_an_append(void **state)
{
    struct fx *f = *state;
    char database[1024], why[256];
    struct ot_sql *collector = NULL;
    struct ot_ledger_report rep;
    if (ot_sql_kind(f->db) != OT_SQL_POSTGRES) {
        fprintf(stderr, "SQLite: one writer at a time by design; nothing to check\n");
        skip();
    }
    ledger_trail_database(f->dir, database, sizeof database);
    int64_t t = LEDGER_T0 + 400 * 60000;
    struct ot_custody_input in = {
        .type = "note", .actor_name = "api", .actor_role = "coordinator", .ts = t};
    assert_int_equal(ot_sql_begin(f->db), OT_OK);
    assert_int_equal(ot_ledger_append(f->db, f->key, f->ship, &in, NULL, why, sizeof why), OT_OK);
    /* the collector's insert (a foreign key to the locked shipment row)
     * completes at once; if it had to wait it would fail after 2 s */
    assert_int_equal(ot_sql_open(database, &collector), OT_OK);
    assert_int_equal(ot_sql_exec(collector, "SET lock_timeout = '2s'"), OT_OK);
    assert_int_equal(ot_sql_begin(collector), OT_OK);
    assert_int_equal(ledger_trail_reading(collector, f->ship, "KZ-WKO-0001", 1000, t + 10, 4.4, 1),
                     0);
    assert_int_equal(ot_sql_commit(collector), OT_OK);
    ot_sql_close(collector);
    assert_int_equal(ot_sql_commit(f->db), OT_OK);
    assert_int_equal(ot_ledger_verify_db(f->db, &rep), OT_OK);
    assert_true(rep.ok);
}

int main(void)
{
    ot_log_init("test_ledger_sql", OT_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(statements_prepared_once, setup, teardown),
        cmocka_unit_test_setup_teardown(concurrent_appends_take_turns, setup, teardown),
        cmocka_unit_test_setup_teardown(readings_flow_during_an_append, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
