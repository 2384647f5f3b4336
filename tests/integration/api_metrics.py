"""GET /metrics and GET /api/v1/health: Prometheus text with readings
ingested, rejects by reason, alarms by type, SSE clients and the request
latency histogram by route; health reports database and broker state; the
text passes `promtool check metrics`."""
import socket
import subprocess

import api_common
import ottest
from ottest import now_ms
from ottest import check


def metric(txt, name):
    for ln in txt.splitlines():
        if ln.startswith(name + " "):
            return float(ln.split()[-1])
    return None


def test_api_metrics():
    with ottest.Env("api-metrics") as env:
        # a fake "broker": a listening socket is all the health probe needs
        lsock = socket.socket()
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(4)
        api = api_common.Api(env, {"mqtt": {"url": f"tcp://127.0.0.1:{lsock.getsockname()[1]}"}})
        coord = api.token("coordinator", "coord")
        api.start()
        s, j, _ = api.req("GET", "/api/v1/health")
        kind = "postgresql" if api.db.startswith("postgresql://") else "sqlite"
        check(s == 200 and j == {"status": "ok", "database": {"kind": kind, "status": "ok"},
                                 "broker": "ok", "version": j.get("version")}, f"health {j}")
        lsock.close()
        s, j, _ = api.req("GET", "/api/v1/health")
        check(s == 200 and j["broker"] == "unreachable", f"broker down {j}")

        ship = api.create_shipment(coord, "KZ-M")
        api.add_readings(ship["id"], "KZ-M", 12, now_ms() - 60000)
        api.add_alarm(ship["id"], "KZ-M", "temp_high")
        api.add_alarm(ship["id"], "KZ-M", "lid_open", state="cleared")
        api.sql("INSERT INTO counters (name, label, value) VALUES ('rejects', 'schema', 3),"
                " ('rejects', 'json', 2), ('influx', 'written', 12)")
        for _ in range(5):
            api.req("GET", "/api/v1/shipments", token=coord)
        api.req("GET", "/api/v1/shipments/9999", token=coord)
        st = api_common.SseStream(api, coord)
        s, _, _ = api.req("GET", "/metrics")
        check(s == 401, f"metrics without a token: {s}")
        s, txt, h = api.req("GET", "/metrics", token=coord)
        check(s == 200 and h["Content-Type"].startswith("text/plain; version=0.0.4"), f"{h}")
        check(metric(txt, "organtrack_readings_ingested_total") == 12, "readings")
        check(metric(txt, 'organtrack_rejects_total{reason="schema"}') == 3, "rejects schema")
        check(metric(txt, 'organtrack_rejects_total{reason="json"}') == 2, "rejects json")
        check(metric(txt, 'organtrack_alarms{type="temp_high",state="raised"}') == 1, "alarms")
        check(metric(txt, 'organtrack_alarms_total{type="lid_open"}') == 1, "alarms total")
        check(metric(txt, 'organtrack_collector_influx_total{label="written"}') == 12, "counter")
        check(metric(txt, "organtrack_sse_clients") == 1, "sse clients")
        check(metric(txt, 'organtrack_http_request_duration_seconds_count{route="shipments"}')
              == 5, "histogram count by route")
        check(metric(txt, 'organtrack_http_request_duration_seconds_bucket{route="shipments",'
                          'le="+Inf"}') == 5, "+Inf bucket")
        check(metric(txt, 'organtrack_http_responses_total{route="shipment",code="4xx"}') == 1,
              "4xx by route")
        # every sample line is NAME{labels} VALUE
        for ln in txt.splitlines():
            if ln and not ln.startswith("#"):
                name, _, value = ln.rpartition(" ")
                float(value)
                check(name.startswith("organtrack_"), f"metric name {ln}")
        # promtool (Debian's prometheus) finds nothing to complain about
        # (issue 15: organtrack_counter was a counter without _total)
        lint = subprocess.run(["promtool", "check", "metrics"], input=txt, capture_output=True,
                              text=True, timeout=30)
        check(lint.returncode == 0 and not lint.stdout.strip() and not lint.stderr.strip(),
              f"promtool check metrics: {lint.returncode} {lint.stdout} {lint.stderr}")
        st.close()


if __name__ == "__main__":
    ottest.main(test_api_metrics)
