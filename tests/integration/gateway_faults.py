"""Faulty devices never silence the others, and every fault is reported.

Four devices on one gateway, each behind its own pymodbus server:
- probe  (organtrack-module, TCP): healthy; temp_c moves, temp2_c is stuck;
- cabin  (xy-md02, RTU over a pty relay that corrupts 30 % of the answers);
- router (teltonika-rut955, TCP): answers after 700 ms, timeout is 300 ms;
- spare  (a one-channel profile, TCP): its server is stopped mid-test.
Checks: readings keep their rate, the probe's channels flow in (nearly)
every reading, a channel that was not read is absent (never repeated), the
state message and the status command name each fault."""
import json
import os
import random
import select
import subprocess
import threading
import tty

import ottest
from ottest import check
import gateway_common as gc

INTERVAL = 200


class NoisyRelay:
    """Two pty pairs joined by a thread; answers (server -> gateway) get a
    flipped bit with probability p, so the gateway sees CRC errors."""

    def __init__(self, p):
        self.p = p
        self.gm, self.gs = os.openpty()
        self.sm, self.ss = os.openpty()
        for fd in (self.gs, self.ss):
            tty.setraw(fd)
        self.gateway_path = os.ttyname(self.gs)
        self.server_path = os.ttyname(self.ss)
        self.corrupted = 0
        self.stop = False
        self.rng = random.Random(7)
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stop:
            r, _, _ = select.select([self.gm, self.sm], [], [], 0.1)
            for fd in r:
                try:
                    data = bytearray(os.read(fd, 512))
                except OSError:
                    continue
                if fd == self.gm:
                    os.write(self.sm, data)
                else:
                    if data and self.rng.random() < self.p:
                        i = self.rng.randrange(len(data))
                        data[i] ^= 1 << self.rng.randrange(8)
                        self.corrupted += 1
                    os.write(self.gm, data)

    def close(self):
        self.stop = True
        self.t.join()
        for fd in (self.gm, self.gs, self.sm, self.ss):
            os.close(fd)


