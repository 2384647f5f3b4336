/* libFuzzer target: the string check every API body and config file goes
 * through before cJSON (ot_json_text_check), and the SSE Last-Event-ID
 * parse (ot_parse_i64 as events.c calls it). The first byte picks:
 *   0: JSON text -> ot_json_text_check, then cJSON. The promise: a text the
 *      check passes and cJSON parses holds no string (key or value) with a
 *      control character or invalid UTF-8, so nothing was cut short; a
 *      refusal names a path.
 *   1: Last-Event-ID header -> ot_parse_i64(0..INT64_MAX). The promise: an
 *      accepted id printed back parses to the same id. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ot_json_text.h"
#include "ot_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

static void clean_string(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        const unsigned char *u = (const unsigned char *)s + i;
        size_t l = ot_utf8_seq_len(u, n - i);
        check(l > 0);
        check(!(l == 1 &&
                ((u[0] < 0x20 && u[0] != '\t' && u[0] != '\n' && u[0] != '\r') || u[0] == 0x7F)));
        i += l;
    }
}

static void walk(const cJSON *j, int depth)
{
    if (depth > 200)
        return;
    for (const cJSON *it = j; it; it = it->next) {
        if (it->string)
            clean_string(it->string);
        if (cJSON_IsString(it))
            clean_string(it->valuestring);
        if (it->child)
            walk(it->child, depth + 1);
    }
}

static void json_text(const char *buf, size_t n)
{
    char path[128];
    enum ot_json_text_fault f = ot_json_text_check(buf, n, path, sizeof path);
    if (f) {
        check(path[0] != '\0' && memchr(path, '\0', sizeof path));
        return;
    }
    cJSON *j = cJSON_ParseWithLength(buf, n);
    if (j)
        walk(j, 0);
    cJSON_Delete(j);
}

static void last_event_id(const char *s)
{
    int64_t v;
    char back[32];
    if (ot_parse_i64(s, 0, INT64_MAX, &v))
        return;
    check(v >= 0);
    snprintf(back, sizeof back, "%" PRId64, v);
    int64_t w;
    check(ot_parse_i64(back, 0, INT64_MAX, &w) == 0 && w == v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    char *s = malloc(size);
    if (!s)
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    if (data[0] % 2 == 0)
        json_text(s, size - 1);
    else
        last_event_id(s);
    free(s);
    return 0;
}
