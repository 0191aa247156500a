/*
 * resolver.c - TLSRPT record and policy resolution with a cache
 * (resolver.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "mtasts.h"
#include "resolver.h"

#define US_PER_S            1000000LL
#define RUA_TTL_MIN         (60 * US_PER_S)
#define RUA_TTL_MAX         (86400 * US_PER_S)
#define TEMPORARY_US        (300 * US_PER_S)
#define DEFAULT_MAX_ENTRIES 100000
#define MAX_MX              64

typedef enum { KIND_RUA, KIND_POLICY } entry_kind;

typedef struct cache_entry {
    struct cache_entry *next;
    char *key;
    entry_kind kind;
    int64_t expires_us; /* INT64_MAX: until the cache is dropped */
    union {
        trpt_rua_lookup rua;
        trpt_resolved_policy policy;
    } u;
} cache_entry;

struct trpt_resolver {
    trpt_resolver_config cfg;
    cache_entry **buckets;
    size_t n_buckets, n_entries;
    trpt_resolver_stats stats;
};

/* A reason for logs, cut to fit (vsnprintf: cutting is intended). */
static void note(char why[256], const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void note(char why[256], const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, 256, fmt, ap);
    va_end(ap);
}

static int64_t now_realtime_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * US_PER_S + ts.tv_nsec / 1000;
}

/* --- the cache ----------------------------------------------------------- */

static uint64_t key_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a 64 */

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static void entry_free(cache_entry *e)
{
    if (!e)
        return;
    if (e->kind == KIND_RUA) {
        trpt_tlsrpt_txt_free(e->u.rua.txt);
    } else {
        free(e->u.policy.policy_domain);
        trpt_strv_free(&e->u.policy.policy_strings);
        trpt_strv_free(&e->u.policy.mx_hosts);
    }
    free(e->key);
    free(e);
}

static void cache_clear(trpt_resolver *r)
{
    for (size_t i = 0; i < r->n_buckets; i++) {
        cache_entry *e = r->buckets[i], *next;

        for (; e; e = next) {
            next = e->next;
            entry_free(e);
        }
        r->buckets[i] = NULL;
    }
    r->n_entries = 0;
}

static int cache_grow(trpt_resolver *r)
{
    size_t n = r->n_buckets * 2;
    cache_entry **b = calloc(n, sizeof *b);

    if (!b)
        return -ENOMEM;
    for (size_t i = 0; i < r->n_buckets; i++) {
        cache_entry *e = r->buckets[i], *next;

        for (; e; e = next) {
            size_t k = key_hash(e->key) & (n - 1);

            next = e->next;
            e->next = b[k];
            b[k] = e;
        }
    }
    free(r->buckets);
    r->buckets = b;
    r->n_buckets = n;
    return 0;
}

/* The live entry for key, or NULL; an expired one is dropped. */
static cache_entry *cache_find(trpt_resolver *r, const char *key,
                               int64_t now_us)
{
    cache_entry **p = &r->buckets[key_hash(key) & (r->n_buckets - 1)];

    for (; *p; p = &(*p)->next) {
        cache_entry *e = *p;

        if (strcmp(e->key, key) != 0)
            continue;
        if (e->expires_us > now_us) {
            r->stats.cache_hits++;
            return e;
        }
        *p = e->next;
        entry_free(e);
        r->n_entries--;
        return NULL;
    }
    return NULL;
}

static cache_entry *cache_add(trpt_resolver *r, const char *key,
                              entry_kind kind)
{
    cache_entry *e;
    size_t k;

    if (r->n_entries >= r->cfg.max_entries) {
        cache_clear(r); /* simple and bounded; it refills as needed */
        r->stats.cache_flushes++;
    }
    if (r->n_entries >= 2 * r->n_buckets && cache_grow(r) < 0)
        return NULL;
    if (!(e = calloc(1, sizeof *e)) || !(e->key = strdup(key))) {
        free(e);
        return NULL;
    }
    e->kind = kind;
    k = key_hash(key) & (r->n_buckets - 1);
    e->next = r->buckets[k];
    r->buckets[k] = e;
    r->n_entries++;
    return e;
}

