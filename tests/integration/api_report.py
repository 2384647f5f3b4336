"""The shipment report through the API (SPEC v1.1, issue 13): a shipment
replayed through the API and direct row inserts (readings with an
excursion, two witnessed hand-offs, an electronic signature) exported as
GET /export?format=pdf&lang=..: pdftotext finds the donation code, the
min/max/MKT this test computes from the stored readings (to 0.1 °C), every
custody party and witness, the signer and the meaning, the ledger head
hash; qpdf --check passes; every font is embedded; the Kazakh report has
Kazakh letters as text; two requests give the same bytes and the same
X-Content-SHA256, a new custody entry changes them; the planned legs are in
the route section; times are in the configured report_utc_offset_min; the export is audited
with format, lang and sha256."""
import hashlib
import http.client
import json
import math
import os
import subprocess
import tempfile

import api_common
import ottest
import report_pdf

PIN = "271828"
PARTIES = ["Oral Regional Hospital", "Medical aviation crew", "Astana Transplant Centre"]
WITNESSES = ["Nurse Saule Amanova", "Dr Yerlan Abenov"]


def get_raw(api, path, token):
    conn = http.client.HTTPConnection("127.0.0.1", api.port, timeout=30)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        r = conn.getresponse()
        return r.status, r.read(), dict(r.getheaders())
    finally:
        conn.close()


def stats(temps):
    a = 83144.0 / 8.314462618
    s = sum(math.exp(-a / (t + 273.15)) for t in temps)
    return min(temps), max(temps), a / -math.log(s / len(temps)) - 273.15


