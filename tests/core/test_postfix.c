/* test_postfix.c - the Postfix log parser (core/postfix.c) through the public
 * trpt_parser API: the Postfix 3.10 corpus against its own datagrams, the
 * same log without TLSRPT lines, the Postfix 3.7 scenarios at loglevels
 * 0-2, correlation edge cases and hostile input. */
#include <errno.h>
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "logline.h"
#include "parser.h"
#include "record.h"
#include "timeutil.h"

/* ---- collecting records ------------------------------------------------- */

typedef struct collected {
    trpt_record *v;
    size_t n;
    char *json; /* every record's JSON, one per line */
    size_t json_len;
} collected;

static int collect(void *ctx, const trpt_record *rec)
{
    collected *c = ctx;
    trpt_record *v = realloc(c->v, (c->n + 1) * sizeof *v);
    trpt_buf b;

    if (!v)
        return -ENOMEM;
    c->v = v;
    trpt_record_init(&c->v[c->n]);
    if (trpt_record_copy(&c->v[c->n], rec) < 0)
        return -ENOMEM;
    c->n++;
    trpt_buf_init(&b);
    if (trpt_record_to_json(rec, &b) < 0 || trpt_buf_putc(&b, '\n') < 0) {
        trpt_buf_free(&b);
        return -ENOMEM;
    }
    c->json = realloc(c->json, c->json_len + b.len + 1);
    if (!c->json) {
        trpt_buf_free(&b);
        return -ENOMEM;
    }
    memcpy(c->json + c->json_len, b.data, b.len + 1);
    c->json_len += b.len;
    trpt_buf_free(&b);
    return 0;
}

static void collected_free(collected *c)
{
    for (size_t i = 0; i < c->n; i++)
        trpt_record_clear(&c->v[i]);
    free(c->v);
    free(c->json);
    memset(c, 0, sizeof *c);
}

static trpt_parser_config base_cfg(void)
{
    trpt_parser_config cfg = {0};

    cfg.format = TRPT_FORMAT_POSTFIX;
    cfg.source_id = "test";
    /* Dec 1 2026: the corpora's "Nov 28" lines are in 2026 */
    cfg.ref_time_us = trpt_days_from_civil(2026, 12, 1) * 86400LL * 1000000;
    return cfg;
}

/* Feeds a file line by line; lines containing `skip` are left out (their
 * bytes still count for offsets). Line number of each line start kept in
 * line_offsets when given. */
static trpt_parser *run_file_cfg(const char *path, const char *skip,
                                 const trpt_parser_config *cfg, collected *c,
                                 uint64_t **line_offsets, size_t *nlines)
{
    trpt_parser *p = NULL;
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0, n = 0;
    ssize_t len;
    uint64_t off = 0;

    if (!f || trpt_parser_new(&p, cfg, collect, c) < 0) {
        if (f)
            fclose(f);
        return NULL;
    }
    while ((len = getline(&line, &cap, f)) > 0) {
        size_t l = (size_t)len;

        if (line_offsets) {
            *line_offsets = realloc(*line_offsets, (n + 1) * sizeof(uint64_t));
            (*line_offsets)[n] = off;
        }
        n++;
        if (line[l - 1] == '\n')
            l--;
        if (!skip || !strstr(line, skip))
            trpt_parser_feed(p, line, l, off);
        off += (uint64_t)len;
    }
    trpt_parser_flush(p, off);
    if (nlines)
        *nlines = n;
    free(line);
    fclose(f);
    return p;
}

static trpt_parser *run_file(const char *path, const char *skip, collected *c)
{
    trpt_parser_config cfg = base_cfg();

    return run_file_cfg(path, skip, &cfg, c, NULL, NULL);
}

/* Feeds literal lines (offset = index * 1000). */
static trpt_parser *run_lines(const trpt_parser_config *cfg,
                              const char *const *lines, collected *c)
{
    trpt_parser *p = NULL;
    size_t i = 0;

    if (trpt_parser_new(&p, cfg, collect, c) < 0)
        return NULL;
    for (; lines[i]; i++)
        trpt_parser_feed(p, lines[i], strlen(lines[i]), i * 1000);
    trpt_parser_flush(p, i * 1000);
    return p;
}

/* ---- multisets of "domain|result|reason|mx|ip" keys ---------------------- */

typedef struct keyset {
    char **v;
    size_t n;
} keyset;

static void keyset_add(keyset *k, const char *domain, const char *result,
                       const char *reason, const char *mx, const char *ip)
{
    char buf[1024];

    snprintf(buf, sizeof buf, "%s|%s|%s|%s|%s", domain, result,
             reason ? reason : "", mx ? mx : "", ip ? ip : "");
    k->v = realloc(k->v, (k->n + 1) * sizeof *k->v);
    k->v[k->n++] = strdup(buf);
}

static void keyset_add_n(keyset *k, int times, const char *domain,
                         const char *result, const char *reason, const char *mx,
                         const char *ip)
{
    for (int i = 0; i < times; i++)
        keyset_add(k, domain, result, reason, mx, ip);
}

/* Removes one occurrence; 0 if found. */
static int keyset_remove(keyset *k, const char *key)
{
    for (size_t i = 0; i < k->n; i++) {
        if (strcmp(k->v[i], key) == 0) {
            free(k->v[i]);
            k->v[i] = k->v[--k->n];
            return 0;
        }
    }
    return -1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted, newline-joined: comparable with EXPECT_STREQ, readable on error. */
static char *keyset_join(keyset *k)
{
    size_t len = 1;
    char *s;

    if (k->n)
        qsort(k->v, k->n, sizeof *k->v, cmp_str);
    for (size_t i = 0; i < k->n; i++)
        len += strlen(k->v[i]) + 1;
    s = calloc(1, len);
    for (size_t i = 0; i < k->n; i++) {
        strcat(s, k->v[i]);
        strcat(s, "\n");
    }
    return s;
}

static void keyset_free(keyset *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->v[i]);
    free(k->v);
    memset(k, 0, sizeof *k);
}

static void keyset_from_records(keyset *k, const collected *c)
{
    for (size_t i = 0; i < c->n; i++) {
        const trpt_record *r = &c->v[i];

        keyset_add(k, r->policy_domain, trpt_result_name(r->result),
                   r->failure_reason_code, r->receiving_mx_hostname,
                   r->receiving_ip);
    }
}

static void expect_same(keyset *want, keyset *got)
{
    char *a = keyset_join(want), *b = keyset_join(got);

    EXPECT_STREQ(b, a);
    free(a);
    free(b);
}

/* ---- the Postfix 3.10 datagrams (ground truth) ----------------------------
 */

