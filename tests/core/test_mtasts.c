/* test_mtasts.c - MTA-STS parsing (core/mtasts.h): the _mta-sts TXT record
 * (RFC 8461 §3.1), the policy file (§3.2) with the policy strings and mx
 * patterns a report needs (RFC 8460 §4.3), MX matching (§4.1), the
 * corpus's invalid policy, and hostile input. */
#include <errno.h>

#include "harness.h"
#include "mtasts.h"

static int policy(const char *body, trpt_mtasts_policy **out)
{
    char err[256] = "";
    int rc = trpt_mtasts_policy_parse(body, strlen(body), out, err, sizeof err);

    if (rc < 0 && getenv("TRPT_TEST_VERBOSE"))
        fprintf(stderr, "  policy refused: %s\n", err);
    return rc;
}

static int txt(const char *text, trpt_mtasts_txt **out)
{
    return trpt_mtasts_txt_record_parse(text, strlen(text), out, NULL, 0);
}

/* ---- TXT record ------------------------------------------------------ */

TEST(rfc_txt_example_gives_its_id)
{
    trpt_mtasts_txt *t = NULL;

    /* RFC 8461 §3.1 */
    ASSERT(txt("v=STSv1; id=20160831085700Z;", &t) == 0);
    EXPECT_STREQ(t->id, "20160831085700Z");
    EXPECT_STREQ(t->record, "v=STSv1; id=20160831085700Z;");
    trpt_mtasts_txt_free(t);
}

TEST(txt_record_is_selected_from_its_rrset_and_joined)
{
    const trpt_txt_string spf[] = {{"v=spf1 -all", 11}};
    const trpt_txt_string sts[] = {{"v=ST", 4}, {"Sv1; i", 6}, {"d=abc123", 8}};
    const trpt_txt_rr rrs[] = {{spf, 1}, {sts, 3}};
    trpt_mtasts_txt *t = NULL;

    ASSERT(trpt_mtasts_txt_parse(rrs, 2, &t, NULL, 0) == 0);
    EXPECT_STREQ(t->id, "abc123");
    trpt_mtasts_txt_free(t);
}

TEST(txt_rrset_in_wire_form_is_parsed)
{
    static const char sts[] = "\x14v=STSv1; id=20240101";
    static const char trunc[] = "\x20v=STSv1; id=1";
    trpt_txt_string rd[] = {{sts, sizeof sts - 1}};
    trpt_mtasts_txt *t = NULL;

    ASSERT(trpt_mtasts_txt_parse_rdata(rd, 1, &t, NULL, 0) == 0);
    EXPECT_STREQ(t->id, "20240101");
    trpt_mtasts_txt_free(t);
    t = NULL;
    rd[0] = (trpt_txt_string){trunc, sizeof trunc - 1};
    EXPECT_EQ(trpt_mtasts_txt_parse_rdata(rd, 1, &t, NULL, 0), -EINVAL);
    EXPECT(t == NULL);
}

TEST(txt_record_count_other_than_one_is_refused)
{
    const trpt_txt_string a[] = {{"v=STSv1; id=a", 13}};
    const trpt_txt_string b[] = {{"v=STSv1; id=b", 13}};
    const trpt_txt_string spf[] = {{"v=spf1 -all", 11}};
    const trpt_txt_rr two[] = {{a, 1}, {b, 1}}, none[] = {{spf, 1}};
    trpt_mtasts_txt *t = NULL;

    EXPECT_EQ(trpt_mtasts_txt_parse(two, 2, &t, NULL, 0), -EEXIST);
    EXPECT_EQ(trpt_mtasts_txt_parse(none, 1, &t, NULL, 0), -ENOENT);
    EXPECT_EQ(trpt_mtasts_txt_parse(NULL, 0, &t, NULL, 0), -ENOENT);
    EXPECT(t == NULL);
}

TEST(txt_extension_fields_are_ignored)
{
    trpt_mtasts_txt *t = NULL;

    ASSERT(txt("v=STSv1 ;\tfoo=bar ; id=X1 ; a.b_c-d=~", &t) == 0);
    EXPECT_STREQ(t->id, "X1");
    EXPECT_EQ(t->n_extensions, 2);
    trpt_mtasts_txt_free(t);
}

TEST(txt_id_of_32_characters_is_the_limit)
{
    trpt_mtasts_txt *t = NULL;

    ASSERT(txt("v=STSv1; id=abcdefghijabcdefghijabcdefghij12", &t) == 0);
    EXPECT_EQ(strlen(t->id), 32);
    trpt_mtasts_txt_free(t);
    t = NULL;
    EXPECT_EQ(txt("v=STSv1; id=abcdefghijabcdefghijabcdefghij123", &t),
              -EINVAL);
}

