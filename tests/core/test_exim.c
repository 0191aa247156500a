/* test_exim.c - the Exim parser (core/exim.c) through the public
 * trpt_parser API, on the real Exim 4.96 logs of
 * corpus/postfix-3.7-exim-4.96 (exim/NN-*.log and raw/exim-mainlog).
 *
 * Where the corpus README expects a result the Exim log cannot show, the
 * expectation table below says what we emit and why. */
#include "harness.h"

#include <errno.h>

#include "parser.h"
#include "record.h"
#include "timeutil.h"

#define CORPUS   "corpus/postfix-3.7-exim-4.96/"
#define MAX_RECS 128

typedef struct collected {
    trpt_record recs[MAX_RECS];
    size_t n;
    trpt_buf json; /* every record's JSON, one per line */
} collected;

static int collect(void *ctx, const trpt_record *rec)
{
    collected *c = ctx;
    int r;

    if (c->n == MAX_RECS)
        return -ENOSPC;
    if ((r = trpt_record_copy(&c->recs[c->n], rec)) < 0)
        return r;
    c->n++;
    if ((r = trpt_record_to_json(rec, &c->json)) < 0)
        return r;
    return trpt_buf_putc(&c->json, '\n');
}

static void collected_free(collected *c)
{
    for (size_t i = 0; i < c->n; i++)
        trpt_record_free(&c->recs[i]);
    trpt_buf_free(&c->json);
    memset(c, 0, sizeof *c);
}

static int64_t ref_time(void)
{
    return (trpt_days_from_civil(2026, 11, 28) * 86400LL + 12 * 3600) *
           1000000LL;
}

static trpt_parser *new_parser(collected *c, trpt_mta_format format,
                               const char *const *exclude, size_t max_sessions)
{
    trpt_parser_config cfg = {
        .format = format,
        .source_id = "test",
        .ref_time_us = ref_time(),
        .max_sessions = max_sessions,
        .exclude_senders = exclude,
    };
    trpt_parser *p = NULL;

    memset(c, 0, sizeof *c);
    trpt_buf_init(&c->json);
    if (trpt_parser_new(&p, &cfg, collect, c) < 0)
        return NULL;
    return p;
}

/* Feeds a file line by line with byte offsets, then flushes. */
static int feed_file(trpt_parser *p, const char *rel)
{
    FILE *f = fopen(shared_path(rel), "r");
    char *line = NULL;
    size_t cap = 0;
    uint64_t off = 0;
    ssize_t n;
    int r = 0;

    if (!f) {
        fprintf(stderr, "  cannot open %s\n", shared_path(rel));
        return -ENOENT;
    }
    while (r >= 0 && (n = getline(&line, &cap, f)) > 0) {
        size_t len = (size_t)n;

        if (line[len - 1] == '\n')
            len--;
        r = trpt_parser_feed(p, line, len, off);
        off += (uint64_t)n;
    }
    free(line);
    fclose(f);
    return r < 0 ? r : trpt_parser_flush(p, off);
}

static int feed_str(trpt_parser *p, const char *line, uint64_t off)
{
    return trpt_parser_feed(p, line, strlen(line), off);
}

/* ---- per-scenario expectations ---- */

typedef struct scenario {
    const char *file;
    size_t records; /* all records of the file have these fields */
    trpt_result result;
    const char *policy_domain;
    trpt_policy_type policy;
    const char *mx, *ip, *reason;
} scenario;

