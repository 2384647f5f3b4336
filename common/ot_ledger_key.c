/* ot_ledger_key.c - the server's Ed25519 ledger key: load (generating it,
 * mode 0600, on first use), public key as hex, signing a head and
 * verifying a head signature (docs/internals/ledger.md, "Signed head"). */
#include "ot_ledger.h"
#include "ot_ledger_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "ot_buf.h"
#include "ot_crypto.h"
#include "ot_log.h"

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

enum ot_err ot_lg__sign_head(const struct ot_ledger_key *k, int64_t shipment, int64_t idx,
                             const char *hash, char sig_hex[129])
{
    struct ot_buf b = OT_BUF_INIT(OT_LG_BUF_MAX);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t sig[64];
    size_t siglen = sizeof sig;
    enum ot_err rc = OT_ERR_CRYPTO;
    ot_lg__head_message(&b, shipment, idx, hash);
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
int ot_lg__verify_head(const char *pub_hex, int64_t shipment, int64_t idx, const char *hash,
                       const char *sig_hex)
{
    uint8_t pub[32], sig[64];
    struct ot_buf b = OT_BUF_INIT(OT_LG_BUF_MAX);
    EVP_PKEY *pkey = NULL;
    EVP_MD_CTX *ctx = NULL;
    int ok = -1;
    if (strlen(pub_hex) != 64 || ot_hex_decode(pub_hex, pub, 32) || strlen(sig_hex) != 128 ||
        ot_hex_decode(sig_hex, sig, 64))
        return -1;
    ot_lg__head_message(&b, shipment, idx, hash);
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
