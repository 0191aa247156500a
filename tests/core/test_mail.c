/* test_mail.c - the RFC 8460 §5.3 report mail: headers, MIME structure,
 * line rules of RFC 5322 and RFC 2045, and refusal of header injection. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "harness.h"
#include "mail.h"
#include "report.h"

/* ---- a real report as the aggregator makes it --------------------------- */

static const trpt_agg_detail details[] = {
    {TRPT_RESULT_CERTIFICATE_EXPIRED, "192.0.2.1", "mx1.example.net", NULL,
     "198.51.100.7", NULL, NULL, 7},
};
static const char *const sts_strings[] = {"version: STSv1", "mode: enforce",
                                          "mx: mx1.example.net",
                                          "max_age: 604800"};
static const char *const sts_mx[] = {"mx1.example.net"};
static const trpt_agg_policy policies[] = {
    {TRPT_POLICY_STS, sts_strings, 4, sts_mx, 1, 100, 7, details, 1},
};
static const trpt_agg_group group = {
    20059, "example.net", "v=TLSRPTv1; rua=mailto:tlsrpt@example.net", policies,
    1}; /* 2024-12-02 */
static const trpt_report_meta meta = {
    "Submitter Org", "mailto:tlsrpt@submitter.test", "submitter.test", 1};

static const char *const one_to[] = {"tlsrpt@example.net", NULL};

typedef struct fixture {
    trpt_buf id, name, json, gz, mail;
    trpt_report_mail m;
} fixture;

static int fixture_init(fixture *f)
{
    trpt_buf *bufs[] = {&f->id, &f->name, &f->json, &f->gz, &f->mail};

    for (size_t i = 0; i < 5; i++)
        trpt_buf_init(bufs[i]);
    if (trpt_report_names(&group, &meta, &f->id, &f->name) < 0 ||
        trpt_report_json(&group, &meta, 0, &f->json) < 0 ||
        trpt_report_gzip(f->json.data, f->json.len, &f->gz) < 0)
        return -1;
    f->m = (trpt_report_mail){
        .from = "tlsrpt@submitter.test",
        .to = one_to,
        .policy_domain = "example.net",
        .submitter = "submitter.test",
        .report_id = f->id.data,
        .file_name = f->name.data,
        .gzip = f->gz.data,
        .gzip_len = f->gz.len,
        .date = 1733184000, /* Tue, 03 Dec 2024 00:00:00 */
        .msgid_unique = "tlsrpt.20059.1",
    };
    return 0;
}

static void fixture_free(fixture *f)
{
    trpt_buf_free(&f->id);
    trpt_buf_free(&f->name);
    trpt_buf_free(&f->json);
    trpt_buf_free(&f->gz);
    trpt_buf_free(&f->mail);
}

/* ---- message reading helpers -------------------------------------------- */

/* Header block length (up to and including the empty line), or 0. */
static size_t header_block(const char *msg)
{
    const char *e = strstr(msg, "\r\n\r\n");

    return e ? (size_t)(e - msg) + 4 : 0;
}

/* The unfolded value of the n-th field named name in the header block of
 * msg (n from 0), malloc'd, or NULL; *count receives how many there are. */
static char *header_value(const char *msg, const char *name, int n, int *count)
{
    size_t hlen = header_block(msg), nl = strlen(name);
    const char *p = msg, *end = msg + hlen;
    char *found = NULL;
    int seen = 0;

    while (p < end - 2) {
        const char *e = p;

        do {
            e = strstr(e, "\r\n") + 2;
        } while (*e == ' ' || *e == '\t');
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            if (seen++ == n) {
                const char *v = p + nl + 1;
                size_t k = 0;

                found = malloc((size_t)(e - v) + 1);
                for (; v < e - 2; v++)
                    if (*v != '\r' && *v != '\n')
                        found[k++] = *v;
                found[k] = '\0';
                /* drop the one SP after the colon */
                if (found[0] == ' ')
                    memmove(found, found + 1, k);
            }
        }
        p = e;
    }
    if (count)
        *count = seen;
    return found;
}

static char *boundary_of(const char *msg)
{
    char *ct = header_value(msg, "Content-Type", 0, NULL);
    char *b = ct ? strstr(ct, "boundary=\"") : NULL;
    char *r = NULL;

    if (b) {
        b += 10;
        r = strndup(b, strcspn(b, "\""));
    }
    free(ct);
    return r;
}

