/*
 * smtp.c - send a message by SMTP (libcurl) or sendmail (smtp.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include "buf.h"
#include "smtp.h"

#define DEFAULT_CONNECT_MS 10000
#define DEFAULT_TOTAL_MS   120000
#define DEFAULT_SENDMAIL   "/usr/sbin/sendmail"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* An address goes into an SMTP command or an argv: no control characters,
 * no spaces, no angle brackets, not empty, and not an option. */
static int address_ok(const char *a)
{
    if (!a || !a[0] || a[0] == '-' || strlen(a) > 320)
        return 0;
    for (const unsigned char *p = (const unsigned char *)a; *p; p++)
        if (*p <= ' ' || *p >= 0x7f || *p == '<' || *p == '>')
            return 0;
    return 1;
}

typedef struct reader {
    const char *msg;
    size_t len, at;
} reader;

static size_t read_msg(char *buf, size_t size, size_t n, void *userdata)
{
    reader *r = userdata;
    size_t want = size * n;

    if (want > r->len - r->at)
        want = r->len - r->at;
    memcpy(buf, r->msg + r->at, want);
    r->at += want;
    return want;
}

static int map_error(CURLcode rc, long reply)
{
    if (rc == CURLE_OK)
        return 0;
    if (rc == CURLE_LOGIN_DENIED)
        return -EACCES;
    /* The server answered no (to MAIL, RCPT or DATA): its code decides. */
    if (reply >= 400 && rc != CURLE_USE_SSL_FAILED)
        return -EPROTO;
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        return -ETIMEDOUT;
    case CURLE_COULDNT_CONNECT:
        return -ECONNREFUSED;
    case CURLE_COULDNT_RESOLVE_HOST:
        return -EHOSTUNREACH;
    case CURLE_USE_SSL_FAILED:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CACERT_BADFILE:
        return -EPROTO;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
        return -EIO;
    default:
        return -EIO;
    }
}

static int send_smtp(const trpt_smtp_config *cfg, const char *from,
                     const char *const *rcpts, const char *msg, size_t len,
                     long *reply, char *err, size_t errlen)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    char url[1024];
    struct curl_slist *to = NULL;
    reader rd = {msg, len, 0};
    CURL *h;
    CURLcode rc;
    int r;

    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return -EIO;
    if (strncmp(cfg->url, "smtp://", 7) != 0 &&
        strncmp(cfg->url, "smtps://", 8) != 0)
        return -EINVAL;
    /* libcurl takes the EHLO name from the URL's path. */
    if (snprintf(url, sizeof url, "%s%s%s", cfg->url,
                 cfg->helo && !strchr(cfg->url + 8, '/') ? "/" : "",
                 cfg->helo ? cfg->helo : "") >= (int)sizeof url)
        return -EINVAL;
    for (const char *const *p = rcpts; *p; p++) {
        struct curl_slist *n = curl_slist_append(to, *p);

        if (!n) {
            curl_slist_free_all(to);
            return -ENOMEM;
        }
        to = n;
    }
    if (!(h = curl_easy_init())) {
        curl_slist_free_all(to);
        return -ENOMEM;
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(h, CURLOPT_USE_SSL,
                     cfg->allow_plaintext ? (long)CURLUSESSL_TRY
                                          : (long)CURLUSESSL_ALL);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (cfg->ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, cfg->ca_file);
    if (cfg->username) {
        curl_easy_setopt(h, CURLOPT_USERNAME, cfg->username);
        curl_easy_setopt(h, CURLOPT_PASSWORD,
                         cfg->password ? cfg->password : "");
    }
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, to);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, read_msg);
    curl_easy_setopt(h, CURLOPT_READDATA, &rd);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(cfg->connect_timeout_ms ? cfg->connect_timeout_ms
                                                    : DEFAULT_CONNECT_MS));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
                     (long)(cfg->total_timeout_ms ? cfg->total_timeout_ms
                                                  : DEFAULT_TOTAL_MS));
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, reply);
    r = map_error(rc, *reply);
    if (r < 0 && err && errlen)
        snprintf(err, errlen, "%s (SMTP reply %ld)",
                 errbuf[0] ? errbuf : curl_easy_strerror(rc), *reply);
    curl_easy_cleanup(h);
    curl_slist_free_all(to);
    return r;
}