def test_api_report():
    with ottest.Env("api-report") as env, tempfile.TemporaryDirectory(prefix="ot_apirep_") as d:
        # a deployment's offset other than the default +300: every time in its offset
        api = api_common.Api(env, extra={"report_utc_offset_min": 360}).start()
        coord = api.token("coordinator", "Coordinator Aliya")
        aud = api.token("auditor", "Auditor Dana Sarsenova")
        crew = api.token("crew", "Crew Marat", containers=["KZ-REP-1"])
        # planned legs: the report's route section prints each one (mode, places, planned
        # times, carrier and flight)
        t_plan = ottest.now_ms() - 45 * 60_000
        here = lambda name, lat, lon: {"name": name, "lat": lat, "lon": lon}
        oral, ura = here("Oral", 51.20, 51.37), here("Oral Airport URA", 51.1508, 51.5430)
        nqz, ast = here("Astana Airport NQZ", 51.0222, 71.4669), here("Astana", 51.13, 71.43)
        legs = [{"mode": "ground", "from": oral, "to": ura, "carrier": "Oral EMS",
                 "planned_departure": ottest.iso(t_plan),
                 "planned_arrival": ottest.iso(t_plan + 20 * 60_000)},
                {"mode": "air", "from": ura, "to": nqz, "carrier": "Kazaviaspas",
                 "flight": "KZS-417", "planned_departure": ottest.iso(t_plan + 30 * 60_000),
                 "planned_arrival": ottest.iso(t_plan + 170 * 60_000)},
                {"mode": "ground", "from": nqz, "to": ast, "carrier": "Astana EMS",
                 "planned_departure": ottest.iso(t_plan + 180 * 60_000),
                 "planned_arrival": ottest.iso(t_plan + 210 * 60_000)}]
        ship = api.create_shipment(coord, "KZ-REP-1", donation_code="KZ-2026-DN-4711", legs=legs)
        sid = ship["id"]
        # readings as the collector stores them: 4 °C, an excursion to ~9.6 °C
        t0 = ottest.now_ms() - 40 * 60_000
        api.add_readings(sid, "KZ-REP-1", 180, t0, step_ms=10_000,
                         temp=lambda i: 9.0 + (i % 7) * 0.1 if 60 <= i < 80 else 4.0 + (i % 5) * 0.13)
        custody = [
            {"type": "packed", "comment": "kidney packed"},
            {"type": "handoff", "from": PARTIES[0], "to": PARTIES[1], "witness": WITNESSES[0],
             "seal": "SEAL-KZ-0001"},
            {"type": "departed"},
            {"type": "arrived"},
            {"type": "handoff", "from": PARTIES[1], "to": PARTIES[2], "witness": WITNESSES[1],
             "seal": "SEAL-KZ-0002"},
            {"type": "received"},
        ]
        for body in custody:
            s, j, _ = api.req("POST", f"/api/v1/shipments/{sid}/custody", body, crew)
            ottest.check(s == 201, f"custody {body['type']}: {s} {j}")
        r = subprocess.run([os.path.join(ottest.BIN, "organtrack-api"), "signer", "set", "--name",
                            "Auditor Dana Sarsenova", "--config", api.config_path],
                           input=PIN + "\n", capture_output=True, text=True, timeout=60)
        ottest.check(r.returncode == 0, r.stderr)
        s, j, _ = api.req("POST", f"/api/v1/shipments/{sid}/signatures",
                          {"meaning": "reviewed", "statement": "Cold chain reviewed", "pin": PIN},
                          aud)
        ottest.check(s == 201, f"signature: {s} {j}")

        temps = [row[0] for row in api.sql(
            "SELECT temp_c FROM readings WHERE shipment_id = ? AND temp_c IS NOT NULL", (sid,))]
        mn, mx, mkt = stats(temps)
        head = api.sql("SELECT hash FROM ledger_heads WHERE shipment_id = ? ORDER BY idx DESC",
                       (sid,))[0][0]

        pdfs, shas = {}, {}
        for lang in ("en", "kk", "ru"):
            s, body, h = get_raw(api, f"/api/v1/shipments/{sid}/export?format=pdf&lang={lang}", aud)
            ottest.check(s == 200 and body.startswith(b"%PDF-"), f"{lang}: {s} {body[:80]!r}")
            ottest.check(h.get("Content-Type") == "application/pdf"
                         and "attachment" in h.get("Content-Disposition", ""), f"{lang}: {h}")
            ottest.check(h.get("X-Content-SHA256") == hashlib.sha256(body).hexdigest(),
                         f"{lang}: X-Content-SHA256 is not the body's")
            pdfs[lang] = os.path.join(d, f"{lang}.pdf")
            shas[lang] = h["X-Content-SHA256"]
            with open(pdfs[lang], "wb") as f:
                f.write(body)

        for lang, path in pdfs.items():
            t = report_pdf.text_of(path)
            flat = t.replace(" ", "")
            ottest.check("KZ-2026-DN-4711" in t, f"{lang}: donation code missing")
            for p in PARTIES + WITNESSES + ["SEAL-KZ-0001", "SEAL-KZ-0002"]:
                ottest.check(p in t, f"{lang}: custody party {p!r} missing")
            ottest.check("Auditor Dana Sarsenova" in t, f"{lang}: signer missing")
            ottest.check("UTC+06:00" in t and "UTC+05:00" not in t,
                         f"{lang}: times not in the configured offset UTC+06:00")
            for want in ("Oral Airport URA", "Astana Airport NQZ", "Kazaviaspas, KZS-417",
                         "Oral EMS", "Astana EMS"):
                ottest.check(want in t, f"{lang}: the planned legs' {want!r} missing")
            ottest.check(head in flat, f"{lang}: ledger head hash {head} missing")
            r = subprocess.run(["qpdf", "--check", path], capture_output=True, text=True)
            ottest.check(r.returncode == 0, f"{lang}: qpdf --check: {r.stdout}{r.stderr}")
            fonts = report_pdf.run("pdffonts", path).splitlines()[2:]
            ottest.check(fonts and all(l.split()[-5] == "yes" for l in fonts),
                         f"{lang}: a font is not embedded: {fonts}")
            if lang == "en":
                ottest.check("reviewed" in t.lower(), "en: meaning missing")
                words = report_pdf.words_of(path)
                for label, want in ((["Minimum"], mn), (["Maximum"], mx),
                                    (["Mean", "kinetic", "temperature"], mkt)):
                    got = report_pdf.tile_value(words, label)
                    ottest.check(abs(got - want) <= 0.1, f"en: {label} {got}, computed {want:.3f}")
            else:
                for v in (mn, mx, mkt):
                    ottest.check(f"{v:.1f}".replace(".", ",") + " °C" in t, f"{lang}: {v:.1f} °C")
            if lang == "kk":
                missing = [c for c in report_pdf.KAZAKH if c not in t]
                ottest.check(not missing, f"kk: Kazakh letters missing: {missing}")

        # the same trail is the same file; a new entry changes it
        s, again, h = get_raw(api, f"/api/v1/shipments/{sid}/export?format=pdf&lang=kk", coord)
        ottest.check(s == 200 and again == open(pdfs["kk"], "rb").read()
                     and h["X-Content-SHA256"] == shas["kk"], "kk: a second request differs")
        s, j, _ = api.req("POST", f"/api/v1/shipments/{sid}/custody",
                          {"type": "note", "comment": "report filed"}, coord)
        ottest.check(s == 201, f"note: {s} {j}")
        s, changed, h = get_raw(api, f"/api/v1/shipments/{sid}/export?format=pdf&lang=kk", coord)
        ottest.check(s == 200 and changed != again and h["X-Content-SHA256"] != shas["kk"],
                     "kk: a new custody entry left the bytes unchanged")

        rows = [json.loads(r[0]) for r in api.sql(
            "SELECT detail FROM audit WHERE action = 'export' ORDER BY id")]
        pdf_rows = [r for r in rows if r.get("format") == "pdf"]
        ottest.check(len(pdf_rows) == 5 and pdf_rows[0]["lang"] == "en"
                     and pdf_rows[0]["sha256"] == shas["en"], f"export audit: {pdf_rows}")
        s, j, _ = api.req("GET", f"/api/v1/shipments/{sid}/export?format=pdf&lang=en", token=crew)
        ottest.check(s == 403, f"crew may not export: {s}")


if __name__ == "__main__":
    ottest.main(test_api_report)