/* The body of MIME part i (0-based) of msg, between its empty line and the
 * next delimiter, malloc'd; also its header block. */
static char *part(const char *msg, const char *boundary, int i, char **hdrs)
{
    char delim[128];
    const char *p = msg, *h, *b, *e;

    snprintf(delim, sizeof delim, "\r\n--%s\r\n", boundary);
    for (int k = 0; k <= i; k++) {
        p = strstr(p, delim);
        if (!p)
            return NULL;
        p += strlen(delim);
    }
    h = p;
    b = strstr(h, "\r\n\r\n");
    if (!b)
        return NULL;
    snprintf(delim, sizeof delim, "\r\n--%s", boundary);
    e = strstr(b + 4, delim);
    if (!e)
        return NULL;
    if (hdrs)
        *hdrs = strndup(h, (size_t)(b + 4 - h));
    return strndup(b + 4, (size_t)(e - b - 4));
}

static size_t b64_decode(const char *in, unsigned char *out, size_t cap)
{
    EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
    int len = 0, fin = 0;
    size_t n = strlen(in);

    if (!ctx || cap < n)
        return (size_t)-1;
    EVP_DecodeInit(ctx);
    if (EVP_DecodeUpdate(ctx, out, &len, (const unsigned char *)in, (int)n) <
            0 ||
        EVP_DecodeFinal(ctx, out + len, &fin) < 0) {
        EVP_ENCODE_CTX_free(ctx);
        return (size_t)-1;
    }
    EVP_ENCODE_CTX_free(ctx);
    return (size_t)(len + fin);
}

static int build(const trpt_report_mail *m, trpt_buf *out)
{
    trpt_buf_reset(out);
    return trpt_report_mail_build(m, out);
}

/* ---- structure ---------------------------------------------------------- */

TEST(mail_uses_crlf_only_and_no_line_over_998)
{
    fixture f;
    size_t hlen;

    ASSERT(fixture_init(&f) == 0);
    ASSERT(build(&f.m, &f.mail) == 0);
    hlen = header_block(f.mail.data);
    ASSERT(hlen > 0);
    for (size_t i = 0, col = 0; i < f.mail.len; i++) {
        char c = f.mail.data[i];

        if (c == '\n') {
            EXPECT(i > 0 && f.mail.data[i - 1] == '\r');
            col = 0;
        } else if (c == '\r') {
            EXPECT(i + 1 < f.mail.len && f.mail.data[i + 1] == '\n');
        } else {
            EXPECT(c >= 0x20 && c <= 0x7e); /* 7bit, RFC 2045 §2.7 */
            EXPECT(++col <= 998);
            /* headers fold at 78 (RFC 5322 §2.1.1) */
            if (i < hlen)
                EXPECT(col <= 78);
        }
    }
    EXPECT(f.mail.len > 2 && strcmp(f.mail.data + f.mail.len - 2, "\r\n") == 0);
    fixture_free(&f);
}

TEST(every_rfc8460_header_is_present_once)
{
    static const char *const names[] = {"From",
                                        "To",
                                        "Subject",
                                        "Date",
                                        "Message-ID",
                                        "MIME-Version",
                                        "Content-Type",
                                        "TLS-Report-Domain",
                                        "TLS-Report-Submitter",
                                        "TLS-Required",
                                        "Auto-Submitted"};
    fixture f;

    ASSERT(fixture_init(&f) == 0);
    ASSERT(build(&f.m, &f.mail) == 0);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        int count = 0;

        free(header_value(f.mail.data, names[i], 0, &count));
        if (count != 1)
            fprintf(stderr, "  %s: %d\n", names[i], count);
        EXPECT_EQ(count, 1);
    }
    fixture_free(&f);
}

