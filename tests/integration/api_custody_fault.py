"""api_custody_fault - a custody append and everything that follows from it
commit together or not at all (issue 10): a custody entry, the status change
it causes, its event row and its audit row are one transaction, and so are
closing a shipment and the ledger note that seals its trail.

A follow-up write is made to fail with a trigger (SQLite RAISE(ABORT),
PostgreSQL a PL/pgSQL function) on the audit table, then on the events
table: the POST answers 5xx in the error shape, no custody entry is left
behind and the status has not moved. With the trigger gone the same POST
succeeds once, and the trail verifies (the exported bundle offline, and
the database itself, SQLite file or PostgreSQL URI, with
organtrack-ledger verify)."""
import os
import subprocess

import api_common
import ottest
from ottest import check

TOOL = os.path.join(ottest.BIN, "organtrack-ledger")


def refuse_inserts(db, table):
    """A trigger that makes every INSERT INTO table fail."""
    if db.pg:
        db.execute("CREATE OR REPLACE FUNCTION ot_test_refuse() RETURNS trigger"
                   " LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$")
        db.execute(f"CREATE TRIGGER ot_test_refuse_{table} BEFORE INSERT ON {table}"
                   " FOR EACH ROW EXECUTE FUNCTION ot_test_refuse()")
    else:
        db.execute(f"CREATE TRIGGER ot_test_refuse_{table} BEFORE INSERT ON {table}"
                   " BEGIN SELECT RAISE(ABORT, 'injected fault'); END")


def allow_inserts(db, table):
    if db.pg:
        db.execute(f"DROP TRIGGER ot_test_refuse_{table} ON {table}")
    else:
        db.execute(f"DROP TRIGGER ot_test_refuse_{table}")


def run(*args):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=60)


def test_api_custody_fault():
    with ottest.Env("api-custody-fault") as env:
        api = api_common.Api(env)
        coord = api.token("coordinator", "coord")
        crew = api.token("crew", "crew-f", containers=["KZ-F"])
        auditor = api.token("auditor", "aud")
        api.start()
        db = api.dbq
        sid = api.create_shipment(coord, "KZ-F")["id"]
        api.add_readings(sid, "KZ-F", 5, ottest.now_ms() - 60_000)
        path = f"/api/v1/shipments/{sid}/custody"
        s, e0, _ = api.req("POST", path, {"type": "packed", "seal": "S-1"}, crew)
        check(s == 201 and e0["index"] == 0, f"packed: {s} {e0}")

        def counts():
            return {
                "custody": db.q1("SELECT count(*) FROM custody WHERE shipment_id = ?", (sid,)),
                "events": db.q1("SELECT count(*) FROM events"),
                "audit": db.q1("SELECT count(*) FROM audit"),
                "status": db.q1("SELECT status FROM shipments WHERE id = ?", (sid,)),
                "heads": db.q1("SELECT count(*) FROM ledger_heads WHERE shipment_id = ?", (sid,)),
            }

        def refused(method, p, body, token, what):
            before = counts()
            s, j, _ = api.req(method, p, body, token)
            check(500 <= s < 600, f"{what}: {s} {j}")
            check(isinstance(j, dict) and set(j) == {"error"} and
                  set(j["error"]) == {"code", "message"} and j["error"]["message"],
                  f"{what}: error shape {j}")
            after = counts()
            check(after == before, f"{what}: something stayed behind {before} -> {after}")

        # departed: the entry, created -> in_transit, its event, its audit row
        for table in ("audit", "events"):
            refuse_inserts(db, table)
            refused("POST", path, {"type": "departed"}, crew, f"departed, {table} refused")
            check(db.q1("SELECT status FROM shipments WHERE id = ?", (sid,)) == "created",
                  "status moved without its entry")
            allow_inserts(db, table)
        s, e1, _ = api.req("POST", path, {"type": "departed"}, crew)
        check(s == 201 and e1["index"] == 1 and e1["prev_hash"] == e0["hash"], f"{s} {e1}")
        c = counts()
        check(c["custody"] == 2 and c["status"] == "in_transit", f"after the retry: {c}")
        check(db.q1("SELECT count(*) FROM events WHERE kind = 'custody' AND shipment_id = ?",
                    (sid,)) == 2, "one custody event per entry")
        check(db.q1("SELECT count(*) FROM audit WHERE action = 'custody.append'") == 2,
              "one audit row per entry")

        # closing (here: discarding) seals the trail with a note, in the same
        # transaction as the status change; the note covers these readings
        t = ottest.now_ms() - 1000
        db.many("INSERT INTO readings (container, seq, gateway, boot, ts, received_at,"
                " shipment_id, temp_c) VALUES ('KZ-F', ?, 'gw', 1, ?, ?, ?, 4.5)",
                [(seq, t + seq, t + seq, sid) for seq in (6, 7, 8)])
        ship = f"/api/v1/shipments/{sid}"
        for table in ("audit", "events"):
            refuse_inserts(db, table)
            refused("PATCH", ship, {"status": "discarded", "comment": "box damaged"}, coord,
                    f"discard, {table} refused")
            allow_inserts(db, table)
        s, j, _ = api.req("PATCH", ship, {"status": "discarded", "comment": "box damaged"}, coord)
        check(s == 200 and j["status"] == "discarded", f"discard: {s} {j}")
        c = counts()
        check(c["custody"] == 3 and c["status"] == "discarded", f"after discarding: {c}")
        s, trail, _ = api.req("GET", path, token=auditor)
        check(s == 200 and [e["type"] for e in trail["items"]] == ["packed", "departed", "note"],
              f"trail {s} {trail}")

        # the trail verifies: the bundle offline, pinned to the server key
        pub = run(TOOL, "pubkey", "--config", api.config_path).stdout.strip()
        s, body, _ = api.req("GET", f"{ship}/export?format=bundle", token=auditor)
        check(s == 200, f"export {s}")
        bpath = env.write_json("bundle.json", body)
        r = run(TOOL, "verify", "--pubkey", pub, bpath)
        check(r.returncode == 0 and r.stdout.strip() == "OK shipments=1 entries=3 readings=8",
              f"bundle verify: {r.returncode} {r.stdout}{r.stderr}")
        r = run(TOOL, "verify", "--pubkey", pub, api.db)
        check(r.returncode == 0 and r.stdout.strip() == "OK shipments=1 entries=3 readings=8",
              f"database verify: {r.returncode} {r.stdout}{r.stderr}")


if __name__ == "__main__":
    ottest.main(test_api_custody_fault)
