"""Broker security as shipped: TLS, per-client credentials and the ACL that
lets a gateway publish only under its own container (SPEC: MQTT).

Tried: anonymous connect, a wrong password, a gateway publishing under
another container, a TLS client that does not trust the server's CA, and a
plain-TCP client on the TLS port. Each must fail; the legitimate paths
(gateway → own readings topic over TLS, collector reads everything) must
work, so the test fails if the ACL is either too loose or too tight."""
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

user gw-a
topic write {ROOT}/containers/KZ-A/readings
topic write {ROOT}/containers/KZ-A/state
topic read {ROOT}/containers/KZ-A/ack
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
        gw.loop_stop()
        coll.loop_stop()


if __name__ == "__main__":
    ottest.main(test_broker_security)
