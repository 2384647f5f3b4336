"""api_pg_failover - organtrack-api through a PostgreSQL failover (issue 10):
the database is a multi-host URI with target_session_attrs=read-write over
a primary and its streaming replica. The primary is stopped: requests
answer 503 in the error shape (code "unavailable"), /api/v1/health says
the database is unreachable, nothing hangs. The replica is promoted: the
same API process serves again (each pooled connection reconnects before
its next use, the event stream's pump too, and an open stream carries on),
writes go to the new primary, and everything the API acknowledged before
the failover is there. Always on PostgreSQL (a private primary and
replica), whatever OT_DB says."""
import threading

import api_common
import ottest
from ottest import check


def parallel(n, fn):
    """n calls of fn at once (so that every pooled connection is in use)."""
    out = [None] * n
    go = threading.Barrier(n)

    def one(i):
        go.wait()
        out[i] = fn()
    ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return out


def test_api_pg_failover():
    with ottest.Env("api-pg-failover") as env:
        primary = env.postgres("pg1")
        replica = env.postgres("pg2", primary=primary)
        uri = (f"postgresql://organtrack:{ottest.PG_PASSWORD}@127.0.0.1:{primary.port},"
               f"127.0.0.1:{replica.port}/organtrack"
               "?target_session_attrs=read-write&connect_timeout=2")
        api = api_common.Api(env, {"database": uri, "threads": 2})
        coord = api.token("coordinator", "coord")
        api.start()
        s, h, _ = api.req("GET", "/api/v1/health")
        check(s == 200 and h["database"] == {"kind": "postgresql", "status": "ok"}, f"{s} {h}")
        acked = [api.create_shipment(coord, f"KZ-F{n}")["id"] for n in range(3)]
        stream = api_common.SseStream(api, coord)
        rdb = ottest.Db(replica.url)
        ottest.wait_for(lambda: rdb.q1("SELECT count(*) FROM shipments") == 3, 30,
                        "the replica has the acknowledged shipments")

        check(primary.stop() == 0, "primary did not stop cleanly")
        # no primary: every request is refused with a retryable 503 (on every
        # pooled connection: as many at once as the pool holds), health says why
        for s, j, _ in parallel(6, lambda: api.req("GET", "/api/v1/shipments", token=coord,
                                                    timeout=15)):
            check(s == 503 and j["error"]["code"] == "unavailable" and j["error"]["message"],
                  f"list without a primary: {s} {j}")
        s, j, _ = api.req("POST", "/api/v1/shipments", api.shipment_body("KZ-LOST"), coord)
        check(s == 503 and j["error"]["code"] == "unavailable", f"create without a primary: {s} {j}")
        s, h, _ = api.req("GET", "/api/v1/health", timeout=15)
        check(s == 503 and h["status"] == "error" and
              h["database"] == {"kind": "postgresql", "status": "unreachable"}, f"{s} {h}")

        replica.promote()
        ottest.wait_for(lambda: api.req("GET", "/api/v1/shipments", token=coord)[0] == 200, 30,
                        "the API serves again after the promotion")
        s, h, _ = api.req("GET", "/api/v1/health")
        check(s == 200 and h["database"]["status"] == "ok", f"health after failover {s} {h}")
        # every pooled connection found the new primary before its next use
        for _ in range(3):
            for s, j, _ in parallel(6, lambda: api.req("GET", "/api/v1/shipments",
                                                        token=coord)):
                check(s == 200 and [x["id"] for x in j["items"]] == acked, f"{s} {j}")
        new = api.create_shipment(coord, "KZ-F9")["id"]
        s, j, _ = api.req("PATCH", f"/api/v1/shipments/{acked[0]}", {"status": "in_transit"},
                          coord)
        check(s == 200, f"patch on the new primary: {s} {j}")
        check(rdb.q1("SELECT count(*) FROM shipments WHERE container = 'KZ-LOST'") == 0,
              "a refused create left nothing")
        check(sorted(r[0] for r in rdb.all("SELECT id FROM shipments")) == acked + [new],
              "every acknowledged shipment is on the new primary")
        # the stream opened before the failover carries on with new events
        ev = stream.next_event(timeout=20)
        check(ev["event"] == "shipment" and ev["data"]["shipment_id"] == new, f"stream: {ev}")
        ev = stream.next_event(timeout=20)
        check(ev["data"]["shipment_id"] == acked[0] and ev["data"]["data"]["change"] == "status",
              f"stream: {ev}")
        stream.close()
        log = api.proc.log()
        check("database reconnected" in log, "the API logged its reconnection")
        check(ottest.PG_PASSWORD not in log, "the password is never logged")


if __name__ == "__main__":
    ottest.main(test_api_pg_failover)
