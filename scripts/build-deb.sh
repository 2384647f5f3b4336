#!/usr/bin/env bash
# make deb [ARCH=arm64]: Debian 12 packages the Debian way (debian/, built by
# dpkg-buildpackage with debhelper), copied to dist/ (native) or
# dist/ARCH/ (cross build: the gateway and the ledger only, build profiles
# cross + pkg.organtrack.edge; see debian/rules).
#
#   scripts/build-deb.sh            -> dist/organtrack-*_<arch>.deb, _all.deb
#   scripts/build-deb.sh arm64      -> dist/arm64/organtrack-{gateway,ledger}_*_arm64.deb
#   OT_DEB_CHECK=1 scripts/build-deb.sh arm64   the same, running the unit
#                                    tests under qemu-user during the build
#
# The tree (tracked and untracked, not ignored files) is copied to
# build-deb/<arch>/ and built there, so dpkg-buildpackage writes its outputs
# next to that copy and never into the directory above the checkout. The
# dashboard's npm packages are linked in, not copied. lintian runs on the
# result; an error fails the build, warnings are printed (the packaging test
# fails on them too). Exit 0 on success, 1 on a failed step (one line says
# which), 2 on usage.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
arch=${1:-}
native=$(dpkg --print-architecture)
[ -n "$arch" ] || arch=$native
log() { printf 'deb: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

case $arch in
  "$native") profiles=""; out=dist; cross=0 ;;
  arm64)
    # OT_DEB_CHECK=1: without nocheck, the unit tests run under qemu-user
    # during the build (debian/rules sets ctest's emulator)
    if [ "${OT_DEB_CHECK:-}" = 1 ]; then profiles="cross,pkg.organtrack.edge"; else profiles="cross,nocheck,pkg.organtrack.edge"; fi
    out=dist/arm64; cross=1 ;;
  *) log "ARCH=$arch: only the native architecture ($native) and arm64 are supported"; exit 2 ;;
esac

bash scripts/install-deps.sh --deb "$arch"

version=$(dpkg-parsechangelog -S Version)
stage=$ROOT/build-deb/$arch
src=$stage/organtrack-$version
rm -rf "$stage"
mkdir -p "$src"
# the working tree as git sees it (tracked files still present + untracked, not ignored)
git ls-files -z -co --exclude-standard |
  while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
  tar --null -T - -cf - | tar -xf - -C "$src"
if [ $cross = 0 ]; then
  [ -d dashboard-api/web/node_modules ] || die "dashboard-api/web/node_modules is missing: run scripts/install-deps.sh"
  ln -s "$(readlink -f dashboard-api/web/node_modules)" "$src/dashboard-api/web/node_modules"
fi

args=(-us -uc -b)
if [ $cross = 1 ]; then
  args+=("-a$arch" "-P$profiles")
  case $profiles in *nocheck*) export DEB_BUILD_OPTIONS="nocheck${DEB_BUILD_OPTIONS:+ $DEB_BUILD_OPTIONS}" ;; esac
fi
log "building organtrack $version for $arch${profiles:+ (profiles $profiles)} in $src"
t0=$SECONDS
(cd "$src" && dpkg-buildpackage "${args[@]}" -j"$(nproc)") >"$stage/build.log" 2>&1 ||
  { tail -n 40 "$stage/build.log" >&2; die "dpkg-buildpackage failed; full log: $stage/build.log"; }
log "built in $((SECONDS - t0)) s"

# dist/: the packages (apt-get install ./dist/*.deb installs a whole
# system); dist/debug/: their -dbgsym debug symbols
mkdir -p "$out/debug"
rm -f "$out"/organtrack*.deb "$out"/organtrack*.changes "$out"/organtrack*.buildinfo "$out"/debug/*.deb
changes=$(ls "$stage"/organtrack_"${version}"_"$arch".changes)
cp "$stage"/*.buildinfo "$changes" "$out"/
for f in "$stage"/*.deb; do
  case $f in *-dbgsym_*) cp "$f" "$out/debug/" ;; *) cp "$f" "$out/" ;; esac
done
log "wrote $(cd "$out" && ls ./*.deb | tr '\n' ' ')to $out/ (debug symbols in $out/debug/)"

# lintian: errors fail the build; the packaging test also fails on warnings
if command -v lintian >/dev/null 2>&1; then
  # on the .changes, which names the -dbgsym packages too: checked where built
  lintian --fail-on error --display-info "$changes" >"$stage/lintian.log" 2>&1 ||
    { cat "$stage/lintian.log" >&2; die "lintian found errors"; }
  sed -i '/running with root privileges is not recommended/d' "$stage/lintian.log"
  if [ -s "$stage/lintian.log" ]; then
    log "lintian:"
    sed 's/^/  /' "$stage/lintian.log" >&2
  else
    log "lintian: clean"
  fi
fi
