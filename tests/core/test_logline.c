/* test_logline.c - log line framing (core/logline.c) against real corpus
 * lines, every error reason, and random input. */
#include "harness.h"

#include <errno.h>

#include "logline.h"
#include "timeutil.h"

#define CORPUS "corpus/postfix-3.7-exim-4.96/"

/* 2026-11-28T12:00:00Z, the corpus day */
static int64_t ref_corpus(void)
{
    return (trpt_days_from_civil(2026, 11, 28) * 86400LL + 12 * 3600) *
           1000000LL;
}

static int64_t utc_us(int y, unsigned mo, unsigned d, int h, int mi, int s,
                      int64_t frac)
{
    return (trpt_days_from_civil(y, mo, d) * 86400LL + h * 3600LL + mi * 60LL +
            s) *
               1000000LL +
           frac;
}

static int parse(const char *line, int64_t ref, trpt_logline *ll,
                 const char **reason)
{
    *reason = NULL;
    return trpt_logline_parse(line, strlen(line), ref, ll, reason);
}

static int span_eq(const char *p, size_t n, const char *s)
{
    return p && n == strlen(s) && memcmp(p, s, n) == 0;
}

/* The reason a line is refused with ("" when it is accepted). */
static const char *refusal(const char *line, size_t len)
{
    trpt_logline ll;
    const char *reason = NULL;
    int r = trpt_logline_parse(line, len, ref_corpus(), &ll, &reason);

    return r == 0 ? "" : reason;
}

static const char *refusal_str(const char *line)
{
    return refusal(line, strlen(line));
}

TEST(syslog_corpus_line_gives_time_host_prog_pid_and_message)
{
    trpt_logline ll;
    const char *reason;

    ASSERT(parse("Nov 28 11:45:31 mta-out postfix/smtpd[2062]: connect from "
                 "localhost[127.0.0.1]",
                 ref_corpus(), &ll, &reason) == 0);
    EXPECT_EQ(ll.framing, TRPT_FRAMING_SYSLOG);
    EXPECT_EQ(ll.time_us, utc_us(2026, 11, 28, 11, 45, 31, 0));
    EXPECT(span_eq(ll.host, ll.host_len, "mta-out"));
    EXPECT(span_eq(ll.prog, ll.prog_len, "postfix/smtpd"));
    EXPECT_EQ(ll.pid, 2062);
    EXPECT(span_eq(ll.msg, ll.msg_len, "connect from localhost[127.0.0.1]"));
}

TEST(syslog_program_without_pid_has_pid_minus_one)
{
    trpt_logline ll;
    const char *reason;

    ASSERT(parse("Nov 28 11:45:31 mx-farm kernel: eth0 up", ref_corpus(), &ll,
                 &reason) == 0);
    EXPECT_EQ(ll.pid, -1);
    EXPECT(span_eq(ll.prog, ll.prog_len, "kernel"));
    EXPECT(span_eq(ll.msg, ll.msg_len, "eth0 up"));
}

TEST(syslog_space_padded_and_single_digit_days_are_accepted)
{
    trpt_logline ll;
    const char *reason;

    ASSERT(parse("Nov  1 01:02:03 h postfix/smtp[7]: x", ref_corpus(), &ll,
                 &reason) == 0);
    EXPECT_EQ(ll.time_us, utc_us(2026, 11, 1, 1, 2, 3, 0));
    ASSERT(parse("Nov 1 01:02:03 h postfix/smtp[7]: x", ref_corpus(), &ll,
                 &reason) == 0);
    EXPECT_EQ(ll.time_us, utc_us(2026, 11, 1, 1, 2, 3, 0));
    EXPECT(span_eq(ll.host, ll.host_len, "h"));
}

TEST(syslog_december_line_read_in_january_is_last_year)
{
    int64_t jan = utc_us(2027, 1, 5, 0, 0, 0, 0);
    trpt_logline ll;
    const char *reason;

    ASSERT(parse("Dec 31 23:59:59 h p[1]: m", jan, &ll, &reason) == 0);
    EXPECT_EQ(ll.time_us, utc_us(2026, 12, 31, 23, 59, 59, 0));
    /* one month ahead of ref is clock skew, not last year */
    ASSERT(parse("Feb  1 00:00:00 h p[1]: m", jan, &ll, &reason) == 0);
    EXPECT_EQ(ll.time_us, utc_us(2027, 2, 1, 0, 0, 0, 0));
    ASSERT(parse("Mar  1 00:00:00 h p[1]: m", jan, &ll, &reason) == 0);
    EXPECT_EQ(ll.time_us, utc_us(2026, 3, 1, 0, 0, 0, 0));
}

