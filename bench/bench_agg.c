/*
 * bench_agg.c - aggregation throughput and memory, alone.
 *
 *   bench_agg [--records N] [--domains K] [--seed S] [--chunk C] [--batch 0|1]
 *
 * Builds N realistic records over K recipient domains (skewed popularity,
 * most sessions successful, broken domains failing the same way every time,
 * some STS domains with policy strings), encodes them with
 * trpt_record_to_json() into JSON lines, C records at a time (untimed),
 * and times trpt_agg_add_json() over each chunk, as the spool path feeds
 * the aggregator. The same buffers are also scanned by a baseline that only
 * counts newlines with memchr (what `wc -l` does), and the ratio printed.
 * --batch 1 feeds trpt_agg_add_json_batch() instead, TRPT_AGG_BATCH * 4
 * records a call (the records' lookups overlap).
 *
 * Memory: the chunk buffer is reused, so the growth of peak RSS
 * (getrusage ru_maxrss) from just before the aggregator exists to the end
 * is the aggregator's own footprint. The last line is machine-readable:
 *   RESULT records=N records_per_s=R cpu_records_per_s=C baseline_per_s=B
 *          ratio=X maxrss_kib=M base_kib=B0 delta_kib=D
 * Exit status 1 if the aggregator did not count exactly N records or its
 * groups do not account for every record.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "agg.h"
#include "buf.h"
#include "config.h"
#include "record.h"
#include "result.h"
#include "timeutil.h"

typedef struct bench_opts {
    uint64_t records;
    uint32_t domains;
    uint64_t seed;
    uint32_t chunk;
    bool batch; /* trpt_agg_add_json_batch() instead of add_json() */
} bench_opts;

/* ---- deterministic PRNG (splitmix64), as in gen_postfix_log --------- */

