"""collector_limits (issue 14): the collector publishes each open shipment's
preservation limits, retained QoS 1, on {root}/containers/{c}/limits (the
band and grace of the shipment's profile, the same the collector's own
temp_excursion rule uses), and clears them (an empty retained message)
when the shipment ends. Tried: a shipment created through the API gets its
limits, discarding it clears them; a shipment created while the collector
was down gets them at the collector's start, and one that ended while it
was down is cleared then; a broker restart while the collector runs: the
limits are back on the new broker (re-published on reconnect); a
collector without preservation profiles clears them and says why once. On
PostgreSQL a standby collector publishes nothing until it takes over, then
publishes the limits again."""
import json
import os
import threading

import paho.mqtt.client as mqtt

import ottest
from api_common import Api
from collector_lib import TOPIC, collector_config, start_collector

PRES = json.load(open(os.path.join(ottest.ROOT, "config", "preservation.json")))


def profile(name):
    p = dict(PRES["defaults"])
    p.update(PRES["profiles"][name])
    return p


class Limits:
    """Records every message on {root}/containers/+/limits (None: cleared)."""

    def __init__(self, port, name):
        self.seen = {}
        self.lock = threading.Lock()
        self.c = mqtt.Client(client_id=name, clean_session=True)
        self.c.on_message = self._on_message
        self.c.on_connect = lambda c, u, f, rc: c.subscribe(f"{TOPIC}/containers/+/limits", qos=1)
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()

    def _on_message(self, c, u, msg):
        body = json.loads(msg.payload) if msg.payload else None
        with self.lock:
            self.seen.setdefault(msg.topic.split("/")[-2], []).append((body, msg.retain))

    def last(self, container):
        with self.lock:
            got = self.seen.get(container)
            return got[-1][0] if got else "none"

    def history(self, container):
        with self.lock:
            return list(self.seen.get(container, []))

    def wait(self, container, pred, what, timeout=20):
        ottest.wait_for(lambda: pred(self.last(container)), timeout=timeout,
                        what=f"{what} (have {self.history(container)})")
        return self.last(container)

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()


def check_limits(body, container, shipment, prof):
    p = profile(prof)
    ottest.check(isinstance(body, dict), f"limits of {container}: {body}")
    want = {"v": 1, "container": container, "shipment": shipment, "profile": prof,
            "temp_min_c": p["temp_min_c"], "temp_max_c": p["temp_max_c"],
            "excursion_grace_s": p["excursion_grace_s"]}
    for k, v in want.items():
        ottest.check(body.get(k) == v, f"limits {k}: {body.get(k)!r}, want {v!r} in {body}")
    ottest.check(isinstance(body.get("ts"), int) and abs(body["ts"] - ottest.now_ms()) < 120_000,
                 f"limits ts: {body}")
    ottest.check(set(body) == set(want) | {"ts"}, f"limits keys: {sorted(body)}")


def is_limits(shipment):
    return lambda b: isinstance(b, dict) and b.get("shipment") == shipment


def discard(api, coord, sid):
    s, j, _ = api.req("PATCH", f"/api/v1/shipments/{sid}",
                      {"status": "discarded", "comment": "test"}, coord)
    ottest.check(s == 200, f"discard {sid}: {s} {j}")


