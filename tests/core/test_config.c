/* test_config.c - the configuration file: defaults, every parameter, errors
 * with file and line, ranges, policy hints, file permissions. */
#include <errno.h>
#include <sys/stat.h>

#include "config.h"
#include "harness.h"

static char err[512];

/* Writes text to a fresh file in the test's temporary directory. */
static const char *write_conf(const char *text, size_t len, mode_t mode)
{
    static char path[4200];
    static int n;
    FILE *f;

    snprintf(path, sizeof path, "%s/tlsrpt-%d.conf", test_tmpdir(), ++n);
    f = fopen(path, "w");
    if (!f)
        return NULL;
    fwrite(text, 1, len, f);
    fclose(f);
    chmod(path, mode);
    return path;
}

/* Loads text as a config; returns the result, *out set on success. */
static int load_text(const char *text, trpt_config **out)
{
    const char *path = write_conf(text, strlen(text), 0644);

    err[0] = '\0';
    return trpt_config_load(out, path, err, sizeof err);
}

/* Expects text to fail with an error naming LINE and containing what. */
static int fails_at_line(const char *text, unsigned line, const char *what)
{
    trpt_config *c = NULL;
    char want[32];
    int r = load_text(text, &c);

    trpt_config_free(c);
    snprintf(want, sizeof want, ".conf:%u: ", line);
    if (r != -EINVAL || c != NULL || !strstr(err, want) || !strstr(err, what)) {
        fprintf(stderr, "  r=%d err=\"%s\" wanted line %u, \"%s\"\n", r, err,
                line, what);
        return 0;
    }
    return 1;
}

TEST(defaults_fill_every_documented_value)
{
    trpt_config *c = NULL;

    ASSERT(trpt_config_defaults(&c) == 0);
    EXPECT_STREQ(c->spool_directory, "/var/spool/opentlsrpt");
    EXPECT_STREQ(c->state_directory, "/var/lib/opentlsrpt");
    EXPECT_STREQ(c->outbox_directory, "/var/lib/opentlsrpt/outbox");
    EXPECT_EQ(c->report_delay, 3600);
    EXPECT_EQ(c->spool_fsync, TRPT_FSYNC_ALWAYS);
    EXPECT_EQ(c->max_sessions, 100000);
    EXPECT_EQ(c->session_timeout, 3600);
    EXPECT_EQ(c->postfix_tlsrpt, TRPT_TLSRPT_AUTO);
    EXPECT(c->submitter_domain == NULL);
    EXPECT(c->organization_name == NULL);
    EXPECT(c->contact_info == NULL);
    EXPECT_EQ(c->n_hints, 0);
    EXPECT_EQ(c->exclude_senders.n, 0);
    EXPECT_EQ(c->exclude_domains.n, 0);
    trpt_config_free(c);
    trpt_config_free(NULL);
}

TEST(postfix_tlsrpt_takes_its_four_values_and_names_them_on_error)
{
    const struct {
        const char *value;
        trpt_tlsrpt_mode mode;
    } ok[] = {{"auto", TRPT_TLSRPT_AUTO},
              {"yes", TRPT_TLSRPT_ONLY},
              {"no", TRPT_TLSRPT_CLASSIC},
              {"datagrams", TRPT_TLSRPT_DATAGRAMS}};
    trpt_config *c = NULL;
    char text[128];

    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        snprintf(text, sizeof text, "postfix_tlsrpt = %s\n", ok[i].value);
        ASSERT(load_text(text, &c) == 0);
        EXPECT_EQ(c->postfix_tlsrpt, ok[i].mode);
        trpt_config_free(c);
        c = NULL;
    }
    EXPECT(fails_at_line("postfix_tlsrpt = datagram\n", 1,
                         "auto, yes, no or datagrams"));
    EXPECT(fails_at_line("\npostfix_tlsrpt = Datagrams\n", 2, "Datagrams"));
}