/* Writes msg to fd with CRLF turned into the local LF, as sendmail(1)
 * expects a local file; the MTA puts CRLF back on the wire, which DKIM's
 * canonical form does not see. */
static int write_local(int fd, const char *msg, size_t len)
{
    trpt_buf b;
    int r = 0;

    trpt_buf_init(&b);
    for (size_t i = 0; i < len && r == 0; i++)
        if (!(msg[i] == '\r' && i + 1 < len && msg[i + 1] == '\n'))
            r = trpt_buf_putc(&b, msg[i]);
    for (size_t at = 0; r == 0 && at < b.len;) {
        ssize_t n = write(fd, b.data + at, b.len - at);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            r = -EIO;
        else
            at += (size_t)n;
    }
    trpt_buf_free(&b);
    return r;
}

/* A sendmail that exits early must not kill the process with SIGPIPE:
 * the signal is blocked in this thread while writing, and one raised by
 * the write is taken off the pending set before the mask is restored. */
static int write_without_sigpipe(int fd, const char *msg, size_t len)
{
    sigset_t pipe_set, old;
    struct timespec zero = {0, 0};
    int r;

    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    r = write_local(fd, msg, len);
    if (r < 0 && !sigismember(&old, SIGPIPE))
        while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
            ;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return r;
}

static int send_sendmail(const trpt_smtp_config *cfg, const char *from,
                         const char *msg, size_t len, char *err, size_t errlen)
{
    const char *path = cfg->sendmail ? cfg->sendmail : DEFAULT_SENDMAIL;
    int pipefd[2], status = 0, r;
    pid_t pid;

    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return -errno;
    if ((pid = fork()) < 0) {
        r = -errno;
        close(pipefd[0]);
        close(pipefd[1]);
        return r;
    }
    if (pid == 0) {
        if (dup2(pipefd[0], 0) < 0)
            _exit(127);
        execl(path, "sendmail", "-i", "-t", "-f", from, (char *)NULL);
        _exit(127);
    }
    close(pipefd[0]);
    r = write_without_sigpipe(pipefd[1], msg, len);
    close(pipefd[1]);
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -errno;
    if (r == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        /* sysexits(3): 75 EX_TEMPFAIL is worth a retry, the rest not. */
        r = WIFEXITED(status) && WEXITSTATUS(status) == 75 ? -EAGAIN : -EPROTO;
        if (err && errlen)
            snprintf(err, errlen, "%s exited with status %d", path,
                     WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    return r;
}

int trpt_smtp_send(const trpt_smtp_config *cfg, const char *from,
                   const char *const *rcpts, const char *msg, size_t len,
                   long *reply, char *err, size_t errlen)
{
    long dummy = 0;

    if (!reply)
        reply = &dummy;
    *reply = 0;
    if (err && errlen)
        err[0] = '\0';
    if (!cfg || !msg || len == 0 || !address_ok(from) || !rcpts || !rcpts[0])
        return -EINVAL;
    for (const char *const *p = rcpts; *p; p++)
        if (!address_ok(*p))
            return -EINVAL;
    if (cfg->url)
        return send_smtp(cfg, from, rcpts, msg, len, reply, err, errlen);
    return send_sendmail(cfg, from, msg, len, err, errlen);
}

int trpt_smtp_retryable(int err, long reply)
{
    switch (err) {
    case -ECONNREFUSED:
    case -EHOSTUNREACH:
    case -ETIMEDOUT:
    case -EIO:
    case -EAGAIN:
        return 1;
    case -EPROTO:
        return reply >= 400 && reply < 500;
    default:
        return 0;
    }
}
