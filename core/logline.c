/* logline.c - log line framing; see logline.h.
 *
 * Runs on every ingested line, so it is hand-written scanning: no sscanf,
 * strptime or regex, no mktime/TZ (calendar maths from timeutil.h), and
 * UTF-8 validation with an ASCII fast path.
 *
 * Bytes that are not UTF-8 (e.g. Latin-1 from an old syslog relay) are
 * refused as "bad-utf8", as logline.h promises: downstream JSON must be
 * valid UTF-8, and a guessed re-encoding could corrupt a domain name.
 *
 * Exim mainlog times carry no zone unless log_timezone is set; a time
 * without a zone is taken as UTC (the usual setting on mail servers).
 */
#include "cpu.h"
#include "logline.h"

#include <errno.h>
#include <string.h>
#ifdef __SSE2__
#include <immintrin.h>
#endif

#include "timeutil.h"

#define US_PER_S 1000000LL

/* Validation failures inside the framers carry their reason up. */
typedef struct frame_error {
    const char *reason;
} frame_error;

static int fail(frame_error *fe, const char *reason)
{
    fe->reason = reason;
    return -EINVAL;
}

static inline int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Exactly n digits at s (the caller guarantees n bytes). */
static int fixed_digits(const char *s, size_t n, unsigned *v)
{
    unsigned x = 0;

    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return -1;
        x = x * 10 + (unsigned)(s[i] - '0');
    }
    *v = x;
    return 0;
}

/* ---- UTF-8 (RFC 3629 section 4 syntax: no overlongs, no surrogates,
 * nothing above U+10FFFF) ---- */

static size_t utf8_seq_len(const unsigned char *s, size_t left)
{
    unsigned char c = s[0];

    if (c >= 0xC2 && c <= 0xDF)
        return left >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        unsigned char lo = c == 0xE0 ? 0xA0 : 0x80; /* overlong */
        unsigned char hi = c == 0xED ? 0x9F : 0xBF; /* surrogates */

        return left >= 3 && s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80
                   ? 3
                   : 0;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        unsigned char lo = c == 0xF0 ? 0x90 : 0x80; /* overlong */
        unsigned char hi = c == 0xF4 ? 0x8F : 0xBF; /* > U+10FFFF */

        return left >= 4 && s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80 &&
                       (s[3] & 0xC0) == 0x80
                   ? 4
                   : 0;
    }
    return 0; /* 0x80-0xC1 and 0xF5-0xFF never start a sequence */
}

#ifdef __SSE2__
/* Bit i set when s[i] is NUL or not ASCII: 16 bytes per step. */
static inline unsigned odd_mask16(const unsigned char *s)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
    __m128i z = _mm_cmpeq_epi8(v, _mm_setzero_si128());

    return (unsigned)_mm_movemask_epi8(_mm_or_si128(v, z));
}

/* 1 if all len (>= 16) bytes are ASCII without NUL: whole blocks, then
 * one last block overlapping the one before (checking twice is harmless). */
static int plain_ascii_sse2(const unsigned char *s, size_t len)
{
    unsigned m = 0;

    for (size_t i = 0; i + 16 <= len; i += 16)
        m |= odd_mask16(s + i);
    return !(m | odd_mask16(s + len - 16));
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2"))) static int
plain_ascii_avx2(const unsigned char *s, size_t len)
{
    const __m256i zero = _mm256_setzero_si256();
    __m256i acc = zero, v;

    for (size_t i = 0; i + 32 <= len; i += 32) {
        v = _mm256_loadu_si256((const __m256i *)(const void *)(s + i));
        acc = _mm256_or_si256(acc,
                              _mm256_or_si256(v, _mm256_cmpeq_epi8(v, zero)));
    }
    v = _mm256_loadu_si256((const __m256i *)(const void *)(s + len - 32));
    acc = _mm256_or_si256(acc, _mm256_or_si256(v, _mm256_cmpeq_epi8(v, zero)));
    return _mm256_movemask_epi8(acc) == 0;
}

#endif

/* The common case, a line of plain ASCII, decided without a byte loop. */
static int plain_ascii(const unsigned char *s, size_t len)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (len >= 32 && trpt_cpu_has_avx2())
        return plain_ascii_avx2(s, len);
#endif
    return len >= 16 && plain_ascii_sse2(s, len);
}
#endif

