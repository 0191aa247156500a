/* test_datagram.c - the libtlsrpt datagram decoder (core/datagram.c) on
 * the real datagrams of the Postfix 3.10 corpus and on hostile input. */
#include <errno.h>

#include "datagram.h"
#include "harness.h"

#define SOURCE "dg-0123456789abcdef"

/* Records the callback saw, copied. */
typedef struct seen {
    trpt_record rec[32];
    int n;
    int fail_with; /* callback result to return, 0 = accept */
} seen;

static int collect(void *ctx, const trpt_record *r)
{
    seen *s = ctx;

    if (s->fail_with)
        return s->fail_with;
    if (s->n < 32 && trpt_record_copy(&s->rec[s->n], r) == 0)
        s->n++;
    return 0;
}

static void seen_clear(seen *s)
{
    for (int i = 0; i < s->n; i++)
        trpt_record_clear(&s->rec[i]);
    s->n = 0;
}

static trpt_datagram_opts opts(uint64_t seq)
{
    return (trpt_datagram_opts){.source = SOURCE,
                                .seq = seq,
                                .time_us = 1795867052000000LL,
                                .host = "sender"};
}

/* Decodes a string; returns the decode result, *why the reason. */
static int decode_str(trpt_datagram_decoder *d, const char *s, seen *out,
                      trpt_datagram_error *why)
{
    trpt_datagram_opts o = opts(1);

    *why = TRPT_DGERR_COUNT;
    return trpt_datagram_decode(d, s, strlen(s), &o, collect, out, why);
}

/* Expects refusal of s with reason e and no record emitted. */
static void expect_refused(const char *s, trpt_datagram_error e)
{
    trpt_datagram_decoder *d;
    trpt_datagram_error why;
    seen out = {0};
    int r;

    if (trpt_datagram_decoder_new(&d) < 0)
        abort();
    r = decode_str(d, s, &out, &why);
    if (r != (e == TRPT_DGERR_OVERSIZE ? -E2BIG : -EINVAL) || why != e ||
        out.n != 0) {
        fprintf(stderr, "  %s\n  -> %d, reason %s (expected %s)\n", s, r,
                trpt_datagram_error_name(why), trpt_datagram_error_name(e));
        EXPECT(0);
    }
    EXPECT_EQ(trpt_datagram_stats_get(d)->errors[e], 1);
    seen_clear(&out);
    trpt_datagram_decoder_free(d);
}

#define BODY   "\"d\": \"a.test\",\"pr\": \"v=TLSRPTv1; rua=mailto:r@a.test\","
#define PRE    "{" BODY
#define POL0   "\"policies\":[{\"policy-type\":9,\"policy-domain\": \"a.test\""
#define POL_OK POL0 ",\"t\":0,\"f\":0}]}"
#define OK0    PRE POL_OK

/* Reads the corpus datagrams, one per line. */
static char **corpus_lines(size_t *n)
{
    FILE *f =
        fopen(shared_path("corpus/postfix-3.10-tlsrpt/datagrams.ndjson"), "r");
    char **v = NULL, *line = NULL;
    size_t cap = 0;
    ssize_t len;

    *n = 0;
    if (!f)
        return NULL;
    while ((len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] == '\n')
            line[--len] = '\0';
        v = realloc(v, (*n + 1) * sizeof *v);
        v[(*n)++] = strdup(line);
    }
    free(line);
    fclose(f);
    return v;
}

