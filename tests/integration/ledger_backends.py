#!/usr/bin/env python3
"""ledger_backends - the ledger verifies the same on both backends (issue 10).

The same trail (test_ledger_fixture: fixed times, the same key file) is
built once in a SQLite file and once in a private PostgreSQL. Then, with
organtrack-ledger only:
- `verify` gives the same answer for the SQLite path and the postgresql://
  URI, and both fail the same way, naming the same entry, after the same
  tamper around the append-only triggers;
- `export --database` writes byte-identical bundles and CSV from the two
  databases (the same hashes, Merkle roots and, Ed25519 being
  deterministic, the same signatures), and EPCIS documents equal but for
  their creation date;
- the bundle exported from PostgreSQL verifies offline, pinned to the key,
  and a tampered copy of it fails naming the entry;
- a PostgreSQL role with SELECT only (an auditor's) verifies and exports;
- no message of the tool carries the URI's password, even when the
  connection fails.
"""
import json
import os
import subprocess

import ottest
from ottest import check

import ledger_cli

TOOL = ledger_cli.TOOL


def run(*args, rc=None):
    r = subprocess.run([TOOL, *args], capture_output=True, text=True, timeout=60)
    check(ottest.PG_PASSWORD not in r.stdout + r.stderr, f"password in output of {args[0]}")
    if rc is not None:
        check(r.returncode == rc, f"{' '.join(args)} exited {r.returncode}, want {rc}:\n"
              f"{r.stdout}{r.stderr}")
    return r


def export(database, ship, fmt):
    return run("export", "--database", database, "--shipment", str(ship), "--format", fmt,
               rc=0).stdout


def test():
    with ottest.Env("ledger-backends") as env:
        pg = env.postgres()
        lite_dir, lite_cfg, lite, ship = ledger_cli.fixture(env, "lite")
        check(not ottest.Db(lite).pg, lite)
        _, _, pgdb, pship = ledger_cli.fixture(env, "pg", pg.url, key_from=lite_dir)
        check(ottest.Db(pgdb).pg and pship == ship, pgdb)
        pub = run("pubkey", "--config", lite_cfg, rc=0).stdout.strip()

        # verify: the same answer from both databases, pinned or not
        for args in ((), ("--pubkey", pub)):
            a = run("verify", *args, lite, rc=0).stdout
            b = run("verify", *args, pgdb, rc=0).stdout
            check(a == b == "OK shipments=2 entries=9 readings=19\n", f"{a!r} {b!r}")

        # an auditor's role that may only read verifies the PostgreSQL trail
        schema = pgdb.split("search_path%3D", 1)[1]
        admin = ottest.Db(pg.admin_url.rsplit("/", 1)[0] + "/organtrack")
        admin.execute(f"CREATE ROLE auditor LOGIN PASSWORD '{ottest.PG_PASSWORD}'")
        admin.execute(f"GRANT USAGE ON SCHEMA {schema} TO auditor")
        admin.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO auditor")
        auditor = pgdb.replace("//organtrack:", "//auditor:")
        out = run("verify", "--pubkey", pub, auditor, rc=0).stdout
        check(out == "OK shipments=2 entries=9 readings=19\n", out)
        check(run("export", "--database", auditor, "--shipment", str(ship), rc=0).stdout ==
              export(pgdb, ship, "bundle"), "the auditor's export differs")

        # exports: the same bytes from both backends
        bundles = [export(db, ship, "bundle") for db in (lite, pgdb)]
        check(bundles[0] == bundles[1], "bundles from SQLite and PostgreSQL differ")
        check(export(lite, ship, "csv") == export(pgdb, ship, "csv"), "CSV differs")
        docs = [json.loads(export(db, ship, "epcis")) for db in (lite, pgdb)]
        for d in docs:
            del d["creationDate"]
        check(docs[0] == docs[1], "EPCIS documents differ")
        # the second shipment too, through the config file's database (a URI)
        b2 = run("export", "--config", os.path.join(os.path.dirname(lite_cfg), "..", "pg",
                                                    "api.json"),
                 "--shipment", "2", rc=0).stdout
        check(b2 == export(lite, 2, "bundle"), "shipment 2's bundles differ")

        # the PostgreSQL bundle verifies offline; a tampered copy does not
        bpath = env.path("pg-bundle.json")
        with open(bpath, "w") as f:
            f.write(bundles[1])
        out = run("verify", "--pubkey", pub, bpath, rc=0).stdout.strip()
        check(out == "OK shipments=1 entries=7 readings=17", out)
        bundle = json.loads(bundles[1])
        ledger_cli.audit_by_hand(env, bundle)
        bad = json.loads(bundles[1])
        next(r for r in bad["readings"] if r["seq"] == 10)["temp_c"] = 4.0
        tpath = env.path("pg-bundle-tampered.json")
        with open(tpath, "w") as f:
            json.dump(bad, f)
        line = run("verify", "--pubkey", pub, tpath, rc=1).stdout.strip()
        check(line.startswith(f"FAIL shipment={ship} entry=3:"), line)
        bad = json.loads(bundles[1])
        bad["entries"][2]["witness"] = "Somebody"
        with open(tpath, "w") as f:
            json.dump(bad, f)
        line = run("verify", tpath, rc=1).stdout.strip()
        check(line.startswith(f"FAIL shipment={ship} entry=2:"), line)

        # the same tamper in both databases, around the triggers: the same FAIL
        lines = []
        for database in (lite, pgdb):
            db = ottest.Db(database)
            db.execute(ledger_cli.drop_trigger_sql(db, "custody_no_update", "custody"))
            db.execute("UPDATE custody SET seal='SEAL-9999' WHERE shipment_id=? AND idx=4",
                       (ship,))
            lines.append(run("verify", database, rc=1).stdout)
        check(lines[0] == lines[1] and lines[0].startswith(f"FAIL shipment={ship} entry=4:"),
              f"{lines}")

        # failures name the database without its password
        wrong = pg.url.rsplit("/", 1)[0] + "/nosuchdb"
        r = run("verify", wrong, rc=2)
        check("cannot open database postgresql://127.0.0.1:" in r.stderr, r.stderr)
        r = run("export", "--database", wrong, "--shipment", "1", rc=2)
        check("nosuchdb" in r.stderr, r.stderr)
        empty = pg.admin_url  # the postgres database: no organtrack schema
        r = run("verify", empty, rc=2)
        check("not an organtrack database" in r.stderr, r.stderr)


if __name__ == "__main__":
    ottest.main(test)