/* 0: valid UTF-8 without NUL; else the reason. Whole lines of ASCII are
 * recognised with SIMD; otherwise eight bytes at a time while the text is
 * ASCII without NUL. */
static const char *check_bytes(const char *line, size_t len)
{
    const unsigned char *s = (const unsigned char *)line;
    size_t i = 0;

#ifdef __SSE2__
    if (plain_ascii(s, len))
        return NULL;
#endif
    while (i < len) {
        if (i + 8 <= len) {
            uint64_t w;

            memcpy(&w, s + i, 8);
            /* no high bit and no zero byte in the word */
            if (!(w & 0x8080808080808080ULL) &&
                !((w - 0x0101010101010101ULL) & ~w & 0x8080808080808080ULL)) {
                i += 8;
                continue;
            }
        }
        if (s[i] == 0)
            return "nul-byte";
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = utf8_seq_len(s + i, len - i);

        if (!n)
            return "bad-utf8";
        i += n;
    }
    return NULL;
}

/* ---- calendar checks ---- */

static unsigned days_in_month(unsigned y, unsigned m)
{
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30,
                                          31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dim[m - 1];
}

typedef struct civil_time {
    unsigned year, mon, day, hour, min, sec;
    int64_t frac_us;
    int64_t offset_s; /* local time minus UTC */
} civil_time;

/* Consecutive lines are nearly always of the same day: its checked date
 * and day number are kept per thread. */
typedef struct day_cache {
    unsigned year, mon, day; /* year 0: empty */
    int64_t days;
} day_cache;

static __thread day_cache last_day;

/* Days since the epoch of a checked date, or -1 if the date is absurd. */
static int64_t checked_days(const civil_time *t)
{
    day_cache *c = &last_day;

    if (t->year == c->year && t->mon == c->mon && t->day == c->day)
        return c->days;
    if (t->year < 1970 || t->year > 9999 || t->mon < 1 || t->mon > 12 ||
        t->day < 1 || t->day > days_in_month(t->year, t->mon))
        return -1;
    c->year = t->year;
    c->mon = t->mon;
    c->day = t->day;
    c->days = trpt_days_from_civil((int)t->year, t->mon, t->day);
    return c->days;
}

/* Range checks shared by every framing; absurd values are "bad-date". */
static int civil_to_us(const civil_time *t, int64_t *us, frame_error *fe)
{
    int64_t days = checked_days(t);
    unsigned sec = t->sec;

    if (days < 0 || t->hour > 23 || t->min > 59 || sec > 60)
        return fail(fe, "bad-date");
    if (sec == 60) /* leap second: UTC arithmetic has no slot for it */
        sec = 59;
    *us = (days * 86400LL + t->hour * 3600LL + t->min * 60LL + sec -
           t->offset_s) *
              US_PER_S +
          t->frac_us;
    return 0;
}

/* "hh:mm:ss" at s (8 bytes available). */
static int parse_hms(const char *s, civil_time *t)
{
    if (fixed_digits(s, 2, &t->hour) || s[2] != ':' ||
        fixed_digits(s + 3, 2, &t->min) || s[5] != ':' ||
        fixed_digits(s + 6, 2, &t->sec))
        return -1;
    return 0;
}

/* "YYYY-MM-DD?hh:mm:ss" at s (19 bytes available), any separator at [10]. */
static int parse_ymd_hms(const char *s, civil_time *t)
{
    if (fixed_digits(s, 4, &t->year) || s[4] != '-' ||
        fixed_digits(s + 5, 2, &t->mon) || s[7] != '-' ||
        fixed_digits(s + 8, 2, &t->day))
        return -1;
    return parse_hms(s + 11, t);
}

