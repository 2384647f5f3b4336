/* ot_ledger.c - the custody ledger: canonical encoding, hash chain,
 * readings Merkle digest, Ed25519 head signature, append and verify.
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
#include "ot_ledger.h"
#include "ot_ledger_int.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "ot_buf.h"
#include "ot_crypto.h"
#include "ot_log.h"
#include "ot_time.h"

#define LG_MAX_READINGS (16 * 1024 * 1024) /* leaves per interval */
#define LG_BUNDLE_MAX_ENTRIES 100000

const char *const ot_lg_channel_names[OT_LG_NCH] = {
    "temp_c",    "temp2_c",     "ambient_c", "lat",     "lon",         "alt_m",
    "speed_kmh", "heading_deg", "lid_open",  "shock_g", "battery_pct", "gnss_fix"};

static const char *const entry_types[] = {"packed", "handoff",   "departed", "arrived", "received",
                                          "opened", "discarded", "note",     NULL};

/* ---------------------------------------------------------------- utils */

static char *dupstr(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

static void setwhy(char *why, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void setwhy(char *why, size_t len, const char *fmt, ...)
{
    va_list ap;
    if (!why || !len)
        return;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
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

/* Canonical encodings are built in a capped buffer (entries and readings
 * are small). */
#define LG_BUF_MAX (64 * 1024)

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

static enum ot_err genesis_hash(const struct ot_lg_shipment *s, char hex[65])
{
    struct ot_buf b = OT_BUF_INIT(LG_BUF_MAX);
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
}

static enum ot_err entry_hash(const struct ot_lg_entry *e, char hex[65])
{
    struct ot_buf b = OT_BUF_INIT(LG_BUF_MAX);
    entry_encode(&b, e);
    enum ot_err rc = buf_sha256_hex(&b, hex);
    free(b.p);
    return rc;
}

/* leaf hash = SHA-256(0x00 || reading encoding) */
static enum ot_err reading_leaf(const struct ot_lg_reading *r, uint8_t out[32])
{
    struct ot_buf b = OT_BUF_INIT(LG_BUF_MAX);
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

static void head_message(struct ot_buf *b, int64_t shipment, int64_t idx, const char *hash)
{
    ot_buf_str(b, "organtrack-ledger-head-v1\n");
    field_int(b, "shipment", shipment);
    field_int(b, "index", idx);
    field_text(b, "hash", hash);
}

/* --------------------------------------------------------- Merkle tree */

/* Leaf hashes of one interval, then the RFC 6962 Merkle Tree Hash. */
struct lg_leaves {
    uint8_t (*h)[32];
    size_t n, cap;
    int64_t min_seq, max_seq;
};

static enum ot_err leaves_push(struct lg_leaves *l, const struct ot_lg_reading *r)
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

static void leaves_reset(struct lg_leaves *l)
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

static enum ot_err leaves_root(const struct lg_leaves *l, char hex[65])
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

/* -------------------------------------------------------------- the key */

struct ot_ledger_key {
    EVP_PKEY *pkey;
    char pub[65];
};

void ot_ledger_key_free(struct ot_ledger_key *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pkey);
    free(k);
}

void ot_ledger_key_public_hex(const struct ot_ledger_key *k, char out[65])
{
    memcpy(out, k->pub, 65);
}

static enum ot_err key_wrap(EVP_PKEY *pkey, struct ot_ledger_key **out)
{
    uint8_t raw[32];
    size_t n = sizeof raw;
    struct ot_ledger_key *k;
    if (EVP_PKEY_get_raw_public_key(pkey, raw, &n) != 1 || n != 32) {
        ot_error("ledger key: cannot read public key");
        return OT_ERR_CRYPTO;
    }
    k = calloc(1, sizeof *k);
    if (!k)
        return OT_ERR_NOMEM;
    k->pkey = pkey;
    ot_hex_encode(raw, 32, k->pub);
    *out = k;
    return OT_OK;
}

static enum ot_err key_read(const char *path, struct ot_ledger_key **out)
{
    struct stat sb;
    FILE *f = fopen(path, "r");
    EVP_PKEY *pkey = NULL;
    enum ot_err rc;
    if (!f) {
        ot_error("ledger key: cannot open path=%s error=\"%s\"", path, strerror(errno));
        return errno == ENOENT ? OT_ERR_NOTFOUND : OT_ERR_IO;
    }
    if (fstat(fileno(f), &sb) == 0 && (sb.st_mode & 077))
        ot_warn("ledger key is readable by others path=%s mode=%o (want 0600)", path,
                (unsigned)(sb.st_mode & 0777));
    pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (!pkey || EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
        ot_error("ledger key: not an Ed25519 private key in PEM path=%s", path);
        EVP_PKEY_free(pkey);
        return OT_ERR_CRYPTO;
    }
    rc = key_wrap(pkey, out);
    if (rc)
        EVP_PKEY_free(pkey);
    return rc;
}

/* Generates a key into a temporary file (0600), then link(2)s it to path:
 * atomic, and a concurrent first start keeps whichever key won. */
static enum ot_err key_generate(const char *path)
{
    char tmp[4096];
    EVP_PKEY *pkey = NULL;
    FILE *f = NULL;
    int fd = -1;
    enum ot_err rc = OT_ERR_IO;
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return OT_ERR_INVAL;
    pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (!pkey) {
        ot_error("ledger key: Ed25519 key generation failed");
        return OT_ERR_CRYPTO;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        ot_error("ledger key: cannot create path=%s error=\"%s\"", tmp, strerror(errno));
        goto out;
    }
    f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        goto out_unlink;
    }
    if (PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) != 1 || fflush(f) != 0 ||
        fsync(fileno(f)) != 0) {
        ot_error("ledger key: cannot write path=%s", tmp);
        fclose(f);
        goto out_unlink;
    }
    fclose(f);
    if (link(tmp, path) != 0 && errno != EEXIST) {
        ot_error("ledger key: cannot create path=%s error=\"%s\"", path, strerror(errno));
        goto out_unlink;
    }
    ot_info("ledger key generated path=%s", path);
    rc = OT_OK;
out_unlink:
    unlink(tmp);
out:
    EVP_PKEY_free(pkey);
    return rc;
}

enum ot_err ot_ledger_key_load(const char *path, struct ot_ledger_key **out)
{
    struct stat sb;
    enum ot_err rc;
    *out = NULL;
    if (!path || !*path)
        return OT_ERR_INVAL;
    if (stat(path, &sb) != 0) {
        if (errno != ENOENT) {
            ot_error("ledger key: cannot stat path=%s error=\"%s\"", path, strerror(errno));
            return OT_ERR_IO;
        }
        rc = key_generate(path);
        if (rc)
            return rc;
    }
    return key_read(path, out);
}

static enum ot_err sign_head(const struct ot_ledger_key *k, int64_t shipment, int64_t idx,
                             const char *hash, char sig_hex[129])
{
    struct ot_buf b = OT_BUF_INIT(LG_BUF_MAX);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t sig[64];
    size_t siglen = sizeof sig;
    enum ot_err rc = OT_ERR_CRYPTO;
    head_message(&b, shipment, idx, hash);
    if (!ctx || b.failed)
        goto out;
    if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pkey) != 1 ||
        EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)b.p, b.n) != 1 || siglen != 64) {
        ot_error("ledger: Ed25519 signing failed");
        goto out;
    }
    ot_hex_encode(sig, 64, sig_hex);
    rc = OT_OK;
out:
    EVP_MD_CTX_free(ctx);
    free(b.p);
    return rc;
}