TEST(syslog_feb_29_needs_a_leap_year)
{
    int64_t ref2028 = utc_us(2028, 3, 1, 0, 0, 0, 0);
    trpt_logline ll;
    const char *reason;

    EXPECT(parse("Feb 29 10:00:00 h p[1]: m", ref2028, &ll, &reason) == 0);
    EXPECT(parse("Feb 29 10:00:00 h p[1]: m", ref_corpus(), &ll, &reason) ==
           -ERANGE);
    EXPECT_STREQ(reason, "bad-date");
}

TEST(syslog_leap_second_is_clamped)
{
    trpt_logline ll;
    const char *reason;

    ASSERT(parse("Nov 28 23:59:60 h p[1]: m", ref_corpus(), &ll, &reason) == 0);
    EXPECT_EQ(ll.time_us, utc_us(2026, 11, 28, 23, 59, 59, 0));
}

TEST(rfc3339_fraction_and_offsets_are_converted_to_utc)
{
    trpt_logline ll;
    const char *reason;

    ASSERT(parse("2026-11-28T11:45:39.123456+00:00 mta-out postfix/smtp[2066]: "
                 "Verified TLS connection established",
                 0, &ll, &reason) == 0);
    EXPECT_EQ(ll.framing, TRPT_FRAMING_RFC3339);
    EXPECT_EQ(ll.time_us, utc_us(2026, 11, 28, 11, 45, 39, 123456));
    EXPECT(span_eq(ll.host, ll.host_len, "mta-out"));
    EXPECT(span_eq(ll.prog, ll.prog_len, "postfix/smtp"));
    EXPECT_EQ(ll.pid, 2066);
    EXPECT(span_eq(ll.msg, ll.msg_len, "Verified TLS connection established"));

    ASSERT(parse("2026-11-28T12:45:39+01:00 h p[1]: m", 0, &ll, &reason) == 0);
    EXPECT_EQ(ll.time_us, utc_us(2026, 11, 28, 11, 45, 39, 0));
    ASSERT(parse("2026-11-28T06:15:39.5-05:30 h p[1]: m", 0, &ll, &reason) ==
           0);
    EXPECT_EQ(ll.time_us, utc_us(2026, 11, 28, 11, 45, 39, 500000));
    ASSERT(parse("2026-11-28T11:45:39Z h p: m", 0, &ll, &reason) == 0);
    EXPECT_EQ(ll.time_us, utc_us(2026, 11, 28, 11, 45, 39, 0));
    EXPECT_EQ(ll.pid, -1);
    /* a zone west of UTC moves the instant into the next UTC day */
    ASSERT(parse("2026-12-31T23:30:00-01:00 h p[1]: m", 0, &ll, &reason) == 0);
    EXPECT_EQ(ll.time_us, utc_us(2027, 1, 1, 0, 30, 0, 0));
}

TEST(exim_mainlog_corpus_line_has_pid_and_no_host)
{
    trpt_logline ll;
    const char *reason;

    ASSERT(parse("2026-11-28 11:48:30 [10207] 1xXGus-0002ed-1e <= "
                 "alice@sender.test U=root P=local S=344",
                 0, &ll, &reason) == 0);
    EXPECT_EQ(ll.framing, TRPT_FRAMING_EXIM);
    EXPECT_EQ(ll.time_us, utc_us(2026, 11, 28, 11, 48, 30, 0));
    EXPECT_EQ(ll.pid, 10207);
    EXPECT(ll.host == NULL);
    EXPECT(ll.prog == NULL);
    EXPECT(span_eq(ll.msg, ll.msg_len,
                   "1xXGus-0002ed-1e <= alice@sender.test U=root P=local "
                   "S=344"));
}

