/* test_record.c - the normalized record, its validation and its JSON form
 * (docs/record-format.md). */
#include <errno.h>
#include <limits.h>

#include <json.h>

#include "harness.h"
#include "record.h"
#include "record_view.h"
#include "timeutil.h"

#define T_2026_01_01 1767225600000000LL   /* 2026-01-01T00:00:00Z in us */
#define T_END        253402300800000000LL /* 10000-01-01T00:00:00Z in us */

/* ---- helpers --------------------------------------------------------- */

static void make_minimal(trpt_record *r)
{
    trpt_record_init(r);
    r->time_us = T_2026_01_01;
    trpt_record_set(&r->event_id, "file-00112233aabbccdd:4096.0");
    trpt_record_set(&r->policy_domain, "example.com");
}

/* Every field set, with values like a Postfix datagram's. */
static void make_full(trpt_record *r)
{
    make_minimal(r);
    r->time_us += 123456;
    trpt_record_set(&r->reporting_host, "mail1.sender.example");
    trpt_record_set(&r->mta, "postfix");
    r->policy_type = TRPT_POLICY_STS;
    trpt_strv_push(&r->policy_strings, "version: STSv1");
    trpt_strv_push(&r->policy_strings, "mode: enforce");
    trpt_strv_push(&r->mx_hosts, "*.mx.example.com");
    trpt_record_set(&r->tlsrpt_record,
                    "v=TLSRPTv1; rua=mailto:tlsrpt@example.com");
    r->result = TRPT_RESULT_VALIDATION_FAILURE;
    trpt_record_set(&r->sending_mta_ip, "2001:db8::25");
    trpt_record_set(&r->receiving_mx_hostname, "mx1.mx.example.com");
    trpt_record_set(&r->receiving_ip, "192.0.2.7");
    trpt_record_set(&r->receiving_mx_helo, "mx1.mx.example.com");
    trpt_record_set(&r->failure_reason_code, "self-signed_certificate");
    trpt_record_set(&r->additional_information,
                    "https://mx.example.com/tls-help");
    trpt_record_set(&r->queue_id, "4ZxYw1AbCdz");
}

/* The string fields, for tests that try a rule on each of them. */
static char **string_field(trpt_record *r, int i)
{
    char **f[] = {&r->reporting_host,
                  &r->mta,
                  &r->tlsrpt_record,
                  &r->sending_mta_ip,
                  &r->receiving_mx_hostname,
                  &r->receiving_ip,
                  &r->receiving_mx_helo,
                  &r->failure_reason_code,
                  &r->additional_information,
                  &r->queue_id,
                  &r->event_id,
                  &r->policy_domain};
    return i < (int)(sizeof f / sizeof f[0]) ? f[i] : NULL;
}

static int strv_equal(const trpt_strv *a, const trpt_strv *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i], b->v[i]) != 0)
            return 0;
    return 1;
}

static int str_equal(const char *a, const char *b)
{
    return (!a || !b) ? a == b : strcmp(a, b) == 0;
}

static int records_equal(const trpt_record *a, const trpt_record *b)
{
    return a->version == b->version && a->time_us == b->time_us &&
           a->policy_type == b->policy_type && a->result == b->result &&
           str_equal(a->event_id, b->event_id) &&
           str_equal(a->reporting_host, b->reporting_host) &&
           str_equal(a->mta, b->mta) &&
           str_equal(a->policy_domain, b->policy_domain) &&
           strv_equal(&a->policy_strings, &b->policy_strings) &&
           strv_equal(&a->mx_hosts, &b->mx_hosts) &&
           str_equal(a->tlsrpt_record, b->tlsrpt_record) &&
           str_equal(a->sending_mta_ip, b->sending_mta_ip) &&
           str_equal(a->receiving_mx_hostname, b->receiving_mx_hostname) &&
           str_equal(a->receiving_ip, b->receiving_ip) &&
           str_equal(a->receiving_mx_helo, b->receiving_mx_helo) &&
           str_equal(a->failure_reason_code, b->failure_reason_code) &&
           str_equal(a->additional_information, b->additional_information) &&
           str_equal(a->queue_id, b->queue_id);
}

static int decode(trpt_record *r, const char *json)
{
    trpt_record_init(r);
    return trpt_record_from_json(r, json, strlen(json));
}

/* Decodes json and throws the result away: the return code is the test. */
static int decode_rc(const char *json)
{
    trpt_record r;
    int e = decode(&r, json);

    trpt_record_clear(&r);
    return e;
}

/* Encodes r, decodes the text, and checks the two records agree. */
static int round_trips(const trpt_record *r)
{
    trpt_buf b;
    trpt_record back;
    int ok;

    trpt_buf_init(&b);
    trpt_record_init(&back);
    ok = trpt_record_to_json(r, &b) == 0 &&
         trpt_record_from_json(&back, b.data, b.len) == 0 &&
         records_equal(r, &back);
    if (!ok)
        fprintf(stderr, "  no round trip: %s\n", b.data ? b.data : "");
    trpt_record_clear(&back);
    trpt_buf_free(&b);
    return ok;
}

#define MINIMAL_JSON                                                           \
    "{\"v\":1,\"time\":\"2026-01-01T00:00:00Z\","                              \
    "\"id\":\"file-00112233aabbccdd:4096.0\","                                 \
    "\"policy-domain\":\"example.com\",\"result\":\"success\"}"

/* MINIMAL_JSON with one more member before the closing brace. */
static const char *minimal_plus(const char *member)
{
    static char buf[1 << 17];

    snprintf(buf, sizeof buf, "%.*s,%s}", (int)strlen(MINIMAL_JSON) - 1,
             MINIMAL_JSON, member);
    return buf;
}

/* ---- lifecycle ------------------------------------------------------- */

TEST(init_gives_version_1_success_unknown_policy_and_no_strings)
{
    trpt_record r;

    memset(&r, 0x5a, sizeof r);
    trpt_record_init(&r);
    EXPECT_EQ(r.version, TRPT_RECORD_VERSION);
    EXPECT_EQ(r.result, TRPT_RESULT_SUCCESS);
    EXPECT_EQ(r.policy_type, TRPT_POLICY_UNKNOWN);
    EXPECT(r.event_id == NULL && r.queue_id == NULL);
    EXPECT(r.policy_strings.n == 0 && r.mx_hosts.n == 0);
    trpt_record_free(&r);
}

TEST(set_copies_the_value_replaces_the_old_one_and_accepts_null)
{
    trpt_record r;
    char value[] = "mx.example.com";

    trpt_record_init(&r);
    EXPECT_EQ(trpt_record_set(&r.receiving_mx_hostname, value), 0);
    value[0] = 'X';
    EXPECT_STREQ(r.receiving_mx_hostname, "mx.example.com");
    EXPECT_EQ(trpt_record_set(&r.receiving_mx_hostname, "other"), 0);
    EXPECT_STREQ(r.receiving_mx_hostname, "other");
    EXPECT_EQ(trpt_record_set(&r.receiving_mx_hostname, NULL), 0);
    EXPECT(r.receiving_mx_hostname == NULL);
    trpt_record_clear(&r);
}

TEST(strv_push_appends_copies_and_keeps_a_null_terminator)
{
    trpt_strv sv = {0};
    char buf[16];

    for (int i = 0; i < 100; i++) {
        snprintf(buf, sizeof buf, "s%d", i);
        ASSERT(trpt_strv_push(&sv, buf) == 0);
    }
    EXPECT_EQ(sv.n, 100);
    EXPECT_STREQ(sv.v[0], "s0");
    EXPECT_STREQ(sv.v[99], "s99");
    EXPECT(sv.v[100] == NULL);
    trpt_strv_free(&sv);
    EXPECT(sv.v == NULL && sv.n == 0);
    trpt_strv_free(&sv);
    trpt_strv_free(NULL);
}

TEST(copy_is_deep_and_equal)
{
    trpt_record a, b;

    make_full(&a);
    ASSERT(trpt_record_copy(&b, &a) == 0);
    EXPECT(records_equal(&a, &b));
    EXPECT(a.mta != b.mta && a.policy_strings.v[0] != b.policy_strings.v[0]);
    trpt_record_clear(&a);
    EXPECT_STREQ(b.policy_strings.v[1], "mode: enforce");
    EXPECT_STREQ(b.queue_id, "4ZxYw1AbCdz");
    trpt_record_free(&b);
    trpt_record_clear(NULL);
    trpt_record_free(NULL);
}

/* ---- event ids ------------------------------------------------------- */

TEST(event_id_format_and_parse_round_trip_at_the_extremes)
{
    char id[128];
    const char *src;
    size_t len;
    uint64_t off;
    unsigned sub;

    ASSERT(trpt_event_id_format(id, sizeof id, "file-0123456789abcdef",
                                UINT64_MAX, UINT_MAX) == 0);
    EXPECT_STREQ(id, "file-0123456789abcdef:18446744073709551615.4294967295");
    ASSERT(trpt_event_id_parse(id, &src, &len, &off, &sub) == 0);
    EXPECT(src == id && len == 21 && off == UINT64_MAX && sub == UINT_MAX);
    ASSERT(trpt_event_id_format(id, sizeof id, "dgram-host", 0, 0) == 0);
    EXPECT_STREQ(id, "dgram-host:0.0");
    ASSERT(trpt_event_id_parse(id, &src, &len, &off, &sub) == 0);
    EXPECT(len == 10 && off == 0 && sub == 0);
}

