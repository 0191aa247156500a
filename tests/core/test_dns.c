/* test_dns.c - DNS lookups through libunbound against a real authoritative
 * server on loopback: knotd, started by the test with a zone it signs
 * itself (DNSSEC), stopped at the end (knot is installed by
 * scripts/install-deps.sh; without it these cases fail). Also the rdata
 * decoders on hostile input. */
#include "harness.h"
#include "dns.h"
#include "servers.h"
#include "tlsrpt_txt.h"

#include <errno.h>

static const char zone[] =
    "$ORIGIN test.\n"
    "$TTL 300\n"
    "@ SOA ns.test. hostmaster.test. 1 3600 600 86400 120\n"
    "@ NS ns.test.\n"
    "ns A 127.0.0.1\n"
    "_smtp._tls.valid TXT \"v=TLSRPTv1; rua=mailto:tlsrpt@valid.test\"\n"
    "_smtp._tls.split TXT \"v=TLSRPTv1; rua=mailto:a@split.test,\" "
    "\"https://r.split.test/x\"\n"
    "_smtp._tls.two 60 TXT \"v=TLSRPTv1; rua=mailto:a@two.test\"\n"
    "_smtp._tls.two 60 TXT \"v=TLSRPTv1; rua=mailto:b@two.test\"\n"
    "dane MX 10 MX.Dane.test.\n"
    "dane MX 20 mx2.dane.test.\n"
    "mx.dane A 127.0.0.1\n"
    "_25._tcp.mx.dane TLSA 3 1 1 "
    "6700642b670e40da43d7640022f6dd5f16f3793cfdb5b9556b1fabfa256a8990\n"
    "nodata A 127.0.0.1\n";

static knot_server knot;

static trpt_dns *validating(void)
{
    static int started, ok;
    trpt_dns_config cfg = {0};
    trpt_dns *d = NULL;
    char err[256];

    if (!started) {
        int r = knot_start(&knot, "test", zone);

        started = 1;
        ok = r == 0;
        if (!ok)
            fprintf(stderr, "knotd did not come up: %s\n", strerror(-r));
    }
    if (!ok)
        return NULL;
    cfg.server = knot.server;
    cfg.trust_anchor = knot.anchor;
    cfg.unblock_zone = "test";
    if (trpt_dns_new(&d, &cfg, err, sizeof err) < 0) {
        fprintf(stderr, "trpt_dns_new: %s\n", err);
        return NULL;
    }
    return d;
}

TEST(txt_answer_is_validated_and_its_strings_kept_apart)
{
    trpt_dns *d;
    trpt_dns_answer a;
    trpt_txt_string sv[4];
    size_t nsv = 0;

    ASSERT((d = validating()) != NULL);
    ASSERT(trpt_dns_query(d, "_smtp._tls.split.test", TRPT_DNS_TYPE_TXT, &a) ==
           0);
    EXPECT_EQ(a.status, TRPT_DNS_DATA);
    EXPECT_EQ(a.secure, 1);
    EXPECT(a.ttl > 0 && a.ttl <= 300);
    ASSERT(a.n == 1);
    ASSERT(trpt_txt_rdata_split(a.rr[0].data, a.rr[0].len, sv, 4, &nsv) == 0);
    ASSERT(nsv == 2);
    EXPECT(sv[0].len == 36 &&
           memcmp(sv[0].data, "v=TLSRPTv1; rua=mailto:a@split.test,", 36) == 0);
    EXPECT(sv[1].len == 22 &&
           memcmp(sv[1].data, "https://r.split.test/x", 22) == 0);
    trpt_dns_answer_clear(&a);
    ASSERT(trpt_dns_query(d, "_smtp._tls.two.test", TRPT_DNS_TYPE_TXT, &a) ==
           0);
    EXPECT_EQ(a.status, TRPT_DNS_DATA);
    EXPECT_EQ(a.n, 2);
    EXPECT(a.ttl <= 60);
    trpt_dns_answer_clear(&a);
    trpt_dns_free(d);
}

