"""The smaller findings of issue 15 on the API, each a check: 413, 414 and
431 answer in the JSON error shape (before: 414 and 431 were libmicrohttpd's
HTML pages); a refused event stream answers 503 with the documented code
`busy` (before: `too_many_streams`); a cross-clamp 4 min in the future
(inside clock_skew_min) shows elapsed_min 0 and never more time remaining
than the limit (before: elapsed_min -4 and remaining limit + 4). Tried with
a 40 KB request target, a 40 KB header, a 70 KB body, one stream too many.
What proves nothing was lost: after each refusal the same connection kind
still gets normal answers (health 200, the first stream still delivers)."""
import http.client
import json

import api_common
import ottest


def raw(api, method, path, headers=None, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", api.port, timeout=10)
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    data = r.read()
    ctype = r.getheader("Content-Type", "")
    conn.close()
    return r.status, ctype, data


def test_limits():
    with ottest.Env("api-limits") as env:
        api = api_common.Api(env, {"sse_max_clients": 1}).start()
        coord = api.token("coordinator", "Coordinator Aliya")
        for what, (method, path, headers, body), status, code in (
                ("uri", ("GET", "/api/v1/health?x=" + "a" * 40000, None, None), 414,
                 "uri_too_long"),
                ("header", ("GET", "/api/v1/health", {"X-Big": "a" * 40000}, None), 431,
                 "headers_too_large"),
                ("body", ("POST", "/api/v1/shipments", {"Authorization": f"Bearer {coord}",
                          "Content-Type": "application/json"}, b"{" + b" " * 70000 + b"}"),
                 413, "too_large")):
            s, ctype, data = raw(api, method, path, headers, body)
            ottest.check(s == status and ctype.startswith("application/json"),
                         f"{what}: {s} {ctype} {data[:80]!r}")
            ottest.check(json.loads(data)["error"]["code"] == code, f"{what}: {data[:200]!r}")
            s, _, _ = api.req("GET", "/api/v1/health")
            ottest.check(s == 200, f"health after the {what} refusal: {s}")

        st = api_common.SseStream(api, coord)
        s, j, _ = api.req("GET", "/api/v1/events", token=coord,
                          headers={"Accept": "text/event-stream"})
        ottest.check(s == 503 and j["error"]["code"] == "busy", f"second stream: {s} {j}")
        sid = api.create_shipment(coord, "KZ-LIM-1",
                                  cross_clamp_at=ottest.iso(ottest.now_ms() + 4 * 60000))["id"]
        ev = st.next_event()
        ottest.check(ev["data"]["shipment_id"] == sid, f"the first stream still delivers: {ev}")
        st.close()
        s, j, _ = api.req("GET", f"/api/v1/shipments/{sid}", token=coord)
        isch = j["ischemia"]
        ottest.check(s == 200 and isch["elapsed_min"] == 0
                     and isch["remaining_min"] <= isch["limit_min"],
                     f"future cross-clamp: {isch}")


if __name__ == "__main__":
    ottest.main(test_limits)
