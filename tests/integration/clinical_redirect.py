"""clinical_redirect (issue 12): planned legs on create (validated, stored,
returned), and a redirect: PATCH destination and legs (coordinator) writes a
`redirected` custody entry with the old and the new destination, voids the
stored ETA, and the collector projects the new one at once (next tick, no
new reading needed); organtrack-ledger verify accepts the trail."""
import os
import subprocess

import ottest
from api_common import Api
from collector_lib import KM_DEG, Client, collector_config, place, reading, start_collector

MIN = 60_000
TOOL = os.path.join(ottest.BIN, "organtrack-ledger")
C = "LEGS-1"


def test():
    with ottest.Env("clinical-redirect") as env:
        broker = env.mosquitto()
        api = Api(env).start()
        cfg = collector_config(env, broker, {"database": api.db})
        start_collector(env, cfg)
        coord = api.token("coordinator", "coord")
        crew = api.token("crew", "crew", [C])
        now = ottest.now_ms()
        clamp = now - 60 * MIN
        dep = now - 20 * MIN
        legs = [
            {"mode": "ground", "from": place("Hospital", 0), "to": place("Airport A", 30),
             "planned_departure": ottest.iso(dep), "planned_arrival": ottest.iso(dep + 40 * MIN)},
            {"mode": "air", "from": place("Airport A", 30), "to": place("Airport B", 530),
             "planned_departure": ottest.iso(dep + 85 * MIN),
             "planned_arrival": ottest.iso(dep + 160 * MIN), "carrier": "KC", "flight": "KC951"},
            {"mode": "ground", "from": place("Airport B", 530), "to": place("Centre", 550),
             "planned_departure": ottest.iso(dep + 190 * MIN),
             "planned_arrival": ottest.iso(dep + 220 * MIN)},
        ]
        body = api.shipment_body(C, profile="liver", mode="mixed", laterality="right", abo="A+",
                                 cross_clamp_at=ottest.iso(clamp), origin=place("Hospital", 0),
                                 destination=place("Centre", 550), legs=legs)

        # validation names the key
        bad = dict(body, legs=[dict(legs[0], planned_arrival=ottest.iso(dep - MIN))])
        s, j, _ = api.req("POST", "/api/v1/shipments", bad, coord)
        ottest.check(s == 400 and "legs[0].planned_arrival" in j["error"]["message"], f"{s} {j}")
        bad = dict(body, legs=[dict(legs[0], mode="boat")])
        s, j, _ = api.req("POST", "/api/v1/shipments", bad, coord)
        ottest.check(s == 400 and "legs[0].mode" in j["error"]["message"], f"{s} {j}")
        bad = dict(body, legs=legs[:2])
        s, j, _ = api.req("POST", "/api/v1/shipments", bad, coord)
        ottest.check(s == 400 and "legs[1].to" in j["error"]["message"], f"{s} {j}")

        s, ship, _ = api.req("POST", "/api/v1/shipments", body, coord)
        ottest.check(s == 201, f"create: {s} {ship}")
        sid = ship["id"]
        ottest.check(len(ship["legs"]) == 3 and ship["legs"][1]["flight"] == "KC951" and
                     ship["legs"][1]["mode"] == "air", f"legs returned: {ship['legs']}")
        ottest.check(ship["laterality"] == "right" and ship["abo"] == "A+", f"{ship}")

        # departed; 20 min on the road at the planned 45 km/h
        s, j, _ = api.req("POST", f"/api/v1/shipments/{sid}/custody",
                          {"type": "departed"}, crew)
        ottest.check(s == 201, f"departed: {s} {j}")
        cl = Client(broker.port)
        rs, lat = [], 45.0
        for i in range(120):
            lat += 45.0 * 10 / 3600.0 / KM_DEG
            rs.append(reading(i + 1, ts=dep + (i + 1) * 10_000, lat=round(lat, 6), lon=60.0,
                              gnss_fix=3))
        cl.readings(C, rs[:60])
        cl.readings(C, rs[60:])
        cl.wait_ack(C, 120)

        def eta():
            s, j, _ = api.req("GET", f"/api/v1/shipments/{sid}", token=coord)
            ottest.check(s == 200, f"{s} {j}")
            return j if j["eta_source"] == "collector" else None
        ottest.wait_for(eta, timeout=20, what="collector ETA")
        planned_end = dep + 220 * MIN
        got = api.sql("SELECT eta FROM shipments WHERE id=?", (sid,))[0][0]
        ottest.check(abs(got - planned_end) < 5 * MIN,
                     f"on plan: ETA {(got - planned_end) / MIN:+.1f} min from the planned arrival")

        # redirect: a centre 200 km beyond, no plan -> the ETA moves out at once
        far = place("Centre North", 750)
        s, j, _ = api.req("PATCH", f"/api/v1/shipments/{sid}",
                          {"destination": far, "comment": "recipient moved"}, crew)
        ottest.check(s == 403, f"crew cannot redirect: {s} {j}")
        s, j, _ = api.req("PATCH", f"/api/v1/shipments/{sid}",
                          {"destination": far, "status": "delivered"}, coord)
        ottest.check(s == 400, f"status and destination together refused: {s} {j}")
        s, j, _ = api.req("PATCH", f"/api/v1/shipments/{sid}",
                          {"destination": far, "comment": "recipient moved"}, coord)
        ottest.check(s == 200, f"redirect: {s} {j}")
        ottest.check(j["destination"]["name"] == "Centre North" and j["legs"] == [], f"{j}")
        ottest.check(j["eta_source"] != "collector", f"stale ETA voided: {j['eta_source']}")
        after = ottest.wait_for(lambda: (api.sql("SELECT eta FROM shipments WHERE id=?",
                                                 (sid,))[0][0]), timeout=20,
                                what="ETA recomputed after the redirect")
        # without a plan, a mixed shipment 735 km out has its flight ahead:
        # km / 500 km/h + 45 min for the airports, from the last fix
        km = (far["lat"] - lat) * KM_DEG
        expect = rs[-1]["ts"] + (km / 500.0 + 0.75) * 3600_000
        ottest.check(abs(after - got) > 30 * MIN and abs(after - expect) < 3 * MIN,
                     f"ETA recomputed: {(after - got) / MIN:+.0f} min, "
                     f"{(after - expect) / MIN:+.1f} min from the no-plan projection")

        s, trail, _ = api.req("GET", f"/api/v1/shipments/{sid}/custody", token=coord)
        ottest.check(s == 200, f"{s} {trail}")
        items = trail["items"] if isinstance(trail, dict) else trail
        red = [e for e in items if e["type"] == "redirected"]
        ottest.check(len(red) == 1, f"one redirected entry: {items}")
        ottest.check(red[0]["from"].startswith("Centre (") and
                     red[0]["to"].startswith("Centre North ("), f"old and new: {red[0]}")
        ottest.check("recipient moved" in (red[0].get("comment") or ""), f"{red[0]}")

        # a redirect back with a plan is recorded too; then the trail verifies
        s, j, _ = api.req("PATCH", f"/api/v1/shipments/{sid}",
                          {"destination": place("Centre", 550), "legs": legs}, coord)
        ottest.check(s == 200 and len(j["legs"]) == 3, f"redirect with legs: {s} {j}")
        out = subprocess.run([TOOL, "verify", api.db], capture_output=True, text=True,
                             timeout=60)
        ottest.check(out.returncode == 0 and out.stdout.startswith("OK"),
                     f"ledger verify: {out.returncode} {out.stdout} {out.stderr}")
        n = api.sql("SELECT count(*) FROM custody WHERE shipment_id=? AND type='redirected'",
                    (sid,))[0][0]
        ottest.check(n == 2, f"two redirects in the trail: {n}")
        cl.close()


if __name__ == "__main__":
    test()
