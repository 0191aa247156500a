/* test_tlsrpt_txt.c - the TLSRPT TXT record (core/tlsrpt_txt.h): record
 * selection and the rua grammar of RFC 8460 §3, the RFC's examples, the
 * record Postfix 3.10 saw in the shared corpus, and hostile input. */
#include <errno.h>

#include "harness.h"
#include "tlsrpt_txt.h"

/* Parses one record text (NUL-terminated) and returns the result code. */
static int parse_text(const char *text, trpt_tlsrpt_txt **out)
{
    char err[256] = "";

    return trpt_tlsrpt_record_parse(text, strlen(text), out, err, sizeof err);
}

/* An RRset of single-string records. */
static int parse_rrset(const char *const *texts, size_t n,
                       trpt_tlsrpt_txt **out)
{
    trpt_txt_string strs[8];
    trpt_txt_rr rrs[8];
    char err[256] = "";

    for (size_t i = 0; i < n && i < 8; i++) {
        strs[i] = (trpt_txt_string){texts[i], strlen(texts[i])};
        rrs[i] = (trpt_txt_rr){&strs[i], 1};
    }
    return trpt_tlsrpt_txt_parse(rrs, n, out, err, sizeof err);
}

/* The one-URI record text for u; returns the parse result. */
static int parse_one_uri(const char *u, trpt_tlsrpt_txt **out)
{
    char text[4096];

    snprintf(text, sizeof text, "v=TLSRPTv1; rua=%s", u);
    return parse_text(text, out);
}

TEST(rfc_mailto_example_gives_its_address)
{
    trpt_tlsrpt_txt *t = NULL;

    /* RFC 8460 §3.1.1 */
    ASSERT(parse_text("v=TLSRPTv1;rua=mailto:reports@example.com", &t) == 0);
    EXPECT_EQ(t->n_rua, 1);
    EXPECT_EQ(t->rua[0].scheme, TRPT_RUA_MAILTO);
    EXPECT_STREQ(t->rua[0].uri, "mailto:reports@example.com");
    EXPECT_STREQ(t->rua[0].target, "reports@example.com");
    EXPECT_STREQ(t->record, "v=TLSRPTv1;rua=mailto:reports@example.com");
    EXPECT_EQ(t->n_rua_fields, 1);
    trpt_tlsrpt_txt_free(t);
}

TEST(rfc_https_example_gives_its_url)
{
    trpt_tlsrpt_txt *t = NULL;

    /* RFC 8460 §3.1.2 */
    ASSERT(parse_text("v=TLSRPTv1; rua=https://reporting.example.com/v1/tlsrpt",
                      &t) == 0);
    EXPECT_EQ(t->n_rua, 1);
    EXPECT_EQ(t->rua[0].scheme, TRPT_RUA_HTTPS);
    EXPECT_STREQ(t->rua[0].target, "https://reporting.example.com/v1/tlsrpt");
    trpt_tlsrpt_txt_free(t);
}

/* The record Postfix 3.10 looked up and sent as "pr" in its datagrams. */
TEST(postfix_corpus_record_parses_and_is_kept_verbatim)
{
    FILE *f =
        fopen(shared_path("corpus/postfix-3.10-tlsrpt/datagrams.ndjson"), "r");
    char line[8192], pr[1024];
    const char *p, *q;
    trpt_tlsrpt_txt *t = NULL;

    ASSERT(f);
    ASSERT(fgets(line, sizeof line, f));
    fclose(f);
    p = strstr(line, "\"pr\": \"");
    ASSERT(p);
    p += strlen("\"pr\": \"");
    q = strchr(p, '"');
    ASSERT(q && (size_t)(q - p) < sizeof pr);
    memcpy(pr, p, (size_t)(q - p));
    pr[q - p] = '\0';
    ASSERT(parse_rrset((const char *const[]){"v=spf1 -all", pr}, 2, &t) == 0);
    EXPECT_STREQ(t->record, pr);
    EXPECT_EQ(t->n_rua, 1);
    EXPECT_STREQ(t->rua[0].target, "tlsrpt@valid.test");
    trpt_tlsrpt_txt_free(t);
}