static const char *jstr(struct fjson_object *o, const char *key)
{
    struct fjson_object *v;

    if (!fjson_object_object_get_ex(o, key, &v))
        return NULL;
    return fjson_object_get_string(v);
}

static int jint(struct fjson_object *o, const char *key)
{
    struct fjson_object *v;

    if (!fjson_object_object_get_ex(o, key, &v))
        return -1;
    return fjson_object_get_int(v);
}

/* One key per datagram; policy-domain is the datagram's own (the MX host
 * for type 1 tlsa). */
static int load_datagrams(keyset *k)
{
    FILE *f =
        fopen(shared_path("corpus/postfix-3.10-tlsrpt/datagrams.ndjson"), "r");
    char *line = NULL;
    size_t cap = 0;
    int n = 0;

    if (!f)
        return -1;
    while (getline(&line, &cap, f) > 0) {
        struct fjson_object *d = fjson_tokener_parse(line), *pols, *pol, *fds;
        const char *mx = NULL, *ip = NULL, *reason = NULL;
        const char *result = "success";

        if (!d || !fjson_object_object_get_ex(d, "policies", &pols) ||
            !(pol = fjson_object_array_get_idx(pols, 0))) {
            fjson_object_put(d);
            continue;
        }
        if (jint(pol, "f") == 1 &&
            fjson_object_object_get_ex(pol, "failure-details", &fds)) {
            struct fjson_object *fd = fjson_object_array_get_idx(fds, 0);
            trpt_result res;

            if (trpt_result_from_code(jint(fd, "c"), &res) == 0)
                result = trpt_result_name(res);
            mx = jstr(fd, "n");
            ip = jstr(fd, "r");
            reason = jstr(fd, "f");
        }
        keyset_add(k, jstr(pol, "policy-domain"), result, reason, mx, ip);
        fjson_object_put(d);
        n++;
    }
    free(line);
    fclose(f);
    return n;
}

/* Datagrams carry n/r only for failures; the log always gives MX and IP.
 * So successes are compared by (domain, result) plus the MX/IP the TLSRPT
 * line names: add them here from the corpus topology. */
static const char *success_mx(const char *domain, const char **ip)
{
    static char buf[300];

    *ip = strcmp(domain, "may.test") == 0       ? "127.0.31.14"
          : strcmp(domain, "encrypt.test") == 0 ? "127.0.31.12"
                                                : "127.0.31.11";
    if (strcmp(domain, "multimx.test") == 0)
        return "mx2.multimx.test";
    if (strncmp(domain, "mx.", 3) == 0)
        return domain; /* tlsa: the policy domain is the MX */
    snprintf(buf, sizeof buf, "mx.%s", domain);
    return buf;
}

static void fill_success_mx(keyset *k)
{
    for (size_t i = 0; i < k->n; i++) {
        char dom[256], res[64];
        const char *ip, *mx;

        if (sscanf(k->v[i], "%255[^|]|%63[^|]|", dom, res) != 2 ||
            strcmp(res, "success") != 0)
            continue;
        mx = success_mx(dom, &ip);
        free(k->v[i]);
        k->v[i] = malloc(1024);
        snprintf(k->v[i], 1024, "%s|success||%s|%s", dom, mx, ip);
    }
}

/* Differences every log-based path has, documented in postfix.c:
 *  - A0: two "TLS-Required: no" messages each to expired.test and sts.test
 *    are delivered over TLS before this host has logged any TLSRPT line;
 *    Postfix reports nothing for them, the log cannot tell (RFC 8689 is a
 *    header, not logged), so they count as successes.
 *  - dane.test success at loglevel 1 logs no DANE line: the record keeps
 *    the recipient domain with an unknown policy type, which the
 *    aggregator moves to the MX host with a tlsa hint (design.md). */
static void apply_common_differences(keyset *want)
{
    keyset_add_n(want, 2, "expired.test", "success", NULL, "mx.expired.test",
                 "127.0.31.12");
    keyset_add_n(want, 2, "sts.test", "success", NULL, "mx.sts.test",
                 "127.0.31.11");
    for (int i = 0; i < 3; i++) {
        EXPECT_EQ(keyset_remove(want, "mx.dane.test|success||mx.dane.test|"
                                      "127.0.31.11"),
                  0);
        keyset_add(want, "dane.test", "success", NULL, "mx.dane.test",
                   "127.0.31.11");
    }
}

#define PF310 "corpus/postfix-3.10-tlsrpt/maillog.txt"

TEST(tlsrpt_log_reproduces_postfix_datagrams_per_domain_result_reason_mx_ip)
{
    collected c = {0};
    keyset want = {0}, got = {0};
    trpt_parser *p;

    ASSERT(load_datagrams(&want) == 125);
    fill_success_mx(&want);
    apply_common_differences(&want);
    p = run_file(shared_path(PF310), NULL, &c);
    ASSERT(p);
    keyset_from_records(&got, &c);
    expect_same(&want, &got);
    EXPECT_EQ(trpt_parser_stats_get(p)->records, 129);
    EXPECT_EQ(trpt_parser_stats_get(p)->errors[TRPT_PERR_BAD_TLSRPT_LINE], 0);
    trpt_parser_free(p);
    keyset_free(&want);
    keyset_free(&got);
    collected_free(&c);
}

TEST(tlsrpt_log_sets_policy_type_and_strings_only_from_evidence)
{
    collected c = {0};
    trpt_parser *p = run_file(shared_path(PF310), NULL, &c);
    int tlsa = 0, sts = 0, daneinval_strings = 0;

    ASSERT(p);
    for (size_t i = 0; i < c.n; i++) {
        const trpt_record *r = &c.v[i];

        EXPECT_STREQ(r->mta, "postfix");
        EXPECT_STREQ(r->reporting_host, "sender");
        EXPECT(r->queue_id != NULL);
        if (r->policy_type == TRPT_POLICY_TLSA) {
            tlsa++;
            EXPECT(strncmp(r->policy_domain, "mx.dane", 7) == 0);
        }
        if (r->policy_type == TRPT_POLICY_STS) {
            sts++; /* only "external policy failure (sts-...)" proves it */
            EXPECT(r->result >= TRPT_RESULT_STS_POLICY_FETCH_ERROR);
        }
        if (strcmp(r->policy_domain, "mx.daneinval.test") == 0) {
            EXPECT_EQ(r->policy_strings.n, 1);
            if (r->policy_strings.n == 1 &&
                strcmp(r->policy_strings.v[0], "3 1 1 00FF") == 0)
                daneinval_strings++;
        }
    }
    EXPECT_EQ(tlsa, 10); /* danebad 7 + daneinval 3 */
    EXPECT_EQ(sts, 18);  /* stsfail/stsfetch/stsinval A1+A2 failures */
    EXPECT_EQ(daneinval_strings, 3);
    trpt_parser_free(p);
    collected_free(&c);
}

