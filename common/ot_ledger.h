/* ot_ledger.h - the custody ledger (SPEC "Custody ledger", issue 6).
 * One hash chain per shipment in table `custody`; each entry's hash is
 * SHA-256 over a canonical encoding (docs/internals/ledger.md) that includes
 * prev_hash and the Merkle root of the readings of the interval since the
 * previous entry. The head is signed with the server's Ed25519 key.
 * Used by organtrack-api (append, export) and organtrack-ledger (verify).
 * Implementation: common/ot_ledger_*.c, one file per job, listed in
 * ot_ledger_int.h (owned by the ledger work). */
#ifndef OT_LEDGER_H
#define OT_LEDGER_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "ot_err.h"

struct ot_ledger_key; /* opaque: Ed25519 key pair (EVP_PKEY) */
struct ot_sql;        /* a connection (ot_sql.h): SQLite or PostgreSQL */

/* Loads the private key from path, generating it (mode 0600) if absent. */
enum ot_err ot_ledger_key_load(const char *path, struct ot_ledger_key **out);
void ot_ledger_key_free(struct ot_ledger_key *k);
/* Public key as 64 hex chars + NUL. */
void ot_ledger_key_public_hex(const struct ot_ledger_key *k, char out[65]);

/* A custody event as submitted (API body already validated for shape). */
struct ot_custody_input {
    const char *type; /* packed handoff departed arrived received opened discarded note */
    const char *actor_name, *actor_role;
    const char *from_party, *to_party, *witness; /* may be NULL */
    int has_place;
    double lat, lon;
    const char *seal, *comment; /* may be NULL */
    int64_t ts;                 /* server time, epoch ms */
    /* type "signed" only (v1.1): released | reviewed | rejected; the
     * printed name and role are actor_*, the statement is comment */
    const char *meaning;
};

/* Appends one entry for shipment_id: checks the sequence is possible
 * (received before departed, hand-off to the same party, closed shipment,
 * hand-off without witness -> OT_ERR_CONFLICT or OT_ERR_INVAL with a reason
 * in `why`), takes the container temperature from the latest reading,
 * computes the readings digest since the previous entry, hashes, stores,
 * signs the new head. It runs inside the caller's transaction and neither
 * begins nor commits one: the caller (the API's request) begins, appends,
 * writes the entry's consequences (status, event, audit) and commits them
 * together, or rolls everything back on any failure, so there is never an
 * entry without its consequences or the reverse. After a failure the
 * transaction must be rolled back. On success *entry_out (if not NULL) is
 * the stored entry as JSON (caller frees with cJSON_Delete). */
enum ot_err ot_ledger_append(struct ot_sql *db, const struct ot_ledger_key *key,
                             int64_t shipment_id, const struct ot_custody_input *in,
                             cJSON **entry_out, char *why, size_t whylen);

/* The trail as a JSON array of entries (caller frees). */
enum ot_err ot_ledger_entries(struct ot_sql *db, int64_t shipment_id, cJSON **out);

/* Exports: bundle (self-contained JSON that `organtrack-ledger verify`
 * accepts), EPCIS 2.0 JSON-LD document, CSV. *out malloc'd, caller frees. */
enum ot_err ot_ledger_export_bundle(struct ot_sql *db, int64_t shipment_id, char **out,
                                    size_t *len);
enum ot_err ot_ledger_export_epcis(struct ot_sql *db, int64_t shipment_id, char **out, size_t *len);
enum ot_err ot_ledger_export_csv(struct ot_sql *db, int64_t shipment_id, char **out, size_t *len);

/* Verification result: ok, counts, or the first bad entry and why. */
struct ot_ledger_report {
    int ok;
    int64_t shipments, entries, readings;
    int64_t bad_shipment, bad_index; /* -1 when not applicable */
    char why[256];
};
/* Verifies a bundle (JSON text) or every shipment of a database. */
enum ot_err ot_ledger_verify_bundle(const char *json, size_t len, struct ot_ledger_report *rep);
enum ot_err ot_ledger_verify_db(struct ot_sql *db, struct ot_ledger_report *rep);

/* Added by the ledger work (additive; the declarations above are fixed). */

/* "format" of an exported bundle. */
#define OT_LEDGER_BUNDLE_FORMAT "organtrack-custody-bundle-v1"

/* As the functions above, but when pubkey_hex (64 hex chars) is not NULL
 * the head must be signed by that key: a re-signed trail is caught. */
enum ot_err ot_ledger_verify_bundle_key(const char *json, size_t len, const char *pubkey_hex,
                                        struct ot_ledger_report *rep);
enum ot_err ot_ledger_verify_db_key(struct ot_sql *db, const char *pubkey_hex,
                                    struct ot_ledger_report *rep);

#endif