TEST(header_values_are_exactly_as_specified)
{
    fixture f;
    char want[512], *v;

    ASSERT(fixture_init(&f) == 0);
    ASSERT(build(&f.m, &f.mail) == 0);
    /* RFC 8460 §5.3 */
    snprintf(want, sizeof want,
             "Report Domain: example.net Submitter: submitter.test "
             "Report-ID: <%s>",
             f.id.data);
    v = header_value(f.mail.data, "Subject", 0, NULL);
    EXPECT_STREQ(v, want);
    free(v);
    v = header_value(f.mail.data, "TLS-Report-Domain", 0, NULL);
    EXPECT_STREQ(v, "example.net");
    free(v);
    v = header_value(f.mail.data, "TLS-Report-Submitter", 0, NULL);
    EXPECT_STREQ(v, "submitter.test");
    free(v);
    v = header_value(f.mail.data, "TLS-Required", 0, NULL);
    EXPECT_STREQ(v, "No");
    free(v);
    v = header_value(f.mail.data, "Auto-Submitted", 0, NULL);
    EXPECT_STREQ(v, "auto-generated");
    free(v);
    v = header_value(f.mail.data, "Date", 0, NULL);
    EXPECT_STREQ(v, "Tue, 03 Dec 2024 00:00:00 +0000");
    free(v);
    v = header_value(f.mail.data, "Message-ID", 0, NULL);
    EXPECT_STREQ(v, "<tlsrpt.20059.1@submitter.test>");
    free(v);
    v = header_value(f.mail.data, "From", 0, NULL);
    EXPECT_STREQ(v, "tlsrpt@submitter.test");
    free(v);
    v = header_value(f.mail.data, "MIME-Version", 0, NULL);
    EXPECT_STREQ(v, "1.0");
    free(v);
    v = header_value(f.mail.data, "Content-Type", 0, NULL);
    EXPECT(v && strncmp(v,
                        "multipart/report; report-type=\"tlsrpt\"; "
                        "boundary=\"=_",
                        52) == 0);
    free(v);
    fixture_free(&f);
}

TEST(date_header_follows_rfc5322_for_edge_times)
{
    static const struct {
        int64_t t;
        const char *want;
    } cases[] = {
        {0, "Thu, 01 Jan 1970 00:00:00 +0000"},
        {1725407999, "Tue, 03 Sep 2024 23:59:59 +0000"},
        {951782400, "Tue, 29 Feb 2000 00:00:00 +0000"},
        {253402300799LL, "Fri, 31 Dec 9999 23:59:59 +0000"},
    };
    fixture f;

    ASSERT(fixture_init(&f) == 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *v;

        f.m.date = cases[i].t;
        ASSERT(build(&f.m, &f.mail) == 0);
        v = header_value(f.mail.data, "Date", 0, NULL);
        EXPECT_STREQ(v, cases[i].want);
        free(v);
    }
    fixture_free(&f);
}

TEST(several_recipients_are_listed_and_folded)
{
    static const char *const to[] = {
        "tlsrpt@example.net", "tls-reports@reports.example.net",
        "a.b.c@d.example.org", "x@y.example", NULL};
    fixture f;
    char *v;

    ASSERT(fixture_init(&f) == 0);
    f.m.to = to;
    ASSERT(build(&f.m, &f.mail) == 0);
    v = header_value(f.mail.data, "To", 0, NULL);
    EXPECT_STREQ(v, "tlsrpt@example.net, tls-reports@reports.example.net, "
                    "a.b.c@d.example.org, x@y.example");
    free(v);
    EXPECT(strstr(f.mail.data, "\r\n a.b.c@d.example.org") ||
           strstr(f.mail.data, "\r\n x@y.example"));
    fixture_free(&f);
}

TEST(parts_are_text_then_gzip_attachment_with_rfc_file_name)
{
    fixture f;
    char *b, *h1 = NULL, *h2 = NULL, *p1, *p2, want[1200];

    ASSERT(fixture_init(&f) == 0);
    ASSERT(build(&f.m, &f.mail) == 0);
    b = boundary_of(f.mail.data);
    ASSERT(b);
    p1 = part(f.mail.data, b, 0, &h1);
    p2 = part(f.mail.data, b, 1, &h2);
    ASSERT(p1 && p2 && h1 && h2);
    EXPECT(part(f.mail.data, b, 2, NULL) == NULL);
    EXPECT(strstr(h1, "Content-Type: text/plain; charset=us-ascii\r\n"));
    EXPECT(strstr(p1, "RFC 8460"));
    EXPECT(strstr(p1, f.id.data));
    EXPECT(strstr(h2, "Content-Type: application/tlsrpt+gzip;"));
    EXPECT(strstr(h2, "Content-Transfer-Encoding: base64\r\n"));
    snprintf(want, sizeof want,
             "Content-Disposition: attachment;\r\n filename=\"%s\"\r\n",
             f.name.data);
    EXPECT(strstr(h2, want));
    /* §5.3 name: submitter!policy-domain!begin!end!unique.json.gz */
    {
        static const char prefix[] =
            "submitter.test!example.net!1733097600!1733183999!";

        EXPECT(strncmp(f.name.data, prefix, sizeof prefix - 1) == 0);
        EXPECT(strstr(f.name.data, ".json.gz") != NULL);
    }
    /* closing delimiter ends the message */
    snprintf(want, sizeof want, "\r\n--%s--\r\n", b);
    EXPECT(f.mail.len > strlen(want) &&
           strcmp(f.mail.data + f.mail.len - strlen(want), want) == 0);
    free(b);
    free(h1);
    free(h2);
    free(p1);
    free(p2);
    fixture_free(&f);
}