TEST(nxdomain_and_nodata_are_told_apart_and_validated)
{
    trpt_dns *d = validating();
    trpt_dns_answer a;

    ASSERT(d != NULL);
    ASSERT(trpt_dns_query(d, "_smtp._tls.absent.test", TRPT_DNS_TYPE_TXT, &a) ==
           0);
    EXPECT_EQ(a.status, TRPT_DNS_NXDOMAIN);
    EXPECT_EQ(a.secure, 1);
    EXPECT_EQ(a.n, 0);
    trpt_dns_answer_clear(&a);
    ASSERT(trpt_dns_query(d, "nodata.test", TRPT_DNS_TYPE_TXT, &a) == 0);
    EXPECT_EQ(a.status, TRPT_DNS_NODATA);
    EXPECT_EQ(a.secure, 1);
    trpt_dns_answer_clear(&a);
    trpt_dns_free(d);
}

TEST(mx_and_tlsa_answers_decode_to_host_names_and_policy_strings)
{
    trpt_dns *d = validating();
    trpt_dns_answer a;
    int seen10 = 0, seen20 = 0;

    ASSERT(d != NULL);
    ASSERT(trpt_dns_query(d, "dane.test", TRPT_DNS_TYPE_MX, &a) == 0);
    EXPECT_EQ(a.status, TRPT_DNS_DATA);
    EXPECT_EQ(a.secure, 1);
    for (size_t i = 0; i < a.n; i++) {
        unsigned pref = 0;
        char host[256];

        ASSERT(trpt_dns_mx(a.rr[i].data, a.rr[i].len, &pref, host,
                           sizeof host) == 0);
        if (pref == 10)
            seen10 = strcmp(host, "mx.dane.test") == 0; /* lower-cased */
        if (pref == 20)
            seen20 = strcmp(host, "mx2.dane.test") == 0;
    }
    EXPECT(seen10 && seen20);
    trpt_dns_answer_clear(&a);
    ASSERT(trpt_dns_query(d, "_25._tcp.mx.dane.test", TRPT_DNS_TYPE_TLSA, &a) ==
           0);
    EXPECT_EQ(a.status, TRPT_DNS_DATA);
    EXPECT_EQ(a.secure, 1);
    ASSERT(a.n == 1);
    trpt_buf b;

    trpt_buf_init(&b);
    ASSERT(trpt_dns_tlsa_string(a.rr[0].data, a.rr[0].len, &b) == 0);
    EXPECT_STREQ(b.data, "3 1 1 6700642B670E40DA43D7640022F6DD5F16F3793CFDB5B"
                         "9556B1FABFA256A8990");
    trpt_buf_free(&b);
    trpt_dns_answer_clear(&a);
    trpt_dns_free(d);
}

TEST(a_wrong_trust_anchor_makes_answers_bogus_never_secure)
{
    /* A well-formed key that did not sign the zone. */
    trpt_dns_config cfg = {
        .trust_anchor = "test. DNSKEY 257 3 13 "
                        "mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXck"
                        "HAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ=="};
    trpt_dns *d = validating(), *wrong = NULL;
    trpt_dns_answer a;

    ASSERT(d != NULL);
    trpt_dns_free(d);
    cfg.server = knot.server;
    cfg.unblock_zone = "test";
    ASSERT(trpt_dns_new(&wrong, &cfg, NULL, 0) == 0);
    ASSERT(trpt_dns_query(wrong, "_25._tcp.mx.dane.test", TRPT_DNS_TYPE_TLSA,
                          &a) == 0);
    EXPECT_EQ(a.status, TRPT_DNS_BOGUS);
    EXPECT_EQ(a.secure, 0);
    EXPECT_EQ(a.n, 0);
    EXPECT(a.why_bogus != NULL);
    trpt_dns_answer_clear(&a);
    trpt_dns_free(wrong);
}

TEST(without_validation_answers_are_never_secure)
{
    trpt_dns_config cfg = {.no_dnssec = 1};
    trpt_dns *d = validating(), *plain = NULL;
    trpt_dns_answer a;

    ASSERT(d != NULL);
    trpt_dns_free(d);
    cfg.server = knot.server;
    cfg.unblock_zone = "test";
    ASSERT(trpt_dns_new(&plain, &cfg, NULL, 0) == 0);
    ASSERT(trpt_dns_query(plain, "_25._tcp.mx.dane.test", TRPT_DNS_TYPE_TLSA,
                          &a) == 0);
    EXPECT_EQ(a.status, TRPT_DNS_DATA);
    EXPECT_EQ(a.secure, 0);
    trpt_dns_answer_clear(&a);
    trpt_dns_free(plain);
}

