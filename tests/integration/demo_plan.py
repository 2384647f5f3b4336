"""demo_plan: what `make demo` sends and plays still fits together.
scripts/demo.sh --plan prints, planned from now, the three shipments it
creates, the kidney's redirect and the heart's check-in, without starting
anything. Checked here:
- the heart's planned legs agree with its scenario (organtrack-sensors
  --dump-scenario at the planned times): standing at each leg's start just
  before its planned departure, at its end just after its planned arrival,
  and in flight the altitude and speed that config/gateway.json's
  flight.detect auto takes for the air (radio silent, then the backlog);
- the liver's scenario lets the collector's trend forecast warn first: in
  band for the forecast's 5 min of readings with a rising trend that leaves
  the band within forecast_horizon_s, then out of band for longer than the
  liver's grace (the excursion alarm and the local alarm);
- a real API takes every body: the shipments (legs valid), the redirect
  (a `redirected` custody entry with the reason), the heart's and the
  kidney's check-in (they match: no identity_mismatch), then reperfused
  ends the heart's cold ischaemia."""
import json
import math
import os
import subprocess

import ottest
import sensors_lib as sl
from api_common import Api
from collector_lib import collector_config, start_collector


def near_km(a, b):
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    dl = math.radians(b[1] - a[1])
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def ms(iso):
    r = subprocess.run(["date", "-u", "-d", iso, "+%s"], check=True, capture_output=True, text=True)
    return int(r.stdout) * 1000


def plan():
    r = subprocess.run(["bash", os.path.join(ottest.ROOT, "scripts", "demo.sh"), "--plan"],
                       capture_output=True, text=True, timeout=60, cwd=ottest.ROOT,
                       env=dict(os.environ))
    ottest.check(r.returncode == 0, f"demo.sh --plan: rc={r.returncode} {r.stderr}")
    out = {"create": []}
    for line in r.stdout.splitlines():
        key, _, body = line.partition(" ")
        if key == "create":
            out["create"].append(json.loads(body))
        else:
            out[key] = json.loads(body)
    ottest.check(len(out["create"]) == 3 and "redirect" in out and "checkin_heart" in out and
                 "checkin_kidney" in out,
                 f"plan: {r.stdout}")
    return out


