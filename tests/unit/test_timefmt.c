#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "util/timefmt.h"

static void check(long long ms, const char *iso, const char *iso_ms)
{
    char a[TIME_ISO_LEN + 1], b[TIME_ISO_MS_LEN + 1];
    time_iso(a, ms);
    time_iso_ms(b, ms);
    assert_string_equal(a, iso);
    assert_string_equal(b, iso_ms);
}

static void test_epoch_and_neighbours(void **state)
{
    check(0, "1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000Z");
    check(1, "1970-01-01T00:00:00Z", "1970-01-01T00:00:00.001Z");
    check(999, "1970-01-01T00:00:00Z", "1970-01-01T00:00:00.999Z");
    /* negative times round down, not toward zero */
    check(-1, "1969-12-31T23:59:59Z", "1969-12-31T23:59:59.999Z");
    check(-1000, "1969-12-31T23:59:59Z", "1969-12-31T23:59:59.000Z");
    check(-1001, "1969-12-31T23:59:58Z", "1969-12-31T23:59:58.999Z");
    check(-86400000, "1969-12-31T00:00:00Z", "1969-12-31T00:00:00.000Z");
}

static void test_known_values(void **state)
{
    check(1576534717000LL, "2019-12-16T22:18:37Z", "2019-12-16T22:18:37.000Z");
    check(1628618458111LL, "2021-08-10T18:00:58Z", "2021-08-10T18:00:58.111Z");
    check(-62135596800000LL, "0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000Z");
    check(253402300799999LL, "9999-12-31T23:59:59Z", "9999-12-31T23:59:59.999Z");
}

static void test_leap_years(void **state)
{
    check(951825600000LL, "2000-02-29T12:00:00Z", "2000-02-29T12:00:00.000Z"); /* divisible by 400 */
    check(951825600000LL + 12 * 3600000LL, "2000-03-01T00:00:00Z", "2000-03-01T00:00:00.000Z");
    /* 1900 is not a leap year: Feb 28 is followed by Mar 1 */
    check(-2203891200000LL, "1900-03-01T00:00:00Z", "1900-03-01T00:00:00.000Z");
    check(-2203891200000LL - 1, "1900-02-28T23:59:59Z", "1900-02-28T23:59:59.999Z");
    long long ms;
    assert_int_equal(time_parse_iso("2024-02-29T00:00:00Z", &ms), 0);
    check(ms + 86400000LL, "2024-03-01T00:00:00Z", "2024-03-01T00:00:00.000Z");
    assert_int_equal(time_parse_iso("2024-12-31T23:59:59.999Z", &ms), 0);
    check(ms + 1, "2025-01-01T00:00:00Z", "2025-01-01T00:00:00.000Z");
    /* 2024 has 366 days */
    long long a, b;
    assert_int_equal(time_parse_iso("2024-01-01T00:00:00Z", &a), 0);
    assert_int_equal(time_parse_iso("2025-01-01T00:00:00Z", &b), 0);
    assert_int_equal(b - a, 366LL * 86400000);
    assert_int_equal(time_parse_iso("2100-01-01T00:00:00Z", &a), 0);
    assert_int_equal(time_parse_iso("2101-01-01T00:00:00Z", &b), 0);
    assert_int_equal(b - a, 365LL * 86400000);
}

static void test_clamped_range(void **state)
{
    check(LLONG_MIN, "0000-01-01T00:00:00Z", "0000-01-01T00:00:00.000Z");
    check(LLONG_MAX, "9999-12-31T23:59:59Z", "9999-12-31T23:59:59.999Z");
}

/* Our civil-date math against the C library's gmtime_r over ~60 000 days from 1600 to 2400. */
static void test_against_gmtime(void **state)
{
    char got[TIME_ISO_LEN + 1], want[64];
    for (long long s = -11676096000LL; s < 13569465600LL; s += 86400 * 13 + 3607) {
        time_t t = (time_t)s;
        struct tm tm;
        assert_non_null(gmtime_r(&t, &tm));
        strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%SZ", &tm);
        time_iso(got, s * 1000);
        assert_string_equal(got, want);
        long long back;
        assert_int_equal(time_parse_iso(got, &back), 0);
        assert_int_equal(back, s * 1000);
    }
}

static void test_parse_round_trip_ms(void **state)
{
    long long ms;
    assert_int_equal(time_parse_iso("2021-08-10T18:00:58.111Z", &ms), 0);
    assert_int_equal(ms, 1628618458111LL);
    assert_int_equal(time_parse_iso("2021-08-10T18:00:58Z", &ms), 0);
    assert_int_equal(ms, 1628618458000LL);
    assert_int_equal(time_parse_iso("1970-01-01T00:00:00.000Z", &ms), 0);
    assert_int_equal(ms, 0);
    assert_int_equal(time_parse_iso("1969-12-31T23:59:59.999Z", &ms), 0);
    assert_int_equal(ms, -1);
    assert_int_equal(time_parse_iso("0000-01-01T00:00:00Z", &ms), 0);
    assert_int_equal(ms, -62167219200000LL);
}

static void test_parse_rejects(void **state)
{
    static const char *const bad[] = {
        "",
        "2019-02-29T00:00:00Z", /* not a leap year */
        "1900-02-29T00:00:00Z",
        "2020-02-30T00:00:00Z",
        "2020-04-31T00:00:00Z",
        "2020-13-01T00:00:00Z",
        "2020-00-01T00:00:00Z",
        "2020-01-00T00:00:00Z",
        "2020-01-32T00:00:00Z",
        "2020-01-01T24:00:00Z",
        "2020-01-01T00:60:00Z",
        "2020-01-01T00:00:60Z", /* no leap seconds */
        "2020-01-01T00:00:00",
        "2020-01-01T00:00:00z",
        "2020-01-01t00:00:00Z",
        "2020-01-01 00:00:00Z",
        "2020-01-01T00:00:00+00:00",
        "2020-01-01T00:00:00.1Z",
        "2020-01-01T00:00:00.12Z",
        "2020-01-01T00:00:00.1234Z",
        "2020-01-01T00:00:00.12aZ",
        "2020-01-01T00:00:00,123Z",
        "2020-01-01T00:00:00ZZ",
        "2020-01-01T00:00:00Z ",
        " 2020-01-01T00:00:00Z",
        "+020-01-01T00:00:00Z",
        "-020-01-01T00:00:00Z",
        "2020-1-01T00:00:00Z",
        "2020/01/01T00:00:00Z",
        "2020-01-01",
        "20200101T000000Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        long long ms = 42;
        if (time_parse_iso(bad[i], &ms) != -1) fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(ms, 42);
    }
}

static void test_now(void **state)
{
    long long a = time_now_ms();
    long long b = time_now_ms();
    assert_true(a > 1577836800000LL); /* after 2020 */
    assert_true(a < 4102444800000LL); /* before 2100 */
    assert_true(b >= a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_epoch_and_neighbours), cmocka_unit_test(test_known_values),
        cmocka_unit_test(test_leap_years),           cmocka_unit_test(test_clamped_range),
        cmocka_unit_test(test_against_gmtime),       cmocka_unit_test(test_parse_round_trip_ms),
        cmocka_unit_test(test_parse_rejects),        cmocka_unit_test(test_now),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
