"""Broker security as shipped: TLS, per-client credentials and the ACL that
lets a gateway publish only under its own container (SPEC: MQTT).

Tried: anonymous connect, a wrong password, a gateway publishing under
another container, a TLS client that does not trust the server's CA, and a
plain-TCP client on the TLS port, a gateway reading another container's
limits or writing its own. Each must fail; the legitimate paths (gateway →
own readings topic over TLS, gateway ← own limits, collector reads
everything and writes limits) must work, so the test fails if the ACL is
either too loose or too tight.

Then the ACL as shipped: scripts/organtrack-broker-acl writes the password
file and ACL from a collector config and two gateway configs; under them
the real collector publishes the limits of two shipments created through
the API, and each gateway user reads its own container's limits and not
the other's."""
import json
import os
import ssl
import subprocess
import threading

import ottest
import paho.mqtt.client as mqtt
from api_common import Api
from collector_lib import start_collector

ROOT = "organtrack/v1"


def acl_text():
    return f"""user collector
topic read {ROOT}/containers/+/readings
topic read {ROOT}/containers/+/state
topic write {ROOT}/containers/+/ack
topic write {ROOT}/containers/+/alarms
topic readwrite {ROOT}/collectors/+/state
topic write {ROOT}/containers/+/limits

user gw-a
topic write {ROOT}/containers/KZ-A/readings
topic write {ROOT}/containers/KZ-A/state
topic read {ROOT}/containers/KZ-A/ack
topic read {ROOT}/containers/KZ-A/limits
"""


def client(cid, user, pw, port, ca=None):
    c = mqtt.Client(client_id=cid, clean_session=True)
    if user:
        c.username_pw_set(user, pw)
    if ca:
        c.tls_set(ca_certs=ca, cert_reqs=ssl.CERT_REQUIRED)
    result = {}
    ev = threading.Event()

    def on_connect(cl, ud, flags, rc):
        result["rc"] = rc
        ev.set()
    c.on_connect = on_connect
    try:
        c.connect("127.0.0.1", port, keepalive=10)
    except (ssl.SSLError, OSError) as e:
        return c, f"error:{type(e).__name__}"
    c.loop_start()
    if not ev.wait(5):
        c.loop_stop()
        return c, "timeout"
    return c, result["rc"]


def test_broker_security():
    with ottest.Env("broker-sec") as env:
        certs = env.tls_certs()
        pw = env.mosquitto_passwd({"collector": "c-secret", "gw-a": "a-secret"})
        acl = env.path("mosquitto", "acl")
        with open(acl, "w") as f:
            f.write(acl_text())
        broker = env.mosquitto(passwords=pw, acl=acl, tls=certs)

        # refused: anonymous, wrong password
        c, rc = client("anon", None, None, broker.port)
        ottest.check(rc != 0, f"anonymous connect must be refused, got rc={rc}")
        c.loop_stop()
        c, rc = client("bad", "gw-a", "wrong", broker.port)
        ottest.check(rc != 0, f"wrong password must be refused, got rc={rc}")
        c.loop_stop()
        # refused: TLS client that does not trust the server (system CAs only)
        c2 = mqtt.Client(client_id="untrusting")
        c2.username_pw_set("gw-a", "a-secret")
        c2.tls_set(cert_reqs=ssl.CERT_REQUIRED)
        try:
            c2.connect("127.0.0.1", broker.tls_port, keepalive=5)
            untrusted = "connected"
        except (ssl.SSLError, OSError):
            untrusted = "refused"
        ottest.check(untrusted == "refused", "a client must not accept an unknown server cert")

        # the collector subscribes to everything it may read
        got = []
        coll, rc = client("collector-1", "collector", "c-secret", broker.port)
        ottest.check(rc == 0, f"collector connect rc={rc}")
        subscribed = threading.Event()
        coll.on_message = lambda cl, ud, m: got.append(m.topic)
        coll.on_subscribe = lambda *a: subscribed.set()
        coll.subscribe(f"{ROOT}/containers/+/readings", qos=1)
        ottest.check(subscribed.wait(5), "collector subscription")

        # the gateway, over TLS with the CA, publishes its own and a foreign container
        gw, rc = client("gw-a", "gw-a", "a-secret", broker.tls_port, ca=certs["ca"])
        ottest.check(rc == 0, f"gateway TLS connect rc={rc}")
        gw.publish(f"{ROOT}/containers/KZ-B/readings", b'{"forged":true}', qos=1).wait_for_publish(5)
        gw.publish(f"{ROOT}/containers/KZ-A/readings", b'{"own":true}', qos=1).wait_for_publish(5)
        ottest.wait_for(lambda: f"{ROOT}/containers/KZ-A/readings" in got, 10, "own readings")
        # QoS 1 from one client is delivered in order: the forged one came first
        ottest.check(f"{ROOT}/containers/KZ-B/readings" not in got,
                     f"ACL let gw-a publish under KZ-B: {got}")

        # limits (SPEC v1.1): the collector writes them retained, a gateway
        # reads only its own and cannot write them
        for c_ in ("KZ-B", "KZ-A"):
            coll.publish(f"{ROOT}/containers/{c_}/limits", f'{{"by":"collector","c":"{c_}"}}',
                         qos=1, retain=True).wait_for_publish(5)
        gw.publish(f"{ROOT}/containers/KZ-A/limits", b'{"by":"gateway"}', qos=1,
                   retain=True).wait_for_publish(5)
        seen = []
        gw.on_message = lambda cl, ud, m: seen.append((m.topic, m.payload))
        # subscribed in this order, KZ-B's retained message would come first
        gw.subscribe(f"{ROOT}/containers/KZ-B/limits", qos=1)
        gw.subscribe(f"{ROOT}/containers/KZ-A/limits", qos=1)
        ottest.wait_for(lambda: any(t.endswith("KZ-A/limits") for t, _ in seen), 10,
                        "the gateway's own limits")
        ottest.check(not any(t.endswith("KZ-B/limits") for t, _ in seen),
                     f"ACL let gw-a read KZ-B's limits: {seen}")
        ottest.check(all(b'"collector"' in p for _, p in seen),
                     f"ACL let gw-a write its own limits: {seen}")
        gw.loop_stop()
        coll.loop_stop()

        shipped_acl(env)


