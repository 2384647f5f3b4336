"""The local alarm (SPEC v1.1) with the broker down the whole time the organ
warms: organtrack-sensors serves two reference modules on one scenario whose
product temperature leaves the band and comes back. Gateway A got its
limits from the collector (retained limits, through the broker, which then
goes away); gateway B never had any.

Checks: A's alarm coil (read with pymodbus from the simulator) goes to 1
once temp_c has been out of band for the grace, not before (times from the
gateway's own log lines); A restarted while offline keeps the limits from
its spool dir, keeps the coil at 1 while the grace counts again and turns
the alarm on again; the coil goes back to 0 once temp_c is back in band;
the retained state of the birth after restart is not needed for any of it.
B judged the same out-of-band readings for longer than the grace and never
wrote its coil (the simulator's write counter stays 0)."""
import json
import os

from pymodbus.client import ModbusTcpClient

import ottest
from ottest import check
import gateway_common as gc

GRACE_S = 2
EXC_AT_S = 12  # the excursion starts 12 s after the simulator: time to deliver the limits


def scenario(env):
    with open(os.path.join(ottest.ROOT, "sensors", "scenarios", "kidney-road.json")) as f:
        sc = json.load(f)
    sc.update(name="gw-alarm", time_scale=1)
    sc["thermal"].update(tau_pack_s=5, noise_c=0.0)  # back in band ~9 s after the excursion
    sc["events"] = [{"type": "excursion", "at_s": EXC_AT_S, "duration_s": 14, "target_c": 30,
                     "tau_s": 3}]
    return env.write_json("alarm-scenario.json", sc)


def coil(client):
    r = client.read_coils(0, 1, slave=1)
    return None if r.isError() else int(r.bits[0])


