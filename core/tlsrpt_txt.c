/* tlsrpt_txt.c - the TLSRPT TXT record (RFC 8460 §3) and the TXT record
 * helpers MTA-STS shares (RFC 8461 §3.1); see tlsrpt_txt.h and
 * docs/delivery-parsing.md for the decisions. */
#include "tlsrpt_txt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int trpt_txt_error(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    va_list ap;

    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static bool is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static char ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* ---- shared TXT helpers ---------------------------------------------- */

int trpt_txt_rdata_split(const uint8_t *rdata, size_t len,
                         trpt_txt_string *strs, size_t max, size_t *n)
{
    size_t i = 0, count = 0;

    if ((!rdata && len) || (!strs && max) || !n)
        return -EINVAL;
    /* RFC 1035 §3.3.14: TXT-DATA is one or more <character-string>s. */
    if (len == 0)
        return -EINVAL;
    while (i < len) {
        size_t l = rdata[i];

        if (l > len - i - 1)
            return -EINVAL;
        if (count == max)
            return -E2BIG;
        strs[count].data = (const char *)rdata + i + 1;
        strs[count].len = l;
        count++;
        i += 1 + l;
    }
    *n = count;
    return 0;
}

void trpt_txt_rrs_free(trpt_txt_rr *rrs, size_t n)
{
    if (!rrs)
        return;
    for (size_t i = 0; i < n; i++)
        free((trpt_txt_string *)rrs[i].strings);
    free(rrs);
}

int trpt_txt_rrs_from_rdata(const trpt_txt_string *rdata, size_t n,
                            trpt_txt_rr **rrs)
{
    trpt_txt_rr *out;

    if ((!rdata && n) || !rrs)
        return -EINVAL;
    *rrs = NULL;
    if (!(out = calloc(n ? n : 1, sizeof *out)))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        /* Each character-string takes at least its length byte. */
        size_t max = rdata[i].len, got = 0;
        trpt_txt_string *strs = calloc(max ? max : 1, sizeof *strs);
        int rc;

        if (!strs) {
            trpt_txt_rrs_free(out, i);
            return -ENOMEM;
        }
        rc = trpt_txt_rdata_split((const uint8_t *)rdata[i].data, rdata[i].len,
                                  strs, max, &got);
        out[i] = (trpt_txt_rr){strs, got};
        if (rc < 0) {
            trpt_txt_rrs_free(out, i + 1);
            return rc;
        }
    }
    *rrs = out;
    return 0;
}

static int rr_check(const trpt_txt_rr *rr)
{
    if (!rr->strings && rr->n)
        return -EINVAL;
    for (size_t i = 0; i < rr->n; i++)
        if (!rr->strings[i].data && rr->strings[i].len)
            return -EINVAL;
    return 0;
}

/* Total text length of a record, saturated above TRPT_TXT_MAX so a hostile
 * count of strings cannot overflow. */
static size_t rr_text_len(const trpt_txt_rr *rr)
{
    size_t total = 0;

    for (size_t i = 0; i < rr->n && total <= TRPT_TXT_MAX; i++)
        total += rr->strings[i].len > TRPT_TXT_MAX ? TRPT_TXT_MAX + 1
                                                   : rr->strings[i].len;
    return total;
}

/* Copies up to max bytes of the record's text (the strings may split a
 * token anywhere, even the version tag) and returns how many. */
static size_t rr_prefix(const trpt_txt_rr *rr, char *out, size_t max)
{
    size_t got = 0;

    for (size_t i = 0; i < rr->n && got < max; i++) {
        size_t take = rr->strings[i].len;

        if (take > max - got)
            take = max - got;
        if (take)
            memcpy(out + got, rr->strings[i].data, take);
        got += take;
    }
    return got;
}

/* RFC 8460 §3 / RFC 8461 §3.1: records that do not begin with the version
 * are discarded. The tag must end there: "v=TLSRPTv10" is another record. */