def shipped_acl(env):
    port = ottest.free_port()
    api = Api(env).start()
    ccfg = {"mqtt": {"url": f"tcp://127.0.0.1:{port}", "client_id": "collector-acl",
                     "username": "organtrack-collector", "password": "c-acl-secret"},
            "database": api.db, "influxdb": None,
            "preservation": os.path.join(ottest.ROOT, "config", "preservation.json"),
            "webhooks": [], "tick_ms": 200, "ack_poll_ms": 200}
    cfile = env.write_json("acl-collector.json", ccfg)
    gws = [env.write_json(f"acl-{u}.json", {"container": c, "gateway": u,
                                               "mqtt": {"username": u, "password": f"{u}-pw"}})
           for u, c in (("gw-x", "KZ-X"), ("gw-y", "KZ-Y"))]
    out = os.path.dirname(env.path("acl-out", ".keep"))
    r = subprocess.run(["sh", os.path.join(ottest.ROOT, "scripts", "organtrack-broker-acl"),
                        "--collector", cfile, "--out-dir", out, *gws],
                       capture_output=True, text=True)
    ottest.check(r.returncode == 0, f"organtrack-broker-acl: {r.returncode} {r.stderr}")
    for f in ("passwd", "acl"):
        os.chmod(os.path.join(out, f), 0o644)  # the test's mosquitto runs as another user
    broker = env.mosquitto(port=port, passwords=os.path.join(out, "passwd"),
                           acl=os.path.join(out, "acl"))
    start_collector(env, ccfg, name="collector-acl")
    coord = api.token("coordinator", "coord")
    sx = api.create_shipment(coord, "KZ-X")
    sy = api.create_shipment(coord, "KZ-Y")
    got = {"gw-x": [], "gw-y": []}
    cl = {}
    for u in got:
        cl[u], rc = client(f"{u}-acl", u, f"{u}-pw", broker.port)
        ottest.check(rc == 0, f"{u} connect rc={rc}")
        cl[u].on_message = lambda c_, ud, m, u=u: got[u].append((m.topic, m.payload))
    # y's own limits arrive: both are on the broker (the collector was let write)
    cl["gw-y"].subscribe(f"{ROOT}/containers/KZ-Y/limits", qos=1)
    ottest.wait_for(lambda: got["gw-y"], 20, "gw-y's own limits")
    ottest.check(json.loads(got["gw-y"][0][1])["shipment"] == sy["id"], f"{got['gw-y']}")
    # x asks for y's first, then its own: in order, y's would come first
    cl["gw-x"].subscribe(f"{ROOT}/containers/KZ-Y/limits", qos=1)
    cl["gw-x"].subscribe(f"{ROOT}/containers/KZ-X/limits", qos=1)
    ottest.wait_for(lambda: got["gw-x"], 20, "gw-x's own limits")
    ottest.check([t for t, _ in got["gw-x"]] == [f"{ROOT}/containers/KZ-X/limits"] and
                 json.loads(got["gw-x"][0][1])["shipment"] == sx["id"],
                 f"the shipped ACL let gw-x read another container's limits: {got['gw-x']}")
    for c_ in cl.values():
        c_.loop_stop()


if __name__ == "__main__":
    ottest.main(test_broker_security)
