/*
 * timeutil.h - UTC calendar arithmetic without the C library's time zone
 * state (thread-safe, no TZ surprises).
 *
 * trpt_days_from_civil()  (y, m 1-12, d 1-31) -> days since 1970-01-01
 * trpt_civil_from_days()  inverse
 * trpt_day_of_us()        epoch microseconds -> epoch day (floor)
 * trpt_format_day()       epoch day -> "YYYY-MM-DD" (buf >= 11 bytes)
 * trpt_parse_day()        "YYYY-MM-DD" -> epoch day; -EINVAL if invalid
 * trpt_format_rfc3339()   epoch us -> "YYYY-MM-DDTHH:MM:SS[.ffffff]Z"
 *                         (buf >= 32 bytes; fraction only when non-zero)
 * trpt_parse_rfc3339()    "YYYY-MM-DDTHH:MM:SS[.f+](Z|+hh:mm|-hh:mm)" ->
 *                         epoch us; also accepts ' ' for 'T'
 * trpt_now_us()           wall clock, epoch microseconds
 * Years outside 1970..9999 are refused as absurd (-ERANGE).
 */
#ifndef TRPT_TIMEUTIL_H
#define TRPT_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

int64_t trpt_days_from_civil(int y, unsigned m, unsigned d);
void trpt_civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d);
int64_t trpt_day_of_us(int64_t us);
void trpt_format_day(int64_t day, char *buf);
int trpt_parse_day(const char *s, int64_t *day);
void trpt_format_rfc3339(int64_t us, char *buf);
int trpt_parse_rfc3339(const char *s, size_t len, int64_t *us);
int64_t trpt_now_us(void);

#endif
