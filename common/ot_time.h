/* ot_time.h - wall clock (epoch ms, UTC) and monotonic clock helpers. */
#ifndef OT_TIME_H
#define OT_TIME_H

#include <stddef.h>
#include <signal.h>
#include <stdint.h>

int64_t ot_time_now_ms(void);  /* CLOCK_REALTIME, epoch milliseconds */
int64_t ot_time_mono_ms(void); /* CLOCK_MONOTONIC milliseconds */
/* "2026-11-23T04:10:00.123Z"; buf needs 25 bytes. Returns buf. */
char *ot_time_format_iso(int64_t ms, char *buf, size_t len);
/* Accepts RFC 3339 "YYYY-MM-DDTHH:MM:SS[.fff](Z|+hh:mm|-hh:mm)". 0 on success. */
int ot_time_parse_iso(const char *s, int64_t *ms_out);
/* Sleeps up to ms, returning early (non-zero) if *stop becomes set. */
int ot_time_sleep_ms(int64_t ms, volatile sig_atomic_t *stop);

#endif
