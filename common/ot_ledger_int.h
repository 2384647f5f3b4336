/* ot_ledger_int.h - internals shared by the ledger's files (ot_ledger.c:
 * canonical encoding, hashing, signing, append, verify; ot_ledger_export.c:
 * bundle, EPCIS and CSV). Not for use outside libot's ledger. */
#ifndef OT_LEDGER_INT_H
#define OT_LEDGER_INT_H

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "ot_err.h"

#define OT_LG_FIELD_MAX 4096 /* bytes in one text field of an entry */
#define OT_LG_NCH 12         /* reading channels, in canonical order */

/* A number that may be absent (SQL NULL / JSON null). */
struct ot_lg_num {
    int set;
    double v;
};

/* The immutable identity of a shipment the genesis hash commits to. */
struct ot_lg_shipment {
    int64_t id;
    char *container, *profile, *donation_code; /* owned */
    int64_t cross_clamp_at, created_at;
};

/* One custody entry; every text pointer is owned (NULL = absent). */
struct ot_lg_entry {
    int64_t shipment, index, ts;
    char *type, *actor_name, *actor_role, *from, *to, *witness, *seal, *comment;
    struct ot_lg_num lat, lon, temp_c, temp_ts;
    int64_t readings_count;
    struct ot_lg_num readings_from_seq, readings_to_seq;
    char readings_root[65], prev_hash[65], hash[65];
};

/* One reading as committed to by a leaf; text pointers are borrowed. */
struct ot_lg_reading {
    int64_t entry; /* index of the covering custody entry */
    const char *container, *gateway;
    int64_t seq, boot, ts;
    struct ot_lg_num ch[OT_LG_NCH];
    const char *missing, *extra; /* stored JSON text or NULL */
};

/* Column / key names of the reading channels, canonical order. */
extern const char *const ot_lg_channel_names[OT_LG_NCH];

/* Canonical number text (docs/internals/ledger.md): integral values up to
 * 2^53 as %lld, others as %.15g. */
void ot_lg_num_text(double v, char out[40]);

void ot_lg_shipment_clear(struct ot_lg_shipment *s);
void ot_lg_entry_clear(struct ot_lg_entry *e);
void ot_lg_entries_free(struct ot_lg_entry *v, size_t n);

enum ot_err ot_lg_load_shipment(sqlite3 *db, int64_t id, struct ot_lg_shipment *out);
/* All entries of a shipment ordered by idx (*v malloc'd; ot_lg_entries_free). */
enum ot_err ot_lg_load_entries(sqlite3 *db, int64_t shipment_id, struct ot_lg_entry **v, size_t *n);

/* Statement over the readings covered by entry (shipment, idx), in
 * canonical order; bind with ot_lg_readings_bind, step, read with
 * ot_lg_reading_row. */
enum ot_err ot_lg_readings_prepare(sqlite3 *db, sqlite3_stmt **st);
void ot_lg_readings_bind(sqlite3_stmt *st, int64_t shipment, int64_t idx);
void ot_lg_reading_row(sqlite3_stmt *st, int64_t idx, struct ot_lg_reading *r);

cJSON *ot_lg_entry_json(const struct ot_lg_entry *e);
cJSON *ot_lg_reading_json(const struct ot_lg_reading *r);

/* Latest signed head of a shipment. */
enum ot_err ot_lg_load_head(sqlite3 *db, int64_t shipment_id, int64_t *idx, char hash[65],
                            char sig[129], char pub[65]);

#endif
