#!/usr/bin/env bash
# Collector benchmark (issue 4). In ONE run, on loopback, with a private
# mosquitto:
#   1. broker ceiling: a bare Paho subscriber that only counts (ot-bench-collector-sub)
#   2. publisher -> mosquitto -> organtrack-collector -> SQLite (InfluxDB off)
#   3. the same with InfluxDB on (a private influxd, v1 /write)
#   3b. publisher -> mosquitto -> organtrack-collector -> PostgreSQL 15 (a
#      private server, bench/lib/postgres.sh; a fresh database per round;
#      synchronous_commit on, fsync on), InfluxDB off
#   4. alarm latency: reading publish -> retained alarm list showing the
#      temp_excursion raised (profile with no grace), p50 / p99
# Rates are readings/s from the first publish to the last message counted
# (1) or to the collector's ack covering every seq (2, 3): the ack is
# published only after the SQLite COMMIT, so this is durable throughput.
# One reading per message, about 200 bytes, 10 containers.
# BENCH_ROUNDS rounds; within a round the three runs follow each other, and
# the collector's figure is taken as a ratio to the ceiling of its own round
# (the median over rounds is reported), so load from elsewhere on the
# machine hits numerator and denominator alike.
#   bash bench/collector.sh   (OT_BIN=dir, BENCH_MESSAGES=N, BENCH_ALARMS=K, BENCH_ROUNDS=R)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${OT_BIN:-$ROOT/build/bin}
N=${BENCH_MESSAGES:-30000}
K=${BENCH_ALARMS:-200}
ROUNDS=${BENCH_ROUNDS:-5}
for p in organtrack-collector ot-bench-collector-pub ot-bench-collector-sub; do
  [ -x "$BIN/$p" ] || { echo "bench/collector.sh: $BIN/$p not built (run make)"; exit 1; }
done

TMP=$(mktemp -d /tmp/ot-bench-collector.XXXXXX)
chmod 755 "$TMP"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  pg_stop 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 300); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 not open"; exit 1; }
wait_log() { for _ in $(seq 1 400); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done; echo "no '$2' in $1"; tail -5 "$1"; exit 1; }
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

MQ=$(port)
cat > "$TMP/mosquitto.conf" <<CONF
listener $MQ 127.0.0.1
persistence false
allow_anonymous true
max_queued_messages 1000000
max_inflight_messages 100
set_tcp_nodelay true
CONF
mosquitto -c "$TMP/mosquitto.conf" > "$TMP/mosquitto.log" 2>&1 &
PIDS+=($!)
wait_port "$MQ"
URL=tcp://127.0.0.1:$MQ

rate() { python3 -c "import sys; n,a,b=map(int,sys.argv[1:]); print(f'{n*1000/max(b-a,1):.0f}')" "$@"; }
field() { sed -n "s/.*$1=\([0-9]*\).*/\1/p"; }

# 1. broker ceiling
ceiling_run() {
  "$BIN/ot-bench-collector-sub" --url "$URL" --messages "$N" > "$TMP/sub.out" &
  local sub=$!
  wait_log "$TMP/sub.out" subscribed
  local out
  out=$("$BIN/ot-bench-collector-pub" --url "$URL" --messages "$N")
  wait "$sub"
  local got
  got=$(field messages < "$TMP/sub.out")
  [ "$got" = "$N" ] || { echo "bare subscriber got $got of $N" >&2; exit 1; }
  rate "$N" "$(echo "$out" | field first_ms)" "$(field done_ms < "$TMP/sub.out")"
}

