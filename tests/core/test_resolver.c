/* test_resolver.c - rua discovery and policy resolution against a signing
 * knotd and an HTTPS server for MTA-STS policies, both on loopback: which
 * policy wins, what is cached and for how long. */
#include "harness.h"
#include "resolver.h"
#include "servers.h"

#include <errno.h>

#define S   1000000LL
#define DAY 20420

static const char zone[] =
    "$ORIGIN test.\n"
    "$TTL 300\n"
    "@ SOA ns.test. hostmaster.test. 1 3600 600 86400 120\n"
    "@ NS ns.test.\n"
    "ns A 127.0.0.1\n"
    "_smtp._tls.valid TXT \"v=TLSRPTv1; rua=mailto:tlsrpt@valid.test,\" "
    "\"https://reports.valid.test/r\"\n"
    "_smtp._tls.two TXT \"v=TLSRPTv1; rua=mailto:a@two.test\"\n"
    "_smtp._tls.two TXT \"v=TLSRPTv1; rua=mailto:b@two.test\"\n"
    "_smtp._tls.ftp TXT \"v=TLSRPTv1; rua=ftp://x.test/\"\n"
    "_smtp._tls.other TXT \"v=spf1 -all\"\n"
    "_smtp._tls.short 1 TXT \"v=TLSRPTv1; rua=mailto:a@short.test\"\n"
    "dane MX 10 mx.dane.test.\n"
    "mx.dane A 127.0.0.1\n"
    "_25._tcp.mx.dane TLSA 3 1 1 "
    "6700642b670e40da43d7640022f6dd5f16f3793cfdb5b9556b1fabfa256a8990\n"
    "_mta-sts.dane TXT \"v=STSv1; id=1;\"\n"
    "good MX 10 mx.good.test.\n"
    "_mta-sts.good TXT \"v=STSv1; id=20261128;\"\n"
    "json MX 10 mx.json.test.\n"
    "_mta-sts.json TXT \"v=STSv1; id=1;\"\n"
    "badsts TXT \"unrelated\"\n"
    "_mta-sts.badsts TXT \"v=STSv1; id=not-alnum!;\"\n"
    "plain MX 10 mx.plain.test.\n";

static knot_server knot;
static https_server web;
static char connect_any[64];
static const char *connect_list[2] = {connect_any, NULL};
static const char *const allow[] = {"127.0.0.1", NULL};
static trpt_http_config http;

/* A resolver over the test servers; validating unless anchorless. */
static trpt_resolver *resolver(int anchorless, trpt_dns **dns)
{
    static int started, ok;
    trpt_dns_config dc = {.unblock_zone = "test"};
    trpt_resolver_config rc = {0};
    trpt_resolver *r = NULL;

    if (!started) {
        started = 1;
        ok = knot_start(&knot, "test", zone) == 0 &&
             https_start(&web, "DNS:mta-sts.good.test,DNS:mta-sts.json.test,"
                               "DNS:mta-sts.dane.test") == 0;
        snprintf(connect_any, sizeof connect_any, "::127.0.0.1:%d", web.port);
        http = (trpt_http_config){.ca_file = web.cert,
                                  .allow_addresses = allow,
                                  .connect_to = connect_list,
                                  .total_timeout_ms = 5000};
    }
    if (!ok)
        return NULL;
    dc.server = knot.server;
    dc.trust_anchor = anchorless ? NULL : knot.anchor;
    dc.no_dnssec = anchorless;
    if (trpt_dns_new(dns, &dc, NULL, 0) < 0)
        return NULL;
    rc.dns = *dns;
    rc.http = &http;
    if (trpt_resolver_new(&r, &rc) < 0) {
        trpt_dns_free(*dns);
        return NULL;
    }
    return r;
}

static void done(trpt_resolver *r, trpt_dns *dns)
{
    trpt_resolver_free(r);
    trpt_dns_free(dns);
}

TEST(rua_lookup_parses_the_one_tlsrpt_record_with_every_destination)
{
    trpt_dns *dns = NULL;
    trpt_resolver *r = resolver(0, &dns);
    const trpt_rua_lookup *l;

    ASSERT(r != NULL);
    ASSERT(trpt_resolver_rua(r, "valid.test", 1000 * S, &l) == 0);
    EXPECT_EQ(l->rc, 0);
    ASSERT(l->txt && l->txt->n_rua == 2);
    EXPECT_STREQ(l->txt->rua[0].target, "tlsrpt@valid.test");
    EXPECT_EQ(l->txt->rua[1].scheme, TRPT_RUA_HTTPS);
    EXPECT_STREQ(l->txt->record, "v=TLSRPTv1; rua=mailto:tlsrpt@valid.test,"
                                 "https://reports.valid.test/r");
    EXPECT_EQ(l->expires_us, 1300 * S); /* the record's TTL */
    done(r, dns);
}

