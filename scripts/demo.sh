#!/usr/bin/env bash
# organtrack live demo (make demo): everything on 127.0.0.1, in the
# foreground until Ctrl-C.
#
#   mosquitto      127.0.0.1:18883 (private config + data under var/demo/)
#   sensors        Modbus TCP 127.0.0.1:15020.. (config/sensors.json)
#   gateways       one per container (config/gateway*.json)
#   collector      SQLite var/organtrack.db (config/collector.json)
#   API + web      http://127.0.0.1:8080/ (config/api.json)
#
# Three shipments play from scenario files: a heart by air Oral -> Astana
# (its gateway detects the flight from altitude and speed, goes radio
# silent in the air and replays its backlog after landing: flight mode), a
# kidney by road, and a liver whose temperature leaves the band: the
# collector raises the alarm, and the container's own gateway sounds its
# local alarm (the module's alarm coil) from the limits the collector sent. Tokens land in var/demo/tokens.json. Stopping (Ctrl-C)
# stops every child by PID; nothing outside var/ is touched and nothing this
# script did not create is removed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=$ROOT/build/bin
DEMO=var/demo
API_URL=http://127.0.0.1:8080
BROKER_PORT=18883

pids=()
names=()
log() { printf '%s demo %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

cleanup() {
  trap - INT TERM EXIT
  log "stopping"
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[$i]}" 2>/dev/null || true
  done
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    local n=0
    while kill -0 "${pids[$i]}" 2>/dev/null && [ $n -lt 50 ]; do
      sleep 0.1
      n=$((n + 1))
    done
    kill -KILL "${pids[$i]}" 2>/dev/null || true
    wait "${pids[$i]}" 2>/dev/null || true
  done
  log "stopped; state kept in var/ (remove var/demo, var/gateway and var/organtrack.db* to start afresh)"
}
trap cleanup EXIT
trap 'cleanup; log "stopped cleanly (exit 0)"; exit 0' INT TERM

start() { # name logfile cmd...
  local name=$1 logf=$2
  shift 2
  "$@" >>"$logf" 2>&1 &
  pids+=($!)
  names+=("$name")
  log "started $name pid=$! log=$logf"
}

wait_port() { # port seconds
  local port=$1 deadline=$((SECONDS + ${2:-20}))
  while ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    if [ $SECONDS -ge $deadline ]; then
      log "port $port did not open; see logs in $DEMO/logs"
      exit 1
    fi
    sleep 0.1
  done
}

json_get() { # file key: first "key":"value" string in a JSON file
  sed -n "s/.*\"$2\" *: *\"\([^\"]*\)\".*/\1/p" "$1" | head -n 1
}

for b in organtrack-sensors organtrack-gateway organtrack-collector organtrack-api; do
  [ -x "$BIN/$b" ] || { log "missing $BIN/$b: run make first"; exit 1; }
done
for p in $BROKER_PORT 8080 15020 15021 15022; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    log "port $p is already in use on 127.0.0.1 (another demo running?)"
    exit 1
  fi
done

mkdir -p "$DEMO/logs" "$DEMO/mosquitto/data" var/gateway

# --- broker: per-client credentials and ACL from the shipped configs -----
gateways=(config/gateway.json config/gateway-kidney.json config/gateway-excursion.json)
passwd=$DEMO/mosquitto/passwd
acl=$DEMO/mosquitto/acl
: >"$passwd"
coll_user=$(json_get config/collector.json username)
coll_pass=$(json_get config/collector.json password)
mosquitto_passwd -b "$passwd" "$coll_user" "$coll_pass"
root=$(json_get config/collector.json topic_root)
root=${root:-organtrack/v1}
{
  echo "user $coll_user"
  echo "topic read $root/containers/+/readings"
  echo "topic read $root/containers/+/state"
  echo "topic write $root/containers/+/ack"
  echo "topic write $root/containers/+/alarms"
  echo "topic readwrite $root/collectors/+/state"
  echo "topic write $root/containers/+/limits"
} >"$acl"
for g in "${gateways[@]}"; do
  u=$(json_get "$g" username)
  c=$(json_get "$g" container)
  mosquitto_passwd -b "$passwd" "$u" "$(json_get "$g" password)"
  printf '\nuser %s\ntopic write %s/containers/%s/readings\ntopic write %s/containers/%s/state\ntopic read %s/containers/%s/ack\ntopic read %s/containers/%s/limits\n' \
    "$u" "$root" "$c" "$root" "$c" "$root" "$c" "$root" "$c" >>"$acl"
