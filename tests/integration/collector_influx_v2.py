"""collector_influx_v2: the InfluxDB 2.x write path against a stand-in HTTP
server (Debian ships no influxd 2): POST /api/v2/write?org=&bucket=&precision=ms
with `Authorization: Token …`, line protocol in the body; the server answers
503 at first, then 204: the collector keeps the points and delivers each
exactly once after the outage."""
import http.server
import threading
import time
import urllib.parse

import ottest
from collector_lib import Client, collector_config, counter, reading, start_collector


class V2(http.server.BaseHTTPRequestHandler):
    lock = threading.Lock()
    lines = []
    failing = True
    requests = []

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n).decode()
        with V2.lock:
            V2.requests.append((self.path, self.headers.get("Authorization")))
            if V2.failing:
                self.send_response(503)
                self.end_headers()
                return
            V2.lines.extend(x for x in body.split("\n") if x)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *a):
        pass


def test():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), V2)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        run(srv.server_address[1])
    finally:
        srv.shutdown()


def run(port):
    with ottest.Env("collector-influx-v2") as env:
        broker = env.mosquitto()
        cfg = collector_config(env, broker, {
            "influxdb": {"url": f"http://127.0.0.1:{port}/", "org": "kz transplant",
                         "bucket": "organ&track", "token": "s3cret", "flush_ms": 100,
                         "spool_dir": env.path("var", "influx-spool")}})
        col = start_collector(env, cfg)
        cl = Client(broker.port)
        C = "KZ-V2-1"
        t0 = int(time.time() * 1000) - 100000
        cl.state(C, 0)
        for s in range(1, 201, 20):
            cl.readings(C, [reading(x, ts=t0 + x * 100, temp=4.5) for x in range(s, s + 20)])
        cl.wait_ack(C, 200)
        ottest.wait_for(lambda: len(V2.requests) >= 2, what="writes attempted while failing")
        with V2.lock:
            V2.failing = False
        ottest.wait_for(lambda: len(V2.lines) >= 200, timeout=40, what="all points after 503s")
        # a duplicate delivery would come before a point submitted after the
        # outage: the writer sends its spooled files oldest first, then new
        # lines. Wait for that marker point (seq 201) instead of sleeping.
        cl.readings(C, [reading(201, ts=t0 + 201 * 100, temp=4.5)])
        ottest.wait_for(lambda: any("seq=201i" in x for x in list(V2.lines)), timeout=20,
                        what="the marker point after the outage")
        with V2.lock:
            lines = list(V2.lines)
            path, auth = V2.requests[-1]
        seqs = sorted(int(l.split("seq=")[1].split("i")[0]) for l in lines if l.startswith("reading,"))
        ottest.check(seqs == list(range(1, 202)), f"every point exactly once, got {len(seqs)}")
        u = urllib.parse.urlsplit(path)
        q = urllib.parse.parse_qs(u.query)
        ottest.check(u.path == "/api/v2/write", f"v2 path: {path}")
        ottest.check(q == {"org": ["kz transplant"], "bucket": ["organ&track"], "precision": ["ms"]},
                     f"query escaped: {u.query}")
        ottest.check(auth == "Token s3cret", f"token header: {auth}")
        ottest.check(lines[0].startswith("reading,container=KZ-V2-1,late="), f"line: {lines[0]}")
        ottest.wait_for(lambda: counter(cfg, "influx", "failures") >= 1 and
                        counter(cfg, "influx", "written") == len(lines),
                        what="failures and written points counted")
        ottest.check(col.stop() == 0, "clean exit")
        ottest.check(counter(cfg, "influx", "dropped") == 0, "nothing dropped")
        cl.close()


if __name__ == "__main__":
    ottest.main(test)
