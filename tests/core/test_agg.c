/* test_agg.c - the aggregator: counts, grouping, policy resolution,
 * duplicates, exclusions, days, stable order, save/load, memory. */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "agg.h"
#include "config.h"
#include "harness.h"
#include "record.h"
#include "report.h"
#include "timeutil.h"

#define US_PER_DAY (86400LL * 1000000LL)
#define DAY0       19968 /* 2024-09-02 */
#define REC_A      "v=TLSRPTv1; rua=mailto:tlsrpt@example.com"
#define REC_B      "v=TLSRPTv1; rua=https://reports.example.com/v1"

/* ---- fixtures --------------------------------------------------------- */

static trpt_config *config_new(void)
{
    trpt_config *c = NULL;

    if (trpt_config_defaults(&c) < 0)
        abort();
    return c;
}

static void config_add_hint(trpt_config *c, const char *domain,
                            trpt_policy_type type, const char *const *strings,
                            const char *const *mx)
{
    trpt_policy_hint *h;

    c->hints = realloc(c->hints, (c->n_hints + 1) * sizeof(*c->hints));
    if (!c->hints)
        abort();
    h = &c->hints[c->n_hints++];
    memset(h, 0, sizeof(*h));
    h->domain = strdup(domain);
    h->type = type;
    for (; strings && *strings; strings++)
        trpt_strv_push(&h->policy_strings, *strings);
    for (; mx && *mx; mx++)
        trpt_strv_push(&h->mx_hosts, *mx);
}

/* A valid record of policy domain `domain` on `day`, event id src:off.sub. */
static void make_record(trpt_record *r, const char *domain, int64_t day,
                        trpt_result result, const char *src, uint64_t off,
                        unsigned sub)
{
    char id[128];

    trpt_record_clear(r);
    r->time_us = day * US_PER_DAY + 3600LL * 1000000LL;
    trpt_event_id_format(id, sizeof(id), src, off, sub);
    trpt_record_set(&r->event_id, id);
    trpt_record_set(&r->policy_domain, domain);
    trpt_record_set(&r->tlsrpt_record, REC_A);
    r->result = result;
    if (result != TRPT_RESULT_SUCCESS) {
        trpt_record_set(&r->sending_mta_ip, "192.0.2.1");
        trpt_record_set(&r->receiving_mx_hostname, "mx1.example.net");
        trpt_record_set(&r->receiving_ip, "198.51.100.7");
    }
}

typedef struct collected {
    size_t groups;
    trpt_agg_group g[16];
    trpt_agg_policy p[16];
    trpt_agg_detail d[16][4];
} collected;

/* Copies the first policy of each group and its first details: enough to
 * look at in tests. Strings stay valid until the day is dropped; the
 * policy and detail arrays only during the callback, hence the copies. */
static int collect(void *ctx, const trpt_agg_group *g)
{
    collected *c = ctx;

    if (c->groups < 16) {
        c->g[c->groups] = *g;
        if (g->n_policies) {
            c->p[c->groups] = g->policies[0];
            for (size_t k = 0; k < g->policies[0].n_details && k < 4; k++)
                c->d[c->groups][k] = g->policies[0].details[k];
            c->p[c->groups].details = NULL;
        }
    }
    c->groups++;
    return 0;
}

/* Every report of every day, pretty JSON, concatenated. */
static int all_reports(void *ctx, const trpt_agg_group *g)
{
    trpt_report_meta m = {"Example Org", "tlsrpt@example.org", "example.org",
                          1};

    return trpt_report_json(g, &m, 1, ctx);
}

static void render(trpt_agg *a, trpt_buf *out)
{
    int64_t *days;
    size_t n;

    if (trpt_agg_days(a, &days, &n) < 0)
        abort();
    for (size_t i = 0; i < n; i++)
        if (trpt_agg_foreach_group(a, days[i], all_reports, out) < 0)
            abort();
    free(days);
}

/* ---- counting and grouping ------------------------------------------- */

TEST(agg_counts_successes_failures_and_detail_tuples)
{
    trpt_config *cfg = config_new();
    trpt_agg *a = NULL;
    trpt_record r;
    collected c = {0};

    trpt_record_init(&r);
    ASSERT(trpt_agg_new(&a, cfg) == 0);
    for (unsigned i = 0; i < 3; i++) {
        make_record(&r, "example.com", DAY0, TRPT_RESULT_SUCCESS, "s", 1, i);
        EXPECT_EQ(trpt_agg_add(a, &r), 0);
    }
    for (unsigned i = 0; i < 2; i++) {
        make_record(&r, "example.com", DAY0, TRPT_RESULT_CERTIFICATE_EXPIRED,
                    "s", 2, i);
        EXPECT_EQ(trpt_agg_add(a, &r), 0);
    }
    make_record(&r, "example.com", DAY0, TRPT_RESULT_STARTTLS_NOT_SUPPORTED,
                "s", 3, 0);
    EXPECT_EQ(trpt_agg_add(a, &r), 0);

    EXPECT_EQ(trpt_agg_foreach_group(a, DAY0, collect, &c), 0);
    ASSERT(c.groups == 1);
    EXPECT_STREQ(c.g[0].policy_domain, "example.com");
    EXPECT_STREQ(c.g[0].tlsrpt_record, REC_A);
    EXPECT_EQ(c.g[0].day, DAY0);
    EXPECT_EQ(c.g[0].n_policies, 1);
    EXPECT_EQ(c.p[0].type, TRPT_POLICY_NONE);
    EXPECT_EQ(c.p[0].success, 3);
    EXPECT_EQ(c.p[0].failure, 3);
    ASSERT(c.p[0].n_details == 2);
    /* count descending */
    EXPECT_EQ(c.d[0][0].result, TRPT_RESULT_CERTIFICATE_EXPIRED);
    EXPECT_EQ(c.d[0][0].count, 2);
    EXPECT_STREQ(c.d[0][0].sending_mta_ip, "192.0.2.1");
    EXPECT_STREQ(c.d[0][0].receiving_mx_hostname, "mx1.example.net");
    EXPECT_STREQ(c.d[0][0].receiving_ip, "198.51.100.7");
    EXPECT_STREQ(c.d[0][0].receiving_mx_helo, NULL);
    EXPECT_EQ(c.d[0][1].result, TRPT_RESULT_STARTTLS_NOT_SUPPORTED);
    EXPECT_EQ(c.d[0][1].count, 1);
    EXPECT_EQ(trpt_agg_stats_get(a)->records, 6);
    trpt_record_free(&r);
    trpt_agg_free(a);
    trpt_config_free(cfg);
}

TEST(agg_groups_by_record_text_with_no_record_first)
{
    trpt_config *cfg = config_new();
    trpt_agg *a = NULL;
    trpt_record r;
    collected c = {0};

    trpt_record_init(&r);
    ASSERT(trpt_agg_new(&a, cfg) == 0);
    make_record(&r, "example.com", DAY0, TRPT_RESULT_SUCCESS, "s", 1, 0);
    trpt_record_set(&r.tlsrpt_record, REC_B);
    EXPECT_EQ(trpt_agg_add(a, &r), 0);
    make_record(&r, "example.com", DAY0, TRPT_RESULT_SUCCESS, "s", 2, 0);
    EXPECT_EQ(trpt_agg_add(a, &r), 0);
    make_record(&r, "example.com", DAY0, TRPT_RESULT_SUCCESS, "s", 3, 0);
    trpt_record_set(&r.tlsrpt_record, NULL);
    EXPECT_EQ(trpt_agg_add(a, &r), 0);
    make_record(&r, "a.example", DAY0, TRPT_RESULT_SUCCESS, "s", 4, 0);
    EXPECT_EQ(trpt_agg_add(a, &r), 0);

    EXPECT_EQ(trpt_agg_foreach_group(a, DAY0, collect, &c), 0);
    ASSERT(c.groups == 4);
    EXPECT_STREQ(c.g[0].policy_domain, "a.example");
    EXPECT_STREQ(c.g[1].policy_domain, "example.com");
    EXPECT_STREQ(c.g[1].tlsrpt_record, NULL);
    EXPECT_STREQ(c.g[2].tlsrpt_record, REC_B); /* "...https" < "...mailto" */
    EXPECT_STREQ(c.g[3].tlsrpt_record, REC_A);
    for (int i = 0; i < 4; i++)
        EXPECT_EQ(c.p[i].success, 1);
    trpt_record_free(&r);
    trpt_agg_free(a);
    trpt_config_free(cfg);
}