/* ".ffffff" at s[*i]: any number of digits, microseconds kept. */
static int parse_fraction(const char *s, size_t len, size_t *i, int64_t *us)
{
    int64_t scale = 100000;
    size_t start;

    *us = 0;
    if (*i >= len || s[*i] != '.')
        return 0;
    start = ++*i;
    while (*i < len && is_digit(s[*i])) {
        *us += (s[*i] - '0') * scale;
        scale /= 10;
        ++*i;
    }
    return *i == start ? -1 : 0;
}

/* ---- "host prog[pid]: msg" (RFC 3164 section 4.1.2/4.1.3 HOSTNAME and
 * TAG, as rsyslog and postlogd write them) ---- */

static int parse_pid(const char *p, const char *end, long *pid)
{
    long v = 0;

    if (p == end || end - p > 10)
        return -1;
    for (; p < end; p++) {
        if (!is_digit(*p))
            return -1;
        v = v * 10 + (*p - '0');
    }
    *pid = v;
    return 0;
}

/* Where the tag "prog[pid]:" lies: its first ':', the first '[' before it,
 * the first ']' after that, the first ' ' before the '[' (or the ':').
 * NULL for what is absent. */
typedef struct tag_marks {
    const char *colon, *open, *close, *space;
} tag_marks;

static void mark_tag_bytes(const char *p, const char *end, tag_marks *m)
{
    for (; p < end && *p != ':'; p++) {
        if (*p == '[') {
            if (!m->open)
                m->open = p;
        } else if (*p == ']') {
            if (m->open && !m->close)
                m->close = p;
        } else if (*p == ' ' && !m->open && !m->space) {
            m->space = p;
        }
    }
    m->colon = p < end ? p : NULL;
}

#ifdef __SSE2__
/* Bit i set where p[i] == c, for 32 bytes. */
static inline uint32_t eq_mask32(__m128i lo, __m128i hi, char c)
{
    __m128i k = _mm_set1_epi8(c);

    return (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(lo, k)) |
           (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(hi, k)) << 16;
}

/* The lowest set bit of m at or above bit `from` (< 32), as a pointer;
 * NULL if none. */
static inline const char *first_at(const char *p, uint32_t m, unsigned from)
{
    m &= ~((1u << from) - 1);
    return m ? p + __builtin_ctz(m) : NULL;
}

/* Tags nearly always end within 32 bytes: then the marks come from
 * compare masks instead of a loop with unpredictable branches. 0 if the
 * tag is longer (or the line too short) and the loop must do it. */
static int mark_tag_simd(const char *p, const char *end, tag_marks *m)
{
    __m128i lo, hi;
    uint32_t colon, before;
    unsigned c, o;

    if (end - p < 32)
        return 0;
    lo = _mm_loadu_si128((const __m128i *)(const void *)p);
    hi = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
    if (!(colon = eq_mask32(lo, hi, ':')))
        return 0;
    c = (unsigned)__builtin_ctz(colon);
    before = (1u << c) - 1; /* bits below the ':' */
    m->colon = p + c;
    m->open = first_at(p, eq_mask32(lo, hi, '[') & before, 0);
    o = m->open ? (unsigned)(m->open - p) : c;
    m->close = m->open ? first_at(p, eq_mask32(lo, hi, ']') & before, o) : NULL;
    m->space =
        first_at(p, eq_mask32(lo, hi, ' ') & before & ((1u << o) - 1), 0);
    return 1;
}
#endif

static int parse_host_tag(const char *p, const char *end, trpt_logline *out,
                          frame_error *fe)
{
    const char *host = p, *tag;
    tag_marks m = {0};

    while (p < end && *p != ' ')
        p++;
    if (p == host || p == end)
        return fail(fe, "no-framing");
    out->host = host;
    out->host_len = (size_t)(p - host);
    tag = ++p;
    /* The tag ends at the first ':'; a '[' before it opens the pid, which
     * the first ']' after it closes; no ' ' before the pid. */
#ifdef __SSE2__
    if (!mark_tag_simd(tag, end, &m))
#endif
        mark_tag_bytes(tag, end, &m);
    if (!m.colon)
        return fail(fe, "no-framing");
    if (m.open && (!m.close || m.close + 1 != m.colon ||
                   parse_pid(m.open + 1, m.close, &out->pid) < 0))
        return fail(fe, "no-framing");
    if (m.open == tag || m.colon == tag || m.space)
        return fail(fe, "no-framing");
    out->prog = tag;
    out->prog_len = (size_t)((m.open ? m.open : m.colon) - tag);
    p = m.colon + 1;
    if (p < end && *p == ' ')
        p++;
    out->msg = p;
    out->msg_len = (size_t)(end - p);
    return 0;
}

