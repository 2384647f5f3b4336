#include "ot_crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

enum ot_err ot_sha256(const void *data, size_t len, uint8_t out[32])
{
    unsigned int n = 0;
    if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1 || n != 32)
        return OT_ERR_CRYPTO;
    return OT_OK;
}

void ot_hex_encode(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int ot_hex_decode(const char *hex, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int hi = nibble(hex[2 * i]);
        if (hi < 0)
            return -1;
        int lo = nibble(hex[2 * i + 1]);
        if (lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return hex[2 * n] == '\0' ? 0 : -1;
}

enum ot_err ot_sha256_hex(const void *data, size_t len, char hex[OT_SHA256_HEX_LEN + 1])
{
    uint8_t d[32];
    enum ot_err rc = ot_sha256(data, len, d);
    if (rc)
        return rc;
    ot_hex_encode(d, 32, hex);
    return OT_OK;
}

enum ot_err ot_random_hex(size_t n, char *out)
{
    uint8_t buf[64];
    if (n > sizeof buf || RAND_bytes(buf, (int)n) != 1)
        return OT_ERR_CRYPTO;
    ot_hex_encode(buf, n, out);
    OPENSSL_cleanse(buf, sizeof buf);
    return OT_OK;
}

int ot_ct_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}
