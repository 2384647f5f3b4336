"""Electronic signatures (SPEC v1.1, issue 13): `organtrack-api signer set`
stores a PIN (from stdin, scrypt); POST /signatures with the right PIN
appends a `signed` entry that the exported bundle verifies with, and that
`organtrack-ledger verify` prints; a wrong PIN answers 403 wrong_pin and is
audited; five wrong PINs lock the signer (429 signer_locked) until 15 min
of server clock have passed (the test moves the stored attempt times back);
a `signed` entry altered in a bundle fails verify; a closed shipment still
takes a signature and refuses a hand-off."""
import json
import os
import subprocess

import api_common
import ottest

TOOL = os.path.join(ottest.BIN, "organtrack-ledger")
VALIDATE = os.path.join(ottest.ROOT, "tests", "epcis", "validate.js")
PIN = "493817"


def signer_set(api, name, pin):
    return subprocess.run([os.path.join(ottest.BIN, "organtrack-api"), "signer", "set",
                           "--name", name, "--config", api.config_path], input=pin + "\n",
                          capture_output=True, text=True, timeout=60)


def verify(path):
    return subprocess.run([TOOL, "verify", path], capture_output=True, text=True, timeout=60)


def test_signatures():
    with ottest.Env("api-signatures") as env:
        api = api_common.Api(env).start()
        coord = api.token("coordinator", "Coordinator Aliya")
        aud = api.token("auditor", "Auditor Dana")
        crew = api.token("crew", "Crew Marat", containers=["KZ-SIG-1"])
        sid = api.create_shipment(coord, "KZ-SIG-1")["id"]
        url = f"/api/v1/shipments/{sid}/signatures"

        # the CLI: a short PIN is refused, the PIN never shows up anywhere
        r = signer_set(api, "Auditor Dana", "12345")
        ottest.check(r.returncode == 2 and "6" in r.stderr, f"short PIN: {r.returncode} {r.stderr}")
        r = signer_set(api, "Auditor Dana", PIN)
        ottest.check(r.returncode == 0, f"signer set: {r.stdout}{r.stderr}")
        row = api.sql("SELECT kdf, params, salt, hash FROM signers WHERE name = ?",
                      ("Auditor Dana",))[0]
        ottest.check(row[0] == "scrypt" and "N=" in row[1] and len(row[2]) == 32
                     and len(row[3]) == 64 and PIN not in json.dumps(row), f"stored: {row}")

        body = {"meaning": "reviewed", "statement": "Trail reviewed, temperatures acceptable",
                "pin": PIN}
        # roles and validation
        s, j, _ = api.req("POST", url, body, crew)
        ottest.check(s == 403, f"crew may not sign: {s} {j}")
        s, j, _ = api.req("POST", url, dict(body, meaning="approved"), aud)
        ottest.check(s == 400, f"unknown meaning: {s} {j}")
        s, j, _ = api.req("POST", url, body, coord)
        ottest.check(s == 403 and j["error"]["code"] == "pin_not_set", f"no PIN set: {s} {j}")

        # right PIN: a signed entry
        s, e, _ = api.req("POST", url, body, aud)
        ottest.check(s == 201 and e["type"] == "signed" and e["meaning"] == "reviewed"
                     and e["actor"]["name"] == "Auditor Dana" and e["actor"]["role"] == "auditor"
                     and e["comment"] == body["statement"], f"sign: {s} {e}")

        # wrong PIN: 403, audited, no entry
        n0 = len(api.req("GET", f"/api/v1/shipments/{sid}/custody", token=aud)[1]["items"])
        s, j, _ = api.req("POST", url, dict(body, pin="000000"), aud)
        ottest.check(s == 403 and j["error"]["code"] == "wrong_pin", f"wrong PIN: {s} {j}")
        n1 = len(api.req("GET", f"/api/v1/shipments/{sid}/custody", token=aud)[1]["items"])
        ottest.check(n1 == n0, "a wrong PIN appended an entry")
        audit = api.sql("SELECT actor_name, detail FROM audit WHERE action = 'signature.refused'"
                        " AND actor_name = 'Auditor Dana'")
        ottest.check(len(audit) == 1 and audit[0][0] == "Auditor Dana"
                     and json.loads(audit[0][1])["reason"] == "wrong_pin"
                     and "000000" not in audit[0][1], f"refusal audited: {audit}")
        logs = api.proc.log() if hasattr(api.proc, "log") else ""
        ottest.check(PIN not in logs and "000000" not in logs, "a PIN is in the log")

        # lock-out: four more wrong PINs (five in all); then even the right PIN waits
        for i in range(4):
            s, j, h = api.req("POST", url, dict(body, pin=f"99999{i}"), aud)
        ottest.check(s == 429 and j["error"]["code"] == "signer_locked" and "Retry-After" in h,
                     f"fifth wrong PIN locks: {s} {j} {h}")
        s, j, _ = api.req("POST", url, body, aud)
        ottest.check(s == 429 and j["error"]["code"] == "signer_locked", f"locked: {s} {j}")
        # 14 min later (attempts moved back): still locked; 16 min later: free
        api.sql("UPDATE signer_failures SET at = at - 14 * 60000")
        s, j, _ = api.req("POST", url, body, aud)
        ottest.check(s == 429, f"still locked after 14 min: {s} {j}")
        api.sql("UPDATE signer_failures SET at = at - 2 * 60000")
        s, e2, _ = api.req("POST", url, body, aud)
        ottest.check(s == 201 and e2["type"] == "signed", f"released after 15 min: {s} {e2}")
        left = api.sql("SELECT count(*) FROM signer_failures")[0][0]
        ottest.check(left == 0, f"a right PIN clears the failures: {left}")

        # a closed shipment takes a signature, not a hand-off
        for t in ("departed", "received"):
            s, j, _ = api.req("POST", f"/api/v1/shipments/{sid}/custody", {"type": t}, crew)
            ottest.check(s == 201, f"{t}: {s} {j}")
        s, j, _ = api.req("PATCH", f"/api/v1/shipments/{sid}",
                          {"status": "closed", "comment": "transplanted"}, coord)
        ottest.check(s == 200 and j["status"] == "closed", f"close: {s} {j}")
        r = signer_set(api, "Coordinator Aliya", "coord-pin-77")
        ottest.check(r.returncode == 0, r.stderr)
        s, e3, _ = api.req("POST", url, {"meaning": "released", "statement": "Released for filing",
                                         "pin": "coord-pin-77"}, coord)
        ottest.check(s == 201 and e3["meaning"] == "released", f"sign closed: {s} {e3}")
        s, j, _ = api.req("POST", f"/api/v1/shipments/{sid}/custody",
                          {"type": "handoff", "from": "A", "to": "B", "witness": "C"}, crew)
        ottest.check(s == 409, f"hand-off on a closed shipment: {s} {j}")

        # the bundle verifies and prints each signature; an altered one fails
        s, bundle, _ = api.req("GET", f"/api/v1/shipments/{sid}/export?format=bundle", token=aud)
        ottest.check(s == 200, f"bundle: {s}")
        bpath = env.path("bundle.json")
        with open(bpath, "w") as f:
            json.dump(bundle, f)
        r = verify(bpath)
        ottest.check(r.returncode == 0 and r.stdout.startswith("OK"), r.stdout + r.stderr)
        sig_lines = [l for l in r.stdout.splitlines() if l.startswith("signature ")]
        ottest.check(len(sig_lines) == 3 and 'name="Auditor Dana"' in sig_lines[0]
                     and "meaning=reviewed" in sig_lines[0] and "meaning=released" in sig_lines[2]
                     and "time=20" in sig_lines[0], f"verify prints signatures: {r.stdout}")
        r = verify(api.db)
        ottest.check(r.returncode == 0 and r.stdout.count("\nsignature ") == 3, r.stdout + r.stderr)
        for field, value in (("meaning", "released"), ("comment", "Nothing reviewed")):
            bad = json.loads(json.dumps(bundle))
            signed = [e for e in bad["entries"] if e["type"] == "signed"][0]
            signed[field] = value
            with open(bpath, "w") as f:
                json.dump(bad, f)
            r = verify(bpath)
            ottest.check(r.returncode == 1 and r.stdout.startswith("FAIL")
                         and f"entry={signed['index']}" in r.stdout,
                         f"altered {field} must fail: {r.stdout}")

        # CSV carries the signature columns
        s, csv, _ = api.req("GET", f"/api/v1/shipments/{sid}/export?format=csv", token=aud)
        ottest.check(s == 200 and "signature_meaning" in csv
                     and ",reviewed" in csv and ",released" in csv, f"csv: {csv[:400]}")
        # EPCIS: each signature is an ObjectEvent the EPCIS 2.0 schema accepts
        s, doc, _ = api.req("GET", f"/api/v1/shipments/{sid}/export?format=epcis", token=aud)
        ottest.check(s == 200, f"epcis: {s}")
        epath = env.path("epcis.jsonld")
        with open(epath, "w") as f:
            json.dump(doc, f)
        r = subprocess.run(["node", VALIDATE, epath], capture_output=True, text=True, timeout=60)
        ottest.check(r.returncode == 0, f"EPCIS validation: {r.stdout}{r.stderr}")
        sigs = [e for e in doc["epcisBody"]["eventList"] if e.get("ot:custodyType") == "signed"]
        ottest.check(len(sigs) == 3 and sigs[2]["ot:signatureMeaning"] == "released"
                     and sigs[2]["disposition"] == "conformant"
                     and sigs[0]["ot:actor"]["ot:name"] == "Auditor Dana", f"epcis: {sigs}")


if __name__ == "__main__":
    ottest.main(test_signatures)
