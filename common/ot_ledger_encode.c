/* ot_ledger_encode.c - the custody ledger's canonical encoding: entry,
 * genesis, reading and head records, their SHA-256 hashes, the readings
 * Merkle root; the small helpers every ledger file shares. The other parts
 * (key, store, JSON, append, verify, bundle, export) are listed in
 * ot_ledger_int.h.
 *
 * How it works (full description for auditors: docs/internals/ledger.md):
 * - Every entry is serialised to a canonical byte string: a magic line, then
 *   one line per field in a fixed order, `name=LEN:TEXT\n` (LEN = byte
 *   length of TEXT, decimal) or `name=~\n` for an absent value. Integers are
 *   printed in decimal, other numbers with printf's %.15g. hash = SHA-256(encoding), lowercase hex.
 * - The encoding contains prev_hash, so the entries of a shipment form a
 *   chain. Entry 0's prev_hash is the SHA-256 of the shipment's genesis
 *   record (id, container, profile, donation code, cross-clamp time,
 *   created_at): a trail cannot be moved to another shipment or donation
 *   and those fields cannot be edited unseen.
 * - Each entry commits to the readings stored since the previous entry
 *   (table custody_readings records which): count, seq range and an
 *   RFC 6962 Merkle root over the canonical reading encodings
 *   (leaf = SHA-256(0x00 || enc), node = SHA-256(0x01 || left || right)).
 * - After each append the new head (shipment, index, hash) is signed with
 *   the server's Ed25519 key and stored in ledger_heads.
 * Guarantee: any change, removal, insertion or reordering of an entry or of
 * a covered reading changes a recomputed hash or root, and the first entry
 * whose check fails is named. Truncating the tail of a chain together with
 * its signed heads needs the auditor's copy of an earlier head to detect. */
#include "ot_ledger_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ot_buf.h"
#include "ot_crypto.h"

#define LG_MAX_READINGS (16 * 1024 * 1024) /* leaves per interval */

const char *const ot_lg_channel_names[OT_LG_NCH] = {
    "temp_c",    "temp2_c",     "ambient_c", "lat",     "lon",         "alt_m",
    "speed_kmh", "heading_deg", "lid_open",  "shock_g", "battery_pct", "gnss_fix"};

/* ---------------------------------------------------------------- utils */

