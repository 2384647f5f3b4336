"""Gateway benchmark (bench/gateway.sh): organtrack-gateway against a
Node-RED flow doing the same job, measured in the same run.

1. Polling cost: CPU time, peak RSS, private memory (smaps_rollup) and the
   bytes sent to storage (/proc/PID/io write_bytes) per reading polled from
   the reference module (organtrack-sensors serving organtrack-module),
   each reading published as a SPEC batch at QoS 1 while a subscriber plays
   the collector and acknowledges. Polled at 100 Hz to finish fast; figures
   are normalised per reading. Ours twice: with the default group flush
   (spool.sync_ms 1000) and with a flush per reading (sync_ms 0).
2. CPU per hour at a realistic 1 Hz with three devices (the reference
   module, an xy-md02 cabin sensor and a Teltonika router, all served by
   organtrack-sensors over TCP), measured over --hour-s seconds.
3. Replay: a 6-hour backlog (21,600 readings at 1 Hz) delivered after the
   link returns. Ours: the spool is pre-filled (gateway-spool-fill, the
   gateway's own spool code), the gateway starts against a live broker and a
   subscriber that acknowledges like the collector; time until the ack
   covers the last seq. Node-RED has no durable store: its flow produces the
   21,600 readings while the broker is down (its MQTT client buffers them in
   memory), then the broker starts; time until a subscriber has received
   them all (or what it received when it gave up).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import ottest  # noqa: E402
import gateway_common as gc  # noqa: E402

HZ = os.sysconf("SC_CLK_TCK")
BACKLOG = 21600
NR_DIR = os.path.join(ROOT, "var", "bench", "node-red")
NR_PKGS = ["node-red@4.1.15", "node-red-contrib-modbus@5.23.3"]


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return (int(rest[11]) + int(rest[12])) / HZ  # utime, stime


def hwm_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def sched_s(pid):
    """CPU time of every live thread, in ns resolution (schedstat)."""
    total = 0
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{t}/schedstat") as f:
                total += int(f.read().split()[0])
        except OSError:
            pass
    return total / 1e9


def mem_kib(pid):
    """Rss, Pss and private (clean + dirty) memory from smaps_rollup, KiB."""
    out = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            k, _, v = line.partition(":")
            if v.strip().endswith("kB"):
                out[k] = int(v.split()[0])
    return {"rss": out.get("Rss", 0), "pss": out.get("Pss", 0),
            "private": out.get("Private_Clean", 0) + out.get("Private_Dirty", 0)}


def write_bytes(pid):
    with open(f"/proc/{pid}/io") as f:
        for line in f:
            if line.startswith("write_bytes:"):
                return int(line.split()[1])
    return 0


def log(msg):
    print(msg, flush=True)


def node_red_install():
    red = os.path.join(NR_DIR, "node_modules", "node-red", "red.js")
    mod = os.path.join(NR_DIR, "node_modules", "node-red-contrib-modbus", "package.json")
    if os.path.exists(red) and os.path.exists(mod):
        return red
    if not shutil.which("npm"):
        raise RuntimeError("npm not found")
    os.makedirs(NR_DIR, exist_ok=True)
    pj = os.path.join(NR_DIR, "package.json")
    if not os.path.exists(pj):
        with open(pj, "w") as f:
            json.dump({"name": "organtrack-bench-node-red", "private": True}, f)
    log(f"installing Node-RED under {NR_DIR} (npm install --no-audit --no-fund {' '.join(NR_PKGS)})")
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", *NR_PKGS], cwd=NR_DIR,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, timeout=900)
    return red


def node_red_start(env, red, flow_name, subst, name):
    with open(os.path.join(os.path.dirname(__file__), flow_name)) as f:
        text = f.read()
    for k, v in subst.items():
        text = text.replace("@" + k + "@", str(v))
    udir = os.path.dirname(env.path("node-red-" + name, "flows.json"))
    with open(os.path.join(udir, "flows.json"), "w") as f:
        f.write(text)
    port = ottest.free_port()
    with open(os.path.join(udir, "settings.js"), "w") as f:
        f.write("module.exports = {uiPort: %d, uiHost: '127.0.0.1', httpAdminRoot: false,\n"
                " httpNodeRoot: false, flowFile: 'flows.json', credentialSecret: false,\n"
                " logging: {console: {level: 'warn'}}, editorTheme: {tours: false}};\n" % port)
    # contrib nodes are found through NODE_PATH-less lookup: link them into the userDir
    nm = os.path.join(udir, "node_modules")
    if not os.path.exists(nm):
        os.symlink(os.path.join(NR_DIR, "node_modules"), nm)
    shutil.copy(os.path.join(NR_DIR, "package.json"), os.path.join(udir, "package.json"))
    with open(os.path.join(udir, "package.json"), "w") as f:
        json.dump({"name": "bench-flow", "private": True,
                   "dependencies": {"node-red-contrib-modbus": "5.23.3"}}, f)
    return env.spawn("node-red-" + name, ["node", red, "--userDir", udir, "--settings",
                                          os.path.join(udir, "settings.js")])


def sensors(env):
    port = ottest.free_port()
    cfg = {"log_level": "warn", "tick_ms": 10, "profiles_dir": "sensors/profiles",
           "devices": [{"name": "module", "profile": "organtrack-module",
                        "url": f"tcp://127.0.0.1:{port}", "unit": 1,
                        "scenario": "sensors/scenarios/kidney-road.json"}]}
    p = env.program("organtrack-sensors", cfg, wait=port)
    return p, port


def polling_ours(env, broker, mport, n, sync_ms=1000, container="KZ-BENCH-POLL"):
    col = gc.Collector(broker.port, container)
    cfg = gc.gateway_config(env, broker.port, [{"name": "probe", "url": f"tcp://127.0.0.1:{mport}",
                                                "timeout_ms": 200, "profile": "organtrack-module"}],
                            container=container, interval=10)
    cfg["spool"]["dir"] = os.path.dirname(env.path("spool-" + container, ".keep"))
    cfg["spool"]["sync_ms"] = sync_ms
    gw = gc.start_gateway(env, cfg, name="gateway-" + container.lower())
    ottest.wait_for(lambda: col.count() >= 200, 30, "gateway warm-up")
    c0, n0, t0, w0 = cpu_s(gw.pid), col.count(), time.monotonic(), write_bytes(gw.pid)
    ottest.wait_for(lambda: col.count() >= n0 + n, n / 50 + 60, "gateway readings", interval=0.2)
    c1, n1, t1, w1 = cpu_s(gw.pid), col.count(), time.monotonic(), write_bytes(gw.pid)
    rss = hwm_kib(gw.pid)
    mem = mem_kib(gw.pid)
    readings, _, _, _ = col.snapshot()
    gw.stop()
    col.close()
    got = n1 - n0
    full = sum("temp_c" in r for r in readings.values())
    return {"cpu_per_10k": (c1 - c0) / got * 10000, "rss_kib": rss, "rate": got / (t1 - t0),
            "readings": got, "complete": full / max(1, len(readings)), "sync_ms": sync_ms,
            "private_kib": mem["private"], "pss_kib": mem["pss"],
            "write_bytes_per_reading": (w1 - w0) / got}


def polling_radio_off(env, mport, n):
    """Polling and spooling only: the broker is unreachable (as in flight
    mode), so nothing is published. Shows what the Modbus side and the spool
    cost per reading, a floor for any work on the MQTT side."""
    cfg = gc.gateway_config(env, ottest.free_port(),
                            [{"name": "probe", "url": f"tcp://127.0.0.1:{mport}", "timeout_ms": 200,
                              "profile": "organtrack-module"}], container="KZ-BENCH-OFF",
                            interval=10)
    cfg["spool"]["dir"] = os.path.dirname(env.path("spool-off", ".keep"))
    gw = gc.start_gateway(env, cfg, name="gateway-off")
    ottest.wait_for(lambda: (gc.status(env, "gateway-off") or {}).get("readings_total", 0) >= 200,
                    30, "radio-off warm-up")
    s0, c0 = gc.status(env, "gateway-off"), cpu_s(gw.pid)
    ottest.wait_for(lambda: gc.status(env, "gateway-off")["readings_total"] >=
                    s0["readings_total"] + n, n / 50 + 60, "radio-off readings", interval=0.5)
    s1, c1 = gc.status(env, "gateway-off"), cpu_s(gw.pid)
    gw.stop()
    got = s1["readings_total"] - s0["readings_total"]
    return {"cpu_per_10k": (c1 - c0) / got * 10000, "readings": got}


def hour_ours(env, broker, seconds):
    """CPU per hour at 1 Hz with three devices on one gateway."""
    ports = [ottest.free_port() for _ in range(3)]
    sc = "sensors/scenarios/kidney-road.json"
    sim = env.program("organtrack-sensors", {
        "log_level": "warn", "tick_ms": 100, "profiles_dir": "sensors/profiles",
        "devices": [
            {"name": "module", "profile": "organtrack-module",
             "url": f"tcp://127.0.0.1:{ports[0]}", "scenario": sc},
            {"name": "cabin", "profile": "xy-md02", "url": f"tcp://127.0.0.1:{ports[1]}",
             "scenario": sc, "channel_source": {"temperature": "ambient_c",
                                                "humidity": "humidity"}},
            {"name": "router", "profile": "teltonika-rut955", "url": f"tcp://127.0.0.1:{ports[2]}",
             "scenario": sc, "channel_source": {"latitude": "lat", "longitude": "lon",
                                                "speed": "speed_kmh", "satellites": "satellites",
                                                "accuracy": 3.5}}]},
        name="sensors-hour", wait=ports[0])
    for p in ports[1:]:
        ottest.wait_port(p, proc=sim.p)
    container = "KZ-BENCH-HOUR"
    col = gc.Collector(broker.port, container)
    cfg = gc.gateway_config(env, broker.port, [
        {"name": "probe", "url": f"tcp://127.0.0.1:{ports[0]}", "profile": "organtrack-module"},
        {"name": "cabin", "url": f"tcp://127.0.0.1:{ports[1]}", "profile": "xy-md02",
         "channels": {"temperature": "cabin_c", "humidity": "cabin_rh"}},
        {"name": "router", "url": f"tcp://127.0.0.1:{ports[2]}", "profile": "teltonika-rut955",
         "channels": {"latitude": "router_lat", "longitude": "router_lon",
                      "speed": "router_kmh", "satellites": "router_sats",
                      "accuracy": "router_acc"}}], container=container, interval=1000)
    cfg["spool"]["dir"] = os.path.dirname(env.path("spool-hour", ".keep"))
    gw = gc.start_gateway(env, cfg, name="gateway-hour")
    ottest.wait_for(lambda: col.count() >= 5, 30, "1 Hz warm-up")
    c0, n0, t0, w0 = sched_s(gw.pid), col.count(), time.monotonic(), write_bytes(gw.pid)
    ottest.wait_for(lambda: time.monotonic() - t0 >= seconds, seconds + 10, "the 1 Hz window",
                    interval=0.5)
    c1, n1, t1, w1 = sched_s(gw.pid), col.count(), time.monotonic(), write_bytes(gw.pid)
    readings, _, _, _ = col.snapshot()
    mem = mem_kib(gw.pid)
    rss = hwm_kib(gw.pid)
    gw.stop()
    col.close()
    sim.stop()
    got = n1 - n0
    full = sum(all(k in r for k in ("temp_c", "cabin_c", "router_lat")) for r in readings.values())
    return {"cpu_s_per_hour": (c1 - c0) / (t1 - t0) * 3600, "seconds": t1 - t0, "readings": got,
            "complete": full / max(1, len(readings)), "rss_kib": rss,
            "private_kib": mem["private"], "write_bytes_per_hour": (w1 - w0) / (t1 - t0) * 3600}


def polling_node_red(env, red, broker, mport, n):
    col = gc.Collector(broker.port, "KZ-BENCH-NR", ack=False)
    nr = node_red_start(env, red, "flow-poll.json",
                        {"MODBUS_PORT": mport, "MQTT_PORT": broker.port, "RATE_MS": 10,
                         "CONTAINER": "KZ-BENCH-NR"}, "poll")
    try:
        ottest.wait_for(lambda: col.count() >= 200, 90, "Node-RED warm-up", interval=0.2)
    except TimeoutError:
        raise RuntimeError("Node-RED flow published nothing; its log:\n" + nr.log()[-3000:])
    c0, n0, t0 = cpu_s(nr.pid), col.count(), time.monotonic()
    ottest.wait_for(lambda: col.count() >= n0 + n, n / 20 + 120, "Node-RED readings", interval=0.2)
    c1, n1, t1 = cpu_s(nr.pid), col.count(), time.monotonic()
    rss = hwm_kib(nr.pid)
    nr.stop()
    col.close()
    got = n1 - n0
    return {"cpu_per_10k": (c1 - c0) / got * 10000, "rss_kib": rss, "rate": got / (t1 - t0),
            "readings": got}


def replay_ours(env, broker, mport, bindir):
    d = os.path.dirname(env.path("spool-replay", ".keep"))
    subprocess.run([os.path.join(bindir, "gateway-spool-fill"), d, str(BACKLOG)], check=True,
                   stdout=subprocess.DEVNULL)
    col = gc.Collector(broker.port, "KZ-BENCH-REPLAY")
    cfg = gc.gateway_config(env, broker.port, [{"name": "probe", "url": f"tcp://127.0.0.1:{mport}",
                                                "timeout_ms": 200, "profile": "organtrack-module"}],
                            container="KZ-BENCH-REPLAY", interval=1000)
    cfg["spool"]["dir"] = d
    t0 = time.monotonic()
    gw = gc.start_gateway(env, cfg, name="gateway-replay")
    ottest.wait_for(lambda: col.acked >= BACKLOG, 120, "ack of the backlog", interval=0.02)
    t = time.monotonic() - t0
    cpu = cpu_s(gw.pid)
    rss = hwm_kib(gw.pid)
    gw.stop()
    readings, order, lost, _ = col.snapshot()
    col.close()
    ok = set(range(1, BACKLOG + 1)) <= set(readings)
    return {"seconds": t, "cpu_s": cpu, "rss_kib": rss, "complete": ok,
            "duplicates": len(order) - len(readings)}


def replay_node_red(env, red, bport):
    nr = node_red_start(env, red, "flow-replay.json",
                        {"MQTT_PORT": bport, "COUNT": BACKLOG, "CONTAINER": "KZ-BENCH-NRR"},
                        "replay")
    # the flow makes its 21,600 readings while the broker is down
    marker = "bench: produced"
    ottest.wait_for(lambda: marker in nr.log(), 90, "Node-RED to produce the backlog",
                    interval=0.2)
    broker = env.mosquitto(port=bport)
    col = gc.Collector(bport, "KZ-BENCH-NRR", ack=False)
    t0 = time.monotonic()
    try:
        # 30 s is ample: ours needs about 1 s for the same backlog
        ottest.wait_for(lambda: col.count() >= BACKLOG, 30, "Node-RED backlog", interval=0.05)
        t, got = time.monotonic() - t0, col.count()
    except TimeoutError:
        t, got = None, col.count()
    rss = hwm_kib(nr.pid)
    nr.stop()
    col.close()
    broker.stop()
    return {"seconds": t, "received": got, "rss_kib": rss}


def median_of(runs):
    """Per key, the median over the rounds (numbers), the first value otherwise."""
    out = {}
    for k, v in runs[0].items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out[k] = statistics.median(r[k] for r in runs)
        else:
            out[k] = v
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "bin"))
    ap.add_argument("--readings", type=int, default=int(os.environ.get("OT_BENCH_READINGS", 3000)))
    ap.add_argument("--no-node-red", action="store_true")
    ap.add_argument("--rounds", type=int, default=3,
                    help="polling rounds (ours, ours sync_ms 0, Node-RED each); medians")
    ap.add_argument("--hour-s", type=float, default=60.0,
                    help="seconds of the 1 Hz three-device run (default 60)")
    a = ap.parse_args()
    ottest.BIN = os.path.abspath(a.bin)
    res = {}
    with ottest.Env("bench-gateway") as env:
        broker = env.mosquitto()
        sim, mport = sensors(env)
        nr_error, red = None, None
        if not a.no_node_red:
            try:
                red = node_red_install()
            except Exception as e:  # noqa: BLE001 - report, keep our figures
                nr_error = f"{type(e).__name__}: {e}"
        # rounds, each measuring all three back to back, so that what the
        # (shared) machine does meanwhile weighs on all of them alike; the
        # figures are the medians over the rounds
        rounds = {"ours_poll": [], "ours_poll_sync0": [], "nr_poll": []}
        for rnd in range(a.rounds):
            log(f"round {rnd + 1}/{a.rounds}: organtrack-gateway, {a.readings} readings at 100 Hz "
                "from organtrack-sensors, spool.sync_ms 1000 (the default) and 0")
            rounds["ours_poll"].append(polling_ours(env, broker, mport, a.readings,
                                                    container=f"KZ-BENCH-POLL{rnd}"))
            rounds["ours_poll_sync0"].append(polling_ours(env, broker, mport, a.readings,
                                                          sync_ms=0,
                                                          container=f"KZ-BENCH-SYNC0-{rnd}"))
            if red and not nr_error:
                log(f"round {rnd + 1}/{a.rounds}: Node-RED 4.1.15 + node-red-contrib-modbus "
                    f"5.23.3, {a.readings} readings")
                try:
                    rounds["nr_poll"].append(polling_node_red(env, red, broker, mport,
                                                              a.readings))
                except Exception as e:  # noqa: BLE001 - report, keep our figures
                    nr_error = f"{type(e).__name__}: {e}"
        for k, v in rounds.items():
            if v:
                res[k] = median_of(v)
                res[k + "_rounds"] = v
        log(f"radio off: organtrack-gateway polling and spooling only, {a.readings} readings")
        res["ours_radio_off"] = polling_radio_off(env, mport, a.readings)
        log(f"1 Hz: organtrack-gateway with three devices for {a.hour_s:.0f} s")
        res["ours_hour"] = hour_ours(env, broker, a.hour_s)
        log(f"replay: organtrack-gateway, {BACKLOG}-reading backlog")
        res["ours_replay"] = replay_ours(env, broker, mport, ottest.BIN)
        if red and not nr_error:
            try:
                log(f"replay: Node-RED, {BACKLOG}-reading in-memory backlog")
                res["nr_replay"] = replay_node_red(env, red, ottest.free_port())
            except Exception as e:  # noqa: BLE001 - report, keep our figures
                nr_error = f"{type(e).__name__}: {e}"
        sim.stop()
        broker.stop()
    op, orp = res["ours_poll"], res["ours_replay"]
    o0, oh = res["ours_poll_sync0"], res["ours_hour"]
    log("")
    log(f"== Gateway benchmark (medians of {a.rounds} rounds) ==")
    for name, r in (("sync_ms 1000", op), ("sync_ms 0", o0)):
        log(f"organtrack-gateway polling, {name}: {r['cpu_per_10k']:.3f} s CPU per 10,000 readings, "
            f"peak RSS {r['rss_kib'] / 1024:.2f} MiB, private {r['private_kib'] / 1024:.2f} MiB "
            f"(PSS {r['pss_kib'] / 1024:.2f} MiB), {r['write_bytes_per_reading']:.0f} bytes to "
            f"storage per reading, {r['rate']:.1f} readings/s, "
            f"{r['complete'] * 100:.1f} % complete readings")
    log(f"organtrack-gateway polling and spooling only (radio off, nothing published): "
        f"{res['ours_radio_off']['cpu_per_10k']:.3f} s CPU per 10,000 readings")
    log(f"organtrack-gateway at 1 Hz, three devices: {oh['cpu_s_per_hour']:.2f} s CPU per hour "
        f"({oh['readings']} readings in {oh['seconds']:.0f} s, {oh['complete'] * 100:.0f} % with "
        f"all three devices), {oh['write_bytes_per_hour'] / 1048576:.1f} MiB to storage per hour, "
        f"peak RSS {oh['rss_kib'] / 1024:.2f} MiB, private {oh['private_kib'] / 1024:.2f} MiB")
    log(f"organtrack-gateway replay of {BACKLOG}: {orp['seconds']:.2f} s until acked "
        f"(complete={orp['complete']}, {orp['duplicates']} resent duplicates, "
        f"{orp['cpu_s']:.2f} s CPU, peak RSS {orp['rss_kib'] / 1024:.1f} MiB)")
    if "nr_poll" in res:
        np_ = res["nr_poll"]
        log(f"Node-RED polling: {np_['cpu_per_10k']:.3f} s CPU per 10,000 readings, peak RSS "
            f"{np_['rss_kib'] / 1024:.1f} MiB, {np_['rate']:.1f} readings/s")
        ratios = [n["cpu_per_10k"] / o["cpu_per_10k"]
                  for n, o in zip(res["nr_poll_rounds"], res["ours_poll_rounds"])]
        log("CPU per 10,000 readings by round: ours " +
            ", ".join(f"{r['cpu_per_10k']:.2f}" for r in res["ours_poll_rounds"]) +
            " s; sync_ms 0 " +
            ", ".join(f"{r['cpu_per_10k']:.2f}" for r in res["ours_poll_sync0_rounds"]) +
            " s; Node-RED " + ", ".join(f"{r['cpu_per_10k']:.2f}" for r in res["nr_poll_rounds"]) +
            " s; ratio per round " + ", ".join(f"{x:.1f}x" for x in ratios))
        log(f"ratio CPU per reading Node-RED/ours (medians): "
            f"{np_['cpu_per_10k'] / op['cpu_per_10k']:.1f}x"
            f" with sync_ms 1000 (target >= 20x, goal 50x), "
            f"{np_['cpu_per_10k'] / o0['cpu_per_10k']:.1f}x with sync_ms 0; "
            f"RSS Node-RED/ours: {np_['rss_kib'] / op['rss_kib']:.1f}x")
    if "nr_replay" in res:
        nrr = res["nr_replay"]
        if nrr["seconds"] is not None:
            log(f"Node-RED replay of {BACKLOG} (in memory, unacknowledged): {nrr['seconds']:.2f} s; "
                f"ratio Node-RED/ours {nrr['seconds'] / orp['seconds']:.1f}x")
        else:
            log(f"Node-RED replay: {nrr['received']} of {BACKLOG} readings arrived within 30 s "
                "(its MQTT out node drops what is published while disconnected: "
                "@node-red/nodes/core/network/10-mqtt.js, node.publish only acts if node.connected)")
    if nr_error:
        log(f"Node-RED not measured: {nr_error}")
    nr = res.get("nr_poll", {}).get("cpu_per_10k")
    targets = [("CPU <= 1/20 of Node-RED", nr is not None and nr >= 20 * op["cpu_per_10k"]),
               ("CPU <= 1/50 of Node-RED (goal)", nr is not None and nr >= 50 * op["cpu_per_10k"]),
               ("peak RSS < 5 MiB", op["rss_kib"] < 5 * 1024),
               ("6-hour backlog < 10 s", orp["seconds"] < 10 and orp["complete"])]
    for name, ok in targets:
        log(f"target {name}: {'met' if ok else 'NOT met'}")
    with open(os.path.join(ROOT, "var", "bench", "gateway.json"), "w") as f:
        json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
