#!/usr/bin/env python3
"""report_pdf - the shipment report PDF as a reader and an auditor see it (issue 13).

tests/tools/render_report writes the PDF of the heart fixture (a replayed
flight with an excursion, a declared loss, hand-offs with witnesses and
seals, two signatures) and the model it drew it from. With Debian's
poppler-utils and qpdf, and nothing of ours:
- pdftotext finds the donation code, every custody party, witness and seal,
  every signer's name and meaning, the ledger head hash and public key, the
  page numbers "N / M";
- min, max and MKT printed in the statistics tiles (located by position
  under their labels with pdftotext -bbox) match the values this test
  computes itself from the readings, to 0.1 °C;
- qpdf --check passes; pdffonts lists every font embedded; pdfinfo's dates
  are the trail's last entry, not today;
- the Kazakh report carries ә қ ң ө ұ ү і as text (not boxes, not
  missing), the Russian one Cyrillic with decimal commas;
- two separate runs give the same bytes; a new signature changes them.
"""
import hashlib
import html
import json
import math
import os
import re
import subprocess
import tempfile

import ottest

TOOL = os.path.join(ottest.BIN, "render_report")
KAZAKH = "әқңөұүі"


def run(*args):
    r = subprocess.run(list(args), capture_output=True, text=True, timeout=120)
    ottest.check(r.returncode == 0, f"{' '.join(args)} exited {r.returncode}:\n{r.stdout}{r.stderr}")
    return r.stdout


def text_of(pdf):
    """pdftotext in drawing order, lines joined: a cell that wrapped reads as one string."""
    t = run("pdftotext", "-raw", "-enc", "UTF-8", pdf, "-")  # drawing order: cell by cell
    t = t.replace("\u00a0", " ")
    t = re.sub(r"-\n", "-", t)  # a break after a hyphen adds no space
    return re.sub(r"\s+", " ", t)