static int stop_at_first(void *ctx, const trpt_agg_group *g)
{
    (void)g;
    (*(int *)ctx)++;
    return 7;
}

TEST(agg_foreach_stops_with_callback_result)
{
    trpt_config *cfg = config_new();
    trpt_agg *a = NULL;
    trpt_record r;
    int calls = 0;

    trpt_record_init(&r);
    ASSERT(trpt_agg_new(&a, cfg) == 0);
    make_record(&r, "a.example", DAY0, TRPT_RESULT_SUCCESS, "s", 1, 0);
    trpt_agg_add(a, &r);
    make_record(&r, "b.example", DAY0, TRPT_RESULT_SUCCESS, "s", 2, 0);
    trpt_agg_add(a, &r);
    EXPECT_EQ(trpt_agg_foreach_group(a, DAY0, stop_at_first, &calls), 7);
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(trpt_agg_foreach_group(a, DAY0 + 5, stop_at_first, &calls), 0);
    EXPECT_EQ(calls, 1);
    trpt_record_free(&r);
    trpt_agg_free(a);
    trpt_config_free(cfg);
}

/* ---- policy resolution ----------------------------------------------- */

TEST(agg_unknown_policy_without_hint_is_no_policy_found)
{
    trpt_config *cfg = config_new();
    trpt_agg *a = NULL;
    trpt_record r;
    collected c = {0};

    trpt_record_init(&r);
    ASSERT(trpt_agg_new(&a, cfg) == 0);
    make_record(&r, "example.com", DAY0, TRPT_RESULT_SUCCESS, "s", 1, 0);
    EXPECT_EQ(r.policy_type, TRPT_POLICY_UNKNOWN);
    EXPECT_EQ(trpt_agg_add(a, &r), 0);
    trpt_agg_foreach_group(a, DAY0, collect, &c);
    ASSERT(c.groups == 1);
    EXPECT_EQ(c.p[0].type, TRPT_POLICY_NONE);
    EXPECT_EQ(c.p[0].n_policy_strings, 0);
    EXPECT_EQ(c.p[0].n_mx_hosts, 0);
    trpt_record_free(&r);
    trpt_agg_free(a);
    trpt_config_free(cfg);
}

TEST(agg_sts_hint_supplies_policy_strings_and_mx_hosts)
{
    static const char *const strings[] = {"version: STSv1", "mode: enforce",
                                          "mx: mx1.example.net",
                                          "max_age: 86400", NULL};
    static const char *const mx[] = {"mx1.example.net", NULL};
    trpt_config *cfg = config_new();
    trpt_agg *a = NULL;
    trpt_record r;
    collected c = {0};

    config_add_hint(cfg, "example.com", TRPT_POLICY_STS, strings, mx);
    trpt_record_init(&r);
    ASSERT(trpt_agg_new(&a, cfg) == 0);
    make_record(&r, "example.com", DAY0, TRPT_RESULT_SUCCESS, "s", 1, 0);
    EXPECT_EQ(trpt_agg_add(a, &r), 0);
    make_record(&r, "other.example", DAY0, TRPT_RESULT_SUCCESS, "s", 2, 0);
    EXPECT_EQ(trpt_agg_add(a, &r), 0);
    trpt_agg_foreach_group(a, DAY0, collect, &c);
    ASSERT(c.groups == 2);
    EXPECT_STREQ(c.g[0].policy_domain, "example.com");
    EXPECT_EQ(c.p[0].type, TRPT_POLICY_STS);
    ASSERT(c.p[0].n_policy_strings == 4);
    EXPECT_STREQ(c.p[0].policy_strings[1], "mode: enforce");
    ASSERT(c.p[0].n_mx_hosts == 1);
    EXPECT_STREQ(c.p[0].mx_hosts[0], "mx1.example.net");
    EXPECT_EQ(c.p[1].type, TRPT_POLICY_NONE);
    trpt_record_free(&r);
    trpt_agg_free(a);
    trpt_config_free(cfg);
}

TEST(agg_tlsa_hint_moves_record_to_mx_host_domain)
{
    static const char *const tlsa[] = {"3 1 1 0123abcd", NULL};
    trpt_config *cfg = config_new();
    trpt_agg *a = NULL;
    trpt_record r;
    collected c = {0};

    config_add_hint(cfg, "example.com", TRPT_POLICY_TLSA, tlsa, NULL);
    trpt_record_init(&r);
    ASSERT(trpt_agg_new(&a, cfg) == 0);
    make_record(&r, "example.com", DAY0, TRPT_RESULT_TLSA_INVALID, "s", 1, 0);
    trpt_record_set(&r.receiving_mx_hostname, "MX1.Example.NET.");
    EXPECT_EQ(trpt_agg_add(a, &r), 0);
    trpt_agg_foreach_group(a, DAY0, collect, &c);
    ASSERT(c.groups == 1);
    /* RFC 8460 §3: the TLSA base domain is the MX host */
    EXPECT_STREQ(c.g[0].policy_domain, "mx1.example.net");
    EXPECT_STREQ(c.g[0].tlsrpt_record, NULL);
    EXPECT_EQ(c.p[0].type, TRPT_POLICY_TLSA);
    ASSERT(c.p[0].n_policy_strings == 1);
    EXPECT_STREQ(c.p[0].policy_strings[0], "3 1 1 0123abcd");
    EXPECT_EQ(c.p[0].failure, 1);
    /* the detail keeps the MX host as logged */
    EXPECT_STREQ(c.d[0][0].receiving_mx_hostname, "MX1.Example.NET.");
    trpt_record_free(&r);
    trpt_agg_free(a);
    trpt_config_free(cfg);
}

/* A stand-in for resolver.h: sts for sts.example, tlsa on the MX host for
 * dane.example, an error for broken.example, nothing for the rest. */
typedef struct fake_resolver {
    unsigned calls;
    char last_mx[64];
    int64_t last_day;
} fake_resolver;

static int fake_resolve(void *ctx, const char *domain, const char *mx_host,
                        int64_t day, trpt_agg_resolved *out)
{
    static const char *const sts[] = {"version: STSv1", "mode: enforce"};
    static const char *const mx[] = {"*.example.net"};
    static const char *const tlsa[] = {"3 1 1 ABCD"};
    fake_resolver *f = ctx;

    f->calls++;
    snprintf(f->last_mx, sizeof f->last_mx, "%s", mx_host ? mx_host : "");
    f->last_day = day;
    if (strcmp(domain, "broken.example") == 0)
        return -EAGAIN;
    if (strcmp(domain, "sts.example") == 0)
        *out = (trpt_agg_resolved){TRPT_POLICY_STS, domain, sts, 2, mx, 1};
    else if (strcmp(domain, "dane.example") == 0 && mx_host)
        *out = (trpt_agg_resolved){TRPT_POLICY_TLSA, mx_host, tlsa, 1, NULL, 0};
    return 0;
}

