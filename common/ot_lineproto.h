/* ot_lineproto.h - InfluxDB line protocol encoder (no C client is packaged).
 *
 *   measurement[,tag=value...] field=value[,field=value...] timestamp\n
 *
 * Escaping follows InfluxDB's line-protocol reference exactly:
 *   measurement:                  comma, space       -> "\," "\ "
 *   tag keys, tag values,
 *   field keys:                   comma, equals, space -> "\," "\=" "\ "
 *   string field values (quoted): double quote, backslash -> "\"" "\\"
 * Integers carry the suffix i, booleans are true/false, floats are plain
 * decimal (finite only). What the protocol cannot represent is refused with
 * OT_ERR_INVAL instead of written wrongly: an empty name or tag value, a
 * newline or carriage return in a name or tag, a measurement starting with
 * '#' (a comment line), a name or tag value ending in a backslash (it would
 * escape the delimiter after it), NaN and infinities. A newline inside a
 * string field value is written as the two characters \n.
 *
 * A struct ot_lineproto is a growable buffer with a size cap. Each line is
 * built with begin, tag..., field..., end; if any step fails the partial
 * line is rolled back at end() (or by ot_lineproto_abort) and the buffer
 * keeps only complete lines. */
#ifndef OT_LINEPROTO_H
#define OT_LINEPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "ot_err.h"

struct ot_lineproto {
    char *buf; /* owned; NUL-terminated; ot_lineproto_free() */
    size_t len, cap;
    size_t max; /* cap on len in bytes */
    size_t line_start;
    size_t lines;    /* complete lines in buf */
    int nfields;     /* fields of the current line */
    enum ot_err err; /* first error of the current line */
};

/* max: size cap of the buffer in bytes (0 = 1 MiB). */
void ot_lineproto_init(struct ot_lineproto *lp, size_t max);
void ot_lineproto_free(struct ot_lineproto *lp);
/* Empties the buffer (keeps the allocation). */
void ot_lineproto_reset(struct ot_lineproto *lp);

/* Line building. Tags must come before fields. */
enum ot_err ot_lineproto_begin(struct ot_lineproto *lp, const char *measurement);
enum ot_err ot_lineproto_tag(struct ot_lineproto *lp, const char *key, const char *value);
enum ot_err ot_lineproto_field_float(struct ot_lineproto *lp, const char *key, double v);
enum ot_err ot_lineproto_field_int(struct ot_lineproto *lp, const char *key, int64_t v);
enum ot_err ot_lineproto_field_bool(struct ot_lineproto *lp, const char *key, int v);
enum ot_err ot_lineproto_field_string(struct ot_lineproto *lp, const char *key, const char *v);
/* Ends the line with timestamp ts (in the writer's precision, e.g. ms).
 * Returns the first error of the line (and drops the line), OT_ERR_INVAL if
 * it has no field, or OT_OK. */
enum ot_err ot_lineproto_end(struct ot_lineproto *lp, int64_t ts);
/* Drops the line being built. */
void ot_lineproto_abort(struct ot_lineproto *lp);

/* Escapers into a caller buffer: return the length written (NUL-terminated),
 * or -1 if the input is not representable or out is too small. */
long ot_lineproto_escape_measurement(const char *in, char *out, size_t outlen);
long ot_lineproto_escape_tag(const char *in, char *out,
                             size_t outlen); /* tag key/value, field key */
long ot_lineproto_escape_string(const char *in, char *out, size_t outlen); /* without the quotes */

#endif
