/* report_fixture.c - the heart shipment of report_fixture.h. Times are
 * minutes after cross-clamp (2026-11-23T03:40:00Z, 08:40 in Oral and
 * Astana) on the base timeline; a stretched fixture scales them. */
#include "report_fixture.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ot_crypto.h"
#include "ot_time.h"

#define MIN_MS 60000LL
#define BASE_FIRST 18.0 /* packed: first reading */
#define BASE_LAST 248.0 /* opened at the centre: last reading */
#define LOST_FROM 120.0 /* in flight: readings the gateway declared lost */
#define LOST_TO 126.0
#define BASE_STEP_MS 5000

static uint64_t rng_state;

/* deterministic noise in [-a, a] */
static double noise(double a)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return a * ((double)(rng_state >> 11) / (double)(1ULL << 53) * 2 - 1);
}

/* product temperature at base minute t */
static double product(double t)
{
    double v = 4.0 + 0.3 * exp(-(t - BASE_FIRST) / 20.0);
    if (t >= 44 && t < 54) /* waiting at Oral airport in a heated vehicle */
        v += 5.0 * (t - 44) / 10;
    else if (t >= 54 && t < 57)
        v += 5.0;
    else if (t >= 57 && t < 63)
        v += 5.0 * (1 - (t - 57) / 6);
    if (t >= 65 && t < 200) /* the pack slowly cools the payload in flight */
        v -= 0.4 * (t - 65) / 135;
    else if (t >= 200)
        v -= 0.4 + 0.2 * (t - 200) / 48;
    if (t >= 246) /* opened at the transplant centre */
        v += 0.25 * (t - 246);
    return v;
}

static double ambient(double t)
{
    if (t < 24)
        return 21; /* operating theatre */
    if (t < 44)
        return -6; /* ambulance, November */
    if (t < 57)
        return 27; /* heated vehicle at the airport */
    if (t < 65)
        return -4;
    if (t < 205)
        return 16; /* cabin of the air ambulance */
    if (t < 241)
        return -12; /* Astana, by road */
    return 21;
}

static int64_t at(const struct report_fixture *f, double k, double base_min)
{
    return f->m.cross_clamp_at + (int64_t)llround(base_min * k * MIN_MS);
}

static void hash_entry(struct report_fixture *f, size_t i)
{
    char in[256];
    snprintf(in, sizeof in, "%s|%lld|%s|%lld", i ? f->hashes[i - 1] : "genesis",
             (long long)f->custody[i].index, f->custody[i].type, (long long)f->custody[i].ts);
    ot_sha256_hex(in, strlen(in), f->hashes[i]);
    f->custody[i].hash = f->hashes[i];
}

static void head(struct report_fixture *f)
{
    size_t n = f->m.n_custody;
    char a[65], b[65];
    ot_sha256_hex(f->hashes[n - 1], 64, a);
    ot_sha256_hex(a, 64, b);
    snprintf(f->head_sig, sizeof f->head_sig, "%s%s", a, b);
    f->m.head_index = f->custody[n - 1].index;
    f->m.head_hash = f->hashes[n - 1];
    f->m.head_signature = f->head_sig;
}

struct entry_spec {
    double at;
    const char *type, *actor, *role, *from, *to, *witness, *seal, *comment;
};

