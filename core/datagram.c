/* datagram.c - libtlsrpt datagrams -> records; see datagram.h.
 *
 * A small strict JSON scanner (RFC 8259) made for this one shape: strings
 * are unescaped into an arena sized from the datagram, so decoding
 * allocates nothing once the arena is big enough, and the records handed
 * to the callback borrow their strings from it. */
#include "datagram.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "json_scan.h"
#include "parser_internal.h"

/* Record limits (docs/record-format.md, "Limits"). */
#define MAX_TEXT          1024
#define MAX_POLICY_STRING 8192
#define MAX_VECTOR        64
#define MAX_HELO_REPLY    16384 /* a whole EHLO reply; only its name is kept */
#define MAX_DOMAIN        253
#define MAX_SOURCE        64
#define ID_BUF            (MAX_SOURCE + 2 * 20 + 4)

/* A number that is an integer but far out of any valid range. */
#define NUM_HUGE LONG_MAX

typedef struct dg_detail {
    long code;
    char *s, *n, *h, *r, *a, *f;
    size_t h_len;
    unsigned seen;
} dg_detail;

typedef struct dg_policy {
    long type, final;
    char *domain;
    char *ps[MAX_VECTOR + 1];
    size_t n_ps;
    char *mx[MAX_VECTOR + 1];
    size_t n_mx;
    dg_detail first; /* the detail that decides a failure */
    size_t n_details;
    unsigned seen;
} dg_policy;

struct trpt_datagram_decoder {
    /* scanner */
    const unsigned char *p, *end;
    char *arena;
    size_t arena_used, arena_cap;
    int depth;
    trpt_datagram_error err;
    /* the datagram */
    char *d, *pr;
    unsigned seen;
    dg_policy pol[TRPT_DATAGRAM_MAX_POLICIES];
    size_t n_pol;
    /* output */
    trpt_record rec[TRPT_DATAGRAM_MAX_POLICIES];
    char domain[TRPT_DATAGRAM_MAX_POLICIES][MAX_DOMAIN + 2];
    char helo[TRPT_DATAGRAM_MAX_POLICIES][256];
    char id[TRPT_DATAGRAM_MAX_POLICIES][ID_BUF];
    trpt_datagram_stats stats;
};

static const char *const error_names[TRPT_DGERR_COUNT] = {
    [TRPT_DGERR_OVERSIZE] = "oversize",
    [TRPT_DGERR_NOT_JSON] = "not_json",
    [TRPT_DGERR_TOO_DEEP] = "too_deep",
    [TRPT_DGERR_BAD_TEXT] = "bad_text",
    [TRPT_DGERR_WRONG_TYPE] = "wrong_type",
    [TRPT_DGERR_DUPLICATE_KEY] = "duplicate_key",
    [TRPT_DGERR_MISSING_KEY] = "missing_key",
    [TRPT_DGERR_BAD_VERSION] = "bad_version",
    [TRPT_DGERR_BAD_POLICY_TYPE] = "bad_policy_type",
    [TRPT_DGERR_BAD_CODE] = "bad_code",
    [TRPT_DGERR_BAD_FINAL] = "bad_final",
    [TRPT_DGERR_BAD_DOMAIN] = "bad_domain",
    [TRPT_DGERR_TOO_LONG] = "too_long",
    [TRPT_DGERR_TOO_MANY] = "too_many",
    [TRPT_DGERR_PRIVACY] = "privacy",
    [TRPT_DGERR_INVALID_RECORD] = "invalid_record",
};

const char *trpt_datagram_error_name(trpt_datagram_error e)
{
    if ((unsigned)e >= TRPT_DGERR_COUNT)
        return "unknown";
    return error_names[e];
}

int trpt_datagram_decoder_new(trpt_datagram_decoder **out)
{
    if (!out)
        return -EINVAL;
    *out = calloc(1, sizeof **out);
    return *out ? 0 : -ENOMEM;
}

void trpt_datagram_decoder_free(trpt_datagram_decoder *d)
{
    if (!d)
        return;
    free(d->arena);
    free(d);
}

const trpt_datagram_stats *
trpt_datagram_stats_get(const trpt_datagram_decoder *d)
{
    return &d->stats;
}