TEST(rua_lookup_gives_no_reports_for_none_several_or_unusable_records)
{
    trpt_dns *dns = NULL;
    trpt_resolver *r = resolver(0, &dns);
    const trpt_rua_lookup *l;

    ASSERT(r != NULL);
    ASSERT(trpt_resolver_rua(r, "two.test", 0, &l) == 0);
    EXPECT_EQ(l->rc, -EEXIST);
    EXPECT(l->txt == NULL);
    ASSERT(trpt_resolver_rua(r, "ftp.test", 0, &l) == 0);
    EXPECT_EQ(l->rc, -ENOTSUP);
    ASSERT(trpt_resolver_rua(r, "other.test", 0, &l) == 0);
    EXPECT_EQ(l->rc, -ENOENT);
    ASSERT(trpt_resolver_rua(r, "absent.test", 0, &l) == 0);
    EXPECT_EQ(l->rc, -ENOENT);
    EXPECT(strstr(l->why, "_smtp._tls.absent.test") != NULL);
    EXPECT_EQ(trpt_resolver_rua(r, "bad domain", 0, &l), -EINVAL);
    EXPECT_EQ(trpt_resolver_rua(r, "", 0, &l), -EINVAL);
    done(r, dns);
}

TEST(rua_answers_are_cached_for_their_ttl_at_least_a_minute)
{
    trpt_dns *dns = NULL;
    trpt_resolver *r = resolver(0, &dns);
    const trpt_rua_lookup *l;
    uint64_t q;

    ASSERT(r != NULL);
    ASSERT(trpt_resolver_rua(r, "short.test", 0, &l) == 0);
    EXPECT_EQ(l->rc, 0);
    EXPECT_EQ(l->expires_us, 60 * S); /* TTL 1 s, clamped to 1 min */
    q = trpt_resolver_stats_get(r)->dns_queries;
    ASSERT(trpt_resolver_rua(r, "short.test", 59 * S, &l) == 0);
    EXPECT_EQ(trpt_resolver_stats_get(r)->dns_queries, q); /* cached */
    EXPECT_EQ(trpt_resolver_stats_get(r)->cache_hits, 1);
    ASSERT(trpt_resolver_rua(r, "short.test", 61 * S, &l) == 0);
    EXPECT_EQ(trpt_resolver_stats_get(r)->dns_queries, q + 1); /* expired */
    EXPECT_EQ(l->rc, 0);
    done(r, dns);
}

TEST(dane_wins_for_a_validated_mx_and_moves_to_the_mx_host)
{
    trpt_dns *dns = NULL;
    trpt_resolver *r = resolver(0, &dns);
    const trpt_resolved_policy *p;

    ASSERT(r != NULL);
    ASSERT(trpt_resolver_policy(r, "dane.test", "mx.dane.test", DAY, &p) == 0);
    EXPECT_EQ(p->type, TRPT_POLICY_TLSA);
    EXPECT_STREQ(p->policy_domain, "mx.dane.test");
    ASSERT(p->policy_strings.n == 1);
    EXPECT_STREQ(p->policy_strings.v[0],
                 "3 1 1 6700642B670E40DA43D7640022F6DD5F16F3793CFDB5B9556B1FA"
                 "BFA256A8990");
    EXPECT_EQ(p->temporary, 0);
    /* An MX host the domain does not name gets no DANE: MTA-STS then. */
    ASSERT(trpt_resolver_policy(r, "dane.test", "mx.elsewhere.test", DAY, &p) ==
           0);
    EXPECT(p->type != TRPT_POLICY_TLSA);
    done(r, dns);
}

TEST(without_dnssec_validation_there_is_never_a_dane_policy)
{
    trpt_dns *dns = NULL;
    trpt_resolver *r = resolver(1, &dns);
    const trpt_resolved_policy *p;

    ASSERT(r != NULL);
    ASSERT(trpt_resolver_policy(r, "dane.test", "mx.dane.test", DAY, &p) == 0);
    EXPECT(p->type != TRPT_POLICY_TLSA);
    EXPECT_STREQ(p->policy_domain, "dane.test");
    done(r, dns);
}

