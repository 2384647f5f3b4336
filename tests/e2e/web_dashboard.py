"""web_dashboard - the web dashboard in a real browser against the running system.

Starts mosquitto, organtrack-collector and organtrack-api (serving the built
dashboard-api/web/dist), mints crew/coordinator/auditor tokens with
`organtrack-api token create`, creates three shipments through the API and
publishes readings batches with paho so the real collector stores them.
Then tests/e2e/web_dashboard.mjs drives Debian's chromium through
playwright-core and asks, over its stdout, for the temperature excursion,
which this script publishes while the coordinator page is open: the
collector's rules must turn it into an alarm that shows up without reload.
Asserted in the browser: shipments listed, alarm live + acknowledged, crew
hand-off logged and shown in the trail (crew and auditor views), language
switch kk/ru/en, the auditor's Kazakh report download (a PDF) and sign-off
(an electronic signature with the PIN set by `organtrack-api signer set`). Screenshots go to $OT_ARTEFACTS (tests/artefacts in the
build dir). Exit 77 (ctest: skipped) only when the programs are not built.

`web_dashboard.py --https` (ctest web_dashboard_https) runs the same flow
over HTTPS: the API gets a "tls" section with a certificate from the test's
own CA (ottest's Env.tls_certs), Chromium trusts that certificate's key
(--ignore-certificate-errors-spki-list, the SHA-256 of its
SubjectPublicKeyInfo) and nothing else, and the page must be a secure
context that fetches nothing over plain HTTP (no mixed content: every
request goes to the https:// origin, no console message about it).
"""
import base64
import hashlib
import json
import os
import ssl
import subprocess
import sys
import time
import urllib.request

import ottest
from ottest import check, http, iso, wait_for

ROOT = ottest.ROOT
BIN = os.path.abspath(ottest.BIN)
WEB = os.path.join(ROOT, "dashboard-api", "web")
DIST = os.path.join(WEB, "dist")
ARTEFACTS = os.environ.get("OT_ARTEFACTS", os.path.join(ROOT, "build", "tests", "artefacts"))
NODE = os.environ.get("OT_NODE", "")
if not NODE or NODE.endswith("NOTFOUND"):
    NODE = "node"

# Three shipments (donation codes only, never a person).
SHIPMENTS = [
    {"container": "KZ-WEB-0001", "profile": "kidney", "donation_code": "KZWEB 26 000001", "mode": "ground",
     "origin": {"name": "Aktobe", "lat": 50.28, "lon": 57.2},
     "destination": {"name": "Kostanay", "lat": 53.21, "lon": 63.62}},
    {"container": "KZ-WEB-0002", "profile": "heart", "donation_code": "KZWEB 26 000002", "mode": "air",
     "origin": {"name": "Oral regional hospital", "lat": 51.2036, "lon": 51.3703},
     "destination": {"name": "National transplant centre, Astana", "lat": 51.13, "lon": 71.43}},
    {"container": "KZ-WEB-0003", "profile": "kidney", "donation_code": "KZWEB 26 000003", "mode": "ground",
     "origin": {"name": "Karaganda", "lat": 49.80, "lon": 73.10},
     "destination": {"name": "Astana", "lat": 51.13, "lon": 71.43}},
]


class Publisher:
    """One MQTT client publishing readings batches, per-container seq counters."""

    def __init__(self, port):
        import paho.mqtt.client as mqtt
        self.c = mqtt.Client(client_id="web-test-pub", clean_session=True)
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()
        self.seq = {}

    def online(self, sh):
        """The gateway's retained birth message, as a real gateway sends it."""
        c = sh["container"]
        msg = {"v": 1, "container": c, "gateway": "gw-" + c.lower(), "online": True,
               "ts": int(time.time() * 1000), "boot": 1, "seq": self.seq.get(c, 0)}
        self.c.publish(f"organtrack/v1/containers/{c}/state", json.dumps(msg), qos=1, retain=True).wait_for_publish()

    def batch(self, sh, t0, t1, step_ms, temp):
        c = sh["container"]
        o, d = sh["origin"], sh["destination"]
        n = int((t1 - t0) / step_ms) + 1
        readings = []
        for i in range(n):
            ts = t0 + i * step_ms
            f = 0.15 + 0.5 * (ts - (t0 - 3600000)) / 7200000  # progress along the route
            self.seq[c] = self.seq.get(c, 0) + 1
            readings.append({"seq": self.seq[c], "ts": int(ts), "temp_c": round(temp(i), 2),
                             "lat": round(o["lat"] + (d["lat"] - o["lat"]) * f, 5),
                             "lon": round(o["lon"] + (d["lon"] - o["lon"]) * f, 5),
                             "speed_kmh": 70.0, "lid_open": False, "battery_pct": 90, "gnss_fix": 3})
        gw = "gw-" + c.lower()
        for k in range(0, len(readings), 20):
            msg = {"v": 1, "container": c, "gateway": gw, "boot": 1, "readings": readings[k:k + 20]}
            self.c.publish(f"organtrack/v1/containers/{c}/readings", json.dumps(msg), qos=1).wait_for_publish()
        return readings[-1]

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()