/* ---- traditional syslog: "Mmm dd hh:mm:ss host prog[pid]: msg" ---- */

/* The three bytes as one number, compared with a table of twelve. */
static unsigned month_from_abbrev(const char *s)
{
#define M3(a, b, c) ((unsigned)(a) << 16 | (unsigned)(b) << 8 | (unsigned)(c))
    static const unsigned names[12] = {
        M3('J', 'a', 'n'), M3('F', 'e', 'b'), M3('M', 'a', 'r'),
        M3('A', 'p', 'r'), M3('M', 'a', 'y'), M3('J', 'u', 'n'),
        M3('J', 'u', 'l'), M3('A', 'u', 'g'), M3('S', 'e', 'p'),
        M3('O', 'c', 't'), M3('N', 'o', 'v'), M3('D', 'e', 'c'),
    };
    static __thread unsigned last_v, last_m; /* lines share a month */
    unsigned v =
        M3((unsigned char)s[0], (unsigned char)s[1], (unsigned char)s[2]);
#undef M3

    if (last_m && v == last_v)
        return last_m;
    for (unsigned m = 0; m < 12; m++)
        if (v == names[m]) {
            last_v = v;
            last_m = m + 1;
            return m + 1;
        }
    return 0;
}

/* Every line of a stream shares one reference time: the calendar maths for
 * it is done once per thread and reference. */
typedef struct ref_civil {
    int64_t ref_time_us;
    int year;
    unsigned mon;
    int valid;
} ref_civil;

static __thread ref_civil ref_cache;

/* logline.h: the year of ref, or the year before when the line's month is
 * more than one month after ref's (a December line read in January). */
static unsigned infer_year(unsigned mon, int64_t ref_time_us)
{
    ref_civil *c = &ref_cache;

    if (!c->valid || c->ref_time_us != ref_time_us) {
        unsigned d;

        trpt_civil_from_days(trpt_day_of_us(ref_time_us), &c->year, &c->mon,
                             &d);
        c->ref_time_us = ref_time_us;
        c->valid = 1;
    }
    return (unsigned)(mon > c->mon + 1 ? c->year - 1 : c->year);
}

/* Many consecutive lines share their second: the last accepted head
 * "Mmm dd hh:mm:ss " (its bytes decide its time, with the reference) and
 * its time are kept per thread. */
typedef struct head_cache {
    char head[16];
    size_t len; /* 0: empty */
    int64_t ref_time_us, time_us;
} head_cache;

static __thread head_cache last_head;

static void remember_head(const char *line, size_t n, int64_t ref_time_us,
                          int64_t time_us)
{
    head_cache *c = &last_head;

    if (n > sizeof c->head)
        return;
    memcpy(c->head, line, n);
    c->len = n;
    c->ref_time_us = ref_time_us;
    c->time_us = time_us;
}

