/* fuzz_api_request - libFuzzer target for what organtrack-api parses from
 * clients: the first byte picks the parser, the rest is the input.
 *   0: create-shipment body (JSON) -> api__shipment_parse
 *   1: custody body (JSON)         -> api__custody_parse
 *   2: query values                -> limit / time / cursor parsers
 *   3: URL path                    -> api__static_path, api__route_find
 *   4: SSE data                    -> api__sse_format
 * Beyond "no crash, no leak, no UB" it checks the promises: a refusal
 * names a field and says why; an accepted shipment satisfies every rule
 * (container id pattern, coordinates in range, mode known); an accepted
 * static path has no ".." or hidden segment; SSE output never carries a
 * raw newline inside a data line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "ot_log.h"
#include "ot_reading.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

static void shipment(const char *s)
{
    struct api_shipment_in in;
    char field[64] = "", msg[256] = "";
    cJSON *j = cJSON_Parse(s);
    if (!j)
        return;
    enum ot_err rc =
        api__shipment_parse(j, 1795407000000LL, 300000, &in, field, sizeof field, msg, sizeof msg);
    if (rc) {
        check(rc == OT_ERR_INVAL && msg[0]);
    } else {
        check(ot_id_valid(in.container));
        check(in.origin.lat >= -90 && in.origin.lat <= 90);
        check(in.destination.lon >= -180 && in.destination.lon <= 180);
        check(!strcmp(in.mode, "ground") || !strcmp(in.mode, "air") || !strcmp(in.mode, "mixed"));
        check(api__donation_code_valid(in.donation_code));
        check(in.cross_clamp_at <= 1795407000000LL + 300000);
    }
    cJSON_Delete(j);
}

static void custody(const char *s)
{
    struct api_custody_in in;
    char field[64] = "", msg[256] = "";
    cJSON *j = cJSON_Parse(s);
    if (!j)
        return;
    enum ot_err rc = api__custody_parse(j, &in, field, sizeof field, msg, sizeof msg);
    if (rc)
        check(msg[0] != '\0');
    else if (!strcmp(in.type, "handoff"))
        check(in.witness[0] && in.to[0]);
    cJSON_Delete(j);
}

static void query(const char *s)
{
    int64_t v, a, b;
    if (api__parse_limit(s, 50, 500, &v) == 0)
        check(v >= 1 && v <= 500);
    if (api__parse_time(s, &v) == 0)
        check(v >= -62135596800000LL);
    if (api__parse_cursor(s, &a, &b) == 0)
        check(a >= 0 && b >= 0);
}

static void path(const char *s)
{
    char out[1100];
    int64_t id = 0;
    int known = 0;
    if (api__static_path(s, out, sizeof out) == 0) {
        check(out[0] != '.' && out[0] != '/' && strstr(out, "/.") == NULL);
        check(strchr(out, '\\') == NULL);
        (void)api__content_type(out);
    }
    int r = api__route_find("GET", s, &id, &known);
    if (r >= 0 && strstr(api__routes[r].pattern, "{id}"))
        check(id > 0);
}

static void sse(const char *s)
{
    char buf[8192];
    int n = api__sse_format(buf, sizeof buf, 1, "reading", s);
    if (n < 0)
        return;
    check((size_t)n == strlen(buf));
    /* every line is a field line or the terminating blank line */
    for (char *line = buf; *line;) {
        char *nl = strchr(line, '\n');
        check(nl != NULL);
        check(nl == line || !strncmp(line, "id: ", 4) || !strncmp(line, "event: ", 7) ||
              !strncmp(line, "data: ", 6));
        check(memchr(line, '\r', (size_t)(nl - line)) == NULL);
        line = nl + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int quiet;
    if (!quiet) {
        ot_log_init("fuzz", OT_LOG_ERROR);
        quiet = 1;
    }
    if (size < 1 || size > 65536)
        return 0;
    char *s = malloc(size);
    if (!s)
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    switch (data[0] % 5) {
    case 0:
        shipment(s);
        break;
    case 1:
        custody(s);
        break;
    case 2:
        query(s);
        break;
    case 3:
        path(s);
        break;
    default:
        sse(s);
        break;
    }
    free(s);
    return 0;
}
