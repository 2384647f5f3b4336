"""web_layout - the dashboard's layout, its request budget, legs and receipt in Chromium.

The same real system as web_dashboard (mosquitto, organtrack-collector,
organtrack-api serving dashboard-api/web/dist), with six active shipments,
one of them flying planned legs (Oral hospital -> Oral airport -> Astana
airport -> National centre). tests/e2e/web_layout.mjs then checks in
Chromium:

- the coordinator view makes ONE API request per refresh (playwright
  request events counted over several refreshes, each started by a live
  custody event), with six shipments on screen;
- the bounding boxes of the main blocks (header, map, chart, facts, alarm
  and custody cards, forms, cards) do not overlap, and neither does what
  the map paints outside its box, and all lie within the viewport's width,
  at 1366x900, 1920x1080 and 390x844, in the coordinator, shipment, crew
  and auditor views;
- the planned legs on the shipment map (ground and air styled apart,
  airports marked, the current leg highlighted) and the legs table;
- the crew's check-in at the destination: a wrong laterality is answered
  with a mismatch the page shows (and the critical identity_mismatch
  alarm), then reperfusion is logged and ends the ischaemia clock;
- a container in flight mode (its gateway's retained state says
  flight:true, the API's radio `flight`) shows "In flight, radio silent
  since ..." on its card and shipment page.

`web_layout.py --serve` keeps the system running after seeding and prints
its URL and tokens (for working on the dashboard; Ctrl-C or SIGTERM stops it).
Screenshots go to $OT_ARTEFACTS/layout. Exit 77 only when the programs are
not built.
"""
import json
import os
import signal
import subprocess
import sys
import time

import ottest
from ottest import check, http, iso, wait_for
from web_dashboard import ARTEFACTS, BIN, DIST, NODE, ROOT, WEB, Publisher, token

M = 60000


def shipments(now):
    """Six open shipments; the heart flies planned legs (SPEC v1.1)."""
    oral = {"name": "Oral regional hospital", "lat": 51.2036, "lon": 51.3703}
    oral_apt = {"name": "Oral airport", "lat": 51.1508, "lon": 51.5438}
    ast_apt = {"name": "Astana airport", "lat": 51.0222, "lon": 71.4669}
    centre = {"name": "National transplant centre, Astana", "lat": 51.13, "lon": 71.43}
    legs = [
        {"mode": "ground", "from": oral, "to": oral_apt,
         "planned_departure": iso(now - 60 * M), "planned_arrival": iso(now - 40 * M)},
        {"mode": "air", "from": oral_apt, "to": ast_apt, "carrier": "Kazaviaspas", "flight": "KC951",
         "planned_departure": iso(now - 30 * M), "planned_arrival": iso(now + 90 * M)},
        {"mode": "ground", "from": ast_apt, "to": centre,
         "planned_departure": iso(now + 100 * M), "planned_arrival": iso(now + 130 * M)},
    ]
    return [
        {"container": "KZ-LAY-0001", "profile": "heart", "donation_code": "KZLAY 26 000001", "mode": "mixed",
         "abo": "O+", "origin": oral, "destination": centre, "legs": legs},
        {"container": "KZ-LAY-0002", "profile": "kidney", "donation_code": "KZLAY 26 000002", "mode": "ground",
         "laterality": "left", "abo": "A",
         "origin": {"name": "Aktobe", "lat": 50.28, "lon": 57.2},
         "destination": {"name": "Kostanay", "lat": 53.21, "lon": 63.62}},
        {"container": "KZ-LAY-0003", "profile": "kidney", "donation_code": "KZLAY 26 000003", "mode": "ground",
         "laterality": "left", "abo": "B+",
         "origin": {"name": "Karaganda", "lat": 49.80, "lon": 73.10},
         "destination": {"name": "Astana", "lat": 51.13, "lon": 71.43}},
        {"container": "KZ-LAY-0004", "profile": "liver", "donation_code": "KZLAY 26 000004", "mode": "air",
         "origin": {"name": "Almaty", "lat": 43.24, "lon": 76.89},
         "destination": {"name": "Astana", "lat": 51.13, "lon": 71.43}},
        {"container": "KZ-LAY-0005", "profile": "kidney", "donation_code": "KZLAY 26 000005", "mode": "ground",
         "laterality": "right",
         "origin": {"name": "Shymkent", "lat": 42.32, "lon": 69.59},
         "destination": {"name": "Taraz", "lat": 42.90, "lon": 71.37}},
        {"container": "KZ-LAY-0006", "profile": "lung", "donation_code": "KZLAY 26 000006", "mode": "ground",
         "origin": {"name": "Pavlodar", "lat": 52.29, "lon": 76.97},
         "destination": {"name": "Astana", "lat": 51.13, "lon": 71.43}},
    ]