static const scenario scenarios[] = {
    {"01-valid-secure", 2, TRPT_RESULT_SUCCESS, "example-valid.test",
     TRPT_POLICY_UNKNOWN, "mx.example-valid.test", "127.0.77.10", NULL},
    {"02-valid-verify", 1, TRPT_RESULT_SUCCESS, "example-valid-verify.test",
     TRPT_POLICY_UNKNOWN, "mx.example-valid.test", "127.0.77.10", NULL},
    /* README: certificate-expired. GnuTLS Exim logs "certificate invalid"
     * for expired, self-signed and unknown CA alike (03, 07, 08). */
    {"03-expired-secure", 2, TRPT_RESULT_VALIDATION_FAILURE,
     "example-expired.test", TRPT_POLICY_UNKNOWN, "mx.example-expired.test",
     "127.0.77.11", "certificate-invalid"},
    /* README: no policy, delivered. CV=no is TLS without verification:
     * success with policy unknown; the aggregator resolves it to
     * no-policy-found. The retry-time and "TLS error (recv)" lines are
     * noise. */
    {"04-expired-may", 1, TRPT_RESULT_SUCCESS, "example-expired-may.test",
     TRPT_POLICY_UNKNOWN, "mx.example-expired.test", "127.0.77.11", NULL},
    {"05-mismatch-secure", 2, TRPT_RESULT_CERTIFICATE_HOST_MISMATCH,
     "example-mismatch.test", TRPT_POLICY_UNKNOWN, "mx.example-mismatch.test",
     "127.0.77.12", NULL},
    {"06-mismatch-verify", 1, TRPT_RESULT_CERTIFICATE_HOST_MISMATCH,
     "example-mismatch-verify.test", TRPT_POLICY_UNKNOWN,
     "mx.example-mismatch.test", "127.0.77.12", NULL},
    /* README: certificate-not-trusted; see 03. */
    {"07-selfsigned-secure", 2, TRPT_RESULT_VALIDATION_FAILURE,
     "example-selfsigned.test", TRPT_POLICY_UNKNOWN,
     "mx.example-selfsigned.test", "127.0.77.13", "certificate-invalid"},
    /* README: certificate-not-trusted; see 03. */
    {"08-untrusted-ca-verify", 2, TRPT_RESULT_VALIDATION_FAILURE,
     "example-untrusted.test", TRPT_POLICY_UNKNOWN, "mx.example-untrusted.test",
     "127.0.77.15", "certificate-invalid"},
    {"09-untrusted-ca-may", 1, TRPT_RESULT_SUCCESS,
     "example-untrusted-may.test", TRPT_POLICY_UNKNOWN,
     "mx.example-untrusted.test", "127.0.77.15", NULL},
    /* the transport's own "H=... a TLS session is required" line and the
     * "==" line are one session: one record per attempt */
    {"10-nostarttls-encrypt", 2, TRPT_RESULT_STARTTLS_NOT_SUPPORTED,
     "example-nostarttls.test", TRPT_POLICY_UNKNOWN,
     "mx.example-nostarttls.test", "127.0.77.14", NULL},
    /* README (Postfix): plaintext. Exim deferred it: hosts_try_dane with a
     * signed TLSA record made TLS mandatory (README "More Exim
     * behaviour"). */
    {"11-nostarttls-may", 1, TRPT_RESULT_STARTTLS_NOT_SUPPORTED,
     "example-nostarttls-may.test", TRPT_POLICY_UNKNOWN,
     "mx.example-nostarttls.test", "127.0.77.14", NULL},
    /* CV=dane: policy tlsa, policy domain the MX host (RFC 8460 section 3) */
    {"12-dane-ok", 1, TRPT_RESULT_SUCCESS, "mx.example-dane.test",
     TRPT_POLICY_TLSA, "mx.example-dane.test", "127.0.77.20", NULL},
    /* README: tlsa-invalid (or validation-failure). We follow Postfix
     * 3.10's own verdict for a TLSA mismatch: certificate-not-trusted. */
    {"13-dane-tlsa-mismatch", 2, TRPT_RESULT_CERTIFICATE_NOT_TRUSTED,
     "mx.example-dane-bad.test", TRPT_POLICY_TLSA, "mx.example-dane-bad.test",
     "127.0.77.21", NULL},
    /* dane-required as the README expects; the bounce line names no MX
     * host, so the policy domain stays the recipient domain and the policy
     * type unknown. */
    {"14-dane-only-no-tlsa", 1, TRPT_RESULT_DANE_REQUIRED,
     "example-dane-notlsa.test", TRPT_POLICY_UNKNOWN, NULL, NULL, NULL},
    {"15-dane-no-tlsa-fallback", 1, TRPT_RESULT_SUCCESS,
     "example-dane-fallback.test", TRPT_POLICY_UNKNOWN,
     "mx.example-dane-notlsa.test", "127.0.77.22", NULL},
    /* README: dnssec-invalid. "host lookup did not complete" is the same
     * for every SERVFAIL or time-out, so no record (see exim.c). */
    {"16-dnssec-bogus-mx", 0, TRPT_RESULT_SUCCESS, NULL, TRPT_POLICY_UNKNOWN,
     NULL, NULL, NULL},
    /* the "==" line has no H=; the MX host comes from the transport's
     * "H=... DANE error" line of the same message */
    {"17-dnssec-bogus-tlsa", 2, TRPT_RESULT_DNSSEC_INVALID,
     "mx.example-dane-bogustlsa.test", TRPT_POLICY_TLSA,
     "mx.example-dane-bogustlsa.test", "127.0.77.24", NULL},
    /* README: starttls-not-supported (tlsa). The Exim line is the same as
     * for "encrypt" (only the transport name says DANE), so the policy
     * type stays unknown. */
    {"18-dane-nostarttls", 1, TRPT_RESULT_STARTTLS_NOT_SUPPORTED,
     "example-dane-nostarttls.test", TRPT_POLICY_UNKNOWN,
     "mx.example-nostarttls.test", "127.0.77.14", NULL},
};