TEST(exim_without_pid_and_with_fraction_and_zone)
{
    trpt_logline ll;
    const char *reason;

    ASSERT(parse("2026-11-28 11:48:30 1xXGus-0002ed-1e Completed", 0, &ll,
                 &reason) == 0);
    EXPECT_EQ(ll.pid, -1);
    EXPECT(span_eq(ll.msg, ll.msg_len, "1xXGus-0002ed-1e Completed"));

    ASSERT(parse("2026-11-28 12:48:30.123 +0100 [10207] 1xXGus-0002ed-1e "
                 "Completed",
                 0, &ll, &reason) == 0);
    EXPECT_EQ(ll.time_us, utc_us(2026, 11, 28, 11, 48, 30, 123000));
    EXPECT_EQ(ll.pid, 10207);
    EXPECT(span_eq(ll.msg, ll.msg_len, "1xXGus-0002ed-1e Completed"));

    /* "+1234" followed by text is message text, not a zone */
    ASSERT(parse("2026-11-28 11:48:30 +1234x", 0, &ll, &reason) == 0);
    EXPECT_EQ(ll.time_us, utc_us(2026, 11, 28, 11, 48, 30, 0));
    EXPECT(span_eq(ll.msg, ll.msg_len, "+1234x"));
}

TEST(mta_sts_daemon_lines_frame_like_exim_with_the_level_as_message)
{
    trpt_logline ll;
    const char *reason;

    ASSERT(
        parse("2026-11-28 11:45:23 INFO     MAIN: MTA-STS daemon starting...",
              0, &ll, &reason) == 0);
    EXPECT_EQ(ll.framing, TRPT_FRAMING_EXIM);
    EXPECT(span_eq(ll.msg, ll.msg_len,
                   "INFO     MAIN: MTA-STS daemon starting..."));
}

/* The tag "prog[pid]:" is read with 32-byte compare masks when it ends
 * within 32 bytes, byte by byte otherwise: both must read every shape the
 * same at every tag length around that window. */
TEST(tag_shapes_frame_the_same_at_every_length_around_32_bytes)
{
    char line[256], name[128];
    trpt_logline ll;
    const char *reason;

    for (size_t n = 1; n < 72; n++) {
        memset(name, 'p', n);
        name[n] = '\0';
        snprintf(line, sizeof line, "Nov 28 11:45:31 h %s[12]: x", name);
        ASSERT(parse(line, ref_corpus(), &ll, &reason) == 0);
        EXPECT(span_eq(ll.prog, ll.prog_len, name));
        EXPECT_EQ(ll.pid, 12);
        EXPECT(span_eq(ll.msg, ll.msg_len, "x"));
        snprintf(line, sizeof line, "Nov 28 11:45:31 h %s: x y", name);
        ASSERT(parse(line, ref_corpus(), &ll, &reason) == 0);
        EXPECT(span_eq(ll.prog, ll.prog_len, name));
        EXPECT_EQ(ll.pid, -1);
        EXPECT(span_eq(ll.msg, ll.msg_len, "x y"));
        /* ']' before the '[' belongs to the name */
        snprintf(line, sizeof line, "Nov 28 11:45:31 h %s]x[7]: m", name);
        ASSERT(parse(line, ref_corpus(), &ll, &reason) == 0);
        EXPECT_EQ(ll.prog_len, n + 2);
        EXPECT_EQ(ll.pid, 7);
        /* a space after the pid's ']' is message text */
        snprintf(line, sizeof line,
                 "Nov 28 11:45:31 h %s[7]: to=<a@b>, relay=x[1.2.3.4]:25",
                 name);
        ASSERT(parse(line, ref_corpus(), &ll, &reason) == 0);
        EXPECT(span_eq(ll.msg, ll.msg_len, "to=<a@b>, relay=x[1.2.3.4]:25"));
        snprintf(line, sizeof line, "Nov 28 11:45:31 h %s[1]x: y", name);
        EXPECT_STREQ(refusal_str(line), "no-framing");
        snprintf(line, sizeof line, "Nov 28 11:45:31 h %s[1]]: y", name);
        EXPECT_STREQ(refusal_str(line), "no-framing");
        snprintf(line, sizeof line, "Nov 28 11:45:31 h %s[x]: y", name);
        EXPECT_STREQ(refusal_str(line), "no-framing");
        snprintf(line, sizeof line, "Nov 28 11:45:31 h p %s[1]: y", name);
        EXPECT_STREQ(refusal_str(line), "no-framing");
        snprintf(line, sizeof line, "Nov 28 11:45:31 h [%s: y", name);
        EXPECT_STREQ(refusal_str(line), "no-framing");
        snprintf(line, sizeof line, "Nov 28 11:45:31 h %s", name);
        EXPECT_STREQ(refusal_str(line), "no-framing");
        snprintf(line, sizeof line, "Nov 28 11:45:31 h %s[1: y]", name);
        EXPECT_STREQ(refusal_str(line), "no-framing");
    }
}

