"""organtrack-sensors over Modbus RTU on pseudo-terminal pairs (socat), read
by pymodbus' serial client: the reference module (unit 3, 19200 8N1; ptys refuse parity settings from pyserial) and an
XY-MD02 (unit 1, 9600 8N1) decode to the --dump-scenario values; a request
for another unit is not answered; a device under crc_noise answers with
frames whose CRC is wrong (checked on the raw bytes with pyserial), while the
clean devices keep answering; a serial line that disappears is logged once
and reopened when it comes back, the other lines unaffected."""
import json
import sys
import time

import serial
from pymodbus.client import ModbusSerialClient

import ottest
import sensors_lib as sl

T = 1500  # on the road to Oral airport


def crc16(data):
    crc = 0xFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def raw_request(port, baud, frame, want_len, timeout=2.0):
    with serial.Serial(port, baud, timeout=0.1) as s:
        s.reset_input_buffer()
        s.write(frame + crc16(frame).to_bytes(2, "little"))
        got = b""
        deadline = time.monotonic() + timeout
        while len(got) < want_len and time.monotonic() < deadline:
            got += s.read(want_len - len(got))
        return got


def test_sensors_rtu():
    heart = sl.scenario_path("heart-air-oral-astana")
    module, xy = sl.profile("organtrack-module"), sl.profile("xy-md02")
    xy_src = {"temperature": "ambient_c", "humidity": "humidity"}
    with ottest.Env("sensors-rtu") as env:
        with open(heart) as f:
            noisy = json.load(f)
        noisy["events"] = [{"type": "crc_noise", "at_s": 0, "duration_s": 1e6, "probability": 1.0}]
        noisy_path = env.write_json("noisy.json", noisy)
        _, a_sim, a_cli = sl.pty_pair(env)
        b_proc, b_sim, b_cli = sl.pty_pair(env, resolve=False)
        _, c_sim, c_cli = sl.pty_pair(env)
        cfg = {"tick_ms": 50, "devices": [
            {"name": "module", "profile": "organtrack-module", "unit": 3,
             "url": f"rtu:{a_sim}?baud=19200&parity=N&data=8&stop=1",
             "scenario": heart, "start_at_s": T, "time_scale": 0},
            {"name": "cabin", "profile": "xy-md02", "unit": 1, "url": f"rtu:{b_sim}?baud=9600",
             "scenario": heart, "start_at_s": T, "time_scale": 0, "channel_source": xy_src},
            {"name": "noisy", "profile": "xy-md02", "unit": 1, "url": f"rtu:{c_sim}?baud=9600",
             "scenario": noisy_path, "start_at_s": T, "time_scale": 0, "channel_source": xy_src}]}
        sim = env.program("organtrack-sensors", cfg)
        ottest.wait_for(lambda: "started" in sim.log() or not sim.alive(), timeout=10, what="start")
        ottest.check(sim.alive(), f"simulator exited: {sim.log()}")
        state = sl.dump(heart, T)

        ca = ModbusSerialClient(port=a_cli, baudrate=19200, parity="N", bytesize=8, stopbits=1,
                                timeout=1, retries=0)
        ottest.check(ca.connect(), "open module pty")
        sl.check_against_dump(ca, module, state, unit=3)
        # a request for unit 1 on this line is not for the module: silence
        (r, dt) = sl.timed(lambda: sl.read_raw(ca, module["channels"][0], unit=1))
        ottest.check(r is None and dt >= 0.9, f"unit 1 answered on unit 3's line: {r} in {dt:.2f}s")
        sl.check_against_dump(ca, module, state, unit=3)
        ca.close()

        cb = ModbusSerialClient(port=b_cli, baudrate=9600, timeout=1, retries=0)
        ottest.check(cb.connect(), "open cabin pty")
        sl.check_against_dump(cb, xy, state, source=xy_src)
        cb.close()
        # the same request as raw bytes: the datasheet's frame 01 04 00 01 00 02
        rep = raw_request(b_cli, 9600, bytes([1, 4, 0, 1, 0, 2]), 9)
        ottest.check(len(rep) == 9 and rep[:3] == bytes([1, 4, 4]), f"raw reply {rep.hex()}")
        ottest.check(crc16(rep[:-2]) == int.from_bytes(rep[-2:], "little"), "clean CRC")
        temp = int.from_bytes(rep[3:5], "big", signed=True) / 10
        ottest.check(abs(temp - state["values"]["ambient_c"]) <= 0.05, f"raw temperature {temp}")

        # crc_noise: a reply arrives, but its CRC does not match
        bad = 0
        for _ in range(5):
            rep = raw_request(c_cli, 9600, bytes([1, 4, 0, 1, 0, 2]), 9)
            ottest.check(len(rep) == 9, f"noisy device sent {len(rep)} bytes")
            bad += crc16(rep[:-2]) != int.from_bytes(rep[-2:], "little")
        ottest.check(bad == 5, f"only {bad}/5 replies corrupted at probability 1")
        cc = ModbusSerialClient(port=c_cli, baudrate=9600, timeout=1, retries=0)
        ottest.check(cc.connect(), "open noisy pty")
        ottest.check(sl.read_raw(cc, xy["channels"][0]) is None, "pymodbus accepted a corrupt frame")
        cc.close()
        # and the clean devices still answer
        cb = ModbusSerialClient(port=b_cli, baudrate=9600, timeout=1, retries=0)
        ottest.check(cb.connect(), "reopen cabin pty")
        sl.check_against_dump(cb, xy, state, source=xy_src)
        cb.close()
        # the cabin's line goes away (adapter unplugged): logged, the others keep
        # answering, and the line is reopened when it is back
        b_proc.stop()
        ottest.wait_for(lambda: "serial line lost device=cabin" in sim.log(), timeout=10,
                        what="line loss logged")
        ca = ModbusSerialClient(port=a_cli, baudrate=19200, parity="N", bytesize=8, stopbits=1,
                                timeout=1, retries=0)
        ottest.check(ca.connect(), "reopen module pty")
        sl.check_against_dump(ca, module, state, unit=3)
        ca.close()
        ottest.check(sim.log().count("serial line lost device=cabin") == 1, "line loss logged repeatedly")
        sl.pty_pair(env, links=(b_sim, b_cli), resolve=False)
        ottest.wait_for(lambda: "serial line reopened device=cabin" in sim.log(), timeout=10,
                        what="line reopened")
        cb = ModbusSerialClient(port=b_cli, baudrate=9600, timeout=1, retries=0)
        ottest.check(cb.connect(), "open cabin pty again")
        sl.check_against_dump(cb, xy, state, source=xy_src)
        cb.close()
        ottest.check(sim.stop() == 0, "simulator did not stop cleanly")
        log = sim.log()
        ottest.check("corrupted=" in log and "device=noisy" in log, "no stats for noisy")


if __name__ == "__main__":
    ottest.main(test_sensors_rtu)
    sys.exit(0)
