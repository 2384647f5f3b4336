#!/usr/bin/env bash
# API over HTTPS benchmark (issue 11): GET /api/v1/shipments?status=active
# with 1,000 active shipments (first page, 50 items), served over HTTPS
# (TLS 1.3 from libmicrohttpd + GnuTLS, keep-alive connections), against a
# static file of the same bytes served over HTTPS by the same organtrack-api
# in the same run, with wrk. Target: API/static >= 0.5.
#   bash bench/api_https.sh      (uses build/bin; OT_BIN=dir to override; make bench: release)
#   BENCH_DURATION=10s BENCH_CONNECTIONS=32 BENCH_THREADS=2 BENCH_SHIPMENTS=1000
# The certificate is ECDSA P-256 from a throw-away CA (keep-alive makes the
# handshake a one-off per connection; what is measured is TLS record work).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${OT_BIN:-$ROOT/build/bin}
DUR=${BENCH_DURATION:-10s}
CONNS=${BENCH_CONNECTIONS:-32}
WTHREADS=${BENCH_THREADS:-2}
N=${BENCH_SHIPMENTS:-1000}

command -v wrk >/dev/null || { echo "bench/api_https.sh: wrk missing (scripts/install-deps.sh)"; exit 1; }
[ -x "$BIN/organtrack-api" ] || { echo "bench/api_https.sh: $BIN/organtrack-api not built (run make)"; exit 1; }

TMP=$(mktemp -d /tmp/ot-bench-https.XXXXXX)
PID=
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
(
  cd "$TMP"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=bench CA" \
    -keyout ca.key -out ca.crt 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
    -keyout server.key -out server.csr 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >san.ext
  openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext \
    -out server.crt 2>/dev/null
)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$TMP/web"
cat >"$TMP/api.json" <<JSON
{"listen":"127.0.0.1:$PORT","database":"$TMP/organtrack.db",
 "preservation":"$ROOT/config/preservation.json","web_root":"$TMP/web",
 "ledger_key":"$TMP/ledger.key","log_level":"warn",
 "tls":{"cert_file":"$TMP/server.crt","key_file":"$TMP/server.key"}}
JSON
TOKEN=$("$BIN/organtrack-api" token create --role coordinator --name bench --config "$TMP/api.json" 2>/dev/null | tail -1)
/usr/bin/python3 bench/api/seed.py "$TMP/organtrack.db" "$N"
"$BIN/organtrack-api" --config "$TMP/api.json" 2>"$TMP/api.log" &
PID=$!
C="curl -sf --cacert $TMP/ca.crt"
for _ in $(seq 100); do
  $C "https://127.0.0.1:$PORT/api/v1/health" >/dev/null && break
  sleep 0.05
done
URL="https://127.0.0.1:$PORT/api/v1/shipments?status=active"
$C -H "Authorization: Bearer $TOKEN" "$URL" >"$TMP/web/page.json"
BYTES=$(wc -c <"$TMP/web/page.json")
ITEMS=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['items']))" "$TMP/web/page.json")
TLS=$(openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$TMP/ca.crt" </dev/null 2>/dev/null |
  awk '/^New, /{print $2, $5; exit}')

run() { # label url [header]
  local out
  if [ -n "${3:-}" ]; then
    out=$(wrk -t"$WTHREADS" -c"$CONNS" -d"$DUR" --latency -H "$3" "$2")
  else
    out=$(wrk -t"$WTHREADS" -c"$CONNS" -d"$DUR" --latency "$2")
  fi
  echo "$out" >"$TMP/wrk-$1.txt"
  local rps p99 non2xx errs
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  errs=$(awk '/Socket errors/ {print}' <<<"$out")
  printf '%-20s %10s req/s   p99 %8s   %s%s\n' "$1" "$rps" "$p99" "${non2xx:+non-2xx: $non2xx }" "$errs"
  eval "RPS_$1=$rps"
}
echo "organtrack-api over HTTPS: $N active shipments, page of $ITEMS items ($BYTES bytes), $TLS," \
  "keep-alive, wrk -t$WTHREADS -c$CONNS -d$DUR, $(nproc) cores"
wrk -t1 -c4 -d2s "https://127.0.0.1:$PORT/page.json" >/dev/null # warm-up
# alternating rounds: the machine is shared, so compare within a round
for round in 1 2; do
  run "static_$round" "https://127.0.0.1:$PORT/page.json"
  run "api_$round" "$URL" "Authorization: Bearer $TOKEN"
done
python3 - "$RPS_api_1" "$RPS_static_1" "$RPS_api_2" "$RPS_static_2" <<'PY'
import sys
a1, s1, a2, s2 = map(float, sys.argv[1:])
r = (a1 + a2) / (s1 + s2)
print(f"ratio api/static over HTTPS: round 1 {a1 / s1:.2f}, round 2 {a2 / s2:.2f}, overall {r:.2f}"
      f" (target >= 0.5: {'met' if r >= 0.5 else 'NOT met'})")
sys.exit(0 if r >= 0.5 else 1)
PY