TEST(strings_of_one_record_are_joined_without_separator)
{
    /* Split in the middle of the version tag and of a URI. */
    const trpt_txt_string s[] = {
        {"v=TLS", 5}, {"RPTv1; rua=mai", 14}, {"lto:a@example.com", 17}};
    trpt_txt_rr rr = {s, 3};
    trpt_tlsrpt_txt *t = NULL;

    ASSERT(trpt_tlsrpt_txt_parse(&rr, 1, &t, NULL, 0) == 0);
    EXPECT_STREQ(t->record, "v=TLSRPTv1; rua=mailto:a@example.com");
    EXPECT_EQ(t->record_len, strlen("v=TLSRPTv1; rua=mailto:a@example.com"));
    EXPECT_STREQ(t->rua[0].target, "a@example.com");
    trpt_tlsrpt_txt_free(t);
}

TEST(empty_strings_inside_a_record_are_harmless)
{
    const trpt_txt_string s[] = {
        {"", 0}, {"v=TLSRPTv1;", 11}, {"", 0}, {"rua=mailto:a@x.org", 18}};
    trpt_txt_rr rr = {s, 4};
    trpt_tlsrpt_txt *t = NULL;

    ASSERT(trpt_tlsrpt_txt_parse(&rr, 1, &t, NULL, 0) == 0);
    EXPECT_STREQ(t->record, "v=TLSRPTv1;rua=mailto:a@x.org");
    trpt_tlsrpt_txt_free(t);
}

TEST(records_not_beginning_with_the_version_are_discarded)
{
    trpt_tlsrpt_txt *t = NULL;
    const char *set[] = {"v=spf1 -all", "google-site-verification=abc",
                         "v=TLSRPTv1; rua=mailto:tls@x.org",
                         " v=TLSRPTv1; rua=mailto:lead@x.org",
                         "v=TLSRPTv10; rua=mailto:ten@x.org"};

    ASSERT(parse_rrset(set, 5, &t) == 0);
    EXPECT_STREQ(t->rua[0].target, "tls@x.org");
    trpt_tlsrpt_txt_free(t);
}

TEST(no_tlsrpt_record_means_enoent)
{
    trpt_tlsrpt_txt *t = (trpt_tlsrpt_txt *)1;
    char err[128] = "";

    EXPECT_EQ(parse_rrset((const char *const[]){"v=spf1 -all"}, 1, &t),
              -ENOENT);
    EXPECT(t == NULL);
    EXPECT_EQ(trpt_tlsrpt_txt_parse(NULL, 0, &t, err, sizeof err), -ENOENT);
    EXPECT(strstr(err, "v=TLSRPTv1") != NULL);
}

TEST(two_tlsrpt_records_mean_eexist_even_if_one_is_broken)
{
    trpt_tlsrpt_txt *t = NULL;

    EXPECT_EQ(
        parse_rrset((const char *const[]){"v=TLSRPTv1; rua=mailto:a@x.org",
                                          "v=TLSRPTv1; rua=mailto:b@x.org"},
                    2, &t),
        -EEXIST);
    /* RFC 8460 §3: the count is taken before parsing. */
    EXPECT_EQ(
        parse_rrset((const char *const[]){"v=TLSRPTv1; rua=mailto:a@x.org",
                                          "v=TLSRPTv1; garbage"},
                    2, &t),
        -EEXIST);
    EXPECT(t == NULL);
}

