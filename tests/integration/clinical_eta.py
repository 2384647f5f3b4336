"""clinical_eta (issue 12): the ETA does not cry wolf, and warns in time.
Two ground shipments replayed on reading time through the real collector
(hours of readings in seconds, never a sleep):
- A, liver (12 h), 420 km with 6 h left at departure, leaves town at 5 km/h
  for a quarter of an hour and 30 km/h for 20 min before the highway at
  90 km/h: never `eta_late` (the demo showed "4300 min late ... at 5 km/h").
- B, heart (6 h), 300 km, plausible at the 60 km/h prior, but it crawls at
  35 km/h all the way: `eta_late` is raised at least 30 min of reading time
  before the viability deadline is missed (in fact within 2 h of setting off).
Positions go north along a meridian (1 degree = 111.195 km)."""

import ottest
from api_common import Api
from collector_lib import KM_DEG, Client, collector_config, reading, start_collector

MIN = 60_000


def track(seq0, t0, lat0, phases, step_s=30, lon=60.0):
    """Readings from t0 along the meridian: phases = [(kmh, minutes)]."""
    rs, t, lat, seq = [], t0, lat0, seq0
    for kmh, minutes in phases:
        for _ in range(int(minutes * 60 / step_s)):
            t += step_s * 1000
            lat += kmh * step_s / 3600.0 / KM_DEG
            seq += 1
            rs.append(reading(seq, ts=t, temp=4.0, lat=round(lat, 6), lon=lon, gnss_fix=3,
                              speed_kmh=kmh))
    return rs


def send(cl, container, rs):
    for k in range(0, len(rs), 50):
        cl.readings(container, rs[k:k + 50])
    cl.wait_ack(container, rs[-1]["seq"], timeout=60)


def test():
    with ottest.Env("clinical-eta") as env:
        broker = env.mosquitto()
        api = Api(env).start()
        cfg = collector_config(env, broker, {"database": api.db})
        start_collector(env, cfg)
        coord = api.token("coordinator", "coord")
        cl = Client(broker.port)
        now = ottest.now_ms()

        # A: liver, 12 h limit, departs 6 h after cross-clamp, 420 km
        clamp_a = now - 6 * 60 * MIN
        a = api.create_shipment(coord, "ETA-SLOW-1", profile="liver", mode="ground",
                                cross_clamp_at=ottest.iso(clamp_a),
                                origin={"name": "Town A", "lat": 45.0, "lon": 60.0},
                                destination={"name": "Centre A", "lat": 45.0 + 420 / KM_DEG,
                                             "lon": 60.0})
        rs_a = track(0, clamp_a + 10 * MIN, 45.0, [(0, 5), (5, 15), (30, 20), (90, 270)])
        ottest.check(rs_a[-1]["ts"] < now, "A's readings are all in the past")
        # B: heart, 6 h limit, departs 30 min after cross-clamp, 300 km at 35 km/h
        clamp_b = now - 7 * 60 * MIN
        b = api.create_shipment(coord, "ETA-LATE-1", profile="heart", mode="ground",
                                cross_clamp_at=ottest.iso(clamp_b),
                                origin={"name": "Town B", "lat": 40.0, "lon": 62.0},
                                destination={"name": "Centre B", "lat": 40.0 + 300 / KM_DEG,
                                             "lon": 62.0})
        rs_b = track(0, clamp_b + 30 * MIN, 40.0, [(0, 2), (35, 358)], lon=62.0)
        ottest.check(rs_b[-1]["ts"] < now, "B's readings are all in the past")
        send(cl, "ETA-SLOW-1", rs_a)
        send(cl, "ETA-LATE-1", rs_b)

        def eta_of(sid):
            s, j, _ = api.req("GET", f"/api/v1/shipments/{sid}", token=coord)
            ottest.check(s == 200, f"get {sid}: {s} {j}")
            return j if j.get("eta_source") == "collector" else None
        ship_a = ottest.wait_for(lambda: eta_of(a["id"]), timeout=30, what="A's ETA")
        ottest.wait_for(lambda: eta_of(b["id"]), timeout=30, what="B's ETA")
        late_a = api.sql("SELECT count(*) FROM alarms WHERE shipment_id=? AND type='eta_late'",
                         (a["id"],))[0][0]
        ottest.check(late_a == 0, f"A (slow start, ample time) never got eta_late: {late_a}")
        ottest.check(ship_a["eta"] < ship_a["deadline"],
                     f"A's ETA {ship_a['eta']} before the deadline {ship_a['deadline']}")

        rows = api.sql("SELECT raised_at, message FROM alarms WHERE shipment_id=? AND "
                       "type='eta_late' ORDER BY id", (b["id"],))
        ottest.check(len(rows) == 1, f"B raised eta_late once: {rows}")
        deadline_b = clamp_b + 360 * MIN
        raised_at, msg = rows[0]
        ottest.check(raised_at <= deadline_b - 30 * MIN,
                     f"B warned {(deadline_b - raised_at) / MIN:.0f} min before the deadline")
        ottest.check(raised_at <= clamp_b + 30 * MIN + 120 * MIN,
                     f"B warned {(raised_at - clamp_b - 30 * MIN) / MIN:.0f} min after setting off")
        ottest.check("observed" in msg, f"B's warning rests on observed progress: {msg}")
        cl.close()


if __name__ == "__main__":
    test()