/* ---- scanner primitives -------------------------------------------- */

/* Records the first error only; returns -1 for the caller to pass up. */
static int fail(trpt_datagram_decoder *d, trpt_datagram_error e)
{
    if (d->err == TRPT_DGERR_COUNT)
        d->err = e;
    return -1;
}

static void skip_ws(trpt_datagram_decoder *d)
{
    while (d->p < d->end &&
           (*d->p == ' ' || *d->p == '\t' || *d->p == '\n' || *d->p == '\r'))
        d->p++;
}

/* Consumes c after optional whitespace; 1 if it was there. */
static int accept(trpt_datagram_decoder *d, unsigned char c)
{
    skip_ws(d);
    if (d->p < d->end && *d->p == c) {
        d->p++;
        return 1;
    }
    return 0;
}

static int peek(trpt_datagram_decoder *d)
{
    skip_ws(d);
    return d->p < d->end ? *d->p : -1;
}

/* The reason for a value that is not what a key needs: another JSON value
 * is the wrong type, anything else is not JSON. */
static trpt_datagram_error value_error(trpt_datagram_decoder *d)
{
    int c = peek(d);

    if (c <= 0 || !strchr("\"{[tfn-0123456789", c))
        return TRPT_DGERR_NOT_JSON;
    return TRPT_DGERR_WRONG_TYPE;
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int read_hex4(trpt_datagram_decoder *d, unsigned *out)
{
    unsigned v = 0;

    if (d->end - d->p < 4)
        return fail(d, TRPT_DGERR_NOT_JSON);
    for (int i = 0; i < 4; i++) {
        int h = hex_value(d->p[i]);

        if (h < 0)
            return fail(d, TRPT_DGERR_NOT_JSON);
        v = v << 4 | (unsigned)h;
    }
    d->p += 4;
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* \uXXXX, with a surrogate pair as one code point (RFC 8259 §7); a lone
 * surrogate is not text. */
static int read_unicode_escape(trpt_datagram_decoder *d, unsigned *cp)
{
    unsigned hi, lo;

    if (read_hex4(d, &hi) < 0)
        return -1;
    if (hi >= 0xdc00 && hi <= 0xdfff)
        return fail(d, TRPT_DGERR_BAD_TEXT);
    if (hi < 0xd800 || hi > 0xdbff) {
        *cp = hi;
        return 0;
    }
    if (d->end - d->p < 2 || d->p[0] != '\\' || d->p[1] != 'u')
        return fail(d, TRPT_DGERR_BAD_TEXT);
    d->p += 2;
    if (read_hex4(d, &lo) < 0)
        return -1;
    if (lo < 0xdc00 || lo > 0xdfff)
        return fail(d, TRPT_DGERR_BAD_TEXT);
    *cp = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
    return 0;
}

/* Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = p[0];
    size_t n;
    unsigned lo = 0x80, hi = 0xbf;

    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4;
    else
        return 0;
    if ((size_t)(end - p) < n)
        return 0;
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return n;
}

/* What a string value may hold. */
typedef struct text_rule {
    size_t max;    /* bytes after unescaping */
    bool allow_at; /* '@' is no privacy leak here ("pr") */
    bool allow_cc; /* control characters kept (the raw EHLO reply) */
} text_rule;

static const text_rule RULE_ANY = {SIZE_MAX, true, true}; /* skipped */
static const text_rule RULE_TEXT = {MAX_TEXT, false, false};
static const text_rule RULE_RECORD = {MAX_TEXT, true, false};
static const text_rule RULE_POLICY_STRING = {MAX_POLICY_STRING, false, false};
static const text_rule RULE_HELO = {MAX_HELO_REPLY, true, true};

/* Checks one decoded code point against the rule. C1 controls
 * (U+0080..U+009F) count as control characters, as in record-format.md. */
static int check_cp(trpt_datagram_decoder *d, unsigned cp, const text_rule *r)
{
    if (cp == 0)
        return fail(d, TRPT_DGERR_BAD_TEXT);
    if (!r->allow_cc && (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)))
        return fail(d, TRPT_DGERR_BAD_TEXT);
    if (!r->allow_at && cp == '@')
        return fail(d, TRPT_DGERR_PRIVACY);
    return 0;
}

/* The first byte in [p, end) that is not plain (json_scan.h), or end. */
static const unsigned char *skip_plain(const unsigned char *p,
                                       const unsigned char *end)
{
#ifdef __SSE2__
    for (; end - p >= 16; p += 16) {
        unsigned m = trpt_json_special_mask16(p);

        if (m)
            return p + __builtin_ctz(m);
    }
#endif
    while (p < end && trpt_json_plain[*p])
        p++;
    return p;
}

/* One escape sequence after the backslash; the code point in *cp. */
static int read_escape(trpt_datagram_decoder *d, unsigned *cp)
{
    unsigned char c;

    if (d->end - d->p < 2)
        return fail(d, TRPT_DGERR_NOT_JSON);
    c = d->p[1];
    d->p += 2;
    switch (c) {
    case '"':
        *cp = '"';
        return 0;
    case '\\':
        *cp = '\\';
        return 0;
    case '/':
        *cp = '/';
        return 0;
    case 'b':
        *cp = '\b';
        return 0;
    case 'f':
        *cp = '\f';
        return 0;
    case 'n':
        *cp = '\n';
        return 0;
    case 'r':
        *cp = '\r';
        return 0;
    case 't':
        *cp = '\t';
        return 0;
    case 'u':
        return read_unicode_escape(d, cp);
    default:
        return fail(d, TRPT_DGERR_NOT_JSON);
    }
}

/* Copies one byte that is not plain (not '"'): an escape, '@',
 * DEL, or a UTF-8 sequence. Returns the bytes written at o, or -1. */
static int copy_special(trpt_datagram_decoder *d, const text_rule *r, char *o)
{
    unsigned char c = *d->p;
    unsigned cp;
    size_t n;

    if (c < 0x20) /* raw control characters are not JSON */
        return fail(d, TRPT_DGERR_NOT_JSON);
    if (c == '\\') {
        if (read_escape(d, &cp) < 0 || check_cp(d, cp, r) < 0)
            return -1;
        return (int)put_utf8(o, cp);
    }
    if (c < 0x80) { /* '@' or DEL */
        if (check_cp(d, c, r) < 0)
            return -1;
        *o = (char)c;
        d->p++;
        return 1;
    }
    if ((n = utf8_seq(d->p, d->end)) == 0)
        return fail(d, TRPT_DGERR_BAD_TEXT);
    cp = c == 0xc2 ? d->p[1] : 0x100; /* C1 controls are c2 80..9f */
    if (check_cp(d, cp, r) < 0)
        return -1;
    memcpy(o, d->p, n);
    d->p += n;
    return (int)n;
}

/* Decodes a JSON string at d->p (after skip_ws) into the arena, NUL
 * terminated. The arena holds at least 2 * datagram + 8 bytes, and no
 * string grows when unescaped, so there is always room. Runs of plain
 * bytes are copied at once: this is most of the decoder's time. */
static int read_string(trpt_datagram_decoder *d, const text_rule *r, char **out,
                       size_t *out_len)
{
    char *o = d->arena + d->arena_used, *start = o;

    if (!accept(d, '"'))
        return fail(d, value_error(d));
    for (;;) {
        const unsigned char *run = d->p;
        int n;

        run = skip_plain(run, d->end);
        memcpy(o, d->p, (size_t)(run - d->p));
        o += run - d->p;
        d->p = run;
        if ((size_t)(o - start) > r->max)
            return fail(d, TRPT_DGERR_TOO_LONG);
        if (d->p >= d->end)
            return fail(d, TRPT_DGERR_NOT_JSON);
        if (*d->p == '"') {
            d->p++;
            break;
        }
        if ((n = copy_special(d, r, o)) < 0)
            return -1;
        o += n;
        if ((size_t)(o - start) > r->max)
            return fail(d, TRPT_DGERR_TOO_LONG);
    }
    *o++ = '\0';
    d->arena_used += (size_t)(o - start);
    if (out)
        *out = start;
    if (out_len)
        *out_len = (size_t)(o - start) - 1;
    return 0;
}

/* A JSON number that must be an integer. Out-of-range integers become
 * NUM_HUGE (the caller refuses them by value); a fraction or exponent is
 * the wrong type. */
static int read_int(trpt_datagram_decoder *d, long *out)
{
    const unsigned char *s;
    bool neg = false;
    long v = 0;

    skip_ws(d);
    s = d->p;
    if (d->p < d->end && *d->p == '-') {
        neg = true;
        d->p++;
    }
    if (d->p >= d->end || *d->p < '0' || *d->p > '9')
        return fail(d, s < d->end && *s && strchr("\"[{tfn", *s)
                           ? TRPT_DGERR_WRONG_TYPE
                           : TRPT_DGERR_NOT_JSON);
    if (*d->p == '0' && d->end - d->p > 1 && d->p[1] >= '0' && d->p[1] <= '9')
        return fail(d, TRPT_DGERR_NOT_JSON); /* leading zero */
    for (; d->p < d->end && *d->p >= '0' && *d->p <= '9'; d->p++)
        if (v < 1000000000L)
            v = v * 10 + (*d->p - '0');
    if (v >= 1000000000L)
        v = NUM_HUGE;
    if (d->p < d->end && (*d->p == '.' || *d->p == 'e' || *d->p == 'E'))
        return fail(d, TRPT_DGERR_WRONG_TYPE);
    *out = neg && v != NUM_HUGE ? -v : v;
    return 0;
}

static void skip_digits(trpt_datagram_decoder *d)
{
    while (d->p < d->end && *d->p >= '0' && *d->p <= '9')
        d->p++;
}

/* Any JSON number (RFC 8259 §6), for values that are ignored. */
static int skip_number(trpt_datagram_decoder *d)
{
    if (d->p < d->end && *d->p == '-')
        d->p++;
    if (d->p >= d->end || *d->p < '0' || *d->p > '9')
        return fail(d, TRPT_DGERR_NOT_JSON);
    if (*d->p == '0')
        d->p++;
    else
        skip_digits(d);
    if (d->p < d->end && *d->p == '.') {
        d->p++;
        if (d->p >= d->end || *d->p < '0' || *d->p > '9')
            return fail(d, TRPT_DGERR_NOT_JSON);
        skip_digits(d);
    }
    if (d->p < d->end && (*d->p == 'e' || *d->p == 'E')) {
        d->p++;
        if (d->p < d->end && (*d->p == '+' || *d->p == '-'))
            d->p++;
        if (d->p >= d->end || *d->p < '0' || *d->p > '9')
            return fail(d, TRPT_DGERR_NOT_JSON);
        skip_digits(d);
    }
    return 0;
}

static int skip_value(trpt_datagram_decoder *d);

/* Skips the members of an object or elements of an array after its
 * opening bracket. */
static int skip_container(trpt_datagram_decoder *d, unsigned char close)
{
    if (accept(d, close))
        return 0;
    do {
        if (close == '}') {
            if (peek(d) != '"')
                return fail(d, TRPT_DGERR_NOT_JSON);
            if (read_string(d, &RULE_ANY, NULL, NULL) < 0)
                return -1;
            if (!accept(d, ':'))
                return fail(d, TRPT_DGERR_NOT_JSON);
        }
        if (skip_value(d) < 0)
            return -1;
    } while (accept(d, ','));
    return accept(d, close) ? 0 : fail(d, TRPT_DGERR_NOT_JSON);
}

static int skip_literal(trpt_datagram_decoder *d, const char *word)
{
    size_t n = strlen(word);

    if ((size_t)(d->end - d->p) < n || memcmp(d->p, word, n) != 0)
        return fail(d, TRPT_DGERR_NOT_JSON);
    d->p += n;
    return 0;
}

/* Any JSON value (of an unknown key), checked for syntax and depth. */
static int skip_value(trpt_datagram_decoder *d)
{
    int c = peek(d), r;

    switch (c) {
    case '"':
        return read_string(d, &RULE_ANY, NULL, NULL);
    case '{':
    case '[':
        if (++d->depth > TRPT_DATAGRAM_MAX_DEPTH)
            return fail(d, TRPT_DGERR_TOO_DEEP);
        d->p++;
        r = skip_container(d, c == '{' ? '}' : ']');
        d->depth--;
        return r;
    case 't':
        return skip_literal(d, "true");
    case 'f':
        return skip_literal(d, "false");
    case 'n':
        return skip_literal(d, "null");
    default:
        return skip_number(d);
    }
}

/* ---- objects of known shape --------------------------------------- */

/* Calls member(d, key, obj) for each member of the object at d->p; the
 * member function consumes the value. `seen` catches duplicate keys via
 * the bit the member function returns (0 for unknown keys). */
typedef int (*member_fn)(trpt_datagram_decoder *d, const char *key, void *obj,
                         unsigned *bit);

static int read_object(trpt_datagram_decoder *d, member_fn member, void *obj,
                       unsigned *seen)
{
    int r = 0;

    if (!accept(d, '{'))
        return fail(d, value_error(d));
    if (++d->depth > TRPT_DATAGRAM_MAX_DEPTH)
        return fail(d, TRPT_DGERR_TOO_DEEP);
    if (accept(d, '}'))
        goto out;
    do {
        char *key;
        unsigned bit = 0;

        if (peek(d) != '"')
            return fail(d, TRPT_DGERR_NOT_JSON);
        if (read_string(d, &RULE_ANY, &key, NULL) < 0 || !accept(d, ':'))
            return fail(d, TRPT_DGERR_NOT_JSON);
        if ((r = member(d, key, obj, &bit)) < 0)
            return r;
        if (*seen & bit)
            return fail(d, TRPT_DGERR_DUPLICATE_KEY);
        *seen |= bit;
    } while (accept(d, ','));
    if (!accept(d, '}'))
        return fail(d, TRPT_DGERR_NOT_JSON);
out:
    d->depth--;
    return 0;
}

/* An array of strings into v (NULL-terminated), at most MAX_VECTOR. */
static int read_string_array(trpt_datagram_decoder *d, const text_rule *rule,
                             char **v, size_t *n)
{
    if (!accept(d, '['))
        return fail(d, value_error(d));
    *n = 0;
    if (!accept(d, ']')) {
        do {
            if (*n == MAX_VECTOR)
                return fail(d, TRPT_DGERR_TOO_MANY);
            if (peek(d) != '"')
                return fail(d, value_error(d));
            if (read_string(d, rule, &v[*n], NULL) < 0)
                return -1;
            (*n)++;
        } while (accept(d, ','));
        if (!accept(d, ']'))
            return fail(d, TRPT_DGERR_NOT_JSON);
    }
    v[*n] = NULL;
    return 0;
}

static int read_text(trpt_datagram_decoder *d, const text_rule *r, char **out)
{
    if (peek(d) != '"')
        return fail(d, value_error(d));
    return read_string(d, r, out, NULL);
}

/* failure-details[] entry: "c" code, then the RFC 8460 §4.4 fields. */
static int detail_member(trpt_datagram_decoder *d, const char *key, void *obj,
                         unsigned *bit)
{
    dg_detail *fd = obj;

    if (strcmp(key, "c") == 0) {
        *bit = 1u << 0;
        return read_int(d, &fd->code);
    }
    if (strcmp(key, "h") == 0) {
        *bit = 1u << 3;
        if (peek(d) != '"')
            return fail(d, value_error(d));
        return read_string(d, &RULE_HELO, &fd->h, &fd->h_len);
    }
    if (key[0] && !key[1]) {
        static const char names[] = "snraf";
        const char *at = strchr(names, key[0]);
        char **slots[] = {&fd->s, &fd->n, &fd->r, &fd->a, &fd->f};

        if (at) {
            *bit = 1u << (4 + (at - names));
            return read_text(d, &RULE_TEXT, slots[at - names]);
        }
    }
    return skip_value(d);
}

static int valid_code(long code)
{
    trpt_result r;

    return code > 0 && code < INT_MAX &&
           trpt_result_from_code((int)code, &r) == 0;
}

/* Reads every detail; keeps the first, checks every one's code. */
static int read_details(trpt_datagram_decoder *d, dg_policy *pol)
{
    if (!accept(d, '['))
        return fail(d, value_error(d));
    if (accept(d, ']'))
        return 0;
    do {
        dg_detail fd = {.code = -1};

        if (pol->n_details == TRPT_DATAGRAM_MAX_DETAILS)
            return fail(d, TRPT_DGERR_TOO_MANY);
        if (read_object(d, detail_member, &fd, &fd.seen) < 0)
            return -1;
        if (!(fd.seen & 1u))
            return fail(d, TRPT_DGERR_MISSING_KEY);
        if (!valid_code(fd.code))
            return fail(d, TRPT_DGERR_BAD_CODE);
        if (pol->n_details++ == 0)
            pol->first = fd;
    } while (accept(d, ','));
    return accept(d, ']') ? 0 : fail(d, TRPT_DGERR_NOT_JSON);
}

enum {
    PB_TYPE = 1u << 0,
    PB_DOMAIN = 1u << 1,
    PB_STRINGS = 1u << 2,
    PB_MX = 1u << 3,
    PB_DETAILS = 1u << 4,
    PB_T = 1u << 5,
    PB_F = 1u << 6,
};

static int policy_member(trpt_datagram_decoder *d, const char *key, void *obj,
                         unsigned *bit)
{
    dg_policy *pol = obj;
    long t;

    if (strcmp(key, "policy-type") == 0) {
        *bit = PB_TYPE;
        return read_int(d, &pol->type);
    }
    if (strcmp(key, "policy-domain") == 0) {
        *bit = PB_DOMAIN;
        return read_text(d, &RULE_TEXT, &pol->domain);
    }
    if (strcmp(key, "policy-string") == 0) {
        *bit = PB_STRINGS;
        return read_string_array(d, &RULE_POLICY_STRING, pol->ps, &pol->n_ps);
    }
    if (strcmp(key, "mx-host") == 0) {
        *bit = PB_MX;
        return read_string_array(d, &RULE_TEXT, pol->mx, &pol->n_mx);
    }
    if (strcmp(key, "failure-details") == 0) {
        *bit = PB_DETAILS;
        return read_details(d, pol);
    }
    if (strcmp(key, "t") == 0) { /* informational: count of details */
        *bit = PB_T;
        return read_int(d, &t);
    }
    if (strcmp(key, "f") == 0) {
        *bit = PB_F;
        return read_int(d, &pol->final);
    }
    return skip_value(d);
}

static int read_policies(trpt_datagram_decoder *d)
{
    if (!accept(d, '['))
        return fail(d, value_error(d));
    if (++d->depth > TRPT_DATAGRAM_MAX_DEPTH)
        return fail(d, TRPT_DGERR_TOO_DEEP);
    if (accept(d, ']'))
        return fail(d, TRPT_DGERR_MISSING_KEY); /* no session at all */
    do {
        dg_policy *pol;

        if (d->n_pol == TRPT_DATAGRAM_MAX_POLICIES)
            return fail(d, TRPT_DGERR_TOO_MANY);
        pol = &d->pol[d->n_pol++];
        memset(pol, 0, sizeof *pol);
        if (read_object(d, policy_member, pol, &pol->seen) < 0)
            return -1;
    } while (accept(d, ','));
    if (!accept(d, ']'))
        return fail(d, TRPT_DGERR_NOT_JSON);
    d->depth--;
    return 0;
}

/* "dpv": the datagram protocol version of libtlsrpt 0.5.1 ("1"). */
static int read_dpv(trpt_datagram_decoder *d)
{
    char *s;
    long v;

    if (peek(d) == '"') {
        if (read_string(d, &RULE_TEXT, &s, NULL) < 0)
            return -1;
        return strcmp(s, "1") == 0 ? 0 : fail(d, TRPT_DGERR_BAD_VERSION);
    }
    if (read_int(d, &v) < 0)
        return -1;
    return v == 1 ? 0 : fail(d, TRPT_DGERR_BAD_VERSION);
}

enum { TB_DPV = 1u << 0, TB_D = 1u << 1, TB_PR = 1u << 2, TB_POL = 1u << 3 };

static int top_member(trpt_datagram_decoder *d, const char *key, void *obj,
                      unsigned *bit)
{
    (void)obj;
    if (strcmp(key, "dpv") == 0) {
        *bit = TB_DPV;
        return read_dpv(d);
    }
    if (strcmp(key, "d") == 0) {
        *bit = TB_D;
        return read_text(d, &RULE_TEXT, &d->d);
    }
    if (strcmp(key, "pr") == 0) {
        *bit = TB_PR;
        return read_text(d, &RULE_RECORD, &d->pr);
    }
    if (strcmp(key, "policies") == 0) {
        *bit = TB_POL;
        if (d->seen & TB_POL) /* before policies[] is overwritten */
            return fail(d, TRPT_DGERR_DUPLICATE_KEY);
        return read_policies(d);
    }
    return skip_value(d);
}

/* ---- records -------------------------------------------------------- */

int trpt_datagram_helo_name(const char *reply, size_t len, char *out,
                            size_t outlen)
{
    const char *p = reply, *end = reply + len, *name;

    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    /* "250-" or "250 " (RFC 5321 §4.2: reply code, then '-' or ' ') */
    if (end - p >= 3 && p[0] >= '0' && p[0] <= '9' && p[1] >= '0' &&
        p[1] <= '9' && p[2] >= '0' && p[2] <= '9' &&
        (end - p == 3 || p[3] == '-' || p[3] == ' ' || p[3] == '\r' ||
         p[3] == '\n'))
        p += end - p == 3 ? 3 : 4;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    name = p;
    while (p < end && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
        p++;
    if (p == name || (size_t)(p - name) >= outlen)
        return -EINVAL;
    memcpy(out, name, (size_t)(p - name));
    out[p - name] = '\0';
    return 0;
}

/* The announced name only if it is a plausible host name token: no '@',
 * no control or non-ASCII byte; otherwise the field stays absent (the
 * session still counts). */
static const char *helo_for_record(const dg_detail *fd, char *buf,
                                   size_t buflen)
{
    if (!fd->h || trpt_datagram_helo_name(fd->h, fd->h_len, buf, buflen) < 0)
        return NULL;
    for (const unsigned char *c = (const unsigned char *)buf; *c; c++)
        if (*c <= 0x20 || *c >= 0x7f || *c == '@')
            return NULL;
    return buf;
}

/* Checks what the JSON shape cannot: required keys and value ranges. */
static int check_policy(trpt_datagram_decoder *d, const dg_policy *pol)
{
    trpt_policy_type pt;

    if (!(pol->seen & PB_TYPE) || !(pol->seen & PB_F))
        return fail(d, TRPT_DGERR_MISSING_KEY);
    if (pol->type < 1 || pol->type > 9 ||
        trpt_policy_type_from_code((int)pol->type, &pt) < 0)
        return fail(d, TRPT_DGERR_BAD_POLICY_TYPE);
    if (pol->final != 0 && pol->final != 1)
        return fail(d, TRPT_DGERR_BAD_FINAL);
    if (!pol->domain && !d->d)
        return fail(d, TRPT_DGERR_MISSING_KEY);
    return 0;
}

static int build_record(trpt_datagram_decoder *d, size_t i,
                        const trpt_datagram_opts *o)
{
    const dg_policy *pol = &d->pol[i];
    const dg_detail *fd = &pol->first;
    trpt_record *r = &d->rec[i];
    const char *dom = pol->domain ? pol->domain : d->d;

    trpt_record_init(r);
    if (trpt_domain_normalize(dom, strlen(dom), d->domain[i],
                              sizeof d->domain[i]) < 0 ||
        d->domain[i][strlen(d->domain[i]) - 1] == '.')
        return fail(d, TRPT_DGERR_BAD_DOMAIN);
    if (trpt_event_id_format(d->id[i], sizeof d->id[i], o->source, o->seq,
                             (unsigned)i) < 0)
        return fail(d, TRPT_DGERR_INVALID_RECORD);
    r->time_us = o->time_us;
    r->event_id = d->id[i];
    r->reporting_host = (char *)o->host;
    r->mta = (char *)"postfix";
    r->policy_domain = d->domain[i];
    trpt_policy_type_from_code((int)pol->type, &r->policy_type);
    r->policy_strings = (trpt_strv){(char **)pol->ps, pol->n_ps};
    r->mx_hosts = (trpt_strv){(char **)pol->mx, pol->n_mx};
    r->tlsrpt_record = d->pr;
    if (pol->final == 0) {
        r->result = TRPT_RESULT_SUCCESS;
        d->stats.details_ignored += pol->n_details;
    } else if (pol->n_details == 0) {
        r->result = TRPT_RESULT_VALIDATION_FAILURE;
        d->stats.failures_without_detail++;
    } else {
        trpt_result_from_code((int)fd->code, &r->result);
        r->sending_mta_ip = fd->s;
        r->receiving_mx_hostname = fd->n;
        r->receiving_ip = fd->r;
        r->receiving_mx_helo =
            (char *)helo_for_record(fd, d->helo[i], sizeof d->helo[i]);
        r->failure_reason_code = fd->f;
        r->additional_information = fd->a;
        d->stats.details_ignored += pol->n_details - 1;
    }
    if (trpt_record_validate(r) < 0)
        return fail(d, TRPT_DGERR_INVALID_RECORD);
    return 0;
}

/* ---- entry point ---------------------------------------------------- */

static int arena_fit(trpt_datagram_decoder *d, size_t len)
{
    size_t need = 2 * len + 8;
    char *a;

    if (need <= d->arena_cap)
        return 0;
    if (need < 4096)
        need = 4096;
    if (!(a = realloc(d->arena, need)))
        return -ENOMEM;
    d->arena = a;
    d->arena_cap = need;
    return 0;
}

static void reset(trpt_datagram_decoder *d, const char *data, size_t len)
{
    d->p = (const unsigned char *)data;
    d->end = d->p + len;
    d->arena_used = 0;
    d->depth = 0;
    d->err = TRPT_DGERR_COUNT;
    d->d = d->pr = NULL;
    d->seen = 0;
    d->n_pol = 0;
}

/* Parses and checks the whole datagram; -1 with d->err set on refusal. */
static int parse(trpt_datagram_decoder *d, const trpt_datagram_opts *o)
{
    if (read_object(d, top_member, NULL, &d->seen) < 0)
        return -1;
    skip_ws(d);
    if (d->p != d->end)
        return fail(d, TRPT_DGERR_NOT_JSON);
    if (!(d->seen & TB_POL))
        return fail(d, TRPT_DGERR_MISSING_KEY);
    for (size_t i = 0; i < d->n_pol; i++)
        if (check_policy(d, &d->pol[i]) < 0)
            return -1;
    for (size_t i = 0; i < d->n_pol; i++)
        if (build_record(d, i, o) < 0)
            return -1;
    return 0;
}

static int refuse(trpt_datagram_decoder *d, trpt_datagram_error e,
                  trpt_datagram_error *why)
{
    d->stats.errors[e]++;
    if (why)
        *why = e;
    return e == TRPT_DGERR_OVERSIZE ? -E2BIG : -EINVAL;
}

int trpt_datagram_decode(trpt_datagram_decoder *d, const char *data, size_t len,
                         const trpt_datagram_opts *o, trpt_emit_fn emit,
                         void *ctx, trpt_datagram_error *why)
{
    size_t max;
    int r;

    if (!d || (!data && len) || !o || !o->source || !emit)
        return -EINVAL;
    d->stats.datagrams++;
    max = o->max_bytes ? o->max_bytes : TRPT_DATAGRAM_MAX_DEFAULT;
    if (len > max)
        return refuse(d, TRPT_DGERR_OVERSIZE, why);
    if (strlen(o->source) > MAX_SOURCE)
        return refuse(d, TRPT_DGERR_INVALID_RECORD, why);
    if ((r = arena_fit(d, len)) < 0)
        return r;
    reset(d, data ? data : "", len);
    if (parse(d, o) < 0)
        return refuse(
            d, d->err == TRPT_DGERR_COUNT ? TRPT_DGERR_NOT_JSON : d->err, why);
    for (size_t i = 0; i < d->n_pol; i++)
        if ((r = emit(ctx, &d->rec[i])) < 0)
            return r;
    d->stats.decoded++;
    d->stats.records += d->n_pol;
    return (int)d->n_pol;
}
