"""collector_ingest: a real mosquitto and organtrack-collector.

Storage, de-duplication, out-of-order delivery, gaps and declared losses,
the end-to-end ack (baseline from the gateway's state, advance only over
contiguous stored or lost seqs, persisted across a restart), and hostile
payloads published by a third-party client (mosquitto_pub): the collector
survives every one and counts each by reason."""
import os
import subprocess

import ottest
from collector_lib import (TOPIC, Client, batch, collector_config, counter, q1, reading,
                           start_collector)


def pub(port, topic, payload=None, file=None, null=False):
    argv = ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", "1", "-t", topic]
    if null:
        argv.append("-n")
    elif file:
        argv += ["-f", file]
    else:
        argv += ["-m", payload]
    subprocess.run(argv, check=True, timeout=10)


def test():
    with ottest.Env("collector-ingest") as env:
        # the collector starts before the broker and connects once it is up
        port = ottest.free_port()

        class Later:
            pass
        later = Later()
        later.port = port
        cfg = collector_config(env, later)
        col = env.program("organtrack-collector", cfg, name="collector")
        ottest.wait_for(lambda: "connect failed" in col.log(), what="first connect fails")
        broker = env.mosquitto(port=port)
        ottest.wait_for(lambda: "mqtt subscribed" in col.log(), what="connected after broker start")
        cl = Client(broker.port)
        C = "KZ-TEST-0001"

        # baseline from the gateway's birth state: all <= 100 already acknowledged
        cl.state(C, 100)
        cl.wait_ack(C, 100)
        cl.readings(C, [reading(s) for s in range(101, 106)])
        cl.wait_ack(C, 105)
        ottest.check(q1(cfg, "SELECT count(*) FROM readings WHERE container=?", (C,)) == 5,
                     "5 readings stored")

        # duplicates change nothing and are counted
        cl.readings(C, [reading(s) for s in range(103, 106)])
        ottest.wait_for(lambda: counter(cfg, "duplicates") == 3, what="3 duplicates counted")

        # out of order: 108 first leaves a gap 106..107, the ack waits
        cl.readings(C, [reading(108)])
        ottest.wait_for(lambda: q1(cfg, "SELECT count(*) FROM seq_gaps WHERE container=? AND "
                                        "kind='gap' AND closed_at IS NULL", (C,)) == 1,
                        what="open gap")
        ottest.check(q1(cfg, "SELECT from_seq||'-'||to_seq FROM seq_gaps WHERE kind='gap'")
                     == "106-107", "gap is 106-107")
        # the ack must NOT move over the gap. Positive signal that the collector
        # is past the batch with 108: a later batch for another container gets
        # its ack; one worker commits and acks in order, and the broker
        # delivers one client's publishes in order, so an ack for C that
        # batch caused would have reached us first.
        cl.state("KZ-TEST-MARK", 0)
        cl.readings("KZ-TEST-MARK", [reading(1)])
        cl.wait_ack("KZ-TEST-MARK", 1)
        ottest.check(cl.ack(C) == 105, f"ack waits at the gap, got {cl.ack(C)}")
        cl.readings(C, [reading(107)])
        ottest.wait_for(lambda: q1(cfg, "SELECT from_seq||'-'||to_seq FROM seq_gaps WHERE "
                                        "kind='gap' AND closed_at IS NULL") == "106-106",
                        what="gap shrunk to 106")
        cl.readings(C, [reading(106)])
        cl.wait_ack(C, 108)
        ottest.check(q1(cfg, "SELECT count(*) FROM seq_gaps WHERE kind='gap' AND closed_at IS "
                             "NULL") == 0, "gap closed")

        # declared loss: 109 is gone for good; the ack covers it
        cl.readings(C, [reading(110)], lost=[[109, 109]])
        cl.wait_ack(C, 110)
        ottest.check(q1(cfg, "SELECT count(*) FROM seq_gaps WHERE kind='lost' AND from_seq=109")
                     == 1, "lost range recorded")

        # a container never seen, no state: baseline = first seq - 1
        cl.readings("KZ-TEST-0002", [reading(s) for s in (50, 51)])
        cl.wait_ack("KZ-TEST-0002", 51)

        # every stored reading has its event for the API stream
        ottest.check(q1(cfg, "SELECT count(*) FROM events WHERE kind='reading'") ==
                     q1(cfg, "SELECT count(*) FROM readings"), "one event per stored reading")
        ottest.check(q1(cfg, "SELECT ack_seq FROM containers WHERE container=?", (C,)) == 110,
                     "ack_seq persisted")

        # hostile payloads from a third-party client
        rt = f"{TOPIC}/containers/{C}/readings"
        big = env.path("big.json")
        ts = ottest.now_ms()
        with open(big, "w") as f:
            f.write('{"v":1,"container":"%s","gateway":"g","boot":1,"readings":[' % C)
            f.write(",".join('{"seq":%d,"ts":%d,"temp_c":4.0,"x":"%s"}' % (i, ts, "y" * 200)
                             for i in range(2000)))
            f.write("]}")
        junk = env.path("junk.bin")
        with open(junk, "wb") as f:
            f.write(os.urandom(4096))
        hostile = [
            ("json", dict(topic=rt, payload='{"v":1,"container":')),
            ("too_large", dict(topic=rt, file=big)),
            ("schema", dict(topic=rt, payload='{"v":1,"container":"%s","gateway":"g","boot":1,'
                                              '"readings":[{"seq":"1","ts":1,"temp_c":4}]}' % C)),
            ("container", dict(topic=rt, payload='{"v":1,"container":"bad container!",'
                                                 '"gateway":"g","boot":1,"readings":[]}')),
            ("topic_mismatch", dict(topic=rt, payload=batch("KZ-OTHER", [reading(999)]))),
            ("junk", dict(topic=rt, file=junk)),
            ("empty", dict(topic=rt, null=True)),
            ("topic", dict(topic=f"{TOPIC}/containers/bad.name/readings",
                           payload=batch(C, [reading(998)]))),
            ("state", dict(topic=f"{TOPIC}/containers/{C}/state", payload='{"v":1,"online":"x"}')),
            ("schema", dict(topic=rt, payload=batch(C, [reading(996)])[:-1] +
                            ', "readings": [{"seq": 995, "ts": %d, "temp_c": 4}]}' % ts)),
            ("version", dict(topic=rt, payload=batch(C, [reading(997)]).replace('"v": 1', '"v": 2'))),
        ]
        for _, kw in hostile:
            pub(broker.port, **kw)
        total = len(hostile)
        ottest.wait_for(lambda: (q1(cfg, "SELECT sum(value) FROM counters WHERE name='rejects'")
                                 or 0) == total, what=f"{total} rejects counted")
        reasons = dict(ottest_rows(cfg, "SELECT label, value FROM counters WHERE name='rejects'"))
        for r in ("too_large", "topic_mismatch", "topic", "state"):
            ottest.check(reasons.get(r, 0) >= 1, f"reject reason {r} counted: {reasons}")
        ottest.check(col.alive(), "collector survived hostile payloads")
        ottest.check(q1(cfg, "SELECT count(*) FROM readings WHERE seq>=997") == 0,
                     "nothing from hostile payloads stored")
        log = col.log()
        ottest.check("yyyyyyyy" not in log, "payloads never logged")

        # still working; clean stop; restart continues from the persisted ack
        cl.readings(C, [reading(111)])
        cl.wait_ack(C, 111)
        ottest.check(col.stop() == 0, "clean exit on SIGTERM")
        ottest.check("collector stopped" in col.log(), "stopped cleanly")
        col = start_collector(env, cfg, name="collector2")
        cl.readings(C, [reading(111), reading(112)])
        cl.wait_ack(C, 112)
        ottest.check(q1(cfg, "SELECT count(*) FROM readings WHERE container=?", (C,)) == 11,
                     "readings 101..108,110..112 stored once")
        cl.close()


def ottest_rows(cfg, sql):
    from collector_lib import db
    return db(cfg).all(sql)


if __name__ == "__main__":
    ottest.main(test)
