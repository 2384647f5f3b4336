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
        for i in range(1, 21):
            api.sql("INSERT INTO events (id, ts, kind, payload) VALUES (?, ?, 'shipment', '{}')",
                    (i, now - 1000 + i))
        api.sql("DELETE FROM events WHERE id < 10")  # what the collector's trimming does
        s = api_common.SseStream(api, coord, last_event_id=3)
        ev = s.next_event()
        ottest.check(ev["event"] == "reset" and ev["data"]["oldest"] == 10 and ev["id"] == 9,
                     f"resume from a trimmed id gets a reset first: {ev}")
        ev = s.next_event()
        ottest.check(ev["id"] == 10, f"then the kept events from the oldest: {ev}")
        s.close()
        s = api_common.SseStream(api, coord, last_event_id=9)
        ev = s.next_event()
        ottest.check(ev["event"] != "reset" and ev["id"] == 10, f"no gap, no reset: {ev}")
        s.close()


if __name__ == "__main__":
    ottest.main(test_sse_reset)
