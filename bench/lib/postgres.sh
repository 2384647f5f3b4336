# bench/lib/postgres.sh - sourced by the benchmarks that run on PostgreSQL:
# a private server from the test harness (bench/lib/pgserver.py).
#   pg_start            starts it; PG_URL is the organtrack database's URI
#   pg_createdb NAME    a fresh empty database; its URI in PG_DB_URL
#   pg_stop             stops it (by PID; also call it from the EXIT trap)
# Needs ROOT (the repository) set by the caller.
pg_start() {
  coproc OTPG { exec /usr/bin/python3 "$ROOT/bench/lib/pgserver.py"; }
  PG_PID=$OTPG_PID
  local line
  read -r line <&"${OTPG[0]}" || { echo "bench: PostgreSQL did not start" >&2; exit 1; }
  PG_URL=${line#url=}
  PG_URL=${PG_URL%% admin=*}
}
pg_createdb() {
  local ans
  echo "createdb $1" >&"${OTPG[1]}"
  read -r ans <&"${OTPG[0]}"
  [ "$ans" = "ok $1" ] || { echo "bench: createdb $1: $ans" >&2; exit 1; }
  PG_DB_URL="${PG_URL%/*}/$1"
}
pg_stop() {
  [ -n "${PG_PID:-}" ] || return 0
  local fd=${OTPG[1]:-}
  [ -z "$fd" ] || eval "exec $fd>&-" # end of commands: the server stops
  wait "$PG_PID" 2>/dev/null || true
  PG_PID=
}
