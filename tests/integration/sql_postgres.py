"""ot_sql on PostgreSQL: the unit test that runs on SQLite in
unit.test_sql runs again, unchanged, against a private PostgreSQL 15
(OT_TEST_DATABASE), so both backends give the same answers to the same
SQL. The server's log must not hold the password of the URI."""
import os
import subprocess

import ottest
from ottest import check


def test_sql_postgres():
    with ottest.Env("sql-pg") as env:
        pg = env.postgres()
        exe = os.path.join(os.path.dirname(ottest.BIN), "bin", "test_sql")
        r = subprocess.run([exe], env={**os.environ, "OT_TEST_DATABASE": pg.url},
                           capture_output=True, text=True, timeout=60)
        out = r.stdout + r.stderr  # cmocka and our logs share the streams
        print(out[-3000:])
        check(r.returncode == 0, f"test_sql on PostgreSQL failed ({r.returncode})")
        check("[  PASSED  ] 5 test(s)" in out, "not all five test groups ran")
        check("database=postgresql://127.0.0.1:" in out, "errors name the database")
        check(ottest.PG_PASSWORD not in out, "a log line carries the database password")


if __name__ == "__main__":
    ottest.main(test_sql_postgres)
