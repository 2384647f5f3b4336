"""The live feed is trimmed by age (collector events_keep_h). A client that
resumes with a Last-Event-ID older than the oldest kept event has missed
changes it can no longer get: it receives `event: reset` (reload your view)
instead of a silent gap. Tried: resume from before, at and after the oldest
kept event."""
import api_common
import ottest


def test_sse_reset():
    with ottest.Env("api-sse-reset") as env:
        api = api_common.Api(env).start()
        coord = api.token("coordinator", "Coordinator Aliya")
        now = ottest.now_ms()
        # ids are the database's (drawn in commit order on PostgreSQL)
        api.dbq.many("INSERT INTO events (ts, kind, payload) VALUES (?, 'shipment', '{}')",
                     [(now - 1000 + i,) for i in range(1, 21)])
        ids = [r[0] for r in api.sql("SELECT id FROM events ORDER BY id")]
        ottest.check(len(ids) == 20 and ids == list(range(ids[0], ids[0] + 20)),
                     f"20 events with consecutive ids: {ids}")
        oldest = ids[9]
        api.sql("DELETE FROM events WHERE id < ?", (oldest,))  # what the collector's trimming does
        s = api_common.SseStream(api, coord, last_event_id=ids[2])
        ev = s.next_event()
        ottest.check(ev["event"] == "reset" and ev["data"]["oldest"] == oldest and
                     ev["id"] == oldest - 1, f"resume from a trimmed id gets a reset first: {ev}")
        ev = s.next_event()
        ottest.check(ev["id"] == oldest, f"then the kept events from the oldest: {ev}")
        s.close()
        s = api_common.SseStream(api, coord, last_event_id=oldest - 1)
        ev = s.next_event()
        ottest.check(ev["event"] != "reset" and ev["id"] == oldest, f"no gap, no reset: {ev}")
        s.close()


if __name__ == "__main__":
    ottest.main(test_sse_reset)