/* RFC 2045 §6.8: lines of 76 characters; decoding gives the exact bytes,
 * for sizes around the 57-octet line boundary. */
TEST(base64_attachment_decodes_to_the_exact_gzip_bytes)
{
    static const size_t sizes[] = {18, 56, 57, 58, 114, 1000, 70001};
    fixture f;
    unsigned char *gz = malloc(70001), *dec = malloc(100000);

    ASSERT(fixture_init(&f) == 0);
    ASSERT(gz && dec);
    for (size_t i = 0; i < 70001; i++)
        gz[i] = (unsigned char)(i * 131 + (i >> 7));
    gz[0] = 0x1f;
    gz[1] = 0x8b;
    /* the real report first */
    for (size_t s = 0; s <= sizeof sizes / sizeof sizes[0]; s++) {
        char *b, *p, *line;
        size_t n;

        if (s > 0) {
            f.m.gzip = gz;
            f.m.gzip_len = sizes[s - 1];
        }
        ASSERT(build(&f.m, &f.mail) == 0);
        b = boundary_of(f.mail.data);
        p = b ? part(f.mail.data, b, 1, NULL) : NULL;
        ASSERT(p);
        for (line = p; *line;) {
            size_t len = strcspn(line, "\r");

            /* every line 76, the last one at most 76 */
            EXPECT(len == 76 || (len <= 76 && line[len] == '\0'));
            line += len;
            if (*line)
                line += 2;
        }
        n = b64_decode(p, dec, 100000);
        EXPECT_EQ(n, f.m.gzip_len);
        EXPECT(n == f.m.gzip_len && memcmp(dec, f.m.gzip, n) == 0);
        free(b);
        free(p);
    }
    free(gz);
    free(dec);
    fixture_free(&f);
}

TEST(boundary_occurs_only_as_delimiter_even_if_text_contains_it)
{
    fixture f;
    char *b1, *b2, text[256];
    size_t count = 0;

    ASSERT(fixture_init(&f) == 0);
    ASSERT(build(&f.m, &f.mail) == 0);
    b1 = boundary_of(f.mail.data);
    ASSERT(b1);
    for (const char *p = f.mail.data; (p = strstr(p, b1)); p++)
        count++;
    EXPECT_EQ(count, 4); /* Content-Type, two delimiters, the close */
    /* a text quoting the boundary forces another one */
    snprintf(text, sizeof text, "see --%s\nfor details\n", b1);
    f.m.text = text;
    ASSERT(build(&f.m, &f.mail) == 0);
    b2 = boundary_of(f.mail.data);
    ASSERT(b2);
    EXPECT(strcmp(b1, b2) != 0);
    count = 0;
    for (const char *p = f.mail.data; (p = strstr(p, b2)); p++)
        count++;
    EXPECT_EQ(count, 4);
    free(b1);
    free(b2);
    fixture_free(&f);
}

TEST(caller_text_becomes_crlf_lines)
{
    fixture f;
    char *b, *p;

    ASSERT(fixture_init(&f) == 0);
    f.m.text = "Line one\n\tindented\r\nlast without newline";
    ASSERT(build(&f.m, &f.mail) == 0);
    b = boundary_of(f.mail.data);
    p = b ? part(f.mail.data, b, 0, NULL) : NULL;
    ASSERT(p);
    EXPECT_STREQ(p, "Line one\r\n\tindented\r\nlast without newline\r\n");
    free(b);
    free(p);
    fixture_free(&f);
}

TEST(equal_inputs_give_equal_bytes)
{
    fixture f;
    trpt_buf second;

    ASSERT(fixture_init(&f) == 0);
    trpt_buf_init(&second);
    ASSERT(build(&f.m, &f.mail) == 0);
    ASSERT(build(&f.m, &second) == 0);
    EXPECT_EQ(f.mail.len, second.len);
    EXPECT(f.mail.len == second.len &&
           memcmp(f.mail.data, second.data, second.len) == 0);
    trpt_buf_free(&second);
    fixture_free(&f);
}

