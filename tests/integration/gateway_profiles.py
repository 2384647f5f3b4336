"""Every shipped device profile is decoded right through the whole gateway,
from known register values in an independent Modbus server (pymodbus 3.0)
to the published reading: signed values, 32-bit word order (big and
little), scale and offset; over Modbus TCP, and over RTU on a pty pair."""
import glob
import json
import os
import shutil
import time

import ottest
from ottest import check
import gateway_common as gc

# Values for canonical channels (inside SPEC ranges); negative where the
# register type is signed, so two's complement is exercised.
CANON = {"temp_c": -1.5, "temp2_c": 4.35, "ambient_c": -12.25, "lat": -33.8688123,
         "lon": 151.2092955, "alt_m": -42.5, "speed_kmh": 63.5, "heading_deg": 270.25,
         "lid_open": True, "shock_g": 0.12, "battery_pct": 91, "gnss_fix": 3}
# Renames that make vendor channel names canonical (SPEC "channels").
RENAME = {"xy-md02": {"temperature": "ambient_c"},
          "teltonika-rut955": {"latitude": "lat", "longitude": "lon", "speed": "speed_kmh"}}
OTHER = {"latitude": 51.2036, "longitude": 71.4304, "speed": 63, "satellites": 9,
         "accuracy": 2.5, "humidity": 54.6}


def value_for(ch, out_name):
    if out_name in CANON:
        return CANON[out_name]
    if ch["name"] in OTHER:
        return OTHER[ch["name"]]
    t, s = ch["type"], ch.get("scale", 1)
    if t == "bool":
        return True
    if t == "f32":
        return -3.25
    if t.startswith("i"):
        return -123 * s + ch.get("offset", 0)
    return 1234 * s + ch.get("offset", 0)


def close(a, b, ch):
    if isinstance(b, bool):
        return a is b
    tol = abs(ch.get("scale", 1)) / 2 + 1e-9 if ch["type"] != "f32" else abs(b) * 1e-6 + 1e-9
    return isinstance(a, (int, float)) and not isinstance(a, bool) and abs(a - b) <= tol


def run_profile(env, broker, name, url_for, idx):
    prof = gc.load_profile(name)
    rename = RENAME.get(name, {})
    values, want = {}, {}
    for ch in prof["channels"]:
        if ch.get("output"):
            continue  # the alarm coil is written by the gateway, never read into readings
        out = rename.get(ch["name"], ch["name"])
        values[ch["name"]] = value_for(ch, out)
        want[out] = (gc.expected(ch, values[ch["name"]]), ch)
    spec = gc.spec_for(prof, values, unit=7)
    url, srv = url_for(name, spec)
    container = f"KZ-PROF-{idx}"
    col = gc.Collector(broker.port, container)
    dev = {"name": "dev", "url": url, "unit": 7, "timeout_ms": 1000, "profile": name}
    if rename:
        dev["channels"] = rename
    cfg = gc.gateway_config(env, broker.port, [dev], container=container, interval=100)
    cfg["spool"]["dir"] = os.path.dirname(env.path(f"spool-{idx}", ".keep"))
    gw = gc.start_gateway(env, cfg, name=f"gateway-{idx}")
    def complete():
        readings, _, _, _ = col.snapshot()
        full = [r for r in readings.values() if all(k in r for k in want)]
        return full[-1] if full else None
    try:
        # the RTU server opens its pty a moment after start: wait for a full read
        last = ottest.wait_for(complete, 20, f"a complete reading of {name}")
    except TimeoutError:
        readings, _, _, _ = col.snapshot()
        raise AssertionError(f"{name} over {url}: no complete reading; last: "
                             f"{readings[max(readings)] if readings else None}")
    for out, (exp, ch) in want.items():
        check(out in last, f"{name} over {url}: channel {out} absent from {last}")
        check(close(last[out], exp, ch),
              f"{name} over {url}: {out}={last[out]!r}, expected {exp!r} "
              f"(type {ch['type']}, word order {ch.get('word_order', 'big')})")
    check("missing" not in last or "temp_c" not in want,
          f"{name}: a read channel listed missing: {last}")
    if "temp_c" not in want:
        check(last.get("missing") == ["temp_c"], f"{name}: temp_c must be listed missing: {last}")
    check(gw.stop() == 0, f"gateway for {name} did not stop cleanly")
    col.close()
    srv.stop()
    print(f"ok {name} over {url.split(':')[0]}: {len(want)} channels")


def test_profiles():
    names = sorted(os.path.basename(p)[:-5] for p in glob.glob(os.path.join(gc.PROFILES, "*.json")))
    check({"organtrack-module", "xy-md02"} <= set(names), f"shipped profiles missing: {names}")
    with ottest.Env("gateway-profiles") as env:
        broker = env.mosquitto()

        def tcp(name, spec):
            srv = gc.ModbusServer(env, name, spec)
            return srv.url, srv

        idx = 0
        for name in names:
            idx += 1
            run_profile(env, broker, name, tcp, idx)

        # RTU over a pseudo-terminal pair (socat links two ptys)
        check(shutil.which("socat"), "socat is required for the RTU test")
        a, b = env.path("pty", "server"), env.path("pty", "gateway")
        socat = env.spawn("socat", ["socat", f"pty,raw,echo=0,link={a}",
                                    f"pty,raw,echo=0,link={b}"])
        ottest.wait_for(lambda: os.path.exists(a) and os.path.exists(b), 10, "pty pair")

        def rtu(name, spec):
            spec["baud"] = 19200
            srv = gc.ModbusServer(env, name + "-rtu", spec, rtu_path=a)
            return f"rtu:{b}?baud=19200&parity=N&data=8&stop=1", srv

        for name in ("xy-md02", "organtrack-module"):
            idx += 1
            run_profile(env, broker, name, rtu, idx)
        socat.stop()


if __name__ == "__main__":
    ottest.main(test_profiles)
