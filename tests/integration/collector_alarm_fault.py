"""collector_alarm_fault: a failed alarm write rolls the whole batch back.

Tried: a trigger that refuses every INSERT into alarms (SQLite RAISE(ABORT),
PostgreSQL a PL/pgSQL function raising an exception) while a container's
readings cross into a temperature excursion that raises temp_excursion.
Proved: the batch whose reading raises the alarm is refused and retried
(several attempts are seen), its readings are not stored and the ack, on
the retained topic and in containers.ack_seq, never covers them while the
fault lasts; once the trigger is gone the same batch goes through: every
seq stored exactly once, exactly one temp_excursion alarm, raised at the
reading time of the reading that raised it, one alarm event, and the ack
covers everything."""
import json
import time

import ottest
from collector_lib import Client, collector_config, counter, q1, reading, start_collector

C = "KZ-FAULT-0001"
N = 100
FIRST_OUT = 31  # first reading out of band
RAISES_AT = 91  # kidney: excursion_grace_s 600, one reading per 10 s


class AckLog(Client):
    """Client that also remembers every ack value it saw per container."""

    def __init__(self, port):
        self.seen = {}
        super().__init__(port, client_id="fault-test")

    def _on_message(self, c, u, msg):
        super()._on_message(c, u, msg)
        parts = msg.topic.split("/")
        if parts[-1] == "ack":
            with self.lock:
                self.seen.setdefault(parts[-2], []).append(json.loads(msg.payload)["seq"])

    def max_seen(self, container):
        with self.lock:
            return max(self.seen.get(container, [-1]))


def install_trigger(db):
    if db.pg:
        db.execute("CREATE FUNCTION refuse_alarm() RETURNS trigger LANGUAGE plpgsql AS $$"
                   " BEGIN RAISE EXCEPTION 'refused by test'; END $$")
        db.execute("CREATE TRIGGER refuse_alarms BEFORE INSERT ON alarms"
                   " FOR EACH ROW EXECUTE FUNCTION refuse_alarm()")
    else:
        db.execute("CREATE TRIGGER refuse_alarms BEFORE INSERT ON alarms"
                   " BEGIN SELECT RAISE(ABORT, 'refused by test'); END")


def drop_trigger(db):
    db.execute("DROP TRIGGER refuse_alarms ON alarms" if db.pg else "DROP TRIGGER refuse_alarms")


