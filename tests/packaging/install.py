"""packaging.install - the Debian packages, built and installed as an
operator would (SPEC v1.1 "Packages and services"; docs/operate.md).

1. `make deb` (scripts/build-deb.sh: dpkg-buildpackage in a copy of the
   tree) and lintian on the result: no error, no warning that is not
   overridden with a reason in debian/*.lintian-overrides.
2. A fresh Debian 12 root: `debootstrap --variant=minbase bookworm`, plus
   what the test itself drives (mosquitto, curl, jq) and what
   systemd-analyze needs to judge the units (systemd, man-db, procps). The
   finished root is cached as a tarball under /var/cache/organtrack-test/
   (made once, under a lock; later runs unpack it in seconds).
   `apt-get install ./debs/*.deb` inside it resolves our dependencies from
   the Debian mirror.
3. Inside that root: every unit passes `systemd-analyze verify` (the
   installed binaries, users and man pages are what it checks), and
   `systemd-analyze security --offline=yes` rates each unit; the test fails
   above an exposure of 2.0 ("OK" ends at 4.9). `man organtrack-gateway`
   shows its EXIT STATUS. The configs are conffiles.
4. The programs run from their units' ExecStart lines with the packaged
   configs, each as its unit's user, in a network namespace of its own (no
   clash with anyone's ports) and a PID namespace (nothing outlives the
   test). No systemd runs inside the root, so the parts of the unit that
   decide whether the program works are applied by hand, as systemd would:
   User=, Group=, SupplementaryGroups=, StateDirectory= (+Mode),
   ReadWritePaths=, WorkingDirectory=, UMask=, ProtectSystem=strict (the
   whole root read-only but for the state and read-write paths),
   PrivateTmp=, ProtectHome=, PrivateNetwork=, NoNewPrivileges= and an
   empty CapabilityBoundingSet= (setpriv). The seccomp and address-family
   filters are judged by systemd-analyze only.
   The broker is Debian's mosquitto with users and ACL written by
   `organtrack-broker-acl` from the packaged configs. Then: a coordinator
   token from `organtrack-api token create` (as organtrack-api), a
   shipment for the gateway's container, the gateway polling
   organtrack-sensors, and one reading must come back from
   GET /api/v1/shipments/{id}/readings; a custody entry is appended and the
   ledger unit's ExecStart verifies the database (OK); every program stops
   cleanly (exit 0) on SIGTERM. Then docs/operate.md's procedures: an
   online `sqlite3 .backup` taken while everything ran; the collector on a
   database whose schema is newer than it knows exits 1 with one clear
   line; the backup restored in place verifies with the ledger unit.

Exit 77 (skipped) when not root or when dpkg-buildpackage, debootstrap or
unshare is missing. OT_DEB_PREBUILT=1 uses dist/ as it is (no build).
"""
import fcntl
import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CACHE = os.environ.get("OT_DEB_CACHE", "/var/cache/organtrack-test")
MIRROR = os.environ.get("OT_DEBIAN_MIRROR", "http://deb.debian.org/debian")
INCLUDE = "mosquitto,curl,jq,ca-certificates,sqlite3,systemd,man-db,procps"
SCORE_MAX = 2.0
# started in this order; stopped in the reverse
SERVICES = ["organtrack-sensors", "organtrack-collector", "organtrack-api", "organtrack-gateway"]
T0 = time.monotonic()


def log(msg):
    print(f"[{time.monotonic() - T0:6.1f}s] {msg}", flush=True)


def fail(msg):
    print(f"FAIL packaging.install: {msg} ({time.monotonic() - T0:.0f}s)", flush=True)
    sys.exit(1)


def run(argv, what, timeout=900, **kw):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)
    if p.returncode != 0:
        sys.stdout.write(p.stdout[-4000:] + p.stderr[-4000:])
        fail(f"{what}: exit {p.returncode}")
    return p.stdout


def preflight():
    if os.geteuid() != 0:
        print("SKIP packaging.install: needs root (debootstrap, chroot, namespaces)")
        sys.exit(77)
    for tool in ("dpkg-buildpackage", "debootstrap", "unshare", "chroot", "lintian"):
        if not shutil.which(tool):
            print(f"SKIP packaging.install: {tool} is missing (make deb installs it)")
            sys.exit(77)


