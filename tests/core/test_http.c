/* test_http.c - report POST and MTA-STS policy GET against a real HTTPS
 * server on loopback (tests/http/https_server.py with a certificate made
 * here), including failures, time-outs, redirects and the address guard. */
#include "harness.h"
#include "http.h"
#include "servers.h"

#include <errno.h>

static https_server srv;
static int server_port;
static char cert[1100], logfile[1100];
static char connect_any[64];
static const char *const allow_loopback[] = {"127.0.0.1", NULL};
static const char *connect_list[2];

static int server_start(void)
{
    static int started, ok;

    if (started)
        return ok;
    started = 1;
    if (https_start(&srv, "DNS:receiver.test,DNS:other.test,"
                          "DNS:mta-sts.good.test,DNS:mta-sts.json.test,"
                          "DNS:mta-sts.big.test,DNS:mta-sts.redir.test,"
                          "DNS:mta-sts.missing.test,IP:127.0.0.1") < 0)
        return 0;
    server_port = srv.port;
    snprintf(cert, sizeof cert, "%s", srv.cert);
    snprintf(logfile, sizeof logfile, "%s", srv.log);
    /* Every name, on any port, reaches the test server. */
    snprintf(connect_any, sizeof connect_any, "::127.0.0.1:%d", server_port);
    connect_list[0] = connect_any;
    ok = 1;
    return ok;
}

static trpt_http_config test_config(void)
{
    trpt_http_config c = {
        .ca_file = cert,
        .connect_timeout_ms = 2000,
        .total_timeout_ms = 5000,
        .allow_addresses = allow_loopback,
        .connect_to = connect_list,
    };
    return c;
}

static char *url(const char *host, const char *path)
{
    static char u[4][256];
    static int next;
    char *p = u[next++ % 4];

    snprintf(p, sizeof u[0], "https://%s:%d%s", host, server_port, path);
    return p;
}

/* Lines of the server's request log that contain `what`. */
static int logged(const char *what)
{
    FILE *f = fopen(logfile, "r");
    char line[8192];
    int n = 0;

    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, what) != NULL;
    fclose(f);
    return n;
}

static const unsigned char gz[] = {0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad,
                                   0xbe, 0xef, 0x00, 0x03, 0x01, 0x02};

TEST(post_delivers_the_exact_body_with_the_tlsrpt_media_type)
{
    trpt_http_config c;
    trpt_http_result res;

    ASSERT(server_start());
    c = test_config();
    EXPECT_EQ(trpt_http_post_report(&c, url("receiver.test", "/ok"), gz,
                                    sizeof gz, &res),
              0);
    EXPECT_EQ(res.status, 200);
    EXPECT_STREQ(res.peer_ip, "127.0.0.1");
    trpt_http_result_clear(&res);
    EXPECT_EQ(logged("\"content_type\": \"application/tlsrpt+gzip\", "
                     "\"length\": 12"),
              1);
    EXPECT_EQ(logged("1f8b0800deadbeef00030102"), 1);
}

TEST(server_errors_fail_and_are_retryable_client_errors_are_not)
{
    trpt_http_config c;
    trpt_http_result res;
    int r;

    ASSERT(server_start());
    c = test_config();
    r = trpt_http_post_report(&c, url("receiver.test", "/fail"), gz, sizeof gz,
                              &res);
    EXPECT_EQ(r, -EPROTO);
    EXPECT_EQ(res.status, 500);
    EXPECT(trpt_http_retryable(r, &res));
    EXPECT(strstr(res.error, "500") != NULL);
    trpt_http_result_clear(&res);
    r = trpt_http_post_report(&c, url("receiver.test", "/busy"), gz, sizeof gz,
                              &res);
    EXPECT_EQ(r, -EPROTO);
    EXPECT(trpt_http_retryable(r, &res));
    trpt_http_result_clear(&res);
    r = trpt_http_post_report(&c, url("receiver.test", "/nothing-here"), gz,
                              sizeof gz, &res);
    EXPECT_EQ(r, -EPROTO);
    EXPECT_EQ(res.status, 404);
    EXPECT(!trpt_http_retryable(r, &res));
    trpt_http_result_clear(&res);
}