def check_heart(p, heart):
    t0, scale = p["t0"]["t0_ms"], p["t0"]["time_scale"]
    scn = os.path.join(ottest.ROOT, p["t0"]["heart_scenario"])
    with open(os.path.join(ottest.ROOT, "config", "gateway.json")) as f:
        flight = json.load(f)["flight"]
    ottest.check(flight["detect"] == "auto", f"the heart's gateway detects flights: {flight}")
    legs = heart["legs"]
    ottest.check([leg["mode"] for leg in legs] == ["ground", "air", "ground"], f"{legs}")

    def at(real_ms):
        return sl.dump(scn, max(0.0, (real_ms - t0) / 1000.0 * scale))

    for i, leg in enumerate(legs):
        dep, arr = ms(leg["planned_departure"]), ms(leg["planned_arrival"])
        for when, place, what in ((dep - 1000, leg["from"], "before departure"),
                                  (arr + 1500, leg["to"], "after arrival")):
            st = at(when)["values"]
            d = near_km((st["lat"], st["lon"]), (place["lat"], place["lon"]))
            ottest.check(d < 1.0 and st["speed_kmh"] == 0,
                         f"leg {i} {what}: {d:.2f} km from {place['name']}, speed {st['speed_kmh']}")
        if leg["mode"] == "air":
            st = at((dep + arr) // 2)["values"]
            ottest.check(st["alt_m"] > flight["alt_m_above"] and
                         st["speed_kmh"] > flight["speed_kmh_above"],
                         f"mid-flight the gateway sees the air: {st}")
            # airborne for longer than the detection needs, so the radio goes silent
            ottest.check(arr - dep > (flight["air_s"] + flight["ground_s"]) * 1000 + 60_000,
                         f"flight {arr - dep} ms")


def check_liver(liver):
    with open(os.path.join(ottest.ROOT, "config", "sensors.json")) as f:
        devs = json.load(f)["devices"]
    with open(os.path.join(ottest.ROOT, "config", "preservation.json")) as f:
        pres = json.load(f)
    prof = dict(pres["defaults"], **pres["profiles"][liver["profile"]])
    lo, hi = prof["temp_min_c"], prof["temp_max_c"]
    scn = os.path.join(ottest.ROOT, devs[2]["scenario"])
    with open(scn) as f:
        scale = json.load(f)["time_scale"]
    series = [(s["t_s"] / scale, s["values"]["temp_c"])
              for s in sl.dump(scn, 0, to=int(40 * 60 * scale), step=int(scale))]  # 1 s real
    out = [t for t, v in series if not lo <= v <= hi]
    ottest.check(out, "the liver leaves its band")
    first_out = out[0]
    # the forecast needs 5 min of readings (rules_forecast.c) and the gateway
    # starts a few seconds after the simulator: still in band a minute later
    ottest.check(first_out > 6 * 60, f"the liver leaves its band at {first_out:.0f} s real, "
                 "before the forecast has 5 min of readings")
    win = [(t, v) for t, v in series if 10 <= t <= 5 * 60 + 10]
    n = len(win)
    sx, sy = sum(t for t, _ in win), sum(v for _, v in win)
    sxx, sxy = sum(t * t for t, _ in win), sum(t * v for t, v in win)
    b = (n * sxy - sx * sy) / (n * sxx - sx * sx)
    proj = win[-1][1] + b * prof["forecast_horizon_s"]
    ottest.check(proj > hi, f"trend at 5 min projects {proj:.1f} degC, not past {hi}")
    # probe noise flickers across the limit: the alarm needs one unbroken
    # stretch out of band, at the gateway's 1 s polling, longer than the grace
    longest, start = 0.0, None
    for t, v in series:
        if not lo <= v <= hi:
            start = t if start is None else start
            longest = max(longest, t - start)
        else:
            start = None
    ottest.check(longest > prof["excursion_grace_s"] + 120,
                 f"out of band for {longest:.0f} s real at most, grace {prof['excursion_grace_s']} s")


def test():
    p = plan()
    heart, kidney, liver = p["create"]
    check_heart(p, heart)
    check_liver(liver)
    with ottest.Env("demo-plan") as env:
        broker = env.mosquitto()
        api = Api(env).start()
        start_collector(env, collector_config(env, broker, {"database": api.db}))
        coord = api.token("coordinator", "coord")
        crew = api.token("crew", "crew", [b["container"] for b in p["create"]])
        ids = []
        for body in p["create"]:
            s, j, _ = api.req("POST", "/api/v1/shipments", body, coord)
            ottest.check(s == 201, f"create {body['profile']}: {s} {j}")
            ids.append(j["id"])
            s, j, _ = api.req("POST", f"/api/v1/shipments/{j['id']}/custody",
                              {"type": "departed", "from": "Transport crew"}, crew)
            ottest.check(s == 201, f"departed: {s} {j}")
        hid, kid, _ = ids
        s, j, _ = api.req("PATCH", f"/api/v1/shipments/{kid}", p["redirect"], coord)
        ottest.check(s == 200 and j["destination"]["name"] == p["redirect"]["destination"]["name"],
                     f"redirect: {s} {j}")
        s, j, _ = api.req("GET", f"/api/v1/shipments/{kid}/custody", None, coord)
        red = [e for e in j["items"] if e["type"] == "redirected"]
        ottest.check(len(red) == 1 and "crossmatch" in (red[0]["comment"] or ""), f"{j}")
        for sid, checkin in ((hid, p["checkin_heart"]), (kid, p["checkin_kidney"])):
            for body in ({"type": "arrived", "from": "Transport crew"}, checkin):
                s, j, _ = api.req("POST", f"/api/v1/shipments/{sid}/custody", body, coord)
                ottest.check(s == 201, f"{body['type']}: {s} {j}")
            ottest.check("; matches" in j["comment"], f"checkin: {j}")
            s, j, _ = api.req("GET", f"/api/v1/shipments/{sid}/alarms", None, coord)
            ottest.check(not [a for a in j["items"] if a["type"] == "identity_mismatch"], f"{j}")
        s, j, _ = api.req("POST", f"/api/v1/shipments/{hid}/custody", {"type": "reperfused"}, coord)
        ottest.check(s == 201, f"reperfused: {s} {j}")
        s, j, _ = api.req("GET", f"/api/v1/shipments/{hid}", None, coord)
        ottest.check(j["ischemia"]["ended_at"] and j["ischemia"]["total_min"] is not None, f"{j}")


if __name__ == "__main__":
    ottest.main(test)
