/* ot_crypto.h - small OpenSSL wrappers: SHA-256 and random secrets. */
#ifndef OT_CRYPTO_H
#define OT_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "ot_err.h"

#define OT_SHA256_HEX_LEN 64

/* Writes 64 lowercase hex chars + NUL into hex (65 bytes). */
enum ot_err ot_sha256_hex(const void *data, size_t len, char hex[OT_SHA256_HEX_LEN + 1]);
/* Raw 32-byte digest. */
enum ot_err ot_sha256(const void *data, size_t len, uint8_t out[32]);
/* Hex-encodes n bytes into out (2n+1 bytes). */
void ot_hex_encode(const uint8_t *in, size_t n, char *out);
/* Decodes exactly n bytes from 2n hex chars; 0 on success. */
int ot_hex_decode(const char *hex, uint8_t *out, size_t n);
/* n random bytes from the OS CSPRNG, hex-encoded into out (2n+1 bytes). */
enum ot_err ot_random_hex(size_t n, char *out);
/* Constant-time compare of two equal-length buffers; 1 if equal. */
int ot_ct_equal(const void *a, const void *b, size_t n);

#endif