static void check_scenario(const scenario *sc)
{
    char rel[256];
    collected c;
    trpt_parser *p = new_parser(&c, TRPT_FORMAT_EXIM, NULL, 0);

    ASSERT(p);
    snprintf(rel, sizeof rel, CORPUS "exim/%s.log", sc->file);
    EXPECT_EQ(feed_file(p, rel), 0);
    if (c.n != sc->records)
        fprintf(stderr, "  %s: %zu records\n%s", sc->file, c.n,
                c.json.data ? c.json.data : "");
    EXPECT_EQ(c.n, sc->records);
    for (size_t i = 0; i < c.n; i++) {
        const trpt_record *r = &c.recs[i];

        EXPECT_EQ(r->result, sc->result);
        EXPECT_STREQ(r->policy_domain, sc->policy_domain);
        EXPECT_EQ(r->policy_type, sc->policy);
        EXPECT_STREQ(r->receiving_mx_hostname, sc->mx);
        EXPECT_STREQ(r->receiving_ip, sc->ip);
        EXPECT_STREQ(r->failure_reason_code, sc->reason);
        EXPECT_STREQ(r->mta, "exim");
        EXPECT(r->reporting_host == NULL); /* the mainlog names no host */
        EXPECT(r->queue_id && strlen(r->queue_id) == 16);
        EXPECT(r->time_us > ref_time() - 3600LL * 1000000 &&
               r->time_us < ref_time());
    }
    for (int e = 0; e < TRPT_PERR_COUNT; e++)
        EXPECT_EQ(trpt_parser_stats_get(p)->errors[e], 0);
    trpt_parser_free(p);
    collected_free(&c);
}

TEST(every_exim_scenario_gives_the_documented_result)
{
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
        check_scenario(&scenarios[i]);
}

static size_t count_result(const collected *c, trpt_result res)
{
    size_t n = 0;

    for (size_t i = 0; i < c->n; i++)
        n += c->recs[i].result == res;
    return n;
}

