/* test_rules_fixture.h - shared by the test_rules_* executables: a profile
 * with round numbers, a shipment, a reading builder and an event recorder.
 * Times are epoch ms; T0 is an arbitrary reading-time origin. */
#ifndef TEST_RULES_FIXTURE_H
#define TEST_RULES_FIXTURE_H

#include <string.h>

#include "rules.h"

#define T0 1763877600000LL
#define SEC 1000LL
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define REC_MAX 512
#define FX_UNUSED __attribute__((unused))

struct rec {
    size_t n;
    struct rules_event ev[REC_MAX];
};

static FX_UNUSED void rec_emit(void *ctx, const struct rules_event *ev)
{
    struct rec *r = ctx;
    if (r->n < REC_MAX)
        r->ev[r->n++] = *ev;
}

/* Number of recorded events of type (NULL: any) and change (-1: any). */
static FX_UNUSED size_t rec_count(const struct rec *r, const char *type, int change)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++)
        if ((!type || strcmp(r->ev[i].type, type) == 0) &&
            (change < 0 || (int)r->ev[i].change == change))
            n++;
    return n;
}

/* First recorded event of type, or NULL. */
static FX_UNUSED const struct rules_event *rec_first(const struct rec *r, const char *type)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->ev[i].type, type) == 0)
            return &r->ev[i];
    return NULL;
}

/* Last recorded event of type, or NULL. */
static FX_UNUSED const struct rules_event *rec_last(const struct rec *r, const char *type)
{
    for (size_t i = r->n; i-- > 0;)
        if (strcmp(r->ev[i].type, type) == 0)
            return &r->ev[i];
    return NULL;
}

static FX_UNUSED struct ot_preservation fx_profile(void)
{
    struct ot_preservation p;
    memset(&p, 0, sizeof p);
    strcpy(p.name, "kidney");
    p.temp_min_c = 2.0;
    p.temp_max_c = 8.0;
    p.excursion_grace_s = 300;
    p.max_cold_ischemia_min = 600; /* 10 h: round numbers for the tests */
    p.warn_fraction = 0.8;
    p.shock_max_g = 3.0;
    p.lid_open_max_s = 120;
    p.hysteresis_c = 0.5;
    p.battery_low_pct = 20;
    p.gnss_lost_s = 600;
    p.sensor_silent_s = 180;
    p.escalate_after_s = 600;
    p.forecast_horizon_s = 1800;
    return p;
}

static FX_UNUSED struct rules_shipment fx_shipment(const struct ot_preservation *p)
{
    struct rules_shipment sh;
    memset(&sh, 0, sizeof sh);
    sh.id = 1;
    sh.profile = p;
    sh.cross_clamp_at = T0;
    return sh;
}

static FX_UNUSED struct ot_reading fx_temp(int64_t ts, double temp)
{
    struct ot_reading r;
    memset(&r, 0, sizeof r);
    r.seq = ts / 1000;
    r.ts = ts;
    ot_reading_set(&r, OT_CH_TEMP, temp);
    return r;
}

/* A reading whose temp_c is declared missing. */
static FX_UNUSED struct ot_reading fx_missing(int64_t ts)
{
    struct ot_reading r;
    memset(&r, 0, sizeof r);
    r.seq = ts / 1000;
    r.ts = ts;
    r.missing = 1u << OT_CH_TEMP;
    return r;
}

/* A test's state: profile, shipment, rules state and recorded events.
 * fx_setup_with() builds it with the round-number profile, the forecast off,
 * and `tweak` (may be NULL) adjusting the profile for that executable. */
struct fx {
    struct ot_preservation p;
    struct rules_shipment sh;
    struct rules_state *s;
    struct rec rec;
};

static FX_UNUSED int fx_setup_with(void **state, void (*tweak)(struct ot_preservation *))
{
    static struct fx f;
    memset(&f, 0, sizeof f);
    f.p = fx_profile();
    f.p.forecast_horizon_s = 0;
    if (tweak)
        tweak(&f.p);
    f.sh = fx_shipment(&f.p);
    f.s = rules_state_new();
    if (!f.s)
        return -1;
    *state = &f;
    return 0;
}

static FX_UNUSED int teardown(void **state)
{
    struct fx *f = *state;
    rules_state_free(f->s);
    return 0;
}

#endif