static uint64_t rng_state;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t hash64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xFF51AFD7ED558CCDull;
    x ^= x >> 33;
    x *= 0xC4CEB9FE1A85EC53ull;
    return x ^ (x >> 33);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long maxrss_kib(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* ---- the synthetic domains --------------------------------------------- */

/* How a domain's sessions end; the mix matches gen_postfix_log. */
typedef struct domain_profile {
    char name[40];
    char mx[48];
    char ip[16];
    trpt_result result;
    const char *reason; /* failure-reason-code or NULL */
    int sts;            /* has an MTA-STS policy (3.10 datagram path) */
} domain_profile;

static void make_profile(domain_profile *d, uint32_t i, uint64_t seed)
{
    static const char *const tld[] = {"example", "example.com", "test"};
    uint64_t h = hash64(seed ^ ((uint64_t)i << 20) ^ 0x2545F491u);
    unsigned r = (unsigned)(h % 1000);

    snprintf(d->name, sizeof d->name, "dom%" PRIu32 ".%s", i,
             tld[(h >> 60) % 3]);
    snprintf(d->mx, sizeof d->mx, "mx.%s", d->name);
    snprintf(d->ip, sizeof d->ip, "10.%u.%u.%u", i / 64000 % 256, i / 250 % 256,
             i % 250 + 1);
    d->reason = NULL;
    d->result = TRPT_RESULT_SUCCESS;
    if (r >= 850 && r < 885)
        d->result = TRPT_RESULT_CERTIFICATE_EXPIRED;
    else if (r >= 885 && r < 920)
        d->result = TRPT_RESULT_CERTIFICATE_HOST_MISMATCH;
    else if (r >= 920 && r < 950) {
        d->result = TRPT_RESULT_VALIDATION_FAILURE;
        d->reason = "self-signed_certificate";
    } else if (r >= 950 && r < 975)
        d->result = TRPT_RESULT_STARTTLS_NOT_SUPPORTED;
    else if (r >= 975) {
        d->result = TRPT_RESULT_VALIDATION_FAILURE;
        d->reason = "tls-handshake-failure";
    }
    d->sts = (h >> 40) % 20 == 0;
}

/* Skewed popularity: product of two uniforms. */
static uint32_t pick_domain(uint32_t k)
{
    uint64_t u = rng_next() >> 32, v = rng_next() >> 32;

    return (uint32_t)((((u * v) >> 32) * k) >> 32);
}

/* ---- record generation ------------------------------------------------- */

/* Encoding 10 M records one by one through libfastjson would take longer
 * than the benchmark itself, so each domain's record is encoded once by
 * trpt_record_to_json() with placeholder time, event id and queue id, and
 * every record is that template with those fixed-width fields rewritten.
 * The aggregator decodes every one, so a bad patch would show as invalid. */
#define PH_TIME     "T11:11:11Z"      /* time of day, 1 s like syslog */
#define PH_OFFSET   ":100000000000.0" /* 12-digit event id offset */
#define PH_QUEUE_ID "\"AAAAAAAAAAA\"" /* 11 hex digits */
#define OFFSET_BASE 100000000000ull

typedef struct template
{
    char *json;
    size_t len;
    size_t time_at, offset_at, qid_at; /* where to patch */
}
template;

typedef struct generator {
    const bench_opts *o;
    domain_profile *doms;
    template *tpl;
    uint8_t *used;
    uint32_t n_used;
    uint64_t next;
    uint64_t offset; /* fake byte offset of the concluding log line */
} generator;

static int set_sts_policy(trpt_record *r, const domain_profile *d)
{
    char mx_line[64];
    int err;

    snprintf(mx_line, sizeof mx_line, "mx: %s", d->mx);
    r->policy_type = TRPT_POLICY_STS;
    if ((err = trpt_strv_push(&r->policy_strings, "version: STSv1")) < 0 ||
        (err = trpt_strv_push(&r->policy_strings, "mode: enforce")) < 0 ||
        (err = trpt_strv_push(&r->policy_strings, mx_line)) < 0 ||
        (err = trpt_strv_push(&r->policy_strings, "max_age: 86400")) < 0 ||
        (err = trpt_strv_push(&r->mx_hosts, d->mx)) < 0)
        return err;
    return 0;
}

/* The record a parser would emit for a session to d, with placeholders. */
static int make_domain_record(trpt_record *r, const domain_profile *d)
{
    char id[64];
    int err;

    trpt_record_clear(r);
    r->time_us = (trpt_days_from_civil(2026, 11, 27) * 86400 + 40271) *
                 1000000ll; /* 11:11:11 */
    r->result = d->result;
    snprintf(id, sizeof id, "file-0123456789abcdef:%llu.0",
             (unsigned long long)OFFSET_BASE);
    if ((err = trpt_record_set(&r->event_id, id)) < 0 ||
        (err = trpt_record_set(&r->reporting_host, "mail.sender.example")) <
            0 ||
        (err = trpt_record_set(&r->mta, "postfix")) < 0 ||
        (err = trpt_record_set(&r->policy_domain, d->name)) < 0 ||
        (err = trpt_record_set(&r->receiving_mx_hostname, d->mx)) < 0 ||
        (err = trpt_record_set(&r->receiving_ip, d->ip)) < 0 ||
        (err = trpt_record_set(&r->queue_id, "AAAAAAAAAAA")) < 0 ||
        (err = trpt_record_set(&r->failure_reason_code, d->reason)) < 0)
        return err;
    return d->sts ? set_sts_policy(r, d) : 0;
}

static int find_placeholder(const trpt_buf *b, const char *ph, size_t *at)
{
    const char *p = memmem(b->data, b->len, ph, strlen(ph));

    if (!p)
        return -EPROTO; /* the encoder changed form: fix the bench */
    *at = (size_t)(p - b->data);
    return 0;
}

static int make_template(template *t, const domain_profile *d)
{
    trpt_record r;
    trpt_buf b;
    int err;

    trpt_record_init(&r);
    trpt_buf_init(&b);
    if ((err = make_domain_record(&r, d)) < 0 ||
        (err = trpt_record_to_json(&r, &b)) < 0 ||
        (err = find_placeholder(&b, PH_TIME, &t->time_at)) < 0 ||
        (err = find_placeholder(&b, PH_OFFSET, &t->offset_at)) < 0 ||
        (err = find_placeholder(&b, PH_QUEUE_ID, &t->qid_at)) < 0)
        goto out;
    t->time_at += 1;   /* skip 'T' */
    t->offset_at += 1; /* skip ':' */
    t->qid_at += 1;    /* skip '"' */
    t->json = b.data;
    t->len = b.len;
    b.data = NULL;
out:
    trpt_buf_free(&b);
    trpt_record_free(&r);
    return err;
}

static void put_digits(char *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
}

static void put_hex(char *p, uint64_t v, int n)
{
    static const char hex[] = "0123456789ABCDEF";

    for (int i = n - 1; i >= 0; i--, v >>= 4)
        p[i] = hex[v & 15];
}

/* Append record number g->next as one JSON line. */
static int append_record(generator *g, trpt_buf *out)
{
    uint32_t di = pick_domain(g->o->domains);
    const template *t = &g->tpl[di];
    unsigned sec = (unsigned)(g->next * 86400 / g->o->records);
    char *p;
    int err;

    if (!g->used[di]) {
        g->used[di] = 1;
        g->n_used++;
    }
    g->offset += 120 + rng_next() % 900;
    if ((err = trpt_buf_reserve(out, t->len + 1)) < 0)
        return err;
    p = out->data + out->len;
    memcpy(p, t->json, t->len);
    put_digits(p + t->time_at, sec / 3600, 2);
    put_digits(p + t->time_at + 3, sec / 60 % 60, 2);
    put_digits(p + t->time_at + 6, sec % 60, 2);
    put_digits(p + t->offset_at, OFFSET_BASE + g->offset, 12);
    put_hex(p + t->qid_at, rng_next(), 11);
    p[t->len] = '\n';
    out->len += t->len + 1;
    out->data[out->len] = '\0';
    g->next++;
    return 0;
}

/* Encode up to `chunk` records as JSON lines into out (reset first). */
static int fill_chunk(generator *g, trpt_buf *out, uint64_t *n)
{
    int err;

    trpt_buf_reset(out);
    *n = 0;
    while (*n < g->o->chunk && g->next < g->o->records) {
        if ((err = append_record(g, out)) < 0)
            return err;
        (*n)++;
    }
    return 0;
}

/* ---- the timed loops ------------------------------------------------------
 */

static uint64_t count_newlines(const char *p, size_t len)
{
    const char *end = p + len;
    uint64_t n = 0;

    while (p < end && (p = memchr(p, '\n', (size_t)(end - p)))) {
        n++;
        p++;
    }
    return n;
}

#define BENCH_BATCH (TRPT_AGG_BATCH * 4)

static int flush_batch(trpt_agg *a, const char **json, const size_t *len,
                       size_t n, uint64_t *bad)
{
    int rc[BENCH_BATCH];
    int err = trpt_agg_add_json_batch(a, json, len, n, rc);

    if (err < 0)
        return err;
    for (size_t i = 0; i < n; i++)
        if (rc[i] != 0)
            (*bad)++;
    return 0;
}

static int add_lines_batch(trpt_agg *a, const char *p, size_t len,
                           uint64_t *bad)
{
    const char *end = p + len, *json[BENCH_BATCH];
    size_t lens[BENCH_BATCH], n = 0;
    int err;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));

        json[n] = p;
        lens[n] = nl ? (size_t)(nl - p) : (size_t)(end - p);
        p += lens[n] + 1;
        if (++n == BENCH_BATCH) {
            if ((err = flush_batch(a, json, lens, n, bad)) < 0)
                return err;
            n = 0;
        }
    }
    return flush_batch(a, json, lens, n, bad);
}

