"""End-to-end acknowledgement: what the broker accepted but nobody stored is
sent again when the collector's ack stalls; bad acks are refused.

The gateway publishes for a while with no collector subscribed (the broker
acknowledges every QoS 1 publish and then drops it: exactly the case of a
broker losing queued messages). A hostile/stale ack (another container, a
seq beyond anything issued, malformed JSON) must not move the spool. When
the collector arrives it cannot ack (it misses the first seqs); after
ack_timeout_ms the gateway rewinds to ack + 1 and everything arrives. A
clean stop leaves the retained state offline."""
import json
import os

import paho.mqtt.publish as publish

import ottest
from ottest import check
import gateway_common as gc

C = "KZ-ACK-0001"


def test_ackstall():
    with ottest.Env("gateway-ackstall") as env:
        broker = env.mosquitto()
        prof = gc.load_profile("organtrack-module")
        srv = gc.ModbusServer(env, "module", gc.spec_for(prof, {"temp_c": 3.9, "battery_pct": 80}))
        cfg = gc.gateway_config(env, broker.port, [{"name": "probe", "url": srv.url,
                                                    "timeout_ms": 300,
                                                    "profile": "organtrack-module"}],
                                container=C, interval=50, ack_timeout_ms=1000)
        gw = gc.start_gateway(env, cfg)
        ottest.wait_for(lambda: (gc.status(env) or {}).get("link") == "up", 15, "link up")
        topic = f"organtrack/v1/containers/{C}/ack"
        for bad in (json.dumps({"v": 1, "container": "KZ-OTHER", "seq": 5}),
                    json.dumps({"v": 1, "container": C, "seq": 5, "extra": 1}),
                    json.dumps({"v": 1, "container": C, "seq": 1.5}),
                    "{not json",
                    json.dumps({"v": 1, "container": C, "seq": 10 ** 9})):
            publish.single(topic, bad, qos=1, retain=True, hostname="127.0.0.1", port=broker.port)
        ottest.wait_for(lambda: gc.status(env)["next_seq"] > 60, 20, "60 readings with nobody listening")
        check(gc.status(env)["acked"] == 0, f"a bad ack moved the spool: {gc.status(env)}")
        log = gw.log()
        check("ack rejected" in log and "ack beyond" in log, "bad acks were not reported")
        publish.single(topic, "", qos=1, retain=True, hostname="127.0.0.1", port=broker.port)

        col = gc.Collector(broker.port, C)
        ottest.wait_for(lambda: col.acked > 60, 20, "the ack to cover the dropped readings",
                        interval=0.1)
        check("ack stalled, resending from=1" in gw.log(), "no resend after the ack stalled")
        ottest.wait_for(lambda: gc.status(env)["acked"] > 60, 10, "the gateway to take the ack")
        check(gw.stop() == 0, "gateway did not stop cleanly")
        final = gc.status(env)
        ottest.wait_for(lambda: col.acked >= final["next_seq"] - 1, 5, "everything acked")
        readings, order, lost, states = col.snapshot()
        col.close()
        top = final["next_seq"] - 1
        check(set(readings) == set(range(1, top + 1)), "seqs missing after the resend")
        check(not lost and not col.errors, f"lost {lost} errors {col.errors[:3]}")
        check(states and states[-1]["online"] is False and states[-1]["seq"] >= 60,
              f"retained state after a clean stop: {states[-1] if states else None}")
        check(final["running"] is False and final["backlog"] == 0 or final["acked"] >= 60,
              f"final status: {final}")
        print(f"ackstall: {top} seqs, {len(order) - len(readings)} resent duplicates")
        srv.stop()


if __name__ == "__main__":
    ottest.main(test_ackstall)
