/* ot_json_text.h - checks the strings of a JSON text before it is parsed:
 * cJSON keeps strings as C strings, so "\u0000" would silently cut a value
 * short, and it passes invalid UTF-8 through (ot_json_text.c). */
#ifndef OT_JSON_TEXT_H
#define OT_JSON_TEXT_H

#include <stddef.h>

enum ot_json_text_fault {
    OT_JSON_TEXT_OK = 0,
    OT_JSON_TEXT_CONTROL, /* U+0000..U+001F (but tab, LF, CR) or U+007F, escaped or raw */
    OT_JSON_TEXT_UTF8,    /* invalid UTF-8, or an escaped lone surrogate */
};

/* Scans text[0..len) (need not be valid JSON: the parser judges that).
 * On a fault, path (cap bytes, always terminated) names the string: the
 * member's key path such as "origin.name" or "containers[2]", "(key)" for
 * a key itself; only ASCII letters, digits, "_-.[]" are copied from keys. */
enum ot_json_text_fault ot_json_text_check(const char *text, size_t len, char *path, size_t cap);
/* A short English description of a fault ("contains a control character"). */
const char *ot_json_text_fault_str(enum ot_json_text_fault f);
/* Length of the valid UTF-8 sequence at s[0..n) (1..4), 0 if invalid. */
size_t ot_utf8_seq_len(const unsigned char *s, size_t n);

#endif