int trpt_resolver_new(trpt_resolver **out, const trpt_resolver_config *cfg)
{
    trpt_resolver *r;

    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!cfg || !cfg->dns)
        return -EINVAL;
    if (!(r = calloc(1, sizeof *r)))
        return -ENOMEM;
    r->cfg = *cfg;
    if (!r->cfg.max_entries)
        r->cfg.max_entries = DEFAULT_MAX_ENTRIES;
    r->n_buckets = 1024;
    if (!(r->buckets = calloc(r->n_buckets, sizeof *r->buckets))) {
        free(r);
        return -ENOMEM;
    }
    *out = r;
    return 0;
}

void trpt_resolver_free(trpt_resolver *r)
{
    if (!r)
        return;
    cache_clear(r);
    free(r->buckets);
    free(r);
}

const trpt_resolver_stats *trpt_resolver_stats_get(const trpt_resolver *r)
{
    return r ? &r->stats : NULL;
}

/* --- lookups ------------------------------------------------------------- */

static int domain_ok(const char *d)
{
    size_t n = d ? strlen(d) : 0;

    /* Room for "_smtp._tls." / "_mta-sts." / "_25._tcp." in front. */
    return n > 0 && n <= 240 && trpt_txt_hostname_valid(d, n);
}

static int query(trpt_resolver *r, const char *name, uint16_t type,
                 trpt_dns_answer *a)
{
    r->stats.dns_queries++;
    return trpt_dns_query(r->cfg.dns, name, type, a);
}

/* The rdata of a TXT answer in the form tlsrpt_txt.h takes. */
static trpt_txt_string *txt_rdata(const trpt_dns_answer *a)
{
    trpt_txt_string *v = calloc(a->n ? a->n : 1, sizeof *v);

    for (size_t i = 0; v && i < a->n; i++) {
        v[i].data = (const char *)a->rr[i].data;
        v[i].len = a->rr[i].len;
    }
    return v;
}

static int64_t clamp_ttl(uint32_t ttl)
{
    int64_t us = (int64_t)ttl * US_PER_S;

    return us < RUA_TTL_MIN ? RUA_TTL_MIN : us > RUA_TTL_MAX ? RUA_TTL_MAX : us;
}

static void lookup_rua(trpt_resolver *r, const char *domain, int64_t now_us,
                       trpt_rua_lookup *out)
{
    char name[300];
    trpt_dns_answer a;
    trpt_txt_string *rd;
    int rc;

    snprintf(name, sizeof name, "_smtp._tls.%s", domain);
    out->expires_us = now_us + TEMPORARY_US / 5;
    if ((rc = query(r, name, TRPT_DNS_TYPE_TXT, &a)) < 0) {
        out->rc = -EAGAIN;
        note(out->why, "%s TXT: %s", name, strerror(-rc));
        return;
    }
    switch (a.status) {
    case TRPT_DNS_DATA:
        break;
    case TRPT_DNS_TEMPFAIL:
        out->rc = -EAGAIN;
        note(out->why, "%s TXT: temporary DNS failure", name);
        trpt_dns_answer_clear(&a);
        return;
    case TRPT_DNS_BOGUS:
        out->rc = -EPROTO;
        note(out->why, "%s TXT: DNSSEC bogus (%s)", name,
             a.why_bogus ? a.why_bogus : "no reason given");
        trpt_dns_answer_clear(&a);
        return;
    default:
        out->rc = -ENOENT;
        out->expires_us = now_us + clamp_ttl(a.ttl);
        note(out->why, "%s: no TXT record (%s)", name,
             trpt_dns_status_name(a.status));
        trpt_dns_answer_clear(&a);
        return;
    }
    out->expires_us = now_us + clamp_ttl(a.ttl);
    if (!(rd = txt_rdata(&a))) {
        out->rc = -EAGAIN;
        note(out->why, "out of memory");
        out->expires_us = now_us;
    } else {
        char err[200] = "";

        out->rc =
            trpt_tlsrpt_txt_parse_rdata(rd, a.n, &out->txt, err, sizeof err);
        if (out->rc < 0)
            note(out->why, "%s: %s", name, err[0] ? err : strerror(-out->rc));
        else
            note(out->why, "%s: %zu destination(s)", name, out->txt->n_rua);
    }
    free(rd);
    trpt_dns_answer_clear(&a);
}

