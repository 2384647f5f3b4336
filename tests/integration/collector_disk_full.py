"""A full disk under the collector loses nothing.

Tried: the collector runs with a file-size limit (RLIMIT_FSIZE, SIGXFSZ
ignored, so SQLite's writes fail with EFBIG exactly as on a full disk)
while a gateway-like client publishes 3,000 readings. Proved: the collector
keeps running and says why, its ack never covers a reading it did not
store, and after the disk has room again (restart without the limit) the
client's resend of everything the ack does not cover ends with every seq
stored exactly once and acknowledged."""
import os
import sys

import collector_lib as cl
import ottest

C = "KZ-FULL-1"
N = 3000
LIMIT = 600 * 1024  # bytes any one file of the collector may reach

WRAP = ("import os, resource, signal, sys;"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN);"
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({LIMIT}, {LIMIT}));"
        "os.execv(sys.argv[1], sys.argv[1:])")


def send(cli, first, last, t0):
    for a in range(first, last + 1, 50):
        cli.readings(C, [cl.reading(s, ts=t0 + s * 1000) for s in range(a, min(a + 49, last) + 1)])


def stored(cfg):
    return cl.q1(cfg, "SELECT count(*) FROM readings WHERE container=?", (C,)) or 0


def test_disk_full():
    with ottest.Env("collector-diskfull") as env:
        broker = env.mosquitto()
        cfg = cl.collector_config(env, broker)
        cfg_path = env.write_json("collector.json", cfg)
        limited = env.spawn("collector-full", [sys.executable, "-c", WRAP,
                                               os.path.join(ottest.BIN, "organtrack-collector"),
                                               "--config", cfg_path])
        ottest.wait_for(lambda: "mqtt subscribed" in limited.log() or not limited.alive(), 20,
                        "collector subscribed")
        cli = cl.Client(broker.port, "gw-diskfull")
        cli.state(C, 0)
        t0 = ottest.now_ms() - 3600_000  # an hour of backlog, whatever the day
        send(cli, 1, N, t0)
#the disk fills up part - way : the collector says so and stays up
        ottest.wait_for(lambda: "not stored" in limited.log() or "disk" in limited.log().lower()
                        or "full" in limited.log().lower(), 60, "the collector reporting the full disk")
        ottest.check(limited.alive(), "collector died on a full disk:\n" + limited.log()[-2000:])
        acked = cli.ack(C) or 0
        have = stored(cfg)
        ottest.check(acked < N, f"ack {acked} claims readings a full disk could not hold")
#the ack never runs ahead of what is stored : every seq <= ack is in the database
        ottest.check(cl.q1(cfg, "SELECT count(*) FROM readings WHERE container=? AND seq<=?",
                           (C, acked)) == acked, f"ack {acked} covers unstored readings")
        rc = limited.stop()
        ottest.check(rc is not None and rc >= 0, f"collector killed by a signal: {rc}")
        ottest.check(stored(cfg) >= have, "stored readings vanished")

#room again : restart; the client resends everything the ack does not cover
        cl.start_collector(env, cfg, name="collector-room")
        acked = cli.ack(C) or 0
        send(cli, acked + 1, N, t0)
        cli.wait_ack(C, N, timeout=60)
        ottest.check(stored(cfg) == N, f"stored {stored(cfg)} of {N}")
        ottest.check(cl.q1(cfg, "SELECT count(DISTINCT seq) FROM readings WHERE container=?",
                           (C,)) == N, "every seq exactly once")
        cli.close()


if __name__ == "__main__":
    ottest.main(test_disk_full)
