/* ot_reading.h - the readings batch of SPEC, shared by gateway (encode) and
 * collector (decode). Decoding is strict: every key is checked for type and
 * range, the container must match [A-Za-z0-9_-]{1,64}, the payload and the
 * number of readings are capped. A channel that was not read is absent
 * (bit clear in `present`), never a made-up value. */
#ifndef OT_READING_H
#define OT_READING_H

#include <stddef.h>
#include <stdint.h>

#include "ot_err.h"

#define OT_BATCH_MAX_BYTES (256 * 1024)
#define OT_BATCH_MAX_READINGS 1000
#define OT_EXTRA_MAX 8 /* extra (non-canonical) channels per reading */
#define OT_CHANNEL_NAME_MAX 32
#define OT_LOST_MAX 32                /* lost ranges declared per batch */
#define OT_ID_MAX 64                  /* container and gateway ids */
#define OT_SEQ_MAX 9007199254740991LL /* 2^53-1: exact in JSON numbers */

enum ot_channel {
    OT_CH_TEMP = 0, /* temp_c, product temperature */
    OT_CH_TEMP2,    /* temp2_c */
    OT_CH_AMBIENT,  /* ambient_c */
    OT_CH_LAT,      /* lat */
    OT_CH_LON,      /* lon */
    OT_CH_ALT,      /* alt_m */
    OT_CH_SPEED,    /* speed_kmh */
    OT_CH_HEADING,  /* heading_deg */
    OT_CH_LID,      /* lid_open (bool: 0/1) */
    OT_CH_SHOCK,    /* shock_g */
    OT_CH_BATTERY,  /* battery_pct */
    OT_CH_GNSS,     /* gnss_fix (integer 0..9) */
    OT_CH__COUNT
};

struct ot_channel_info {
    const char *name;
    double min, max;
    int is_bool, is_int;
};

/* Canonical channel table, indexed by enum ot_channel. */
extern const struct ot_channel_info ot_channels[OT_CH__COUNT];
/* Index of a canonical channel name, or -1. */
int ot_channel_find(const char *name);

struct ot_extra {
    char name[OT_CHANNEL_NAME_MAX + 1];
    double value;
    int is_bool;
};

struct ot_reading {
    int64_t seq;      /* per gateway, strictly increasing */
    int64_t ts;       /* epoch ms UTC when sampled */
    uint32_t present; /* bit (1u << ot_channel) set when the channel was read */
    uint32_t missing; /* bit set when the gateway declares the channel unreadable
                       * ("missing":["temp_c",…]): temp_c must be present or missing */
    double v[OT_CH__COUNT];
    size_t n_extra;
    struct ot_extra extra[OT_EXTRA_MAX];
};

struct ot_seq_range {
    int64_t from, to; /* inclusive */
};

struct ot_batch {
    char container[OT_ID_MAX + 1];
    char gateway[OT_ID_MAX + 1];
    int64_t boot;
    size_t n;                    /* readings used */
    size_t cap;                  /* readings allocated */
    struct ot_reading *readings; /* owned; ot_batch_free() */
    size_t n_lost;
    struct ot_seq_range lost[OT_LOST_MAX];
};

/* Why a decode failed: `reason` is a short static code for counting
 * ("json", "too_large", "schema", "version", "container", "range",
 * "too_many", "order"), `detail` names the key. */
struct ot_decode_error {
    const char *reason;
    char detail[192];
};

static inline int ot_reading_has(const struct ot_reading *r, enum ot_channel ch)
{
    return (r->present >> ch) & 1u;
}
static inline void ot_reading_set(struct ot_reading *r, enum ot_channel ch, double v)
{
    r->v[ch] = v;
    r->present |= 1u << ch;
}

/* 1 if s matches [A-Za-z0-9_-]{1,64}. */
int ot_id_valid(const char *s);
/* 1 if s matches [a-z][a-z0-9_]{0,31} (extra channel names). */
int ot_channel_name_valid(const char *s);

/* Decodes a payload of len bytes (not NUL-terminated necessarily).
 * On success out owns its readings (ot_batch_free). On failure out is left
 * empty and err says why. */
enum ot_err ot_batch_decode(const char *buf, size_t len, struct ot_batch *out,
                            struct ot_decode_error *err);
void ot_batch_free(struct ot_batch *b);

/* Adds a reading slot (grows the array up to OT_BATCH_MAX_READINGS). */
enum ot_err ot_batch_push(struct ot_batch *b, const struct ot_reading *r);

/* Encodes a batch as SPEC JSON; *out is malloc'd (caller frees). */
enum ot_err ot_batch_encode(const struct ot_batch *b, char **out, size_t *len);

/* Encodes one reading as a JSON object string (used by API and stores);
 * caller frees. */
enum ot_err ot_reading_encode(const struct ot_reading *r, char **out);

#endif
