"""Flight mode (SPEC v1.1), both detections, against a real mosquitto and an
independent Modbus server (pymodbus) whose registers the test moves:

- input: the crew's flight_mode switch (a discrete input). On: the retained
  state says online:false flight:true, then the gateway disconnects cleanly
  (the broker logs it, no last will replaces the state); readings keep
  spooling; off: it reconnects with online:true flight:false and replays.
- auto: altitude and speed above the thresholds for air_s enter flight mode,
  on the ground for ground_s leave it; readings without a GNSS fix (position
  left out) keep it in the air. The holds are checked from the readings'
  own sample times and the states' times.

Both: every reading taken in the air arrives only after the landing state,
first arrivals are in seq order, no seq is missing or lost, and the
collector's ack (a python stand-in) covers them all."""
import os

import ottest
from ottest import check
import gateway_common as gc

AIR_S, GROUND_S = 1, 2


def switch_profile(env):
    return env.write_json("flight-switch.json", {
        "name": "flight-switch", "source": "test profile: a probe and the crew's switch",
        "channels": [
            {"name": "temp_c", "function": "input", "address": 0, "type": "i16", "scale": 0.01},
            {"name": "flight_mode", "function": "discrete", "address": 1, "type": "bool"}]})


def state_index(events, pred, start=0):
    for i in range(start, len(events)):
        k, d = events[i]
        if k == "state" and pred(d):
            return i
    return None


def check_replay(col, gw_status, flight_seqs, name):
    """Every seq arrived, first arrivals in order, flight readings after landing."""
    top = gw_status["next_seq"] - 1
    ottest.wait_for(lambda: col.acked >= top, 20, f"{name}: the ack to cover seq {top}")
    readings, order, lost, _ = col.snapshot()
    check(not col.errors, f"{name}: collector errors {col.errors[:3]}")
    check(set(readings) >= set(range(1, top + 1)) and not lost,
          f"{name}: missing {sorted(set(range(1, top + 1)) - set(readings))[:10]} lost {lost}")
    seen, firsts = set(), []
    for s in order:
        if s not in seen:
            seen.add(s)
            firsts.append(s)
    check(firsts == sorted(firsts), f"{name}: first arrivals not in seq order")
    ev = list(col.events)
    entry = state_index(ev, lambda d: d.get("flight") is True)
    landing = state_index(ev, lambda d: d.get("online") and d.get("flight") is False,
                          (entry or 0) + 1)
    check(entry is not None and landing is not None, f"{name}: no flight / landing state")
    check(ev[entry][1]["online"] is False, f"{name}: the flight state says online")
    early = [d for k, d in ev[:landing] if k == "reading" and d in flight_seqs]
    check(not early, f"{name}: readings taken in flight arrived before landing: {early[:5]}")
    return ev[entry][1], ev[landing][1]


def phase_input(env, broker):
    C = "KZ-FLT-IN"
    srv = gc.ModbusServer(env, "switch", {"unit": 1, "input": {"0": 450}, "discrete": {"1": 0}})
    col = gc.Collector(broker.port, C)
    cfg = gc.gateway_config(env, broker.port, [{"name": "box", "url": srv.url, "timeout_ms": 300,
                                                "profile": switch_profile(env)}],
                            container=C, interval=100, flight={"detect": "input"})
    cfg["spool"]["dir"] = os.path.dirname(env.path("spool-in", ".keep"))
    gw = gc.start_gateway(env, cfg, name="gateway-in")
    ottest.wait_for(lambda: col.acked >= 10, 20, "input: readings before take-off")
    srv.update({"unit": 1, "input": {"0": 450}, "discrete": {"1": 1}})
    ottest.wait_for(lambda: any(d.get("flight") for d in col.snapshot()[3]), 10,
                    "input: the retained state to say flight")
    st = ottest.wait_for(lambda: (s := gc.status(env, "gateway-in")) and s["radio"] == "flight"
                         and s["link"] == "down" and s, 10, "input: radio off")
    ottest.wait_for(lambda: f"Client {cfg['gateway']} disconnected" in broker.log(), 10,
                    "input: the broker to see the clean disconnect")
    at_entry = st["next_seq"]
    ottest.wait_for(lambda: gc.status(env, "gateway-in")["next_seq"] >= at_entry + 30, 15,
                    "input: readings spooled in flight")
    check(col.snapshot()[3][-1].get("flight") is True,
          "input: the retained state changed while in flight (a last will?)")
    srv.update({"unit": 1, "input": {"0": 450}, "discrete": {"1": 0}})
    ottest.wait_for(lambda: any(d.get("online") and d.get("flight") is False
                                for d in col.snapshot()[3][1:]), 15, "input: landing state")
    landed = gc.status(env, "gateway-in")
    readings = col.snapshot()[0]
    flight_seqs = {s for s, r in readings.items() if r.get("flight_mode")}
    flight_seqs |= set(range(at_entry, landed["next_seq"]))
    entry, landing = check_replay(col, landed, flight_seqs, "input")
    log = gw.log()
    check("flight mode: entering (flight_mode switch on" in log and
          "flight mode: landed (flight_mode switch off" in log, "input: no operator log lines")
    check(gw.stop() == 0, "input: gateway did not stop cleanly")
    col.close()
    srv.stop()
    return at_entry, landed["next_seq"]