char *ot_lg__dupstr(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

void ot_lg_num_text(double v, char out[40])
{
    if (v == floor(v) && fabs(v) <= 9007199254740992.0) {
        snprintf(out, 40, "%lld", (long long)v);
        return;
    }
    /* 15 significant digits: every double survives a round trip through
     * JSON printers (cJSON prints %.15g when it reads back within an ulp)
     * and text -> double -> text with 15 digits is exact (DBL_DIG). */
    snprintf(out, 40, "%.15g", v);
}

void ot_lg_shipment_clear(struct ot_lg_shipment *s)
{
    free(s->container);
    free(s->profile);
    free(s->donation_code);
    memset(s, 0, sizeof *s);
}

void ot_lg_entry_clear(struct ot_lg_entry *e)
{
    free(e->type);
    free(e->actor_name);
    free(e->actor_role);
    free(e->from);
    free(e->to);
    free(e->witness);
    free(e->seal);
    free(e->comment);
    free(e->meaning);
    memset(e, 0, sizeof *e);
}

void ot_lg_entries_free(struct ot_lg_entry *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        ot_lg_entry_clear(&v[i]);
    free(v);
}

/* ------------------------------------------------- canonical encoding */

/* name=LEN:TEXT\n, or name=~\n when text is NULL */
static void field_text(struct ot_buf *b, const char *name, const char *text)
{
    char len[32];
    ot_buf_str(b, name);
    if (!text) {
        ot_buf_str(b, "=~\n");
        return;
    }
    snprintf(len, sizeof len, "=%zu:", strlen(text));
    ot_buf_str(b, len);
    ot_buf_str(b, text);
    ot_buf_str(b, "\n");
}

static void field_int(struct ot_buf *b, const char *name, int64_t v)
{
    char t[32];
    snprintf(t, sizeof t, "%lld", (long long)v);
    field_text(b, name, t);
}

static void field_num(struct ot_buf *b, const char *name, const struct ot_lg_num *v)
{
    char t[40];
    if (!v->set) {
        field_text(b, name, NULL);
        return;
    }
    ot_lg_num_text(v->v, t);
    field_text(b, name, t);
}

static enum ot_err buf_sha256_hex(struct ot_buf *b, char hex[65])
{
    uint8_t d[32];
    if (b->failed)
        return OT_ERR_TOOBIG;
    if (ot_sha256(b->p, b->n, d))
        return OT_ERR_CRYPTO;
    ot_hex_encode(d, 32, hex);
    return OT_OK;
}

enum ot_err ot_lg__genesis_hash(const struct ot_lg_shipment *s, char hex[65])
{
    struct ot_buf b = OT_BUF_INIT(OT_LG_BUF_MAX);
    ot_buf_str(&b, "organtrack-custody-genesis-v1\n");
    field_int(&b, "shipment", s->id);
    field_text(&b, "container", s->container);
    field_text(&b, "profile", s->profile);
    field_text(&b, "donation_code", s->donation_code);
    field_int(&b, "cross_clamp_at", s->cross_clamp_at);
    field_int(&b, "created_at", s->created_at);
    enum ot_err rc = buf_sha256_hex(&b, hex);
    free(b.p);
    return rc;
}

static void entry_encode(struct ot_buf *b, const struct ot_lg_entry *e)
{
    ot_buf_str(b, "organtrack-custody-entry-v1\n");
    field_int(b, "shipment", e->shipment);
    field_int(b, "index", e->index);
    field_int(b, "ts", e->ts);
    field_text(b, "type", e->type);
    field_text(b, "actor_name", e->actor_name);
    field_text(b, "actor_role", e->actor_role);
    field_text(b, "from", e->from);
    field_text(b, "to", e->to);
    field_text(b, "witness", e->witness);
    field_num(b, "lat", &e->lat);
    field_num(b, "lon", &e->lon);
    field_num(b, "temp_c", &e->temp_c);
    field_num(b, "temp_ts", &e->temp_ts);
    field_text(b, "seal", e->seal);
    field_text(b, "comment", e->comment);
    field_int(b, "readings_count", e->readings_count);
    field_num(b, "readings_from_seq", &e->readings_from_seq);
    field_num(b, "readings_to_seq", &e->readings_to_seq);
    field_text(b, "readings_root", e->readings_root);
    field_text(b, "prev_hash", e->prev_hash);
    /* v1.1: a signature's meaning. Only `signed` entries have the field, so
     * the encoding (and the hash) of every other entry is what it was. The
     * printed name and role are actor_name and actor_role, the statement is
     * comment, the time is ts: all covered above. */
    if (e->type && strcmp(e->type, "signed") == 0)
        field_text(b, "meaning", e->meaning);
}

enum ot_err ot_lg__entry_hash(const struct ot_lg_entry *e, char hex[65])
{
    struct ot_buf b = OT_BUF_INIT(OT_LG_BUF_MAX);
    entry_encode(&b, e);
    enum ot_err rc = buf_sha256_hex(&b, hex);
    free(b.p);
    return rc;
}

/* leaf hash = SHA-256(0x00 || reading encoding) */
static enum ot_err reading_leaf(const struct ot_lg_reading *r, uint8_t out[32])
{
    struct ot_buf b = OT_BUF_INIT(OT_LG_BUF_MAX);
    enum ot_err rc;
    ot_buf_add(&b, "\0", 1);
    ot_buf_str(&b, "organtrack-reading-v1\n");
    field_text(&b, "container", r->container);
    field_int(&b, "seq", r->seq);
    field_text(&b, "gateway", r->gateway);
    field_int(&b, "boot", r->boot);
    field_int(&b, "ts", r->ts);
    for (int i = 0; i < OT_LG_NCH; i++)
        field_num(&b, ot_lg_channel_names[i], &r->ch[i]);
    field_text(&b, "missing", r->missing);
    field_text(&b, "extra", r->extra);
    if (b.failed)
        rc = OT_ERR_TOOBIG;
    else
        rc = ot_sha256(b.p, b.n, out) ? OT_ERR_CRYPTO : OT_OK;
    free(b.p);
    return rc;
}

void ot_lg__head_message(struct ot_buf *b, int64_t shipment, int64_t idx, const char *hash)
{
    ot_buf_str(b, "organtrack-ledger-head-v1\n");
    field_int(b, "shipment", shipment);
    field_int(b, "index", idx);
    field_text(b, "hash", hash);
}

/* --------------------------------------------------------- Merkle tree */

/* Leaf hashes of one interval (struct ot_lg_leaves), then the RFC 6962
 * Merkle Tree Hash. */

enum ot_err ot_lg__leaves_push(struct ot_lg_leaves *l, const struct ot_lg_reading *r)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        if (cap > LG_MAX_READINGS)
            return OT_ERR_TOOBIG;
        uint8_t(*h)[32] = realloc(l->h, cap * 32);
        if (!h)
            return OT_ERR_NOMEM;
        l->h = h;
        l->cap = cap;
    }
    enum ot_err rc = reading_leaf(r, l->h[l->n]);
    if (rc)
        return rc;
    if (l->n == 0 || r->seq < l->min_seq)
        l->min_seq = r->seq;
    if (l->n == 0 || r->seq > l->max_seq)
        l->max_seq = r->seq;
    l->n++;
    return OT_OK;
}

void ot_lg__leaves_reset(struct ot_lg_leaves *l)
{
    l->n = 0;
}

static int mth(uint8_t (*h)[32], size_t n, uint8_t out[32])
{
    if (n == 1) {
        memcpy(out, h[0], 32);
        return 0;
    }
    size_t k = 1;
    while (k * 2 < n)
        k *= 2;
    uint8_t node[65];
    node[0] = 1;
    if (mth(h, k, node + 1) || mth(h + k, n - k, node + 33))
        return -1;
    return ot_sha256(node, sizeof node, out) ? -1 : 0;
}

enum ot_err ot_lg__leaves_root(const struct ot_lg_leaves *l, char hex[65])
{
    uint8_t d[32];
    if (l->n == 0) {
        if (ot_sha256("", 0, d))
            return OT_ERR_CRYPTO;
    } else if (mth(l->h, l->n, d)) {
        return OT_ERR_CRYPTO;
    }
    ot_hex_encode(d, 32, hex);
    return OT_OK;
}