def test():
    with ottest.Env("collector-limits") as env:
        broker = env.mosquitto()
        api = Api(env).start()
        cfg = collector_config(env, broker, {"database": api.db})
        coll = start_collector(env, cfg)
        coord = api.token("coordinator", "coord")
        lim = Limits(broker.port, "limits-1")

        # created through the API: limits follow; discarded: cleared
        a = api.create_shipment(coord, "LIM-A", profile="kidney")
        body = lim.wait("LIM-A", is_limits(a["id"]), "limits of LIM-A")
        check_limits(body, "LIM-A", a["id"], "kidney")
        h = api.create_shipment(coord, "LIM-H", profile="heart/controlled_hypothermic")
        check_limits(lim.wait("LIM-H", is_limits(h["id"]), "limits of LIM-H"), "LIM-H", h["id"],
                     "heart/controlled_hypothermic")
        discard(api, coord, a["id"])
        lim.wait("LIM-A", lambda b: b is None, "LIM-A cleared")
        # retained: a client that connects now sees H's limits and nothing for A
        late = Limits(broker.port, "limits-late")
        late.wait("LIM-H", is_limits(h["id"]), "retained limits of LIM-H")
        ottest.check(late.history("LIM-A") == [], f"A's limits are gone: {late.history('LIM-A')}")
        ottest.check(late.history("LIM-H")[0][1], "H's limits are retained")
        late.close()
        # a new shipment on the same container: its own limits
        a2 = api.create_shipment(coord, "LIM-A", profile="liver")
        check_limits(lim.wait("LIM-A", is_limits(a2["id"]), "limits of the second LIM-A"),
                     "LIM-A", a2["id"], "liver")

        # collector down: B opens, H ends; at the start B gets limits, H is cleared
        coll.stop()
        b = api.create_shipment(coord, "LIM-B", profile="kidney")
        discard(api, coord, h["id"])
        n_h = len(lim.history("LIM-H"))
        ottest.check(lim.history("LIM-B") == [], "no limits while the collector is down")
        coll = start_collector(env, cfg, name="collector-2")
        check_limits(lim.wait("LIM-B", is_limits(b["id"]), "limits of LIM-B at start"), "LIM-B",
                     b["id"], "kidney")
        lim.wait("LIM-H", lambda b_: b_ is None, "LIM-H cleared at start")
        ottest.check(len(lim.history("LIM-H")) > n_h, "a clear was sent for H")

        # broker restarted (its retained store lost): the limits come back
        # when the collector reconnects
        lim.close()
        broker.stop()
        data = os.path.dirname(env.path("mosquitto", "data", ".keep"))
        for f in os.listdir(data):
            if f.endswith(".db"):
                os.remove(os.path.join(data, f))
        broker = env.mosquitto(port=broker.port)
        lim = Limits(broker.port, "limits-2")
        lim.wait("LIM-B", is_limits(b["id"]), "LIM-B re-published after the broker came back",
                 timeout=30)
        lim.wait("LIM-A", is_limits(a2["id"]), "LIM-A re-published after the broker came back")
        ottest.check(coll.alive(), "collector alive")

        # a collector without the preservation file knows no band: it clears
        # the limits (the gateway then keeps its coil off) and says why once
        coll.stop()
        coll = start_collector(env, dict(cfg, preservation=""), name="collector-noprof")
        lim.wait("LIM-B", lambda b_: b_ is None, "LIM-B cleared without profiles")
        lim.wait("LIM-A", lambda b_: b_ is None, "LIM-A cleared without profiles")
        d = api.create_shipment(coord, "LIM-D", profile="kidney")
        lim.wait("LIM-D", lambda b_: b_ is None, "LIM-D: a clear, no limits")
        n = coll.log().count("no preservation profile, no limits for the gateway container=LIM-A")
        ottest.check(n == 1, f"said once, not on every poll: {n}")
        ottest.check(all(b_ is None for b_, _ in lim.history("LIM-D")), f"{lim.history('LIM-D')}")
        ottest.check(d["id"] > 0, "LIM-D")

        if os.environ.get("OT_DB", "sqlite") != "sqlite":
            # PostgreSQL: a standby takes over and publishes the limits again
            # (the hand-cleared message proves it is the new active one)
            b_cfg = dict(cfg, instance="collector-b")
            sb = env.program("organtrack-collector", b_cfg, name="collector-b")
            ottest.wait_for(lambda: "collector standing by instance=collector-b" in sb.log(),
                            timeout=20, what="b standing by")
            pub = mqtt.Client(client_id="limits-clearer", clean_session=True)
            pub.connect("127.0.0.1", broker.port)
            pub.loop_start()
            pub.publish(f"{TOPIC}/containers/LIM-B/limits", b"", qos=1, retain=True).wait_for_publish()
            lim.wait("LIM-B", lambda b_: b_ is None, "LIM-B cleared by hand")
            ottest.check("limits published" not in sb.log(), "the standby publishes nothing")
            coll.kill()
            lim.wait("LIM-B", is_limits(b["id"]), "LIM-B published by the new active one")
            ottest.check("collector active instance=collector-b" in sb.log(), "b is active")
            pub.loop_stop()
            pub.disconnect()
        lim.close()


if __name__ == "__main__":
    ottest.main(test)