TEST(delivery_defaults_are_safe_and_derive_from_the_submitter)
{
    trpt_config *c = NULL;

    ASSERT(load_text("submitter_domain = mail.example.net\n", &c) == 0);
    EXPECT_EQ(c->delivery.dnssec, 1);
    EXPECT_EQ(c->delivery.resolve_policies, 1);
    EXPECT_EQ(c->delivery.smtp_require_tls, 1);
    EXPECT(c->delivery.smtp_server == NULL); /* sendmail */
    EXPECT_STREQ(c->delivery.sendmail_path, "/usr/sbin/sendmail");
    EXPECT_STREQ(c->delivery.report_from, "tlsrpt-noreply@mail.example.net");
    EXPECT_STREQ(c->delivery.dkim_domain, "mail.example.net");
    EXPECT(c->delivery.dkim_key_file == NULL);
    EXPECT_EQ(c->delivery.give_up_after, 86400);
    EXPECT_EQ(c->delivery.max_destinations, 10);
    EXPECT_EQ(c->delivery.allow_addresses.n, 0);
    ASSERT(c->exclude_senders.n == 1);
    EXPECT_STREQ(c->exclude_senders.v[0], "tlsrpt-noreply@mail.example.net");
    trpt_config_free(c);
}

TEST(every_delivery_parameter_is_read)
{
    trpt_config *c = NULL;
    const char *text = "submitter_domain = mail.example.net\n"
                       "dns_server = 127.0.0.1@5353\n"
                       "dns_trust_anchor_file = /etc/opentlsrpt/root.key\n"
                       "dnssec = no\n"
                       "resolve_policies = no\n"
                       "https_ca_file = /etc/ssl/local.pem\n"
                       "allow_address = 127.0.0.1\n"
                       "allow_address = ::1\n"
                       "http_timeout = 30\n"
                       "report_from = reports@example.net\n"
                       "exclude_sender = reports@example.net\n"
                       "smtp_server = smtp://relay.example.net:587\n"
                       "smtp_helo = mail.example.net\n"
                       "smtp_ca_file = /etc/ssl/relay.pem\n"
                       "smtp_require_tls = no\n"
                       "smtp_username = reporter\n"
                       "smtp_password_file = /etc/opentlsrpt/smtp.pw\n"
                       "sendmail_path = /usr/lib/sendmail\n"
                       "dkim_key_file = /etc/opentlsrpt/dkim.pem\n"
                       "dkim_selector = tlsrpt2026\n"
                       "dkim_domain = example.net\n"
                       "send_grace = 600\n"
                       "send_spread = 60\n"
                       "retry_base = 30\n"
                       "retry_max = 900\n"
                       "give_up_after = 7200\n"
                       "send_success_only_reports = no\n"
                       "max_report_size = 100000\n"
                       "max_destinations = 3\n"
                       "suppress = Noisy.Example.com\n"
                       "suppress = later.example.com until=2026-12-31\n";

    ASSERT(load_text(text, &c) == 0);
    EXPECT_STREQ(c->delivery.dns_server, "127.0.0.1@5353");
    EXPECT_STREQ(c->delivery.dns_trust_anchor_file, "/etc/opentlsrpt/root.key");
    EXPECT_EQ(c->delivery.dnssec, 0);
    EXPECT_EQ(c->delivery.resolve_policies, 0);
    EXPECT_STREQ(c->delivery.https_ca_file, "/etc/ssl/local.pem");
    ASSERT(c->delivery.allow_addresses.n == 2);
    EXPECT_STREQ(c->delivery.allow_addresses.v[1], "::1");
    EXPECT_EQ(c->delivery.http_timeout, 30);
    EXPECT_STREQ(c->delivery.report_from, "reports@example.net");
    ASSERT(c->exclude_senders.n == 1); /* not twice */
    EXPECT_STREQ(c->delivery.smtp_server, "smtp://relay.example.net:587");
    EXPECT_STREQ(c->delivery.smtp_helo, "mail.example.net");
    EXPECT_STREQ(c->delivery.smtp_ca_file, "/etc/ssl/relay.pem");
    EXPECT_EQ(c->delivery.smtp_require_tls, 0);
    EXPECT_STREQ(c->delivery.smtp_username, "reporter");
    EXPECT_STREQ(c->delivery.smtp_password_file, "/etc/opentlsrpt/smtp.pw");
    EXPECT_STREQ(c->delivery.sendmail_path, "/usr/lib/sendmail");
    EXPECT_STREQ(c->delivery.dkim_key_file, "/etc/opentlsrpt/dkim.pem");
    EXPECT_STREQ(c->delivery.dkim_selector, "tlsrpt2026");
    EXPECT_STREQ(c->delivery.dkim_domain, "example.net");
    EXPECT_EQ(c->delivery.send_grace, 600);
    EXPECT_EQ(c->delivery.send_spread, 60);
    EXPECT_EQ(c->delivery.retry_base, 30);
    EXPECT_EQ(c->delivery.retry_max, 900);
    EXPECT_EQ(c->delivery.give_up_after, 7200);
    EXPECT_EQ(c->delivery.send_success_only, 0);
    EXPECT_EQ(c->delivery.max_report_size, 100000);
    EXPECT_EQ(c->delivery.max_destinations, 3);
    ASSERT(c->delivery.n_suppress == 2);
    EXPECT(trpt_config_suppressed(c, "noisy.example.com", 99999));
    EXPECT(trpt_config_suppressed(c, "later.example.com", 20818));
    EXPECT(!trpt_config_suppressed(c, "later.example.com", 20819));
    EXPECT(!trpt_config_suppressed(c, "example.com", 0));
    trpt_config_free(c);
}

