/* ot_profile.c - Modbus device profiles: loading with strict validation, and
 * the register <-> engineering value codec.
 *
 * How it works: a profile is a JSON register map (SPEC "Device profile").
 * Loading checks every key and names file, key and what was expected on the
 * first error; a profile that loads is guaranteed to have 1..32 channels with
 * unique names, known function/type, 32-bit values only on register tables,
 * bool (and only bool) on coil/discrete tables, every channel inside the
 * 0..65535 address space, no two channels of the same table overlapping, a
 * finite, non-zero scale, and "output" only on coils.
 *
 * Codec: value = raw * scale + offset, where raw is the register content
 * interpreted by type: u16/i16 one register (i16 two's complement), u32/i32/
 * f32 two registers; "big" word order means the high 16-bit word is at the
 * lower address (the Modbus convention, "ABCD"), "little" means the low word
 * comes first ("CDAB"); bytes inside a register are always big-endian on the
 * wire (libmodbus hands us host-order uint16_t). f32 is IEEE-754 binary32.
 * Encoding inverts this: raw = (value - offset) / scale, rounded to nearest
 * and clamped to the type's range for integers (NaN encodes as 0), so
 * decode(encode(v)) == v to within half a scale step for every in-range v. */
#include "ot_profile.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ot_conf.h"
#include "ot_log.h"

#define PROFILE_DEFAULT_DIR "sensors/profiles"

static const char *const fn_names[] = {"coil", "discrete", "holding", "input"};
static const char *const type_names[] = {"u16", "i16", "u32", "i32", "f32", "bool"};

int ot_profile_channel_width(const struct ot_profile_channel *c)
{
    switch (c->type) {
    case OT_T_U32:
    case OT_T_I32:
    case OT_T_F32:
        return 2;
    default:
        return 1;
    }
}

static int is_32bit(enum ot_reg_type t)
{
    return t == OT_T_U32 || t == OT_T_I32 || t == OT_T_F32;
}

static int lookup(const char *s, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

static int valid_channel_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 32)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_'))
            return 0;
    }
    return 1;
}

/* A bare profile name must not walk out of the profile directory. */
static int valid_bare_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64 || s[0] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-' || ch == '.'))
            return 0;
    }
    return 1;
}

static enum ot_err load_channel(struct ot_conf *cf, const cJSON *node, const char *where,
                                struct ot_profile_channel *ch)
{
    static const char *const known[] = {"name",       "function", "address",     "type",
                                        "word_order", "scale",    "offset",      "unit",
                                        "output",     "notes",    "description", NULL};
    enum ot_err rc;
    const char *s = NULL;
    int64_t addr = 0;
    if (!cJSON_IsObject(node))
        return ot_conf_fail(cf, where, "", "expected an object");
    /* A typo in a register map decodes wrong values silently: refuse it. */
    if ((rc = ot_conf_known(cf, node, where, known)))
        return rc;
    if ((rc = ot_conf_str(cf, node, where, "name", NULL, &s)))
        return rc;
    if (!valid_channel_name(s))
        return ot_conf_fail(cf, where, "name", "expected 1..32 characters [A-Za-z0-9_]");
    snprintf(ch->name, sizeof ch->name, "%s", s);

    if ((rc = ot_conf_str(cf, node, where, "function", NULL, &s)))
        return rc;
    int fn = lookup(s, fn_names, 4);
    if (fn < 0)
        return ot_conf_fail(cf, where, "function", "expected coil, discrete, holding or input");
    ch->function = (enum ot_reg_function)fn;

    if ((rc = ot_conf_int(cf, node, where, "address", 1, 0, 0, 65535, &addr)))
        return rc;
    ch->address = (uint16_t)addr;

    if ((rc = ot_conf_str(cf, node, where, "type", NULL, &s)))
        return rc;
    int ty = lookup(s, type_names, 6);
    if (ty < 0)
        return ot_conf_fail(cf, where, "type", "expected u16, i16, u32, i32, f32 or bool");
    ch->type = (enum ot_reg_type)ty;
    if ((ch->function == OT_FN_COIL || ch->function == OT_FN_DISCRETE) && ch->type != OT_T_BOOL)
        return ot_conf_fail(cf, where, "type", "expected bool for function %s",
                            fn_names[ch->function]);

    const cJSON *wo = cJSON_GetObjectItemCaseSensitive(node, "word_order");
    ch->word_order_little = 0;
    if (wo && !cJSON_IsNull(wo)) {
        if (!is_32bit(ch->type))
            return ot_conf_fail(cf, where, "word_order", "only allowed for u32, i32 and f32");
        if ((rc = ot_conf_str(cf, node, where, "word_order", NULL, &s)))
            return rc;
        if (strcmp(s, "big") == 0)
            ch->word_order_little = 0;
        else if (strcmp(s, "little") == 0)
            ch->word_order_little = 1;
        else
            return ot_conf_fail(cf, where, "word_order", "expected big or little");
    }
    if ((int64_t)ch->address + ot_profile_channel_width(ch) - 1 > 65535)
        return ot_conf_fail(cf, where, "address", "a %s at %u runs past register 65535",
                            type_names[ch->type], (unsigned)ch->address);