static int frame_syslog(const char *line, size_t len, int64_t ref_time_us,
                        trpt_logline *out, frame_error *fe)
{
    civil_time t = {0};
    size_t i = 4;
    const head_cache *c = &last_head;

    if (len >= 16 && c->len && c->ref_time_us == ref_time_us &&
        memcmp(line, c->head, c->len) == 0) {
        out->time_us = c->time_us;
        out->framing = TRPT_FRAMING_SYSLOG;
        return parse_host_tag(line + c->len, line + len, out, fe);
    }
    /* "Mmm d hh:mm:ss " is the shortest head */
    if (len < 16 || line[3] != ' ' || !(t.mon = month_from_abbrev(line)))
        return fail(fe, "no-framing");
    if (line[i] == ' ') /* space-padded day "Nov  1" */
        i++;
    if (!is_digit(line[i]))
        return fail(fe, "no-framing");
    t.day = (unsigned)(line[i++] - '0');
    if (is_digit(line[i]))
        t.day = t.day * 10 + (unsigned)(line[i++] - '0');
    if (i + 10 > len || line[i] != ' ' || parse_hms(line + i + 1, &t) < 0 ||
        line[i + 9] != ' ')
        return fail(fe, "no-framing");
    i += 10;
    t.year = infer_year(t.mon, ref_time_us);
    if (civil_to_us(&t, &out->time_us, fe) < 0)
        return -EINVAL;
    remember_head(line, i, ref_time_us, out->time_us);
    out->framing = TRPT_FRAMING_SYSLOG;
    return parse_host_tag(line + i, line + len, out, fe);
}

/* ---- RFC 3339 (rsyslog RSYSLOG_FileFormat) ---- */

/* "Z" or "+hh:mm"/"-hh:mm" at s[i], ending the timestamp token. */
static int parse_rfc3339_zone(const char *s, size_t len, size_t *i,
                              int64_t *offset_s, frame_error *fe)
{
    unsigned oh, om;

    if (*i < len && (s[*i] == 'Z' || s[*i] == 'z')) {
        *offset_s = 0;
        ++*i;
        return 0;
    }
    if (*i + 6 > len || (s[*i] != '+' && s[*i] != '-') ||
        fixed_digits(s + *i + 1, 2, &oh) || s[*i + 3] != ':' ||
        fixed_digits(s + *i + 4, 2, &om))
        return fail(fe, "no-framing");
    if (oh > 23 || om > 59)
        return fail(fe, "bad-date");
    *offset_s = ((int64_t)oh * 3600 + om * 60) * (s[*i] == '+' ? 1 : -1);
    *i += 6;
    return 0;
}

static int frame_rfc3339(const char *line, size_t len, trpt_logline *out,
                         frame_error *fe)
{
    civil_time t = {0};
    size_t i = 19;
    int r;

    if (parse_ymd_hms(line, &t) < 0 ||
        parse_fraction(line, len, &i, &t.frac_us) < 0)
        return fail(fe, "no-framing");
    if ((r = parse_rfc3339_zone(line, len, &i, &t.offset_s, fe)) < 0)
        return r;
    if (i >= len || line[i] != ' ')
        return fail(fe, "no-framing");
    if (civil_to_us(&t, &out->time_us, fe) < 0)
        return -EINVAL;
    out->framing = TRPT_FRAMING_RFC3339;
    return parse_host_tag(line + i + 1, line + len, out, fe);
}

/* ---- Exim mainlog: "YYYY-MM-DD hh:mm:ss[.fff][ +hhmm] [pid] msg" ---- */

/* " +hhmm" (Exim's log_timezone) at s[*i]; absent is fine. */
static int parse_exim_zone(const char *s, size_t len, size_t *i,
                           int64_t *offset_s, frame_error *fe)
{
    unsigned oh, om;

    *offset_s = 0;
    if (*i + 6 > len || s[*i] != ' ' || (s[*i + 1] != '+' && s[*i + 1] != '-'))
        return 0;
    if (fixed_digits(s + *i + 2, 2, &oh) || fixed_digits(s + *i + 4, 2, &om))
        return 0; /* "+" starting the message text, not a zone */
    if (*i + 6 < len && s[*i + 6] != ' ')
        return 0;
    if (oh > 23 || om > 59)
        return fail(fe, "bad-date");
    *offset_s = ((int64_t)oh * 3600 + om * 60) * (s[*i + 1] == '+' ? 1 : -1);
    *i += 6;
    return 0;
}

/* " [pid]" at s[*i]; absent is fine (log_selector -pid). */
static void parse_exim_pid(const char *s, size_t len, size_t *i, long *pid)
{
    const char *open = s + *i + 1, *end = s + len, *close;

    *pid = -1;
    if (*i + 3 > len || s[*i] != ' ' || *open != '[')
        return;
    close = memchr(open, ']', (size_t)(end - open));
    if (!close || parse_pid(open + 1, close, pid) < 0) {
        *pid = -1;
        return;
    }
    *i = (size_t)(close + 1 - s);
}

