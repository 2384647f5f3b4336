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
# Three shipments play from scenario files (sensors/scenarios/), all from
# Oral regional hospital; minute marks from the start (README.md, "The demo"):
# - a heart by air with planned legs (road to Oral airport, flight to Astana,
#   road to the National transplant centre), planned from the scenario's own
#   timing so the plan and the positions agree. Its gateway detects the
#   flight from altitude and speed and goes radio silent (flight mode), then
#   replays its backlog after landing. At the centre this script posts, as
#   the crew and the receiving centre would: arrived, checkin (the label read
#   back against the shipment, with a witness), received and reperfused.
# - a kidney by road for Astana, redirected by the coordinator to Aktobe
#   1.5 min in (PATCH destination, a reason in the ledger), and received there
#   (arrived, checkin with its laterality, received).
# - a liver whose container warms slowly out of its 2-8 degC band: the
#   collector's trend forecast warns first (temp_forecast, about 5 min in),
#   then the excursion alarm (about 13 min in), and the container's own
#   gateway sounds its local alarm (the module's alarm coil) from the limits
#   the collector sent it.
# Tokens land in var/demo/tokens.json. Stopping (Ctrl-C) stops every child
# by PID; nothing outside var/ is touched and nothing this script did not
# create is removed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${OT_BIN:-$ROOT/build/bin} # OT_BIN: the tests' build
DEMO=var/demo
API_URL=http://127.0.0.1:8080
BROKER_PORT=18883

case ${1:-} in
  "") plan_only=0 ;;
  --plan) plan_only=1 ;; # print the shipments and scripted requests; start nothing
  *) echo "usage: scripts/demo.sh [--plan]" >&2; exit 2 ;;
esac

pids=()
names=()
driver_pid=
t0_ms=
log() { # with the minute mark since the scenarios started, once they have
  local mark=
  if [ -n "$t0_ms" ]; then
    local s=$((($(date +%s%3N) - t0_ms) / 1000))
    mark=$(printf ' +%d:%02d' $((s / 60)) $((s % 60)))
  fi
  printf '%s%s demo %s\n' "$(date -u +%H:%M:%S)" "$mark" "$*" >&2
}

json_get() { # file key: first "key":"value" string in a JSON file
  sed -n "s/.*\"$2\" *: *\"\([^\"]*\)\".*/\1/p" "$1" | head -n 1
}

# --- the journey: containers, places, shipments, the scripted requests ----
gateways=(config/gateway.json config/gateway-kidney.json config/gateway-excursion.json)
containers=()
for g in "${gateways[@]}"; do containers+=("$(json_get "$g" container)"); done
now_minus() { date -u -d "@$(($(date +%s) - $1 * 60))" +%Y-%m-%dT%H:%M:%SZ; }
place() { printf '{"name":"%s","lat":%s,"lon":%s}' "$1" "$2" "$3"; }
ORAL_HOSP=$(place "Oral regional hospital" 51.2333 51.3667)
# the airports' published reference points: Oral Ak Zhol (URA), Astana
# Nursultan Nazarbayev International (NQZ); the scenario flies between them
ORAL_URA=$(place "Oral airport (URA)" 51.1508 51.5436)
ASTANA_NQZ=$(place "Astana airport (NQZ)" 51.0222 71.4669)
ASTANA_NTC=$(place "National transplant centre, Astana" 51.0900 71.4200)
AKTOBE=$(place "Aktobe medical centre" 50.2839 57.1670)

