"""Bad input gets a 4xx that names the problem, never a 5xx: every field of
the create-shipment body, malformed JSON, oversized bodies (413, with and
without Content-Length), unknown ids and paths, query parameters, paging,
down-sampling, conflicts, custody rules, and static-file traversal."""
import random
import socket

import api_common
import ottest
from ottest import iso, now_ms
from ottest import check


def raw_http(port, data, read=65536):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        out = b""
        try:
            while True:
                chunk = s.recv(read)
                if not chunk:
                    break
                out += chunk
                if b"\r\n\r\n" in out and len(out) > 200:
                    break
        except (ConnectionResetError, socket.timeout):
            pass
        return out


def test_api_validation():
    with ottest.Env("api-validation") as env:
        api = api_common.Api(env, {"max_body_bytes": 4096})
        coord = api.token("coordinator", "coord")
        crew = api.token("crew", "crew-a", ["KZ-A"])
        api.start()
        statuses = []

        def call(method, path, body=None, token=coord, **kw):
            s, j, h = api.req(method, path, body, token, **kw)
            statuses.append((method, path, s))
            return s, j, h

        def bad_field(body, field, code=400):
            s, j, _ = call("POST", "/api/v1/shipments", body)
            check(s == code, f"{field}: status {s} {j}")
            check(field in j["error"]["message"], f"{field} not named: {j}")

        good = api.shipment_body("KZ-A")
        cases = [
            ({"container": "bad id!"}, "container"),
            ({"container": "x" * 65}, "container"),
            ({"container": 17}, "container"),
            ({"profile": "nope"}, "profile"),
            ({"profile": ""}, "profile"),
            ({"donation_code": ""}, "donation_code"),
            ({"donation_code": "x" * 65}, "donation_code"),
            ({"donation_code": "a\nb"}, "donation_code"),
            ({"donation_code": "DIN<script>"}, "donation_code"),
            ({"cross_clamp_at": "yesterday"}, "cross_clamp_at"),
            ({"cross_clamp_at": "2026-13-01T00:00:00Z"}, "cross_clamp_at"),
            ({"cross_clamp_at": iso(now_ms() + 3600_000)}, "cross_clamp_at"),
            ({"cross_clamp_at": iso(now_ms() - 30 * 86400_000)}, "cross_clamp_at"),
            ({"origin": "Oral"}, "origin"),
            ({"origin": {"name": "Oral", "lat": 91, "lon": 51}}, "origin.lat"),
            ({"origin": {"name": "Oral", "lat": 51, "lon": "east"}}, "origin.lon"),
            ({"origin": {"lat": 51, "lon": 51}}, "origin.name"),
            ({"origin": {"name": "Oral", "lat": 51, "lon": 51, "x": 1}}, "origin.x"),
            ({"destination": {"name": "Astana", "lat": 51, "lon": -181}}, "destination.lon"),
            ({"mode": "boat"}, "mode"),
            ({"patient_name": "John"}, "patient_name"),
        ]
        for over, field in cases:
            b = dict(good)
            b.update(over)
            bad_field(b, field)
        for missing in ["container", "profile", "donation_code", "cross_clamp_at", "origin",
                        "destination", "mode"]:
            b = dict(good)
            del b[missing]
            bad_field(b, missing)

        # malformed bodies
        for raw in [b"{", b"[1,2]", b"", b"null", b"{\"a\":1} trailing", b"\xff\xfe"]:
            s, j, _ = call("POST", "/api/v1/shipments", raw=raw,
                           headers={"Content-Type": "application/json"})
            check(s == 400 and j["error"]["code"] == "bad_json", f"raw {raw!r}: {s} {j}")
        # oversized: with Content-Length, refused before reading
        s, j, _ = call("POST", "/api/v1/shipments", raw=b"{" + b" " * 5000 + b"}")
        check(s == 413 and "body" in j["error"]["message"], f"413: {s} {j}")
        # oversized, chunked (no Content-Length): refused after the cap
        chunk = b"x" * 3000
        req = (f"POST /api/v1/shipments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {coord}\r\n"
               "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n").encode()
        for _ in range(3):
            req += b"%x\r\n" % len(chunk) + chunk + b"\r\n"
        req += b"0\r\n\r\n"
        out = raw_http(api.port, req)
        check(out.startswith(b"HTTP/1.1 413"), f"chunked 413: {out[:80]!r}")

        # create, then conflicts and state rules
        ship = call("POST", "/api/v1/shipments", good)[1]
        sid = ship["id"]
        check(ship["status"] == "created" and ship["ischemia"]["limit_min"] > 0, f"{ship}")
        check(ship["ischemia"]["elapsed_min"] >= 59, f"elapsed {ship['ischemia']}")
        check(ship["band"]["temp_min_c"] < ship["band"]["temp_max_c"], "band")
        s, j, _ = call("POST", "/api/v1/shipments", good)
        check(s == 409 and "container" in j["error"]["message"], f"second open: {s} {j}")
        s, j, _ = call("PATCH", f"/api/v1/shipments/{sid}", {"status": "delivered"})
        check(s == 409, f"created->delivered must be refused: {s} {j}")
        s, j, _ = call("PATCH", f"/api/v1/shipments/{sid}", {"status": "lost"})
        check(s == 400 and "status" in j["error"]["message"], f"bad status: {s} {j}")
        s, j, _ = call("PATCH", f"/api/v1/shipments/{sid}", {"status": "in_transit", "x": 1})
        check(s == 400 and "x" in j["error"]["message"], f"unknown key: {s} {j}")

        # custody validation
        s, j, _ = call("POST", f"/api/v1/shipments/{sid}/custody",
                       {"type": "handoff", "from": "A", "to": "B"})
        check(s == 400 and "witness" in j["error"]["message"], f"witness: {s} {j}")
        s, j, _ = call("POST", f"/api/v1/shipments/{sid}/custody", {"type": "teleported"})
        check(s == 400 and "type" in j["error"]["message"], f"type: {s} {j}")
        s, j, _ = call("POST", f"/api/v1/shipments/{sid}/custody",
                       {"type": "note", "place": {"lat": 100, "lon": 0}})
        check(s == 400 and "place.lat" in j["error"]["message"], f"place: {s} {j}")
        s, j, _ = call("POST", f"/api/v1/shipments/{sid}/custody", {"type": "received"},
                       token=crew)
        check(s in (409, 422) and j["error"]["message"], f"received before departed: {s} {j}")
        s, j, _ = call("POST", f"/api/v1/shipments/{sid}/custody",
                       {"type": "handoff", "from": "A", "to": "B", "witness": "W",
                        "seal": "S-1", "place": {"lat": 51.2, "lon": 51.4}}, token=crew)
        check(s == 201 and "hash" in j and "index" in j, f"handoff: {s} {j}")
        s, j, _ = call("POST", f"/api/v1/shipments/{sid}/custody", {"type": "departed"})
        check(s == 201, f"departed: {s} {j}")
        check(call("GET", f"/api/v1/shipments/{sid}")[1]["status"] == "in_transit",
              "departed moves the shipment in transit")

        # unknown things
        for path in ["/api/v1/shipments/999999", "/api/v1/shipments/999999/readings",
                     "/api/v1/shipments/999999/alarms", "/api/v1/shipments/999999/custody",
                     "/api/v1/shipments/abc", "/api/v1/shipments/0", "/api/v1/nothing",
                     "/api/v2/shipments", "/missing.css", "/.secret", "/a/../../outside.txt"]:
            s, j, _ = call("GET", path)
            check(s == 404 and j["error"]["code"] == "not_found", f"{path}: {s} {j}")
        s, j, _ = call("POST", "/api/v1/alarms/999999/ack", {})
        check(s == 404, f"unknown alarm: {s} {j}")
        s, j, _ = call("PUT", "/api/v1/shipments", good)
        check(s == 405, f"PUT: {s}")
        s, j, _ = call("POST", "/index.html", {})
        check(s == 405, f"POST static: {s}")
        for path in ["/../outside.txt", "/%2e%2e/outside.txt", "/web/../outside.txt",
                     "//etc/passwd", "/..%2foutside.txt"]:
            out = raw_http(api.port, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close"
                                     "\r\n\r\n".encode())
            check(out.startswith(b"HTTP/1.1 404") or out.startswith(b"HTTP/1.1 400"),
                  f"traversal {path}: {out[:60]!r}")
            check(b"outside the web root" not in out and b"root:" not in out, "leak")
        s, body, h = call("GET", "/")
        check(s == 200 and h.get("Content-Type", "").startswith("text/html"), f"index {h}")
        s, body, h = call("GET", "/app.js")
        check(s == 200 and "javascript" in h.get("Content-Type", ""), f"js {h}")

        # query parameters
        for path, name in [("/api/v1/shipments?limit=0", "limit"),
                           ("/api/v1/shipments?limit=501", "limit"),
                           ("/api/v1/shipments?limit=abc", "limit"),
                           ("/api/v1/shipments?status=bogus", "status"),
                           ("/api/v1/shipments?cursor=-1", "cursor"),
                           ("/api/v1/shipments?colour=red", "colour"),
                           (f"/api/v1/shipments/{sid}/readings?from=yesterday", "from"),
                           (f"/api/v1/shipments/{sid}/readings?to=-5", "to"),
                           (f"/api/v1/shipments/{sid}/readings?from=2000&to=1000", "to"),
                           (f"/api/v1/shipments/{sid}/readings?every=0", "every"),
                           (f"/api/v1/shipments/{sid}/readings?every=86401", "every"),
                           (f"/api/v1/shipments/{sid}/alarms?state=angry", "state"),
                           (f"/api/v1/shipments/{sid}/export?format=docx", "format"),
                           (f"/api/v1/shipments/{sid}/export?format=pdf&lang=de", "lang"),
                           (f"/api/v1/shipments/{sid}/export?format=csv&lang=kk", "lang"),
                           ("/api/v1/events?last_event_id=x", "last_event_id")]:
            s, j, _ = call("GET", path)
            check(s == 400 and name in j["error"]["message"], f"{path}: {s} {j}")

        # paging over shipments
        for i in range(7):
            call("POST", "/api/v1/shipments", api.shipment_body(f"KZ-P{i}"))
        seen, cursor, pages = [], None, 0
        while True:
            q = "/api/v1/shipments?status=active&limit=3" + (f"&cursor={cursor}" if cursor else "")
            s, j, _ = call("GET", q)
            check(s == 200 and len(j["items"]) <= 3, f"page: {s}")
            seen += [i["id"] for i in j["items"]]
            pages += 1
            cursor = j["next"]
            if cursor is None:
                break
        check(len(seen) == 8 and len(set(seen)) == 8 and pages == 3, f"paging {seen} {pages}")
        s, j, _ = call("GET", "/api/v1/shipments?status=created")
        check(s == 200 and all(i["status"] == "created" for i in j["items"]) and
              len(j["items"]) == 7, f"status=created {len(j['items'])}")

        # the page cache never serves a list older than the last write
        s, j, _ = call("GET", "/api/v1/shipments?status=active&limit=500")
        s, j, _ = call("GET", "/api/v1/shipments?status=active&limit=500")
        victim = seen[-1]
        check(victim in [i["id"] for i in j["items"]], "victim listed")
        s, _, _ = call("PATCH", f"/api/v1/shipments/{victim}", {"status": "discarded"})
        check(s == 200, "discard")
        s, j, _ = call("GET", "/api/v1/shipments?status=active&limit=500")
        check(victim not in [i["id"] for i in j["items"]], "cached list not invalidated")

        # readings: raw paging and down-sampling (average per bucket, seq/ts of the last)
        t0 = (now_ms() // 60000) * 60000 - 600_000
        api.add_readings(sid, "KZ-A", 60, t0, 1000, temp=lambda i: float(i % 10))
        s, j, _ = call("GET", f"/api/v1/shipments/{sid}/readings?limit=25")
        check(s == 200 and len(j["items"]) == 25 and j["next"], f"readings page {s}")
        got = [r["seq"] for r in j["items"]]
        while j["next"]:
            s, j, _ = call("GET", f"/api/v1/shipments/{sid}/readings?limit=25&cursor={j['next']}")
            got += [r["seq"] for r in j["items"]]
        check(got == list(range(1, 61)), f"readings seqs {got}")
        s, j, _ = call("GET", f"/api/v1/shipments/{sid}/readings?every=10")
        items = j["items"]
        check(len(items) == 6, f"6 buckets: {len(items)}")
        check(all(abs(b["temp_c"] - 4.5) < 1e-9 and b["n"] == 10 for b in items), f"{items[0]}")
        check(items[0]["seq"] == 10 and items[0]["ts"] == t0 + 9000, f"bucket last {items[0]}")
        check(items[0]["temp_c_min"] == 0 and items[0]["temp_c_max"] == 9, "min/max kept")
        s, j, _ = call("GET", f"/api/v1/shipments/{sid}/readings?every=10&limit=4")
        check(len(j["items"]) == 4 and j["next"], "bucket page")
        s, j2, _ = call("GET", f"/api/v1/shipments/{sid}/readings?every=10&limit=4&cursor={j['next']}")
        check([b["seq"] for b in j2["items"]] == [50, 60] and j2["next"] is None, f"{j2}")
        s, j, _ = call("GET", f"/api/v1/shipments/{sid}/readings?from={iso(t0 + 30000)}"
                              f"&to={t0 + 39999}")
        check([r["seq"] for r in j["items"]] == list(range(31, 41)), "from/to window")
        detail = call("GET", f"/api/v1/shipments/{sid}")[1]
        check(detail["latest"]["seq"] == 60 and detail["latest"]["temp_c"] == 9.0,
              f"latest {detail['latest']}")
        check(detail["eta"] is not None, f"eta estimated from speed: {detail}")

        # alarms: ack records who/when/comment; twice is a conflict
        aid = api.add_alarm(sid, "KZ-A")
        s, j, _ = call("GET", f"/api/v1/shipments/{sid}/alarms?state=raised")
        check(s == 200 and [a["id"] for a in j["items"]] == [aid], f"alarms {j}")
        check(call("GET", f"/api/v1/shipments/{sid}")[1]["alarms_active"] == 1, "alarms_active")
        s, j, _ = call("POST", f"/api/v1/alarms/{aid}/ack", {"comment": 5}, token=crew)
        check(s == 400 and "comment" in j["error"]["message"], f"comment type: {s} {j}")
        s, j, _ = call("POST", f"/api/v1/alarms/{aid}/ack", {"comment": "lid closed"}, token=crew)
        check(s == 200 and j["state"] == "acknowledged" and j["ack_comment"] == "lid closed"
              and "crew-a" in j["acked_by"] and j["acked_at"], f"ack {j}")
        s, j, _ = call("POST", f"/api/v1/alarms/{aid}/ack", {"comment": "again"})
        check(s == 409, f"second ack: {s}")

        # random garbage never causes a 5xx
        rnd = random.Random(5)
        for _ in range(150):
            n = rnd.randint(0, 300)
            raw = bytes(rnd.choice(b'{}[]":,0123456789abcdeftrunl \\') for _ in range(n))
            path = rnd.choice(["/api/v1/shipments", f"/api/v1/shipments/{sid}/custody",
                               f"/api/v1/shipments/{sid}", f"/api/v1/alarms/{aid}/ack",
                               "/api/v1/tokens"])
            method = "PATCH" if path == f"/api/v1/shipments/{sid}" else "POST"
            call(method, path, raw=raw)

        five = [x for x in statuses if x[2] >= 500]
        check(not five, f"5xx answers: {five[:5]}")
        check(api.proc.alive(), "server alive")
        print(f"{len(statuses)} requests, none 5xx")


if __name__ == "__main__":
    ottest.main(test_api_validation)
