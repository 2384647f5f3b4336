"""NUL, other control characters and invalid UTF-8 are refused in every
string field class, with a 400 naming the field (issue 15 finding 4), and no
error message echoes raw bytes. Tried: "\\u0000" (which cJSON would decode
into a C string that ends there: "nul \\u0000 inside" was stored as "nul "
and hashed into the custody trail), "\\u0001", "\\u007f", "\\f" (a short
escape fuzz_json_text found slipping through the first version), a lone surrogate
"\\ud800" and raw 0xff bytes, in a custody comment, a token name, every
shipment string (container, profile, donation_code, origin/destination
name, mode), a PATCH comment, an alarm acknowledgement comment, a nested
key, and a config file string; and a 404 path with invalid UTF-8. Before:
NUL was accepted and the value silently truncated. What proves nothing was
lost: every refusal is 400 invalid_field naming the field, and afterwards
the custody trail, the token list, the shipments and the alarm are exactly
as before (counted), while the same bodies without the bad character
succeed and are stored whole."""
import http.client
import json
import os
import socket
import subprocess

import api_common
import ottest

BAD = [("\\u0000", "control"), ("\\u0001", "control"), ("\\u007f", "control"), ("\\f", "control"),
       ("\\ud800", "UTF-8")]


def raw_req(api, method, path, body_bytes, token):
    conn = http.client.HTTPConnection("127.0.0.1", api.port, timeout=10)
    h = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    conn.request(method, path, body=body_bytes, headers=h)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, data


def refused(api, method, path, body_text, token, field):
    """body_text is JSON text holding the marker @@ where the bad thing goes."""
    for esc, kind in BAD + [(None, "UTF-8")]:
        data = (body_text.replace("@@", esc).encode() if esc else
                body_text.replace("@@", "").encode().replace(b"BADHERE", b"\xff\xfe")
                if "BADHERE" in body_text else body_text.replace("@@", "\xff").encode("latin-1"))
        s, payload = raw_req(api, method, path, data, token)
        payload.decode("utf-8")  # the answer itself is valid UTF-8
        j = json.loads(payload)
        ottest.check(s == 400 and j["error"]["code"] == "invalid_field"
                     and j["error"]["message"].startswith(field + ":")
                     and kind in j["error"]["message"],
                     f"{method} {path} {field} {esc!r}: {s} {j}")


def test_strings():
    with ottest.Env("api-strings") as env:
        api = api_common.Api(env).start()
        admin = api.token("admin", "Admin")
        coord = api.token("coordinator", "Coordinator Aliya")
        ship = api.create_shipment(coord, "KZ-STR-1")
        sid = ship["id"]
        aid = api.add_alarm(sid, "KZ-STR-1")
        before = {t: api.sql(f"SELECT count(*) FROM {t}")[0][0]
                  for t in ("custody", "tokens", "shipments", "audit")}

        refused(api, "POST", f"/api/v1/shipments/{sid}/custody",
                '{"type":"note","comment":"nul @@ inside"}', coord, "comment")
        refused(api, "POST", "/api/v1/tokens", '{"role":"auditor","name":"c@@x"}', admin, "name")
        base = api.shipment_body("KZ-STR-2")
        for field in ("container", "profile", "donation_code", "mode"):
            b = dict(base)
            b[field] = "X@@Y"
            refused(api, "POST", "/api/v1/shipments", json.dumps(b).replace("X@@Y", "X@@Y"),
                    coord, field)
        for side in ("origin", "destination"):
            b = json.loads(json.dumps(base))
            b[side]["name"] = "X@@Y"
            refused(api, "POST", "/api/v1/shipments", json.dumps(b), coord, f"{side}.name")
        refused(api, "PATCH", f"/api/v1/shipments/{sid}",
                '{"status":"discarded","comment":"why @@"}', coord, "comment")
        refused(api, "POST", f"/api/v1/alarms/{aid}/ack", '{"comment":"seen @@"}', coord,
                "comment")
        refused(api, "POST", f"/api/v1/shipments/{sid}/custody",
                '{"type":"note","k@@ey":"x"}', coord, "(key)")

        after = {t: api.sql(f"SELECT count(*) FROM {t}")[0][0] for t in before}
        ottest.check(after == before, f"nothing written: {before} -> {after}")
        s, j, _ = api.req("GET", f"/api/v1/shipments/{sid}", token=coord)
        ottest.check(j["status"] == ship["status"], "shipment unchanged")
        ottest.check(api.sql("SELECT state FROM alarms WHERE id=?", (aid,))[0][0] == "raised",
                     "alarm not acknowledged")
        # the same without the bad character works, stored whole (UTF-8 included)
        s, j, _ = api.req("POST", f"/api/v1/shipments/{sid}/custody",
                          {"type": "note", "comment": "nul inside Астана"}, coord)
        ottest.check(s == 201, f"plain comment: {s} {j}")
        got = api.sql("SELECT comment FROM custody ORDER BY idx DESC LIMIT 1")[0][0]
        ottest.check(got == "nul inside Астана", f"stored whole: {got!r}")

        # a 404 path with invalid UTF-8 is not echoed byte for byte
        for target in (b"/api/v1/nope\xff\xfe%01", b"/api/v1/nope%FF%FE%01"):
            sk = socket.create_connection(("127.0.0.1", api.port), timeout=10)
            sk.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            resp = b""
            while True:
                chunk = sk.recv(65536)
                if not chunk:
                    break
                resp += chunk
            sk.close()
            head, _, payload = resp.partition(b"\r\n\r\n")
            status = int(head.split()[1])
            text = payload.decode("utf-8")  # raises on a raw byte echoed
            ottest.check(status == 404 and "\x01" not in text and json.loads(text)["error"],
                         f"404 echo {target!r}: {status} {payload!r}")

        # a config file string
        cfg = dict(api.config)
        path = env.path("bad.json")
        with open(path, "w") as f:
            f.write(json.dumps(cfg)[:-1] + ', "log_level": "info\\u0000debug"}')
        out = subprocess.run([os.path.join(ottest.BIN, "organtrack-api"), "--config", path],
                             capture_output=True, text=True, timeout=10)
        ottest.check(out.returncode == 1 and "log_level: contains a control character"
                     in out.stderr, f"config NUL: {out.returncode} {out.stderr}")


if __name__ == "__main__":
    ottest.main(test_strings)
