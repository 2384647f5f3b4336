"""ottest - shared harness for organtrack's integration and e2e tests.

Starts real parts (mosquitto, influxd, our programs) on free loopback ports
in a private temp dir, waits for readiness by probing ports (never sleeping
a fixed time), and stops every child by PID. Usage:

    with ottest.Env("gateway-outage") as env:
        broker = env.mosquitto()
        sim = env.program("organtrack-sensors", {...config...})
        ...

Environment: OT_BIN (dir of built programs, default build/bin),
OT_KEEP=1 keeps the temp dir for post-mortem.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


def _faketime_offset(spec):
    """Seconds of a libfaketime relative offset ("+400d", "-365d", "+2h", "-90")."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "y": 365 * 86400}
    sp = spec.strip()
    mult = units.get(sp[-1:], None)
    num = sp[:-1] if mult else sp
    try:
        if sp[:1] not in "+-" or not sp[1:]:
            raise ValueError
        return float(num) * (mult or 1)
    except ValueError:
        raise SystemExit(f"ottest: FAKETIME={spec!r}: only a relative offset such as +400d or "
                         "-365d is supported (the harness moves its own clock by it)") from None


FAKE_OFFSET_S = 0.0  # how far the clock of the programs under test is moved (libfaketime)


def _outside_libfaketime():
    """The harness runs beside libfaketime, not under it; its children run under it.

    Under libfaketime (`faketime -f +400d ctest ...`) Python's own timed waits
    hang: a lock or Event wait with a timeout uses sem_clockwait, which
    libfaketime 0.9.10 does not intercept, so the kernel is handed a deadline
    400 days away; with FAKETIME_DONT_FAKE_MONOTONIC time.sleep fails with
    EINVAL instead. So a test started under libfaketime re-executes itself
    without it, moves its own wall clock (time.time) by the same offset, and
    puts the preload back into os.environ: every program it starts, ours,
    mosquitto and the CLI calls alike, reads the moved clock through
    libfaketime, and the harness agrees with them on what "now" is."""
    pre = os.environ.get("LD_PRELOAD", "")
    if "faketime" in pre:
        _faketime_offset(os.environ.get("FAKETIME", ""))  # refuse what we cannot follow
        env = dict(os.environ)
        env.pop("LD_PRELOAD")
        env["OT_FAKETIME_PRELOAD"] = pre
        with open("/proc/self/cmdline", "rb") as f:  # the exact command, -c included
            argv = [a.decode() for a in f.read().split(b"\0")[:-1]]
        os.execve(sys.executable, argv, env)
    pre = os.environ.get("OT_FAKETIME_PRELOAD")
    if pre:
        global FAKE_OFFSET_S
        offset = FAKE_OFFSET_S = _faketime_offset(os.environ.get("FAKETIME", ""))
        os.environ["LD_PRELOAD"] = pre
        real_time, real_time_ns = time.time, time.time_ns
        time.time = lambda: real_time() + offset
        time.time_ns = lambda: real_time_ns() + int(offset * 1e9)


_outside_libfaketime()

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("OT_BIN", os.path.join(ROOT, "build", "bin"))


_given_ports = set()


def free_port():
    """A loopback TCP port that no other pick hands out: never twice in this
    process (a set of the ports already given), and not to another test
    process either: the port is left in TIME_WAIT (we accept a connection to
    it and close our side first), so the kernel's bind(port 0) skips it for
    about a minute, while the server we start, which binds with
    SO_REUSEADDR as mosquitto, influxd, libmicrohttpd, libmodbus, pymodbus
    and PostgreSQL all do, can take it at once."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            # the TIME_WAIT socket inherits SO_REUSEADDR: without it on the
            # listener, not even a SO_REUSEADDR server could bind the port
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            port = s.getsockname()[1]
            with socket.create_connection(("127.0.0.1", port)) as c:
                conn, _ = s.accept()
                conn.close()
                c.recv(1)  # the accepted side closed first: it holds TIME_WAIT
        if port not in _given_ports:
            _given_ports.add(port)
            return port
    raise RuntimeError("no free loopback port after 200 picks")


def now_ms():
    """The wall clock in ms, as the programs under test read it."""
    return int(time.time() * 1000)


def iso(ms):
    """RFC 3339 UTC with whole seconds, as the API takes it."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))