# The heart's plan is its scenario's own timing: the simulator's --dump-scenario
# gives, per route leg, when the vehicle starts to move and when it reaches the
# leg's end (simulated s); at the scenario's time_scale from t0 those are the
# planned departures and arrivals, so the plan matches the positions played.
iso_at() { # simulated seconds on the heart's scenario -> RFC 3339
  date -u -d "@$(((t0_ms + ${1%.*} * 1000 / ${heart_scale%.*}) / 1000))" +%Y-%m-%dT%H:%M:%SZ
}
plan_heart() { # sets heart_legs from t0_ms
  local heart_scn heart_times d0 a0 d1 a1 d2 a2
  heart_scn=$(json_get config/sensors.json scenario) # the first device is the heart's
  heart_scale=$(sed -n 's/^ *"time_scale": *\([0-9.]*\).*/\1/p' "$heart_scn" | head -n 1)
  heart_times=$("$BIN/organtrack-sensors" --dump-scenario "$heart_scn" --at 0 --to 30000 --step 5 | awk '
    { t = $0; sub(/.*"t_s":/, "", t); sub(/[,}].*/, "", t)
      l = $0; sub(/.*"leg":/, "", l); sub(/,.*/, "", l)
      v = $0; sub(/.*"speed_kmh":/, "", v); sub(/,.*/, "", v)
      t += 0; l += 0; v += 0
      if (!(l in seen)) { seen[l] = 1; if (l > 0) arr[l - 1] = t }
      if (v > 0 && !(l in dep)) dep[l] = t }
    END { for (i = 0; i < 3; i++) printf "%s %s ", dep[i], arr[i] }')
  read -r d0 a0 d1 a1 d2 a2 <<<"$heart_times"
  if [ -z "${a2:-}" ]; then
    log "could not plan the heart's legs from $heart_scn (got: $heart_times)"
    exit 1
  fi
  heart_legs=$(printf '"legs":[{"mode":"ground","from":%s,"to":%s,"planned_departure":"%s","planned_arrival":"%s","carrier":"Oral regional ambulance"},{"mode":"air","from":%s,"to":%s,"planned_departure":"%s","planned_arrival":"%s","carrier":"Republican sanitary aviation","flight":"SA-7021"},{"mode":"ground","from":%s,"to":%s,"planned_departure":"%s","planned_arrival":"%s","carrier":"Astana ambulance"}]' \
    "$ORAL_HOSP" "$ORAL_URA" "$(iso_at "$d0")" "$(iso_at "$a0")" \
    "$ORAL_URA" "$ASTANA_NQZ" "$(iso_at "$d1")" "$(iso_at "$a1")" \
    "$ASTANA_NQZ" "$ASTANA_NTC" "$(iso_at "$d2")" "$(iso_at "$a2")")
  log "heart planned: leaves $(iso_at "$d0"), takes off $(iso_at "$d1"), lands $(iso_at "$a1"), arrives $(iso_at "$a2")"
}
ship_body() { # container profile code clamp_minutes_ago mode origin dest [extra JSON members]
  printf '{"container":"%s","profile":"%s","donation_code":"%s","cross_clamp_at":"%s","origin":%s,"destination":%s,"mode":"%s"%s}' \
    "$1" "$2" "$3" "$(now_minus "$4")" "$6" "$7" "$5" "${8:+,$8}"
}
each_shipment() { # CMD: CMD with the arguments of create_shipment, for each of the three
  "$1" "${containers[0]}" heart KZ-DIN-A0001-26 40 mixed "$ORAL_HOSP" "$ASTANA_NTC" \
    '"abo":"O+",'"$heart_legs"
  # the kidney sets off for Astana by road and is redirected (below)
  "$1" "${containers[1]}" kidney KZ-DIN-A0002-26 90 ground "$ORAL_HOSP" "$ASTANA_NTC" \
    '"abo":"O+","laterality":"left"'
  # a liver (5 min excursion grace) whose container warms slowly: the forecast
  # warns about 5 min in, the excursion alarm comes about 13 min in
  "$1" "${containers[2]}" liver KZ-DIN-A0003-26 30 ground "$ORAL_HOSP" "$AKTOBE" '"abo":"O+"'
}
# the kidney's redirect (the coordinator, 1.5 min in), and the labels the
# receiving teams read back at check-in (matching the shipments)
redirect_body='{"destination":'"$AKTOBE"',"comment":"recipient in Astana withdrawn (positive crossmatch); the kidney goes to the next matched recipient at Aktobe medical centre, on its road"}'
heart_team="Cardiac transplant team, National transplant centre"
heart_witness="Theatre nurse, National transplant centre"
heart_checkin='{"type":"checkin","from":"Transport crew","to":"'"$heart_team"'","witness":"'"$heart_witness"'","verify":{"donation_code":"KZ-DIN-A0001-26","profile":"heart","abo":"O+"},"comment":"label read back at the theatre door"}'
kidney_team="Transplant team, Aktobe medical centre"
kidney_witness="Ward nurse, Aktobe medical centre"
kidney_checkin='{"type":"checkin","from":"Transport crew","to":"'"$kidney_team"'","witness":"'"$kidney_witness"'","verify":{"donation_code":"KZ-DIN-A0002-26","profile":"kidney","laterality":"left","abo":"O+"},"comment":"label read back on the ward"}'

