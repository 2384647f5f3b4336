/* ot_ledger.c - custody ledger (stub being filled in; see ot_ledger.h). */
#include "ot_ledger.h"

#include <stdlib.h>
#include <string.h>

struct ot_ledger_key {
    int unused;
};

enum ot_err ot_ledger_key_load(const char *path, struct ot_ledger_key **out)
{
    (void)path;
    *out = NULL;
    return OT_ERR_NOTFOUND;
}

void ot_ledger_key_free(struct ot_ledger_key *k)
{
    free(k);
}

void ot_ledger_key_public_hex(const struct ot_ledger_key *k, char out[65])
{
    (void)k;
    memset(out, '0', 64);
    out[64] = '\0';
}

enum ot_err ot_ledger_append(sqlite3 *db, const struct ot_ledger_key *key, int64_t shipment_id,
                             const struct ot_custody_input *in, cJSON **entry_out, char *why,
                             size_t whylen)
{
    (void)db, (void)key, (void)shipment_id, (void)in;
    if (entry_out)
        *entry_out = NULL;
    if (why && whylen)
        why[0] = '\0';
    return OT_ERR_NOTFOUND;
}

enum ot_err ot_ledger_entries(sqlite3 *db, int64_t shipment_id, cJSON **out)
{
    (void)db, (void)shipment_id;
    *out = NULL;
    return OT_ERR_NOTFOUND;
}

enum ot_err ot_ledger_export_bundle(sqlite3 *db, int64_t shipment_id, char **out, size_t *len)
{
    (void)db, (void)shipment_id;
    *out = NULL;
    *len = 0;
    return OT_ERR_NOTFOUND;
}

enum ot_err ot_ledger_export_epcis(sqlite3 *db, int64_t shipment_id, char **out, size_t *len)
{
    (void)db, (void)shipment_id;
    *out = NULL;
    *len = 0;
    return OT_ERR_NOTFOUND;
}

enum ot_err ot_ledger_export_csv(sqlite3 *db, int64_t shipment_id, char **out, size_t *len)
{
    (void)db, (void)shipment_id;
    *out = NULL;
    *len = 0;
    return OT_ERR_NOTFOUND;
}

enum ot_err ot_ledger_verify_bundle(const char *json, size_t len, struct ot_ledger_report *rep)
{
    (void)json, (void)len;
    memset(rep, 0, sizeof *rep);
    rep->bad_shipment = rep->bad_index = -1;
    return OT_ERR_NOTFOUND;
}

enum ot_err ot_ledger_verify_db(sqlite3 *db, struct ot_ledger_report *rep)
{
    (void)db;
    memset(rep, 0, sizeof *rep);
    rep->bad_shipment = rep->bad_index = -1;
    return OT_ERR_NOTFOUND;
}
