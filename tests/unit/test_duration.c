#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/duration.h"

static long long secs(const char *s)
{
    long long v = -12345;
    assert_int_equal(duration_parse(s, strlen(s), &v), 0);
    return v;
}

static void rejects(const char *s)
{
    long long v = -12345;
    assert_int_equal(duration_parse(s, strlen(s), &v), -1);
    assert_int_equal(v, -12345); /* untouched on failure */
}

static void test_spec_examples(void **state)
{
    assert_int_equal(secs("PT1M"), 60);
    assert_int_equal(secs("PT10M"), 600);
}

static void test_each_designator(void **state)
{
    assert_int_equal(secs("PT1S"), 1);
    assert_int_equal(secs("PT1H"), 3600);
    assert_int_equal(secs("P1D"), 86400);
    assert_int_equal(secs("P1W"), 7 * 86400);
    assert_int_equal(secs("P1M"), 30 * 86400); /* month in the date part */
    assert_int_equal(secs("P1Y"), 365 * 86400);
    assert_int_equal(secs("PT0S"), 0);
    assert_int_equal(secs("P0D"), 0);
}

static void test_combinations(void **state)
{
    assert_int_equal(secs("P1DT12H"), 86400 + 12 * 3600);
    assert_int_equal(secs("PT1H30M"), 5400);
    assert_int_equal(secs("PT90S"), 90);
    assert_int_equal(secs("PT59S"), 59);
    assert_int_equal(secs("P1Y2M3W4DT5H6M7S"),
                     365LL * 86400 + 2 * 30 * 86400 + 3 * 7 * 86400 + 4 * 86400 + 5 * 3600 + 6 * 60 + 7);
    assert_int_equal(secs("P1MT1M"), 30 * 86400 + 60); /* month, then minute */
    assert_int_equal(secs("PT007M"), 420);             /* leading zeros */
}

static void test_limits(void **state)
{
    assert_int_equal(secs("PT999999999S"), 999999999LL);
    assert_int_equal(secs("P999999999Y"), 999999999LL * 365 * 86400);
    assert_true(secs("P999999999Y999999999M999999999W999999999DT999999999H999999999M999999999S") > 0);
    rejects("PT1000000000S"); /* 10 digits */
}

static void test_rejects(void **state)
{
    const char *bad[] = {
        "",       "P",     "PT",    "T1M",   "1M",     "pt1m",   "PT1m",  "Pt1M",  "PT1",
        "P1",     "PTM",   "PT-1M", "PT+1M", "PT1.5M", "PT1,5M", "PT1M ", " PT1M", "PT1M1M",
        "PT1S1M", "P1D1Y", "P1DT",  "P1TD",  "PT1D",   "P1H",    "P1S",   "PTT1M", "P1DTT1H",
        "PT1MX",  "P1W1Y", "PT1HM", "P1D1D", "PXT1M",  "P1YT",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        rejects(bad[i]);
    long long v;
    assert_int_equal(duration_parse(NULL, 0, &v), -1);
    /* length is honoured: the NUL-terminated tail beyond n is not read */
    assert_int_equal(duration_parse("PT1MXYZ", 4, &v), 0);
    assert_int_equal(v, 60);
    assert_int_equal(duration_parse("PT1M", 3, &v), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_examples), cmocka_unit_test(test_each_designator),
        cmocka_unit_test(test_combinations),  cmocka_unit_test(test_limits),
        cmocka_unit_test(test_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
