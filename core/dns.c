/*
 * dns.c - DNS lookups through libunbound (dns.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <unbound.h>

#include "dns.h"

struct trpt_dns {
    struct ub_ctx *ctx;
};

const char *trpt_dns_status_name(trpt_dns_status s)
{
    switch (s) {
    case TRPT_DNS_DATA:
        return "data";
    case TRPT_DNS_NODATA:
        return "nodata";
    case TRPT_DNS_NXDOMAIN:
        return "nxdomain";
    case TRPT_DNS_TEMPFAIL:
        return "tempfail";
    case TRPT_DNS_BOGUS:
        return "bogus";
    }
    return "unknown";
}

static int set_error(char *err, size_t errlen, const char *what, int ub_rc)
{
    if (err && errlen)
        snprintf(err, errlen, "%s: %s", what, ub_strerror(ub_rc));
    return ub_rc == UB_NOMEM ? -ENOMEM : -EINVAL;
}

/* Validation: the validator module is on unless no_dnssec; the anchor is
 * the one given, else the root key file when it exists. */
static int setup_dnssec(struct ub_ctx *ctx, const trpt_dns_config *cfg,
                        char *err, size_t errlen)
{
    const char *file = cfg->trust_anchor_file;
    int rc;

    if (cfg->no_dnssec) {
        rc = ub_ctx_set_option(ctx, "module-config:", "iterator");
        return rc ? set_error(err, errlen, "module-config", rc) : 0;
    }
    if (cfg->trust_anchor &&
        (rc = ub_ctx_add_ta(ctx, (char *)cfg->trust_anchor)) != 0)
        return set_error(err, errlen, "trust anchor", rc);
    if (!file && !cfg->trust_anchor && access(TRPT_DNS_ROOT_KEY, R_OK) == 0)
        file = TRPT_DNS_ROOT_KEY;
    if (file && (rc = ub_ctx_add_ta_file(ctx, (char *)file)) != 0)
        return set_error(err, errlen, file, rc);
    return 0;
}

/* A configured server may be on loopback (a local resolver, a test
 * server): unbound refuses to query localhost unless told. */
static int setup_server(struct ub_ctx *ctx, const trpt_dns_config *cfg,
                        char *err, size_t errlen)
{
    int rc;

    if (!cfg->server) {
        rc = ub_ctx_resolvconf(ctx, NULL);
        return rc ? set_error(err, errlen, "/etc/resolv.conf", rc) : 0;
    }
    if ((rc = ub_ctx_set_option(ctx, "do-not-query-localhost:", "no")) != 0)
        return set_error(err, errlen, "do-not-query-localhost", rc);
    if ((rc = ub_ctx_set_fwd(ctx, (char *)cfg->server)) != 0)
        return set_error(err, errlen, cfg->server, rc);
    return 0;
}

static int finalize(struct ub_ctx *ctx, const trpt_dns_config *cfg, char *err,
                    size_t errlen)
{
    int rc;

    if (cfg->unblock_zone)
        rc = ub_ctx_zone_add(ctx, (char *)cfg->unblock_zone, "nodefault");
    else
        rc = ub_ctx_data_remove(ctx, "finalize.opentlsrpt.invalid.");
    return rc ? set_error(err, errlen, "resolver set-up", rc) : 0;
}

int trpt_dns_new(trpt_dns **out, const trpt_dns_config *cfg, char *err,
                 size_t errlen)
{
    static const trpt_dns_config defaults;
    trpt_dns *d;
    int r;

    if (err && errlen)
        err[0] = '\0';
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!cfg)
        cfg = &defaults;
    if (!(d = calloc(1, sizeof *d)))
        return -ENOMEM;
    if (!(d->ctx = ub_ctx_create())) {
        free(d);
        return -ENOMEM;
    }
    /* The order matters: options before anything finalizes the context.
     * libunbound reads trust anchors only when it finalizes (at the first
     * lookup); changing local zones or data finalizes it now,
     * so a bad anchor is a configuration error here, not a failed lookup
     * later. */
    if ((r = setup_server(d->ctx, cfg, err, errlen)) < 0 ||
        (r = setup_dnssec(d->ctx, cfg, err, errlen)) < 0 ||
        (r = finalize(d->ctx, cfg, err, errlen)) < 0) {
        trpt_dns_free(d);
        return r;
    }
    *out = d;
    return 0;
}

void trpt_dns_answer_clear(trpt_dns_answer *ans)
{
    if (!ans)
        return;
    for (size_t i = 0; i < ans->n; i++)
        free(ans->rr[i].data);
    free(ans->rr);
    free(ans->why_bogus);
    memset(ans, 0, sizeof *ans);
}

