"""collector_flight (issue 14): while a gateway's last (retained) state says
flight:true its radio is off by plan: the collector raises no
gateway_offline and opens no radio_silence incident, the API's shipment
says radio "flight" since the gateway entered flight mode, with the last
position; after landing the backlog arrives and still nothing is raised.
A flight far past its air leg's planned arrival (or, without legs, past
flight_max_s) does raise gateway_offline, saying it is overdue. The
silences are made of state and reading times in the past (no sleep); each
absence is checked after a control container, ticked in the same rounds,
got its alarm."""
import calendar
import json
import time

import ottest
from api_common import Api
from collector_lib import TOPIC, Client, collector_config, place, reading, start_collector

MIN = 60_000


def state(cl, container, online, flight=None, ts=None, seq=0):
    body = {"v": 1, "container": container, "gateway": "gw-1", "online": online,
            "ts": ts if ts is not None else ottest.now_ms(), "boot": 1, "seq": seq}
    if flight is not None:
        body["flight"] = flight
    cl.publish(f"{TOPIC}/containers/{container}/state", json.dumps(body), retain=True)


def ms(iso):
    """Epoch ms of the API's RFC 3339 UTC time (with or without .mmm)."""
    base, _, frac = iso.rstrip("Z").partition(".")
    t = calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) * 1000
    return t + (int(frac.ljust(3, "0")[:3]) if frac else 0)


def alarms(api, sid, type_):
    return api.sql("SELECT state, message FROM alarms WHERE shipment_id=? AND type=?",
                   (sid, type_))


def incidents(api, sid):
    return api.sql("SELECT kind, detail FROM incidents WHERE shipment_id=?", (sid,))


def air_legs(dep, arr):
    return [
        {"mode": "ground", "from": place("Hospital", 0), "to": place("Airport A", 30),
         "planned_departure": ottest.iso(dep - 60 * MIN), "planned_arrival": ottest.iso(dep - 15 * MIN)},
        {"mode": "air", "from": place("Airport A", 30), "to": place("Airport B", 1000),
         "planned_departure": ottest.iso(dep), "planned_arrival": ottest.iso(arr)},
    ]