/* Whole lines of ASCII are passed by a SIMD check; one odd byte anywhere,
 * at any line length, must still be found. */
TEST(one_odd_byte_is_found_at_every_position_and_line_length)
{
    char line[200];

    for (size_t len = 24; len < sizeof line; len += 7) {
        for (size_t at = 0; at < len; at++) {
            memset(line, 'a', len);
            memcpy(line, "Nov 28 11:45:31 h p: ", 21);
            line[at] = '\0';
            EXPECT_STREQ(refusal(line, len), "nul-byte");
            line[at] = (char)0xff;
            EXPECT_STREQ(refusal(line, len), "bad-utf8");
            if (at >= 21) { /* in the message: valid UTF-8 is accepted */
                line[at] = (char)0xc3;
                if (at + 1 < len) {
                    line[at + 1] = (char)0xa9;
                    EXPECT_STREQ(refusal(line, len), "");
                } else {
                    EXPECT_STREQ(refusal(line, len), "bad-utf8");
                }
            }
        }
    }
}

TEST(too_long_is_refused_and_exactly_max_is_accepted)
{
    static char line[TRPT_LOGLINE_MAX + 2];
    const char *head = "Nov 28 11:45:31 mta-out postfix/smtp[1]: ";
    trpt_logline ll;
    const char *reason = NULL;

    memset(line, 'a', sizeof line);
    memcpy(line, head, strlen(head));
    ASSERT(trpt_logline_parse(line, TRPT_LOGLINE_MAX, ref_corpus(), &ll,
                              &reason) == 0);
    EXPECT_EQ(ll.msg_len, TRPT_LOGLINE_MAX - strlen(head));
    EXPECT(ll.msg + ll.msg_len == line + TRPT_LOGLINE_MAX);
    EXPECT(trpt_logline_parse(line, TRPT_LOGLINE_MAX + 1, ref_corpus(), &ll,
                              &reason) == -E2BIG);
    EXPECT_STREQ(reason, "too-long");
    EXPECT_STREQ(refusal(line, sizeof line), "too-long");
}

TEST(nul_byte_anywhere_is_refused)
{
    char line[] = "Nov 28 11:45:31 mta-out postfix/smtp[1]: a\0b and more text";

    EXPECT_STREQ(refusal(line, sizeof line - 1), "nul-byte");
    EXPECT_STREQ(refusal("\0", 1), "nul-byte");
    /* in the middle of an 8-byte ASCII word */
    EXPECT_STREQ(refusal("Nov 28 1\0:45:31 h p: m", 22), "nul-byte");
}

TEST(invalid_utf8_is_refused_valid_utf8_accepted)
{
    const char *head = "Nov 28 11:45:31 h p[1]: ";
    static const char *const bad[] = {
        "\xC0\x80",         /* overlong NUL */
        "\xC1\xBF",         /* overlong */
        "\xE0\x80\x80",     /* overlong 3-byte */
        "\xF0\x80\x80\x80", /* overlong 4-byte */
        "\xED\xA0\x80",     /* surrogate U+D800 */
        "\xF4\x90\x80\x80", /* U+110000 */
        "\xF5\x80\x80\x80", /* beyond */
        "\x80",             /* lone continuation */
        "caf\xE9 au lait",  /* Latin-1 e-acute: refused, see logline.c */
        "\xE2\x82",         /* truncated at end of line */
        "\xFF",
    };
    static const char *const good[] = {
        "\xC3\xBC",         /* u-umlaut */
        "\xE2\x82\xAC",     /* euro */
        "\xF0\x9F\x98\x80", /* emoji */
        "\xEF\xBF\xBF",     /* U+FFFF */
        "\xF4\x8F\xBF\xBF", /* U+10FFFF */
    };
    char line[256];

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(line, sizeof line, "%s%s", head, bad[i]);
        EXPECT_STREQ(refusal_str(line), "bad-utf8");
    }
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        snprintf(line, sizeof line, "%s%s ok", head, good[i]);
        EXPECT_STREQ(refusal_str(line), "");
    }
}

