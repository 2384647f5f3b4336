/* ot_ledger_int.h - internals shared by the ledger's files. Not for use
 * outside the ledger. What is hashed and signed: docs/internals/ledger.md.
 *   ot_ledger_encode.c  canonical encoding, hashes, readings Merkle root,
 *                       shared helpers (the explanatory header is there)
 *   ot_ledger_key.c     the Ed25519 key: load/generate, sign and verify heads
 *   ot_ledger_store.c   reading shipment, entries, readings, heads (ot_sql)
 *   ot_ledger_json.c    entries and readings as JSON; ot_ledger_entries
 *   ot_ledger_append.c  ot_ledger_append (the only part that writes)
 *   ot_ledger_verify.c  chain and head checks; ot_ledger_verify_db
 *   ot_ledger_bundle.c  bundle parsing; ot_ledger_verify_bundle
 *   ot_ledger_export.c  bundle, EPCIS and CSV exports
 * Everything but ot_ledger_append.c is the library ot_ledger, which
 * organtrack-ledger links (common/CMakeLists.txt). Names: cross-file
 * internals are ot_lg__verb (the project's module__verb form); the ot_lg_*
 * ones predate the split and kept their names; the rest is static. */
#ifndef OT_LEDGER_INT_H
#define OT_LEDGER_INT_H

#include <cjson/cJSON.h>
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
    char *meaning; /* `signed` entries only: released | reviewed | rejected */
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

/* Canonical encodings are built in a capped buffer (entries and readings
 * are small). */
#define OT_LG_BUF_MAX (64 * 1024)

/* Columns of table custody in the order of struct ot_lg_entry. */
#define OT_LG_ENTRY_COLS                                                                           \
    "shipment_id, idx, ts, type, actor_name, actor_role, from_party, to_party, witness,"           \
    " lat, lon, temp_c, temp_ts, seal, comment, readings_count, readings_from_seq,"                \
    " readings_to_seq, readings_root, prev_hash, hash, meaning"

/* Leaf hashes of one interval's readings (h malloc'd, caller frees) and the
 * seq range they cover. */
struct ot_lg_leaves {
    uint8_t (*h)[32];
    size_t n, cap;
    int64_t min_seq, max_seq;
};

struct ot_buf;
struct ot_ledger_key;
struct ot_ledger_report;
struct ot_sql;
struct ot_sql_stmt;

/* ---- ot_ledger_encode.c */

/* strdup (NULL for NULL or out of memory) */
char *ot_lg__dupstr(const char *s);

/* Canonical number text (docs/internals/ledger.md): integral values up to
 * 2^53 as %lld, others as %.15g. */
void ot_lg_num_text(double v, char out[40]);

void ot_lg_shipment_clear(struct ot_lg_shipment *s);
void ot_lg_entry_clear(struct ot_lg_entry *e);
void ot_lg_entries_free(struct ot_lg_entry *v, size_t n);

/* SHA-256 (lowercase hex) of the genesis record: entry 0's prev_hash. */
enum ot_err ot_lg__genesis_hash(const struct ot_lg_shipment *s, char hex[65]);
/* SHA-256 (lowercase hex) of an entry's canonical encoding. */
enum ot_err ot_lg__entry_hash(const struct ot_lg_entry *e, char hex[65]);
/* The signed head message (shipment, index, hash). */
void ot_lg__head_message(struct ot_buf *b, int64_t shipment, int64_t idx, const char *hash);

/* Adds the leaf hash of r and widens the seq range. */
enum ot_err ot_lg__leaves_push(struct ot_lg_leaves *l, const struct ot_lg_reading *r);
void ot_lg__leaves_reset(struct ot_lg_leaves *l);
/* RFC 6962 Merkle Tree Hash of the leaves, lowercase hex. */
enum ot_err ot_lg__leaves_root(const struct ot_lg_leaves *l, char hex[65]);

/* ---- ot_ledger_key.c */

enum ot_err ot_lg__sign_head(const struct ot_ledger_key *k, int64_t shipment, int64_t idx,
                             const char *hash, char sig_hex[129]);
/* 1 = valid, 0 = invalid, -1 = malformed key or signature text */
int ot_lg__verify_head(const char *pub_hex, int64_t shipment, int64_t idx, const char *hash,
                       const char *sig_hex);

/* ---- ot_ledger_store.c */

/* The connection's statement for sql, reset and ready to bind: prepared
 * once per connection (ot_sql_prepare_cached), so an append or a verify
 * prepares nothing after the first. Reset it when done (on SQLite an
 * unfinished statement holds its read snapshot). Logs a failure. */
enum ot_err ot_lg__stmt(struct ot_sql *db, const char *sql, struct ot_sql_stmt **st);
/* A column as a number that may be absent (NULL). */
struct ot_lg_num ot_lg__col_num(const struct ot_sql_stmt *st, int i);
/* Binds a number that may be absent: integral values as integers. */
enum ot_err ot_lg__bind_num(struct ot_sql_stmt *st, int i, const struct ot_lg_num *n);

enum ot_err ot_lg_load_shipment(struct ot_sql *db, int64_t id, struct ot_lg_shipment *out);
/* All entries of a shipment ordered by idx (*v malloc'd; ot_lg_entries_free). */
enum ot_err ot_lg_load_entries(struct ot_sql *db, int64_t shipment_id, struct ot_lg_entry **v,
                               size_t *n);

/* The readings covered by entry (shipment, idx), in canonical order: *st
 * is bound and ready to step (ot_sql_step); read each row with
 * ot_lg_reading_row (its text is borrowed until the next step) and reset
 * *st when done. */
enum ot_err ot_lg_readings_open(struct ot_sql *db, int64_t shipment, int64_t idx,
                                struct ot_sql_stmt **st);
void ot_lg_reading_row(const struct ot_sql_stmt *st, int64_t idx, struct ot_lg_reading *r);

/* Digest of the readings linked to entry (shipment, idx) in the database. */
enum ot_err ot_lg__db_interval_digest(struct ot_sql *db, int64_t shipment, int64_t idx,
                                      struct ot_lg_leaves *l, char root[65]);

/* Latest signed head of a shipment (OT_ERR_NOTFOUND: none). */
enum ot_err ot_lg_load_head(struct ot_sql *db, int64_t shipment_id, int64_t *idx, char hash[65],
                            char sig[129], char pub[65]);

/* ---- ot_ledger_json.c */

cJSON *ot_lg_entry_json(const struct ot_lg_entry *e);
cJSON *ot_lg_reading_json(const struct ot_lg_reading *r);

/* ---- ot_ledger_verify.c (used by ot_ledger_bundle.c) */

void ot_lg__rep_init(struct ot_ledger_report *rep);
/* Records the first failure only. */
void ot_lg__rep_fail(struct ot_ledger_report *rep, int64_t shipment, int64_t idx, const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));

/* Fills l (n, min_seq, max_seq) and root for the readings the source says
 * entry idx covers. */
typedef enum ot_err (*ot_lg_digest_fn)(void *ctx, int64_t idx, struct ot_lg_leaves *l,
                                       char root[65]);

enum ot_err ot_lg__check_chain(const struct ot_lg_shipment *sh, const struct ot_lg_entry *v,
                               size_t n, ot_lg_digest_fn digest, void *dctx,
                               struct ot_ledger_report *rep);
/* Checks the signed head against the last entry; pin: expected public key
 * or NULL. */
void ot_lg__check_head(const struct ot_lg_shipment *sh, const struct ot_lg_entry *v, size_t n,
                       int64_t hidx, const char *hhash, const char *sig, const char *pub,
                       const char *pin, struct ot_ledger_report *rep);

#endif