if [ "$plan_only" = 1 ]; then
  # what the demo would send, planned from now (tests/integration/demo_plan.py)
  [ -x "$BIN/organtrack-sensors" ] || { log "missing $BIN/organtrack-sensors: run make first"; exit 1; }
  t0_ms=$(date +%s%3N)
  plan_heart
  printf 't0 {"t0_ms":%s,"heart_scenario":"%s","time_scale":%s}\n' "$t0_ms" "$(json_get config/sensors.json scenario)" "$heart_scale"
  # shellcheck disable=SC2317 # called by each_shipment
  print_create() { printf 'create %s\n' "$(ship_body "$@")"; }
  each_shipment print_create
  printf 'redirect %s\ncheckin_heart %s\ncheckin_kidney %s\n' "$redirect_body" "$heart_checkin" "$kidney_checkin"
  exit 0
fi

cleanup() {
  trap - INT TERM EXIT
  log "stopping"
  local i
  if [ -n "$driver_pid" ]; then
    kill -TERM "$driver_pid" 2>/dev/null || true
    wait "$driver_pid" 2>/dev/null || true
  fi
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
# the scenarios start ("start": "now") when the simulator loads them: t0
t0_ms=$(date +%s%3N)
start sensors "$DEMO/logs/sensors.log" "$BIN/organtrack-sensors" --config config/sensors.json
wait_port 15020
start collector "$DEMO/logs/collector.log" "$BIN/organtrack-collector" --config config/collector.json
start api "$DEMO/logs/api.log" "$BIN/organtrack-api" --config config/api.json
wait_port 8080

# --- tokens ------------------------------------------------------------
tokens=$DEMO/tokens.json
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
declare -A ship_id=()
create_shipment() { # container profile code clamp_minutes_ago mode origin dest [extra JSON members]
  local body status
  body=$(ship_body "$@")
  status=$(curl -s -o "$DEMO/logs/shipment-$1.json" -w '%{http_code}' -X POST \
    -H "Authorization: Bearer $t_coord" -H 'Content-Type: application/json' \
    --data "$body" "$API_URL/api/v1/shipments")
  case $status in
    201)
      log "shipment created container=$1 profile=$2"
      local id
      id=$(sed -n 's/^{"id": *\([0-9]*\).*/\1/p; s/.*"id": *\([0-9][0-9]*\).*/\1/p' "$DEMO/logs/shipment-$1.json" | head -n 1)
      ship_id[$1]=$id
      # the procurement team packs and hands the container to the crew, who depart
      custody "$id" "$t_crew" '{"type":"packed","from":"Procurement team, Oral regional hospital","seal":"SEAL-'"$1"'","comment":"label and seal checked"}'
      custody "$id" "$t_crew" '{"type":"handoff","from":"Procurement team, Oral regional hospital","to":"Transport crew","witness":"Duty nurse, Oral regional hospital","seal":"SEAL-'"$1"'"}'
      custody "$id" "$t_crew" '{"type":"departed","from":"Transport crew","comment":"left the donor hospital"}'
      ;;
    409) log "container $1 already has an open shipment; keeping it (its arrival and redirect are not replayed)" ;;
    *) log "creating shipment for $1 failed: HTTP $status $(cat "$DEMO/logs/shipment-$1.json")"; exit 1 ;;
  esac
}
custody() { # shipment_id token body
  local status
  status=$(curl -s -m 10 -o "$DEMO/logs/custody-last.json" -w '%{http_code}' -X POST \
    -H "Authorization: Bearer $2" -H 'Content-Type: application/json' \
    --data "$3" "$API_URL/api/v1/shipments/$1/custody")
  if [ "$status" = 201 ]; then
    log "custody $(printf '%s' "$3" | sed -n 's/^{"type":"\([a-z]*\)".*/\1/p') recorded on shipment $1"
  else
    log "custody event on shipment $1 refused: HTTP $status $(cat "$DEMO/logs/custody-last.json")"
  fi
}
plan_heart
each_shipment create_shipment