TEST(event_ids_strictly_increase_in_emission_order)
{
    collected c = {0};
    trpt_parser *p = run_file(shared_path(PF310), NULL, &c);
    uint64_t last_off = 0;
    unsigned last_sub = 0;
    int multimx_subs = 0;

    ASSERT(p);
    for (size_t i = 0; i < c.n; i++) {
        const char *src;
        size_t slen;
        uint64_t off;
        unsigned sub;

        ASSERT(trpt_event_id_parse(c.v[i].event_id, &src, &slen, &off, &sub) ==
               0);
        if (i > 0)
            EXPECT(off > last_off || (off == last_off && sub > last_sub));
        if (sub == 1 && strcmp(c.v[i].policy_domain, "multimx.test") == 0)
            multimx_subs++; /* mx2 concluded by the same delivery line */
        last_off = off;
        last_sub = sub;
    }
    EXPECT_EQ(multimx_subs, 3);
    trpt_parser_free(p);
    collected_free(&c);
}

/* The same log with every "TLSRPT:" line removed: what a Postfix without
 * TLSRPT support (or with smtp_tlsrpt_enable = no) logs. */
TEST(classic_lines_alone_reproduce_datagrams_except_documented_cases)
{
    collected c = {0};
    keyset want = {0}, got = {0};
    trpt_parser *p;

    ASSERT(load_datagrams(&want) == 125);
    fill_success_mx(&want);
    apply_common_differences(&want);
    /* No TLSRPT line ever: the host is not known to report for itself, so
     * notlsrpt.test (no _smtp._tls record, Postfix sent nothing) counts;
     * the aggregator never reports to a domain without a TLSRPT record. */
    keyset_add_n(&want, 3, "notlsrpt.test", "success", NULL, "mx.notlsrpt.test",
                 "127.0.31.11");
    /* Everything else matches, including the stsfail/stsfetch/stsinval
     * tlsproxy successes (Postfix logged "Verified" and reported success),
     * the tlsproxy failures linked by IP, and multi-MX. */
    p = run_file(shared_path(PF310), "TLSRPT: ", &c);
    ASSERT(p);
    keyset_from_records(&got, &c);
    expect_same(&want, &got);
    trpt_parser_free(p);
    keyset_free(&want);
    keyset_free(&got);
    collected_free(&c);
}

/* ---- Postfix 3.7 scenarios ----------------------------------------------- */

typedef struct scenario {
    const char *file;
    const char *want; /* "N domain result reason" lines, sorted */
} scenario;

/* Expected per postfix/NN-*.log: every smtp delivery attempt of the
 * scenario domain at loglevels 0, 1 and 2. Where this differs from the
 * corpus README's "expected TLSRPT result", Postfix 3.10's own verdict for
 * the same situation decides (shared/corpus/postfix-3.10-tlsrpt):
 *  04, 09  may + untrusted cert: success (3.10 may.test: success), README
 *          says nothing to report. The ll0 attempt has no TLS evidence.
 *  07      self-signed: validation-failure/self-signed_certificate (3.10
 *          selfsigned.test), README certificate-not-trusted.
 *  08      untrusted issuer: validation-failure/untrusted_issuer, by
 *          analogy with self-signed (maptab_postfix.c).
 *  12      DANE success: tlsa with policy domain = MX only at ll2 (the
 *          "DNSSEC-signed TLSA record" line); at ll1 the recipient domain.
 *  13      DANE mismatch: certificate-not-trusted, tlsa (3.10 danebad.test),
 *          README tlsa-invalid.
 *  14      dane-only, no TLSA: nothing (3.10 daneonly.test: no datagram),
 *          README dane-required.
 *  16      bogus MX signature: the log is identical to any SERVFAIL;
 *          nothing (README dnssec-invalid; only unbound's log knows).
 *  18      DANE + no STARTTLS: starttls-not-supported; the log does not
 *          show DANE at ll1, so the recipient domain, unknown type.
 *  20-22   MTA-STS failures are logged by mta-sts-daemon only; Postfix
 *          falls back to may and logs a success (README sts-*).
 * Counts: 01 has 5 deliveries, the ll0 one leaves no TLS evidence. */
static const scenario scenarios[] = {
    {"01-valid-secure.log", "4 example-valid.test success -\n"},
    {"02-valid-verify.log", "3 example-valid-verify.test success -\n"},
    {"03-expired-secure.log", "7 example-expired.test certificate-expired -\n"},
    {"04-expired-may.log", "3 example-expired-may.test success -\n"},
    {"05-mismatch-secure.log",
     "6 example-mismatch.test certificate-host-mismatch -\n"},
    {"06-mismatch-verify.log",
     "7 example-mismatch-verify.test certificate-host-mismatch -\n"},
    {"07-selfsigned-secure.log",
     "6 example-selfsigned.test "
     "validation-failure self-signed_certificate\n"},
    {"08-untrusted-ca-verify.log",
     "6 example-untrusted.test validation-failure untrusted_issuer\n"},
    {"09-untrusted-ca-may.log", "3 example-untrusted-may.test success -\n"},
    {"10-nostarttls-encrypt.log",
     "6 example-nostarttls.test starttls-not-supported -\n"},
    {"11-nostarttls-may.log", ""},
    {"12-dane-ok.log", "3 example-dane.test success -\n"
                       "1 mx.example-dane.test success -\n"},
    {"13-dane-tlsa-mismatch.log",
     "6 mx.example-dane-bad.test certificate-not-trusted -\n"},
    {"14-dane-only-no-tlsa.log", ""},
    {"15-dane-no-tlsa-fallback.log",
     "3 example-dane-fallback.test success -\n"},
    {"16-dnssec-bogus-mx.log", ""},
    {"17-dnssec-bogus-tlsa.log",
     "1 mx.example-dane-bogustlsa.test dnssec-invalid -\n"},
    {"18-dane-nostarttls.log",
     "1 example-dane-nostarttls.test starttls-not-supported -\n"},
    {"19-sts-ok.log", "3 example-sts.test success -\n"},
    {"20-sts-fetch-error.log", "3 example-sts-nofetch.test success -\n"},
    {"21-sts-webpki-invalid.log", "3 example-sts-badcert.test success -\n"},
    {"22-sts-policy-invalid.log", "3 example-sts-badpolicy.test success -\n"},
    {"23-sts-mx-not-in-policy.log",
     "7 example-sts-mxmm.test certificate-host-mismatch -\n"},
    {"24-sts-expired.log",
     "7 example-sts-expired.test certificate-expired -\n"},
};