TEST(agg_resolver_gives_policies_hints_still_come_first)
{
    static const char *const hinted[] = {"version: STSv1", "mode: testing",
                                         NULL};
    const char *domains[] = {"sts.example", "dane.example", "broken.example",
                             "plain.example", "hinted.example"};
    trpt_config *cfg = config_new();
    fake_resolver f = {0};
    trpt_agg *a = NULL;
    trpt_record r;
    collected c = {0};

    config_add_hint(cfg, "hinted.example", TRPT_POLICY_STS, hinted, NULL);
    trpt_record_init(&r);
    ASSERT(trpt_agg_new(&a, cfg) == 0);
    trpt_agg_set_resolver(a, fake_resolve, &f);
    for (unsigned i = 0; i < 5; i++) {
        make_record(&r, domains[i], DAY0, TRPT_RESULT_CERTIFICATE_EXPIRED, "s",
                    i + 1, 0);
        trpt_record_set(&r.receiving_mx_hostname, "MX1.Example.NET.");
        EXPECT_EQ(trpt_agg_add(a, &r), 0);
    }
    EXPECT_EQ(f.calls, 4);                      /* not for the hinted domain */
    EXPECT_STREQ(f.last_mx, "mx1.example.net"); /* normalized */
    EXPECT_EQ(f.last_day, DAY0);
    trpt_agg_foreach_group(a, DAY0, collect, &c);
    ASSERT(c.groups == 5);
    for (size_t i = 0; i < c.groups; i++) {
        const char *dom = c.g[i].policy_domain;

        if (strcmp(dom, "sts.example") == 0) {
            EXPECT_EQ(c.p[i].type, TRPT_POLICY_STS);
            ASSERT(c.p[i].n_policy_strings == 2 && c.p[i].n_mx_hosts == 1);
            EXPECT_STREQ(c.p[i].mx_hosts[0], "*.example.net");
        } else if (strcmp(dom, "mx1.example.net") == 0) {
            EXPECT_EQ(c.p[i].type, TRPT_POLICY_TLSA); /* moved: RFC 8460 §3 */
            EXPECT_STREQ(c.g[i].tlsrpt_record, NULL);
            ASSERT(c.p[i].n_policy_strings == 1);
            EXPECT_STREQ(c.p[i].policy_strings[0], "3 1 1 ABCD");
        } else if (strcmp(dom, "hinted.example") == 0) {
            EXPECT_EQ(c.p[i].type, TRPT_POLICY_STS);
            ASSERT(c.p[i].n_policy_strings == 2);
            EXPECT_STREQ(c.p[i].policy_strings[1], "mode: testing");
        } else {
            /* broken.example (resolver error), plain.example (nothing) */
            EXPECT_EQ(c.p[i].type, TRPT_POLICY_NONE);
            EXPECT(strcmp(dom, "broken.example") == 0 ||
                   strcmp(dom, "plain.example") == 0);
        }
    }
    trpt_record_free(&r);
    trpt_agg_free(a);
    trpt_config_free(cfg);
}

TEST(agg_tlsa_hint_without_mx_host_stays_no_policy_found)
{
    static const char *const tlsa[] = {"3 1 1 0123abcd", NULL};
    trpt_config *cfg = config_new();
    trpt_agg *a = NULL;
    trpt_record r;
    collected c = {0};

    config_add_hint(cfg, "example.com", TRPT_POLICY_TLSA, tlsa, NULL);
    trpt_record_init(&r);
    ASSERT(trpt_agg_new(&a, cfg) == 0);
    make_record(&r, "example.com", DAY0, TRPT_RESULT_SUCCESS, "s", 1, 0);
    EXPECT_EQ(trpt_agg_add(a, &r), 0);
    trpt_agg_foreach_group(a, DAY0, collect, &c);
    ASSERT(c.groups == 1);
    EXPECT_STREQ(c.g[0].policy_domain, "example.com");
    EXPECT_STREQ(c.g[0].tlsrpt_record, REC_A);
    EXPECT_EQ(c.p[0].type, TRPT_POLICY_NONE);
    EXPECT_EQ(c.p[0].success, 1);
    trpt_record_free(&r);
    trpt_agg_free(a);
    trpt_config_free(cfg);
}

TEST(agg_known_policy_type_is_not_overridden_by_hint)
{
    static const char *const tlsa[] = {"3 1 1 0123abcd", NULL};
    trpt_config *cfg = config_new();
    trpt_agg *a = NULL;
    trpt_record r;
    collected c = {0};

    config_add_hint(cfg, "example.com", TRPT_POLICY_TLSA, tlsa, NULL);
    trpt_record_init(&r);
    ASSERT(trpt_agg_new(&a, cfg) == 0);
    make_record(&r, "example.com", DAY0, TRPT_RESULT_SUCCESS, "s", 1, 0);
    r.policy_type = TRPT_POLICY_STS;
    trpt_strv_push(&r.policy_strings, "version: STSv1");
    trpt_record_set(&r.receiving_mx_hostname, "mx1.example.net");
    EXPECT_EQ(trpt_agg_add(a, &r), 0);
    trpt_agg_foreach_group(a, DAY0, collect, &c);
    ASSERT(c.groups == 1);
    EXPECT_STREQ(c.g[0].policy_domain, "example.com");
    EXPECT_EQ(c.p[0].type, TRPT_POLICY_STS);
    ASSERT(c.p[0].n_policy_strings == 1);
    EXPECT_STREQ(c.p[0].policy_strings[0], "version: STSv1");
    trpt_record_free(&r);
    trpt_agg_free(a);
    trpt_config_free(cfg);
}

TEST(agg_hint_supplies_strings_to_a_known_type_without_them)
{
    static const char *const strings[] = {"version: STSv1", "mode: enforce",
                                          "mx: mx1.example.net", NULL};
    static const char *const mx[] = {"mx1.example.net", NULL};
    trpt_config *cfg = config_new();
    trpt_agg *a = NULL;
    trpt_record r;
    collected c = {0};

    /* Postfix proves "sts" for a policy failure but logs no strings; the
     * successes of the same domain get their policy from the hint. Both
     * must land in one policy. A hint of another type supplies nothing. */
    config_add_hint(cfg, "example.com", TRPT_POLICY_STS, strings, mx);
    config_add_hint(cfg, "other.example", TRPT_POLICY_TLSA, NULL, NULL);
    trpt_record_init(&r);
    ASSERT(trpt_agg_new(&a, cfg) == 0);
    make_record(&r, "example.com", DAY0, TRPT_RESULT_STS_WEBPKI_INVALID, "s", 1,
                0);
    r.policy_type = TRPT_POLICY_STS;
    EXPECT_EQ(trpt_agg_add(a, &r), 0);
    make_record(&r, "example.com", DAY0, TRPT_RESULT_SUCCESS, "s", 2, 0);
    EXPECT_EQ(trpt_agg_add(a, &r), 0);
    make_record(&r, "other.example", DAY0, TRPT_RESULT_SUCCESS, "s", 3, 0);
    r.policy_type = TRPT_POLICY_STS;
    EXPECT_EQ(trpt_agg_add(a, &r), 0);
    trpt_agg_foreach_group(a, DAY0, collect, &c);
    ASSERT(c.groups == 2);
    EXPECT_STREQ(c.g[0].policy_domain, "example.com");
    ASSERT(c.g[0].n_policies == 1);
    EXPECT_EQ(c.p[0].success, 1);
    EXPECT_EQ(c.p[0].failure, 1);
    ASSERT(c.p[0].n_policy_strings == 3);
    EXPECT_STREQ(c.p[0].policy_strings[2], "mx: mx1.example.net");
    EXPECT_STREQ(c.g[1].policy_domain, "other.example");
    EXPECT_EQ(c.p[1].type, TRPT_POLICY_STS);
    EXPECT_EQ(c.p[1].n_policy_strings, 0);
    trpt_record_free(&r);
    trpt_agg_free(a);
    trpt_config_free(cfg);
}