TEST(bad_delivery_values_are_refused_with_the_line)
{
    EXPECT(fails_at_line("dns_server = resolver.example\n", 1, "IP@PORT"));
    EXPECT(fails_at_line("dnssec = maybe\n", 1, "yes or no"));
    EXPECT(fails_at_line("https_ca_file = relative.pem\n", 1, "absolute"));
    EXPECT(fails_at_line("allow_address = localhost\n", 1, "IP address"));
    EXPECT(fails_at_line("report_from = no-at-sign\n", 1, "mail address"));
    EXPECT(fails_at_line("report_from = a b@example.net\n", 1, "mail address"));
    EXPECT(fails_at_line("smtp_server = relay.example.net\n", 1, "smtp://"));
    EXPECT(fails_at_line("dkim_selector = bad selector\n", 1, "selector"));
    EXPECT(fails_at_line("give_up_after = 5\n", 1, "out of range"));
    EXPECT(fails_at_line("max_destinations = 0\n", 1, "out of range"));
    EXPECT(fails_at_line("suppress = example.com until=tomorrow\n", 1,
                         "until=YYYY-MM-DD"));
    EXPECT(fails_at_line("suppress = -bad-.example\n", 1, "not a domain"));
}

TEST(every_parameter_is_read)
{
    trpt_config *c = NULL;
    const char *text =
        "# a comment\n"
        "\n"
        "organization_name = \"Example  Mail # Ops\"\n"
        "contact_info = mailto:tlsrpt@example.net\n"
        "submitter_domain = MAIL.Example.NET.\n"
        "spool_directory = /srv/spool\n"
        "state_directory=/srv/state\n"
        "\toutbox_directory =   /srv/outbox   # trailing comment\r\n"
        "report_delay = 0\n"
        "spool_fsync = never\n"
        "max_sessions = 5\n"
        "session_timeout = 60\n"
        "postfix_tlsrpt = yes\n"
        "exclude_sender = <tlsrpt-noreply@example.net>\n"
        "exclude_sender = bounces@example.net\n"
        "exclude_domain = Example.ORG.\n"
        "policy_hint = example.com no-policy-found\n";

    ASSERT(load_text(text, &c) == 0);
    EXPECT_STREQ(c->organization_name, "Example  Mail # Ops");
    EXPECT_STREQ(c->contact_info, "mailto:tlsrpt@example.net");
    EXPECT_STREQ(c->submitter_domain, "mail.example.net");
    EXPECT_STREQ(c->spool_directory, "/srv/spool");
    EXPECT_STREQ(c->state_directory, "/srv/state");
    EXPECT_STREQ(c->outbox_directory, "/srv/outbox");
    EXPECT_EQ(c->report_delay, 0);
    EXPECT_EQ(c->spool_fsync, TRPT_FSYNC_NEVER);
    EXPECT_EQ(c->max_sessions, 5);
    EXPECT_EQ(c->session_timeout, 60);
    EXPECT_EQ(c->postfix_tlsrpt, TRPT_TLSRPT_ONLY);
    /* The derived report_from is excluded too (our own report mails). */
    ASSERT(c->exclude_senders.n == 3);
    EXPECT_STREQ(c->exclude_senders.v[0], "tlsrpt-noreply@example.net");
    EXPECT_STREQ(c->exclude_senders.v[1], "bounces@example.net");
    EXPECT_STREQ(c->exclude_senders.v[2], "tlsrpt-noreply@mail.example.net");
    ASSERT(c->exclude_domains.n == 1);
    EXPECT_STREQ(c->exclude_domains.v[0], "example.org");
    EXPECT(trpt_config_excluded_domain(c, "example.org"));
    EXPECT(trpt_config_excluded_domain(c, "EXAMPLE.org"));
    EXPECT(!trpt_config_excluded_domain(c, "sub.example.org"));
    ASSERT(c->n_hints == 1);
    EXPECT_EQ(c->hints[0].type, TRPT_POLICY_NONE);
    trpt_config_free(c);
}

