#!/usr/bin/env bash
# make bench: runs every benchmark (bench/<area>.sh) against the build in
# build/ and prints its figures; each script prints ratios against the peer
# its issue names, measured in the same run. Copy the figures into
# docs/performance.md together with this command.
set -uo pipefail
cd "$(dirname "$0")/.."
rc=0
for b in bench/*.sh; do
  [ "$b" = bench/run.sh ] && continue
  echo "=== $b"
  if ! bash "$b"; then
    echo "=== $b FAILED"
    rc=1
  fi
done
exit $rc
