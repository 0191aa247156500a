/*
 * smtp.h - hand a finished report mail to the mail system: over SMTP to a
 * smarthost (libcurl; STARTTLS required unless configured otherwise,
 * optional AUTH), or to a local sendmail(1) (`sendmail -i -t -f FROM`).
 *
 * trpt_smtp_send()       send one message (CRLF line ends, as built by
 *                        mail.h) to rcpts; 0 once the server (or sendmail)
 *                        accepted it. sendmail gets the message with LF
 *                        line ends and takes the recipients from its
 *                        headers (-t); rcpts must still be given
 * trpt_smtp_retryable()  whether a failure is worth another try later:
 *                        connection problems, time-outs and 4xx answers
 *                        are; 5xx answers, refused credentials and a
 *                        server without STARTTLS are not
 *
 * Errors (negative errno; *reply holds the server's code, err the reason):
 *   -ECONNREFUSED, -EHOSTUNREACH, -ETIMEDOUT, -EIO  transport
 *   -EACCES   authentication refused
 *   -EPROTO   STARTTLS required but not offered, TLS failure, or an
 *             SMTP error answer (*reply = 4xx or 5xx)
 *   -EINVAL   bad arguments (no recipient, CR/LF in an address, ...)
 *   -EAGAIN   sendmail exited with EX_TEMPFAIL (75); other non-zero exits
 *             are -EPROTO
 */
#ifndef TRPT_SMTP_H
#define TRPT_SMTP_H

#include <stddef.h>

typedef struct trpt_smtp_config {
    /* "smtp://HOST[:PORT]" (STARTTLS) or "smtps://HOST[:PORT]" (TLS from
     * the start). NULL = use sendmail. */
    const char *url;
    const char *helo;     /* EHLO name; NULL = libcurl's default */
    const char *ca_file;  /* NULL = the system's CA bundle */
    int allow_plaintext;  /* 1 = STARTTLS when offered, else plain */
    const char *username; /* AUTH when set */
    const char *password;
    unsigned connect_timeout_ms; /* 0 = 10 s */
    unsigned total_timeout_ms;   /* 0 = 120 s */
    const char *sendmail;        /* NULL = /usr/sbin/sendmail */
} trpt_smtp_config;

int trpt_smtp_send(const trpt_smtp_config *cfg, const char *from,
                   const char *const *rcpts, const char *msg, size_t len,
                   long *reply, char *err, size_t errlen);
int trpt_smtp_retryable(int err, long reply);

#endif