TEST(organization_and_contact_default_from_submitter_domain)
{
    trpt_config *c = NULL;

    ASSERT(load_text("submitter_domain = example.net\n", &c) == 0);
    EXPECT_STREQ(c->organization_name, "example.net");
    EXPECT_STREQ(c->contact_info, "mailto:postmaster@example.net");
    trpt_config_free(c);
    ASSERT(load_text("spool_fsync = always\n", &c) == 0);
    EXPECT(c->organization_name == NULL); /* nothing to derive from */
    EXPECT_EQ(c->spool_fsync, TRPT_FSYNC_ALWAYS);
    trpt_config_free(c);
}

TEST(postfix_tlsrpt_modes_map_to_parser_modes)
{
    trpt_config *c = NULL;

    ASSERT(load_text("postfix_tlsrpt = no\n", &c) == 0);
    EXPECT_EQ(c->postfix_tlsrpt, TRPT_TLSRPT_CLASSIC);
    trpt_config_free(c);
    ASSERT(load_text("postfix_tlsrpt = yes\npostfix_tlsrpt = auto\n", &c) == 0);
    EXPECT_EQ(c->postfix_tlsrpt, TRPT_TLSRPT_AUTO);
    trpt_config_free(c);
}

TEST(later_settings_replace_earlier_ones)
{
    trpt_config *c = NULL;

    ASSERT(load_text("report_delay = 10\nreport_delay = 20\n"
                     "organization_name = a\norganization_name = b\n",
                     &c) == 0);
    EXPECT_EQ(c->report_delay, 20);
    EXPECT_STREQ(c->organization_name, "b");
    trpt_config_free(c);
}

TEST(unknown_parameter_is_an_error_with_its_line)
{
    EXPECT(fails_at_line("report_delay = 5\n\n# x\nreport_dealy = 5\n", 4,
                         "unknown parameter: report_dealy"));
    EXPECT(fails_at_line("Report_Delay = 5\n", 1, "unknown parameter"));
}

TEST(malformed_lines_are_errors_with_their_line)
{
    EXPECT(fails_at_line("report_delay 5\n", 1, "name = value"));
    EXPECT(fails_at_line("\n = 5\n", 2, "missing parameter name"));
    EXPECT(fails_at_line("organization_name =\n", 1, "empty value"));
    EXPECT(fails_at_line("organization_name = \"abc\n", 1, "unterminated"));
    EXPECT(fails_at_line("organization_name = \"a\"b\"\n", 1, "inside"));
}

