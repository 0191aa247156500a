/*
 * http.h - the HTTPS client of delivery, through libcurl: POST of a report
 * to an https: rua (RFC 8460 §5.2), and GET of an MTA-STS policy file
 * (RFC 8461 §3.3).
 *
 * Safety, for both: https only, certificate and host name verified
 * (WebPKI, or a pinned CA file), TLS 1.2 or newer, connect and total
 * time-outs, a bound on what is read. Before each connection the address
 * curl is about to use is checked (so DNS rebinding cannot slip past): a
 * loopback, private, shared, link-local, multicast, reserved or
 * unspecified address is refused unless listed in allow_addresses, as an
 * https: rua is chosen by a remote domain owner (SSRF).
 *
 * trpt_http_post_report() POST gzip bytes with Content-Type
 *                         application/tlsrpt+gzip. 0 on a 2xx answer.
 *                         Redirects: a 307/308 to the same host over https
 *                         is followed (up to 3); any other 3xx is a
 *                         failure, never followed to another host
 * trpt_http_get_policy()  GET https://mta-sts.DOMAIN/.well-known/
 *                         mta-sts.txt: 0 with the body when the answer is
 *                         200 with media type text/plain and at most
 *                         TRPT_HTTP_POLICY_MAX bytes; no redirect is ever
 *                         followed (RFC 8461 §3.3)
 * trpt_http_result_clear() free a result (reusable)
 *
 * Errors (negative errno; res->status and res->error tell more):
 *   -EACCES     destination address refused by the guard
 *   -EINVAL     not an https URL, bad arguments
 *   -ETIMEDOUT  connect or total time-out
 *   -ECONNREFUSED / -EHOSTUNREACH  could not connect or resolve
 *   -EPROTO     TLS or certificate failure, or a non-2xx (POST) /
 *               non-200 or wrong media type (GET) answer
 *   -EFBIG      answer larger than allowed
 * Retrying is the caller's decision; trpt_http_retryable() says which
 * failures are worth it (time-outs, connection failures, 5xx, 429).
 */
#ifndef TRPT_HTTP_H
#define TRPT_HTTP_H

#include <stddef.h>

#include "buf.h"

#define TRPT_HTTP_POLICY_MAX (64 * 1024) /* RFC 8461 §3.2 suggests 64 KiB */

typedef struct trpt_http_config {
    const char *ca_file;         /* NULL = the system's CA bundle */
    unsigned connect_timeout_ms; /* 0 = 10 s */
    unsigned total_timeout_ms;   /* 0 = 60 s */
    /* Addresses allowed although the guard refuses their kind, e.g.
     * "127.0.0.1" for a local receiver. NULL-terminated, may be NULL. */
    const char *const *allow_addresses;
    /* libcurl CONNECT_TO entries ("HOST:PORT:CONNECT-HOST:CONNECT-PORT"):
     * reach a name on another address and port while keeping its name for
     * TLS; for test set-ups. NULL-terminated, may be NULL. */
    const char *const *connect_to;
    const char *user_agent; /* NULL = "opentlsrpt/<version>" */
} trpt_http_config;

typedef struct trpt_http_result {
    long status;        /* HTTP status of the last answer, 0 = none */
    char *content_type; /* of the answer, NULL = none */
    char peer_ip[64];   /* address connected to, "" = none */
    char error[256];    /* why it failed, for logs */
    trpt_buf body;      /* the answer's body (GET only) */
} trpt_http_result;

int trpt_http_post_report(const trpt_http_config *cfg, const char *url,
                          const void *gz, size_t len, trpt_http_result *res);
int trpt_http_get_policy(const trpt_http_config *cfg, const char *domain,
                         trpt_http_result *res);
void trpt_http_result_clear(trpt_http_result *res);
int trpt_http_retryable(int err, const trpt_http_result *res);

/* The address guard on its own: 1 if ip (text form) may be reached. */
int trpt_http_address_allowed(const trpt_http_config *cfg, const char *ip);

#endif
