"""GET /api/v1/events: a client receives a shipment created after it
connected; reconnecting with Last-Event-ID (header or ?last_event_id=)
yields only newer events; a crew stream carries only its containers;
heartbeat comments flow while idle; many idle streams do not starve the
worker threads; the server stops cleanly with streams open."""
import threading

import api_common
import ottest
from ottest import check


def test_api_sse():
    with ottest.Env("api-sse") as env:
        api = api_common.Api(env, {"threads": 2, "sse_max_clients": 40})
        coord = api.token("coordinator", "coord")
        crew = api.token("crew", "crew-a", ["KZ-A"])
        api.start()

        # a stream opened before anything happened sees the new shipment
        st = api_common.SseStream(api, coord)
        crew_st = api_common.SseStream(api, crew)
        ship_b = api.create_shipment(coord, "KZ-B")
        ev = st.next_event()
        check(ev["event"] == "shipment" and ev["data"]["kind"] == "shipment", f"{ev}")
        check(ev["data"]["data"]["shipment"]["id"] == ship_b["id"], f"{ev}")
        first_id = ev["id"]
        st.close()

        # while disconnected: two more changes
        ship_a = api.create_shipment(coord, "KZ-A")
        s, _, _ = api.req("PATCH", f"/api/v1/shipments/{ship_a['id']}",
                          {"status": "in_transit"}, coord)
        check(s == 200, "patch")

        # crew stream: only KZ-A events, in id order
        e1 = crew_st.next_event()
        e2 = crew_st.next_event()
        check(e1["data"]["container"] == "KZ-A" and e2["data"]["container"] == "KZ-A",
              f"crew scope {e1} {e2}")
        check(e1["id"] < e2["id"] and e1["id"] > first_id, "crew order")
        check(e2["data"]["data"]["status"] == "in_transit", f"{e2}")

        # resume with Last-Event-ID: exactly the newer events, no repeat
        st2 = api_common.SseStream(api, coord, last_event_id=first_id)
        r1 = st2.next_event()
        r2 = st2.next_event()
        check(r1["id"] > first_id and r2["id"] > r1["id"], f"resume ids {r1['id']} {r2['id']}")
        check(r1["data"]["data"]["shipment"]["id"] == ship_a["id"], f"{r1}")
        check(r2["data"]["data"]["change"] == "status", f"{r2}")
        # heartbeat comment while idle (sse_heartbeat_s = 1)
        ottest.wait_for(lambda: _read_comment(st2), timeout=6, what="heartbeat")
        st2.close()
        st3 = api_common.SseStream(api, coord, query=f"?last_event_id={r1['id']}")
        r3 = st3.next_event()
        check(r3["id"] == r2["id"], f"?last_event_id resume: {r3['id']} != {r2['id']}")
        st3.close()

        # EventSource cannot send headers: ?access_token= works on the stream only
        st4 = api_common.SseStream(api, None, query=f"?access_token={crew}&last_event_id=0")
        check(st4.next_event()["data"]["container"] == "KZ-A", "access_token stream is crew-scoped")
        st4.close()
        s, _, _ = api.req("GET", f"/api/v1/shipments?access_token={coord}")
        check(s == 401, f"access_token refused outside the stream: {s}")
        s, _, _ = api.req("GET", "/api/v1/events?access_token=ot_bad")
        check(s == 401, f"bad access_token: {s}")

        # 30 idle streams on 2 worker threads: ordinary requests still answer
        streams = [api_common.SseStream(api, coord) for _ in range(30)]
        s, j, _ = api.req("GET", "/api/v1/shipments?status=active", token=coord, timeout=5)
        check(s == 200 and len(j["items"]) == 2, f"list while streams open: {s}")
        s, txt, _ = api.req("GET", "/metrics", token=coord)
        gauge = [ln for ln in txt.splitlines() if ln.startswith("organtrack_sse_clients ")]
        n_open = int(gauge[0].split()[1])
        # 30 + the crew stream; closed ones count until their next write fails
        check(31 <= n_open <= 35, f"sse gauge counts open streams: {gauge}")
        # one change reaches all of them
        done = []

        def reader(sx):
            try:
                done.append(sx.next_event(timeout=10)["data"]["container"])
            except Exception as e:  # noqa: BLE001 - reported below
                done.append(repr(e))
        api.create_shipment(coord, "KZ-C")
        ts = [threading.Thread(target=reader, args=(sx,)) for sx in streams]
        for t in ts:
            t.start()
        for t in ts:
            t.join(15)
        check(done.count("KZ-C") == 30, f"fan-out {done[:3]}")
        # clean stop with open streams
        rc = api.proc.stop()
        check(rc == 0, f"exit code {rc}")
        check("stopped" in api.proc.log(), "logged stop")
        for sx in streams + [crew_st]:
            sx.close()


def _read_comment(st):
    line = st.resp.fp.readline().decode()
    return line.startswith(": heartbeat")


if __name__ == "__main__":
    ottest.main(test_api_sse)
