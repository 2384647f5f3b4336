"""Closing a shipment seals its custody trail: PATCH status closed appends a
ledger `note` entry first, so the readings stored since the last custody
event are covered by a hash (otherwise they could be edited unseen), and the
trail refuses further entries. Tried: close, then append, then verify."""
import os
import subprocess

import api_common
import ottest

TOOL = os.path.join(ottest.BIN, "organtrack-ledger")


def test_close_seals_trail():
    with ottest.Env("api-close") as env:
        api = api_common.Api(env).start()
        coord = api.token("coordinator", "Coordinator Aliya")
        crew = api.token("crew", "Crew Marat", containers=["KZ-CLS-1"])
        sid = api.create_shipment(coord, "KZ-CLS-1")["id"]
        s, _, _ = api.req("POST", f"/api/v1/shipments/{sid}/custody", {"type": "departed"}, crew)
        ottest.check(s == 201, f"departed {s}")
        t = ottest.now_ms() - 1000
        for i in range(1, 6):
            api.sql("INSERT INTO readings (container, seq, gateway, boot, ts, received_at,"
                    " shipment_id, temp_c) VALUES ('KZ-CLS-1', ?, 'gw', 1, ?, ?, ?, 4.2)",
                    (i, t + i, t + i, sid))
        # crew may not close; the coordinator may
        s, j, _ = api.req("PATCH", f"/api/v1/shipments/{sid}", {"status": "closed"}, crew)
        ottest.check(s == 403, f"crew close: {s} {j}")
        s, j, _ = api.req("PATCH", f"/api/v1/shipments/{sid}",
                          {"status": "closed", "comment": "organ not used"}, coord)
        ottest.check(s == 409, f"in_transit -> closed skips delivery: {s} {j}")
        s, j, _ = api.req("PATCH", f"/api/v1/shipments/{sid}", {"status": "discarded",
                          "comment": "organ not used"}, coord)
        ottest.check(s == 200 and j["status"] == "discarded", f"discard: {s} {j}")
        s, trail, _ = api.req("GET", f"/api/v1/shipments/{sid}/custody", token=coord)
        last = trail["items"][-1]
        ottest.check(last["type"] == "note" and "discarded" in (last["comment"] or ""),
                     f"last entry seals the trail: {last}")
        ottest.check(last["readings"]["count"] == 5, f"the 5 readings are covered: {last}")
        s, j, _ = api.req("POST", f"/api/v1/shipments/{sid}/custody", {"type": "note",
                          "comment": "late remark"}, coord)
        ottest.check(s == 409, f"entries after discarding are refused: {s} {j}")
        out = subprocess.run([TOOL, "verify", api.db], capture_output=True, text=True)
        ottest.check(out.returncode == 0 and out.stdout.startswith("OK"), out.stdout + out.stderr)


if __name__ == "__main__":
    ottest.main(test_close_seals_trail)