TEST(agg_policies_of_one_group_are_kept_apart_and_sorted)
{
    trpt_config *cfg = config_new();
    trpt_agg *a = NULL;
    trpt_record r;
    int64_t *days;
    size_t n;

    trpt_record_init(&r);
    ASSERT(trpt_agg_new(&a, cfg) == 0);
    make_record(&r, "example.com", DAY0, TRPT_RESULT_SUCCESS, "s", 1, 0);
    r.policy_type = TRPT_POLICY_TLSA;
    EXPECT_EQ(trpt_agg_add(a, &r), 0);
    make_record(&r, "example.com", DAY0, TRPT_RESULT_SUCCESS, "s", 2, 0);
    r.policy_type = TRPT_POLICY_STS;
    trpt_strv_push(&r.policy_strings, "mode: testing");
    EXPECT_EQ(trpt_agg_add(a, &r), 0);
    make_record(&r, "example.com", DAY0, TRPT_RESULT_SUCCESS, "s", 3, 0);
    r.policy_type = TRPT_POLICY_STS;
    trpt_strv_push(&r.policy_strings, "mode: enforce");
    EXPECT_EQ(trpt_agg_add(a, &r), 0);
    make_record(&r, "example.com", DAY0, TRPT_RESULT_SUCCESS, "s", 4, 0);
    EXPECT_EQ(trpt_agg_add(a, &r), 0);

    ASSERT(trpt_agg_days(a, &days, &n) == 0);
    EXPECT_EQ(n, 1);
    free(days);
    {
        trpt_buf out;

        trpt_buf_init(&out);
        render(a, &out);
        /* no-policy-found < sts (enforce < testing) < tlsa */
        const char *np = strstr(out.data, "no-policy-found");
        const char *enf = strstr(out.data, "mode: enforce");
        const char *tst = strstr(out.data, "mode: testing");
        const char *tl = strstr(out.data, "\"tlsa\"");

        ASSERT(np && enf && tst && tl);
        EXPECT(np < enf && enf < tst && tst < tl);
        trpt_buf_free(&out);
    }
    trpt_record_free(&r);
    trpt_agg_free(a);
    trpt_config_free(cfg);
}

/* ---- duplicates, exclusions, bad input ------------------------------- */

TEST(agg_duplicates_at_or_below_high_water_mark_are_skipped)
{
    trpt_config *cfg = config_new();
    trpt_agg *a = NULL;
    trpt_record r;
    collected c = {0};

    trpt_record_init(&r);
    ASSERT(trpt_agg_new(&a, cfg) == 0);
    make_record(&r, "example.com", DAY0, TRPT_RESULT_SUCCESS, "file-a", 100, 0);
    EXPECT_EQ(trpt_agg_add(a, &r), 0);
    make_record(&r, "example.com", DAY0, TRPT_RESULT_SUCCESS, "file-a", 100, 1);
    EXPECT_EQ(trpt_agg_add(a, &r), 0);
    make_record(&r, "example.com", DAY0, TRPT_RESULT_SUCCESS, "file-a", 200, 0);
    EXPECT_EQ(trpt_agg_add(a, &r), 0);
    /* replays: equal to and below the mark */
    EXPECT_EQ(trpt_agg_add(a, &r), 1);
    make_record(&r, "example.com", DAY0, TRPT_RESULT_SUCCESS, "file-a", 100, 1);
    EXPECT_EQ(trpt_agg_add(a, &r), 1);
    make_record(&r, "example.com", DAY0, TRPT_RESULT_SUCCESS, "file-a", 0, 0);
    EXPECT_EQ(trpt_agg_add(a, &r), 1);
    /* another source has its own mark; a prefix of a name is another name */
    make_record(&r, "example.com", DAY0, TRPT_RESULT_SUCCESS, "file-b", 100, 0);
    EXPECT_EQ(trpt_agg_add(a, &r), 0);
    make_record(&r, "example.com", DAY0, TRPT_RESULT_SUCCESS, "file-", 100, 0);
    EXPECT_EQ(trpt_agg_add(a, &r), 0);
    make_record(&r, "example.com", DAY0, TRPT_RESULT_SUCCESS, "file-a", 200, 1);
    EXPECT_EQ(trpt_agg_add(a, &r), 0);

    EXPECT_EQ(trpt_agg_stats_get(a)->records, 6);
    EXPECT_EQ(trpt_agg_stats_get(a)->duplicates, 3);
    trpt_agg_foreach_group(a, DAY0, collect, &c);
    ASSERT(c.groups == 1);
    EXPECT_EQ(c.p[0].success, 6);
    trpt_record_free(&r);
    trpt_agg_free(a);
    trpt_config_free(cfg);
}

TEST(agg_excluded_domains_are_skipped_and_counted)
{
    static const char *const tlsa[] = {"3 1 1 00", NULL};
    trpt_config *cfg = config_new();
    trpt_agg *a = NULL;
    trpt_record r;
    int64_t *days;
    size_t n;

    trpt_strv_push(&cfg->exclude_domains, "reports.example");
    trpt_strv_push(&cfg->exclude_domains, "mx.excluded.example");
    config_add_hint(cfg, "dane.example", TRPT_POLICY_TLSA, tlsa, NULL);
    trpt_record_init(&r);
    ASSERT(trpt_agg_new(&a, cfg) == 0);
    make_record(&r, "reports.example", DAY0, TRPT_RESULT_SUCCESS, "s", 1, 0);
    EXPECT_EQ(trpt_agg_add(a, &r), 1);
    /* excluded after the tlsa move, too */
    make_record(&r, "dane.example", DAY0, TRPT_RESULT_SUCCESS, "s", 2, 0);
    trpt_record_set(&r.receiving_mx_hostname, "mx.excluded.example");
    EXPECT_EQ(trpt_agg_add(a, &r), 1);
    /* an excluded record advanced the mark: its replay is a duplicate */
    EXPECT_EQ(trpt_agg_add(a, &r), 1);
    EXPECT_EQ(trpt_agg_stats_get(a)->excluded, 2);
    EXPECT_EQ(trpt_agg_stats_get(a)->duplicates, 1);
    EXPECT_EQ(trpt_agg_stats_get(a)->records, 0);
    ASSERT(trpt_agg_days(a, &days, &n) == 0);
    EXPECT_EQ(n, 0);
    free(days);
    trpt_record_free(&r);
    trpt_agg_free(a);
    trpt_config_free(cfg);
}

