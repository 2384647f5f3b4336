/* report_fixture.h - a realistic report model for tests and benchmarks:
 * the demo's heart (KZ-DIN-A0001-26), Oral -> Astana by medical aviation,
 * cross-clamp 18 minutes before packing, an excursion above the band while
 * the container waits at Oral airport, a six-minute hole in the readings
 * the gateway declared lost, hand-offs with witnesses and seals,
 * reperfusion, the close, a coordinator's and an auditor's signature.
 * Everything is computed (a fixed-seed generator), nothing is read. */
#ifndef REPORT_FIXTURE_H
#define REPORT_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "report_model.h"

#define FIX_MAX_ENTRIES 24
#define FIX_MAX_SIGNATURES 4

struct report_fixture {
    struct report_model m;
    struct report_reading *readings; /* owned */
    struct report_leg legs[3];
    struct report_gap gaps[1];
    struct report_alarm alarms[2];
    struct report_custody custody[FIX_MAX_ENTRIES];
    struct report_signature signatures[FIX_MAX_SIGNATURES];
    char hashes[FIX_MAX_ENTRIES][65];
    char head_sig[129];
    char pubkey[65];
};

/* n_readings = 0: the realistic shipment (one reading every 5 s over 3 h
 * 50 min); otherwise that many readings interval_ms apart, the same story
 * stretched over their span (the 86,400-reading benchmark). 0 on success;
 * free with report_fixture_free. */
int report_fixture_heart(struct report_fixture *f, size_t n_readings, int64_t interval_ms);
void report_fixture_free(struct report_fixture *f);
/* Appends a `signed` entry (an auditor's signature) one minute after the
 * last entry and moves the head to it: the trail changed. 0 on success. */
int report_fixture_add_signature(struct report_fixture *f, const char *name, const char *meaning,
                                 const char *statement);

#endif
