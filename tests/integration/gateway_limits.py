"""The limits message's life on a real mosquitto (SPEC v1.1): received
retained and kept; a malformed one or one for another container refused,
the previous limits kept; a changed one replaces it; cleared by an empty
retained message while the gateway runs; and cleared while the gateway was
away (the broker then has nothing to send: the retained ack arriving with
no limits before it is what tells the gateway, see gateway/publish.c)."""
import json
import os

import ottest
from ottest import check
import gateway_common as gc

C = "KZ-LIM-0001"


def limits_of(env):
    return (gc.status(env) or {}).get("local_alarm", {}).get("limits")


def test_limits():
    with ottest.Env("gateway-limits") as env:
        broker = env.mosquitto()
        prof = gc.load_profile("organtrack-module")
        srv = gc.ModbusServer(env, "module", gc.spec_for(prof, {"temp_c": 4.4}))
        col = gc.Collector(broker.port, C)
        col.publish_limits(gc.limits(C, 2.0, 8.0, 600, shipment=11))
        cfg = gc.gateway_config(env, broker.port, [{"name": "probe", "url": srv.url,
                                                    "timeout_ms": 300,
                                                    "profile": "organtrack-module"}],
                                container=C, interval=100)
        gw = gc.start_gateway(env, cfg)
        ottest.wait_for(lambda: (limits_of(env) or {}).get("shipment") == "11", 15,
                        "the retained limits")
        check(os.path.exists(os.path.join(gc.spool_dir(cfg), "limits.json")), "not kept on disk")
        # refused: malformed, another container; the previous limits stay
        topic = f"organtrack/v1/containers/{C}/limits"
        # The gateway keeps one slot, the newest limits message (it is state,
        # not a queue): each bad one is sent after the one before was judged,
        # or a quick good one would supersede it unread.
        col.c.publish(topic, "{not json", qos=1).wait_for_publish(5)
        ottest.wait_for(lambda: gw.log().count("limits message refused") == 1, 10,
                        "the malformed message refused")
        bad = gc.limits("KZ-OTHER", 2.0, 8.0, 600, shipment=12)
        col.c.publish(topic, json.dumps(bad), qos=1).wait_for_publish(5)
        ottest.wait_for(lambda: gw.log().count("limits message refused") == 2, 10,
                        "the other container's message refused")
        check((limits_of(env) or {}).get("shipment") == "11",
              f"a refused message changed the limits: {limits_of(env)}")
        col.publish_limits(gc.limits(C, 2.0, 6.0, 300, shipment=13))  # after the bad ones
        ottest.wait_for(lambda: (limits_of(env) or {}).get("shipment") == "13", 10,
                        "the changed limits")
        check(limits_of(env)["temp_max_c"] == 6.0, f"limits: {limits_of(env)}")
        # cleared while running
        col.publish_limits(None)
        ottest.wait_for(lambda: gc.status(env)["local_alarm"]["limits"] is None, 10,
                        "cleared by an empty retained message")
        check(not os.path.exists(os.path.join(gc.spool_dir(cfg), "limits.json")),
              "the cleared limits are still on disk")
        # new shipment, then cleared while the gateway is away
        col.publish_limits(gc.limits(C, 2.0, 8.0, 600, shipment=14))
        ottest.wait_for(lambda: (limits_of(env) or {}).get("shipment") == "14", 10,
                        "the next shipment's limits")
        ottest.wait_for(lambda: col.acked >= 20, 10, "acks flowing (a retained ack exists)")
        check(gw.stop() == 0, "gateway did not stop cleanly")
        col.publish_limits(None)
        gw2 = gc.start_gateway(env, cfg, name="gateway")
        ottest.wait_for(lambda: "limits=kept from disk" in gw2.log(), 10, "restart with limits")
        ottest.wait_for(lambda: "limits cleared (the shipment ended)" in gw2.log(), 10,
                        "the clear the gateway missed")
        check(gc.status(env)["local_alarm"]["limits"] is None, "limits after the missed clear")
        # and limits that are there on reconnect are not taken for a clear
        col.publish_limits(gc.limits(C, 2.0, 8.0, 600, shipment=15))
        ottest.wait_for(lambda: (limits_of(env) or {}).get("shipment") == "15", 10, "shipment 15")
        check(gw2.stop() == 0, "gateway did not stop cleanly")
        gw3 = gc.start_gateway(env, cfg, name="gateway")
        ottest.wait_for(lambda: "mqtt connected" in gw3.log(), 10, "reconnected")
        ottest.wait_for(lambda: col.acked >= gc.status(env)["next_seq"] - 1, 10,
                        "the retained ack and new acks after the reconnect")
        check("limits cleared" not in gw3.log(), "retained limits taken for a clear")
        check((limits_of(env) or {}).get("shipment") == "15", f"limits: {limits_of(env)}")
        check(gw3.stop() == 0, "gateway did not stop cleanly")
        col.close()
        srv.stop()
        print("limits: received, refused, replaced, cleared live and while away, kept across "
              "a reconnect")


if __name__ == "__main__":
    ottest.main(test_limits)
