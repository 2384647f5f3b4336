"""organtrack-api over HTTPS (SPEC v1.1 "HTTPS"): with a "tls" section the
listen port speaks TLS 1.2+ only.

Proves, against a real organtrack-api with a certificate from the test's
own CA (ottest's Env.tls_certs):
- the chain validates with the test CA (and is refused without it);
- plain HTTP to the TLS port gets no HTTP answer;
- TLS 1.0 and 1.1 are refused, while the same client does talk TLS 1.1 to
  an `openssl s_server -tls1_1` (so the refusal is the API's, not the
  client's); TLS 1.2 and 1.3 work;
- Strict-Transport-Security is on every answer (JSON, error, static file,
  event stream);
- SIGHUP with a renewed certificate: the next handshake presents the new
  one, the process is the same (same PID, still running) and an event
  stream opened before the reload keeps receiving events; a broken
  renewal is refused with a log line and the previous certificate stays;
- "[::1]:PORT" listens on IPv6 (HTTPS there too), "[::]:PORT" on IPv6 and
  IPv4 (dual stack);
- bad tls / listen values stop the program with one line naming the key.
"""
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import warnings

import api_common
import ottest
from ottest import check, wait_for

# TLS 1.0/1.1 are named on purpose: to prove that the API refuses them
warnings.filterwarnings("ignore", category=DeprecationWarning, message="ssl.TLSVersion")


def ctx_for(ca, minv=None, maxv=None, legacy=False):
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    c.load_verify_locations(ca)
    if legacy:
        # OpenSSL 3 refuses TLS < 1.2 at its default security level: allow it
        # so that the client can offer TLS 1.0/1.1 at all
        c.set_ciphers("DEFAULT:@SECLEVEL=0")
    if minv:
        c.minimum_version = minv
    if maxv:
        c.maximum_version = maxv
    return c


def handshake(port, ctx, host="127.0.0.1", name="localhost"):
    """Returns (TLS version, peer certificate dict)."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as raw:
        raw.settimeout(10)
        raw.connect((host, port))
        with ctx.wrap_socket(raw, server_hostname=name) as s:
            return s.version(), s.getpeercert()


def https(port, ctx, method, path, token=None, body=None, host="127.0.0.1"):
    conn = http.client.HTTPSConnection(host, port, context=ctx, timeout=10)
    h = {}
    data = None
    if token:
        h["Authorization"] = f"Bearer {token}"
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        raw = r.read()
        return r.status, raw, {k.lower(): v for k, v in r.getheaders()}
    finally:
        conn.close()


class TlsSse(api_common.SseStream):
    """api_common's SSE frame reader over HTTPS."""

    def __init__(self, port, ctx, token):
        self.conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=15)
        self.conn.request("GET", "/api/v1/events", headers={
            "Accept": "text/event-stream", "Authorization": f"Bearer {token}"})
        self.resp = self.conn.getresponse()
        check(self.resp.status == 200, f"events over https: {self.resp.status}")
        self.headers = {k.lower(): v for k, v in self.resp.getheaders()}
        self.comments = []