/* "N domain result reason" lines for the distinct keys, sorted by key. */
static char *summarize(const collected *c)
{
    keyset k = {0};
    char *out = calloc(1, 1), *joined;
    size_t i = 0;

    for (size_t j = 0; j < c->n; j++)
        keyset_add(&k, c->v[j].policy_domain, trpt_result_name(c->v[j].result),
                   c->v[j].failure_reason_code ? c->v[j].failure_reason_code
                                               : "-",
                   NULL, NULL);
    joined = keyset_join(&k);
    free(joined);
    while (i < k.n) {
        size_t j = i;
        char line[1200], dom[300], res[64], rsn[80];
        size_t len;

        while (j < k.n && strcmp(k.v[j], k.v[i]) == 0)
            j++;
        sscanf(k.v[i], "%299[^|]|%63[^|]|%79[^|]", dom, res, rsn);
        snprintf(line, sizeof line, "%zu %s %s %s\n", j - i, dom, res, rsn);
        len = strlen(out) + strlen(line) + 1;
        out = realloc(out, len);
        strcat(out, line);
        i = j;
    }
    keyset_free(&k);
    return out;
}

TEST(postfix37_every_scenario_file_gives_the_expected_results)
{
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++) {
        char rel[256];
        collected c = {0};
        trpt_parser *p;
        char *got;

        snprintf(rel, sizeof rel, "corpus/postfix-3.7-exim-4.96/postfix/%s",
                 scenarios[i].file);
        p = run_file(shared_path(rel), NULL, &c);
        ASSERT(p);
        got = summarize(&c);
        if (strcmp(got, scenarios[i].want) != 0)
            fprintf(stderr, "  scenario %s\n", scenarios[i].file);
        EXPECT_STREQ(got, scenarios[i].want);
        free(got);
        trpt_parser_free(p);
        collected_free(&c);
    }
}

TEST(dane_at_loglevel2_gives_tlsa_policy_on_mx_with_policy_strings)
{
    collected c = {0};
    trpt_parser *p = run_file(
        shared_path("corpus/postfix-3.7-exim-4.96/postfix/12-dane-ok.log"),
        NULL, &c);
    int found = 0;

    ASSERT(p);
    for (size_t i = 0; i < c.n; i++) {
        if (c.v[i].policy_type != TRPT_POLICY_TLSA)
            continue;
        found++;
        EXPECT_STREQ(c.v[i].policy_domain, "mx.example-dane.test");
        ASSERT(c.v[i].policy_strings.n == 1);
        EXPECT_STREQ(c.v[i].policy_strings.v[0],
                     "3 1 1 B269F26278FD6CF70F82CAC359E6CE4F147F24B7A382"
                     "1D3E0F68B4A66F70D4F3");
    }
    EXPECT_EQ(found, 1);
    trpt_parser_free(p);
    collected_free(&c);
}

/* raw/postfix-sender.maillog: lines 1-351 ll1, 352-505 ll0, 506-1466 ll2,
 * 1467- ll1 (corpus README). */
TEST(postfix37_raw_log_by_loglevel_range)
{
    trpt_parser_config cfg = base_cfg();
    collected c = {0};
    uint64_t *offs = NULL;
    size_t nlines = 0;
    int count[4] = {0}, success[4] = {0};
    trpt_parser *p = run_file_cfg(
        shared_path("corpus/postfix-3.7-exim-4.96/raw/postfix-sender.maillog"),
        NULL, &cfg, &c, &offs, &nlines);

    ASSERT(p);
    for (size_t i = 0; i < c.n; i++) {
        const char *src;
        size_t slen, line = 0;
        uint64_t off;
        unsigned sub;
        int range;

        ASSERT(trpt_event_id_parse(c.v[i].event_id, &src, &slen, &off, &sub) ==
               0);
        while (line + 1 < nlines && offs[line + 1] <= off)
            line++;
        line++; /* 1-based */
        range = line <= 351 ? 0 : line <= 505 ? 1 : line <= 1466 ? 2 : 3;
        count[range]++;
        if (c.v[i].result == TRPT_RESULT_SUCCESS)
            success[range]++;
    }
    EXPECT_EQ(count[0], 39);
    EXPECT_EQ(count[1], 9);   /* ll0: the 9 verification/STARTTLS failures */
    EXPECT_EQ(success[1], 0); /* ll0: TLS success looks like plaintext */
    EXPECT_EQ(count[2], 41);
    EXPECT_EQ(count[3], 3);
    EXPECT(success[0] > 0 && success[2] > 0 && success[3] > 0);
    free(offs);
    trpt_parser_free(p);
    collected_free(&c);
}

/* ---- synthetic correlation cases ---------------------------------------- */

#define L(t, pid, msg)     "Nov 28 " t " h postfix/smtp[" pid "]: " msg
#define PROXY(t, pid, msg) "Nov 28 " t " h postfix/tlsproxy[" pid "]: " msg
#define QMGR(t, msg)       "Nov 28 " t " h postfix/qmgr[9]: " msg
#define EST(host, ip)                                                          \
    "Verified TLS connection established to " host "[" ip "]:25: TLSv1.3"
#define DELIV(qid, dom, host, ip, status)                                      \
    qid ": to=<someone@" dom ">, relay=" host "[" ip "]:25, delay=0.1, "       \
        "delays=0/0/0.05/0, dsn=2.0.0, status=" status

TEST(interleaved_pids_are_linked_to_their_own_delivery)
{
    const char *lines[] = {
        L("10:00:00", "1",
          "server certificate verification failed for "
          "mx.a.test[192.0.2.1]:25: certificate has expired"),
        L("10:00:00", "2", EST("mx.b.test", "192.0.2.2")),
        L("10:00:00", "1",
          "Untrusted TLS connection established to "
          "mx.a.test[192.0.2.1]:25: TLSv1.3"),
        L("10:00:01", "2",
          DELIV("AAAA11111", "b.test", "mx.b.test", "192.0.2.2", "sent")),
        L("10:00:01", "1",
          DELIV("BBBB22222", "a.test", "mx.a.test", "192.0.2.1",
                "deferred (x)")),
        NULL};
    trpt_parser_config cfg = base_cfg();
    collected c = {0};
    trpt_parser *p = run_lines(&cfg, lines, &c);

    ASSERT(p && c.n == 2);
    EXPECT_STREQ(c.v[0].policy_domain, "b.test");
    EXPECT_EQ(c.v[0].result, TRPT_RESULT_SUCCESS);
    EXPECT_STREQ(c.v[0].queue_id, "AAAA11111");
    EXPECT_STREQ(c.v[1].policy_domain, "a.test");
    EXPECT_EQ(c.v[1].result, TRPT_RESULT_CERTIFICATE_EXPIRED);
    EXPECT_STREQ(c.v[1].receiving_ip, "192.0.2.1");
    trpt_parser_free(p);
    collected_free(&c);
}

