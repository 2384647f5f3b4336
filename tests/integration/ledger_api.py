#!/usr/bin/env python3
"""ledger_api - the issue 6 "done when", end to end through organtrack-api:
custody events posted over HTTP (impossible ones refused), readings stored
in between, the bundle exported by the API verifies offline with
organtrack-ledger (pinned to the key `pubkey --config` prints), and changing
a reading or a party, or removing a reading, makes verify fail naming the
first bad entry. The API's EPCIS export validates against GS1's schema.
The database is queried and tampered with through ottest.Db, so the test
runs on whichever backend api_common's API uses (a SQLite path or a
postgresql:// URI)."""
import http.client
import json
import os
import subprocess

import api_common
import ottest

TOOL = os.path.join(ottest.BIN, "organtrack-ledger")
VALIDATE = os.path.join(ottest.ROOT, "tests", "epcis", "validate.js")


def run(*args, check=None):
    r = subprocess.run(list(args), capture_output=True, text=True, timeout=60)
    if check is not None:
        ottest.check(r.returncode == check,
                     f"{' '.join(args)} exited {r.returncode}, want {check}:\n{r.stdout}{r.stderr}")
    return r


def raw_get(api, path, token):
    conn = http.client.HTTPConnection("127.0.0.1", api.port, timeout=15)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        r = conn.getresponse()
        return r.status, r.read(), r.getheader("Content-Type", "")
    finally:
        conn.close()


