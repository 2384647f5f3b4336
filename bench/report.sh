#!/usr/bin/env bash
# Shipment report benchmark (issue 13): the A4 PDF of a 24-hour shipment at
# one reading a second (86,400 readings; statistics on every reading, the
# chart down-sampled), rendered BENCH_RUNS times (default 5) in one process
# by tests/tools/render_report; prints each run and the median.
# Target: under 2 s on the reference machine (2 cores).
#   bash bench/report.sh          (uses build/bin; OT_BIN=dir to override)
#   BENCH_READINGS=86400 BENCH_INTERVAL_MS=1000 BENCH_RUNS=5 BENCH_LANG=kk
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${OT_BIN:-$PWD/build/bin}
N=${BENCH_READINGS:-86400}
STEP=${BENCH_INTERVAL_MS:-1000}
RUNS=${BENCH_RUNS:-5}
LANG_=${BENCH_LANG:-kk}
[ -x "$BIN/render_report" ] || { echo "bench/report.sh: $BIN/render_report not built (run make)"; exit 1; }
OUT=$(mktemp /tmp/ot-bench-report.XXXXXX.pdf)
trap 'rm -f "$OUT"' EXIT
echo "report: $N readings ${STEP} ms apart, lang=$LANG_, $RUNS renders ($BIN)"
"$BIN/render_report" --lang "$LANG_" --readings "$N" --interval-ms "$STEP" --bench "$RUNS" "$OUT"
pages=$(pdfinfo "$OUT" 2>/dev/null | sed -n 's/^Pages: *//p')
echo "report: ${pages:-?} pages; target: median under 2 s"