/* 1 = valid, 0 = invalid, -1 = malformed key or signature text */
static int verify_head(const char *pub_hex, int64_t shipment, int64_t idx, const char *hash,
                       const char *sig_hex)
{
    uint8_t pub[32], sig[64];
    struct ot_buf b = OT_BUF_INIT(LG_BUF_MAX);
    EVP_PKEY *pkey = NULL;
    EVP_MD_CTX *ctx = NULL;
    int ok = -1;
    if (strlen(pub_hex) != 64 || ot_hex_decode(pub_hex, pub, 32) || strlen(sig_hex) != 128 ||
        ot_hex_decode(sig_hex, sig, 64))
        return -1;
    head_message(&b, shipment, idx, hash);
    pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
    ctx = EVP_MD_CTX_new();
    if (!pkey || !ctx || b.failed)
        goto out;
    if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) != 1)
        goto out;
    ok = EVP_DigestVerify(ctx, sig, 64, (const unsigned char *)b.p, b.n) == 1 ? 1 : 0;
out:
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    free(b.p);
    return ok;
}

/* --------------------------------------------------------- DB helpers */

static enum ot_err prep(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
        ot_error("ledger: sqlite prepare failed error=\"%s\"", sqlite3_errmsg(db));
        *st = NULL;
        return OT_ERR_DB;
    }
    return OT_OK;
}

static char *col_dup(sqlite3_stmt *st, int i, int *oom)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return NULL;
    const char *t = (const char *)sqlite3_column_text(st, i);
    char *p = dupstr(t ? t : "");
    if (!p)
        *oom = 1;
    return p;
}

static struct ot_lg_num col_num(sqlite3_stmt *st, int i)
{
    struct ot_lg_num n = {0, 0};
    int t = sqlite3_column_type(st, i);
    if (t == SQLITE_INTEGER) {
        n.set = 1;
        n.v = (double)sqlite3_column_int64(st, i);
    } else if (t != SQLITE_NULL) {
        n.set = 1;
        n.v = sqlite3_column_double(st, i);
    }
    return n;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static void bind_num(sqlite3_stmt *st, int i, const struct ot_lg_num *n)
{
    if (!n->set)
        sqlite3_bind_null(st, i);
    else if (n->v == floor(n->v) && fabs(n->v) <= 9007199254740992.0)
        sqlite3_bind_int64(st, i, (sqlite3_int64)n->v);
    else
        sqlite3_bind_double(st, i, n->v);
}

enum ot_err ot_lg_load_shipment(sqlite3 *db, int64_t id, struct ot_lg_shipment *out)
{
    sqlite3_stmt *st = NULL;
    int oom = 0;
    enum ot_err rc = prep(db,
                          "SELECT container, profile, donation_code, cross_clamp_at, created_at"
                          " FROM shipments WHERE id=?",
                          &st);
    memset(out, 0, sizeof *out);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        out->id = id;
        out->container = col_dup(st, 0, &oom);
        out->profile = col_dup(st, 1, &oom);
        out->donation_code = col_dup(st, 2, &oom);
        out->cross_clamp_at = sqlite3_column_int64(st, 3);
        out->created_at = sqlite3_column_int64(st, 4);
        rc = oom ? OT_ERR_NOMEM : OT_OK;
    } else if (s == SQLITE_DONE) {
        rc = OT_ERR_NOTFOUND;
    } else {
        ot_error("ledger: sqlite step failed error=\"%s\"", sqlite3_errmsg(db));
        rc = OT_ERR_DB;
    }
    sqlite3_finalize(st);
    if (rc)
        ot_lg_shipment_clear(out);
    return rc;
}

#define ENTRY_COLS                                                                                 \
    "shipment_id, idx, ts, type, actor_name, actor_role, from_party, to_party, witness,"           \
    " lat, lon, temp_c, temp_ts, seal, comment, readings_count, readings_from_seq,"                \
    " readings_to_seq, readings_root, prev_hash, hash"

static enum ot_err entry_from_row(sqlite3_stmt *st, struct ot_lg_entry *e)
{
    int oom = 0;
    const char *t;
    memset(e, 0, sizeof *e);
    e->shipment = sqlite3_column_int64(st, 0);
    e->index = sqlite3_column_int64(st, 1);
    e->ts = sqlite3_column_int64(st, 2);
    e->type = col_dup(st, 3, &oom);
    e->actor_name = col_dup(st, 4, &oom);
    e->actor_role = col_dup(st, 5, &oom);
    e->from = col_dup(st, 6, &oom);
    e->to = col_dup(st, 7, &oom);
    e->witness = col_dup(st, 8, &oom);
    e->lat = col_num(st, 9);
    e->lon = col_num(st, 10);
    e->temp_c = col_num(st, 11);
    e->temp_ts = col_num(st, 12);
    e->seal = col_dup(st, 13, &oom);
    e->comment = col_dup(st, 14, &oom);
    e->readings_count = sqlite3_column_int64(st, 15);
    e->readings_from_seq = col_num(st, 16);
    e->readings_to_seq = col_num(st, 17);
    t = (const char *)sqlite3_column_text(st, 18);
    snprintf(e->readings_root, sizeof e->readings_root, "%s", t ? t : "");
    t = (const char *)sqlite3_column_text(st, 19);
    snprintf(e->prev_hash, sizeof e->prev_hash, "%s", t ? t : "");
    t = (const char *)sqlite3_column_text(st, 20);
    snprintf(e->hash, sizeof e->hash, "%s", t ? t : "");
    if (oom) {
        ot_lg_entry_clear(e);
        return OT_ERR_NOMEM;
    }
    return OT_OK;
}

enum ot_err ot_lg_load_entries(sqlite3 *db, int64_t shipment_id, struct ot_lg_entry **v, size_t *n)
{
    sqlite3_stmt *st = NULL;
    struct ot_lg_entry *arr = NULL;
    size_t cnt = 0, cap = 0;
    int s;
    enum ot_err rc =
        prep(db, "SELECT " ENTRY_COLS " FROM custody WHERE shipment_id=? ORDER BY idx", &st);
    *v = NULL;
    *n = 0;
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, shipment_id);
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (cnt == cap) {
            size_t nc = cap ? cap * 2 : 16;
            struct ot_lg_entry *p = realloc(arr, nc * sizeof *arr);
            if (!p) {
                rc = OT_ERR_NOMEM;
                goto fail;
            }
            arr = p;
            cap = nc;
        }
        rc = entry_from_row(st, &arr[cnt]);
        if (rc)
            goto fail;
        cnt++;
    }
    if (s != SQLITE_DONE) {
        ot_error("ledger: sqlite step failed error=\"%s\"", sqlite3_errmsg(db));
        rc = OT_ERR_DB;
        goto fail;
    }
    sqlite3_finalize(st);
    *v = arr;
    *n = cnt;
    return OT_OK;
fail:
    sqlite3_finalize(st);
    ot_lg_entries_free(arr, cnt);
    return rc;
}

enum ot_err ot_lg_readings_prepare(sqlite3 *db, sqlite3_stmt **st)
{
    return prep(db,
                "SELECT r.container, r.seq, r.gateway, r.boot, r.ts, r.temp_c, r.temp2_c,"
                " r.ambient_c, r.lat, r.lon, r.alt_m, r.speed_kmh, r.heading_deg, r.lid_open,"
                " r.shock_g, r.battery_pct, r.gnss_fix, r.missing, r.extra"
                " FROM custody_readings c JOIN readings r"
                " ON r.container = c.container AND r.seq = c.seq"
                " WHERE c.shipment_id=? AND c.idx=? ORDER BY c.container, c.seq",
                st);
}