static bool rr_begins_with(const trpt_txt_rr *rr, const char *version,
                           size_t vlen)
{
    char head[64];
    size_t got;

    if (vlen + 1 > sizeof head)
        return false;
    got = rr_prefix(rr, head, vlen + 1);
    if (got < vlen || memcmp(head, version, vlen) != 0)
        return false;
    return got == vlen || head[vlen] == ';' || is_wsp(head[vlen]);
}

static int rr_join(const trpt_txt_rr *rr, char **text, size_t *len)
{
    size_t total = rr_text_len(rr);
    char *buf;

    if (total > TRPT_TXT_MAX)
        return -EMSGSIZE;
    if (!(buf = malloc(total + 1)))
        return -ENOMEM;
    rr_prefix(rr, buf, total);
    buf[total] = '\0';
    *text = buf;
    *len = total;
    return 0;
}

int trpt_txt_select(const trpt_txt_rr *rrs, size_t n, const char *version,
                    char **text, size_t *len, char *err, size_t errlen)
{
    size_t vlen, matches = 0, which = 0;
    int rc;

    if ((!rrs && n) || !version || !text || !len)
        return trpt_txt_error(err, errlen, -EINVAL, "bad arguments");
    *text = NULL;
    *len = 0;
    vlen = strlen(version);
    for (size_t i = 0; i < n; i++) {
        if (rr_check(&rrs[i]) < 0)
            return trpt_txt_error(err, errlen, -EINVAL, "bad arguments");
        if (rr_begins_with(&rrs[i], version, vlen)) {
            matches++;
            which = i;
        }
    }
    if (matches == 0)
        return trpt_txt_error(err, errlen, -ENOENT,
                              "no TXT record begins with %s", version);
    if (matches > 1)
        return trpt_txt_error(err, errlen, -EEXIST,
                              "%zu TXT records begin with %s, not one", matches,
                              version);
    rc = rr_join(&rrs[which], text, len);
    if (rc == -EMSGSIZE)
        return trpt_txt_error(err, errlen, rc, "record longer than %d bytes",
                              TRPT_TXT_MAX);
    return rc;
}

int trpt_txt_check_text(const char *text, size_t len, char *err, size_t errlen)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];

        if (c == '\t' || (c >= 0x20 && c <= 0x7e))
            continue;
        if (c == 0)
            return trpt_txt_error(err, errlen, -EINVAL,
                                  "NUL byte at offset %zu", i);
        if (c >= 0x80)
            return trpt_txt_error(err, errlen, -EINVAL,
                                  "non-ASCII byte at offset %zu", i);
        return trpt_txt_error(err, errlen, -EINVAL,
                              "control character at offset %zu", i);
    }
    return 0;
}

int trpt_txt_ext_value_valid(const char *value, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];

        if (c < 0x21 || c > 0x7e || c == ';' || c == '=')
            return 0;
    }
    return 1;
}

/* ext-name = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".") */
static size_t field_name_len(const char *p, const char *end)
{
    size_t n = 0;

    if (p >= end || !is_alnum(*p))
        return 0;
    while (p + n < end &&
           (is_alnum(p[n]) || p[n] == '_' || p[n] == '-' || p[n] == '.'))
        n++;
    return n;
}

static const char *skip_wsp(const char *p, const char *end)
{
    while (p < end && is_wsp(*p))
        p++;
    return p;
}

/* One field "name=value" in [p, end) (delimiter WSP already trimmed). */
static int parse_one_field(const char *p, const char *end, trpt_txt_field_fn fn,
                           void *ctx, char *err, size_t errlen)
{
    size_t nlen = field_name_len(p, end);

    if (p == end)
        return trpt_txt_error(err, errlen, -EINVAL, "empty field");
    if (nlen == 0 || nlen > TRPT_TXT_FIELD_NAME || p + nlen == end ||
        p[nlen] != '=')
        return trpt_txt_error(err, errlen, -EINVAL,
                              "malformed field (name=value expected)");
    if (p + nlen + 1 == end)
        return trpt_txt_error(err, errlen, -EINVAL, "field %.*s is empty",
                              (int)nlen, p);
    return fn(ctx, p, nlen, p + nlen + 1, (size_t)(end - p - nlen - 1), err,
              errlen);
}

