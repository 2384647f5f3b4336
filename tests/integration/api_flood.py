"""Nobody without a token can silence the API with idle connections (issue 15
finding 1). Tried, on loopback only: 1,000 connections from one address
(127.0.0.2; the checks come from 127.0.0.1), half of them sending nothing,
half trickling one header byte every 200 ms, and every connection the API
closes reconnected at once (the attacker that keeps the service down for
good), for a bounded ~8 s. Meanwhile GET /api/v1/health and an authenticated
shipment list are timed on fresh connections. Before: every request timed
out (connection_limit 512 shared by everyone, 60 s idle timeout). What
proves nothing was lost: every health answer is 200 "ok" and every list
holds the seeded shipment, each within the bound; a trickling connection is
closed after header_timeout_s however many bytes it sent; the shed count
shows up in /metrics. Then the same flood from the checks' own address: an
address that floods mostly sheds itself, so its own requests may be reset
under a reconnect storm of thousands a second (printed as a ratio); at
least some are still served within the bound, where before none were."""
import os
import selectors
import socket
import statistics
import threading
import time

import api_common
import ottest

N_FLOOD = int(os.environ.get("OT_FLOOD_CONNECTIONS", "1000"))
SAMPLES = int(os.environ.get("OT_FLOOD_SAMPLES", "20"))  # bench/api_flood.sh: more
BOUND_S = 1.0  # asserted; the real figures (bench/api_flood.sh) are in docs/performance.md


class Flood:
    def __init__(self, port, n, src):
        self.src = src
        self.port = port
        self.n = n
        self.sel = selectors.DefaultSelector()
        self.stop = threading.Event()
        self.opened = 0
        self.closed_by_server = 0
        self.t = threading.Thread(target=self.run, daemon=True)

    def open_one(self, trickle):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((self.src, 0))
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", self.port))
        self.sel.register(s, selectors.EVENT_READ, {"trickle": trickle, "pos": 0})
        self.opened += 1

    def run(self):
        req = b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n"
        for i in range(self.n):
            self.open_one(trickle=i % 2 == 1)
        next_tick = time.monotonic()
        while not self.stop.is_set():
            for key, _ in self.sel.select(timeout=0.05):
                s, data = key.fileobj, key.data
                try:
                    gone = s.recv(4096) == b""
                except (BlockingIOError, InterruptedError):
                    gone = False
                except OSError:
                    gone = True
                if gone:
                    self.sel.unregister(s)
                    s.close()
                    self.closed_by_server += 1
                    self.open_one(data["trickle"])  # reconnect at once
            if time.monotonic() >= next_tick:
                next_tick += 0.2
                for key in list(self.sel.get_map().values()):
                    d = key.data
                    if d["trickle"]:
                        try:
                            key.fileobj.send(req[d["pos"] % len(req):][:1])
                            d["pos"] += 1
                        except OSError:
                            pass
        for key in list(self.sel.get_map().values()):
            key.fileobj.close()


def timed(api, path, token=None):
    t0 = time.monotonic()
    s, j, _ = api.req("GET", path, token=token, timeout=5)
    return time.monotonic() - t0, s, j


def same_address(api, coord):
    """The flood from 127.0.0.1 itself: returns (served, tried, worst served s)."""
    flood = Flood(api.port, N_FLOOD, "127.0.0.1")
    flood.t.start()
    served, worst = 0, 0.0
    try:
        ottest.wait_for(lambda: flood.opened >= N_FLOOD, timeout=20, what="flood opened")
        time.sleep(1.0)
        for _ in range(20):
            try:
                dt, s, j = timed(api, "/api/v1/health")
            except OSError:
                continue
            if s == 200 and dt < BOUND_S:
                served += 1
                worst = max(worst, dt)
    finally:
        flood.stop.set()
        flood.t.join(timeout=10)
    return served, 20, worst


def test_flood():
    with ottest.Env("api-flood") as env:
        api = api_common.Api(env, {"header_timeout_s": 2}).start()
        coord = api.token("coordinator", "Coordinator Aliya")
        api.create_shipment(coord, "KZ-FLD-1")
        flood = Flood(api.port, N_FLOOD, "127.0.0.2")
        flood.t.start()
        try:
            ottest.wait_for(lambda: flood.opened >= N_FLOOD, timeout=20, what="flood opened")
            time.sleep(1.0)  # let the flood settle: the API holds what it holds
            # a trickling connection opened now is closed by the header deadline
            lone = socket.create_connection(("127.0.0.1", api.port), timeout=10,
                                            source_address=("127.0.0.3", 0))
            t0 = time.monotonic()
            closed = None
            while time.monotonic() - t0 < 8:
                try:
                    lone.send(b"G")
                    lone.settimeout(0.2)
                    if lone.recv(100) == b"":
                        closed = time.monotonic() - t0
                        break
                except socket.timeout:
                    continue
                except OSError:
                    closed = time.monotonic() - t0
                    break
            lone.close()
            health, lists = [], []
            for _ in range(SAMPLES):
                dt, s, j = timed(api, "/api/v1/health")
                ottest.check(s == 200 and j.get("status") == "ok", f"health {s} {j}")
                health.append(dt)
                dt, s, j = timed(api, "/api/v1/shipments", coord)
                ottest.check(s == 200 and any(x["container"] == "KZ-FLD-1"
                                              for x in j["items"]), f"list {s} {j}")
                lists.append(dt)
        finally:
            flood.stop.set()
            flood.t.join(timeout=10)
        print(f"flood: opened={flood.opened} closed_by_server={flood.closed_by_server}")
        for name, xs in (("health", health), ("list", lists)):
            q = sorted(xs)
            print(f"{name}: n={len(xs)} p50={statistics.median(xs) * 1000:.1f} ms"
                  f" p95={q[int(len(q) * 0.95) - 1] * 1000:.1f} ms"
                  f" max={max(xs) * 1000:.1f} ms")
            ottest.check(max(xs) < BOUND_S, f"{name} took {max(xs):.3f} s under the flood")
        print(f"trickling connection closed after {closed} s")
        ottest.check(closed is not None and closed < 5.0,
                     f"a trickling connection outlived the header deadline: {closed}")
        ottest.check(flood.closed_by_server > 0, "the flood was never shed")
        served, tried, worst = same_address(api, coord)
        print(f"same address: {served}/{tried} health checks served, worst {worst * 1000:.1f} ms")
        ottest.check(served > 0, "a flooding address silenced its own health checks entirely")
        s, text, _ = api.req("GET", "/metrics", token=coord)
        ottest.check(s == 200 and "organtrack_api_connections_shed_total" in text,
                     "shed counter in /metrics")


if __name__ == "__main__":
    ottest.main(test_flood)