TEST(agg_refuses_invalid_records_and_counts_them)
{
    static const char nul_json[] = "{\"v\":1,\0\"id\":\"s:1.0\"}";
    static const char bad_utf8[] = "{\"policy-domain\":\"\xff\xfe\"}";
    trpt_config *cfg = config_new();
    trpt_agg *a = NULL;
    trpt_record r;
    trpt_buf good;
    char *longdom;

    trpt_record_init(&r);
    trpt_buf_init(&good);
    ASSERT(trpt_agg_new(&a, cfg) == 0);
    make_record(&r, "example.com", DAY0, TRPT_RESULT_SUCCESS, "s", 1, 0);
    ASSERT(trpt_record_to_json(&r, &good) == 0);

    /* no policy domain */
    trpt_record_set(&r.policy_domain, NULL);
    EXPECT(trpt_agg_add(a, &r) < 0);
    /* an e-mail address where none may be */
    make_record(&r, "example.com", DAY0, TRPT_RESULT_SUCCESS, "s", 2, 0);
    trpt_record_set(&r.receiving_mx_helo, "user@example.com");
    EXPECT(trpt_agg_add(a, &r) < 0);
    /* absurd enum values */
    make_record(&r, "example.com", DAY0, TRPT_RESULT_SUCCESS, "s", 3, 0);
    r.result = (trpt_result)99;
    EXPECT(trpt_agg_add(a, &r) < 0);
    /* over-long domain */
    longdom = malloc(4000);
    memset(longdom, 'a', 3999);
    longdom[3999] = '\0';
    make_record(&r, longdom, DAY0, TRPT_RESULT_SUCCESS, "s", 4, 0);
    EXPECT(trpt_agg_add(a, &r) < 0);
    free(longdom);
    /* JSON: truncated, NUL byte, invalid UTF-8, not an object */
    EXPECT(trpt_agg_add_json(a, good.data, good.len / 2) < 0);
    EXPECT(trpt_agg_add_json(a, nul_json, sizeof(nul_json) - 1) < 0);
    EXPECT(trpt_agg_add_json(a, bad_utf8, sizeof(bad_utf8) - 1) < 0);
    EXPECT(trpt_agg_add_json(a, "[]", 2) < 0);
    EXPECT_EQ(trpt_agg_stats_get(a)->invalid, 8);
    EXPECT_EQ(trpt_agg_stats_get(a)->records, 0);
    /* the good one still goes in afterwards */
    EXPECT_EQ(trpt_agg_add_json(a, good.data, good.len), 0);
    EXPECT_EQ(trpt_agg_stats_get(a)->records, 1);
    trpt_buf_free(&good);
    trpt_record_free(&r);
    trpt_agg_free(a);
    trpt_config_free(cfg);
}

/* ---- days --------------------------------------------------------------- */

TEST(agg_days_are_sorted_and_drop_day_forgets_one)
{
    trpt_config *cfg = config_new();
    trpt_agg *a = NULL;
    trpt_record r;
    int64_t *days;
    size_t n;
    collected c = {0};

    trpt_record_init(&r);
    ASSERT(trpt_agg_new(&a, cfg) == 0);
    make_record(&r, "example.com", DAY0 + 2, TRPT_RESULT_SUCCESS, "s", 1, 0);
    trpt_agg_add(a, &r);
    make_record(&r, "example.com", DAY0, TRPT_RESULT_SUCCESS, "s", 2, 0);
    trpt_agg_add(a, &r);
    make_record(&r, "example.com", DAY0 + 1, TRPT_RESULT_SUCCESS, "s", 3, 0);
    trpt_agg_add(a, &r);
    /* last microsecond of a day belongs to that day */
    make_record(&r, "example.com", DAY0, TRPT_RESULT_SUCCESS, "s", 4, 0);
    r.time_us = (DAY0 + 1) * US_PER_DAY - 1;
    trpt_agg_add(a, &r);

    ASSERT(trpt_agg_days(a, &days, &n) == 0);
    ASSERT(n == 3);
    EXPECT_EQ(days[0], DAY0);
    EXPECT_EQ(days[1], DAY0 + 1);
    EXPECT_EQ(days[2], DAY0 + 2);
    free(days);
    trpt_agg_foreach_group(a, DAY0, collect, &c);
    EXPECT_EQ(c.p[0].success, 2);

    EXPECT_EQ(trpt_agg_drop_day(a, DAY0 + 1), 0);
    EXPECT_EQ(trpt_agg_drop_day(a, DAY0 + 1), -ENOENT);
    ASSERT(trpt_agg_days(a, &days, &n) == 0);
    ASSERT(n == 2);
    EXPECT_EQ(days[0], DAY0);
    EXPECT_EQ(days[1], DAY0 + 2);
    free(days);
    memset(&c, 0, sizeof(c));
    EXPECT_EQ(trpt_agg_foreach_group(a, DAY0 + 1, collect, &c), 0);
    EXPECT_EQ(c.groups, 0);
    /* a late record re-creates the dropped day */
    make_record(&r, "example.com", DAY0 + 1, TRPT_RESULT_SUCCESS, "s", 9, 0);
    EXPECT_EQ(trpt_agg_add(a, &r), 0);
    trpt_agg_foreach_group(a, DAY0 + 1, collect, &c);
    ASSERT(c.groups == 1);
    EXPECT_EQ(c.p[0].success, 1);
    trpt_record_free(&r);
    trpt_agg_free(a);
    trpt_config_free(cfg);
}

/* ---- stable order ------------------------------------------------------ */

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static const trpt_result mix_results[] = {
    TRPT_RESULT_SUCCESS, TRPT_RESULT_SUCCESS, TRPT_RESULT_CERTIFICATE_EXPIRED,
    TRPT_RESULT_STARTTLS_NOT_SUPPORTED, TRPT_RESULT_VALIDATION_FAILURE};

/* Record i of a fixed mixed set; ids unique per i. */
static void mixed_record(trpt_record *r, unsigned i)
{
    static const char *const domains[] = {"a.example", "b.example",
                                          "c.example"};
    static const char *const ips[] = {"192.0.2.1", "192.0.2.2", "2001:db8::1"};

    make_record(r, domains[i % 3], DAY0 + (i / 7) % 2, mix_results[i % 5],
                "src", i, 0);
    if (i % 4 == 0)
        trpt_record_set(&r->tlsrpt_record, REC_B);
    if (r->result != TRPT_RESULT_SUCCESS) {
        trpt_record_set(&r->sending_mta_ip, ips[(i / 5) % 3]);
        if (i % 2)
            trpt_record_set(&r->failure_reason_code, "X509_V_ERR_1");
    }
}

TEST(agg_reports_are_byte_identical_whatever_the_arrival_order)
{
    enum { N = 600 };
    trpt_config *cfg = config_new();
    trpt_agg *a = NULL, *b = NULL;
    unsigned order[N];
    uint64_t seed = 0x1234567;
    trpt_record r;
    trpt_buf ra, rb;

    trpt_record_init(&r);
    trpt_buf_init(&ra);
    trpt_buf_init(&rb);
    ASSERT(trpt_agg_new(&a, cfg) == 0 && trpt_agg_new(&b, cfg) == 0);
    for (unsigned i = 0; i < N; i++) {
        order[i] = i;
        mixed_record(&r, i);
        EXPECT_EQ(trpt_agg_add(a, &r), 0);
    }
    for (unsigned i = N - 1; i > 0; i--) {
        unsigned j = (unsigned)(rng_next(&seed) % (i + 1)), t = order[i];

        order[i] = order[j];
        order[j] = t;
    }
    /* ids out of order would be duplicates: give b one source per record */
    for (unsigned i = 0; i < N; i++) {
        char src[32];
        char id[64];

        mixed_record(&r, order[i]);
        snprintf(src, sizeof(src), "src%u", order[i]);
        trpt_event_id_format(id, sizeof(id), src, 1, 0);
        trpt_record_set(&r.event_id, id);
        EXPECT_EQ(trpt_agg_add(b, &r), 0);
    }
    render(a, &ra);
    render(b, &rb);
    ASSERT(ra.len > 1000);
    EXPECT_EQ(ra.len, rb.len);
    EXPECT(memcmp(ra.data, rb.data, ra.len) == 0);
    trpt_buf_free(&ra);
    trpt_buf_free(&rb);
    trpt_record_free(&r);
    trpt_agg_free(a);
    trpt_agg_free(b);
    trpt_config_free(cfg);
}

