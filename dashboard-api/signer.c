/* signer.c - signing PINs (SPEC v1.1 "Shipment report and e-signatures",
 * 21 CFR 11.200: a second factor distinct from the bearer token): stored
 * per printed name in table `signers` as scrypt (OpenSSL 3 EVP_KDF, N=2^15,
 * r=8, p=1, 16-byte random salt, 32-byte hash; algorithm and parameters
 * stored with it so they can be raised later), checked in constant time;
 * wrong PINs are kept in `signer_failures` for the lock-out (five within
 * 15 minutes lock the signer for 15 minutes, judged on the server clock).
 * A PIN is never logged, audited or kept after the call. */
#include "api.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "ot_crypto.h"
#include "ot_sql.h"

#define SCRYPT_N 32768u
#define SCRYPT_R 8u
#define SCRYPT_P 1u
#define SALT_BYTES 16
#define HASH_BYTES 32

static enum ot_err scrypt(const char *pin, const uint8_t *salt, size_t salt_len, uint64_t n,
                          uint32_t r, uint32_t p, uint8_t *out, size_t out_len)
{
    enum ot_err rc = OT_ERR_CRYPTO;
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
    EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    if (ctx) {
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)pin, strlen(pin)),
            OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len),
            OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
            OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
            OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
            OSSL_PARAM_construct_end(),
        };
        if (EVP_KDF_derive(ctx, out, out_len, params) == 1)
            rc = OT_OK;
    }
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return rc;
}

int api__pin_valid(const char *pin)
{
    size_t n = pin ? strlen(pin) : 0;
    return n >= API_PIN_MIN && n <= API_PIN_MAX;
}

enum ot_err api__signer_set(struct api_db *d, const char *name, const char *pin, int64_t now)
{
    uint8_t salt[SALT_BYTES], hash[HASH_BYTES];
    char salt_hex[2 * SALT_BYTES + 1], hash_hex[2 * HASH_BYTES + 1], params[64];
    struct ot_sql_stmt *st;
    int row;
    if (!api__pin_valid(pin))
        return OT_ERR_INVAL;
    if (RAND_bytes(salt, sizeof salt) != 1)
        return OT_ERR_CRYPTO;
    enum ot_err rc =
        scrypt(pin, salt, sizeof salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, hash, sizeof hash);
    if (rc)
        return rc;
    ot_hex_encode(salt, sizeof salt, salt_hex);
    ot_hex_encode(hash, sizeof hash, hash_hex);
    OPENSSL_cleanse(hash, sizeof hash);
    snprintf(params, sizeof params, "N=%u,r=%u,p=%u", SCRYPT_N, SCRYPT_R, SCRYPT_P);
    if ((rc = ot_sql_prepare_cached(d->sql,
                                    "INSERT INTO signers (name, kdf, params, salt, hash,"
                                    " created_at, updated_at) VALUES (?1, 'scrypt', ?2, ?3, ?4,"
                                    " ?5, ?5) ON CONFLICT (name) DO UPDATE SET kdf = excluded.kdf,"
                                    " params = excluded.params, salt = excluded.salt,"
                                    " hash = excluded.hash, updated_at = excluded.updated_at",
                                    &st)))
        return rc;
    ot_sql_reset(st);
    if ((rc = ot_sql_bind_text(st, 1, name, -1)) || (rc = ot_sql_bind_text(st, 2, params, -1)) ||
        (rc = ot_sql_bind_text(st, 3, salt_hex, -1)) ||
        (rc = ot_sql_bind_text(st, 4, hash_hex, -1)) || (rc = ot_sql_bind_int64(st, 5, now)) ||
        (rc = ot_sql_step(st, &row))) {
        ot_sql_reset(st);
        return rc;
    }
    ot_sql_reset(st);
    return api__signer_clear(d, name); /* a new PIN lifts a lock-out */
}