def build():
    arch = run(["dpkg", "--print-architecture"], "dpkg").strip()
    if os.environ.get("OT_DEB_PREBUILT") != "1":
        t = time.monotonic()
        run(["bash", os.path.join(ROOT, "scripts", "build-deb.sh")], "make deb", timeout=1800)
        log(f"make deb: {time.monotonic() - t:.0f} s")
    debs = sorted(f for f in os.listdir(os.path.join(ROOT, "dist")) if f.endswith(".deb"))
    names = {f.split("_")[0] for f in debs}
    want = {"organtrack-common", "organtrack-gateway", "organtrack-collector", "organtrack-api",
            "organtrack-ledger", "organtrack-sensors"}
    if names != want:
        fail(f"dist/ holds {sorted(names)}, want {sorted(want)}")
    changes = [f for f in os.listdir(os.path.join(ROOT, "dist")) if f.endswith(f"_{arch}.changes")]
    if len(changes) != 1:
        fail(f"dist/: expected one _{arch}.changes, found {changes}")
    # the .changes names the -dbgsym packages too: check where it was built
    built = os.path.join(ROOT, "build-deb", arch, changes[0])
    src = built if os.path.exists(built) else os.path.join(ROOT, "dist", changes[0])
    p = subprocess.run(["lintian", "--fail-on", "error,warning", "--display-info", src],
                       capture_output=True, text=True, timeout=600)
    out = "\n".join(ln for ln in (p.stdout + p.stderr).splitlines()
                    if "running with root privileges" not in ln)
    if p.returncode != 0 or out.strip():
        print(out)
        fail("lintian is not clean (fix it, or override the tag with a reason in "
             "debian/*.lintian-overrides)")
    log(f"lintian clean on {len(debs)} packages: {' '.join(debs)}")
    return [os.path.join(ROOT, "dist", f) for f in debs]


def rootfs_tarball():
    key = hashlib.sha256(f"bookworm minbase {INCLUDE} {MIRROR}".encode()).hexdigest()[:10]
    tar = os.path.join(CACHE, f"bookworm-minbase-{key}.tar")
    os.makedirs(CACHE, exist_ok=True)
    with open(os.path.join(CACHE, ".lock"), "w") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX)  # one debootstrap at a time, the others wait for it
        if os.path.exists(tar):
            return tar
        t = time.monotonic()
        tmp = tempfile.mkdtemp(prefix="debootstrap-", dir=CACHE)
        try:
            log(f"no cached root yet: debootstrap --variant=minbase bookworm ({MIRROR})")
            run(["debootstrap", "--variant=minbase", f"--include={INCLUDE}", "bookworm", tmp, MIRROR],
                "debootstrap", timeout=1800)
            # no daemon may start inside the root when packages are installed
            with open(os.path.join(tmp, "usr/sbin/policy-rc.d"), "w") as f:
                f.write("#!/bin/sh\nexit 101\n")
            os.chmod(os.path.join(tmp, "usr/sbin/policy-rc.d"), 0o755)
            os.chmod(tmp, 0o755)  # mkdtemp's 0700 would become the root's "/" mode
            shutil.rmtree(os.path.join(tmp, "var/cache/apt/archives"), ignore_errors=True)
            os.makedirs(os.path.join(tmp, "var/cache/apt/archives/partial"))
            run(["tar", "--numeric-owner", "-C", tmp, "-cf", tar + ".tmp", "."], "tar")
            os.replace(tar + ".tmp", tar)
            log(f"cached the fresh root as {tar} ({time.monotonic() - t:.0f} s)")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return tar


def chroot(d, script, what, net=True, timeout=600):
    """Runs a bash script in the root d with its own mount namespace (proc
    mounted); net=False: also its own network and PID namespaces."""
    inner = (f"mount --make-rprivate / && mount --bind {d} {d} && "
             f"mount --rbind /dev {d}/dev && ")
    if net:
        inner += f"mount -t proc proc {d}/proc && "
        argv = ["unshare", "-m", "--fork"]
    else:
        inner += "ip link set lo up && "
        argv = ["unshare", "-m", "-n", "-p", "--fork", f"--mount-proc={d}/proc"]
    inner += f"exec chroot {d} /bin/bash -c {shlex.quote(script)}"
    p = subprocess.run(argv + ["sh", "-c", inner], capture_output=True, text=True, timeout=timeout)
    return p


def unit_fields(path):
    """Key -> list of values of a unit file's [Service] section."""
    fields, sect = {}, None
    for line in open(path):
        line = line.strip()
        if line.startswith("["):
            sect = line
        elif sect == "[Service]" and "=" in line and not line.startswith("#"):
            k, _, v = line.partition("=")
            fields.setdefault(k, []).append(v)
    return fields


