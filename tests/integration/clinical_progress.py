"""clinical_progress (issue 12): progress of the journey, as UNOS reports it.
A heart with legs hospital -> airport A (ground), A -> B (air), B -> centre
(ground) is replayed on reading time (fixes with past timestamps computed
from the clock at run time) through real mosquitto to the real collector:
- departed, at_airport, airborne, landed, arrival_suggested reach the
  shipment's events feed (kind progress, also on the API's stream) and a
  webhook receiver (a local HTTP server), in that order, once each, each at
  the reading time of the first fix that showed it;
- GNSS jitter across the hospital's fence (290 m / 400 m) and at the
  centre's edge gives one event each, not one per crossing;
- the collector is restarted between airborne and landed: nothing is
  reported twice (table progress, restored into the rules);
- a radius_m in the plan is validated by the API and used by the collector;
- each is an InfluxDB point `progress` at its reading time (a real influxd);
- no alarm, and no custody entry: the arrival is for the crew to confirm.
Positions go north along a meridian (1 degree = 111.195 km)."""
import http.server
import json
import math
import threading

import ottest
from api_common import Api, SseStream
from collector_lib import KM_DEG, Client, collector_config, place, reading, start_collector

MIN = 60_000
STEP = 20_000  # a fix every 20 s
C = "PROG-HEART-1"
LAT0, LON = 45.0, 60.0
ORDER = ["departed", "at_airport", "airborne", "landed", "arrival_suggested"]


class Hook(http.server.BaseHTTPRequestHandler):
    bodies = []
    lock = threading.Lock()

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(n))
        with Hook.lock:
            Hook.bodies.append(body)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *a):
        pass


def lat_at(km):
    return LAT0 + km / KM_DEG


def dist_m(lat, km):
    return abs(lat - lat_at(km)) * KM_DEG * 1000.0


class Track:
    """Readings along the meridian; remembers what each fix shows."""

    def __init__(self, t0):
        self.t, self.km, self.rs = t0, 0.0, []

    def fix(self, km, kmh, alt=None):
        self.t += STEP
        self.km = km
        extra = {"lat": round(lat_at(km), 7), "lon": LON, "gnss_fix": 3, "speed_kmh": kmh}
        if alt is not None:
            extra["alt_m"] = alt
        self.rs.append(reading(len(self.rs) + 1, ts=self.t, temp=4.0, **extra))

    def move(self, kmh, minutes, alt=None):
        for _ in range(int(minutes * 60_000 / STEP)):
            self.fix(self.km + kmh * STEP / 3_600_000, kmh, alt)


def first(rs, pred, after=0):
    for r in rs:
        if r["ts"] > after and pred(r):
            return r["ts"]
    raise AssertionError("no fix shows it")


def test():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        run(srv.server_address[1])
    finally:
        srv.shutdown()


