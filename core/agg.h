/*
 * agg.h - the aggregator: folds normalized records into per-day counts.
 *
 * Key: (UTC day, policy domain, TLSRPT record text, policy type, policy
 * strings, mx-host patterns) -> success and failure counts, and per failure
 * detail tuple (result, sending ip, receiving mx hostname, helo, receiving
 * ip, failure reason code, additional information) -> count.
 * Strings are interned, so memory grows with distinct tuples, not events.
 *
 * Records whose policy type is UNKNOWN are resolved here: the config's
 * policy hint for the policy domain, else no-policy-found. A tlsa hint moves
 * the record to the receiving MX host's policy domain.
 *
 * Duplicates: each event id source keeps a high-water mark (offset, sub);
 * a record at or below it was seen before and is counted as a duplicate.
 *
 * trpt_agg_new()        empty aggregator; cfg is borrowed, must outlive it
 * trpt_agg_add()        fold one record: 0 counted, 1 duplicate or excluded,
 *                       negative errno on bad record (not counted)
 * trpt_agg_add_json()   decode + add (the spool path)
 * trpt_agg_decode()     the first half of trpt_agg_add_json(), for callers
 *                       that look at the record before folding it: decode
 *                       and validate into the aggregator (an invalid record
 *                       is counted), and tell its day
 * trpt_agg_add_decoded() the second half: fold the record decoded last
 *                       (once; -EINVAL if there is none); the decoded
 *                       record points into json, which must still be there
 * trpt_agg_add_json_batch() trpt_agg_add_json() over n records in order,
 *                       rc[i] its result for json[i]; faster (the records'
 *                       hash-table lookups overlap). Returns 0, or -ENOMEM
 *                       (the records from the failing one on are not
 *                       folded), -EINVAL on bad arguments
 * trpt_agg_decode_batch() trpt_agg_decode() of n <= TRPT_AGG_BATCH records
 *                       at once (day[i], rc[i] for json[i]; day may be
 *                       NULL); their hash-table lookups are started so
 *                       that folding them overlaps the cache misses.
 *                       Returns 0 or -EINVAL (bad arguments), -ENOMEM
 * trpt_agg_add_batched() trpt_agg_add_decoded() of record i of the last
 *                       decode_batch (each once, in any order; -EINVAL if
 *                       it did not decode); json[i] must still be there
 * trpt_agg_days()       sorted days (epoch day numbers) that have data
 * trpt_agg_foreach_group() groups of one day in a stable sorted order
 * trpt_agg_drop_day()   forget a day's counts (after it is reported)
 * trpt_agg_save()       append a serialized image to out
 * trpt_agg_load()       replace contents from an image (from save)
 * trpt_agg_set_resolver() resolve the policy of records that have none
 *                       and no policy hint (DNS: DANE, MTA-STS; the CLI
 *                       plugs resolver.h in). Without it they are
 *                       no-policy-found.
 * trpt_agg_free()       NULL ok
 */
#ifndef TRPT_AGG_H
#define TRPT_AGG_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "record.h"

typedef struct trpt_agg trpt_agg;

typedef struct trpt_agg_detail {
    trpt_result result;
    const char *sending_mta_ip; /* NULL when unknown, likewise below */
    const char *receiving_mx_hostname;
    const char *receiving_mx_helo;
    const char *receiving_ip;
    const char *failure_reason_code;
    const char *additional_information;
    uint64_t count;
} trpt_agg_detail;

typedef struct trpt_agg_policy {
    trpt_policy_type type;
    const char *const *policy_strings;
    size_t n_policy_strings;
    const char *const *mx_hosts;
    size_t n_mx_hosts;
    uint64_t success;
    uint64_t failure;
    const trpt_agg_detail *details; /* sorted by count desc, then fields */
    size_t n_details;
} trpt_agg_policy;

typedef struct trpt_agg_group {
    int64_t day; /* days since 1970-01-01 (UTC) */
    const char *policy_domain;
    const char *tlsrpt_record; /* NULL when no record was seen */
    const trpt_agg_policy *policies;
    size_t n_policies;
} trpt_agg_group;

typedef struct trpt_agg_stats {
    uint64_t records;    /* counted */
    uint64_t duplicates; /* skipped: event id seen before */
    uint64_t excluded;   /* skipped: exclude_domain */
    uint64_t invalid;    /* skipped: undecodable or invalid record */
} trpt_agg_stats;

typedef int (*trpt_agg_group_fn)(void *ctx, const trpt_agg_group *g);

/* What a resolver says about a record's policy; the pointers must stay
 * valid until the next call. type UNKNOWN (or a negative return) leaves
 * the record no-policy-found. For tlsa, policy_domain is the MX host the
 * record moves to (RFC 8460 §3). */
typedef struct trpt_agg_resolved {
    trpt_policy_type type;
    const char *policy_domain;
    const char *const *strings;
    size_t n_strings;
    const char *const *mx;
    size_t n_mx;
} trpt_agg_resolved;

typedef int (*trpt_agg_resolve_fn)(void *ctx, const char *domain,
                                   const char *mx_host, int64_t day,
                                   trpt_agg_resolved *out);

int trpt_agg_new(trpt_agg **out, const trpt_config *cfg);
void trpt_agg_set_resolver(trpt_agg *a, trpt_agg_resolve_fn fn, void *ctx);
int trpt_agg_add(trpt_agg *a, const trpt_record *r);
int trpt_agg_add_json(trpt_agg *a, const char *json, size_t len);
int trpt_agg_decode(trpt_agg *a, const char *json, size_t len, int64_t *day);
int trpt_agg_add_decoded(trpt_agg *a);
#define TRPT_AGG_BATCH 16 /* records decoded ahead by add_json_batch */
int trpt_agg_add_json_batch(trpt_agg *a, const char *const *json,
                            const size_t *len, size_t n, int *rc);
int trpt_agg_decode_batch(trpt_agg *a, const char *const *json,
                          const size_t *len, size_t n, int64_t *day, int *rc);
int trpt_agg_add_batched(trpt_agg *a, size_t i);
int trpt_agg_days(const trpt_agg *a, int64_t **days, size_t *n);
int trpt_agg_foreach_group(trpt_agg *a, int64_t day, trpt_agg_group_fn fn,
                           void *ctx);
int trpt_agg_drop_day(trpt_agg *a, int64_t day);
const trpt_agg_stats *trpt_agg_stats_get(const trpt_agg *a);
int trpt_agg_save(const trpt_agg *a, trpt_buf *out);
int trpt_agg_load(trpt_agg *a, const char *data, size_t len);
void trpt_agg_free(trpt_agg *a);

#endif