TEST(a_hanging_server_times_out_and_is_retryable)
{
    trpt_http_config c;
    trpt_http_result res;
    int r;

    ASSERT(server_start());
    c = test_config();
    c.total_timeout_ms = 700;
    r = trpt_http_post_report(&c, url("receiver.test", "/hang"), gz, sizeof gz,
                              &res);
    EXPECT_EQ(r, -ETIMEDOUT);
    EXPECT(trpt_http_retryable(r, &res));
    trpt_http_result_clear(&res);
}

TEST(redirects_are_followed_only_to_the_same_host_and_only_307_308)
{
    trpt_http_config c;
    trpt_http_result res;
    int before;

    ASSERT(server_start());
    c = test_config();
    before = logged("\"path\": \"/ok\"");
    EXPECT_EQ(trpt_http_post_report(&c, url("receiver.test", "/redir-same"), gz,
                                    sizeof gz, &res),
              0);
    EXPECT_EQ(res.status, 200);
    trpt_http_result_clear(&res);
    EXPECT_EQ(logged("\"path\": \"/ok\""), before + 1);
    EXPECT_EQ(trpt_http_post_report(&c, url("receiver.test", "/redir-other"),
                                    gz, sizeof gz, &res),
              -EPROTO);
    EXPECT_EQ(res.status, 307);
    trpt_http_result_clear(&res);
    EXPECT_EQ(logged("\"host\": \"other.test"), 0);
    EXPECT_EQ(trpt_http_post_report(&c, url("receiver.test", "/moved"), gz,
                                    sizeof gz, &res),
              -EPROTO);
    EXPECT_EQ(res.status, 301);
    trpt_http_result_clear(&res);
    EXPECT_EQ(logged("\"path\": \"/ok\""), before + 1);
}

TEST(the_guard_refuses_loopback_unless_allowed_and_nothing_is_sent)
{
    trpt_http_config c;
    trpt_http_result res;
    int before;

    ASSERT(server_start());
    c = test_config();
    c.allow_addresses = NULL;
    before = logged("POST");
    EXPECT_EQ(trpt_http_post_report(&c, url("receiver.test", "/ok"), gz,
                                    sizeof gz, &res),
              -EACCES);
    EXPECT(strstr(res.error, "127.0.0.1") != NULL);
    EXPECT(!trpt_http_retryable(-EACCES, &res));
    trpt_http_result_clear(&res);
    EXPECT_EQ(trpt_http_get_policy(&c, "good.test", &res), -EACCES);
    trpt_http_result_clear(&res);
    EXPECT_EQ(logged("POST"), before);
}

TEST(address_guard_classifies_private_and_public_addresses)
{
    static const char *const refused[] = {"127.0.0.1",
                                          "10.1.2.3",
                                          "172.16.0.1",
                                          "172.31.255.255",
                                          "192.168.1.1",
                                          "169.254.1.1",
                                          "100.64.0.1",
                                          "0.0.0.0",
                                          "224.0.0.1",
                                          "255.255.255.255",
                                          "::1",
                                          "::",
                                          "fe80::1",
                                          "fc00::1",
                                          "fd12::1",
                                          "ff02::1",
                                          "::ffff:127.0.0.1",
                                          "::ffff:10.0.0.1",
                                          "2001:db8::1",
                                          "192.0.2.1",
                                          "not-an-ip",
                                          ""};
    static const char *const allowed[] = {"8.8.8.8",      "172.32.0.1",
                                          "100.128.0.1",  "1.1.1.1",
                                          "2a00:1450::1", "::ffff:8.8.8.8"};
    trpt_http_config c = {0};

    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        if (trpt_http_address_allowed(&c, refused[i])) {
            EXPECT(!"refused address allowed");
            fprintf(stderr, "  %s\n", refused[i]);
        }
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        if (!trpt_http_address_allowed(&c, allowed[i])) {
            EXPECT(!"public address refused");
            fprintf(stderr, "  %s\n", allowed[i]);
        }
    c.allow_addresses = allow_loopback;
    EXPECT(trpt_http_address_allowed(&c, "127.0.0.1"));
    EXPECT(!trpt_http_address_allowed(&c, "127.0.0.2"));
    EXPECT(!trpt_http_address_allowed(&c, NULL));
}

