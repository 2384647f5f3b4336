/* report_model.h - the shipment report's data model (SPEC v1.1 "Shipment
 * report and e-signatures", issue 13): everything the PDF shows, as plain C
 * data, with no database and no HTTP in sight. The API fills one from the
 * stored shipment, readings, gaps, alarms and custody trail, and hands it to
 * report_pdf_render (report.h).
 *
 * Ownership: the model owns nothing. Every pointer is the caller's and must
 * stay valid for the duration of the call it is passed to; the renderer
 * never frees, keeps or changes any of it. A NULL string is "not recorded"
 * (shown as a dash), a 0 time is "not recorded", NaN is a channel that was
 * not read. Times are epoch milliseconds UTC.
 *
 * Never a patient's identity: the shipment is named by its donation code;
 * there is no field for a name, a birth date or a record number, and none
 * may be smuggled into a comment by the caller. */
#ifndef REPORT_MODEL_H
#define REPORT_MODEL_H

#include <stddef.h>
#include <stdint.h>

/* Caps the renderer enforces (OT_ERR_TOOBIG beyond them): a hostile or
 * broken model cannot make it allocate or draw without bound. */
#define REPORT_MAX_READINGS 2000000u /* 23 days at one reading a second */
#define REPORT_MAX_ROWS 5000u        /* legs, gaps, alarms, custody entries, signatures */
#define REPORT_MAX_PDF_BYTES (64u * 1024u * 1024u)

enum report_lang { REPORT_LANG_KK = 0, REPORT_LANG_RU, REPORT_LANG_EN, REPORT_LANG__COUNT };

struct report_place {
    const char *name;
    double lat, lon; /* NaN = unknown */
};

/* A planned leg (shipment create/PATCH "legs"). */
struct report_leg {
    const char *mode; /* "ground" | "air" */
    const char *from, *to;
    int64_t planned_departure, planned_arrival; /* 0 = not planned */
    const char *carrier, *flight;               /* may be NULL */
};

/* One stored reading; only the temperature channels are drawn. */
struct report_reading {
    int64_t ts;
    double temp_c;    /* product probe; NaN = not read (declared missing) */
    double temp2_c;   /* second product probe, NaN = absent */
    double ambient_c; /* NaN = absent */
};

/* A hole in the gateway's sequence numbers (table seq_gaps). from_ts/to_ts
 * are the times of the readings either side, when known (0 otherwise). */
struct report_gap {
    int64_t from_seq, to_seq; /* inclusive */
    int64_t from_ts, to_ts;
    int lost; /* 1: the gateway declared these readings lost ("lost");
               * 0: they never arrived ("gap") */
};

/* An alarm as stored (table alarms). */
struct report_alarm {
    const char *type;                        /* temp_excursion, ischemia_limit, ... */
    const char *severity;                    /* info | warning | critical */
    int64_t raised_at, cleared_at, acked_at; /* 0 = not (yet) */
    const char *acked_by;                    /* "name (role)", NULL = not acknowledged */
    const char *comment;                     /* the acknowledgement's comment */
    double value;                            /* NaN = none */
};

/* One custody ledger entry (ot_ledger_entries). */
struct report_custody {
    int64_t index;
    int64_t ts;
    const char *type; /* packed handoff departed arrived received opened ... signed note */
    const char *actor_name, *actor_role;
    const char *from, *to, *witness, *seal, *comment; /* may be NULL */
    double temp_c;                                    /* container temperature, NaN = none */
    const char *hash;                                 /* 64 hex */
};

/* An electronic signature (a `signed` ledger entry, 21 CFR 11.50). */
struct report_signature {
    const char *name;      /* printed name (the token's name) */
    const char *role;      /* coordinator | auditor */
    const char *meaning;   /* released | reviewed | rejected */
    const char *statement; /* free text the signer confirmed */
    int64_t ts;
    int64_t index; /* its ledger entry, -1 = unknown */
};

struct report_model {
    int64_t shipment_id;
    /* identity: never a patient */
    const char *donation_code;
    const char *profile;    /* preservation profile / content: heart, kidney, ... */
    const char *laterality; /* left | right | both | NULL */
    const char *abo;        /* O, A, B, AB with optional +/-, NULL = not given */
    const char *container;
    const char *mode;   /* ground | air | mixed */
    const char *status; /* created in_transit delivered closed discarded */
    /* route */
    struct report_place origin, destination;
    const struct report_leg *legs;
    size_t n_legs;
    /* cold ischaemia */
    int64_t cross_clamp_at;
    int64_t ischemia_end_at;      /* 0 = not ended */
    int ischemia_end_reperfusion; /* 1: ended by a `reperfused` entry; 0: at delivery */
    int64_t limit_min;            /* profile's max_cold_ischemia_min */
    /* preservation band */
    double band_min_c, band_max_c;
    /* readings, ordered by (ts, seq); statistics use every one of them */
    const struct report_reading *readings;
    size_t n_readings;
    /* consecutive product readings further apart than this are a gap: not
     * drawn as a line, not counted in time outside the band. 0 = automatic
     * (five times the median spacing, at least 30 s; report_stats.c). */
    int64_t gap_ms;
    const struct report_gap *gaps;
    size_t n_gaps;
    const struct report_alarm *alarms;
    size_t n_alarms;
    /* the custody trail in index order; its last entry's time is the
     * report's time (report_model_time) */
    const struct report_custody *custody;
    size_t n_custody;
    const struct report_signature *signatures;
    size_t n_signatures;
    /* the signed ledger head */
    int64_t head_index;
    const char *head_hash;      /* 64 hex */
    const char *head_signature; /* 128 hex, Ed25519 over the head */
    const char *public_key;     /* 64 hex, the server's Ed25519 key */
    /* how times are printed: minutes east of UTC (Kazakhstan: +300). The
     * offset is printed with every time, so the report stays unambiguous. */
    int utc_offset_min;
};

#endif
