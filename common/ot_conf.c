#include "ot_json_text.h"
#include "ot_conf.h"
#include "ot_log.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum ot_err ot_file_read(const char *path, size_t max, char **out, size_t *len)
{
    enum ot_err rc = OT_ERR_IO;
    char *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return OT_ERR_IO;
    buf = malloc(max + 1);
    if (!buf) {
        rc = OT_ERR_NOMEM;
        goto fail;
    }
    size_t n = fread(buf, 1, max + 1, f);
    if (ferror(f))
        goto fail;
    if (n > max) {
        rc = OT_ERR_TOOBIG;
        goto fail;
    }
    buf[n] = '\0';
    fclose(f);
    *out = buf;
    if (len)
        *len = n;
    return OT_OK;
fail:
    free(buf);
    fclose(f);
    return rc;
}

int ot_path_relative(const char *base_file, const char *name, char *out, size_t outlen)
{
    int n;
    const char *slash = base_file ? strrchr(base_file, '/') : NULL;
    if (name[0] == '/' || !slash)
        n = snprintf(out, outlen, "%s", name);
    else
        n = snprintf(out, outlen, "%.*s/%s", (int)(slash - base_file), base_file, name);
    return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}

enum ot_err ot_conf_fail(struct ot_conf *c, const char *where, const char *key, const char *fmt,
                         ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *dot = (where && *where && key && *key) ? "." : "";
    snprintf(c->err, sizeof c->err, "%.256s: %.120s%s%.64s: %s", c->file, where ? where : "", dot,
             key ? key : "", msg);
    return OT_ERR_CONFIG;
}

enum ot_err ot_conf_load(struct ot_conf *c, const char *file)
{
    char *text = NULL;
    size_t len = 0;
    memset(c, 0, sizeof *c);
    snprintf(c->file, sizeof c->file, "%s", file);
    enum ot_err rc = ot_file_read(file, OT_CONF_MAX_BYTES, &text, &len);
    if (rc == OT_ERR_TOOBIG)
        return ot_conf_fail(c, "", "", "file larger than %d bytes", OT_CONF_MAX_BYTES);
    if (rc) {
        snprintf(c->err, sizeof c->err, "%s: cannot read: %s", file, strerror(errno));
        return OT_ERR_CONFIG;
    }
    char where[128];
    enum ot_json_text_fault tf = ot_json_text_check(text, len, where, sizeof where);
    if (tf) {
        /* before cJSON, which would cut a "\u0000" value short unseen */
        snprintf(c->err, sizeof c->err, "%s: %s: %s", file, where, ot_json_text_fault_str(tf));
        free(text);
        return OT_ERR_CONFIG;
    }
    const char *end = NULL;
    c->root = cJSON_ParseWithLengthOpts(text, len + 1, &end, 1); /* +1: the NUL */
    if (!c->root) {
        size_t off = end ? (size_t)(end - text) : 0;
        size_t line = 1;
        for (size_t i = 0; i < off && i < len; i++)
            line += text[i] == '\n';
        snprintf(c->err, sizeof c->err, "%s: line %zu: malformed JSON", file, line);
        free(text);
        return OT_ERR_CONFIG;
    }
    free(text);
    if (!cJSON_IsObject(c->root)) {
        snprintf(c->err, sizeof c->err, "%s: expected a JSON object at the top", file);
        return OT_ERR_CONFIG;
    }
    return OT_OK;
}

void ot_conf_free(struct ot_conf *c)
{
    if (!c)
        return;
    cJSON_Delete(c->root);
    c->root = NULL;
}

enum ot_err ot_conf_str(struct ot_conf *c, const cJSON *obj, const char *where, const char *key,
                        const char *def, const char **out)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it || cJSON_IsNull(it)) {
        if (!def)
            return ot_conf_fail(c, where, key, "required string is missing");
        *out = def;
        return OT_OK;
    }
    if (!cJSON_IsString(it) || !it->valuestring)
        return ot_conf_fail(c, where, key, "expected a string");
    *out = it->valuestring;
    return OT_OK;
}

enum ot_err ot_conf_num(struct ot_conf *c, const cJSON *obj, const char *where, const char *key,
                        int required, double def, double min, double max, double *out)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it || cJSON_IsNull(it)) {
        if (required)
            return ot_conf_fail(c, where, key, "required number is missing");
        *out = def;
        return OT_OK;
    }
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) || it->valuedouble < min ||
        it->valuedouble > max)
        return ot_conf_fail(c, where, key, "expected a number %g..%g", min, max);
    *out = it->valuedouble;
    return OT_OK;
}

enum ot_err ot_conf_int(struct ot_conf *c, const cJSON *obj, const char *where, const char *key,
                        int required, int64_t def, int64_t min, int64_t max, int64_t *out)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it || cJSON_IsNull(it)) {
        if (required)
            return ot_conf_fail(c, where, key, "required integer is missing");
        *out = def;
        return OT_OK;
    }
    double v = cJSON_IsNumber(it) ? it->valuedouble : NAN;
    if (!isfinite(v) || v != floor(v) || v < (double)min || v > (double)max)
        return ot_conf_fail(c, where, key, "expected an integer %lld..%lld", (long long)min,
                            (long long)max);
    *out = (int64_t)v;
    return OT_OK;
}

enum ot_err ot_conf_bool(struct ot_conf *c, const cJSON *obj, const char *where, const char *key,
                         int required, int def, int *out)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it || cJSON_IsNull(it)) {
        if (required)
            return ot_conf_fail(c, where, key, "required boolean is missing");
        *out = def;
        return OT_OK;
    }
    if (!cJSON_IsBool(it))
        return ot_conf_fail(c, where, key, "expected true or false");
    *out = cJSON_IsTrue(it);
    return OT_OK;
}

enum ot_err ot_conf_child(struct ot_conf *c, const cJSON *obj, const char *where, const char *key,
                          int type, int required, const cJSON **out)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    if (!it || cJSON_IsNull(it)) {
        if (required)
            return ot_conf_fail(c, where, key, "required %s is missing",
                                type == cJSON_Array ? "array" : "object");
        return OT_OK;
    }
    if ((it->type & 0xFF) != type)
        return ot_conf_fail(c, where, key, "expected %s",
                            type == cJSON_Array ? "an array" : "an object");
    *out = it;
    return OT_OK;
}

static int key_known(const cJSON *it, const char *const *known)
{
    for (const char *const *k = known; *k; k++)
        if (it->string && strcmp(it->string, *k) == 0)
            return 1;
    return 0;
}

enum ot_err ot_conf_known(struct ot_conf *c, const cJSON *obj, const char *where,
                          const char *const *known)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, obj)
    {
        if (!key_known(it, known))
            return ot_conf_fail(c, where, it->string ? it->string : "?", "unknown key");
    }
    return OT_OK;
}

void ot_conf_warn_unknown(const struct ot_conf *c, const cJSON *obj, const char *where,
                          const char *const *known)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, obj)
    {
        if (!key_known(it, known))
            ot_warn("unknown config key ignored file=%s key=%s%s%s", c->file, where ? where : "",
                    where && *where ? "." : "", it->string ? it->string : "?");
    }
}
