#!/usr/bin/env bash
# Failover benchmark (issue 10): SIGKILL of the active collector -> first
# ack from the standby, two collectors on one private PostgreSQL, median of
# BENCH_ROUNDS (default 5). See bench/failover.py.
#   bash bench/failover.sh   (OT_BIN=dir, BENCH_ROUNDS=N)
set -euo pipefail
cd "$(dirname "$0")/.."
export OT_BIN=${OT_BIN:-$PWD/build/bin}
[ -x "$OT_BIN/organtrack-collector" ] || { echo "bench/failover.sh: $OT_BIN/organtrack-collector not built (run make)"; exit 1; }
exec /usr/bin/python3 bench/failover.py
