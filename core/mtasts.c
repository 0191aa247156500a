/* mtasts.c - MTA-STS TXT record, policy file and MX matching (RFC 8461
 * §3.1, §3.2, §4.1); see mtasts.h and docs/delivery-parsing.md. */
#include "mtasts.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LINE_MAX_LEN 8192 /* one policy line; a record's policy-string cap */

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

static bool is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

static bool span_is(const char *s, size_t n, const char *word)
{
    return strlen(word) == n && memcmp(s, word, n) == 0;
}

/* ---- the _mta-sts TXT record (§3.1) ---------------------------------- */

void trpt_mtasts_txt_free(trpt_mtasts_txt *t)
{
    if (!t)
        return;
    free(t->record);
    free(t);
}

/* sts-id = %s"id=" 1*32(ALPHA / DIGIT) */
static int sts_id(trpt_mtasts_txt *t, const char *v, size_t n, char *err,
                  size_t errlen)
{
    if (t->id[0])
        return trpt_txt_error(err, errlen, -EINVAL, "more than one id field");
    if (n > TRPT_MTASTS_ID_MAX)
        return trpt_txt_error(err, errlen, -EINVAL,
                              "id longer than %d characters",
                              TRPT_MTASTS_ID_MAX);
    for (size_t i = 0; i < n; i++)
        if (!is_alnum(v[i]))
            return trpt_txt_error(err, errlen, -EINVAL,
                                  "id is not letters and digits");
    memcpy(t->id, v, n);
    t->id[n] = '\0';
    return 0;
}

static int sts_txt_field(void *ctx, const char *name, size_t name_len,
                         const char *value, size_t value_len, char *err,
                         size_t errlen)
{
    trpt_mtasts_txt *t = ctx;

    if (span_is(name, name_len, "id"))
        return sts_id(t, value, value_len, err, errlen);
    /* §3.1: a syntactically invalid record means no policy, so extension
     * values are held to sts-ext-value; unknown fields are ignored. */
    if (!trpt_txt_ext_value_valid(value, value_len))
        return trpt_txt_error(err, errlen, -EINVAL,
                              "malformed value of field %.*s", (int)name_len,
                              name);
    t->n_extensions++;
    return 0;
}