static int add_lines(trpt_agg *a, const char *p, size_t len, uint64_t *bad)
{
    const char *end = p + len;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        int rc = trpt_agg_add_json(a, p, n);
        if (rc == -ENOMEM)
            return rc;
        if (rc != 0)
            (*bad)++;
        p += n + 1;
    }
    return 0;
}

/* ---- verification: every counted record is in some group --------------- */

typedef struct tally {
    uint64_t sessions;
    uint64_t groups;
} tally;

static int tally_group(void *ctx, const trpt_agg_group *grp)
{
    tally *t = ctx;

    t->groups++;
    for (size_t i = 0; i < grp->n_policies; i++)
        t->sessions += grp->policies[i].success + grp->policies[i].failure;
    return 0;
}

static int tally_all(trpt_agg *a, tally *t)
{
    int64_t *days = NULL;
    size_t n = 0;
    int err = trpt_agg_days(a, &days, &n);

    for (size_t i = 0; err >= 0 && i < n; i++)
        err = trpt_agg_foreach_group(a, days[i], tally_group, t);
    free(days);
    return err < 0 ? err : 0;
}

/* ---- main -----------------------------------------------------------------
 */

static uint64_t parse_num(const char *s, uint64_t lo, uint64_t hi)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi) {
        fprintf(stderr,
                "bench_agg: bad number '%s' (%" PRIu64 "..%" PRIu64 ")\n", s,
                lo, hi);
        exit(2);
    }
    return v;
}