TEST(numbers_are_range_checked)
{
    EXPECT(fails_at_line("report_delay = -1\n", 1, "not a number"));
    EXPECT(fails_at_line("report_delay = 12x\n", 1, "not a number"));
    EXPECT(fails_at_line("report_delay = 604801\n", 1, "out of range"));
    EXPECT(fails_at_line("report_delay = 99999999999999999999999\n", 1,
                         "out of range"));
    EXPECT(fails_at_line("max_sessions = 0\n", 1, "out of range"));
    EXPECT(fails_at_line("max_sessions = 100000001\n", 1, "out of range"));
    EXPECT(fails_at_line("session_timeout = 0\n", 1, "out of range"));
    EXPECT(fails_at_line("session_timeout = \n", 1, "not a number"));
    EXPECT(fails_at_line("spool_fsync = sometimes\n", 1, "always or never"));
    EXPECT(fails_at_line("postfix_tlsrpt = only\n", 1,
                         "auto, yes, no or datagrams"));
}

TEST(bad_values_are_refused)
{
    EXPECT(fails_at_line("spool_directory = var/spool\n", 1, "absolute"));
    EXPECT(fails_at_line("submitter_domain = exa mple.com\n", 1,
                         "not a valid domain"));
    EXPECT(fails_at_line("submitter_domain = -bad.example\n", 1,
                         "not a valid domain"));
    EXPECT(fails_at_line("submitter_domain = a..b\n", 1, "not a valid"));
    EXPECT(fails_at_line("exclude_domain = *.example.com\n", 1, "not a valid"));
    EXPECT(fails_at_line("exclude_sender = nobody\n", 1, "envelope address"));
    EXPECT(fails_at_line("exclude_sender = <>\n", 1, "needs an address"));
    EXPECT(fails_at_line("exclude_sender = a b@c\n", 1, "envelope address"));
    /* invalid UTF-8 and control characters never reach a report */
    EXPECT(fails_at_line("organization_name = caf\xc3\n", 1, "UTF-8"));
    EXPECT(fails_at_line("organization_name = \xc0\xaf\n", 1, "UTF-8"));
    EXPECT(fails_at_line("organization_name = a\x01z\n", 1, "UTF-8"));
}

TEST(valid_utf8_organization_name_is_kept)
{
    trpt_config *c = NULL;

    ASSERT(load_text("organization_name = Gr\xc3\xbc\xc3\x9f"
                     "e \xe2\x82\xac\n",
                     &c) == 0);
    EXPECT_STREQ(c->organization_name, "Gr\xc3\xbc\xc3\x9f"
                                       "e \xe2\x82\xac");
    trpt_config_free(c);
}

TEST(overlong_label_and_domain_are_refused)
{
    char text[600];

    snprintf(text, sizeof text, "submitter_domain = %0*d.example\n", 64, 0);
    EXPECT(fails_at_line(text, 1, "not a valid domain"));
    snprintf(text, sizeof text, "submitter_domain = ");
    for (int i = 0; i < 64; i++)
        strcat(text, "abc.");
    strcat(text, "com\n");
    EXPECT(fails_at_line(text, 1, "not a valid domain"));
}

TEST(overlong_line_is_refused_not_truncated)
{
    static const char prefix[] = "report_delay = 1\norganization_name = ";
    size_t n = 10000;
    char *text = malloc(sizeof prefix + n + 1);
    trpt_config *c = NULL;
    const char *path;

    ASSERT(text);
    memcpy(text, prefix, sizeof prefix - 1);
    memset(text + sizeof prefix - 1, 'a', n);
    text[sizeof prefix - 1 + n] = '\0';
    path = write_conf(text, strlen(text), 0644);
    EXPECT_EQ(trpt_config_load(&c, path, err, sizeof err), -EINVAL);
    EXPECT(strstr(err, ":2: line longer than") != NULL);
    EXPECT(c == NULL);
    free(text);
}

