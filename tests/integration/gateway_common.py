"""Shared helpers of the gateway integration tests: a pymodbus server per
device, a register encoder written independently of common/ot_profile.c, a
fake collector that stores readings and publishes the retained ack, and the
gateway config."""
import json
import os
import struct
import subprocess
import threading
import time

import paho.mqtt.client as mqtt

import ottest

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"  # Debian's python has pymodbus 3.0
PROFILES = os.path.join(ottest.ROOT, "sensors", "profiles")


def load_profile(name):
    with open(os.path.join(PROFILES, name + ".json")) as f:
        return json.load(f)


def encode(ch, value):
    """Registers (list of u16) for a channel value; our own, from the SPEC."""
    t = ch["type"]
    if t == "bool":
        return [1 if value else 0]
    scale, off = ch.get("scale", 1), ch.get("offset", 0)
    if t == "f32":
        b = struct.pack(">f", (value - off) / scale)
    else:
        raw = int(round((value - off) / scale))
        fmt = {"u16": ">H", "i16": ">h", "u32": ">I", "i32": ">i"}[t]
        b = struct.pack(fmt, raw)
    words = [int.from_bytes(b[i:i + 2], "big") for i in range(0, len(b), 2)]
    if len(words) == 2 and ch.get("word_order", "big") == "little":
        words.reverse()
    return words


def expected(ch, value):
    """What a correct gateway publishes for value (after register quantisation)."""
    t = ch["type"]
    if t == "bool":
        return bool(value)
    scale, off = ch.get("scale", 1), ch.get("offset", 0)
    if t == "f32":
        return struct.unpack(">f", struct.pack(">f", (value - off) / scale))[0] * scale + off
    return int(round((value - off) / scale)) * scale + off


def spec_for(profile, values, unit=1, extra=None):
    """Server spec (see gateway_mbserver.py) holding values {channel: value}."""
    tables = {"coil": {}, "discrete": {}, "holding": {}, "input": {}}
    for ch in profile["channels"]:
        if ch["name"] not in values:
            continue
        for i, w in enumerate(encode(ch, values[ch["name"]])):
            tables[ch["function"]][str(ch["address"] + i)] = w
    spec = {"unit": unit, **tables}
    if extra:
        spec.update(extra)
    return spec


class ModbusServer:
    def __init__(self, env, name, spec, rtu_path=None):
        self.env, self.name = env, name
        self.spec_path = env.write_json(f"{name}-spec.json", spec)
        if rtu_path:
            self.url = f"rtu:{rtu_path}"
            self.proc = None
        else:
            self.port = ottest.free_port()
            self.url = f"tcp://127.0.0.1:{self.port}"
        self.start(rtu_path)

    def start(self, rtu_path=None):
        if rtu_path is None and hasattr(self, "port"):
            self.proc = self.env.spawn(self.name, [PY, os.path.join(HERE, "gateway_mbserver.py"),
                                                   "--tcp", str(self.port), self.spec_path])
            ottest.wait_port(self.port, proc=self.proc.p)
        else:
            self.proc = self.env.spawn(self.name, [PY, os.path.join(HERE, "gateway_mbserver.py"),
                                                   "--rtu", rtu_path, self.spec_path])

    def update(self, spec):
        tmp = self.spec_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(spec, f)
        os.replace(tmp, self.spec_path)

    def stop(self):
        self.proc.stop()