static void free_lines(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

TEST(every_corpus_datagram_gives_one_record_with_postfix_verdict)
{
    size_t n;
    char **lines = corpus_lines(&n);
    trpt_datagram_decoder *d;
    int results[TRPT_RESULT_COUNT] = {0};

    ASSERT(lines && n == 125);
    ASSERT(trpt_datagram_decoder_new(&d) == 0);
    for (size_t i = 0; i < n; i++) {
        trpt_datagram_opts o = opts(i + 1);
        trpt_datagram_error why;
        seen s = {0};
        int r = trpt_datagram_decode(d, lines[i], strlen(lines[i]), &o, collect,
                                     &s, &why);

        EXPECT_EQ(r, 1);
        if (r == 1) {
            results[s.rec[0].result]++;
            EXPECT(s.rec[0].policy_type != TRPT_POLICY_UNKNOWN);
            EXPECT(trpt_record_validate(&s.rec[0]) == 0);
        } else {
            fprintf(stderr, "  line %zu: %s\n", i + 1,
                    trpt_datagram_error_name(why));
        }
        seen_clear(&s);
    }
    /* independently counted from the file (tests/e2e/report_counts.py) */
    EXPECT_EQ(results[TRPT_RESULT_SUCCESS], 35);
    EXPECT_EQ(results[TRPT_RESULT_VALIDATION_FAILURE], 27);
    EXPECT_EQ(results[TRPT_RESULT_CERTIFICATE_EXPIRED], 14);
    EXPECT_EQ(results[TRPT_RESULT_CERTIFICATE_HOST_MISMATCH], 14);
    EXPECT_EQ(results[TRPT_RESULT_CERTIFICATE_NOT_TRUSTED], 7);
    EXPECT_EQ(results[TRPT_RESULT_STARTTLS_NOT_SUPPORTED], 7);
    EXPECT_EQ(results[TRPT_RESULT_STS_WEBPKI_INVALID], 6);
    EXPECT_EQ(results[TRPT_RESULT_STS_POLICY_FETCH_ERROR], 6);
    EXPECT_EQ(results[TRPT_RESULT_STS_POLICY_INVALID], 6);
    EXPECT_EQ(results[TRPT_RESULT_TLSA_INVALID], 3);
    EXPECT_EQ(trpt_datagram_stats_get(d)->records, 125);
    trpt_datagram_decoder_free(d);
    free_lines(lines, n);
}

TEST(sts_failure_carries_policy_strings_mx_patterns_record_and_helo_name)
{
    size_t n;
    char **lines = corpus_lines(&n);
    trpt_datagram_decoder *d;
    trpt_datagram_error why;
    seen s = {0};
    trpt_record *r = &s.rec[0];

    ASSERT(lines && n >= 55);
    ASSERT(trpt_datagram_decoder_new(&d) == 0);
    EXPECT_EQ(decode_str(d, lines[54], &s, &why), 1); /* seq=55, stsfail */
    ASSERT(s.n == 1);
    EXPECT_STREQ(r->policy_domain, "stsfail.test");
    EXPECT_EQ(r->policy_type, TRPT_POLICY_STS);
    ASSERT(r->policy_strings.n == 4);
    EXPECT_STREQ(r->policy_strings.v[0], "version: STSv1");
    EXPECT_STREQ(r->policy_strings.v[3], "max_age: 86400");
    ASSERT(r->mx_hosts.n == 1);
    EXPECT_STREQ(r->mx_hosts.v[0], "mx.stsfail.test");
    EXPECT_STREQ(r->tlsrpt_record,
                 "v=TLSRPTv1; rua=mailto:tlsrpt@stsfail.test");
    EXPECT_EQ(r->result, TRPT_RESULT_STS_WEBPKI_INVALID);
    EXPECT_STREQ(r->sending_mta_ip, "127.0.0.1");
    EXPECT_STREQ(r->receiving_mx_hostname, "mx.stsfail.test");
    EXPECT_STREQ(r->receiving_ip, "127.0.31.11");
    EXPECT_STREQ(r->receiving_mx_helo, "mx.valid.test");
    EXPECT_STREQ(r->mta, "postfix");
    EXPECT_STREQ(r->reporting_host, "sender");
    EXPECT_STREQ(r->event_id, SOURCE ":1.0");
    EXPECT_EQ(r->time_us, 1795867052000000LL);
    seen_clear(&s);
    trpt_datagram_decoder_free(d);
    free_lines(lines, n);
}

TEST(tlsa_policy_domain_is_the_mx_host_libtlsrpt_sent)
{
    size_t n;
    char **lines = corpus_lines(&n);
    trpt_datagram_decoder *d;
    trpt_datagram_error why;
    seen s = {0};

    ASSERT(lines && n >= 37);
    ASSERT(trpt_datagram_decoder_new(&d) == 0);
    EXPECT_EQ(decode_str(d, lines[36], &s, &why), 1); /* dane.test */
    ASSERT(s.n == 1);
    EXPECT_STREQ(s.rec[0].policy_domain, "mx.dane.test");
    EXPECT_EQ(s.rec[0].policy_type, TRPT_POLICY_TLSA);
    ASSERT(s.rec[0].policy_strings.n == 1);
    EXPECT(strncmp(s.rec[0].policy_strings.v[0], "3 1 1 6700642B", 14) == 0);
    EXPECT_EQ(s.rec[0].result, TRPT_RESULT_SUCCESS);
    seen_clear(&s);
    trpt_datagram_decoder_free(d);
    free_lines(lines, n);
}

TEST(dpv_form_of_libtlsrpt_051_decodes_like_the_050_form)
{
    trpt_datagram_decoder *d;
    trpt_datagram_error why;
    seen a = {0}, b = {0}, c = {0};
    const char *with_dpv =
        "{\"dpv\": \"1\",\"d\": \"a.test\",\"pr\": \"v=TLSRPTv1; "
        "rua=mailto:r@a.test\",\"policies\":[{\"policy-type\":9,"
        "\"policy-domain\": \"a.test\",\"t\":0,\"f\":0}]}";
    const char *dpv_number =
        "{\"dpv\":1,\"d\":\"a.test\",\"pr\":\"v=TLSRPTv1; "
        "rua=mailto:r@a.test\",\"policies\":[{\"policy-type\":9,"
        "\"policy-domain\":\"a.test\",\"t\":0,\"f\":0}]}";
    trpt_buf j1, j2;

    ASSERT(trpt_datagram_decoder_new(&d) == 0);
    EXPECT_EQ(decode_str(d, OK0, &a, &why), 1);
    EXPECT_EQ(decode_str(d, with_dpv, &b, &why), 1);
    EXPECT_EQ(decode_str(d, dpv_number, &c, &why), 1);
    ASSERT(a.n == 1 && b.n == 1 && c.n == 1);
    trpt_buf_init(&j1);
    trpt_buf_init(&j2);
    EXPECT(trpt_record_to_json(&a.rec[0], &j1) == 0);
    EXPECT(trpt_record_to_json(&b.rec[0], &j2) == 0);
    EXPECT(j1.len == j2.len && memcmp(j1.data, j2.data, j1.len) == 0);
    trpt_buf_free(&j1);
    trpt_buf_free(&j2);
    seen_clear(&a);
    seen_clear(&b);
    seen_clear(&c);
    trpt_datagram_decoder_free(d);
    expect_refused("{\"dpv\": \"2\"," BODY POL_OK, TRPT_DGERR_BAD_VERSION);
}

TEST(ehlo_reply_is_reduced_to_the_announced_host_name)
{
    char out[256];

    EXPECT(trpt_datagram_helo_name("250-mx.a.test\r\n250 STARTTLS", 27, out,
                                   sizeof out) == 0);
    EXPECT_STREQ(out, "mx.a.test");
    EXPECT(trpt_datagram_helo_name("250 mx.b.test Hello there", 25, out,
                                   sizeof out) == 0);
    EXPECT_STREQ(out, "mx.b.test");
    EXPECT(trpt_datagram_helo_name("mx.c.test", 9, out, sizeof out) == 0);
    EXPECT_STREQ(out, "mx.c.test");
    EXPECT(trpt_datagram_helo_name("250", 3, out, sizeof out) == -EINVAL);
    EXPECT(trpt_datagram_helo_name("250-\r\n", 6, out, sizeof out) == -EINVAL);
    EXPECT(trpt_datagram_helo_name("", 0, out, sizeof out) == -EINVAL);
    EXPECT(trpt_datagram_helo_name("250-abcdefgh", 12, out, 4) == -EINVAL);
}

TEST(helo_with_at_sign_or_control_bytes_is_left_out_but_session_counts)
{
    trpt_datagram_decoder *d;
    trpt_datagram_error why;
    seen s = {0};

    ASSERT(trpt_datagram_decoder_new(&d) == 0);
    EXPECT_EQ(decode_str(d,
                         PRE POL0 ",\"failure-details\":[{\"c\":204,\"n\": "
                                  "\"mx.a.test\",\"h\": \"250-u@x\\r\\n\"}],"
                                  "\"t\":1,\"f\":1}]}",
                         &s, &why),
              1);
    ASSERT(s.n == 1);
    EXPECT(s.rec[0].receiving_mx_helo == NULL);
    EXPECT_EQ(s.rec[0].result, TRPT_RESULT_CERTIFICATE_EXPIRED);
    seen_clear(&s);
    trpt_datagram_decoder_free(d);
}

TEST(first_failure_detail_decides_and_extra_details_are_counted)
{
    trpt_datagram_decoder *d;
    trpt_datagram_error why;
    seen s = {0};

    ASSERT(trpt_datagram_decoder_new(&d) == 0);
    EXPECT_EQ(decode_str(d,
                         PRE POL0 ",\"failure-details\":[{\"c\":202,\"f\": "
                                  "\"first\"},{\"c\":204}],\"t\":2,\"f\":1}]}",
                         &s, &why),
              1);
    ASSERT(s.n == 1);
    EXPECT_EQ(s.rec[0].result, TRPT_RESULT_CERTIFICATE_HOST_MISMATCH);
    EXPECT_STREQ(s.rec[0].failure_reason_code, "first");
    EXPECT_EQ(trpt_datagram_stats_get(d)->details_ignored, 1);
    seen_clear(&s);
    /* success: details do not turn it into a failure */
    EXPECT_EQ(decode_str(d,
                         PRE POL0 ",\"failure-details\":[{\"c\":202}],"
                                  "\"t\":1,\"f\":0}]}",
                         &s, &why),
              1);
    EXPECT_EQ(s.rec[0].result, TRPT_RESULT_SUCCESS);
    EXPECT(s.rec[0].receiving_mx_hostname == NULL);
    EXPECT_EQ(trpt_datagram_stats_get(d)->details_ignored, 2);
    seen_clear(&s);
    /* failure without any detail: a general failure (RFC 8460 §4.3) */
    EXPECT_EQ(decode_str(d, PRE POL0 ",\"t\":0,\"f\":1}]}", &s, &why), 1);
    EXPECT_EQ(s.rec[0].result, TRPT_RESULT_VALIDATION_FAILURE);
    EXPECT_EQ(trpt_datagram_stats_get(d)->failures_without_detail, 1);
    seen_clear(&s);
    trpt_datagram_decoder_free(d);
}

TEST(several_policies_give_records_with_growing_sub_ids)
{
    trpt_datagram_decoder *d;
    trpt_datagram_error why;
    seen s = {0};
    trpt_datagram_opts o = opts(42);
    const char *dg =
        "{\"d\":\"A.Test.\",\"policies\":[{\"policy-type\":2,\"f\":0},"
        "{\"policy-type\":1,\"policy-domain\":\"MX.A.test\",\"f\":1,"
        "\"failure-details\":[{\"c\":304,\"f\":\"all-TLSA-records-unusable\"}"
        "]}],\"future\":{\"x\":[1,2.5e3,true,null,\"y\"]}}";

    ASSERT(trpt_datagram_decoder_new(&d) == 0);
    EXPECT_EQ(trpt_datagram_decode(d, dg, strlen(dg), &o, collect, &s, &why),
              2);
    ASSERT(s.n == 2);
    EXPECT_STREQ(s.rec[0].event_id, SOURCE ":42.0");
    EXPECT_STREQ(s.rec[1].event_id, SOURCE ":42.1");
    EXPECT_STREQ(s.rec[0].policy_domain, "a.test"); /* from "d" */
    EXPECT_STREQ(s.rec[1].policy_domain, "mx.a.test");
    EXPECT_EQ(s.rec[1].result, TRPT_RESULT_TLSA_INVALID);
    EXPECT(s.rec[0].tlsrpt_record == NULL); /* no "pr": absent */
    seen_clear(&s);
    trpt_datagram_decoder_free(d);
}

TEST(all_or_nothing_a_bad_second_policy_refuses_the_first_too)
{
    expect_refused("{\"d\":\"a.test\",\"policies\":[{\"policy-type\":9,\"f\":"
                   "0},{\"policy-type\":7,\"f\":0}]}",
                   TRPT_DGERR_BAD_POLICY_TYPE);
}

TEST(syntax_errors_and_truncation_are_not_json)
{
    expect_refused("", TRPT_DGERR_NOT_JSON);
    expect_refused("   ", TRPT_DGERR_NOT_JSON);
    expect_refused("{", TRPT_DGERR_NOT_JSON);
    expect_refused(OK0 "x", TRPT_DGERR_NOT_JSON);
    expect_refused(OK0 "{}", TRPT_DGERR_NOT_JSON);
    expect_refused("{\"d\" \"a.test\"}", TRPT_DGERR_NOT_JSON);
    expect_refused("{\"d\":\"a\\qb\"}", TRPT_DGERR_NOT_JSON);
    expect_refused("{\"x\":01," BODY POL_OK, TRPT_DGERR_NOT_JSON);
    expect_refused("{\"x\":1.," BODY POL_OK, TRPT_DGERR_NOT_JSON);
    expect_refused("{\"x\":tru," BODY POL_OK, TRPT_DGERR_NOT_JSON);
    expect_refused("{\"d\":\"a\tb\"}", TRPT_DGERR_NOT_JSON);
    expect_refused("{\"x\":[1,]," BODY POL_OK, TRPT_DGERR_NOT_JSON);
}

TEST(every_prefix_of_a_real_datagram_is_refused_without_a_crash)
{
    size_t n;
    char **lines = corpus_lines(&n);
    trpt_datagram_decoder *d;
    int accepted = 0;

    ASSERT(lines && n >= 106);
    ASSERT(trpt_datagram_decoder_new(&d) == 0);
    for (size_t cut = 0; cut < strlen(lines[105]); cut++) {
        trpt_datagram_opts o = opts(1);
        trpt_datagram_error why;
        seen s = {0};
        /* a heap copy of exactly `cut` bytes, so ASan sees over-reads */
        char *p = malloc(cut ? cut : 1);

        memcpy(p, lines[105], cut);
        accepted += trpt_datagram_decode(d, p, cut, &o, collect, &s, &why) >= 0;
        seen_clear(&s);
        free(p);
    }
    EXPECT_EQ(accepted, 0);
    EXPECT_EQ(trpt_datagram_stats_get(d)->records, 0);
    trpt_datagram_decoder_free(d);
    free_lines(lines, n);
}

TEST(nul_control_characters_and_invalid_utf8_are_bad_text)
{
    trpt_datagram_decoder *d;
    trpt_datagram_error why;
    trpt_datagram_opts o = opts(1);
    seen s = {0};
    char with_nul[] = "{\"d\":\"a.test\",\"policies\":[{\"policy-type\":9,"
                      "\"policy-domain\":\"a.te\0st\",\"f\":0}]}";

    ASSERT(trpt_datagram_decoder_new(&d) == 0);
    /* a raw NUL inside a string is a raw control character: not JSON */
    EXPECT_EQ(trpt_datagram_decode(d, with_nul, sizeof with_nul - 1, &o,
                                   collect, &s, &why),
              -EINVAL);
    EXPECT_EQ(why, TRPT_DGERR_NOT_JSON);
    trpt_datagram_decoder_free(d);
    expect_refused(
        "{\"d\":\"a\\u0000b\",\"policies\":[{\"policy-type\":9,\"f\":0}]}",
        TRPT_DGERR_BAD_TEXT);
    expect_refused(PRE POL0 ",\"failure-details\":[{\"c\":201,\"n\":\"a\\u0001"
                            "\"}],\"f\":1}]}",
                   TRPT_DGERR_BAD_TEXT);
    expect_refused(PRE POL0 ",\"failure-details\":[{\"c\":201,\"n\":\"a\xc2\x85"
                            "\"}],\"f\":1}]}",
                   TRPT_DGERR_BAD_TEXT); /* C1 control NEL */
    expect_refused(
        "{\"d\":\"a\xff\",\"policies\":[{\"policy-type\":9,\"f\":0}]}",
        TRPT_DGERR_BAD_TEXT);
    expect_refused(
        "{\"d\":\"a\xc0\xaf\",\"policies\":[{\"policy-type\":9,\"f\":0}]}",
        TRPT_DGERR_BAD_TEXT);
    expect_refused(
        "{\"d\":\"a\xed\xa0\x80\",\"policies\":[{\"policy-type\":9,\"f\":0}]}",
        TRPT_DGERR_BAD_TEXT);
    expect_refused(
        "{\"d\":\"a\xe2\x82\",\"policies\":[{\"policy-type\":9,\"f\":0}]}",
        TRPT_DGERR_BAD_TEXT);
    expect_refused(
        "{\"d\":\"\\ud800x\",\"policies\":[{\"policy-type\":9,\"f\":0}]}",
        TRPT_DGERR_BAD_TEXT);
    expect_refused(
        "{\"d\":\"\\udc00\",\"policies\":[{\"policy-type\":9,\"f\":0}]}",
        TRPT_DGERR_BAD_TEXT);
}

TEST(wrong_types_duplicates_and_missing_keys_are_refused_by_reason)
{
    expect_refused("[1,2]", TRPT_DGERR_WRONG_TYPE);
    expect_refused("{\"d\":5,\"policies\":[{\"policy-type\":9,\"f\":0}]}",
                   TRPT_DGERR_WRONG_TYPE);
    expect_refused("{\"d\":\"a.test\",\"policies\":{}}", TRPT_DGERR_WRONG_TYPE);
    expect_refused("{\"d\":\"a.test\",\"policies\":[{\"policy-type\":\"9\","
                   "\"f\":0}]}",
                   TRPT_DGERR_WRONG_TYPE);
    expect_refused("{\"d\":\"a.test\",\"policies\":[{\"policy-type\":9.0,"
                   "\"f\":0}]}",
                   TRPT_DGERR_WRONG_TYPE);
    expect_refused(PRE POL0 ",\"mx-host\":\"mx.a.test\",\"f\":0}]}",
                   TRPT_DGERR_WRONG_TYPE);
    expect_refused(PRE POL0 ",\"mx-host\":[1],\"f\":0}]}",
                   TRPT_DGERR_WRONG_TYPE);
    expect_refused(PRE POL0 ",\"failure-details\":[{\"c\":\"201\"}],\"f\":1}]}",
                   TRPT_DGERR_WRONG_TYPE);
    expect_refused("{\"d\":\"a.test\",\"d\":\"b.test\",\"policies\":[{\"policy-"
                   "type\":9,\"f\":0}]}",
                   TRPT_DGERR_DUPLICATE_KEY);
    expect_refused(PRE POL0 ",\"f\":0,\"f\":1}]}", TRPT_DGERR_DUPLICATE_KEY);
    expect_refused("{\"d\":\"a.test\"}", TRPT_DGERR_MISSING_KEY);
    expect_refused("{\"d\":\"a.test\",\"policies\":[]}",
                   TRPT_DGERR_MISSING_KEY);
    expect_refused("{\"d\":\"a.test\",\"policies\":[{\"f\":0}]}",
                   TRPT_DGERR_MISSING_KEY);
    expect_refused("{\"d\":\"a.test\",\"policies\":[{\"policy-type\":9}]}",
                   TRPT_DGERR_MISSING_KEY);
    expect_refused("{\"policies\":[{\"policy-type\":9,\"f\":0}]}",
                   TRPT_DGERR_MISSING_KEY);
    expect_refused(PRE POL0 ",\"failure-details\":[{\"n\":\"mx\"}],\"f\":1}]}",
                   TRPT_DGERR_MISSING_KEY);
}

TEST(unknown_codes_policy_types_and_final_values_are_refused)
{
    expect_refused(PRE POL0 ",\"failure-details\":[{\"c\":999}],\"f\":1}]}",
                   TRPT_DGERR_BAD_CODE);
    expect_refused(PRE POL0 ",\"failure-details\":[{\"c\":200}],\"f\":1}]}",
                   TRPT_DGERR_BAD_CODE);
    expect_refused(PRE POL0 ",\"failure-details\":[{\"c\":0}],\"f\":1}]}",
                   TRPT_DGERR_BAD_CODE);
    expect_refused(PRE POL0 ",\"failure-details\":[{\"c\":-201}],\"f\":1}]}",
                   TRPT_DGERR_BAD_CODE);
    expect_refused(PRE POL0 ",\"failure-details\":[{\"c\":"
                            "2010000000000000000000000000000}],\"f\":1}]}",
                   TRPT_DGERR_BAD_CODE);
    /* a later detail with an unknown code spoils the datagram too */
    expect_refused(PRE POL0 ",\"failure-details\":[{\"c\":201},{\"c\":901}],"
                            "\"f\":1}]}",
                   TRPT_DGERR_BAD_CODE);
    expect_refused("{\"d\":\"a.test\",\"policies\":[{\"policy-type\":3,\"f\":"
                   "0}]}",
                   TRPT_DGERR_BAD_POLICY_TYPE);
    expect_refused("{\"d\":\"a.test\",\"policies\":[{\"policy-type\":0,\"f\":"
                   "0}]}",
                   TRPT_DGERR_BAD_POLICY_TYPE);
    expect_refused("{\"d\":\"a.test\",\"policies\":[{\"policy-type\":"
                   "99999999999999999999,\"f\":0}]}",
                   TRPT_DGERR_BAD_POLICY_TYPE);
    expect_refused("{\"d\":\"a.test\",\"policies\":[{\"policy-type\":9,\"f\":"
                   "2}]}",
                   TRPT_DGERR_BAD_FINAL);
    expect_refused("{\"d\":\"a.test\",\"policies\":[{\"policy-type\":9,\"f\":"
                   "901}]}",
                   TRPT_DGERR_BAD_FINAL);
}

TEST(bad_domains_long_strings_and_too_many_entries_are_refused)
{
    char big[12000], *p;

    expect_refused("{\"d\":\"a..test\",\"policies\":[{\"policy-type\":9,\"f\":"
                   "0}]}",
                   TRPT_DGERR_BAD_DOMAIN);
    expect_refused("{\"d\":\"-a.test\",\"policies\":[{\"policy-type\":9,\"f\":"
                   "0}]}",
                   TRPT_DGERR_BAD_DOMAIN);
    expect_refused("{\"d\":\"a test\",\"policies\":[{\"policy-type\":9,\"f\":"
                   "0}]}",
                   TRPT_DGERR_BAD_DOMAIN);
    expect_refused("{\"d\":\"\",\"policies\":[{\"policy-type\":9,\"f\":0}]}",
                   TRPT_DGERR_BAD_DOMAIN);
    /* a 1025-byte receiving-mx-hostname */
    p = big +
        sprintf(big, PRE POL0 ",\"failure-details\":[{\"c\":201,\"n\":\"");
    memset(p, 'a', 1025);
    p += 1025;
    strcpy(p, "\"}],\"f\":1}]}");
    expect_refused(big, TRPT_DGERR_TOO_LONG);
    /* 65 mx-host patterns */
    p = big + sprintf(big, PRE POL0 ",\"mx-host\":[");
    for (int i = 0; i < 65; i++)
        p += sprintf(p, "%s\"mx%d.a.test\"", i ? "," : "", i);
    strcpy(p, "],\"f\":0}]}");
    expect_refused(big, TRPT_DGERR_TOO_MANY);
    /* 17 policies */
    p = big + sprintf(big, "{\"d\":\"a.test\",\"policies\":[");
    for (int i = 0; i < 17; i++)
        p += sprintf(p, "%s{\"policy-type\":9,\"f\":0}", i ? "," : "");
    strcpy(p, "]}");
    expect_refused(big, TRPT_DGERR_TOO_MANY);
}

TEST(at_sign_outside_the_tlsrpt_record_is_a_privacy_refusal)
{
    trpt_datagram_decoder *d;
    trpt_datagram_error why;
    seen s = {0};

    expect_refused(PRE POL0 ",\"failure-details\":[{\"c\":201,\"f\":"
                            "\"user@a.test rejected\"}],\"f\":1}]}",
                   TRPT_DGERR_PRIVACY);
    expect_refused(PRE POL0 ",\"failure-details\":[{\"c\":201,\"n\":"
                            "\"u\\u0040a.test\"}],\"f\":1}]}",
                   TRPT_DGERR_PRIVACY);
    expect_refused("{\"d\":\"user@a.test\",\"policies\":[{\"policy-type\":9,"
                   "\"f\":0}]}",
                   TRPT_DGERR_PRIVACY);
    /* the TLSRPT record's rua=mailto: address is public DNS data */
    ASSERT(trpt_datagram_decoder_new(&d) == 0);
    EXPECT_EQ(decode_str(d, OK0, &s, &why), 1);
    EXPECT_STREQ(s.rec[0].tlsrpt_record, "v=TLSRPTv1; rua=mailto:r@a.test");
    seen_clear(&s);
    trpt_datagram_decoder_free(d);
}

TEST(nesting_in_unknown_keys_is_bounded)
{
    char deep[200], *p = deep;

    p += sprintf(p, "{\"x\":");
    for (int i = 0; i < 40; i++)
        *p++ = '[';
    for (int i = 0; i < 40; i++)
        *p++ = ']';
    strcpy(p, ",\"policies\":[{\"policy-type\":9,\"f\":0}]}");
    expect_refused(deep, TRPT_DGERR_TOO_DEEP);
}

TEST(oversize_datagram_is_refused_before_parsing)
{
    trpt_datagram_decoder *d;
    trpt_datagram_error why;
    trpt_datagram_opts o = opts(1);
    seen s = {0};

    o.max_bytes = 64;
    ASSERT(trpt_datagram_decoder_new(&d) == 0);
    EXPECT_EQ(trpt_datagram_decode(d, OK0, strlen(OK0), &o, collect, &s, &why),
              -E2BIG);
    EXPECT_EQ(why, TRPT_DGERR_OVERSIZE);
    EXPECT_EQ(trpt_datagram_stats_get(d)->errors[TRPT_DGERR_OVERSIZE], 1);
    o.max_bytes = 0; /* default 64 KiB */
    EXPECT_EQ(trpt_datagram_decode(d, OK0, strlen(OK0), &o, collect, &s, &why),
              1);
    seen_clear(&s);
    trpt_datagram_decoder_free(d);
}

TEST(callback_error_is_returned_and_nothing_is_counted_as_decoded)
{
    trpt_datagram_decoder *d;
    trpt_datagram_error why;
    seen s = {.fail_with = -ENOSPC};

    ASSERT(trpt_datagram_decoder_new(&d) == 0);
    EXPECT_EQ(decode_str(d, OK0, &s, &why), -ENOSPC);
    EXPECT_EQ(trpt_datagram_stats_get(d)->decoded, 0);
    trpt_datagram_decoder_free(d);
}

TEST(error_names_are_distinct_and_stable)
{
    for (int i = 0; i < TRPT_DGERR_COUNT; i++) {
        EXPECT(strcmp(trpt_datagram_error_name((trpt_datagram_error)i),
                      "unknown") != 0);
        for (int j = 0; j < i; j++)
            EXPECT(strcmp(trpt_datagram_error_name((trpt_datagram_error)i),
                          trpt_datagram_error_name((trpt_datagram_error)j)) !=
                   0);
    }
    EXPECT_STREQ(trpt_datagram_error_name(TRPT_DGERR_BAD_CODE), "bad_code");
    EXPECT_STREQ(trpt_datagram_error_name(TRPT_DGERR_COUNT), "unknown");
}
