/* lineproto.h - InfluxDB line protocol encoder (no C client is packaged).
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
 * A struct lineproto is a growable buffer with a size cap. Each line is
 * built with begin, tag..., field..., end; if any step fails the partial
 * line is rolled back at end() (or by lineproto__abort) and the buffer
 * keeps only complete lines. */
#ifndef COLLECTOR_LINEPROTO_H
#define COLLECTOR_LINEPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "ot_err.h"

struct lineproto {
    char *buf; /* owned; NUL-terminated; lineproto__free() */
    size_t len, cap;
    size_t max; /* cap on len in bytes */
    size_t line_start;
    size_t lines;    /* complete lines in buf */
    int nfields;     /* fields of the current line */
    enum ot_err err; /* first error of the current line */
};

/* max: size cap of the buffer in bytes (0 = 1 MiB). */
void lineproto__init(struct lineproto *lp, size_t max);
void lineproto__free(struct lineproto *lp);
/* Empties the buffer (keeps the allocation). */
void lineproto__reset(struct lineproto *lp);

/* Line building. Tags must come before fields. */
enum ot_err lineproto__begin(struct lineproto *lp, const char *measurement);
enum ot_err lineproto__tag(struct lineproto *lp, const char *key, const char *value);
enum ot_err lineproto__field_float(struct lineproto *lp, const char *key, double v);
enum ot_err lineproto__field_int(struct lineproto *lp, const char *key, int64_t v);
enum ot_err lineproto__field_bool(struct lineproto *lp, const char *key, int v);
enum ot_err lineproto__field_string(struct lineproto *lp, const char *key, const char *v);
/* Ends the line with timestamp ts (in the writer's precision, e.g. ms).
 * Returns the first error of the line (and drops the line), OT_ERR_INVAL if
 * it has no field, or OT_OK. */
enum ot_err lineproto__end(struct lineproto *lp, int64_t ts);
/* Drops the line being built. */
void lineproto__abort(struct lineproto *lp);

/* Escapers into a caller buffer: return the length written (NUL-terminated),
 * or -1 if the input is not representable or out is too small. */
long lineproto__escape_measurement(const char *in, char *out, size_t outlen);
long lineproto__escape_tag(const char *in, char *out, size_t outlen); /* tag key/value, field key */
long lineproto__escape_string(const char *in, char *out, size_t outlen); /* without the quotes */

#endif
