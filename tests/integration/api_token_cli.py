"""`organtrack-api token create|list|revoke`: the token alone on the last
line ("ot_" + 64 hex), only its SHA-256 stored, containers as a JSON array,
refusals for bad arguments, and a revoked token refused by the server."""
import hashlib
import json

import api_common
import ottest
from ottest import check


def test_api_token_cli():
    with ottest.Env("api-token-cli") as env:
        api = api_common.Api(env)
        r = api.cli("token", "create", "--role", "crew", "--name", "crew-7",
                    "--container", "KZ-1", "--container", "KZ-2")
        check(r.returncode == 0, f"create: {r.stderr}")
        lines = r.stdout.strip().splitlines()
        tok = lines[-1]
        check(len(tok) == 67 and tok.startswith("ot_") and
              all(c in "0123456789abcdef" for c in tok[3:]), f"token line {tok!r}")
        check(tok not in r.stderr, "token never logged")
        rows = api.sql("SELECT name, role, token_hash, containers FROM tokens")
        check(len(rows) == 1, f"{rows}")
        name, role, h, containers = rows[0]
        check((name, role) == ("crew-7", "crew"), f"{rows}")
        check(h == hashlib.sha256(tok.encode()).hexdigest(), "stored as SHA-256")
        check(json.loads(containers) == ["KZ-1", "KZ-2"], f"containers {containers}")
        check(tok not in api.dbq.dump(), "secret stored in no table")
        if not api.dbq.pg:
            with open(api.db, "rb") as f:
                check(tok.encode() not in f.read(), "secret not in the database file")
        second = api.token("crew", "crew-7", ["KZ-1"])
        check(second != tok, "tokens are random")

        for args, why in [(["--role", "pilot", "--name", "x"], "role"),
                          (["--role", "crew", "--name", "x"], "crew without container"),
                          (["--role", "auditor", "--name", "x", "--container", "KZ-1"],
                           "container on auditor"),
                          (["--role", "crew", "--name", "x", "--container", "bad id"],
                           "container id"),
                          (["--role", "admin"], "name")]:
            r = api.cli("token", "create", *args)
            check(r.returncode != 0 and r.stderr.strip(), f"{why}: rc={r.returncode}")
        r = api.cli("token", "frobnicate")
        check(r.returncode != 0, "unknown subcommand")

        r = api.cli("token", "list")
        check(r.returncode == 0, f"list {r.stderr}")
        listed = json.loads(r.stdout)
        check([t["name"] for t in listed] == ["crew-7", "crew-7"], f"{listed}")
        check(all("token_hash" not in t and "token" not in t for t in listed), "no secrets")

        api.start()
        check(api.req("GET", "/api/v1/me", token=tok)[0] == 200, "token works")
        r = api.cli("token", "revoke", "--id", str(listed[0]["id"]))
        check(r.returncode == 0, f"revoke {r.stderr}")
        s, j, _ = api.req("GET", "/api/v1/me", token=tok)
        check(s == 401 and j["error"]["code"] == "unauthorized", f"revoked: {s} {j}")
        r = api.cli("token", "revoke", "--id", str(listed[0]["id"]))
        check(r.returncode != 0, "revoking twice fails")
        rows = api.sql("SELECT actor_name, actor_role, action, target FROM audit ORDER BY id")
        check(rows[0] == ("cli", "admin", "token.create", "token/1") and
              rows[-1] == ("cli", "admin", "token.revoke", f"token/{listed[0]['id']}"),
              f"CLI token changes audited: {rows}")

        # --help, --version, bad config exit non-zero with one line
        import os
        import subprocess
        exe = os.path.join(ottest.BIN, "organtrack-api")
        check(subprocess.run([exe, "--version"], capture_output=True).returncode == 0, "version")
        check(subprocess.run([exe, "--help"], capture_output=True).returncode == 0, "help")
        bad = env.write_json("bad.json", {"listen": "nowhere", "database": api.db})
        r = subprocess.run([exe, "--config", bad], capture_output=True, text=True, timeout=10)
        check(r.returncode != 0 and "listen" in r.stderr, f"bad config: {r.stderr}")


if __name__ == "__main__":
    ottest.main(test_api_token_cli)
