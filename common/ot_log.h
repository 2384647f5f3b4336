/* ot_log.h - one line per event on stderr:
 *   2026-11-23T04:10:00.123Z info gateway published batch container=KZ-1 seq=5
 * Thread-safe (each line is written with a single write(2)). Never log
 * patient identity: shipments are named by donation code only. */
#ifndef OT_LOG_H
#define OT_LOG_H

enum ot_log_level { OT_LOG_DEBUG = 0, OT_LOG_INFO, OT_LOG_WARN, OT_LOG_ERROR };

/* component is copied (max 31 chars). */
void ot_log_init(const char *component, enum ot_log_level min_level);
void ot_log_set_level(enum ot_log_level min_level);
/* Parses "debug", "info", "warn", "error"; returns -1 if unknown. */
int ot_log_level_parse(const char *s);

/* fmt is "message key=value key=value"; values with spaces are the caller's to quote. */
void ot_log(enum ot_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define ot_debug(...) ot_log(OT_LOG_DEBUG, __VA_ARGS__)
#define ot_info(...) ot_log(OT_LOG_INFO, __VA_ARGS__)
#define ot_warn(...) ot_log(OT_LOG_WARN, __VA_ARGS__)
#define ot_error(...) ot_log(OT_LOG_ERROR, __VA_ARGS__)

#endif
