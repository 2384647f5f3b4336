"""collector_influx: readings reach a real InfluxDB (v1 /write) as line
protocol; InfluxDB is stopped mid-stream and restarted on the same data dir
and port; the on-disk retry queue delivers every point exactly once."""
import os
import time

import ottest
from collector_lib import Client, collector_config, counter, reading, start_collector

N = 1500


def count_points(port):
    try:
        r = ottest.influx_query(port, "organtrack", "SELECT count(seq) FROM reading")
    except OSError:
        return -1
    series = r["results"][0].get("series")
    return series[0]["values"][0][1] if series else 0


def test():
    with ottest.Env("collector-influx") as env:
        broker = env.mosquitto()
        influx = env.influxd()
        ottest.influx_query(influx.port, "organtrack", "CREATE DATABASE organtrack")
        spool = env.path("var", "organtrack.db.influx-spool")
        cfg = collector_config(env, broker, {
            "influxdb": {"url": f"http://127.0.0.1:{influx.port}", "db": "organtrack",
                         "spool_dir": spool, "token": None, "flush_ms": 100, "timeout_ms": 2000}})
        col = start_collector(env, cfg)
        cl = Client(broker.port)
        C = "KZ-INFLUX-1"
        t0 = int(time.time() * 1000) - N * 1000

        def send(a, b):
            for s in range(a, b + 1, 10):
                cl.readings(C, [reading(x, ts=t0 + x * 1000, temp=4.0, lid_open=False,
                                        battery_pct=90, gnss_fix=3)
                                for x in range(s, min(s + 10, b + 1))])

        send(1, 500)
        ottest.wait_for(lambda: count_points(influx.port) == 500, what="first 500 points")
        # outage: stop influxd (by PID), keep ingesting
        influx.stop()
        send(501, 1200)
        cl.wait_ack(C, 1200)
        ottest.wait_for(lambda: [f for f in os.listdir(spool) if f.endswith(".lp")],
                        what="points spooled on disk while InfluxDB is down")
        send(1201, N)
        cl.wait_ack(C, N)
        # same config: same data dir, same port
        cpath = os.path.join(env.dir, "influxdb", "influxdb.conf")
        influx2 = env.spawn("influxd", ["influxd", "-config", cpath])
        ottest.wait_port(influx.port, proc=influx2.p)
        ottest.wait_for(lambda: count_points(influx.port) == N, timeout=60,
                        what=f"all {N} points after the outage")
        ottest.wait_for(lambda: not [f for f in os.listdir(spool) if f.endswith(".lp")],
                        what="spool drained")
        ottest.check(counter(cfg, "influx", "dropped") == 0, "nothing dropped")
        r = ottest.influx_query(influx.port, "organtrack",
                                "SELECT temp_c, lid_open, gnss_fix FROM reading WHERE "
                                "container='KZ-INFLUX-1' ORDER BY time DESC LIMIT 1")
        row = r["results"][0]["series"][0]["values"][0]
        ottest.check(row[1:] == [4.0, False, 3], f"field types survive: {row}")
        ottest.check(col.stop() == 0, "clean exit")
        cl.close()


if __name__ == "__main__":
    ottest.main(test)
