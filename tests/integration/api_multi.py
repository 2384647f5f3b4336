"""api_multi - two organtrack-api processes on one database (issue 10: several
APIs may serve one PostgreSQL database; on SQLite the same holds for one
file). A write through one API appears on the other's shipment list at
once, even with a page cache that would otherwise keep the page for a
minute (the cache is keyed on the newest events id, read per request, and
every writer appends an event: the APIs and the collector); it reaches the
other API's open event stream; a reading stored by "the collector" (rows
written straight into the database) shows on both. Races between the two
processes have one winner: two creates for one container, two
acknowledgements of one alarm, two status changes of one shipment."""
import threading

import api_common
import ottest
from ottest import check


def race(*calls):
    """Runs the calls at the same moment; returns their statuses, sorted."""
    out = [None] * len(calls)
    go = threading.Barrier(len(calls))

    def one(i, fn):
        go.wait()
        out[i] = fn()[0]
    ts = [threading.Thread(target=one, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sorted(out)


def test_api_multi():
    with ottest.Env("api-multi") as env:
        cache = {"list_cache_ms": 60000}  # only a change may refresh a page here
        a1 = api_common.Api(env, cache, name="api1")
        a2 = api_common.Api(env, dict(cache, database=a1.db), name="api2")
        coord = a1.token("coordinator", "coord")
        a1.start()
        a2.start()
        db = a1.dbq
        active = "/api/v1/shipments?status=active"

        def items(api):
            s, j, _ = api.req("GET", active, token=coord)
            check(s == 200, f"list on {api.name}: {s} {j}")
            return j["items"]
        check(items(a2) == [] and items(a1) == [], "empty lists (now cached on both)")
        stream = api_common.SseStream(a2, coord)

        # a write through api1: api2's cached page is stale and must not be served
        ship = a1.create_shipment(coord, "KZ-M1")
        sid = ship["id"]
        check([s["id"] for s in items(a2)] == [sid], "api2 lists api1's new shipment")
        ev = stream.next_event()
        check(ev["event"] == "shipment" and ev["data"]["shipment_id"] == sid and
              ev["data"]["data"]["change"] == "created", f"api2's stream: {ev}")

        # what the collector does for a reading: the row and its event
        t = ottest.now_ms()

        def reading(seq, with_event=True):
            db.execute("INSERT INTO readings (container, seq, gateway, boot, ts, received_at,"
                       " shipment_id, temp_c) VALUES ('KZ-M1', ?, 'gw', 1, ?, ?, ?, 4.5)",
                       (seq, t + seq, t + seq, sid))
            if with_event:
                db.execute("INSERT INTO events (ts, kind, shipment_id, container, payload)"
                           " VALUES (?, 'reading', ?, 'KZ-M1', ?)",
                           (t + seq, sid, f'{{"seq":{seq}}}'))
        reading(1)
        for api in (a1, a2):
            got = items(api)
            check(got[0]["latest"] and got[0]["latest"]["seq"] == 1, f"{api.name}: {got}")
        ev = stream.next_event()
        check(ev["event"] == "reading" and ev["data"]["data"] == {"seq": 1}, f"stream: {ev}")
        # the probe that shows the cache is at work (and so that the checks
        # above could fail): a row without an event does not refresh the page
        reading(2, with_event=False)
        check(items(a2)[0]["latest"]["seq"] == 1, "api2 served its cached page")
        db.execute("INSERT INTO events (ts, kind, shipment_id, container, payload)"
                   " VALUES (?, 'reading', ?, 'KZ-M1', '{\"seq\":2}')", (t + 2, sid))
        check(items(a2)[0]["latest"]["seq"] == 2, "the event refreshed api2's page")

        # status change through api2, seen by api1 and on api2's own stream
        s, j, _ = a2.req("PATCH", f"/api/v1/shipments/{sid}", {"status": "in_transit"}, coord)
        check(s == 200, f"patch {s} {j}")
        check(items(a1)[0]["status"] == "in_transit", "api1 sees api2's change")
        ev = stream.next_event()
        check(ev["event"] == "reading", f"stream: {ev}")  # the one written straight in
        ev = stream.next_event()
        check(ev["event"] == "shipment" and ev["data"]["data"]["status"] == "in_transit", ev)

        # races between the processes: exactly one wins each
        for n in range(4):
            c = f"KZ-R{n}"
            st = race(lambda: a1.req("POST", "/api/v1/shipments", a1.shipment_body(c), coord),
                      lambda: a2.req("POST", "/api/v1/shipments", a2.shipment_body(c), coord))
            check(st == [201, 409], f"two creates for {c}: {st}")
            check(db.q1("SELECT count(*) FROM shipments WHERE container = ?", (c,)) == 1,
                  f"one shipment for {c}")
            rid = db.q1("SELECT id FROM shipments WHERE container = ?", (c,))
            p = f"/api/v1/shipments/{rid}"
            st = race(lambda: a1.req("PATCH", p, {"status": "in_transit"}, coord),
                      lambda: a2.req("PATCH", p, {"status": "in_transit"}, coord))
            check(st == [200, 409], f"two status changes of {c}: {st}")
            check(db.q1("SELECT count(*) FROM audit WHERE action = 'shipment.status'"
                        " AND target = ?", (f"shipment/{rid}",)) == 1, "one change audited")
            aid = a1.add_alarm(sid, "KZ-M1")
            p = f"/api/v1/alarms/{aid}/ack"
            st = race(lambda: a1.req("POST", p, {"comment": "one"}, coord),
                      lambda: a2.req("POST", p, {"comment": "two"}, coord))
            check(st == [200, 409], f"two acknowledgements of alarm {aid}: {st}")
            check(db.q1("SELECT count(*) FROM audit WHERE action = 'alarm.ack' AND target = ?",
                        (f"alarm/{aid}",)) == 1, "one acknowledgement audited")
        # last, as it needs the ledger on the backend: two "departed" entries
        # at once, one trail entry
        p = f"/api/v1/shipments/{sid}/custody"
        st = race(lambda: a1.req("POST", p, {"type": "departed"}, coord),
                  lambda: a2.req("POST", p, {"type": "departed"}, coord))
        check(st[0] == 201 and st[1] in (409, 422), f"two departures: {st}")
        check(db.q1("SELECT count(*) FROM custody WHERE shipment_id = ?", (sid,)) == 1,
              "one trail entry")
        stream.close()


if __name__ == "__main__":
    ottest.main(test_api_multi)