TEST(absurd_dates_are_bad_date)
{
    EXPECT_STREQ(refusal_str("2026-13-01 11:48:30 [1] x"), "bad-date");
    EXPECT_STREQ(refusal_str("2026-02-30 11:48:30 [1] x"), "bad-date");
    EXPECT_STREQ(refusal_str("2026-00-10 11:48:30 [1] x"), "bad-date");
    EXPECT_STREQ(refusal_str("2026-11-28 25:48:30 [1] x"), "bad-date");
    EXPECT_STREQ(refusal_str("2026-11-28 11:60:30 [1] x"), "bad-date");
    EXPECT_STREQ(refusal_str("2026-11-28 11:48:61 [1] x"), "bad-date");
    EXPECT_STREQ(refusal_str("1969-12-31 23:59:59 [1] x"), "bad-date");
    EXPECT_STREQ(refusal_str("10000-01-01 00:00:00 [1] x"), "bad-date");
    EXPECT_STREQ(refusal_str("2026-11-28T11:45:39+25:00 h p[1]: m"),
                 "bad-date");
    EXPECT_STREQ(refusal_str("2026-11-31T11:45:39Z h p[1]: m"), "bad-date");
    EXPECT_STREQ(refusal_str("Feb 30 11:45:31 h p[1]: m"), "bad-date");
    EXPECT_STREQ(refusal_str("Nov 28 25:45:31 h p[1]: m"), "bad-date");
    EXPECT_STREQ(refusal_str("Nov 00 11:45:31 h p[1]: m"), "bad-date");
    EXPECT_STREQ(refusal_str("Nov 32 11:45:31 h p[1]: m"), "bad-date");
}

TEST(unframeable_lines_are_no_framing)
{
    static const char *const lines[] = {
        "",
        "hello world",
        "Nov 28 11:45:31",
        "Nov 28 11:45:31 hostonly",
        "Nov 28 11:45:31 host no colon here",
        "Nov 28 11:45:31 host prog[12: x",
        "Nov 28 11:45:31 host prog[12x]: x",
        "Nov 28 11:45:31 host prog[]: x",
        "Nov 28 11:45:31 host prog[123] : x",
        "Nov 28 11:45:31 host : x",
        "Nov 28 11:45:31  p[1]: x",
        "Nov 28 11:4:31 host p[1]: x",
        "nov 28 11:45:31 host p[1]: x",
        "Foo 28 11:45:31 host p[1]: x",
        "Nov x8 11:45:31 host p[1]: x",
        "2026-11-28X11:45:31 host p[1]: x",
        "2026-11-28T11:45:31 host p[1]: x", /* RFC 3339 needs a zone */
        "2026-11-28T11:45:31+0100 host p[1]: x",
        "2026-11-28T11:45:31Zhost p[1]: x",
        "2026-11-28 11:45:31.x [1] m",
        "2026-11-28 11:45:31x [1] m",
        "[1795866232] unbound[24077:0] notice: init module 0: validator",
        "127.0.0.1 - - [28/Nov/2026 11:45:14] \"GET / HTTP/1.1\" 200 -",
    };

    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        const char *r = refusal_str(lines[i]);

        if (strcmp(r, "no-framing") != 0)
            fprintf(stderr, "  line %zu \"%s\": %s\n", i, lines[i], r);
        EXPECT_STREQ(r, "no-framing");
    }
}

TEST(refused_line_leaves_output_empty)
{
    trpt_logline ll;
    const char *reason;

    EXPECT(parse("Nov 28 11:45:31 host", ref_corpus(), &ll, &reason) < 0);
    EXPECT(ll.msg == NULL && ll.host == NULL && ll.prog == NULL);
    EXPECT_EQ(ll.pid, -1);
}