TEST(version_tag_is_case_sensitive)
{
    trpt_tlsrpt_txt *t = NULL;

    /* %s"v=TLSRPTv1" (RFC 7405): another case is another record. */
    EXPECT_EQ(
        parse_rrset((const char *const[]){"V=tlsrptv1; rua=mailto:a@x.org"}, 1,
                    &t),
        -ENOENT);
    EXPECT_EQ(
        parse_rrset((const char *const[]){"v=tlsrptv1; rua=mailto:a@x.org"}, 1,
                    &t),
        -ENOENT);
    EXPECT_EQ(parse_text("V=TLSRPTv1; rua=mailto:a@x.org", &t), -EINVAL);
}

TEST(version_tag_ends_at_a_delimiter)
{
    trpt_tlsrpt_txt *t = NULL;

    ASSERT(parse_text("v=TLSRPTv1 ;rua=mailto:a@x.org", &t) == 0);
    trpt_tlsrpt_txt_free(t);
    t = NULL;
    /* Selected (it begins with the tag and a space), but not valid. */
    EXPECT_EQ(
        parse_rrset((const char *const[]){"v=TLSRPTv1 rua=mailto:a@x.org"}, 1,
                    &t),
        -EINVAL);
    EXPECT_EQ(parse_text("v=TLSRPTv10;rua=mailto:a@x.org", &t), -EINVAL);
}

TEST(whitespace_around_delimiters_and_commas_is_accepted)
{
    trpt_tlsrpt_txt *t = NULL;

    ASSERT(parse_text("v=TLSRPTv1 \t;\t rua=mailto:a@x.org \t,\t "
                      "https://r.x.org/p , mailto:b@x.org ; ",
                      &t) == 0);
    EXPECT_EQ(t->n_rua, 3);
    EXPECT_STREQ(t->rua[0].target, "a@x.org");
    EXPECT_STREQ(t->rua[1].target, "https://r.x.org/p");
    EXPECT_STREQ(t->rua[2].target, "b@x.org");
    trpt_tlsrpt_txt_free(t);
}

TEST(every_rua_field_is_used_in_order)
{
    trpt_tlsrpt_txt *t = NULL;

    ASSERT(parse_text("v=TLSRPTv1; rua=mailto:a@x.org; ext=1; "
                      "rua=https://r.x.org/",
                      &t) == 0);
    EXPECT_EQ(t->n_rua_fields, 2);
    EXPECT_EQ(t->n_rua, 2);
    EXPECT_EQ(t->rua[1].scheme, TRPT_RUA_HTTPS);
    EXPECT_EQ(t->n_extensions, 1);
    trpt_tlsrpt_txt_free(t);
}

TEST(repeated_destinations_are_listed_once)
{
    trpt_tlsrpt_txt *t = NULL;

    ASSERT(parse_text("v=TLSRPTv1; rua=mailto:a@x.org,mailto:a@X.ORG.;"
                      "rua=mailto:a%40x.org",
                      &t) == 0);
    EXPECT_EQ(t->n_rua, 1);
    EXPECT_EQ(t->n_duplicate, 2);
    trpt_tlsrpt_txt_free(t);
}

TEST(percent_encoding_is_decoded_in_mailto_and_kept_in_https)
{
    trpt_tlsrpt_txt *t = NULL;

    ASSERT(parse_text("v=TLSRPTv1; rua=mailto:tls%21rpt@x.org,"
                      "https://r.x.org/a%2Cb%3Bc%21d",
                      &t) == 0);
    EXPECT_EQ(t->n_rua, 2);
    EXPECT_STREQ(t->rua[0].uri, "mailto:tls%21rpt@x.org");
    EXPECT_STREQ(t->rua[0].target, "tls!rpt@x.org");
    EXPECT_STREQ(t->rua[1].target, "https://r.x.org/a%2Cb%3Bc%21d");
    trpt_tlsrpt_txt_free(t);
    t = NULL;
    /* A decoded ',' or ';' cannot be in an unquoted local part. */
    ASSERT(parse_text("v=TLSRPTv1; rua=mailto:a%2Cb@x.org,mailto:a%3Bb@x.org,"
                      "mailto:ok@x.org",
                      &t) == 0);
    EXPECT_EQ(t->n_rua, 1);
    EXPECT_EQ(t->n_invalid, 2);
    trpt_tlsrpt_txt_free(t);
}

