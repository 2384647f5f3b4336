"""organtrack-sensors over Modbus TCP, read by pymodbus: every channel of the
reference module and of the Teltonika router profile decodes to the
--dump-scenario value at the same simulated time; several clients at once;
a client that reconnects is served; unmapped addresses and foreign unit ids
get Modbus exceptions; with time running, the position moves along the
dumped track; the alarm coil (an output) keeps what a master wrote while
the model moves on, and every change is logged."""
import sys
import time

from pymodbus.client import ModbusTcpClient

import ottest
import sensors_lib as sl

T_FROZEN = 4800  # in flight, inside the heart scenario's link gap


def test_sensors_tcp():
    heart = sl.scenario_path("heart-air-oral-astana")
    module, router = sl.profile("organtrack-module"), sl.profile("teltonika-rut955")
    router_src = {"latitude": "lat", "longitude": "lon", "speed": "speed_kmh",
                  "satellites": "satellites", "accuracy": 3.5}
    p1, p2, p3 = ottest.free_port(), ottest.free_port(), ottest.free_port()
    with ottest.Env("sensors-tcp") as env:
        cfg = {"tick_ms": 50, "devices": [
            {"name": "frozen", "profile": "organtrack-module", "url": f"tcp://127.0.0.1:{p1}",
             "unit": 1, "scenario": heart, "start_at_s": T_FROZEN, "time_scale": 0},
            {"name": "router", "profile": "teltonika-rut955", "url": f"tcp://127.0.0.1:{p2}",
             "unit": 1, "scenario": heart, "start_at_s": T_FROZEN, "time_scale": 0,
             "channel_source": router_src},
            {"name": "live", "profile": "organtrack-module", "url": f"tcp://127.0.0.1:{p3}",
             "unit": 1, "scenario": heart, "start_at_s": 3000, "time_scale": 600}]}
        sim = env.program("organtrack-sensors", cfg, wait=p1)
        ottest.wait_port(p2, proc=sim.p)
        ottest.wait_port(p3, proc=sim.p)
        state = sl.dump(heart, T_FROZEN)
        ottest.check(state["mode"] == "air" and "link_gap" in state["faults"], f"dump: {state}")

        # two clients at once on the same device, both decode every channel right
        c1 = ModbusTcpClient("127.0.0.1", port=p1, timeout=2, retries=0)
        c2 = ModbusTcpClient("127.0.0.1", port=p1, timeout=2, retries=0)
        ottest.check(c1.connect() and c2.connect(), "connect")
        sl.check_against_dump(c1, module, state)
        sl.check_against_dump(c2, module, state)
        # a plausible in-flight reading, decoded independently
        ottest.check(7000 < sl.read_value(c1, module["channels"][8]) < 8000, "alt_m at cruise")
        c1.close()
        # reconnect (a gateway does after a timeout) and read again, c2 still served
        c1 = ModbusTcpClient("127.0.0.1", port=p1, timeout=2, retries=0)
        ottest.check(c1.connect(), "reconnect")
        sl.check_against_dump(c1, module, state)
        sl.check_against_dump(c2, module, state)

        # a whole block read, as a gateway does, matches too (holding 100..108)
        r = c1.read_holding_registers(100, 9, slave=1)
        ottest.check(not r.isError(), f"block read: {r}")
        lat = sl.decode({"type": "i32", "word_order": "big", "scale": 1e-7}, r.registers[0:2])
        ottest.check(abs(lat - state["values"]["lat"]) < 1e-7, f"block lat {lat}")

        # unmapped address -> exception 2 (illegal data address); other unit -> 0x0B
        r = c1.read_holding_registers(0, 2, slave=1)
        ottest.check(r.isError() and getattr(r, "exception_code", None) == 2, f"unmapped: {r}")
        r = c1.read_input_registers(0, 1, slave=7)
        ottest.check(r.isError() and getattr(r, "exception_code", None) == 0x0B, f"unit 7: {r}")
        c1.close()
        c2.close()

        # the router profile: floats big word order at 0-based 143/145
        cr = ModbusTcpClient("127.0.0.1", port=p2, timeout=2, retries=0)
        ottest.check(cr.connect(), "router connect")
        sl.check_against_dump(cr, router, state, source=router_src)
        r = cr.read_holding_registers(143, 4, slave=1)
        ottest.check(not r.isError(), "router block")
        lat = sl.decode({"type": "f32", "word_order": "big"}, r.registers[0:2])
        ottest.check(abs(lat - state["values"]["lat"]) < 1e-4, f"router lat {lat}")
        cr.close()

        # time running (600 simulated s per s): the position follows the dumped track
        cl = ModbusTcpClient("127.0.0.1", port=p3, timeout=2, retries=0)
        ottest.check(cl.connect(), "live connect")
        lon_ch = next(c for c in module["channels"] if c["name"] == "lon")
        t0 = time.monotonic()
        lon0 = sl.read_value(cl, lon_ch)
        alarm = next(c for c in module["channels"] if c.get("output") == "alarm")
        w = cl.write_coil(alarm["address"], True, slave=1)
        ottest.check(not w.isError(), f"alarm coil write: {w}")
        lon1 = ottest.wait_for(lambda: (v := sl.read_value(cl, lon_ch)) is not None and v > lon0 + 0.5 and v,
                               timeout=20, what="longitude to advance")
        elapsed = time.monotonic() - t0
        track = sl.dump(heart, 3000, to=3000 + int(600 * (elapsed + 2)) + 60, step=1)
        lons = [s["values"]["lon"] for s in track]
        ottest.check(min(lons) - 1e-6 <= lon0 <= max(lons) + 1e-6 and lon1 <= max(lons) + 1e-6,
                     f"live lon {lon0}..{lon1} outside the dumped track {min(lons)}..{max(lons)}")
        ottest.check(any(abs(l - lon1) < 1e-6 for l in lons), "live lon is a dumped value")
        # the model has moved on many ticks since the write: the coil still holds it
        ottest.check(sl.read_raw(cl, alarm) == [1], "the alarm coil lost what the master wrote")
        ottest.check(not cl.write_coil(alarm["address"], False, slave=1).isError(), "coil write 0")
        ottest.check(sl.read_raw(cl, alarm) == [0], "the alarm coil did not go back to 0")
        ottest.wait_for(lambda: "alarm output off device=live" in sim.log(), 5, "alarm off logged")
        ottest.check("alarm output ON (buzzer and lamp) device=live channel=alarm" in sim.log(),
                     "alarm on not logged")
        cl.close()
        ottest.check(sim.alive(), "simulator died")
        ottest.check(sim.stop() == 0, f"simulator did not stop cleanly: {sim.log()[-2000:]}")
        ottest.check("stopped" in sim.log(), "no stop line")
        ottest.check("device stats device=live" in sim.log() and "writes=2" in sim.log(),
                     "write requests not counted")


if __name__ == "__main__":
    ottest.main(test_sensors_tcp)
    sys.exit(0)