static trpt_dns_status status_of(const struct ub_result *res)
{
    if (res->bogus)
        return TRPT_DNS_BOGUS;
    if (res->rcode == 3 || res->nxdomain)
        return TRPT_DNS_NXDOMAIN;
    if (res->rcode != 0)
        return TRPT_DNS_TEMPFAIL;
    return res->havedata ? TRPT_DNS_DATA : TRPT_DNS_NODATA;
}

static int copy_records(trpt_dns_answer *ans, const struct ub_result *res)
{
    size_t n = 0;

    while (res->data[n])
        n++;
    if (n == 0)
        return 0;
    if (!(ans->rr = calloc(n, sizeof *ans->rr)))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        size_t len = res->len[i] > 0 ? (size_t)res->len[i] : 0;

        if (!(ans->rr[i].data = malloc(len ? len : 1)))
            return -ENOMEM;
        memcpy(ans->rr[i].data, res->data[i], len);
        ans->rr[i].len = len;
        ans->n = i + 1;
    }
    return 0;
}

int trpt_dns_query(trpt_dns *d, const char *name, uint16_t type,
                   trpt_dns_answer *ans)
{
    struct ub_result *res = NULL;
    int rc;

    if (!ans)
        return -EINVAL;
    memset(ans, 0, sizeof *ans);
    if (!d || !name || !name[0] || strlen(name) > 253)
        return -EINVAL;
    if ((rc = ub_resolve(d->ctx, (char *)name, type, 1 /* IN */, &res)) != 0) {
        ub_resolve_free(res);
        return rc == UB_NOMEM ? -ENOMEM : -EIO;
    }
    ans->status = status_of(res);
    ans->secure = res->secure && !res->bogus;
    ans->ttl = res->ttl > 0 ? (uint32_t)res->ttl : 0;
    rc = 0;
    if (ans->status == TRPT_DNS_DATA)
        rc = copy_records(ans, res);
    if (rc == 0 && res->bogus && res->why_bogus &&
        !(ans->why_bogus = strdup(res->why_bogus)))
        rc = -ENOMEM;
    ub_resolve_free(res);
    if (rc < 0)
        trpt_dns_answer_clear(ans);
    return rc;
}

void trpt_dns_free(trpt_dns *d)
{
    if (!d)
        return;
    if (d->ctx)
        ub_ctx_delete(d->ctx);
    free(d);
}

/* --- rdata decoders ------------------------------------------------------ */

/* An uncompressed domain name (libunbound hands rdata out uncompressed)
 * to lower-case text without the trailing dot; "." (root) gives "". */
static int name_to_text(const unsigned char *p, size_t len, char *out,
                        size_t outlen, size_t *used)
{
    size_t at = 0, o = 0;

    while (at < len) {
        size_t n = p[at++];

        if (n == 0) {
            if (o >= outlen)
                return -ENAMETOOLONG;
            out[o] = '\0';
            *used = at;
            return 0;
        }
        if (n > 63 || n > len - at)
            return -EBADMSG; /* a compression pointer or truncated */
        if (o && o + 1 >= outlen)
            return -ENAMETOOLONG;
        if (o)
            out[o++] = '.';
        for (size_t i = 0; i < n; i++) {
            unsigned char c = p[at + i];

            /* Host names only (RFC 1123 §2.1): letters, digits, '-',
             * and '_' as found in service labels. */
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '-' || c == '_'))
                return -EBADMSG;
            if (o + 1 >= outlen)
                return -ENAMETOOLONG;
            out[o++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        at += n;
    }
    return -EBADMSG; /* no terminating root label */
}

int trpt_dns_mx(const unsigned char *rd, size_t len, unsigned *preference,
                char *host, size_t hostlen)
{
    size_t used = 0;
    int r;

    if (!rd || !preference || !host || hostlen == 0 || len < 3)
        return -EBADMSG;
    *preference = (unsigned)rd[0] << 8 | rd[1];
    if ((r = name_to_text(rd + 2, len - 2, host, hostlen, &used)) < 0)
        return r;
    return used == len - 2 ? 0 : -EBADMSG;
}

/* RFC 6698 §2.1: usage, selector, matching type (one byte each), then the
 * certificate association data (at least one byte). */
int trpt_dns_tlsa_string(const unsigned char *rd, size_t len, trpt_buf *out)
{
    static const char hex[] = "0123456789ABCDEF";
    int r;

    if (!rd || !out || len < 4)
        return -EBADMSG;
    if ((r = trpt_buf_printf(out, "%u %u %u ", rd[0], rd[1], rd[2])) < 0 ||
        (r = trpt_buf_reserve(out, 2 * (len - 3) + 1)) < 0)
        return r;
    for (size_t i = 3; i < len; i++) {
        char pair[2] = {hex[rd[i] >> 4], hex[rd[i] & 15]};

        trpt_buf_append(out, pair, 2);
    }
    return 0;
}