TEST(invalid_txt_records_are_refused)
{
    static const char *bad[] = {
        "v=STSv1",
        "v=STSv1;",
        "v=STSv1; id=",
        "v=STSv1; id=ab-c",
        "v=STSv1; id=ab c",
        "v=STSv1; id=a; id=b",
        "v=STSv1; ID=abc",
        "v=STSv1; id=abc; foo",
        "v=STSv1; id=abc; foo=a b",
        "v=STSv1; id=abc;; x=1",
        "V=STSV1; id=abc",
        "v=STSv1 id=abc",
        "v=STSv1; id=abc\x01",
        "v=STSv1; id=abc; x=\xc3\xa9",
    };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        trpt_mtasts_txt *t = NULL;
        int rc = txt(bad[i], &t);

        if (rc != -EINVAL)
            fprintf(stderr, "  misjudged: \"%s\" (%d)\n", bad[i], rc);
        EXPECT_EQ(rc, -EINVAL);
        EXPECT(t == NULL);
    }
}

TEST(txt_record_with_nul_is_refused)
{
    static const char text[] = "v=STSv1; id=abc\0def";
    trpt_mtasts_txt *t = NULL;

    EXPECT_EQ(trpt_mtasts_txt_record_parse(text, sizeof text - 1, &t, NULL, 0),
              -EINVAL);
}

/* ---- policy file ----------------------------------------------------- */

TEST(rfc_policy_example_gives_lines_and_mx_patterns)
{
    trpt_mtasts_policy *p = NULL;

    /* RFC 8461 §3.2, CRLF-terminated */
    ASSERT(policy("version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\n"
                  "mx: *.example.net\r\nmx: backupmx.example.com\r\n"
                  "max_age: 604800\r\n",
                  &p) == 0);
    EXPECT_EQ(p->mode, TRPT_MTASTS_MODE_ENFORCE);
    EXPECT_EQ(p->max_age, 604800);
    EXPECT_EQ(p->max_age_clamped, 0);
    ASSERT(p->mx.n == 3);
    EXPECT_STREQ(p->mx.v[0], "mail.example.com");
    EXPECT_STREQ(p->mx.v[1], "*.example.net");
    EXPECT_STREQ(p->mx.v[2], "backupmx.example.com");
    ASSERT(p->policy_strings.n == 6);
    EXPECT_STREQ(p->policy_strings.v[0], "version: STSv1");
    EXPECT_STREQ(p->policy_strings.v[1], "mode: enforce");
    EXPECT_STREQ(p->policy_strings.v[3], "mx: *.example.net");
    EXPECT_STREQ(p->policy_strings.v[5], "max_age: 604800");
    trpt_mtasts_policy_free(p);
}

TEST(rfc8460_report_example_policy_strings_are_reproduced)
{
    trpt_mtasts_policy *p = NULL;

    /* RFC 8460 Appendix B: the policy-string of its sample report. */
    ASSERT(
        policy("version: STSv1\nmode: testing\nmx: *.mail.company-y.example\n"
               "max_age: 86400",
               &p) == 0);
    EXPECT_EQ(p->mode, TRPT_MTASTS_MODE_TESTING);
    ASSERT(p->policy_strings.n == 4);
    EXPECT_STREQ(p->policy_strings.v[2], "mx: *.mail.company-y.example");
    EXPECT_STREQ(p->policy_strings.v[3], "max_age: 86400");
    EXPECT_STREQ(p->mx.v[0], "*.mail.company-y.example");
    trpt_mtasts_policy_free(p);
}

TEST(whitespace_variants_give_the_same_policy_strings)
{
    trpt_mtasts_policy *p = NULL;

    ASSERT(policy("version:STSv1 \nmode:\t testing\t\r\nmx:   MX.Example.COM."
                  "\n\nmax_age:0\n\n",
                  &p) == 0);
    EXPECT_STREQ(p->policy_strings.v[0], "version: STSv1");
    EXPECT_STREQ(p->policy_strings.v[1], "mode: testing");
    EXPECT_STREQ(p->policy_strings.v[2], "mx: MX.Example.COM.");
    EXPECT_STREQ(p->policy_strings.v[3], "max_age: 0");
    EXPECT_STREQ(p->mx.v[0], "mx.example.com");
    EXPECT_EQ(p->max_age, 0);
    trpt_mtasts_policy_free(p);
}