TEST(event_id_parse_refuses_malformed_ids)
{
    static const char *const bad[] = {
        "",
        ":1.0",                          /* empty source */
        "src",                           /* no offset */
        "src:",                          /* empty offset */
        "src:1",                         /* no sub */
        "src:1.",                        /* empty sub */
        "src:.0",                        /* empty offset */
        "src:01.0",                      /* leading zero: not canonical */
        "src:1.00",                      /* leading zero in sub */
        "src:-1.0",                      /* sign */
        "src:+1.0",                      /* sign */
        "src:1.0x",                      /* trailing garbage */
        "src:1.0 ",                      /* trailing space */
        "src:1:2.0",                     /* second colon */
        "s rc:1.0",                      /* space in source */
        "user@host:1.0",                 /* '@' in source */
        "src\t:1.0",                     /* control character */
        "src:18446744073709551616.0",    /* offset > UINT64_MAX */
        "src:99999999999999999999999.0", /* far beyond */
        "src:1.4294967296",              /* sub > UINT_MAX */
        "src:1.0.0",                     /* extra part */
    };
    const char *src;
    size_t len;
    uint64_t off;
    unsigned sub;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int e = trpt_event_id_parse(bad[i], &src, &len, &off, &sub);

        if (e >= 0)
            fprintf(stderr, "  accepted: \"%s\"\n", bad[i]);
        EXPECT(e < 0);
    }
}

TEST(event_id_format_refuses_bad_sources_and_short_buffers)
{
    char id[32];

    EXPECT_EQ(trpt_event_id_format(id, sizeof id, "a:b", 1, 0), -EINVAL);
    EXPECT_EQ(trpt_event_id_format(id, sizeof id, "", 1, 0), -EINVAL);
    EXPECT_EQ(trpt_event_id_format(id, sizeof id, "a@b", 1, 0), -EINVAL);
    EXPECT_EQ(trpt_event_id_format(id, sizeof id, NULL, 1, 0), -EINVAL);
    EXPECT_EQ(trpt_event_id_format(id, 8, "source", 12345, 0), -ENOSPC);
    EXPECT_EQ(trpt_event_id_format(id, 11, "source", 1, 0), 0); /* fits */
    EXPECT_STREQ(id, "source:1.0");
    EXPECT_EQ(trpt_event_id_format(id, 10, "source", 1, 0), -ENOSPC);
}

/* ---- validation ------------------------------------------------------ */

TEST(validate_accepts_minimal_and_full_records)
{
    trpt_record r;

    make_minimal(&r);
    EXPECT_EQ(trpt_record_validate(&r), 0);
    trpt_record_clear(&r);
    make_full(&r);
    EXPECT_EQ(trpt_record_validate(&r), 0);
    trpt_record_clear(&r);
}

TEST(validate_refuses_other_versions_newer_with_eproto)
{
    trpt_record r;

    make_minimal(&r);
    r.version = 2;
    EXPECT_EQ(trpt_record_validate(&r), -EPROTO);
    r.version = 0;
    EXPECT_EQ(trpt_record_validate(&r), -EINVAL);
    r.version = -1;
    EXPECT_EQ(trpt_record_validate(&r), -EINVAL);
    trpt_record_clear(&r);
}

TEST(validate_keeps_time_within_1970_to_9999)
{
    trpt_record r;

    make_minimal(&r);
    r.time_us = 0;
    EXPECT_EQ(trpt_record_validate(&r), 0);
    r.time_us = -1;
    EXPECT_EQ(trpt_record_validate(&r), -ERANGE);
    r.time_us = T_END - 1;
    EXPECT_EQ(trpt_record_validate(&r), 0);
    r.time_us = T_END;
    EXPECT_EQ(trpt_record_validate(&r), -ERANGE);
    r.time_us = INT64_MAX;
    EXPECT_EQ(trpt_record_validate(&r), -ERANGE);
    EXPECT_EQ(trpt_days_from_civil(10000, 1, 1) * 86400000000LL, T_END);
    trpt_record_clear(&r);
}

TEST(validate_requires_event_id_and_policy_domain)
{
    trpt_record r;

    make_minimal(&r);
    trpt_record_set(&r.event_id, NULL);
    EXPECT_EQ(trpt_record_validate(&r), -EINVAL);
    trpt_record_clear(&r);
    make_minimal(&r);
    trpt_record_set(&r.policy_domain, NULL);
    EXPECT_EQ(trpt_record_validate(&r), -EINVAL);
    trpt_record_set(&r.policy_domain, "example.com");
    trpt_record_set(&r.event_id, "no-offset");
    EXPECT_EQ(trpt_record_validate(&r), -EINVAL);
    trpt_record_clear(&r);
}

TEST(validate_refuses_out_of_range_result_and_policy_type)
{
    trpt_record r;

    make_minimal(&r);
    r.result = TRPT_RESULT_COUNT;
    EXPECT_EQ(trpt_record_validate(&r), -EINVAL);
    r.result = (trpt_result)-1;
    EXPECT_EQ(trpt_record_validate(&r), -EINVAL);
    r.result = TRPT_RESULT_DANE_REQUIRED;
    r.policy_type = TRPT_POLICY_COUNT;
    EXPECT_EQ(trpt_record_validate(&r), -EINVAL);
    r.policy_type = TRPT_POLICY_NONE;
    EXPECT_EQ(trpt_record_validate(&r), 0);
    trpt_record_clear(&r);
}

static int domain_ok(const char *d)
{
    trpt_record r;
    int e;

    make_minimal(&r);
    trpt_record_set(&r.policy_domain, d);
    e = trpt_record_validate(&r);
    trpt_record_clear(&r);
    return e == 0;
}

TEST(validate_accepts_lower_case_ldh_and_underscore_domains)
{
    char label63[64], longest[254];

    memset(label63, 'a', 63);
    label63[63] = '\0';
    /* 4 labels of 63 + 3 dots = 255; trim to exactly 253 */
    snprintf(longest, sizeof longest, "%s.%s.%s.%.61s", label63, label63,
             label63, label63);
    EXPECT_EQ(strlen(longest), 253);
    EXPECT(domain_ok("example.com"));
    EXPECT(domain_ok("localhost"));
    EXPECT(domain_ok("_smtp._tls.example.com"));
    EXPECT(domain_ok("xn--bcher-kva.example"));
    EXPECT(domain_ok("a-b.c0.example"));
    EXPECT(domain_ok("123.example"));
    EXPECT(domain_ok(label63));
    EXPECT(domain_ok(longest));
}

TEST(validate_refuses_malformed_policy_domains)
{
    static const char *const bad[] = {
        "",
        "Example.com",
        "example.com.",
        ".example.com",
        "a..b",
        "-a.example",
        "a-.example",
        "exa mple.com",
        "user@example.com",
        "b\xc3\xbc"
        "cher.example",
        "example.com\n",
        "ex/ample.com",
        "*.example.com",
        "[192.0.2.1]",
    };
    char label64[65], too_long[300];

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (domain_ok(bad[i]))
            fprintf(stderr, "  accepted: \"%s\"\n", bad[i]);
        EXPECT(!domain_ok(bad[i]));
    }
    memset(label64, 'a', 64);
    label64[64] = '\0';
    EXPECT(!domain_ok(label64));
    memset(too_long, 'a', sizeof too_long);
    for (int i = 50; i < 254; i += 51)
        too_long[i] = '.';
    too_long[254] = '\0'; /* 254 bytes, labels of 50 */
    EXPECT(!domain_ok(too_long));
    too_long[253] = '\0';
    EXPECT(domain_ok(too_long));
}

TEST(validate_refuses_at_sign_in_every_field_but_the_tlsrpt_record)
{
    for (int i = 0; i < 12; i++) {
        trpt_record r;
        char **f;

        make_full(&r);
        f = string_field(&r, i);
        trpt_record_set(f, "user@example.com");
        EXPECT_EQ(trpt_record_validate(&r),
                  f == &r.tlsrpt_record ? 0 : -EINVAL);
        trpt_record_clear(&r);
    }
    for (int v = 0; v < 2; v++) {
        trpt_record r;

        make_full(&r);
        trpt_strv_push(v ? &r.mx_hosts : &r.policy_strings, "a@b");
        EXPECT_EQ(trpt_record_validate(&r), -EINVAL);
        trpt_record_clear(&r);
    }
}

TEST(validate_refuses_control_characters_in_every_field)
{
    static const char *const bad[] = {
        "a\tb",
        "a\nb",
        "a\rb",
        "\x01",
        "a\x1f",
        "a\x7f"
        "b",
        "a\xc2\x85"
        "b",         /* U+0085 NEL, a C1 control */
        "a\xc2\x9f", /* U+009F */
    };

    for (int i = 0; i < 12; i++) {
        for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
            trpt_record r;

            make_full(&r);
            trpt_record_set(string_field(&r, i), bad[k]);
            EXPECT_EQ(trpt_record_validate(&r), -EINVAL);
            trpt_record_clear(&r);
        }
    }
    {
        trpt_record r;

        make_full(&r);
        trpt_strv_push(&r.policy_strings, "mode:\tenforce");
        EXPECT_EQ(trpt_record_validate(&r), -EINVAL);
        trpt_record_clear(&r);
    }
}

TEST(validate_refuses_malformed_utf8_and_accepts_well_formed)
{
    static const char *const bad[] = {
        "\xff",             /* never valid */
        "\xc0\xaf",         /* overlong '/' */
        "\xe0\x80\xaf",     /* overlong */
        "\xed\xa0\x80",     /* UTF-16 surrogate D800 */
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "\xe2\x82",         /* truncated */
        "a\x80"
        "b", /* lone continuation */
    };
    trpt_record r;

    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        make_full(&r);
        trpt_record_set(&r.additional_information, bad[k]);
        EXPECT_EQ(trpt_record_validate(&r), -EINVAL);
        trpt_record_clear(&r);
    }
    make_full(&r);
    trpt_record_set(&r.additional_information,
                    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc2\xa0");
    EXPECT_EQ(trpt_record_validate(&r), 0);
    trpt_record_clear(&r);
}