void ot_lg_readings_bind(sqlite3_stmt *st, int64_t shipment, int64_t idx)
{
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, shipment);
    sqlite3_bind_int64(st, 2, idx);
}

void ot_lg_reading_row(sqlite3_stmt *st, int64_t idx, struct ot_lg_reading *r)
{
    const char *t;
    memset(r, 0, sizeof *r);
    r->entry = idx;
    t = (const char *)sqlite3_column_text(st, 0);
    r->container = t ? t : "";
    r->seq = sqlite3_column_int64(st, 1);
    t = (const char *)sqlite3_column_text(st, 2);
    r->gateway = t ? t : "";
    r->boot = sqlite3_column_int64(st, 3);
    r->ts = sqlite3_column_int64(st, 4);
    for (int i = 0; i < OT_LG_NCH; i++)
        r->ch[i] = col_num(st, 5 + i);
    r->missing = (const char *)sqlite3_column_text(st, 17);
    r->extra = (const char *)sqlite3_column_text(st, 18);
}

/* Digest of the readings linked to entry (shipment, idx) in the database. */
static enum ot_err db_interval_digest(sqlite3 *db, sqlite3_stmt *st, int64_t shipment, int64_t idx,
                                      struct lg_leaves *l, char root[65])
{
    int s;
    enum ot_err rc;
    struct ot_lg_reading r;
    leaves_reset(l);
    ot_lg_readings_bind(st, shipment, idx);
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        ot_lg_reading_row(st, idx, &r);
        rc = leaves_push(l, &r);
        if (rc) {
            sqlite3_reset(st);
            return rc;
        }
    }
    sqlite3_reset(st);
    if (s != SQLITE_DONE) {
        ot_error("ledger: sqlite step failed error=\"%s\"", sqlite3_errmsg(db));
        return OT_ERR_DB;
    }
    return leaves_root(l, root);
}

enum ot_err ot_lg_load_head(sqlite3 *db, int64_t shipment_id, int64_t *idx, char hash[65],
                            char sig[129], char pub[65])
{
    sqlite3_stmt *st = NULL;
    enum ot_err rc = prep(db,
                          "SELECT idx, hash, signature, public_key FROM ledger_heads"
                          " WHERE shipment_id=? ORDER BY idx DESC LIMIT 1",
                          &st);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, shipment_id);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        const char *t;
        *idx = sqlite3_column_int64(st, 0);
        t = (const char *)sqlite3_column_text(st, 1);
        snprintf(hash, 65, "%s", t ? t : "");
        t = (const char *)sqlite3_column_text(st, 2);
        snprintf(sig, 129, "%s", t ? t : "");
        t = (const char *)sqlite3_column_text(st, 3);
        snprintf(pub, 65, "%s", t ? t : "");
        rc = OT_OK;
    } else {
        rc = s == SQLITE_DONE ? OT_ERR_NOTFOUND : OT_ERR_DB;
    }
    sqlite3_finalize(st);
    return rc;
}

/* ------------------------------------------------------------- JSON out */