static const struct entry_spec trail[] = {
    {18, "packed", "demo-crew", "crew", "Procurement team, Oral regional hospital", NULL, NULL,
     "SEAL-KZ-WKO-0001", "label and seal checked"},
    {22, "handoff", "demo-crew", "crew", "Procurement team, Oral regional hospital",
     "Ambulance crew 7, Oral EMS station", "Duty nurse, Oral regional hospital", "SEAL-KZ-WKO-0001",
     NULL},
    {24, "departed", "demo-crew", "crew", "Ambulance crew 7, Oral EMS station", NULL, NULL, NULL,
     "left the donor hospital"},
    {63, "handoff", "demo-crew", "crew", "Ambulance crew 7, Oral EMS station",
     "Air ambulance crew, flight KC-7301", "Airport duty officer, Oral (URA)", "SEAL-KZ-WKO-0001",
     "seal intact; container was kept in the vehicle 13 min"},
    {205, "arrived", "demo-crew", "crew", "Air ambulance crew, flight KC-7301", NULL, NULL, NULL,
     "landed at Astana (NQZ)"},
    {212, "handoff", "demo-crew", "crew", "Air ambulance crew, flight KC-7301",
     "Ambulance crew 3, Astana EMS station", "Ground handler, Astana (NQZ)", "SEAL-KZ-WKO-0001",
     NULL},
    {241, "received", "demo-coordinator", "coordinator", "Ambulance crew 3, Astana EMS station",
     "Transplant team, National transplant centre", "Transplant coordinator on duty",
     "SEAL-KZ-WKO-0001", "label matches: heart, O+"},
    {246, "opened", "demo-coordinator", "coordinator", NULL, NULL, NULL, NULL,
     "seal broken for implantation"},
    {290, "reperfused", "demo-coordinator", "coordinator", NULL, NULL, NULL, NULL,
     "first anastomosis"},
    {300, "note", "demo-coordinator", "coordinator", NULL, NULL, NULL, NULL,
     "shipment closed: organ implanted"},
    /* a closed trail takes signatures and nothing else (SPEC v1.1) */
    {318, "signed", "Dr. Aigerim Nurlanovna", "coordinator", NULL, NULL, NULL, NULL, NULL},
    {334, "signed", "Marat Seitkali", "auditor", NULL, NULL, NULL, NULL, NULL},
};

static int readings(struct report_fixture *f, size_t n, int64_t step, double k)
{
    size_t cap = n ? n : (size_t)((BASE_LAST - BASE_FIRST) * MIN_MS / BASE_STEP_MS) + 1;
    f->readings = calloc(cap, sizeof *f->readings);
    if (!f->readings)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < cap; i++) {
        int64_t ts = at(f, k, BASE_FIRST) + (int64_t)i * step;
        double t = (double)(ts - f->m.cross_clamp_at) / (double)MIN_MS / k; /* base minutes */
        if (!n && t >= LOST_FROM && t < LOST_TO)
            continue; /* declared lost (realistic fixture only) */
        struct report_reading *r = &f->readings[o++];
        r->ts = ts;
        r->temp_c = round((product(t) + noise(0.03)) * 100) / 100;
        r->temp2_c = round((product(t) - 0.15 + noise(0.03)) * 100) / 100;
        r->ambient_c = round((ambient(t) + noise(0.2)) * 10) / 10;
    }
    f->m.readings = f->readings;
    f->m.n_readings = o;
    if (!n) { /* the loss, with the times of the readings either side */
        size_t j = 0;
        while (j + 1 < o && f->readings[j + 1].ts - f->readings[j].ts <= step)
            j++;
        f->gaps[0] = (struct report_gap){.from_seq = 1231,
                                         .to_seq = 1302,
                                         .from_ts = f->readings[j].ts,
                                         .to_ts = f->readings[j + 1].ts,
                                         .lost = 1};
        f->m.gaps = f->gaps;
        f->m.n_gaps = 1;
    }
    return 0;
}