TEST(field_order_is_free_and_lines_keep_file_order)
{
    trpt_mtasts_policy *p = NULL;

    ASSERT(policy("mx: b.example\nmax_age: 1\nmode: none\nversion: STSv1\n",
                  &p) == 0);
    EXPECT_STREQ(p->policy_strings.v[0], "mx: b.example");
    EXPECT_STREQ(p->policy_strings.v[3], "version: STSv1");
    trpt_mtasts_policy_free(p);
}

TEST(unknown_keys_are_ignored_but_kept_as_policy_strings)
{
    trpt_mtasts_policy *p = NULL;

    ASSERT(policy("version: STSv1\nmode: enforce\nfoo: bar baz \xc3\xa9\n"
                  "mx: mx.example\nmax_age: 86400\nMode: ignored\n",
                  &p) == 0);
    EXPECT_EQ(p->n_extensions, 2);
    EXPECT_EQ(p->mode, TRPT_MTASTS_MODE_ENFORCE);
    EXPECT_EQ(p->policy_strings.n, 6);
    EXPECT_STREQ(p->policy_strings.v[2], "foo: bar baz \xc3\xa9");
    trpt_mtasts_policy_free(p);
}

TEST(mode_none_needs_no_mx)
{
    trpt_mtasts_policy *p = NULL;

    ASSERT(policy("version: STSv1\nmode: none\nmax_age: 86400\n", &p) == 0);
    EXPECT_EQ(p->mode, TRPT_MTASTS_MODE_NONE);
    EXPECT_EQ(p->mx.n, 0);
    trpt_mtasts_policy_free(p);
    p = NULL;
    EXPECT_EQ(policy("version: STSv1\nmode: testing\nmax_age: 86400\n", &p),
              -EINVAL);
}

TEST(repeated_mx_patterns_are_listed_once)
{
    trpt_mtasts_policy *p = NULL;

    ASSERT(policy("version: STSv1\nmode: enforce\nmx: a.example\n"
                  "mx: A.EXAMPLE.\nmax_age: 5\n",
                  &p) == 0);
    EXPECT_EQ(p->mx.n, 1);
    EXPECT_EQ(p->policy_strings.n, 5);
    trpt_mtasts_policy_free(p);
}

TEST(max_age_above_the_cap_is_lowered)
{
    trpt_mtasts_policy *p = NULL;

    ASSERT(policy("version: STSv1\nmode: enforce\nmx: a.example\n"
                  "max_age: 9999999999\n",
                  &p) == 0);
    EXPECT_EQ(p->max_age, TRPT_MTASTS_MAX_AGE);
    EXPECT_EQ(p->max_age_clamped, 1);
    EXPECT_STREQ(p->policy_strings.v[3], "max_age: 9999999999");
    trpt_mtasts_policy_free(p);
    p = NULL;
    ASSERT(policy("version: STSv1\nmode: enforce\nmx: a.example\n"
                  "max_age: 31557600\n",
                  &p) == 0);
    EXPECT_EQ(p->max_age_clamped, 0);
    trpt_mtasts_policy_free(p);
}

/* shared/corpus/postfix-3.7-exim-4.96 scenario 22: "mode: enforcing", no
 * max_age; RFC 8460 calls it sts-policy-invalid. */
TEST(corpus_invalid_policy_is_refused)
{
    trpt_mtasts_policy *p = NULL;
    char err[128] = "";
    const char *body = "version: STSv1\nmode: enforcing\n"
                       "mx: mx.example-sts-badpolicy.test\n";

    EXPECT_EQ(trpt_mtasts_policy_parse(body, strlen(body), &p, err, sizeof err),
              -EINVAL);
    EXPECT_STREQ(err, "unknown mode");
    EXPECT(p == NULL);
}

