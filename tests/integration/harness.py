"""The harness's own promises, which every other test leans on.

- free_port(): 300 picks in one process are all different (a test that
  takes several ports once got the same one twice); a port it handed out
  cannot be taken by another process's bind(port 0) or by a plain bind, but
  a server binding with SO_REUSEADDR (as mosquitto, influxd, libmicrohttpd,
  libmodbus and pymodbus as we start it do) takes it at once, and so do our
  own Modbus simulator and mosquitto, started on a picked port.
- The libfaketime offset parser takes what `faketime -f` takes for a
  relative offset and refuses what the harness could not follow.
- Under libfaketime (make test-clock) the harness's clock agrees with a
  program's clock (`date +%s`) and its timed waits do not hang."""
import socket
import subprocess
import threading
import time

import ottest
from ottest import check


def ports():
    picked = [ottest.free_port() for _ in range(300)]
    check(len(set(picked)) == len(picked), f"free_port repeated a port: {len(picked) - len(set(picked))}")
    taken_by_zero = set()
    held = []
    for _ in range(2000):  # what other processes' bind(0) would get
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        taken_by_zero.add(s.getsockname()[1])
        held.append(s)
    for s in held:
        s.close()
    clash = taken_by_zero & set(picked)
    check(not clash, f"bind(0) handed out picked ports: {sorted(clash)[:5]}")
    p = picked[0]
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", p))
            check(False, f"a plain bind took picked port {p}")
        except OSError:
            pass
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", p))
        s.listen(1)
    with ottest.Env("harness-ports") as env:
        broker = env.mosquitto()  # on a picked port; waits until it accepts
        mb = picked[1]
        env.program("organtrack-sensors", {"devices": [{
            "name": "probe", "profile": "organtrack-module", "url": f"tcp://127.0.0.1:{mb}",
            "unit": 1, "scenario": "sensors/scenarios/kidney-road.json", "time_scale": 0}]},
            wait=mb)
        check(broker.alive(), "mosquitto died")


def offsets():
    for spec, want in (("+400d", 400 * 86400), ("-375d", -375 * 86400), ("+2h", 7200),
                       ("-90", -90), ("+1.5m", 90), ("+1y", 365 * 86400)):
        check(ottest._faketime_offset(spec) == want, f"offset {spec}")
    for bad in ("@2027-01-01 00:00:00", "2027-01-01", "+", "x2", "+1d x2", ""):
        try:
            ottest._faketime_offset(bad)
            check(False, f"offset {bad!r} was accepted")
        except SystemExit:
            pass


def clock():
    prog = int(subprocess.run(["date", "+%s"], capture_output=True, text=True, check=True).stdout)
    mine = time.time()
    check(abs(prog - mine) < 5, f"harness clock {mine:.0f} and a program's {prog} disagree "
                                f"(offset {ottest.FAKE_OFFSET_S:.0f} s)")
    t = time.monotonic()
    threading.Event().wait(0.05)
    check(time.monotonic() - t < 5, "a timed wait overran")


def test_harness():
    offsets()
    clock()
    ports()
    print(f"harness: clock offset {ottest.FAKE_OFFSET_S / 86400:+.0f} days, ports ok")


if __name__ == "__main__":
    ottest.main(test_harness)