int trpt_resolver_rua(trpt_resolver *r, const char *domain, int64_t now_us,
                      const trpt_rua_lookup **out)
{
    char key[300];
    cache_entry *e;

    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!r || !domain_ok(domain))
        return -EINVAL;
    snprintf(key, sizeof key, "rua|%s", domain);
    if (!(e = cache_find(r, key, now_us))) {
        if (!(e = cache_add(r, key, KIND_RUA)))
            return -ENOMEM;
        lookup_rua(r, domain, now_us, &e->u.rua);
        e->expires_us = e->u.rua.expires_us;
    }
    *out = &e->u.rua;
    return 0;
}

/* --- policy -------------------------------------------------------------- */

/* RFC 7672 §2.2.1: DANE applies to an MX host only through a validated MX
 * RRset that names it (or, without MX records, to the domain itself). */
static int mx_validated(trpt_resolver *r, const char *domain,
                        const char *mx_host, trpt_resolved_policy *p)
{
    trpt_dns_answer a;
    int found = 0;

    if (query(r, domain, TRPT_DNS_TYPE_MX, &a) < 0 ||
        a.status == TRPT_DNS_TEMPFAIL) {
        p->temporary = 1;
    } else if (a.secure && a.status == TRPT_DNS_DATA) {
        for (size_t i = 0; i < a.n && !found; i++) {
            char host[256];
            unsigned pref;

            found = trpt_dns_mx(a.rr[i].data, a.rr[i].len, &pref, host,
                                sizeof host) == 0 &&
                    strcasecmp(host, mx_host) == 0;
        }
    } else if (a.secure && a.status == TRPT_DNS_NODATA) {
        found = strcasecmp(domain, mx_host) == 0; /* implicit MX */
    }
    trpt_dns_answer_clear(&a);
    return found;
}

static int try_dane(trpt_resolver *r, const char *domain, const char *mx_host,
                    trpt_resolved_policy *p)
{
    char name[300];
    trpt_dns_answer a;
    trpt_buf b;
    int r2 = 0;

    if (!mx_host || !domain_ok(mx_host) || !mx_validated(r, domain, mx_host, p))
        return 0;
    snprintf(name, sizeof name, "_25._tcp.%s", mx_host);
    if (query(r, name, TRPT_DNS_TYPE_TLSA, &a) < 0 ||
        a.status == TRPT_DNS_TEMPFAIL) {
        p->temporary = 1;
        trpt_dns_answer_clear(&a);
        return 0;
    }
    if (!(a.secure && a.status == TRPT_DNS_DATA)) {
        trpt_dns_answer_clear(&a);
        return 0;
    }
    trpt_buf_init(&b);
    for (size_t i = 0; i < a.n && i < MAX_MX && r2 == 0; i++) {
        trpt_buf_reset(&b);
        if (trpt_dns_tlsa_string(a.rr[i].data, a.rr[i].len, &b) == 0)
            r2 = trpt_strv_push(&p->policy_strings, b.data);
    }
    trpt_buf_free(&b);
    trpt_dns_answer_clear(&a);
    if (r2 < 0 || p->policy_strings.n == 0 ||
        !(p->policy_domain = strdup(mx_host))) {
        trpt_strv_free(&p->policy_strings);
        return r2 < 0 ? r2 : 0;
    }
    p->type = TRPT_POLICY_TLSA;
    note(p->why, "DNSSEC-validated MX %s and TLSA %s (%zu record(s))", mx_host,
         name, p->policy_strings.n);
    return 1;
}