    if ((rc = ot_conf_num(cf, node, where, "scale", 0, 1.0, -1e15, 1e15, &ch->scale)))
        return rc;
    if (ch->scale == 0.0)
        return ot_conf_fail(cf, where, "scale", "expected a non-zero number");
    if ((rc = ot_conf_num(cf, node, where, "offset", 0, 0.0, -1e15, 1e15, &ch->offset)))
        return rc;
    if (ch->type == OT_T_BOOL && (ch->scale != 1.0 || ch->offset != 0.0))
        return ot_conf_fail(cf, where, ch->scale != 1.0 ? "scale" : "offset",
                            "not allowed for type bool");

    if ((rc = ot_conf_str(cf, node, where, "unit", "", &s)))
        return rc;
    if (strlen(s) >= sizeof ch->unit)
        return ot_conf_fail(cf, where, "unit", "expected at most %zu bytes", sizeof ch->unit - 1);
    snprintf(ch->unit, sizeof ch->unit, "%s", s);

    if ((rc = ot_conf_str(cf, node, where, "output", "", &s)))
        return rc;
    ch->output = OT_OUT_NONE;
    if (*s) {
        if (strcmp(s, "alarm") != 0)
            return ot_conf_fail(cf, where, "output", "expected \"alarm\"");
        /* a coil is the one writable bit a Modbus device has (function 05) */
        if (ch->function != OT_FN_COIL)
            return ot_conf_fail(cf, where, "output", "an alarm output must be a coil");
        ch->output = OT_OUT_ALARM;
    }
    return OT_OK;
}

static int overlaps(const struct ot_profile_channel *a, const struct ot_profile_channel *b)
{
    if (a->function != b->function)
        return 0;
    long a0 = a->address, a1 = a0 + ot_profile_channel_width(a) - 1;
    long b0 = b->address, b1 = b0 + ot_profile_channel_width(b) - 1;
    return a0 <= b1 && b0 <= a1;
}

enum ot_err ot_profile_load(const char *name_or_path, const char *dir, struct ot_profile *out,
                            char *err, size_t errlen)
{
    static const char *const known[] = {"name",  "vendor",      "source",   "notes",
                                        "model", "description", "channels", NULL};
    struct ot_conf cf;
    char path[512];
    enum ot_err rc = OT_OK;
    const char *s = NULL;
    const cJSON *chans = NULL;

    memset(out, 0, sizeof *out);
    memset(&cf, 0, sizeof cf);
    if (!name_or_path || !*name_or_path) {
        snprintf(err, errlen, "profile: empty name");
        return OT_ERR_INVAL;
    }
    size_t len = strlen(name_or_path);
    int is_path = strchr(name_or_path, '/') != NULL ||
                  (len > 5 && strcmp(name_or_path + len - 5, ".json") == 0);
    int n;
    if (is_path) {
        n = snprintf(path, sizeof path, "%s", name_or_path);
    } else {
        if (!valid_bare_name(name_or_path)) {
            snprintf(err, errlen, "profile %.64s: expected a name [A-Za-z0-9_.-] or a path",
                     name_or_path);
            return OT_ERR_INVAL;
        }
        n = snprintf(path, sizeof path, "%s/%s.json", dir && *dir ? dir : PROFILE_DEFAULT_DIR,
                     name_or_path);
    }
    if (n < 0 || (size_t)n >= sizeof path) {
        snprintf(err, errlen, "profile %.64s: path too long", name_or_path);
        return OT_ERR_INVAL;
    }

    if ((rc = ot_conf_load(&cf, path)))
        goto fail;
    const cJSON *root = cf.root;
    const cJSON *it;
    cJSON_ArrayForEach(it, root)
    {
        int ok = 0;
        for (const char *const *k = known; *k; k++)
            ok |= it->string && strcmp(it->string, *k) == 0;
        if (!ok)
            ot_warn("profile unknown key ignored file=%s key=%s", path,
                    it->string ? it->string : "?");
    }
    if ((rc = ot_conf_str(&cf, root, "", "name", NULL, &s)))
        goto fail;
    if (!*s || strlen(s) >= sizeof out->name) {
        rc = ot_conf_fail(&cf, "", "name", "expected 1..%zu bytes", sizeof out->name - 1);
        goto fail;
    }
    snprintf(out->name, sizeof out->name, "%s", s);
    if ((rc = ot_conf_str(&cf, root, "", "vendor", "", &s)))
        goto fail;
    if (strlen(s) >= sizeof out->vendor) {
        rc = ot_conf_fail(&cf, "", "vendor", "expected at most %zu bytes", sizeof out->vendor - 1);
        goto fail;
    }
    snprintf(out->vendor, sizeof out->vendor, "%s", s);
    if ((rc = ot_conf_str(&cf, root, "", "source", NULL, &s)))
        goto fail;
    if (!*s || strlen(s) >= sizeof out->source) {
        rc = ot_conf_fail(&cf, "", "source", "expected 1..%zu bytes (document title and URL)",
                          sizeof out->source - 1);
        goto fail;
    }
    snprintf(out->source, sizeof out->source, "%s", s);

    if ((rc = ot_conf_child(&cf, root, "", "channels", cJSON_Array, 1, &chans)))
        goto fail;
    int count = cJSON_GetArraySize(chans);
    if (count < 1 || count > OT_PROFILE_MAX_CHANNELS) {
        rc = ot_conf_fail(&cf, "", "channels", "expected 1..%d channels", OT_PROFILE_MAX_CHANNELS);
        goto fail;
    }
    int i = 0;
    cJSON_ArrayForEach(it, chans)
    {
        char where[32];
        snprintf(where, sizeof where, "channels[%d]", i);
        struct ot_profile_channel *ch = &out->ch[i];
        if ((rc = load_channel(&cf, it, where, ch)))
            goto fail;
        for (int j = 0; j < i; j++) {
            if (strcmp(out->ch[j].name, ch->name) == 0) {
                rc = ot_conf_fail(&cf, where, "name", "duplicate channel name \"%s\"", ch->name);
                goto fail;
            }
            if (overlaps(&out->ch[j], ch)) {
                rc = ot_conf_fail(
                    &cf, where, "address", "%s register %u overlaps channels[%d] \"%s\"",
                    fn_names[ch->function], (unsigned)ch->address, j, out->ch[j].name);
                goto fail;
            }
        }
        i++;
    }
    out->n = (size_t)i;
    ot_conf_free(&cf);
    return OT_OK;
fail:
    snprintf(err, errlen, "%s", cf.err[0] ? cf.err : ot_strerror(rc));
    ot_conf_free(&cf);
    memset(out, 0, sizeof *out);
    return rc ? rc : OT_ERR_CONFIG;
}

