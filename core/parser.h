/*
 * parser.h - MTA log parsers: raw log lines in, normalized records out.
 *
 * One trpt_parser reads one stream (a file, stdin, a journal, an rsyslog
 * action) line by line. It frames each line (logline.h), hands it to the
 * Postfix or Exim parser, and keeps per-process correlation state (Postfix
 * TLS lines carry no queue id; they are linked to the delivery line of the
 * same postfix/smtp[pid]). Finished sessions are passed to the emit callback
 * as trpt_record; the callback must copy what it keeps (the record is cleared
 * after the call). A negative return from the callback aborts the feed and is
 * returned from trpt_parser_feed().
 *
 * trpt_parser_new()     create; cfg may be NULL for defaults (copied)
 * trpt_parser_feed()    one line (without its newline) at stream byte offset
 *                       `offset`; the offset is used for event ids
 * trpt_parser_feed_ascii() the same for a line known to be ASCII, no NUL,
 *                       no newline
 * trpt_parser_feed_msg() a pre-framed message (journald, rsyslog): the caller
 *                       gives time, host, program and pid itself
 * trpt_parser_flush()   end of stream: finish or drop open sessions
 * trpt_parser_oldest_open() where a replay must start to rebuild the open
 *                       correlation state (edges that resume after a crash)
 * trpt_parser_native_host(), trpt_parser_add_native_host()  the Postfix
 *                       hosts known to log TLSRPT: lines (postfix_tlsrpt
 *                       auto), to persist across a restart
 * trpt_parser_stats()   counters (lines, records, errors per reason)
 * trpt_parser_free()
 *
 * Bounded memory: at most cfg->max_sessions open correlation entries; the
 * oldest is finished early and counted as "evicted". Sessions idle for more
 * than cfg->session_timeout_s of log time are finished and counted.
 */
#ifndef TRPT_PARSER_H
#define TRPT_PARSER_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

typedef enum trpt_mta_format {
    TRPT_FORMAT_AUTO = 0,
    TRPT_FORMAT_POSTFIX,
    TRPT_FORMAT_EXIM,
} trpt_mta_format;

/* Which Postfix lines decide a session (config postfix_tlsrpt).
 * Postfix 3.10+ with smtp_tlsrpt_enable logs a TLSRPT: line for exactly the
 * handshakes it reports (not for TLS-Required: no mail, domains without a
 * TLSRPT record, reused connections); its verdict is authoritative. */
typedef enum trpt_tlsrpt_mode {
    TRPT_TLSRPT_AUTO = 0,  /* classic sessions count until a TLSRPT: line
                              has been seen from that host, then only
                              TLSRPT: lines count */
    TRPT_TLSRPT_ONLY,      /* only TLSRPT: lines count */
    TRPT_TLSRPT_CLASSIC,   /* TLSRPT: lines are ignored; classic lines only */
    TRPT_TLSRPT_DATAGRAMS, /* Postfix lines are ignored altogether: its
                              libtlsrpt datagrams (tlsrpt collect) are the
                              Postfix source; only one path per host */
} trpt_tlsrpt_mode;

typedef struct trpt_parser_config {
    trpt_mta_format format;
    const char *source_id;      /* event id source; required */
    int64_t ref_time_us;        /* for syslog year inference; 0 = now */
    size_t max_sessions;        /* default 100000 */
    unsigned session_timeout_s; /* default 3600 */
    /* Envelope senders whose deliveries are never counted (our own report
     * mails). NULL-terminated, may be NULL. Matched case-insensitively. */
    const char *const *exclude_senders;
    trpt_tlsrpt_mode tlsrpt_mode; /* Postfix only */
} trpt_parser_config;

/* Counters; reasons are fixed names so they can be reported per reason. */
typedef enum trpt_parse_error {
    TRPT_PERR_TOO_LONG = 0,
    TRPT_PERR_NUL_BYTE,
    TRPT_PERR_BAD_UTF8,
    TRPT_PERR_NO_FRAMING,
    TRPT_PERR_BAD_DATE,
    TRPT_PERR_BAD_TLSRPT_LINE,
    TRPT_PERR_BAD_DOMAIN,
    TRPT_PERR_COUNT
} trpt_parse_error;

const char *trpt_parse_error_name(trpt_parse_error e);

typedef struct trpt_parser_stats {
    uint64_t lines;         /* lines fed */
    uint64_t lines_used;    /* lines that contributed to a record */
    uint64_t lines_ignored; /* well-framed lines of no interest */
    uint64_t records;       /* records emitted */
    uint64_t excluded;      /* sessions dropped by exclude_senders */
    uint64_t evicted;       /* sessions finished early: memory bound */
    uint64_t timed_out;     /* sessions finished early: time-out */
    uint64_t superseded;    /* classic sessions not counted: tlsrpt_mode */
    uint64_t unfinished;    /* sessions dropped at flush: no domain yet */
    uint64_t errors[TRPT_PERR_COUNT];
} trpt_parser_stats;

typedef int (*trpt_emit_fn)(void *ctx, const trpt_record *rec);
typedef struct trpt_parser trpt_parser;

int trpt_parser_new(trpt_parser **out, const trpt_parser_config *cfg,
                    trpt_emit_fn emit, void *ctx);
int trpt_parser_feed(trpt_parser *p, const char *line, size_t len,
                     uint64_t offset);
/* trpt_parser_feed() for a line the caller has found to be ASCII without
 * NUL or '\n' bytes (logline.h, trpt_logline_parse_ascii): skips that
 * check. */
int trpt_parser_feed_ascii(trpt_parser *p, const char *line, size_t len,
                           uint64_t offset);
int trpt_parser_feed_msg(trpt_parser *p, int64_t time_us, const char *host,
                         const char *prog, long pid, const char *msg,
                         size_t msg_len, uint64_t offset);
int trpt_parser_flush(trpt_parser *p, uint64_t offset);
const trpt_parser_stats *trpt_parser_stats_get(const trpt_parser *p);
void trpt_parser_free(trpt_parser *p);

/* Restart support (tlsrpt journal). An edge that saves a restart point,
 * crashes and replays its input from that point with a fresh parser gets
 * the records of the uninterrupted run back when it:
 *   - replays from the line at the offset trpt_parser_oldest_open() gave
 *     (or from the last line fed when it returned 0): the first line of
 *     every open correlation entry (Postfix attempts, DNSSEC TLSA lines
 *     kept per process, excluded queue ids; Exim attempts, excluded
 *     message ids, the current multi-recipient session);
 *   - restores the native hosts saved with the restart point;
 *   - drops every replayed record at an offset below the last line fed
 *     before the save, or at or below the last event id committed.
 * Not reproduced: sessions finished early by max_sessions (eviction order
 * depends on history), and a tlsproxy attempt claimed by a delivery whose
 * own handshake line precedes the replay point (it may be claimed by the
 * wrong delivery; both are rare).
 *
 * trpt_parser_oldest_open(): 1 and *offset, or 0 when nothing is open. */
int trpt_parser_oldest_open(const trpt_parser *p, uint64_t *offset);
/* The i-th host that has logged a Postfix TLSRPT: line, NULL past the
 * end (at most 256). */
const char *trpt_parser_native_host(const trpt_parser *p, size_t i);
/* Marks a host as logging TLSRPT: lines (a restored restart point): 0,
 * -EINVAL for a host with '\n' or over 255 bytes, -ENOMEM. */
int trpt_parser_add_native_host(trpt_parser *p, const char *host);

#endif