int trpt_txt_fields(const char *text, size_t len, const char *version,
                    trpt_txt_field_fn fn, void *ctx, char *err, size_t errlen)
{
    size_t vlen;
    const char *p, *end;

    if (!text || !version || !fn)
        return trpt_txt_error(err, errlen, -EINVAL, "bad arguments");
    vlen = strlen(version);
    if (len < vlen || memcmp(text, version, vlen) != 0)
        return trpt_txt_error(err, errlen, -EINVAL, "does not begin with %s",
                              version);
    p = text + vlen;
    end = text + len;
    for (;;) {
        const char *field, *field_end;
        int rc;

        /* field-delim = *WSP ";" *WSP; a final delimiter is optional. */
        p = skip_wsp(p, end);
        if (p == end)
            return 0;
        if (*p != ';')
            return trpt_txt_error(err, errlen, -EINVAL,
                                  "expected ';' at offset %zu",
                                  (size_t)(p - text));
        p = skip_wsp(p + 1, end);
        if (p == end)
            return 0;
        field = p;
        field_end = memchr(p, ';', (size_t)(end - p));
        if (!field_end)
            field_end = end;
        p = field_end;
        while (field_end > field && is_wsp(field_end[-1]))
            field_end--;
        rc = parse_one_field(field, field_end, fn, ctx, err, errlen);
        if (rc < 0)
            return rc;
    }
}

int trpt_txt_hostname_valid(const char *s, size_t len)
{
    size_t label = 0;

    if (!s || len == 0 || len > TRPT_HOSTNAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];

        if (c == '.') {
            if (label == 0 || s[i - 1] == '-')
                return 0;
            label = 0;
            continue;
        }
        if (!is_alnum(c) && c != '-')
            return 0;
        if (c == '-' && label == 0)
            return 0;
        if (++label > 63)
            return 0;
    }
    return label > 0 && s[len - 1] != '-';
}

/* ---- URIs ------------------------------------------------------------ */

/* RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
static size_t uri_scheme_len(const char *u, size_t n)
{
    size_t i = 0;

    if (n == 0 || !is_alpha(u[0]))
        return 0;
    while (i < n &&
           (is_alnum(u[i]) || u[i] == '+' || u[i] == '-' || u[i] == '.'))
        i++;
    return i < n && u[i] == ':' ? i : 0;
}

static bool has_scheme(const char *u, size_t n, const char *scheme)
{
    size_t sl = strlen(scheme);

    return n > sl && strncasecmp(u, scheme, sl) == 0 && u[sl] == ':';
}

/* Decodes %HH (RFC 3986 §2.1) into out (room for n + 1 bytes). The result
 * must be printable ASCII: an address with a control, space, NUL or
 * non-ASCII byte in it is not one we can send to. */
static int pct_decode_printable(const char *s, size_t n, char *out,
                                size_t *outlen)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];

        if (c == '%') {
            int hi, lo;

            if (n - i < 3)
                return -EINVAL;
            hi = hex_value(s[i + 1]);
            lo = hex_value(s[i + 2]);
            if (hi < 0 || lo < 0)
                return -EINVAL;
            c = hi * 16 + lo;
            i += 2;
        }
        if (c < 0x21 || c > 0x7e)
            return -EINVAL;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    *outlen = o;
    return 0;
}