TEST(nul_byte_in_file_is_refused)
{
    static const char text[] = "report_delay = 1\nreport_delay = 2\0x\n";
    trpt_config *c = NULL;
    const char *path = write_conf(text, sizeof text - 1, 0644);

    EXPECT_EQ(trpt_config_load(&c, path, err, sizeof err), -EINVAL);
    EXPECT(strstr(err, ":2: NUL byte") != NULL);
}

TEST(missing_file_reports_enoent)
{
    trpt_config *c = NULL;
    char path[4200];

    snprintf(path, sizeof path, "%s/none.conf", test_tmpdir());
    EXPECT_EQ(trpt_config_load(&c, path, err, sizeof err), -ENOENT);
    EXPECT(strstr(err, "none.conf: ") != NULL);
    EXPECT(c == NULL);
}

TEST(world_writable_config_is_refused)
{
    trpt_config *c = NULL;
    const char *path = write_conf("report_delay = 1\n", 17, 0666);

    EXPECT_EQ(trpt_config_load(&c, path, err, sizeof err), -EINVAL);
    EXPECT(strstr(err, "writable by others") != NULL);
    EXPECT(c == NULL);
    path = write_conf("report_delay = 1\n", 17, 0640);
    EXPECT_EQ(trpt_config_load(&c, path, err, sizeof err), 0);
    trpt_config_free(c);
}

TEST(directory_as_config_is_refused)
{
    trpt_config *c = NULL;

    EXPECT_EQ(trpt_config_load(&c, test_tmpdir(), err, sizeof err), -EINVAL);
    EXPECT(strstr(err, "not a regular file") != NULL);
}

TEST(sts_hint_builds_rfc8461_policy_strings)
{
    trpt_config *c = NULL;
    const trpt_policy_hint *h;

    ASSERT(load_text("policy_hint = Example.COM. sts mode=testing "
                     "mx=mx1.example.com,*.Example.net max_age=86400\n",
                     &c) == 0);
    h = trpt_config_hint(c, "example.com");
    ASSERT(h != NULL);
    EXPECT_STREQ(h->domain, "example.com");
    EXPECT_EQ(h->type, TRPT_POLICY_STS);
    ASSERT(h->policy_strings.n == 5);
    EXPECT_STREQ(h->policy_strings.v[0], "version: STSv1");
    EXPECT_STREQ(h->policy_strings.v[1], "mode: testing");
    EXPECT_STREQ(h->policy_strings.v[2], "mx: mx1.example.com");
    EXPECT_STREQ(h->policy_strings.v[3], "mx: *.example.net");
    EXPECT_STREQ(h->policy_strings.v[4], "max_age: 86400");
    ASSERT(h->mx_hosts.n == 2);
    EXPECT_STREQ(h->mx_hosts.v[0], "mx1.example.com");
    EXPECT_STREQ(h->mx_hosts.v[1], "*.example.net");
    EXPECT(trpt_config_hint(c, "EXAMPLE.com") == h);
    EXPECT(trpt_config_hint(c, "other.com") == NULL);
    EXPECT(trpt_config_hint(c, "sub.example.com") == NULL);
    trpt_config_free(c);
}

TEST(sts_hint_defaults_to_enforce_and_omits_unknown_max_age)
{
    trpt_config *c = NULL;
    const trpt_policy_hint *h;

    ASSERT(load_text("policy_hint = sts.test sts mx=mx.sts.test\n", &c) == 0);
    h = trpt_config_hint(c, "sts.test");
    ASSERT(h && h->policy_strings.n == 3);
    EXPECT_STREQ(h->policy_strings.v[1], "mode: enforce");
    EXPECT_STREQ(h->policy_strings.v[2], "mx: mx.sts.test");
    trpt_config_free(c);
    ASSERT(load_text("policy_hint = none.test sts mode=none\n", &c) == 0);
    h = trpt_config_hint(c, "none.test");
    ASSERT(h && h->policy_strings.n == 2);
    EXPECT_EQ(h->mx_hosts.n, 0);
    trpt_config_free(c);
}

