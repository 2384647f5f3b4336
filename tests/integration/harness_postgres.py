"""The harness's private PostgreSQL, which the PostgreSQL runs of the
suite (OT_DB=postgresql) and the failover tests lean on: initdb as the
postgres user on a free port in the temp dir, a role and database
`organtrack` reachable with its password over TCP only, a streaming replica
made with pg_basebackup that follows the primary, and a failover: the
primary stopped, the replica promoted, every committed row still there and
the new primary writable. Env.database() picks the backend from OT_DB."""
import os

import ottest
from ottest import check


def test_harness_postgres():
    with ottest.Env("harness-pg") as env:
        primary = env.postgres("pg1")
        db = ottest.Db(primary.url)
        db.execute("CREATE TABLE t (id bigint PRIMARY KEY, v text NOT NULL)")
        for i in range(1, 101):
            db.execute("INSERT INTO t VALUES (?, ?)", (i, f"row {i}"))
        check(db.q1("SELECT count(*) FROM t") == 100, "100 rows on the primary")
        check(db.q1("SELECT current_user") == "organtrack", "connected as organtrack")
        try:
            ottest.Db(primary.url.replace(ottest.PG_PASSWORD, "wrong")).q1("SELECT 1")
            check(False, "a wrong password was accepted")
        except Exception as e:  # noqa: BLE001 - psycopg2.OperationalError
            check("password authentication failed" in str(e), f"wrong password: {e}")

        replica = env.postgres("pg2", primary=primary)
        rdb = ottest.Db(replica.url)
        ottest.wait_for(lambda: rdb.q1("SELECT count(*) FROM t") == 100, 30, "replica caught up")
        db.execute("INSERT INTO t VALUES (101, 'last before failover')")
        ottest.wait_for(lambda: rdb.q1("SELECT count(*) FROM t") == 101, 30, "row 101 streamed")
        try:
            rdb.execute("INSERT INTO t VALUES (999, 'x')")
            check(False, "a standby accepted a write")
        except Exception as e:  # noqa: BLE001
            check("read-only" in str(e), f"standby write: {e}")

        # failover: the primary goes away, the replica is promoted
        check(primary.stop() == 0, "primary did not stop cleanly (fast shutdown)")
        replica.promote()
        rdb.execute("INSERT INTO t VALUES (102, 'after failover')")
        check(rdb.q1("SELECT count(*) FROM t") == 102, "every committed row survived")
        # a multi-host URI with target_session_attrs finds the writable one
        multi = (f"postgresql://organtrack:{ottest.PG_PASSWORD}@127.0.0.1:{primary.port},"
                 f"127.0.0.1:{replica.port}/organtrack?target_session_attrs=read-write")
        check(ottest.Db(multi).q1("SELECT count(*) FROM t") == 102, "multi-host URI")

        os.environ["OT_DB"] = "postgresql"
        url = env.database()
        check(url.startswith("postgresql://") and env.database() == url,
              "Env.database() gives one private PostgreSQL per test")
        os.environ["OT_DB"] = "sqlite"
        check(env.database().endswith(".db"), "Env.database() for sqlite is a path")
        print(f"harness_postgres: primary :{primary.port}, replica :{replica.port}, failover ok")


if __name__ == "__main__":
    ottest.main(test_harness_postgres)