def token(env, api_cfg, role, name, containers=()):
    argv = [os.path.join(BIN, "organtrack-api"), "token", "create", "--role", role, "--name", name]
    for c in containers:
        argv += ["--container", c]
    argv += ["--config", api_cfg]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=30, cwd=env.dir)
    check(p.returncode == 0, f"token create {role} failed: {p.stderr.strip()}")
    return p.stdout.strip().splitlines()[-1].strip()


HTTPS = "--https" in sys.argv[1:]


def spki_sha256(cert_file):
    """Base64 SHA-256 of a certificate's SubjectPublicKeyInfo (DER), the form
    Chromium's --ignore-certificate-errors-spki-list takes."""
    pub = subprocess.run(["openssl", "x509", "-in", cert_file, "-noout", "-pubkey"],
                         check=True, capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub,
                         check=True, capture_output=True).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def test_web_dashboard():
    for prog in ("organtrack-api", "organtrack-collector"):
        if not os.access(os.path.join(BIN, prog), os.X_OK):
            print(f"SKIP web_dashboard: {prog} is not built in {BIN}")
            sys.exit(77)
    check(os.path.exists(os.path.join(DIST, "index.html")),
          "dashboard-api/web/dist is not built: run scripts/install-deps.sh, then build target `web`")
    check(os.path.isdir(os.path.join(WEB, "node_modules", "playwright-core")),
          "playwright-core missing: run scripts/install-deps.sh (npm ci in dashboard-api/web)")
    os.makedirs(ARTEFACTS, exist_ok=True)

    with ottest.Env("web") as env:
        broker = env.mosquitto()
        db = env.database()
        mqtt = {"url": f"tcp://127.0.0.1:{broker.port}", "client_id": "collector-web"}
        pres = os.path.join(ROOT, "config", "preservation.json")
        col = env.program("organtrack-collector", {"mqtt": mqtt, "database": db, "preservation": pres})
        port = ottest.free_port()
        api_cfg_obj = {"listen": f"127.0.0.1:{port}", "database": db, "preservation": pres,
                       "web_root": DIST, "ledger_key": env.path("ledger.key")}
        spki = None
        if HTTPS:
            tls = env.tls_certs()
            api_cfg_obj["tls"] = {"cert_file": tls["cert"], "key_file": tls["key"]}
            spki = spki_sha256(tls["cert"])
            # ottest.http (urllib) trusts the test CA from here on
            urllib.request.install_opener(urllib.request.build_opener(
                urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=tls["ca"]))))
        api_cfg = env.write_json("api-token.json", api_cfg_obj)
        # the token CLI after the collector has migrated the new database (two
        # programs migrating one fresh SQLite file at once can meet "database
        # is locked"; as api_openapi)
        wait_for(lambda: "collector started" in col.log() or not col.alive(), what="collector started")
        tokens = {
            "coordinator": token(env, api_cfg, "coordinator", "coord-web"),
            "crew": token(env, api_cfg, "crew", "crew-web-07", ["KZ-WEB-0001"]),
            "auditor": token(env, api_cfg, "auditor", "audit-web"),
        }
        signer_pin = "web-pin-2026"
        p = subprocess.run([os.path.join(BIN, "organtrack-api"), "signer", "set", "--name", "audit-web",
                            "--config", api_cfg], input=signer_pin + "\n", capture_output=True, text=True,
                           timeout=60, cwd=env.dir)
        check(p.returncode == 0, f"signer set failed: {p.stderr.strip()}")
        api = env.program("organtrack-api", api_cfg_obj, wait=port)
        base = f"{'https' if HTTPS else 'http'}://127.0.0.1:{port}"
        wait_for(lambda: http("GET", base + "/api/v1/health")[0] == 200, what="API health")
        st, body, _ = http("GET", base + "/", timeout=5)
        check(st == 200 and "app.js" in str(body), f"GET / does not serve the dashboard: {st}")

        now = int(time.time() * 1000)
        ids = {}
        for sh in SHIPMENTS:
            req = dict(sh, cross_clamp_at=iso(now - 40 * 60000))
            st, body, _ = http("POST", base + "/api/v1/shipments", req, token=tokens["coordinator"])
            check(st == 201, f"create shipment {sh['container']}: {st} {body}")
            ids[sh["container"]] = body["id"]

        # readings published before the collector's first subscription are
        # not queued for it (only the retained state is): wait for it
        wait_for(lambda: "mqtt subscribed" in col.log(), what="collector subscribed")
        pub = Publisher(broker.port)
        try:
            # 25..15 min ago, every 30 s, inside the 2-8 °C band
            for k, sh in enumerate(SHIPMENTS):
                pub.online(sh)
                pub.batch(sh, now - 25 * 60000, now - 15 * 60000, 30000, lambda i, k=k: 4.0 + 0.3 * k + 0.2 * ((i % 6) - 3) / 3)

            def stored():
                for sh in SHIPMENTS:
                    st, body, _ = http("GET", f"{base}/api/v1/shipments/{ids[sh['container']]}", token=tokens["coordinator"])
                    if st != 200 or not body.get("latest"):
                        return False
                return True
            wait_for(stored, timeout=30, what="collector stored the readings of all shipments")

            # a complaint for the incidents lists (issue 12)
            st, body, _ = http("POST", base + "/api/v1/incidents",
                               {"shipment_id": ids["KZ-WEB-0001"], "detail": "recipient centre asked about the delay"},
                               token=tokens["coordinator"])
            check(st == 201, f"open an incident: {st} {body}")

            artefacts = ARTEFACTS
            if HTTPS:
                artefacts = os.path.join(ARTEFACTS, "https")
                os.makedirs(artefacts, exist_ok=True)
            cfg = {"url": base, "tokens": tokens, "artefacts": artefacts, "spki": spki,
                   "shipments": [dict(container=s["container"], id=ids[s["container"]], donation_code=s["donation_code"]) for s in SHIPMENTS],
                   "excursion_container": "KZ-WEB-0003", "crew_container": "KZ-WEB-0001",
                   "signer_pin": signer_pin}
            drv = subprocess.Popen([NODE, os.path.join(ROOT, "tests", "e2e", "web_dashboard.mjs"), json.dumps(cfg)],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=env.dir)
            t_end = time.monotonic() + 150
            for line in drv.stdout:
                sys.stdout.write("browser: " + line)
                sys.stdout.flush()
                if line.startswith("NEED excursion"):
                    # 14 min ago .. now at 11.5 °C: longer than the kidney's 600 s grace
                    t = int(time.time() * 1000)
                    pub.batch(SHIPMENTS[2], t - 14 * 60000, t - 1000, 30000, lambda i: 11.5)
                    drv.stdin.write("ok\n")
                    drv.stdin.flush()
                if time.monotonic() > t_end:
                    drv.kill()
                    break
            rc = drv.wait(timeout=30)
            if rc != 0:
                st, body, _ = http("GET", f"{base}/api/v1/shipments/{ids['KZ-WEB-0003']}/alarms", token=tokens["coordinator"])
                sys.stdout.write(f"alarms of KZ-WEB-0003 from the API: {st} {json.dumps(body)[:600]}\n")
            check(rc == 0, f"browser driver failed (exit {rc}); screenshots in {artefacts}")
            check(api.alive(), "organtrack-api died during the browser test")
        finally:
            pub.close()


if __name__ == "__main__":
    ottest.main(test_web_dashboard)
