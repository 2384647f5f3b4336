/* test_sql - ot_sql on the backend OT_TEST_DATABASE names (a postgresql://
 * URI: integration.sql_postgres runs this against a private server), else
 * on a fresh SQLite file: the same SQL, the same answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ot_db.h"
#include "ot_sql.h"

static char tmpdir[] = "/tmp/ot-test-sql-XXXXXX";
static char path[256];

static struct ot_sql *db_open(void)
{
    const char *url = getenv("OT_TEST_DATABASE");
    struct ot_sql *db = NULL;
    assert_int_equal(ot_sql_open(url && *url ? url : path, &db), OT_OK);
    return db;
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(path, sizeof path, "%s/t.db", tmpdir);
    struct ot_sql *db = db_open();
    int rc = ot_sql_exec(db, "DROP TABLE IF EXISTS t; CREATE TABLE t (id BIGINT PRIMARY KEY, "
                             "v DOUBLE PRECISION, s TEXT, n BIGINT)") == OT_OK
                 ? 0
                 : -1;
    ot_sql_close(db);
    return rc;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    char wal[300];
    snprintf(wal, sizeof wal, "%s-wal", path);
    unlink(wal);
    snprintf(wal, sizeof wal, "%s-shm", path);
    unlink(wal);
    rmdir(tmpdir);
    return 0;
}

static void placeholders(void **state)
{
    (void)state;
    char out[256];
    int n;
    assert_int_equal(ot_sql_rewrite_placeholders("SELECT ?1, ?2, ?1", out, sizeof out, &n), OT_OK);
    assert_string_equal(out, "SELECT $1, $2, $1");
    assert_int_equal(n, 2);
    assert_int_equal(ot_sql_rewrite_placeholders("VALUES (?, ?, ?5, ?)", out, sizeof out, &n),
                     OT_OK);
    assert_string_equal(out, "VALUES ($1, $2, $5, $6)");
    assert_int_equal(n, 6);
    /* quoted text and comments keep their question marks */
    assert_int_equal(ot_sql_rewrite_placeholders("SELECT 'why?', \"a?b\", 'it''s?' -- ok?\n, ?",
                                                 out, sizeof out, &n),
                     OT_OK);
    assert_string_equal(out, "SELECT 'why?', \"a?b\", 'it''s?' -- ok?\n, $1");
    assert_int_equal(n, 1);
    assert_int_equal(ot_sql_rewrite_placeholders("SELECT ?0", out, sizeof out, &n), OT_ERR_PARSE);
    assert_int_equal(ot_sql_rewrite_placeholders("SELECT ?1000", out, sizeof out, &n),
                     OT_ERR_PARSE);
    assert_int_equal(ot_sql_rewrite_placeholders("SELECT ?1, ?2", out, 8, &n), OT_ERR_TOOBIG);
}