static void parse_opts(int argc, char **argv, bench_opts *o)
{
    o->records = 10000000;
    o->domains = 10000;
    o->seed = 1;
    o->chunk = 65536;
    o->batch = false;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--records"))
            o->records = parse_num(argv[i + 1], 1, 1ull << 40);
        else if (!strcmp(argv[i], "--domains"))
            o->domains = (uint32_t)parse_num(argv[i + 1], 1, 10000000);
        else if (!strcmp(argv[i], "--seed"))
            o->seed = parse_num(argv[i + 1], 0, UINT64_MAX);
        else if (!strcmp(argv[i], "--chunk"))
            o->chunk = (uint32_t)parse_num(argv[i + 1], 1, 1u << 24);
        else if (!strcmp(argv[i], "--batch"))
            o->batch = parse_num(argv[i + 1], 0, 1) == 1;
        else
            goto usage;
    }
    if (argc % 2 == 0)
        goto usage;
    return;
usage:
    fprintf(stderr, "usage: bench_agg [--records N] [--domains K] "
                    "[--seed S] [--chunk C] [--batch 0|1]\n");
    exit(2);
}

typedef struct bench_result {
    double agg_s, base_s;
    double agg_cpu_s; /* CPU time: robust when other jobs share the cores */
    uint64_t lines, bad;
    long base_kib, peak_kib;
    trpt_agg_stats stats;
    tally t;
} bench_result;

static int run_bench(generator *g, const trpt_config *cfg, bench_result *res)
{
    trpt_buf buf;
    trpt_agg *a = NULL;
    uint64_t n;
    int err;

    trpt_buf_init(&buf);
    /* Generate the first chunk before the aggregator exists: the RSS from
     * here on is the aggregator's (the buffer is reused). */
    if ((err = trpt_buf_reserve(&buf, (size_t)g->o->chunk * 640)) < 0 ||
        (err = fill_chunk(g, &buf, &n)) < 0)
        goto out;
    res->base_kib = maxrss_kib();
    if ((err = trpt_agg_new(&a, cfg)) < 0)
        goto out;
    while (n > 0) {
        double t0 = now_s(), t1, t2, c1, c2;
        res->lines += count_newlines(buf.data, buf.len);
        t1 = now_s();
        c1 = cpu_s();
        err = g->o->batch ? add_lines_batch(a, buf.data, buf.len, &res->bad)
                          : add_lines(a, buf.data, buf.len, &res->bad);
        if (err < 0)
            goto out;
        c2 = cpu_s();
        t2 = now_s();
        res->base_s += t1 - t0;
        res->agg_s += t2 - t1;
        res->agg_cpu_s += c2 - c1;
        if ((err = fill_chunk(g, &buf, &n)) < 0)
            goto out;
    }
    res->peak_kib = maxrss_kib();
    res->stats = *trpt_agg_stats_get(a);
    err = tally_all(a, &res->t);
out:
    trpt_agg_free(a);
    trpt_buf_free(&buf);
    return err;
}