TEST(only_https_urls_are_accepted)
{
    trpt_http_config c = {0};
    trpt_http_result res;

    EXPECT_EQ(trpt_http_post_report(&c, "http://receiver.test/ok", gz,
                                    sizeof gz, &res),
              -EINVAL);
    trpt_http_result_clear(&res);
    EXPECT_EQ(
        trpt_http_post_report(&c, "ftp://receiver.test/", gz, sizeof gz, &res),
        -EINVAL);
    trpt_http_result_clear(&res);
    EXPECT_EQ(trpt_http_post_report(&c, "https://", gz, sizeof gz, &res),
              -EINVAL);
    trpt_http_result_clear(&res);
    EXPECT_EQ(trpt_http_post_report(&c, "mailto:a@b.test", gz, sizeof gz, &res),
              -EINVAL);
    trpt_http_result_clear(&res);
    EXPECT_EQ(
        trpt_http_post_report(NULL, "https://x.test/", gz, sizeof gz, &res),
        -EINVAL);
    trpt_http_result_clear(&res);
    EXPECT_EQ(trpt_http_get_policy(&c, "bad/domain", &res), -EINVAL);
    trpt_http_result_clear(&res);
    EXPECT_EQ(trpt_http_get_policy(&c, "", &res), -EINVAL);
    trpt_http_result_clear(&res);
}

TEST(certificates_are_verified_against_the_trusted_cas_and_the_name)
{
    trpt_http_config c;
    trpt_http_result res;

    ASSERT(server_start());
    c = test_config();
    c.ca_file = "/etc/ssl/certs/ca-certificates.crt"; /* WebPKI only */
    EXPECT_EQ(trpt_http_post_report(&c, url("receiver.test", "/ok"), gz,
                                    sizeof gz, &res),
              -EPROTO);
    trpt_http_result_clear(&res);
    c = test_config();
    EXPECT_EQ(trpt_http_post_report(&c, url("wrongname.test", "/ok"), gz,
                                    sizeof gz, &res),
              -EPROTO);
    trpt_http_result_clear(&res);
}

TEST(policy_fetch_needs_200_text_plain_within_the_size_bound)
{
    trpt_http_config c;
    trpt_http_result res;

    ASSERT(server_start());
    c = test_config();
    ASSERT(trpt_http_get_policy(&c, "good.test", &res) == 0);
    EXPECT_STREQ(res.body.data, "version: STSv1\r\nmode: enforce\r\n"
                                "mx: mx.good.test\r\nmax_age: 86400\r\n");
    trpt_http_result_clear(&res);
    EXPECT_EQ(trpt_http_get_policy(&c, "json.test", &res), -EPROTO);
    EXPECT(strstr(res.error, "application/json") != NULL);
    EXPECT_EQ(res.body.len, 0);
    trpt_http_result_clear(&res);
    EXPECT_EQ(trpt_http_get_policy(&c, "big.test", &res), -EFBIG);
    trpt_http_result_clear(&res);
    EXPECT_EQ(trpt_http_get_policy(&c, "redir.test", &res), -EPROTO);
    EXPECT_EQ(res.status, 301);
    trpt_http_result_clear(&res);
    EXPECT_EQ(trpt_http_get_policy(&c, "missing.test", &res), -EPROTO);
    EXPECT_EQ(res.status, 404);
    trpt_http_result_clear(&res);
}

TEST(a_closed_port_is_a_retryable_connection_failure)
{
    const char *const to_closed[] = {"::127.0.0.1:1", NULL};
    trpt_http_config c;
    trpt_http_result res;
    int r;

    ASSERT(server_start());
    c = test_config();
    c.connect_to = to_closed;
    r = trpt_http_post_report(&c, "https://receiver.test/ok", gz, sizeof gz,
                              &res);
    EXPECT_EQ(r, -ECONNREFUSED);
    EXPECT(trpt_http_retryable(r, &res));
    trpt_http_result_clear(&res);
}
