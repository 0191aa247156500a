/* test_timeutil.c - UTC calendar arithmetic and RFC 3339 timestamps
 * (core/timeutil.h). */
#include <errno.h>

#include "harness.h"
#include "timeutil.h"

#define US     1000000LL
#define DAY_US (86400LL * US)

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned month_days(int y, unsigned m)
{
    static const unsigned dim[12] = {31, 28, 31, 30, 31, 30,
                                     31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

static int64_t parse(const char *s, int *rc)
{
    int64_t us = -12345;

    *rc = trpt_parse_rfc3339(s, strlen(s), &us);
    return us;
}

TEST(civil_days_match_known_dates)
{
    EXPECT_EQ(trpt_days_from_civil(1970, 1, 1), 0);
    EXPECT_EQ(trpt_days_from_civil(1970, 1, 2), 1);
    EXPECT_EQ(trpt_days_from_civil(1971, 1, 1), 365);
    EXPECT_EQ(trpt_days_from_civil(2000, 3, 1), 11017);
    EXPECT_EQ(trpt_days_from_civil(2026, 1, 1), 20454);
    EXPECT_EQ(trpt_days_from_civil(2038, 1, 19), 24855); /* 32-bit time_t */
    EXPECT_EQ(trpt_days_from_civil(9999, 12, 31), 2932896);
    EXPECT_EQ(trpt_days_from_civil(1969, 12, 31), -1);
}

TEST(every_day_from_1970_to_9999_converts_both_ways)
{
    int y = 1970;
    unsigned m = 1, d = 1;
    int64_t z = 0;
    int bad = 0;

    /* walk the calendar one day at a time, independently of the library */
    for (; y <= 9999; z++) {
        int yy;
        unsigned mm, dd;

        trpt_civil_from_days(z, &yy, &mm, &dd);
        if (yy != y || mm != m || dd != d ||
            trpt_days_from_civil(y, m, d) != z) {
            if (bad++ < 5)
                fprintf(stderr, "  day %" PRId64 ": %d-%u-%u vs %d-%u-%u\n", z,
                        yy, mm, dd, y, m, d);
        }
        if (++d > month_days(y, m)) {
            d = 1;
            if (++m > 12) {
                m = 1;
                y++;
            }
        }
    }
    EXPECT_EQ(bad, 0);
    EXPECT_EQ(z, 2932897); /* days in 1970..9999 */
}

TEST(leap_years_follow_the_gregorian_rules)
{
    int64_t day;

    EXPECT_EQ(trpt_parse_day("2000-02-29", &day), 0);       /* 400: leap */
    EXPECT_EQ(trpt_parse_day("2024-02-29", &day), 0);       /* 4: leap */
    EXPECT_EQ(trpt_parse_day("2100-02-29", &day), -EINVAL); /* 100: not */
    EXPECT_EQ(trpt_parse_day("2023-02-29", &day), -EINVAL);
    EXPECT_EQ(trpt_parse_day("2400-02-29", &day), 0);
    EXPECT_EQ(trpt_days_from_civil(2100, 3, 1) -
                  trpt_days_from_civil(2100, 2, 28),
              1);
    EXPECT_EQ(trpt_days_from_civil(2000, 3, 1) -
                  trpt_days_from_civil(2000, 2, 28),
              2);
}

TEST(day_of_us_floors_toward_minus_infinity)
{
    EXPECT_EQ(trpt_day_of_us(0), 0);
    EXPECT_EQ(trpt_day_of_us(DAY_US - 1), 0);
    EXPECT_EQ(trpt_day_of_us(DAY_US), 1);
    EXPECT_EQ(trpt_day_of_us(-1), -1);
    EXPECT_EQ(trpt_day_of_us(-DAY_US), -1);
    EXPECT_EQ(trpt_day_of_us(-DAY_US - 1), -2);
}

TEST(format_day_and_parse_day_round_trip)
{
    char buf[11];
    int64_t day;

    for (int64_t z = 0; z < 2932897; z += 997) {
        trpt_format_day(z, buf);
        ASSERT(trpt_parse_day(buf, &day) == 0);
        EXPECT_EQ(day, z);
    }
    trpt_format_day(0, buf);
    EXPECT_STREQ(buf, "1970-01-01");
    trpt_format_day(2932896, buf);
    EXPECT_STREQ(buf, "9999-12-31");
}

TEST(parse_day_refuses_impossible_and_out_of_range_dates)
{
    static const struct {
        const char *s;
        int want;
    } cases[] = {
        {"2026-02-30", -EINVAL},
        {"2026-04-31", -EINVAL},
        {"2026-13-01", -EINVAL},
        {"2026-00-10", -EINVAL},
        {"2026-01-00", -EINVAL},
        {"2026-01-32", -EINVAL},
        {"1969-12-31", -ERANGE},
        {"0000-01-01", -ERANGE},
        {"10000-01-01", -EINVAL},
        {"2026-1-01", -EINVAL},
        {"2026-01-01x", -EINVAL},
        {"2026/01/01", -EINVAL},
        {"", -EINVAL},
        {"20260101", -EINVAL},
        {"2026-01-0", -EINVAL},
        {"+026-01-01", -EINVAL},
    };
    int64_t day = 42;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int e = trpt_parse_day(cases[i].s, &day);

        if (e != cases[i].want)
            fprintf(stderr, "  \"%s\" -> %d\n", cases[i].s, e);
        EXPECT_EQ(e, cases[i].want);
    }
    EXPECT_EQ(day, 42); /* untouched on error */
}

TEST(format_rfc3339_writes_fraction_only_when_nonzero)
{
    char buf[32];

    trpt_format_rfc3339(0, buf);
    EXPECT_STREQ(buf, "1970-01-01T00:00:00Z");
    trpt_format_rfc3339(1, buf);
    EXPECT_STREQ(buf, "1970-01-01T00:00:00.000001Z");
    trpt_format_rfc3339(1767225600LL * US + 500000, buf);
    EXPECT_STREQ(buf, "2026-01-01T00:00:00.500000Z");
    trpt_format_rfc3339(2932897LL * DAY_US - 1, buf);
    EXPECT_STREQ(buf, "9999-12-31T23:59:59.999999Z");
    trpt_format_rfc3339(951782400LL * US + 3723 * US, buf);
    EXPECT_STREQ(buf, "2000-02-29T01:02:03Z");
}

TEST(parse_rfc3339_accepts_fractions_offsets_and_separators)
{
    static const struct {
        const char *s;
        int64_t us;
    } cases[] = {
        {"2026-01-01T00:00:00Z", 1767225600LL * US},
        {"2026-01-01t00:00:00z", 1767225600LL * US},
        {"2026-01-01 00:00:00Z", 1767225600LL * US},
        {"2026-01-01T00:00:00.5Z", 1767225600LL * US + 500000},
        {"2026-01-01T00:00:00.123456Z", 1767225600LL * US + 123456},
        {"2026-01-01T00:00:00.123456789Z", 1767225600LL * US + 123456},
        {"2026-01-01T02:30:00+02:30", 1767225600LL * US},
        {"2025-12-31T19:00:00-05:00", 1767225600LL * US},
        {"2026-01-01T00:00:00.25-00:00", 1767225600LL * US + 250000},
        {"2016-12-31T23:59:60Z", 1483228799LL * US}, /* leap second */
        {"1970-01-01T00:00:00Z", 0},
        {"9999-12-31T23:59:59.999999Z", 2932897LL * DAY_US - 1},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc;
        int64_t us = parse(cases[i].s, &rc);

        if (rc != 0 || us != cases[i].us)
            fprintf(stderr, "  \"%s\" -> %d %" PRId64 "\n", cases[i].s, rc, us);
        EXPECT_EQ(rc, 0);
        EXPECT_EQ(us, cases[i].us);
    }
}

TEST(parse_rfc3339_refuses_bad_dates_times_and_zones)
{
    static const struct {
        const char *s;
        int want;
    } cases[] = {
        {"2026-02-30T00:00:00Z", -EINVAL},
        {"10000-01-01T00:00:00Z", -EINVAL},
        {"1969-12-31T23:59:59Z", -ERANGE},
        {"2026-01-01T24:00:00Z", -EINVAL},
        {"2026-01-01T23:60:00Z", -EINVAL},
        {"2026-01-01T23:59:61Z", -EINVAL},
        {"2026-01-01T00:00:00", -EINVAL},
        {"2026-01-01T00:00:00+0200", -EINVAL},
        {"2026-01-01T00:00:00+24:00", -EINVAL},
        {"2026-01-01T00:00:00+02:60", -EINVAL},
        {"2026-01-01T00:00:00.Z", -EINVAL},
        {"2026-01-01T00:00:00ZZ", -EINVAL},
        {"2026-01-01T00:00:00Z ", -EINVAL},
        {"2026-01-01X00:00:00Z", -EINVAL},
        {"2026-01-01T0:00:00Z", -EINVAL},
        {"2026-01-01", -EINVAL},
        {"", -EINVAL},
        {"2026-01-01T00:00:00.5", -EINVAL},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc;

        parse(cases[i].s, &rc);
        if (rc != cases[i].want)
            fprintf(stderr, "  \"%s\" -> %d\n", cases[i].s, rc);
        EXPECT_EQ(rc, cases[i].want);
    }
}

TEST(parse_rfc3339_reads_only_len_bytes)
{
    const char *s = "2026-01-01T00:00:00Zgarbage";
    char *exact = malloc(20); /* no NUL: ASan catches any read past len */
    int64_t us;

    ASSERT(exact);
    memcpy(exact, s, 20);
    EXPECT_EQ(trpt_parse_rfc3339(s, 20, &us), 0);
    EXPECT_EQ(us, 1767225600LL * US);
    EXPECT_EQ(trpt_parse_rfc3339(exact, 20, &us), 0);
    for (size_t n = 0; n < 20; n++)
        EXPECT(trpt_parse_rfc3339(exact, n, &us) < 0);
    free(exact);
}

TEST(rfc3339_format_then_parse_is_identity_across_the_range)
{
    uint64_t x = 88172645463325252ULL;
    char buf[32];

    for (int i = 0; i < 100000; i++) {
        int64_t us, back = -1;

        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        us = (int64_t)(x % (uint64_t)(2932897LL * DAY_US));
        if (i % 3 == 0)
            us -= us % US; /* whole seconds: no fraction written */
        trpt_format_rfc3339(us, buf);
        ASSERT(trpt_parse_rfc3339(buf, strlen(buf), &back) == 0);
        EXPECT_EQ(back, us);
    }
}

TEST(now_is_a_plausible_wall_clock)
{
    int64_t now = trpt_now_us();

    EXPECT(now > 1704067200LL * US); /* after 2024-01-01 */
    EXPECT(now < 4102444800LL * US); /* before 2100-01-01 */
}