def words_of(pdf, page=1):
    """[(xMin, yMin, word)] of one page, from pdftotext -bbox."""
    out = run("pdftotext", "-enc", "UTF-8", "-bbox", "-f", str(page), "-l", str(page), pdf, "-")
    return [(float(x), float(y), html.unescape(w))
            for x, y, w in re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>([^<]*)</word>', out)]


def tile_value(words, label_words):
    """The number printed under a statistics tile whose label starts with label_words."""
    n = len(label_words)
    for i, (x, y, _) in enumerate(words):
        if [w for _, _, w in words[i:i + n]] == label_words:
            for x2, y2, w2 in words:
                if abs(x2 - x) < 2 and 10 < y2 - y < 45 and re.fullmatch(r"-?\d+[.,]\d", w2):
                    return float(w2.replace(",", "."))
    raise AssertionError(f"no value under {' '.join(label_words)}")


def independent_stats(model):
    temps = [t for _, t in model["readings"] if t is not None]
    a = 83144.0 / 8.314462618
    s = sum(math.exp(-a / (t + 273.15)) for t in temps)
    mkt = a / -math.log(s / len(temps)) - 273.15
    return min(temps), max(temps), mkt


def check_common(pdf, model, lang):
    t = text_of(pdf)
    ottest.check(model["donation_code"] in t, f"{lang}: donation code missing")
    for e in model["custody"]:
        for k in ("from", "to", "witness", "seal"):
            if e[k]:
                ottest.check(e[k] in t, f"{lang}: custody {k} {e[k]!r} missing")
        ottest.check(e["hash"][:16] in t, f"{lang}: hash prefix of a {e['type']} entry missing")
    for s in model["signatures"]:
        ottest.check(s["name"] in t, f"{lang}: signer {s['name']!r} missing")
    ottest.check(model["head_hash"] in t, f"{lang}: ledger head hash missing")
    ottest.check(model["public_key"] in t, f"{lang}: public key missing")
    ottest.check(f"organtrack-ledger verify --pubkey {model['public_key']} bundle.json" in t,
                 f"{lang}: verify command missing")
    info = run("pdfinfo", "-isodates", pdf)  # as written, whatever the local time zone
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    ottest.check(pages >= 3, f"{lang}: {pages} pages")
    for n in range(1, pages + 1):
        ottest.check(f"{n} / {pages}" in t, f"{lang}: page number {n} / {pages} missing")
    for key in ("CreationDate", "ModDate"):
        ottest.check(re.search(rf"^{key}:\s+2026-11-23T09:14:00Z$", info, re.M),
                     f"{lang}: {key} is not the trail's last entry:\n{info}")
    r = subprocess.run(["qpdf", "--check", pdf], capture_output=True, text=True, timeout=60)
    ottest.check(r.returncode == 0, f"{lang}: qpdf --check:\n{r.stdout}{r.stderr}")
    fonts = run("pdffonts", pdf).splitlines()[2:]
    ottest.check(fonts, f"{lang}: pdffonts lists no font")
    for line in fonts:
        # name type encoding emb sub uni object ID: emb is the 4th field from the right end
        cols = line.split()
        ottest.check(cols[-5] == "yes", f"{lang}: font not embedded: {line}")
    return t


def test_report_pdf():
    with tempfile.TemporaryDirectory(prefix="ot_report_") as d:
        mj = os.path.join(d, "model.json")
        pdfs = {}
        for lang in ("en", "kk", "ru"):
            pdfs[lang] = os.path.join(d, f"heart-{lang}.pdf")
            out = run(TOOL, "--lang", lang, "--model-json", mj, pdfs[lang])
            ottest.check(re.match(r"sha256=[0-9a-f]{64} bytes=\d+", out), out)
        with open(mj) as f:
            model = json.load(f)
        mn, mx, mkt = independent_stats(model)

        t = check_common(pdfs["en"], model, "en")
        for s in model["signatures"]:
            ottest.check(s["meaning"] in t, f"en: meaning {s['meaning']!r} missing")
        words = words_of(pdfs["en"])
        for label, want in ((["Minimum"], mn), (["Maximum"], mx),
                            (["Mean", "kinetic", "temperature"], mkt)):
            got = tile_value(words, label)
            ottest.check(abs(got - want) <= 0.1, f"en: {' '.join(label)} {got}, computed {want:.3f}")
        ottest.check(mx > 8.0 and "E1" in t and "Excursions" in t, "en: the excursion is not listed")

        t = check_common(pdfs["kk"], model, "kk")
        missing = [c for c in KAZAKH if c not in t]
        ottest.check(not missing, f"kk: Kazakh letters missing as text: {missing}")
        ottest.check("Ағзалар мен тіндерді тасымалдау есебі" in t, "kk: title missing")
        ottest.check("рұқсат берілді" in t.lower(), "kk: signature meaning missing")
        for v in (mn, mx, mkt):
            ottest.check(f"{v:.1f}".replace(".", ",") + " °C" in t, f"kk: {v:.1f} °C missing")

        t = check_common(pdfs["ru"], model, "ru")
        ottest.check("Отчёт о транспортировке органов и тканей" in t, "ru: title missing")
        ottest.check("выпуск разрешён" in t.lower(), "ru: signature meaning missing")
        for v in (mn, mx, mkt):
            ottest.check(f"{v:.1f}".replace(".", ",") + " °C" in t, f"ru: {v:.1f} °C missing")

        # the same report is the same file, across processes; a new entry changes it
        again = os.path.join(d, "again.pdf")
        changed = os.path.join(d, "changed.pdf")
        run(TOOL, "--lang", "kk", again)
        run(TOOL, "--lang", "kk", "--add-signature", changed)
        digest = lambda p: hashlib.sha256(open(p, "rb").read()).hexdigest()
        ottest.check(digest(again) == digest(pdfs["kk"]), "kk: a second run gave other bytes")
        ottest.check(digest(changed) != digest(pdfs["kk"]), "kk: a new entry left the bytes alike")
        ottest.check("Gulnara Tulegenova" in text_of(changed), "the new signer is not shown")


if __name__ == "__main__":
    ottest.main(test_report_pdf)
