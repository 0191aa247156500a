/*
 * dns.h - DNS lookups for delivery and policy resolution, through
 * libunbound: TXT (_smtp._tls rua discovery, _mta-sts), MX, and TLSA
 * (DANE), each with its DNSSEC validation status and TTL.
 *
 * The resolver is the system's (/etc/resolv.conf) unless a server is
 * configured ("IP" or "IP@PORT", e.g. a local validating resolver, or a
 * test server on loopback). DNSSEC is validated here against a trust
 * anchor: the root key file of Debian's dns-root-data by default, or a
 * given anchor (tests sign their own zone). Without any anchor, answers
 * are never "secure", so no DANE policy is ever derived (RFC 7672 §2.2:
 * TLSA records count only when validated).
 *
 * trpt_dns_new()          create a resolver context
 * trpt_dns_query()        one synchronous lookup; fills *ans (cleared
 *                         first). Returns 0 when the lookup completed
 *                         (whatever the rcode: see ans->status), negative
 *                         errno on local failure
 * trpt_dns_answer_clear() free an answer's memory (reusable)
 * trpt_dns_free()         NULL ok
 *
 * Decoding rdata (every length distrusted; TXT: tlsrpt_txt.h):
 * trpt_dns_mx()           an MX rdata: preference and exchange host
 *                         (lower-case, no trailing dot)
 * trpt_dns_tlsa_string()  a TLSA rdata as "usage selector mtype HEX"
 *                         (upper-case hex, as Postfix reports it; RFC 8460
 *                         §4.3 policy-string)
 */
#ifndef TRPT_DNS_H
#define TRPT_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define TRPT_DNS_TYPE_MX   15
#define TRPT_DNS_TYPE_TXT  16
#define TRPT_DNS_TYPE_TLSA 52

typedef enum trpt_dns_status {
    TRPT_DNS_DATA = 0, /* answer with records */
    TRPT_DNS_NODATA,   /* the name exists, no record of the type */
    TRPT_DNS_NXDOMAIN, /* the name does not exist */
    TRPT_DNS_TEMPFAIL, /* SERVFAIL, time-out, refused: try again later */
    TRPT_DNS_BOGUS,    /* DNSSEC validation failed (RFC 4035 §5.5) */
} trpt_dns_status;

const char *trpt_dns_status_name(trpt_dns_status s);

typedef struct trpt_dns_rr {
    unsigned char *data;
    size_t len;
} trpt_dns_rr;

typedef struct trpt_dns_answer {
    trpt_dns_status status;
    int secure;   /* DNSSEC validated (also for NODATA/NXDOMAIN) */
    uint32_t ttl; /* of the answer (or the negative TTL) */
    size_t n;     /* records, for TRPT_DNS_DATA */
    trpt_dns_rr *rr;
    char *why_bogus; /* validator's reason, for TRPT_DNS_BOGUS */
} trpt_dns_answer;

typedef struct trpt_dns_config {
    const char *server;            /* "IP" or "IP@PORT"; NULL = system */
    const char *trust_anchor;      /* one DS or DNSKEY RR in text form */
    const char *trust_anchor_file; /* NULL = TRPT_DNS_ROOT_KEY if present */
    int no_dnssec;                 /* 1 = no validation at all */
    /* A special-use zone (RFC 6761, e.g. "test") that libunbound answers
     * locally by default, to be looked up for real: test set-ups. */
    const char *unblock_zone;
} trpt_dns_config;

#define TRPT_DNS_ROOT_KEY "/usr/share/dns/root.key"

typedef struct trpt_dns trpt_dns;

/* err (may be NULL) receives libunbound's message on failure. */
int trpt_dns_new(trpt_dns **out, const trpt_dns_config *cfg, char *err,
                 size_t errlen);
int trpt_dns_query(trpt_dns *d, const char *name, uint16_t type,
                   trpt_dns_answer *ans);
void trpt_dns_answer_clear(trpt_dns_answer *ans);
void trpt_dns_free(trpt_dns *d);

int trpt_dns_mx(const unsigned char *rd, size_t len, unsigned *preference,
                char *host, size_t hostlen);
int trpt_dns_tlsa_string(const unsigned char *rd, size_t len, trpt_buf *out);

#endif