done
cat >"$DEMO/mosquitto/mosquitto.conf" <<CONF
listener $BROKER_PORT 127.0.0.1
allow_anonymous false
password_file $ROOT/$passwd
acl_file $ROOT/$acl
persistence true
persistence_location $ROOT/$DEMO/mosquitto/data/
autosave_interval 5
max_queued_messages 100000
max_inflight_messages 100
message_size_limit 262144
set_tcp_nodelay true
log_dest stderr
log_type error
log_type warning
log_type notice
CONF
# mosquitto started as root drops to the mosquitto user: let it read its
# files and write its data dir.
if [ "$(id -u)" = 0 ] && id mosquitto >/dev/null 2>&1; then
  chown -R mosquitto "$DEMO/mosquitto"
  chmod 0700 "$DEMO/mosquitto/data"
  chmod 0640 "$passwd" "$acl"
  chgrp mosquitto "$passwd" "$acl" 2>/dev/null || true
  chmod o+x var "$DEMO" 2>/dev/null || true
fi
start mosquitto "$DEMO/logs/mosquitto.log" mosquitto -c "$DEMO/mosquitto/mosquitto.conf"
wait_port $BROKER_PORT

# --- sensors, collector, API ---------------------------------------------
start sensors "$DEMO/logs/sensors.log" "$BIN/organtrack-sensors" --config config/sensors.json
wait_port 15020
start collector "$DEMO/logs/collector.log" "$BIN/organtrack-collector" --config config/collector.json
start api "$DEMO/logs/api.log" "$BIN/organtrack-api" --config config/api.json
wait_port 8080

# --- tokens ------------------------------------------------------------
tokens=$DEMO/tokens.json
containers=()
for g in "${gateways[@]}"; do containers+=("$(json_get "$g" container)"); done
mint() { "$BIN/organtrack-api" token create --config config/api.json "$@" | tail -n 1; }
crew_args=()
for c in "${containers[@]}"; do crew_args+=(--container "$c"); done
t_crew=$(mint --role crew --name demo-crew "${crew_args[@]}")
t_coord=$(mint --role coordinator --name demo-coordinator)
t_aud=$(mint --role auditor --name demo-auditor)
t_admin=$(mint --role admin --name demo-admin)
umask 077
printf '{"crew":"%s","coordinator":"%s","auditor":"%s","admin":"%s"}\n' \
  "$t_crew" "$t_coord" "$t_aud" "$t_admin" >"$tokens"
umask 022
log "tokens written to $tokens"