def test_faults():
    with ottest.Env("gateway-faults") as env:
        broker = env.mosquitto()
        mod = gc.load_profile("organtrack-module")
        base = {"temp_c": 4.0, "temp2_c": 4.35, "ambient_c": 21.5, "battery_pct": 91,
                "lid_open": False, "gnss_fix": 3, "lat": 51.2036, "lon": 51.3703}
        probe = gc.ModbusServer(env, "probe", gc.spec_for(mod, base))

        relay = NoisyRelay(0.3)
        xy = gc.load_profile("xy-md02")
        cabin = gc.ModbusServer(env, "cabin", {**gc.spec_for(xy, {"temperature": 18.5,
                                                                  "humidity": 40.0}),
                                               "baud": 19200}, rtu_path=relay.server_path)
        rut = gc.load_profile("teltonika-rut955")
        router = gc.ModbusServer(env, "router", gc.spec_for(rut, {"latitude": 51.2, "longitude": 71.4},
                                                            extra={"delay_ms": 700}))
        one = {"name": "test-one", "source": "integration test profile",
               "channels": [{"name": "spare_temp", "function": "input", "address": 0,
                             "type": "i16", "scale": 0.1}]}
        one_path = env.write_json("test-one.json", one)
        spare = gc.ModbusServer(env, "spare", gc.spec_for(one, {"spare_temp": -7.5}))

        col = gc.Collector(broker.port, "KZ-FLT-0001")
        devices = [
            {"name": "probe", "url": probe.url, "timeout_ms": 150, "profile": "organtrack-module",
             "stuck_after_s": 2},
            {"name": "cabin", "url": f"rtu:{relay.gateway_path}?baud=19200&parity=N&data=8&stop=1",
             "timeout_ms": 150, "profile": "xy-md02",
             "channels": {"temperature": "cabin_temp", "humidity": "cabin_hum"}},
            {"name": "router", "url": router.url, "timeout_ms": 300, "profile": "teltonika-rut955",
             "channels": {"latitude": "rut_lat", "longitude": "rut_lon", "speed": "rut_speed"}},
            {"name": "spare", "url": spare.url, "timeout_ms": 150, "profile": one_path},
        ]
        cfg = gc.gateway_config(env, broker.port, devices, container="KZ-FLT-0001",
                                interval=INTERVAL)
        gw = gc.start_gateway(env, cfg)

        # temp_c moves every 100 ms; temp2_c never does (stuck)
        stop_mover = threading.Event()

        def mover():
            i = 0
            while not stop_mover.is_set():
                i += 1
                probe.update(gc.spec_for(mod, {**base, "temp_c": 4.0 + (i % 50) * 0.01}))
                stop_mover.wait(0.1)
        mt = threading.Thread(target=mover, daemon=True)
        mt.start()

        ottest.wait_for(lambda: col.count() >= 25, 20, "25 readings")
        ottest.wait_for(lambda: any("spare_temp" in r for r in col.snapshot()[0].values()), 10,
                        "spare device read")
        spare.stop()
        kill_seq = max(col.snapshot()[0])
        ottest.wait_for(lambda: col.count() >= kill_seq + 30, 20, "30 readings after the stop")

        def has_state(pred):
            return any(pred({d["name"]: d for d in st.get("devices", [])})
                       for st in col.snapshot()[3])
        ottest.wait_for(lambda: has_state(lambda d: d.get("spare", {}).get("ok") is False),
                        10, "state reports the stopped device")
        ottest.wait_for(lambda: has_state(lambda d: "temp2_c" in d.get("probe", {}).get("stuck", [])),
                        10, "state reports the stuck channel")
        out = subprocess.run([os.path.join(ottest.BIN, "organtrack-gateway"), "status",
                              "--config", env.path("gateway.json")], capture_output=True,
                             text=True, timeout=10, cwd=ottest.ROOT).stdout
        stop_mover.set()
        mt.join()
        check(gw.stop() == 0, "gateway did not stop cleanly")
        log = gw.log()
        readings, order, lost, states = col.snapshot()
        col.close()
        relay.close()
        check(not col.errors, f"collector errors: {col.errors[:5]}")

        seqs = sorted(readings)
        window = [readings[s] for s in seqs[5:]]
        n = len(window)
        # rate: the slow and the dead device never slowed the cycle down
        span = (window[-1]["ts"] - window[0]["ts"]) / INTERVAL + 1
        check(n >= 0.7 * span, f"readings stalled: {n} readings over {span:.0f} intervals")
        # the healthy probe flows in (nearly) every reading
        with_temp = sum("temp_c" in r for r in window)
        check(with_temp >= 0.8 * n, f"probe channels missing: {with_temp}/{n}")
        for r in window:
            check("temp_c" in r or "temp_c" in r.get("missing", []), f"temp_c neither present "
                  f"nor missing: {r}")
        # the slow router never made it within its timeout: absent, never invented
        check(not any(k in r for r in window for k in ("rut_lat", "rut_lon", "rut_speed")),
              "a timed-out device's channel appeared")
        # the stopped device: present before, absent after (no repeated last value)
        before = [r for r in window if r["seq"] <= kill_seq - 5]
        after = [r for r in window if r["seq"] > kill_seq + 10]
        check(sum("spare_temp" in r for r in before) >= 0.8 * len(before),
              "spare device was not read before its stop")
        check(all(r.get("spare_temp") == -7.5 for r in before if "spare_temp" in r),
              "spare value wrong")
        check(not any("spare_temp" in r for r in after),
              "a stopped device's value was repeated after it died")
        # CRC noise: the cabin is read sometimes, missed sometimes, never made up
        cab = [r for r in window if "cabin_temp" in r]
        check(0.2 * n <= len(cab) < n, f"cabin under noise: {len(cab)}/{n} readings")
        check(all(r["cabin_temp"] == 18.5 and r["cabin_hum"] == 40.0 for r in cab),
              "a corrupted answer was published")
        check(relay.corrupted > 5, "the relay did not corrupt anything")
        check("CRC" in log or "crc" in log.lower(), "CRC errors were not logged")
        # stuck value: published as read (it was read) and reported in health
        check(all(r.get("temp2_c") == 4.35 for r in window if "temp_c" in r),
              "stuck channel must still be published as read")
        # state reports each faulty device with its library's error text
        last_dev = {}
        for st in states:
            for d in st.get("devices", []):
                if not d["ok"]:
                    last_dev[d["name"]] = d.get("error", "")
        check("router" in last_dev and "timed out" in last_dev["router"].lower(),
              f"router timeout not reported: {last_dev}")
        check("spare" in last_dev, f"stopped device not reported: {last_dev}")
        probe_line = next((l for l in out.splitlines() if l.strip().startswith("probe ")), "")
        stuck_listed = probe_line.split("STUCK: ")[-1].split(", ") if "STUCK: " in probe_line else []
        check("router" in out and "FAILING" in out and "temp2_c" in stuck_listed
              and "temp_c" not in stuck_listed, f"status output (temp2_c stuck, temp_c moving):\n{out}")
        print(f"faults: {n} readings, cabin read in {len(cab)}, relay corrupted "
              f"{relay.corrupted} answers; errors: {last_dev}")
        for s in (probe, cabin, router):
            s.stop()


if __name__ == "__main__":
    ottest.main(test_faults)
