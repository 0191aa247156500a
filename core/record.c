/* record.c - the normalized record and its JSON form (version 1); see
 * record.h and docs/record-format.md (the normative description).
 *
 * Both directions are hand-written for this one object shape: the
 * aggregator decodes every spooled record and edges encode every session,
 * so neither may build a generic JSON tree per record (see "encoding"
 * below for the libfastjson measurement). The decoder is a strict RFC 8259
 * scanner; it applies the string rules of trpt_record_validate() while it
 * scans, then the remaining checks, so it returns only valid records. */
#include "record.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "json_scan.h"
#include "record_view.h"
#include "timeutil.h"

/* Size limits (docs/record-format.md, "Limits"). */
#define MAX_TEXT          1024 /* any string field, mx-host entries */
#define MAX_POLICY_STRING 8192 /* one policy-string entry (TLSA full cert) */
#define MAX_VECTOR        64   /* entries in policy-string or mx-host */
#define MAX_JSON          (512 * 1024) /* one encoded record */
#define MAX_DEPTH         32  /* nesting inside skipped unknown values */
#define MAX_DOMAIN        253 /* RFC 1035 §2.3.4, without the final dot */
#define MAX_LABEL         63

/* 1970-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999Z */
#define TIME_MIN_US 0LL
#define TIME_END_US (2932897LL * 86400LL * 1000000LL) /* 10000-01-01 */

_Static_assert(TRPT_RECORD_VERSION < 10, "the encoder writes v as one digit");

/* ---- string vectors -------------------------------------------------- */

void trpt_strv_free(trpt_strv *sv)
{
    if (!sv)
        return;
    for (size_t i = 0; i < sv->n; i++)
        free(sv->v[i]);
    free(sv->v);
    sv->v = NULL;
    sv->n = 0;
}

/* Room for n + 1 entries plus the NULL terminator callers may rely on. */
static int strv_grow(trpt_strv *sv)
{
    size_t have = sv->v ? malloc_usable_size(sv->v) / sizeof(char *) : 0;
    char **v;

    if (sv->n + 2 <= have)
        return 0;
    v = realloc(sv->v, (sv->n + 2) * 2 * sizeof(char *));
    if (!v)
        return -ENOMEM;
    sv->v = v;
    return 0;
}

int trpt_strv_push(trpt_strv *sv, const char *s)
{
    char *copy;

    if (strv_grow(sv) < 0 || !(copy = strdup(s)))
        return -ENOMEM;
    sv->v[sv->n++] = copy;
    sv->v[sv->n] = NULL;
    return 0;
}

static int strv_copy(trpt_strv *dst, const trpt_strv *src)
{
    for (size_t i = 0; i < src->n; i++)
        if (trpt_strv_push(dst, src->v[i]) < 0)
            return -ENOMEM;
    return 0;
}

/* ---- field table: one row per JSON key, in the order they are written -- */

typedef enum field_kind {
    KIND_VERSION,
    KIND_TIME,
    KIND_TEXT,
    KIND_STRV,
    KIND_RESULT,
    KIND_POLICY_TYPE,
} field_kind;

/* Row numbers of the field table; a decoder's bit set of seen keys. */
enum field_id {
    FI_VERSION,
    FI_TIME,
    FI_ID,
    FI_HOST,
    FI_MTA,
    FI_POLICY_DOMAIN,
    FI_POLICY_TYPE,
    FI_POLICY_STRING,
    FI_MX_HOST,
    FI_TLSRPT_RECORD,
    FI_RESULT,
    FI_SENDING_MTA_IP,
    FI_RECEIVING_MX_HOSTNAME,
    FI_RECEIVING_IP,
    FI_RECEIVING_MX_HELO,
    FI_FAILURE_REASON_CODE,
    FI_ADDITIONAL_INFORMATION,
    FI_QUEUE_ID,
    N_FIELDS
};

#define REQUIRED_FIELDS                                                        \
    (1u << FI_VERSION | 1u << FI_TIME | 1u << FI_ID | 1u << FI_POLICY_DOMAIN | \
     1u << FI_RESULT)

typedef struct field_desc {
    const char *key;
    unsigned char key_len;
    unsigned char kind;
    unsigned char allow_at; /* '@' is not a privacy leak in this field */
    unsigned short max;     /* longest string or vector entry, bytes */
    size_t offset;          /* of the char * or trpt_strv in trpt_record */
} field_desc;

#define F(k, kind, at, max, member)                                            \
    {                                                                          \
        k, sizeof(k) - 1, kind, at, max, offsetof(trpt_record, member)         \
    }

/* "tlsrpt-record" is the receiver's published TXT record: its rua= mailto:
 * address is public DNS data, not a mail participant (RFC 8460 §3), so it is
 * the one field where '@' is allowed. */
static const field_desc fields[] = {
    [FI_VERSION] = F("v", KIND_VERSION, 0, 0, version),
    [FI_TIME] = F("time", KIND_TIME, 0, 0, time_us),
    [FI_ID] = F("id", KIND_TEXT, 0, MAX_TEXT, event_id),
    [FI_HOST] = F("host", KIND_TEXT, 0, MAX_TEXT, reporting_host),
    [FI_MTA] = F("mta", KIND_TEXT, 0, MAX_TEXT, mta),
    [FI_POLICY_DOMAIN] =
        F("policy-domain", KIND_TEXT, 0, MAX_DOMAIN, policy_domain),
    [FI_POLICY_TYPE] = F("policy-type", KIND_POLICY_TYPE, 0, 0, policy_type),
    [FI_POLICY_STRING] =
        F("policy-string", KIND_STRV, 0, MAX_POLICY_STRING, policy_strings),
    [FI_MX_HOST] = F("mx-host", KIND_STRV, 0, MAX_TEXT, mx_hosts),
    [FI_TLSRPT_RECORD] =
        F("tlsrpt-record", KIND_TEXT, 1, MAX_TEXT, tlsrpt_record),
    [FI_RESULT] = F("result", KIND_RESULT, 0, 0, result),
    [FI_SENDING_MTA_IP] =
        F("sending-mta-ip", KIND_TEXT, 0, MAX_TEXT, sending_mta_ip),
    [FI_RECEIVING_MX_HOSTNAME] = F("receiving-mx-hostname", KIND_TEXT, 0,
                                   MAX_TEXT, receiving_mx_hostname),
    [FI_RECEIVING_IP] = F("receiving-ip", KIND_TEXT, 0, MAX_TEXT, receiving_ip),
    [FI_RECEIVING_MX_HELO] =
        F("receiving-mx-helo", KIND_TEXT, 0, MAX_TEXT, receiving_mx_helo),
    [FI_FAILURE_REASON_CODE] =
        F("failure-reason-code", KIND_TEXT, 0, MAX_TEXT, failure_reason_code),
    [FI_ADDITIONAL_INFORMATION] = F("additional-information", KIND_TEXT, 0,
                                    MAX_TEXT, additional_information),
    [FI_QUEUE_ID] = F("queue-id", KIND_TEXT, 0, MAX_TEXT, queue_id),
};

static char **text_slot(trpt_record *r, const field_desc *f)
{
    return (char **)((char *)r + f->offset);
}

static const char *text_of(const trpt_record *r, const field_desc *f)
{
    return *(char *const *)((const char *)r + f->offset);
}

static trpt_strv *strv_slot(trpt_record *r, const field_desc *f)
{
    return (trpt_strv *)((char *)r + f->offset);
}

static const trpt_strv *strv_of(const trpt_record *r, const field_desc *f)
{
    return (const trpt_strv *)((const char *)r + f->offset);
}

/* ---- lifecycle ------------------------------------------------------- */

void trpt_record_init(trpt_record *r)
{
    memset(r, 0, sizeof *r);
    r->version = TRPT_RECORD_VERSION;
    r->policy_type = TRPT_POLICY_UNKNOWN;
    r->result = TRPT_RESULT_SUCCESS;
}

void trpt_record_clear(trpt_record *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < N_FIELDS; i++) {
        if (fields[i].kind == KIND_TEXT)
            free(*text_slot(r, &fields[i]));
        else if (fields[i].kind == KIND_STRV)
            trpt_strv_free(strv_slot(r, &fields[i]));
    }
    trpt_record_init(r);
}

void trpt_record_free(trpt_record *r)
{
    trpt_record_clear(r);
}

int trpt_record_set(char **field, const char *value)
{
    char *copy = NULL;

    if (value && !(copy = strdup(value)))
        return -ENOMEM;
    free(*field);
    *field = copy;
    return 0;
}

/* dst need not be initialised: it is overwritten, never freed. */
int trpt_record_copy(trpt_record *dst, const trpt_record *src)
{
    trpt_record_init(dst);
    dst->version = src->version;
    dst->time_us = src->time_us;
    dst->policy_type = src->policy_type;
    dst->result = src->result;
    for (size_t i = 0; i < N_FIELDS; i++) {
        const field_desc *f = &fields[i];
        int r = 0;

        if (f->kind == KIND_TEXT)
            r = trpt_record_set(text_slot(dst, f), text_of(src, f));
        else if (f->kind == KIND_STRV)
            r = strv_copy(strv_slot(dst, f), strv_of(src, f));
        if (r < 0) {
            trpt_record_clear(dst);
            return r;
        }
    }
    return 0;
}

/* ---- event ids: "<source>:<offset>.<sub>" (docs/design.md) ------------ */

/* An event id source is printable ASCII without space, ':' or '@'. */
static bool source_char_ok(unsigned char c)
{
    return c > 0x20 && c < 0x7f && c != ':' && c != '@';
}