TEST(raw_exclamation_mark_is_refused)
{
    trpt_tlsrpt_txt *t = NULL;

    /* DMARC's size suffix is not TLSRPT syntax; '!' must be encoded. */
    EXPECT_EQ(parse_one_uri("mailto:a@x.org!10m", &t), -ENOTSUP);
    EXPECT_EQ(parse_one_uri("https://r.x.org/a!b", &t), -ENOTSUP);
}

TEST(other_schemes_are_skipped_and_counted)
{
    trpt_tlsrpt_txt *t = NULL;

    ASSERT(parse_text("v=TLSRPTv1; rua=http://r.x.org/,ftp://x.org/r,"
                      "mailto:a@x.org,urn:x:y",
                      &t) == 0);
    EXPECT_EQ(t->n_rua, 1);
    EXPECT_EQ(t->n_unsupported, 3);
    trpt_tlsrpt_txt_free(t);
    EXPECT_EQ(parse_text("v=TLSRPTv1; rua=http://r.x.org/", &t), -ENOTSUP);
    EXPECT(t == NULL);
}

TEST(scheme_names_ignore_case)
{
    trpt_tlsrpt_txt *t = NULL;

    ASSERT(parse_text("v=TLSRPTv1; rua=MailTo:A@X.Org,HTTPS://r.x.org", &t) ==
           0);
    EXPECT_EQ(t->n_rua, 2);
    EXPECT_STREQ(t->rua[0].target, "A@x.org");
    trpt_tlsrpt_txt_free(t);
}

TEST(mailto_header_fields_are_dropped)
{
    trpt_tlsrpt_txt *t = NULL;

    ASSERT(parse_one_uri("mailto:a@x.org?subject=hi&body=x", &t) == 0);
    EXPECT_STREQ(t->rua[0].target, "a@x.org");
    EXPECT_STREQ(t->rua[0].uri, "mailto:a@x.org?subject=hi&body=x");
    trpt_tlsrpt_txt_free(t);
}

TEST(malformed_mailto_addresses_are_refused)
{
    static const char *bad[] = {
        "mailto:",
        "mailto:?to=a@x.org",
        "mailto:@x.org",
        "mailto:a@",
        "mailto:a",
        "mailto:a@b@x.org",
        "mailto:a@-x.org",
        "mailto:a@x-.org",
        "mailto:a@x..org",
        "mailto:a@x_y.org",
        "mailto:a%00@x.org",
        "mailto:a%0a@x.org",
        "mailto:a%20@x.org",
        "mailto:a%c3%a9@x.org",
        "mailto:a%7f@x.org",
        "mailto:a%2@x.org",
        "mailto:a%zz@x.org",
        "mailto:a%",
        "mailto:.a@x.org",
        "mailto:a.@x.org",
        "mailto:a..b@x.org",
        "mailto:a(b)@x.org",
        "mailto:a@[192.0.2.1]",
        "mailto:a@x.org%2Cb@x.org",
        "mailto:"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "@x.org", /* 65-byte local part */
        "mailto:a@"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aa.org", /* 64-byte label */
    };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        trpt_tlsrpt_txt *t = NULL;
        int rc = parse_one_uri(bad[i], &t);

        if (rc != -ENOTSUP)
            fprintf(stderr, "  accepted or misjudged: %s (%d)\n", bad[i], rc);
        EXPECT_EQ(rc, -ENOTSUP);
        EXPECT(t == NULL);
    }
}