static uint32_t join32(const struct ot_profile_channel *c, const uint16_t *regs)
{
    uint16_t hi = c->word_order_little ? regs[1] : regs[0];
    uint16_t lo = c->word_order_little ? regs[0] : regs[1];
    return ((uint32_t)hi << 16) | lo;
}

static void split32(const struct ot_profile_channel *c, uint32_t v, uint16_t *regs)
{
    uint16_t hi = (uint16_t)(v >> 16), lo = (uint16_t)(v & 0xFFFFu);
    regs[0] = c->word_order_little ? lo : hi;
    regs[1] = c->word_order_little ? hi : lo;
}

double ot_profile_decode(const struct ot_profile_channel *c, const uint16_t *regs)
{
    double raw;
    switch (c->type) {
    case OT_T_U16:
        raw = regs[0];
        break;
    case OT_T_I16:
        raw = (double)(int16_t)regs[0];
        break;
    case OT_T_U32:
        raw = (double)join32(c, regs);
        break;
    case OT_T_I32: {
        uint32_t u = join32(c, regs);
        int32_t v;
        memcpy(&v, &u, sizeof v); /* two's complement, no implementation-defined cast */
        raw = v;
        break;
    }
    case OT_T_F32: {
        uint32_t u = join32(c, regs);
        float f;
        memcpy(&f, &u, sizeof f);
        raw = (double)f;
        break;
    }
    case OT_T_BOOL:
    default:
        return regs[0] ? 1.0 : 0.0;
    }
    return raw * c->scale + c->offset;
}

static double round_clamp(double raw, double lo, double hi)
{
    if (isnan(raw))
        return 0.0;
    raw = nearbyint(raw);
    if (raw < lo)
        return lo;
    if (raw > hi)
        return hi;
    return raw;
}

void ot_profile_encode(const struct ot_profile_channel *c, double value, uint16_t *regs)
{
    if (c->type == OT_T_BOOL) {
        regs[0] = (!isnan(value) && value != 0.0) ? 1 : 0;
        return;
    }
    double raw = (value - c->offset) / c->scale;
    switch (c->type) {
    case OT_T_U16:
        regs[0] = (uint16_t)round_clamp(raw, 0.0, 65535.0);
        break;
    case OT_T_I16: {
        int16_t v = (int16_t)round_clamp(raw, -32768.0, 32767.0);
        memcpy(&regs[0], &v, sizeof v);
        break;
    }
    case OT_T_U32:
        split32(c, (uint32_t)round_clamp(raw, 0.0, 4294967295.0), regs);
        break;
    case OT_T_I32: {
        int32_t v = (int32_t)round_clamp(raw, -2147483648.0, 2147483647.0);
        uint32_t u;
        memcpy(&u, &v, sizeof u);
        split32(c, u, regs);
        break;
    }
    case OT_T_F32: {
        float f = (float)raw;
        uint32_t u;
        memcpy(&u, &f, sizeof u);
        split32(c, u, regs);
        break;
    }
    default:
        break;
    }
}
