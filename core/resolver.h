/*
 * resolver.h - what DNS and HTTPS say about a policy domain, cached:
 *
 *  - where its reports go: the "_smtp._tls.<domain>" TLSRPT record
 *    (RFC 8460 §3, tlsrpt_txt.h), cached for the answer's TTL (clamped to
 *    [1 min, 1 day]; a temporary DNS failure for 1 min);
 *  - the policy an MTA would have applied, for records whose log lines
 *    could not say (classic lines, policy type unknown), in the order a
 *    DANE- and MTA-STS-capable sender applies them (RFC 8461 §2):
 *      1. DANE (RFC 7672 §2.2): the domain's MX RRset is DNSSEC-validated
 *         and names the receiving MX host (or there is no MX and the host
 *         is the domain), and "_25._tcp.<mx>" has validated TLSA records:
 *         policy "tlsa", policy domain = the MX host (RFC 8460 §3: DANE
 *         results go to the MX host's own TLSRPT record), policy strings
 *         "usage selector mtype HEX";
 *      2. MTA-STS (RFC 8461): a valid "_mta-sts" TXT record and a policy
 *         file fetched over HTTPS in mode testing or enforce: policy
 *         "sts", the file's lines as policy strings, its mx patterns as
 *         mx-host;
 *      3. otherwise "no-policy-found".
 *    Cached per (UTC day, domain, MX host); a result that met a temporary
 *    failure (DNS SERVFAIL, HTTPS time-out) is kept 5 min only.
 *
 * trpt_resolver_new()    cfg->dns is borrowed and must outlive it
 * trpt_resolver_rua()    the TLSRPT record of a domain at now_us
 * trpt_resolver_policy() the policy for (domain, receiving MX host, day);
 *                        mx_host may be NULL (no DANE check then)
 * trpt_resolver_stats_get() counters
 * trpt_resolver_free()   NULL ok
 * Results are owned by the resolver; valid until the next call.
 */
#ifndef TRPT_RESOLVER_H
#define TRPT_RESOLVER_H

#include <stddef.h>
#include <stdint.h>

#include "dns.h"
#include "http.h"
#include "record.h"
#include "tlsrpt_txt.h"

typedef struct trpt_resolver_config {
    trpt_dns *dns;                /* required */
    const trpt_http_config *http; /* NULL = MTA-STS policies not fetched */
    int no_dane;                  /* 1 = never derive tlsa */
    int no_sts;                   /* 1 = never derive sts */
    size_t max_entries;           /* cache bound; 0 = 100000 */
} trpt_resolver_config;

typedef struct trpt_rua_lookup {
    /* 0: txt is the domain's one valid TLSRPT record. Else no reports:
     * -ENOENT none, -EEXIST several, -EINVAL malformed, -ENOTSUP no usable
     * destination, -EAGAIN temporary DNS failure, -EPROTO DNSSEC bogus. */
    int rc;
    trpt_tlsrpt_txt *txt;
    char why[256];      /* one line for logs */
    int64_t expires_us; /* cached until */
} trpt_rua_lookup;

typedef struct trpt_resolved_policy {
    trpt_policy_type type; /* STS, TLSA or NONE */
    char *policy_domain;   /* the domain, or the MX host for tlsa */
    trpt_strv policy_strings;
    trpt_strv mx_hosts;
    char why[256]; /* how it was decided, for logs and `tlsrpt lookup` */
    int temporary; /* a lookup failed temporarily on the way */
} trpt_resolved_policy;

typedef struct trpt_resolver_stats {
    uint64_t dns_queries;
    uint64_t policy_fetches;
    uint64_t cache_hits;
    uint64_t cache_flushes; /* the cache reached max_entries */
} trpt_resolver_stats;

typedef struct trpt_resolver trpt_resolver;

int trpt_resolver_new(trpt_resolver **out, const trpt_resolver_config *cfg);
int trpt_resolver_rua(trpt_resolver *r, const char *domain, int64_t now_us,
                      const trpt_rua_lookup **out);
int trpt_resolver_policy(trpt_resolver *r, const char *domain,
                         const char *mx_host, int64_t day,
                         const trpt_resolved_policy **out);
const trpt_resolver_stats *trpt_resolver_stats_get(const trpt_resolver *r);
void trpt_resolver_free(trpt_resolver *r);

#endif