def sandboxed(d, unit, argv_override=None, background=False):
    """A bash command running the unit's ExecStart (or argv_override) the
    way systemd would set it up (see the module docstring). background:
    the program takes over the shell's PID (exec all the way down:
    unshare, sh, setpriv), so the driver stops it by that PID."""
    f = unit_fields(os.path.join(d, "lib/systemd/system", unit + ".service"))
    one = lambda k, dflt="": f.get(k, [dflt])[-1]
    user, group = one("User"), one("Group")
    groups = ",".join(g for v in f.get("SupplementaryGroups", []) for g in v.split())
    cmd = argv_override or one("ExecStart")
    pre, rw = [], []
    mode = one("StateDirectoryMode", "0755")
    for sd in " ".join(f.get("StateDirectory", [])).split():
        path = f"/var/lib/{sd}"
        pre.append(f"install -d -m {mode} -o {user} -g {group} {path}")
        rw.append(path)
    for v in f.get("ReadWritePaths", []):
        rw += v.split()
    mounts = [f"mount --bind {p} {p}" for p in rw]
    if one("ProtectSystem") == "strict":
        mounts.append("mount -o remount,bind,ro /")
    if one("PrivateTmp") == "yes":
        mounts += ["mount -t tmpfs -o mode=1777 tmpfs /tmp", "mount -t tmpfs -o mode=1777 tmpfs /var/tmp"]
    if one("ProtectHome") == "yes":
        mounts += ["mount -t tmpfs -o ro,mode=0755 tmpfs /home", "mount -t tmpfs -o ro,mode=0700 tmpfs /root"]
    setpriv = ["setpriv", f"--reuid={user}", f"--regid={group}",
               f"--groups={groups}" if groups else "--clear-groups"]
    if one("NoNewPrivileges") == "yes":
        setpriv.append("--no-new-privs")
    if "CapabilityBoundingSet" in f and f["CapabilityBoundingSet"][-1] == "":
        setpriv += ["--bounding-set=-all", "--inh-caps=-all"]
    unshare = "unshare -m -n" if one("PrivateNetwork") == "yes" else "unshare -m"
    inner = "; ".join(mounts + [f"umask {one('UMask', '0022')}",
                                 f"cd {one('WorkingDirectory', '/')}",
                                 "exec " + " ".join(setpriv) + " -- " + cmd])
    last = f"{unshare} sh -ec {shlex.quote(inner)}"
    if background:
        return "; ".join(pre + ["exec " + last])
    return "(" + "; ".join(pre + [last]) + ")"