def renew(tls, name):
    """A second server certificate from the same test CA (new key, new
    serial, O=name): what a renewal (certbot, the hospital's CA) leaves."""
    d = os.path.dirname(tls["ca"])
    # valid on both clocks of a moved-clock run, as Env.tls_certs does it
    days = str(2 + int(abs(ottest.FAKE_OFFSET_S) // 86400) + 1)
    env = dict(os.environ)
    if ottest.FAKE_OFFSET_S > 0:
        env.pop("LD_PRELOAD", None)
    run = lambda *a: subprocess.run(a, check=True, capture_output=True, cwd=d, env=env)
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/O={name}/CN=localhost",
        "-keyout", f"{name}.key", "-out", f"{name}.csr")
    run("openssl", "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", days, "-extfile", "san.ext", "-out", f"{name}.crt")
    return os.path.join(d, f"{name}.crt"), os.path.join(d, f"{name}.key")


def org_of(cert):
    return dict(x[0] for x in cert["subject"]).get("organizationName")


def test_api_https():
    with ottest.Env("api-https") as env:
        tls = env.tls_certs()
        live_cert, live_key = env.path("live", "server.crt"), env.path("live", "server.key")
        for src, dst in ((tls["cert"], live_cert), (tls["key"], live_key)):
            with open(src) as f, open(dst, "w") as g:
                g.write(f.read())
        api = api_common.Api(env, {"tls": {"cert_file": live_cert, "key_file": live_key},
                                   "sse_heartbeat_s": 1})
        coord = api.token("coordinator", "coord")
        api.start()
        port = api.port
        good = ctx_for(tls["ca"])

        # the chain validates with the test CA, for the name and the address
        ver, cert = handshake(port, good)
        check(ver in ("TLSv1.2", "TLSv1.3"), f"negotiated {ver}")
        check(org_of(cert) is None, f"first certificate: {cert['subject']}")
        handshake(port, good, name="127.0.0.1")
        # ... and not without it (the system store does not know our CA)
        try:
            handshake(port, ssl.create_default_context())
            check(False, "a client without the test CA accepted the certificate")
        except ssl.SSLCertVerificationError:
            pass

        # plain HTTP to the TLS port gets no HTTP answer
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            try:
                got = s.recv(4096)
            except ConnectionResetError:
                got = b""
        check(not got.startswith(b"HTTP/"), f"plain HTTP was answered: {got[:80]!r}")
        try:
            ottest.http("GET", f"http://127.0.0.1:{port}/api/v1/health", timeout=5)
            check(False, "urllib got an HTTP answer over plain HTTP")
        except (http.client.RemoteDisconnected, ConnectionResetError, http.client.BadStatusLine,
                OSError):
            pass

        # TLS 1.0 and 1.1 refused; the client itself can speak 1.1 (control)
        v11 = ctx_for(tls["ca"], ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1, legacy=True)
        ctl_port = ottest.free_port()
        ctl = env.spawn("s_server", ["openssl", "s_server", "-accept", f"127.0.0.1:{ctl_port}",
                                     "-cert", tls["cert"], "-key", tls["key"], "-tls1_1",
                                     "-cipher", "DEFAULT:@SECLEVEL=0", "-quiet"])
        ottest.wait_port(ctl_port, proc=ctl.p)
        ver, _ = handshake(ctl_port, v11)
        check(ver == "TLSv1.1", f"control: the client negotiated {ver} with s_server -tls1_1")
        ctl.stop()
        for maxv in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
            c = ctx_for(tls["ca"], ssl.TLSVersion.TLSv1, maxv, legacy=True)
            try:
                ver, _ = handshake(port, c)
                check(False, f"the API accepted {ver}")
            except (ssl.SSLError, ConnectionResetError, OSError) as e:
                check(not isinstance(e, ssl.SSLCertVerificationError), f"{maxv}: {e}")
        for v in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            ver, _ = handshake(port, ctx_for(tls["ca"], v, v))
            check(ver == v.name.replace("_", "."), f"{v}: negotiated {ver}")

        # HSTS on every answer: JSON, error, static, event stream
        for method, path, tok, want in (("GET", "/api/v1/health", None, 200),
                                        ("GET", "/api/v1/shipments", None, 401),
                                        ("GET", "/", None, 200),
                                        ("GET", "/api/v1/nowhere", coord, 404)):
            st, _, h = https(port, good, method, path, tok)
            check(st == want, f"{path}: {st}")
            hsts = h.get("strict-transport-security", "")
            check(hsts.startswith("max-age=") and int(hsts[8:]) >= 15552000,
                  f"{path}: Strict-Transport-Security {hsts!r}")
        sse = TlsSse(port, good, coord)
        check("strict-transport-security" in sse.headers, f"event stream headers {sse.headers}")

        # SIGHUP with a renewed certificate: served next, same process, the
        # open stream keeps going
        pid = api.proc.pid
        new_cert, new_key = renew(tls, "renewal-2")
        for src, dst in ((new_cert, live_cert), (new_key, live_key)):
            with open(src) as f, open(dst + ".tmp", "w") as g:
                g.write(f.read())
            os.replace(dst + ".tmp", dst)
        os.kill(pid, signal.SIGHUP)
        wait_for(lambda: org_of(handshake(port, good)[1]) == "renewal-2", timeout=10,
                 what="the renewed certificate is presented after SIGHUP")
        check(api.proc.alive() and api.proc.pid == pid, "the API restarted on SIGHUP")
        check("tls reload: certificate loaded" in api.proc.log(), "reload logged")
        st, body, _ = https(port, good, "POST", "/api/v1/shipments", coord,
                            api.shipment_body("KZ-TLS-1"))
        check(st == 201, f"create over https: {st} {body[:200]!r}")
        ship = json.loads(body)
        ev = sse.next_event(timeout=10)
        check(ev["event"] == "shipment" and ev["data"]["data"]["shipment"]["id"] == ship["id"],
              f"the stream opened before the reload missed the new shipment: {ev}")
        sse.close()

        # a broken renewal (key of another certificate) is refused, the
        # previous certificate stays
        other_cert, _ = renew(tls, "renewal-3")
        with open(other_cert) as f, open(live_cert, "w") as g:
            g.write(f.read())
        os.kill(pid, signal.SIGHUP)
        wait_for(lambda: "still serving the previous certificate" in api.proc.log(), timeout=10,
                 what="the refused reload in the log")
        check("does not belong" in api.proc.log(), "reason of the refused reload")
        check(org_of(handshake(port, good)[1]) == "renewal-2", "a broken renewal was served")
        st, _, _ = https(port, good, "GET", "/api/v1/health")
        check(st == 200 and api.proc.alive(), f"API after a broken renewal: {st}")
        api.proc.stop()
        check(api.proc.p.returncode == 0, f"clean stop: {api.proc.p.returncode}")

        # IPv6: [::1]:PORT, HTTPS there as well (the certificate names localhost)
        p6 = ottest.free_port()
        cfg6 = dict(api.config, listen=f"[::1]:{p6}",
                    tls={"cert_file": tls["cert"], "key_file": tls["key"]})
        a6 = env.program("organtrack-api", cfg6, name="api6")
        wait_for(lambda: _open6(p6) or not a6.alive(), timeout=15, what="API on [::1]")
        check(a6.alive(), f"API on [::1] died: {a6.log()[-500:]}")
        st, body, h = https(p6, good, "GET", "/api/v1/health", host="::1")
        check(st == 200 and json.loads(body)["status"] == "ok", f"health over [::1]: {st}")
        check("strict-transport-security" in h, "HSTS over IPv6")
        check(f"listening url=https://[::1]:{p6}/" in a6.log(), "listen log line")
        a6.stop()
        # "[::]:PORT" is dual stack: IPv4 clients reach it too
        p6d = ottest.free_port()
        a6d = env.program("organtrack-api", dict(cfg6, listen=f"[::]:{p6d}"), name="api6any")
        wait_for(lambda: _open6(p6d) or not a6d.alive(), timeout=15, what="API on [::]")
        for host in ("::1", "127.0.0.1"):
            st, _, _ = https(p6d, good, "GET", "/api/v1/health", host=host)
            check(st == 200, f"[::] listener from {host}: {st}")
        a6d.stop()
        # plain HTTP on IPv6 too (no tls section)
        p6b = ottest.free_port()
        cfg6b = dict(api.config, listen=f"[::1]:{p6b}")
        cfg6b.pop("tls")
        a6b = env.program("organtrack-api", cfg6b, name="api6plain")
        wait_for(lambda: _open6(p6b) or not a6b.alive(), timeout=15, what="plain API on [::1]")
        c = http.client.HTTPConnection("::1", p6b, timeout=10)
        c.request("GET", "/api/v1/health")
        r = c.getresponse()
        check(r.status == 200 and r.getheader("Strict-Transport-Security") is None,
              f"plain [::1]: {r.status} {r.getheaders()}")
        c.close()
        a6b.stop()

        # bad values: one line naming file and key, exit 1
        api_bin = os.path.join(ottest.BIN, "organtrack-api")
        for over, key in (({"listen": "::1:8080"}, "listen"),
                          ({"listen": "[::1]8080"}, "listen"),
                          ({"listen": "localhost:8080"}, "listen"),
                          ({"tls": {"cert_file": tls["cert"]}}, "tls.key_file"),
                          ({"tls": {"cert_file": env.path("missing.crt"),
                                    "key_file": tls["key"]}}, "tls.cert_file"),
                          ({"tls": {"cert_file": tls["cert"], "key_file": tls["cert"]}},
                           "tls.key_file")):
            cfg = dict(api.config, listen=f"127.0.0.1:{ottest.free_port()}")
            cfg.update(over)
            path = env.write_json("bad.json", cfg)
            r = subprocess.run([api_bin, "--config", path], capture_output=True, text=True,
                               timeout=20, cwd=env.dir)
            check(r.returncode == 1, f"{over}: exit {r.returncode}")
            check(key in r.stderr, f"{over}: the error does not name {key}: {r.stderr.strip()}")


def _open6(port):
    try:
        with socket.create_connection(("::1", port), timeout=0.5):
            return True
    except OSError:
        return False


if __name__ == "__main__":
    ottest.main(test_api_https)
