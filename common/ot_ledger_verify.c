/* ot_ledger_verify.c - checking a custody trail: the chain (index, genesis,
 * prev_hash, readings digest, hash), the newest signed head and, for a
 * database, every earlier head; ot_ledger_verify_db. The checks are shared
 * with bundle verification (ot_ledger_bundle.c). */
#include "ot_ledger.h"
#include "ot_ledger_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ot_sql.h"

/* -------------------------------------------------------------- verify */

void ot_lg__rep_init(struct ot_ledger_report *rep)
{
    memset(rep, 0, sizeof *rep);
    rep->ok = 1;
    rep->bad_shipment = rep->bad_index = -1;
}

void ot_lg__rep_fail(struct ot_ledger_report *rep, int64_t shipment, int64_t idx, const char *fmt,
                     ...)
{
    va_list ap;
    if (!rep->ok)
        return; /* keep the first failure */
    rep->ok = 0;
    rep->bad_shipment = shipment;
    rep->bad_index = idx;
    va_start(ap, fmt);
    vsnprintf(rep->why, sizeof rep->why, fmt, ap);
    va_end(ap);
}

static int num_eq(const struct ot_lg_num *a, int set, int64_t v)
{
    return a->set == set && (!set || a->v == (double)v);
}

/* Checks one chain. digest(i) fills leaves and root for the readings the
 * source says entry i covers. Returns OT_OK with rep->ok cleared on a bad
 * entry; an error code only if verification itself could not run. */
enum ot_err ot_lg__check_chain(const struct ot_lg_shipment *sh, const struct ot_lg_entry *v,
                               size_t n, ot_lg_digest_fn digest, void *dctx,
                               struct ot_ledger_report *rep)
{
    char prev[65], h[65], root[65];
    struct ot_lg_leaves l = {0};
    enum ot_err rc = ot_lg__genesis_hash(sh, prev);
    if (rc)
        return rc;
    for (size_t i = 0; i < n && rep->ok; i++) {
        const struct ot_lg_entry *e = &v[i];
        int64_t idx = (int64_t)i;
        if (e->index != idx) {
            ot_lg__rep_fail(
                rep, sh->id, idx,
                "index %lld found where %lld was expected (an entry was removed, inserted "
                "or reordered)",
                (long long)e->index, (long long)idx);
            break;
        }
        if (e->shipment != sh->id) {
            ot_lg__rep_fail(rep, sh->id, idx, "entry names shipment %lld", (long long)e->shipment);
            break;
        }
        if (strcmp(e->prev_hash, prev) != 0) {
            ot_lg__rep_fail(rep, sh->id, idx, "prev_hash does not match the hash of %s",
                            i ? "the previous entry" : "the shipment's genesis record");
            break;
        }
        if ((rc = digest(dctx, idx, &l, root)))
            goto out;
        if (e->readings_count != (int64_t)l.n) {
            ot_lg__rep_fail(rep, sh->id, idx,
                            "readings digest: entry commits to %lld readings, %zu present",
                            (long long)e->readings_count, l.n);
            break;
        }
        if (!num_eq(&e->readings_from_seq, l.n > 0, l.min_seq) ||
            !num_eq(&e->readings_to_seq, l.n > 0, l.max_seq)) {
            ot_lg__rep_fail(rep, sh->id, idx,
                            "readings digest: seq range differs from the readings");
            break;
        }
        if (strcmp(e->readings_root, root) != 0) {
            ot_lg__rep_fail(rep, sh->id, idx,
                            "readings digest: Merkle root differs (a reading was changed, removed, "
                            "added or reordered)");
            break;
        }
        if ((rc = ot_lg__entry_hash(e, h)))
            goto out;
        if (strcmp(e->hash, h) != 0) {
            ot_lg__rep_fail(rep, sh->id, idx, "hash mismatch: the entry's content was changed");
            break;
        }
        snprintf(prev, sizeof prev, "%s", e->hash);
        rep->readings += (int64_t)l.n;
    }
    if (rep->ok) {
        rep->entries += (int64_t)n;
        rep->shipments++;
    }
out:
    free(l.h);
    return rc;
}

/* Checks the signed head against the last entry. */
void ot_lg__check_head(const struct ot_lg_shipment *sh, const struct ot_lg_entry *v, size_t n,
                       int64_t hidx, const char *hhash, const char *sig, const char *pub,
                       const char *pin, struct ot_ledger_report *rep)
{
    int64_t last = (int64_t)n - 1;
    if (!rep->ok)
        return;
    if (hidx > last) {
        ot_lg__rep_fail(rep, sh->id, last + 1,
                        "entry missing: the signed head is index %lld but the trail ends at %lld",
                        (long long)hidx, (long long)last);
        return;
    }
    if (hidx < last) {
        ot_lg__rep_fail(rep, sh->id, hidx + 1,
                        "entry not covered by the signed head (head index %lld)", (long long)hidx);
        return;
    }
    if (n == 0)
        return;
    if (strcmp(hhash, v[last].hash) != 0) {
        ot_lg__rep_fail(rep, sh->id, last, "the signed head's hash differs from the entry's hash");
        return;
    }
    if (pin && strcasecmp(pin, pub) != 0) {
        ot_lg__rep_fail(rep, sh->id, last, "head signed by public key %.64s, not the expected key",
                        pub);
        return;
    }
    int ok = ot_lg__verify_head(pub, sh->id, hidx, hhash, sig);
    if (ok != 1)
        ot_lg__rep_fail(rep, sh->id, last, "%s",
                        ok < 0 ? "malformed head signature or public key"
                               : "head signature does not verify with the public key");
}

