"""clinical_silence (issue 12): a radio silence outside flight longer than
15 min opens an incident (once); on a planned flight leg it does not. The
silence is made by readings whose time is in the past (no sleep): the
collector's tick measures from the newest reading's time."""
import ottest
from api_common import Api
from collector_lib import Client, collector_config, place, reading, start_collector

MIN = 60_000


def test():
    with ottest.Env("clinical-silence") as env:
        broker = env.mosquitto()
        api = Api(env).start()
        cfg = collector_config(env, broker, {"database": api.db})
        start_collector(env, cfg)
        coord = api.token("coordinator", "coord")
        now = ottest.now_ms()
        ground = api.create_shipment(coord, "SIL-GROUND", mode="ground",
                                     origin=place("A", 0), destination=place("B", 300))
        dep = now - 60 * MIN
        legs = [
            {"mode": "ground", "from": place("Hospital", 0), "to": place("Airport A", 30),
             "planned_departure": ottest.iso(dep), "planned_arrival": ottest.iso(dep + 40 * MIN)},
            {"mode": "air", "from": place("Airport A", 30), "to": place("Airport B", 530),
             "planned_departure": ottest.iso(dep + 45 * MIN),
             "planned_arrival": ottest.iso(dep + 150 * MIN)},
        ]
        air = api.create_shipment(coord, "SIL-AIR", mode="mixed", origin=place("Hospital", 0),
                                  destination=place("Airport B", 530), legs=legs)
        cl = Client(broker.port)
        # 20 min ago, on the road / at the departure airport; then nothing
        t = now - 20 * MIN
        cl.readings("SIL-GROUND", [reading(1, ts=t, lat=45.1, lon=60.0, gnss_fix=3)])
        cl.readings("SIL-AIR", [reading(1, ts=t, lat=place("x", 30)["lat"], lon=60.0, gnss_fix=3)])
        cl.wait_ack("SIL-GROUND", 1)
        cl.wait_ack("SIL-AIR", 1)
        rows = ottest.wait_for(lambda: api.sql("SELECT kind, detail FROM incidents WHERE "
                                               "shipment_id=?", (ground["id"],)),
                               timeout=20, what="radio_silence incident")
        ottest.check(rows[0][0] == "radio_silence" and "outside flight" in rows[0][1], f"{rows}")
        # the collector ticks every 200 ms: more ticks do not open it again,
        # and the container on its flight leg has none (checked after the
        # ground one was opened, so its tick has run too)
        ottest.wait_for(lambda: "silence/" in (api.sql("SELECT source FROM incidents")[0][0] or ""),
                        timeout=5, what="source recorded")
        n = api.sql("SELECT count(*) FROM incidents WHERE shipment_id=?", (ground["id"],))[0][0]
        ottest.check(n == 1, f"one incident per silence: {n}")
        n = api.sql("SELECT count(*) FROM incidents WHERE shipment_id=?", (air["id"],))[0][0]
        ottest.check(n == 0, f"no radio_silence on a flight leg: {n}")
        cl.close()


if __name__ == "__main__":
    test()
