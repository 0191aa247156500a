/*
 * logline.h - log line framing: split one raw log line into time, host,
 * program, pid and message.
 *
 * Recognised framings:
 *   traditional syslog   "Nov 28 11:45:39 host prog[pid]: msg"   (no year)
 *   RFC 3339 (rsyslog)   "2026-11-28T11:45:39.123456+00:00 host prog[pid]: msg"
 *   Exim mainlog         "2026-11-28 11:48:30 [pid] msg"  (also without [pid],
 *                        and with a "+0100"-style zone after the time)
 *
 * trpt_logline_parse() fills *out with pointers INTO the caller's line (no
 * allocation); the line must outlive *out. Returns 0, or a negative errno
 * with *reason set to a static string naming the failure (for counters):
 * "too-long", "nul-byte", "bad-utf8", "no-framing", "bad-date".
 * Year inference for traditional syslog: the year of ref_time_us, or the year
 * before when the month is more than one month after ref's month (a December
 * line read in January belongs to last year).
 */
#ifndef TRPT_LOGLINE_H
#define TRPT_LOGLINE_H

#include <stddef.h>
#include <stdint.h>

#define TRPT_LOGLINE_MAX 16384 /* longer lines are refused, "too-long" */

typedef enum trpt_framing {
    TRPT_FRAMING_SYSLOG = 1,
    TRPT_FRAMING_RFC3339,
    TRPT_FRAMING_EXIM,
} trpt_framing;

typedef struct trpt_logline {
    trpt_framing framing;
    int64_t time_us;  /* UTC microseconds since the epoch */
    const char *host; /* NULL for Exim mainlog (no host field) */
    size_t host_len;
    const char *prog; /* "postfix/smtp", "exim"; NULL for Exim mainlog */
    size_t prog_len;
    long pid;        /* -1 when absent */
    const char *msg; /* message text after "prog[pid]: " */
    size_t msg_len;
    /* 1: the whole line is known to hold no '\n' (trpt_logline_parse_ascii);
     * 0: unknown, consumers check themselves */
    int newline_free;
} trpt_logline;

int trpt_logline_parse(const char *line, size_t len, int64_t ref_time_us,
                       trpt_logline *out, const char **reason);

/* The same for a line the caller has already found to be ASCII without NUL
 * or '\n' bytes (e.g. while looking for its newline): the byte check is
 * skipped, so the reasons "nul-byte" and "bad-utf8" never come back, and
 * newline_free is set. Passing a line with other bytes breaks the promise
 * that msg is valid UTF-8. */
int trpt_logline_parse_ascii(const char *line, size_t len, int64_t ref_time_us,
                             trpt_logline *out, const char **reason);

#endif