static void round_trip(void **state)
{
    (void)state;
    struct ot_sql *db = db_open();
    struct ot_sql_stmt *ins, *sel;
    int row;
    assert_int_equal(
        ot_sql_prepare(db, "INSERT INTO t (id, v, s, n) VALUES (?1, ?2, ?3, ?4)", &ins), OT_OK);
    assert_int_equal(ot_sql_prepare(db, "SELECT v, s, n FROM t WHERE id = ?1", &sel), OT_OK);
    const double third = 1.0 / 3.0;
    assert_int_equal(ot_sql_begin(db), OT_OK);
    for (int64_t i = 1; i <= 3; i++) {
        assert_int_equal(ot_sql_bind_int64(ins, 1, i), OT_OK);
        assert_int_equal(ot_sql_bind_double(ins, 2, third * (double)i), OT_OK);
        assert_int_equal(ot_sql_bind_text(ins, 3, i == 2 ? "it's \"quoted\" ? ünïcode ә" : "x", -1),
                         OT_OK);
        if (i == 3)
            assert_int_equal(ot_sql_bind_null(ins, 4), OT_OK);
        else
            assert_int_equal(ot_sql_bind_int64(ins, 4, INT64_C(9007199254740993) * i), OT_OK);
        assert_int_equal(ot_sql_step(ins, &row), OT_OK);
        assert_int_equal(row, 0);
        assert_int_equal(ot_sql_changes(ins), 1);
        ot_sql_reset(ins);
    }
    assert_int_equal(ot_sql_commit(db), OT_OK);

    assert_int_equal(ot_sql_bind_int64(sel, 1, 2), OT_OK);
    assert_int_equal(ot_sql_step(sel, &row), OT_OK);
    assert_int_equal(row, 1);
    assert_int_equal(ot_sql_column_count(sel), 3);
    assert_true(ot_sql_double(sel, 0) == third * 2.0); /* exact, not near */
    assert_string_equal(ot_sql_text(sel, 1), "it's \"quoted\" ? ünïcode ә");
    assert_true(ot_sql_int64(sel, 2) == INT64_C(18014398509481986));
    assert_int_equal(ot_sql_step(sel, &row), OT_OK);
    assert_int_equal(row, 0);
    ot_sql_reset(sel);
    assert_int_equal(ot_sql_bind_int64(sel, 1, 3), OT_OK);
    assert_int_equal(ot_sql_step(sel, &row), OT_OK);
    assert_int_equal(row, 1);
    assert_true(ot_sql_is_null(sel, 2));
    assert_null(ot_sql_text(sel, 2));
    assert_false(ot_sql_is_null(sel, 1));
    ot_sql_reset(sel);

    /* a unique violation is a conflict, and the transaction rolls back whole */
    assert_int_equal(ot_sql_begin(db), OT_OK);
    assert_int_equal(ot_sql_bind_int64(ins, 1, 10), OT_OK);
    assert_int_equal(ot_sql_step(ins, &row), OT_OK);
    ot_sql_reset(ins);
    assert_int_equal(ot_sql_bind_int64(ins, 1, 1), OT_OK);
    assert_int_equal(ot_sql_step(ins, &row), OT_ERR_CONFLICT);
    ot_sql_reset(ins);
    ot_sql_rollback(db);
    struct ot_sql_stmt *cnt;
    assert_int_equal(ot_sql_prepare(db, "SELECT count(*) FROM t", &cnt), OT_OK);
    assert_int_equal(ot_sql_step(cnt, &row), OT_OK);
    assert_int_equal(ot_sql_int64(cnt, 0), 3);
    ot_sql_reset(cnt);

    /* the dialect both speak: ON CONFLICT DO NOTHING, RETURNING, rows changed */
    struct ot_sql_stmt *up, *ret, *del;
    assert_int_equal(
        ot_sql_prepare(db, "INSERT INTO t (id, s) VALUES (?, ?) ON CONFLICT DO NOTHING", &up),
        OT_OK);
    assert_int_equal(ot_sql_bind_int64(up, 1, 1), OT_OK);
    assert_int_equal(ot_sql_bind_text(up, 2, "dup", 3), OT_OK);
    assert_int_equal(ot_sql_step(up, &row), OT_OK);
    assert_int_equal(ot_sql_changes(up), 0);
    ot_sql_reset(up);
    assert_int_equal(ot_sql_prepare(db, "UPDATE t SET n = n + 1 WHERE id <= ?1 RETURNING id", &ret),
                     OT_OK);
    assert_int_equal(ot_sql_bind_int64(ret, 1, 2), OT_OK);
    int seen = 0;
    for (;;) {
        assert_int_equal(ot_sql_step(ret, &row), OT_OK);
        if (!row)
            break;
        seen++;
    }
    assert_int_equal(seen, 2);
    ot_sql_reset(ret);
    assert_int_equal(ot_sql_prepare(db, "DELETE FROM t WHERE s = ?1", &del), OT_OK);
    assert_int_equal(ot_sql_bind_text(del, 1, "x", -1), OT_OK);
    assert_int_equal(ot_sql_step(del, &row), OT_OK);
    assert_int_equal(ot_sql_changes(del), 2);
    ot_sql_reset(del);
    /* out-of-range parameter numbers are refused */
    assert_int_not_equal(ot_sql_bind_int64(del, 2, 1), OT_OK);
    assert_false(ot_sql_lost(db));
    ot_sql_close(db);
}