def test_web_layout():
    for prog in ("organtrack-api", "organtrack-collector"):
        if not os.access(os.path.join(BIN, prog), os.X_OK):
            print(f"SKIP web_layout: {prog} is not built in {BIN}")
            sys.exit(77)
    check(os.path.exists(os.path.join(DIST, "index.html")),
          "dashboard-api/web/dist is not built: run scripts/install-deps.sh, then build target `web`")
    check(os.path.isdir(os.path.join(WEB, "node_modules", "playwright-core")),
          "playwright-core missing: run scripts/install-deps.sh (npm ci in dashboard-api/web)")
    serve = "--serve" in sys.argv[1:]
    artefacts = os.path.join(ARTEFACTS, "layout")
    os.makedirs(artefacts, exist_ok=True)

    with ottest.Env("web-layout") as env:
        broker = env.mosquitto()
        db = env.database()
        mqtt = {"url": f"tcp://127.0.0.1:{broker.port}", "client_id": "collector-layout"}
        pres = os.path.join(ROOT, "config", "preservation.json")
        col = env.program("organtrack-collector", {"mqtt": mqtt, "database": db, "preservation": pres})
        port = ottest.free_port()
        api_cfg_obj = {"listen": f"127.0.0.1:{port}", "database": db, "preservation": pres,
                       "web_root": DIST, "ledger_key": env.path("ledger.key")}
        api_cfg = env.write_json("api-token.json", api_cfg_obj)
        # the token CLI after the collector has migrated the new database (two
        # programs migrating one fresh SQLite file at once can meet "database
        # is locked"; as api_openapi)
        wait_for(lambda: "collector started" in col.log() or not col.alive(), what="collector started")
        now = int(time.time() * 1000)
        sh = shipments(now)
        tokens = {
            "coordinator": token(env, api_cfg, "coordinator", "coord-layout"),
            "crew": token(env, api_cfg, "crew", "crew-layout-03", [sh[2]["container"]]),
            "auditor": token(env, api_cfg, "auditor", "audit-layout"),
        }
        api = env.program("organtrack-api", api_cfg_obj, wait=port)
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: http("GET", base + "/api/v1/health")[0] == 200, what="API health")

        ids = {}
        for s in sh:
            st, body, _ = http("POST", base + "/api/v1/shipments", dict(s, cross_clamp_at=iso(now - 70 * M)),
                               token=tokens["coordinator"])
            check(st == 201, f"create shipment {s['container']}: {st} {body}")
            ids[s["container"]] = body["id"]
            st, body, _ = http("POST", f"{base}/api/v1/shipments/{body['id']}/custody",
                               {"type": "departed", "comment": "set off"}, token=tokens["coordinator"])
            check(st == 201, f"departed {s['container']}: {st} {body}")
        wait_for(lambda: "mqtt subscribed" in col.log(), what="collector subscribed")
        pub = Publisher(broker.port)
        try:
            for k, s in enumerate(sh):
                pub.online(s)
                # 40..1 min ago, every 30 s, inside the band; the liver's above it
                # for the last 12 min (longer than its grace): an active alarm card
                temp = (lambda i: 11.0 if i > 54 else 4.0) if s["profile"] == "liver" \
                    else (lambda i, k=k: 4.0 + 0.3 * k + 0.2 * ((i % 6) - 3) / 3)
                pub.batch(s, now - 40 * M, now - 1 * M, 30000, temp)

            def stored():
                for s in sh:
                    st, body, _ = http("GET", f"{base}/api/v1/shipments/{ids[s['container']]}", token=tokens["coordinator"])
                    if st != 200 or not body.get("latest"):
                        return False
                return True
            wait_for(stored, timeout=30, what="collector stored the readings of all shipments")
            liver = ids["KZ-LAY-0004"]
            wait_for(lambda: http("GET", f"{base}/api/v1/shipments/{liver}", token=tokens["coordinator"])[1]
                     .get("alarms_active", 0) > 0, timeout=30, what="the liver's excursion alarm")
            # flight mode (SPEC v1.1): the lung's gateway says it is airborne and
            # goes silent; the API reports its radio as `flight`
            lung = sh[5]
            c = lung["container"]
            pub.c.publish(f"organtrack/v1/containers/{c}/state", json.dumps(
                {"v": 1, "container": c, "gateway": "gw-" + c.lower(), "online": False, "flight": True,
                 "ts": int(time.time() * 1000), "boot": 1, "seq": pub.seq.get(c, 0)}), qos=1, retain=True).wait_for_publish()
            lung_url = f"{base}/api/v1/shipments/{ids[c]}"
            wait_for(lambda: http("GET", lung_url, token=tokens["coordinator"])[1].get("radio") == "flight",
                     timeout=20, what="the API reports the lung's container in flight")
            st, body, _ = http("POST", base + "/api/v1/incidents",
                               {"shipment_id": ids["KZ-LAY-0002"], "detail": "layout test complaint"},
                               token=tokens["coordinator"])
            check(st == 201, f"open an incident: {st} {body}")

            cfg = {"url": base, "tokens": tokens, "artefacts": artefacts,
                   "shipments": [dict(container=s["container"], id=ids[s["container"]], donation_code=s["donation_code"],
                                      profile=s["profile"], laterality=s.get("laterality"), abo=s.get("abo"),
                                      legs=len(s.get("legs", []))) for s in sh],
                   "legs_container": "KZ-LAY-0001", "crew_container": "KZ-LAY-0003", "alarm_container": "KZ-LAY-0004",
                   "radio_container": c}
            if serve:
                print(json.dumps(cfg, indent=1))
                print(f"serving at {base} (Ctrl-C stops)")
                sys.stdout.flush()
                # SIGTERM too (a background job ignores SIGINT): the Env cleans up
                signal.signal(signal.SIGTERM, signal.default_int_handler)
                try:
                    while True:
                        time.sleep(3600)
                except KeyboardInterrupt:
                    return
            drv = subprocess.Popen([NODE, os.path.join(ROOT, "tests", "e2e", "web_layout.mjs"), json.dumps(cfg)],
                                   stdout=subprocess.PIPE, text=True, cwd=env.dir)
            t_end = time.monotonic() + 200
            for line in drv.stdout:
                sys.stdout.write("browser: " + line)
                sys.stdout.flush()
                if time.monotonic() > t_end:
                    drv.kill()
                    break
            rc = drv.wait(timeout=30)
            check(rc == 0, f"browser driver failed (exit {rc}); screenshots in {artefacts}")
            check(api.alive(), "organtrack-api died during the browser test")
        finally:
            pub.close()


if __name__ == "__main__":
    ottest.main(test_web_layout)
