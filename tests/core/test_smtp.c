/* test_smtp.c - sending a report mail: over SMTP with STARTTLS (and AUTH)
 * to a real SMTP receiver on loopback (tests/smtp/smtp_server.py,
 * aiosmtpd), and through a sendmail(1) stand-in; failures and what is
 * worth retrying. */
#include "harness.h"
#include "smtp.h"

#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

typedef struct server {
    pid_t pid;
    int port;
    char out[1100];
} server;

static char dir[1024], cert[1100], key[1100];
static server servers[8];
static int nservers;

static void stop_all(void)
{
    char cmd[1100];
    int status;

    for (int i = 0; i < nservers; i++)
        if (servers[i].pid > 0) {
            kill(servers[i].pid, SIGTERM);
            waitpid(servers[i].pid, &status, 0);
            servers[i].pid = 0;
        }
    if (dir[0] && !getenv("TRPT_KEEP_TMP")) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
    }
}

static int setup(void)
{
    static int done, ok;
    char cmd[4096];

    if (done)
        return ok;
    done = 1;
    snprintf(dir, sizeof dir, "%s/trpt-smtp-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir))
        return 0;
    atexit(stop_all);
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey rsa:2048 -nodes -keyout '%s' "
             "-out '%s' -days 2 -subj /CN=smtp.test -addext "
             "'subjectAltName=DNS:smtp.test,IP:127.0.0.1' >/dev/null 2>&1",
             key, cert);
    ok = system(cmd) == 0;
    return ok;
}