def wait_port(port, timeout=15.0, proc=None, host="127.0.0.1"):
    """Waits until something accepts TCP on port; fails fast if proc died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process {proc.args[0]} exited {proc.returncode} before port {port} opened")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"port {port} not open after {timeout}s")


def wait_for(pred, timeout=20.0, what="condition", interval=0.05):
    """Polls pred() until truthy; returns its value or raises TimeoutError."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what} (last={last!r})")


class Proc:
    def __init__(self, name, popen, log_path):
        self.name, self.p, self.log_path = name, popen, log_path

    @property
    def pid(self):
        return self.p.pid

    def alive(self):
        return self.p.poll() is None

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    stop_signal = signal.SIGTERM  # postgres: SIGINT (fast shutdown; SIGTERM waits for clients)

    def stop(self, sig=None, timeout=10.0):
        """Stops by PID; escalates to SIGKILL after timeout. Returns exit code."""
        sig = sig or self.stop_signal
        if self.p.poll() is None:
            try:
                self.p.send_signal(sig)
            except ProcessLookupError:
                pass
            try:
                self.p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        return self.p.returncode

    def kill(self):
        return self.stop(signal.SIGKILL, timeout=5.0)


class Env:
    def __init__(self, name):
        self.name = name
        self.procs = []
        self.dir = tempfile.mkdtemp(prefix=f"ot-{name}-")
        os.chmod(self.dir, 0o755)  # mosquitto drops to its own user

    def __enter__(self):
        return self

    def __exit__(self, et, ev, tb):
        self.close(failed=et is not None)
        return False

    def close(self, failed=False):
        for p in reversed(self.procs):
            p.stop()
        if failed:
            for p in self.procs:
                sys.stderr.write(f"----- log of {p.name} (pid {p.pid}) -----\n{p.log()[-6000:]}\n")
        if os.environ.get("OT_KEEP") or failed:
            sys.stderr.write(f"kept {self.dir}\n")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def path(self, *parts):
        p = os.path.join(self.dir, *parts)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        return p

    def write_json(self, name, obj):
        p = self.path(name)
        with open(p, "w") as f:
            json.dump(obj, f, indent=1)
        return p

    def spawn(self, name, argv, env=None, cwd=None, user=None):
        """Starts argv with its output in logs/; user= runs it as that user
        (when we are root), the PID being the program's own."""
        log = self.path("logs", f"{name}.{len(self.procs)}.log")
        f = open(log, "ab")
        e = dict(os.environ)
        if env:
            e.update(env)
        p = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             env=e, cwd=cwd or ROOT, **_as_user(user))
        f.close()
        proc = Proc(name, p, log)
        self.procs.append(proc)
        return proc

    def program(self, prog, config, args=(), name=None, wait=None):
        """Starts build/bin/<prog> --config <tmp>/<name>.json; wait=port to probe."""
        name = name or prog.replace("organtrack-", "")
        cfg = self.write_json(f"{name}.json", config)
        proc = self.spawn(name, [os.path.join(BIN, prog), "--config", cfg, *args])
        if wait:
            wait_port(wait, proc=proc.p)
        return proc

    def tls_certs(self):
        """A private CA and a server certificate for 127.0.0.1, ::1 and localhost
        (openssl CLI). Returns dict(ca=, cert=, key=) paths."""
        d = os.path.dirname(self.path("tls", ".keep"))
        # valid for two days on every clock in the test: the programs' clock
        # (moved by libfaketime, if at all) and the harness's own TLS checks
        # (Python's ssl reads the real clock). Made on the earlier of the two.
        days = str(2 + int(abs(FAKE_OFFSET_S) // 86400) + 1)
        env = dict(os.environ)
        if FAKE_OFFSET_S > 0:
            env.pop("LD_PRELOAD", None)
        run = lambda *a: subprocess.run(a, check=True, capture_output=True, cwd=d, env=env)
        run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", days,
            "-subj", "/CN=organtrack test CA", "-keyout", "ca.key", "-out", "ca.crt")
        run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
            "-keyout", "server.key", "-out", "server.csr")
        with open(os.path.join(d, "san.ext"), "w") as f:
            f.write("subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n")
        run("openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", days, "-extfile", "san.ext", "-out", "server.crt")
        for f in os.listdir(d):
            os.chmod(os.path.join(d, f), 0o644)
        return {"ca": os.path.join(d, "ca.crt"), "cert": os.path.join(d, "server.crt"),
                "key": os.path.join(d, "server.key")}

    def mosquitto_passwd(self, users):
        """Writes a mosquitto password file for {user: password}; returns its path."""
        p = self.path("mosquitto", "passwd")
        open(p, "w").close()
        for u, pw in users.items():
            subprocess.run(["mosquitto_passwd", "-b", p, u, pw], check=True, capture_output=True)
        os.chmod(p, 0o644)
        return p

    def mosquitto(self, port=None, extra="", passwords=None, acl=None, tls=None, tls_port=None):
        """A private mosquitto on 127.0.0.1:port with persistence in the temp dir.
        tls=env.tls_certs() adds a TLS listener on tls_port (proc.tls_port)."""
        port = port or free_port()
        data = self.path("mosquitto", "data", ".keep")
        data = os.path.dirname(data)
        try:
            import pwd
            pw = pwd.getpwnam("mosquitto")
            os.chown(data, pw.pw_uid, pw.pw_gid)
            os.chown(os.path.dirname(data), pw.pw_uid, pw.pw_gid)
        except (KeyError, PermissionError):
            pass
        conf = [f"listener {port} 127.0.0.1", "persistence true",
                f"persistence_location {data}/", "autosave_interval 1",
                "max_queued_messages 100000", "max_inflight_messages 100", "set_tcp_nodelay true",
                "log_dest stderr", "log_type error", "log_type warning", "log_type notice"]
        if passwords:
            conf.append(f"password_file {passwords}")
            conf.append("allow_anonymous false")
        else:
            conf.append("allow_anonymous true")
        if acl:
            conf.append(f"acl_file {acl}")
        if tls:
            tls_port = tls_port or free_port()
            conf.insert(0, "per_listener_settings false")
            conf += [f"listener {tls_port} 127.0.0.1", f"cafile {tls['ca']}",
                     f"certfile {tls['cert']}", f"keyfile {tls['key']}", "tls_version tlsv1.2"]
        if extra:
            conf.append(extra)
        cpath = self.path("mosquitto", "mosquitto.conf")
        with open(cpath, "w") as f:
            f.write("\n".join(conf) + "\n")
        proc = self.spawn("mosquitto", ["mosquitto", "-c", cpath])
        wait_port(port, proc=proc.p)
        if tls:
            wait_port(tls_port, proc=proc.p)
        proc.port = port
        proc.tls_port = tls_port
        return proc

    def postgres(self, name="pg", primary=None):
        """A private PostgreSQL 15 on 127.0.0.1 (a free port, TCP only, data in
        the temp dir), run as the postgres user when we are root (initdb
        refuses root). It has a role and database `organtrack` (password
        auth); proc.url is the libpq URI for it, proc.admin_url the
        superuser's. primary=<proc> makes a streaming replica of that
        server instead (pg_basebackup -R): stop the primary and call
        replica.promote() for a failover."""
        port = free_port()
        base = os.path.dirname(self.path(name, ".keep"))
        data = os.path.join(base, "data")
        user = "postgres" if os.geteuid() == 0 else None
        if user:
            import pwd
            pw = pwd.getpwnam(user)
            os.chown(base, pw.pw_uid, pw.pw_gid)
        def run(*a, env=None):
            r = subprocess.run(a, capture_output=True, text=True, env=env, **_as_user(user))
            check(r.returncode == 0, f"{a[0]} failed ({r.returncode}): {r.stderr.strip()[-2000:]}")
        if primary is None:
            pwfile = os.path.join(base, "pwfile")
            with open(pwfile, "w") as f:
                f.write(PG_PASSWORD + "\n")
            if user:
                os.chown(pwfile, pw.pw_uid, pw.pw_gid)
            run(f"{PG_BIN}/initdb", "-D", data, "-U", "postgres", "--pwfile", pwfile,
                "--auth-local=peer", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8")
        else:
            run(f"{PG_BIN}/pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U",
                "postgres", "-D", data, "-R", "-X", "stream", "-c", "fast",
                env={**os.environ, "PGPASSWORD": PG_PASSWORD})
        proc = self.spawn(name, [f"{PG_BIN}/postgres", "-D", data, "-p", str(port),
                                 "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
                                 "-c", "fsync=on", "-c", "synchronous_commit=on",
                                 "-c", "wal_level=replica", "-c", "max_wal_senders=5",
                                 "-c", "hot_standby=on", "-c", "log_min_messages=warning"],
                          user=user)
        proc.stop_signal = signal.SIGINT
        proc.port, proc.data, proc.primary = port, data, primary
        proc.admin_url = f"postgresql://postgres:{PG_PASSWORD}@127.0.0.1:{port}/postgres"
        proc.url = f"postgresql://organtrack:{PG_PASSWORD}@127.0.0.1:{port}/organtrack"
        wait_port(port, proc=proc.p)
        import psycopg2
        wait_for(lambda: _pg_ready(proc.admin_url), timeout=30, what=f"postgres {name} ready")
        if primary is None:
            c = psycopg2.connect(proc.admin_url)
            c.autocommit = True
            with c.cursor() as cur:
                cur.execute("CREATE ROLE organtrack LOGIN PASSWORD %s", (PG_PASSWORD,))
                cur.execute("CREATE DATABASE organtrack OWNER organtrack")
            c.close()
        proc.promote = lambda: _pg_promote(proc)
        return proc

    def database(self, name="organtrack"):
        """The database the programs under test use, on the backend this run
        is for (OT_DB=sqlite, the default, or OT_DB=postgresql): a SQLite
        file path in the temp dir, or the URI of a private PostgreSQL."""
        kind = os.environ.get("OT_DB", "sqlite")
        if kind == "sqlite":
            return self.path("var", f"{name}.db")
        if kind == "postgresql":
            if not hasattr(self, "_pg"):
                self._pg = self.postgres()
            return self._pg.url
        raise SystemExit(f"ottest: OT_DB={kind!r}: sqlite or postgresql")

    def influxd(self):
        """A private InfluxDB 1.x on 127.0.0.1 with its data in the temp dir."""
        http = free_port()
        rpc = free_port()
        d = os.path.dirname(self.path("influxdb", "meta", ".keep"))
        base = os.path.dirname(d)
        conf = f"""reporting-disabled = true
bind-address = "127.0.0.1:{rpc}"
[meta]
  dir = "{base}/meta"
[data]
  dir = "{base}/data"
  wal-dir = "{base}/wal"
  query-log-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:{http}"
  log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
"""
        cpath = os.path.join(base, "influxdb.conf")
        with open(cpath, "w") as f:
            f.write(conf)
        proc = self.spawn("influxd", ["influxd", "-config", cpath])
        wait_port(http, proc=proc.p)
        proc.port = http
        return proc


PG_BIN = "/usr/lib/postgresql/15/bin"
PG_PASSWORD = "ot-test-pw"


def _as_user(user):
    """Popen arguments that run a child as user (only when we are root)."""
    if not user or os.geteuid() != 0:
        return {}
    import pwd
    pw = pwd.getpwnam(user)
    return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}