/* A record of mixed_record(i), sometimes for a hinted or excluded
 * domain, sometimes with a policy of its own. */
static void varied_record(trpt_record *r, unsigned i)
{
    static const char *const other[] = {"sts.example", "dane.example",
                                        "reports.example"};

    mixed_record(r, i);
    if (i % 5 == 1)
        trpt_record_set(&r->policy_domain, other[(i / 5) % 3]);
    if (i % 5 == 1 && i % 3 == 0)
        trpt_record_set(&r->receiving_mx_hostname, "MX2.Dane.Example.");
    if (i % 11 == 0) {
        r->policy_type = TRPT_POLICY_STS;
        trpt_strv_push(&r->policy_strings, "version: STSv1");
        trpt_strv_push(&r->mx_hosts, "*.example");
    }
}

TEST(agg_json_path_counts_exactly_like_the_record_path)
{
    enum { N = 900 };
    static const char *const sts[] = {"version: STSv1", "mode: enforce", NULL};
    static const char *const mx[] = {"mx.sts.example", NULL};
    trpt_config *cfg = config_new();
    trpt_agg *a = NULL, *b = NULL, *c = NULL;
    trpt_record r;
    trpt_buf json, ra, rb, rc, ia, ib, ic;

    config_add_hint(cfg, "sts.example", TRPT_POLICY_STS, sts, mx);
    config_add_hint(cfg, "dane.example", TRPT_POLICY_TLSA, NULL, NULL);
    trpt_strv_push(&cfg->exclude_domains, "reports.example");
    trpt_record_init(&r);
    trpt_buf_init(&json);
    trpt_buf_init(&ra);
    trpt_buf_init(&rb);
    trpt_buf_init(&rc);
    trpt_buf_init(&ia);
    trpt_buf_init(&ib);
    trpt_buf_init(&ic);
    ASSERT(trpt_agg_new(&a, cfg) == 0 && trpt_agg_new(&b, cfg) == 0 &&
           trpt_agg_new(&c, cfg) == 0);
    for (unsigned i = 0; i < N; i++) {
        int64_t day = -1;
        int want;

        varied_record(&r, i % 700); /* the last 200 are duplicates */
        trpt_buf_reset(&json);
        ASSERT(trpt_record_to_json(&r, &json) == 0);
        want = trpt_agg_add(a, &r);
        EXPECT_EQ(trpt_agg_add_json(b, json.data, json.len), want);
        EXPECT_EQ(trpt_agg_decode(c, json.data, json.len, &day), 0);
        EXPECT_EQ(day, trpt_day_of_us(r.time_us));
        EXPECT_EQ(trpt_agg_add_decoded(c), want);
        EXPECT_EQ(trpt_agg_add_decoded(c), -EINVAL); /* folded once only */
    }
    EXPECT_EQ(trpt_agg_stats_get(a)->duplicates, 200);
    EXPECT(trpt_agg_stats_get(a)->excluded > 10);
    render(a, &ra);
    render(b, &rb);
    render(c, &rc);
    ASSERT(ra.len > 1000);
    EXPECT(ra.len == rb.len && memcmp(ra.data, rb.data, ra.len) == 0);
    EXPECT(ra.len == rc.len && memcmp(ra.data, rc.data, ra.len) == 0);
    EXPECT(strstr(ra.data, "mx2.dane.example") != NULL); /* tlsa: moved */
    ASSERT(trpt_agg_save(a, &ia) == 0 && trpt_agg_save(b, &ib) == 0 &&
           trpt_agg_save(c, &ic) == 0);
    EXPECT(ia.len == ib.len && memcmp(ia.data, ib.data, ia.len) == 0);
    EXPECT(ia.len == ic.len && memcmp(ia.data, ic.data, ia.len) == 0);
    trpt_buf_free(&json);
    trpt_buf_free(&ra);
    trpt_buf_free(&rb);
    trpt_buf_free(&rc);
    trpt_buf_free(&ia);
    trpt_buf_free(&ib);
    trpt_buf_free(&ic);
    trpt_record_free(&r);
    trpt_agg_free(a);
    trpt_agg_free(b);
    trpt_agg_free(c);
    trpt_config_free(cfg);
}

TEST(agg_decode_counts_bad_text_and_leaves_nothing_to_add)
{
    trpt_config *cfg = config_new();
    trpt_agg *a = NULL;
    trpt_record r;
    trpt_buf json;
    int64_t day = 42;
    static const char *const bad[] = {
        "",
        "{",
        "not json",
        "{\"v\":2}",
        "{\"v\":1,\"time\":\"2026-01-01T00:00:00Z\",\"id\":\"a:1.0\","
        "\"policy-domain\":\"A.example\",\"result\":\"success\"}",
    };

    trpt_record_init(&r);
    trpt_buf_init(&json);
    ASSERT(trpt_agg_new(&a, cfg) == 0);
    EXPECT_EQ(trpt_agg_add_decoded(a), -EINVAL); /* nothing decoded yet */
    make_record(&r, "example.com", DAY0, TRPT_RESULT_SUCCESS, "s", 1, 0);
    ASSERT(trpt_record_to_json(&r, &json) == 0);
    EXPECT_EQ(trpt_agg_decode(a, json.data, json.len, NULL), 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        EXPECT(trpt_agg_decode(a, bad[i], strlen(bad[i]), &day) < 0);
        /* a failed decode also drops the record decoded before it */
        EXPECT_EQ(trpt_agg_add_decoded(a), -EINVAL);
    }
    EXPECT_EQ(day, 42); /* untouched on failure */
    EXPECT_EQ(trpt_agg_decode(a, NULL, 0, &day), -EINVAL);
    EXPECT_EQ(trpt_agg_stats_get(a)->invalid, sizeof bad / sizeof bad[0]);
    EXPECT_EQ(trpt_agg_stats_get(a)->records, 0);
    trpt_buf_free(&json);
    trpt_record_free(&r);
    trpt_agg_free(a);
    trpt_config_free(cfg);
}

/* JSON texts of varied records: record i twice in a row now and then
 * (a duplicate inside one batch), every 41st text broken, and the first
 * 200 records again at the end (duplicates across batches). */
static size_t batch_texts(trpt_buf *all, size_t *at, size_t *len, size_t cap)
{
    static const char *const bad[] = {"{", "", "{\"v\":1}", "not json"};
    trpt_record r;
    trpt_buf json;
    size_t n = 0;

    trpt_record_init(&r);
    trpt_buf_init(&json);
    for (unsigned i = 0; n + 2 <= cap && i < 900; i++) {
        int copies = i % 13 == 0 ? 2 : 1;

        varied_record(&r, i % 700);
        trpt_buf_reset(&json);
        if (trpt_record_to_json(&r, &json) < 0)
            abort();
        if (i % 41 == 5) {
            trpt_buf_reset(&json);
            trpt_buf_append(&json, bad[i % 4], strlen(bad[i % 4]));
        }
        while (copies--) {
            at[n] = all->len;
            len[n++] = json.len;
            if (trpt_buf_append(all, json.data, json.len) < 0)
                abort();
        }
    }
    trpt_buf_free(&json);
    trpt_record_free(&r);
    return n;
}

