"""collector_clock: a gateway whose clock is a year ahead cannot corrupt its
shipment (issue 15 finding 2). Tried: a backlog reading from two hours ago,
then readings with ts = now + 1 year at 4.0 °C (two messages), then real
readings at 5.5 °C. Before: the future reading stayed the shipment's latest
for good (4.0 °C shown), raised ischemia_warn and ischemia_limit "at"
tomorrow. What proves nothing was lost: every reading is stored and acked
(the future ones flagged clock_future=1, the backlog not), the API's latest
is the last real one at 5.5 °C, exactly one gateway_clock warning was raised
and then cleared by the first sane reading, no ischemia alarm exists, and
the counter readings/clock_future says 2; the readings history shows
them with clock_future true."""
import time

import api_common
import ottest
from collector_lib import Client, collector_config, counter, q1, reading, start_collector

C = "KZ-CLK-0001"
YEAR_MS = 365 * 86400 * 1000


def test():
    with ottest.Env("collector-clock") as env:
        broker = env.mosquitto()
        cfg = collector_config(env, broker)
        api = api_common.Api(env, {"database": cfg["database"]}).start()
        coord = api.token("coordinator", "Coordinator Aliya")
        ship = api.create_shipment(coord, C)["id"]
        col = start_collector(env, cfg)
        cl = Client(broker.port)
        now = int(time.time() * 1000)
        cl.readings(C, [reading(1, ts=now - 2 * 3600 * 1000, temp=4.1)])  # backlog: fine
        cl.readings(C, [reading(2, ts=now + YEAR_MS, temp=4.0)])
        cl.readings(C, [reading(3, ts=now + YEAR_MS + 1000, temp=4.0)])
        cl.wait_ack(C, 3)
        s, j, _ = api.req("GET", f"/api/v1/shipments/{ship}", token=coord)
        ottest.check(s == 200 and j["latest"]["seq"] == 1, f"future readings not latest: {j}")
        now = int(time.time() * 1000)
        cl.readings(C, [reading(4, ts=now, temp=5.5), reading(5, ts=now + 1000, temp=5.5)])
        cl.wait_ack(C, 5)
        rows = api.sql("SELECT seq, clock_future FROM readings WHERE container=? ORDER BY seq",
                       (C,))
        ottest.check([tuple(r) for r in rows] == [(1, 0), (2, 1), (3, 1), (4, 0), (5, 0)],
                     f"stored and flagged: {rows}")
        s, j, _ = api.req("GET", f"/api/v1/shipments/{ship}", token=coord)
        ottest.check(s == 200 and j["latest"]["seq"] == 5 and j["latest"]["temp_c"] == 5.5,
                     f"latest is the last real reading: {j.get('latest')}")
        # the readings history shows them, flagged (from/to wide enough for the future ones)
        s, j, _ = api.req("GET", f"/api/v1/shipments/{ship}/readings?from="
                          f"{ottest.iso(now - 3 * 3600_000)}&to={ottest.iso(now + 2 * YEAR_MS)}",
                          token=coord)
        flags = [(r["seq"], r.get("clock_future", False)) for r in (j or {}).get("items", [])]
        ottest.check(s == 200 and sorted(flags) == [(1, False), (2, True), (3, True), (4, False),
                                                    (5, False)],
                     f"readings history flags: {s} {flags}")
        clk = api.sql("SELECT severity, state, raised_at, cleared_at FROM alarms"
                      " WHERE shipment_id=? AND type='gateway_clock'", (ship,))
        ottest.check(len(clk) == 1 and clk[0][0] == "warning" and clk[0][1] == "cleared"
                     and clk[0][3] >= clk[0][2], f"one gateway_clock warning, cleared: {clk}")
        other = q1(cfg, "SELECT count(*) FROM alarms WHERE shipment_id=? AND type IN ('ischemia_warn', 'ischemia_limit')",
                   (ship,))
        ottest.check(other == 0, f"no ischemia alarm from a wrong clock: {other}")
        ottest.check(counter(cfg, "readings", "clock_future") == 2, "clock_future counted")
        cl.close()
        col.stop()
        ottest.check("gateway_clock" in col.log(), "the alarm is logged")


if __name__ == "__main__":
    ottest.main(test)