TEST(validate_bounds_string_lengths_and_vector_sizes)
{
    char big[8200];
    trpt_record r;

    memset(big, 'a', sizeof big);
    big[1024] = '\0';
    make_full(&r);
    trpt_record_set(&r.receiving_mx_helo, big);
    EXPECT_EQ(trpt_record_validate(&r), 0);
    big[1024] = 'a';
    big[1025] = '\0';
    trpt_record_set(&r.receiving_mx_helo, big);
    EXPECT_EQ(trpt_record_validate(&r), -E2BIG);
    trpt_record_clear(&r);

    make_full(&r); /* a TLSA "3 0 0 <certificate hex>" may be long */
    memset(big, 'a', sizeof big);
    big[8192] = '\0';
    trpt_strv_push(&r.policy_strings, big);
    EXPECT_EQ(trpt_record_validate(&r), 0);
    big[8192] = 'a';
    big[8193] = '\0';
    trpt_strv_push(&r.policy_strings, big);
    EXPECT_EQ(trpt_record_validate(&r), -E2BIG);
    trpt_record_clear(&r);

    make_minimal(&r);
    for (int i = 0; i < 64; i++)
        trpt_strv_push(&r.mx_hosts, "mx.example.com");
    EXPECT_EQ(trpt_record_validate(&r), 0);
    trpt_strv_push(&r.mx_hosts, "mx.example.com");
    EXPECT_EQ(trpt_record_validate(&r), -E2BIG);
    trpt_record_clear(&r);
}

/* ---- JSON encoding and decoding -------------------------------------- */

TEST(json_minimal_record_is_the_documented_text)
{
    trpt_record r;
    trpt_buf b;

    make_minimal(&r);
    trpt_buf_init(&b);
    ASSERT(trpt_record_to_json(&r, &b) == 0);
    EXPECT_STREQ(b.data, MINIMAL_JSON);
    EXPECT_EQ(b.len, strlen(MINIMAL_JSON));
    trpt_buf_free(&b);
    trpt_record_clear(&r);
}

TEST(json_full_record_writes_every_key_in_order)
{
    trpt_record r;
    trpt_buf b;

    make_full(&r);
    trpt_buf_init(&b);
    ASSERT(trpt_record_to_json(&r, &b) == 0);
    EXPECT_STREQ(
        b.data,
        "{\"v\":1,\"time\":\"2026-01-01T00:00:00.123456Z\","
        "\"id\":\"file-00112233aabbccdd:4096.0\","
        "\"host\":\"mail1.sender.example\",\"mta\":\"postfix\","
        "\"policy-domain\":\"example.com\",\"policy-type\":\"sts\","
        "\"policy-string\":[\"version: STSv1\",\"mode: enforce\"],"
        "\"mx-host\":[\"*.mx.example.com\"],"
        "\"tlsrpt-record\":\"v=TLSRPTv1; rua=mailto:tlsrpt@example.com\","
        "\"result\":\"validation-failure\","
        "\"sending-mta-ip\":\"2001:db8::25\","
        "\"receiving-mx-hostname\":\"mx1.mx.example.com\","
        "\"receiving-ip\":\"192.0.2.7\","
        "\"receiving-mx-helo\":\"mx1.mx.example.com\","
        "\"failure-reason-code\":\"self-signed_certificate\","
        "\"additional-information\":\"https://mx.example.com/tls-help\","
        "\"queue-id\":\"4ZxYw1AbCdz\"}");
    trpt_buf_free(&b);
    trpt_record_clear(&r);
}

TEST(json_round_trips_every_field_and_every_enum_value)
{
    trpt_record r;

    make_full(&r);
    EXPECT(round_trips(&r));
    for (int res = 0; res < TRPT_RESULT_COUNT; res++) {
        for (int pt = 0; pt < TRPT_POLICY_COUNT; pt++) {
            r.result = (trpt_result)res;
            r.policy_type = (trpt_policy_type)pt;
            EXPECT(round_trips(&r));
        }
    }
    r.time_us = 0;
    EXPECT(round_trips(&r));
    r.time_us = T_END - 1;
    EXPECT(round_trips(&r));
    trpt_record_clear(&r);
    make_minimal(&r);
    EXPECT(round_trips(&r));
    trpt_record_clear(&r);
}

TEST(json_encoder_appends_and_leaves_buffer_alone_on_invalid_record)
{
    trpt_record r;
    trpt_buf b;

    make_minimal(&r);
    trpt_buf_init(&b);
    trpt_buf_puts(&b, "prefix|");
    ASSERT(trpt_record_to_json(&r, &b) == 0);
    EXPECT(strncmp(b.data, "prefix|{\"v\":1,", 14) == 0);
    trpt_buf_reset(&b);
    trpt_buf_puts(&b, "keep");
    trpt_record_set(&r.queue_id, "a@b");
    EXPECT_EQ(trpt_record_to_json(&r, &b), -EINVAL);
    EXPECT_STREQ(b.data, "keep");
    EXPECT_EQ(b.len, 4);
    trpt_buf_free(&b);
    trpt_record_clear(&r);
}

TEST(json_round_trips_unicode_quotes_and_backslashes)
{
    trpt_record r;

    make_full(&r);
    trpt_record_set(&r.failure_reason_code, "quote\" back\\slash /slash");
    trpt_record_set(&r.additional_information,
                    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    trpt_strv_push(&r.policy_strings, "\xe6\x97\xa5\xe6\x9c\xac \\ \"");
    EXPECT(round_trips(&r));
    trpt_record_clear(&r);
}

/* trpt_record_to_json_valid() skips the checks, not the escaping: for a
 * validated record (every record a parser emits) it writes the very bytes
 * trpt_record_to_json() writes. */
TEST(json_valid_encoder_writes_the_same_bytes_for_validated_records)
{
    trpt_buf checked = {0}, trusted = {0};
    trpt_record r;

    make_full(&r);
    trpt_record_set(&r.failure_reason_code, "quote\" back\\slash at-free");
    trpt_record_set(&r.additional_information,
                    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \x7e");
    trpt_strv_push(&r.policy_strings, "\xe6\x97\xa5 \\ \"");
    ASSERT(trpt_record_validate(&r) == 0);
    EXPECT_EQ(trpt_record_to_json(&r, &checked), 0);
    EXPECT_EQ(trpt_buf_append(&trusted, "prefix", 6), 0);
    EXPECT_EQ(trpt_record_to_json_valid(&r, &trusted), 0);
    ASSERT(trusted.len == checked.len + 6);
    EXPECT(memcmp(trusted.data + 6, checked.data, checked.len) == 0);
    /* the "@" of the rua= address is kept as it is */
    EXPECT(strstr(trusted.data, "rua=mailto:tlsrpt@example.com") != NULL);
    trpt_buf_free(&checked);
    trpt_buf_free(&trusted);
    trpt_record_clear(&r);
}

TEST(json_decodes_escapes_and_surrogate_pairs_to_utf8)
{
    trpt_record r;

    ASSERT(decode(&r, minimal_plus("\"additional-information\":"
                                   "\"\\u0063af\\u00e9 \\u20ac \\ud83d\\ude00 "
                                   "\\\" \\\\ \\/\"")) == 0);
    EXPECT_STREQ(r.additional_information,
                 "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \" \\ /");
    trpt_record_clear(&r);
    /* keys may be escaped too */
    ASSERT(decode(&r, minimal_plus("\"\\u0071ueue-id\":\"Q1\"")) == 0);
    EXPECT_STREQ(r.queue_id, "Q1");
    trpt_record_clear(&r);
}

TEST(json_time_keeps_microseconds_and_accepts_offsets)
{
    trpt_record r;
    trpt_buf b;

    ASSERT(decode(&r, "{\"v\":1,\"time\":\"2026-01-01T02:00:00.5+02:00\","
                      "\"id\":\"s:1.0\",\"policy-domain\":\"a.example\","
                      "\"result\":\"success\"}") == 0);
    EXPECT_EQ(r.time_us, T_2026_01_01 + 500000);
    trpt_buf_init(&b);
    ASSERT(trpt_record_to_json(&r, &b) == 0);
    EXPECT(strstr(b.data, "\"time\":\"2026-01-01T00:00:00.500000Z\""));
    trpt_buf_free(&b);
    trpt_record_clear(&r);
    /* an offset that takes the time before 1970 is out of range */
    EXPECT_EQ(decode_rc("{\"v\":1,\"time\":\"1970-01-01T00:00:00+01:00\","
                        "\"id\":\"s:1.0\",\"policy-domain\":\"a.example\","
                        "\"result\":\"success\"}"),
              -ERANGE);
    EXPECT(decode_rc("{\"v\":1,\"time\":\"2026-02-30T00:00:00Z\","
                     "\"id\":\"s:1.0\",\"policy-domain\":\"a.example\","
                     "\"result\":\"success\"}") < 0);
}

TEST(json_ignores_unknown_keys_with_any_value)
{
    static const char *const members[] = {
        "\"future\":\"text\"",
        "\"n\":-12.5e+3",
        "\"z\":0",
        "\"t\":true,\"f\":false,\"nil\":null",
        "\"obj\":{\"a\":[1,{\"b\":[]},\"c\"],\"d\":{}}",
        "\"arr\":[[[[]]],{\"x\":null}]",
        "\"esc\":\"\\u0000 \\t control escapes are fine here\"",
        "\"dup\":1,\"dup\":2",
        "\"\":\"empty key\"",
        "\"vv\":2",
    };

    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++) {
        trpt_record r, want;

        make_minimal(&want);
        EXPECT_EQ(decode(&r, minimal_plus(members[i])), 0);
        EXPECT(records_equal(&r, &want));
        trpt_record_clear(&r);
        trpt_record_clear(&want);
    }
    /* whitespace everywhere JSON allows it */
    EXPECT_EQ(
        decode_rc(" \t\r\n{ \"v\" : 1 , \"time\" :\"2026-01-01T00:00:00Z\""
                  " ,\"id\":\"s:1.0\",\"policy-domain\":\"a.example\","
                  "\"x\" : [ 1 , 2 ] ,\"result\":\"success\" } \n"),
        0);
}

TEST(json_refuses_duplicate_known_keys)
{
    static const char *const members[] = {
        "\"v\":1",
        "\"time\":\"2026-01-01T00:00:00Z\"",
        "\"id\":\"s:1.0\"",
        "\"policy-domain\":\"example.com\"",
        "\"result\":\"success\"",
        "\"host\":\"a\",\"host\":\"a\"",
        "\"mx-host\":[],\"mx-host\":[]",
        "\"policy-type\":\"sts\",\"policy-type\":\"sts\"",
    };

    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++)
        EXPECT_EQ(decode_rc(minimal_plus(members[i])), -EINVAL);
}

