"""The spool's durability (SPEC v1.1 "Spool durability") through the real
gateway, against a real mosquitto and pymodbus:

1. SIGKILL at random points while readings are written, five times, the
   broker away: with the default group flush (sync_ms 1000) nothing is lost
   and no seq is reused: every seq from 1 to the last arrives once the
   broker is back, and none is declared lost.
2. With sync_ms 1000 at 10 Hz, online with acks flowing, the gateway calls
   fdatasync/fsync at most 11 times in 10 s (counted by strace -c over the
   time of 100 readings); with sync_ms 0 it calls it once per reading (the
   control that proves the count). Bytes sent to storage per reading
   (/proc/PID/io write_bytes) are printed.
3. A simulated power cut: the gateway is killed after readings went out
   and were acknowledged, and the segment is cut mid-record a few records
   before its end (what a power cut does to writes that were never
   flushed). The restarted gateway declares the torn records and the rest
   of its seq reservation lost, never reuses a seq the collector saw, and
   everything is accounted for (received or declared lost)."""
import glob
import os
import random
import signal
import struct
import subprocess

import ottest
from ottest import check
import gateway_common as gc


def module_server(env, name):
    prof = gc.load_profile("organtrack-module")
    return gc.ModbusServer(env, name, gc.spec_for(prof, {"temp_c": 4.21, "battery_pct": 77,
                                                        "gnss_fix": 3, "lat": 51.2, "lon": 51.3}))


def gateway_cfg(env, port, srv, container, interval, **kw):
    cfg = gc.gateway_config(env, port, [{"name": "probe", "url": srv.url, "timeout_ms": 300,
                                         "profile": "organtrack-module"}],
                            container=container, interval=interval)
    cfg["spool"]["dir"] = os.path.dirname(env.path(f"spool-{container}", ".keep"))
    cfg["spool"].update(kw)
    return cfg


def check_delivery(col, top, name, allow_lost=False):
    ottest.wait_for(lambda: col.acked >= top, 40, f"{name}: the ack to reach {top}", interval=0.1)
    readings, order, lost, _ = col.snapshot()
    check(not col.errors, f"{name}: {col.errors[:3]}")
    have = set(readings) | lost
    check(have >= set(range(1, top + 1)),
          f"{name}: seqs missing {sorted(set(range(1, top + 1)) - have)[:20]}")
    if not allow_lost:
        check(not lost, f"{name}: seqs declared lost {sorted(lost)[:20]}")
    for s, r in readings.items():
        check(r.get("temp_c") == 4.21 or "temp_c" in r.get("missing", []),
              f"{name}: reading {s} does not match the device: {r}")
    return readings, lost


def kills(env, broker_port):
    srv = module_server(env, "kill-module")
    cfg = gateway_cfg(env, broker_port, srv, "KZ-SPL-KILL", 20)
    rnd = random.Random(int.from_bytes(os.urandom(4), "little"))
    last = 0
    for i in range(5):
        gw = gc.start_gateway(env, cfg, name="gateway-kill")
        want = rnd.randint(15, 60)
        st = ottest.wait_for(lambda: (s := gc.status(env, "gateway-kill")) and
                             s.get("running") and s["boot"] == i + 1 and
                             s["next_seq"] > last + want and s, 20, f"kill {i}: readings")
        gw.kill()  # wherever it is in its cycle: reading, writing, publishing, flushing
        last = st["next_seq"] - 1
    return srv, cfg