/* The policy file of a domain with a valid _mta-sts record. */
static int fetch_sts(trpt_resolver *r, const char *domain,
                     trpt_resolved_policy *p)
{
    trpt_http_result res;
    trpt_mtasts_policy *pol = NULL;
    char err[200] = "";
    int rc;

    if (!r->cfg.http) {
        note(p->why, "_mta-sts.%s has a record; policy fetching is off",
             domain);
        return 0;
    }
    r->stats.policy_fetches++;
    rc = trpt_http_get_policy(r->cfg.http, domain, &res);
    if (rc < 0) {
        p->temporary = trpt_http_retryable(rc, &res);
        note(p->why, "MTA-STS policy of %s: %s", domain,
             res.error[0] ? res.error : strerror(-rc));
        trpt_http_result_clear(&res);
        return 0;
    }
    rc = trpt_mtasts_policy_parse(res.body.data, res.body.len, &pol, err,
                                  sizeof err);
    trpt_http_result_clear(&res);
    if (rc < 0) {
        note(p->why, "MTA-STS policy of %s invalid: %s", domain,
             err[0] ? err : strerror(-rc));
        return 0;
    }
    if (pol->mode == TRPT_MTASTS_MODE_NONE) {
        note(p->why, "MTA-STS policy of %s: mode none", domain);
        trpt_mtasts_policy_free(pol);
        return 0;
    }
    /* The strv moves over: no copy. */
    p->policy_strings = pol->policy_strings;
    p->mx_hosts = pol->mx;
    memset(&pol->policy_strings, 0, sizeof pol->policy_strings);
    memset(&pol->mx, 0, sizeof pol->mx);
    trpt_mtasts_policy_free(pol);
    if (!(p->policy_domain = strdup(domain)))
        return -ENOMEM;
    p->type = TRPT_POLICY_STS;
    note(p->why, "MTA-STS policy of %s (%zu line(s))", domain,
         p->policy_strings.n);
    return 1;
}

static int try_sts(trpt_resolver *r, const char *domain,
                   trpt_resolved_policy *p)
{
    char name[300], err[200] = "";
    trpt_mtasts_txt *txt = NULL;
    trpt_txt_string *rd;
    trpt_dns_answer a;
    int rc;

    snprintf(name, sizeof name, "_mta-sts.%s", domain);
    if (query(r, name, TRPT_DNS_TYPE_TXT, &a) < 0 ||
        a.status == TRPT_DNS_TEMPFAIL) {
        p->temporary = 1;
        trpt_dns_answer_clear(&a);
        return 0;
    }
    if (a.status != TRPT_DNS_DATA) {
        trpt_dns_answer_clear(&a);
        return 0;
    }
    if (!(rd = txt_rdata(&a))) {
        trpt_dns_answer_clear(&a);
        return -ENOMEM;
    }
    rc = trpt_mtasts_txt_parse_rdata(rd, a.n, &txt, err, sizeof err);
    free(rd);
    trpt_dns_answer_clear(&a);
    if (rc < 0) {
        note(p->why, "%s: %s", name, err[0] ? err : strerror(-rc));
        return 0;
    }
    trpt_mtasts_txt_free(txt);
    return fetch_sts(r, domain, p);
}

static int resolve_policy(trpt_resolver *r, const char *domain,
                          const char *mx_host, trpt_resolved_policy *p)
{
    int rc = 0;

    if (!r->cfg.no_dane && (rc = try_dane(r, domain, mx_host, p)) != 0)
        return rc < 0 ? rc : 0;
    if (!r->cfg.no_sts && (rc = try_sts(r, domain, p)) != 0)
        return rc < 0 ? rc : 0;
    p->type = TRPT_POLICY_NONE;
    if (!(p->policy_domain = strdup(domain)))
        return -ENOMEM;
    if (!p->why[0])
        note(p->why, "no DANE or MTA-STS policy for %s", domain);
    return 0;
}

int trpt_resolver_policy(trpt_resolver *r, const char *domain,
                         const char *mx_host, int64_t day,
                         const trpt_resolved_policy **out)
{
    char key[600];
    int64_t now = now_realtime_us();
    cache_entry *e;
    int rc;

    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!r || !domain_ok(domain) || (mx_host && strlen(mx_host) > 253))
        return -EINVAL;
    snprintf(key, sizeof key, "pol|%lld|%s|%s", (long long)day, domain,
             mx_host ? mx_host : "");
    if ((e = cache_find(r, key, now))) {
        *out = &e->u.policy;
        return 0;
    }
    if (!(e = cache_add(r, key, KIND_POLICY)))
        return -ENOMEM;
    if ((rc = resolve_policy(r, domain, mx_host, &e->u.policy)) < 0) {
        e->expires_us = 0; /* dropped at the next lookup */
        return rc;
    }
    e->expires_us = e->u.policy.temporary ? now + TEMPORARY_US : INT64_MAX;
    *out = &e->u.policy;
    return 0;
}