TEST(raw_exim_mainlog_totals)
{
    collected c;
    trpt_parser *p = new_parser(&c, TRPT_FORMAT_EXIM, NULL, 0);
    const trpt_parser_stats *st;

    ASSERT(p);
    EXPECT_EQ(feed_file(p, CORPUS "raw/exim-mainlog"), 0);
    st = trpt_parser_stats_get(p);
    EXPECT_EQ(st->lines, 98);
    EXPECT_EQ(st->records, 25);
    EXPECT_EQ(c.n, 25);
    EXPECT_EQ(st->lines_used + st->lines_ignored, 98);
    EXPECT_EQ(st->excluded, 0);
    for (int e = 0; e < TRPT_PERR_COUNT; e++)
        EXPECT_EQ(st->errors[e], 0);
    EXPECT_EQ(count_result(&c, TRPT_RESULT_SUCCESS), 7);
    EXPECT_EQ(count_result(&c, TRPT_RESULT_VALIDATION_FAILURE), 6);
    EXPECT_EQ(count_result(&c, TRPT_RESULT_CERTIFICATE_HOST_MISMATCH), 3);
    EXPECT_EQ(count_result(&c, TRPT_RESULT_STARTTLS_NOT_SUPPORTED), 4);
    EXPECT_EQ(count_result(&c, TRPT_RESULT_CERTIFICATE_NOT_TRUSTED), 2);
    EXPECT_EQ(count_result(&c, TRPT_RESULT_DANE_REQUIRED), 1);
    EXPECT_EQ(count_result(&c, TRPT_RESULT_DNSSEC_INVALID), 2);
    /* event ids strictly increase within the source (design.md) */
    for (size_t i = 1; i < c.n; i++)
        EXPECT(strcmp(c.recs[i - 1].event_id, c.recs[i].event_id) != 0);
    trpt_parser_free(p);
    collected_free(&c);
}

TEST(auto_format_routes_exim_mainlog_lines_to_the_exim_parser)
{
    collected c;
    trpt_parser *p = new_parser(&c, TRPT_FORMAT_AUTO, NULL, 0);

    ASSERT(p);
    EXPECT_EQ(feed_file(p, CORPUS "raw/exim-mainlog"), 0);
    EXPECT_EQ(c.n, 25);
    trpt_parser_free(p);
    collected_free(&c);
}

TEST(event_id_names_the_offset_of_the_concluding_line)
{
    /* 01-valid-secure.log: the first "=>" line starts after the "<=" line */
    collected c;
    trpt_parser *p = new_parser(&c, TRPT_FORMAT_EXIM, NULL, 0);
    const char *l1 = "2026-11-28 11:48:30 [10207] 1xXGus-0002ed-1e <= "
                     "alice@sender.test U=root P=local S=344";
    char id[64];

    ASSERT(p);
    EXPECT_EQ(feed_file(p, CORPUS "exim/01-valid-secure.log"), 0);
    ASSERT(c.n == 2);
    snprintf(id, sizeof id, "test:%zu.0", strlen(l1) + 1);
    EXPECT_STREQ(c.recs[0].event_id, id);
    EXPECT_STREQ(c.recs[0].queue_id, "1xXGus-0002ed-1e");
    EXPECT_STREQ(c.recs[1].queue_id, "1xXGuw-0002fU-0i");
    trpt_parser_free(p);
    collected_free(&c);
}

TEST(local_parts_never_reach_the_json)
{
    collected c;
    trpt_parser *p = new_parser(&c, TRPT_FORMAT_EXIM, NULL, 0);

    ASSERT(p);
    EXPECT_EQ(feed_file(p, CORPUS "raw/exim-mainlog"), 0);
    ASSERT(c.json.data);
    EXPECT(strstr(c.json.data, "postmaster") == NULL);
    EXPECT(strstr(c.json.data, "alice") == NULL);
    EXPECT(strchr(c.json.data, '@') == NULL);
    EXPECT(strstr(c.json.data, "example-valid.test") != NULL);
    trpt_parser_free(p);
    collected_free(&c);
}

TEST(excluded_sender_drops_every_delivery_of_its_messages)
{
    static const char *const excl[] = {"ALICE@Sender.Test", NULL};
    collected c;
    trpt_parser *p = new_parser(&c, TRPT_FORMAT_EXIM, excl, 0);
    const trpt_parser_stats *st;

    ASSERT(p);
    EXPECT_EQ(feed_file(p, CORPUS "raw/exim-mainlog"), 0);
    st = trpt_parser_stats_get(p);
    EXPECT_EQ(c.n, 0);
    EXPECT_EQ(st->records, 0);
    EXPECT_EQ(st->excluded, 25); /* the 25 sessions counted above */
    trpt_parser_free(p);
    collected_free(&c);
}

