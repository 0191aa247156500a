/*
 * parser_internal.h - what the MTA-specific parsers share with the front end
 * (parser.c). Not a public header: edges use parser.h only.
 *
 * The front end frames a line (logline.h) and hands it to one MTA parser:
 *   trpt_postfix_*  (postfix.c)   Postfix, any version, smtp_tls_loglevel 0-2,
 *                                 and 3.10+ "TLSRPT: status=..." lines
 *   trpt_exim_*     (exim.c)      Exim 4.9x mainlog (and Exim via syslog)
 * Each MTA parser:
 *   _new(out, ctx)                 create its correlation state
 *   _line(st, ll, offset)          one framed line: 1 used, 0 not of interest,
 *                                  negative errno only for fatal errors (out
 *                                  of memory, callback abort); bad data is
 *                                  counted in ctx->stats and returns 0
 *   _flush(st, offset)             end of stream
 *   _free(st)                      NULL ok
 * and finishes sessions with trpt_parser_emit(), which fills in the event id
 * (source:offset.sub, offset = the line that concluded the session), host
 * and mta when unset, validates, applies exclusions and calls the edge's
 * callback. It takes the record's contents (the record is cleared).
 *
 * Mapping tables (log text -> RFC 8460 result) are data, in maptab_*.c, one
 * row per pattern with the corpus line it came from.
 */
#ifndef TRPT_PARSER_INTERNAL_H
#define TRPT_PARSER_INTERNAL_H

#include <stdint.h>

#include "logline.h"
#include "parser.h"

typedef struct trpt_parser_ctx {
    const trpt_parser_config *cfg; /* defaults applied, never NULL fields */
    trpt_parser_stats *stats;
    trpt_emit_fn emit;
    void *emit_ctx;
    uint64_t last_offset; /* for the .sub part of event ids */
    unsigned last_sub;
    int have_last;
    /* strlen(cfg->source_id) once trpt_event_id_format() has accepted it
     * with the largest offset and sub; 0: ids are formatted the slow way */
    size_t id_source_len;
} trpt_parser_ctx;

/* Finish one session. `rec` must have policy_domain and result set; time,
 * host and mta should be set by the caller from the line. Returns the
 * callback's result, 0, or a negative errno. Invalid records are counted as
 * TRPT_PERR_BAD_DOMAIN and dropped (returns 0). */
int trpt_parser_emit(trpt_parser_ctx *ctx, trpt_record *rec, uint64_t offset);

/* Same, for a record that owns nothing: its strings and vectors are the
 * caller's (no copy, no free per record). The event id is set for the
 * callback only; rec->event_id is NULL again on return. */
int trpt_parser_emit_borrowed(trpt_parser_ctx *ctx, trpt_record *rec,
                              uint64_t offset);

/* 1 if this envelope sender is excluded by the config. */
int trpt_parser_sender_excluded(const trpt_parser_ctx *ctx, const char *addr,
                                size_t len);

/* Normalize a domain into out (lower-case, no trailing dot, LDH labels and
 * A-labels only, <= 253 chars). Returns 0 or -EINVAL. */
int trpt_domain_normalize(const char *in, size_t len, char *out, size_t outlen);

typedef struct trpt_postfix trpt_postfix;
int trpt_postfix_new(trpt_postfix **out, trpt_parser_ctx *ctx);
int trpt_postfix_line(trpt_postfix *st, const trpt_logline *ll,
                      uint64_t offset);
int trpt_postfix_flush(trpt_postfix *st, uint64_t offset);
void trpt_postfix_free(trpt_postfix *st);
/* Restart support (parser.h): 1 and the smallest first-line offset of any
 * open entry, 0 when none. */
int trpt_postfix_oldest_open(const trpt_postfix *st, uint64_t *offset);
const char *trpt_postfix_native_host(const trpt_postfix *st, size_t i);
int trpt_postfix_add_native_host(trpt_postfix *st, const char *host);

typedef struct trpt_exim trpt_exim;
int trpt_exim_new(trpt_exim **out, trpt_parser_ctx *ctx);
int trpt_exim_line(trpt_exim *st, const trpt_logline *ll, uint64_t offset);
int trpt_exim_flush(trpt_exim *st, uint64_t offset);
void trpt_exim_free(trpt_exim *st);
int trpt_exim_oldest_open(const trpt_exim *st, uint64_t *offset);

#endif
