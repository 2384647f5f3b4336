"""collector_standby: two collectors on one PostgreSQL, one active, one
standing by (SPEC v1.1 "Storage").

Tried (OT_DB=postgresql): collectors a and b share mqtt.client_id; a is
active, b stands by without connecting under the shared client id; three
gateways' readings flow (two live at 20 readings/s, the third a kidney
shipment of cryopreserved tissue); a is SIGKILLed; while no collector is
active the third gateway delivers a backlog whose temperature leaves the
band for longer than the profile's 300 s grace. Proved: b takes over within 5 s (kill to the first ack above every
ack seen before); the retained collectors/{instance}/state topics say a
inactive (its last will) and b active; after the gateways' resend of what
the ack did not cover, every seq is stored exactly once; the excursion is
raised exactly once, at the reading time of the reading that crossed the
grace; a restarted a stands by naming b as the active one.

On SQLite (the default run) there is no standby: a second collector on the
same database file refuses to start with one clear line, and the first one
keeps running and says it is active."""
import json
import os
import signal
import threading
import time

import paho.mqtt.client as mqtt

import ottest
from collector_lib import TOPIC, Client, batch, collector_config, q1, start_collector

LIVE = ["KZ-SB-LIVE-1", "KZ-SB-LIVE-2"]
SHIP = "KZ-SB-KIDNEY"
RATE_HZ = 20
STEP_MS = 10000  # reading time between two of SHIP's readings (a replayed backlog)
BEFORE = 30      # SHIP's readings stored before the kill (in band)
FIRST_OUT = 31   # out of band from here
LAST = 90
PROFILE = "cryopreserved_tissue"  # band -196..-135 °C, excursion_grace_s 300
RAISES_AT = FIRST_OUT + 300000 // STEP_MS  # the first reading 300 s after the excursion began


class States:
    """Follows the retained organtrack/v1/collectors/+/state topics."""

    def __init__(self, port):
        self.s = {}
        self.lock = threading.Lock()
        self.c = mqtt.Client(client_id="standby-test-states", clean_session=True)
        self.c.on_message = self._on
        self.c.connect("127.0.0.1", port)
        self.c.subscribe(f"{TOPIC}/collectors/+/state", qos=1)
        self.c.loop_start()

    def _on(self, c, u, msg):
        with self.lock:
            self.s[msg.topic.split("/")[-2]] = json.loads(msg.payload)

    def active(self, inst):
        with self.lock:
            st = self.s.get(inst)
            return None if st is None else st["active"]

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()


class Gateways:
    """The live containers publish one reading each every 1/RATE_HZ s; like
    a gateway's spool, resend() sends again what the ack does not cover."""

    def __init__(self, port):
        self.cl = Client(port, client_id="standby-test-gw")
        self.cl.c.max_inflight_messages_set(200)
        self.seq = {c: 0 for c in LIVE}
        self.sent = {}  # container -> {seq: reading} of everything sent
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.t = threading.Thread(target=self._run, daemon=True)

    def send(self, c, readings):
        with self.lock:
            for r in readings:
                self.sent.setdefault(c, {})[r["seq"]] = r
        for k in range(0, len(readings), 50):
            self.cl.c.publish(f"{TOPIC}/containers/{c}/readings", batch(c, readings[k:k + 50]),
                              qos=1)

    def _run(self):
        while not self.stop.is_set():
            for c in LIVE:
                with self.lock:
                    self.seq[c] += 1
                    s = self.seq[c]
                self.send(c, [{"seq": s, "ts": ottest.now_ms(), "temp_c": 4.2}])
            time.sleep(1.0 / RATE_HZ)

    def resend(self):
        for c, rs in list(self.sent.items()):
            a = self.cl.ack(c) or 0
            with self.lock:
                todo = [rs[s] for s in sorted(rs) if s > a]
            if todo:
                self.send(c, todo)

    def acks(self):
        return {c: self.cl.ack(c) or 0 for c in list(self.sent)}

    def close(self):
        self.stop.set()
        self.t.join()
        self.cl.close()


def sqlite_refusal(env):
    broker = env.mosquitto()
    cfg = collector_config(env, broker, {"instance": "collector-a"})
    states = States(broker.port)
    a = start_collector(env, cfg, name="collector-a")
    ottest.wait_for(lambda: states.active("collector-a") is True, 10, "a says active")
    b_cfg = dict(cfg, instance="collector-b")
    b = env.program("organtrack-collector", b_cfg, name="collector-b")
    code = b.p.wait(timeout=20)
    ottest.check(code != 0, "a second collector on the same SQLite file must not start")
    lines = [ln for ln in b.log().splitlines() if "another collector is running" in ln]
    ottest.check(len(lines) == 1 and "database=" in lines[0],
                 f"one clear line naming the database: {b.log()[-800:]}")
    ottest.check(a.alive(), "the first collector keeps running")
    ottest.check("collector active instance=collector-a" in a.log(), "a logs that it is active")
    ottest.check(states.active("collector-b") is None, "b never published a state")
    ottest.check(a.stop() == 0, "clean exit")
    ottest.wait_for(lambda: states.active("collector-a") is False, 10, "a says inactive on exit")
    states.close()


