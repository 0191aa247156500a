/* timeutil.c - UTC calendar arithmetic; see timeutil.h.
 * Civil-date conversion after Howard Hinnant's public-domain-described
 * algorithm (days_from_civil), written from its description. */
#include "timeutil.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>

#define US_PER_S   1000000LL
#define US_PER_DAY (86400LL * US_PER_S)

int64_t trpt_days_from_civil(int y, unsigned m, unsigned d)
{
    int64_t yy = (int64_t)y - (m <= 2);
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    unsigned yoe = (unsigned)(yy - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + (int64_t)doe - 719468;
}

void trpt_civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    int64_t era;
    unsigned doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)((int64_t)yoe + era * 400 + (*m <= 2));
}

int64_t trpt_day_of_us(int64_t us)
{
    int64_t q = us / US_PER_DAY;

    if (us % US_PER_DAY < 0)
        q--;
    return q;
}

void trpt_format_day(int64_t day, char *buf)
{
    int y;
    unsigned m, d;

    trpt_civil_from_days(day, &y, &m, &d);
    /* The ranges are guaranteed by civil_from_days; the masks tell gcc. */
    snprintf(buf, 11, "%04d-%02u-%02u", (y % 10000 + 10000) % 10000, m % 13u,
             d % 32u);
}

static int digits(const char *s, size_t n, unsigned *v)
{
    unsigned x = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        x = x * 10 + (unsigned)(s[i] - '0');
    }
    *v = x;
    return 0;
}

static int days_in_month(int y, unsigned m)
{
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30,
                                          31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dim[m - 1];
}

static int check_date(unsigned y, unsigned m, unsigned d)
{
    if (y < 1970 || y > 9999)
        return -ERANGE;
    if (m < 1 || m > 12 || d < 1 || (int)d > days_in_month((int)y, m))
        return -EINVAL;
    return 0;
}

int trpt_parse_day(const char *s, int64_t *day)
{
    unsigned y, m, d;
    int r;

    if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &m) ||
        s[7] != '-' || digits(s + 8, 2, &d) || s[10] != '\0')
        return -EINVAL;
    if ((r = check_date(y, m, d)) < 0)
        return r;
    *day = trpt_days_from_civil((int)y, m, d);
    return 0;
}

/* n decimal digits of v, zero-padded, at o. */
static void put_digits(char *o, unsigned v, int n)
{
    while (n-- > 0) {
        o[n] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* Every record's time goes through here: digits by hand, not snprintf. */
void trpt_format_rfc3339(int64_t us, char *buf)
{
    int64_t day = trpt_day_of_us(us);
    int64_t rem = us - day * US_PER_DAY;
    unsigned secs = (unsigned)(rem / US_PER_S);
    unsigned frac = (unsigned)(rem % US_PER_S);
    int y;
    unsigned m, d;
    char *o = buf;

    trpt_civil_from_days(day, &y, &m, &d);
    /* Years outside 0..9999 are absurd (timeutil.h); only the last four
     * digits fit the format. */
    y = (y % 10000 + 10000) % 10000;
    put_digits(o, (unsigned)y, 4);
    o[4] = '-';
    put_digits(o + 5, m, 2);
    o[7] = '-';
    put_digits(o + 8, d, 2);
    o[10] = 'T';
    put_digits(o + 11, secs / 3600, 2);
    o[13] = ':';
    put_digits(o + 14, secs / 60 % 60, 2);
    o[16] = ':';
    put_digits(o + 17, secs % 60, 2);
    o += 19;
    if (frac) {
        *o++ = '.';
        put_digits(o, frac, 6);
        o += 6;
    }
    o[0] = 'Z';
    o[1] = '\0';
}

int trpt_parse_rfc3339(const char *s, size_t len, int64_t *us)
{
    unsigned y, mo, d, h, mi, se, oh, om;
    int64_t frac = 0, off = 0;
    size_t i = 19;
    int r;

    if (len < 20)
        return -EINVAL;
    if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
        s[7] != '-' || digits(s + 8, 2, &d) ||
        (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) ||
        s[16] != ':' || digits(s + 17, 2, &se))
        return -EINVAL;
    if ((r = check_date(y, mo, d)) < 0)
        return r;
    if (h > 23 || mi > 59 || se > 60)
        return -EINVAL;
    if (se == 60) /* leap second: clamp, UTC arithmetic has no slot for it */
        se = 59;
    if (s[i] == '.') {
        int64_t scale = 100000;
        size_t start = ++i;

        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (scale) {
                frac += (s[i] - '0') * scale;
                scale /= 10;
            }
            i++;
        }
        if (i == start)
            return -EINVAL;
    }
    if (i >= len)
        return -EINVAL;
    if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == len) {
        off = 0;
    } else if ((s[i] == '+' || s[i] == '-') && i + 6 == len &&
               !digits(s + i + 1, 2, &oh) && s[i + 3] == ':' &&
               !digits(s + i + 4, 2, &om) && oh < 24 && om < 60) {
        off = ((int64_t)oh * 3600 + om * 60) * (s[i] == '+' ? 1 : -1);
    } else {
        return -EINVAL;
    }
    *us = (trpt_days_from_civil((int)y, mo, d) * 86400LL + h * 3600LL +
           mi * 60LL + se - off) *
              US_PER_S +
          frac;
    return 0;
}

int64_t trpt_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * US_PER_S + ts.tv_nsec / 1000;
}
