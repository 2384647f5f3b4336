"""api_notify - the change listener of organtrack-api on PostgreSQL (issue
10): each API process LISTENs on organtrack_changes (triggers of migration
0004) and, while it listens, serves cached list pages and cached tokens
without a database round trip. Two APIs on one database, pages cached for
a minute: a token revoked through API A is refused by A at once and by B
within 1 s; a token revoked by the `token revoke` command likewise; a
write through A shows on B's list within 1 s; a row without an event does
not refresh B's page (the cache is at work, so the checks above could
fail). Then the listener connections are killed (pg_terminate_backend as
the superuser): B stays correct at once (it checks the database per
request until it listens again, and drops both caches when it does), and
it listens again. Then the listeners' backends are stopped (SIGSTOP: a
silent connection, as a network cut looks): the unanswered ping makes the
APIs fall back and listen again. Always on PostgreSQL, whatever OT_DB says."""
import os
import signal

import api_common
import ottest
from ottest import check

LISTENING = "change listener is listening"


def test_api_notify():
    with ottest.Env("api-notify") as env:
        pg = env.postgres()
        cache = {"list_cache_ms": 60000, "database": pg.url}
        a = api_common.Api(env, cache, name="apia")
        b = api_common.Api(env, cache, name="apib")
        admin = a.token("admin", "admin")
        coord = a.token("coordinator", "coord")
        a.start()
        b.start()
        sup = ottest.Db(pg.admin_url)
        db = a.dbq
        for api in (a, b):
            ottest.wait_for(lambda: LISTENING in api.proc.log(), 10, f"{api.name} listening")
        active = "/api/v1/shipments?status=active"

        def items(api, token=coord):
            s, j, _ = api.req("GET", active, token=token)
            check(s == 200, f"list on {api.name}: {s} {j}")
            return [x["id"] for x in j["items"]]

        def refused(api, token):
            return api.req("GET", active, token=token)[0] == 401

        def soon(pred, what):
            ottest.wait_for(pred, timeout=1.0, what=what, interval=0.01)

        def token_id(name):
            return db.q1("SELECT id FROM tokens WHERE name = ?", (name,))

        def revoke_checks(tag):
            """a token cached on both, revoked through A, then one revoked by the CLI"""
            t = a.token("crew", f"crew-{tag}", ["KZ-N1"])
            for api in (a, b):  # now cached on both
                check(items(api, t) == items(api, t), f"{api.name} takes {tag}")
            s, j, _ = a.req("DELETE", f"/api/v1/tokens/{token_id(f'crew-{tag}')}", token=admin)
            check(s == 200, f"revoke {tag} through A: {s} {j}")
            check(refused(a, t), f"A refuses {tag} at once")
            soon(lambda: refused(b, t), f"B refuses {tag} revoked through A")
            t2 = a.token("coordinator", f"coord-{tag}")
            for api in (a, b):
                items(api, t2)
            r = a.cli("token", "revoke", "--id", str(token_id(f"coord-{tag}")))
            check(r.returncode == 0, f"cli revoke: {r.stderr}")
            for api in (a, b):
                soon(lambda: refused(api, t2), f"{api.name} refuses {tag} revoked by the CLI")

        def write_checks(container):
            before = items(b)
            ship = a.create_shipment(coord, container)
            soon(lambda: items(b) == before + [ship["id"]], f"B lists A's {container}")
            return ship

        revoke_checks("one")
        ship = write_checks("KZ-N1")
        # the probe: a shipment row written without an event does not refresh
        # B's page, so B served it from its cache (no round trip decided it)
        listed = items(b)
        t = ottest.now_ms()
        db.execute("UPDATE shipments SET status = 'closed', updated_at = ? WHERE id = ?",
                   (t, ship["id"]))
        check(items(b) == listed, "B served its cached page (no event, no change)")
        db.execute("INSERT INTO events (ts, kind, shipment_id, container, payload)"
                   " VALUES (?, 'shipment', ?, 'KZ-N1', '{}')", (t, ship["id"]))
        soon(lambda: ship["id"] not in items(b), "the event refreshed B's page")

        # kill the listeners: B must stay correct at once, and listen again
        killed = sup.all("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                         " WHERE left(query, 6) = 'LISTEN'")
        check(len(killed) == 2 and all(k[0] for k in killed), f"listeners killed: {killed}")
        write_checks("KZ-N2")
        revoke_checks("two")
        ottest.wait_for(lambda: b.proc.log().count(LISTENING) >= 2, 10, "B listens again")
        check("change listener lost its connection" in b.proc.log(), "B noticed the loss")
        ottest.wait_for(lambda: sup.q1("SELECT count(*) FROM pg_stat_activity"
                                       " WHERE left(query, 6) = 'LISTEN'") == 2, 10,
                        "two listeners again")
        write_checks("KZ-N3")
        revoke_checks("three")

        # a listener whose server goes silent (no error, no FIN: a network
        # cut, here its backend stopped with SIGSTOP) is noticed by the
        # unanswered ping (1 s idle + 1 s timeout): the APIs fall back, and
        # stay correct, and listen again on a fresh connection
        pids = [r[0] for r in sup.all("SELECT pid FROM pg_stat_activity"
                                      " WHERE left(query, 6) = 'LISTEN'")]
        check(len(pids) == 2, f"two listeners: {pids}")
        lost = b.proc.log().count("lost its connection")
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        try:
            ottest.wait_for(lambda: b.proc.log().count("lost its connection") > lost, 10,
                            "B notices the silent listener")
            write_checks("KZ-N4")
            revoke_checks("four")
            ottest.wait_for(lambda: b.proc.log().count(LISTENING) >= 3, 10,
                            "B listens again after the silence")
            revoke_checks("five")
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)


if __name__ == "__main__":
    ottest.main(test_api_notify)