TEST(mta_sts_gives_the_policy_lines_and_mx_patterns)
{
    trpt_dns *dns = NULL;
    trpt_resolver *r = resolver(0, &dns);
    const trpt_resolved_policy *p;

    ASSERT(r != NULL);
    ASSERT(trpt_resolver_policy(r, "good.test", "mx.good.test", DAY, &p) == 0);
    EXPECT_EQ(p->type, TRPT_POLICY_STS);
    EXPECT_STREQ(p->policy_domain, "good.test");
    ASSERT(p->policy_strings.n == 4);
    EXPECT_STREQ(p->policy_strings.v[0], "version: STSv1");
    EXPECT_STREQ(p->policy_strings.v[1], "mode: enforce");
    EXPECT_STREQ(p->policy_strings.v[2], "mx: mx.good.test");
    EXPECT_STREQ(p->policy_strings.v[3], "max_age: 86400");
    ASSERT(p->mx_hosts.n == 1);
    EXPECT_STREQ(p->mx_hosts.v[0], "mx.good.test");
    EXPECT_EQ(trpt_resolver_stats_get(r)->policy_fetches, 1);
    done(r, dns);
}

TEST(a_bad_or_unreachable_sts_policy_is_no_policy_found_with_the_reason)
{
    trpt_dns *dns = NULL;
    trpt_resolver *r = resolver(0, &dns);
    const trpt_resolved_policy *p;

    ASSERT(r != NULL);
    ASSERT(trpt_resolver_policy(r, "json.test", "mx.json.test", DAY, &p) == 0);
    EXPECT_EQ(p->type, TRPT_POLICY_NONE);
    EXPECT_STREQ(p->policy_domain, "json.test");
    EXPECT(strstr(p->why, "text/plain") != NULL);
    ASSERT(trpt_resolver_policy(r, "badsts.test", NULL, DAY, &p) == 0);
    EXPECT_EQ(p->type, TRPT_POLICY_NONE);
    EXPECT(strstr(p->why, "_mta-sts.badsts.test") != NULL);
    ASSERT(trpt_resolver_policy(r, "plain.test", "mx.plain.test", DAY, &p) ==
           0);
    EXPECT_EQ(p->type, TRPT_POLICY_NONE);
    EXPECT_EQ(p->policy_strings.n, 0);
    done(r, dns);
}

TEST(policies_are_cached_per_day_domain_and_mx)
{
    trpt_dns *dns = NULL;
    trpt_resolver *r = resolver(0, &dns);
    const trpt_resolved_policy *p, *again;
    uint64_t q;

    ASSERT(r != NULL);
    ASSERT(trpt_resolver_policy(r, "good.test", "mx.good.test", DAY, &p) == 0);
    q = trpt_resolver_stats_get(r)->dns_queries;
    ASSERT(trpt_resolver_policy(r, "good.test", "mx.good.test", DAY, &again) ==
           0);
    EXPECT(again == p);
    EXPECT_EQ(trpt_resolver_stats_get(r)->dns_queries, q);
    EXPECT_EQ(trpt_resolver_stats_get(r)->policy_fetches, 1);
    ASSERT(trpt_resolver_policy(r, "good.test", "mx.good.test", DAY + 1,
                                &again) == 0);
    EXPECT(trpt_resolver_stats_get(r)->dns_queries > q); /* another day */
    EXPECT_EQ(trpt_resolver_stats_get(r)->policy_fetches, 2);
    done(r, dns);
}

TEST(the_cache_stays_within_its_bound)
{
    trpt_dns *dns = NULL;
    trpt_resolver *r0 = resolver(0, &dns), *r = NULL;
    trpt_resolver_config rc = {0};
    const trpt_rua_lookup *l;
    char name[64];

    ASSERT(r0 != NULL);
    trpt_resolver_free(r0);
    rc.dns = dns;
    rc.max_entries = 4;
    ASSERT(trpt_resolver_new(&r, &rc) == 0);
    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof name, "d%d.absent.test", i);
        ASSERT(trpt_resolver_rua(r, name, 0, &l) == 0);
        EXPECT_EQ(l->rc, -ENOENT);
    }
    EXPECT(trpt_resolver_stats_get(r)->cache_flushes >= 2);
    done(r, dns);
    EXPECT_EQ(trpt_resolver_new(&r, NULL), -EINVAL);
}