DRIVER = r'''
set -u
log() { echo "driver: $*"; }
die() { log "FAIL $*"; for f in /var/log/ot-*.log /var/log/mosquitto/mosquitto.log; do [ -f "$f" ] && { echo "----- $f"; tail -n 40 "$f"; }; done; exit 1; }
wait_port() { local i; for i in $(seq 1 300); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; return 1; }
wait_log() { local i; for i in $(seq 1 300); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; return 1; }
pids=(); names=()
start() { # name command: runs in the background, output in /var/log/ot-NAME.log
  bash -c "$2" >"/var/log/ot-$1.log" 2>&1 &
  pids+=($!); names+=("$1"); log "started $1 pid=$!"
}
stop_all() {
  local i rc=0 r
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[$i]}" 2>/dev/null
    wait "${pids[$i]}"; r=$?
    log "stopped ${names[$i]} exit=$r"
    [ "${names[$i]}" = mosquitto ] || [ $r = 0 ] || rc=1
  done
  return $rc
}

# --- the broker: Debian's mosquitto, users and ACL from the packaged configs
organtrack-broker-acl /etc/organtrack/gateway.json || die "organtrack-broker-acl"
cat >/etc/mosquitto/conf.d/organtrack.conf <<EOF
listener 1883 127.0.0.1
allow_anonymous false
password_file /etc/mosquitto/organtrack/passwd
acl_file /etc/mosquitto/organtrack/acl
set_tcp_nodelay true
EOF
install -d -o mosquitto -g mosquitto /run/mosquitto
start mosquitto "exec mosquitto -c /etc/mosquitto/mosquitto.conf"
wait_port 1883 || die "mosquitto did not listen on 1883"

start organtrack-sensors "@SENSORS@"
wait_port 15020 || die "organtrack-sensors did not listen on 15020"
start organtrack-collector "@COLLECTOR@"
wait_log /var/log/ot-organtrack-collector.log "mqtt subscribed" || die "the collector did not subscribe"
start organtrack-api "@API@"
wait_port 8080 || die "organtrack-api did not listen on 8080"

# --- a token (the CLI as the service's user) and a shipment for the gateway's container
tok=$(@TOKEN@ | tail -n 1)
case $tok in ot_*) ;; *) die "token create printed \"$tok\"" ;; esac
container=$(jq -r .container /etc/organtrack/gateway.json)
clamp=$(date -u -d "@$(($(date +%s) - 1800))" +%Y-%m-%dT%H:%M:%SZ)
api=http://127.0.0.1:8080/api/v1
body=$(jq -nc --arg c "$container" --arg t "$clamp" '{container:$c, profile:"kidney",
  donation_code:"KZ-PKG 26 000001", cross_clamp_at:$t, mode:"ground",
  origin:{name:"Oral",lat:51.23,lon:51.37}, destination:{name:"Aktobe",lat:50.28,lon:57.17}}')
ship=$(curl -sf -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' -d "$body" $api/shipments) ||
  die "POST /shipments failed"
id=$(echo "$ship" | jq -r .id)
log "shipment $id for container $container"

start organtrack-gateway "@GATEWAY@"
reading=
for i in $(seq 1 600); do
  reading=$(curl -sf -H "Authorization: Bearer $tok" "$api/shipments/$id/readings" | jq -c '.items[0] // empty')
  [ -n "$reading" ] && break
  sleep 0.1
done
[ -n "$reading" ] || die "no reading reached GET /shipments/$id/readings within 60 s"
echo "$reading" | jq -e '.seq >= 1 and (.temp_c | type) == "number"' >/dev/null || die "reading: $reading"
log "READING $reading"
health=$(curl -sf $api/health) || die "health"
echo "$health" | jq -e '.status == "ok" and .broker == "ok"' >/dev/null || die "health: $health"
log "health $health"
@GWSTATUS@ >/var/log/ot-gateway-status.log 2>&1 || die "organtrack-gateway status (exit $?)"
log "gateway status: $(grep -m1 '^status' /var/log/ot-gateway-status.log)"

# --- a custody entry, then the ledger unit verifies the whole database
curl -sf -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
  -d '{"type":"packed","from":"Procurement team","seal":"SEAL-PKG-1"}' "$api/shipments/$id/custody" >/dev/null ||
  die "POST custody failed"
verdict=$(@LEDGER@ 2>&1) || die "ledger verify: $verdict"
case $verdict in "OK shipments=1 entries=1 "*) ;; *) die "ledger verify said: $verdict" ;; esac
log "ledger: $verdict"
# docs/operate.md "Backups": the online backup while everything runs
db=/var/lib/organtrack/db/organtrack.db
sqlite3 "$db" ".backup /root/organtrack-backup.db" || die "sqlite3 .backup"

stop_all || die "a program did not stop cleanly"

# docs/operate.md "Upgrades": a database newer than the programs is refused with one line
sqlite3 "$db" "PRAGMA user_version = 99" || die "sqlite3 user_version"
out=$(timeout 20 bash -c "@COLLECTOR@" 2>&1); rc=$?
[ $rc = 1 ] || die "the collector on a newer schema exited $rc: $out"
echo "$out" | grep -q "database schema is newer than this program" || die "no clear line for a newer schema: $out"
log "newer schema refused (exit 1): $(echo "$out" | grep -m1 'schema is newer' | cut -c1-160)"

# docs/operate.md "Restore": the backup back in place, then the ledger verifies it
rm -f "$db-wal" "$db-shm"
install -m 0660 -o root -g organtrack /root/organtrack-backup.db "$db"
verdict=$(@LEDGER@ 2>&1) || die "ledger verify of the restored database: $verdict"
case $verdict in "OK shipments=1 entries=1 "*) ;; *) die "ledger verify of the restore said: $verdict" ;; esac
log "restored backup: $verdict"
log "RESULT ok"
'''


