/*
 * datagram.h - decoder for the JSON datagrams Postfix 3.10+ sends through
 * libtlsrpt (one datagram per TLS handshake, on an AF_UNIX SOCK_DGRAM
 * socket): bytes in, normalized records out.
 *
 * The datagram (libtlsrpt 0.5.0 as shipped by Debian 13; 0.5.1 adds
 * "dpv": "1" in front):
 *   {"d": D, "pr": TXT, "policies": [{"policy-type": 1|2|9,
 *     "policy-domain": P, "policy-string": [...], "mx-host": [...],
 *     "failure-details": [{"c": 201..306, "s": IP, "n": MX, "h": EHLO,
 *       "r": IP, "a": URI, "f": REASON}], "t": N, "f": 0|1}]}
 * Empty lists and absent values are left out by the library.
 *
 * One record per entry of policies[] (RFC 8460 §4.4: one session is one
 * success or one failure under one policy):
 *   policy-domain  the policy's "policy-domain", else "d"; lower-cased,
 *                  must be a valid domain (for tlsa it is the MX host, the
 *                  TLSA base domain, as libtlsrpt sends it)
 *   policy-type    1 tlsa, 2 sts, 9 no-policy-found; anything else refused
 *   policy-string, mx-host   as sent
 *   tlsrpt-record  "pr", so reports group by the record Postfix saw
 *   result         "f" = 0: success (failure details, if any, are
 *                  ignored and counted); "f" = 1: the FIRST failure detail
 *                  decides (Postfix adds the detail at the point the
 *                  handshake failed; further details of the same session
 *                  are counted in details_ignored, not reported as extra
 *                  sessions); "f" = 1 without a detail: validation-failure
 *                  (RFC 8460 §4.3: "a general failure for a reason not
 *                  matching a category above"), counted in
 *                  failures_without_detail
 *   sending-mta-ip s, receiving-mx-hostname n, receiving-ip r,
 *   additional-information a, failure-reason-code f (of that detail)
 *   receiving-mx-helo  "h" holds the receiver's whole multi-line EHLO reply
 *                  ("250-mx.example\r\n250-PIPELINING..."); the record
 *                  gets the host name the first line announces
 *                  ("mx.example"), the reading RFC 8460 §4.4 ("the HELO or
 *                  EHLO string from the banner") and receivers expect.
 *                  trpt_datagram_helo_name() is that reduction.
 *   time, id, host, mta ("postfix")   from the options
 *
 * A datagram is decoded completely and every record validated before the
 * first is emitted: it yields all its records or none, and a refusal has
 * exactly one reason (trpt_datagram_error), for per-reason counters.
 * Nothing is trusted: size, nesting, string lengths (the record limits of
 * docs/record-format.md), numbers (integers only, range-checked), NUL and
 * control characters, invalid UTF-8, duplicate keys, '@' outside "pr"
 * (privacy), unknown result codes and policy types. Unknown keys are
 * skipped (forward compatible), within the nesting limit.
 *
 * trpt_datagram_decoder_new()  a decoder with reusable buffers
 * trpt_datagram_decode()       one datagram -> records passed to emit
 *                              (borrowed: copy what you keep); returns
 *                              the number of records (>= 1), -EINVAL or
 *                              -E2BIG with *why set, -ENOMEM, or the
 *                              callback's negative result
 * trpt_datagram_stats_get()    counters (per reason, records, ...)
 * trpt_datagram_error_name()   stable snake_case name of a reason
 * trpt_datagram_helo_name()    EHLO reply -> announced host name
 * trpt_datagram_decoder_free() NULL ok
 */
#ifndef TRPT_DATAGRAM_H
#define TRPT_DATAGRAM_H

#include <stddef.h>
#include <stdint.h>

#include "parser.h"
#include "record.h"

#define TRPT_DATAGRAM_MAX_DEFAULT  65536 /* bytes; larger ones are refused */
#define TRPT_DATAGRAM_MAX_POLICIES 16    /* entries of policies[] */
#define TRPT_DATAGRAM_MAX_DETAILS  64    /* entries of failure-details[] */
#define TRPT_DATAGRAM_MAX_DEPTH    16    /* JSON nesting, outer object = 1 */

typedef enum trpt_datagram_error {
    TRPT_DGERR_OVERSIZE = 0,    /* longer than max_bytes */
    TRPT_DGERR_NOT_JSON,        /* syntax error, truncated, trailing bytes */
    TRPT_DGERR_TOO_DEEP,        /* nesting beyond TRPT_DATAGRAM_MAX_DEPTH */
    TRPT_DGERR_BAD_TEXT,        /* NUL, control character, invalid UTF-8 */
    TRPT_DGERR_WRONG_TYPE,      /* a known key with a value of another type */
    TRPT_DGERR_DUPLICATE_KEY,   /* a known key twice in one object */
    TRPT_DGERR_MISSING_KEY,     /* policies, policy-type, f, or a domain */
    TRPT_DGERR_BAD_VERSION,     /* "dpv" other than "1" */
    TRPT_DGERR_BAD_POLICY_TYPE, /* policy-type not 1, 2 or 9 */
    TRPT_DGERR_BAD_CODE,        /* failure code not 201..205, 301..306 */
    TRPT_DGERR_BAD_FINAL,       /* "f" not 0 or 1 */
    TRPT_DGERR_BAD_DOMAIN,      /* policy-domain / d not a domain name */
    TRPT_DGERR_TOO_LONG,        /* a string beyond the record limits */
    TRPT_DGERR_TOO_MANY,        /* too many policies, details, strings */
    TRPT_DGERR_PRIVACY,         /* '@' outside "pr" */
    TRPT_DGERR_INVALID_RECORD,  /* refused by trpt_record_validate() */
    TRPT_DGERR_COUNT
} trpt_datagram_error;

typedef struct trpt_datagram_opts {
    const char *source; /* event id source, e.g. "dg-0123456789abcdef" */
    uint64_t seq;       /* event id offset: the datagram's number */
    int64_t time_us;    /* record time: when it was received */
    const char *host;   /* reporting host; NULL = leave absent */
    size_t max_bytes;   /* 0 = TRPT_DATAGRAM_MAX_DEFAULT */
} trpt_datagram_opts;

typedef struct trpt_datagram_stats {
    uint64_t datagrams;               /* decode calls */
    uint64_t decoded;                 /* datagrams that gave records */
    uint64_t records;                 /* records emitted */
    uint64_t details_ignored;         /* extra failure details (see top) */
    uint64_t failures_without_detail; /* f = 1 and no failure-details */
    uint64_t errors[TRPT_DGERR_COUNT];
} trpt_datagram_stats;

typedef struct trpt_datagram_decoder trpt_datagram_decoder;

int trpt_datagram_decoder_new(trpt_datagram_decoder **out);
int trpt_datagram_decode(trpt_datagram_decoder *d, const char *data, size_t len,
                         const trpt_datagram_opts *o, trpt_emit_fn emit,
                         void *ctx, trpt_datagram_error *why);
const trpt_datagram_stats *
trpt_datagram_stats_get(const trpt_datagram_decoder *d);
const char *trpt_datagram_error_name(trpt_datagram_error e);
/* Writes the host name announced by the first line of an EHLO reply
 * ("250-mx.example\r\n..." -> "mx.example") into out; 0, or -EINVAL if
 * there is none (empty, or only a code). */
int trpt_datagram_helo_name(const char *reply, size_t len, char *out,
                            size_t outlen);
void trpt_datagram_decoder_free(trpt_datagram_decoder *d);

#endif