int report_fixture_heart(struct report_fixture *f, size_t n, int64_t interval_ms)
{
    int64_t clamp;
    memset(f, 0, sizeof *f);
    rng_state = 20261123;
    if (ot_time_parse_iso("2026-11-23T03:40:00Z", &clamp))
        return -1;
    int64_t step = n ? interval_ms : BASE_STEP_MS;
    double k = n ? (double)n * (double)step / ((BASE_LAST - BASE_FIRST) * MIN_MS) : 1.0;
    struct report_model *m = &f->m;
    m->shipment_id = 1;
    m->donation_code = "KZ-DIN-A0001-26";
    m->profile = "heart";
    m->laterality = NULL;
    m->abo = "O+";
    m->container = "KZ-WKO-0001";
    m->mode = "mixed";
    m->status = "closed";
    m->origin = (struct report_place){"Oral regional hospital", 51.2333, 51.3667};
    m->destination = (struct report_place){"National transplant centre, Astana", 51.0906, 71.4183};
    m->cross_clamp_at = clamp;
    m->limit_min = 360;
    m->band_min_c = 2.0;
    m->band_max_c = 8.0;
    m->utc_offset_min = 300;
    if (readings(f, n, step, k))
        return -1;

    f->legs[0] = (struct report_leg){"ground",
                                     "Oral regional hospital",
                                     "Oral airport (URA)",
                                     at(f, k, 24),
                                     at(f, k, 50),
                                     "Oral EMS station",
                                     NULL};
    f->legs[1] = (struct report_leg){"air",        "Oral airport (URA)", "Astana airport (NQZ)",
                                     at(f, k, 65), at(f, k, 200),        "Medical aviation",
                                     "KC-7301"};
    f->legs[2] = (struct report_leg){
        "ground",      "Astana airport (NQZ)", "National transplant centre, Astana",
        at(f, k, 212), at(f, k, 240),          "Astana EMS station",
        NULL};
    m->legs = f->legs;
    m->n_legs = 3;

    f->alarms[0] = (struct report_alarm){.type = "temp_excursion",
                                         .severity = "critical",
                                         .raised_at = at(f, k, 57),
                                         .cleared_at = at(f, k, 58.5),
                                         .acked_at = at(f, k, 57.8),
                                         .acked_by = "demo-crew (crew)",
                                         .comment = "container taken out of the heated vehicle, "
                                                    "ice packs checked",
                                         .value = 9.0};
    f->alarms[1] = (struct report_alarm){.type = "gnss_lost",
                                         .severity = "info",
                                         .raised_at = at(f, k, 100),
                                         .cleared_at = at(f, k, 110),
                                         .value = NAN};
    m->alarms = f->alarms;
    m->n_alarms = 2;

    for (size_t i = 0; i < sizeof trail / sizeof trail[0]; i++) {
        const struct entry_spec *s = &trail[i];
        struct report_custody *c = &f->custody[i];
        c->index = (int64_t)i;
        c->ts = at(f, k, s->at);
        c->type = s->type;
        c->actor_name = s->actor;
        c->actor_role = s->role;
        c->from = s->from;
        c->to = s->to;
        c->witness = s->witness;
        c->seal = s->seal;
        c->comment = s->comment;
        c->temp_c = s->at <= BASE_LAST ? round(product(s->at) * 10) / 10 : NAN;
        m->n_custody = i + 1;
        hash_entry(f, i);
        if (strcmp(s->type, "reperfused") == 0) {
            m->ischemia_end_at = c->ts;
            m->ischemia_end_reperfusion = 1;
        }
    }
    m->custody = f->custody;
    f->signatures[0] = (struct report_signature){
        "Dr. Aigerim Nurlanovna",
        "coordinator",
        "released",
        "I release this record: the heart was kept at 2-8 °C except excursion E1, assessed as "
        "acceptable by the transplant team.",
        f->custody[10].ts,
        10};
    f->signatures[1] = (struct report_signature){
        "Marat Seitkali",
        "auditor",
        "reviewed",
        "Trail, readings and alarm acknowledgements reviewed; bundle verified offline.",
        f->custody[11].ts,
        11};
    m->signatures = f->signatures;
    m->n_signatures = 2;
    ot_sha256_hex("organtrack demo ledger key", 26, f->pubkey);
    m->public_key = f->pubkey;
    head(f);
    return 0;
}

int report_fixture_add_signature(struct report_fixture *f, const char *name, const char *meaning,
                                 const char *statement)
{
    size_t n = f->m.n_custody, s = f->m.n_signatures;
    if (n >= FIX_MAX_ENTRIES || s >= FIX_MAX_SIGNATURES)
        return -1;
    f->custody[n] = (struct report_custody){.index = (int64_t)n,
                                            .ts = f->custody[n - 1].ts + MIN_MS,
                                            .type = "signed",
                                            .actor_name = name,
                                            .actor_role = "auditor",
                                            .temp_c = NAN};
    f->m.n_custody = n + 1;
    hash_entry(f, n);
    head(f);
    f->signatures[s] = (struct report_signature){name,      "auditor",        meaning,
                                                 statement, f->custody[n].ts, (int64_t)n};
    f->m.n_signatures = s + 1;
    return 0;
}

void report_fixture_free(struct report_fixture *f)
{
    free(f->readings);
    f->readings = NULL;
}