enum ot_err api__signer_get(struct api_db *d, const char *name, struct api_signer *s)
{
    struct ot_sql_stmt *st;
    int row = 0;
    memset(s, 0, sizeof *s);
    enum ot_err rc = ot_sql_prepare_cached(
        d->sql, "SELECT kdf, params, salt, hash FROM signers WHERE name = ?1", &st);
    if (rc)
        return rc;
    ot_sql_reset(st);
    if ((rc = ot_sql_bind_text(st, 1, name, -1)) || (rc = ot_sql_step(st, &row))) {
        ot_sql_reset(st);
        return rc;
    }
    if (!row) {
        ot_sql_reset(st);
        return OT_ERR_NOTFOUND;
    }
    const char *v[4];
    for (int i = 0; i < 4; i++)
        v[i] = ot_sql_text(st, i);
    if (v[0] && v[1] && v[2] && v[3]) {
        snprintf(s->kdf, sizeof s->kdf, "%s", v[0]);
        snprintf(s->params, sizeof s->params, "%s", v[1]);
        snprintf(s->salt, sizeof s->salt, "%s", v[2]);
        snprintf(s->hash, sizeof s->hash, "%s", v[3]);
    }
    ot_sql_reset(st);
    return OT_OK;
}

int api__signer_pin_ok(const struct api_signer *s, const char *pin)
{
    unsigned n = 0, r = 0, p = 0;
    uint8_t salt[64], want[HASH_BYTES], got[HASH_BYTES];
    size_t sl = strlen(s->salt) / 2;
    if (strcmp(s->kdf, "scrypt") != 0 || sscanf(s->params, "N=%u,r=%u,p=%u", &n, &r, &p) != 3 ||
        n < 2 || r == 0 || p == 0 || sl == 0 || sl > sizeof salt ||
        strlen(s->hash) != 2 * HASH_BYTES || ot_hex_decode(s->salt, salt, sl) ||
        ot_hex_decode(s->hash, want, sizeof want))
        return -1;
    if (!pin || strlen(pin) > API_PIN_MAX)
        return 0;
    if (scrypt(pin, salt, sl, n, r, p, got, sizeof got))
        return -1;
    int ok = CRYPTO_memcmp(got, want, sizeof got) == 0;
    OPENSSL_cleanse(got, sizeof got);
    return ok;
}

enum ot_err api__signer_locked(struct api_db *d, const char *name, int64_t now, int64_t *until_ms)
{
    struct ot_sql_stmt *st;
    int row = 0, n = 0;
    int64_t newest = 0, fifth = 0;
    *until_ms = 0;
    enum ot_err rc = ot_sql_prepare_cached(
        d->sql, "SELECT at FROM signer_failures WHERE name = ?1 ORDER BY at DESC LIMIT 5", &st);
    if (rc)
        return rc;
    ot_sql_reset(st);
    if ((rc = ot_sql_bind_text(st, 1, name, -1))) {
        ot_sql_reset(st);
        return rc;
    }
    while (!(rc = ot_sql_step(st, &row)) && row) {
        int64_t at = ot_sql_int64(st, 0);
        if (n == 0)
            newest = at;
        fifth = at;
        n++;
    }
    ot_sql_reset(st);
    if (rc)
        return rc;
    /* five wrong PINs within the window lock the signer for API_PIN_LOCK_MS
     * after the fifth */
    if (n >= API_PIN_MAX_FAILURES && newest - fifth <= API_PIN_WINDOW_MS &&
        now < newest + API_PIN_LOCK_MS)
        *until_ms = newest + API_PIN_LOCK_MS;
    return OT_OK;
}

enum ot_err api__signer_fail(struct api_db *d, const char *name, int64_t now)
{
    struct ot_sql_stmt *st;
    int row;
    enum ot_err rc = ot_sql_prepare_cached(
        d->sql, "INSERT INTO signer_failures (name, at) VALUES (?1, ?2)", &st);
    if (rc)
        return rc;
    ot_sql_reset(st);
    if (!(rc = ot_sql_bind_text(st, 1, name, -1)) && !(rc = ot_sql_bind_int64(st, 2, now)))
        rc = ot_sql_step(st, &row);
    ot_sql_reset(st);
    return rc;
}

enum ot_err api__signer_clear(struct api_db *d, const char *name)
{
    struct ot_sql_stmt *st;
    int row;
    enum ot_err rc =
        ot_sql_prepare_cached(d->sql, "DELETE FROM signer_failures WHERE name = ?1", &st);
    if (rc)
        return rc;
    ot_sql_reset(st);
    if (!(rc = ot_sql_bind_text(st, 1, name, -1)))
        rc = ot_sql_step(st, &row);
    ot_sql_reset(st);
    return rc;
}
