/*
 * http.c - HTTPS POST of reports and GET of MTA-STS policies (http.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "http.h"

#define DEFAULT_CONNECT_MS 10000
#define DEFAULT_TOTAL_MS   60000
#define MAX_REDIRECTS      3
#define USER_AGENT         "opentlsrpt/0.1"

/* One transfer's state, seen by libcurl's callbacks. */
typedef struct transfer {
    const trpt_http_config *cfg;
    trpt_http_result *res;
    size_t max_body; /* 0 = the body is not kept */
    int too_big;
    int refused;
    char refused_ip[64];
} transfer;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* --- the address guard --------------------------------------------------- */

static int v4_forbidden(const unsigned char a[4])
{
    return a[0] == 0 ||                                  /* this net */
           a[0] == 10 ||                                 /* RFC 1918 */
           (a[0] == 100 && (a[1] & 0xc0) == 64) ||       /* RFC 6598 */
           a[0] == 127 ||                                /* loopback */
           (a[0] == 169 && a[1] == 254) ||               /* link-local */
           (a[0] == 172 && (a[1] & 0xf0) == 16) ||       /* RFC 1918 */
           (a[0] == 192 && a[1] == 0 && a[2] == 0) ||    /* IETF */
           (a[0] == 192 && a[1] == 0 && a[2] == 2) ||    /* TEST-NET-1 */
           (a[0] == 192 && a[1] == 168) ||               /* RFC 1918 */
           (a[0] == 198 && (a[1] & 0xfe) == 18) ||       /* benchmark */
           (a[0] == 198 && a[1] == 51 && a[2] == 100) || /* TEST-NET-2 */
           (a[0] == 203 && a[1] == 0 && a[2] == 113) ||  /* TEST-NET-3 */
           a[0] >= 224; /* multicast, reserved */
}

static int v6_forbidden(const unsigned char a[16])
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0,    0,
                                             0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char zero[15] = {0};

    if (memcmp(a, mapped, 12) == 0)
        return v4_forbidden(a + 12); /* ::ffff:a.b.c.d */
    if (memcmp(a, zero, 15) == 0)
        return 1;                                     /* :: and ::1 */
    return (a[0] & 0xfe) == 0xfc ||                   /* unique local */
           (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) || /* link-local */
           a[0] == 0xff ||                            /* multicast */
           (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d &&
            a[3] == 0xb8); /* documentation */
}

int trpt_http_address_allowed(const trpt_http_config *cfg, const char *ip)
{
    unsigned char a[16];

    if (!ip)
        return 0;
    if (cfg && cfg->allow_addresses)
        for (const char *const *p = cfg->allow_addresses; *p; p++)
            if (strcasecmp(*p, ip) == 0)
                return 1;
    if (inet_pton(AF_INET, ip, a) == 1)
        return !v4_forbidden(a);
    if (inet_pton(AF_INET6, ip, a) == 1)
        return !v6_forbidden(a);
    return 0;
}

/* libcurl asks us for each socket: the guard sees the real address. */
static curl_socket_t open_socket(void *clientp, curlsocktype purpose,
                                 struct curl_sockaddr *addr)
{
    transfer *t = clientp;
    char ip[64] = "";

    (void)purpose;
    if (addr->family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&addr->addr)->sin_addr, ip,
                  sizeof ip);
    else if (addr->family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&addr->addr)->sin6_addr,
                  ip, sizeof ip);
    if (!trpt_http_address_allowed(t->cfg, ip)) {
        t->refused = 1;
        snprintf(t->refused_ip, sizeof t->refused_ip, "%s", ip[0] ? ip : "?");
        return CURL_SOCKET_BAD;
    }
    return socket(addr->family, addr->socktype, addr->protocol);
}

static size_t keep_body(char *p, size_t size, size_t n, void *userdata)
{
    transfer *t = userdata;
    size_t len = size * n;

    if (t->max_body == 0)
        return len; /* read and dropped */
    if (t->res->body.len + len > t->max_body) {
        t->too_big = 1;
        return 0; /* makes curl stop with CURLE_WRITE_ERROR */
    }
    return trpt_buf_append(&t->res->body, p, len) == 0 ? len : 0;
}

/* --- one request --------------------------------------------------------- */

