/* ot_json_text.c - string checks on a raw JSON text (ot_json_text.h).
 *
 * How it works: one pass over the bytes with a small state machine that
 * knows only what it must: whether it is inside a string, whether that
 * string is a key (the next non-space byte after it is ':'), and the stack
 * of keys and array indexes that leads to it (for the error's path, up to
 * PATH_DEPTH levels; deeper levels are shown as "..."). Inside a string it
 * refuses raw bytes below 0x20 and 0x7F, escapes \u0000..\u001F (but \t,
 * \n, \r) and \u007F, the short escapes \b and \f, escaped lone surrogates, and any byte sequence
 * that is not UTF-8 (overlong forms, surrogates, above U+10FFFF). Outside strings nothing is
 * judged: cJSON refuses malformed JSON afterwards. Why before parsing: cJSON_Parse decodes \u0000
 * into a C string, which ends there, so after parsing the rest of the value is gone without a
 * trace. */
#include "ot_json_text.h"

#include <stdio.h>
#include <string.h>

#define PATH_DEPTH 8
#define KEY_MAX 32

struct level {
    int is_array;
    long index;        /* arrays: the element being read */
    char key[KEY_MAX]; /* objects: the member being read */
};

size_t ot_utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    unsigned cp = c & (0xFFu >> (len + 1));
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

static int hex4(const char *p, const char *end, unsigned *out)
{
    unsigned v = 0;
    if (end - p < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        char ch = p[i];
        unsigned d = (ch >= '0' && ch <= '9')   ? (unsigned)(ch - '0')
                     : (ch >= 'a' && ch <= 'f') ? (unsigned)(ch - 'a' + 10)
                     : (ch >= 'A' && ch <= 'F') ? (unsigned)(ch - 'A' + 10)
                                                : 16u;
        if (d > 15)
            return -1;
        v = v * 16 + d;
    }
    *out = v;
    return 0;
}

static void copy_key(char *dst, const char *s, const char *e)
{
    size_t k = 0;
    for (; s < e && k + 1 < KEY_MAX; s++) {
        char ch = *s;
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                 ch == '_' || ch == '-' || ch == '.';
        dst[k++] = ok ? ch : '?';
    }
    dst[k] = '\0';
}

static void make_path(const struct level *lv, int depth, int is_key, char *path, size_t cap)
{
    size_t n = 0;
    path[0] = '\0';
    for (int i = 0; i < depth && i < PATH_DEPTH && n < cap; i++) {
        if (lv[i].is_array)
            n += (size_t)snprintf(path + n, cap - n, "[%ld]", lv[i].index);
        else if (!(is_key && i == depth - 1))
            n += (size_t)snprintf(path + n, cap - n, "%s%s", n ? "." : "", lv[i].key);
    }
    if (depth > PATH_DEPTH && n < cap)
        n += (size_t)snprintf(path + n, cap - n, "...");
    if (is_key && n < cap)
        snprintf(path + n, cap - n, "%s(key)", n ? "." : "");
    if (!path[0])
        snprintf(path, cap, "(document)");
}

/* Scans the string starting after its opening quote; *pe: after the
 * closing quote. */
static enum ot_json_text_fault scan_string(const char *p, const char *end, const char **pe)
{
    while (p < end && *p != '"') {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c == 0x7F)
            return OT_JSON_TEXT_CONTROL;
        if (c == '\\') {
            if (p + 1 >= end)
                break;
            if (p[1] == 'b' || p[1] == 'f')
                return OT_JSON_TEXT_CONTROL; /* U+0008, U+000C (found by fuzz_json_text) */
            if (p[1] == 'u') {
                unsigned u, lo;
                if (hex4(p + 2, end, &u))
                    break; /* malformed: cJSON says so */
                if ((u < 0x20 && u != '\t' && u != '\n' && u != '\r') || u == 0x7F)
                    return OT_JSON_TEXT_CONTROL;
                if (u >= 0xDC00 && u <= 0xDFFF)
                    return OT_JSON_TEXT_UTF8;
                if (u >= 0xD800 && u <= 0xDBFF) {
                    if (end - p < 12 || p[6] != '\\' || p[7] != 'u' || hex4(p + 8, end, &lo) ||
                        lo < 0xDC00 || lo > 0xDFFF)
                        return OT_JSON_TEXT_UTF8;
                    p += 12;
                    continue;
                }
                p += 6;
                continue;
            }
            p += 2;
            continue;
        }
        size_t l = ot_utf8_seq_len((const unsigned char *)p, (size_t)(end - p));
        if (!l)
            return OT_JSON_TEXT_UTF8;
        p += l;
    }
    *pe = p < end ? p + 1 : end;
    return OT_JSON_TEXT_OK;
}

enum ot_json_text_fault ot_json_text_check(const char *text, size_t len, char *path, size_t cap)
{
    struct level lv[PATH_DEPTH];
    int depth = 0;
    const char *p = text, *end = text + len;
    if (cap)
        path[0] = '\0';
    while (p < end) {
        char ch = *p;
        if (ch == '{' || ch == '[') {
            if (depth < PATH_DEPTH) {
                lv[depth].is_array = ch == '[';
                lv[depth].index = 0;
                lv[depth].key[0] = '\0';
            }
            depth++;
            p++;
        } else if (ch == '}' || ch == ']') {
            if (depth > 0)
                depth--;
            p++;
        } else if (ch == ',') {
            if (depth > 0 && depth <= PATH_DEPTH && lv[depth - 1].is_array)
                lv[depth - 1].index++;
            p++;
        } else if (ch == '"') {
            const char *s = p + 1, *e = NULL;
            enum ot_json_text_fault f = scan_string(s, end, &e);
            /* a key when the next non-space byte is ':' */
            const char *q = f ? s : e;
            while (q < end && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r'))
                q++;
            int in_object = depth > 0 && depth <= PATH_DEPTH && !lv[depth - 1].is_array;
            int is_key = !f && q < end && *q == ':' && in_object;
            if (f) {
                /* is it a key? look for the closing quote and a ':' */
                const char *c = s;
                while (c < end && *c != '"')
                    c += (*c == '\\' && c + 1 < end) ? 2 : 1;
                const char *r = c < end ? c + 1 : end;
                while (r < end && (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r'))
                    r++;
                is_key = r < end && *r == ':' && in_object;
                if (cap)
                    make_path(lv, depth, is_key, path, cap);
                return f;
            }
            if (is_key)
                copy_key(lv[depth - 1].key, s, e - 1);
            p = e;
        } else {
            p++;
        }
    }
    return OT_JSON_TEXT_OK;
}

const char *ot_json_text_fault_str(enum ot_json_text_fault f)
{
    switch (f) {
    case OT_JSON_TEXT_OK:
        return "ok";
    case OT_JSON_TEXT_CONTROL:
        return "contains a control character (U+0000..U+001F but tab, LF, CR; U+007F)";
    case OT_JSON_TEXT_UTF8:
        return "is not valid UTF-8";
    }
    return "is not acceptable text";
}