TEST(address_longer_than_254_bytes_is_refused)
{
    char uri[400], label[64];
    trpt_tlsrpt_txt *t = NULL;

    memset(label, 'a', 60);
    label[60] = '\0';
    /* 9 + 4 * 60 + 3 + 3 = 255 bytes: every part valid, the whole too long */
    snprintf(uri, sizeof uri, "mailto:abcdefgh@%s.%s.%s.%s.io", label, label,
             label, label);
    EXPECT_EQ(parse_one_uri(uri, &t), -ENOTSUP);
    /* one label shorter: 194 bytes, accepted */
    snprintf(uri, sizeof uri, "mailto:abcdefgh@%s.%s.%s.io", label, label,
             label);
    ASSERT(parse_one_uri(uri, &t) == 0);
    trpt_tlsrpt_txt_free(t);
}

TEST(malformed_https_urls_are_refused)
{
    static const char *bad[] = {
        "https:r.x.org",
        "https:/r.x.org",
        "https://",
        "https:///path",
        "https://user:pw@r.x.org/",
        "https://r.x.org:0/",
        "https://r.x.org:65536/",
        "https://r.x.org:/",
        "https://r.x.org:44x/",
        "https://-r.x.org/",
        "https://r_x.org/",
        "https://r.x.org/a%2",
        "https://r.x.org/a%g0",
        "https://r.x.org/a<b",
        "https://r.x.org/a\"b",
        "https://r.x.org/a\\b",
        "https://[::1/",
        "https://[zz::1]/",
        "https://[]/",
        "https://r.x.org/{x}",
    };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        trpt_tlsrpt_txt *t = NULL;
        int rc = parse_one_uri(bad[i], &t);

        if (rc != -ENOTSUP)
            fprintf(stderr, "  accepted or misjudged: %s (%d)\n", bad[i], rc);
        EXPECT_EQ(rc, -ENOTSUP);
    }
}

TEST(wellformed_https_urls_are_accepted)
{
    static const char *good[] = {
        "https://r.x.org",
        "https://r.x.org.",
        "HTTPS://R.x.org:8443/p/q?x=1&y=2#frag",
        "https://[2001:db8::1]/tlsrpt",
        "https://[2001:db8::1]:443/",
        "https://192.0.2.1/x",
        "https://r.x.org/~user/a-b_c.d/%41",
    };

    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        trpt_tlsrpt_txt *t = NULL;
        int rc = parse_one_uri(good[i], &t);

        if (rc != 0)
            fprintf(stderr, "  refused: %s (%d)\n", good[i], rc);
        EXPECT_EQ(rc, 0);
        if (t)
            EXPECT_STREQ(t->rua[0].target, good[i]);
        trpt_tlsrpt_txt_free(t);
    }
}

TEST(https_url_longer_than_limit_is_refused)
{
    char uri[TRPT_HTTPS_URL_MAX + 64];
    trpt_tlsrpt_txt *t = NULL;
    size_t n = (size_t)snprintf(uri, sizeof uri, "https://r.x.org/");

    memset(uri + n, 'a', TRPT_HTTPS_URL_MAX - n + 1);
    uri[TRPT_HTTPS_URL_MAX + 1] = '\0';
    EXPECT_EQ(parse_one_uri(uri, &t), -ENOTSUP);
    uri[TRPT_HTTPS_URL_MAX] = '\0';
    ASSERT(parse_one_uri(uri, &t) == 0);
    trpt_tlsrpt_txt_free(t);
}

TEST(rua_field_name_is_case_sensitive)
{
    trpt_tlsrpt_txt *t = NULL;
    char err[128] = "";

    /* "RUA=" is an unknown extension field, so the record has no rua. */
    EXPECT_EQ(trpt_tlsrpt_record_parse("v=TLSRPTv1; RUA=mailto:a@x.org", 30, &t,
                                       err, sizeof err),
              -EINVAL);
    EXPECT_STREQ(err, "no rua field");
}

TEST(unknown_fields_are_ignored)
{
    trpt_tlsrpt_txt *t = NULL;

    ASSERT(parse_text("v=TLSRPTv1; foo=bar; rua=mailto:a@x.org; "
                      "x_y.z-1=~!@#$%^&*()",
                      &t) == 0);
    EXPECT_EQ(t->n_extensions, 2);
    EXPECT_EQ(t->n_rua, 1);
    trpt_tlsrpt_txt_free(t);
}

