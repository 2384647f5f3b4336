#!/bin/sh
# Builds the fuzz preset (clang, libFuzzer, ASan+UBSan) and runs one target
# on its seed corpus for a while. Not part of CI.
#   tests/fuzz/run.sh [fuzz_readings] [seconds]
set -eu
cd "$(dirname "$0")/../.."
name=${1:-fuzz_readings}
secs=${2:-60}
cmake --preset fuzz >/dev/null
cmake --build build-fuzz --target "$name" -j2
corpus=tests/fuzz/corpus/${name#fuzz_}
work=$(mktemp -d)
cp "$corpus"/* "$work"/ 2>/dev/null || true
echo "fuzzing $name for ${secs}s (working corpus $work)"
build-fuzz/bin/"$name" -max_total_time="$secs" -max_len=300000 "$work"
