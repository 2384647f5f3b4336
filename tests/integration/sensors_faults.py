"""Scripted faults of organtrack-sensors, seen by an independent client
(pymodbus over TCP), several devices in ONE simulator process:
- dropout: the dead device times out while the others answer at once, even
  while a request to the dead one is outstanding;
- slow: answers arrive after delay_ms, and meanwhile other devices answer;
- stuck: the product temperature register is frozen while the second probe
  keeps moving; gnss_loss: fix 0 and the position frozen while time runs;
- a dropout window switches on and off at its scripted times."""
import json
import sys
import threading
import time

from pymodbus.client import ModbusTcpClient

import ottest
import sensors_lib as sl


def scenario(env, name, events):
    with open(sl.scenario_path("heart-air-oral-astana")) as f:
        s = json.load(f)
    s["events"] = events
    return env.write_json(name + ".json", s)


def client(port, timeout=1.0):
    c = ModbusTcpClient("127.0.0.1", port=port, timeout=timeout, retries=0)
    ottest.check(c.connect(), f"connect {port}")
    return c


def test_sensors_faults():
    module = sl.profile("organtrack-module")
    ch = {c["name"]: c for c in module["channels"]}
    ports = {k: ottest.free_port() for k in ("dead", "alive", "slow", "stuck", "switch")}
    forever = 1e7
    with ottest.Env("sensors-faults") as env:
        dev = lambda name, scen, **kw: dict(
            name=name, profile="organtrack-module", url=f"tcp://127.0.0.1:{ports[name]}",
            unit=1, scenario=scen, **kw)
        cfg = {"tick_ms": 20, "devices": [
            dev("dead", scenario(env, "dead", [{"type": "dropout", "at_s": 0, "duration_s": forever}]),
                start_at_s=600, time_scale=0),
            dev("alive", scenario(env, "alive", []), start_at_s=600, time_scale=0),
            dev("slow", scenario(env, "slow", [{"type": "slow", "at_s": 0, "duration_s": forever,
                                                "delay_ms": 700}]), start_at_s=600, time_scale=0),
            dev("stuck", scenario(env, "stuck", [
                {"type": "stuck", "at_s": 0, "duration_s": forever, "signal": "temp_c"},
                {"type": "gnss_loss", "at_s": 1000, "duration_s": forever}]),
                start_at_s=1300, time_scale=50),
            dev("switch", scenario(env, "switch", [{"type": "dropout", "at_s": 60, "duration_s": 60}]),
                start_at_s=0, time_scale=15)]}
        sim = env.program("organtrack-sensors", cfg, wait=ports["dead"])
        for p in ports.values():
            ottest.wait_port(p, proc=sim.p)
        t_start = time.monotonic()  # the switch device's t=0 is about here

        temp = ch["temp_c"]
        # dropout window 60..120 simulated s at 15x, i.e. ~4..8 s after start:
        # answers, silence, answers (pymodbus 3.0 cannot use timeouts < 1 s)
        sw = client(ports["switch"])
        log = []
        while time.monotonic() - t_start < 10.0:
            t_req = time.monotonic() - t_start
            ok = sl.read_value(sw, temp) is not None
            log.append((t_req, ok))
            if not ok:  # pymodbus may drop the connection after a timeout
                sw.close()
                sw = client(ports["switch"])
            time.sleep(0.05)
        fails = [t for t, ok in log if not ok]
        ottest.check(log[0][1], f"switch device dead at start: {log[:3]}")
        ottest.check(fails, "dropout never switched on")
        ottest.check(3.5 <= fails[0] <= 4.6, f"dropout began at {fails[0]:.2f}s, expected ~4s")
        ottest.check(6.5 <= fails[-1] <= 8.2, f"dropout ended at {fails[-1]:.2f}s, expected ~8s")
        ottest.check(log[-1][1], "device did not come back after the dropout")
        ottest.check(all(ok for t, ok in log if t < 3.5 or t > 8.3), f"unexpected failures: {log}")

        alive = client(ports["alive"])
        v, dt = sl.timed(lambda: sl.read_value(alive, temp))
        ottest.check(v is not None and dt < 0.3, f"alive device: {v} in {dt:.2f}s")

        # dead device: no answer within the client's timeout
        dead = client(ports["dead"])
        v, dt = sl.timed(lambda: sl.read_value(dead, temp))
        ottest.check(v is None and dt >= 0.9, f"dead device answered {v} after {dt:.2f}s")
        # a request to the dead device outstanding does not hold up the alive one
        dead2 = client(ports["dead"], timeout=2.0)
        th = threading.Thread(target=lambda: sl.read_value(dead2, temp))
        th.start()
        time.sleep(0.05)  # let the dead request reach the server first (ordering only)
        for _ in range(5):
            v, dt = sl.timed(lambda: sl.read_value(alive, temp))
            ottest.check(v is not None and dt < 0.3, f"alive stalled by dead: {v} in {dt:.2f}s")
        th.join()

        # slow device: answers, but after ~700 ms; others unaffected meanwhile
        slow = client(ports["slow"], timeout=3.0)
        v, dt = sl.timed(lambda: sl.read_value(slow, temp))
        ottest.check(v is not None and 0.65 <= dt < 2.0, f"slow device: {v} in {dt:.2f}s")
        res = {}
        th = threading.Thread(target=lambda: res.update(zip(("v", "dt"), sl.timed(lambda: sl.read_value(slow, temp)))))
        th.start()
        time.sleep(0.05)
        v, dt = sl.timed(lambda: sl.read_value(alive, temp))
        ottest.check(v is not None and dt < 0.3, f"alive stalled by slow: {v} in {dt:.2f}s")
        th.join()
        ottest.check(res.get("v") is not None and res["dt"] >= 0.65, f"slow (threaded): {res}")

        # stuck temp_c, moving temp2_c; GNSS lost: fix 0, position frozen
        st = client(ports["stuck"])
        temps, temps2, lats, fixes = set(), set(), set(), set()
        t0 = time.monotonic()
        while time.monotonic() - t0 < 1.5:
            temps.add(sl.read_value(st, temp))
            temps2.add(sl.read_value(st, ch["temp2_c"]))
            lats.add(sl.read_value(st, ch["lat"]))
            fixes.add(sl.read_value(st, ch["gnss_fix"]))
            time.sleep(0.05)
        ottest.check(len(temps) == 1 and None not in temps, f"stuck temp_c moved: {temps}")
        ottest.check(len(temps2) > 3, f"temp2_c did not move: {temps2}")
        ottest.check(fixes == {0.0}, f"gnss_fix under gnss_loss: {fixes}")
        ottest.check(len(lats) == 1, f"position moved without a fix: {lats}")
        state = sl.dump(sl.scenario_path("heart-air-oral-astana"), 999)
        ottest.check(abs(lats.pop() - state["values"]["lat"]) < 1e-6, "frozen at the last fix")

        for c in (alive, dead, dead2, slow, st, sw):
            c.close()
        ottest.check(sim.alive(), "simulator died")
        ottest.check(sim.stop() == 0, "simulator did not stop cleanly")
        out = sim.log()
        for needle in ("fault begins device=switch fault=dropout", "fault ends device=switch fault=dropout",
                       "device=dead requests="):
            ottest.check(needle in out, f"log lacks {needle!r}")


if __name__ == "__main__":
    ottest.main(test_sensors_faults)
    sys.exit(0)
