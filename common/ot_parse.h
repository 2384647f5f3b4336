/* ot_parse.h - checked number parsing (never atoi/strtol unchecked). */
#ifndef OT_PARSE_H
#define OT_PARSE_H

#include <stdint.h>

/* Whole string must be a decimal integer within [min,max]. 0 on success. */
int ot_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
/* Whole string must be a finite number within [min,max]. 0 on success. */
int ot_parse_double(const char *s, double min, double max, double *out);

#endif