TEST(other_senders_are_not_excluded)
{
    static const char *const excl[] = {"tlsrpt-noreply@sender.test", NULL};
    collected c;
    trpt_parser *p = new_parser(&c, TRPT_FORMAT_EXIM, excl, 0);

    ASSERT(p);
    EXPECT_EQ(feed_file(p, CORPUS "raw/exim-mainlog"), 0);
    EXPECT_EQ(c.n, 25);
    EXPECT_EQ(trpt_parser_stats_get(p)->excluded, 0);
    trpt_parser_free(p);
    collected_free(&c);
}

/* Constructed from the corpus lines of 01 with other message ids. */
static void arrival(trpt_parser *p, const char *id, uint64_t off)
{
    char line[256];

    snprintf(line, sizeof line,
             "2026-11-28 11:48:30 [10207] %s <= alice@sender.test U=root "
             "P=local S=344",
             id);
    EXPECT_EQ(feed_str(p, line, off), 0);
}

static void delivery(trpt_parser *p, const char *id, uint64_t off)
{
    char line[512];

    snprintf(line, sizeof line,
             "2026-11-28 11:48:30 [10212] %s => postmaster@example-valid.test "
             "R=dnslookup T=remote_verify S=355 H=mx.example-valid.test "
             "[127.0.77.10]:25 X=TLS1.3:ECDHE_SECP256R1__RSA_PSS_RSAE_SHA256__"
             "AES_256_GCM:256 CV=yes DN=\"CN=mx.example-valid.test\" K "
             "C=\"250 2.0.0 Ok: 355 bytes queued as 8A1C8A7413D\"",
             id);
    EXPECT_EQ(feed_str(p, line, off), 0);
}

TEST(exclusion_table_is_bounded_and_evicts_the_oldest)
{
    static const char *const excl[] = {"alice@sender.test", NULL};
    collected c;
    trpt_parser *p = new_parser(&c, TRPT_FORMAT_EXIM, excl, 2);

    ASSERT(p);
    arrival(p, "1xXGus-0002ed-1a", 0);
    arrival(p, "1xXGus-0002ed-1b", 100);
    arrival(p, "1xXGus-0002ed-1c", 200); /* evicts ...-1a */
    EXPECT_EQ(trpt_parser_stats_get(p)->evicted, 1);
    delivery(p, "1xXGus-0002ed-1a", 300); /* forgotten: counted */
    delivery(p, "1xXGus-0002ed-1c", 400); /* still excluded */
    EXPECT_EQ(c.n, 1);
    EXPECT_EQ(trpt_parser_stats_get(p)->excluded, 1);
    if (c.n == 1)
        EXPECT_STREQ(c.recs[0].queue_id, "1xXGus-0002ed-1a");
    trpt_parser_free(p);
    collected_free(&c);
}

TEST(completed_message_forgets_its_exclusion)
{
    static const char *const excl[] = {"alice@sender.test", NULL};
    collected c;
    trpt_parser *p = new_parser(&c, TRPT_FORMAT_EXIM, excl, 0);

    ASSERT(p);
    arrival(p, "1xXGus-0002ed-1e", 0);
    delivery(p, "1xXGus-0002ed-1e", 100);
    EXPECT_EQ(feed_str(p,
                       "2026-11-28 11:48:30 [10212] 1xXGus-0002ed-1e "
                       "Completed",
                       200),
              0);
    /* the same id again (ids are unique in practice; this shows the entry
     * is gone, so the table does not grow with finished messages) */
    delivery(p, "1xXGus-0002ed-1e", 300);
    EXPECT_EQ(trpt_parser_stats_get(p)->excluded, 1);
    EXPECT_EQ(c.n, 1);
    trpt_parser_free(p);
    collected_free(&c);
}