/* Finished attempts are kept for reuse: a session after a failed one, on
 * the same pid and on another, starts from nothing (no reason, no MX, no
 * TLSA strings carried over). */
TEST(sessions_after_a_failed_one_carry_nothing_of_it)
{
    const char *lines[] = {
        L("10:00:00", "1",
          "server certificate verification failed for "
          "mx.a.test[192.0.2.1]:25: certificate has expired"),
        L("10:00:00", "1",
          "Untrusted TLS connection established to "
          "mx.a.test[192.0.2.1]:25: TLSv1.3"),
        L("10:00:01", "1",
          DELIV("AAAA11111", "a.test", "mx.a.test", "192.0.2.1",
                "deferred (x)")),
        L("10:00:02", "1", EST("mx.b.test", "192.0.2.2")),
        L("10:00:03", "1",
          DELIV("BBBB22222", "b.test", "mx.b.test", "192.0.2.2", "sent")),
        L("10:00:04", "2", EST("mx.c.test", "2001:db8::1")),
        L("10:00:05", "2",
          DELIV("CCCC33333", "c.test", "mx.c.test", "2001:db8::1", "sent")),
        NULL};
    trpt_parser_config cfg = base_cfg();
    collected c = {0};
    trpt_parser *p = run_lines(&cfg, lines, &c);

    ASSERT(p && c.n == 3);
    EXPECT_EQ(c.v[0].result, TRPT_RESULT_CERTIFICATE_EXPIRED);
    EXPECT_STREQ(c.v[0].receiving_mx_hostname, "mx.a.test");
    EXPECT_STREQ(c.v[1].policy_domain, "b.test");
    EXPECT_EQ(c.v[1].result, TRPT_RESULT_SUCCESS);
    EXPECT(c.v[1].failure_reason_code == NULL);
    EXPECT_STREQ(c.v[1].receiving_mx_hostname, "mx.b.test");
    EXPECT_STREQ(c.v[1].queue_id, "BBBB22222");
    EXPECT_STREQ(c.v[2].policy_domain, "c.test");
    EXPECT(c.v[2].failure_reason_code == NULL);
    EXPECT_STREQ(c.v[2].receiving_mx_hostname, "mx.c.test");
    EXPECT_STREQ(c.v[2].receiving_ip, "2001:db8::1");
    EXPECT_EQ(c.v[2].policy_strings.n, 0);
    for (size_t i = 0; i < c.n; i++)
        EXPECT(c.v[i].event_id != NULL);
    trpt_parser_free(p);
    collected_free(&c);
}

/* Event ids: "<source>:<offset>.<sub>" with the offset of the concluding
 * line; a source no id may carry (a space) fails the session's feed, and
 * a huge offset is written in full. */
TEST(event_ids_carry_source_offset_and_sub_and_bad_sources_fail)
{
    const char *est = L("10:00:00", "1", EST("mx.a.test", "192.0.2.1"));
    const char *deliv =
        L("10:00:01", "1",
          DELIV("AAAA11111", "a.test", "mx.a.test", "192.0.2.1", "sent"));
    trpt_parser_config cfg = base_cfg();
    collected c = {0};
    trpt_parser *p = NULL;

    cfg.source_id = "file-0123";
    ASSERT(trpt_parser_new(&p, &cfg, collect, &c) == 0);
    EXPECT_EQ(trpt_parser_feed(p, est, strlen(est), 0), 0);
    EXPECT_EQ(trpt_parser_feed(p, deliv, strlen(deliv), UINT64_MAX), 0);
    ASSERT(c.n == 1);
    EXPECT_STREQ(c.v[0].event_id, "file-0123:18446744073709551615.0");
    trpt_parser_free(p);
    collected_free(&c);

    cfg.source_id = "bad source";
    ASSERT(trpt_parser_new(&p, &cfg, collect, &c) == 0);
    EXPECT_EQ(trpt_parser_feed(p, est, strlen(est), 0), 0);
    EXPECT_EQ(trpt_parser_feed(p, deliv, strlen(deliv), 100), -EINVAL);
    EXPECT_EQ(c.n, 0);
    trpt_parser_free(p);
    collected_free(&c);
}

TEST(pid_reuse_after_timeout_does_not_inherit_stale_session)
{
    const char *lines[] = {
        /* a process that died before its delivery line */
        L("10:00:00", "7",
          "server certificate verification failed for "
          "mx.old.test[192.0.2.9]:25: certificate has expired"),
        /* two hours later a new process got the same pid */
        L("12:00:00", "7", EST("mx.new.test", "192.0.2.3")),
        L("12:00:00", "7",
          DELIV("CCCC33333", "new.test", "mx.new.test", "192.0.2.3", "sent")),
        NULL};
    trpt_parser_config cfg = base_cfg();
    collected c = {0};
    trpt_parser *p = run_lines(&cfg, lines, &c);

    ASSERT(p && c.n == 1);
    EXPECT_STREQ(c.v[0].policy_domain, "new.test");
    EXPECT_EQ(c.v[0].result, TRPT_RESULT_SUCCESS);
    EXPECT_EQ(trpt_parser_stats_get(p)->timed_out, 1);
    trpt_parser_free(p);
    collected_free(&c);
}

TEST(timed_out_session_with_known_domain_is_emitted)
{
    const char *lines[] = {
        L("10:00:00", "3",
          "TLSRPT: status=failure, domain=t.test, "
          "receiving_mx=mx.t.test[192.0.2.4], "
          "failure_type=certificate_expired"),
        L("10:00:00", "5",
          "server certificate verification failed for "
          "mx.u.test[192.0.2.5]:25: certificate has expired"),
        L("10:30:00", "4", EST("mx.x.test", "192.0.2.6")), NULL};
    trpt_parser_config cfg = base_cfg();
    collected c = {0};
    trpt_parser *p;

    cfg.session_timeout_s = 600;
    p = run_lines(&cfg, lines, &c);
    ASSERT(p && c.n == 1); /* domain of pid 5 and 4 unknown: dropped */
    EXPECT_STREQ(c.v[0].policy_domain, "t.test");
    EXPECT_EQ(c.v[0].result, TRPT_RESULT_CERTIFICATE_EXPIRED);
    EXPECT(c.v[0].queue_id == NULL);
    EXPECT_STREQ(c.v[0].event_id, "test:2000.0");      /* concluded by line 3 */
    EXPECT_EQ(trpt_parser_stats_get(p)->timed_out, 3); /* 2 + 1 at flush */
    trpt_parser_free(p);
    collected_free(&c);
}