/* Parses url; 0 if it is https with a host, and gives host and port. */
static int https_url(const char *url, char **host, char **port)
{
    CURLU *u = curl_url();
    char *scheme = NULL;
    int r = -EINVAL;

    *host = *port = NULL;
    if (!u)
        return -ENOMEM;
    if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        strcasecmp(scheme, "https") == 0 &&
        curl_url_get(u, CURLUPART_HOST, host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, port, CURLU_DEFAULT_PORT) ==
            CURLUE_OK &&
        (*host)[0])
        r = 0;
    curl_free(scheme);
    curl_url_cleanup(u);
    if (r < 0) {
        curl_free(*host);
        curl_free(*port);
        *host = *port = NULL;
    }
    return r;
}

static int same_origin(const char *a, const char *b)
{
    char *ha, *pa, *hb, *pb;
    int same;

    if (https_url(a, &ha, &pa) < 0)
        return 0;
    if (https_url(b, &hb, &pb) < 0) {
        curl_free(ha);
        curl_free(pa);
        return 0;
    }
    same = strcasecmp(ha, hb) == 0 && strcmp(pa, pb) == 0;
    curl_free(ha);
    curl_free(pa);
    curl_free(hb);
    curl_free(pb);
    return same;
}

static int map_curl_error(CURLcode rc, const transfer *t)
{
    switch (rc) {
    case CURLE_OK:
        return 0;
    case CURLE_OPERATION_TIMEDOUT:
        return -ETIMEDOUT;
    case CURLE_COULDNT_CONNECT:
        return t->refused ? -EACCES : -ECONNREFUSED;
    case CURLE_COULDNT_RESOLVE_HOST:
        return -EHOSTUNREACH;
    case CURLE_WRITE_ERROR:
        return t->too_big ? -EFBIG : -EIO;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        return -EINVAL;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
        return t->refused ? -EACCES : -EPROTO;
    default:
        return -EIO;
    }
}

static CURL *new_handle(transfer *t, const char *url, struct curl_slist **to)
{
    const trpt_http_config *c = t->cfg;
    CURL *h = curl_easy_init();

    *to = NULL;
    if (!h)
        return NULL;
    if (c->connect_to)
        for (const char *const *p = c->connect_to; *p; p++) {
            struct curl_slist *n = curl_slist_append(*to, *p);

            if (!n) {
                curl_easy_cleanup(h);
                return NULL;
            }
            *to = n;
        }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (c->ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(c->connect_timeout_ms ? c->connect_timeout_ms
                                                  : DEFAULT_CONNECT_MS));
    curl_easy_setopt(
        h, CURLOPT_TIMEOUT_MS,
        (long)(c->total_timeout_ms ? c->total_timeout_ms : DEFAULT_TOTAL_MS));
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT,
                     c->user_agent ? c->user_agent : USER_AGENT);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, t);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, keep_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, t->res->error);
    if (*to)
        curl_easy_setopt(h, CURLOPT_CONNECT_TO, *to);
    return h;
}

/* Status, media type and peer of a finished transfer into res. */
static void take_answer(CURL *h, trpt_http_result *res)
{
    char *ct = NULL, *ip = NULL;

    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->status);
    curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
    curl_easy_getinfo(h, CURLINFO_PRIMARY_IP, &ip);
    free(res->content_type);
    res->content_type = ct ? strdup(ct) : NULL;
    snprintf(res->peer_ip, sizeof res->peer_ip, "%s", ip ? ip : "");
}

static int start(const trpt_http_config *cfg, const char *url,
                 trpt_http_result *res)
{
    char *host, *port;

    if (!res)
        return -EINVAL;
    memset(res, 0, sizeof *res);
    trpt_buf_init(&res->body);
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return -EIO;
    if (!cfg || !url || https_url(url, &host, &port) < 0) {
        snprintf(res->error, sizeof res->error, "not an https URL");
        return -EINVAL;
    }
    curl_free(host);
    curl_free(port);
    return 0;
}

static void note_refusal(const transfer *t, trpt_http_result *res)
{
    if (t->refused)
        snprintf(res->error, sizeof res->error,
                 "destination address %s refused (private, loopback or "
                 "reserved; allow it explicitly to use it)",
                 t->refused_ip);
}