/* Every earlier signed head must still sign the hash of the entry at its
 * index: a chain rewritten from entry k on and re-signed only at its end
 * (with whatever key) is named at k, even without a pinned key. Each head
 * verifies with the key stored with it (a rotated key stays valid for the
 * heads it signed); the pin applies to the newest head (ot_lg__check_head). */
static enum ot_err check_old_heads(struct ot_sql *db, const struct ot_lg_shipment *sh,
                                   const struct ot_lg_entry *v, size_t n,
                                   struct ot_ledger_report *rep)
{
    struct ot_sql_stmt *st = NULL;
    int row = 0;
    enum ot_err rc = ot_lg__stmt(db,
                                 "SELECT idx, hash, signature, public_key FROM ledger_heads"
                                 " WHERE shipment_id=?1 AND idx<?2 ORDER BY idx",
                                 &st);
    if (rc)
        return rc;
    if ((rc = ot_sql_bind_int64(st, 1, sh->id)) || (rc = ot_sql_bind_int64(st, 2, (int64_t)n - 1)))
        goto out;
    while (rep->ok && !(rc = ot_sql_step(st, &row)) && row) {
        int64_t idx = ot_sql_int64(st, 0);
        const char *h = ot_sql_text(st, 1);
        const char *sig = ot_sql_text(st, 2);
        const char *pub = ot_sql_text(st, 3);
        if (idx < 0)
            continue;
        if (!h || strcmp(h, v[idx].hash) != 0) {
            ot_lg__rep_fail(rep, sh->id, idx,
                            "the head signed at this index has a different hash (entry rewritten)");
            break;
        }
        if (ot_lg__verify_head(pub ? pub : "", sh->id, idx, h, sig ? sig : "") != 1)
            ot_lg__rep_fail(rep, sh->id, idx, "the head signed at this index does not verify");
    }
out:
    ot_sql_reset(st);
    return rc;
}

struct db_digest_ctx {
    struct ot_sql *db;
    int64_t shipment;
};

static enum ot_err db_digest(void *ctx, int64_t idx, struct ot_lg_leaves *l, char root[65])
{
    struct db_digest_ctx *c = ctx;
    return ot_lg__db_interval_digest(c->db, c->shipment, idx, l, root);
}

/* Checks one shipment's trail (chain, every signed head). */
static enum ot_err verify_shipment(struct ot_sql *db, int64_t id, const char *pin,
                                   struct ot_ledger_report *rep)
{
    struct db_digest_ctx dc = {db, id};
    struct ot_lg_shipment sh;
    struct ot_lg_entry *v = NULL;
    size_t n = 0;
    int64_t hidx = -1;
    char hhash[65] = "", sig[129] = "", pub[65] = "";
    enum ot_err rc = ot_lg_load_shipment(db, id, &sh);
    if (rc == OT_ERR_NOTFOUND) {
        ot_lg__rep_fail(rep, id, 0, "the shipment row of this trail is missing");
        return OT_OK;
    }
    if (rc)
        return rc;
    rc = ot_lg_load_entries(db, id, &v, &n);
    if (!rc)
        rc = ot_lg__check_chain(&sh, v, n, db_digest, &dc, rep);
    if (!rc && rep->ok) {
        enum ot_err hr = ot_lg_load_head(db, id, &hidx, hhash, sig, pub);
        if (hr == OT_ERR_NOTFOUND)
            ot_lg__rep_fail(rep, id, (int64_t)n - 1, "no signed head in ledger_heads");
        else if (hr)
            rc = hr;
        else if (!(rc = check_old_heads(db, &sh, v, n, rep)))
            ot_lg__check_head(&sh, v, n, hidx, hhash, sig, pub, pin, rep);
    }
    ot_lg_entries_free(v, n);
    ot_lg_shipment_clear(&sh);
    return rc;
}

enum ot_err ot_ledger_verify_db_key(struct ot_sql *db, const char *pubkey_hex,
                                    struct ot_ledger_report *rep)
{
    struct ot_sql_stmt *ships = NULL, *st = NULL;
    enum ot_err rc;
    int row = 0;
    ot_lg__rep_init(rep);
    if ((rc = ot_lg__stmt(db, "SELECT DISTINCT shipment_id FROM custody ORDER BY shipment_id",
                          &ships)))
        return rc;
    while (rep->ok && !(rc = ot_sql_step(ships, &row)) && row)
        if ((rc = verify_shipment(db, ot_sql_int64(ships, 0), pubkey_hex, rep)))
            break;
    ot_sql_reset(ships);
    if (rc || !rep->ok)
        return rc;
    /* readings linked to no entry of their shipment's trail */
    if ((rc = ot_lg__stmt(db,
                          "SELECT c.shipment_id, c.idx FROM custody_readings c WHERE NOT EXISTS"
                          " (SELECT 1 FROM custody k WHERE k.shipment_id=c.shipment_id"
                          " AND k.idx=c.idx) ORDER BY c.shipment_id, c.idx LIMIT 1",
                          &st)))
        return rc;
    if (!(rc = ot_sql_step(st, &row)) && row)
        ot_lg__rep_fail(rep, ot_sql_int64(st, 0), ot_sql_int64(st, 1),
                        "readings are linked to this entry but the entry is missing");
    ot_sql_reset(st);
    return rc;
}

enum ot_err ot_ledger_verify_db(struct ot_sql *db, struct ot_ledger_report *rep)
{
    return ot_ledger_verify_db_key(db, NULL, rep);
}