static void errors(void **state)
{
    (void)state;
    struct ot_sql *db = db_open();
    struct ot_sql_stmt *st = NULL;
    assert_int_not_equal(ot_sql_prepare(db, "SELEC nonsense", &st), OT_OK);
    assert_null(st);
    assert_int_not_equal(ot_sql_exec(db, "INSERT INTO no_such_table VALUES (1)"), OT_OK);
    ot_sql_close(db);
    struct ot_sql *bad = NULL;
    assert_int_not_equal(ot_sql_open("/nonexistent-dir/x/y.db", &bad), OT_OK);
    assert_null(bad);
    assert_true(ot_sql_is_uri("postgresql://u:p@h/db"));
    assert_true(ot_sql_is_uri("postgres://h/db"));
    assert_false(ot_sql_is_uri("var/organtrack.db"));
}

/* Waits (at most 5 s) for the next notification's payload. */
static void next_notify(struct ot_sql *db, char *payload, size_t cap)
{
    int got = 0;
    for (int i = 0; i < 50 && !got; i++)
        assert_int_equal(ot_sql_wait_notify(db, 100, payload, cap, &got), OT_OK);
    assert_int_equal(got, 1);
}

/* Change notifications: on PostgreSQL migration 0004's triggers notify
 * organtrack_changes after events are added ('events') and after tokens
 * change ('tokens'); SQLite has none (OT_ERR_UNSUPPORTED). */
static void notify(void **state)
{
    (void)state;
    const char *url = getenv("OT_TEST_DATABASE");
    struct ot_sql *w = NULL, *l = db_open();
    char payload[32];
    int got = 1;
    if (ot_sql_kind(l) == OT_SQL_SQLITE) {
        assert_int_equal(ot_sql_listen(l, "organtrack_changes"), OT_ERR_UNSUPPORTED);
        assert_int_equal(ot_sql_wait_notify(l, 0, payload, sizeof payload, &got),
                         OT_ERR_UNSUPPORTED);
        assert_int_equal(got, 0);
        assert_int_equal(ot_sql_ping(l, 100), OT_ERR_UNSUPPORTED);
        ot_sql_close(l);
        return;
    }
    assert_int_equal(ot_db_open(url, &w), OT_OK); /* migrated: the triggers are there */
    assert_int_equal(ot_sql_listen(l, "Bad;name"), OT_ERR_INVAL);
    assert_int_equal(ot_sql_listen(l, "organtrack_changes"), OT_OK);
    assert_int_equal(ot_sql_wait_notify(l, 0, payload, sizeof payload, &got), OT_OK);
    assert_int_equal(got, 0); /* nothing committed yet: answers without waiting */
    assert_int_equal(ot_sql_exec(w, "INSERT INTO events (ts, kind, payload)"
                                    " VALUES (1, 'reading', '{}'), (2, 'reading', '{}')"),
                     OT_OK);
    next_notify(l, payload, sizeof payload);
    assert_string_equal(payload, "events");
    assert_int_equal(ot_sql_ping(l, 5000), OT_OK);
    assert_int_equal(ot_sql_exec(w, "INSERT INTO tokens (name, role, token_hash, containers,"
                                    " created_at) VALUES ('n', 'admin', 'h-notify', '[]', 1)"),
                     OT_OK);
    next_notify(l, payload, sizeof payload);
    assert_string_equal(payload, "tokens");
    assert_int_equal(ot_sql_exec(w, "UPDATE tokens SET revoked_at = 2 WHERE token_hash ="
                                    " 'h-notify'"),
                     OT_OK);
    next_notify(l, payload, sizeof payload);
    assert_string_equal(payload, "tokens");
    /* leave the tables as schema() expects them */
    assert_int_equal(ot_sql_exec(w, "DELETE FROM events; DELETE FROM tokens"), OT_OK);
    ot_sql_close(w);
    ot_sql_close(l);
}

