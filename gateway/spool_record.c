/* spool_record.c - how a record looks on disk.
 *
 *   u32 len | u32 crc32(len bytes, payload) | payload[len]     (little endian)
 *   reading:     u8 1 | i64 seq | i64 ts_ms | u32 present | u32 missing
 *                | f64 per present canonical channel | u8 n_extra
 *                | n_extra x (u8 name_len | name | u8 is_bool | f64 value)
 *   reservation: u8 2 | i64 reserved_to
 *
 * A reservation says "seqs up to reserved_to may have been handed out"; it
 * is what lets open() skip every seq that a power cut may have taken after
 * it was published (docs/internals/spool.md). The CRC covers the length, so
 * a torn or zero-filled tail never decodes. */
#include <string.h>

#include "spool_int.h"

/* ---- CRC-32 (reflected, polynomial 0xEDB88320) ---- */

static uint32_t crc_table[256];
static int crc_ready;

uint32_t spool__crc32(uint32_t crc, const void *buf, size_t len)
{
    if (!crc_ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            crc_table[i] = c;
        }
        crc_ready = 1;
    }
    const uint8_t *p = buf;
    crc = ~crc;
    for (size_t i = 0; i < len; i++)
        crc = crc_table[(crc ^ p[i]) & 0xffu] ^ (crc >> 8);
    return ~crc;
}

/* ---- little-endian helpers ---- */

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}
static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}
static uint64_t dbits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}
static double bitsd(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static size_t frame_close(uint8_t *buf, const uint8_t *end)
{
    uint32_t len = (uint32_t)(end - (buf + REC_HDR));
    put32(buf, len);
    uint32_t crc = spool__crc32(0, buf, 4);
    crc = spool__crc32(crc, buf + REC_HDR, len);
    put32(buf + 4, crc);
    return REC_HDR + len;
}

size_t record__encode_reading(const struct ot_reading *r, uint8_t *buf)
{
    uint8_t *p = buf + REC_HDR;
    *p++ = REC_READING;
    put64(p, (uint64_t)r->seq);
    p += 8;
    put64(p, (uint64_t)r->ts);
    p += 8;
    uint32_t present = r->present & ((1u << OT_CH__COUNT) - 1u);
    put32(p, present);
    p += 4;
    put32(p, r->missing & ((1u << OT_CH__COUNT) - 1u));
    p += 4;
    for (int ch = 0; ch < OT_CH__COUNT; ch++)
        if ((present >> ch) & 1u) {
            put64(p, dbits(r->v[ch]));
            p += 8;
        }
    size_t ne = r->n_extra > OT_EXTRA_MAX ? OT_EXTRA_MAX : r->n_extra;
    *p++ = (uint8_t)ne;
    for (size_t i = 0; i < ne; i++) {
        size_t nl = strnlen(r->extra[i].name, OT_CHANNEL_NAME_MAX);
        *p++ = (uint8_t)nl;
        memcpy(p, r->extra[i].name, nl);
        p += nl;
        *p++ = (uint8_t)(r->extra[i].is_bool != 0);
        put64(p, dbits(r->extra[i].value));
        p += 8;
    }
    return frame_close(buf, p);
}

size_t record__encode_reserve(int64_t reserved_to, uint8_t *buf)
{
    uint8_t *p = buf + REC_HDR;
    *p++ = REC_RESERVE;
    put64(p, (uint64_t)reserved_to);
    p += 8;
    return frame_close(buf, p);
}

/* Decodes a reading payload (CRC already checked). 0 on success. */
static int decode_reading(const uint8_t *p, uint32_t len, struct ot_reading *r)
{
    const uint8_t *end = p + len;
    memset(r, 0, sizeof *r);
    if (len < 26)
        return -1;
    p++;
    r->seq = (int64_t)get64(p);
    p += 8;
    r->ts = (int64_t)get64(p);
    p += 8;
    r->present = get32(p);
    p += 4;
    r->missing = get32(p);
    p += 4;
    if ((r->present | r->missing) >> OT_CH__COUNT || r->seq < 1 || r->seq > OT_SEQ_MAX)
        return -1;
    for (int ch = 0; ch < OT_CH__COUNT; ch++)
        if ((r->present >> ch) & 1u) {
            if (end - p < 8)
                return -1;
            r->v[ch] = bitsd(get64(p));
            p += 8;
        }
    if (end - p < 1)
        return -1;
    size_t ne = *p++;
    if (ne > OT_EXTRA_MAX)
        return -1;
    for (size_t i = 0; i < ne; i++) {
        if (end - p < 1)
            return -1;
        size_t nl = *p++;
        if (nl < 1 || nl > OT_CHANNEL_NAME_MAX || (size_t)(end - p) < nl + 9)
            return -1;
        memcpy(r->extra[i].name, p, nl);
        r->extra[i].name[nl] = '\0';
        p += nl;
        r->extra[i].is_bool = *p++;
        r->extra[i].value = bitsd(get64(p));
        p += 8;
    }
    r->n_extra = ne;
    return p == end ? 0 : -1;
}

size_t record__check(const uint8_t *p, size_t avail, unsigned *type, struct ot_reading *r,
                     int64_t *reserved)
{
    if (avail < REC_HDR)
        return 0;
    uint32_t len = get32(p);
    if (len < REC_MIN || len > REC_MAX || avail - REC_HDR < len)
        return 0;
    uint32_t crc = spool__crc32(0, p, 4);
    crc = spool__crc32(crc, p + REC_HDR, len);
    if (crc != get32(p + 4))
        return 0;
    const uint8_t *pl = p + REC_HDR;
    if (pl[0] == REC_READING) {
        struct ot_reading tmp;
        if (decode_reading(pl, len, r ? r : &tmp))
            return 0;
    } else if (pl[0] == REC_RESERVE) {
        int64_t v = (int64_t)get64(pl + 1);
        if (len != 9 || v < 0 || v > OT_SEQ_MAX)
            return 0;
        if (reserved)
            *reserved = v;
    } else {
        return 0;
    }
    *type = pl[0];
    return REC_HDR + len;
}
