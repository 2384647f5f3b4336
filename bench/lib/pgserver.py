"""A private PostgreSQL 15 for the benchmarks, started by the test harness
(tests/lib/ottest.py: initdb as the postgres user, a free port, data in a
temp dir): prints `url=URI admin=URI` on one line, then serves commands on
stdin until it closes, and stops the server by its PID on the way out.
Driven by bench/lib/postgres.sh as a bash coprocess.

`createdb NAME` makes another database owned by organtrack (one per
benchmark run, so each run starts empty); the answer is `ok NAME`."""
import os
import signal
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tests", "lib"))
os.environ.setdefault("OT_BIN", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                             "..", "..", "build", "bin"))
import ottest  # noqa: E402


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    with ottest.Env("bench-pg") as env:
        pg = env.postgres()
        print(f"url={pg.url} admin={pg.admin_url}", flush=True)
        import psycopg2
        for line in sys.stdin:
            cmd = line.split()
            if len(cmd) == 2 and cmd[0] == "createdb" and cmd[1].isidentifier():
                c = psycopg2.connect(pg.admin_url)
                c.autocommit = True
                with c.cursor() as cur:
                    cur.execute(f'CREATE DATABASE "{cmd[1]}" OWNER organtrack')
                c.close()
                print(f"ok {cmd[1]}", flush=True)
            else:
                print(f"error {line.strip()!r}", flush=True)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