TEST(ungrammatical_records_are_refused)
{
    static const char *bad[] = {
        "",
        "v=TLSRPTv1",
        "v=TLSRPTv1;",
        "v=TLSRPTv1; ;",
        "v=TLSRPTv1; rua=",
        "v=TLSRPTv1; rua= ",
        "v=TLSRPTv1; rua=mailto:a@x.org;; foo=bar",
        "v=TLSRPTv1; =x; rua=mailto:a@x.org",
        "v=TLSRPTv1; foo; rua=mailto:a@x.org",
        "v=TLSRPTv1; rua = mailto:a@x.org",
        "v=TLSRPTv1; rua=mailto:a@x.org,",
        "v=TLSRPTv1; rua=mailto:a@x.org, ,mailto:b@x.org",
        "v=TLSRPTv1; rua=,mailto:a@x.org",
        "v=TLSRPTv1; rua=mailto:a@x.org mailto:b@x.org",
        "v=TLSRPTv1; foo=a b; rua=mailto:a@x.org",
        "v=TLSRPTv1; foo=a=b; rua=mailto:a@x.org",
        "v=TLSRPTv1; _x=1; rua=mailto:a@x.org",
        "v=TLSRPTv1; abcdefghijabcdefghijabcdefghijabc=1; rua=mailto:a@x.org",
        "v=TLSRPTv1, rua=mailto:a@x.org",
        "v=TLSRPTv1 rua=mailto:a@x.org",
    };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        trpt_tlsrpt_txt *t = NULL;
        int rc = parse_text(bad[i], &t);

        if (rc != -EINVAL)
            fprintf(stderr, "  misjudged: \"%s\" (%d)\n", bad[i], rc);
        EXPECT_EQ(rc, -EINVAL);
        EXPECT(t == NULL);
    }
}

TEST(field_name_of_32_characters_is_accepted)
{
    trpt_tlsrpt_txt *t = NULL;

    ASSERT(parse_text("v=TLSRPTv1; abcdefghijabcdefghijabcdefghijab=1; "
                      "rua=mailto:a@x.org",
                      &t) == 0);
    trpt_tlsrpt_txt_free(t);
}

TEST(nul_bytes_are_refused)
{
    static const char text[] = "v=TLSRPTv1; rua=mailto:a@x.org\0; x=1";
    const trpt_txt_string s[] = {{text, sizeof text - 1}};
    trpt_txt_rr rr = {s, 1};
    trpt_tlsrpt_txt *t = NULL;
    char err[128] = "";

    EXPECT_EQ(
        trpt_tlsrpt_record_parse(text, sizeof text - 1, &t, err, sizeof err),
        -EINVAL);
    EXPECT(strstr(err, "NUL") != NULL);
    EXPECT_EQ(trpt_tlsrpt_txt_parse(&rr, 1, &t, NULL, 0), -EINVAL);
    EXPECT(t == NULL);
}

TEST(control_and_non_ascii_bytes_are_refused)
{
    static const char *bad[] = {
        "v=TLSRPTv1; rua=mailto:a@x.org; x=\xc3\xa9",  /* UTF-8 é */
        "v=TLSRPTv1; rua=mailto:a@x.org; x=\xff\xfe",  /* not UTF-8 */
        "v=TLSRPTv1; rua=mailto:a@x.org; x=\xc0\xaf",  /* overlong */
        "v=TLSRPTv1; rua=mailto:a@x.org; x=a\x01",     /* control */
        "v=TLSRPTv1; rua=mailto:a@x.org\r\n",          /* CR LF */
        "v=TLSRPTv1; rua=mailto:a@x.org; x=\x7f",      /* DEL */
        "v=TLSRPTv1; rua=mailto:a@ex\xc3\xa4mple.org", /* U-label */
    };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        trpt_tlsrpt_txt *t = NULL;

        EXPECT_EQ(parse_text(bad[i], &t), -EINVAL);
    }
}

