#!/bin/bash
# Gateway benchmark: organtrack-gateway vs a Node-RED flow doing the same job
# (CPU, memory and bytes to storage per reading at 100 Hz, in rounds, with
# spool.sync_ms 1000 and 0; CPU per hour at 1 Hz with three devices; replay
# of a 6-hour backlog). Figures go to stdout and var/bench/gateway.json;
# docs/performance.md ("Gateway") records them with this command.
#   bash bench/gateway.sh [--readings N] [--rounds N] [--hour-s S] [--no-node-red]
# Node-RED is installed at bench time under var/bench/node-red (never into
# the product): npm install --no-audit --no-fund node-red@4.1.15 node-red-contrib-modbus@5.23.3
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${OT_BIN:-build/bin}
for p in organtrack-gateway organtrack-sensors gateway-spool-fill; do
  if [ ! -x "$BIN/$p" ]; then
    echo "bench/gateway.sh: $BIN/$p missing (run make first, or set OT_BIN)" >&2
    exit 1
  fi
done
mkdir -p var/bench
exec /usr/bin/python3 bench/gateway/bench.py --bin "$BIN" "$@"