TEST(json_refuses_each_missing_required_key)
{
    static const char *const parts[] = {
        "\"v\":1",
        "\"time\":\"2026-01-01T00:00:00Z\"",
        "\"id\":\"s:1.0\"",
        "\"policy-domain\":\"example.com\"",
        "\"result\":\"success\"",
    };

    for (int skip = 0; skip < 5; skip++) {
        char buf[512] = "{";

        for (int i = 0; i < 5; i++) {
            if (i == skip)
                continue;
            if (buf[1])
                strcat(buf, ",");
            strcat(buf, parts[i]);
        }
        strcat(buf, ",\"host\":\"h\"}");
        EXPECT_EQ(decode_rc(buf), -EINVAL);
    }
    EXPECT_EQ(decode_rc("{}"), -EINVAL);
}

TEST(json_refuses_newer_versions_with_eproto_and_bad_ones_with_einval)
{
    static const char *const rest =
        ",\"time\":\"2026-01-01T00:00:00Z\",\"id\":\"s:1.0\","
        "\"policy-domain\":\"example.com\",\"result\":\"success\"}";
    static const struct {
        const char *v;
        int want;
    } cases[] = {
        {"2", -EPROTO},     {"99999999999999999999999", -EPROTO},
        {"0", -EINVAL},     {"-1", -EINVAL},
        {"1.0", -EINVAL},   {"1e0", -EINVAL},
        {"\"1\"", -EINVAL}, {"01", -EINVAL},
        {"true", -EINVAL},  {"null", -EINVAL},
    };
    char buf[512];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(buf, sizeof buf, "{\"v\":%s%s", cases[i].v, rest);
        EXPECT_EQ(decode_rc(buf), cases[i].want);
    }
    /* a v2 record whose other keys mean something else is still EPROTO */
    EXPECT_EQ(decode_rc("{\"v\":2,\"time\":1767225600,\"id\":[1,2]}"), -EPROTO);
}

TEST(json_refuses_at_sign_raw_or_escaped_outside_tlsrpt_record)
{
    EXPECT_EQ(decode_rc(minimal_plus("\"queue-id\":\"a@b\"")), -EINVAL);
    EXPECT_EQ(decode_rc(minimal_plus("\"queue-id\":\"a\\u0040b\"")), -EINVAL);
    EXPECT_EQ(decode_rc(minimal_plus("\"mx-host\":[\"ok\",\"a@b\"]")), -EINVAL);
    EXPECT_EQ(
        decode_rc(minimal_plus(
            "\"tlsrpt-record\":\"v=TLSRPTv1; rua=mailto:r@example.com\"")),
        0);
    EXPECT_EQ(decode_rc(minimal_plus("\"unknown\":\"a@b\"")), 0);
}

TEST(json_refuses_control_characters_raw_or_escaped)
{
    static const char *const members[] = {
        "\"host\":\"a\nb\"",      /* raw: not even JSON */
        "\"host\":\"a\tb\"",      /* raw */
        "\"host\":\"a\\nb\"",     /* escaped */
        "\"host\":\"a\\tb\"",     /* escaped */
        "\"host\":\"a\\u0000b\"", /* NUL */
        "\"host\":\"a\\u001fb\"", /* US */
        "\"host\":\"a\\u007fb\"", /* DEL escaped */
        "\"host\":\"a\x7f"
        "b\"",                    /* DEL raw */
        "\"host\":\"a\\u0085b\"", /* C1 escaped */
        "\"host\":\"a\xc2\x85"
        "b\"", /* C1 raw */
        "\"receiving-mx-helo\":\"250-mx.example\\r\\n250 STARTTLS\"",
        "\"policy-string\":[\"a\\u0001\"]",
        "\"unknown\":\"raw\ttab\"", /* raw controls are never JSON */
    };

    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++) {
        int e = decode_rc(minimal_plus(members[i]));

        if (e != -EINVAL)
            fprintf(stderr, "  %s -> %d\n", members[i], e);
        EXPECT_EQ(e, -EINVAL);
    }
}

TEST(json_refuses_malformed_utf8_and_bad_escapes)
{
    static const char *const members[] = {
        "\"host\":\"\xff\"",
        "\"host\":\"\xc0\xaf\"",
        "\"host\":\"\xed\xa0\x80\"",
        "\"host\":\"\xe2\x82\"",
        "\"unknown\":\"\xf8\x88\x80\x80\x80\"",
        "\"host\":\"\\x41\"",
        "\"host\":\"\\u12G4\"",
        "\"host\":\"\\u12\"",
        "\"host\":\"\\ud800\"",
        "\"host\":\"\\udc00\"",
        "\"host\":\"\\ud800\\u0041\"",
        "\"host\":\"\\ud800\\ud800\"",
        "\"host\":\"\\",
        "\"\xff\":1",
    };

    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++)
        EXPECT_EQ(decode_rc(minimal_plus(members[i])), -EINVAL);
}

TEST(json_refuses_wrong_value_types_and_unknown_names)
{
    static const char *const members[] = {
        "\"host\":1",
        "\"host\":null",
        "\"host\":[\"a\"]",
        "\"mx-host\":\"mx.example.com\"",
        "\"mx-host\":[1]",
        "\"mx-host\":[\"a\",]",
        "\"mx-host\":[\"a\"",
        "\"policy-type\":\"unknown\"",
        "\"policy-type\":\"STS\"",
        "\"policy-type\":2",
        "\"mta\":{}",
    };
    static const char *const results[] = {
        "\"certificate_expired\"", /* Postfix's log spelling: not JSON's */
        "\"Success\"",
        "\"\"",
        "\"failure\"",
        "1",
    };
    char buf[512];

    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++)
        EXPECT_EQ(decode_rc(minimal_plus(members[i])), -EINVAL);
    for (size_t i = 0; i < sizeof results / sizeof results[0]; i++) {
        snprintf(buf, sizeof buf,
                 "{\"v\":1,\"time\":\"2026-01-01T00:00:00Z\",\"id\":\"s:1.0\","
                 "\"policy-domain\":\"example.com\",\"result\":%s}",
                 results[i]);
        EXPECT_EQ(decode_rc(buf), -EINVAL);
    }
    EXPECT_EQ(decode_rc("{\"v\":1,\"time\":1767225600,\"id\":\"s:1.0\","
                        "\"policy-domain\":\"example.com\","
                        "\"result\":\"success\"}"),
              -EINVAL);
}

TEST(json_refuses_trailing_garbage_and_non_objects)
{
    static const char *const bad[] = {
        MINIMAL_JSON "x",
        MINIMAL_JSON "{}",
        MINIMAL_JSON ",",
        "[]",
        "\"x\"",
        "1",
        "null",
        "",
        "   ",
        "{",
        "{\"v\":1,}",
        "{,\"v\":1}",
        "{\"v\" 1}",
        "{\"v\":1 \"x\":2}",
    };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        EXPECT_EQ(decode_rc(bad[i]), -EINVAL);
}

TEST(json_refuses_nul_bytes_anywhere)
{
    char buf[256];
    size_t n = strlen(MINIMAL_JSON);
    trpt_record r;

    memcpy(buf, MINIMAL_JSON, n);
    buf[n] = '\0'; /* NUL after the object counts as garbage */
    trpt_record_init(&r);
    EXPECT_EQ(trpt_record_from_json(&r, buf, n + 1), -EINVAL);
    memcpy(buf, MINIMAL_JSON, n);
    buf[40] = '\0'; /* inside the id string */
    EXPECT_EQ(trpt_record_from_json(&r, buf, n), -EINVAL);
    trpt_record_clear(&r);
}

TEST(json_refuses_overlong_strings_vectors_and_documents)
{
    static char big[1 << 17];
    char *member = malloc(1 << 20);
    size_t n;

    ASSERT(member);
    memset(big, 'a', 1025);
    big[1025] = '\0';
    snprintf(member, 1 << 20, "\"host\":\"%s\"", big);
    EXPECT_EQ(decode_rc(minimal_plus(member)), -E2BIG);
    big[1024] = '\0';
    snprintf(member, 1 << 20, "\"host\":\"%s\"", big);
    EXPECT_EQ(decode_rc(minimal_plus(member)), 0);
    /* escapes count after unescaping: 1024 escaped 'a's are fine */
    n = (size_t)sprintf(member, "\"host\":\"");
    for (int i = 0; i < 1024; i++)
        n += (size_t)sprintf(member + n, "\\u0061");
    sprintf(member + n, "\"");
    EXPECT_EQ(decode_rc(minimal_plus(member)), 0);
    /* 65 vector entries */
    n = (size_t)sprintf(member, "\"mx-host\":[");
    for (int i = 0; i < 65; i++)
        n += (size_t)sprintf(member + n, "%s\"m%d\"", i ? "," : "", i);
    sprintf(member + n, "]");
    EXPECT_EQ(decode_rc(minimal_plus(member)), -E2BIG);
    /* a document above 512 KiB, even in an unknown key */
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    n = (size_t)sprintf(member, "\"x\":[");
    for (int i = 0; i < 5; i++)
        n += (size_t)sprintf(member + n, "%s\"%s\"", i ? "," : "", big);
    sprintf(member + n, "]");
    {
        char *full = malloc(strlen(member) + 16);

        ASSERT(full);
        sprintf(full, "{\"v\":1,%s}", member);
        EXPECT_EQ(decode_rc(full), -E2BIG);
        free(full);
    }
    free(member);
}