def _pg_ready(url):
    import psycopg2
    try:
        psycopg2.connect(url, connect_timeout=2).close()
        return True
    except psycopg2.OperationalError:
        return False


def _pg_promote(proc):
    """Promotes a replica to primary and waits until it accepts writes."""
    import psycopg2
    c = psycopg2.connect(proc.admin_url)
    c.autocommit = True
    with c.cursor() as cur:
        cur.execute("SELECT pg_promote(true, 30)")
        check(cur.fetchone()[0], "pg_promote failed")
    c.close()

    def writable():
        c = psycopg2.connect(proc.admin_url)
        try:
            with c.cursor() as cur:
                cur.execute("SELECT pg_is_in_recovery()")
                return not cur.fetchone()[0]
        finally:
            c.close()
    wait_for(writable, timeout=30, what="promoted replica accepts writes")


class Db:
    """Reads (and, for fault injection, writes) the database the programs
    under test use, whichever the backend: a SQLite path or a postgresql://
    URI. SQL is written with ? placeholders, as SQLite takes them."""

    def __init__(self, database):
        self.database = database
        self.pg = database.startswith(("postgresql://", "postgres://"))

    def _connect(self):
        if self.pg:
            import psycopg2
            c = psycopg2.connect(self.database)
            c.autocommit = True
            return c
        import sqlite3
        return sqlite3.connect(self.database, timeout=10, isolation_level=None)

    def _sql(self, sql):
        return sql.replace("?", "%s") if self.pg else sql

    def all(self, sql, args=()):
        c = self._connect()
        try:
            cur = c.cursor()
            cur.execute(self._sql(sql), tuple(args))
            return cur.fetchall() if cur.description else []
        finally:
            c.close()

    def q1(self, sql, args=()):
        rows = self.all(sql, args)
        return rows[0][0] if rows else None

    def execute(self, sql, args=()):
        self.all(sql, args)

    def insert(self, sql, args=()):
        """Runs an INSERT and returns the new row's id (RETURNING id on both)."""
        return self.all(sql + " RETURNING id", args)[0][0]

    def many(self, sql, rows):
        """Runs sql once per row of arguments, in one transaction."""
        c = self._connect()
        try:
            cur = c.cursor()
            cur.execute("BEGIN")
            for args in rows:
                cur.execute(self._sql(sql), tuple(args))
            cur.execute("COMMIT")
        finally:
            c.close()

    def dump(self):
        """Every table's rows as text: to prove a secret is stored nowhere."""
        if self.pg:
            tables = [r[0] for r in self.all(
                "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = current_schema()")]
        else:
            tables = [r[0] for r in self.all("SELECT name FROM sqlite_master WHERE type='table'")]
        return "\n".join(repr(row) for t in tables for row in self.all(f'SELECT * FROM "{t}"'))


def influx_query(port, db, q):
    import urllib.parse
    import urllib.request
    url = f"http://127.0.0.1:{port}/query?" + urllib.parse.urlencode({"db": db, "q": q})
    with urllib.request.urlopen(url, data=b"" if q.upper().startswith("CREATE") else None, timeout=10) as r:
        return json.loads(r.read())


def http(method, url, body=None, token=None, timeout=10):
    """Returns (status, parsed-json-or-text, headers)."""
    import urllib.error
    import urllib.request
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw, status, headers = r.read(), r.status, r.headers
    except urllib.error.HTTPError as e:
        raw, status, headers = e.read(), e.code, e.headers
    try:
        return status, json.loads(raw), headers
    except ValueError:
        return status, raw.decode(errors="replace"), headers


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def main(fn):
    """Runs a test function; prints a one-line verdict; exit code for ctest."""
    t0 = time.monotonic()
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - report every failure as a test failure
        import traceback
        traceback.print_exc()
        print(f"FAIL {fn.__name__}: {e} ({time.monotonic()-t0:.1f}s)")
        sys.exit(1)
    print(f"PASS {fn.__name__} ({time.monotonic()-t0:.1f}s)")