static cJSON *str_or_null(const char *s)
{
    return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *num_or_null(const struct ot_lg_num *n)
{
    return n->set ? cJSON_CreateNumber(n->v) : cJSON_CreateNull();
}

static int add(cJSON *obj, const char *k, cJSON *v)
{
    if (!v)
        return -1;
    if (!cJSON_AddItemToObject(obj, k, v)) {
        cJSON_Delete(v);
        return -1;
    }
    return 0;
}

cJSON *ot_lg_entry_json(const struct ot_lg_entry *e)
{
    char iso[32];
    cJSON *o = cJSON_CreateObject(), *actor = NULL, *place = NULL, *rd = NULL;
    int bad = 0;
    if (!o)
        return NULL;
    bad |= add(o, "index", cJSON_CreateNumber((double)e->index));
    bad |= add(o, "shipment", cJSON_CreateNumber((double)e->shipment));
    bad |= add(o, "ts", cJSON_CreateNumber((double)e->ts));
    bad |= add(o, "time", cJSON_CreateString(ot_time_format_iso(e->ts, iso, sizeof iso)));
    bad |= add(o, "type", str_or_null(e->type));
    actor = cJSON_CreateObject();
    if (actor) {
        bad |= add(actor, "name", str_or_null(e->actor_name));
        bad |= add(actor, "role", str_or_null(e->actor_role));
    }
    bad |= add(o, "actor", actor);
    bad |= add(o, "from", str_or_null(e->from));
    bad |= add(o, "to", str_or_null(e->to));
    bad |= add(o, "witness", str_or_null(e->witness));
    if (e->lat.set || e->lon.set) {
        place = cJSON_CreateObject();
        if (place) {
            bad |= add(place, "lat", num_or_null(&e->lat));
            bad |= add(place, "lon", num_or_null(&e->lon));
        }
    } else {
        place = cJSON_CreateNull();
    }
    bad |= add(o, "place", place);
    bad |= add(o, "temp_c", num_or_null(&e->temp_c));
    bad |= add(o, "temp_ts", num_or_null(&e->temp_ts));
    bad |= add(o, "seal", str_or_null(e->seal));
    bad |= add(o, "comment", str_or_null(e->comment));
    rd = cJSON_CreateObject();
    if (rd) {
        bad |= add(rd, "count", cJSON_CreateNumber((double)e->readings_count));
        bad |= add(rd, "from_seq", num_or_null(&e->readings_from_seq));
        bad |= add(rd, "to_seq", num_or_null(&e->readings_to_seq));
        bad |= add(rd, "root", cJSON_CreateString(e->readings_root));
    }
    bad |= add(o, "readings", rd);
    bad |= add(o, "prev_hash", cJSON_CreateString(e->prev_hash));
    bad |= add(o, "hash", cJSON_CreateString(e->hash));
    if (bad) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

cJSON *ot_lg_reading_json(const struct ot_lg_reading *r)
{
    cJSON *o = cJSON_CreateObject();
    int bad = 0;
    if (!o)
        return NULL;
    bad |= add(o, "entry", cJSON_CreateNumber((double)r->entry));
    bad |= add(o, "container", cJSON_CreateString(r->container));
    bad |= add(o, "seq", cJSON_CreateNumber((double)r->seq));
    bad |= add(o, "gateway", cJSON_CreateString(r->gateway));
    bad |= add(o, "boot", cJSON_CreateNumber((double)r->boot));
    bad |= add(o, "ts", cJSON_CreateNumber((double)r->ts));
    for (int i = 0; i < OT_LG_NCH; i++)
        bad |= add(o, ot_lg_channel_names[i], num_or_null(&r->ch[i]));
    bad |= add(o, "missing", str_or_null(r->missing));
    bad |= add(o, "extra", str_or_null(r->extra));
    if (bad) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

enum ot_err ot_ledger_entries(sqlite3 *db, int64_t shipment_id, cJSON **out)
{
    struct ot_lg_entry *v = NULL;
    size_t n = 0;
    cJSON *arr = NULL;
    enum ot_err rc;
    *out = NULL;
    rc = ot_lg_load_entries(db, shipment_id, &v, &n);
    if (rc)
        return rc;
    arr = cJSON_CreateArray();
    if (!arr) {
        rc = OT_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        cJSON *e = ot_lg_entry_json(&v[i]);
        if (!e || !cJSON_AddItemToArray(arr, e)) {
            cJSON_Delete(e);
            cJSON_Delete(arr);
            rc = OT_ERR_NOMEM;
            goto out;
        }
    }
    *out = arr;
out:
    ot_lg_entries_free(v, n);
    return rc;
}

/* -------------------------------------------------------------- append */

static int is_type(const char *t)
{
    for (int i = 0; entry_types[i]; i++)
        if (strcmp(t, entry_types[i]) == 0)
            return 1;
    return 0;
}

static int empty(const char *s)
{
    if (!s)
        return 1;
    while (*s == ' ' || *s == '\t')
        s++;
    return *s == '\0';
}

/* party names compare case-insensitively, ignoring surrounding blanks */
static int same_party(const char *a, const char *b)
{
    size_t la, lb;
    if (empty(a) || empty(b))
        return 0;
    while (*a == ' ' || *a == '\t')
        a++;
    while (*b == ' ' || *b == '\t')
        b++;
    la = strlen(a);
    lb = strlen(b);
    while (la && (a[la - 1] == ' ' || a[la - 1] == '\t'))
        la--;
    while (lb && (b[lb - 1] == ' ' || b[lb - 1] == '\t'))
        lb--;
    return la == lb && strncasecmp(a, b, la) == 0;
}

static int field_ok(const char *s)
{
    return !s || strlen(s) <= OT_LG_FIELD_MAX;
}

/* Where the trail stands, from the types of the entries so far. */
struct lg_state {
    int in_transit; /* departed and not yet arrived/received */
    int departed;   /* departed at least once */
    int received;
    int discarded;
    int64_t last_ts;
    int64_t count;
};

static enum ot_err check_sequence(const struct lg_state *s, const struct ot_custody_input *in,
                                  char *why, size_t whylen)
{
    const char *t = in->type;
    if (s->discarded) {
        setwhy(why, whylen, "the organ was discarded: no custody events after 'discarded'");
        return OT_ERR_CONFLICT;
    }
    if (s->count > 0 && in->ts < s->last_ts) {
        setwhy(why, whylen, "event time is before the previous entry's time");
        return OT_ERR_CONFLICT;
    }
    if (!empty(in->from_party) && !empty(in->to_party) &&
        same_party(in->from_party, in->to_party)) {
        setwhy(why, whylen, "'from' and 'to' are the same party: custody cannot pass to itself");
        return OT_ERR_CONFLICT;
    }
    if (!empty(in->witness) &&
        (same_party(in->witness, in->from_party) || same_party(in->witness, in->to_party))) {
        setwhy(why, whylen,
               "the witness must be a second person, not the party handing over or receiving");
        return OT_ERR_CONFLICT;
    }
    if (strcmp(t, "handoff") == 0) {
        if (empty(in->from_party) || empty(in->to_party)) {
            setwhy(why, whylen, "a hand-off names both 'from' and 'to'");
            return OT_ERR_INVAL;
        }
        if (empty(in->witness)) {
            setwhy(why, whylen,
                   "a hand-off needs a 'witness' who verified label and seal (two-person check)");
            return OT_ERR_INVAL;
        }
    } else if (strcmp(t, "departed") == 0) {
        if (s->in_transit) {
            setwhy(why, whylen, "departed twice without an arrival in between");
            return OT_ERR_CONFLICT;
        }
        if (s->received) {
            setwhy(why, whylen, "the organ was already received at its destination");
            return OT_ERR_CONFLICT;
        }
    } else if (strcmp(t, "arrived") == 0) {
        if (!s->in_transit) {
            setwhy(why, whylen, "arrived before departed");
            return OT_ERR_CONFLICT;
        }
    } else if (strcmp(t, "received") == 0) {
        if (!s->departed) {
            setwhy(why, whylen, "received before departed");
            return OT_ERR_CONFLICT;
        }
        if (s->received) {
            setwhy(why, whylen, "the organ was already received");
            return OT_ERR_CONFLICT;
        }
    }
    return OT_OK;
}

static void state_apply(struct lg_state *s, const char *type, int64_t ts)
{
    if (strcmp(type, "departed") == 0) {
        s->in_transit = 1;
        s->departed = 1;
    } else if (strcmp(type, "arrived") == 0) {
        s->in_transit = 0;
    } else if (strcmp(type, "received") == 0) {
        s->in_transit = 0;
        s->received = 1;
    } else if (strcmp(type, "discarded") == 0) {
        s->discarded = 1;
    }
    s->last_ts = ts;
    s->count++;
}

static enum ot_err step_done(sqlite3 *db, sqlite3_stmt *st)
{
    int s = sqlite3_step(st);
    if (s != SQLITE_DONE) {
        ot_error("ledger: sqlite step failed error=\"%s\"", sqlite3_errmsg(db));
        return OT_ERR_DB;
    }
    return OT_OK;
}

enum ot_err ot_ledger_append(sqlite3 *db, const struct ot_ledger_key *key, int64_t shipment_id,
                             const struct ot_custody_input *in, cJSON **entry_out, char *why,
                             size_t whylen)
{
    sqlite3_stmt *st = NULL;
    struct ot_lg_shipment sh = {0};
    struct ot_lg_entry e;
    struct lg_state state = {0};
    struct lg_leaves leaves = {0};
    char status[32] = "", sig[129];
    int in_txn = 0, s;
    enum ot_err rc;

    memset(&e, 0, sizeof e);
    if (entry_out)
        *entry_out = NULL;
    setwhy(why, whylen, "%s", "");
    if (!db || !key || !in) {
        setwhy(why, whylen, "internal: missing argument");
        return OT_ERR_INVAL;
    }
    if (!in->type || !is_type(in->type)) {
        setwhy(why, whylen,
               "type must be one of packed, handoff, departed, arrived, received, opened, "
               "discarded, note");
        return OT_ERR_INVAL;
    }
    if (empty(in->actor_name) || empty(in->actor_role)) {
        setwhy(why, whylen, "the actor (token name and role) is required");
        return OT_ERR_INVAL;
    }
    if (!field_ok(in->actor_name) || !field_ok(in->actor_role) || !field_ok(in->from_party) ||
        !field_ok(in->to_party) || !field_ok(in->witness) || !field_ok(in->seal) ||
        !field_ok(in->comment)) {
        setwhy(why, whylen, "a text field is longer than %d bytes", OT_LG_FIELD_MAX);
        return OT_ERR_INVAL;
    }
    if (in->has_place &&
        (!(in->lat >= -90 && in->lat <= 90) || !(in->lon >= -180 && in->lon <= 180))) {
        setwhy(why, whylen, "place: lat must be -90..90 and lon -180..180");
        return OT_ERR_INVAL;
    }

    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        ot_error("ledger: cannot begin transaction error=\"%s\"", sqlite3_errmsg(db));
        setwhy(why, whylen, "database busy");
        return OT_ERR_DB;
    }
    in_txn = 1;

    rc = ot_lg_load_shipment(db, shipment_id, &sh);
    if (rc) {
        if (rc == OT_ERR_NOTFOUND)
            setwhy(why, whylen, "no shipment %lld", (long long)shipment_id);
        goto fail;
    }
    if ((rc = prep(db, "SELECT status FROM shipments WHERE id=?", &st)))
        goto fail;
    sqlite3_bind_int64(st, 1, shipment_id);
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        snprintf(status, sizeof status, "%s", t ? t : "");
    }
    sqlite3_finalize(st);
    st = NULL;
    if (strcmp(status, "closed") == 0 || strcmp(status, "discarded") == 0) {
        setwhy(why, whylen, "shipment %lld is %s: its custody trail is closed",
               (long long)shipment_id, status);
        rc = OT_ERR_CONFLICT;
        goto fail;
    }

    /* the trail so far: state machine and the previous hash */
    snprintf(e.prev_hash, sizeof e.prev_hash, "%s", "");
    if ((rc = genesis_hash(&sh, e.prev_hash)))
        goto fail;
    if ((rc = prep(db, "SELECT idx, ts, type, hash FROM custody WHERE shipment_id=? ORDER BY idx",
                   &st)))
        goto fail;
    sqlite3_bind_int64(st, 1, shipment_id);
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 2);
        const char *h = (const char *)sqlite3_column_text(st, 3);
        if (sqlite3_column_int64(st, 0) != state.count) {
            setwhy(why, whylen, "custody trail of shipment %lld is corrupt (index gap)",
                   (long long)shipment_id);
            rc = OT_ERR_CORRUPT;
            goto fail;
        }
        state_apply(&state, t ? t : "", sqlite3_column_int64(st, 1));
        snprintf(e.prev_hash, sizeof e.prev_hash, "%s", h ? h : "");
    }
    sqlite3_finalize(st);
    st = NULL;
    if (s != SQLITE_DONE) {
        rc = OT_ERR_DB;
        goto fail;
    }
    if ((rc = check_sequence(&state, in, why, whylen)))
        goto fail;

    e.shipment = shipment_id;
    e.index = state.count;
    e.ts = in->ts;
    e.type = dupstr(in->type);
    e.actor_name = dupstr(in->actor_name);
    e.actor_role = dupstr(in->actor_role);
    e.from = empty(in->from_party) ? NULL : dupstr(in->from_party);
    e.to = empty(in->to_party) ? NULL : dupstr(in->to_party);
    e.witness = empty(in->witness) ? NULL : dupstr(in->witness);
    e.seal = empty(in->seal) ? NULL : dupstr(in->seal);
    e.comment = empty(in->comment) ? NULL : dupstr(in->comment);
    if (!e.type || !e.actor_name || !e.actor_role || (!empty(in->from_party) && !e.from) ||
        (!empty(in->to_party) && !e.to) || (!empty(in->witness) && !e.witness) ||
        (!empty(in->seal) && !e.seal) || (!empty(in->comment) && !e.comment)) {
        rc = OT_ERR_NOMEM;
        goto fail;
    }
    if (in->has_place) {
        e.lat.set = e.lon.set = 1;
        e.lat.v = in->lat;
        e.lon.v = in->lon;
    }

    /* container temperature at that moment: the latest reading with temp_c
     * at or before the event, of this shipment (or of its container since
     * the shipment was created) */
    if ((rc = prep(db,
                   "SELECT temp_c, ts FROM readings WHERE container=? AND ts<=?"
                   " AND temp_c IS NOT NULL AND (shipment_id=? OR ts>=?)"
                   " ORDER BY ts DESC LIMIT 1",
                   &st)))
        goto fail;
    sqlite3_bind_text(st, 1, sh.container, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, in->ts);
    sqlite3_bind_int64(st, 3, shipment_id);
    sqlite3_bind_int64(st, 4, sh.created_at);
    if (sqlite3_step(st) == SQLITE_ROW) {
        e.temp_c = col_num(st, 0);
        e.temp_ts = col_num(st, 1);
    }
    sqlite3_finalize(st);
    st = NULL;

    /* readings of this interval: every reading of the shipment up to the
     * event time that no earlier entry covers (late replays included) */
    if ((rc = prep(db,
                   "INSERT INTO custody_readings (shipment_id, idx, container, seq)"
                   " SELECT ?1, ?2, r.container, r.seq FROM readings r"
                   " WHERE r.shipment_id=?1 AND r.ts<=?3 AND NOT EXISTS"
                   " (SELECT 1 FROM custody_readings c WHERE c.container=r.container"
                   " AND c.seq=r.seq)",
                   &st)))
        goto fail;
    sqlite3_bind_int64(st, 1, shipment_id);
    sqlite3_bind_int64(st, 2, e.index);
    sqlite3_bind_int64(st, 3, in->ts);
    rc = step_done(db, st);
    sqlite3_finalize(st);
    st = NULL;
    if (rc)
        goto fail;
    if ((rc = ot_lg_readings_prepare(db, &st)))
        goto fail;
    rc = db_interval_digest(db, st, shipment_id, e.index, &leaves, e.readings_root);
    sqlite3_finalize(st);
    st = NULL;
    if (rc)
        goto fail;
    e.readings_count = (int64_t)leaves.n;
    if (leaves.n) {
        e.readings_from_seq.set = e.readings_to_seq.set = 1;
        e.readings_from_seq.v = (double)leaves.min_seq;
        e.readings_to_seq.v = (double)leaves.max_seq;
    }

    if ((rc = entry_hash(&e, e.hash)))
        goto fail;

    if ((rc = prep(db,
                   "INSERT INTO custody (" ENTRY_COLS ") VALUES"
                   " (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                   &st)))
        goto fail;
    sqlite3_bind_int64(st, 1, e.shipment);
    sqlite3_bind_int64(st, 2, e.index);
    sqlite3_bind_int64(st, 3, e.ts);
    bind_text(st, 4, e.type);
    bind_text(st, 5, e.actor_name);
    bind_text(st, 6, e.actor_role);
    bind_text(st, 7, e.from);
    bind_text(st, 8, e.to);
    bind_text(st, 9, e.witness);
    bind_num(st, 10, &e.lat);
    bind_num(st, 11, &e.lon);
    if (e.temp_c.set)
        sqlite3_bind_double(st, 12, e.temp_c.v);
    else
        sqlite3_bind_null(st, 12);
    bind_num(st, 13, &e.temp_ts);
    bind_text(st, 14, e.seal);
    bind_text(st, 15, e.comment);
    sqlite3_bind_int64(st, 16, e.readings_count);
    bind_num(st, 17, &e.readings_from_seq);
    bind_num(st, 18, &e.readings_to_seq);
    bind_text(st, 19, e.readings_root);
    bind_text(st, 20, e.prev_hash);
    bind_text(st, 21, e.hash);
    rc = step_done(db, st);
    sqlite3_finalize(st);
    st = NULL;
    if (rc)
        goto fail;

    /* sign the new head */
    if ((rc = sign_head(key, e.shipment, e.index, e.hash, sig)))
        goto fail;
    if ((rc = prep(db,
                   "INSERT INTO ledger_heads (shipment_id, idx, hash, signature, public_key,"
                   " signed_at) VALUES (?,?,?,?,?,?)",
                   &st)))
        goto fail;
    sqlite3_bind_int64(st, 1, e.shipment);
    sqlite3_bind_int64(st, 2, e.index);
    bind_text(st, 3, e.hash);
    bind_text(st, 4, sig);
    bind_text(st, 5, key->pub);
    sqlite3_bind_int64(st, 6, ot_time_now_ms());
    rc = step_done(db, st);
    sqlite3_finalize(st);
    st = NULL;
    if (rc)
        goto fail;

    /* The change feed row (events, kind 'custody') is written by the API in
     * its follow-up transaction together with the status change, so it is
     * not duplicated here. */
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        ot_error("ledger: commit failed error=\"%s\"", sqlite3_errmsg(db));
        rc = OT_ERR_DB;
        goto fail;
    }
    in_txn = 0;
    if (entry_out) {
        *entry_out = ot_lg_entry_json(&e);
        if (!*entry_out)
            ot_warn("ledger: entry stored but its JSON could not be built (out of memory)");
    }
    ot_info("custody entry appended shipment=%lld index=%lld type=%s readings=%lld hash=%s",
            (long long)e.shipment, (long long)e.index, e.type, (long long)e.readings_count, e.hash);
    rc = OT_OK;
    goto out;
fail:
    if (why && whylen && !why[0])
        setwhy(why, whylen, "%s", ot_strerror(rc));
    sqlite3_finalize(st);
    if (in_txn)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
out:
    free(leaves.h);
    ot_lg_entry_clear(&e);
    ot_lg_shipment_clear(&sh);
    return rc;
}

/* -------------------------------------------------------------- verify */

static void rep_init(struct ot_ledger_report *rep)
{
    memset(rep, 0, sizeof *rep);
    rep->ok = 1;
    rep->bad_shipment = rep->bad_index = -1;
}

static void rep_fail(struct ot_ledger_report *rep, int64_t shipment, int64_t idx, const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));
static void rep_fail(struct ot_ledger_report *rep, int64_t shipment, int64_t idx, const char *fmt,
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
typedef enum ot_err (*lg_digest_fn)(void *ctx, int64_t idx, struct lg_leaves *l, char root[65]);

static enum ot_err check_chain(const struct ot_lg_shipment *sh, const struct ot_lg_entry *v,
                               size_t n, lg_digest_fn digest, void *dctx,
                               struct ot_ledger_report *rep)
{
    char prev[65], h[65], root[65];
    struct lg_leaves l = {0};
    enum ot_err rc = genesis_hash(sh, prev);
    if (rc)
        return rc;
    for (size_t i = 0; i < n && rep->ok; i++) {
        const struct ot_lg_entry *e = &v[i];
        int64_t idx = (int64_t)i;
        if (e->index != idx) {
            rep_fail(rep, sh->id, idx,
                     "index %lld found where %lld was expected (an entry was removed, inserted "
                     "or reordered)",
                     (long long)e->index, (long long)idx);
            break;
        }
        if (e->shipment != sh->id) {
            rep_fail(rep, sh->id, idx, "entry names shipment %lld", (long long)e->shipment);
            break;
        }
        if (strcmp(e->prev_hash, prev) != 0) {
            rep_fail(rep, sh->id, idx, "prev_hash does not match the hash of %s",
                     i ? "the previous entry" : "the shipment's genesis record");
            break;
        }
        if ((rc = digest(dctx, idx, &l, root)))
            goto out;
        if (e->readings_count != (int64_t)l.n) {
            rep_fail(rep, sh->id, idx,
                     "readings digest: entry commits to %lld readings, %zu present",
                     (long long)e->readings_count, l.n);
            break;
        }
        if (!num_eq(&e->readings_from_seq, l.n > 0, l.min_seq) ||
            !num_eq(&e->readings_to_seq, l.n > 0, l.max_seq)) {
            rep_fail(rep, sh->id, idx, "readings digest: seq range differs from the readings");
            break;
        }
        if (strcmp(e->readings_root, root) != 0) {
            rep_fail(rep, sh->id, idx,
                     "readings digest: Merkle root differs (a reading was changed, removed, "
                     "added or reordered)");
            break;
        }
        if ((rc = entry_hash(e, h)))
            goto out;
        if (strcmp(e->hash, h) != 0) {
            rep_fail(rep, sh->id, idx, "hash mismatch: the entry's content was changed");
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
static void check_head(const struct ot_lg_shipment *sh, const struct ot_lg_entry *v, size_t n,
                       int64_t hidx, const char *hhash, const char *sig, const char *pub,
                       const char *pin, struct ot_ledger_report *rep)
{
    int64_t last = (int64_t)n - 1;
    if (!rep->ok)
        return;
    if (hidx > last) {
        rep_fail(rep, sh->id, last + 1,
                 "entry missing: the signed head is index %lld but the trail ends at %lld",
                 (long long)hidx, (long long)last);
        return;
    }
    if (hidx < last) {
        rep_fail(rep, sh->id, hidx + 1, "entry not covered by the signed head (head index %lld)",
                 (long long)hidx);
        return;
    }
    if (n == 0)
        return;
    if (strcmp(hhash, v[last].hash) != 0) {
        rep_fail(rep, sh->id, last, "the signed head's hash differs from the entry's hash");
        return;
    }
    if (pin && strcasecmp(pin, pub) != 0) {
        rep_fail(rep, sh->id, last, "head signed by public key %.64s, not the expected key", pub);
        return;
    }
    int ok = verify_head(pub, sh->id, hidx, hhash, sig);
    if (ok != 1)
        rep_fail(rep, sh->id, last, "%s",
                 ok < 0 ? "malformed head signature or public key"
                        : "head signature does not verify with the public key");
}

/* Every earlier signed head must still sign the hash of the entry at its
 * index: a chain rewritten from entry k on and re-signed only at its end
 * (with whatever key) is named at k, even without a pinned key. Each head
 * verifies with the key stored with it (a rotated key stays valid for the
 * heads it signed); the pin applies to the newest head (check_head). */
static enum ot_err check_old_heads(sqlite3 *db, const struct ot_lg_shipment *sh,
                                   const struct ot_lg_entry *v, size_t n,
                                   struct ot_ledger_report *rep)
{
    sqlite3_stmt *st = NULL;
    int s;
    enum ot_err rc = prep(db,
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
            rep_fail(rep, sh->id, idx,
                     "the head signed at this index has a different hash (entry rewritten)");
            break;
        }
        if (verify_head(pub ? pub : "", sh->id, idx, h, sig ? sig : "") != 1)
            rep_fail(rep, sh->id, idx, "the head signed at this index does not verify");
    }
    sqlite3_finalize(st);
    return OT_OK;
}

struct db_digest_ctx {
    sqlite3 *db;
    sqlite3_stmt *st;
    int64_t shipment;
};

static enum ot_err db_digest(void *ctx, int64_t idx, struct lg_leaves *l, char root[65])
{
    struct db_digest_ctx *c = ctx;
    return db_interval_digest(c->db, c->st, c->shipment, idx, l, root);
}

enum ot_err ot_ledger_verify_db_key(sqlite3 *db, const char *pubkey_hex,
                                    struct ot_ledger_report *rep)
{
    sqlite3_stmt *ships = NULL;
    struct db_digest_ctx dc = {db, NULL, 0};
    enum ot_err rc;
    int s;
    rep_init(rep);
    if ((rc = prep(db, "SELECT DISTINCT shipment_id FROM custody ORDER BY shipment_id", &ships)))
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
            rep_fail(rep, dc.shipment, 0, "the shipment row of this trail is missing");
            rc = OT_OK;
            break;
        }
        if (rc)
            goto out;
        rc = ot_lg_load_entries(db, dc.shipment, &v, &n);
        if (!rc)
            rc = check_chain(&sh, v, n, db_digest, &dc, rep);
        if (!rc && rep->ok) {
            enum ot_err hr = ot_lg_load_head(db, dc.shipment, &hidx, hhash, sig, pub);
            if (hr == OT_ERR_NOTFOUND)
                rep_fail(rep, dc.shipment, (int64_t)n - 1, "no signed head in ledger_heads");
            else if (hr)
                rc = hr;
            else if (!(rc = check_old_heads(db, &sh, v, n, rep)))
                check_head(&sh, v, n, hidx, hhash, sig, pub, pubkey_hex, rep);
        }
        ot_lg_entries_free(v, n);
        ot_lg_shipment_clear(&sh);
        if (rc)
            goto out;
    }
    if (rep->ok) {
        /* readings linked to no entry of their shipment's trail */
        sqlite3_stmt *st = NULL;
        if ((rc = prep(db,
                       "SELECT c.shipment_id, c.idx FROM custody_readings c WHERE NOT EXISTS"
                       " (SELECT 1 FROM custody k WHERE k.shipment_id=c.shipment_id"
                       " AND k.idx=c.idx) LIMIT 1",
                       &st)))
            goto out;
        if (sqlite3_step(st) == SQLITE_ROW)
            rep_fail(rep, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
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

/* ------------------------------------------------------- bundle parsing */

static int json_keys_known(const cJSON *o, const char *const *known, const char **bad)
{
    for (const cJSON *c = o->child; c; c = c->next) {
        int ok = 0;
        for (int i = 0; known[i]; i++)
            if (c->string && strcmp(c->string, known[i]) == 0)
                ok = 1;
        if (!ok) {
            *bad = c->string ? c->string : "?";
            return 0;
        }
    }
    return 1;
}

static int j_int(const cJSON *o, const char *k, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) ||
        fabs(v->valuedouble) > 9007199254740991.0)
        return -1;
    *out = (int64_t)v->valuedouble;
    return 0;
}

static int j_num(const cJSON *o, const char *k, struct ot_lg_num *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (cJSON_IsNull(v)) {
        out->set = 0;
        out->v = 0;
        return 0;
    }
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return -1;
    out->set = 1;
    out->v = v->valuedouble;
    return 0;
}

/* integer or null */
static int j_int_or_null(const cJSON *o, const char *k, struct ot_lg_num *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    int64_t i;
    if (cJSON_IsNull(v)) {
        out->set = 0;
        out->v = 0;
        return 0;
    }
    if (j_int(o, k, &i))
        return -1;
    out->set = 1;
    out->v = (double)i;
    return 0;
}

static int j_str_borrow(const cJSON *o, const char *k, int nullable, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (nullable && cJSON_IsNull(v)) {
        *out = NULL;
        return 0;
    }
    if (!cJSON_IsString(v) || !v->valuestring || strlen(v->valuestring) > OT_LG_FIELD_MAX)
        return -1;
    *out = v->valuestring;
    return 0;
}

static int j_str(const cJSON *o, const char *k, int nullable, char **out)
{
    const char *s;
    if (j_str_borrow(o, k, nullable, &s))
        return -1;
    *out = NULL;
    if (!s)
        return 0;
    *out = dupstr(s);
    return *out ? 0 : -2;
}

static int j_hex64(const cJSON *o, const char *k, char out[65])
{
    const char *s;
    uint8_t tmp[32];
    if (j_str_borrow(o, k, 0, &s) || strlen(s) != 64 || ot_hex_decode(s, tmp, 32))
        return -1;
    memcpy(out, s, 65);
    return 0;
}

/* Parses one bundle entry; on failure *what names the key. */
static int parse_entry(const cJSON *o, struct ot_lg_entry *e, const char **what)
{
    static const char *const keys[] = {"index",     "shipment", "ts",   "time",    "type",
                                       "actor",     "from",     "to",   "witness", "place",
                                       "temp_c",    "temp_ts",  "seal", "comment", "readings",
                                       "prev_hash", "hash",     NULL};
    static const char *const akeys[] = {"name", "role", NULL};
    static const char *const pkeys[] = {"lat", "lon", NULL};
    static const char *const rkeys[] = {"count", "from_seq", "to_seq", "root", NULL};
    const cJSON *actor, *place, *rd, *time;
    char iso[32];
    memset(e, 0, sizeof *e);
    if (!cJSON_IsObject(o)) {
        *what = "(not an object)";
        return -1;
    }
    if (!json_keys_known(o, keys, what))
        return -1;
#define REQ(cond, name)                                                                            \
    do {                                                                                           \
        if (cond) {                                                                                \
            *what = name;                                                                          \
            return -1;                                                                             \
        }                                                                                          \
    } while (0)
    REQ(j_int(o, "index", &e->index), "index");
    REQ(j_int(o, "shipment", &e->shipment), "shipment");
    REQ(j_int(o, "ts", &e->ts), "ts");
    time = cJSON_GetObjectItemCaseSensitive(o, "time");
    REQ(!cJSON_IsString(time) ||
            strcmp(time->valuestring, ot_time_format_iso(e->ts, iso, sizeof iso)) != 0,
        "time (must be ts in ISO 8601)");
    REQ(j_str(o, "type", 0, &e->type), "type");
    actor = cJSON_GetObjectItemCaseSensitive(o, "actor");
    REQ(!cJSON_IsObject(actor) || !json_keys_known(actor, akeys, what), "actor");
    REQ(j_str(actor, "name", 0, &e->actor_name), "actor.name");
    REQ(j_str(actor, "role", 0, &e->actor_role), "actor.role");
    REQ(j_str(o, "from", 1, &e->from), "from");
    REQ(j_str(o, "to", 1, &e->to), "to");
    REQ(j_str(o, "witness", 1, &e->witness), "witness");
    place = cJSON_GetObjectItemCaseSensitive(o, "place");
    if (cJSON_IsObject(place)) {
        REQ(!json_keys_known(place, pkeys, what), "place");
        REQ(j_num(place, "lat", &e->lat), "place.lat");
        REQ(j_num(place, "lon", &e->lon), "place.lon");
        REQ(!e->lat.set && !e->lon.set, "place (empty object)");
    } else {
        REQ(!cJSON_IsNull(place), "place");
    }
    REQ(j_num(o, "temp_c", &e->temp_c), "temp_c");
    REQ(j_int_or_null(o, "temp_ts", &e->temp_ts), "temp_ts");
    REQ(j_str(o, "seal", 1, &e->seal), "seal");
    REQ(j_str(o, "comment", 1, &e->comment), "comment");
    rd = cJSON_GetObjectItemCaseSensitive(o, "readings");
    REQ(!cJSON_IsObject(rd) || !json_keys_known(rd, rkeys, what), "readings");
    REQ(j_int(rd, "count", &e->readings_count), "readings.count");
    REQ(j_int_or_null(rd, "from_seq", &e->readings_from_seq), "readings.from_seq");
    REQ(j_int_or_null(rd, "to_seq", &e->readings_to_seq), "readings.to_seq");
    REQ(j_hex64(rd, "root", e->readings_root), "readings.root");
    REQ(j_hex64(o, "prev_hash", e->prev_hash), "prev_hash");
    REQ(j_hex64(o, "hash", e->hash), "hash");
#undef REQ
    return 0;
}

static int parse_reading(const cJSON *o, struct ot_lg_reading *r, const char **what)
{
    static const char *const keys[] = {
        "entry",    "container", "seq",         "gateway",  "boot",    "ts",        "temp_c",
        "temp2_c",  "ambient_c", "lat",         "lon",      "alt_m",   "speed_kmh", "heading_deg",
        "lid_open", "shock_g",   "battery_pct", "gnss_fix", "missing", "extra",     NULL};
    memset(r, 0, sizeof *r);
    if (!cJSON_IsObject(o)) {
        *what = "(not an object)";
        return -1;
    }
    if (!json_keys_known(o, keys, what))
        return -1;
    if (j_int(o, "entry", &r->entry)) {
        *what = "entry";
        return -1;
    }
    if (j_str_borrow(o, "container", 0, &r->container)) {
        *what = "container";
        return -1;
    }
    if (j_int(o, "seq", &r->seq)) {
        *what = "seq";
        return -1;
    }
    if (j_str_borrow(o, "gateway", 0, &r->gateway)) {
        *what = "gateway";
        return -1;
    }
    if (j_int(o, "boot", &r->boot)) {
        *what = "boot";
        return -1;
    }
    if (j_int(o, "ts", &r->ts)) {
        *what = "ts";
        return -1;
    }
    for (int i = 0; i < OT_LG_NCH; i++)
        if (j_num(o, ot_lg_channel_names[i], &r->ch[i])) {
            *what = ot_lg_channel_names[i];
            return -1;
        }
    if (j_str_borrow(o, "missing", 1, &r->missing)) {
        *what = "missing";
        return -1;
    }
    if (j_str_borrow(o, "extra", 1, &r->extra)) {
        *what = "extra";
        return -1;
    }
    return 0;
}

struct bundle_digest_ctx {
    struct lg_leaves *buckets; /* one per entry position */
    size_t n;
};

static enum ot_err bundle_digest(void *ctx, int64_t idx, struct lg_leaves *l, char root[65])
{
    struct bundle_digest_ctx *c = ctx;
    const struct lg_leaves *b = &c->buckets[idx];
    l->n = b->n;
    l->min_seq = b->min_seq;
    l->max_seq = b->max_seq;
    /* the caller's l is only read for n/min/max; hash the bucket itself */
    return leaves_root(b, root);
}

enum ot_err ot_ledger_verify_bundle_key(const char *json, size_t len, const char *pubkey_hex,
                                        struct ot_ledger_report *rep)
{
    static const char *const keys[] = {"format", "shipment",   "entries",     "readings",
                                       "head",   "public_key", "exported_at", NULL};
    static const char *const skeys[] = {
        "id", "container", "profile", "donation_code", "cross_clamp_at", "created_at", NULL};
    static const char *const hkeys[] = {"index", "hash", "signature", NULL};
    cJSON *root = NULL;
    const cJSON *js, *jentries, *jreadings, *jhead, *it, *fmt;
    struct ot_lg_shipment sh = {0};
    struct ot_lg_entry *v = NULL;
    size_t n = 0, nr = 0;
    struct bundle_digest_ctx bc = {NULL, 0};
    const char *what = "", *sig = NULL, *pub = NULL;
    char hhash[65] = "";
    int64_t hidx = -1, orphan = -1, shid = -1;
    enum ot_err rc = OT_OK;

    rep_init(rep);
    if (!json) {
        rep_fail(rep, -1, -1, "no bundle");
        return OT_OK;
    }
    root = cJSON_ParseWithLength(json, len);
    if (!cJSON_IsObject(root)) {
        rep_fail(rep, -1, -1, "bundle is not a JSON object (truncated or corrupt)");
        goto out;
    }
    if (!json_keys_known(root, keys, &what)) {
        rep_fail(rep, -1, -1, "bundle: unknown key \"%s\"", what);
        goto out;
    }
    fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, OT_LEDGER_BUNDLE_FORMAT) != 0) {
        rep_fail(rep, -1, -1, "bundle: format is not \"" OT_LEDGER_BUNDLE_FORMAT "\"");
        goto out;
    }
    js = cJSON_GetObjectItemCaseSensitive(root, "shipment");
    if (!cJSON_IsObject(js) || j_int(js, "id", &shid)) {
        rep_fail(rep, -1, -1, "bundle: shipment.id missing");
        goto out;
    }
    sh.id = shid;
    if (!json_keys_known(js, skeys, &what) || j_str(js, "container", 0, &sh.container) ||
        j_str(js, "profile", 0, &sh.profile) || j_str(js, "donation_code", 0, &sh.donation_code) ||
        j_int(js, "cross_clamp_at", &sh.cross_clamp_at) ||
        j_int(js, "created_at", &sh.created_at)) {
        rep_fail(rep, shid, 0, "bundle: shipment record is malformed");
        goto out;
    }
    jentries = cJSON_GetObjectItemCaseSensitive(root, "entries");
    jreadings = cJSON_GetObjectItemCaseSensitive(root, "readings");
    jhead = cJSON_GetObjectItemCaseSensitive(root, "head");
    if (!cJSON_IsArray(jentries) || !cJSON_IsArray(jreadings) || !cJSON_IsObject(jhead)) {
        rep_fail(rep, shid, -1, "bundle: entries, readings or head missing");
        goto out;
    }
    n = (size_t)cJSON_GetArraySize(jentries);
    if (n > LG_BUNDLE_MAX_ENTRIES) {
        rep_fail(rep, shid, -1, "bundle: too many entries");
        n = 0;
        goto out;
    }
    v = calloc(n ? n : 1, sizeof *v);
    bc.buckets = calloc(n ? n : 1, sizeof *bc.buckets);
    if (!v || !bc.buckets) {
        rc = OT_ERR_NOMEM;
        goto out;
    }
    bc.n = n;
    {
        size_t i = 0;
        cJSON_ArrayForEach(it, jentries)
        {
            int pr = parse_entry(it, &v[i], &what);
            if (pr) {
                rep_fail(rep, shid, (int64_t)i, "entry is malformed at key \"%s\"", what);
                goto out;
            }
            i++;
        }
    }
    {
        size_t i = 0;
        cJSON_ArrayForEach(it, jreadings)
        {
            struct ot_lg_reading r;
            if (parse_reading(it, &r, &what)) {
                const cJSON *je = cJSON_GetObjectItemCaseSensitive(it, "entry");
                rep_fail(rep, shid, cJSON_IsNumber(je) ? (int64_t)je->valuedouble : -1,
                         "readings[%zu] is malformed at key \"%s\"", i, what);
                goto out;
            }
            if (r.entry < 0 || r.entry >= (int64_t)n) {
                if (orphan < 0 || r.entry < orphan)
                    orphan = r.entry < 0 ? 0 : r.entry;
            } else if ((rc = leaves_push(&bc.buckets[r.entry], &r))) {
                goto out;
            }
            i++;
            nr++;
        }
    }
    if ((rc = check_chain(&sh, v, n, bundle_digest, &bc, rep)))
        goto out;
    if (!rep->ok)
        goto out;
    if (j_int(jhead, "index", &hidx) || j_hex64(jhead, "hash", hhash) ||
        j_str_borrow(jhead, "signature", 0, &sig) || !json_keys_known(jhead, hkeys, &what)) {
        rep_fail(rep, shid, (int64_t)n - 1, "bundle: head is malformed");
        goto out;
    }
    if (j_str_borrow(root, "public_key", 0, &pub)) {
        rep_fail(rep, shid, (int64_t)n - 1, "bundle: public_key missing");
        goto out;
    }
    check_head(&sh, v, n, hidx, hhash, sig, pub, pubkey_hex, rep);
    if (rep->ok && orphan >= 0)
        rep_fail(rep, shid, orphan, "a reading names entry %lld, which is not in the trail",
                 (long long)orphan);
    if (rep->ok && n == 0)
        rep_fail(rep, shid, 0, "bundle holds no entries");
    (void)nr;
out:
    if (rc)
        rep_fail(rep, shid, -1, "verification could not run: %s", ot_strerror(rc));
    if (bc.buckets) {
        for (size_t i = 0; i < bc.n; i++)
            free(bc.buckets[i].h);
        free(bc.buckets);
    }
    ot_lg_entries_free(v, n);
    ot_lg_shipment_clear(&sh);
    cJSON_Delete(root);
    return rc;
}

enum ot_err ot_ledger_verify_bundle(const char *json, size_t len, struct ot_ledger_report *rep)
{
    return ot_ledger_verify_bundle_key(json, len, NULL, rep);
}