TEST(json_limits_nesting_depth_of_unknown_values)
{
    char buf[256];
    int depth;

    for (depth = 1; depth <= 40; depth++) {
        size_t n = 0;

        n += (size_t)sprintf(buf + n, "\"x\":");
        for (int i = 0; i < depth; i++)
            buf[n++] = '[';
        for (int i = 0; i < depth; i++)
            buf[n++] = ']';
        buf[n] = '\0';
        EXPECT_EQ(decode_rc(minimal_plus(buf)), depth <= 31 ? 0 : -EINVAL);
    }
}

TEST(json_decode_into_used_record_replaces_everything)
{
    trpt_record full, r;
    trpt_buf b;

    make_full(&full);
    trpt_buf_init(&b);
    ASSERT(trpt_record_to_json(&full, &b) == 0);
    trpt_record_init(&r);
    ASSERT(trpt_record_from_json(&r, b.data, b.len) == 0);
    EXPECT(records_equal(&r, &full));
    /* the same record again, then a smaller one: no leftovers */
    ASSERT(trpt_record_from_json(&r, b.data, b.len) == 0);
    EXPECT(records_equal(&r, &full));
    ASSERT(trpt_record_from_json(&r, MINIMAL_JSON, strlen(MINIMAL_JSON)) == 0);
    trpt_record_clear(&full);
    make_minimal(&full);
    EXPECT(records_equal(&r, &full));
    EXPECT(r.reporting_host == NULL && r.mx_hosts.n == 0);
    EXPECT_EQ(r.policy_type, TRPT_POLICY_UNKNOWN);
    /* a failing decode leaves the record cleared, not half-filled */
    EXPECT(trpt_record_from_json(&r, b.data, b.len - 1) < 0);
    EXPECT(r.event_id == NULL && r.policy_domain == NULL);
    trpt_record_clear(&full);
    trpt_record_clear(&r);
    trpt_buf_free(&b);
}

/* Decodes into r as it is (no init): the reuse path. */
static int decode_again(trpt_record *r, const char *json)
{
    return trpt_record_from_json(r, json, strlen(json));
}

TEST(json_vectors_shrink_and_grow_when_reused)
{
    trpt_record r;

    ASSERT(decode(&r, minimal_plus("\"policy-string\":[\"a\",\"b\"]")) == 0);
    EXPECT_EQ(r.policy_strings.n, 2);
    ASSERT(decode_again(&r, minimal_plus("\"policy-string\":[\"x\"]")) == 0);
    EXPECT_EQ(r.policy_strings.n, 1);
    EXPECT_STREQ(r.policy_strings.v[0], "x");
    EXPECT(r.policy_strings.v[1] == NULL);
    ASSERT(decode_again(&r, minimal_plus("\"policy-string\":[\"a much longer "
                                         "entry than before\",\"b\",\"c\"]")) ==
           0);
    EXPECT_EQ(r.policy_strings.n, 3);
    EXPECT_STREQ(r.policy_strings.v[0], "a much longer entry than before");
    EXPECT_STREQ(r.policy_strings.v[2], "c");
    ASSERT(decode_again(&r, minimal_plus("\"policy-string\":[]")) == 0);
    EXPECT_EQ(r.policy_strings.n, 0);
    trpt_record_clear(&r);
}

TEST(json_every_truncated_prefix_fails_cleanly)
{
    trpt_record full, r;
    trpt_buf b;

    make_full(&full);
    trpt_strv_push(&full.policy_strings, "caf\xc3\xa9 \\ \"");
    trpt_buf_init(&b);
    ASSERT(trpt_record_to_json(&full, &b) == 0);
    trpt_record_init(&r);
    for (size_t n = 0; n < b.len; n++) {
        char *copy = malloc(n ? n : 1); /* exact size: ASan sees overreads */

        ASSERT(copy);
        memcpy(copy, b.data, n);
        EXPECT(trpt_record_from_json(&r, copy, n) < 0);
        EXPECT(r.event_id == NULL);
        free(copy);
    }
    EXPECT_EQ(trpt_record_from_json(&r, b.data, b.len), 0);
    trpt_record_clear(&r);
    trpt_record_clear(&full);
    trpt_buf_free(&b);
}

/* xorshift: reproducible pseudo-random input */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* A decoded record must re-encode and decode to itself. */
static void check_decoded(const char *data, size_t n, int *accepted)
{
    trpt_record r;

    trpt_record_init(&r);
    if (trpt_record_from_json(&r, data, n) == 0) {
        (*accepted)++;
        EXPECT(round_trips(&r));
    }
    trpt_record_clear(&r);
}

TEST(json_random_garbage_and_mutations_never_crash)
{
    static const char alphabet[] = "{}[]\":,\\u0123456789abcdefv tnlrsx@.-\x80"
                                   "\xc3\xa9\xff";
    trpt_record full;
    trpt_buf b;
    int accepted = 0;

    make_full(&full);
    trpt_buf_init(&b);
    ASSERT(trpt_record_to_json(&full, &b) == 0);
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = rng() % 200;
        char *buf = malloc(n + b.len + 1);

        ASSERT(buf);
        if (iter % 2) { /* random bytes from a JSON-ish alphabet */
            for (size_t i = 0; i < n; i++)
                buf[i] = alphabet[rng() % (sizeof alphabet - 1)];
        } else { /* a valid record with a few bytes changed */
            n = b.len;
            memcpy(buf, b.data, n);
            for (int k = 1 + (int)(rng() % 3); k > 0; k--)
                buf[rng() % n] = alphabet[rng() % (sizeof alphabet - 1)];
        }
        check_decoded(buf, n, &accepted);
        free(buf);
    }
    EXPECT(accepted > 0); /* some mutations (in values) stay valid */
    trpt_record_clear(&full);
    trpt_buf_free(&b);
}

/* ---- cross-check with libfastjson's parser ---------------------------- */

static const char *fj_string(struct fjson_object *o, const char *key)
{
    struct fjson_object *v;

    if (!fjson_object_object_get_ex(o, key, &v))
        return NULL;
    return fjson_object_get_string(v);
}

static int fj_strv_equal(struct fjson_object *o, const char *key,
                         const trpt_strv *sv)
{
    struct fjson_object *a;

    if (!fjson_object_object_get_ex(o, key, &a))
        return sv->n == 0;
    if (!fjson_object_is_type(a, fjson_type_array) ||
        (size_t)fjson_object_array_length(a) != sv->n)
        return 0;
    for (size_t i = 0; i < sv->n; i++)
        if (strcmp(
                fjson_object_get_string(fjson_object_array_get_idx(a, (int)i)),
                sv->v[i]) != 0)
            return 0;
    return 1;
}

/* Every value libfastjson reads from our text is the record's. */
static int fastjson_agrees(const trpt_record *r, const char *json)
{
    struct fjson_object *o = fjson_tokener_parse(json), *v;
    char t[32];
    int ok;

    if (!o)
        return 0;
    trpt_format_rfc3339(r->time_us, t);
    ok = fjson_object_object_get_ex(o, "v", &v) &&
         fjson_object_get_int(v) == 1 && str_equal(fj_string(o, "time"), t) &&
         str_equal(fj_string(o, "id"), r->event_id) &&
         str_equal(fj_string(o, "host"), r->reporting_host) &&
         str_equal(fj_string(o, "mta"), r->mta) &&
         str_equal(fj_string(o, "policy-domain"), r->policy_domain) &&
         str_equal(fj_string(o, "policy-type"),
                   r->policy_type ? trpt_policy_type_name(r->policy_type)
                                  : NULL) &&
         fj_strv_equal(o, "policy-string", &r->policy_strings) &&
         fj_strv_equal(o, "mx-host", &r->mx_hosts) &&
         str_equal(fj_string(o, "tlsrpt-record"), r->tlsrpt_record) &&
         str_equal(fj_string(o, "result"), trpt_result_name(r->result)) &&
         str_equal(fj_string(o, "sending-mta-ip"), r->sending_mta_ip) &&
         str_equal(fj_string(o, "receiving-mx-hostname"),
                   r->receiving_mx_hostname) &&
         str_equal(fj_string(o, "receiving-ip"), r->receiving_ip) &&
         str_equal(fj_string(o, "receiving-mx-helo"), r->receiving_mx_helo) &&
         str_equal(fj_string(o, "failure-reason-code"),
                   r->failure_reason_code) &&
         str_equal(fj_string(o, "additional-information"),
                   r->additional_information) &&
         str_equal(fj_string(o, "queue-id"), r->queue_id);
    fjson_object_put(o);
    return ok;
}

TEST(json_output_reads_the_same_with_libfastjson)
{
    static const char *const texts[] = {
        "plain",
        "quote\" and back\\slash",
        "slash / and http://x/y",
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
        "tab-free ~ ^ ` { } [ ]",
    };
    trpt_record r;
    trpt_buf b;

    trpt_buf_init(&b);
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        make_full(&r);
        r.policy_type = (trpt_policy_type)(i % TRPT_POLICY_COUNT);
        r.result = (trpt_result)(i * 3 % TRPT_RESULT_COUNT);
        trpt_record_set(&r.additional_information, texts[i]);
        trpt_record_set(&r.receiving_mx_helo, texts[(i + 1) % 5]);
        trpt_strv_push(&r.mx_hosts, texts[(i + 2) % 5]);
        trpt_buf_reset(&b);
        ASSERT(trpt_record_to_json(&r, &b) == 0);
        EXPECT(fastjson_agrees(&r, b.data));
        trpt_record_clear(&r);
    }
    make_minimal(&r);
    trpt_buf_reset(&b);
    ASSERT(trpt_record_to_json(&r, &b) == 0);
    EXPECT(fastjson_agrees(&r, b.data));
    trpt_record_clear(&r);
    trpt_buf_free(&b);
}

