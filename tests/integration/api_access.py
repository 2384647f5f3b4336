"""Every endpoint x every role, plus no token / a bad token / a revoked token:
asserts the exact status (401, 403, 2xx) from a table. Write endpoints get
a fresh target for every call that is expected to succeed, so the table
checks access, not the state a previous row left behind."""
import itertools

import api_common
import ottest
from ottest import check

ROLES = ["none", "bad", "revoked", "crew", "crew_other", "coordinator", "auditor", "admin"]
READ = {"crew": 200, "crew_other": 403, "coordinator": 200, "auditor": 200, "admin": 403}


def expect(ok_map):
    """401 for the three unauthenticated cases, else ok_map or 403."""
    m = {"none": 401, "bad": 401, "revoked": 401}
    for r in ROLES[3:]:
        m[r] = ok_map.get(r, 403)
    return m


def test_api_access():
    with ottest.Env("api-access") as env:
        api = api_common.Api(env)
        tok = {
            "crew": api.token("crew", "crew-a", ["KZ-A"]),
            "crew_other": api.token("crew", "crew-b", ["KZ-B"]),
            "coordinator": api.token("coordinator", "coord"),
            "auditor": api.token("auditor", "aud"),
            "admin": api.token("admin", "root"),
            "revoked": api.token("coordinator", "gone"),
            "bad": "ot_" + "0" * 64,
            "none": None,
        }
        rows = api.sql("SELECT id FROM tokens WHERE name = 'gone'")
        r = api.cli("token", "revoke", "--id", str(rows[0][0]))
        check(r.returncode == 0, f"revoke: {r.stderr}")
        api.start()
        coord = tok["coordinator"]
        ship = api.create_shipment(coord, "KZ-A")
        sid = ship["id"]
        counter = itertools.count(1)

        def fresh_shipment(container=None):
            c = container or f"KZ-X{next(counter)}"
            return api.create_shipment(coord, c)["id"]

        def fresh_alarm():
            return api.add_alarm(sid, "KZ-A")

        def fresh_token():
            s, j, _ = api.req("POST", "/api/v1/tokens", {"role": "auditor", "name": "tmp"},
                              tok["admin"])
            check(s == 201, f"token for revoke: {s} {j}")
            return j["id"]

        # (name, method, path-or-fn(role) -> (path, body), expected by role)
        table = [
            ("health", "GET", "/api/v1/health", {r: 200 for r in ROLES}),
            ("metrics", "GET", "/metrics",
             expect({"crew": 200, "crew_other": 200, "coordinator": 200, "auditor": 200,
                     "admin": 200})),
            ("static index", "GET", "/", {r: 200 for r in ROLES}),
            ("static js", "GET", "/app.js", {r: 200 for r in ROLES}),
            ("me", "GET", "/api/v1/me",
             expect({"crew": 200, "crew_other": 200, "coordinator": 200, "auditor": 200,
                     "admin": 200})),
            ("profiles", "GET", "/api/v1/profiles",
             expect({"crew": 200, "crew_other": 200, "coordinator": 200, "auditor": 200})),
            ("list shipments", "GET", "/api/v1/shipments?status=active",
             expect({"crew": 200, "crew_other": 200, "coordinator": 200, "auditor": 200})),
            ("create shipment", "POST",
             lambda role: ("/api/v1/shipments",
                           api.shipment_body(f"KZ-N{next(counter)}")),
             expect({"coordinator": 201})),
            ("shipment detail", "GET", f"/api/v1/shipments/{sid}", expect(READ)),
            ("close shipment", "PATCH",
             lambda role: (f"/api/v1/shipments/{fresh_shipment() if role == 'coordinator' else sid}",
                           {"status": "discarded", "comment": "table test"}),
             expect({"coordinator": 200})),
            ("readings", "GET", f"/api/v1/shipments/{sid}/readings?every=10", expect(READ)),
            ("alarms", "GET", f"/api/v1/shipments/{sid}/alarms", expect(READ)),
            ("ack alarm", "POST",
             lambda role: (f"/api/v1/alarms/{fresh_alarm()}/ack", {"comment": f"seen by {role}"}),
             expect({"crew": 200, "coordinator": 200})),
            ("custody trail", "GET", f"/api/v1/shipments/{sid}/custody", expect(READ)),
            ("custody append", "POST",
             lambda role: (f"/api/v1/shipments/{sid}/custody",
                           {"type": "note", "comment": f"note by {role}"}),
             expect({"crew": 201, "coordinator": 201})),
            ("export bundle", "GET", f"/api/v1/shipments/{sid}/export?format=bundle",
             expect({"coordinator": 200, "auditor": 200})),
            ("export epcis", "GET", f"/api/v1/shipments/{sid}/export?format=epcis",
             expect({"coordinator": 200, "auditor": 200})),
            ("export csv", "GET", f"/api/v1/shipments/{sid}/export?format=csv",
             expect({"coordinator": 200, "auditor": 200})),
            ("events", "GET", "/api/v1/events",
             expect({"crew": 200, "crew_other": 200, "coordinator": 200, "auditor": 200})),
            ("list tokens", "GET", "/api/v1/tokens", expect({"admin": 200})),
            ("create token", "POST",
             lambda role: ("/api/v1/tokens", {"role": "crew", "name": "c2",
                                              "containers": ["KZ-Z"]}),
             expect({"admin": 201})),
            ("revoke token", "DELETE",
             lambda role: (f"/api/v1/tokens/{fresh_token() if role == 'admin' else 1}", None),
             expect({"admin": 200})),
        ]
        failures = []
        n = 0
        for name, method, target, want in table:
            for role in ROLES:
                if callable(target):
                    path, body = target(role)
                else:
                    path, body = target, None
                status, j, hdrs = api.req(method, path, body, tok[role])
                n += 1
                if status != want[role]:
                    failures.append(f"{name} {method} {path} as {role}: {status} != "
                                    f"{want[role]} {j}")
                elif status >= 400:
                    # every error is {"error":{"code","message"}}
                    if not (isinstance(j, dict) and isinstance(j.get("error"), dict)
                            and j["error"].get("code") and j["error"].get("message")):
                        failures.append(f"{name} as {role}: bad error shape {j!r}")
        check(not failures, "\n".join(failures))
        print(f"{n} endpoint x role checks passed")

        # crew list only shows its own containers
        s, j, _ = api.req("GET", "/api/v1/shipments", token=tok["crew"])
        check(s == 200 and j["items"] and all(i["container"] == "KZ-A" for i in j["items"]),
              f"crew list scope: {j}")
        s, j, _ = api.req("GET", "/api/v1/shipments", token=tok["crew_other"])
        check(s == 200 and j["items"] == [], f"other crew sees nothing: {j}")
        # a token revoked over the API stops working at once
        s, j, _ = api.req("POST", "/api/v1/tokens", {"role": "auditor", "name": "short"},
                          tok["admin"])
        check(s == 201, "mint")
        t2, t2id = j["token"], j["id"]
        check(api.req("GET", "/api/v1/me", token=t2)[0] == 200, "fresh token works")
        check(api.req("DELETE", f"/api/v1/tokens/{t2id}", token=tok["admin"])[0] == 200, "revoke")
        check(api.req("GET", "/api/v1/me", token=t2)[0] == 401, "revoked token refused")
        # malformed Authorization headers are 401, never 5xx
        # ("bearer " in lower case is accepted: RFC 7235; api_revoke.py)
        for h in ["Bearer", "Bearer ", "Basic abc", "Bearer " + "x" * 300]:
            s, j, _ = api.req("GET", "/api/v1/me", headers={"Authorization": h})
            check(s == 401, f"authz {h[:20]!r}: {s}")
        # every write is audited with who and what
        rows = api.sql("SELECT actor_name, actor_role, action FROM audit")
        actions = {(a, r, act) for a, r, act in rows}
        for want in [("coord", "coordinator", "shipment.create"),
                     ("coord", "coordinator", "shipment.status"),
                     ("crew-a", "crew", "alarm.ack"), ("crew-a", "crew", "custody.append"),
                     ("root", "admin", "token.create"), ("root", "admin", "token.revoke"),
                     ("aud", "auditor", "export")]:
            check(want in actions, f"audit row {want} missing: {sorted(actions)}")
        check(api.proc.alive(), "server still running")


if __name__ == "__main__":
    ottest.main(test_api_access)
