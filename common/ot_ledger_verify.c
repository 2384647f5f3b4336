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
static enum ot_err check_old_heads(sqlite3 *db, const struct ot_lg_shipment *sh,
                                   const struct ot_lg_entry *v, size_t n,
                                   struct ot_ledger_report *rep)
{
    sqlite3_stmt *st = NULL;
    int s;
    enum ot_err rc = ot_lg__prepare(db,
                                    "SELECT idx, hash, signature, public_key FROM ledger_heads"
                                    " WHERE shipment_id=? AND idx<? ORDER BY idx",
                                    &st);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, sh->id);
    sqlite3_bind_int64(st, 2, (int64_t)n - 1);
    while (rep->ok && (s = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t idx = sqlite3_column_int64(st, 0);
        const char *h = (const char *)sqlite3_column_text(st, 1);
        const char *sig = (const char *)sqlite3_column_text(st, 2);
        const char *pub = (const char *)sqlite3_column_text(st, 3);
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
    sqlite3_finalize(st);
    return OT_OK;
}

struct db_digest_ctx {
    sqlite3 *db;
    sqlite3_stmt *st;
    int64_t shipment;
};

static enum ot_err db_digest(void *ctx, int64_t idx, struct ot_lg_leaves *l, char root[65])
{
    struct db_digest_ctx *c = ctx;
    return ot_lg__db_interval_digest(c->db, c->st, c->shipment, idx, l, root);
}

enum ot_err ot_ledger_verify_db_key(sqlite3 *db, const char *pubkey_hex,
                                    struct ot_ledger_report *rep)
{
    sqlite3_stmt *ships = NULL;
    struct db_digest_ctx dc = {db, NULL, 0};
    enum ot_err rc;
    int s;
    ot_lg__rep_init(rep);
    if ((rc = ot_lg__prepare(db, "SELECT DISTINCT shipment_id FROM custody ORDER BY shipment_id",
                             &ships)))
        return rc;
    if ((rc = ot_lg_readings_prepare(db, &dc.st)))
        goto out;
    while (rep->ok && (s = sqlite3_step(ships)) == SQLITE_ROW) {
        struct ot_lg_shipment sh;
        struct ot_lg_entry *v = NULL;
        size_t n = 0;
        int64_t hidx = -1;
        char hhash[65] = "", sig[129] = "", pub[65] = "";
        dc.shipment = sqlite3_column_int64(ships, 0);
        rc = ot_lg_load_shipment(db, dc.shipment, &sh);
        if (rc == OT_ERR_NOTFOUND) {
            ot_lg__rep_fail(rep, dc.shipment, 0, "the shipment row of this trail is missing");
            rc = OT_OK;
            break;
        }
        if (rc)
            goto out;
        rc = ot_lg_load_entries(db, dc.shipment, &v, &n);
        if (!rc)
            rc = ot_lg__check_chain(&sh, v, n, db_digest, &dc, rep);
        if (!rc && rep->ok) {
            enum ot_err hr = ot_lg_load_head(db, dc.shipment, &hidx, hhash, sig, pub);
            if (hr == OT_ERR_NOTFOUND)
                ot_lg__rep_fail(rep, dc.shipment, (int64_t)n - 1, "no signed head in ledger_heads");
            else if (hr)
                rc = hr;
            else if (!(rc = check_old_heads(db, &sh, v, n, rep)))
                ot_lg__check_head(&sh, v, n, hidx, hhash, sig, pub, pubkey_hex, rep);
        }
        ot_lg_entries_free(v, n);
        ot_lg_shipment_clear(&sh);
        if (rc)
            goto out;
    }
    if (rep->ok) {
        /* readings linked to no entry of their shipment's trail */
        sqlite3_stmt *st = NULL;
        if ((rc = ot_lg__prepare(
                 db,
                 "SELECT c.shipment_id, c.idx FROM custody_readings c WHERE NOT EXISTS"
                 " (SELECT 1 FROM custody k WHERE k.shipment_id=c.shipment_id"
                 " AND k.idx=c.idx) LIMIT 1",
                 &st)))
            goto out;
        if (sqlite3_step(st) == SQLITE_ROW)
            ot_lg__rep_fail(rep, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
                            "readings are linked to this entry but the entry is missing");
        sqlite3_finalize(st);
    }
    rc = OT_OK;
out:
    sqlite3_finalize(dc.st);
    sqlite3_finalize(ships);
    return rc;
}

enum ot_err ot_ledger_verify_db(sqlite3 *db, struct ot_ledger_report *rep)
{
    return ot_ledger_verify_db_key(db, NULL, rep);
}