def count_flushes(env, gw, name, n):
    """fdatasync + fsync calls while n readings are taken; bytes to storage per reading."""
    st0 = gc.status(env, name)
    with open(f"/proc/{gw.pid}/io") as f:
        io0 = dict(l.split(": ") for l in f.read().splitlines())
    log = env.path("logs", f"strace-{name}.txt")
    tr = subprocess.Popen(["strace", "-f", "-c", "-e", "trace=fdatasync,fsync", "-o", log,
                           "-p", str(gw.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True)
    # the window starts once strace says it is attached (to every thread)
    first = tr.stderr.readline()
    check("attached" in first, f"strace did not attach: {first!r}")
    s1 = gc.status(env, name)
    ottest.wait_for(lambda: gc.status(env, name)["readings_total"] >= s1["readings_total"] + n,
                    n / 5 + 20, f"{name}: {n} readings under strace", interval=0.1)
    s2 = gc.status(env, name)
    tr.send_signal(signal.SIGINT)
    tr.wait(10)
    with open(f"/proc/{gw.pid}/io") as f:
        io1 = dict(l.split(": ") for l in f.read().splitlines())
    calls = 0
    with open(log) as f:
        for line in f:
            p = line.split()
            if p and p[-1] in ("fdatasync", "fsync"):  # % seconds usecs/call calls [errors]
                calls += int(p[3])
    took = s2["readings_total"] - s1["readings_total"]
    wb = (int(io1["write_bytes"]) - int(io0["write_bytes"])) / max(
        1, s2["readings_total"] - st0["readings_total"])
    return calls, took, (s2["ts"] - s1["ts"]) / 1000.0, wb


def flush_counts(env, broker_port):
    out = {}
    for sync, n in ((1000, 100), (0, 30)):
        srv = module_server(env, f"sync-module-{sync}")
        c = f"KZ-SPL-SYNC{sync}"
        col = gc.Collector(broker_port, c)
        cfg = gateway_cfg(env, broker_port, srv, c, 100, sync_ms=sync)
        name = f"gateway-sync{sync}"
        gw = gc.start_gateway(env, cfg, name=name)
        ottest.wait_for(lambda: col.acked >= 10, 20, f"sync {sync}: acks flowing")
        out[sync] = count_flushes(env, gw, name, n)
        check(gw.stop() == 0, f"sync {sync}: gateway did not stop cleanly")
        col.close()
        srv.stop()
    calls, took, secs, wb = out[1000]
    check(took >= 100 and secs >= 9.5, f"sync 1000: window {took} readings in {secs:.1f} s")
    check(calls <= 11, f"sync_ms 1000 at 10 Hz: {calls} flushes in {secs:.1f} s (at most 11)")
    check(wb < 4096, f"sync_ms 1000: {wb:.0f} bytes to storage per reading")
    c0, took0, _, _ = out[0]
    check(c0 >= took0, f"sync_ms 0: {c0} flushes for {took0} readings (one per reading)")
    return out


def segment_frames(path):
    """[(offset, length, type, seq)] of every frame in a segment file."""
    with open(path, "rb") as f:
        data = f.read()
    off, out = 0, []
    while off + 8 <= len(data):
        n = struct.unpack_from("<I", data, off)[0]
        if off + 8 + n > len(data) or n < 9:
            break
        t = data[off + 8]
        seq = struct.unpack_from("<q", data, off + 9)[0]
        out.append((off, 8 + n, t, seq))
        off += 8 + n
    return out


def power_cut(env, broker_port):
    srv = module_server(env, "cut-module")
    c = "KZ-SPL-CUT"
    col = gc.Collector(broker_port, c)
    cfg = gateway_cfg(env, broker_port, srv, c, 50)
    gw = gc.start_gateway(env, cfg, name="gateway-cut")
    ottest.wait_for(lambda: col.acked >= 40, 20, "cut: readings acknowledged")
    gw.kill()
    seen_before = max(col.snapshot()[0])
    seg = sorted(glob.glob(os.path.join(gc.spool_dir(cfg), "seg-*")))[-1]
    frames = [f for f in segment_frames(seg) if f[2] == 1]
    off, ln, _, cut_seq = frames[-6]  # the last 6 records never reached the disk
    check(cut_seq <= seen_before, "cut: the torn records were never published")
    os.truncate(seg, off + ln // 2)
    gw2 = gc.start_gateway(env, cfg, name="gateway-cut")
    ottest.wait_for(lambda: "torn tail found" in gw2.log(), 10, "cut: torn tail found")
    line = next(l for l in gw2.log().splitlines() if "torn tail found" in l)
    lo, hi = (int(x) for x in line.split("seqs ")[1].split(" ")[0].split(".."))
    check(lo == cut_seq and hi >= seen_before, f"cut: declared {lo}..{hi}, cut at {cut_seq}, "
          f"the collector had seen up to {seen_before}")
    st = ottest.wait_for(lambda: (s := gc.status(env, "gateway-cut")) and s["boot"] == 2 and
                         s["next_seq"] > hi + 20 and s, 20, "cut: new readings")
    first_new = min(s for s in col.snapshot()[0] if s > seen_before)
    check(first_new > hi, f"cut: seq {first_new} reused below the reservation end {hi}")
    check(gw2.stop() == 0, "cut: gateway did not stop cleanly")
    top = gc.status(env, "gateway-cut")["next_seq"] - 1
    readings, lost = check_delivery(col, top, "cut", allow_lost=True)
    check(set(range(seen_before + 1, hi + 1)) <= lost | set(readings),
          "cut: the burnt seqs were neither received nor declared lost")
    col.close()
    srv.stop()
    return cut_seq, hi, seen_before


def test_spool():
    with ottest.Env("gateway-spool") as env:
        port = ottest.free_port()
        srv, cfg = kills(env, port)  # no broker on the port yet
        broker = env.mosquitto(port=port)
        col = gc.Collector(port, "KZ-SPL-KILL")
        gw = gc.start_gateway(env, cfg, name="gateway-kill")
        top = ottest.wait_for(lambda: (s := gc.status(env, "gateway-kill")) and
                              s.get("running") and s["boot"] == 6 and s["next_seq"] - 1, 10,
                              "kill: restarted online")
        check_delivery(col, top, "kill")
        check(gw.stop() == 0, "kill: gateway did not stop cleanly")
        col.close()
        srv.stop()
        flushes = flush_counts(env, port)
        cut_seq, hi, seen = power_cut(env, port)
        broker.stop()
        c1, n1, s1, wb = flushes[1000]
        c0, n0, s0, _ = flushes[0]
        print(f"spool: 5 SIGKILLs, {top} seqs, none lost; sync_ms 1000: {c1} flushes for {n1} "
              f"readings in {s1:.1f} s, {wb:.0f} bytes to storage per reading; sync_ms 0: {c0} "
              f"flushes for {n0} readings; power cut at seq {cut_seq}: {cut_seq}..{hi} declared "
              f"lost (the collector had {seen}), no seq reused")


if __name__ == "__main__":
    ottest.main(test_spool)
