"""collector_kill: SIGKILL the collector under load, restart it, and let a
gateway-like publisher resend whatever the end-to-end ack does not cover.
Every reading ends in SQLite exactly once and the ack covers the last seq.
Readings published while the collector is dead are queued by the broker for
its persistent session (cleansession 0, fixed client id)."""
import time

import ottest
from collector_lib import Client, collector_config, q1, reading, start_collector

N = 3000
BATCH = 10
CONTAINERS = ["KZ-KILL-A", "KZ-KILL-B"]


def test():
    with ottest.Env("collector-kill") as env:
        broker = env.mosquitto()
        cfg = collector_config(env, broker, {"baseline_wait_s": 3})
        col = start_collector(env, cfg)
        cl = Client(broker.port)
        cl.c.max_inflight_messages_set(200)
        base_ts = int(time.time() * 1000) - N * 1000
        # A behaves like our gateway (retained birth state: nothing delivered
        # yet); B never says: its baseline is the lowest seq seen within
        # baseline_wait_s, which must survive a kill at first contact too
        cl.state(CONTAINERS[0], 0)

        def send(c, first, last):
            for s in range(first, last + 1, BATCH):
                cl.readings(c, [reading(x, ts=base_ts + x * 1000, temp=4.0 + (x % 7) / 10)
                                for x in range(s, min(s + BATCH, last + 1))])

        # first third, wait until the collector acknowledged some of it
        for c in CONTAINERS:
            send(c, 1, N // 3)
        ottest.wait_for(lambda: (cl.ack(CONTAINERS[0]) or 0) >= 200, what="first acks")
        # keep publishing while the collector is killed mid-stream
        for c in CONTAINERS:
            send(c, N // 3 + 1, 2 * N // 3)
        col.kill()
        ottest.check(not col.alive(), "collector killed")
        for c in CONTAINERS:
            send(c, 2 * N // 3 + 1, N)
        col = start_collector(env, cfg, name="collector2")

        # the gateway's part: resend what the ack does not cover once it stalls
        deadline = time.monotonic() + 60
        resends = 0
        while time.monotonic() < deadline:
            acks = [cl.ack(c) or 0 for c in CONTAINERS]
            if all(a >= N for a in acks):
                break
            time.sleep(1.0)
            if [cl.ack(c) or 0 for c in CONTAINERS] == acks:  # stalled for 1 s
                for c, a in zip(CONTAINERS, acks):
                    if a < N:
                        send(c, a + 1, N)
                        resends += 1
        for c in CONTAINERS:
            cl.wait_ack(c, N, timeout=5)
            n = q1(cfg, "SELECT count(*) FROM readings WHERE container=?", (c,))
            d = q1(cfg, "SELECT count(DISTINCT seq) FROM readings WHERE container=?", (c,))
            lo = q1(cfg, "SELECT min(seq) FROM readings WHERE container=?", (c,))
            hi = q1(cfg, "SELECT max(seq) FROM readings WHERE container=?", (c,))
            ottest.check((n, d, lo, hi) == (N, N, 1, N),
                         f"{c}: stored {n} distinct {d} range {lo}..{hi}, want {N} once each")
            ottest.check(q1(cfg, "SELECT ack_seq FROM containers WHERE container=?", (c,)) == N,
                         f"{c}: ack_seq persisted")
            ottest.check(q1(cfg, "SELECT count(*) FROM events WHERE kind='reading' AND "
                                 "container=?", (c,)) == N, f"{c}: one event per reading")
        print(f"resend rounds after restart: {resends}")
        ottest.check(col.stop() == 0, "clean exit")
        cl.close()


if __name__ == "__main__":
    ottest.main(test)