# --- gateways (the heart's config has flight mode on: flight.detect auto) --
start gateway-heart "$DEMO/logs/gateway-heart.log" "$BIN/organtrack-gateway" --config "${gateways[0]}"
start gateway-kidney "$DEMO/logs/gateway-kidney.log" "$BIN/organtrack-gateway" --config "${gateways[1]}"
start gateway-excursion "$DEMO/logs/gateway-excursion.log" "$BIN/organtrack-gateway" --config "${gateways[2]}"

# --- what the people do: a redirect, and the receipts ------------------
# One background shell, stopped by the cleanup (by PID) like the rest. It
# does not sleep out the journeys: it polls the API for the positions.
latest_of() { # shipment JSON file -> "lat lon speed_kmh" of its latest reading
  sed -n 's/.*"latest": *{\([^}]*\)}.*/\1/p' "$1" | awk -F, '
    { for (i = 1; i <= NF; i++) {
        n = split($i, kv, ":"); if (n < 2) continue
        k = kv[1]; gsub(/[" ]/, "", k)
        if (k == "lat") la = kv[2]; else if (k == "lon") lo = kv[2]; else if (k == "speed_kmh") sp = kv[2]
      } }
    END { if (la != "" && lo != "") print la + 0, lo + 0, sp + 0 }'
}
near() { # lat lon lat2 lon2 km: true within km (great circle)
  awk -v a="$1" -v b="$2" -v c="$3" -v d="$4" -v km="$5" 'BEGIN {
    r = 3.14159265358979 / 180; x = sin((c - a) * r / 2); y = sin((d - b) * r / 2)
    h = x * x + cos(a * r) * cos(c * r) * y * y
    exit !(2 * 6371.0088 * atan2(sqrt(h), sqrt(1 - h)) <= km) }'
}
api_get() { # path file (as the coordinator)
  curl -s -f -m 10 -o "$2" -H "Authorization: Bearer $t_coord" "$API_URL$1"
}
redirect_kidney() {
  local body=$redirect_body status
  status=$(curl -s -m 10 -o "$DEMO/logs/redirect.json" -w '%{http_code}' -X PATCH \
    -H "Authorization: Bearer $t_coord" -H 'Content-Type: application/json' \
    --data "$body" "$API_URL/api/v1/shipments/$1")
  if [ "$status" = 200 ]; then
    log "kidney (shipment $1) redirected to Aktobe medical centre by the coordinator"
  else
    log "redirecting shipment $1 refused: HTTP $status $(cat "$DEMO/logs/redirect.json")"
  fi
}
stopped_at() { # shipment_id lat lon: its latest reading stands within 0.3 km (prints "lat lon")
  local f=$DEMO/logs/driver-$1.json la lo sp
  api_get "/api/v1/shipments/$1" "$f" || return 1
  read -r la lo sp <<<"$(latest_of "$f")"
  [ -n "$sp" ] || return 1
  near "$la" "$lo" "$2" "$3" 0.3 && awk -v v="$sp" 'BEGIN { exit !(v < 1) }' && echo "$la $lo"
}
receive() { # shipment_id "lat lon" container place team witness checkin_body
  local id=$1 lat=${2% *} lon=${2#* }
  log "shipment $id at $4 (latest reading $lat, $lon)"
  custody "$id" "$t_crew" '{"type":"arrived","from":"Transport crew","place":{"lat":'"$lat"',"lon":'"$lon"'},"comment":"at '"$4"'"}'
  nap 5 # the receiving team reads the label with a witness
  custody "$id" "$t_coord" "$7"
  nap 3
  custody "$id" "$t_coord" '{"type":"received","from":"Transport crew","to":"'"$5"'","witness":"'"$6"'","seal":"SEAL-'"$3"'","comment":"seal intact"}'
}
nap_pid=
nap() { # sleep that the cleanup's TERM ends at once (a trap runs only between commands)
  sleep "$1" &
  nap_pid=$!
  wait "$nap_pid"
}
drive() {
  trap - EXIT INT
  trap '[ -z "$nap_pid" ] || kill "$nap_pid" 2>/dev/null; exit 0' TERM
  set +e
  local heart=${ship_id[${containers[0]}]:-} kidney=${ship_id[${containers[1]}]:-} at
  local redirected=
  [ -n "$kidney" ] || redirected=1
  while [ -n "$kidney" ] || [ -n "$heart" ]; do
    nap 2
    if [ -z "$redirected" ] && [ $(($(date +%s%3N) - t0_ms)) -ge 90000 ]; then
      redirect_kidney "$kidney"
      redirected=1
    fi
    # stopped at the centre: its latest reading (for the heart, after the
    # flight's backlog has been replayed)
    if [ -n "$heart" ] && at=$(stopped_at "$heart" 51.0900 71.4200); then
      receive "$heart" "$at" "${containers[0]}" "the National transplant centre, Astana" \
        "$heart_team" "$heart_witness" "$heart_checkin"
      nap 20 # the implantation, much shortened
      custody "$heart" "$t_coord" '{"type":"reperfused","comment":"first anastomosis, cross-clamp released: cold ischaemia ends"}'
      heart=
    fi
    if [ -n "$redirected" ] && [ -n "$kidney" ] && at=$(stopped_at "$kidney" 50.2839 57.1670); then
      receive "$kidney" "$at" "${containers[1]}" "Aktobe medical centre" \
        "$kidney_team" "$kidney_witness" "$kidney_checkin"
      kidney=
    fi
  done
  log "scripted events done (the redirect, both receipts)"
}
drive &
driver_pid=$!
log "started driver pid=$driver_pid (the redirect at +1:30, the receipts on arrival)"

cat >&2 <<MSG

  organtrack demo is running: open http://127.0.0.1:8080/
  tokens (paste one into the dashboard): $tokens
  logs: $DEMO/logs/    gateway status: $BIN/organtrack-gateway status --config config/gateway.json
  minute marks from the start (the log lines carry them, +m:ss):
    +0:12  the heart leaves Oral regional hospital; the kidney and the liver set off
    +1:00  the heart takes off at Oral; ~+1:05 its gateway goes radio silent (flight mode)
    +1:30  the coordinator redirects the kidney from Astana to Aktobe
    +3:41  the heart lands at Astana; ~+3:53 its gateway is back on the radio and
           replays the flight's backlog
    +4:16  the heart at the National transplant centre: arrived, checkin, received;
           reperfused about 30 s later
    +5:00  the liver's trend forecast warns (temp_forecast), still in band
    +6:38  the kidney at Aktobe: arrived, checkin (laterality left), received
    +8:30  the liver leaves its 2-8 degC band
    +13:30 the liver's excursion alarm (temp_excursion), and its container's
           local alarm ("alarm output ON" in $DEMO/logs/sensors.log)
    +26:10 the liver back in band: the local alarm goes off
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