class Collector:
    """Plays the collector: stores readings by seq, checks batches, publishes
    the retained ack {"v":1,"container":C,"seq":N} for the contiguous prefix
    (received or declared lost). ack=False: store only, never ack."""

    def __init__(self, port, container, root="organtrack/v1", ack=True, user=None, password=None):
        self.container, self.root, self.do_ack = container, root, ack
        self.lock = threading.Lock()
        self.readings = {}      # seq -> reading
        self.order = []         # seqs in arrival order (with duplicates)
        self.lost = set()
        self.batches = 0
        self.states = []
        self.events = []        # ("state", dict) and ("reading", seq) in arrival order
        self.acked = 0
        self.errors = []
        # a persistent session: while this client reconnects, the broker queues
        # what the gateway publishes, so arrival order is publication order
        self.c = mqtt.Client(client_id=f"fake-collector-{container}", clean_session=False)
        self.c.reconnect_delay_set(min_delay=1, max_delay=1)
        if user:
            self.c.username_pw_set(user, password)
        self.c.on_message = self._on_message
        self.c.on_connect = self._on_connect
        self.c.connect("127.0.0.1", port, keepalive=10)
        self.c.loop_start()

    def _on_connect(self, c, u, f, rc):
        c.subscribe(f"{self.root}/containers/{self.container}/readings", qos=1)
        c.subscribe(f"{self.root}/containers/{self.container}/state", qos=1)

    def _on_message(self, c, u, msg):
        try:
            d = json.loads(msg.payload)
        except ValueError as e:
            self.errors.append(f"bad json: {e}")
            return
        with self.lock:
            if msg.topic.endswith("/state"):
                self.states.append(d)
                self.events.append(("state", d))
                return
            self.batches += 1
            prev = None
            for r in d["readings"]:
                if prev is not None and r["seq"] <= prev:
                    self.errors.append(f"batch not in seq order: {prev} then {r['seq']}")
                prev = r["seq"]
                old = self.readings.get(r["seq"])
                if old is not None and old != r:
                    self.errors.append(f"seq {r['seq']} reused for a different reading")
                self.readings[r["seq"]] = r
                self.order.append(r["seq"])
                self.events.append(("reading", r["seq"]))
            for a, b in d.get("lost", []):
                self.lost.update(range(a, b + 1))
            if self.do_ack:
                n = self.acked
                while (n + 1) in self.readings or (n + 1) in self.lost:
                    n += 1
                if n > self.acked:
                    self.acked = n
                    c.publish(f"{self.root}/containers/{self.container}/ack",
                              json.dumps({"v": 1, "container": self.container, "seq": n}),
                              qos=1, retain=True)

    def publish_limits(self, limits):
        """Plays the collector's retained limits (SPEC v1.1); None clears them."""
        payload = "" if limits is None else json.dumps(limits)
        self.c.publish(f"{self.root}/containers/{self.container}/limits", payload, qos=1,
                       retain=True).wait_for_publish(5)

    def count(self):
        with self.lock:
            return len(self.readings)

    def snapshot(self):
        with self.lock:
            return dict(self.readings), list(self.order), set(self.lost), list(self.states)

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()


def gateway_config(env, broker_port, devices, container="KZ-T-0001", interval=100, **kw):
    cfg = {"container": container, "gateway": "gw-test-01",
           "mqtt": {"url": f"tcp://127.0.0.1:{broker_port}", "keepalive_s": 2,
                    "connect_timeout_s": 2},
           "poll_interval_ms": interval, "ack_timeout_ms": kw.pop("ack_timeout_ms", 3000),
           "spool": {"dir": env.path("spool", "gw"), "max_mb": kw.pop("max_mb", 16)},
           "devices": devices}
    cfg["spool"]["dir"] = os.path.dirname(env.path("spool", "gw", ".keep"))
    cfg.update(kw)
    return cfg


def status(env, name="gateway"):
    """The gateway's status (organtrack-gateway status --json --config
    <name>.json): live from the running gateway over its status socket, else
    the status file it left when it stopped; None when there is neither."""
    r = subprocess.run([os.path.join(ottest.BIN, "organtrack-gateway"), "status", "--json",
                        "--config", env.path(f"{name}.json")],
                       capture_output=True, text=True, timeout=10, cwd=ottest.ROOT)
    try:
        return json.loads(r.stdout)
    except ValueError:
        return None


def start_gateway(env, cfg, name="gateway"):
    return env.program("organtrack-gateway", cfg, args=("--log-level", "info"), name=name)


def limits(container, tmin=2.0, tmax=8.0, grace_s=600, shipment=17, profile="kidney"):
    return {"v": 1, "container": container, "shipment": shipment, "profile": profile,
            "temp_min_c": tmin, "temp_max_c": tmax, "excursion_grace_s": grace_s,
            "ts": ottest.now_ms()}


def log_ts(log, needle, after=0.0):
    """Epoch seconds of the first log line containing needle (at or after
    `after`), from the line's own timestamp; None if there is none."""
    import datetime
    for line in log.splitlines():
        if needle in line:
            t = datetime.datetime.strptime(line.split(" ", 1)[0], "%Y-%m-%dT%H:%M:%S.%fZ")
            ts = t.replace(tzinfo=datetime.timezone.utc).timestamp()
            if ts >= after:
                return ts
    return None


def spool_dir(cfg):
    return cfg["spool"]["dir"]


def contiguous(seqs):
    s = sorted(seqs)
    return s == list(range(s[0], s[-1] + 1)) if s else True
