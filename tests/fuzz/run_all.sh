#!/bin/sh
# `make fuzz-run`: builds the fuzz preset (clang, libFuzzer, ASan+UBSan) and
# runs every fuzz target on a copy of its corpus for FUZZ_SECONDS (default
# 60) each, one after the other; prints one line per target with its
# executions, the corpus size reached and crashes. A crashing input is kept
# as build-fuzz/crashes/NAME/crash-*: add it to tests/fuzz/corpus/NAME once
# fixed, so fuzz.replay.NAME guards it. Exit 1 if any target crashed.
#   FUZZ_SECONDS=300 make fuzz-run       tests/fuzz/run_all.sh [seconds]
set -u
cd "$(dirname "$0")/../.."
secs=${1:-${FUZZ_SECONDS:-60}}
cmake --preset fuzz >/dev/null || exit 1
cmake --build build-fuzz -j"${JOBS:-2}" >/dev/null || exit 1
status=0
for bin in build-fuzz/bin/fuzz_*; do
  name=$(basename "$bin")
  corpus=tests/fuzz/corpus/${name#fuzz_}
  work=build-fuzz/corpus/$name
  crashes=build-fuzz/crashes/$name
  mkdir -p "$work" "$crashes"
  cp "$corpus"/* "$work"/ 2>/dev/null || true
  log=build-fuzz/$name.log
  "$bin" -max_total_time="$secs" -max_len=300000 -artifact_prefix="$crashes/" \
    -print_final_stats=1 "$work" >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  ncrash=$(find "$crashes" -type f | wc -l)
  printf '%-24s rc=%d executions=%s corpus=%d crashes=%d\n' "$name" "$rc" "${runs:-?}" \
    "$(find "$work" -type f | wc -l)" "$ncrash"
  [ "$rc" -eq 0 ] && [ "$ncrash" -eq 0 ] || status=1
done
exit $status