/* Starts one receiver; extra is "--auth u:p", "--no-tls" or NULL. */
static server *start(const char *extra, const char *extra2)
{
    server *s = &servers[nservers];
    char portfile[1200];
    FILE *f;

    if (!setup() || nservers >= 8)
        return NULL;
    snprintf(s->out, sizeof s->out, "%s/out%d", dir, nservers);
    mkdir(s->out, 0700);
    snprintf(portfile, sizeof portfile, "%s/port%d", dir, nservers);
    nservers++;
    if ((s->pid = fork()) < 0)
        return NULL;
    if (s->pid == 0) {
        char log[1300];

        /* Its tracebacks (the untrusted-certificate case) go to a log. */
        snprintf(log, sizeof log, "%s/server.log", s->out);
        if (!freopen(log, "a", stderr))
            _exit(126);
        execl("/usr/bin/python3", "python3", "tests/smtp/smtp_server.py", cert,
              key, portfile, s->out, extra, extra2, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200 && !s->port; i++) {
        struct timespec ts = {0, 50 * 1000 * 1000};

        if ((f = fopen(portfile, "r"))) {
            if (fscanf(f, "%d", &s->port) != 1)
                s->port = 0;
            fclose(f);
        }
        if (!s->port)
            nanosleep(&ts, NULL);
    }
    return s->port ? s : NULL;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
        fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) &&
        fread(buf, 1, (size_t)n, f) == (size_t)n) {
        buf[n] = '\0';
        *len = (size_t)n;
    } else {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

static const char msg[] =
    "From: tlsrpt-noreply@sender.test\r\n"
    "To: tlsrpt@receiver.test\r\n"
    "Subject: Report Domain: receiver.test Submitter: sender.test "
    "Report-ID: <x@sender.test>\r\n"
    "\r\n"
    "a body line\r\n"
    ".a line starting with a dot\r\n"
    "last line\r\n";

static trpt_smtp_config smtp_to(const server *s, char *url, size_t len)
{
    trpt_smtp_config c = {.ca_file = cert,
                          .helo = "sender.test",
                          .connect_timeout_ms = 3000,
                          .total_timeout_ms = 10000};

    snprintf(url, len, "smtp://127.0.0.1:%d", s->port);
    c.url = url;
    return c;
}

TEST(starttls_delivery_stores_the_exact_message_and_envelope)
{
    const char *rcpts[] = {"tlsrpt@receiver.test", NULL};
    server *s = start(NULL, NULL);
    char url[64], path[1300], err[256];
    trpt_smtp_config c;
    size_t len = 0;
    long reply = 0;
    char *got, *meta;

    ASSERT(s != NULL);
    c = smtp_to(s, url, sizeof url);
    EXPECT_EQ(trpt_smtp_send(&c, "tlsrpt-noreply@sender.test", rcpts, msg,
                             strlen(msg), &reply, err, sizeof err),
              0);
    EXPECT_EQ(reply, 250);
    snprintf(path, sizeof path, "%s/1.eml", s->out);
    ASSERT((got = slurp(path, &len)) != NULL);
    EXPECT_EQ(len, strlen(msg));
    EXPECT(len == strlen(msg) && memcmp(got, msg, len) == 0);
    free(got);
    snprintf(path, sizeof path, "%s/1.json", s->out);
    ASSERT((meta = slurp(path, &len)) != NULL);
    EXPECT(strstr(meta, "\"mail_from\": \"tlsrpt-noreply@sender.test\""));
    EXPECT(strstr(meta, "\"rcpt_tos\": [\"tlsrpt@receiver.test\"]"));
    EXPECT(strstr(meta, "\"tls\": true"));
    free(meta);
}

TEST(temporary_and_permanent_refusals_are_told_apart)
{
    const char *temp[] = {"tempfail@receiver.test", NULL};
    const char *perm[] = {"reject@receiver.test", NULL};
    server *s = start(NULL, NULL);
    char url[64], err[256];
    trpt_smtp_config c;
    long reply = 0;
    int r;

    ASSERT(s != NULL);
    c = smtp_to(s, url, sizeof url);
    r = trpt_smtp_send(&c, "a@sender.test", temp, msg, strlen(msg), &reply, err,
                       sizeof err);
    EXPECT_EQ(r, -EPROTO);
    EXPECT_EQ(reply, 451);
    EXPECT(trpt_smtp_retryable(r, reply));
    EXPECT(strstr(err, "451") != NULL);
    r = trpt_smtp_send(&c, "a@sender.test", perm, msg, strlen(msg), &reply, err,
                       sizeof err);
    EXPECT_EQ(r, -EPROTO);
    EXPECT_EQ(reply, 550);
    EXPECT(!trpt_smtp_retryable(r, reply));
}

TEST(starttls_is_required_unless_plaintext_is_allowed)
{
    const char *rcpts[] = {"tlsrpt@receiver.test", NULL};
    server *s = start("--no-tls", NULL);
    char url[64], path[1300], err[256];
    trpt_smtp_config c;
    long reply = 0;
    size_t len;
    char *meta;
    int r;

    ASSERT(s != NULL);
    c = smtp_to(s, url, sizeof url);
    r = trpt_smtp_send(&c, "a@sender.test", rcpts, msg, strlen(msg), &reply,
                       err, sizeof err);
    EXPECT_EQ(r, -EPROTO);
    EXPECT(!trpt_smtp_retryable(r, reply));
    snprintf(path, sizeof path, "%s/1.eml", s->out);
    EXPECT(access(path, F_OK) != 0); /* nothing went out in the clear */
    c.allow_plaintext = 1;
    EXPECT_EQ(trpt_smtp_send(&c, "a@sender.test", rcpts, msg, strlen(msg),
                             &reply, err, sizeof err),
              0);
    snprintf(path, sizeof path, "%s/1.json", s->out);
    ASSERT((meta = slurp(path, &len)) != NULL);
    EXPECT(strstr(meta, "\"tls\": false"));
    free(meta);
}

TEST(auth_with_the_right_credentials_only)
{
    const char *rcpts[] = {"tlsrpt@receiver.test", NULL};
    server *s = start("--auth", "reporter:s3cret");
    char url[64], path[1300], err[256];
    trpt_smtp_config c;
    long reply = 0;
    size_t len;
    char *meta;
    int r;

    ASSERT(s != NULL);
    c = smtp_to(s, url, sizeof url);
    c.username = "reporter";
    c.password = "wrong";
    r = trpt_smtp_send(&c, "a@sender.test", rcpts, msg, strlen(msg), &reply,
                       err, sizeof err);
    EXPECT_EQ(r, -EACCES);
    EXPECT(!trpt_smtp_retryable(r, reply));
    c.password = "s3cret";
    EXPECT_EQ(trpt_smtp_send(&c, "a@sender.test", rcpts, msg, strlen(msg),
                             &reply, err, sizeof err),
              0);
    snprintf(path, sizeof path, "%s/1.json", s->out);
    ASSERT((meta = slurp(path, &len)) != NULL);
    EXPECT(strstr(meta, "\"user\": \"reporter\""));
    free(meta);
}

TEST(an_untrusted_certificate_and_a_closed_port_fail_as_they_should)
{
    const char *rcpts[] = {"tlsrpt@receiver.test", NULL};
    server *s = start(NULL, NULL);
    char url[64], err[256];
    trpt_smtp_config c;
    long reply = 0;
    int r;

    ASSERT(s != NULL);
    c = smtp_to(s, url, sizeof url);
    c.ca_file = "/etc/ssl/certs/ca-certificates.crt";
    r = trpt_smtp_send(&c, "a@sender.test", rcpts, msg, strlen(msg), &reply,
                       err, sizeof err);
    EXPECT_EQ(r, -EPROTO);
    c = smtp_to(s, url, sizeof url);
    c.url = "smtp://127.0.0.1:1";
    r = trpt_smtp_send(&c, "a@sender.test", rcpts, msg, strlen(msg), &reply,
                       err, sizeof err);
    EXPECT_EQ(r, -ECONNREFUSED);
    EXPECT(trpt_smtp_retryable(r, reply));
}

TEST(addresses_that_could_inject_commands_or_options_are_refused)
{
    const char *inject[] = {"a@b.test\r\nRCPT TO:<x@y.test>", NULL};
    const char *option[] = {"-oQ/tmp", NULL};
    const char *ok[] = {"a@b.test", NULL};
    const char *none[] = {NULL};
    trpt_smtp_config c = {.url = "smtp://127.0.0.1:1"};

    EXPECT_EQ(
        trpt_smtp_send(&c, "a@b.test", inject, msg, strlen(msg), NULL, NULL, 0),
        -EINVAL);
    EXPECT_EQ(
        trpt_smtp_send(&c, "a@b.test", option, msg, strlen(msg), NULL, NULL, 0),
        -EINVAL);
    EXPECT_EQ(
        trpt_smtp_send(&c, "<a@b.test>", ok, msg, strlen(msg), NULL, NULL, 0),
        -EINVAL);
    EXPECT_EQ(
        trpt_smtp_send(&c, "a@b.test", none, msg, strlen(msg), NULL, NULL, 0),
        -EINVAL);
    EXPECT_EQ(trpt_smtp_send(&c, "a@b.test", ok, msg, 0, NULL, NULL, 0),
              -EINVAL);
    c.url = "http://127.0.0.1:1";
    EXPECT_EQ(
        trpt_smtp_send(&c, "a@b.test", ok, msg, strlen(msg), NULL, NULL, 0),
        -EINVAL);
}

/* A sendmail stand-in: records its arguments and its input, exits with the
 * status in $SENDMAIL_EXIT. */
static const char *fake_sendmail(const char *status)
{
    static char path[1200];
    char script[4096];
    FILE *f;

    if (!setup())
        return NULL;
    snprintf(path, sizeof path, "%s/sendmail-%s", dir, status);
    snprintf(script, sizeof script,
             "#!/bin/sh\nprintf '%%s\\n' \"$@\" > '%s/args'\n"
             "cat > '%s/input'\nexit %s\n",
             dir, dir, status);
    if (!(f = fopen(path, "w")))
        return NULL;
    fputs(script, f);
    fclose(f);
    chmod(path, 0755);
    return path;
}

TEST(sendmail_gets_lf_lines_and_the_envelope_sender)
{
    const char *rcpts[] = {"tlsrpt@receiver.test", NULL};
    trpt_smtp_config c = {0};
    char path[1200], err[256];
    size_t len;
    char *in, *args;

    ASSERT((c.sendmail = fake_sendmail("0")) != NULL);
    EXPECT_EQ(trpt_smtp_send(&c, "tlsrpt-noreply@sender.test", rcpts, msg,
                             strlen(msg), NULL, err, sizeof err),
              0);
    snprintf(path, sizeof path, "%s/input", dir);
    ASSERT((in = slurp(path, &len)) != NULL);
    EXPECT(strchr(in, '\r') == NULL);
    EXPECT_EQ(len, strlen(msg) - 7); /* 7 lines lost their CR */
    EXPECT(strstr(in, "\n.a line starting with a dot\n") != NULL);
    free(in);
    snprintf(path, sizeof path, "%s/args", dir);
    ASSERT((args = slurp(path, &len)) != NULL);
    EXPECT_STREQ(args, "-i\n-t\n-f\ntlsrpt-noreply@sender.test\n");
    free(args);
}

TEST(sendmail_tempfail_is_retryable_other_failures_are_not)
{
    const char *rcpts[] = {"tlsrpt@receiver.test", NULL};
    trpt_smtp_config c = {0};
    char err[256];
    int r;

    ASSERT((c.sendmail = fake_sendmail("75")) != NULL);
    r = trpt_smtp_send(&c, "a@sender.test", rcpts, msg, strlen(msg), NULL, err,
                       sizeof err);
    EXPECT_EQ(r, -EAGAIN);
    EXPECT(trpt_smtp_retryable(r, 0));
    ASSERT((c.sendmail = fake_sendmail("67")) != NULL);
    r = trpt_smtp_send(&c, "a@sender.test", rcpts, msg, strlen(msg), NULL, err,
                       sizeof err);
    EXPECT_EQ(r, -EPROTO);
    EXPECT(!trpt_smtp_retryable(r, 0));
    EXPECT(strstr(err, "67") != NULL);
    c.sendmail = "/nonexistent/sendmail";
    r = trpt_smtp_send(&c, "a@sender.test", rcpts, msg, strlen(msg), NULL, err,
                       sizeof err);
    EXPECT(r < 0);
}