int trpt_http_post_report(const trpt_http_config *cfg, const char *url,
                          const void *gz, size_t len, trpt_http_result *res)
{
    char *where;
    int r;

    if ((r = start(cfg, url, res)) < 0)
        return r;
    if (!gz || len == 0)
        return -EINVAL;
    if (!(where = strdup(url)))
        return -ENOMEM;
    for (int hop = 0;; hop++) {
        transfer t = {.cfg = cfg, .res = res};
        struct curl_slist *to, *hdr = NULL;
        char *location = NULL;
        CURL *h = new_handle(&t, where, &to);
        struct curl_slist *h1;

        if (!h || !(h1 = curl_slist_append(
                        NULL, "Content-Type: application/tlsrpt+gzip"))) {
            curl_easy_cleanup(h);
            curl_slist_free_all(to);
            free(where);
            return -ENOMEM;
        }
        hdr = h1;
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, gz);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        r = map_curl_error(curl_easy_perform(h), &t);
        note_refusal(&t, res);
        take_answer(h, res);
        if (r == 0 && (res->status == 307 || res->status == 308) &&
            curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &location) ==
                CURLE_OK &&
            location && hop < MAX_REDIRECTS && same_origin(where, location)) {
            char *next = strdup(location);

            curl_easy_cleanup(h);
            curl_slist_free_all(hdr);
            curl_slist_free_all(to);
            free(where);
            if (!(where = next))
                return -ENOMEM;
            continue;
        }
        curl_easy_cleanup(h);
        curl_slist_free_all(hdr);
        curl_slist_free_all(to);
        break;
    }
    free(where);
    if (r == 0 && (res->status < 200 || res->status > 299)) {
        snprintf(res->error, sizeof res->error, "HTTP status %ld%s",
                 res->status,
                 res->status >= 300 && res->status < 400
                     ? " (redirect to another host or method not followed)"
                     : "");
        r = -EPROTO;
    }
    return r;
}

/* The media type without parameters is text/plain (RFC 8461 §3.3). */
static int is_text_plain(const char *ct)
{
    size_t n = strlen("text/plain");

    return ct && strncasecmp(ct, "text/plain", n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

int trpt_http_get_policy(const trpt_http_config *cfg, const char *domain,
                         trpt_http_result *res)
{
    char url[512];
    transfer t = {.cfg = cfg, .res = res, .max_body = TRPT_HTTP_POLICY_MAX};
    struct curl_slist *to;
    CURL *h;
    int r;

    if (!domain || !domain[0] || strlen(domain) > 253 ||
        strpbrk(domain, "/:@?#% \t\r\n"))
        return res ? (memset(res, 0, sizeof *res), -EINVAL) : -EINVAL;
    snprintf(url, sizeof url, "https://mta-sts.%s/.well-known/mta-sts.txt",
             domain);
    if ((r = start(cfg, url, res)) < 0)
        return r;
    if (!(h = new_handle(&t, url, &to)))
        return -ENOMEM;
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    r = map_curl_error(curl_easy_perform(h), &t);
    note_refusal(&t, res);
    take_answer(h, res);
    curl_easy_cleanup(h);
    curl_slist_free_all(to);
    if (r == -EFBIG)
        snprintf(res->error, sizeof res->error, "policy larger than %d bytes",
                 TRPT_HTTP_POLICY_MAX);
    if (r == 0 && res->status != 200) {
        snprintf(res->error, sizeof res->error, "HTTP status %ld%s",
                 res->status,
                 res->status >= 300 && res->status < 400
                     ? " (redirects are not followed, RFC 8461 section 3.3)"
                     : "");
        r = -EPROTO;
    } else if (r == 0 && !is_text_plain(res->content_type)) {
        snprintf(res->error, sizeof res->error, "media type %s, not text/plain",
                 res->content_type ? res->content_type : "(none)");
        r = -EPROTO;
    }
    if (r < 0)
        trpt_buf_reset(&res->body);
    return r;
}

void trpt_http_result_clear(trpt_http_result *res)
{
    if (!res)
        return;
    free(res->content_type);
    trpt_buf_free(&res->body);
    memset(res, 0, sizeof *res);
}

int trpt_http_retryable(int err, const trpt_http_result *res)
{
    switch (err) {
    case -ETIMEDOUT:
    case -ECONNREFUSED:
    case -EHOSTUNREACH:
    case -EIO:
        return 1;
    case -EPROTO:
        return res &&
               (res->status >= 500 || res->status == 429 || res->status == 408);
    default:
        return 0;
    }
}