TEST(agg_json_batch_counts_exactly_like_one_by_one)
{
    enum { CAP = 2000 };
    static const size_t sizes[] = {1, 3, 16, 17, 40, 0};
    static const char *const sts[] = {"version: STSv1", "mode: enforce", NULL};
    static const char *const mx[] = {"mx.sts.example", NULL};
    trpt_config *cfg = config_new();
    trpt_agg *a = NULL, *b = NULL;
    trpt_buf all, ra, rb, ia, ib;
    size_t at[CAP], len[CAP], n, done = 0, k = 0;
    const char *json[CAP];
    int want[CAP], got[CAP];

    config_add_hint(cfg, "sts.example", TRPT_POLICY_STS, sts, mx);
    config_add_hint(cfg, "dane.example", TRPT_POLICY_TLSA, NULL, NULL);
    trpt_strv_push(&cfg->exclude_domains, "reports.example");
    trpt_buf_init(&all);
    trpt_buf_init(&ra);
    trpt_buf_init(&rb);
    trpt_buf_init(&ia);
    trpt_buf_init(&ib);
    n = batch_texts(&all, at, len, CAP);
    ASSERT(n > 900);
    for (size_t i = 0; i < n; i++)
        json[i] = all.data + at[i];
    ASSERT(trpt_agg_new(&a, cfg) == 0 && trpt_agg_new(&b, cfg) == 0);
    for (size_t i = 0; i < n; i++)
        want[i] = trpt_agg_add_json(a, json[i], len[i]);
    while (done < n) {
        size_t m = sizes[k++ % 6];

        m = m > n - done ? n - done : m;
        ASSERT(trpt_agg_add_json_batch(b, json + done, len + done, m,
                                       got + done) == 0);
        done += m;
    }
    for (size_t i = 0; i < n; i++)
        EXPECT_EQ(got[i], want[i]);
    EXPECT(memcmp(trpt_agg_stats_get(a), trpt_agg_stats_get(b),
                  sizeof(trpt_agg_stats)) == 0);
    EXPECT(trpt_agg_stats_get(b)->duplicates > 200);
    EXPECT(trpt_agg_stats_get(b)->invalid >= 20);
    EXPECT(trpt_agg_stats_get(b)->excluded > 10);
    render(a, &ra);
    render(b, &rb);
    ASSERT(ra.len > 1000);
    EXPECT(ra.len == rb.len && memcmp(ra.data, rb.data, ra.len) == 0);
    ASSERT(trpt_agg_save(a, &ia) == 0 && trpt_agg_save(b, &ib) == 0);
    EXPECT(ia.len == ib.len && memcmp(ia.data, ib.data, ia.len) == 0);
    trpt_buf_free(&all);
    trpt_buf_free(&ra);
    trpt_buf_free(&rb);
    trpt_buf_free(&ia);
    trpt_buf_free(&ib);
    trpt_agg_free(a);
    trpt_agg_free(b);
    trpt_config_free(cfg);
}

TEST(agg_json_batch_refuses_bad_arguments_and_null_texts)
{
    trpt_config *cfg = config_new();
    trpt_agg *a = NULL;
    trpt_record r;
    trpt_buf json;
    const char *texts[3];
    size_t lens[3];
    int rc[3] = {7, 7, 7};

    trpt_record_init(&r);
    trpt_buf_init(&json);
    ASSERT(trpt_agg_new(&a, cfg) == 0);
    make_record(&r, "example.com", DAY0, TRPT_RESULT_SUCCESS, "s", 1, 0);
    ASSERT(trpt_record_to_json(&r, &json) == 0);
    texts[0] = json.data;
    texts[1] = NULL;
    texts[2] = json.data;
    lens[0] = lens[1] = lens[2] = json.len;
    EXPECT_EQ(trpt_agg_add_json_batch(NULL, texts, lens, 3, rc), -EINVAL);
    EXPECT_EQ(trpt_agg_add_json_batch(a, NULL, lens, 3, rc), -EINVAL);
    EXPECT_EQ(trpt_agg_add_json_batch(a, texts, NULL, 3, rc), -EINVAL);
    EXPECT_EQ(trpt_agg_add_json_batch(a, texts, lens, 3, NULL), -EINVAL);
    EXPECT_EQ(trpt_agg_add_json_batch(a, NULL, NULL, 0, NULL), 0);
    EXPECT_EQ(trpt_agg_stats_get(a)->records, 0);
    EXPECT_EQ(trpt_agg_add_json_batch(a, texts, lens, 3, rc), 0);
    EXPECT_EQ(rc[0], 0);
    EXPECT_EQ(rc[1], -EINVAL); /* as add_json(NULL): refused, not counted */
    EXPECT_EQ(rc[2], 1);       /* the same event id again */
    EXPECT_EQ(trpt_agg_stats_get(a)->records, 1);
    EXPECT_EQ(trpt_agg_stats_get(a)->invalid, 0);
    EXPECT_EQ(trpt_agg_stats_get(a)->duplicates, 1);
    EXPECT_EQ(trpt_agg_add_decoded(a), -EINVAL); /* nothing left to add */
    trpt_buf_free(&json);
    trpt_record_free(&r);
    trpt_agg_free(a);
    trpt_config_free(cfg);
}

/* ---- save / load --------------------------------------------------------- */

static trpt_agg *filled_agg(const trpt_config *cfg, unsigned n)
{
    trpt_agg *a = NULL;
    trpt_record r;

    trpt_record_init(&r);
    if (trpt_agg_new(&a, cfg) < 0)
        abort();
    for (unsigned i = 0; i < n; i++) {
        mixed_record(&r, i);
        if (i % 10 == 0)
            trpt_record_set(&r.receiving_mx_helo, "mx.example.net");
        trpt_agg_add(a, &r);
    }
    trpt_agg_add(a, &r); /* one duplicate for the stats */
    trpt_record_free(&r);
    return a;
}

TEST(agg_save_load_round_trip_is_exact_and_keeps_marks)
{
    trpt_config *cfg = config_new();
    trpt_agg *a = filled_agg(cfg, 300), *b = NULL;
    trpt_buf img1, img2, ra, rb;
    trpt_record r;

    trpt_buf_init(&img1);
    trpt_buf_init(&img2);
    trpt_buf_init(&ra);
    trpt_buf_init(&rb);
    trpt_record_init(&r);
    ASSERT(trpt_agg_new(&b, cfg) == 0);
    ASSERT(trpt_agg_save(a, &img1) == 0);
    ASSERT(trpt_agg_load(b, img1.data, img1.len) == 0);
    ASSERT(trpt_agg_save(b, &img2) == 0);
    EXPECT_EQ(img1.len, img2.len);
    EXPECT(img1.len == img2.len && memcmp(img1.data, img2.data, img1.len) == 0);
    render(a, &ra);
    render(b, &rb);
    EXPECT(ra.len == rb.len && memcmp(ra.data, rb.data, ra.len) == 0);
    EXPECT_EQ(trpt_agg_stats_get(b)->records, 300);
    EXPECT_EQ(trpt_agg_stats_get(b)->duplicates, 1);
    /* the high-water mark came along */
    mixed_record(&r, 5);
    EXPECT_EQ(trpt_agg_add(b, &r), 1);
    mixed_record(&r, 300);
    EXPECT_EQ(trpt_agg_add(b, &r), 0);
    /* loading replaces, it does not add */
    ASSERT(trpt_agg_load(b, img1.data, img1.len) == 0);
    trpt_buf_reset(&rb);
    render(b, &rb);
    EXPECT(ra.len == rb.len && memcmp(ra.data, rb.data, ra.len) == 0);
    /* an empty aggregator round-trips too */
    {
        trpt_agg *e = NULL;
        trpt_buf img;

        trpt_buf_init(&img);
        ASSERT(trpt_agg_new(&e, cfg) == 0);
        EXPECT_EQ(trpt_agg_save(e, &img), 0);
        EXPECT_EQ(trpt_agg_load(b, img.data, img.len), 0);
        EXPECT_EQ(trpt_agg_stats_get(b)->records, 0);
        trpt_buf_free(&img);
        trpt_agg_free(e);
    }
    trpt_record_free(&r);
    trpt_buf_free(&img1);
    trpt_buf_free(&img2);
    trpt_buf_free(&ra);
    trpt_buf_free(&rb);
    trpt_agg_free(a);
    trpt_agg_free(b);
    trpt_config_free(cfg);
}