static void report(const bench_opts *o, const generator *g,
                   const bench_result *r)
{
    double rps = r->agg_s > 0 ? (double)r->lines / r->agg_s : 0;
    double bps = r->base_s > 0 ? (double)r->lines / r->base_s : 0;
    double ratio = r->base_s > 0 ? r->agg_s / r->base_s : 0;
    double cps = r->agg_cpu_s > 0 ? (double)r->lines / r->agg_cpu_s : 0;

    printf("bench_agg: %" PRIu64 " records over %" PRIu32 " domains (%" PRIu32
           " used), chunks of %" PRIu32 "\n",
           o->records, o->domains, g->n_used, o->chunk);
    printf("  aggregate (%s):%s %8.3f s %10.0f records/s\n",
           o->batch ? "add_json_batch" : "trpt_agg_add_json",
           o->batch ? "   " : "", r->agg_s, rps);
    printf("  aggregate, CPU time:           %8.3f s %10.0f records/s\n",
           r->agg_cpu_s, cps);
    printf("  baseline  (memchr newlines):   %8.3f s %10.0f records/s\n",
           r->base_s, bps);
    printf("  ratio aggregate/baseline:      %8.1fx\n", ratio);
    printf("  peak RSS %ld KiB, before aggregator %ld KiB, delta %ld KiB "
           "(%.1f MiB)\n",
           r->peak_kib, r->base_kib, r->peak_kib - r->base_kib,
           (double)(r->peak_kib - r->base_kib) / 1024);
    printf("  counted %" PRIu64 ", duplicates %" PRIu64 ", excluded %" PRIu64
           ", invalid %" PRIu64 "; %" PRIu64 " groups hold %" PRIu64
           " sessions\n",
           r->stats.records, r->stats.duplicates, r->stats.excluded,
           r->stats.invalid, r->t.groups, r->t.sessions);
    printf("RESULT records=%" PRIu64
           " records_per_s=%.0f cpu_records_per_s=%.0f "
           "baseline_per_s=%.0f ratio=%.1f maxrss_kib=%ld base_kib=%ld "
           "delta_kib=%ld\n",
           r->lines, rps, cps, bps, ratio, r->peak_kib, r->base_kib,
           r->peak_kib - r->base_kib);
}

int main(int argc, char **argv)
{
    bench_opts o;
    generator g;
    trpt_config *cfg = NULL;
    bench_result res;
    int err, ok;

    parse_opts(argc, argv, &o);
    memset(&g, 0, sizeof g);
    memset(&res, 0, sizeof res);
    rng_state = hash64(o.seed + 1);
    g.o = &o;
    g.doms = calloc(o.domains, sizeof *g.doms);
    g.used = calloc(o.domains, 1);
    g.tpl = calloc(o.domains, sizeof *g.tpl);
    if (!g.doms || !g.used || !g.tpl ||
        (err = trpt_config_defaults(&cfg)) < 0) {
        fprintf(stderr, "bench_agg: out of memory\n");
        return 1;
    }
    for (uint32_t i = 0; i < o.domains && err == 0; i++) {
        make_profile(&g.doms[i], i, o.seed);
        err = make_template(&g.tpl[i], &g.doms[i]);
    }
    if (err == 0)
        err = run_bench(&g, cfg, &res);
    if (err < 0)
        fprintf(stderr, "bench_agg: %s\n", strerror(-err));
    else
        report(&o, &g, &res);
    ok = err == 0 && res.bad == 0 && res.stats.records == o.records &&
         res.t.sessions == o.records;
    if (err == 0 && !ok)
        fprintf(stderr, "bench_agg: FAILED: aggregator did not account for "
                        "every record\n");
    for (uint32_t i = 0; i < o.domains; i++)
        free(g.tpl[i].json);
    free(g.tpl);
    trpt_config_free(cfg);
    free(g.doms);
    free(g.used);
    return ok ? 0 : 1;
}
