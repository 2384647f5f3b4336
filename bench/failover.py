"""Failover benchmark (issue 10): two organtrack-collector processes on one
PostgreSQL 15, one active and one standing by, readings flowing from three
gateways' worth of containers at 20 readings/s each. The active collector
is SIGKILLed; the figure is the time from the kill to the first ack from
the new active one (an ack for a seq above every ack seen before the kill).
The killed collector is started again (it becomes the standby) and the next
round kills the other one. Median of BENCH_ROUNDS (default 5); target under
5 s. At the end every seq sent is stored exactly once.

The publisher acts as the gateways do: QoS 1 to the broker, and when the
ack stalls for RESEND_S (1 s; a gateway's ack_timeout_ms, 10 s by default)
it sends again whatever the ack does not cover, so readings the dead
collector had taken from the broker but not committed are stored by the
new one. A round in which the killed collector held such readings
therefore includes up to one resend interval.

    bash bench/failover.sh   (OT_BIN=dir, BENCH_ROUNDS=N)"""
import json
import os
import signal
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import ottest  # noqa: E402
from collector_lib import TOPIC, Client, batch, collector_config  # noqa: E402

CONTAINERS = ["KZ-FO-1", "KZ-FO-2", "KZ-FO-3"]
RATE_HZ = 20
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
RESEND_S = 1.0  # the publisher's ack-stall resend (a gateway's ack_timeout_ms)


class Gateways:
    """Publishes one reading per container every 1/RATE_HZ s; resends from
    the ack on request."""

    def __init__(self, port):
        self.cl = Client(port, client_id="bench-failover-gw")
        self.seq = {c: 0 for c in CONTAINERS}
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _send(self, c, seqs):
        now = ottest.now_ms()
        rs = [{"seq": s, "ts": now, "temp_c": 4.2} for s in seqs]
        for k in range(0, len(rs), 100):
            self.cl.c.publish(f"{TOPIC}/containers/{c}/readings", batch(c, rs[k:k + 100]), qos=1)

    def _run(self):
        while not self.stop.is_set():
            with self.lock:
                for c in CONTAINERS:
                    self.seq[c] += 1
                    self._send(c, [self.seq[c]])
            time.sleep(1.0 / RATE_HZ)

    def resend_unacked(self):
        with self.lock:
            for c in CONTAINERS:
                a = self.cl.ack(c) or 0
                if self.seq[c] > a:
                    self._send(c, range(a + 1, self.seq[c] + 1))

    def max_ack(self):
        return {c: self.cl.ack(c) or 0 for c in CONTAINERS}

    def close(self):
        self.stop.set()
        self.t.join()


def main():
    with ottest.Env("bench-failover") as env:
        broker = env.mosquitto()
        pg = env.postgres()
        cfgs = {}
        for name in ("a", "b"):
            cfg = collector_config(env, broker, {"instance": f"collector-{name}",
                                                 "database": pg.url})
            cfg["mqtt"]["client_id"] = "organtrack-collector"
            cfgs[name] = cfg
        procs = {"a": env.program("organtrack-collector", cfgs["a"], name="collector-a")}
        ottest.wait_for(lambda: "mqtt subscribed" in procs["a"].log(), 20, "a active")
        procs["b"] = env.program("organtrack-collector", cfgs["b"], name="collector-b")
        ottest.wait_for(lambda: "standing by" in procs["b"].log(), 20, "b standing by")
        gw = Gateways(broker.port)
        ottest.wait_for(lambda: all(v > 0 for v in gw.max_ack().values()), 20, "first acks")
        active, standby = "a", "b"
        times = []
        for r in range(ROUNDS):
            time.sleep(1.0)  # readings flowing and acked
            before = gw.max_ack()
            t0 = time.monotonic()
            os.kill(procs[active].p.pid, signal.SIGKILL)
            procs[active].p.wait()

            last_resend = [time.monotonic()]

            def new_ack():
                now = gw.max_ack()
                if any(now[c] > before[c] for c in CONTAINERS):
                    return True
                # readings the dead collector took from the broker but never
                # committed: resend from the ack, as a gateway does on a stall
                if time.monotonic() - last_resend[0] > RESEND_S:
                    gw.resend_unacked()
                    last_resend[0] = time.monotonic()
                return False
            ottest.wait_for(new_ack, 30, f"round {r + 1}: first ack from collector-{standby}")
            dt = time.monotonic() - t0
            times.append(dt)
            print(f"round {r + 1}: collector-{active} killed, collector-{standby} acked after "
                  f"{dt:.2f} s", flush=True)
            gw.resend_unacked()
            procs[active] = env.program("organtrack-collector", cfgs[active],
                                        name=f"collector-{active}-{r + 2}")
            ottest.wait_for(lambda: "standing by" in procs[active].log(), 20, "restarted: standby")
            active, standby = standby, active
        gw.close()
        time.sleep(0.5)
        gw.resend_unacked()
        want = dict(gw.seq)
        ottest.wait_for(lambda: all(gw.max_ack()[c] >= want[c] for c in CONTAINERS), 30,
                        "everything acked at the end")
        db = ottest.Db(pg.url)
        for c in CONTAINERS:
            n, d, hi = db.all("SELECT count(*), count(DISTINCT seq), max(seq) FROM readings"
                              " WHERE container = ?", (c,))[0]
            ottest.check(n == d == hi == want[c],
                         f"{c}: stored {n}, distinct {d}, max {hi}, sent {want[c]}")
        gw.cl.close()
        print(f"failover (SIGKILL of the active collector -> first ack from the standby), "
              f"{ROUNDS} rounds: median {statistics.median(times):.2f} s, max {max(times):.2f} s "
              f"(target < 5 s); every seq stored exactly once "
              f"({sum(want.values())} readings, {len(CONTAINERS)} containers)")


if __name__ == "__main__":
    main()
