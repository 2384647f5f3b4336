"""collector_pg_failover: the PostgreSQL primary goes away under a running
collector and a streaming replica is promoted (always on PostgreSQL,
whatever OT_DB says: it needs two servers).

Tried: a collector on a multi-host URI (primary, replica;
target_session_attrs=read-write) while a gateway-like client publishes
readings of two containers; the primary is stopped mid-stream and the
replica promoted a little later. Proved: the collector notices the lost
session, disconnects from the broker (its retained state says
active:false) and keeps trying; once the replica accepts writes it
reconnects there, is active again, and the ack moves on. Every seq that
was acknowledged before the primary stopped is on the new primary; after
the client's resend of what the ack did not cover, every seq is stored
exactly once and acknowledged."""
import json
import threading
import time

import paho.mqtt.client as mqtt

import ottest
from collector_lib import TOPIC, Client, batch, collector_config, start_collector

CONTAINERS = ["KZ-PGF-1", "KZ-PGF-2"]
RATE_HZ = 20


def test():
    with ottest.Env("collector-pg-failover") as env:
        broker = env.mosquitto()
        primary = env.postgres("pg1")
        replica = env.postgres("pg2", primary=primary)
        uri = (f"postgresql://organtrack:{ottest.PG_PASSWORD}@127.0.0.1:{primary.port},"
               f"127.0.0.1:{replica.port}/organtrack?target_session_attrs=read-write"
               "&connect_timeout=2")
        cfg = collector_config(env, broker, {"database": uri, "instance": "collector-a",
                                             "baseline_wait_s": 0})
        states = {}
        sc = mqtt.Client(client_id="pgf-states", clean_session=True)
        sc.on_message = lambda c, u, m: states.__setitem__(m.topic.split("/")[-2],
                                                           json.loads(m.payload))
        sc.connect("127.0.0.1", broker.port)
        sc.subscribe(f"{TOPIC}/collectors/+/state", qos=1)
        sc.loop_start()
        col = start_collector(env, cfg)

        cl = Client(broker.port, client_id="pgf-gw")
        cl.c.max_inflight_messages_set(200)
        seq = {c: 0 for c in CONTAINERS}
        sent_ts = {}
        stop = threading.Event()
        lock = threading.Lock()

        def send(c, seqs):
            rs = [{"seq": s, "ts": sent_ts[(c, s)], "temp_c": 4.2} for s in seqs]
            for k in range(0, len(rs), 50):
                cl.c.publish(f"{TOPIC}/containers/{c}/readings", batch(c, rs[k:k + 50]), qos=1)

        def run():
            while not stop.is_set():
                with lock:
                    for c in CONTAINERS:
                        seq[c] += 1
                        sent_ts[(c, seq[c])] = ottest.now_ms()
                        send(c, [seq[c]])
                time.sleep(1.0 / RATE_HZ)
        t = threading.Thread(target=run, daemon=True)
        t.start()
        ottest.wait_for(lambda: all((cl.ack(c) or 0) > 40 for c in CONTAINERS), 20, "acks")
        ottest.wait_for(lambda: states.get("collector-a", {}).get("active") is True, 10,
                        "state says active")

        rdb = ottest.Db(replica.url)
        check_upto = {c: cl.ack(c) for c in CONTAINERS}
        ottest.check(primary.stop() == 0, "primary stopped (fast shutdown)")
        ottest.wait_for(lambda: "collector no longer active: database session lost" in col.log(),
                        20, "collector notices the lost session")
        ottest.wait_for(lambda: states.get("collector-a", {}).get("active") is False, 10,
                        "state says inactive while the database is away")
        ottest.check(col.alive(), "collector keeps running")
        # disconnected from the broker: nothing can be acknowledged past this
        acked = {c: cl.ack(c) for c in CONTAINERS}
        replica.promote()
        for c in CONTAINERS:
            n = rdb.q1("SELECT count(DISTINCT seq) FROM readings WHERE container=? AND seq<=?",
                       (c, acked[c]))
            ottest.check(n == acked[c], f"{c}: {acked[c]} acknowledged, {n} on the new primary")
        ottest.check(all(acked[c] >= check_upto[c] for c in CONTAINERS), "acks monotonic")
        ottest.wait_for(lambda: any((cl.ack(c) or 0) > acked[c] for c in CONTAINERS), 30,
                        "ack moves on with the new primary")
        ottest.check("database back after" in col.log() or "database reconnected" in col.log(),
                     "reconnect logged")
        stop.set()
        t.join()

        want = dict(seq)

        def all_acked():
            return all((cl.ack(c) or 0) >= want[c] for c in CONTAINERS)
        for _ in range(30):
            with lock:
                for c in CONTAINERS:
                    a = cl.ack(c) or 0
                    if a < want[c]:
                        send(c, range(a + 1, want[c] + 1))
            try:
                ottest.wait_for(all_acked, 2, "everything acknowledged")
                break
            except TimeoutError:
                pass
        for c in CONTAINERS:
            cl.wait_ack(c, want[c], timeout=5)
            n, d, lo, hi = rdb.all("SELECT count(*), count(DISTINCT seq), min(seq), max(seq) "
                                   "FROM readings WHERE container=?", (c,))[0]
            ottest.check((n, d, lo, hi) == (want[c], want[c], 1, want[c]),
                         f"{c}: stored {n} distinct {d} {lo}..{hi}, sent 1..{want[c]}")
        ottest.check(states.get("collector-a", {}).get("active") is True, "active again")
        print(f"acknowledged before the primary stopped: {acked}; sent in all: {want}")
        ottest.check(col.stop() == 0, "clean exit")
        cl.close()
        sc.loop_stop()
        sc.disconnect()


if __name__ == "__main__":
    ottest.main(test)