/* Length of the valid source at s, ended by ':' or NUL; 0 if invalid. */
static size_t source_span(const char *s)
{
    size_t n = 0;

    while (source_char_ok((unsigned char)s[n]))
        n++;
    if (n > MAX_TEXT - 32 || (s[n] != ':' && s[n] != '\0'))
        return 0;
    return n;
}

/* Decimal digits of v at o (no NUL); returns their number (1..20). Every
 * record gets an id, so this is hand-written rather than snprintf. */
static size_t put_decimal(char *o, uint64_t v)
{
    char tmp[20];
    size_t n = 0;

    do {
        tmp[sizeof tmp - ++n] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    memcpy(o, tmp + sizeof tmp - n, n);
    return n;
}

int trpt_event_id_format(char *out, size_t outlen, const char *source,
                         uint64_t offset, unsigned sub)
{
    char num[2 * 20 + 2]; /* ":<offset>.<sub>" */
    size_t src_len, n;

    if (!source || !(src_len = source_span(source)) || source[src_len])
        return -EINVAL;
    num[0] = ':';
    n = 1 + put_decimal(num + 1, offset);
    num[n++] = '.';
    n += put_decimal(num + n, sub);
    if (!out || src_len + n >= outlen)
        return -ENOSPC;
    memcpy(out, source, src_len);
    memcpy(out + src_len, num, n);
    out[src_len + n] = '\0';
    return 0;
}

/* Canonical decimal (no sign, no leading zero) up to max; *end set past it. */
static int parse_decimal(const char *s, uint64_t max, uint64_t *out,
                         const char **end)
{
    uint64_t v = 0;
    const char *p = s;

    if (*p < '0' || *p > '9')
        return -EINVAL;
    if (*p == '0' && p[1] >= '0' && p[1] <= '9')
        return -EINVAL;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (__builtin_mul_overflow(v, 10, &v) ||
            __builtin_add_overflow(v, (uint64_t)(*p - '0'), &v))
            return -ERANGE;
    }
    if (v > max)
        return -ERANGE;
    *out = v;
    *end = p;
    return 0;
}

int trpt_event_id_parse(const char *id, const char **source, size_t *source_len,
                        uint64_t *offset, unsigned *sub)
{
    size_t n = source_span(id);
    const char *colon = id + n;
    const char *p;
    uint64_t off, s;
    int r;

    if (n == 0 || *colon != ':')
        return -EINVAL;
    if ((r = parse_decimal(colon + 1, UINT64_MAX, &off, &p)) < 0)
        return r;
    if (*p != '.')
        return -EINVAL;
    if ((r = parse_decimal(p + 1, UINT_MAX, &s, &p)) < 0)
        return r;
    if (*p != '\0')
        return -EINVAL;
    *source = id;
    *source_len = (size_t)(colon - id);
    *offset = off;
    *sub = (unsigned)s;
    return 0;
}

/* ---- byte classes shared by validation and the scanner ---------------- */

/* First byte in [p, end) that is not plain (json_scan.h), or end. */
static inline __attribute__((always_inline)) const unsigned char *
find_special(const unsigned char *p, const unsigned char *end)
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

/* ---- validation ------------------------------------------------------ */

/* Length of the UTF-8 sequence at p (RFC 3629 §4: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0 if it is not well formed. */
static size_t utf8_seq_len(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = p[0];
    size_t n = (size_t)(end - p);
    unsigned char lo = 0x80, hi = 0xbf;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        return n >= 2 && p[1] >= 0x80 && p[1] <= 0xbf ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
        return n >= 3 && p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 ? 3
                                                                           : 0;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
        return n >= 4 && p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 &&
                       (p[3] & 0xc0) == 0x80
                   ? 4
                   : 0;
    }
    return 0;
}

/* Well-formed UTF-8 without control characters (C0, DEL, C1) and, unless
 * allowed, without '@' (privacy: no addresses or local parts). */
static int check_text(const char *s, size_t len, size_t max, bool allow_at)
{
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *end = p + len;

    if (len > max)
        return -E2BIG;
    while ((p = find_special(p, end)) < end) {
        unsigned char c = *p;
        size_t n;

        if (c == '"' || c == '\\' || (c == '@' && allow_at)) {
            p++;
            continue;
        }
        if (c < 0x80 || (c == 0xc2 && p + 1 < end && p[1] < 0xa0))
            return -EINVAL; /* '@', C0, DEL, C1 (U+0080..U+009F) */
        if (!(n = utf8_seq_len(p, end)))
            return -EINVAL;
        p += n;
    }
    return 0;
}

/* Byte classes of a policy domain; 0 for any byte it may not hold. */
enum { DC_LABEL = 1, DC_HYPHEN, DC_DOT };
static const unsigned char domain_class[256] = {
    ['a' ... 'z'] = DC_LABEL, ['0' ... '9'] = DC_LABEL, ['_'] = DC_LABEL,
    ['-'] = DC_HYPHEN,        ['.'] = DC_DOT,
};

/* Lower-case LDH labels, '_' allowed (service labels), 1..63 bytes each,
 * no leading or trailing '-', at most 253 bytes, no trailing dot. d holds
 * len bytes (no NUL needed: the decoder checks strings in place). */
#ifdef __SSE2__
/* Bit i set where byte i of the 16 at p is in `lo`..`hi` (signed compare:
 * bytes >= 0x80 are below every range used here). */
static inline unsigned byte_range16(__m128i v, char lo, char hi)
{
    return (unsigned)_mm_movemask_epi8(
        _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8((char)(lo - 1))),
                      _mm_cmplt_epi8(v, _mm_set1_epi8((char)(hi + 1)))));
}

static inline unsigned byte_eq16(__m128i v, char c)
{
    return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(c)));
}

/* check_domain() for 1..63 bytes (so no label can be too long), 16 bytes
 * a step on a zero-padded copy: every byte of a class, then the label
 * rules as bit masks of the dots and hyphens. */
static int check_short_domain(const char *d, size_t len)
{
    unsigned char buf[64] = {0};
    uint64_t ok = 0, dots = 0, hyph = 0, all, last;

    memcpy(buf, d, len);
    for (size_t i = 0; i < len; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(buf + i));
        uint64_t dot = byte_eq16(v, '.'), hy = byte_eq16(v, '-');

        ok |= (uint64_t)(byte_range16(v, 'a', 'z') | byte_range16(v, '0', '9') |
                         byte_eq16(v, '_') | dot | hy)
              << i;
        dots |= dot << i;
        hyph |= hy << i;
    }
    last = 1ull << (len - 1);
    all = last | (last - 1);
    if ((ok & all) != all)
        return -EINVAL;
    /* no empty label (leading, trailing or doubled dot), no label that
     * starts or ends with '-' */
    if ((dots & (1u | last | (dots >> 1))) ||
        (hyph & (1u | (dots << 1) | (dots >> 1) | last)))
        return -EINVAL;
    return 0;
}
#endif

static int check_domain(const char *d, size_t len)
{
    const unsigned char *p = (const unsigned char *)d, *end = p + len;
    const unsigned char *label = p;

    if (len == 0 || len > MAX_DOMAIN)
        return -EINVAL;
#ifdef __SSE2__
    if (len <= MAX_LABEL)
        return check_short_domain(d, len);
#endif
    for (;; p++) {
        unsigned k = p < end ? domain_class[*p] : DC_DOT;

        if (k == DC_LABEL)
            continue;
        if (k == DC_HYPHEN) {
            if (p == label)
                return -EINVAL; /* leading '-' */
            continue;
        }
        if (k != DC_DOT || p == label || p - label > MAX_LABEL || p[-1] == '-')
            return -EINVAL;
        if (p == end)
            return 0;
        label = p + 1;
    }
}

static int check_strv(const trpt_strv *sv, const field_desc *f)
{
    int r;

    for (size_t i = 0; i < sv->n; i++) {
        if (!sv->v[i])
            return -EINVAL;
        r = check_text(sv->v[i], strlen(sv->v[i]), f->max, f->allow_at);
        if (r < 0)
            return r;
    }
    return 0;
}

/* The string rules of every field; the decoder applies the same rules
 * while it scans, so it skips this pass. */
static int check_strings(const trpt_record *r)
{
    for (size_t i = 0; i < N_FIELDS; i++) {
        const field_desc *f = &fields[i];
        const char *t;
        int e = 0;

        if (f->kind == KIND_TEXT && (t = text_of(r, f)))
            e = check_text(t, strlen(t), f->max, f->allow_at);
        else if (f->kind == KIND_STRV)
            e = check_strv(strv_of(r, f), f);
        if (e < 0)
            return e;
    }
    return 0;
}

/* Everything but the string content rules. */
static int check_structure(const trpt_record *r)
{
    const char *src;
    size_t src_len;
    uint64_t off;
    unsigned sub;
    int e;

    if (r->version > TRPT_RECORD_VERSION)
        return -EPROTO;
    if (r->version != TRPT_RECORD_VERSION)
        return -EINVAL;
    if (r->time_us < TIME_MIN_US || r->time_us >= TIME_END_US)
        return -ERANGE;
    if ((unsigned)r->result >= TRPT_RESULT_COUNT ||
        (unsigned)r->policy_type >= TRPT_POLICY_COUNT)
        return -EINVAL;
    if (!r->event_id || !r->policy_domain)
        return -EINVAL;
    if (r->policy_strings.n > MAX_VECTOR || r->mx_hosts.n > MAX_VECTOR)
        return -E2BIG;
    if ((r->policy_strings.n && !r->policy_strings.v) ||
        (r->mx_hosts.n && !r->mx_hosts.v))
        return -EINVAL;
    e = trpt_event_id_parse(r->event_id, &src, &src_len, &off, &sub);
    if (e < 0)
        return e;
    return check_domain(r->policy_domain, strlen(r->policy_domain));
}