collector_run() { # name influx_json [database URI] -> prints rate
  local name=$1 influx=$2 database=${3:-$TMP/$1.db}
  cat > "$TMP/$name.json" <<JSON
{"mqtt":{"url":"$URL","client_id":"bench-$name"},"database":"$database",
 "influxdb":$influx,"preservation":"","queue_max":100000,"log_level":"info"}
JSON
  "$BIN/organtrack-collector" --config "$TMP/$name.json" > "$TMP/$name.log" 2>&1 &
  local pid=$!
  PIDS+=($pid)
  wait_log "$TMP/$name.log" "mqtt subscribed"
  local out
  out=$("$BIN/ot-bench-collector-pub" --url "$URL" --messages "$N" --wait-ack)
  local stored
  stored=$(/usr/bin/python3 "$ROOT/bench/lib/count.py" "$database" "SELECT count(*) FROM readings")
  IXDB=bench${name#influx}
  [ -z "$IXP" ] || wait_points "$N" > "$TMP/points"
  stop "$pid"
  # drop its persistent session, or the broker keeps queueing for it
  mosquitto_sub -h 127.0.0.1 -p "$MQ" -i "bench-$name" -t bench/none -E > /dev/null 2>&1 || true
  [ -z "${BENCH_KEEP_LOGS:-}" ] || cp "$TMP/$name.log" "/tmp/bench-collector-$name.log"
  [ "$stored" = "$N" ] || { echo "collector $name stored $stored of $N" >&2; exit 1; }
  rate "$N" "$(echo "$out" | field first_ms)" "$(echo "$out" | field done_ms)"
}

points() {
  curl -s -G "http://127.0.0.1:$IXP/query" --data-urlencode "db=$IXDB" \
    --data-urlencode "q=SELECT count(seq) FROM reading" |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["results"][0]; print(r["series"][0]["values"][0][1] if "series" in r else 0)' 2>/dev/null || echo 0
}
wait_points() { # waits until InfluxDB holds N points (30 s max); prints the count
  local p=0
  for _ in $(seq 1 300); do p=$(points); [ "$p" = "$1" ] && break; sleep 0.1; done
  echo "$p"
}


# 2./3. collector with InfluxDB off and on, alternating with the ceiling
# round by round (see the header).
IXP=$(port)
IXR=$(port)
mkdir -p "$TMP/influx"
cat > "$TMP/influx/influxdb.conf" <<CONF
reporting-disabled = true
bind-address = "127.0.0.1:$IXR"
[meta]
  dir = "$TMP/influx/meta"
[data]
  dir = "$TMP/influx/data"
  wal-dir = "$TMP/influx/wal"
  query-log-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:$IXP"
  log-enabled = false
[monitor]
  store-enabled = false
CONF
influxd -config "$TMP/influx/influxdb.conf" > "$TMP/influx.log" 2>&1 &
PIDS+=($!)
wait_port "$IXP"
. "$ROOT/bench/lib/postgres.sh"
pg_start
CS=(); PS=(); IS=(); GS=(); POINTS=0
for r in $(seq 1 "$ROUNDS"); do
  curl -s -XPOST "http://127.0.0.1:$IXP/query" --data-urlencode "q=CREATE DATABASE bench$r" > /dev/null
  CS+=("$(ceiling_run)")
  SAVE=$IXP; IXP=
  PS+=("$(collector_run "plain$r" null)")
  pg_createdb "bench$r"
  GS+=("$(collector_run "pg$r" null "$PG_DB_URL")")
  IXP=$SAVE
  IS+=("$(collector_run "influx$r" "{\"url\":\"http://127.0.0.1:$IXP\",\"db\":\"bench$r\"}")")
  POINTS=$(( POINTS + $(cat "$TMP/points") ))
done

# 4. alarm latency
python3 - "$ROOT/config/preservation.json" "$TMP/preservation.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
k = p["profiles"]["kidney"]
k["excursion_grace_s"] = 0
k.setdefault("sources", {})["excursion_grace_s"] = "benchmark: no grace, every out-of-band reading alarms"
json.dump(p, open(sys.argv[2], "w"))
PY
cat > "$TMP/latency.json" <<JSON
{"mqtt":{"url":"$URL","client_id":"bench-latency"},"database":"$TMP/latency.db",
 "influxdb":null,"preservation":"$TMP/preservation.json","log_level":"warn"}
JSON
"$BIN/organtrack-collector" --config "$TMP/latency.json" > "$TMP/latency.log" 2>&1 &
LPID=$!
PIDS+=($LPID)
for _ in $(seq 1 200); do [ -f "$TMP/latency.db" ] && break; sleep 0.05; done
sleep 0.5
NOW=$(date +%s%3N)
sqlite3 "$TMP/latency.db" ".timeout 5000" "INSERT INTO shipments(container,profile,donation_code,cross_clamp_at,mode,status,created_at,created_by,updated_at) VALUES('bench-latency','kidney','DIN-BENCH',$NOW,'ground','in_transit',$NOW,'bench',$NOW);"
LAT=$("$BIN/ot-bench-collector-pub" --url "$URL" --latency --count "$K")
stop "$LPID"

P50=$(echo "$LAT" | field p50_us)
P99=$(echo "$LAT" | field p99_us)
python3 - "$N" "$POINTS" "$K" "$P50" "$P99" "$ROUNDS" "${CS[*]}" "${PS[*]}" "${IS[*]}" "${GS[*]}" <<'PY'
import statistics, sys
n, points, k, p50, p99, rounds, cs, ps, is_, gs = sys.argv[1:]
cs, ps, is_, gs = ([int(x) for x in v.split()] for v in (cs, ps, is_, gs))
off = [p / c for p, c in zip(ps, cs)]
on = [i / c for i, c in zip(is_, cs)]
pg = [g / c for g, c in zip(gs, cs)]
pct = lambda v: f"{100 * v:.0f} %"
print(f"readings (1 per message, ~200 B, 10 containers, QoS 1): {n} per run, {rounds} rounds")
print(f"broker ceiling (bare counting subscriber): median {statistics.median(cs):.0f} readings/s")
print(f"collector -> SQLite, InfluxDB off: median {statistics.median(ps):.0f} readings/s; "
      f"ratio to the ceiling of the same round: median {pct(statistics.median(off))} "
      f"(rounds {', '.join(pct(x) for x in off)})")
print(f"collector -> SQLite, InfluxDB on:  median {statistics.median(is_):.0f} readings/s; "
      f"ratio: median {pct(statistics.median(on))} (rounds {', '.join(pct(x) for x in on)}); "
      f"points in InfluxDB {points} of {int(rounds) * int(n)}")
print(f"collector -> PostgreSQL 15, InfluxDB off: median {statistics.median(gs):.0f} readings/s; "
      f"ratio: median {pct(statistics.median(pg))} (rounds {', '.join(pct(x) for x in pg)}; "
      f"target >= 60 %)")
print(f"rounds (readings/s): ceiling {cs}; collector {ps}; collector+InfluxDB {is_}; "
      f"collector+PostgreSQL {gs}")
print(f"alarm latency publish -> alarms topic ({k} alarms): p50 {int(p50)/1000:.2f} ms, p99 {int(p99)/1000:.2f} ms")
PY