def test():
    with ottest.Env("ledger-api") as env:
        api = api_common.Api(env).start()
        db = ottest.Db(api.db)
        coord = api.token("coordinator", "Coordinator Aliya")
        crew = api.token("crew", "Crew Marat", containers=["KZ-LDG-1", "KZ-LDG-2"])
        auditor = api.token("auditor", "Auditor Bolat")
        ship = api.create_shipment(coord, "KZ-LDG-1")
        sid = ship["id"]
        seq = [0]

        def readings(n, temp=4.5):
            t = ottest.now_ms() - 5 * n
            for i in range(n):
                seq[0] += 1
                db.execute("INSERT INTO readings (container, seq, gateway, boot, ts, received_at,"
                        " shipment_id, temp_c, lat, lon, lid_open) VALUES"
                        " ('KZ-LDG-1', ?, 'gw-ldg', 1, ?, ?, ?, ?, 51.2, 51.37, 0)",
                        (seq[0], t + i * 5, t + i * 5, sid, temp + i * 0.01))

        def post(body, token=crew):
            return api.req("POST", f"/api/v1/shipments/{sid}/custody", body, token)

        # impossible sequences are refused
        s, j, _ = post({"type": "received"})
        ottest.check(s == 409, f"received before departed: {s} {j}")
        s, j, _ = post({"type": "handoff", "from": "Procurement team", "to": "Crew 07"})
        ottest.check(s in (400, 422), f"hand-off without witness: {s} {j}")
        s, j, _ = post({"type": "handoff", "from": "Crew 07", "to": "crew 07", "witness": "W"})
        ottest.check(s in (409, 422), f"hand-off to the same party: {s} {j}")

        readings(6)
        s, e0, _ = post({"type": "packed", "seal": "S-1", "place": {"lat": 51.2, "lon": 51.37}})
        ottest.check(s == 201 and e0["index"] == 0 and len(e0["hash"]) == 64, f"{s} {e0}")
        ottest.check(e0["readings"]["count"] == 6 and e0["temp_c"] is not None, e0)
        readings(3)
        s, e1, _ = post({"type": "handoff", "from": "Procurement team", "to": "Crew 07",
                         "witness": "Dr. Serik", "seal": "S-1", "comment": "label checked",
                         "place": {"lat": 51.21, "lon": 51.38}})
        ottest.check(s == 201 and e1["prev_hash"] == e0["hash"], f"{s} {e1}")
        ottest.check(e1["actor"]["name"] == "Crew Marat" and e1["actor"]["role"] == "crew", e1)
        s, _, _ = post({"type": "departed"})
        ottest.check(s == 201, "departed")
        s, j, _ = post({"type": "departed"})
        ottest.check(s == 409, f"departed twice: {s} {j}")
        readings(10, temp=5.0)
        for body in ({"type": "arrived"},
                     {"type": "handoff", "from": "Crew 07", "to": "Transplant centre",
                      "witness": "Nurse Dana", "seal": "S-1"},
                     {"type": "received", "comment": "in theatre"}):
            readings(2)
            s, j, _ = post(body)
            ottest.check(s == 201, f"{body}: {s} {j}")

        s, trail, _ = api.req("GET", f"/api/v1/shipments/{sid}/custody", token=auditor)
        ottest.check(s == 200, f"custody list {s}")

        # the bundle exported by the API verifies offline, pinned to the key
        pub = run(TOOL, "pubkey", "--config", api.config_path, check=0).stdout.strip()
        s, body, ctype = raw_get(api, f"/api/v1/shipments/{sid}/export?format=bundle", auditor)
        ottest.check(s == 200 and ctype.startswith("application/json"), f"{s} {ctype}")
        bpath = env.path("bundle.json")
        with open(bpath, "wb") as f:
            f.write(body)
        out = run(TOOL, "verify", "--pubkey", pub, bpath, check=0).stdout.strip()
        ottest.check(out == "OK shipments=1 entries=6 readings=25", out)
        bundle = json.loads(body)
        ottest.check(bundle["public_key"] == pub, "bundle key is the server key")
        ottest.check("patient" not in body.decode().lower(), "no patient identity")
        out = run(TOOL, "verify", api.db, check=0).stdout.strip()
        ottest.check(out == "OK shipments=1 entries=6 readings=25", out)

        # EPCIS from the API validates against the EPCIS 2.0 schema
        s, body, ctype = raw_get(api, f"/api/v1/shipments/{sid}/export?format=epcis", auditor)
        ottest.check(s == 200, f"epcis {s}")
        epath = env.path("export.jsonld")
        with open(epath, "wb") as f:
            f.write(body)
        r = run("node", VALIDATE, epath)
        ottest.check(r.returncode == 0, r.stdout + r.stderr)
        doc = json.loads(body)
        ev = doc["epcisBody"]["eventList"]
        ottest.check(len(ev) == 6 and any("sensorElementList" in e for e in ev), "EPCIS events")
        s, body, ctype = raw_get(api, f"/api/v1/shipments/{sid}/export?format=csv", auditor)
        ottest.check(s == 200 and body.count(b"\r\nentry,") == 6, f"csv {s}")

        # a reading changed in the database: the interval's entry is named
        rows = db.all("SELECT shipment_id, idx FROM custody_readings WHERE container="
                      "'KZ-LDG-1' AND seq=8")
        idx = rows[0][1]
        db.execute("UPDATE readings SET temp_c=2.0 WHERE container='KZ-LDG-1' AND seq=8")
        line = run(TOOL, "verify", api.db, check=1).stdout.strip()
        ottest.check(line.startswith(f"FAIL shipment={sid} entry={idx}:"), line)
        s, body, _ = raw_get(api, f"/api/v1/shipments/{sid}/export?format=bundle", auditor)
        with open(bpath, "wb") as f:
            f.write(body)
        line = run(TOOL, "verify", bpath, check=1).stdout.strip()
        ottest.check(line.startswith(f"FAIL shipment={sid} entry={idx}:"), line)
        db.execute("UPDATE readings SET temp_c=4.51 WHERE container='KZ-LDG-1' AND seq=8")
        run(TOOL, "verify", api.db, check=0)

        # a reading removed
        db.execute("DELETE FROM readings WHERE container='KZ-LDG-1' AND seq=20")
        rows = db.all("SELECT idx FROM custody_readings WHERE container='KZ-LDG-1' AND seq=20")
        line = run(TOOL, "verify", api.db, check=1).stdout.strip()
        ottest.check(line.startswith(f"FAIL shipment={sid} entry={rows[0][0]}:"), line)

        # a party changed around the trigger
        db.execute("DROP TRIGGER custody_no_update" + (" ON custody" if db.pg else ""))
        db.execute("UPDATE custody SET to_party='Somebody else' WHERE shipment_id=? AND idx=1",
                   (sid,))
        line = run(TOOL, "verify", api.db, check=1).stdout.strip()
        ottest.check(line.startswith(f"FAIL shipment={sid} entry=1:"), line)


if __name__ == "__main__":
    ottest.main(test)