int trpt_record_validate(const trpt_record *r)
{
    int e = check_structure(r);

    return e < 0 ? e : check_strings(r);
}

/* ---- encoding -------------------------------------------------------- */

/* The encoder is hand-written. Building and dumping a libfastjson tree took
 * 4.1 us per typical 395-byte record against 1.5 us here (2 GHz VM; both
 * include 0.25 us of validation and 0.5 us of trpt_format_rfc3339), i.e.
 * libfastjson's own part is about 5 times slower, and it writes every '/'
 * as "\/". libfastjson's parser remains the independent check of this
 * output in tests/core/test_record.c.
 *
 * It checks each string while it copies it (the rules of check_text(), in
 * the order trpt_record_validate() applies them, so it fails with the same
 * error), and reserves the output once: one pass over every byte. */

/* Room for one string: quotes, and at most two bytes per input byte ('"'
 * and '\\' are the only bytes a checked string escapes). */
#define STRING_ROOM(len) (2 * (len) + 2)

/* Writes s as a JSON string (RFC 8259 §7) at o, checking it as check_text()
 * does; *o_end is set past it. Returns 0 or check_text()'s error. */
static int put_text(char *o, const char *s, size_t len, const field_desc *f,
                    bool trusted, char **o_end)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;

    if (len > f->max)
        return -E2BIG;
    *o++ = '"';
    while (p < end) {
        const unsigned char *q = find_special(p, end);
        unsigned char c;
        size_t n;

        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        if (q == end)
            break;
        c = *q;
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
            p = q + 1;
            continue;
        }
        if (trusted || (c == '@' && f->allow_at)) { /* validated already */
            *o++ = (char)c;
            p = q + 1;
            continue;
        }
        /* '@' (privacy), C0, DEL, C1 (U+0080..U+009F), broken UTF-8 */
        if (c < 0x80 || (c == 0xc2 && q + 1 < end && q[1] < 0xa0) ||
            !(n = utf8_seq_len(q, end)))
            return -EINVAL;
        memcpy(o, q, n);
        o += n;
        p = q + n;
    }
    *o++ = '"';
    *o_end = o;
    return 0;
}

/* Constant text known to be plain (names, times): no check, no escape. */
static char *put_plain(char *o, const char *s, size_t len)
{
    *o++ = '"';
    memcpy(o, s, len);
    o += len;
    *o++ = '"';
    return o;
}

/* "key": */
static char *put_name(char *o, const field_desc *f)
{
    *o++ = '"';
    memcpy(o, f->key, f->key_len);
    o += f->key_len;
    *o++ = '"';
    *o++ = ':';
    return o;
}

/* ,"key": (every member but the first, "v") */
static char *put_key(char *o, const field_desc *f)
{
    *o++ = ',';
    return put_name(o, f);
}

static int put_strv(char *o, const field_desc *f, const trpt_strv *sv,
                    bool trusted, char **o_end)
{
    int e;

    o = put_key(o, f);
    for (size_t i = 0; i < sv->n; i++) {
        if (!sv->v[i])
            return -EINVAL;
        *o++ = i ? ',' : '[';
        if ((e = put_text(o, sv->v[i], strlen(sv->v[i]), f, trusted, &o)) < 0)
            return e;
    }
    *o++ = ']';
    *o_end = o;
    return 0;
}

/* The most one field can take; NULL vector entries count as nothing (they
 * fail the check before anything is written for them). *len is set to the
 * length of a text field. */
static size_t field_room(const trpt_record *r, const field_desc *f, size_t *len)
{
    size_t room = (size_t)f->key_len + 4; /* ,"key": */

    switch ((field_kind)f->kind) {
    case KIND_VERSION:
        return room + 1;
    case KIND_TIME:
        return room + STRING_ROOM(32);
    case KIND_TEXT:
        if (!text_of(r, f))
            return 0;
        *len = strlen(text_of(r, f));
        return room + STRING_ROOM(*len);
    case KIND_STRV:
        for (size_t i = 0; i < strv_of(r, f)->n; i++)
            if (strv_of(r, f)->v[i])
                room += STRING_ROOM(strlen(strv_of(r, f)->v[i])) + 1;
        return room + 2;
    case KIND_RESULT:
    case KIND_POLICY_TYPE:
        return room + STRING_ROOM(64);
    }
    return 0;
}

/* len: a text field's length, from field_room() */
static int put_field(char *o, const trpt_record *r, const field_desc *f,
                     size_t len, bool trusted, char **o_end)
{
    const char *s;
    char t[32];

    switch ((field_kind)f->kind) {
    case KIND_VERSION: /* validated: 1 .. TRPT_RECORD_VERSION, one digit */
        o = put_name(o, f);
        *o++ = (char)('0' + r->version);
        break;
    case KIND_TIME:
        trpt_format_rfc3339(r->time_us, t);
        o = put_plain(put_key(o, f), t, strlen(t));
        break;
    case KIND_TEXT:
        if (!(s = text_of(r, f)))
            break;
        return put_text(put_key(o, f), s, len, f, trusted, o_end);
    case KIND_STRV:
        if (!strv_of(r, f)->n)
            break;
        return put_strv(o, f, strv_of(r, f), trusted, o_end);
    case KIND_RESULT:
        s = trpt_result_name(r->result);
        o = put_plain(put_key(o, f), s, strlen(s));
        break;
    case KIND_POLICY_TYPE:
        if (r->policy_type == TRPT_POLICY_UNKNOWN)
            break;
        s = trpt_policy_type_name(r->policy_type);
        o = put_plain(put_key(o, f), s, strlen(s));
        break;
    }
    *o_end = o;
    return 0;
}

/* Only valid records are written, so every written record decodes.
 * trusted: r passed trpt_record_validate(), skip every check. */
static int encode(const trpt_record *r, trpt_buf *out, bool trusted)
{
    size_t start = out->len, room = 2;
    size_t len[N_FIELDS] = {0};
    char *o;
    int e;

    if (!trusted && (e = check_structure(r)) < 0)
        return e;
    for (size_t i = 0; i < N_FIELDS; i++)
        room += field_room(r, &fields[i], &len[i]);
    if ((e = trpt_buf_reserve(out, room)) < 0)
        return e;
    o = out->data + start;
    *o++ = '{';
    for (size_t i = 0; e == 0 && i < N_FIELDS; i++)
        e = put_field(o, r, &fields[i], len[i], trusted, &o);
    *o++ = '}';
    if (e == 0 && (size_t)(o - (out->data + start)) > MAX_JSON)
        e = -E2BIG;
    out->len = e == 0 ? (size_t)(o - out->data) : start;
    out->data[out->len] = '\0';
    return e;
}

int trpt_record_to_json(const trpt_record *r, trpt_buf *out)
{
    return encode(r, out, false);
}

int trpt_record_to_json_valid(const trpt_record *r, trpt_buf *out)
{
    return encode(r, out, true);
}

/* ---- decoding: a strict JSON scanner for one record object (RFC 8259) -- */

/*
 * The decoder fills a trpt_record_view (record_view.h): strings are checked
 * in place and not copied, so the aggregator, which decodes every spooled
 * record, pays no allocation and no copy per field. trpt_record_from_json()
 * copies a view into a trpt_record. Every string rule is applied while
 * scanning (plain printable ASCII, the common case, is told apart 16 bytes
 * at a time), the remaining rules of trpt_record_validate() once the object
 * is read.
 */

typedef struct scanner {
    const unsigned char *p;
    const unsigned char *end;
    size_t total; /* length of the whole text: bounds the scratch needed */
} scanner;

/* What a string scan saw besides plain printable ASCII. */
enum {
    JSTR_ESCAPED = 1, /* raw holds escapes: unescape() gives the value */
    JSTR_AT = 2,      /* a raw '@' */
    JSTR_ODD = 4,     /* raw DEL or non-ASCII (well-formed UTF-8) */
};

/* One scanned JSON string: raw bytes between the quotes. */
typedef struct jstr {
    const unsigned char *raw;
    size_t len;
    unsigned flags; /* JSTR_* */
} jstr;

static inline bool at_end(const scanner *s)
{
    return s->p >= s->end;
}

