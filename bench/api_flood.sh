#!/usr/bin/env bash
# Connection-flood benchmark (issue 15): 1,000 idle and slowly-trickling
# connections from one address (127.0.0.2), reconnected as fast as the API
# sheds them, while GET /api/v1/health and an authenticated shipment list
# are timed from 127.0.0.1 on fresh connections; then the same flood from
# the checks' own address. Prints p50/p95/max per request kind and the shed
# count. Loopback only; the flood is bounded (count and time).
#   bash bench/api_flood.sh     (uses build/bin; OT_BIN=dir to override)
#   BENCH_SAMPLES=200 BENCH_CONNECTIONS=1000
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export OT_BIN=${OT_BIN:-$ROOT/build/bin}
[ -x "$OT_BIN/organtrack-api" ] || { echo "bench/api_flood.sh: $OT_BIN/organtrack-api not built (run make)"; exit 1; }
export OT_FLOOD_SAMPLES=${BENCH_SAMPLES:-200}
export OT_FLOOD_CONNECTIONS=${BENCH_CONNECTIONS:-1000}
PYTHONPATH=$ROOT/tests/lib:$ROOT/tests/integration exec /usr/bin/python3 \
  "$ROOT/tests/integration/api_flood.py"
