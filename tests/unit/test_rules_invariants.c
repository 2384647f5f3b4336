/* test_rules_invariants.c - randomized replay (fixed seeds) of readings with
 * values around every threshold, late batches, gateway offline spells, acks
 * and hand-offs, checking the invariants of the alarm state machine for
 * every event:
 *   - RAISED only for an inactive alarm, CLEARED and ESCALATED only for an
 *     active one;
 *   - ESCALATED never lowers the severity; at most one escalation for lack of
 *     acknowledgement per severity level, so at most 3 per episode;
 *   - rules_alarm_active() agrees with the events seen;
 *   - every event has a known type, a non-empty message, and a time no later
 *     than the newest reading or tick time. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <string.h>

#include "test_rules_fixture.h"

#define NTYPES 11

struct track {
    int active[NTYPES];
    enum rules_severity sev[NTYPES];
    int escalations[NTYPES];
    int64_t latest;
    size_t events;
    size_t raised;
};

static int type_index(const char *t)
{
    for (size_t i = 0; rules_type_name(i); i++)
        if (strcmp(rules_type_name(i), t) == 0)
            return (int)i;
    return -1;
}

static void check_emit(void *ctx, const struct rules_event *ev)
{
    struct track *k = ctx;
    int t = type_index(ev->type);
    assert_true(t >= 0 && t < NTYPES);
    assert_true(ev->message[0] != '\0');
    assert_true(ev->at <= k->latest);
    k->events++;
    switch (ev->change) {
    case RULES_RAISED:
        assert_false(k->active[t]);
        k->active[t] = 1;
        k->sev[t] = ev->severity;
        k->escalations[t] = 0;
        k->raised++;
        break;
    case RULES_ESCALATED:
        assert_true(k->active[t]);
        assert_true(ev->severity >= k->sev[t]);
        k->sev[t] = ev->severity;
        k->escalations[t]++;
        assert_true(k->escalations[t] <= 3);
        break;
    case RULES_CLEARED:
        assert_true(k->active[t]);
        k->active[t] = 0;
        break;
    }
}

static uint64_t rng;

static uint32_t rnd(uint32_t n)
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)((rng >> 33) % n);
}

static double around(double x, double spread)
{
    return x - spread + 2 * spread * (double)rnd(1001) / 1000.0;
}

static void replay(uint64_t seed, int steps, struct track *k)
{
    struct ot_preservation p = fx_profile();
    struct rules_shipment sh = fx_shipment(&p);
    sh.has_dest = 1;
    sh.dest_lat = 51.13;
    sh.dest_lon = 71.43;
    sh.air = (int)(seed & 1);
    struct rules_state *s = rules_state_new();
    assert_non_null(s);
    memset(k, 0, sizeof *k);
    rng = seed;
    int64_t t = T0 + 60 * MIN;
    int online = 1;
    double lon = 51.37;
    for (int i = 0; i < steps; i++) {
        t += rnd(30) * SEC;
        int what = (int)rnd(100);
        if (what < 70) {
            struct ot_reading r;
            int late = rnd(10) == 0;
            int64_t ts = late ? t - (int64_t)rnd(3600) * SEC : t;
            if (rnd(20) == 0)
                r = fx_missing(ts);
            else
                r = fx_temp(ts, around(5.0, 4.5));
            if (rnd(2)) {
                lon += 0.001 * rnd(10);
                ot_reading_set(&r, OT_CH_LAT, 51.2);
                ot_reading_set(&r, OT_CH_LON, lon);
            }
            if (rnd(2))
                ot_reading_set(&r, OT_CH_GNSS, rnd(4));
            if (rnd(2))
                ot_reading_set(&r, OT_CH_SPEED, rnd(120));
            if (rnd(2))
                ot_reading_set(&r, OT_CH_LID, rnd(8) == 0);
            if (rnd(2))
                ot_reading_set(&r, OT_CH_SHOCK, around(3.0, 3.0));
            if (rnd(2))
                ot_reading_set(&r, OT_CH_BATTERY, around(20, 15));
            if (ts > k->latest)
                k->latest = ts;
            rules_on_reading(s, &sh, &r, late, check_emit, k);
        } else if (what < 90) {
            if (rnd(30) == 0)
                online = !online;
            if (t > k->latest)
                k->latest = t;
            rules_on_tick(s, &sh, t, online, check_emit, k);
        } else if (what < 97) {
            rules_on_ack(s, rules_type_name(rnd(NTYPES)), t);
        } else {
            sh.handoff_until = t + (int64_t)rnd(600) * SEC;
        }
        for (int ty = 0; ty < NTYPES; ty++) {
            enum rules_severity sev;
            int a = rules_alarm_active(s, rules_type_name((size_t)ty), &sev);
            assert_int_equal(a != 0, k->active[ty]);
            if (a)
                assert_int_equal(sev, k->sev[ty]);
        }
    }
    rules_state_free(s);
}

static void invariants_hold_on_random_replays(void **state)
{
    (void)state;
    struct track k;
    size_t events = 0, raised = 0;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        replay(seed, 5000, &k);
        events += k.events;
        raised += k.raised;
    }
    /* the replays must exercise the machines, not pass vacuously */
    print_message("random replays: %zu events, %zu raised\n", events, raised);
    assert_true(raised > 200);
    assert_true(events > raised);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(invariants_hold_on_random_replays),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