def test():
    with ottest.Env("collector-flight") as env:
        broker = env.mosquitto()
        api = Api(env).start()
        cfg = collector_config(env, broker, {"database": api.db})
        coll = start_collector(env, cfg)
        coord = api.token("coordinator", "coord")
        now = ottest.now_ms()
        # FL-A flies by plan (lands in 2 h); FL-LATE should have landed 1 h
        # ago; FL-NOLEGS has no plan and has flown 17 h (flight_max_s 16 h);
        # CTRL is a ground container whose gateway is merely offline
        fa = api.create_shipment(coord, "FL-A", mode="mixed", origin=place("Hospital", 0),
                                 destination=place("Airport B", 1000),
                                 legs=air_legs(now - 40 * MIN, now + 120 * MIN))
        late = api.create_shipment(coord, "FL-LATE", mode="mixed", origin=place("Hospital", 0),
                                   destination=place("Airport B", 1000),
                                   legs=air_legs(now - 4 * 60 * MIN, now - 60 * MIN))
        nolegs = api.create_shipment(coord, "FL-NOLEGS", mode="air", origin=place("A", 0),
                                     destination=place("B", 1000))
        ctrl = api.create_shipment(coord, "FL-CTRL", mode="ground", origin=place("A", 0),
                                   destination=place("B", 300))
        cl = Client(broker.port)
        t0 = now - 45 * MIN  # last reading before take-off
        pos = place("Airport A", 30)
        took_off = now - 35 * MIN
        # the retained states first (as a collector starting mid-flight sees
        # them), then the readings sent before take-off
        state(cl, "FL-A", False, flight=True, ts=took_off)
        state(cl, "FL-LATE", False, flight=True, ts=now - 4 * 60 * MIN)
        state(cl, "FL-NOLEGS", False, flight=True, ts=now - 17 * 60 * MIN)
        state(cl, "FL-CTRL", False)  # a last will: no flight
        for c in ("FL-A", "FL-LATE", "FL-NOLEGS", "FL-CTRL"):
            cl.readings(c, [reading(1, ts=t0, lat=pos["lat"], lon=pos["lon"], gnss_fix=3)])
            cl.wait_ack(c, 1)

        # the control container: offline alarm and a radio silence incident
        ottest.wait_for(lambda: alarms(api, ctrl["id"], "gateway_offline"), timeout=20,
                        what="gateway_offline of FL-CTRL")
        inc = ottest.wait_for(lambda: incidents(api, ctrl["id"]), timeout=20,
                              what="radio_silence incident of FL-CTRL")
        ottest.check(inc[0][0] == "radio_silence", f"{inc}")
        # overdue flights alarm, saying so
        got = ottest.wait_for(lambda: alarms(api, late["id"], "gateway_offline"), timeout=20,
                              what="gateway_offline of the overdue FL-LATE")
        ottest.check("overdue" in got[0][1] and "planned landing" in got[0][1], f"{got}")
        got = ottest.wait_for(lambda: alarms(api, nolegs["id"], "gateway_offline"), timeout=20,
                              what="gateway_offline of FL-NOLEGS after 17 h")
        ottest.check("longer than any planned flight" in got[0][1], f"{got}")
        # the flight on plan: nothing (its ticks ran with the others')
        ottest.check(alarms(api, fa["id"], "gateway_offline") == [],
                     f"no gateway_offline in flight: {alarms(api, fa['id'], 'gateway_offline')}")
        ottest.check(incidents(api, fa["id"]) == [], f"no incident: {incidents(api, fa['id'])}")
        ottest.check(incidents(api, late["id"]) == [] and incidents(api, nolegs["id"]) == [],
                     "an overdue flight is an alarm, not a radio_silence incident")

        # the API says so
        s, j, _ = api.req("GET", f"/api/v1/shipments/{fa['id']}", token=coord)
        ottest.check(s == 200 and j["radio"] == "flight", f"radio: {s} {j.get('radio')}")
        ottest.check(ms(j["radio_since"]) == took_off, f"radio_since {j['radio_since']} {took_off}")
        lp = j["last_position"]
        ottest.check(lp and abs(lp["lat"] - pos["lat"]) < 1e-6 and ms(lp["ts"]) == t0,
                     f"last_position {lp}")
        s, lst, _ = api.req("GET", "/api/v1/shipments?status=active", token=coord)
        radio = {i["container"]: i["radio"] for i in lst["items"]}
        ottest.check(radio.get("FL-A") == "flight" and radio.get("FL-CTRL") == "offline",
                     f"list radio {radio}")

        # a collector restart during the flight: the retained flight state
        # (and the database) still say flight
        coll.stop()
        coll = start_collector(env, cfg, name="collector-2")
        state(cl, "FL-CTRL", True, seq=1)
        ottest.wait_for(lambda: [r for r in alarms(api, ctrl["id"], "gateway_offline")
                                 if r[0] == "cleared"], timeout=20, what="FL-CTRL back online")
        ottest.check(alarms(api, fa["id"], "gateway_offline") == [], "none after the restart")

        # landing: online again, the backlog of the flight replayed
        landed = ottest.now_ms()
        state(cl, "FL-A", True, flight=False, ts=landed, seq=1)
        backlog = [reading(i, ts=took_off + (i - 1) * MIN, lat=pos["lat"], lon=pos["lon"] + i * 0.1)
                   for i in range(2, 37)]
        for k in range(0, len(backlog), 10):
            cl.readings("FL-A", backlog[k:k + 10])
        cl.wait_ack("FL-A", 36)
        state(cl, "FL-CTRL", False, seq=1)  # a later round of ticks
        ottest.wait_for(lambda: len(alarms(api, ctrl["id"], "gateway_offline")) == 2, timeout=20,
                        what="FL-CTRL offline again")
        ottest.check(alarms(api, fa["id"], "gateway_offline") == [], "none after landing")
        ottest.check(incidents(api, fa["id"]) == [], f"no incident after landing: "
                     f"{incidents(api, fa['id'])}")
        s, j, _ = api.req("GET", f"/api/v1/shipments/{fa['id']}", token=coord)
        ottest.check(j["radio"] == "online" and j["latest"]["seq"] == 36, f"{j['radio']} {j['latest']}")
        ottest.check(ms(j["radio_since"]) >= landed - 1000, f"radio_since {j['radio_since']}")
        # the radio changes reached the change feed
        rows = api.sql("SELECT payload FROM events WHERE kind='shipment' AND shipment_id=?",
                       (fa["id"],))
        radios = [json.loads(r[0])["radio"] for r in rows
                  if json.loads(r[0]).get("change") == "radio"]
        n = len(radios)
        ottest.check(radios == ["flight", "online"], f"radio events {radios}")
        ottest.check(n == 2, f"radio events of FL-A (flight, online): {n}")
        cl.close()


if __name__ == "__main__":
    ottest.main(test)