/* Every line of the real logs frames, with the expected framing. */
static void frame_file(const char *rel, trpt_framing want, size_t *n_ok,
                       size_t *n_bad)
{
    FILE *f = fopen(shared_path(rel), "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    *n_ok = *n_bad = 0;
    if (!f) {
        fprintf(stderr, "  cannot open %s\n", shared_path(rel));
        return;
    }
    while ((n = getline(&line, &cap, f)) > 0) {
        trpt_logline ll;
        const char *reason;

        if (line[n - 1] == '\n')
            n--;
        if (trpt_logline_parse(line, (size_t)n, ref_corpus(), &ll, &reason) ==
                0 &&
            (!want || ll.framing == want) &&
            ll.time_us >= utc_us(2026, 11, 28, 11, 0, 0, 0) &&
            ll.time_us < utc_us(2026, 11, 28, 12, 0, 0, 0))
            (*n_ok)++;
        else
            (*n_bad)++;
    }
    free(line);
    fclose(f);
}

TEST(every_corpus_postfix_and_exim_line_frames)
{
    size_t ok, bad;

    frame_file(CORPUS "raw/postfix-sender.maillog", TRPT_FRAMING_SYSLOG, &ok,
               &bad);
    EXPECT_EQ(ok, 1496);
    EXPECT_EQ(bad, 0);
    frame_file(CORPUS "raw/postfix-receiver.maillog", TRPT_FRAMING_SYSLOG, &ok,
               &bad);
    EXPECT(ok > 0);
    EXPECT_EQ(bad, 0);
    frame_file(CORPUS "raw/exim-mainlog", TRPT_FRAMING_EXIM, &ok, &bad);
    EXPECT_EQ(ok, 98);
    EXPECT_EQ(bad, 0);
    frame_file(CORPUS "combined-sending-host.log", 0, &ok, &bad);
    EXPECT_EQ(ok, 1821);
    EXPECT_EQ(bad, 0);
}

/* Random and mutated input: never a crash, and on success every pointer
 * lies within the input. */
TEST(random_bytes_never_crash_and_pointers_stay_in_the_line)
{
    static const char *const seeds[] = {
        "Nov 28 11:45:31 mta-out postfix/smtpd[2062]: connect from x",
        "2026-11-28T11:45:39.123456+00:00 h p[1]: m",
        "2026-11-28 12:48:30.123 +0100 [10207] 1xXGus-0002ed-1e Completed",
    };
    char buf[200];
    uint64_t x = 88172645463325252ULL;
    size_t accepted = 0;

    for (int iter = 0; iter < 200000; iter++) {
        const char *seed = seeds[iter % 3];
        size_t len = strlen(seed), flips;
        trpt_logline ll;
        const char *reason = NULL;

        memcpy(buf, seed, len);
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        len = x % (len + 1);
        flips = (x >> 32) % 4;
        for (size_t k = 0; k < flips && len; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            buf[x % len] = (char)(x >> 40);
        }
        if (trpt_logline_parse(buf, len, ref_corpus(), &ll, &reason) == 0) {
            accepted++;
            EXPECT(ll.msg >= buf && ll.msg + ll.msg_len <= buf + len);
            EXPECT(!ll.host ||
                   (ll.host >= buf && ll.host + ll.host_len <= buf + len));
            EXPECT(!ll.prog ||
                   (ll.prog >= buf && ll.prog + ll.prog_len <= buf + len));
        } else {
            EXPECT(reason != NULL);
        }
        if (harness_failed_now)
            return;
    }
    EXPECT(accepted > 0);
}

/* trpt_logline_parse_ascii() skips only the byte check: on any line of
 * ASCII without NUL or '\n' it must agree with trpt_logline_parse() field
 * for field and reason for reason, and mark the line newline_free. */
TEST(ascii_entry_frames_clean_lines_exactly_like_the_checked_entry)
{
    static const char *const seeds[] = {
        "Nov 28 11:45:31 mta-out postfix/smtpd[2062]: connect from x",
        "2026-11-28T11:45:39.123456+00:00 h p[1]: m",
        "2026-11-28 12:48:30.123 +0100 [10207] 1xXGus-0002ed-1e Completed",
        "Feb 30 11:45:31 mta-out postfix/smtp[1]: bad date",
    };
    char buf[200];
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    size_t same_ok = 0, same_refused = 0;

    for (int iter = 0; iter < 100000; iter++) {
        const char *seed = seeds[iter % 4];
        size_t len = strlen(seed), flips;
        trpt_logline a, b;
        const char *ra = NULL, *rb = NULL;
        int r1, r2;

        memcpy(buf, seed, len);
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        len = x % (len + 1);
        flips = (x >> 32) % 4;
        for (size_t k = 0; k < flips && len; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            buf[x % len] = (char)(1 + (x >> 40) % 127); /* ASCII, no NUL */
            if (buf[x % len] == '\n')
                buf[x % len] = ' ';
        }
        r1 = trpt_logline_parse(buf, len, ref_corpus(), &a, &ra);
        r2 = trpt_logline_parse_ascii(buf, len, ref_corpus(), &b, &rb);
        EXPECT_EQ(r1, r2);
        if (r1 == 0 && r2 == 0) {
            EXPECT_EQ(a.newline_free, 0);
            EXPECT_EQ(b.newline_free, 1);
            b.newline_free = 0;
            EXPECT(memcmp(&a, &b, sizeof a) == 0);
            same_ok++;
        } else if (r1 < 0 && r2 < 0) {
            EXPECT_STREQ(ra, rb);
            EXPECT_EQ(b.newline_free, 0);
            same_refused++;
        }
        if (harness_failed_now)
            return;
    }
    EXPECT(same_ok > 0);
    EXPECT(same_refused > 0);
}

TEST(ascii_entry_still_refuses_too_long_bad_dates_and_missing_framing)
{
    static char line[TRPT_LOGLINE_MAX + 2];
    trpt_logline ll;
    const char *reason = NULL;
    const char *bad_date = "Nov 31 11:45:31 h postfix/smtp[1]: x";
    const char *no_tag = "Nov 28 11:45:31 h postfix/smtp[1x]: x";

    memset(line, 'a', sizeof line);
    EXPECT_EQ(trpt_logline_parse_ascii(line, TRPT_LOGLINE_MAX + 1, ref_corpus(),
                                       &ll, &reason),
              -E2BIG);
    EXPECT_STREQ(reason, "too-long");
    EXPECT_EQ(trpt_logline_parse_ascii(bad_date, strlen(bad_date), ref_corpus(),
                                       &ll, &reason),
              -ERANGE);
    EXPECT_STREQ(reason, "bad-date");
    EXPECT_EQ(trpt_logline_parse_ascii(no_tag, strlen(no_tag), ref_corpus(),
                                       &ll, &reason),
              -EINVAL);
    EXPECT_STREQ(reason, "no-framing");
    EXPECT_EQ(trpt_logline_parse_ascii(NULL, 0, ref_corpus(), &ll, &reason),
              -EINVAL);
    EXPECT_EQ(ll.newline_free, 0);
}

/* The time of the last syslog head is reused for lines with the same head
 * bytes and reference only: a new reference or second must be seen. */
TEST(repeated_syslog_heads_follow_the_reference_and_every_second)
{
    const char *line = "Dec 31 23:59:59 h postfix/smtp[1]: m";
    const char *next = "Dec 31 23:59:58 h postfix/smtp[1]: m";
    const char *bad = "Dec 31 23:59:59 h postfix/smtp[1x]: m";
    int64_t jan27 = utc_us(2027, 1, 10, 0, 0, 0, 0);
    int64_t dec27 = utc_us(2027, 12, 31, 23, 59, 59, 0);
    trpt_logline ll;
    const char *reason;

    ASSERT(parse(line, jan27, &ll, &reason) == 0);
    EXPECT_EQ(ll.time_us, utc_us(2026, 12, 31, 23, 59, 59, 0));
    ASSERT(parse(line, jan27, &ll, &reason) == 0);
    EXPECT_EQ(ll.time_us, utc_us(2026, 12, 31, 23, 59, 59, 0));
    ASSERT(parse(line, dec27, &ll, &reason) == 0);
    EXPECT_EQ(ll.time_us, utc_us(2027, 12, 31, 23, 59, 59, 0));
    ASSERT(parse(next, dec27, &ll, &reason) == 0);
    EXPECT_EQ(ll.time_us, utc_us(2027, 12, 31, 23, 59, 58, 0));
    EXPECT_EQ(parse(bad, dec27, &ll, &reason), -EINVAL); /* tag still read */
    EXPECT_STREQ(reason, "no-framing");
    EXPECT_EQ(parse("Dec 31 23:59:59 ", dec27, &ll, &reason), -EINVAL);
    EXPECT_STREQ(reason, "no-framing");
}