int trpt_mtasts_txt_record_parse(const char *text, size_t len,
                                 trpt_mtasts_txt **out, char *err,
                                 size_t errlen)
{
    trpt_mtasts_txt *t;
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
    rc = trpt_txt_fields(text, len, TRPT_MTASTS_VERSION, sts_txt_field, t, err,
                         errlen);
    if (rc == 0 && !t->id[0])
        rc = trpt_txt_error(err, errlen, -EINVAL, "no id field");
    if (rc < 0) {
        trpt_mtasts_txt_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

int trpt_mtasts_txt_parse(const trpt_txt_rr *rrs, size_t n,
                          trpt_mtasts_txt **out, char *err, size_t errlen)
{
    char *text;
    size_t len;
    int rc;

    if (!out)
        return trpt_txt_error(err, errlen, -EINVAL, "bad arguments");
    *out = NULL;
    rc = trpt_txt_select(rrs, n, TRPT_MTASTS_VERSION, &text, &len, err, errlen);
    if (rc < 0)
        return rc;
    rc = trpt_mtasts_txt_record_parse(text, len, out, err, errlen);
    free(text);
    return rc;
}

int trpt_mtasts_txt_parse_rdata(const trpt_txt_string *rdata, size_t n,
                                trpt_mtasts_txt **out, char *err, size_t errlen)
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
    rc = trpt_mtasts_txt_parse(rrs, n, out, err, errlen);
    trpt_txt_rrs_free(rrs, n);
    return rc;
}

/* ---- the policy file (§3.2) ------------------------------------------ */

void trpt_mtasts_policy_free(trpt_mtasts_policy *p)
{
    if (!p)
        return;
    trpt_strv_free(&p->mx);
    trpt_strv_free(&p->policy_strings);
    free(p);
}

/* Length of the UTF-8 sequence at s (RFC 3629 §4), 0 if malformed:
 * overlong forms, surrogates and code points above U+10FFFF included. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned min, cp;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2, min = 0x80, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, min = 0x800, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, min = 0x10000, cp = c & 0x07;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* The body may hold UTF-8 (sts-policy-vchar) and line ends; no NUL and no
 * other control character (HTAB is WSP). A CR must end a line. */
static int policy_check_bytes(const char *body, size_t len, char *err,
                              size_t errlen)
{
    const unsigned char *s = (const unsigned char *)body;

    for (size_t i = 0; i < len;) {
        size_t l = utf8_seq_len(s + i, len - i);

        if (l == 0)
            return trpt_txt_error(err, errlen, -EINVAL,
                                  "invalid UTF-8 at offset %zu", i);
        if (l == 1 && s[i] < 0x20 && s[i] != '\t' && s[i] != '\n' &&
            !(s[i] == '\r' && i + 1 < len && s[i + 1] == '\n'))
            return trpt_txt_error(err, errlen, -EINVAL,
                                  s[i] ? "control character at offset %zu"
                                       : "NUL byte at offset %zu",
                                  i);
        if (l == 1 && s[i] == 0x7f)
            return trpt_txt_error(err, errlen, -EINVAL,
                                  "control character at offset %zu", i);
        i += l;
    }
    return 0;
}

/* sts-policy-ext-name = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" /
 * ".") */
static size_t key_len(const char *s, size_t n)
{
    size_t k = 0;

    if (n == 0 || !is_alnum(s[0]))
        return 0;
    while (k < n &&
           (is_alnum(s[k]) || s[k] == '_' || s[k] == '-' || s[k] == '.'))
        k++;
    return k <= TRPT_TXT_FIELD_NAME ? k : 0;
}

/* Which singleton keys a policy has seen: §3.2 gives version, mode and
 * max_age one value each; a second one is ambiguous and refused. */
enum { SEEN_VERSION = 1, SEEN_MODE = 2, SEEN_MAX_AGE = 4 };

static int once(unsigned *seen, unsigned bit, const char *key, char *err,
                size_t errlen)
{
    if (*seen & bit)
        return trpt_txt_error(err, errlen, -EINVAL, "%s given twice", key);
    *seen |= bit;
    return 0;
}

static int policy_mode(trpt_mtasts_policy *p, const char *v, size_t n,
                       char *err, size_t errlen)
{
    /* sts-policy-mode-value = %s"testing" / %s"enforce" / %s"none" */
    if (span_is(v, n, "enforce"))
        p->mode = TRPT_MTASTS_MODE_ENFORCE;
    else if (span_is(v, n, "testing"))
        p->mode = TRPT_MTASTS_MODE_TESTING;
    else if (span_is(v, n, "none"))
        p->mode = TRPT_MTASTS_MODE_NONE;
    else
        return trpt_txt_error(err, errlen, -EINVAL, "unknown mode");
    return 0;
}

/* sts-policy-max-age-value = 1*10(DIGIT); §3.2 caps it at 31557600. A
 * larger value is lowered to the cap rather than refused (the policy is
 * otherwise usable, and the cap is what a sender would apply). */
static int policy_max_age(trpt_mtasts_policy *p, const char *v, size_t n,
                          char *err, size_t errlen)
{
    uint64_t age = 0;

    if (n == 0 || n > 10)
        return trpt_txt_error(err, errlen, -EINVAL,
                              "max_age is not 1 to 10 digits");
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return trpt_txt_error(err, errlen, -EINVAL,
                                  "max_age is not a number");
        age = age * 10 + (uint64_t)(v[i] - '0');
    }
    p->max_age_clamped = age > TRPT_MTASTS_MAX_AGE;
    p->max_age = p->max_age_clamped ? TRPT_MTASTS_MAX_AGE : (uint32_t)age;
    return 0;
}

/* sts-policy-mx-value = ["*."] Domain; stored in lower case without a
 * final dot, each pattern once. */