TEST(invalid_policies_are_refused)
{
    static const char *bad[] = {
        "",
        "\n\n",
        "mode: enforce\nmx: a.example\nmax_age: 1\n",     /* version */
        "version: STSv1\nmx: a.example\nmax_age: 1\n",    /* mode */
        "version: STSv1\nmode: enforce\nmx: a.example\n", /* max_age */
        "version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1\n",
        "version: stsv1\nmode: enforce\nmx: a.example\nmax_age: 1\n",
        "version: STSv1\nmode: Enforce\nmx: a.example\nmax_age: 1\n",
        "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -1\n",
        "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1e3\n",
        "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 12345678901\n",
        "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: \n",
        "version: STSv1\nmode: enforce\nmx: *\nmax_age: 1\n",
        "version: STSv1\nmode: enforce\nmx: *.\nmax_age: 1\n",
        "version: STSv1\nmode: enforce\nmx: a.*.example\nmax_age: 1\n",
        "version: STSv1\nmode: enforce\nmx: **.example\nmax_age: 1\n",
        "version: STSv1\nmode: enforce\nmx: a..example\nmax_age: 1\n",
        "version: STSv1\nmode: enforce\nmx: -a.example\nmax_age: 1\n",
        "version: STSv1\nmode: enforce\nmx: a.example, b.example\nmax_age: 1\n",
        "version: STSv1\nmode: enforce\nmx: [192.0.2.1]\nmax_age: 1\n",
        /* duplicated singletons */
        "version: STSv1\nversion: STSv1\nmode: enforce\nmx: a.example\n"
        "max_age: 1\n",
        "version: STSv1\nmode: enforce\nmode: testing\nmx: a.example\n"
        "max_age: 1\n",
        "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\n"
        "max_age: 2\n",
        /* line syntax */
        " version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\n",
        "version = STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\n",
        "version : STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\n",
        "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\njunk\n",
        "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\n_x: 1\n",
        "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\nx: a\tb\n",
        "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\nx:\n",
        /* bytes */
        "version: STSv1\rmode: enforce\rmx: a.example\rmax_age: 1\r",
        "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\nx: \x01\n",
        "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\nx: \x7f\n",
        "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\nx: \xff\n",
        "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\nx: "
        "\xc0\xaf\n",
        "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\nx: "
        "\xed\xa0\x80\n",
        "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\nx: \xc3\n",
        "version: STSv1\nmode: enforce\nmx: \xc3\xa4.example\nmax_age: 1\n",
    };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        trpt_mtasts_policy *p = NULL;
        int rc = policy(bad[i], &p);

        if (rc != -EINVAL)
            fprintf(stderr, "  misjudged #%zu (%d)\n", i, rc);
        EXPECT_EQ(rc, -EINVAL);
        EXPECT(p == NULL);
    }
}

TEST(policy_with_nul_byte_is_refused)
{
    static const char body[] =
        "version: STSv1\nmode: enforce\nmx: a.example\0\nmax_age: 1\n";
    trpt_mtasts_policy *p = NULL;
    char err[128] = "";

    EXPECT_EQ(
        trpt_mtasts_policy_parse(body, sizeof body - 1, &p, err, sizeof err),
        -EINVAL);
    EXPECT(strstr(err, "NUL") != NULL);
}

TEST(policy_over_64_kib_is_refused)
{
    static char body[TRPT_MTASTS_POLICY_MAX + 2];
    size_t n = (size_t)snprintf(body, sizeof body,
                                "version: STSv1\nmode: none\nmax_age: 1\n");
    trpt_mtasts_policy *p = NULL;

    /* Pad with blank lines up to exactly the limit: accepted. */
    memset(body + n, '\n', TRPT_MTASTS_POLICY_MAX - n);
    ASSERT(trpt_mtasts_policy_parse(body, TRPT_MTASTS_POLICY_MAX, &p, NULL,
                                    0) == 0);
    trpt_mtasts_policy_free(p);
    p = NULL;
    EXPECT_EQ(
        trpt_mtasts_policy_parse(body, TRPT_MTASTS_POLICY_MAX + 1, &p, NULL, 0),
        -EMSGSIZE);
}

TEST(overlong_line_is_refused)
{
    static char body[20000];
    size_t n = (size_t)snprintf(body, sizeof body,
                                "version: STSv1\nmode: none\nmax_age: 1\nx: ");
    trpt_mtasts_policy *p = NULL;

    memset(body + n, 'a', 9000);
    EXPECT_EQ(trpt_mtasts_policy_parse(body, n + 9000, &p, NULL, 0), -EINVAL);
}

TEST(many_mx_patterns_are_bounded)
{
    static char body[TRPT_MTASTS_POLICY_MAX];
    size_t n = (size_t)snprintf(body, sizeof body,
                                "version: STSv1\nmode: enforce\nmax_age: 1\n");
    trpt_mtasts_policy *p = NULL;
    char err[128] = "";

    for (int i = 0; i < TRPT_MTASTS_MAX_MX; i++)
        n +=
            (size_t)snprintf(body + n, sizeof body - n, "mx: m%d.example\n", i);
    ASSERT(trpt_mtasts_policy_parse(body, n, &p, NULL, 0) == 0);
    EXPECT_EQ(p->mx.n, TRPT_MTASTS_MAX_MX);
    trpt_mtasts_policy_free(p);
    p = NULL;
    n += (size_t)snprintf(body + n, sizeof body - n, "mx: one.more\n");
    EXPECT_EQ(trpt_mtasts_policy_parse(body, n, &p, err, sizeof err), -EINVAL);
    EXPECT(strstr(err, "mx patterns") != NULL);
}

