#!/usr/bin/env bash
# Installs what organtrack needs on Debian 12, only what is missing.
#   scripts/install-deps.sh          build + run + test dependencies
#   scripts/install-deps.sh --run    build + run (the demo)
#   scripts/install-deps.sh --check  build only: says in one line what is
#                                    missing and exits 1; installs nothing
#   scripts/install-deps.sh --deb [ARCH]  build + Debian packaging tools (make
#                                    deb); ARCH=arm64 adds the arm64 multiarch
#                                    cross toolchain, libraries and qemu-user
# Runs as root (apt-get); a no-op when everything is present.
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config git ca-certificates
  libmodbus-dev libpaho-mqtt-dev libcjson-dev libsqlite3-dev
  libcurl4-openssl-dev libssl-dev libmicrohttpd-dev
  libpq-dev mosquitto mosquitto-clients sqlite3 curl socat procps
  libcairo2-dev libpango1.0-dev libfontconfig-dev fonts-dejavu-core)
test_pkgs=(libcmocka-dev influxdb python3 python3-paho-mqtt python3-pymodbus python3-serial-asyncio
  python3-serial python3-psycopg2 postgresql-15 openssl faketime clang-format chromium clang libclang-rt-14-dev wrk prometheus
  poppler-utils qpdf)

# make deb: debhelper and lintian; the test of the packages (tests/packaging)
# adds debootstrap and systemd (systemd-analyze); promtool (prometheus) is a test package
deb_pkgs=(debhelper dpkg-dev lintian jq file debootstrap systemd)
# make deb ARCH=arm64: what the gateway and the ledger link, for arm64, and
# qemu-user to run their tests (libpq-dev is not Multi-Arch: same in Debian
# 12, so the cross build goes without PostgreSQL: debian/rules, OT_POSTGRESQL)
cross_libs=(pkgconf libmodbus-dev libpaho-mqtt-dev libcjson-dev libsqlite3-dev libssl-dev libcmocka-dev)

mode=${1:-}
want=("${build_pkgs[@]}")
if [ "$mode" = "--deb" ]; then
  want+=("${deb_pkgs[@]}")
  deb_arch=${2:-$(dpkg --print-architecture)}
  if [ "$deb_arch" != "$(dpkg --print-architecture)" ]; then
    if ! dpkg --print-foreign-architectures | grep -qx "$deb_arch"; then
      [ "$(id -u)" = 0 ] || { echo "install-deps: dpkg --add-architecture $deb_arch needs root" >&2; exit 1; }
      echo "install-deps: dpkg --add-architecture $deb_arch" >&2
      dpkg --add-architecture "$deb_arch"
      apt-get update -q
    fi
    want+=("crossbuild-essential-$deb_arch" qemu-user-static)
    for p in "${cross_libs[@]}"; do want+=("$p:$deb_arch"); done
  fi
elif [ "$mode" != "--run" ] && [ "$mode" != "--check" ]; then
  want+=("${test_pkgs[@]}")
fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "$mode" = "--check" ]; then
  if [ ${#missing[@]} -gt 0 ]; then
    echo "organtrack: cannot build, missing Debian packages: ${missing[*]}; run 'make deps' as root to install them (make demo and make test install them too)" >&2
    exit 1
  fi
  exit 0
fi

# Node.js and npm: Debian's (18.x, npm 9) unless a newer one is already there
if ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "install-deps: missing Debian packages: ${missing[*]} (run as root)" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  # the packaged services must not start on their default ports: we run our own
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d.organtrack
  chmod +x /usr/sbin/policy-rc.d.organtrack
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    cp /usr/sbin/policy-rc.d.organtrack /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  rm -f /usr/sbin/policy-rc.d.organtrack
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# front-end libraries for the web dashboard (and playwright-core for tests)
# (and test tooling: playwright-core, ajv + the EPCIS schema, the OpenAPI
# validators of tests/openapi), each from its own lock file
for d in dashboard-api/web tests/epcis tests/openapi; do
  if [ -f "$d/package-lock.json" ] && [ ! -d "$d/node_modules" ]; then
    (cd "$d" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done
