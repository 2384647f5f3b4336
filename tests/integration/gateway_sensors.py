"""The gateway against our own simulator, organtrack-sensors, with scripted
faults: the reference module over Modbus TCP (a GNSS loss, then a dropout)
and an xy-md02 over RTU on a pty pair with CRC noise all along.
Checks: while the module drops out its channels are missing and the cabin
keeps flowing; without a GNSS fix position is missing, not frozen; under CRC
noise the cabin is read sometimes and its values are the simulator's."""
import json
import os
import shutil

import ottest
from ottest import check
import gateway_common as gc


def scenario(env, name, events):
    with open(os.path.join(ottest.ROOT, "sensors", "scenarios", "kidney-road.json")) as f:
        sc = json.load(f)
    sc["name"] = name
    sc["time_scale"] = 1
    sc["events"] = events
    return env.write_json(f"{name}.json", sc)


def test_sensors():
    sim_bin = os.path.join(ottest.BIN, "organtrack-sensors")
    check(os.path.exists(sim_bin), f"{sim_bin} not built")
    check(shutil.which("socat"), "socat is required")
    with ottest.Env("gateway-sensors") as env:
        broker = env.mosquitto()
        a, b = env.path("pty", "sim"), env.path("pty", "gw")
        socat = env.spawn("socat", ["socat", f"pty,raw,echo=0,link={a}",
                                    f"pty,raw,echo=0,link={b}"])
        ottest.wait_for(lambda: os.path.exists(a) and os.path.exists(b), 10, "pty pair")
        mport = ottest.free_port()
        module_sc = scenario(env, "gw-module", [
            {"type": "gnss_loss", "at_s": 2, "duration_s": 3},
            {"type": "dropout", "at_s": 7, "duration_s": 3}])
        cabin_sc = scenario(env, "gw-cabin", [
            {"type": "crc_noise", "at_s": 0, "duration_s": 3600, "probability": 0.3}])
        sim = env.program("organtrack-sensors", {
            "log_level": "info", "tick_ms": 50, "profiles_dir": "sensors/profiles",
            "devices": [
                {"name": "module", "profile": "organtrack-module",
                 "url": f"tcp://127.0.0.1:{mport}", "unit": 1, "scenario": module_sc},
                {"name": "cabin", "profile": "xy-md02",
                 "url": f"rtu:{a}?baud=19200&parity=N&data=8&stop=1", "unit": 1,
                 "scenario": cabin_sc,
                 "channel_source": {"temperature": "ambient_c", "humidity": "humidity"}}]},
            wait=mport)
        col = gc.Collector(broker.port, "KZ-SIM-0001")
        cfg = gc.gateway_config(env, broker.port, [
            {"name": "probe", "url": f"tcp://127.0.0.1:{mport}", "timeout_ms": 150,
             "profile": "organtrack-module"},
            {"name": "cabin", "url": f"rtu:{b}?baud=19200&parity=N&data=8&stop=1",
             "timeout_ms": 150, "profile": "xy-md02",
             "channels": {"temperature": "cabin_c", "humidity": "cabin_rh"}}],
            container="KZ-SIM-0001", interval=200)
        gw = gc.start_gateway(env, cfg)
        # the scenario runs 12 s of simulated (= real) time
        ottest.wait_for(lambda: col.count() >= 60, 30, "60 readings (12 s)")

        def back():  # after the dropout the module is polled again (backoff <= 10 s)
            rs = [r for _, r in sorted(col.snapshot()[0].items())]
            gap = [i for i, r in enumerate(rs) if "temp_c" not in r]
            return gap and any("temp_c" in r for r in rs[gap[-1]:])
        ottest.wait_for(back, 20, "the module back after its dropout")
        check(gw.stop() == 0, "gateway did not stop cleanly")
        readings, order, lost, states = col.snapshot()
        col.close()
        sim.stop()
        socat.stop()
        rs = [readings[s] for s in sorted(readings)]
        check(gc.contiguous(readings) and not lost and not col.errors, "seqs not contiguous")

        no_fix = [r for r in rs if r.get("gnss_fix") == 0]
        check(len(no_fix) >= 5, f"GNSS loss not seen: {len(no_fix)} readings without fix")
        for r in no_fix:
            check("lat" not in r and "lon" not in r and "lat" in r.get("missing", []),
                  f"position published without a fix: {r}")
        with_fix = [r for r in rs if r.get("gnss_fix", 0) >= 2]
        check(with_fix and all("lat" in r and 50 < r["lat"] < 52 for r in with_fix),
              "position missing while there is a fix")

        dropped = [r for r in rs if "temp_c" not in r]
        check(len(dropped) >= 8, f"dropout not seen: {len(dropped)} readings without temp_c")
        for r in dropped:
            check("temp_c" in r.get("missing", []), f"temp_c neither present nor missing: {r}")
        # while the module is silent the cabin keeps flowing
        cabin_during = sum("cabin_c" in r for r in dropped)
        check(cabin_during >= 0.3 * len(dropped), f"cabin silenced by the module's dropout: "
              f"{cabin_during}/{len(dropped)}")
        # CRC noise: read sometimes, never all the time, never garbage
        cab = [r for r in rs if "cabin_c" in r]
        check(0.3 * len(rs) <= len(cab) < len(rs), f"cabin under CRC noise: {len(cab)}/{len(rs)}")
        check(all(-30 < r["cabin_c"] < 40 and 0 <= r["cabin_rh"] <= 100 for r in cab),
              "implausible cabin values")
        check(all(2.0 < r["temp_c"] < 8.0 for r in rs if "temp_c" in r), "implausible temp_c")
        check("Invalid CRC" in gw.log(), "CRC errors not reported")
        devs = {d["name"]: d for st in states for d in st.get("devices", []) if not d["ok"]}
        check("probe" in devs, f"the module's dropout is not in the state: {devs}")
        print(f"sensors: {len(rs)} readings, {len(no_fix)} without fix, {len(dropped)} in the "
              f"dropout, cabin read in {len(cab)}")


if __name__ == "__main__":
    ottest.main(test_sensors)