def run(hook_port):
    with ottest.Env("clinical-progress") as env:
        broker = env.mosquitto()
        influx = env.influxd()
        ottest.influx_query(influx.port, "organtrack", "CREATE DATABASE organtrack")
        api = Api(env).start()
        cfg = collector_config(env, broker, {
            "database": api.db,
            "influxdb": {"url": f"http://127.0.0.1:{influx.port}", "db": "organtrack",
                         "spool_dir": env.path("var", "influx-spool"), "token": None,
                         "flush_ms": 100},
            "webhooks": [{"url": f"http://127.0.0.1:{hook_port}/progress",
                          "events": ["progress"]}]})
        col = start_collector(env, cfg)
        coord = api.token("coordinator", "coord")
        now = ottest.now_ms()
        clamp = now - 190 * MIN
        dep = clamp + 10 * MIN
        legs = [
            {"mode": "ground", "from": place("Oral OKB", 0), "to": place("Oral airport", 25),
             "planned_departure": ottest.iso(dep), "planned_arrival": ottest.iso(dep + 30 * MIN)},
            {"mode": "air", "from": place("Oral airport", 25), "to": place("Astana airport", 425),
             "planned_departure": ottest.iso(dep + 50 * MIN),
             "planned_arrival": ottest.iso(dep + 110 * MIN), "carrier": "KC", "flight": "KC951"},
            {"mode": "ground", "from": place("Astana airport", 425),
             "to": place("Astana centre", 445, radius_m=500),
             "planned_departure": ottest.iso(dep + 125 * MIN),
             "planned_arrival": ottest.iso(dep + 150 * MIN)},
        ]
        body = api.shipment_body(C, profile="heart", mode="mixed",
                                 cross_clamp_at=ottest.iso(clamp), origin=place("Oral OKB", 0),
                                 destination=place("Astana centre", 445), legs=legs)
        bad = dict(body, legs=legs[:2] + [dict(legs[2], to=place("Astana centre", 445,
                                                                 radius_m=5))])
        s, j, _ = api.req("POST", "/api/v1/shipments", bad, coord)
        ottest.check(s == 400 and "legs[2].to.radius_m" in j["error"]["message"],
                     f"a 5 m fence refused, naming the key: {s} {j}")
        s, ship, _ = api.req("POST", "/api/v1/shipments", body, coord)
        ottest.check(s == 201, f"create: {s} {ship}")
        ottest.check(ship["legs"][2]["to"].get("radius_m") == 500 and
                     "radius_m" not in ship["legs"][0]["to"], f"radius_m kept: {ship['legs']}")
        sid = ship["id"]

        # the journey, from 10 min after cross-clamp
        tr = Track(dep - 5 * MIN)
        tr.move(0, 3)                      # standing at the hospital
        for i in range(8):                 # GNSS jitter across its fence
            tr.fix(0.290 if i % 2 else 0.400, 0)
        tr.fix(0.29, 0)
        tr.move(60, 22)                    # the road to airport A (25 km)
        tr.move(30, 6)                     # into the airport
        tr.move(0, 20, alt=120)            # on the apron
        tr.move(260, 1, alt=125)           # take-off roll and climb-out
        tr.move(420, 10, alt=3000)
        split = len(tr.rs)                 # the collector restarts here
        tr.move(600, 30, alt=9000)
        tr.fix(420.0, 260, 400)            # approach and touch-down at B (425 km)
        tr.fix(422.0, 240, 160)
        tr.move(40, 3, alt=150)
        tr.move(0, 12, alt=150)            # unloading
        tr.move(60, 19)                    # to the centre (445 km, fence 500 m)
        edge = 445 - 0.45
        t_edge = tr.t + STEP
        for i in range(10):                # jitter at its edge (inside the band)
            tr.fix(edge if i % 2 == 0 else 445 - 0.56, 5)
        tr.move(0, 5)
        rs = tr.rs
        ottest.check(rs[-1]["ts"] < now, "every reading lies in the past")

        def lat(r):
            return r["lat"]
        last_in = max(r["ts"] for r in rs if dist_m(lat(r), 0) <= 300)
        expect = {
            "departed": first(rs, lambda r: dist_m(lat(r), 0) > 375, after=last_in),
            "at_airport": first(rs, lambda r: dist_m(lat(r), 25) <= 2000),
        }
        expect["airborne"] = first(rs, lambda r: dist_m(lat(r), 25) > 2500 and
                                   r["speed_kmh"] >= 180, after=expect["at_airport"])
        expect["landed"] = first(rs, lambda r: dist_m(lat(r), 425) <= 2000 and
                                 r["speed_kmh"] < 60)
        expect["arrival_suggested"] = first(rs, lambda r: dist_m(lat(r), 445) <= 500)
        ottest.check(expect["arrival_suggested"] == t_edge, "the edge run is the arrival")
        ottest.check(expect["departed"] > rs[11]["ts"], "departed after the jitter")
        ottest.check(rs[split - 1]["ts"] > expect["airborne"] and
                     rs[split]["ts"] < expect["landed"], "the restart falls in flight")

        cl = Client(broker.port)
        for k in range(0, split, 50):
            cl.readings(C, rs[k:min(k + 50, split)])
        cl.wait_ack(C, split, timeout=60)

        def kinds():
            return [r[0] for r in api.sql("SELECT kind FROM progress WHERE shipment_id=? "
                                          "ORDER BY happened_at", (sid,))]
        ottest.wait_for(lambda: len(kinds()) == 3, timeout=20, what="progress up to airborne")
        ottest.check(kinds() == ORDER[:3], f"before the restart: {kinds()}")

        # a restart in flight: what was reported is restored, not repeated
        # (webhooks are best effort on top of the table: a stop drops what
        # is still queued, so the restart waits for the deliveries)
        ottest.wait_for(lambda: len(Hook.bodies) >= 3, timeout=30, what="three webhooks")
        ottest.check(col.stop() == 0, "clean exit")
        col = start_collector(env, cfg, name="collector2")
        for k in range(split, len(rs), 50):
            cl.readings(C, rs[k:k + 50])
        cl.wait_ack(C, len(rs), timeout=60)
        ottest.wait_for(lambda: len(kinds()) == 5, timeout=20, what="all five")
        ottest.check("progress restored" in col.log(), "the second collector restored progress")

        rows = api.sql("SELECT kind, leg, happened_at, place FROM progress WHERE shipment_id=? "
                       "ORDER BY happened_at", (sid,))
        ottest.check([r[0] for r in rows] == ORDER, f"in order: {rows}")
        for kind, leg, at, where in rows:
            ottest.check(at == expect[kind],
                         f"{kind} at the reading time it happened: {(at - expect[kind]) / 1000:+.0f} s")
        legs_of = {r[0]: r[1] for r in rows}
        ottest.check(legs_of == {"departed": -1, "at_airport": 1, "airborne": 1, "landed": 1,
                                 "arrival_suggested": -1}, f"legs: {legs_of}")
        places = {r[0]: r[3] for r in rows}
        ottest.check(places["at_airport"] == "Oral airport" and
                     places["landed"] == "Astana airport" and
                     places["arrival_suggested"] == "Astana centre", f"places: {places}")

        # the events feed: once each, in order, with their payload
        ev = api.sql("SELECT id, payload FROM events WHERE kind='progress' AND shipment_id=? "
                     "ORDER BY id", (sid,))
        payloads = [json.loads(p) for _, p in ev]
        ottest.check([p["kind"] for p in payloads] == ORDER, f"events: {payloads}")
        arr = payloads[-1]
        ottest.check(arr["event"] == "progress" and arr["container"] == C and
                     arr["place"]["name"] == "Astana centre" and
                     arr["place"]["radius_m"] == 500 and arr["leg"] is None and
                     "custody arrived" in arr["message"], f"arrival payload: {arr}")
        ottest.check(payloads[2]["place"]["radius_m"] == 2000 and payloads[0]["place"][
            "radius_m"] == 300, f"default fences: {payloads[0]} {payloads[2]}")
        for p in payloads:
            ottest.check(parse_ms(p["at"]) == expect[p["kind"]], f"at: {p}")

        # the API's stream carries them as `event: progress`
        sse = SseStream(api, coord, last_event_id=ev[0][0] - 1)
        frame = sse.next_event(timeout=10)
        sse.close()
        ottest.check(frame["event"] == "progress" and frame["data"]["data"]["kind"] == "departed",
                     f"stream: {frame}")

        # the webhook: once each, in order
        ottest.wait_for(lambda: len(Hook.bodies) >= 5, timeout=30, what="five webhooks")
        with Hook.lock:
            hooked = [b["kind"] for b in Hook.bodies]
        ottest.check(hooked == ORDER, f"webhooks: {hooked}")
        ottest.check(all(b["event"] == "progress" and b["shipment_id"] == sid
                         for b in Hook.bodies), f"{Hook.bodies}")

        # InfluxDB: one point each, at the reading time it happened
        def points():
            r = ottest.influx_query(influx.port, "organtrack",
                                    f"SELECT place, kind FROM progress WHERE shipment='{sid}'")
            series = r["results"][0].get("series")
            return series[0]["values"] if series else []
        ottest.wait_for(lambda: len(points()) >= 5, timeout=30, what="five progress points")
        pts = points()
        ottest.check([v[2] for v in pts] == ORDER and
                     [parse_ms(v[0]) for v in pts] == [expect[k] for k in ORDER],
                     f"influx points: {pts}")

        # events, not alarms; and the collector writes no custody
        n = api.sql("SELECT count(*) FROM alarms WHERE shipment_id=? AND type IN "
                    "('departed','at_airport','airborne','landed','arrival_suggested')",
                    (sid,))[0][0]
        ottest.check(n == 0, f"no alarm rows: {n}")
        n = api.sql("SELECT count(*) FROM custody WHERE shipment_id=?", (sid,))[0][0]
        ottest.check(n == 0, f"no custody entry written by the collector: {n}")
        ottest.check(col.alive(), "collector alive")
        cl.close()


def parse_ms(iso):
    import datetime
    d = datetime.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return int(math.floor(d.timestamp() * 1000 + 0.5))


if __name__ == "__main__":
    ottest.main(test)