# --- shipments, created through the API as a coordinator would ----------
now_minus() { date -u -d "@$(($(date +%s) - $1 * 60))" +%Y-%m-%dT%H:%M:%SZ; }
create_shipment() { # container profile code clamp_minutes_ago mode origin dest
  local body status
  body=$(printf '{"container":"%s","profile":"%s","donation_code":"%s","cross_clamp_at":"%s","origin":%s,"destination":%s,"mode":"%s"}' \
    "$1" "$2" "$3" "$(now_minus "$4")" "$6" "$7" "$5")
  status=$(curl -s -o "$DEMO/logs/shipment-$1.json" -w '%{http_code}' -X POST \
    -H "Authorization: Bearer $t_coord" -H 'Content-Type: application/json' \
    --data "$body" "$API_URL/api/v1/shipments")
  case $status in
    201)
      log "shipment created container=$1 profile=$2"
      local id
      id=$(sed -n 's/^{"id": *\([0-9]*\).*/\1/p; s/.*"id": *\([0-9][0-9]*\).*/\1/p' "$DEMO/logs/shipment-$1.json" | head -n 1)
      # the procurement team packs and hands the container to the crew, who depart
      custody "$id" '{"type":"packed","from":"Procurement team, Oral regional hospital","seal":"SEAL-'"$1"'","comment":"label and seal checked"}'
      custody "$id" '{"type":"handoff","from":"Procurement team, Oral regional hospital","to":"Transport crew","witness":"Duty nurse, Oral regional hospital","seal":"SEAL-'"$1"'"}'
      custody "$id" '{"type":"departed","from":"Transport crew","comment":"left the donor hospital"}'
      ;;
    409) log "container $1 already has an open shipment; keeping it" ;;
    *) log "creating shipment for $1 failed: HTTP $status $(cat "$DEMO/logs/shipment-$1.json")"; exit 1 ;;
  esac
}
custody() { # shipment_id body (as the crew)
  local status
  status=$(curl -s -o "$DEMO/logs/custody-last.json" -w '%{http_code}' -X POST \
    -H "Authorization: Bearer $t_crew" -H 'Content-Type: application/json' \
    --data "$2" "$API_URL/api/v1/shipments/$1/custody")
  [ "$status" = 201 ] || log "custody event on shipment $1 refused: HTTP $status $(cat "$DEMO/logs/custody-last.json")"
}
ORAL_HOSP='{"name":"Oral regional hospital","lat":51.2333,"lon":51.3667}'
ASTANA_NTC='{"name":"National transplant centre, Astana","lat":51.0906,"lon":71.4183}'
AKTOBE='{"name":"Aktobe medical centre","lat":50.2839,"lon":57.1670}'
create_shipment "${containers[0]}" heart KZ-DIN-A0001-26 40 air "$ORAL_HOSP" "$ASTANA_NTC"
create_shipment "${containers[1]}" kidney KZ-DIN-A0002-26 90 ground "$ORAL_HOSP" "$AKTOBE"
# a liver (5 min excursion grace) so the excursion alarm comes a few minutes in
create_shipment "${containers[2]}" liver KZ-DIN-A0003-26 30 ground "$ORAL_HOSP" "$AKTOBE"

# --- gateways (the heart's config has flight mode on: flight.detect auto) --
start gateway-heart "$DEMO/logs/gateway-heart.log" "$BIN/organtrack-gateway" --config "${gateways[0]}"
start gateway-kidney "$DEMO/logs/gateway-kidney.log" "$BIN/organtrack-gateway" --config "${gateways[1]}"
start gateway-excursion "$DEMO/logs/gateway-excursion.log" "$BIN/organtrack-gateway" --config "${gateways[2]}"

cat >&2 <<MSG

  organtrack demo is running: open http://127.0.0.1:8080/
  tokens (paste one into the dashboard): $tokens
  logs: $DEMO/logs/    gateway status: $BIN/organtrack-gateway status --config config/gateway.json
  the heart takes off about 35 s from now: its gateway goes radio silent
  (flight mode) until it has landed, then replays its backlog; the liver's
  container sounds its local alarm once its temperature has been out of
  band for the grace ("alarm output ON" in $DEMO/logs/sensors.log).
  Ctrl-C stops everything.

MSG

# --- watch: a child that dies ends the demo --------------------------------
while true; do
  sleep 1
  for i in "${!pids[@]}"; do
    if ! kill -0 "${pids[$i]}" 2>/dev/null; then
      # Ctrl-C reaches the children too and may stop them before this shell
      # runs its trap: give the trap its turn before calling it a failure
      sleep 0.5
      log "${names[$i]} exited unexpectedly; see $DEMO/logs/${names[$i]}.log"
      exit 1
    fi
  done
done
