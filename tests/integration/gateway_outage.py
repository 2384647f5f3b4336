"""Broker outage with a gateway SIGKILL inside it: no seq lost, none reused,
none invented, first arrivals in seq order.

The gateway polls at 50 ms, so a few seconds of outage hold as many readings
as a minute at 1 Hz (the count is what matters, not the wall time). The
broker restarts on the same port with the same data dir; a python client
plays the collector and publishes the retained ack."""
import json
import os
import signal
import time

import ottest
from ottest import check
import gateway_common as gc

OUTAGE_READINGS = 150  # > 60 s of data at 1 Hz


def test_outage():
    with ottest.Env("gateway-outage") as env:
        broker = env.mosquitto()
        port = broker.port
        prof = gc.load_profile("organtrack-module")
        values = {"temp_c": 4.21, "temp2_c": 4.35, "ambient_c": 21.5, "battery_pct": 91,
                  "lid_open": False, "gnss_fix": 3, "lat": 51.2036, "lon": 51.3703}
        srv = gc.ModbusServer(env, "module", gc.spec_for(prof, values))
        col = gc.Collector(port, "KZ-OUT-0001")
        cfg = gc.gateway_config(env, port, [{"name": "probe", "url": srv.url, "timeout_ms": 300,
                                             "profile": "organtrack-module"}],
                                container="KZ-OUT-0001", interval=50, ack_timeout_ms=2000)
        gw = gc.start_gateway(env, cfg)
        ottest.wait_for(lambda: col.acked >= 20, 20, "20 readings acknowledged")

        # --- broker down ---
        broker.stop()
        st0 = ottest.wait_for(lambda: gc.status(env), 5, "status")
        start_seq = st0["next_seq"]
        ottest.wait_for(lambda: (gc.status(env) or {}).get("link") == "down", 10, "link down")
        ottest.wait_for(lambda: gc.status(env)["next_seq"] >= start_seq + OUTAGE_READINGS // 2, 30,
                        "readings spooled during the outage")
        # SIGKILL in the middle of the outage, then restart on the same spool
        killed_at = gc.status(env)["next_seq"]
        gw.kill()
        gw2 = gc.start_gateway(env, cfg, name="gateway-restarted")
        ottest.wait_for(lambda: (gc.status(env) or {}).get("boot") == 2, 10, "restarted gateway")
        ottest.wait_for(lambda: gc.status(env)["next_seq"] >= start_seq + OUTAGE_READINGS, 30,
                        "more readings spooled during the outage")
        check(gc.status(env)["backlog"] >= OUTAGE_READINGS - 5,
              f"backlog during outage too small: {gc.status(env)}")

        # status command while offline: link down, a backlog with its age
        import subprocess
        out = subprocess.run([os.path.join(ottest.BIN, "organtrack-gateway"), "status",
                              "--config", env.path("gateway-restarted.json")],
                             capture_output=True, text=True, timeout=10, cwd=ottest.ROOT).stdout
        check("link:     down" in out and "readings not yet acknowledged, oldest" in out
              and "probe" in out and "temp_c" in out, f"status output:\n{out}")

        # --- broker back (same port, same data dir: the retained ack survives) ---
        broker2 = env.mosquitto(port=port)
        target = gc.status(env)["next_seq"] - 1
        ottest.wait_for(lambda: col.acked >= target, 40, f"ack to reach {target}",
                        interval=0.1)
        check(gw2.stop() == 0, "gateway did not stop cleanly")
        final = gc.status(env)
        readings, order, lost, states = col.snapshot()
        col.close()

        top = final["next_seq"] - 1
        check(not col.errors, f"collector saw errors: {col.errors[:5]}")
        have = set(readings) | lost
        check(have == set(range(1, top + 1)),
              f"seqs missing: {sorted(set(range(1, top + 1)) - have)[:20]} "
              f"extra: {sorted(have - set(range(1, top + 1)))[:20]}")
        check(len(lost) <= 1, f"more than the record being written was lost: {sorted(lost)}")
        if lost:
            check(min(lost) >= killed_at - 1, f"lost seq {lost} is not at the SIGKILL point "
                  f"{killed_at}")
        # first arrivals in seq order
        seen, firsts = set(), []
        for s in order:
            if s not in seen:
                seen.add(s)
                firsts.append(s)
        check(firsts == sorted(firsts), "first arrivals not in seq order")
        # none invented: every reading carries the values the device holds
        complete = 0
        for s, r in readings.items():
            for k, v in (("temp_c", 4.21), ("battery_pct", 91), ("lat", 51.2036)):
                check(r.get(k) == v if k in r else k in r.get("missing", []),
                      f"reading {s} does not match the device: {r}")
            complete += "temp_c" in r
        check(complete >= 0.8 * len(readings), f"too few complete readings: {complete}")
        ts = [readings[s]["ts"] for s in sorted(readings)]
        check(ts == sorted(ts), "sample times not increasing with seq")
        boots = {st["boot"] for st in states if st.get("online")}
        check({1, 2} <= boots, f"birth states of both boots expected: {boots}")
        print(f"outage: {top} seqs, {len(lost)} declared lost, "
              f"{len(order) - len(readings)} duplicates resent")
        broker2.stop()
        srv.stop()


if __name__ == "__main__":
    ottest.main(test_outage)
