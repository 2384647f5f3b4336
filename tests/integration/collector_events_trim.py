"""The events table is the API's live change feed, not the record: the
collector keeps events_keep_h of it and deletes older rows, so it cannot grow
without bound; readings stay. Tried: old and fresh events side by side."""
import time

import collector_lib as cl
import ottest


def test_events_trim():
    with ottest.Env("collector-trim") as env:
        broker = env.mosquitto()
        cfg = cl.collector_config(env, broker, {"events_keep_h": 1, "eta_every_s": 1})
        proc = cl.start_collector(env, cfg)
        now = int(time.time() * 1000)
        con = cl.db(cfg)
        con.many("INSERT INTO events (ts, kind, payload) VALUES (?, 'reading', '{}')",
                 [(now - 2 * 3600 * 1000 - i,) for i in range(50)]      # two hours old: trimmed
                 + [(now - 30 * 60 * 1000 + i,) for i in range(20)])    # half an hour old: kept
        con.execute("INSERT INTO readings (container, seq, gateway, boot, ts, received_at,"
                    " temp_c) VALUES ('KZ-T', 1, 'g', 1, ?, ?, 4.0)",
                    (now - 3 * 3600 * 1000,) * 2)
        ottest.wait_for(lambda: cl.q1(cfg, "SELECT count(*) FROM events") == 20, 15,
                        "old events trimmed, fresh ones kept")
        ottest.check(cl.q1(cfg, "SELECT count(*) FROM events WHERE ts < ?",
                           (now - 3600 * 1000,)) == 0, "no event older than events_keep_h")
        ottest.check(cl.q1(cfg, "SELECT count(*) FROM readings") == 1, "readings are the record")
        ottest.check(proc.stop() == 0, "clean stop")


if __name__ == "__main__":
    ottest.main(test_events_trim)
