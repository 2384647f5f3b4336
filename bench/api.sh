#!/usr/bin/env bash
# API benchmark (issue 5): GET /api/v1/shipments?status=active with 1,000
# active shipments (first page, default limit 50), against a static file of
# the same size served by the same organtrack-api in the same run, with wrk.
# Prints requests/s, p99 and the ratio API/static.
#   bash bench/api.sh            (uses build/bin; OT_BIN=dir to override)
#   BENCH_DURATION=10s BENCH_CONNECTIONS=32 BENCH_THREADS=2
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${OT_BIN:-$ROOT/build/bin}
DUR=${BENCH_DURATION:-10s}
CONNS=${BENCH_CONNECTIONS:-32}
WTHREADS=${BENCH_THREADS:-2}
N=${BENCH_SHIPMENTS:-1000}

if ! command -v wrk > /dev/null; then
  apt-get install -y wrk > /dev/null 2>&1 || { apt-get update > /dev/null && apt-get install -y wrk > /dev/null; }
fi
[ -x "$BIN/organtrack-api" ] || { echo "bench/api.sh: $BIN/organtrack-api not built (run make)"; exit 1; }

TMP=$(mktemp -d /tmp/ot-bench-api.XXXXXX)
PID=
PID3=
cleanup() {
  for p in $PID $PID3; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  pg_stop 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$TMP/web"
cat > "$TMP/api.json" <<JSON
{"listen":"127.0.0.1:$PORT","database":"$TMP/organtrack.db",
 "preservation":"$ROOT/config/preservation.json","web_root":"$TMP/web",
 "ledger_key":"$TMP/ledger.key","log_level":"warn"}
JSON
TOKEN=$("$BIN/organtrack-api" token create --role coordinator --name bench --config "$TMP/api.json" 2>/dev/null | tail -1)
/usr/bin/python3 bench/api/seed.py "$TMP/organtrack.db" "$N"
"$BIN/organtrack-api" --config "$TMP/api.json" 2> "$TMP/api.log" &
PID=$!
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$PORT/api/v1/health" > /dev/null && break
  sleep 0.05
done
URL="http://127.0.0.1:$PORT/api/v1/shipments?status=active"
# the static baseline is the same bytes as one API page
curl -sf -H "Authorization: Bearer $TOKEN" "$URL" > "$TMP/web/page.json"
BYTES=$(wc -c < "$TMP/web/page.json")
ITEMS=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['items']))" "$TMP/web/page.json")

run() { # label url [header]
  local out
  if [ -n "${3:-}" ]; then
    out=$(wrk -t"$WTHREADS" -c"$CONNS" -d"$DUR" --latency -H "$3" "$2")
  else
    out=$(wrk -t"$WTHREADS" -c"$CONNS" -d"$DUR" --latency "$2")
  fi
  echo "$out" > "$TMP/wrk-$1.txt"
  local rps p99 non2xx
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<< "$out")
  p99=$(awk '$1 == "99%" {print $2}' <<< "$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<< "$out")
  printf '%-28s %10s req/s   p99 %8s   %s\n' "$1" "$rps" "$p99" "${non2xx:+non-2xx: $non2xx}"
  eval "RPS_$1=$rps"
}
echo "organtrack-api bench: $N active shipments, page of $ITEMS items ($BYTES bytes), wrk -t$WTHREADS -c$CONNS -d$DUR, $(nproc) cores"
wrk -t1 -c4 -d2s "http://127.0.0.1:$PORT/page.json" > /dev/null   # warm-up
# two alternating rounds: the machine is shared, so compare within a round
for round in 1 2; do
  run "static_$round" "http://127.0.0.1:$PORT/page.json"
  run "api_$round" "$URL" "Authorization: Bearer $TOKEN"
done
# the same endpoint with the page cache off (list_cache_ms 0), same DB
PORT2=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed -e "s/127.0.0.1:$PORT/127.0.0.1:$PORT2/" -e 's/"log_level":"warn"}/"log_level":"warn","list_cache_ms":0}/' \
  "$TMP/api.json" > "$TMP/api-nocache.json"
"$BIN/organtrack-api" --config "$TMP/api-nocache.json" 2> "$TMP/api2.log" &
PID2=$!
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$PORT2/api/v1/health" > /dev/null && break
  sleep 0.05
done
run api_nocache "http://127.0.0.1:$PORT2/api/v1/shipments?status=active" "Authorization: Bearer $TOKEN"
kill "$PID2"; wait "$PID2" 2>/dev/null || true
# The same list on PostgreSQL 15 (a private server, bench/lib/postgres.sh),
# against the same static file served by that same API process.
. "$ROOT/bench/lib/postgres.sh"
pg_start
PORT3=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed -e "s/127.0.0.1:$PORT/127.0.0.1:$PORT3/" -e "s|\"database\":\"[^\"]*\"|\"database\":\"$PG_URL\"|" \
  "$TMP/api.json" > "$TMP/api-pg.json"
TOKEN_PG=$("$BIN/organtrack-api" token create --role coordinator --name bench --config "$TMP/api-pg.json" 2>/dev/null | tail -1)
/usr/bin/python3 bench/api/seed.py "$PG_URL" "$N"
"$BIN/organtrack-api" --config "$TMP/api-pg.json" 2> "$TMP/api-pg.log" &
PID3=$!
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$PORT3/api/v1/health" > /dev/null && break
  sleep 0.05
done
for round in 1 2; do
  run "static_pg_$round" "http://127.0.0.1:$PORT3/page.json"
  run "api_pg_$round" "http://127.0.0.1:$PORT3/api/v1/shipments?status=active" "Authorization: Bearer $TOKEN_PG"
done
python3 - "$RPS_api_1" "$RPS_static_1" "$RPS_api_2" "$RPS_static_2" "$RPS_api_nocache" \
  "$RPS_api_pg_1" "$RPS_static_pg_1" "$RPS_api_pg_2" "$RPS_static_pg_2" <<'PY'
import sys
a1, s1, a2, s2, nc, p1, t1, p2, t2 = map(float, sys.argv[1:])
r = (a1 + a2) / (s1 + s2)
print(f"ratio api/static: round 1 {a1 / s1:.2f}, round 2 {a2 / s2:.2f}, overall {r:.2f}"
      f" ({100 * r:.0f} % of the static baseline; target >= 50 %)")
print(f"without the page cache: {nc / ((s1 + s2) / 2):.2f} of static ({nc:.0f} req/s)")
r = (p1 + p2) / (t1 + t2)
print(f"PostgreSQL: ratio api/static: round 1 {p1 / t1:.2f}, round 2 {p2 / t2:.2f}, overall {r:.2f}"
      f" (target >= 0.5)")
PY