TEST(message_id_is_random_when_not_given)
{
    fixture f;
    char *a, *b;

    ASSERT(fixture_init(&f) == 0);
    f.m.msgid_unique = NULL;
    f.m.msgid_domain = "mail.submitter.test";
    ASSERT(build(&f.m, &f.mail) == 0);
    a = header_value(f.mail.data, "Message-ID", 0, NULL);
    ASSERT(build(&f.m, &f.mail) == 0);
    b = header_value(f.mail.data, "Message-ID", 0, NULL);
    ASSERT(a && b);
    EXPECT(strcmp(a, b) != 0);
    EXPECT_EQ(strlen(a), 1 + 32 + 1 + strlen("mail.submitter.test") + 1);
    EXPECT(strspn(a + 1, "0123456789abcdef") == 32);
    EXPECT(strstr(a, "@mail.submitter.test>") != NULL);
    free(a);
    free(b);
    fixture_free(&f);
}

/* ---- refusals ----------------------------------------------------------- */

#define EXPECT_REFUSED(f, field, value)                                        \
    do {                                                                       \
        trpt_report_mail saved = (f).m;                                        \
        (f).m.field = (value);                                                 \
        trpt_buf_reset(&(f).mail);                                             \
        trpt_buf_puts(&(f).mail, "keep");                                      \
        EXPECT_EQ(trpt_report_mail_build(&(f).m, &(f).mail), -EINVAL);         \
        EXPECT_STREQ((f).mail.data, "keep");                                   \
        (f).m = saved;                                                         \
    } while (0)

TEST(header_injection_and_non_ascii_are_refused)
{
    static const char *const to_crlf[] = {"a@b.test\r\nBcc: x@evil.test", NULL};
    static const char *const to_none[] = {NULL};
    static const char *const to_name[] = {"Someone <a@b.test>", NULL};
    fixture f;

    ASSERT(fixture_init(&f) == 0);
    EXPECT_REFUSED(f, policy_domain, "example.net\r\nBcc: x@evil.test");
    EXPECT_REFUSED(f, policy_domain, "example.net\n");
    EXPECT_REFUSED(f, policy_domain, "ex ample.net");
    EXPECT_REFUSED(f, policy_domain,
                   "b\xc3\xbc"
                   "cher.example");                      /* UTF-8 ü */
    EXPECT_REFUSED(f, policy_domain, "bad\xff.example"); /* not UTF-8 */
    EXPECT_REFUSED(f, policy_domain, "");
    EXPECT_REFUSED(f, policy_domain, "a..b");
    EXPECT_REFUSED(f, policy_domain, NULL);
    EXPECT_REFUSED(f, submitter, "submitter.test\r\n");
    EXPECT_REFUSED(f, from, "tlsrpt@submitter.test\r\nX: y");
    EXPECT_REFUSED(f, from, "no-at-sign");
    EXPECT_REFUSED(f, from, "\"quoted\"@submitter.test");
    EXPECT_REFUSED(f, to, to_crlf);
    EXPECT_REFUSED(f, to, to_none);
    EXPECT_REFUSED(f, to, to_name);
    EXPECT_REFUSED(f, to, NULL);
    EXPECT_REFUSED(f, report_id, "id@x>\r\nBcc: x@evil.test");
    EXPECT_REFUSED(f, report_id, "a b@x");
    EXPECT_REFUSED(f, report_id, "a>b@x");
    EXPECT_REFUSED(f, report_id, "\xe2\x82\xac");
    EXPECT_REFUSED(f, report_id, "");
    EXPECT_REFUSED(f, report_id, "no-at-sign");
    EXPECT_REFUSED(f, report_id, "@submitter.test");
    EXPECT_REFUSED(f, report_id, "left@");
    EXPECT_REFUSED(f, file_name, "submitter.test!example.net!1!2!x\".json.gz");
    EXPECT_REFUSED(f, file_name, "submitter.test!example.net!1!2!../x.json.gz");
    EXPECT_REFUSED(f, file_name, "submitter.test!example.net!1!2!x\\y.json.gz");
    EXPECT_REFUSED(f, file_name, "submitter.test!example.net!1!2\r\n.json.gz");
    EXPECT_REFUSED(f, file_name, "submitter.test!example.net!1!2 .json.gz");
    /* a name of another report or of an uncompressed one */
    EXPECT_REFUSED(f, file_name, "submitter.test!example.org!1!2.json.gz");
    EXPECT_REFUSED(f, file_name, "other.test!example.net!1!2.json.gz");
    EXPECT_REFUSED(f, file_name, "submitter.test!example.net!1!2.json");
    EXPECT_REFUSED(f, file_name, "submitter.test!example.net.json.gz");
    EXPECT_REFUSED(f, file_name, "submitter.testXexample.net!1!2.json.gz");
    EXPECT_REFUSED(f, msgid_unique, "a@b");
    EXPECT_REFUSED(f, msgid_unique, "a>b");
    EXPECT_REFUSED(f, msgid_unique, "a..b");
    EXPECT_REFUSED(f, msgid_domain, "x\r\n");
    EXPECT_REFUSED(f, text, "caf\xc3\xa9\n");
    EXPECT_REFUSED(f, text, "bare\rCR\n");
    EXPECT_REFUSED(f, text, "bell\a\n");
    EXPECT_REFUSED(f, text, "");
    fixture_free(&f);
}