TEST(tlsa_and_no_policy_hints_carry_no_strings)
{
    trpt_config *c = NULL;
    const trpt_policy_hint *h;

    ASSERT(load_text("policy_hint = dane.test tlsa\n"
                     "policy_hint = plain.test no-policy-found\n",
                     &c) == 0);
    ASSERT(c->n_hints == 2);
    h = trpt_config_hint(c, "dane.test");
    ASSERT(h);
    EXPECT_EQ(h->type, TRPT_POLICY_TLSA);
    EXPECT_EQ(h->policy_strings.n, 0);
    h = trpt_config_hint(c, "plain.test");
    ASSERT(h);
    EXPECT_EQ(h->type, TRPT_POLICY_NONE);
    trpt_config_free(c);
}

TEST(wildcard_hint_matches_subdomains_and_exact_wins)
{
    trpt_config *c = NULL;
    const trpt_policy_hint *h;

    ASSERT(load_text("policy_hint = *.example.com tlsa\n"
                     "policy_hint = *.b.example.com no-policy-found\n"
                     "policy_hint = x.b.example.com sts mx=mx.example.com\n",
                     &c) == 0);
    EXPECT(trpt_config_hint(c, "example.com") == NULL);
    h = trpt_config_hint(c, "a.example.com");
    ASSERT(h);
    EXPECT_EQ(h->type, TRPT_POLICY_TLSA);
    h = trpt_config_hint(c, "y.b.example.com");
    ASSERT(h);
    EXPECT_EQ(h->type, TRPT_POLICY_NONE);
    h = trpt_config_hint(c, "x.b.example.com");
    ASSERT(h);
    EXPECT_EQ(h->type, TRPT_POLICY_STS);
    EXPECT(trpt_config_hint(c, "badexample.com") == NULL);
    trpt_config_free(c);
}

TEST(bad_policy_hints_are_errors_with_their_line)
{
    EXPECT(fails_at_line("policy_hint = example.com\n", 1, "DOMAIN TYPE"));
    EXPECT(fails_at_line("policy_hint = example.com dane\n", 1,
                         "policy type must be"));
    EXPECT(fails_at_line("policy_hint = ex_@mple.com sts\n", 1,
                         "not a valid domain"));
    EXPECT(fails_at_line("policy_hint = a.test sts\n", 1, "needs mx="));
    EXPECT(fails_at_line("policy_hint = a.test sts mode=enforcing mx=m.test\n",
                         1, "mode must be"));
    EXPECT(
        fails_at_line("policy_hint = a.test sts mx=m.test max_age=31557601\n",
                      1, "max_age must be"));
    EXPECT(fails_at_line("policy_hint = a.test sts mx=m.test max_age=1y\n", 1,
                         "max_age must be"));
    EXPECT(fails_at_line("policy_hint = a.test sts mx=m.test mx=n.test\n", 1,
                         "given twice"));
    EXPECT(fails_at_line("policy_hint = a.test sts mx=,\n", 1,
                         "lists no pattern"));
    EXPECT(fails_at_line("policy_hint = a.test sts mx=m..test\n", 1,
                         "not a valid mx pattern"));
    EXPECT(fails_at_line("policy_hint = a.test sts mx=m.test colour=blue\n", 1,
                         "unknown policy_hint option"));
    EXPECT(fails_at_line("policy_hint = a.test sts mx\n", 1, "without '='"));
    EXPECT(fails_at_line("policy_hint = a.test tlsa mode=enforce\n", 1,
                         "sts only"));
    EXPECT(fails_at_line("\npolicy_hint = a.test tlsa\n"
                         "policy_hint = A.test. sts mx=m.test\n",
                         3, "second policy_hint for a.test"));
}

TEST(hint_lookup_tolerates_null_arguments)
{
    EXPECT(trpt_config_hint(NULL, "a.test") == NULL);
    EXPECT(!trpt_config_excluded_domain(NULL, "a.test"));
}