/* RFC 5322 §3.2.3 atext, for an unquoted local part. */
static bool is_atext(char c)
{
    return is_alnum(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

static bool local_part_valid(const char *s, size_t n)
{
    if (n == 0 || n > TRPT_MAILTO_LOCAL_MAX || s[0] == '.' || s[n - 1] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.' && i + 1 < n && s[i + 1] == '.')
            return false;
        if (s[i] != '.' && !is_atext(s[i]))
            return false;
    }
    return true;
}

/* mailto:addr[?hfields] (RFC 6068 §2). One plain addr-spec only: no
 * quoted local part, no domain literal, no second address. */
static int mailto_address(const char *uri, size_t n, char **addr)
{
    const char *a = uri + strlen("mailto:");
    const char *q = memchr(a, '?', (size_t)(uri + n - a));
    size_t alen = (size_t)((q ? q : uri + n) - a), dlen, at;
    char *buf, *sep;

    if (alen == 0 || alen > 3 * TRPT_MAILTO_ADDR_MAX)
        return -EINVAL;
    if (!(buf = malloc(alen + 1)))
        return -ENOMEM;
    if (pct_decode_printable(a, alen, buf, &dlen) < 0 ||
        dlen > TRPT_MAILTO_ADDR_MAX || !(sep = strchr(buf, '@')) ||
        strchr(sep + 1, '@')) {
        free(buf);
        return -EINVAL;
    }
    at = (size_t)(sep - buf);
    if (dlen > at + 1 && buf[dlen - 1] == '.')
        buf[--dlen] = '\0'; /* a final dot names the same domain */
    if (!local_part_valid(buf, at) ||
        !trpt_txt_hostname_valid(sep + 1, dlen - at - 1)) {
        free(buf);
        return -EINVAL;
    }
    for (char *d = sep + 1; *d; d++)
        *d = ascii_lower(*d);
    *addr = buf;
    return 0;
}

/* RFC 3986 §3.2.2 host: an IP literal or a registered name. */
static bool https_host_valid(const char *h, size_t n)
{
    char tmp[64];
    struct in6_addr a6;

    if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
        if (n - 2 >= sizeof tmp || n == 2)
            return false;
        memcpy(tmp, h + 1, n - 2);
        tmp[n - 2] = '\0';
        return inet_pton(AF_INET6, tmp, &a6) == 1;
    }
    if (n > 1 && h[n - 1] == '.')
        n--;
    return trpt_txt_hostname_valid(h, n);
}

static bool https_port_valid(const char *p, size_t n)
{
    unsigned long v = 0;

    if (n == 0 || n > 5)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (unsigned long)(p[i] - '0');
    }
    return v >= 1 && v <= 65535;
}

/* RFC 3986 path, query and fragment characters, with well-formed %HH;
 * "!" is refused because RFC 8460 §3 says it MUST be encoded. */
static bool https_rest_valid(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (c == '%') {
            if (n - i < 3 || hex_value(s[i + 1]) < 0 || hex_value(s[i + 2]) < 0)
                return false;
            i += 2;
            continue;
        }
        if (is_alnum(c) || (c && strchr("-._~$&'()*+=:@/?#", c)))
            continue;
        return false;
    }
    return true;
}

/* https://host[:port][/path][?query][#fragment] (RFC 9110 §4.2.2): an
 * absolute URL with a host; userinfo is refused (no credentials in DNS). */
static int https_url_valid(const char *uri, size_t n)
{
    const char *auth = uri + strlen("https:"), *end = uri + n, *auth_end,
               *host_end;

    if (n > TRPT_HTTPS_URL_MAX || end - auth < 2 || auth[0] != '/' ||
        auth[1] != '/')
        return -EINVAL;
    auth += 2;
    auth_end = auth;
    while (auth_end < end && *auth_end != '/' && *auth_end != '?' &&
           *auth_end != '#')
        auth_end++;
    if (memchr(auth, '@', (size_t)(auth_end - auth)))
        return -EINVAL;
    host_end = auth_end;
    if (auth < auth_end && auth[0] == '[') {
        host_end = memchr(auth, ']', (size_t)(auth_end - auth));
        host_end = host_end ? host_end + 1 : auth_end;
    } else {
        const char *colon = memchr(auth, ':', (size_t)(auth_end - auth));

        if (colon)
            host_end = colon;
    }
    if (!https_host_valid(auth, (size_t)(host_end - auth)))
        return -EINVAL;
    if (host_end < auth_end &&
        (*host_end != ':' ||
         !https_port_valid(host_end + 1, (size_t)(auth_end - host_end - 1))))
        return -EINVAL;
    return https_rest_valid(auth_end, (size_t)(end - auth_end)) ? 0 : -EINVAL;
}