TEST(policy_bad_arguments_are_refused)
{
    trpt_mtasts_policy *p = NULL;

    EXPECT_EQ(trpt_mtasts_policy_parse(NULL, 5, &p, NULL, 0), -EINVAL);
    EXPECT_EQ(trpt_mtasts_policy_parse("x", 1, NULL, NULL, 0), -EINVAL);
    EXPECT_EQ(trpt_mtasts_policy_parse(NULL, 0, &p, NULL, 0), -EINVAL);
    trpt_mtasts_policy_free(NULL);
    trpt_mtasts_txt_free(NULL);
}

/* ---- MX matching ----------------------------------------------------- */

TEST(exact_pattern_matches_only_its_host)
{
    EXPECT_EQ(trpt_mtasts_mx_match("mail.example.com", "mail.example.com"), 1);
    EXPECT_EQ(trpt_mtasts_mx_match("mail.example.com", "MAIL.Example.Com"), 1);
    EXPECT_EQ(trpt_mtasts_mx_match("mail.example.com.", "mail.example.com"), 1);
    EXPECT_EQ(trpt_mtasts_mx_match("mail.example.com", "mail.example.com."), 1);
    EXPECT_EQ(trpt_mtasts_mx_match("mail.example.com", "mail.example.co"), 0);
    EXPECT_EQ(trpt_mtasts_mx_match("mail.example.com", "xmail.example.com"), 0);
    EXPECT_EQ(trpt_mtasts_mx_match("mail.example.com", "a.mail.example.com"),
              0);
}

TEST(wildcard_matches_exactly_one_leftmost_label)
{
    /* RFC 8461 §4.1's own examples */
    EXPECT_EQ(trpt_mtasts_mx_match("*.example.com", "mail.example.com"), 1);
    EXPECT_EQ(trpt_mtasts_mx_match("*.example.com", "example.com"), 0);
    EXPECT_EQ(trpt_mtasts_mx_match("*.example.com", "foo.bar.example.com"), 0);
    EXPECT_EQ(trpt_mtasts_mx_match("*.Example.COM.", "MX1.example.com."), 1);
    EXPECT_EQ(trpt_mtasts_mx_match("*.example.com", ".example.com"), 0);
    EXPECT_EQ(trpt_mtasts_mx_match("*.example.com", "mailexample.com"), 0);
    EXPECT_EQ(trpt_mtasts_mx_match("*.example.com", "a.example.com.evil"), 0);
    EXPECT_EQ(trpt_mtasts_mx_match("*.example.com", "*.example.com"), 0);
    /* A wildcard is only a pattern, never a host: no reverse match. */
    EXPECT_EQ(trpt_mtasts_mx_match("mail.example.com", "*.example.com"), 0);
}

TEST(degenerate_names_never_match)
{
    EXPECT_EQ(trpt_mtasts_mx_match(NULL, "a"), 0);
    EXPECT_EQ(trpt_mtasts_mx_match("a", NULL), 0);
    EXPECT_EQ(trpt_mtasts_mx_match("", ""), 0);
    EXPECT_EQ(trpt_mtasts_mx_match(".", "."), 0);
    EXPECT_EQ(trpt_mtasts_mx_match("*.", "a."), 0);
    EXPECT_EQ(trpt_mtasts_mx_match("*", "a"), 0);
}

TEST(policy_matches_any_of_its_patterns)
{
    trpt_mtasts_policy *p = NULL;

    ASSERT(policy("version: STSv1\nmode: enforce\nmx: mail.example.com\n"
                  "mx: *.example.net\nmax_age: 1\n",
                  &p) == 0);
    EXPECT_EQ(trpt_mtasts_policy_mx_match(p, "mx7.example.net"), 1);
    EXPECT_EQ(trpt_mtasts_policy_mx_match(p, "mail.example.com"), 1);
    EXPECT_EQ(trpt_mtasts_policy_mx_match(p, "mail.example.net.evil"), 0);
    EXPECT_EQ(trpt_mtasts_policy_mx_match(NULL, "mail.example.com"), 0);
    trpt_mtasts_policy_free(p);
}