/* ---- real data: Postfix 3.10's own TLSRPT datagrams ------------------- */

/* The announced host name from a multi-line EHLO reply ("250-mx.x\r\n..."):
 * what a record carries (docs/record-format.md, receiving-mx-helo). */
static void helo_name(const char *reply, char *out, size_t outlen)
{
    size_t n = 0;

    if (strlen(reply) > 4)
        reply += 4;
    while (reply[n] && reply[n] != '\r' && reply[n] != '\n' &&
           reply[n] != ' ' && n + 1 < outlen) {
        out[n] = reply[n];
        n++;
    }
    out[n] = '\0';
}

static void set_from(struct fjson_object *o, const char *key, char **field)
{
    const char *s = fj_string(o, key);

    if (s)
        trpt_record_set(field, s);
}

static void push_all(struct fjson_object *o, const char *key, trpt_strv *sv)
{
    struct fjson_object *a;

    if (!fjson_object_object_get_ex(o, key, &a))
        return;
    for (int i = 0; i < fjson_object_array_length(a); i++)
        trpt_strv_push(
            sv, fjson_object_get_string(fjson_object_array_get_idx(a, i)));
}

/* One record per datagram: the first policy and its first failure. */
static int datagram_record(struct fjson_object *d, trpt_record *r, int line,
                           const char **raw_helo)
{
    struct fjson_object *pols, *pol, *v, *fds;
    char id[64], helo[256];

    make_minimal(r);
    snprintf(id, sizeof id, "dgram-test:%d.0", line);
    trpt_record_set(&r->event_id, id);
    trpt_record_set(&r->mta, "postfix");
    set_from(d, "pr", &r->tlsrpt_record);
    if (!fjson_object_object_get_ex(d, "policies", &pols))
        return -1;
    pol = fjson_object_array_get_idx(pols, 0);
    set_from(pol, "policy-domain", &r->policy_domain);
    if (fjson_object_object_get_ex(pol, "policy-type", &v) &&
        trpt_policy_type_from_code(fjson_object_get_int(v), &r->policy_type))
        return -1;
    push_all(pol, "policy-string", &r->policy_strings);
    push_all(pol, "mx-host", &r->mx_hosts);
    if (fjson_object_object_get_ex(pol, "failure-details", &fds)) {
        struct fjson_object *fd = fjson_object_array_get_idx(fds, 0);

        if (!fjson_object_object_get_ex(fd, "c", &v) ||
            trpt_result_from_code(fjson_object_get_int(v), &r->result))
            return -1;
        set_from(fd, "s", &r->sending_mta_ip);
        set_from(fd, "n", &r->receiving_mx_hostname);
        set_from(fd, "r", &r->receiving_ip);
        set_from(fd, "a", &r->additional_information);
        set_from(fd, "f", &r->failure_reason_code);
        if ((*raw_helo = fj_string(fd, "h"))) {
            helo_name(*raw_helo, helo, sizeof helo);
            trpt_record_set(&r->receiving_mx_helo, helo);
        }
    }
    return 0;
}

TEST(postfix_datagram_values_make_valid_records_that_round_trip)
{
    FILE *f =
        fopen(shared_path("corpus/postfix-3.10-tlsrpt/datagrams.ndjson"), "r");
    char line[8192];
    int n = 0, failures = 0;

    ASSERT(f);
    while (fgets(line, sizeof line, f)) {
        struct fjson_object *d = fjson_tokener_parse(line);
        const char *raw_helo = NULL;
        trpt_record r;

        ASSERT(d);
        EXPECT_EQ(datagram_record(d, &r, n, &raw_helo), 0);
        EXPECT_EQ(trpt_record_validate(&r), 0);
        EXPECT(round_trips(&r));
        failures += r.result != TRPT_RESULT_SUCCESS;
        if (raw_helo) { /* the raw multi-line reply itself is refused */
            trpt_record_set(&r.receiving_mx_helo, raw_helo);
            EXPECT_EQ(trpt_record_validate(&r), -EINVAL);
        }
        trpt_record_clear(&r);
        fjson_object_put(d);
        n++;
    }
    fclose(f);
    EXPECT(n > 100);
    EXPECT(failures > 50);
}

/* ---- the documentation's examples ------------------------------------ */

TEST(record_format_doc_examples_decode_as_documented)
{
    const char *src = getenv("TRPT_SRC");
    char path[4096], line[4096];
    int want[] = {0, 0, 0, -EPROTO, -EINVAL}, n = 0, in_block = 0;
    FILE *f;

    snprintf(path, sizeof path, "%s/docs/record-format.md", src ? src : ".");
    f = fopen(path, "r");
    ASSERT(f);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "```", 3) == 0) {
            in_block = strncmp(line, "```json", 7) == 0;
            continue;
        }
        if (!in_block || line[0] != '{')
            continue;
        line[strcspn(line, "\n")] = '\0';
        ASSERT(n < 5);
        if (decode_rc(line) != want[n])
            fprintf(stderr, "  example %d: %s\n", n + 1, line);
        EXPECT_EQ(decode_rc(line), want[n]);
        if (want[n] == 0) { /* and it is exactly what the writer writes */
            trpt_record r;
            trpt_buf b;

            trpt_buf_init(&b);
            EXPECT(decode(&r, line) == 0 && trpt_record_to_json(&r, &b) == 0);
            EXPECT_STREQ(b.data, line);
            trpt_record_clear(&r);
            trpt_buf_free(&b);
        }
        n++;
    }
    fclose(f);
    EXPECT_EQ(n, 5);
}

/* ---- views: the decoder's two paths ---------------------------------- */

static int sv_equal(trpt_sv a, trpt_sv b)
{
    if (!a.p || !b.p)
        return a.p == b.p;
    return a.len == b.len && memcmp(a.p, b.p, a.len) == 0;
}

static int views_equal(const trpt_record_view *a, const trpt_record_view *b)
{
    const trpt_sv *x = &a->event_id, *y = &b->event_id;

    if (a->time_us != b->time_us || a->policy_type != b->policy_type ||
        a->result != b->result || a->n_policy_strings != b->n_policy_strings ||
        a->n_mx_hosts != b->n_mx_hosts || a->id_offset != b->id_offset ||
        a->id_sub != b->id_sub || a->id_source_len != b->id_source_len)
        return 0;
    for (int i = 0; &x[i] <= &a->queue_id; i++)
        if (!sv_equal(x[i], y[i]))
            return 0;
    for (size_t i = 0; i < a->n_policy_strings; i++)
        if (!sv_equal(a->policy_strings[i], b->policy_strings[i]))
            return 0;
    for (size_t i = 0; i < a->n_mx_hosts; i++)
        if (!sv_equal(a->mx_hosts[i], b->mx_hosts[i]))
            return 0;
    return 1;
}

/* Decodes text as written (the encoder's form takes the fast path) and
 * with a leading space (which only the general scanner takes): both must
 * give the same code and the same view. 1 if they agree. */
static int paths_agree(trpt_record_view *fast, trpt_record_view *general,
                       const char *text, size_t len, int *rc)
{
    char *spaced = malloc(len + 1);
    int a, b, ok;

    if (!spaced)
        abort();
    spaced[0] = ' ';
    memcpy(spaced + 1, text, len);
    a = trpt_record_view_from_json(fast, text, len);
    b = trpt_record_view_from_json(general, spaced, len + 1);
    *rc = a;
    ok = a == b && (a != 0 || views_equal(fast, general));
    if (!ok)
        fprintf(stderr, "  paths disagree (%d, %d) on %.*s\n", a, b, (int)len,
                text);
    free(spaced); /* the general view points into it */
    return ok;
}

/* Records the encoder writes: every result and policy type, '@' in the
 * TLSRPT record, vectors, microseconds, long and short strings. */
static void make_variant(trpt_record *r, unsigned i)
{
    char id[64], dom[64];

    make_full(r);
    r->result = (trpt_result)(i % TRPT_RESULT_COUNT);
    r->policy_type = (trpt_policy_type)(i % TRPT_POLICY_COUNT);
    r->time_us = T_2026_01_01 + (int64_t)i * 86400123457LL % 400000000000000LL;
    snprintf(id, sizeof id, "src%u:%u.%u", i % 3, i * 7919, i % 5);
    trpt_record_set(&r->event_id, id);
    snprintf(dom, sizeof dom, "d%u.example%s", i, i % 2 ? ".com" : "");
    trpt_record_set(&r->policy_domain, dom);
    if (i % 4 == 0)
        trpt_record_set(&r->tlsrpt_record, NULL);
    if (i % 3 == 0) {
        trpt_strv_free(&r->policy_strings);
        trpt_strv_free(&r->mx_hosts);
    }
    if (i % 5 == 0)
        trpt_record_set(&r->additional_information, "a \"quoted\" \\ value");
    if (i % 7 == 0)
        trpt_record_set(&r->receiving_mx_helo, "h\xc3\xa9llo.example");
}