def module(alt, speed, fix=3):
    prof = gc.load_profile("organtrack-module")
    return gc.spec_for(prof, {"temp_c": 4.4, "alt_m": alt, "speed_kmh": speed, "gnss_fix": fix,
                              "lat": 51.1, "lon": 55.0})


def phase_auto(env, broker):
    C = "KZ-FLT-AUTO"
    srv = gc.ModbusServer(env, "module", module(40, 20))
    col = gc.Collector(broker.port, C)
    cfg = gc.gateway_config(env, broker.port, [{"name": "probe", "url": srv.url,
                                                "timeout_ms": 300,
                                                "profile": "organtrack-module"}],
                            container=C, interval=100,
                            flight={"detect": "auto", "alt_m_above": 3000,
                                    "speed_kmh_above": 250, "air_s": AIR_S,
                                    "ground_s": GROUND_S})
    cfg["spool"]["dir"] = os.path.dirname(env.path("spool-auto", ".keep"))
    gw = gc.start_gateway(env, cfg, name="gateway-auto")
    ottest.wait_for(lambda: col.acked >= 10, 20, "auto: readings on the ground")
    srv.update(module(7600, 620))
    ottest.wait_for(lambda: any(d.get("flight") for d in col.snapshot()[3]), 10,
                    "auto: flight state after the climb")
    at_entry = ottest.wait_for(lambda: (s := gc.status(env, "gateway-auto")) and
                               s["radio"] == "flight" and s["next_seq"], 10, "auto: radio off")
    # no GNSS fix in the air: position is left out, which is no evidence of landing
    srv.update(module(100, 0, fix=0))
    ottest.wait_for(lambda: gc.status(env, "gateway-auto")["next_seq"] >=
                    at_entry + 10 * (GROUND_S + 1), 15, "auto: no-fix readings in flight")
    check(gc.status(env, "gateway-auto")["radio"] == "flight",
          "auto: readings without a fix landed the gateway")
    srv.update(module(355, 15))  # landed at Astana, taxiing
    ottest.wait_for(lambda: any(d.get("online") and d.get("flight") is False
                                for d in col.snapshot()[3][1:]), 20, "auto: landing state")
    landed = gc.status(env, "gateway-auto")
    readings = col.snapshot()[0]
    flight_seqs = set(range(at_entry, landed["next_seq"]))
    entry, landing = check_replay(col, landed, flight_seqs, "auto")
    readings = col.snapshot()[0]
    rs = [readings[s] for s in sorted(readings)]
    first_air = next(r for r in rs if r.get("alt_m", 0) > 3000)
    first_ground = next(r for r in rs if r["seq"] > first_air["seq"] and r.get("gnss_fix") == 3
                        and r.get("alt_m", 1e9) < 3000)
    check(entry["ts"] - first_air["ts"] >= AIR_S * 1000 - 5,
          f"auto: flight mode after {entry['ts'] - first_air['ts']} ms airborne, air_s={AIR_S}")
    check(landing["ts"] - first_ground["ts"] >= GROUND_S * 1000 - 5,
          f"auto: landed after {landing['ts'] - first_ground['ts']} ms, ground_s={GROUND_S}")
    nofix = [r for r in rs if r.get("gnss_fix") == 0]
    check(nofix and all("alt_m" not in r for r in nofix), "auto: no-fix readings carry altitude")
    check("flight mode: entering (alt_m=7600 speed_kmh=620" in gw.log(), "auto: no entry line")
    check(gw.stop() == 0, "auto: gateway did not stop cleanly")
    col.close()
    srv.stop()
    return (entry["ts"] - first_air["ts"], landing["ts"] - first_ground["ts"])


def test_flight():
    with ottest.Env("gateway-flight") as env:
        broker = env.mosquitto()
        a, b = phase_input(env, broker)
        air_ms, ground_ms = phase_auto(env, broker)
        print(f"flight: input spooled {b - a} readings in the air; auto entered after "
              f"{air_ms} ms airborne (air_s {AIR_S}), left after {ground_ms} ms on the ground "
              f"(ground_s {GROUND_S})")
        broker.stop()


if __name__ == "__main__":
    ottest.main(test_flight)
