"""collector_seqbound: a `lost` range or a seq jump larger than 10,000,000
past the container's last seq is refused and counted, not absorbed (issue
15). Tried: readings 1..3, then a reading with seq 2^53-1, then a batch
declaring [4, 2^53-2] lost, then a lost range of 20,000,000 seqs for an
unknown container. Before: both were accepted and moved the container's
max_seq (and the ack's horizon) to 2^53. What proves nothing was lost: the
counter rejects/seq_jump says 3, max_seq stays 3, no lost row exists, and
the next real reading (seq 4) is stored and acknowledged as 4."""
import time

import ottest
from collector_lib import Client, collector_config, counter, q1, reading, start_collector

C = "KZ-SEQ-0001"
BIG = 2 ** 53 - 1


def test():
    with ottest.Env("collector-seqbound") as env:
        broker = env.mosquitto()
        cfg = collector_config(env, broker)
        col = start_collector(env, cfg)
        cl = Client(broker.port)
        cl.state(C, 0)
        cl.readings(C, [reading(1), reading(2), reading(3)])
        cl.wait_ack(C, 3)
        cl.readings(C, [reading(BIG)])
        cl.readings(C, [reading(4)], lost=[[5, BIG - 1]])
        cl.readings("KZ-SEQ-0002", [reading(1)], lost=[[2, 20_000_001]])
        ottest.wait_for(lambda: counter(cfg, "rejects", "seq_jump") >= 3, timeout=20,
                        what="seq_jump refusals counted")
        cl.readings(C, [reading(4)])
        cl.wait_ack(C, 4)
        ottest.check(counter(cfg, "rejects", "seq_jump") == 3, "three refusals")
        mx = q1(cfg, "SELECT max_seq FROM containers WHERE container=?", (C,))
        ottest.check(mx == 4, f"max_seq stays near the real seqs: {mx}")
        n = q1(cfg, "SELECT count(*) FROM readings WHERE container=? AND seq > 4", (C,))
        ottest.check(n == 0, f"nothing stored past 4: {n}")
        lost = q1(cfg, "SELECT count(*) FROM seq_gaps WHERE kind='lost'")
        ottest.check(lost == 0, f"no lost range absorbed: {lost}")
        cl.close()
        col.stop()
        ottest.check("seq_jump" in col.log(), "refusal logged")


if __name__ == "__main__":
    ottest.main(test)
