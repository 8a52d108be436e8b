#include "util/timefmt.h"

#include <limits.h>
#include <string.h>

#define MS_PER_DAY 86400000LL

/* Proleptic Gregorian calendar <-> days since 1970-01-01 (H. Hinnant's civil-date algorithms):
 * no libc time zone, locale or time_t range is involved. */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

static void civil_from_days(long long z, long long *y, unsigned *m, unsigned *d)
{
    z += 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (long long)yoe + era * 400 + (*m <= 2);
}

static int is_leap(long long y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(long long y, unsigned m)
{
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

static char *put_digits(char *o, unsigned v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        o[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return o + width;
}

/* Writes "YYYY-MM-DDTHH:MM:SS", then ".mmm" when with_ms, then "Z". The fixed width has room for
 * years 0000..9999 only, so ms is clamped to that range. */
static void time_write(char *out, long long ms, int with_ms)
{
    const long long lo = days_from_civil(0, 1, 1) * MS_PER_DAY;
    const long long hi = days_from_civil(10000, 1, 1) * MS_PER_DAY - 1;
    if (ms < lo) ms = lo;
    if (ms > hi) ms = hi;

    /* floor division: -1 ms is 1969-12-31T23:59:59.999 */
    long long days = ms / MS_PER_DAY;
    long long rem = ms % MS_PER_DAY;
    if (rem < 0) {
        rem += MS_PER_DAY;
        days--;
    }
    long long y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    unsigned secs = (unsigned)(rem / 1000);

    char *o = put_digits(out, (unsigned)y, 4);
    *o++ = '-';
    o = put_digits(o, m, 2);
    *o++ = '-';
    o = put_digits(o, d, 2);
    *o++ = 'T';
    o = put_digits(o, secs / 3600, 2);
    *o++ = ':';
    o = put_digits(o, secs / 60 % 60, 2);
    *o++ = ':';
    o = put_digits(o, secs % 60, 2);
    if (with_ms) {
        *o++ = '.';
        o = put_digits(o, (unsigned)(rem % 1000), 3);
    }
    *o++ = 'Z';
    *o = '\0';
}

void time_iso(char out[TIME_ISO_LEN + 1], long long ms)
{
    /* the rows of a page mostly share their seconds: the last one written is kept, per thread */
    static _Thread_local long long last_sec = LLONG_MIN;
    static _Thread_local char last[TIME_ISO_LEN + 1];
    long long sec = ms / 1000 - (ms % 1000 < 0); /* floor, with no overflow at LLONG_MIN */
    if (sec != last_sec) {
        time_write(last, ms, 0);
        last_sec = sec;
    }
    memcpy(out, last, sizeof(last));
}

void time_iso_ms(char out[TIME_ISO_MS_LEN + 1], long long ms)
{
    time_write(out, ms, 1);
}

/* Reads exactly width digits; -1 if any is not a digit. */
static long read_digits(const char *s, int width)
{
    long v = 0;
    for (int i = 0; i < width; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int time_parse_iso(const char *s, long long *ms)
{
    size_t n = strlen(s);
    if (n != TIME_ISO_LEN && n != TIME_ISO_MS_LEN) return -1;
    if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[n - 1] != 'Z')
        return -1;
    if (n == TIME_ISO_MS_LEN && s[19] != '.') return -1;

    long y = read_digits(s, 4), mo = read_digits(s + 5, 2), d = read_digits(s + 8, 2);
    long h = read_digits(s + 11, 2), mi = read_digits(s + 14, 2), sec = read_digits(s + 17, 2);
    long frac = n == TIME_ISO_MS_LEN ? read_digits(s + 20, 3) : 0;
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59 ||
        frac < 0)
        return -1;
    if ((unsigned long)d > days_in_month(y, (unsigned)mo)) return -1;

    long long days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    *ms = days * MS_PER_DAY + ((h * 60 + mi) * 60 + sec) * 1000LL + frac;
    return 0;
}
