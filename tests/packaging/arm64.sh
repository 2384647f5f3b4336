#!/usr/bin/env bash
# packaging.arm64 - `make deb ARCH=arm64` (SPEC v1.1: the gateway and the
# ledger cross-built for arm64 with Debian multiarch) and the arm64 programs
# at work under qemu-user:
#   1. the cross build (dpkg-buildpackage -aarm64 -Pcross,pkg.organtrack.edge,
#      OT_DEB_CHECK=1: without nocheck) runs the gateway's and the common
#      unit tests under qemu-aarch64-static, ctest's emulator: every one must
#      pass, test_spool and test_gateway_config among them;
#   2. `file` says ARM aarch64 for the packaged gateway and ledger;
#   3. the packaged arm64 gateway passes gateway.sensors (against the native
#      organtrack-sensors over Modbus TCP and RTU on a pty pair, a native
#      mosquitto) and the arm64 ledger passes integration.ledger_cli, each
#      run through qemu-aarch64-static.
# binfmt_misc is not used (registering it changes the whole machine): the
# programs are started as `qemu-aarch64-static PROGRAM`, without -L, since
# multiarch keeps the arm64 libraries at their own paths.
# Exit 77 (skipped) when not root or dpkg-buildpackage is missing. OT_BIN:
# the native programs (build/bin), for the simulator, broker-side helpers.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${OT_BIN:-$ROOT/build/bin}
t0=$SECONDS
say() { printf '[%4ds] %s\n' $((SECONDS - t0)) "$*"; }
fail() { echo "FAIL packaging.arm64: $*"; exit 1; }

[ "$(id -u)" = 0 ] || { echo "SKIP packaging.arm64: needs root (apt-get, dpkg --add-architecture)"; exit 77; }
command -v dpkg-buildpackage >/dev/null || { echo "SKIP packaging.arm64: dpkg-buildpackage missing"; exit 77; }
[ -x "$BIN/organtrack-sensors" ] || fail "$BIN/organtrack-sensors is not built (the native simulator)"

# 1. the cross build, unit tests under qemu
cd "$ROOT"
OT_DEB_CHECK=1 bash scripts/build-deb.sh arm64 || fail "make deb ARCH=arm64"
log=$ROOT/build-deb/arm64/build.log
cache=$(ls "$ROOT"/build-deb/arm64/organtrack-*/obj-aarch64-linux-gnu/CMakeCache.txt)
grep -q '^CMAKE_CROSSCOMPILING_EMULATOR:.*qemu-aarch64-static' "$cache" ||
  fail "the cross build did not set qemu-aarch64-static as ctest's emulator ($cache)"
for t in unit.test_spool unit.test_gateway_config unit.test_ledger unit.test_reading; do
  grep -Eq "Test +#[0-9]+: $t \.+ +Passed" "$log" || fail "$t did not pass under qemu (see $log)"
done
summary=$(grep -E '^[0-9]+% tests passed' "$log" | tail -n 1)
case $summary in "100% tests passed"*) ;; *) fail "unit tests under qemu: ${summary:-no ctest summary in $log}" ;; esac
say "unit tests under qemu-aarch64-static: $summary"

# 2. the packages hold aarch64 programs
work=$(mktemp -d /tmp/ot-arm64-XXXXXX)
trap 'rm -rf "$work"' EXIT
for p in gateway ledger; do
  deb=$(ls "$ROOT"/dist/arm64/organtrack-${p}_*_arm64.deb)
  dpkg-deb -x "$deb" "$work/root"
  f=$(file -b "$work/root/usr/bin/organtrack-$p")
  case $f in *"ARM aarch64"*) say "file organtrack-$p: $f" ;; *) fail "organtrack-$p is not aarch64: $f" ;; esac
  v=$(qemu-aarch64-static "$work/root/usr/bin/organtrack-$p" --version) || fail "organtrack-$p --version under qemu"
  say "qemu-aarch64-static organtrack-$p --version: $v"
done

# 3. the arm64 gateway against the simulator, the arm64 ledger on a real trail
mkdir -p "$work/bin"
for f in "$BIN"/*; do ln -s "$f" "$work/bin/"; done
for p in gateway ledger; do
  rm -f "$work/bin/organtrack-$p"
  printf '#!/bin/sh\nexec qemu-aarch64-static %s "$@"\n' "$work/root/usr/bin/organtrack-$p" >"$work/bin/organtrack-$p"
  chmod +x "$work/bin/organtrack-$p"
done
for t in gateway_sensors ledger_cli; do
  OT_BIN=$work/bin PYTHONPATH=$ROOT/tests/lib:$ROOT/tests/integration PYTHONDONTWRITEBYTECODE=1 \
    /usr/bin/python3 "$ROOT/tests/integration/$t.py" >"$work/$t.log" 2>&1 ||
    { tail -n 60 "$work/$t.log"; fail "$t with the arm64 program under qemu"; }
  say "$t with the arm64 program under qemu: $(tail -n 1 "$work/$t.log")"
done
echo "PASS packaging.arm64 ($((SECONDS - t0))s)"
