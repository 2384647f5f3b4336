#!/usr/bin/env python3
"""ledger_postgres - the ledger's unit tests (unit.test_ledger and
unit.test_ledger_sql, on SQLite) run again, unchanged, against a private
PostgreSQL 15 (OT_TEST_DATABASE). test_ledger:
every mutation, deletion, swap and truncation of a bundle exported from
PostgreSQL is caught at the right entry, the append-only triggers refuse
edits, a tamper done around them (DROP TRIGGER ... ON ...) is caught by
verify, and impossible sequences are refused, the same as on SQLite. test_ledger_sql:
statements are prepared once per connection (pg_prepared_statements), two
concurrent appends to one trail take turns and both are stored, and the
collector's readings are not blocked by an append. The trails live in
schemas of their own, which the tests drop again."""
import os
import subprocess

import ottest
from ottest import check

# binary -> cmocka test groups that must pass on PostgreSQL (none skipped)
BINARIES = {"test_ledger": 12, "test_ledger_sql": 3}


def run_unit(pg, name, groups):
    exe = os.path.join(ottest.BIN, name)
    r = subprocess.run([exe], env={**os.environ, "OT_TEST_DATABASE": pg.url},
                       capture_output=True, text=True, timeout=240)
    out = r.stdout + r.stderr  # cmocka and our logs share the streams
    print(out[-4000:])
    check(r.returncode == 0, f"{name} on PostgreSQL failed ({r.returncode})")
    check(f"[  PASSED  ] {groups} test(s)" in out, f"{name}: not all {groups} test groups passed")
    check("SKIPPED" not in out, f"{name}: a test group was skipped on PostgreSQL")
    check(ottest.PG_PASSWORD not in out, "a log line carries the database password")
    return out


def test_ledger_postgres():
    with ottest.Env("ledger-pg") as env:
        pg = env.postgres()
        out = run_unit(pg, "test_ledger", BINARIES["test_ledger"])
        # the triggers refused on PostgreSQL (their message is in the log)
        check("custody ledger is append-only" in out, "the append-only triggers did not fire")
        run_unit(pg, "test_ledger_sql", BINARIES["test_ledger_sql"])
        # every trail's schema was dropped again; the tables were never in public
        db = ottest.Db(pg.url)
        left = db.all("SELECT nspname FROM pg_namespace WHERE left(nspname, 3) = 'lg_'")
        check(left == [], f"schemas left behind: {left}")
        check(db.q1("SELECT to_regclass('public.custody') IS NULL"),
              "a trail was built in the public schema")


if __name__ == "__main__":
    ottest.main(test_ledger_postgres)