TEST(exim_via_syslog_takes_the_host_from_the_syslog_header)
{
    collected c;
    trpt_parser *p = new_parser(&c, TRPT_FORMAT_AUTO, NULL, 0);

    ASSERT(p);
    EXPECT_EQ(feed_str(p,
                       "Nov 28 11:48:30 mta-out-exim exim[10212]: "
                       "1xXGus-0002ed-1e => postmaster@example-valid.test "
                       "R=dnslookup T=remote_verify S=355 H=mx.example-valid."
                       "test [127.0.77.10]:25 X=TLS1.3:ECDHE_SECP256R1__RSA_"
                       "PSS_RSAE_SHA256__AES_256_GCM:256 CV=yes "
                       "DN=\"CN=mx.example-valid.test\" K C=\"250 2.0.0 Ok\"",
                       0),
              0);
    EXPECT_EQ(feed_str(p,
                       "Nov 28 11:48:34 mta-out-exim exim4[10303]: "
                       "1xXGuw-0002g6-1c == postmaster@example-mismatch.test "
                       "R=dnslookup T=remote_verify defer (-37) "
                       "H=mx.example-mismatch.test [127.0.77.12]:25: TLS "
                       "session: (certificate verification failed)",
                       100),
              0);
    ASSERT(c.n == 2);
    EXPECT_STREQ(c.recs[0].reporting_host, "mta-out-exim");
    EXPECT_EQ(c.recs[0].result, TRPT_RESULT_SUCCESS);
    EXPECT_STREQ(c.recs[1].reporting_host, "mta-out-exim");
    EXPECT_EQ(c.recs[1].result, TRPT_RESULT_CERTIFICATE_HOST_MISMATCH);
    trpt_parser_free(p);
    collected_free(&c);
}

/* Behaviour beyond the corpus, on lines constructed in Exim's format. */

TEST(plaintext_delivery_makes_no_record)
{
    collected c;
    trpt_parser *p = new_parser(&c, TRPT_FORMAT_EXIM, NULL, 0);

    ASSERT(p);
    feed_str(p,
             "2026-11-28 11:48:30 [1] 1xXGus-0002ed-1e => u@example.test "
             "R=dnslookup T=remote_smtp S=355 H=mx.example.test "
             "[192.0.2.1]:25 C=\"250 OK: TLS session: (certificate "
             "verification failed)\"",
             0);
    EXPECT_EQ(c.n, 0);
    trpt_parser_free(p);
    collected_free(&c);
}

TEST(remote_reply_text_is_not_taken_for_a_tls_verdict)
{
    collected c;
    trpt_parser *p = new_parser(&c, TRPT_FORMAT_EXIM, NULL, 0);

    ASSERT(p);
    feed_str(p,
             "2026-11-28 11:48:30 [1] 1xXGus-0002ed-1e == u@example.test "
             "R=dnslookup T=remote_smtp defer (-44) H=mx.example.test "
             "[192.0.2.1]:25: SMTP error from remote mail server after RCPT "
             "TO:<u@example.test>: 451 a TLS session is required, but the "
             "server did not offer TLS support",
             0);
    EXPECT_EQ(c.n, 0);
    trpt_parser_free(p);
    collected_free(&c);
}

TEST(rejection_after_established_tls_is_a_tls_success)
{
    collected c;
    trpt_parser *p = new_parser(&c, TRPT_FORMAT_EXIM, NULL, 0);

    ASSERT(p);
    feed_str(p,
             "2026-11-28 11:48:30 [1] 1xXGus-0002ed-1e ** u@example.test "
             "R=dnslookup T=remote_smtp H=mx.example.test [192.0.2.1]:25 "
             "X=TLS1.3:ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM:256 "
             "CV=yes DN=\"CN=mx.example.test\": SMTP error from remote mail "
             "server after RCPT TO:<u@example.test>: 550 5.1.1 unknown",
             0);
    ASSERT(c.n == 1);
    EXPECT_EQ(c.recs[0].result, TRPT_RESULT_SUCCESS);
    EXPECT_STREQ(c.recs[0].policy_domain, "example.test");
    trpt_parser_free(p);
    collected_free(&c);
}

