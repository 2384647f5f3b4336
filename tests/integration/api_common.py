"""api_common - shared set-up for organtrack-api integration tests (not a
test itself): a real organtrack-api on a free port with a temp database, a
private web root, tokens minted through the CLI, and helpers to seed rows
the collector would write (readings, alarms)."""
import http.client
import json
import os
import re
import subprocess
import time

import ottest

PRESERVATION = os.path.join(ottest.ROOT, "config", "preservation.json")


class Api:
    def __init__(self, env, extra=None, name="api"):
        """extra: config keys over the defaults (a "database" there wins over
        env.database()); name: the config file's and the log's name, so that
        several APIs can share one test (and one database)."""
        self.env = env
        self.name = name
        self.port = ottest.free_port()
        self.db = (extra or {}).get("database") or env.database()
        self.dbq = ottest.Db(self.db)
        web = env.path("web", "index.html")
        with open(web, "w") as f:
            f.write("<!doctype html><title>organtrack</title>")
        with open(env.path("web", "app.js"), "w") as f:
            f.write("console.log('ok');\n")
        with open(env.path("web", ".secret"), "w") as f:
            f.write("hidden")
        with open(env.path("outside.txt"), "w") as f:
            f.write("outside the web root")
        self.config = {
            "listen": f"127.0.0.1:{self.port}",
            "database": self.db,
            "preservation": PRESERVATION,
            "web_root": os.path.dirname(web),
            "ledger_key": env.path("var", "ledger.key"),
            "max_body_bytes": 65536,
            "sse_heartbeat_s": 1,
            "sse_poll_ms": 50,
        }
        if extra:
            self.config.update(extra)
        self.config_path = env.write_json(f"{name}.json", self.config)
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = None

    def cli(self, *args):
        """Runs `organtrack-api ARGS --config FILE`; returns CompletedProcess."""
        return subprocess.run([os.path.join(ottest.BIN, "organtrack-api"), *args,
                               "--config", self.config_path],
                              capture_output=True, text=True, timeout=30, cwd=self.env.dir)

    def token(self, role, name, containers=()):
        args = ["token", "create", "--role", role, "--name", name]
        for c in containers:
            args += ["--container", c]
        r = self.cli(*args)
        ottest.check(r.returncode == 0, f"token create failed: {r.stderr}")
        last = r.stdout.strip().splitlines()[-1]
        ottest.check(re.fullmatch(r"ot_[0-9a-f]{64}", last), f"token line: {last!r}")
        return last

    def start(self):
        self.proc = self.env.spawn(self.name, [os.path.join(ottest.BIN, "organtrack-api"),
                                           "--config", self.config_path], cwd=self.env.dir)
        ottest.wait_port(self.port, proc=self.proc.p)
        return self

    def req(self, method, path, body=None, token=None, headers=None, raw=None, timeout=10):
        """Returns (status, parsed JSON or text, headers). body: JSON-able; raw: bytes."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        h = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        if token:
            h["Authorization"] = f"Bearer {token}"
        try:
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            ctype = r.getheader("Content-Type", "")
            if ctype.startswith("text/event-stream"):
                return r.status, None, dict(r.getheaders())
            payload = r.read()
            hdrs = dict(r.getheaders())
        finally:
            conn.close()
        try:
            return r.status, json.loads(payload), hdrs
        except ValueError:
            return r.status, payload.decode(errors="replace"), hdrs

    def shipment_body(self, container, **over):
        b = {"container": container, "profile": "kidney", "donation_code": f"DIN-{container}",
             "cross_clamp_at": ottest.iso(ottest.now_ms() - 3600_000),
             "origin": {"name": "Oral", "lat": 51.20, "lon": 51.37},
             "destination": {"name": "Astana", "lat": 51.13, "lon": 71.43}, "mode": "mixed"}
        b.update(over)
        return b

    def create_shipment(self, token, container, **over):
        s, j, _ = self.req("POST", "/api/v1/shipments", self.shipment_body(container, **over),
                           token)
        ottest.check(s == 201, f"create shipment {container}: {s} {j}")
        return j

    def sql(self, query, args=()):
        """Rows of query (either backend, ? placeholders)."""
        return self.dbq.all(query, args)

    def add_alarm(self, shipment_id, container, type_="temp_high", state="raised"):
        t = ottest.now_ms()
        return self.dbq.insert(
            "INSERT INTO alarms (shipment_id, container, type, severity, state, raised_at,"
            " message, value, updated_at) VALUES (?, ?, ?, 'critical', ?, ?, ?, 9.5, ?)",
            (shipment_id, container, type_, state, t, "temperature above band", t))

    def add_readings(self, shipment_id, container, n, start_ms, step_ms=1000, temp=lambda i: 4.0):
        self.dbq.many(
            "INSERT INTO readings (container, seq, gateway, boot, ts, received_at,"
            " shipment_id, temp_c, lat, lon, speed_kmh, lid_open) VALUES"
            " (?, ?, 'gw', 1, ?, ?, ?, ?, 51.2, 60.0, 80.0, 0)",
            [(container, i + 1, start_ms + i * step_ms, start_ms + i * step_ms,
              shipment_id, temp(i)) for i in range(n)])


class SseStream:
    """A raw event-stream reader: parses id/event/data frames and comments."""

    def __init__(self, api, token, last_event_id=None, query=""):
        self.conn = http.client.HTTPConnection("127.0.0.1", api.port, timeout=15)
        h = {"Accept": "text/event-stream"}
        if token:
            h["Authorization"] = f"Bearer {token}"
        if last_event_id is not None:
            h["Last-Event-ID"] = str(last_event_id)
        self.conn.request("GET", "/api/v1/events" + query, headers=h)
        self.resp = self.conn.getresponse()
        ottest.check(self.resp.status == 200, f"events status {self.resp.status}")
        ottest.check(self.resp.getheader("Content-Type", "").startswith("text/event-stream"),
                     "events content type")
        self.comments = []

    def next_event(self, timeout=10.0):
        """Returns {"id":int,"event":str,"data":obj} or raises TimeoutError."""
        deadline = time.monotonic() + timeout
        frame = {}
        while time.monotonic() < deadline:
            line = self.resp.fp.readline()
            if not line:
                raise TimeoutError("stream closed")
            line = line.decode().rstrip("\r\n")
            if line == "":
                if "data" in frame:
                    frame["data"] = json.loads(frame["data"])
                    frame["id"] = int(frame["id"])
                    return frame
                frame = {}
                continue
            if line.startswith(":"):
                self.comments.append(line)
                continue
            k, _, v = line.partition(":")
            v = v[1:] if v.startswith(" ") else v
            if k == "data" and "data" in frame:
                frame["data"] += "\n" + v
            else:
                frame[k] = v
        raise TimeoutError("no event")

    def close(self):
        self.conn.close()
