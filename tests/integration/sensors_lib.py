"""Helpers for the organtrack-sensors integration tests.

Registers are read with pymodbus (an independent Modbus client) and decoded
here in Python straight from the profile JSON (struct), not with our C
codec, so a codec bug and a server bug cannot cancel out."""
import json
import os
import struct
import subprocess
import time

import ottest

ROOT = ottest.ROOT
SIM = os.path.join(ottest.BIN, "organtrack-sensors")


def profile(name):
    with open(os.path.join(ROOT, "sensors", "profiles", name + ".json")) as f:
        return json.load(f)


def width(ch):
    return 2 if ch["type"] in ("u32", "i32", "f32") else 1


def decode(ch, regs):
    """Engineering value of a channel from its registers (or [bit])."""
    t = ch["type"]
    if t == "bool":
        return 1.0 if regs[0] else 0.0
    if t in ("u16", "i16"):
        raw = struct.unpack(">" + ("H" if t == "u16" else "h"), struct.pack(">H", regs[0]))[0]
    else:
        hi, lo = (regs[0], regs[1]) if ch.get("word_order", "big") == "big" else (regs[1], regs[0])
        raw = struct.unpack(">" + {"u32": "I", "i32": "i", "f32": "f"}[t], struct.pack(">HH", hi, lo))[0]
    return raw * ch.get("scale", 1) + ch.get("offset", 0)


def tolerance(ch, want):
    if ch["type"] == "f32":
        return abs(want) * 1e-6 + 1e-6
    return abs(ch.get("scale", 1)) / 2 + 1e-9


def read_raw(client, ch, unit=1):
    """Registers of one channel, or None if the device did not answer."""
    fn = ch["function"]
    try:
        if fn == "holding":
            r = client.read_holding_registers(ch["address"], width(ch), slave=unit)
        elif fn == "input":
            r = client.read_input_registers(ch["address"], width(ch), slave=unit)
        elif fn == "discrete":
            r = client.read_discrete_inputs(ch["address"], 1, slave=unit)
        else:
            r = client.read_coils(ch["address"], 1, slave=unit)
    except Exception:  # noqa: BLE001 - pymodbus raises or returns errors depending on the path
        return None
    if r is None or r.isError():
        return None
    return [1 if r.bits[0] else 0] if fn in ("discrete", "coil") else list(r.registers)


def read_value(client, ch, unit=1):
    regs = read_raw(client, ch, unit)
    return None if regs is None else decode(ch, regs)


def dump(scenario, at, to=None, step=None):
    """Model state(s) from organtrack-sensors --dump-scenario."""
    argv = [SIM, "--dump-scenario", scenario, "--at", str(at)]
    if to is not None:
        argv += ["--to", str(to), "--step", str(step or 60)]
    out = subprocess.run(argv, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    states = [json.loads(line) for line in out.splitlines() if line.strip()]
    return states if to is not None else states[0]


def check_against_dump(client, prof, state, source=None, unit=1, skip=()):
    """Every channel of prof read from client equals the dumped model value."""
    source = source or {}
    for ch in prof["channels"]:
        if ch["name"] in skip or ch.get("output"):
            continue  # an output (the alarm coil) is the master's to write, not the model's
        src = source.get(ch["name"], ch["name"])
        want = float(src) if isinstance(src, (int, float)) else state["values"][src]
        got = read_value(client, ch, unit)
        ottest.check(got is not None, f"{prof['name']}.{ch['name']}: no answer")
        ottest.check(abs(got - want) <= tolerance(ch, want),
                     f"{prof['name']}.{ch['name']}: read {got!r}, model {want!r} (t={state['t_s']})")


def scenario_path(name):
    return os.path.join(ROOT, "sensors", "scenarios", name + ".json")


def timed(fn):
    t0 = time.monotonic()
    r = fn()
    return r, time.monotonic() - t0


def pty_pair(env, links=None, resolve=True):
    """Two linked pseudo-terminals through socat; returns (proc, path_a, path_b),
    by default with the /dev/pts/N paths resolved (resolve=False: the links,
    which a restarted socat re-creates under the same names)."""
    n = len(env.procs)
    a, b = links or (env.path("pty", f"{n}a"), env.path("pty", f"{n}b"))
    for p in (a, b):
        if os.path.lexists(p):
            os.unlink(p)
    proc = env.spawn("socat", ["socat", "-d", "-d", f"pty,raw,echo=0,link={a}",
                               f"pty,raw,echo=0,link={b}"])
    ottest.wait_for(lambda: os.path.exists(a) and os.path.exists(b), timeout=10, what="socat ptys")
    if not resolve:
        return proc, a, b
    return proc, os.path.realpath(a), os.path.realpath(b)
