"""collector_alarm_late: a backlog replayed after a flight carries a
temperature excursion that happened in the past. The collector raises the
alarm with its true (past) time and late=1, publishes the retained alarm
list, calls the webhook, notices the acknowledgement the API writes into the
database, and clears the alarm when the temperature is back in band."""
import http.server
import json
import threading
import time

import ottest
from collector_lib import Client, collector_config, counter, q1, reading, start_collector

C = "KZ-LATE-0001"


class Hook(http.server.BaseHTTPRequestHandler):
    bodies = []
    calls = 0

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(n))
        Hook.calls += 1
        if Hook.calls == 1:  # the first delivery fails: the collector retries
            self.send_response(500)
            self.end_headers()
            return
        Hook.bodies.append(body)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *a):
        pass


def test():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    try:
        run(srv.server_address[1])
    finally:
        srv.shutdown()


def run(hook_port):
    with ottest.Env("collector-alarm-late") as env:
        broker = env.mosquitto()
        cfg = collector_config(env, broker, {
            "webhooks": [{"url": f"http://127.0.0.1:{hook_port}/hook", "events": ["alarm"]}]})
        col = start_collector(env, cfg)
        now = int(time.time() * 1000)
        w = ottest.Db(cfg["database"])
        ship = w.insert("INSERT INTO shipments(container,profile,donation_code,cross_clamp_at,"
                        "dest_lat,dest_lon,mode,status,created_at,created_by,updated_at) VALUES"
                        "(?,?,?,?,?,?,?,?,?,?,?)",
                        (C, "kidney", "DIN-TEST-1", now - 2 * 3600 * 1000, 51.13, 71.43, "ground",
                         "in_transit", now, "test", now))
        cl = Client(broker.port)

        # 40 minutes of backlog, one reading per 10 s; out of band from minute 10 on
        t0 = now - 40 * 60 * 1000
        exc_start = t0 + 10 * 60 * 1000
        rs = []
        for i in range(240):
            ts = t0 + i * 10000
            rs.append(reading(i + 1, ts=ts, temp=12.0 if ts >= exc_start else 4.0,
                              lat=51.2, lon=51.37, speed_kmh=60.0, gnss_fix=3))
        for k in range(0, len(rs), 20):
            cl.readings(C, rs[k:k + 20])
        cl.wait_ack(C, 240)
        row = ottest.wait_for(lambda: q1(cfg, "SELECT id FROM alarms WHERE shipment_id=? AND "
                                              "type='temp_excursion'", (ship,)),
                              what="temp_excursion alarm")
        raised_at, late, state = w.all(
            "SELECT raised_at, late, state FROM alarms WHERE id=?", (row,))[0]
        ottest.check(exc_start <= raised_at <= exc_start + 11 * 60 * 1000,
                     f"raised at its true time: {raised_at - exc_start} ms after the excursion began")
        ottest.check(raised_at < now - 15 * 60 * 1000, "raised_at is in the past")
        ottest.check(late == 1, "marked late")
        ottest.check(state == "raised", f"state raised, got {state}")
        ottest.check(counter(cfg, "alarms", "temp_excursion") == 1, "alarm counted by type")
        ottest.check(q1(cfg, "SELECT count(*) FROM readings WHERE container=? AND late=1", (C,))
                     >= 200, "backlog readings stored late")

        def listed(st):
            body = cl.alarms.get(C)
            if not body:
                return None
            for a in body["alarms"]:
                if a["type"] == "temp_excursion" and a["state"] == st:
                    return a
            return None
        a = ottest.wait_for(lambda: listed("raised"), what="retained alarm list")
        ottest.check(a["late"] is True and a["raised_at"].endswith("Z") and a["id"] == row,
                     f"list entry: {a}")
        ottest.wait_for(lambda: any(b.get("type") == "temp_excursion" and b.get("late") is True
                                    for b in Hook.bodies),
                        what="webhook called (after one failed attempt)")
        ottest.check(q1(cfg, "SELECT count(*) FROM events WHERE kind='alarm'") >= 1,
                     "alarm event for the API stream")

        # the API acknowledges (writes the row); the collector notices
        w.execute("UPDATE alarms SET state='acknowledged', acked_at=?, acked_by='coord' "
                  "WHERE id=?", (int(time.time() * 1000), row))
        ottest.wait_for(lambda: listed("acknowledged"), what="acknowledged in retained list")

        # a restarted collector takes the open alarm back into its rules
        ottest.check(col.stop() == 0, "clean exit")
        col = start_collector(env, cfg, name="collector2")
        ottest.wait_for(lambda: "alarm restored" in col.log(), what="open alarm restored")

        # back in band (live): cleared
        cl.readings(C, [reading(241 + i, temp=4.0, lat=51.2, lon=51.37, speed_kmh=60.0,
                                gnss_fix=3) for i in range(3)])
        a = ottest.wait_for(lambda: listed("cleared"), what="cleared in retained list")
        ottest.check(a["cleared_at"] is not None, "cleared_at set")
        ottest.check(q1(cfg, "SELECT state FROM alarms WHERE id=?", (row,)) == "cleared",
                     "row cleared")
        ottest.check(col.alive(), "collector alive")
        cl.close()


if __name__ == "__main__":
    ottest.main(test)