TEST(view_fast_and_general_paths_agree_on_encoder_output)
{
    trpt_record_view fast, general;
    trpt_record r;
    trpt_buf b;
    int rc, n_ok = 0;

    trpt_record_view_init(&fast);
    trpt_record_view_init(&general);
    trpt_buf_init(&b);
    for (unsigned i = 0; i < 200; i++) {
        make_variant(&r, i);
        trpt_buf_reset(&b);
        ASSERT(trpt_record_to_json(&r, &b) == 0);
        EXPECT(paths_agree(&fast, &general, b.data, b.len, &rc));
        EXPECT_EQ(rc, 0);
        n_ok += rc == 0;
        trpt_record_clear(&r);
    }
    EXPECT_EQ(n_ok, 200);
    trpt_buf_free(&b);
    trpt_record_view_free(&fast);
    trpt_record_view_free(&general);
}

TEST(view_fast_and_general_paths_agree_on_every_mutation)
{
    /* every byte of a record replaced by each of a set of troublemakers,
     * deleted, and the text cut at every length */
    static const char bytes[] = {
        '"', '\\', '@', ' ', ',', ':', '{',  '}',  '[',        ']',
        '0', '9',  'a', '-', '.', 0,   0x1f, 0x7f, (char)0x80, (char)0xc3};
    trpt_record_view fast, general;
    trpt_record r;
    trpt_buf b;
    char *t;
    int rc, refused = 0, accepted = 0;

    trpt_record_view_init(&fast);
    trpt_record_view_init(&general);
    trpt_buf_init(&b);
    make_variant(&r, 11);
    ASSERT(trpt_record_to_json(&r, &b) == 0);
    ASSERT((t = malloc(b.len + 1)) != NULL);
    for (size_t at = 0; at < b.len; at++) {
        for (size_t k = 0; k < sizeof bytes; k++) {
            memcpy(t, b.data, b.len);
            t[at] = bytes[k];
            EXPECT(paths_agree(&fast, &general, t, b.len, &rc));
            refused += rc != 0;
            accepted += rc == 0;
        }
        memcpy(t, b.data, at);
        memcpy(t + at, b.data + at + 1, b.len - at - 1);
        EXPECT(paths_agree(&fast, &general, t, b.len - 1, &rc));
        EXPECT(paths_agree(&fast, &general, b.data, at, &rc));
        EXPECT(rc != 0); /* every proper prefix is refused */
    }
    /* both outcomes were exercised, not just one */
    EXPECT(refused > 1000);
    EXPECT(accepted > 100);
    free(t);
    trpt_record_clear(&r);
    trpt_buf_free(&b);
    trpt_record_view_free(&fast);
    trpt_record_view_free(&general);
}

TEST(view_refuses_what_the_record_decoder_refuses_with_the_same_code)
{
    static const char *const texts[] = {
        "{\"v\":1,\"time\":\"2026-02-29T00:00:00Z\",\"id\":\"a:1.0\","
        "\"policy-domain\":\"a.example\",\"result\":\"success\"}",
        "{\"v\":1,\"time\":\"1969-12-31T23:59:59Z\",\"id\":\"a:1.0\","
        "\"policy-domain\":\"a.example\",\"result\":\"success\"}",
        "{\"v\":1,\"time\":\"2026-01-01T24:00:00Z\",\"id\":\"a:1.0\","
        "\"policy-domain\":\"a.example\",\"result\":\"success\"}",
        "{\"v\":1,\"time\":\"2026-01-01T00:00:00Z\",\"id\":\"a:01.0\","
        "\"policy-domain\":\"a.example\",\"result\":\"success\"}",
        "{\"v\":1,\"time\":\"2026-01-01T00:00:00Z\",\"id\":\"a:1.4294967296\","
        "\"policy-domain\":\"a.example\",\"result\":\"success\"}",
        "{\"v\":1,\"time\":\"2026-01-01T00:00:00Z\",\"id\":"
        "\"a:18446744073709551616.0\",\"policy-domain\":\"a.example\","
        "\"result\":\"success\"}",
        "{\"v\":1,\"time\":\"2026-01-01T00:00:00Z\",\"id\":\"a b:1.0\","
        "\"policy-domain\":\"a.example\",\"result\":\"success\"}",
        "{\"v\":1,\"time\":\"2026-01-01T00:00:00Z\",\"id\":\"a:1.0\","
        "\"policy-domain\":\"-a.example\",\"result\":\"success\"}",
        "{\"v\":1,\"time\":\"2026-01-01T00:00:00Z\",\"id\":\"a:1.0\","
        "\"policy-domain\":\"a.example\",\"result\":\"certificate_expired\"}",
        "{\"v\":1,\"time\":\"2026-01-01T00:00:00Z\",\"id\":\"a:1.0\","
        "\"policy-domain\":\"a.example\",\"policy-type\":\"unknown\","
        "\"result\":\"success\"}",
        "{\"v\":1,\"time\":\"2026-01-01T00:00:00Z\",\"id\":\"a:1.0\","
        "\"policy-domain\":\"a.example\",\"result\":\"success\","
        "\"queue-id\":\"a@b\"}",
        "{\"v\":1,\"time\":\"2026-01-01T00:00:00Z\",\"id\":\"a:1.0\","
        "\"result\":\"success\",\"policy-domain\":\"a.example\"}",
        "{\"v\":1,\"time\":\"2026-01-01T00:00:00Z\",\"id\":\"a:1.0\","
        "\"policy-domain\":\"a.example\",\"result\":\"success\"} ",
    };
    trpt_record_view v;

    trpt_record_view_init(&v);
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        int want = decode_rc(texts[i]);

        EXPECT_EQ(trpt_record_view_from_json(&v, texts[i], strlen(texts[i])),
                  want);
        if (i < 11)
            EXPECT(want < 0);
        else
            EXPECT_EQ(want, 0); /* key order and spacing are free */
    }
    trpt_record_view_free(&v);
}

TEST(view_points_into_the_text_and_keeps_escaped_values_apart)
{
    const char *text =
        "{\"v\":1,\"time\":\"2026-01-01T00:00:01.5Z\",\"id\":\"s:7.2\","
        "\"policy-domain\":\"a.example\",\"result\":\"success\","
        "\"receiving-mx-helo\":\"mx\\u002eexample\",\"queue-id\":\"Q1\"}";
    trpt_record_view v;

    trpt_record_view_init(&v);
    ASSERT(trpt_record_view_from_json(&v, text, strlen(text)) == 0);
    EXPECT(v.policy_domain.p > text && v.policy_domain.p < text + strlen(text));
    EXPECT_EQ(v.policy_domain.len, 9);
    EXPECT(memcmp(v.queue_id.p, "Q1", 2) == 0 && v.queue_id.len == 2);
    /* the escaped value lives in the view's scratch, unescaped */
    EXPECT(v.receiving_mx_helo.p < text ||
           v.receiving_mx_helo.p > text + strlen(text));
    EXPECT(v.receiving_mx_helo.len == 10 &&
           memcmp(v.receiving_mx_helo.p, "mx.example", 10) == 0);
    EXPECT_EQ(v.time_us, T_2026_01_01 + 1500000);
    EXPECT_EQ(v.id_source_len, 1);
    EXPECT_EQ(v.id_offset, 7);
    EXPECT_EQ(v.id_sub, 2);
    EXPECT(v.sending_mta_ip.p == NULL && v.n_mx_hosts == 0);
    /* a refused text leaves the view empty */
    EXPECT(trpt_record_view_from_json(&v, text, 10) < 0);
    EXPECT(v.policy_domain.p == NULL && v.queue_id.p == NULL);
    trpt_record_view_free(&v);
    trpt_record_view_free(NULL);
}

TEST(view_of_a_record_borrows_its_strings_and_parses_its_id)
{
    trpt_record r;
    trpt_record_view v;

    make_full(&r);
    trpt_record_view_init(&v);
    ASSERT(trpt_record_view_from_record(&v, &r) == 0);
    EXPECT(v.policy_domain.p == r.policy_domain);
    EXPECT_EQ(v.policy_domain.len, strlen(r.policy_domain));
    EXPECT_EQ(v.n_policy_strings, 2);
    EXPECT(v.mx_hosts[0].p == r.mx_hosts.v[0]);
    EXPECT_EQ(v.id_source_len, strlen("file-00112233aabbccdd"));
    EXPECT_EQ(v.id_offset, 4096);
    EXPECT_EQ(v.result, TRPT_RESULT_VALIDATION_FAILURE);
    trpt_record_clear(&r);
    trpt_record_view_free(&v);
}

/* The domain rules written the plain way (check_domain()'s documented
 * rules), to cross-check its vectorized short-domain path. */
static int reference_domain_ok(const char *d, size_t len)
{
    size_t label = 0;

    if (len == 0 || len > 253)
        return 0;
    for (size_t i = 0; i <= len; i++) {
        char c = i < len ? d[i] : '.';

        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')
            continue;
        if (c == '-') {
            if (i == label)
                return 0;
            continue;
        }
        if (c != '.' || i == label || i - label > 63 || d[i - 1] == '-')
            return 0;
        label = i + 1;
    }
    return 1;
}

TEST(domain_check_agrees_with_the_plain_rules_on_random_domains)
{
    static const char alphabet[] = "az09_-.-..A Z\x80\xff/";
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    char d[80], json[256];
    trpt_record r;
    trpt_record_view v;
    unsigned ok = 0;

    make_minimal(&r);
    trpt_record_view_init(&v);
    for (int n = 0; n < 200000; n++) {
        size_t len;
        int want, got, via_json;

        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        len = (size_t)(seed >> 58) + (seed >> 40 & 1 ? 0 : 8); /* 0..71 */
        for (size_t i = 0; i < len; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            /* mostly letters, so that valid domains come up often */
            d[i] = (seed >> 60) < 11
                       ? "abcxyz019_"[(seed >> 33) % 10]
                       : alphabet[(seed >> 33) % (sizeof alphabet - 1)];
        }
        d[len] = '\0';
        want = reference_domain_ok(d, len);
        ok += (unsigned)want;
        trpt_record_set(&r.policy_domain, d);
        got = trpt_record_validate(&r) == 0;
        EXPECT_EQ(got, want);
        snprintf(json, sizeof json,
                 "{\"v\":1,\"time\":\"2026-01-01T00:00:00Z\","
                 "\"id\":\"s:1.0\",\"policy-domain\":\"%s\","
                 "\"result\":\"success\"}",
                 d);
        via_json = trpt_record_view_from_json(&v, json, strlen(json)) == 0;
        if (!strchr(d, '\x80') && !strchr(d, '\xff'))
            EXPECT_EQ(via_json, want);
        else
            EXPECT_EQ(via_json, 0); /* invalid UTF-8 anyway */
    }
    EXPECT(ok > 1000); /* the valid side was exercised too */
    trpt_record_clear(&r);
    trpt_record_view_free(&v);
}