static int policy_mx(trpt_mtasts_policy *p, const char *v, size_t n, char *err,
                     size_t errlen)
{
    size_t skip = n > 2 && v[0] == '*' && v[1] == '.' ? 2 : 0, dn;
    char *pattern;
    int rc;

    dn = n - skip;
    if (dn > 1 && v[n - 1] == '.')
        dn--;
    if (!trpt_txt_hostname_valid(v + skip, dn))
        return trpt_txt_error(err, errlen, -EINVAL, "malformed mx pattern");
    if (!(pattern = strndup(v, skip + dn)))
        return trpt_txt_error(err, errlen, -ENOMEM, "out of memory");
    for (char *c = pattern; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    for (size_t i = 0; i < p->mx.n; i++)
        if (strcmp(p->mx.v[i], pattern) == 0) {
            free(pattern);
            return 0;
        }
    rc =
        p->mx.n < TRPT_MTASTS_MAX_MX ? trpt_strv_push(&p->mx, pattern) : -E2BIG;
    free(pattern);
    if (rc == -E2BIG)
        return trpt_txt_error(err, errlen, -EINVAL, "more than %d mx patterns",
                              TRPT_MTASTS_MAX_MX);
    return rc < 0 ? trpt_txt_error(err, errlen, rc, "out of memory") : 0;
}

/* sts-policy-ext-value: vchar [*(SP / vchar) vchar]; the ends are already
 * trimmed, so only an inner HTAB is left to refuse. */
static int policy_extension(trpt_mtasts_policy *p, const char *v, size_t n,
                            char *err, size_t errlen)
{
    if (memchr(v, '\t', n))
        return trpt_txt_error(err, errlen, -EINVAL,
                              "tab inside an extension value");
    p->n_extensions++; /* §3.2: unknown fields are ignored */
    return 0;
}

static int policy_field(trpt_mtasts_policy *p, unsigned *seen, const char *key,
                        size_t kn, const char *v, size_t n, char *err,
                        size_t errlen)
{
    int rc;

    /* Field names are case-sensitive (%s in the §3.2 ABNF). */
    if (span_is(key, kn, "version")) {
        if ((rc = once(seen, SEEN_VERSION, "version", err, errlen)) < 0)
            return rc;
        return span_is(v, n, "STSv1") ? 0
                                      : trpt_txt_error(err, errlen, -EINVAL,
                                                       "version is not STSv1");
    }
    if (span_is(key, kn, "mode")) {
        if ((rc = once(seen, SEEN_MODE, "mode", err, errlen)) < 0)
            return rc;
        return policy_mode(p, v, n, err, errlen);
    }
    if (span_is(key, kn, "max_age")) {
        if ((rc = once(seen, SEEN_MAX_AGE, "max_age", err, errlen)) < 0)
            return rc;
        return policy_max_age(p, v, n, err, errlen);
    }
    if (span_is(key, kn, "mx"))
        return policy_mx(p, v, n, err, errlen);
    return policy_extension(p, v, n, err, errlen);
}

/* One line without its terminator and trailing WSP: "key:" *WSP value. */
static int policy_line(trpt_mtasts_policy *p, unsigned *seen, const char *s,
                       size_t n, size_t lineno, char *err, size_t errlen)
{
    size_t kn = key_len(s, n), vstart;
    char *str;
    int rc;

    if (n > LINE_MAX_LEN)
        return trpt_txt_error(err, errlen, -EINVAL,
                              "line %zu longer than %d bytes", lineno,
                              LINE_MAX_LEN);
    if (kn == 0 || kn == n || s[kn] != ':')
        return trpt_txt_error(err, errlen, -EINVAL,
                              "line %zu is not \"key: value\"", lineno);
    vstart = kn + 1;
    while (vstart < n && is_wsp(s[vstart]))
        vstart++;
    if (vstart == n)
        return trpt_txt_error(err, errlen, -EINVAL, "line %zu has no value",
                              lineno);
    rc = policy_field(p, seen, s, kn, s + vstart, n - vstart, err, errlen);
    if (rc < 0)
        return rc;
    /* RFC 8460 §4.3: the policy's lines, written in one form ("key: value")
     * so that WSP variants of one policy fall into one report policy. */
    if (asprintf(&str, "%.*s: %.*s", (int)kn, s, (int)(n - vstart),
                 s + vstart) < 0)
        return trpt_txt_error(err, errlen, -ENOMEM, "out of memory");
    rc = trpt_strv_push(&p->policy_strings, str);
    free(str);
    return rc < 0 ? trpt_txt_error(err, errlen, rc, "out of memory") : 0;
}

static int policy_lines(trpt_mtasts_policy *p, const char *body, size_t len,
                        unsigned *seen, char *err, size_t errlen)
{
    const char *s = body, *end = body + len;

    for (size_t lineno = 1; s < end; lineno++) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *e = nl ? nl : end;
        int rc;

        /* sts-policy-term-delim = CRLF / LF (errata 6253) */
        if (e > s && e[-1] == '\r')
            e--;
        while (e > s && is_wsp(e[-1]))
            e--;
        /* Blank lines (a second newline at the end of the file, most
         * often) carry no field; they are skipped, not refused. */
        if (e > s) {
            rc = policy_line(p, seen, s, (size_t)(e - s), lineno, err, errlen);
            if (rc < 0)
                return rc;
        }
        s = nl ? nl + 1 : end;
    }
    return 0;
}