TEST(max_sessions_evicts_the_least_recent_process)
{
    const char *lines[] = {
        L("10:00:00", "1",
          "TLSRPT: status=success, domain=one.test, "
          "receiving_mx=mx.one.test[192.0.2.1]"),
        L("10:00:01", "2",
          "TLSRPT: status=success, domain=two.test, "
          "receiving_mx=mx.two.test[192.0.2.2]"),
        L("10:00:02", "3",
          "TLSRPT: status=success, domain=three.test, "
          "receiving_mx=mx.three.test[192.0.2.3]"),
        L("10:00:03", "2",
          DELIV("DDDD44444", "two.test", "mx.two.test", "192.0.2.2", "sent")),
        NULL};
    trpt_parser_config cfg = base_cfg();
    collected c = {0};
    trpt_parser *p;

    cfg.max_sessions = 2;
    p = run_lines(&cfg, lines, &c);
    ASSERT(p && c.n == 3);
    EXPECT_STREQ(c.v[0].policy_domain, "one.test"); /* evicted at line 3 */
    EXPECT_STREQ(c.v[0].event_id, "test:2000.0");
    EXPECT_STREQ(c.v[1].policy_domain, "two.test");
    EXPECT_STREQ(c.v[1].queue_id, "DDDD44444");
    EXPECT_STREQ(c.v[2].policy_domain, "three.test"); /* at flush */
    EXPECT_EQ(trpt_parser_stats_get(p)->evicted, 1);
    trpt_parser_free(p);
    collected_free(&c);
}

TEST(excluded_sender_sessions_are_dropped_and_counted)
{
    const char *excl[] = {"TLSRPT-Noreply@Example.ORG", NULL};
    const char *lines[] = {
        QMGR("10:00:00", "EEEE55555: from=<tlsrpt-noreply@example.org>, "
                         "size=100, nrcpt=1 (queue active)"),
        QMGR("10:00:00", "FFFF66666: from=<alice@example.org>, size=100, "
                         "nrcpt=1 (queue active)"),
        L("10:00:01", "1", EST("mx.r.test", "192.0.2.7")),
        L("10:00:01", "1",
          "TLSRPT: status=success, domain=r.test, "
          "receiving_mx=mx.r.test[192.0.2.7]"),
        L("10:00:01", "1",
          DELIV("EEEE55555", "r.test", "mx.r.test", "192.0.2.7", "sent")),
        L("10:00:02", "1", EST("mx.r.test", "192.0.2.7")),
        L("10:00:02", "1",
          "TLSRPT: status=success, domain=r.test, "
          "receiving_mx=mx.r.test[192.0.2.7]"),
        L("10:00:02", "1",
          DELIV("FFFF66666", "r.test", "mx.r.test", "192.0.2.7", "sent")),
        NULL};
    trpt_parser_config cfg = base_cfg();
    collected c = {0};
    trpt_parser *p;

    cfg.exclude_senders = excl;
    p = run_lines(&cfg, lines, &c);
    ASSERT(p && c.n == 1);
    EXPECT_STREQ(c.v[0].queue_id, "FFFF66666");
    EXPECT_EQ(trpt_parser_stats_get(p)->excluded, 1);
    trpt_parser_free(p);
    collected_free(&c);
}

TEST(tlsrpt_line_and_classic_lines_of_one_handshake_count_once)
{
    /* expired order: verify failure, TLSRPT, Untrusted, delivery; the
     * TLSRPT verdict wins over a contradicting classic line */
    const char *lines[] = {
        L("10:00:00", "1",
          "server certificate verification failed for "
          "mx.e.test[192.0.2.8]:25: num=62:hostname mismatch"),
        L("10:00:00", "1",
          "TLSRPT: status=failure, domain=e.test, "
          "receiving_mx=mx.e.test[192.0.2.8], "
          "failure_type=certificate_expired"),
        L("10:00:00", "1",
          "Untrusted TLS connection established to "
          "mx.e.test[192.0.2.8]:25: TLSv1.3"),
        L("10:00:00", "1",
          DELIV("ABCD12345", "e.test", "mx.e.test", "192.0.2.8",
                "deferred (x)")),
        NULL};
    trpt_parser_config cfg = base_cfg();
    collected c = {0};
    trpt_parser *p = run_lines(&cfg, lines, &c);

    ASSERT(p && c.n == 1);
    EXPECT_EQ(c.v[0].result, TRPT_RESULT_CERTIFICATE_EXPIRED);
    trpt_parser_free(p);
    collected_free(&c);
}

TEST(multi_mx_attempts_all_take_the_delivery_domain)
{
    const char *lines[] = {
        L("10:00:00", "1",
          "certificate verification failed for "
          "mx1.m.test[192.0.2.14]:25: self-signed certificate"),
        L("10:00:00", "1",
          "Untrusted TLS connection established to "
          "mx1.m.test[192.0.2.14]:25: TLSv1.3"),
        L("10:00:00", "1", "ABCD99999: Server certificate not verified"),
        L("10:00:00", "1", EST("mx2.m.test", "192.0.2.11")),
        L("10:00:00", "1",
          DELIV("ABCD99999", "m.test", "mx2.m.test", "192.0.2.11", "sent")),
        NULL};
    trpt_parser_config cfg = base_cfg();
    collected c = {0};
    trpt_parser *p = run_lines(&cfg, lines, &c);

    ASSERT(p && c.n == 2);
    EXPECT_STREQ(c.v[0].policy_domain, "m.test");
    EXPECT_EQ(c.v[0].result, TRPT_RESULT_VALIDATION_FAILURE);
    EXPECT_STREQ(c.v[0].failure_reason_code, "self-signed_certificate");
    EXPECT_STREQ(c.v[0].receiving_mx_hostname, "mx1.m.test");
    EXPECT_STREQ(c.v[1].policy_domain, "m.test");
    EXPECT_EQ(c.v[1].result, TRPT_RESULT_SUCCESS);
    EXPECT_STREQ(c.v[1].receiving_mx_hostname, "mx2.m.test");
    trpt_parser_free(p);
    collected_free(&c);
}

TEST(reused_connections_are_not_counted)
{
    const char *lines[] = {
        L("10:00:00", "1",
          "Verified TLS connection reused to "
          "mx.v.test[192.0.2.11]:25: TLSv1.3"),
        L("10:00:00", "1",
          "ABCD00001: to=<a@v.test>, relay=mx.v.test[192.0.2.11]:25, "
          "conn_use=2, delay=0.4, dsn=2.0.0, status=sent (250 ok)"),
        NULL};
    trpt_parser_config cfg = base_cfg();
    collected c = {0};
    trpt_parser *p = run_lines(&cfg, lines, &c);

    ASSERT(p);
    EXPECT_EQ(c.n, 0);
    trpt_parser_free(p);
    collected_free(&c);
}