/* MINIMAL_JSON with another event id (written as is, unescaped). */
static size_t minimal_with_id(char *buf, size_t cap, const char *id)
{
    int n =
        snprintf(buf, cap,
                 "{\"v\":1,\"time\":\"2026-01-01T00:00:00Z\",\"id\":\"%s\","
                 "\"policy-domain\":\"example.com\",\"result\":\"success\"}",
                 id);

    return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

/* The view parses the numbers of an id 8 digits a step: at every length
 * of source, offset and sub part, it must read what trpt_event_id_parse()
 * reads and refuse what it refuses, with its code, on both paths. */
TEST(view_event_id_numbers_agree_with_the_id_parser_at_every_length)
{
    static const char *const numbers[] = {
        "0",
        "00",
        "01",
        "7",
        "10",
        "12345678",
        "123456789",
        "1234567890123",
        "9999999999999999999",
        "10000000000000000000",
        "18446744073709551615",
        "18446744073709551616",
        "99999999999999999999",
        "123456789012345678901",
        "4294967295",
        "4294967296",
        "1a",
        "12345678x",
        "",
        "-1",
        "+1",
        "1 ",
        "1.",
    };
    static const char *const sources[] = {"a",   "src", "f-0123456789abcdef",
                                          "s:x", "s@x", ""};
    trpt_record_view fast, general;
    char id[128], json[512];
    int rc, accepted = 0, refused = 0;

    trpt_record_view_init(&fast);
    trpt_record_view_init(&general);
    for (size_t s = 0; s < sizeof sources / sizeof *sources; s++)
        for (size_t o = 0; o < sizeof numbers / sizeof *numbers; o++)
            for (size_t u = 0; u < sizeof numbers / sizeof *numbers; u++) {
                const char *src;
                size_t src_len, len;
                uint64_t off = 0;
                unsigned sub = 0;
                int want;

                snprintf(id, sizeof id, "%s:%s.%s", sources[s], numbers[o],
                         numbers[u]);
                want = trpt_event_id_parse(id, &src, &src_len, &off, &sub);
                if (strchr(sources[s], '@'))
                    want = -EINVAL; /* '@' is refused in every id */
                ASSERT((len = minimal_with_id(json, sizeof json, id)) > 0);
                EXPECT(paths_agree(&fast, &general, json, len, &rc));
                if (rc != want)
                    fprintf(stderr, "  id %s: %d, parser %d\n", id, rc, want);
                EXPECT_EQ(rc, want);
                if (rc == 0) {
                    EXPECT_EQ(fast.id_offset, off);
                    EXPECT_EQ(fast.id_sub, sub);
                    EXPECT_EQ(fast.id_source_len, src_len);
                }
                accepted += rc == 0;
                refused += rc != 0;
            }
    EXPECT(accepted > 100);
    EXPECT(refused > 1000);
    trpt_record_view_free(&fast);
    trpt_record_view_free(&general);
}

/* The fast path tries the keys in the encoder's order; whatever else
 * (another order, a repeated or unknown key, '@' where it is not allowed)
 * must come out as the general scanner has it. */
TEST(view_keys_out_of_encoder_order_decode_as_the_general_scanner_has_them)
{
    static const struct {
        const char *json;
        int rc;
    } cases[] = {
        {"{\"time\":\"2026-01-01T00:00:00Z\",\"v\":1,\"id\":\"s:1.0\","
         "\"policy-domain\":\"example.com\",\"result\":\"success\"}",
         0},
        {"{\"v\":1,\"time\":\"2026-01-01T00:00:00Z\",\"id\":\"s:1.0\","
         "\"result\":\"success\",\"policy-domain\":\"example.com\"}",
         0},
        {"{\"v\":1,\"time\":\"2026-01-01T00:00:00Z\",\"id\":\"s:1.0\","
         "\"policy-domain\":\"example.com\",\"zz\":\"x\",\"result\":"
         "\"success\"}",
         0},
        {"{\"v\":1,\"time\":\"2026-01-01T00:00:00Z\",\"id\":\"s:1.0\","
         "\"policy-domain\":\"example.com\",\"result\":\"success\","
         "\"tlsrpt-record\":\"v=TLSRPTv1; rua=mailto:r@example.com\"}",
         0},
        {"{\"v\":1,\"time\":\"2026-01-01T00:00:00Z\",\"id\":\"s:1.0\","
         "\"policy-domain\":\"example.com\",\"tlsrpt-record\":\"a@b\","
         "\"result\":\"success\",\"queue-id\":\"q@x\"}",
         -EINVAL},
        {"{\"v\":1,\"v\":1,\"time\":\"2026-01-01T00:00:00Z\",\"id\":\"s:1.0\","
         "\"policy-domain\":\"example.com\",\"result\":\"success\"}",
         -EINVAL},
        {"{\"v\":1,\"time\":\"2026-01-01T00:00:00Z\",\"id\":\"s:1.0\","
         "\"policy-domain\":\"example.com\",\"result\":\"success\","
         "\"result\":\"success\"}",
         -EINVAL},
        {"{\"v\":1,\"time\":\"2026-01-01T00:00:00Z\",\"id\":\"s:1.0\","
         "\"policy-domain\":\"example.com\",\"result\":\"success\",}",
         -EINVAL},
        {"{\"v\":1,\"time\":\"2026-01-01T00:00:00Z\",\"id\":\"s:1.0\","
         "\"policy-domain\":\"example.com\",\"result\":\"success\"}}",
         -EINVAL},
        {"{\"v\":1,\"time\":\"2026-01-01T00:00:00Z\",\"id\":\"s:1.0\","
         "\"policy-domain\":\"example.com\",\"resul\":\"success\"}",
         -EINVAL},
        {"{\"v\":1,\"time\":\"2026-01-01T00:00:00Z\",\"id\":\"s:1.0\","
         "\"policy-domain\":\"example.com\",\"results\":\"success\"}",
         -EINVAL},
        {"{}", -EINVAL},
    };
    trpt_record_view fast, general;
    int rc;

    trpt_record_view_init(&fast);
    trpt_record_view_init(&general);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        EXPECT(paths_agree(&fast, &general, cases[i].json,
                           strlen(cases[i].json), &rc));
        EXPECT_EQ(rc, cases[i].rc);
        EXPECT_EQ(decode_rc(cases[i].json), cases[i].rc);
    }
    trpt_record_view_free(&fast);
    trpt_record_view_free(&general);
}

/* Every result and policy type name reads as its value; a name one byte
 * short or long, or of another case, is refused by both paths. */
TEST(view_reads_every_result_and_policy_type_name_and_no_near_miss)
{
    trpt_record_view fast, general;
    char json[512], name[64];
    int rc;

    trpt_record_view_init(&fast);
    trpt_record_view_init(&general);
    for (int i = 0; i < TRPT_RESULT_COUNT; i++) {
        for (int t = 1; t < TRPT_POLICY_COUNT; t++) {
            int n = snprintf(json, sizeof json,
                             "{\"v\":1,\"time\":\"2026-01-01T00:00:00Z\","
                             "\"id\":\"s:1.0\",\"policy-domain\":\"example."
                             "com\",\"policy-type\":\"%s\",\"result\":\"%s\"}",
                             trpt_policy_type_name((trpt_policy_type)t),
                             trpt_result_name((trpt_result)i));

            EXPECT(paths_agree(&fast, &general, json, (size_t)n, &rc));
            EXPECT_EQ(rc, 0);
            EXPECT_EQ(fast.result, (trpt_result)i);
            EXPECT_EQ(fast.policy_type, (trpt_policy_type)t);
        }
        for (int miss = 0; miss < 3; miss++) {
            const char *known = trpt_result_name((trpt_result)i);
            size_t k = strlen(known);

            snprintf(name, sizeof name, "%s", known);
            if (miss == 0)
                name[k - 1] = '\0';
            else if (miss == 1)
                snprintf(name, sizeof name, "%sx", known);
            else
                name[0] = (char)(name[0] - 'a' + 'A');
            snprintf(json, sizeof json,
                     "{\"v\":1,\"time\":\"2026-01-01T00:00:00Z\","
                     "\"id\":\"s:1.0\",\"policy-domain\":\"example.com\","
                     "\"result\":\"%s\"}",
                     name);
            EXPECT(paths_agree(&fast, &general, json, strlen(json), &rc));
            EXPECT_EQ(rc, -EINVAL);
        }
    }
    for (const char *const *bad =
             (const char *const[]){"", "st", "stsx", "STS", "unknown", NULL};
         *bad; bad++) {
        snprintf(json, sizeof json,
                 "{\"v\":1,\"time\":\"2026-01-01T00:00:00Z\",\"id\":\"s:1.0\","
                 "\"policy-domain\":\"example.com\",\"policy-type\":\"%s\","
                 "\"result\":\"success\"}",
                 *bad);
        EXPECT(paths_agree(&fast, &general, json, strlen(json), &rc));
        EXPECT_EQ(rc, -EINVAL);
    }
    trpt_record_view_free(&fast);
    trpt_record_view_free(&general);
}