TEST(overlong_record_is_refused_with_emsgsize)
{
    static char text[TRPT_TXT_MAX + 2];
    size_t n = (size_t)snprintf(text, sizeof text,
                                "v=TLSRPTv1; rua=mailto:a@x.org; x=");
    trpt_tlsrpt_txt *t = NULL;

    memset(text + n, 'a', TRPT_TXT_MAX - n);
    text[TRPT_TXT_MAX] = '\0';
    ASSERT(parse_text(text, &t) == 0); /* exactly the limit */
    trpt_tlsrpt_txt_free(t);
    t = NULL;
    text[TRPT_TXT_MAX] = 'a';
    text[TRPT_TXT_MAX + 1] = '\0';
    EXPECT_EQ(parse_text(text, &t), -EMSGSIZE);
}

TEST(overlong_record_from_many_strings_is_refused)
{
    static char chunk[255];
    trpt_txt_string s[100];
    trpt_txt_rr rr = {s, 100};
    trpt_tlsrpt_txt *t = NULL;

    memset(chunk, 'a', sizeof chunk);
    s[0] = (trpt_txt_string){"v=TLSRPTv1; rua=mailto:a@x.org; x=", 35};
    for (size_t i = 1; i < 100; i++)
        s[i] = (trpt_txt_string){chunk, sizeof chunk};
    EXPECT_EQ(trpt_tlsrpt_txt_parse(&rr, 1, &t, NULL, 0), -EMSGSIZE);
    /* A huge string length must not overflow the total. */
    s[1].len = SIZE_MAX;
    rr.n = 3;
    EXPECT_EQ(trpt_tlsrpt_txt_parse(&rr, 1, &t, NULL, 0), -EMSGSIZE);
    EXPECT(t == NULL);
}

TEST(thousand_rua_entries_are_bounded)
{
    static char text[TRPT_TXT_MAX];
    size_t n = (size_t)snprintf(text, sizeof text, "v=TLSRPTv1; rua=");
    trpt_tlsrpt_txt *t = NULL;

    for (int i = 0; i < 1000; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "%smailto:%03d@x.io",
                              i ? "," : "", i);
    ASSERT(n < sizeof text - 1);
    ASSERT(parse_text(text, &t) == 0);
    EXPECT_EQ(t->n_rua, TRPT_TLSRPT_MAX_RUA);
    EXPECT_EQ(t->n_over_limit, 1000 - TRPT_TLSRPT_MAX_RUA);
    EXPECT_STREQ(t->rua[0].target, "000@x.io");
    EXPECT_STREQ(t->rua[TRPT_TLSRPT_MAX_RUA - 1].target, "015@x.io");
    trpt_tlsrpt_txt_free(t);
}

TEST(many_unknown_fields_are_walked)
{
    static char text[TRPT_TXT_MAX];
    size_t n = (size_t)snprintf(text, sizeof text, "v=TLSRPTv1");
    trpt_tlsrpt_txt *t = NULL;

    for (int i = 0; i < 1000; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, ";f%d=%d", i, i);
    n += (size_t)snprintf(text + n, sizeof text - n, ";rua=mailto:a@x.org");
    ASSERT(n < sizeof text - 1);
    ASSERT(parse_text(text, &t) == 0);
    EXPECT_EQ(t->n_extensions, 1000);
    trpt_tlsrpt_txt_free(t);
}

TEST(rdata_wire_form_splits_into_strings)
{
    static const uint8_t wire[] =
        "\x05v=TLS\x00\x1eRPTv1;rua=mailto:a@example.com";
    trpt_txt_string s[4];
    size_t n = 0;
    trpt_txt_rr rr = {s, 0};
    trpt_tlsrpt_txt *t = NULL;

    ASSERT(trpt_txt_rdata_split(wire, sizeof wire - 1, s, 4, &n) == 0);
    EXPECT_EQ(n, 3);
    EXPECT_EQ(s[1].len, 0);
    rr.n = n;
    ASSERT(trpt_tlsrpt_txt_parse(&rr, 1, &t, NULL, 0) == 0);
    EXPECT_STREQ(t->rua[0].target, "a@example.com");
    trpt_tlsrpt_txt_free(t);
}