TEST(tlsproxy_handshake_failure_is_linked_to_smtp_delivery_by_ip)
{
    const char *lines[] = {
        PROXY("10:00:00", "50", "CONNECT to [192.0.2.16]:25"),
        PROXY("10:00:00", "50", "warning: TLS library problem: error:0A00010B"),
        PROXY("10:00:00", "50",
              "TLS handshake failed for service=smtp peer=[192.0.2.16]:25"),
        L("10:00:00", "60",
          "ABCD77777: to=<x@abort.test>, relay=mx.abort."
          "test[192.0.2.16]:25, delay=1, dsn=4.7.5, status="
          "deferred (Cannot start TLS: handshake failure)"),
        NULL};
    trpt_parser_config cfg = base_cfg();
    collected c = {0};
    trpt_parser *p = run_lines(&cfg, lines, &c);

    ASSERT(p && c.n == 1);
    EXPECT_STREQ(c.v[0].policy_domain, "abort.test");
    EXPECT_EQ(c.v[0].result, TRPT_RESULT_VALIDATION_FAILURE);
    EXPECT_STREQ(c.v[0].failure_reason_code, "tls-handshake-failure");
    EXPECT_STREQ(c.v[0].receiving_mx_hostname, "mx.abort.test");
    trpt_parser_free(p);
    collected_free(&c);
}

TEST(malformed_tlsrpt_lines_are_counted_and_skipped)
{
    const char *lines[] = {
        L("10:00:00", "1",
          "TLSRPT: status=maybe, domain=a.test, "
          "receiving_mx=mx.a.test[192.0.2.1]"),
        L("10:00:00", "1",
          "TLSRPT: status=success, domain=a..test, "
          "receiving_mx=mx.a.test[192.0.2.1]"),
        L("10:00:00", "1",
          "TLSRPT: status=success, domain=a.test, "
          "receiving_mx=mx.a.test192.0.2.1"),
        L("10:00:00", "1",
          "TLSRPT: status=failure, domain=a.test, "
          "receiving_mx=mx.a.test[192.0.2.1]"),
        L("10:00:00", "1",
          "TLSRPT: status=failure, domain=a.test, "
          "receiving_mx=mx.a.test[192.0.2.1], "
          "failure_type=no_such_thing"),
        L("10:00:00", "1",
          "TLSRPT: status=success, domain=a.test, "
          "receiving_mx=mx.a.test[192.0.2.1], "
          "failure_type=certificate_expired"),
        L("10:00:00", "1",
          "TLSRPT: status=failure, domain=a.test, "
          "receiving_mx=mx.a.test[192.0.2.1], failure_type="
          "validation_failure, failure_reason=a b@c"),
        L("10:00:00", "1", "TLSRPT: garbage"),
        L("10:00:00", "1", "TLSRPT: status=success, domain=a.test"),
        L("10:00:00", "1", "TLSRPT: "),
        NULL};
    trpt_parser_config cfg = base_cfg();
    collected c = {0};
    trpt_parser *p = run_lines(&cfg, lines, &c);

    ASSERT(p);
    EXPECT_EQ(c.n, 0);
    EXPECT_EQ(trpt_parser_stats_get(p)->errors[TRPT_PERR_BAD_TLSRPT_LINE], 10);
    trpt_parser_free(p);
    collected_free(&c);
}

TEST(ipv6_relay_none_and_bounces_are_handled)
{
    const char *lines[] = {
        L("10:00:00", "1",
          "Verified TLS connection established to "
          "mx.six.test[2001:db8::1]:25: TLSv1.3"),
        L("10:00:00", "1",
          "ABCD55555: to=<a@six.test>, relay=mx.six.test"
          "[2001:db8::1]:25, delay=1, dsn=5.0.0, "
          "status=bounced (host said: 550 no)"),
        L("10:00:01", "2",
          "ABCD66666: to=<a@none.test>, relay=none, "
          "delay=1, dsn=4.4.3, status=deferred (x)"),
        L("10:00:01", "2", "ABCD66666: to=<a@none.test>, relay=none"), NULL};
    trpt_parser_config cfg = base_cfg();
    collected c = {0};
    trpt_parser *p = run_lines(&cfg, lines, &c);

    ASSERT(p && c.n == 1);
    EXPECT_STREQ(c.v[0].receiving_ip, "2001:db8::1");
    EXPECT_STREQ(c.v[0].policy_domain, "six.test");
    trpt_parser_free(p);
    collected_free(&c);
}

TEST(bad_domains_brackets_and_hostile_lines_are_counted_not_fatal)
{
    static char huge[TRPT_LOGLINE_MAX + 100];
    static char big_ok[12000];
    const char *lines[] = {
        L("10:00:00", "1", EST("mx.bad.test", "192.0.2.1")),
        L("10:00:00", "1",
          "ABCD11111: to=<a@bad..test>, relay=mx.bad.test"
          "[192.0.2.1]:25, status=sent"),
        L("10:00:00", "2", EST("mx.n.test", "192.0.2.1")),
        L("10:00:00", "2",
          "ABCD22222: to=<no-at-sign>, relay=mx.n.test"
          "[192.0.2.1]:25, status=sent"),
        L("10:00:00", "3",
          "Verified TLS connection established to "
          "mx.nobracket.test192.0.2.1:25"),
        L("10:00:00", "3", "Verified TLS connection established to x[1.2"),
        L("10:00:00", "3",
          "TLSRPT: status=success, domain=\xff\xfe.test, "
          "receiving_mx=x[1.2.3.4]"),
        L("10:00:00", "3",
          "TLSRPT: status=success, domain=-bad-.test, "
          "receiving_mx=x[1.2.3.4]"),
        L("10:00:00", "3", "certificate verification failed for a[1.2.3.4]"),
        L("10:00:00", "3", "DNSSEC-signed TLSA record: _25._tcp.: 3 1 1 AB"),
        L("10:00:00", "3",
          "warning: TLS policy lookup for a/b: TLSA lookup "
          "error for "),
        L("10:00:00", "3", "ABCDEF: to=<"),
        huge,
        big_ok,
        NULL};
    trpt_parser_config cfg = base_cfg();
    collected c = {0};
    trpt_parser *p;
    int n;

    memset(huge, 'A', sizeof huge - 1);
    memcpy(huge, "Nov 28 10:00:00 h postfix/smtp[1]: ", 35);
    n = snprintf(big_ok, sizeof big_ok,
                 "Nov 28 10:00:00 h postfix/smtp[4]: TLSRPT: status=success, "
                 "domain=a.test, receiving_mx=mx.a.test[1.2.3.4], x=");
    memset(big_ok + n, 'z', sizeof big_ok - (size_t)n - 1);
    p = run_lines(&cfg, lines, &c);
    ASSERT(p);
    EXPECT_EQ(c.n, 1); /* the big but valid TLSRPT line, at flush */
    EXPECT_EQ(trpt_parser_stats_get(p)->errors[TRPT_PERR_BAD_DOMAIN], 2);
    EXPECT_EQ(trpt_parser_stats_get(p)->errors[TRPT_PERR_BAD_TLSRPT_LINE], 1);
    EXPECT_EQ(trpt_parser_stats_get(p)->errors[TRPT_PERR_TOO_LONG], 1);
    EXPECT_EQ(trpt_parser_stats_get(p)->errors[TRPT_PERR_BAD_UTF8], 1);
    /* NUL bytes inside a pre-framed message */
    EXPECT_EQ(trpt_parser_feed_msg(p, 1, "h", "postfix/smtp", 1, "TLSRPT: a\0b",
                                   11, 99999),
              0);
    trpt_parser_free(p);
    collected_free(&c);
}