TEST(bad_configuration_and_arguments_are_refused)
{
    trpt_dns_config cfg = {.server = "not an address"};
    trpt_dns *d = NULL;
    trpt_dns_answer a;
    char err[256];
    char longname[300];

    EXPECT(trpt_dns_new(&d, &cfg, err, sizeof err) < 0);
    EXPECT(d == NULL);
    EXPECT(err[0] != '\0');
    cfg.server = NULL;
    cfg.trust_anchor = "garbage";
    EXPECT(trpt_dns_new(&d, &cfg, err, sizeof err) < 0);
    cfg.trust_anchor = NULL;
    cfg.trust_anchor_file = "/nonexistent/root.key";
    EXPECT(trpt_dns_new(&d, &cfg, err, sizeof err) < 0);
    EXPECT_EQ(trpt_dns_new(NULL, NULL, NULL, 0), -EINVAL);
    cfg = (trpt_dns_config){.server = "127.0.0.1@1", .no_dnssec = 1};
    ASSERT(trpt_dns_new(&d, &cfg, NULL, 0) == 0);
    EXPECT_EQ(trpt_dns_query(d, "", TRPT_DNS_TYPE_TXT, &a), -EINVAL);
    EXPECT_EQ(trpt_dns_query(d, NULL, TRPT_DNS_TYPE_TXT, &a), -EINVAL);
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    EXPECT_EQ(trpt_dns_query(d, longname, TRPT_DNS_TYPE_TXT, &a), -EINVAL);
    EXPECT_EQ(trpt_dns_query(d, "x.test", TRPT_DNS_TYPE_TXT, NULL), -EINVAL);
    trpt_dns_free(d);
    trpt_dns_free(NULL);
    trpt_dns_answer_clear(NULL);
}

TEST(mx_rdata_decoder_refuses_pointers_trailing_bytes_and_odd_labels)
{
    static const unsigned char ok[] = {0,   10,  2,   'M', 'x', 4,
                                       't', 'e', 's', 't', 0};
    static const unsigned char root[] = {0, 0, 0}; /* null MX, RFC 7505 */
    static const unsigned char ptr[] = {0, 10, 0xc0, 12};
    static const unsigned char trailing[] = {0, 10, 1, 'a', 0, 'x'};
    static const unsigned char odd[] = {0, 10, 2, 'a', ' ', 0};
    static const unsigned char unterminated[] = {0, 10, 1, 'a'};
    unsigned pref;
    char host[256], tiny[3];

    ASSERT(trpt_dns_mx(ok, sizeof ok, &pref, host, sizeof host) == 0);
    EXPECT_EQ(pref, 10);
    EXPECT_STREQ(host, "mx.test");
    EXPECT_EQ(trpt_dns_mx(ok, sizeof ok, &pref, tiny, sizeof tiny),
              -ENAMETOOLONG);
    ASSERT(trpt_dns_mx(root, sizeof root, &pref, host, sizeof host) == 0);
    EXPECT_STREQ(host, "");
    EXPECT_EQ(trpt_dns_mx(ptr, sizeof ptr, &pref, host, sizeof host), -EBADMSG);
    EXPECT_EQ(trpt_dns_mx(trailing, sizeof trailing, &pref, host, sizeof host),
              -EBADMSG);
    EXPECT_EQ(trpt_dns_mx(odd, sizeof odd, &pref, host, sizeof host), -EBADMSG);
    EXPECT_EQ(trpt_dns_mx(unterminated, sizeof unterminated, &pref, host,
                          sizeof host),
              -EBADMSG);
}

TEST(tlsa_rdata_needs_association_data)
{
    static const unsigned char ok[] = {2, 0, 1, 0xab, 0x01};
    static const unsigned char empty[] = {3, 1, 1};
    trpt_buf b;

    trpt_buf_init(&b);
    ASSERT(trpt_dns_tlsa_string(ok, sizeof ok, &b) == 0);
    EXPECT_STREQ(b.data, "2 0 1 AB01");
    EXPECT_EQ(trpt_dns_tlsa_string(empty, sizeof empty, &b), -EBADMSG);
    trpt_buf_free(&b);
}
