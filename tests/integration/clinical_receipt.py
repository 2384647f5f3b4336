"""clinical_receipt (issue 12): identity at receipt, the end of ischaemia,
incidents.
- a DIN with a wrong ISO 7064 mod 37-2 check character is refused, naming it;
- checkin with a wrong laterality: stored as stated, critical
  identity_mismatch, an open incident due five days later; a right one: no
  alarm;
- reperfused (at, in the past) ends cold ischaemia (ended_at, total_min),
  and the collector clears its ischaemia alarm and raises it no more;
- incidents: overdue against the server clock (opened_at moved into the
  past, no sleep), in /metrics; coordinators answer and close, auditors
  read only."""
import ottest
from api_common import Api
from collector_lib import Client, collector_config, reading, start_collector

MIN = 60_000
DAY = 24 * 60 * MIN


def din_check(din13):
    """ISO 7064 mod 37-2 from its definition (sum + check = 1 mod 37)."""
    alpha = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"
    s = sum(alpha.index(c) * pow(2, 13 - i, 37) for i, c in enumerate(din13)) % 37
    return alpha[(1 - s) % 37]


def test():
    with ottest.Env("clinical-receipt") as env:
        broker = env.mosquitto()
        api = Api(env).start()
        cfg = collector_config(env, broker, {"database": api.db})
        start_collector(env, cfg)
        coord = api.token("coordinator", "coord")
        aud = api.token("auditor", "aud")
        crew = api.token("crew", "crew", ["RCPT-1", "RCPT-2"])

        k = din_check("W123426123456")
        wrong = "A" if k != "A" else "B"
        s, j, _ = api.req("POST", "/api/v1/shipments",
                          api.shipment_body("RCPT-1", donation_code=f"W1234 26 123456 00 {wrong}"),
                          coord)
        ottest.check(s == 400 and f"check character {wrong} is wrong" in j["error"]["message"] and
                     f"gives {k}" in j["error"]["message"], f"wrong DIN check: {s} {j}")

        clamp = ottest.now_ms() - 300 * MIN  # heart: warning at 241 min, limit 360
        ship = api.create_shipment(coord, "RCPT-1", profile="heart", laterality="left", abo="O-",
                                   donation_code=f"W1234 26 123456 00 {k}",
                                   cross_clamp_at=ottest.iso(clamp))
        sid = ship["id"]
        cl = Client(broker.port)
        cl.readings("RCPT-1", [reading(1, ts=ottest.now_ms())])
        cl.wait_ack("RCPT-1", 1)
        ottest.wait_for(lambda: api.sql("SELECT id FROM alarms WHERE shipment_id=? AND "
                                        "type='ischemia_warn' AND state='raised'", (sid,)),
                        timeout=20, what="ischemia_warn raised by the collector's tick")

        label = {"donation_code": ship["donation_code"], "profile": "heart",
                 "laterality": "right", "abo": "O-"}
        s, j, _ = api.req("POST", f"/api/v1/shipments/{sid}/custody",
                          {"type": "checkin", "verify": label}, crew)
        ottest.check(s == 400 and "witness" in j["error"]["message"], f"needs a witness: {s} {j}")
        s, e, _ = api.req("POST", f"/api/v1/shipments/{sid}/custody",
                          {"type": "checkin", "verify": label, "witness": "Nurse B"}, crew)
        ottest.check(s == 201 and e["type"] == "checkin", f"checkin stored: {s} {e}")
        ottest.check("laterality=right" in e["comment"] and
                     "laterality (label right, shipment left)" in e["comment"],
                     f"stored as stated, difference named: {e['comment']}")
        rows = api.sql("SELECT severity, state, message FROM alarms WHERE shipment_id=? AND "
                       "type='identity_mismatch'", (sid,))
        ottest.check(len(rows) == 1 and rows[0][0] == "critical" and rows[0][1] == "raised",
                     f"critical identity_mismatch: {rows}")
        s, inc, _ = api.req("GET", f"/api/v1/incidents?shipment={sid}", token=aud)
        ottest.check(s == 200 and len(inc["items"]) == 1, f"one incident: {s} {inc}")
        i = inc["items"][0]
        ottest.check(i["kind"] == "identity_mismatch" and i["state"] == "open" and
                     i["overdue"] is False, f"{i}")
        got = api.sql("SELECT opened_at, due_at FROM incidents WHERE id=?", (i["id"],))[0]
        ottest.check(got[1] - got[0] == 5 * DAY, f"due five days later: {got}")

        # the right label on another shipment: no alarm, no incident
        other = api.create_shipment(coord, "RCPT-2", profile="kidney", laterality="right")
        s, e, _ = api.req("POST", f"/api/v1/shipments/{other['id']}/custody",
                          {"type": "checkin", "witness": "Nurse C",
                           "verify": {"donation_code": other["donation_code"],
                                      "profile": "kidney", "laterality": "right"}}, crew)
        ottest.check(s == 201 and "matches" in e["comment"], f"right checkin: {s} {e}")
        n = api.sql("SELECT count(*) FROM alarms WHERE shipment_id=? AND "
                    "type='identity_mismatch'", (other["id"],))[0][0]
        ottest.check(n == 0, "no identity_mismatch for a right label")

        # reperfusion 10 min ago ends cold ischaemia
        at = ottest.now_ms() - 10 * MIN
        s, j, _ = api.req("POST", f"/api/v1/shipments/{sid}/custody",
                          {"type": "reperfused", "at": ottest.iso(at - 7 * 60 * MIN)}, crew)
        ottest.check(s == 400 and "6 h" in j["error"]["message"], f"too far back: {s} {j}")
        s, j, _ = api.req("POST", f"/api/v1/shipments/{sid}/custody",
                          {"type": "reperfused", "at": ottest.iso(at)}, crew)
        ottest.check(s == 201, f"reperfused: {s} {j}")
        s, sh, _ = api.req("GET", f"/api/v1/shipments/{sid}", token=coord)
        total = (at - clamp) / MIN
        ottest.check(sh["ischemia"]["ended_at"] is not None and
                     abs(sh["ischemia"]["total_min"] - total) < 0.2 and
                     abs(sh["ischemia"]["elapsed_min"] - total) < 0.2,
                     f"ischaemia ended: {sh['ischemia']} (want {total:.1f})")
        ottest.wait_for(lambda: api.sql("SELECT id FROM alarms WHERE shipment_id=? AND "
                                        "type='ischemia_warn' AND state='cleared'", (sid,)),
                        timeout=20, what="ischemia_warn cleared at reperfusion")
        s, j, _ = api.req("POST", f"/api/v1/shipments/{sid}/custody",
                          {"type": "reperfused"}, crew)
        ottest.check(s == 409, f"reperfused twice refused: {s} {j}")

        # overdue by the server clock: move opened_at/due_at six days back
        now = ottest.now_ms()
        api.dbq.execute("UPDATE incidents SET opened_at=?, due_at=? WHERE id=?",
                        (now - 6 * DAY, now - 1 * DAY, i["id"]))
        s, inc, _ = api.req("GET", "/api/v1/incidents?state=open", token=coord)
        ottest.check(s == 200 and inc["items"][0]["overdue"] is True, f"overdue: {inc}")
        s, m, _ = api.req("GET", "/metrics", token=aud)
        ottest.check("organtrack_incidents_overdue 1" in m, "overdue count in /metrics")

        # auditors read only; coordinators answer and close
        s, j, _ = api.req("PATCH", f"/api/v1/incidents/{i['id']}",
                          {"state": "answered", "answer": "x"}, aud)
        ottest.check(s == 403, f"auditor cannot answer: {s}")
        s, j, _ = api.req("PATCH", f"/api/v1/incidents/{i['id']}", {"state": "answered"}, coord)
        ottest.check(s == 409 and "answer" in j["error"]["message"], f"answer required: {s} {j}")
        s, j, _ = api.req("PATCH", f"/api/v1/incidents/{i['id']}",
                          {"state": "answered", "owner": "QA lead",
                           "answer": "label printed with the wrong side; relabelled"}, coord)
        ottest.check(s == 200 and j["state"] == "answered" and j["overdue"] is False and
                     j["owner"] == "QA lead", f"answered: {s} {j}")
        s, j, _ = api.req("PATCH", f"/api/v1/incidents/{i['id']}", {"state": "closed"}, coord)
        ottest.check(s == 200 and j["state"] == "closed" and j["closed_at"], f"closed: {s} {j}")
        s, m, _ = api.req("GET", "/metrics", token=aud)
        ottest.check("organtrack_incidents_overdue 0" in m, "none overdue after the answer")

        # a complaint by hand
        s, j, _ = api.req("POST", "/api/v1/incidents",
                          {"shipment_id": sid, "detail": "family asked about the delay"}, coord)
        ottest.check(s == 201 and j["kind"] == "complaint" and j["state"] == "open", f"{s} {j}")
        s, j, _ = api.req("POST", "/api/v1/incidents", {"detail": "x"}, aud)
        ottest.check(s == 403, f"auditor cannot open: {s}")

        # opened by themselves: declared lost readings (collector), a discard (API)
        cl.readings("RCPT-1", [reading(5, ts=ottest.now_ms())], lost=[[2, 4]])
        cl.wait_ack("RCPT-1", 5)
        ottest.wait_for(lambda: api.sql("SELECT id FROM incidents WHERE shipment_id=? AND "
                                        "kind='lost_readings'", (sid,)),
                        timeout=20, what="lost_readings incident")
        s, j, _ = api.req("PATCH", f"/api/v1/shipments/{other['id']}",
                          {"status": "discarded", "comment": "damaged packaging"}, coord)
        ottest.check(s == 200, f"discarded: {s} {j}")
        kinds = [r[0] for r in api.sql("SELECT kind FROM incidents WHERE shipment_id=?",
                                       (other["id"],))]
        ottest.check(kinds == ["discarded"], f"discard opened an incident: {kinds}")

        # the review board's figures
        s, j, _ = api.req("GET", "/api/v1/stats", token=crew)
        ottest.check(s == 403, f"crew gets no stats: {s}")
        s, st, _ = api.req("GET", "/api/v1/stats?from=" + ottest.iso(now - 30 * DAY), token=aud)
        ottest.check(s == 200, f"stats: {s} {st}")
        ottest.check(st["shipments"]["total"] == 2 and
                     st["shipments"]["by_organ"] == {"heart": 1, "kidney": 1} and
                     st["shipments"]["by_mode"] == {"mixed": 2}, f"shipments: {st}")
        ottest.check(abs(st["median_cold_ischemia_min"]["heart"] - total) < 0.2 and
                     "kidney" not in st["median_cold_ischemia_min"], f"median: {st}")
        ottest.check(st["delivered"] == 0 and st["delivered_within_limit_pct"] is None, f"{st}")
        ottest.check(st["incidents"] == {"opened": 4, "answered_in_time": 0, "overdue": 0},
                     f"incidents (the mismatch was answered a day late): {st['incidents']}")
        s, j, _ = api.req("GET", "/api/v1/stats?from=2026-13-01", token=aud)
        ottest.check(s == 400 and "from" in j["error"]["message"], f"bad from: {s} {j}")
        cl.close()


if __name__ == "__main__":
    test()