static int frame_exim(const char *line, size_t len, trpt_logline *out,
                      frame_error *fe)
{
    civil_time t = {0};
    size_t i = 19;
    int r;

    if (parse_ymd_hms(line, &t) < 0 ||
        parse_fraction(line, len, &i, &t.frac_us) < 0)
        return fail(fe, "no-framing");
    if ((r = parse_exim_zone(line, len, &i, &t.offset_s, fe)) < 0)
        return r;
    parse_exim_pid(line, len, &i, &out->pid);
    if (i < len && line[i] != ' ')
        return fail(fe, "no-framing");
    if (civil_to_us(&t, &out->time_us, fe) < 0)
        return -EINVAL;
    if (i < len)
        i++;
    out->framing = TRPT_FRAMING_EXIM;
    out->msg = line + i;
    out->msg_len = len - i;
    return 0;
}

/* A year of five or more digits ("10000-01-01 ...") is a date, but an
 * absurd one (timeutil.h: years beyond 9999 are refused). */
static int starts_with_long_year(const char *line, size_t len)
{
    size_t i = 0;

    while (i < len && i < 12 && is_digit(line[i]))
        i++;
    return i >= 5 && i < len && line[i] == '-';
}

/* "YYYY-MM-DD" then 'T' (RFC 3339) or ' ' (Exim). */
static int starts_with_iso_date(const char *line, size_t len)
{
    return len >= 20 && is_digit(line[0]) && is_digit(line[3]) &&
           line[4] == '-' && line[7] == '-';
}

/* Framing of a line whose bytes are known good (valid UTF-8, no NUL). */
static int frame_checked(const char *line, size_t len, int64_t ref_time_us,
                         trpt_logline *out, const char **reason)
{
    frame_error fe = {"no-framing"};
    int r;

    if (starts_with_iso_date(line, len)) {
        if (line[10] == 'T' || line[10] == 't')
            r = frame_rfc3339(line, len, out, &fe);
        else if (line[10] == ' ')
            r = frame_exim(line, len, out, &fe);
        else
            r = fail(&fe, "no-framing");
    } else if (starts_with_long_year(line, len)) {
        r = fail(&fe, "bad-date");
    } else {
        r = frame_syslog(line, len, ref_time_us, out, &fe);
    }
    if (r < 0) {
        *reason = fe.reason;
        r = strcmp(fe.reason, "bad-date") == 0 ? -ERANGE : -EINVAL;
        memset(out, 0, sizeof *out);
        out->pid = -1;
        return r;
    }
    return 0;
}

/* Shared entry checks; 1 when the caller may go on to the framing. */
static int entry_ok(const char *line, size_t len, trpt_logline *out,
                    const char **reason, int *r)
{
    memset(out, 0, sizeof *out);
    out->pid = -1;
    if (!line) {
        *reason = "no-framing";
        *r = -EINVAL;
        return 0;
    }
    if (len > TRPT_LOGLINE_MAX) {
        *reason = "too-long";
        *r = -E2BIG;
        return 0;
    }
    return 1;
}

int trpt_logline_parse(const char *line, size_t len, int64_t ref_time_us,
                       trpt_logline *out, const char **reason)
{
    const char *bad;
    int r;

    if (!entry_ok(line, len, out, reason, &r))
        return r;
    if ((bad = check_bytes(line, len))) {
        *reason = bad;
        return -EILSEQ;
    }
    return frame_checked(line, len, ref_time_us, out, reason);
}

int trpt_logline_parse_ascii(const char *line, size_t len, int64_t ref_time_us,
                             trpt_logline *out, const char **reason)
{
    int r;

    if (!entry_ok(line, len, out, reason, &r))
        return r;
    if ((r = frame_checked(line, len, ref_time_us, out, reason)) == 0)
        out->newline_free = 1;
    return r;
}