static void put_le(unsigned char *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Rewrites the header checksum so that only the payload checks apply. */
static void fix_crc(unsigned char *img, size_t len)
{
    put_le(img + 12, crc32_z(0, img + 24, len - 24), 4);
}

TEST(agg_load_refuses_corrupt_truncated_and_newer_images)
{
    trpt_config *cfg = config_new();
    trpt_agg *a = filled_agg(cfg, 50), *b = NULL;
    trpt_buf img, before, after;
    unsigned char *copy;

    trpt_buf_init(&img);
    trpt_buf_init(&before);
    trpt_buf_init(&after);
    ASSERT(trpt_agg_new(&b, cfg) == 0);
    ASSERT(trpt_agg_save(a, &img) == 0);
    ASSERT(trpt_agg_load(b, img.data, img.len) == 0);
    render(b, &before);
    copy = malloc(img.len);
    ASSERT(copy);

    /* every truncation */
    for (size_t n = 0; n < img.len; n++)
        if (trpt_agg_load(b, img.data, n) != -EBADMSG) {
            EXPECT(!"truncated image accepted");
            break;
        }
    /* a flipped bit anywhere */
    for (size_t i = 0; i < img.len; i++) {
        int rc;

        memcpy(copy, img.data, img.len);
        copy[i] ^= 0x10;
        rc = trpt_agg_load(b, (char *)copy, img.len);
        if (i >= 8 && i < 12) /* the version field */
            rc = rc == -EPROTO || rc == -EBADMSG ? -EBADMSG : rc;
        if (rc != -EBADMSG) {
            fprintf(stderr, "  byte %zu: rc %d\n", i, rc);
            EXPECT(!"corrupt image accepted");
            break;
        }
    }
    /* a newer version */
    memcpy(copy, img.data, img.len);
    put_le(copy + 8, 2, 4);
    EXPECT_EQ(trpt_agg_load(b, (char *)copy, img.len), -EPROTO);
    /* valid checksum, absurd counts: number of sources, first string length */
    memcpy(copy, img.data, img.len);
    put_le(copy + 24 + 32, 0xffffffffu, 4);
    fix_crc(copy, img.len);
    EXPECT_EQ(trpt_agg_load(b, (char *)copy, img.len), -EBADMSG);
    memcpy(copy, img.data, img.len);
    put_le(copy + 24 + 36, 0xfffffff0u, 4);
    fix_crc(copy, img.len);
    EXPECT_EQ(trpt_agg_load(b, (char *)copy, img.len), -EBADMSG);
    /* a NUL inside a string */
    memcpy(copy, img.data, img.len);
    copy[24 + 40] = '\0';
    fix_crc(copy, img.len);
    EXPECT_EQ(trpt_agg_load(b, (char *)copy, img.len), -EBADMSG);
    /* trailing garbage */
    {
        unsigned char *longer = malloc(img.len + 1);

        memcpy(longer, img.data, img.len);
        longer[img.len] = 'x';
        EXPECT_EQ(trpt_agg_load(b, (char *)longer, img.len + 1), -EBADMSG);
        put_le(longer + 16, img.len + 1 - 24, 8);
        fix_crc(longer, img.len + 1);
        EXPECT_EQ(trpt_agg_load(b, (char *)longer, img.len + 1), -EBADMSG);
        free(longer);
    }
    /* a refused image left the contents alone */
    render(b, &after);
    EXPECT(before.len == after.len &&
           memcmp(before.data, after.data, before.len) == 0);
    free(copy);
    trpt_buf_free(&img);
    trpt_buf_free(&before);
    trpt_buf_free(&after);
    trpt_agg_free(a);
    trpt_agg_free(b);
    trpt_config_free(cfg);
}

/* ---- memory ----------------------------------------------------------- */

static long vm_kib(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;

    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, key, strlen(key)) == 0)
            v = strtol(line + strlen(key), NULL, 10);
    fclose(f);
    return v;
}

/* Sanitizers slow the loop tenfold (and hide mallinfo): fewer events. */
#if defined(__SANITIZE_ADDRESS__)
#define MEMORY_TEST_EVENTS 200000
#else
#define MEMORY_TEST_EVENTS 1000000
#endif

/* 1 M events over 10 k domains: memory follows distinct tuples, and the
 * heap the aggregator holds stays far below 64 MiB. */
TEST(agg_memory_grows_with_tuples_not_events)
{
    enum { EVENTS = MEMORY_TEST_EVENTS, DOMAINS = 10000 };
    trpt_config *cfg = config_new();
    trpt_agg *a = NULL;
    struct mallinfo2 m0, m1 = {0}, m2;
    trpt_record r;
    char dom[64], id[64];
    struct timespec t0, t1;
    double secs;

    trpt_record_init(&r);
    ASSERT(trpt_agg_new(&a, cfg) == 0);
    make_record(&r, "x.example", DAY0, TRPT_RESULT_SUCCESS, "mem", 0, 0);
    trpt_record_set(&r.sending_mta_ip, "192.0.2.1");
    trpt_record_set(&r.receiving_mx_hostname, "mx1.example.net");
    m0 = mallinfo2();
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (unsigned i = 0; i < EVENTS; i++) {
        unsigned d = (unsigned)(((uint64_t)i * 2654435761u) % DOMAINS);

        snprintf(dom, sizeof(dom), "d%u.example", d);
        snprintf(id, sizeof(id), "mem:%u.0", i + 1);
        /* swap the strings in place: the test measures the aggregator */
        strcpy(r.policy_domain = realloc(r.policy_domain, strlen(dom) + 1),
               dom);
        strcpy(r.event_id = realloc(r.event_id, strlen(id) + 1), id);
        r.result =
            i % 10 == 0 ? TRPT_RESULT_CERTIFICATE_EXPIRED : TRPT_RESULT_SUCCESS;
        if (trpt_agg_add(a, &r) != 0) {
            EXPECT(!"add failed");
            break;
        }
        if (i == EVENTS / 2)
            m1 = mallinfo2();
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    m2 = mallinfo2();
    secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    fprintf(stderr,
            "  %d events / %d domains: heap %.1f MiB (half-way %.1f MiB), "
            "VmHWM %ld KiB, %.2f M records/s (trpt_agg_add)\n",
            EVENTS, DOMAINS, (double)(m2.uordblks - m0.uordblks) / 1048576.0,
            (double)(m1.uordblks - m0.uordblks) / 1048576.0, vm_kib("VmHWM:"),
            EVENTS / secs / 1e6);
    EXPECT_EQ(trpt_agg_stats_get(a)->records, EVENTS);
    EXPECT(m2.uordblks - m0.uordblks < 64u * 1024 * 1024);
    /* the second half of the events added (almost) nothing */
    EXPECT(m2.uordblks - m1.uordblks < 1024 * 1024);
    trpt_record_free(&r);
    trpt_agg_free(a);
    trpt_config_free(cfg);
}
