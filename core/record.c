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
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

int trpt_event_id_format(char *out, size_t outlen, const char *source,
                         uint64_t offset, unsigned sub)
{
    int n;

    if (!source || !source_span(source) || source[source_span(source)])
        return -EINVAL;
    n = snprintf(out, outlen, "%s:%" PRIu64 ".%u", source, offset, sub);
    if (n < 0 || (size_t)n >= outlen)
        return -ENOSPC;
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

/* 1 for printable ASCII that needs no second look; 0 for '"', '\\', '@',
 * control characters, DEL and every non-ASCII byte. */
static const unsigned char plain_char[256] = {
    [' ' ... '!'] = 1, /* then '"' */
    ['#' ... '?'] = 1, /* then '@' */
    ['A' ... '['] = 1, /* then '\\' */
    [']' ... '~'] = 1, /* then DEL and beyond */
};

#ifdef __SSE2__
/* Bit i set when p[i] is not a plain_char: 16 bytes per step. */
static inline unsigned special_mask16(const unsigned char *p)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i m = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));

    m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8('@')));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)));
    /* signed compare: catches 0x00-0x1f and every byte >= 0x80 */
    m = _mm_or_si128(m, _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
    return (unsigned)_mm_movemask_epi8(m);
}
#endif

/* First byte in [p, end) that is not a plain_char, or end. */
static inline __attribute__((always_inline)) const unsigned char *
find_special(const unsigned char *p, const unsigned char *end)
{
#ifdef __SSE2__
    for (; end - p >= 16; p += 16) {
        unsigned m = special_mask16(p);

        if (m)
            return p + __builtin_ctz(m);
    }
#endif
    while (p < end && plain_char[*p])
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

static bool label_char_ok(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

/* Lower-case LDH labels, '_' allowed (service labels), 1..63 bytes each,
 * no leading or trailing '-', at most 253 bytes, no trailing dot. */
static int check_domain(const char *d)
{
    size_t len = strlen(d);
    size_t label = 0;

    if (len == 0 || len > MAX_DOMAIN)
        return -EINVAL;
    for (size_t i = 0; i <= len; i++) {
        unsigned char c = (unsigned char)d[i];

        if (c == '.' || c == '\0') {
            if (label == 0 || label > MAX_LABEL || d[i - 1] == '-')
                return -EINVAL;
            label = 0;
        } else if (!label_char_ok(c) || (label == 0 && c == '-')) {
            return -EINVAL;
        } else {
            label++;
        }
    }
    return 0;
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
    return check_domain(r->policy_domain);
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
 * output in tests/core/test_record.c. */

/* Escapes one string (RFC 8259 §7); o has room for 6 bytes per input. */
static char *escape_into(char *o, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *end = p + len;

    while (p < end) {
        const unsigned char *q = find_special(p, end);
        unsigned char c;

        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        if (q == end)
            break;
        c = *q;
        p = q + 1;
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        } else if (c >= 0x20) { /* '@', DEL, UTF-8: as they are */
            *o++ = (char)c;
        } else {
            *o++ = '\\';
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    return o;
}

static int put_string(trpt_buf *b, const char *s, size_t len)
{
    int e = trpt_buf_reserve(b, 6 * len + 2);

    if (e < 0)
        return e;
    b->data[b->len++] = '"';
    b->len = (size_t)(escape_into(b->data + b->len, s, len) - b->data);
    b->data[b->len++] = '"';
    b->data[b->len] = '\0';
    return 0;
}

/* ,"key": (the comma only after the first member) */
static int put_key(trpt_buf *b, const field_desc *f)
{
    int e = trpt_buf_reserve(b, (size_t)f->key_len + 4);

    if (e < 0)
        return e;
    if (b->data[b->len - 1] != '{')
        b->data[b->len++] = ',';
    b->data[b->len++] = '"';
    memcpy(b->data + b->len, f->key, f->key_len);
    b->len += f->key_len;
    b->data[b->len++] = '"';
    b->data[b->len++] = ':';
    b->data[b->len] = '\0';
    return 0;
}

static int put_cstring(trpt_buf *b, const field_desc *f, const char *s)
{
    int e = put_key(b, f);

    return e < 0 ? e : put_string(b, s, strlen(s));
}

static int put_strv(trpt_buf *b, const field_desc *f, const trpt_strv *sv)
{
    int e = put_key(b, f);

    for (size_t i = 0; e == 0 && i < sv->n; i++) {
        e = trpt_buf_putc(b, i ? ',' : '[');
        if (e == 0)
            e = put_string(b, sv->v[i], strlen(sv->v[i]));
    }
    return e < 0 ? e : trpt_buf_putc(b, ']');
}

static int put_field(trpt_buf *b, const trpt_record *r, const field_desc *f)
{
    char t[32];
    int e;

    switch ((field_kind)f->kind) {
    case KIND_VERSION: /* validated: 1 .. TRPT_RECORD_VERSION, one digit */
        if ((e = put_key(b, f)) < 0)
            return e;
        return trpt_buf_putc(b, (char)('0' + r->version));
    case KIND_TIME:
        trpt_format_rfc3339(r->time_us, t);
        return put_cstring(b, f, t);
    case KIND_TEXT:
        return text_of(r, f) ? put_cstring(b, f, text_of(r, f)) : 0;
    case KIND_STRV:
        return strv_of(r, f)->n ? put_strv(b, f, strv_of(r, f)) : 0;
    case KIND_RESULT:
        return put_cstring(b, f, trpt_result_name(r->result));
    case KIND_POLICY_TYPE:
        if (r->policy_type == TRPT_POLICY_UNKNOWN)
            return 0;
        return put_cstring(b, f, trpt_policy_type_name(r->policy_type));
    }
    return -EINVAL;
}

/* Only valid records are written, so every written record decodes. */
int trpt_record_to_json(const trpt_record *r, trpt_buf *out)
{
    size_t start = out->len;
    int e;

    if ((e = trpt_record_validate(r)) < 0)
        return e;
    e = trpt_buf_putc(out, '{');
    for (size_t i = 0; e == 0 && i < N_FIELDS; i++)
        e = put_field(out, r, &fields[i]);
    if (e == 0)
        e = trpt_buf_putc(out, '}');
    if (e == 0 && out->len - start > MAX_JSON)
        e = -E2BIG;
    if (e < 0) {
        out->len = start;
        if (out->data)
            out->data[start] = '\0';
    }
    return e;
}

/* ---- decoding: a strict JSON scanner for one record object (RFC 8259) -- */

typedef struct scanner {
    const unsigned char *p;
    const unsigned char *end;
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

static bool at_end(const scanner *s)
{
    return s->p >= s->end;
}

static void skip_ws(scanner *s)
{
    while (s->p < s->end &&
           (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
        s->p++;
}

/* Consumes c (after optional whitespace) or fails. */
static int expect(scanner *s, unsigned char c)
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

/* Scans a string whose opening quote is at s->p; checks escapes, UTF-8
 * and the absence of raw control characters (RFC 8259 §7, §8.1), and
 * leaves s->p past the closing quote. */
static int scan_string(scanner *s, jstr *out)
{
    const unsigned char *p = s->p + 1, *end = s->end;
    unsigned cp;
    int n;

    out->raw = p;
    out->flags = 0;
    for (;;) {
        size_t k;

        p = find_special(p, end);
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
    }
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

/* A string short enough for a stack buffer (keys, names, times). */
static int scan_small_string(scanner *s, char *buf, size_t cap, size_t *len)
{
    jstr js;
    int e;

    skip_ws(s);
    if (at_end(s) || *s->p != '"')
        return -EINVAL;
    if ((e = scan_string(s, &js)) < 0)
        return e;
    if (js.len >= cap)
        return -E2BIG;
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
            skip_ws(s);
            if (at_end(s) || *s->p != '"')
                return -EINVAL;
            if ((e = scan_string(s, &key)) < 0 || (e = expect(s, ':')) < 0)
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

/* "v": a non-negative integer; larger than ours is a newer format. */
static int decode_version(scanner *s, trpt_record *r)
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
    r->version = (int)v;
    return 0;
}

static int decode_time(scanner *s, trpt_record *r)
{
    char buf[64];
    size_t len;
    int e;

    if ((e = scan_small_string(s, buf, sizeof buf, &len)) < 0)
        return e == -E2BIG ? -EINVAL : e;
    return trpt_parse_rfc3339(buf, len, &r->time_us);
}

/* Only the RFC 8460 §4.3 spelling; result.c also takes Postfix's '_'. */
static int decode_result(scanner *s, trpt_record *r)
{
    char buf[64];
    size_t len;
    int e;

    if ((e = scan_small_string(s, buf, sizeof buf, &len)) < 0)
        return e == -E2BIG ? -EINVAL : e;
    if (trpt_result_from_name(buf, &r->result) < 0 ||
        strcmp(buf, trpt_result_name(r->result)) != 0)
        return -EINVAL;
    return 0;
}

static int decode_policy_type(scanner *s, trpt_record *r)
{
    char buf[64];
    size_t len;
    int e;

    if ((e = scan_small_string(s, buf, sizeof buf, &len)) < 0)
        return e == -E2BIG ? -EINVAL : e;
    return trpt_policy_type_from_name(buf, &r->policy_type);
}

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

/* The next JSON string into *slot (which may hold a reusable buffer),
 * under the string rules of field f. */
static int decode_string_into(scanner *s, char **slot, const field_desc *f)
{
    jstr js;
    size_t len;
    char *buf;
    int e;

    skip_ws(s);
    if (at_end(s) || *s->p != '"')
        return -EINVAL;
    if ((e = scan_string(s, &js)) < 0)
        return e;
    if (js.len > 6 * (size_t)f->max) /* longer than any escaping of max */
        return -E2BIG;
    if (!(buf = reuse_buffer(slot, js.len + 1)))
        return -ENOMEM;
    if ((e = unescape(&js, buf, &len)) < 0)
        return e;
    if (len > f->max)
        return -E2BIG;
    /* Plain printable ASCII needs only the '@' rule; the rest gets the
     * full check_text() that trpt_record_validate() would apply. */
    if (js.flags & (JSTR_ESCAPED | JSTR_ODD))
        return check_text(buf, len, f->max, f->allow_at);
    return (js.flags & JSTR_AT) && !f->allow_at ? -EINVAL : 0;
}

/* An array of strings; entries of the record's old vector are reused and
 * any left over are freed. */
static int decode_strv(scanner *s, trpt_strv *sv, const field_desc *f)
{
    size_t old_n = sv->n, i = 0;
    int e;

    if ((e = expect(s, '[')) < 0)
        return e;
    skip_ws(s);
    if (!at_end(s) && *s->p == ']') {
        s->p++;
    } else {
        for (;; i++) {
            if (i == MAX_VECTOR)
                return -E2BIG;
            if (i == sv->n) {
                if (strv_grow(sv) < 0)
                    return -ENOMEM;
                sv->v[sv->n++] = NULL;
            }
            if ((e = decode_string_into(s, &sv->v[i], f)) < 0)
                return e;
            skip_ws(s);
            if (at_end(s))
                return -EINVAL;
            if (*s->p == ']') {
                s->p++;
                i++;
                break;
            }
            if (*s->p++ != ',')
                return -EINVAL;
        }
    }
    for (size_t k = i; k < old_n; k++)
        free(sv->v[k]);
    sv->n = i;
    if (sv->v && malloc_usable_size(sv->v) / sizeof(char *) > i)
        sv->v[i] = NULL;
    return 0;
}

static int decode_field(scanner *s, trpt_record *r, const field_desc *f)
{
    switch ((field_kind)f->kind) {
    case KIND_VERSION:
        return decode_version(s, r);
    case KIND_TIME:
        return decode_time(s, r);
    case KIND_TEXT:
        return decode_string_into(s, text_slot(r, f), f);
    case KIND_STRV:
        return decode_strv(s, strv_slot(r, f), f);
    case KIND_RESULT:
        return decode_result(s, r);
    case KIND_POLICY_TYPE:
        return decode_policy_type(s, r);
    }
    return -EINVAL;
}

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
static unsigned key_hash(const char *key, size_t len)
{
    return (unsigned)(len + ((unsigned)(unsigned char)key[len - 1] << 4)) & 63;
}

/* n bytes of a and b equal; a known key is at most 22 bytes, and b is a
 * key literal, so 8-byte loads stay inside both. */
static bool key_equal(const char *a, const char *b, size_t n)
{
    uint64_t x, y;

    if (n < 8)
        return memcmp(a, b, n) == 0;
    for (size_t i = 0; i + 8 <= n; i += 8) {
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        if (x != y)
            return false;
    }
    memcpy(&x, a + n - 8, 8);
    memcpy(&y, b + n - 8, 8);
    return x == y;
}

static const field_desc *find_field(const char *key, size_t len)
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

    skip_ws(s);
    if (at_end(s) || *s->p != '"')
        return -EINVAL;
    if ((e = scan_string(s, &js)) < 0)
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

/* Fields the object did not carry: release what the old record held. */
static void drop_unseen(trpt_record *r, uint32_t seen)
{
    uint32_t missing = ((1u << N_FIELDS) - 1) & ~seen;

    r->policy_type =
        (seen & 1u << FI_POLICY_TYPE) ? r->policy_type : TRPT_POLICY_UNKNOWN;
    while (missing) {
        const field_desc *f = &fields[__builtin_ctz(missing)];

        missing &= missing - 1;
        if (f->kind == KIND_TEXT && *text_slot(r, f)) {
            free(*text_slot(r, f));
            *text_slot(r, f) = NULL;
        } else if (f->kind == KIND_STRV && strv_slot(r, f)->v) {
            trpt_strv_free(strv_slot(r, f));
        }
    }
}

static int decode_members(scanner *s, trpt_record *r, uint32_t *seen)
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
            e = decode_field(s, r, f);
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

/* r must be initialised (trpt_record_init, or a previous decode): its old
 * content is replaced, and its allocations reused. On error r is cleared. */
int trpt_record_from_json(trpt_record *r, const char *json, size_t len)
{
    scanner s = {(const unsigned char *)json,
                 (const unsigned char *)json + len};
    uint32_t seen = 0;
    int e;

    if (len > MAX_JSON) {
        e = -E2BIG;
        goto fail;
    }
    if ((e = decode_members(&s, r, &seen)) < 0)
        goto fail;
    skip_ws(&s);
    if (!at_end(&s) || (seen & REQUIRED_FIELDS) != REQUIRED_FIELDS) {
        e = -EINVAL;
        goto fail;
    }
    drop_unseen(r, seen);
    /* the string rules were applied while scanning */
    if ((e = check_structure(r)) < 0)
        goto fail;
    return 0;
fail:
    trpt_record_clear(r);
    return e;
}