static int policy_complete(const trpt_mtasts_policy *p, unsigned seen,
                           char *err, size_t errlen)
{
    if (!(seen & SEEN_VERSION))
        return trpt_txt_error(err, errlen, -EINVAL, "no version");
    if (!(seen & SEEN_MODE))
        return trpt_txt_error(err, errlen, -EINVAL, "no mode");
    if (!(seen & SEEN_MAX_AGE))
        return trpt_txt_error(err, errlen, -EINVAL, "no max_age");
    /* §3.2: mx lines are required, except that "none" removes a policy
     * and needs none. */
    if (p->mx.n == 0 && p->mode != TRPT_MTASTS_MODE_NONE)
        return trpt_txt_error(err, errlen, -EINVAL, "no mx");
    return 0;
}

int trpt_mtasts_policy_parse(const char *body, size_t len,
                             trpt_mtasts_policy **out, char *err, size_t errlen)
{
    trpt_mtasts_policy *p;
    unsigned seen = 0;
    int rc;

    if ((!body && len) || !out)
        return trpt_txt_error(err, errlen, -EINVAL, "bad arguments");
    *out = NULL;
    if (len > TRPT_MTASTS_POLICY_MAX)
        return trpt_txt_error(err, errlen, -EMSGSIZE,
                              "policy longer than %d bytes",
                              TRPT_MTASTS_POLICY_MAX);
    rc = policy_check_bytes(body, len, err, errlen);
    if (rc < 0)
        return rc;
    if (!(p = calloc(1, sizeof *p)))
        return trpt_txt_error(err, errlen, -ENOMEM, "out of memory");
    rc = policy_lines(p, body ? body : "", len, &seen, err, errlen);
    if (rc == 0)
        rc = policy_complete(p, seen, err, errlen);
    if (rc < 0) {
        trpt_mtasts_policy_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

/* ---- MX matching (§4.1) ---------------------------------------------- */

static size_t name_len_without_dot(const char *s)
{
    size_t n = strlen(s);

    return n > 1 && s[n - 1] == '.' ? n - 1 : n;
}

int trpt_mtasts_mx_match(const char *pattern, const char *host)
{
    size_t pn, hn, sn, label;

    if (!pattern || !host)
        return 0;
    pn = name_len_without_dot(pattern);
    hn = name_len_without_dot(host);
    if (pn == 0 || hn == 0 || (pn == 1 && pattern[0] == '.'))
        return 0;
    if (pn > 2 && pattern[0] == '*' && pattern[1] == '.') {
        /* The wildcard stands for exactly one left-most label. */
        sn = pn - 1; /* ".example.com" */
        if (hn <= sn || strncasecmp(host + hn - sn, pattern + 1, sn) != 0)
            return 0;
        label = hn - sn;
        return memchr(host, '.', label) == NULL &&
               memchr(host, '*', label) == NULL;
    }
    return pn == hn && strncasecmp(pattern, host, pn) == 0;
}

int trpt_mtasts_policy_mx_match(const trpt_mtasts_policy *p, const char *host)
{
    if (!p)
        return 0;
    for (size_t i = 0; i < p->mx.n; i++)
        if (trpt_mtasts_mx_match(p->mx.v[i], host))
            return 1;
    return 0;
}
