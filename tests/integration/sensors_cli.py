"""organtrack-sensors as a program: --help/--version, bad configs rejected
with a one-line reason naming file and key, unknown keys only warned about,
--dump-scenario deterministic and consistent between a single time and a
series, the shipped config and scenarios load, SIGTERM stops it cleanly."""
import json
import os
import signal
import subprocess
import sys

import ottest
import sensors_lib as sl


def run(*argv, timeout=20):
    return subprocess.run([sl.SIM, *argv], capture_output=True, text=True, cwd=sl.ROOT,
                          timeout=timeout)


def test_sensors_cli():
    r = run("--help")
    ottest.check(r.returncode == 0 and "--config" in r.stdout, "--help")
    r = run("--version")
    ottest.check(r.returncode == 0 and r.stdout.startswith("organtrack-sensors "), "--version")
    ottest.check(run("--bogus").returncode != 0, "unknown option accepted")
    ottest.check(run().returncode != 0, "no --config accepted")

    heart = sl.scenario_path("heart-air-oral-astana")
    with ottest.Env("sensors-cli") as env:
        good = {"name": "m", "profile": "organtrack-module", "url": "tcp://127.0.0.1:1",
                "unit": 1, "scenario": heart}
        bad_cases = [
            ({"devices": []}, "devices"),
            ({"devices": [dict(good, url="udp://x:1")]}, "devices[0].url"),
            ({"devices": [dict(good, unit=300)]}, "devices[0].unit"),
            ({"devices": [dict(good, profile="no-such-profile")]}, "devices[0].profile"),
            ({"devices": [dict(good, scenario="/nonexistent.json")]}, "devices[0].scenario"),
            ({"devices": [dict(good, profile="xy-md02")]}, "temperature"),  # needs channel_source
            ({"devices": [dict(good, channel_source={"temp_c": "pressure"})]}, "temp_c"),
            ({"devices": [dict(good, channel_source={"nope": "temp_c"})]}, "nope"),
            ({"devices": [good, dict(good, name="n")]}, "devices[1].url"),
            ({"devices": [good], "tick_ms": 0}, "tick_ms"),
        ]
        for i, (cfg, key) in enumerate(bad_cases):
            path = env.write_json(f"bad{i}.json", cfg)
            r = run("--config", path)
            err = r.stderr.strip()
            ottest.check(r.returncode != 0, f"bad config {i} accepted")
            ottest.check(len(err.splitlines()) == 1 and path in err and key in err,
                         f"bad config {i}: reason {err!r} lacks file or {key!r}")
        # a scenario with an error names the scenario file and its key
        with open(heart) as f:
            s = json.load(f)
        s["route"]["legs"][1]["mode"] = "rail"
        sp = env.write_json("bad-scenario.json", s)
        r = run("--config", env.write_json("bs.json", {"devices": [dict(good, scenario=sp)]}))
        ottest.check(r.returncode != 0 and "bad-scenario.json" in r.stderr and "route.legs[1].mode" in r.stderr,
                     f"scenario error: {r.stderr!r}")

        # unknown keys: warned, not fatal; SIGTERM stops it with exit 0
        port = ottest.free_port()
        cfg = {"devices": [dict(good, url=f"tcp://127.0.0.1:{port}", colour="red")], "extra": 1}
        sim = env.program("organtrack-sensors", cfg, wait=port)
        ottest.wait_for(lambda: "unknown config key" in sim.log(), timeout=5, what="warning")
        ottest.check(sim.stop(signal.SIGTERM) == 0, "SIGTERM exit code")
        # the port is taken: exits non-zero with a reason
        blocker = env.program("organtrack-sensors", cfg, name="blocker", wait=port)
        r = run("--config", env.path("sensors.json"))
        ottest.check(r.returncode != 0 and "cannot listen" in r.stderr, f"port in use: {r.stderr!r}")
        blocker.stop(signal.SIGINT)

    # dump: deterministic, and a series agrees with single points
    a, b = sl.dump(heart, 5000), sl.dump(heart, 5000)
    ottest.check(a["values"] == b["values"], "dump not deterministic")
    series = sl.dump(heart, 4000, to=6000, step=500)
    ottest.check(len(series) == 5 and series[2]["values"] == a["values"], "series != point")
    ottest.check(run("--dump-scenario", heart, "--at", "-5").returncode != 0, "negative --at")
    ottest.check(run("--dump-scenario", heart, "--at", "5x").returncode != 0, "bad --at")

    # shipped scenarios and config load
    for name in ("heart-air-oral-astana", "kidney-road", "excursion"):
        st = sl.dump(sl.scenario_path(name), 0)
        ottest.check(st["values"]["gnss_fix"] == 3, f"{name} starts without fix")
    # the excursion scenario leaves a 2-8 degC band for longer than the kidney's
    # excursion grace IN REAL TIME (the collector's timers run on reading time)
    with open(os.path.join(sl.ROOT, "config", "preservation.json")) as f:
        pres = json.load(f)
    grace = pres["profiles"]["kidney"].get("excursion_grace_s", pres["defaults"]["excursion_grace_s"])
    with open(sl.scenario_path("excursion")) as f:
        scale = json.load(f)["time_scale"]
    ex = sl.dump(sl.scenario_path("excursion"), 0, to=6 * 3600, step=60)
    above_real = sum(60 for s in ex if s["values"]["temp_c"] > 8.0) / scale
    ottest.check(above_real >= 1.5 * grace,
                 f"excursion above 8 degC for {above_real:.0f} s real, kidney grace {grace} s")
    heart_series = sl.dump(heart, 0, to=4 * 3600, step=60)
    ottest.check(all(2.0 < s["values"]["temp_c"] < 8.0 for s in heart_series), "heart leaves band")
    ottest.check(any("link_gap" in s["faults"] and s["mode"] == "air" for s in heart_series),
                 "no link gap in flight")
    r = run("--check", "--config", os.path.join(sl.ROOT, "config", "sensors.json"))
    ottest.check(r.returncode == 0 and "devices=3" in r.stdout, f"config/sensors.json: {r.stderr}")


if __name__ == "__main__":
    ottest.main(test_sensors_cli)
    sys.exit(0)
