"""Helpers shared by the collector integration tests (not a test itself)."""
import json
import os
import threading
import time

import paho.mqtt.client as mqtt

import ottest

ROOT = ottest.ROOT
TOPIC = "organtrack/v1"
# km per degree of latitude on the collector's Earth (common/ot_geo.c,
# radius 6371.0088 km): the clinical tests lay their routes due north
# along lon 60 from lat 45, so a distance is a latitude
KM_DEG = 111.19508


def place(name, km, **extra):
    """A place km north of (45, 60), as the shipment and legs JSON take it."""
    p = {"name": name, "lat": round(45.0 + km / KM_DEG, 6), "lon": 60.0}
    p.update(extra)
    return p


def collector_config(env, broker, extra=None):
    cfg = {
        "mqtt": {"url": f"tcp://127.0.0.1:{broker.port}", "client_id": "collector-test"},
        "database": env.database(),
        "influxdb": None,
        "preservation": os.path.join(ROOT, "config", "preservation.json"),
        "webhooks": [],
        "tick_ms": 200,
        "ack_poll_ms": 200,
        "baseline_wait_s": 1,
    }
    if extra:
        cfg.update(extra)
    return cfg


def start_collector(env, cfg, name="collector"):
    proc = env.program("organtrack-collector", cfg, name=name)
    ottest.wait_for(lambda: "mqtt subscribed" in proc.log() or not proc.alive(), timeout=20,
                    what="collector subscribed")
    ottest.check(proc.alive(), "collector died at start:\n" + proc.log()[-3000:])
    return proc


def db(cfg):
    """The collector's database, either backend (ottest.Db: ? placeholders)."""
    return ottest.Db(cfg["database"])


def q1(cfg, sql, args=()):
    return db(cfg).q1(sql, args)


def counter(cfg, name, label=""):
    return q1(cfg, "SELECT value FROM counters WHERE name=? AND label=?", (name, label)) or 0


def reading(seq, ts=None, temp=4.2, **extra):
    r = {"seq": seq, "ts": ts if ts is not None else int(time.time() * 1000), "temp_c": temp}
    r.update(extra)
    return r


def batch(container, readings, gateway="gw-1", boot=1, lost=None):
    b = {"v": 1, "container": container, "gateway": gateway, "boot": boot, "readings": readings}
    if lost:
        b["lost"] = lost
    return json.dumps(b)


class Client:
    """A python paho client that records the retained ack and alarms topics."""

    def __init__(self, port, client_id="test-client"):
        self.acks = {}
        self.alarms = {}
        self.lock = threading.Lock()
        self.c = mqtt.Client(client_id=client_id, clean_session=True)
        self.c.on_message = self._on_message
        self.c.connect("127.0.0.1", port)
        self.c.subscribe(f"{TOPIC}/containers/+/ack", qos=1)
        self.c.subscribe(f"{TOPIC}/containers/+/alarms", qos=1)
        self.c.loop_start()

    def _on_message(self, c, u, msg):
        parts = msg.topic.split("/")
        try:
            body = json.loads(msg.payload)
        except ValueError:
            return
        with self.lock:
            if parts[-1] == "ack":
                self.acks[parts[-2]] = body["seq"]
            elif parts[-1] == "alarms":
                self.alarms[parts[-2]] = body

    def ack(self, container):
        with self.lock:
            return self.acks.get(container)

    def publish(self, topic, payload, qos=1, retain=False):
        info = self.c.publish(topic, payload, qos=qos, retain=retain)
        info.wait_for_publish()

    def readings(self, container, readings, **kw):
        self.publish(f"{TOPIC}/containers/{container}/readings", batch(container, readings, **kw))

    def state(self, container, seq, online=True, gateway="gw-1", boot=1):
        self.publish(f"{TOPIC}/containers/{container}/state",
                     json.dumps({"v": 1, "container": container, "gateway": gateway,
                                 "online": online, "ts": int(time.time() * 1000), "boot": boot,
                                 "seq": seq}), retain=True)

    def wait_ack(self, container, seq, timeout=20):
        return ottest.wait_for(lambda: (self.ack(container) or -1) >= seq, timeout=timeout,
                               what=f"ack {container} >= {seq} (have {self.ack(container)})")

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()