def postgres_failover(env):
    broker = env.mosquitto()
    database = env.database()
    cfgs = {}
    for n in ("a", "b"):
        cfgs[n] = collector_config(env, broker, {"instance": f"collector-{n}",
                                                 "database": database, "baseline_wait_s": 0})
        cfgs[n]["mqtt"]["client_id"] = "organtrack-collector"
    states = States(broker.port)
    a = start_collector(env, cfgs["a"], name="collector-a")
    ottest.wait_for(lambda: "collector active instance=collector-a" in a.log(), 10, "a active")
    b = env.program("organtrack-collector", cfgs["b"], name="collector-b")
    ottest.wait_for(lambda: "collector standing by instance=collector-b active=collector-a"
                    in b.log(), 20, "b standing by, naming a")
    ottest.wait_for(lambda: states.active("collector-a") is True and
                    states.active("collector-b") is False, 10, "states: a active, b standing by")

    db = ottest.Db(database)
    now = ottest.now_ms()
    t0 = now - (LAST + 10) * STEP_MS  # SHIP's backlog ends 100 s before now
    ts = {i: t0 + i * STEP_MS for i in range(1, LAST + 1)}
    ship = db.insert("INSERT INTO shipments(container,profile,donation_code,cross_clamp_at,"
                     "dest_lat,dest_lon,mode,status,created_at,created_by,updated_at) VALUES"
                     "(?,?,?,?,?,?,?,?,?,?,?)",
                     (SHIP, PROFILE, "DIN-SB-1", now - 3600000, 51.13, 71.43,
                      "ground", "in_transit", now, "test", now))
    gw = Gateways(broker.port)

    def ship_readings(lo, hi):
        return [{"seq": i, "ts": ts[i], "temp_c": -120.0 if i >= FIRST_OUT else -150.0,
                 "lat": 51.2, "lon": 51.37, "speed_kmh": 60.0, "gnss_fix": 3}
                for i in range(lo, hi + 1)]
    gw.send(SHIP, ship_readings(1, BEFORE))
    gw.t.start()
    ottest.wait_for(lambda: all(gw.acks().get(c, 0) > 20 for c in LIVE)
                    and gw.acks().get(SHIP, 0) >= BEFORE, 20, "acks from a")
    ottest.check("mqtt connected" not in b.log(), "the standby never connected under the "
                 "shared client id")

    before = gw.acks()
    t_kill = time.monotonic()
    os.kill(a.pid, signal.SIGKILL)
    a.p.wait()
    # while nobody is active: the kidney container's backlog with the excursion
    gw.send(SHIP, ship_readings(BEFORE + 1, LAST))
    ottest.wait_for(lambda: any(v > before.get(c, 0) for c, v in gw.acks().items()), 10,
                    "first ack from b")
    took = time.monotonic() - t_kill
    print(f"takeover: SIGKILL of a -> first new ack from b after {took:.2f} s")
    ottest.check(took < 5.0, f"standby took over in {took:.2f} s, want < 5 s")
    ottest.check("collector active instance=collector-b" in b.log(), "b says it is active")
    ottest.wait_for(lambda: states.active("collector-a") is False and
                    states.active("collector-b") is True, 10, "states: a inactive (will), b active")

    # live readings keep flowing under b for a while, then stop; the gateways
    # resend what the ack does not cover (as their spools do when it stalls)
    # until everything is acknowledged
    after = gw.acks()
    ottest.wait_for(lambda: all(gw.acks()[c] >= after[c] + 20 for c in LIVE), 20,
                    "live readings acknowledged by b")
    gw.stop.set()
    gw.t.join()
    want = {c: max(rs) for c, rs in gw.sent.items()}

    def all_acked():
        return all(gw.acks().get(c, 0) >= want[c] for c in want)
    for _ in range(30):
        gw.resend()
        try:
            ottest.wait_for(all_acked, 2, "everything acknowledged")
            break
        except TimeoutError:
            pass
    for c in want:
        gw.cl.wait_ack(c, want[c], timeout=5)
        n, d, lo, hi = db.all("SELECT count(*), count(DISTINCT seq), min(seq), max(seq) FROM "
                              "readings WHERE container=?", (c,))[0]
        ottest.check((n, d, lo, hi) == (want[c], want[c], 1, want[c]),
                     f"{c}: stored {n}, distinct {d}, {lo}..{hi}; sent 1..{want[c]}")
    alarms = db.all("SELECT raised_at, late FROM alarms WHERE shipment_id=? AND "
                    "type='temp_excursion'", (ship,))
    ottest.check(len(alarms) == 1, f"the excursion raised exactly once: {alarms}")
    ottest.check(alarms[0][0] == ts[RAISES_AT],
                 f"raised at the reading time of seq {RAISES_AT}: {alarms[0][0] - ts[RAISES_AT]}"
                 " ms off")

    # a comes back: it stands by, naming b
    a2 = env.program("organtrack-collector", cfgs["a"], name="collector-a2")
    ottest.wait_for(lambda: "collector standing by instance=collector-a active=collector-b"
                    in a2.log(), 20, "restarted a stands by, naming b")
    ottest.wait_for(lambda: states.active("collector-a") is False, 10, "a says standing by")
    ottest.check(q1(cfgs["a"], "SELECT value FROM counters WHERE name='collector' AND "
                    "label='activations'") == 2, "two activations: a, then b")
    ottest.check(b.stop() == 0 and a2.stop() == 0, "clean exits")
    gw.cl.close()
    states.close()


def test():
    with ottest.Env("collector-standby") as env:
        if os.environ.get("OT_DB", "sqlite") == "sqlite":
            sqlite_refusal(env)
        else:
            postgres_failover(env)


if __name__ == "__main__":
    ottest.main(test)