TEST(second_recipient_of_one_session_is_counted_once_per_domain)
{
    const char *tail = " R=dnslookup T=remote_smtp S=355 H=mx.example.test "
                       "[192.0.2.1]:25 X=TLS1.3:AES_256_GCM:256 CV=yes K "
                       "C=\"250 OK\"";
    char line[512];
    collected c;
    trpt_parser *p = new_parser(&c, TRPT_FORMAT_EXIM, NULL, 0);

    ASSERT(p);
    snprintf(line, sizeof line,
             "2026-11-28 11:48:30 [7] 1xXGus-0002ed-1e => a@example.test%s",
             tail);
    feed_str(p, line, 0);
    snprintf(line, sizeof line,
             "2026-11-28 11:48:30 [7] 1xXGus-0002ed-1e -> b@Example.Test%s",
             tail);
    feed_str(p, line, 100);
    snprintf(line, sizeof line,
             "2026-11-28 11:48:30 [7] 1xXGus-0002ed-1e -> c@other.test%s",
             tail);
    feed_str(p, line, 200);
    ASSERT(c.n == 2);
    EXPECT_STREQ(c.recs[0].policy_domain, "example.test");
    EXPECT_STREQ(c.recs[1].policy_domain, "other.test");
    trpt_parser_free(p);
    collected_free(&c);
}

TEST(failed_attempt_on_another_mx_is_its_own_session)
{
    collected c;
    trpt_parser *p = new_parser(&c, TRPT_FORMAT_EXIM, NULL, 0);

    ASSERT(p);
    feed_str(p,
             "2026-11-28 11:48:34 [11] 1xXGuw-0002gn-2c H=mx1.example.test "
             "[192.0.2.1]:25: a TLS session is required, but the server did "
             "not offer TLS support",
             0);
    feed_str(p,
             "2026-11-28 11:48:34 [10] 1xXGuw-0002gn-2c => u@example.test "
             "R=dnslookup T=remote_encrypt S=355 H=mx2.example.test "
             "[192.0.2.2]:25 X=TLS1.3:AES_256_GCM:256 CV=yes K C=\"250 OK\"",
             100);
    ASSERT(c.n == 2);
    EXPECT_EQ(c.recs[0].result, TRPT_RESULT_STARTTLS_NOT_SUPPORTED);
    EXPECT_STREQ(c.recs[0].receiving_mx_hostname, "mx1.example.test");
    EXPECT_STREQ(c.recs[0].policy_domain, "example.test");
    EXPECT_EQ(c.recs[1].result, TRPT_RESULT_SUCCESS);
    EXPECT_STREQ(c.recs[1].receiving_ip, "192.0.2.2");
    EXPECT_STREQ(c.recs[0].event_id, "test:100.0");
    EXPECT_STREQ(c.recs[1].event_id, "test:100.1");
    trpt_parser_free(p);
    collected_free(&c);
}

TEST(malformed_and_hostile_lines_are_counted_or_ignored)
{
    static const char *const lines[] = {
        "garbage",
        "2026-11-28 11:48:34 [1] 1xXGuw-0002fp-1F",
        "2026-11-28 11:48:34 [1] 1xXGuw-0002fp-1F == ",
        "2026-11-28 11:48:34 [1] 1xXGuw-0002fp-1F == @",
        "2026-11-28 11:48:34 [1] 1xXGuw-0002fp-1F == u@ R=x",
        "2026-11-28 11:48:34 [1] 1xXGuw-0002fp-1F == u@exa..mple.test "
        "R=dnslookup T=remote_verify defer (-37) H=mx [1.2.3.4]:25: TLS "
        "session: (certificate verification failed)",
        "2026-11-28 11:48:34 [1] 1xXGuw-0002fp-1F == postmaster@example-"
        "expired.test R=dnslookup T=remote_verify defer (-37) H=mx.example-exp",
        "2026-11-28 11:48:34 [1] 1xXGuw-0002fp-1F == u@d.test H=",
        "2026-11-28 11:48:34 [1] 1xXGuw-0002fp-1F == u@d.test H=[",
        "2026-11-28 11:48:34 [1] 1xXGuw-0002fp-1F H=mx [",
        "2026-11-28 11:48:34 [1] 1xXGuw-0002fp-1F DANE attempt failed; TLS "
        "connection to ",
        "2026-11-28 11:48:34 [1] 1xXGuw-0002f-1F == u@d.test",
        "2026-11-28 11:48:34 [1] 1xXGuw-0002fp-1Fx == u@d.test",
        "2026-11-28 11:48:34 [1] exim user lost privilege for using -C option",
        "2026-13-28 11:48:34 [1] 1xXGuw-0002fp-1F Completed",
        "2026-11-28 11:48:34 [1] 1xXGuw-0002fp-1F == u@d\xff.test",
    };
    collected c;
    trpt_parser *p = new_parser(&c, TRPT_FORMAT_EXIM, NULL, 0);
    const trpt_parser_stats *st;

    ASSERT(p);
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        EXPECT_EQ(feed_str(p, lines[i], i * 10), 0);
    EXPECT_EQ(trpt_parser_feed(p, "2026-11-28 11:48:34 [1] a\0b", 27, 999), 0);
    EXPECT_EQ(trpt_parser_flush(p, 1000), 0);
    st = trpt_parser_stats_get(p);
    EXPECT_EQ(c.n, 0);
    EXPECT_EQ(st->lines, sizeof lines / sizeof lines[0] + 1);
    EXPECT_EQ(st->errors[TRPT_PERR_NO_FRAMING], 1);
    EXPECT_EQ(st->errors[TRPT_PERR_BAD_DATE], 1);
    EXPECT_EQ(st->errors[TRPT_PERR_BAD_UTF8], 1);
    EXPECT_EQ(st->errors[TRPT_PERR_NUL_BYTE], 1);
    EXPECT_EQ(st->errors[TRPT_PERR_BAD_DOMAIN], 1); /* exa..mple.test */
    trpt_parser_free(p);
    collected_free(&c);
}