/* The encoder writes no whitespace: one compare decides the common case. */
static inline void skip_ws(scanner *s)
{
    while (s->p < s->end && *s->p <= ' ' &&
           (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
        s->p++;
}

/* Consumes c (after optional whitespace) or fails. */
static inline int expect(scanner *s, unsigned char c)
{
    skip_ws(s);
    if (at_end(s) || *s->p != c)
        return -EINVAL;
    s->p++;
    return 0;
}

static int hex4(const unsigned char *p, unsigned *out)
{
    unsigned v = 0;

    for (int i = 0; i < 4; i++) {
        unsigned char c = p[i];

        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            v |= (unsigned)((c | 0x20) - 'a' + 10);
        else
            return -EINVAL;
    }
    *out = v;
    return 0;
}

/* Checks one escape at p (after the backslash): returns the bytes it
 * occupies, and the code point it stands for in *cp. A \u surrogate must
 * form a pair (RFC 8259 §7); a lone one is refused. */
static int scan_escape(const unsigned char *p, const unsigned char *end,
                       unsigned *cp)
{
    static const char simple_in[] = "\"\\/bfnrt";
    static const char simple_out[] = "\"\\/\b\f\n\r\t";
    const char *hit;
    unsigned hi, lo;

    if (p >= end)
        return -EINVAL;
    if (*p != 'u') {
        if (!*p || !(hit = strchr(simple_in, *p)))
            return -EINVAL;
        *cp = (unsigned char)simple_out[hit - simple_in];
        return 1;
    }
    if (end - p < 5 || hex4(p + 1, &hi) < 0)
        return -EINVAL;
    if (hi >= 0xdc00 && hi <= 0xdfff)
        return -EINVAL;
    if (hi < 0xd800 || hi > 0xdbff) {
        *cp = hi;
        return 5;
    }
    if (end - p < 11 || p[5] != '\\' || p[6] != 'u' || hex4(p + 7, &lo) < 0 ||
        lo < 0xdc00 || lo > 0xdfff)
        return -EINVAL;
    *cp = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
    return 11;
}

/* find_special() for the scanner: near the end of the text, where 16
 * bytes from p would overrun it, the last 16 bytes of the text are
 * examined instead (when it has that many) and the bits before p dropped,
 * rather than going on byte by byte. */
static inline __attribute__((always_inline)) const unsigned char *
next_special(const scanner *s, const unsigned char *p)
{
#ifdef __SSE2__
    const unsigned char *end = s->end;

    for (; end - p >= 16; p += 16) {
        unsigned m = trpt_json_special_mask16(p);

        if (m)
            return p + __builtin_ctz(m);
    }
    if (p < end && s->total >= 16) {
        unsigned m = trpt_json_special_mask16(end - 16) >> (16 - (end - p));

        return m ? p + __builtin_ctz(m) : end;
    }
#endif
    return find_special(p, s->end);
}

/* The rest of a string from p, the first byte that is not plain
 * printable ASCII: checks escapes, UTF-8 and the absence of raw control
 * characters (RFC 8259 §7, §8.1), and leaves s->p past the closing quote. */
static int scan_string_rest(scanner *s, jstr *out, const unsigned char *p)
{
    const unsigned char *end = s->end;
    unsigned cp;
    int n;

    for (;;) {
        size_t k;

        if (p >= end)
            return -EINVAL;
        switch (*p) {
        case '"':
            out->len = (size_t)(p - out->raw);
            s->p = p + 1;
            return 0;
        case '\\':
            if ((n = scan_escape(p + 1, end, &cp)) < 0)
                return n;
            out->flags |= JSTR_ESCAPED;
            p += 1 + n;
            break;
        case '@':
            out->flags |= JSTR_AT;
            p++;
            break;
        case 0x7f:
            out->flags |= JSTR_ODD;
            p++;
            break;
        default:
            if (*p < 0x20 || !(k = utf8_seq_len(p, end)))
                return -EINVAL;
            out->flags |= JSTR_ODD;
            p += k;
        }
        p = next_special(s, p);
    }
}

/* Scans a string whose opening quote is at s->p. Inlined: most strings are
 * plain ASCII and end within the first 16-byte step. */
static inline __attribute__((always_inline)) int scan_string(scanner *s,
                                                             jstr *out)
{
    const unsigned char *p = s->p + 1;
    const unsigned char *q = next_special(s, p);

    out->raw = p;
    out->flags = 0;
    if (q < s->end && *q == '"') {
        out->len = (size_t)(q - p);
        s->p = q + 1;
        return 0;
    }
    return scan_string_rest(s, out, q);
}

/* The next value must be a string: scans it. */
static inline int next_string(scanner *s, jstr *js)
{
    skip_ws(s);
    if (at_end(s) || *s->p != '"')
        return -EINVAL;
    return scan_string(s, js);
}

static size_t put_utf8(unsigned char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xc0 | cp >> 6);
        o[1] = (unsigned char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xe0 | cp >> 12);
        o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
        o[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (unsigned char)(0xf0 | cp >> 18);
    o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
    o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
    o[3] = (unsigned char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Writes the value of a scanned string to o (room for js->len + 1 bytes:
 * an escape never expands) and NUL-terminates it. A NUL in the value
 * (\u0000) cannot live in a C string: refused. */
static int unescape(const jstr *js, char *o, size_t *out_len)
{
    const unsigned char *p = js->raw, *end = js->raw + js->len;
    unsigned char *w = (unsigned char *)o;

    if (!(js->flags & JSTR_ESCAPED)) {
        memcpy(o, js->raw, js->len);
        o[js->len] = '\0';
        *out_len = js->len;
        return 0;
    }
    while (p < end) {
        unsigned cp;
        int n;

        if (*p != '\\') {
            *w++ = *p++;
            continue;
        }
        n = scan_escape(p + 1, end, &cp); /* already checked by scan */
        if (n < 0 || cp == 0)
            return -EINVAL;
        w += put_utf8(w, cp);
        p += 1 + n;
    }
    *w = '\0';
    *out_len = (size_t)(w - (unsigned char *)o);
    return 0;
}

/* A string value short enough for a stack buffer (names, times): its
 * bytes, unescaped into buf only when it has escapes. */
static int small_string(scanner *s, char *buf, size_t cap, const char **val,
                        size_t *len)
{
    jstr js;
    int e;

    if ((e = next_string(s, &js)) < 0)
        return e;
    if (js.len >= cap)
        return -EINVAL; /* longer than any valid value */
    if (!(js.flags & JSTR_ESCAPED)) {
        *val = (const char *)js.raw;
        *len = js.len;
        return 0;
    }
    *val = buf;
    return unescape(&js, buf, len);
}

static int skip_value(scanner *s, int depth);

static int skip_literal(scanner *s, const char *word)
{
    size_t n = strlen(word);

    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
        return -EINVAL;
    s->p += n;
    return 0;
}

static void skip_digits(scanner *s)
{
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
        s->p++;
}

/* RFC 8259 §6: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int skip_number(scanner *s)
{
    const unsigned char *start;

    if (*s->p == '-')
        s->p++;
    if (at_end(s) || *s->p < '0' || *s->p > '9')
        return -EINVAL;
    if (*s->p == '0')
        s->p++;
    else
        skip_digits(s);
    if (!at_end(s) && *s->p == '.') {
        start = ++s->p;
        skip_digits(s);
        if (s->p == start)
            return -EINVAL;
    }
    if (!at_end(s) && (*s->p == 'e' || *s->p == 'E')) {
        s->p++;
        if (!at_end(s) && (*s->p == '+' || *s->p == '-'))
            s->p++;
        start = s->p;
        skip_digits(s);
        if (s->p == start)
            return -EINVAL;
    }
    return 0;
}

/* Members or elements up to the closing bracket; the opening one is
 * consumed. Object members are "key": value. */
static int skip_container(scanner *s, unsigned char close, int depth)
{
    jstr key;
    int e;

    if (depth > MAX_DEPTH)
        return -EINVAL;
    skip_ws(s);
    if (!at_end(s) && *s->p == close) {
        s->p++;
        return 0;
    }
    for (;;) {
        if (close == '}') {
            if ((e = next_string(s, &key)) < 0 || (e = expect(s, ':')) < 0)
                return e;
        }
        if ((e = skip_value(s, depth)) < 0)
            return e;
        skip_ws(s);
        if (at_end(s))
            return -EINVAL;
        if (*s->p == close) {
            s->p++;
            return 0;
        }
        if (*s->p++ != ',')
            return -EINVAL;
    }
}

/* Any JSON value (an unknown key's), checked and passed over. */
static int skip_value(scanner *s, int depth)
{
    jstr js;

    skip_ws(s);
    if (at_end(s))
        return -EINVAL;
    switch (*s->p) {
    case '"':
        return scan_string(s, &js);
    case '{':
        s->p++;
        return skip_container(s, '}', depth + 1);
    case '[':
        s->p++;
        return skip_container(s, ']', depth + 1);
    case 't':
        return skip_literal(s, "true");
    case 'f':
        return skip_literal(s, "false");
    case 'n':
        return skip_literal(s, "null");
    default:
        return skip_number(s);
    }
}

/* ---- decoding: values ------------------------------------------------- */

/* "v": a non-negative integer; larger than ours is a newer format. */
static int decode_version(scanner *s, int *version)
{
    const unsigned char *start;
    long v = 0;

    skip_ws(s);
    start = s->p;
    if (at_end(s) || skip_number(s) < 0)
        return -EINVAL;
    for (const unsigned char *p = start; p < s->p; p++) {
        if (*p < '0' || *p > '9')
            return -EINVAL; /* sign, fraction or exponent */
        if (v <= INT_MAX)
            v = v * 10 + (*p - '0');
    }
    if (v > TRPT_RECORD_VERSION)
        return -EPROTO;
    *version = (int)v;
    return 0;
}

/* The form the encoder writes, "YYYY-MM-DDTHH:MM:SSZ", without a library
 * call, and the date parsed once while it stays the same (records come in
 * time order). 1 when t has another form or is not valid: then
 * trpt_parse_rfc3339() decides, so the rules and error codes are its. */
static inline uint64_t load64(const char *p)
{
    uint64_t x;

    memcpy(&x, p, 8);
    return x;
}

static inline uint32_t load32(const char *p)
{
    uint32_t x;

    memcpy(&x, p, 4);
    return x;
}

/* "HH:MM:SS" at p, as one 8-byte word: colons where they belong, and
 * digits elsewhere (a byte is a digit when its high nibble is 3 before and
 * after adding 6; a carry out of a non-digit byte cannot hide it). */
static inline bool clock_layout_ok(const char *p)
{
    const uint64_t colon_at = 0x0000ff0000ff0000ULL;
    const uint64_t zeros = 0x3030303030303030ULL, high = 0xf0f0f0f0f0f0f0f0ULL;
    uint64_t x = load64(p);
    uint64_t d = (x & ~colon_at) | (zeros & colon_at); /* ':' -> '0' */

    return (x & colon_at) == 0x00003a00003a0000ULL && (d & high) == zeros &&
           ((d + 0x0606060606060606ULL) & high) == zeros;
}

static int parse_time_fast(trpt_record_view *v, const char *t, size_t len,
                           int64_t *us)
{
    static const char layout[] = "dddd-dd-ddTdd:dd:ddZ";
    unsigned h, mi, se;

    if (len != sizeof layout - 1 || t[10] != 'T' || t[19] != 'Z' ||
        !clock_layout_ok(t + 11))
        return 1;
    h = (unsigned)(t[11] - '0') * 10 + (unsigned)(t[12] - '0');
    mi = (unsigned)(t[14] - '0') * 10 + (unsigned)(t[15] - '0');
    se = (unsigned)(t[17] - '0') * 10 + (unsigned)(t[18] - '0');
    if (h > 23 || mi > 59 || se > 60)
        return 1;
    /* the date: checked before (date_seen is all NUL until then), or now */
    if (memcmp(t, v->date_seen, sizeof v->date_seen) != 0) {
        char date[sizeof v->date_seen + 1];
        int64_t day;

        for (size_t i = 0; i < sizeof v->date_seen; i++)
            if (layout[i] == 'd' ? (t[i] < '0' || t[i] > '9')
                                 : t[i] != layout[i])
                return 1;
        memcpy(date, t, sizeof v->date_seen);
        date[sizeof v->date_seen] = '\0';
        if (trpt_parse_day(date, &day) < 0)
            return 1;
        memcpy(v->date_seen, t, sizeof v->date_seen);
        v->date_day = day;
    }
    if (se == 60) /* leap second: clamped, as trpt_parse_rfc3339() does */
        se = 59;
    *us = (v->date_day * 86400 + h * 3600 + mi * 60 + se) * 1000000LL;
    return 0;
}

static int decode_time(scanner *s, trpt_record_view *v)
{
    char buf[64];
    const char *t;
    size_t len;
    int e;

    if ((e = small_string(s, buf, sizeof buf, &t, &len)) < 0)
        return e;
    if (parse_time_fast(v, t, len, &v->time_us) == 0)
        return 0;
    return trpt_parse_rfc3339(t, len, &v->time_us);
}

/* Only the RFC 8460 §4.3 spelling; result.c also takes Postfix's '_'. */
static int decode_result(scanner *s, trpt_record_view *v)
{
    char buf[64];
    const char *name;
    size_t len;
    int e;

    if ((e = small_string(s, buf, sizeof buf, &name, &len)) < 0)
        return e;
    for (int i = 0; i < TRPT_RESULT_COUNT; i++) {
        const char *known = trpt_result_name((trpt_result)i);

        /* name[0] is readable even when len is 0: the closing quote */
        if (known[0] == name[0] && strncmp(known, name, len) == 0 &&
            known[len] == '\0') {
            v->result = (trpt_result)i;
            return 0;
        }
    }
    return -EINVAL;
}

static int decode_policy_type(scanner *s, trpt_record_view *v)
{
    char buf[64], name[64];
    const char *val;
    size_t len;
    int e;

    if ((e = small_string(s, buf, sizeof buf, &val, &len)) < 0)
        return e;
    memcpy(name, val, len);
    name[len] = '\0';
    return trpt_policy_type_from_name(name, &v->policy_type);
}

/* Room in the view's scratch for every escaped string of a text of
 * `total` bytes: each value is at most its raw length, and its NUL fits in
 * the two quotes it loses. Sized before the first value is written there,
 * so earlier values never move. */
static int scratch_reserve(trpt_record_view *v, size_t total)
{
    char *p;

    if (v->scratch_used || v->scratch_cap > total)
        return 0;
    if (!(p = malloc(total + 1)))
        return -ENOMEM;
    free(v->scratch);
    v->scratch = p;
    v->scratch_cap = total + 1;
    return 0;
}

/* A string with escapes: its value into the scratch, then the full text
 * rules (an escape may stand for anything, "\u0040" for an '@'). */
static int unescape_to_scratch(scanner *s, trpt_record_view *v, const jstr *js,
                               const field_desc *f, trpt_sv *out)
{
    size_t len;
    char *o;
    int e;

    if (js->len > 6 * (size_t)f->max) /* longer than any escaping of max */
        return -E2BIG;
    if ((e = scratch_reserve(v, s->total)) < 0)
        return e;
    o = v->scratch + v->scratch_used;
    if ((e = unescape(js, o, &len)) < 0)
        return e;
    if ((e = check_text(o, len, f->max, f->allow_at)) < 0)
        return e;
    v->scratch_used += len + 1;
    out->p = o;
    out->len = len;
    return 0;
}

/* The next JSON string, under the string rules of field f, into *out. */
static int decode_text(scanner *s, trpt_record_view *v, const field_desc *f,
                       trpt_sv *out)
{
    jstr js;
    int e;

    if ((e = next_string(s, &js)) < 0)
        return e;
    if (js.flags & JSTR_ESCAPED)
        return unescape_to_scratch(s, v, &js, f, out);
    if (js.len > f->max)
        return -E2BIG;
    /* Plain printable ASCII needs only the '@' rule; the rest gets the
     * full check_text() that trpt_record_validate() would apply. */
    if (js.flags & JSTR_ODD) {
        if ((e = check_text((const char *)js.raw, js.len, f->max,
                            f->allow_at)) < 0)
            return e;
    } else if ((js.flags & JSTR_AT) && !f->allow_at) {
        return -EINVAL;
    }
    out->p = (const char *)js.raw;
    out->len = js.len;
    return 0;
}

/* An array of strings into vec[0 .. *n). */
static int decode_strv(scanner *s, trpt_record_view *v, const field_desc *f,
                       trpt_sv *vec, size_t *n)
{
    size_t i = 0;
    int e;

    if ((e = expect(s, '[')) < 0)
        return e;
    skip_ws(s);
    if (!at_end(s) && *s->p == ']') {
        s->p++;
        return 0;
    }
    for (;;) {
        if (i == MAX_VECTOR)
            return -E2BIG;
        if ((e = decode_text(s, v, f, &vec[i++])) < 0)
            return e;
        *n = i;
        skip_ws(s);
        if (at_end(s))
            return -EINVAL;
        if (*s->p == ']') {
            s->p++;
            return 0;
        }
        if (*s->p++ != ',')
            return -EINVAL;
    }
}

_Static_assert(MAX_VECTOR == TRPT_VIEW_MAX_VECTOR, "record_view.h limit");

/* Where each text field lives in a view (0: not a text field). */
static const size_t view_text_at[N_FIELDS] = {
    [FI_ID] = offsetof(trpt_record_view, event_id),
    [FI_HOST] = offsetof(trpt_record_view, reporting_host),
    [FI_MTA] = offsetof(trpt_record_view, mta),
    [FI_POLICY_DOMAIN] = offsetof(trpt_record_view, policy_domain),
    [FI_TLSRPT_RECORD] = offsetof(trpt_record_view, tlsrpt_record),
    [FI_SENDING_MTA_IP] = offsetof(trpt_record_view, sending_mta_ip),
    [FI_RECEIVING_MX_HOSTNAME] =
        offsetof(trpt_record_view, receiving_mx_hostname),
    [FI_RECEIVING_IP] = offsetof(trpt_record_view, receiving_ip),
    [FI_RECEIVING_MX_HELO] = offsetof(trpt_record_view, receiving_mx_helo),
    [FI_FAILURE_REASON_CODE] = offsetof(trpt_record_view, failure_reason_code),
    [FI_ADDITIONAL_INFORMATION] =
        offsetof(trpt_record_view, additional_information),
    [FI_QUEUE_ID] = offsetof(trpt_record_view, queue_id),
};

static trpt_sv *view_text(trpt_record_view *v, const field_desc *f)
{
    return (trpt_sv *)((char *)v + view_text_at[f - fields]);
}

static const trpt_sv *view_text_of(const trpt_record_view *v,
                                   const field_desc *f)
{
    return (const trpt_sv *)((const char *)v + view_text_at[f - fields]);
}

static trpt_sv *view_vec(trpt_record_view *v, const field_desc *f, size_t **n)
{
    if (f == &fields[FI_POLICY_STRING]) {
        *n = &v->n_policy_strings;
        return v->policy_strings;
    }
    *n = &v->n_mx_hosts;
    return v->mx_hosts;
}

static int decode_field(scanner *s, trpt_record_view *v, const field_desc *f,
                        int *version)
{
    trpt_sv *vec;
    size_t *n;

    switch ((field_kind)f->kind) {
    case KIND_VERSION:
        return decode_version(s, version);
    case KIND_TIME:
        return decode_time(s, v);
    case KIND_TEXT:
        return decode_text(s, v, f, view_text(v, f));
    case KIND_STRV:
        vec = view_vec(v, f, &n);
        return decode_strv(s, v, f, vec, n);
    case KIND_RESULT:
        return decode_result(s, v);
    case KIND_POLICY_TYPE:
        return decode_policy_type(s, v);
    }
    return -EINVAL;
}

/* ---- decoding: keys --------------------------------------------------- */

/* Row + 1 of each known key at key_hash(key); 0 marks no key. */
static const unsigned char key_slot[64] = {
    [1] = FI_RECEIVING_MX_HELO + 1,
    [2] = FI_ID + 1,
    [4] = FI_HOST + 1,
    [6] = FI_RESULT + 1,
    [7] = FI_MX_HOST + 1,
    [8] = FI_QUEUE_ID + 1,
    [12] = FI_RECEIVING_IP + 1,
    [13] = FI_TLSRPT_RECORD + 1,
    [14] = FI_SENDING_MTA_IP + 1,
    [19] = FI_MTA + 1,
    [20] = FI_TIME + 1,
    [27] = FI_POLICY_TYPE + 1,
    [33] = FI_VERSION + 1,
    [35] = FI_FAILURE_REASON_CODE + 1,
    [37] = FI_RECEIVING_MX_HOSTNAME + 1,
    [45] = FI_POLICY_DOMAIN + 1,
    [54] = FI_ADDITIONAL_INFORMATION + 1,
    [61] = FI_POLICY_STRING + 1,
};

/* A perfect hash of the known keys (found by search; the table above is
 * its image), so a key costs one table load and one comparison. */
static inline unsigned key_hash(const char *key, size_t len)
{
    return (unsigned)(len + ((unsigned)(unsigned char)key[len - 1] << 4)) & 63;
}

/* n bytes of a and b equal, by overlapping word loads that stay inside
 * both (n is at most 22: the longest known key). */
static inline bool key_equal(const char *a, const char *b, size_t n)
{
    if (n >= 8) {
        return load64(a) == load64(b) &&
               load64(a + (n - 8) / 2) == load64(b + (n - 8) / 2) &&
               load64(a + n - 8) == load64(b + n - 8);
    }
    if (n >= 4)
        return load32(a) == load32(b) && load32(a + n - 4) == load32(b + n - 4);
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

/* memcmp() == 0 for short runs, inline: 8 bytes a step, the last step
 * overlapping the one before (no call, no byte loop for the tail). */
static inline bool bytes_equal(const char *a, const char *b, size_t n)
{
    size_t i = 0;

    if (n < 8)
        return key_equal(a, b, n);
    for (; i + 8 < n; i += 8)
        if (load64(a + i) != load64(b + i))
            return false;
    return load64(a + n - 8) == load64(b + n - 8);
}

static inline const field_desc *find_field(const char *key, size_t len)
{
    unsigned slot;
    const field_desc *f;

    if (len == 0 || len > 22 || !(slot = key_slot[key_hash(key, len)]))
        return NULL;
    f = &fields[slot - 1];
    return f->key_len == len && key_equal(key, f->key, len) ? f : NULL;
}

/* Reads a member key and its ':'; *f is NULL for an unknown key. */
static int decode_key(scanner *s, const field_desc **f)
{
    char buf[160]; /* the longest key, every byte written as \uXXXX */
    jstr js;
    size_t len;
    int e;

    if ((e = next_string(s, &js)) < 0)
        return e;
    if (!(js.flags & JSTR_ESCAPED)) {
        *f = find_field((const char *)js.raw, js.len);
    } else if (js.len < sizeof buf) {
        /* \u0000 in a key is no NUL in a C string: unknown key */
        *f = unescape(&js, buf, &len) < 0 ? NULL : find_field(buf, len);
    } else {
        *f = NULL; /* longer than any known key */
    }
    return expect(s, ':');
}

/* ---- decoding: the object ----------------------------------------------- */

static int decode_members(scanner *s, trpt_record_view *v, uint32_t *seen,
                          int *version)
{
    const field_desc *f;
    int e;

    if ((e = expect(s, '{')) < 0)
        return e;
    skip_ws(s);
    if (!at_end(s) && *s->p == '}') {
        s->p++;
        return 0;
    }
    for (;;) {
        if ((e = decode_key(s, &f)) < 0)
            return e;
        if (!f) {
            e = skip_value(s, 1); /* forward compatibility */
        } else {
            uint32_t bit = 1u << (f - fields);

            if (*seen & bit)
                return -EINVAL; /* duplicate: which one would count? */
            *seen |= bit;
            e = decode_field(s, v, f, version);
        }
        if (e < 0)
            return e;
        skip_ws(s);
        if (at_end(s))
            return -EINVAL;
        if (*s->p == '}') {
            s->p++;
            return 0;
        }
        if (*s->p++ != ',')
            return -EINVAL;
    }
}

/* ---- decoding: the encoder's own form, fast ----------------------------- */

/*
 * What trpt_record_to_json() writes (docs/record-format.md, "Encoding"):
 * no whitespace, the keys in table order, strings of plain printable ASCII.
 * decode_compact() reads only that form and gives up (returns 1) on
 * anything else, invalid or not: the general scanner then reads the text
 * from the start, so every refusal, and its error code, is the general
 * scanner's. What it accepts, it checks by the same rules and fills in the
 * same view, so the two paths cannot disagree.
 *
 * One pass over the whole text finds its quotes (a bit map), notes
 * whether it holds an '@' anywhere, and makes sure it holds nothing else
 * but plain printable ASCII, so every string is plain and ends at the next
 * quote. Member keys must come in table order (so none twice): each field
 * is tried once, in that order, by comparing its `"key":` in place; the
 * bytes between strings are compared one by one.
 */

#define COMPACT_MAX   2048 /* longer texts (e.g. TLSA policy strings) */
#define COMPACT_WORDS (COMPACT_MAX / 64)

typedef struct compact {
    const unsigned char *start, *end;
    size_t len;
    bool has_at; /* some byte is '@' (rare: then looked for) */
    uint64_t marks[COMPACT_WORDS]; /* bit i: start[i] is '"' */
} compact;

#ifdef __SSE2__
/* Bytes that are not plain printable ASCII, '"' or '@': C0, DEL and
 * non-ASCII (v + 1 < 0x21 as signed bytes), and the backslash. */
static inline __m128i compact_bad16(__m128i v)
{
    return _mm_or_si128(
        _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8(1)), _mm_set1_epi8(0x21)),
        _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
}

static inline uint64_t compact_marks16(__m128i v)
{
    return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')));
}

static inline __m128i compact_at16(__m128i v)
{
    return _mm_cmpeq_epi8(v, _mm_set1_epi8('@'));
}

static inline __m128i load16(const unsigned char *p)
{
    return _mm_loadu_si128((const __m128i *)(const void *)p);
}
#endif

/* The marks of the whole text, 16 bytes a step; false if it holds a byte
 * the fast path does not take, or is too short or too long for it. The
 * last step reads the last 16 bytes of the text and drops what it saw
 * before. */
static bool compact_map(compact *c, const unsigned char *t, size_t len)
{
#ifdef __SSE2__
    __m128i bad = _mm_setzero_si128(), at_any = _mm_setzero_si128(), v;
    size_t at = 0;
    unsigned shift;

    c->start = t;
    c->end = t + len;
    c->len = len;
    if (len < 16 || len > COMPACT_MAX)
        return false;
    for (; at + 64 <= len; at += 64) {
        __m128i v0 = load16(t + at), v1 = load16(t + at + 16);
        __m128i v2 = load16(t + at + 32), v3 = load16(t + at + 48);

        bad = _mm_or_si128(bad,
                           _mm_or_si128(compact_bad16(v0), compact_bad16(v1)));
        bad = _mm_or_si128(bad,
                           _mm_or_si128(compact_bad16(v2), compact_bad16(v3)));
        at_any = _mm_or_si128(
            at_any,
            _mm_or_si128(_mm_or_si128(compact_at16(v0), compact_at16(v1)),
                         _mm_or_si128(compact_at16(v2), compact_at16(v3))));
        c->marks[at / 64] = compact_marks16(v0) | compact_marks16(v1) << 16 |
                            compact_marks16(v2) << 32 |
                            compact_marks16(v3) << 48;
    }
    if (at < len)
        c->marks[at / 64] = 0;
    for (; at + 16 <= len; at += 16) {
        v = load16(t + at);
        bad = _mm_or_si128(bad, compact_bad16(v));
        at_any = _mm_or_si128(at_any, compact_at16(v));
        c->marks[at / 64] |= compact_marks16(v) << (at % 64);
    }
    if (at < len) {
        v = load16(t + len - 16);
        shift = (unsigned)(16 - (len - at));
        if ((unsigned)_mm_movemask_epi8(compact_bad16(v)) >> shift)
            return false;
        c->marks[at / 64] |= (compact_marks16(v) >> shift) << (at % 64);
        at_any = _mm_or_si128(at_any, compact_at16(v)); /* may see old bytes */
    }
    c->has_at = _mm_movemask_epi8(at_any) != 0;
    return _mm_movemask_epi8(bad) == 0;
#else
    (void)c, (void)t, (void)len;
    return false;
#endif
}

/* The first mark at or after `from`, or the text's length. */
static inline size_t compact_next(const compact *c, size_t from)
{
    size_t w = from / 64, nw = (c->len + 63) / 64;
    uint64_t bits;

    if (from >= c->len)
        return c->len;
    bits = c->marks[w] & (~(uint64_t)0 << (from % 64));
    while (!bits) {
        if (++w == nw)
            return c->len;
        bits = c->marks[w];
    }
    return w * 64 + (size_t)__builtin_ctzll(bits);
}

/* True when `"key":` of f is at p: no known key holds '"' or '@', so a
 * match is the whole key. */
static inline __attribute__((always_inline)) bool
compact_key_at(const compact *c, const unsigned char *p, const field_desc *f)
{
    size_t n = f->key_len;

    return (size_t)(c->end - p) >= n + 3 && p[0] == '"' && p[n + 1] == '"' &&
           p[n + 2] == ':' && key_equal((const char *)p + 1, f->key, n);
}

/* Out of line: only texts that hold an '@' somewhere come here. */
static __attribute__((noinline, cold)) bool holds_at(const unsigned char *p,
                                                     size_t len)
{
    return memchr(p, '@', len) != NULL;
}

/* The string at p, within f's limit and '@' rule; the position after it,
 * or NULL to give up. */
static inline const unsigned char *compact_string(const compact *c,
                                                  const unsigned char *p,
                                                  const field_desc *f,
                                                  trpt_sv *out)
{
    size_t open = (size_t)(p - c->start), close;

    if (p == c->end || *p != '"')
        return NULL;
    close = compact_next(c, open + 1);
    if (close == c->len || close - open - 1 > f->max)
        return NULL;
    if (c->has_at && !f->allow_at && holds_at(p + 1, close - open - 1))
        return NULL;
    out->p = (const char *)p + 1;
    out->len = close - open - 1;
    return c->start + close + 1;
}

static inline const unsigned char *compact_strv(const compact *c,
                                                const unsigned char *p,
                                                const field_desc *f,
                                                trpt_sv *vec, size_t *n)
{
    size_t i = 0;

    if (p == c->end || *p++ != '[')
        return NULL;
    if (p < c->end && *p == ']')
        return p + 1;
    for (;;) {
        if (i == MAX_VECTOR || !(p = compact_string(c, p, f, &vec[i++])))
            return NULL;
        *n = i;
        if (p == c->end)
            return NULL;
        if (*p == ']')
            return p + 1;
        if (*p++ != ',')
            return NULL;
    }
}

/* The names of results and policy types with their lengths, taken from
 * result.c once: a name is then told by its length and a word compare,
 * without a string call per candidate. */
typedef struct known_name {
    const char *s;
    size_t len;
} known_name;

static known_name result_names[TRPT_RESULT_COUNT];
static known_name policy_names[TRPT_POLICY_COUNT];
static pthread_once_t known_names_once = PTHREAD_ONCE_INIT;

static void known_names_init(void)
{
    for (int i = 0; i < TRPT_RESULT_COUNT; i++) {
        result_names[i].s = trpt_result_name((trpt_result)i);
        result_names[i].len = strlen(result_names[i].s);
    }
    /* 0 is TRPT_POLICY_UNKNOWN: no name reads as it (len 0 never matches
     * a name of a known type, and the table entry stays empty) */
    for (int i = 1; i < TRPT_POLICY_COUNT; i++) {
        policy_names[i].s = trpt_policy_type_name((trpt_policy_type)i);
        policy_names[i].len = strlen(policy_names[i].s);
    }
}

/* The index in t[from .. n) of the entry spelt as name, or -1. */
static inline int known_name_index(const known_name *t, int from, int n,
                                   const trpt_sv *name)
{
    for (int i = from; i < n; i++)
        if (t[i].len == name->len && name->len &&
            bytes_equal(t[i].s, name->p, name->len))
            return i;
    return -1;
}

static inline int compact_result(const trpt_sv *name, trpt_result *out)
{
    int i;

    pthread_once(&known_names_once, known_names_init);
    if ((i = known_name_index(result_names, 0, TRPT_RESULT_COUNT, name)) < 0)
        return -EINVAL;
    *out = (trpt_result)i;
    return 0;
}

static inline int compact_policy_type(const trpt_sv *name,
                                      trpt_policy_type *out)
{
    int i;

    pthread_once(&known_names_once, known_names_init);
    if ((i = known_name_index(policy_names, 1, TRPT_POLICY_COUNT, name)) < 0)
        return -EINVAL;
    *out = (trpt_policy_type)i;
    return 0;
}

/* One member's value at p; the position after it, or NULL. */
static inline const unsigned char *compact_value(const compact *c,
                                                 const unsigned char *p,
                                                 trpt_record_view *v,
                                                 const field_desc *f)
{
    static const field_desc small = {.max = 63}; /* time, names */
    trpt_sv name;
    size_t *n;
    trpt_sv *vec;

    switch ((field_kind)f->kind) {
    case KIND_VERSION: /* "1", as written: others take the general path */
        return p + 1 < c->end && *p == '1' && (p[1] == ',' || p[1] == '}')
                   ? p + 1
                   : NULL;
    case KIND_TEXT:
        return compact_string(c, p, f, view_text(v, f));
    case KIND_STRV:
        vec = view_vec(v, f, &n);
        return compact_strv(c, p, f, vec, n);
    case KIND_TIME:
        if (!(p = compact_string(c, p, &small, &name)) ||
            (parse_time_fast(v, name.p, name.len, &v->time_us) != 0 &&
             trpt_parse_rfc3339(name.p, name.len, &v->time_us) != 0))
            return NULL;
        return p;
    case KIND_RESULT:
        if (!(p = compact_string(c, p, &small, &name)) ||
            compact_result(&name, &v->result) < 0)
            return NULL;
        return p;
    case KIND_POLICY_TYPE:
        if (!(p = compact_string(c, p, &small, &name)) ||
            compact_policy_type(&name, &v->policy_type) < 0)
            return NULL;
        return p;
    }
    return NULL;
}

/* The member of field fi at *p, if its key is there: its value read,
 * then *p past the ',' after it. 1 when absent, 0 when read, 2 when it
 * ended the object ('}' after it), -1 to give up. */
static inline __attribute__((always_inline)) int
compact_member(const compact *c, const unsigned char **p, trpt_record_view *v,
               size_t fi)
{
    const field_desc *f = &fields[fi];
    const unsigned char *q = *p;

    if (!compact_key_at(c, q, f))
        return 1;
    if (!(q = compact_value(c, q + f->key_len + 3, v, f)) || q == c->end)
        return -1;
    *p = q + 1;
    return *q == '}' ? 2 : *q == ',' ? 0 : -1;
}

/* 0 when the text was read, 1 to leave it to the general scanner. The
 * encoder writes keys in table order, so the fields are tried in that
 * order, each once (a key out of order, repeated or unknown is left over
 * and gives up); unrolled, each field's key compare and value kind are
 * known where it is tried. */
static int decode_compact(const unsigned char *text, size_t len,
                          trpt_record_view *v)
{
    compact c;
    const unsigned char *p = text + 1;
    uint32_t seen = 0;

    if (!compact_map(&c, text, len) || text[0] != '{')
        return 1;
#pragma GCC unroll 32
    for (size_t fi = 0; fi < N_FIELDS; fi++) {
        int r = compact_member(&c, &p, v, fi);

        if (r < 0)
            return 1;
        if (r == 1)
            continue;
        seen |= 1u << fi;
        if (r == 2)
            return p != c.end || (seen & REQUIRED_FIELDS) != REQUIRED_FIELDS;
    }
    return 1;
}

/* How many of the 8 bytes in x (first byte lowest) are digits before the
 * first non-digit: the test of clock_layout_ok() per byte; a carry out of
 * a non-digit byte only reaches bytes after it. */
static inline unsigned digit_run8(uint64_t x)
{
    const uint64_t zeros = 0x3030303030303030ULL, high = 0xf0f0f0f0f0f0f0f0ULL;
    uint64_t odd =
        ((x & high) ^ zeros) | (((x + 0x0606060606060606ULL) & high) ^ zeros);

    return odd ? (unsigned)__builtin_ctzll(odd) / 8 : 8;
}

/* The value of the first n (1..8) bytes of x, all digits: shifted so they
 * end the word (zero bytes before them are leading zeros), then the digit
 * pairs, quads and octets are combined in three multiplies. */
static inline uint64_t digits8_value(uint64_t x, unsigned n)
{
    uint64_t d = (x - 0x3030303030303030ULL) << (8 * (8 - n));

    d = (d * 10 + (d >> 8)) & 0x00ff00ff00ff00ffULL;
    d = (d * 100 + (d >> 16)) & 0x0000ffff0000ffffULL;
    return (d * 10000 + (d >> 32)) & 0xffffffffULL;
}

/* The next bytes from q as one word, first byte lowest, without reading
 * outside [lo, end): a plain load, or the last 8 bytes before end shifted
 * down (zero bytes, non-digits, past end). False if [lo, end) is short. */
static inline bool load_digits8(const unsigned char *lo, const unsigned char *q,
                                const unsigned char *end, uint64_t *x)
{
    if (end - q >= 8) {
        *x = load64((const char *)q);
        return true;
    }
    if (end - lo < 8)
        return false;
    *x = load64((const char *)end - 8) >> (8 * (8 - (end - q)));
    return true;
}

/* Canonical decimal (no sign, no leading zero) up to max, from *p; the
 * bytes from lo to end may be read. Up to 19 digits cannot overflow 64
 * bits: 8 digits a step (SWAR) while the run stays within them, then byte
 * by byte, and only longer runs pay for the checks. */
static inline __attribute__((always_inline)) int
parse_decimal_at(const unsigned char **p, const unsigned char *lo,
                 const unsigned char *end, uint64_t max, uint64_t *out)
{
    static const uint64_t pow10[9] = {
        1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};
    const unsigned char *digits = *p, *q = *p;
    uint64_t v = 0, x;
    unsigned d, n;

    if (q == end || (unsigned)(*q - '0') >= 10 ||
        (*q == '0' && q + 1 < end && (unsigned)(q[1] - '0') < 10))
        return -EINVAL;
    while (q < end && load_digits8(lo, q, end, &x) && (n = digit_run8(x)) > 0 &&
           (size_t)(q - digits) + n <= 19) {
        v = v * pow10[n] + digits8_value(x, n);
        q += n;
        if (n < 8)
            break;
    }
    while (q < end && q - digits < 19 && (d = (unsigned)(*q - '0')) < 10) {
        v = v * 10 + d;
        q++;
    }
    for (; q < end && (d = (unsigned)(*q - '0')) < 10; q++)
        if (__builtin_mul_overflow(v, 10, &v) ||
            __builtin_add_overflow(v, (uint64_t)d, &v))
            return -ERANGE;
    if (v > max)
        return -ERANGE;
    *out = v;
    *p = q;
    return 0;
}

/* source_char_ok() as a table: printable ASCII but space, ':' and '@'. */
static const unsigned char id_source_char[256] = {
    [0x21 ... 0x39] = 1, /* then ':' */
    [0x3b ... 0x3f] = 1, /* then '@' */
    [0x41 ... 0x7e] = 1,
};

/* The rules of trpt_event_id_parse(), on the id in place; the parts are
 * kept for the aggregator's duplicate check. */
static int view_parse_event_id(trpt_record_view *v)
{
    const unsigned char *start = (const unsigned char *)v->event_id.p;
    const unsigned char *end = start + v->event_id.len, *p = start;
    uint64_t off, sub;
    int e;

    /* The same source as the last id is known to be valid: its bytes,
     * then the ':' that no source can hold. */
    if (v->source_seen_len && v->event_id.len > v->source_seen_len &&
        start[v->source_seen_len] == ':' &&
        bytes_equal((const char *)start, v->source_seen, v->source_seen_len))
        p += v->source_seen_len;
    else
        while (p < end && id_source_char[*p])
            p++;
    if (p == start || (size_t)(p - start) > MAX_TEXT - 32 || p == end ||
        *p != ':')
        return -EINVAL;
    v->id_source_len = (size_t)(p - start);
    if (v->id_source_len != v->source_seen_len &&
        v->id_source_len <= sizeof v->source_seen) {
        memcpy(v->source_seen, start, v->id_source_len);
        v->source_seen_len = v->id_source_len;
    }
    p++;
    if ((e = parse_decimal_at(&p, start, end, UINT64_MAX, &off)) < 0)
        return e;
    if (p == end || *p++ != '.')
        return -EINVAL;
    if ((e = parse_decimal_at(&p, start, end, UINT_MAX, &sub)) < 0)
        return e;
    if (p != end)
        return -EINVAL;
    v->id_offset = off;
    v->id_sub = (unsigned)sub;
    return 0;
}

/* check_structure() for a view whose strings passed the rules. */
static int view_check_structure(trpt_record_view *v, int version)
{
    int e;

    if (version > TRPT_RECORD_VERSION)
        return -EPROTO;
    if (version != TRPT_RECORD_VERSION)
        return -EINVAL;
    if (v->time_us < TIME_MIN_US || v->time_us >= TIME_END_US)
        return -ERANGE;
    if ((e = view_parse_event_id(v)) < 0)
        return e;
    return check_domain(v->policy_domain.p, v->policy_domain.len);
}

/* Keeps GCC from turning a loop of stores back into a memset() call. */
#if defined(__GNUC__) && !defined(__clang__)
#define NO_MEMSET_IDIOM                                                        \
    __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define NO_MEMSET_IDIOM
#endif

/* Everything a decode sets goes back to absent. */
static NO_MEMSET_IDIOM void view_reset(trpt_record_view *v)
{
#ifdef __SSE2__
    /* ~250 bytes, once per record: plain 16-byte stores, where memset()
     * of this size becomes a `rep stos` with a costly start-up */
    enum { HEAD = offsetof(trpt_record_view, policy_strings) };
    unsigned char *b = (unsigned char *)v;
    size_t i = 0;

    for (; i + 16 <= HEAD; i += 16)
        _mm_storeu_si128((__m128i *)(void *)(b + i), _mm_setzero_si128());
    memset(b + i, 0, HEAD - i);
#else
    memset(v, 0, offsetof(trpt_record_view, policy_strings));
#endif
    v->policy_type = TRPT_POLICY_UNKNOWN;
    v->result = TRPT_RESULT_SUCCESS;
    v->scratch_used = 0;
}

void trpt_record_view_init(trpt_record_view *v)
{
    memset(v, 0, sizeof *v);
    view_reset(v);
}

void trpt_record_view_free(trpt_record_view *v)
{
    if (!v)
        return;
    free(v->scratch);
    trpt_record_view_init(v);
}

int trpt_record_view_from_json(trpt_record_view *v, const char *json,
                               size_t len)
{
    scanner s = {(const unsigned char *)json, (const unsigned char *)json + len,
                 len};
    uint32_t seen = 0;
    int version = 0;
    int e;

    view_reset(v);
    if (len > MAX_JSON) {
        e = -E2BIG;
        goto fail;
    }
    if (decode_compact((const unsigned char *)json, len, v) == 0) {
        version = TRPT_RECORD_VERSION;
    } else {
        view_reset(v);
        s.p = (const unsigned char *)json;
        if ((e = decode_members(&s, v, &seen, &version)) < 0)
            goto fail;
        skip_ws(&s);
        if (!at_end(&s) || (seen & REQUIRED_FIELDS) != REQUIRED_FIELDS) {
            e = -EINVAL;
            goto fail;
        }
    }
    /* the string rules were applied while scanning */
    if ((e = view_check_structure(v, version)) < 0)
        goto fail;
    return 0;
fail:
    view_reset(v);
    return e;
}

static trpt_sv sv_of(const char *s)
{
    return (trpt_sv){s, s ? strlen(s) : 0};
}

int trpt_record_view_from_record(trpt_record_view *v, const trpt_record *r)
{
    const char *src;
    int e;

    view_reset(v);
    if (r->policy_strings.n > MAX_VECTOR || r->mx_hosts.n > MAX_VECTOR)
        return -E2BIG;
    v->time_us = r->time_us;
    v->policy_type = r->policy_type;
    v->result = r->result;
    for (size_t i = 0; i < N_FIELDS; i++)
        if (fields[i].kind == KIND_TEXT)
            *view_text(v, &fields[i]) = sv_of(text_of(r, &fields[i]));
    for (size_t i = 0; i < r->policy_strings.n; i++)
        v->policy_strings[i] = sv_of(r->policy_strings.v[i]);
    for (size_t i = 0; i < r->mx_hosts.n; i++)
        v->mx_hosts[i] = sv_of(r->mx_hosts.v[i]);
    v->n_policy_strings = r->policy_strings.n;
    v->n_mx_hosts = r->mx_hosts.n;
    if (!r->event_id)
        return -EINVAL;
    e = trpt_event_id_parse(r->event_id, &src, &v->id_source_len, &v->id_offset,
                            &v->id_sub);
    if (e < 0)
        view_reset(v);
    return e;
}

/* ---- decoding into a trpt_record ---------------------------------------- */

/* A buffer of at least need bytes at *slot, reusing the old allocation
 * when it is big enough: decoding a stream into one record then costs no
 * malloc per field. */
static char *reuse_buffer(char **slot, size_t need)
{
    char *p = *slot;

    if (p && malloc_usable_size(p) >= need)
        return p;
    free(p);
    *slot = p = malloc(need);
    return p;
}

/* *slot becomes a copy of sv (NULL when absent). */
static int copy_sv(char **slot, const trpt_sv *sv)
{
    char *p;

    if (!sv->p) {
        free(*slot);
        *slot = NULL;
        return 0;
    }
    if (!(p = reuse_buffer(slot, sv->len + 1)))
        return -ENOMEM;
    memcpy(p, sv->p, sv->len);
    p[sv->len] = '\0';
    return 0;
}

/* The vector becomes copies of vec[0 .. n); entries of the old vector are
 * reused and any left over are freed. */
static int copy_svs(trpt_strv *sv, const trpt_sv *vec, size_t n)
{
    size_t old_n = sv->n;

    if (n == 0) {
        trpt_strv_free(sv);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (i == sv->n) {
            if (strv_grow(sv) < 0)
                return -ENOMEM;
            sv->v[sv->n++] = NULL;
        }
        if (copy_sv(&sv->v[i], &vec[i]) < 0)
            return -ENOMEM;
    }
    for (size_t k = n; k < old_n; k++)
        free(sv->v[k]);
    sv->n = n;
    if (malloc_usable_size(sv->v) / sizeof(char *) > n)
        sv->v[n] = NULL;
    return 0;
}

static int record_from_view(trpt_record *r, const trpt_record_view *v)
{
    r->version = TRPT_RECORD_VERSION;
    r->time_us = v->time_us;
    r->policy_type = v->policy_type;
    r->result = v->result;
    for (size_t i = 0; i < N_FIELDS; i++) {
        const field_desc *f = &fields[i];

        if (f->kind == KIND_TEXT &&
            copy_sv(text_slot(r, f), view_text_of(v, f)) < 0)
            return -ENOMEM;
    }
    if (copy_svs(&r->policy_strings, v->policy_strings, v->n_policy_strings) <
            0 ||
        copy_svs(&r->mx_hosts, v->mx_hosts, v->n_mx_hosts) < 0)
        return -ENOMEM;
    return 0;
}

/* r must be initialised (trpt_record_init, or a previous decode): its old
 * content is replaced, and its allocations reused. On error r is cleared. */
int trpt_record_from_json(trpt_record *r, const char *json, size_t len)
{
    trpt_record_view v;
    int e;

    trpt_record_view_init(&v);
    e = trpt_record_view_from_json(&v, json, len);
    if (e == 0)
        e = record_from_view(r, &v);
    trpt_record_view_free(&v);
    if (e < 0)
        trpt_record_clear(r);
    return e;
}
