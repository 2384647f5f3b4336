"""collector_flight_e2e (issue 14), end to end with every real part: the
API (shipment created and discarded by a coordinator), the collector, a
mosquitto, a gateway with flight.detect "input", organtrack-sensors serving
the reference module (the probe) and a Modbus server holding the crew's
flight_mode switch.

Proved: the gateway receives the shipment's limits from the collector
(its status shows the profile's band); the crew switches flight mode on:
the API says radio "flight" with the last position, the gateway spools,
and the collector raises no gateway_offline (checked after a control
container, ticked in the same rounds, got its own); switched off: the
backlog arrives, every seq stored once, the API says radio "online" and
still no gateway_offline; the shipment discarded: the gateway's limits are
cleared."""
import json
import os

import ottest
from ottest import check
import gateway_common as gc
from api_common import Api
from collector_lib import TOPIC, Client, collector_config, start_collector

C = "KZ-E2E-FLY"
MIN = 60_000
PRES = json.load(open(os.path.join(ottest.ROOT, "config", "preservation.json")))


def switch_profile(env):
    return env.write_json("switch.json", {
        "name": "switch", "source": "test profile: the crew's flight mode switch",
        "channels": [{"name": "flight_mode", "function": "discrete", "address": 1,
                      "type": "bool"}]})


def offline_alarms(api, sid):
    return api.sql("SELECT state FROM alarms WHERE shipment_id=? AND type='gateway_offline'",
                   (sid,))


def shipment(api, tok, sid):
    s, j, _ = api.req("GET", f"/api/v1/shipments/{sid}", token=tok)
    check(s == 200, f"shipment {sid}: {s} {j}")
    return j


def test():
    with ottest.Env("collector-flight-e2e") as env:
        broker = env.mosquitto()
        api = Api(env).start()
        cfg = collector_config(env, broker, {"database": api.db})
        start_collector(env, cfg)
        coord = api.token("coordinator", "coord")
        now = ottest.now_ms()
        legs = [{"mode": "air", "from": {"name": "Oral", "lat": 51.15, "lon": 51.54},
                 "to": {"name": "Astana", "lat": 51.13, "lon": 71.43},
                 "planned_departure": ottest.iso(now), "planned_arrival": ottest.iso(now + 120 * MIN)}]
        ship = api.create_shipment(coord, C, profile="heart", mode="air", legs=legs,
                                   origin={"name": "Oral", "lat": 51.15, "lon": 51.54})
        ctrl = api.create_shipment(coord, "KZ-E2E-CTRL", mode="ground")

        with open(os.path.join(ottest.ROOT, "sensors", "scenarios", "kidney-road.json")) as f:
            sc = json.load(f)
        sc.update(name="e2e-fly", time_scale=1)
        sc["events"] = []
        port = ottest.free_port()
        env.program("organtrack-sensors", {
            "log_level": "info", "tick_ms": 50, "profiles_dir": "sensors/profiles",
            "devices": [{"name": "module", "profile": "organtrack-module",
                         "url": f"tcp://127.0.0.1:{port}",
                         "scenario": env.write_json("e2e-scenario.json", sc)}]}, wait=port)
        sw = gc.ModbusServer(env, "switch", {"unit": 1, "discrete": {"1": 0}})
        gcfg = gc.gateway_config(env, broker.port, [
            {"name": "probe", "url": f"tcp://127.0.0.1:{port}", "timeout_ms": 300,
             "profile": "organtrack-module"},
            {"name": "box", "url": sw.url, "timeout_ms": 300, "profile": switch_profile(env)}],
            container=C, interval=100, flight={"detect": "input"})
        gw = gc.start_gateway(env, gcfg)

        # the limits come from the collector
        ottest.wait_for(lambda: f"limits received shipment={ship['id']} profile=heart" in gw.log(),
                        20, "the gateway to receive the heart's limits")
        heart = dict(PRES["defaults"], **PRES["profiles"]["heart"])
        st = gc.status(env)
        check(st["local_alarm"]["limits"]["temp_min_c"] == heart["temp_min_c"] and
              st["local_alarm"]["limits"]["temp_max_c"] == heart["temp_max_c"],
              f"gateway limits {st['local_alarm']} vs heart {heart['temp_min_c']}..{heart['temp_max_c']}")
        ottest.wait_for(lambda: (shipment(api, coord, ship["id"])["latest"] or {}).get("seq", 0)
                        >= 10, 20, "readings before take-off")
        check(shipment(api, coord, ship["id"])["radio"] == "online", "radio online on the ground")

        # take-off: the crew's switch
        sw.update({"unit": 1, "discrete": {"1": 1}})
        j = ottest.wait_for(lambda: (j := shipment(api, coord, ship["id"]))["radio"] == "flight"
                            and j, 15, "the API to say flight")
        check(j["radio_since"] is not None, f"radio_since {j['radio_since']}")
        check(j["last_position"] is not None, f"last_position {j['last_position']}")
        at_entry = ottest.wait_for(lambda: (s := gc.status(env)) and s["radio"] == "flight" and
                                   s["next_seq"], 10, "gateway radio off")
        ottest.wait_for(lambda: gc.status(env)["next_seq"] >= at_entry + 30, 15,
                        "readings spooled in flight")
        cl = Client(broker.port)
        cl.publish(f"{TOPIC}/containers/KZ-E2E-CTRL/state",
                   json.dumps({"v": 1, "container": "KZ-E2E-CTRL", "gateway": "gw-ctrl",
                               "online": False, "ts": ottest.now_ms(), "boot": 1, "seq": 0}),
                   retain=True)
        ottest.wait_for(lambda: offline_alarms(api, ctrl["id"]), 20, "the control's offline alarm")
        check(offline_alarms(api, ship["id"]) == [], "gateway_offline in flight")

        # landing
        sw.update({"unit": 1, "discrete": {"1": 0}})
        ottest.wait_for(lambda: shipment(api, coord, ship["id"])["radio"] == "online", 20,
                        "the API to say online after landing")
        top = gc.status(env)["next_seq"] - 1
        ottest.wait_for(lambda: (shipment(api, coord, ship["id"])["latest"] or {}).get("seq", 0)
                        >= top, 30, f"the backlog up to seq {top}")
        n, lo, hi = api.sql("SELECT count(*), min(seq), max(seq) FROM readings WHERE container=?",
                            (C,))[0]
        check(n == hi - lo + 1 and lo == 1, f"every seq once: {n} rows, {lo}..{hi}")
        check(offline_alarms(api, ship["id"]) == [], "gateway_offline after landing")

        # the shipment ends: the gateway's limits are cleared
        s, j, _ = api.req("PATCH", f"/api/v1/shipments/{ship['id']}",
                          {"status": "discarded", "comment": "test"}, coord)
        check(s == 200, f"discard {s} {j}")
        ottest.wait_for(lambda: "limits cleared (the shipment ended)" in gw.log(), 20,
                        "the gateway's limits cleared")
        check(gw.stop() == 0, "gateway did not stop cleanly")
        cl.close()


if __name__ == "__main__":
    ottest.main(test)