TEST(rrset_in_wire_form_is_parsed)
{
    static const char spf[] = "\x0bv=spf1 -all";
    static const char rpt[] = "\x05v=TLS\x1eRPTv1;rua=mailto:a@example.com";
    static const char bad[] = "\x09v=TLSRPT";
    trpt_txt_string rd[] = {{spf, sizeof spf - 1}, {rpt, sizeof rpt - 1}};
    trpt_tlsrpt_txt *t = NULL;
    char err[128] = "";

    ASSERT(trpt_tlsrpt_txt_parse_rdata(rd, 2, &t, err, sizeof err) == 0);
    EXPECT_STREQ(t->record, "v=TLSRPTv1;rua=mailto:a@example.com");
    trpt_tlsrpt_txt_free(t);
    t = NULL;
    rd[0] = (trpt_txt_string){bad, sizeof bad - 1};
    EXPECT_EQ(trpt_tlsrpt_txt_parse_rdata(rd, 2, &t, err, sizeof err), -EINVAL);
    EXPECT_STREQ(err, "malformed TXT RDATA");
    EXPECT_EQ(trpt_tlsrpt_txt_parse_rdata(rd + 1, 0, &t, NULL, 0), -ENOENT);
    EXPECT(t == NULL);
}

TEST(truncated_or_empty_rdata_is_refused)
{
    trpt_txt_string s[2];
    size_t n = 0;

    EXPECT_EQ(trpt_txt_rdata_split((const uint8_t *)"\x05v=TL", 5, s, 2, &n),
              -EINVAL);
    EXPECT_EQ(trpt_txt_rdata_split((const uint8_t *)"", 0, s, 2, &n), -EINVAL);
    EXPECT_EQ(trpt_txt_rdata_split((const uint8_t *)"\x01"
                                                    "a\x01"
                                                    "b\x01"
                                                    "c",
                                   6, s, 2, &n),
              -E2BIG);
    EXPECT_EQ(trpt_txt_rdata_split(NULL, 3, s, 2, &n), -EINVAL);
}

TEST(bad_arguments_are_refused)
{
    trpt_tlsrpt_txt *t = NULL;
    trpt_txt_rr rr = {NULL, 2};

    EXPECT_EQ(trpt_tlsrpt_record_parse(NULL, 3, &t, NULL, 0), -EINVAL);
    EXPECT_EQ(trpt_tlsrpt_record_parse("v=TLSRPTv1", 10, NULL, NULL, 0),
              -EINVAL);
    EXPECT_EQ(trpt_tlsrpt_txt_parse(NULL, 1, &t, NULL, 0), -EINVAL);
    EXPECT_EQ(trpt_tlsrpt_txt_parse(&rr, 1, &t, NULL, 0), -EINVAL);
    trpt_tlsrpt_txt_free(NULL);
}

TEST(hostname_syntax_follows_rfc1123)
{
    EXPECT(trpt_txt_hostname_valid("mx1.example.com", 15));
    EXPECT(trpt_txt_hostname_valid("a", 1));
    EXPECT(trpt_txt_hostname_valid("3com.com", 8));
    EXPECT(!trpt_txt_hostname_valid("", 0));
    EXPECT(!trpt_txt_hostname_valid(".a", 2));
    EXPECT(!trpt_txt_hostname_valid("a.", 2));
    EXPECT(!trpt_txt_hostname_valid("a-.b", 4));
    EXPECT(!trpt_txt_hostname_valid("a.-b", 4));
    EXPECT(!trpt_txt_hostname_valid("a*b", 3));
    EXPECT(!trpt_txt_hostname_valid("a\0b", 3));
}
