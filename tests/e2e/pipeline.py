"""The spine, end to end, as a user runs it: sensor simulator → Modbus TCP →
gateway → MQTT (real mosquitto, credentials + ACL) → collector → SQLite → API.

The simulator's clock is frozen (time_scale 0), so the values it serves are
exactly its model's values at start_at_s, which `--dump-scenario` prints
independently. The test asserts that a reading the gateway published (seen
on the broker) arrives through the API with the same seq and the same
values, that those values are the simulator's, that the collector's ack
covers it, and that every program stops cleanly on SIGTERM."""
import json
import os
import subprocess
import threading

import ottest
import paho.mqtt.client as mqtt

ROOT = "organtrack/v1"
CONTAINER = "KZ-E2E-0001"


def test_pipeline():
    with ottest.Env("e2e-pipeline") as env:
        pw = env.mosquitto_passwd({"collector": "c-pass", "gw-e2e": "g-pass", "observer": "o-pass"})
        acl = env.path("mosquitto", "acl")
        with open(acl, "w") as f:
            f.write(f"user collector\ntopic read {ROOT}/containers/+/readings\n"
                    f"topic read {ROOT}/containers/+/state\ntopic write {ROOT}/containers/+/ack\n"
                    f"topic write {ROOT}/containers/+/alarms\n"
                    f"topic readwrite {ROOT}/collectors/+/state\n\n"
                    f"user gw-e2e\ntopic write {ROOT}/containers/{CONTAINER}/readings\n"
                    f"topic write {ROOT}/containers/{CONTAINER}/state\n"
                    f"topic read {ROOT}/containers/{CONTAINER}/ack\n\n"
                    f"user observer\ntopic read {ROOT}/#\n")
        broker = env.mosquitto(passwords=pw, acl=acl)
        murl = f"tcp://127.0.0.1:{broker.port}"
        db = env.database()

        # what the simulator's model says at t=1800 s of the kidney scenario
        scenario = os.path.join(ottest.ROOT, "sensors", "scenarios", "kidney-road.json")
        out = subprocess.run([os.path.join(ottest.BIN, "organtrack-sensors"), "--dump-scenario",
                              scenario, "--at", "1800"], capture_output=True, text=True, check=True)
        model = json.loads(out.stdout.strip().splitlines()[0])["values"]

        modbus_port = ottest.free_port()
        sensors = env.program("organtrack-sensors", {
            "devices": [{"name": "probe", "profile": "organtrack-module",
                         "url": f"tcp://127.0.0.1:{modbus_port}", "unit": 1,
                         "scenario": scenario, "start_at_s": 1800, "time_scale": 0}]},
            wait=modbus_port)

        api_port = ottest.free_port()
        api_cfg = {"listen": f"127.0.0.1:{api_port}", "database": db,
                   "preservation": os.path.join(ottest.ROOT, "config", "preservation.json"),
                   "ledger_key": env.path("var", "ledger.key")}
        collector = env.program("organtrack-collector", {
            "mqtt": {"url": murl, "client_id": "collector-e2e", "username": "collector",
                     "password": "c-pass", "topic_root": ROOT},
            "database": db, "influxdb": None,
            "preservation": os.path.join(ottest.ROOT, "config", "preservation.json"),
            "webhooks": []})
        api = env.program("organtrack-api", api_cfg, wait=api_port)
        api_cfg_path = os.path.join(env.dir, "api.json")
        tok = subprocess.run([os.path.join(ottest.BIN, "organtrack-api"), "token", "create",
                              "--role", "coordinator", "--name", "e2e-coordinator",
                              "--config", api_cfg_path],
                             capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
        base = f"http://127.0.0.1:{api_port}/api/v1"
        st, health, _ = ottest.http("GET", f"{base}/health")
        ottest.check(st == 200, f"health {st} {health}")

        st, ship, _ = ottest.http("POST", f"{base}/shipments", token=tok, body={
            "container": CONTAINER, "profile": "kidney", "donation_code": "KZ-DIN-E2E-0001",
            "cross_clamp_at": ottest.iso(ottest.now_ms() - 2 * 3600_000),  # 2 h before now
            "origin": {"name": "Oral regional hospital", "lat": 51.2333, "lon": 51.3667},
            "destination": {"name": "Aktobe", "lat": 50.2839, "lon": 57.1670}, "mode": "ground"})
        ottest.check(st == 201, f"create shipment: {st} {ship}")
        sid = ship["id"]

        # watch the broker as an observer: batches and acks
        batches, acks = [], {}
        obs = mqtt.Client(client_id="observer", clean_session=True)
        obs.username_pw_set("observer", "o-pass")
        ready = threading.Event()

        def on_message(cl, ud, m):
            if m.topic.endswith("/readings"):
                batches.append(json.loads(m.payload))
            elif m.topic.endswith("/ack"):
                acks["seq"] = json.loads(m.payload)["seq"]
        obs.on_message = on_message
        obs.on_connect = lambda cl, ud, fl, rc: (cl.subscribe(f"{ROOT}/#", qos=1), ready.set())
        obs.connect("127.0.0.1", broker.port)
        obs.loop_start()
        ottest.check(ready.wait(5), "observer connected")

        spool = env.path("var", "gateway", ".keep")
        gateway = env.program("organtrack-gateway", {
            "container": CONTAINER, "gateway": "gw-e2e",
            "mqtt": {"url": murl, "username": "gw-e2e", "password": "g-pass", "topic_root": ROOT},
            "poll_interval_ms": 200,
            "spool": {"dir": os.path.dirname(spool), "max_mb": 16},
            "devices": [{"name": "probe", "url": f"tcp://127.0.0.1:{modbus_port}", "unit": 1,
                         "timeout_ms": 500, "profile": "organtrack-module"}]})

        batch = ottest.wait_for(lambda: batches[0] if batches else None, 20, "a readings batch")
        for k in ("v", "container", "gateway", "boot", "readings"):
            ottest.check(k in batch, f"batch lacks {k}: {batch}")
        ottest.check(batch["container"] == CONTAINER and batch["gateway"] == "gw-e2e", str(batch))
        r = batch["readings"][0]

        # the published values are the simulator's model values (register resolution)
        tol = {"temp_c": 0.011, "temp2_c": 0.011, "ambient_c": 0.011, "lat": 1e-5, "lon": 1e-5,
               "speed_kmh": 0.11, "battery_pct": 1.0, "alt_m": 1.0}
        for ch in ("temp_c", "lat", "lon"):
            ottest.check(ch in model, f"simulator model lacks {ch}: {model}")
        for ch, t in tol.items():
            if ch in model and model[ch] is not None:
                ottest.check(ch in r, f"channel {ch} missing from published reading {r}")
                ottest.check(abs(r[ch] - model[ch]) <= t,
                             f"{ch}: published {r[ch]} vs simulator model {model[ch]}")

        # the same seq arrives through the API with the same values
        def api_reading():
            st, page, _ = ottest.http("GET", f"{base}/shipments/{sid}/readings?limit=500", token=tok)
            if st != 200:
                return None
            return next((x for x in page["items"] if x["seq"] == r["seq"]), None)
        got = ottest.wait_for(api_reading, 20, f"seq {r['seq']} through the API")
        for k, v in r.items():
            if isinstance(v, float):
                ottest.check(abs(got.get(k, float("nan")) - v) < 1e-9, f"{k}: api {got.get(k)} vs published {v}")
            else:
                ottest.check(got.get(k) == v, f"{k}: api {got.get(k)!r} vs published {v!r}")

        st, detail, _ = ottest.http("GET", f"{base}/shipments/{sid}", token=tok)
        ottest.check(st == 200 and detail.get("latest") and detail["latest"]["seq"] >= r["seq"],
                     f"shipment detail latest: {detail}")
        st, lst, _ = ottest.http("GET", f"{base}/shipments?status=active", token=tok)
        ottest.check(st == 200 and any(s["id"] == sid and s.get("latest") for s in lst["items"]),
                     f"active list with latest: {lst}")

        # the collector acknowledged it end to end
        ottest.wait_for(lambda: acks.get("seq", -1) >= r["seq"], 20, "ack covering the reading")
        obs.loop_stop()

        # every program stops cleanly on SIGTERM
        for p in (gateway, collector, api, sensors):
            rc = p.stop()
            ottest.check(rc == 0, f"{p.name} exited {rc} on SIGTERM")


if __name__ == "__main__":
    ottest.main(test_pipeline)
