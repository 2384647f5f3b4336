/* ot_conf.h - JSON configuration files with errors that name the file, the
 * key and what was expected:
 *   config/gateway.json: devices[1].timeout_ms: expected an integer 1..60000
 * A struct ot_conf owns the parsed tree; nodes returned point into it. */
#ifndef OT_CONF_H
#define OT_CONF_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "ot_err.h"

#define OT_CONF_MAX_BYTES (1024 * 1024)

struct ot_conf {
    char file[512];
    cJSON *root;
    char err[768]; /* set on failure */
};

/* Loads and parses file; must be a JSON object. ot_conf_free() always. */
enum ot_err ot_conf_load(struct ot_conf *c, const char *file);
void ot_conf_free(struct ot_conf *c);

/* Getters on an object node; `where` is the dotted path of obj for messages
 * ("" for the root). def == NULL (strings) or required != 0 means required.
 * Returned strings point into the tree. On failure c->err is set. */
enum ot_err ot_conf_str(struct ot_conf *c, const cJSON *obj, const char *where, const char *key,
                        const char *def, const char **out);
enum ot_err ot_conf_int(struct ot_conf *c, const cJSON *obj, const char *where, const char *key,
                        int required, int64_t def, int64_t min, int64_t max, int64_t *out);
enum ot_err ot_conf_num(struct ot_conf *c, const cJSON *obj, const char *where, const char *key,
                        int required, double def, double min, double max, double *out);
enum ot_err ot_conf_bool(struct ot_conf *c, const cJSON *obj, const char *where, const char *key,
                         int required, int def, int *out);
/* Child object/array (type = cJSON_Object or cJSON_Array); *out NULL if absent and !required. */
enum ot_err ot_conf_child(struct ot_conf *c, const cJSON *obj, const char *where, const char *key,
                          int type, int required, const cJSON **out);
/* Rejects keys of obj not in the NULL-terminated list `known`. */
enum ot_err ot_conf_known(struct ot_conf *c, const cJSON *obj, const char *where,
                          const char *const *known);
/* Logs one warning per key of obj not in `known` (programs accept and ignore
 * keys they do not know, so a newer config still starts an older program,
 * but a typo is visible in the log). */
void ot_conf_warn_unknown(const struct ot_conf *c, const cJSON *obj, const char *where,
                          const char *const *known);
/* Sets c->err with file and path prefix; returns OT_ERR_CONFIG. */
enum ot_err ot_conf_fail(struct ot_conf *c, const char *where, const char *key, const char *fmt,
                         ...) __attribute__((format(printf, 4, 5)));

/* Reads a whole file (cap max bytes) into a NUL-terminated malloc'd buffer; caller frees. */
enum ot_err ot_file_read(const char *path, size_t max, char **out, size_t *len);

/* Resolves `name` relative to the directory of `base_file` unless absolute;
 * writes into out. Returns 0, or -1 if it does not fit. */
int ot_path_relative(const char *base_file, const char *name, char *out, size_t outlen);

#endif