def test():
    with ottest.Env("collector-alarm-fault") as env:
        broker = env.mosquitto()
        cfg = collector_config(env, broker)
        col = start_collector(env, cfg)
        db = ottest.Db(cfg["database"])
        now = ottest.now_ms()
        ship = db.insert("INSERT INTO shipments(container,profile,donation_code,cross_clamp_at,"
                         "dest_lat,dest_lon,mode,status,created_at,created_by,updated_at) VALUES"
                         "(?,?,?,?,?,?,?,?,?,?,?)",
                         (C, "kidney", "DIN-FAULT-1", now - 2 * 3600 * 1000, 51.13, 71.43,
                          "ground", "in_transit", now, "test", now))
        cl = AckLog(broker.port)
        cl.state(C, 0)  # the gateway's birth: nothing delivered yet

        # one reading per 10 s ending now; out of band (12 °C) from FIRST_OUT
        t0 = now - (N - 1) * 10000
        ts = {i: t0 + (i - 1) * 10000 for i in range(1, N + 1)}
        rs = [reading(i, ts=ts[i], temp=12.0 if i >= FIRST_OUT else 4.0, lat=51.2, lon=51.37,
                      speed_kmh=60.0, gnss_fix=3) for i in range(1, N + 1)]
        cl.readings(C, rs[:FIRST_OUT - 1])
        cl.wait_ack(C, FIRST_OUT - 1)

        install_trigger(db)
        for k in range(FIRST_OUT - 1, N, 10):
            cl.readings(C, rs[k:k + 10])
        # the batch holding reading RAISES_AT is refused, rolled back and tried again
        refused = "alarm not stored, the batch is rolled back"
        ottest.wait_for(lambda: col.log().count(refused) >= 3, timeout=30,
                        what="three refused attempts of the alarm's batch")
        ottest.check("batch not stored, rolled back; retrying it" in col.log(),
                     "the failure is logged as a retried batch")
        ottest.check(col.alive(), "collector keeps running")
        stored = q1(cfg, "SELECT count(*) FROM readings WHERE container=? AND seq>=?",
                    (C, RAISES_AT))
        ottest.check(stored == 0, f"readings of the refused batch not stored ({stored} are)")
        ottest.check(q1(cfg, "SELECT count(*) FROM alarms") == 0, "no alarm row")
        ack_db = q1(cfg, "SELECT ack_seq FROM containers WHERE container=?", (C,))
        ottest.check(ack_db is not None and ack_db < RAISES_AT,
                     f"containers.ack_seq {ack_db} does not cover the refused readings")
        ottest.check(cl.max_seen(C) < RAISES_AT,
                     f"the published ack {cl.max_seen(C)} never covered the refused readings")
        ottest.check(counter(cfg, "batches", "failed") >= 1, "counter batches/failed counts it")

        drop_trigger(db)
        cl.wait_ack(C, N, timeout=30)
        ottest.check(col.alive(), "collector alive")
        n, d, lo, hi = db.all("SELECT count(*), count(DISTINCT seq), min(seq), max(seq) FROM "
                              "readings WHERE container=?", (C,))[0]
        ottest.check((n, d, lo, hi) == (N, N, 1, N),
                     f"stored {n} distinct {d} range {lo}..{hi}, want {N} once each")
        alarms = db.all("SELECT type, raised_at, state FROM alarms WHERE shipment_id=?", (ship,))
        ottest.check(len(alarms) == 1 and alarms[0][0] == "temp_excursion",
                     f"exactly one alarm, temp_excursion: {alarms}")
        ottest.check(alarms[0][1] == ts[RAISES_AT],
                     f"raised at the reading time of seq {RAISES_AT}: "
                     f"{alarms[0][1] - ts[RAISES_AT]} ms off")
        ottest.check(q1(cfg, "SELECT count(*) FROM events WHERE kind='alarm'") == 1,
                     "one alarm event")
        ev = json.loads(q1(cfg, "SELECT payload FROM events WHERE kind='alarm'"))
        ottest.check(ev["type"] == "temp_excursion" and ev["container"] == C and
                     ev["shipment_id"] == ship and '"' not in ev["state"],
                     f"alarm event payload intact: {ev}")
        rev = json.loads(q1(cfg, "SELECT payload FROM events WHERE kind='reading' AND "
                                 "container=? ORDER BY id DESC LIMIT 1", (C,)))
        ottest.check(rev["seq"] == N and rev["container"] == C and rev["temp_c"] == 12.0,
                     f"reading event payload intact: {rev}")
        ottest.check(q1(cfg, "SELECT count(*) FROM events WHERE kind='reading' AND container=?",
                        (C,)) == N, "one reading event per reading")
        ottest.check(q1(cfg, "SELECT ack_seq FROM containers WHERE container=?", (C,)) == N,
                     "ack_seq persisted")
        ottest.check(counter(cfg, "alarms", "temp_excursion") == 1, "alarm counted once")
        ottest.check("batch stored after failed attempts" in col.log(), "recovery logged")
        listed = ottest.wait_for(
            lambda: [a for a in (cl.alarms.get(C) or {}).get("alarms", [])
                     if a["type"] == "temp_excursion"], what="retained alarm list")
        ottest.check(len(listed) == 1, f"one alarm in the retained list: {listed}")
        ottest.check(col.stop() == 0, "clean exit")
        cl.close()


if __name__ == "__main__":
    ottest.main(test)