TEST(no_local_part_or_address_appears_in_any_emitted_json)
{
    const char *files[] = {
        PF310,
        "corpus/postfix-3.7-exim-4.96/raw/postfix-sender.maillog",
    };
    const char *lines[] = {L("10:00:00", "1", EST("mx.p.test", "192.0.2.1")),
                           L("10:00:00", "1",
                             "ABCD11111: to=<secret.local+tag@p.test>, "
                             "orig_to=<other.secret@p.test>, relay=mx.p.test"
                             "[192.0.2.1]:25, status=sent"),
                           NULL};
    trpt_parser_config cfg = base_cfg();
    collected c = {0};
    trpt_parser *p;

    for (size_t i = 0; i < 2; i++) {
        p = run_file(shared_path(files[i]), NULL, &c);
        ASSERT(p && c.n > 0);
        EXPECT(strchr(c.json, '@') == NULL);
        EXPECT(strstr(c.json, "user") == NULL);
        EXPECT(strstr(c.json, "postmaster") == NULL);
        EXPECT(strstr(c.json, "tester") == NULL);
        EXPECT(strstr(c.json, "alice") == NULL);
        trpt_parser_free(p);
        collected_free(&c);
    }
    p = run_lines(&cfg, lines, &c);
    ASSERT(p && c.n == 1);
    EXPECT_STREQ(c.v[0].policy_domain, "p.test");
    EXPECT(strstr(c.json, "secret") == NULL);
    EXPECT(strchr(c.json, '@') == NULL);
    trpt_parser_free(p);
    collected_free(&c);
}

TEST(unclaimed_tlsproxy_attempts_time_out_while_tlsproxy_stays_busy)
{
    const char *lines[] = {
        PROXY("10:00:00", "50",
              "TLS handshake failed for service=smtp peer=[192.0.2.16]:25"),
        PROXY("10:30:00", "50",
              "TLS handshake failed for service=smtp peer=[192.0.2.17]:25"),
        /* the first one is gone: this delivery must not claim it */
        L("10:30:00", "60",
          "ABCD77777: to=<x@late.test>, relay=mx.late.test"
          "[192.0.2.16]:25, delay=1, dsn=2.0.0, status=sent"),
        NULL};
    trpt_parser_config cfg = base_cfg();
    collected c = {0};
    trpt_parser *p;

    cfg.session_timeout_s = 600;
    p = run_lines(&cfg, lines, &c);
    ASSERT(p);
    EXPECT_EQ(c.n, 0);
    EXPECT_EQ(trpt_parser_stats_get(p)->timed_out, 2); /* + 1 at flush */
    trpt_parser_free(p);
    collected_free(&c);
}

TEST(tlsrpt_mode_only_reproduces_the_datagrams_without_the_a0_sessions)
{
    trpt_parser_config cfg = base_cfg();
    collected c = {0};
    keyset want = {0}, got = {0};
    trpt_parser *p;

    ASSERT(load_datagrams(&want) == 125);
    fill_success_mx(&want);
    for (int i = 0; i < 3; i++) { /* ll1 DANE success: no DANE line */
        EXPECT_EQ(keyset_remove(&want, "mx.dane.test|success||mx.dane.test|"
                                       "127.0.31.11"),
                  0);
        keyset_add(&want, "dane.test", "success", NULL, "mx.dane.test",
                   "127.0.31.11");
    }
    cfg.tlsrpt_mode = TRPT_TLSRPT_ONLY;
    p = run_file_cfg(shared_path(PF310), NULL, &cfg, &c, NULL, NULL);
    ASSERT(p);
    keyset_from_records(&got, &c);
    expect_same(&want, &got);
    trpt_parser_free(p);
    keyset_free(&want);
    keyset_free(&got);
    collected_free(&c);
}

TEST(tlsrpt_mode_datagrams_counts_no_postfix_line_at_all)
{
    const char *logs[] = {
        PF310, "corpus/postfix-3.7-exim-4.96/raw/postfix-sender.maillog"};
    trpt_parser_config cfg = base_cfg();

    cfg.tlsrpt_mode = TRPT_TLSRPT_DATAGRAMS;
    for (size_t i = 0; i < sizeof logs / sizeof logs[0]; i++) {
        collected c = {0};
        trpt_parser *p =
            run_file_cfg(shared_path(logs[i]), NULL, &cfg, &c, NULL, NULL);

        ASSERT(p);
        EXPECT_EQ(c.n, 0);
        EXPECT_EQ(trpt_parser_stats_get(p)->lines_used, 0);
        EXPECT(trpt_parser_stats_get(p)->lines > 100);
        trpt_parser_free(p);
        collected_free(&c);
    }
}

TEST(tlsrpt_mode_classic_ignores_tlsrpt_lines)
{
    trpt_parser_config cfg = base_cfg();
    collected a = {0}, b = {0};
    keyset ka = {0}, kb = {0};
    trpt_parser *pa, *pb;

    cfg.tlsrpt_mode = TRPT_TLSRPT_CLASSIC;
    pa = run_file_cfg(shared_path(PF310), NULL, &cfg, &a, NULL, NULL);
    pb = run_file(shared_path(PF310), "TLSRPT: ", &b);
    ASSERT(pa && pb);
    EXPECT_EQ(a.n, 132);
    keyset_from_records(&ka, &a);
    keyset_from_records(&kb, &b);
    expect_same(&kb, &ka);
    trpt_parser_free(pa);
    trpt_parser_free(pb);
    keyset_free(&ka);
    keyset_free(&kb);
    collected_free(&a);
    collected_free(&b);
}