def test_alarm():
    with ottest.Env("gateway-alarm") as env:
        broker = env.mosquitto()
        pa, pb = ottest.free_port(), ottest.free_port()
        sc = scenario(env)
        col = gc.Collector(broker.port, "KZ-ALM-A")
        col.publish_limits(gc.limits("KZ-ALM-A", 2.0, 8.0, GRACE_S))
        sim = env.program("organtrack-sensors", {
            "log_level": "info", "tick_ms": 50, "profiles_dir": "sensors/profiles",
            "devices": [
                {"name": "module-a", "profile": "organtrack-module",
                 "url": f"tcp://127.0.0.1:{pa}", "scenario": sc},
                {"name": "module-b", "profile": "organtrack-module",
                 "url": f"tcp://127.0.0.1:{pb}", "scenario": sc}]}, wait=pa)
        t_sim = ottest.now_ms() / 1000.0
        dev = lambda port: [{"name": "probe", "url": f"tcp://127.0.0.1:{port}",
                             "timeout_ms": 300, "profile": "organtrack-module"}]
        cfg_a = gc.gateway_config(env, broker.port, dev(pa), container="KZ-ALM-A", interval=200)
        cfg_a["spool"]["dir"] = os.path.dirname(env.path("spool-a", ".keep"))
        # B: a broker that was never there
        cfg_b = gc.gateway_config(env, ottest.free_port(), dev(pb), container="KZ-ALM-B",
                                  interval=200)
        cfg_b["spool"]["dir"] = os.path.dirname(env.path("spool-b", ".keep"))
        gw_a = gc.start_gateway(env, cfg_a, name="gateway-a")
        gw_b = gc.start_gateway(env, cfg_b, name="gateway-b")
        ottest.wait_for(lambda: "limits received shipment=17" in gw_a.log(), 15,
                        "A to receive its limits")
        col.close()
        broker.stop()
        ottest.wait_for(lambda: (gc.status(env, "gateway-a") or {}).get("link") == "down", 15,
                        "A offline")
        check(ottest.now_ms() / 1000.0 - t_sim < EXC_AT_S,
              "set-up took longer than the in-band start of the scenario")
        st = gc.status(env, "gateway-a")
        check(st["local_alarm"]["limits"]["temp_max_c"] == 8.0 and not st["local_alarm"]["on"],
              f"A's limits: {st['local_alarm']}")

        mc = ModbusTcpClient("127.0.0.1", port=pa, timeout=2, retries=0)
        check(mc.connect(), "pymodbus connect to module-a")
        check(coil(mc) == 0, "the alarm coil is 0 before the excursion")
        ottest.wait_for(lambda: coil(mc) == 1, 30, "A's alarm coil to go to 1", interval=0.1)
        log = gw_a.log()
        t_out = gc.log_ts(log, "local alarm: temperature out of band")
        t_on = gc.log_ts(log, "local alarm ON")
        check(t_out and t_on and t_on - t_out >= GRACE_S - 0.05,
              f"alarm on {t_on} less than the grace after out of band {t_out}")
        check("alarm output ON (buzzer and lamp) device=module-a" in sim.log(),
              "the simulator did not log the coil")
        check(gc.status(env, "gateway-a")["local_alarm"]["on"], "status does not say alarm on")

        # B sees the same temperatures, for longer than the grace, without limits
        first_b = ottest.wait_for(
            lambda: (s := gc.status(env, "gateway-b")) and s["last"].get("temp_c", 0) > 8 and s,
            10, "B to read the excursion")
        ottest.wait_for(
            lambda: gc.status(env, "gateway-b")["last"]["ts"] - first_b["last"]["ts"] >
            (GRACE_S + 1) * 1000, 15, "B to judge out-of-band readings past the grace")
        check(gc.status(env, "gateway-b")["last"]["temp_c"] > 8, "B back in band too early")

        # A restarted offline: limits from its spool dir, the coil keeps sounding
        check(gw_a.stop() == 0, "A did not stop cleanly")
        t_restart = ottest.now_ms() / 1000.0
        gw_a2 = gc.start_gateway(env, cfg_a, name="gateway-a")
        ottest.wait_for(lambda: "limits=kept from disk" in gw_a2.log(), 10, "A restarted")
        ottest.wait_for(lambda: gc.log_ts(gw_a2.log(), "local alarm ON", t_restart), 20,
                        "A's alarm on again after the restart")
        log2 = gw_a2.log()
        check(gc.log_ts(log2, "local alarm ON") - gc.log_ts(log2, "out of band") >=
              GRACE_S - 0.05, "after the restart the alarm came back before the grace")
        check("alarm output set device=probe value=0" not in log2,
              "the restart silenced the alarm coil during the grace")
        check(coil(mc) == 1, "coil not 1 after the restart")
        # recovery
        ottest.wait_for(lambda: coil(mc) == 0, 30, "A's alarm coil back to 0", interval=0.1)
        check("local alarm off: temperature back in band" in gw_a2.log(), "no recovery line")
        out = gc.status(env, "gateway-a")
        check(not out["local_alarm"]["on"] and out["devices"][0]["output"] == 0,
              f"status after recovery: {out['local_alarm']} {out['devices']}")
        mc.close()
        check(gw_a2.stop() == 0 and gw_b.stop() == 0, "gateways did not stop cleanly")
        final_b = gc.status(env, "gateway-b")
        check(final_b["devices"][0]["output"] is None, f"B's output: {final_b['devices']}")
        check(final_b["local_alarm"]["limits"] is None, "B has limits")
        check(sim.stop() == 0, "simulator did not stop cleanly")
        stats = {l.split("device=")[1].split()[0]: l for l in sim.log().splitlines()
                 if "device stats" in l}
        check("writes=0" in stats["module-b"], f"B's coil was written: {stats['module-b']}")
        check("writes=0" not in stats["module-a"], f"A's coil writes: {stats['module-a']}")
        print(f"alarm: on {t_on - t_out:.1f} s after out of band (grace {GRACE_S} s); "
              f"{stats['module-a'].split('writes=')[1]} coil writes to A, none to B")


if __name__ == "__main__":
    ottest.main(test_alarm)