TEST(over_long_and_absurd_values_are_refused)
{
    static char long_domain[300], long_label[80], long_id[600], long_line[1100],
        long_addr[300];
    fixture f;

    ASSERT(fixture_init(&f) == 0);
    for (size_t i = 0; i < 254; i++)
        long_domain[i] = i % 2 ? '.' : 'a'; /* 254 chars */
    long_domain[254] = '\0';
    memset(long_label, 'a', 64);
    strcpy(long_label + 64, ".test");
    memset(long_id, 'x', 513);
    long_id[5] = '@';
    memset(long_line, 'y', 999);
    long_line[999] = '\n';
    memset(long_addr, 'u', 250);
    strcpy(long_addr + 250, "@a.bc");
    EXPECT_REFUSED(f, policy_domain, long_domain);
    EXPECT_REFUSED(f, submitter, long_label);
    EXPECT_REFUSED(f, report_id, long_id);
    EXPECT_REFUSED(f, text, long_line);
    EXPECT_REFUSED(f, from, long_addr);
    EXPECT_REFUSED(f, date, -1);
    EXPECT_REFUSED(f, date, 253402300800LL); /* year 10000 */
    EXPECT_REFUSED(f, date, INT64_MAX);
    EXPECT_REFUSED(f, gzip_len, 0);
    EXPECT_REFUSED(f, gzip_len, 17);
    EXPECT_REFUSED(f, gzip_len, (size_t)1 << 40);
    EXPECT_REFUSED(f, gzip, "not gzip at all, really");
    EXPECT_REFUSED(f, gzip, NULL);
    /* just inside the limits still builds */
    long_line[998] = '\n';
    long_line[999] = '\0';
    f.m.text = long_line;
    trpt_buf_reset(&f.mail);
    EXPECT_EQ(trpt_report_mail_build(&f.m, &f.mail), 0);
    EXPECT_EQ(trpt_report_mail_build(NULL, &f.mail), -EINVAL);
    fixture_free(&f);
}

TEST(too_many_recipients_are_refused)
{
    static const char *to[66];
    fixture f;

    ASSERT(fixture_init(&f) == 0);
    for (size_t i = 0; i < 65; i++)
        to[i] = "a@b.test";
    to[65] = NULL;
    EXPECT_REFUSED(f, to, to);
    to[64] = NULL; /* 64 is the limit */
    f.m.to = to;
    EXPECT_EQ(build(&f.m, &f.mail), 0);
    fixture_free(&f);
}

/* Privacy: beyond fixed wording, the mail holds only the caller's names
 * and the report (no host name, user or path of the machine). */
TEST(mail_holds_nothing_but_inputs_and_report)
{
    fixture f;
    char host[256] = "";
    const char *user = getenv("USER");

    ASSERT(fixture_init(&f) == 0);
    ASSERT(build(&f.m, &f.mail) == 0);
    gethostname(host, sizeof host - 1);
    if (strlen(host) > 3)
        EXPECT(strstr(f.mail.data, host) == NULL);
    if (user && strlen(user) > 3)
        EXPECT(strstr(f.mail.data, user) == NULL);
    EXPECT(strstr(f.mail.data, "/work") == NULL);
    EXPECT(strstr(f.mail.data, "/tmp") == NULL);
    fixture_free(&f);
}