/* ---- the TLSRPT record ----------------------------------------------- */

void trpt_tlsrpt_txt_free(trpt_tlsrpt_txt *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_rua; i++) {
        free(t->rua[i].uri);
        free(t->rua[i].target);
    }
    free(t->rua);
    free(t->record);
    free(t);
}

static bool rua_listed(const trpt_tlsrpt_txt *t, trpt_rua_scheme scheme,
                       const char *target)
{
    for (size_t i = 0; i < t->n_rua; i++)
        if (t->rua[i].scheme == scheme && strcmp(t->rua[i].target, target) == 0)
            return true;
    return false;
}

/* Takes ownership of target. */
static int rua_add(trpt_tlsrpt_txt *t, trpt_rua_scheme scheme, const char *uri,
                   size_t n, char *target)
{
    char *copy;

    if (rua_listed(t, scheme, target)) {
        t->n_duplicate++;
        free(target);
        return 0;
    }
    if (t->n_rua == TRPT_TLSRPT_MAX_RUA) {
        t->n_over_limit++;
        free(target);
        return 0;
    }
    if (!t->rua && !(t->rua = calloc(TRPT_TLSRPT_MAX_RUA, sizeof *t->rua))) {
        free(target);
        return -ENOMEM;
    }
    if (!(copy = strndup(uri, n))) {
        free(target);
        return -ENOMEM;
    }
    t->rua[t->n_rua++] = (trpt_rua){scheme, copy, target};
    return 0;
}

/* One tlsrpt-uri: usable ones are added, the others counted. */
static int rua_uri(trpt_tlsrpt_txt *t, const char *u, size_t n)
{
    char *target = NULL;
    int rc;

    /* RFC 8460 §3: "!" MUST be encoded; a raw one is what DMARC's size
     * suffix ("mailto:a@example.com!10m") looks like, not an address. */
    if (memchr(u, '!', n)) {
        t->n_invalid++;
        return 0;
    }
    if (has_scheme(u, n, "mailto")) {
        rc = mailto_address(u, n, &target);
        if (rc == -EINVAL)
            t->n_invalid++;
        return rc == 0 ? rua_add(t, TRPT_RUA_MAILTO, u, n, target)
                       : (rc == -EINVAL ? 0 : rc);
    }
    if (has_scheme(u, n, "https")) {
        if (https_url_valid(u, n) < 0) {
            t->n_invalid++;
            return 0;
        }
        if (!(target = strndup(u, n)))
            return -ENOMEM;
        return rua_add(t, TRPT_RUA_HTTPS, u, n, target);
    }
    if (uri_scheme_len(u, n))
        t->n_unsupported++;
    else
        t->n_invalid++;
    return 0;
}