TEST(postfix_and_mta_sts_lines_make_no_exim_records)
{
    collected c;
    trpt_parser *p = new_parser(&c, TRPT_FORMAT_EXIM, NULL, 0);
    const trpt_parser_stats *st;

    ASSERT(p);
    EXPECT_EQ(feed_file(p, CORPUS "combined-sending-host.log"), 0);
    st = trpt_parser_stats_get(p);
    EXPECT_EQ(c.n, 0);
    EXPECT_EQ(st->lines, 1821);
    for (int e = 0; e < TRPT_PERR_COUNT; e++)
        EXPECT_EQ(st->errors[e], 0);
    trpt_parser_free(p);
    collected_free(&c);
}

static void starttls_attempt(trpt_parser *p, const char *time, const char *id,
                             uint64_t off)
{
    char line[512];

    snprintf(line, sizeof line,
             "2026-11-28 %s [10347] %s H=mx.example-nostarttls.test "
             "[127.0.77.14]:25: a TLS session is required, but the server "
             "did not offer TLS support",
             time, id);
    EXPECT_EQ(feed_str(p, line, off), 0);
}

TEST(attempt_without_concluding_line_is_unfinished_at_flush)
{
    collected c;
    trpt_parser *p = new_parser(&c, TRPT_FORMAT_EXIM, NULL, 0);

    ASSERT(p);
    starttls_attempt(p, "11:48:34", "1xXGuw-0002gn-2c", 0);
    EXPECT_EQ(trpt_parser_flush(p, 100), 0);
    EXPECT_EQ(c.n, 0);
    EXPECT_EQ(trpt_parser_stats_get(p)->unfinished, 1);
    trpt_parser_free(p);
    collected_free(&c);
}

TEST(idle_attempt_times_out_after_session_timeout)
{
    collected c;
    trpt_parser *p = new_parser(&c, TRPT_FORMAT_EXIM, NULL, 0);

    ASSERT(p);
    starttls_attempt(p, "09:00:00", "1xXGuw-0002gn-2a", 0);
    starttls_attempt(p, "09:59:00", "1xXGuw-0002gn-2b", 100); /* < 1 h */
    EXPECT_EQ(trpt_parser_stats_get(p)->timed_out, 0);
    starttls_attempt(p, "11:00:00", "1xXGuw-0002gn-2c", 200); /* > 1 h */
    EXPECT_EQ(trpt_parser_stats_get(p)->timed_out, 2);
    EXPECT_EQ(c.n, 0);
    trpt_parser_free(p);
    collected_free(&c);
}