static int64_t one_int(struct ot_sql *db, const char *sql)
{
    struct ot_sql_stmt *st;
    int row = 0;
    assert_int_equal(ot_sql_prepare(db, sql, &st), OT_OK);
    assert_int_equal(ot_sql_step(st, &row), OT_OK);
    assert_int_equal(row, 1);
    int64_t v = ot_sql_int64(st, 0);
    ot_sql_reset(st);
    return v;
}

/* The schema: migrates to this build's version, a second open does not
 * migrate again, the ledger tables refuse UPDATE and DELETE, event ids come
 * in order, and a database from a newer build is refused. */
static void schema(void **state)
{
    (void)state;
    const char *url = getenv("OT_TEST_DATABASE");
    struct ot_sql *db = NULL;
    int v = -1;
    assert_int_equal(ot_db_open(url && *url ? url : path, &db), OT_OK);
    assert_int_equal(ot_db_version(db, &v), OT_OK);
    assert_int_equal(v, ot_db_schema_version());
    assert_true(v >= 3);
    ot_sql_close(db);
    assert_int_equal(ot_db_open(url && *url ? url : path, &db), OT_OK);

    assert_int_equal(ot_sql_exec(db, "INSERT INTO shipments (container, profile, donation_code,"
                                     " cross_clamp_at, mode, created_at, created_by, updated_at)"
                                     " VALUES ('C1', 'kidney', 'D1', 1, 'ground', 1, 'me', 1)"),
                     OT_OK);
    int64_t ship = one_int(db, "SELECT id FROM shipments WHERE container = 'C1'");
    char sql[400];
    snprintf(sql, sizeof sql,
             "INSERT INTO custody (shipment_id, idx, ts, type, actor_name, actor_role,"
             " prev_hash, hash) VALUES (%lld, 0, 1, 'packed', 'a', 'crew', 'p', 'h')",
             (long long)ship);
    assert_int_equal(ot_sql_exec(db, sql), OT_OK);
    assert_int_not_equal(ot_sql_exec(db, "UPDATE custody SET hash = 'x'"), OT_OK);
    assert_int_not_equal(ot_sql_exec(db, "DELETE FROM custody"), OT_OK);
    /* a second open shipment for the same container breaks the unique index */
    assert_int_not_equal(ot_sql_exec(db, "INSERT INTO shipments (container, profile,"
                                         " donation_code, cross_clamp_at, mode, created_at,"
                                         " created_by, updated_at) VALUES"
                                         " ('C1', 'kidney', 'D2', 1, 'ground', 1, 'me', 1)"),
                         OT_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(ot_sql_exec(db, "INSERT INTO events (ts, kind, payload)"
                                         " VALUES (1, 'reading', '{}')"),
                         OT_OK);
    assert_int_equal(one_int(db, "SELECT count(*) FROM events WHERE id > 0"), 3);
    assert_int_equal(one_int(db, "SELECT max(id) - min(id) FROM events"), 2);

    /* a newer schema (an upgrade rolled back) is refused, not written to */
    if (ot_sql_kind(db) == OT_SQL_SQLITE)
        snprintf(sql, sizeof sql, "PRAGMA user_version=%d", ot_db_schema_version() + 1);
    else
        snprintf(sql, sizeof sql, "UPDATE schema_version SET version = %d",
                 ot_db_schema_version() + 1);
    assert_int_equal(ot_sql_exec(db, sql), OT_OK);
    ot_sql_close(db);
    db = NULL;
    assert_int_not_equal(ot_db_open(url && *url ? url : path, &db), OT_OK);
    assert_null(db);
    assert_int_not_equal(ot_db_open_readonly(url && *url ? url : path, &db), OT_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(placeholders), cmocka_unit_test(round_trip), cmocka_unit_test(errors),
        cmocka_unit_test(notify), /* before schema(), which leaves a newer version */
        cmocka_unit_test(schema),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