/* tlsrpt-rua = %s"rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri) */
static int rua_list(trpt_tlsrpt_txt *t, const char *v, size_t n, char *err,
                    size_t errlen)
{
    const char *p = v, *end = v + n;

    for (;;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *uri = skip_wsp(p, end), *uri_end = comma ? comma : end;
        int rc;

        while (uri_end > uri && is_wsp(uri_end[-1]))
            uri_end--;
        if (uri == uri_end)
            return trpt_txt_error(err, errlen, -EINVAL, "empty rua URI");
        for (const char *c = uri; c < uri_end; c++)
            if (is_wsp(*c))
                return trpt_txt_error(err, errlen, -EINVAL,
                                      "whitespace inside a rua URI");
        rc = rua_uri(t, uri, (size_t)(uri_end - uri));
        if (rc < 0)
            return trpt_txt_error(err, errlen, rc, "out of memory");
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

static int tlsrpt_field(void *ctx, const char *name, size_t name_len,
                        const char *value, size_t value_len, char *err,
                        size_t errlen)
{
    trpt_tlsrpt_txt *t = ctx;

    /* %s"rua=": the field name is case-sensitive (RFC 8460 §3, RFC 7405). */
    if (name_len == 3 && memcmp(name, "rua", 3) == 0) {
        t->n_rua_fields++;
        return rua_list(t, value, value_len, err, errlen);
    }
    if (!trpt_txt_ext_value_valid(value, value_len))
        return trpt_txt_error(err, errlen, -EINVAL,
                              "malformed value of field %.*s", (int)name_len,
                              name);
    t->n_extensions++; /* RFC 8460 §3: unknown fields are ignored */
    return 0;
}

int trpt_tlsrpt_record_parse(const char *text, size_t len,
                             trpt_tlsrpt_txt **out, char *err, size_t errlen)
{
    trpt_tlsrpt_txt *t;
    int rc;

    if (!text || !out)
        return trpt_txt_error(err, errlen, -EINVAL, "bad arguments");
    *out = NULL;
    if (len > TRPT_TXT_MAX)
        return trpt_txt_error(err, errlen, -EMSGSIZE,
                              "record longer than %d bytes", TRPT_TXT_MAX);
    rc = trpt_txt_check_text(text, len, err, errlen);
    if (rc < 0)
        return rc;
    if (!(t = calloc(1, sizeof *t)) || !(t->record = strndup(text, len))) {
        free(t);
        return trpt_txt_error(err, errlen, -ENOMEM, "out of memory");
    }
    t->record_len = len;
    rc = trpt_txt_fields(text, len, TRPT_TLSRPT_VERSION, tlsrpt_field, t, err,
                         errlen);
    if (rc == 0 && t->n_rua_fields == 0)
        rc = trpt_txt_error(err, errlen, -EINVAL, "no rua field");
    if (rc == 0 && t->n_rua == 0)
        rc = trpt_txt_error(err, errlen, -ENOTSUP,
                            "no usable mailto: or https: rua URI "
                            "(%zu unsupported, %zu malformed)",
                            t->n_unsupported, t->n_invalid);
    if (rc < 0) {
        trpt_tlsrpt_txt_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

int trpt_tlsrpt_txt_parse(const trpt_txt_rr *rrs, size_t n,
                          trpt_tlsrpt_txt **out, char *err, size_t errlen)
{
    char *text;
    size_t len;
    int rc;

    if (!out)
        return trpt_txt_error(err, errlen, -EINVAL, "bad arguments");
    *out = NULL;
    rc = trpt_txt_select(rrs, n, TRPT_TLSRPT_VERSION, &text, &len, err, errlen);
    if (rc < 0)
        return rc;
    rc = trpt_tlsrpt_record_parse(text, len, out, err, errlen);
    free(text);
    return rc;
}

int trpt_tlsrpt_txt_parse_rdata(const trpt_txt_string *rdata, size_t n,
                                trpt_tlsrpt_txt **out, char *err, size_t errlen)
{
    trpt_txt_rr *rrs;
    int rc;

    if (!out)
        return trpt_txt_error(err, errlen, -EINVAL, "bad arguments");
    *out = NULL;
    rc = trpt_txt_rrs_from_rdata(rdata, n, &rrs);
    if (rc < 0)
        return trpt_txt_error(err, errlen, rc, "%s",
                              rc == -ENOMEM ? "out of memory"
                                            : "malformed TXT RDATA");
    rc = trpt_tlsrpt_txt_parse(rrs, n, out, err, errlen);
    trpt_txt_rrs_free(rrs, n);
    return rc;
}