def test_install():
    preflight()
    debs = build()
    tar = rootfs_tarball()
    d = tempfile.mkdtemp(prefix="ot-deb-root-", dir="/var/tmp")
    try:
        t = time.monotonic()
        run(["tar", "--numeric-owner", "-C", d, "-xf", tar], "unpack the cached root")
        os.chmod(d, 0o755)  # "/" of the root: every service user must get through it
        os.makedirs(os.path.join(d, "root/debs"), exist_ok=True)
        for f in debs:
            shutil.copy(f, os.path.join(d, "root/debs"))
        shutil.copy("/etc/resolv.conf", os.path.join(d, "etc/resolv.conf"))
        log(f"fresh Debian 12 root unpacked in {d} ({time.monotonic() - t:.0f} s)")

        t = time.monotonic()
        p = chroot(d, "export DEBIAN_FRONTEND=noninteractive; apt-get update -q && "
                      "apt-get install -y -q --no-install-recommends ./root/debs/*.deb", "apt", net=True)
        if p.returncode != 0:
            print(p.stdout[-5000:], p.stderr[-3000:])
            fail("apt-get install ./debs/*.deb failed in the fresh root")
        log(f"apt-get install ./debs/*.deb: {time.monotonic() - t:.0f} s")
        # cd / so that ./root/debs works: bash -c starts in / after chroot

        # conffiles, man page
        p = chroot(d, "dpkg-query -W -f='${Conffiles}\\n' 'organtrack-*'; "
                      "MANWIDTH=80 man -P cat organtrack-gateway 2>/dev/null | sed -n '/^EXIT STATUS/,/^SEE ALSO/p'",
                   "dpkg-query")
        for c in ("gateway", "collector", "api", "ledger", "sensors", "preservation"):
            if f"/etc/organtrack/{c}.json" not in p.stdout:
                fail(f"/etc/organtrack/{c}.json is not a conffile: {p.stdout[:800]}")
        if "EXIT STATUS" not in p.stdout or "Bad arguments or a bad configuration" not in p.stdout:
            fail(f"man organtrack-gateway has no EXIT STATUS: {p.stdout[-800:]} {p.stderr[-400:]}")
        log("conffiles /etc/organtrack/*.json; man organtrack-gateway shows EXIT STATUS")

        # systemd-analyze inside the installed root
        units = sorted(u for u in os.listdir(os.path.join(d, "lib/systemd/system"))
                       if u.startswith("organtrack-"))
        p = chroot(d, "systemd-analyze verify " + " ".join(f"/lib/systemd/system/{u}" for u in units),
                   "verify")
        if p.returncode != 0 or (p.stdout + p.stderr).strip():
            print(p.stdout, p.stderr)
            fail("systemd-analyze verify found problems")
        log(f"systemd-analyze verify: {' '.join(units)}: clean")
        worst = 0.0
        for u in units:
            if not u.endswith(".service"):
                continue
            p = chroot(d, f"systemd-analyze security --offline=yes --no-pager /lib/systemd/system/{u}", "sec")
            m = re.search(r"Overall exposure level for \S+: ([0-9.]+) (\w+)", p.stdout)
            if not m:
                print(p.stdout[-2000:], p.stderr[-1000:])
                fail(f"systemd-analyze security {u}: no exposure level")
            score = float(m.group(1))
            worst = max(worst, score)
            log(f"systemd-analyze security {u}: {score} {m.group(2)}")
            if score > SCORE_MAX:
                print(p.stdout)
                fail(f"{u}: exposure {score} is above {SCORE_MAX}")

        # the programs from their units, the reading end to end
        drv = DRIVER
        for name in SERVICES:
            drv = drv.replace('"@' + name.split("-")[1].upper() + '@"', shlex.quote(sandboxed(d, name, background=True)))
        drv = drv.replace("@TOKEN@", sandboxed(
            d, "organtrack-api", "/usr/bin/organtrack-api token create --role coordinator "
            "--name install-test --config /etc/organtrack/api.json"))
        drv = drv.replace("@GWSTATUS@", sandboxed(
            d, "organtrack-gateway", "/usr/bin/organtrack-gateway status --config /etc/organtrack/gateway.json"))
        drv = drv.replace("@LEDGER@", sandboxed(d, "organtrack-ledger"))
        t = time.monotonic()
        p = chroot(d, drv, "driver", net=False, timeout=300)
        sys.stdout.write("".join("  " + ln + "\n" for ln in p.stdout.splitlines()))
        if p.returncode != 0 or "driver: RESULT ok" not in p.stdout:
            sys.stdout.write(p.stderr[-3000:])
            fail("the installed programs did not carry a reading from the simulator to the API")
        log(f"installed system ran: {time.monotonic() - t:.0f} s")
    finally:
        if os.environ.get("OT_KEEP"):
            print(f"kept {d}")
        else:
            shutil.rmtree(d, ignore_errors=True)
    print(f"PASS packaging.install ({time.monotonic() - T0:.0f}s; worst exposure {worst})")


if __name__ == "__main__":
    test_install()
