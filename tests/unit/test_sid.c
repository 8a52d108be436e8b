#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "util/sid.h"

static int is_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* 1 if the n strings are pairwise distinct */
static int all_distinct(char **v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_str);
    for (size_t i = 1; i < n; i++)
        if (strcmp(v[i - 1], v[i]) == 0) return 0;
    return 1;
}

static void test_sid_new(void **state)
{
    char a[SID_LEN + 1], b[SID_LEN + 1];
    sid_new(a, "CH");
    sid_new(b, "CH");
    assert_int_equal(strlen(a), SID_LEN);
    assert_memory_equal(a, "CH", 2);
    assert_true(is_lower_hex(a + 2, 32));
    assert_true(sid_valid(a, SID_LEN, "CH"));
    assert_string_not_equal(a, b);
    sid_new(a, "US");
    assert_true(sid_valid(a, strlen(a), "US"));
    assert_false(sid_valid(a, strlen(a), "CH"));
}

/* SIDs made later sort after earlier ones (their first 12 digits are the time), and the rest is random. */
static void test_sid_new_time_ordered(void **state)
{
    char first[SID_LEN + 1], later[SID_LEN + 1], again[SID_LEN + 1];
    sid_new(first, "IM");
    struct timespec pause = {0, 3 * 1000 * 1000};
    nanosleep(&pause, NULL);
    sid_new(later, "IM");
    sid_new(again, "IM");
    assert_true(strcmp(first, later) < 0);
    assert_true(strncmp(later, again, 2 + 12) <= 0);
    assert_string_not_equal(later + 14, again + 14);
    assert_string_not_equal(first + 14, later + 14);
}

static void test_sid_valid_case_rules(void **state)
{
    static const char lower[] = "CH0123456789abcdef0123456789abcdef";
    static const char upper[] = "CH0123456789ABCDEF0123456789ABCDEF";
    static const char mixed[] = "CH0123456789aBcDeF0123456789AbCdEf";
    assert_true(sid_valid(lower, SID_LEN, "CH"));
    assert_true(sid_valid(upper, SID_LEN, "CH")); /* the spec's patterns take either case */
    assert_true(sid_valid(mixed, SID_LEN, "CH"));
    /* the prefix is case-sensitive */
    assert_false(sid_valid("ch0123456789abcdef0123456789abcdef", SID_LEN, "CH"));
    assert_false(sid_valid("Ch0123456789abcdef0123456789abcdef", SID_LEN, "CH"));
    assert_false(sid_valid(lower, SID_LEN, "IS"));
}

static void test_sid_valid_shape(void **state)
{
    assert_false(sid_valid("CH0123456789abcdef0123456789abcde", 33, "CH"));
    assert_false(sid_valid("CH0123456789abcdef0123456789abcdef0", 35, "CH"));
    assert_false(sid_valid("CH0123456789abcdef0123456789abcdeg", SID_LEN, "CH"));
    assert_false(sid_valid("CH0123456789abcdef0123456789abcde ", SID_LEN, "CH"));
    assert_false(sid_valid("CH0123456789abcdef-123456789abcdef", SID_LEN, "CH"));
    assert_false(sid_valid("CH0123456789abcdef\0"
                           "123456789abcdef",
                           SID_LEN, "CH"));
    assert_false(sid_valid("", 0, "CH"));
    /* the length given wins over the string's own length */
    assert_false(sid_valid("CH0123456789abcdef0123456789abcdefXX", SID_LEN + 2, "CH"));
    assert_true(sid_valid("CH0123456789abcdef0123456789abcdefXX", SID_LEN, "CH"));
}

static void test_sid_valid_any_prefix(void **state)
{
    assert_true(sid_valid("US0123456789abcdef0123456789abcdef", SID_LEN, NULL));
    assert_true(sid_valid("ZZ0123456789abcdef0123456789abcdef", SID_LEN, NULL));
    assert_false(sid_valid("us0123456789abcdef0123456789abcdef", SID_LEN, NULL));
    assert_false(sid_valid("U10123456789abcdef0123456789abcdef", SID_LEN, NULL));
    assert_false(sid_valid("@[0123456789abcdef0123456789abcdef", SID_LEN, NULL));
}

static void test_request_id(void **state)
{
    enum { N = 2000 };
    static char ids[N][SID_LEN + 1];
    char *v[N];
    for (size_t i = 0; i < N; i++) {
        request_id_new(ids[i]);
        assert_int_equal(strlen(ids[i]), SID_LEN);
        assert_memory_equal(ids[i], "RQ", 2);
        assert_true(is_lower_hex(ids[i] + 2, 32));
        assert_true(sid_valid(ids[i], SID_LEN, "RQ"));
        v[i] = ids[i];
    }
    assert_true(all_distinct(v, N));
}

static void test_uuid4(void **state)
{
    enum { N = 2000 };
    static char ids[N][37];
    char *v[N];
    for (size_t i = 0; i < N; i++) {
        char *u = ids[i];
        uuid4_new(u);
        assert_int_equal(strlen(u), 36);
        assert_true(u[8] == '-' && u[13] == '-' && u[18] == '-' && u[23] == '-');
        assert_true(is_lower_hex(u, 8) && is_lower_hex(u + 9, 4) && is_lower_hex(u + 14, 4) &&
                    is_lower_hex(u + 19, 4) && is_lower_hex(u + 24, 12));
        assert_int_equal(u[14], '4');
        assert_non_null(strchr("89ab", u[19]));
        v[i] = u;
    }
    assert_true(all_distinct(v, N));
}

enum { THREADS = 4, PER_THREAD = 500 };
static char thread_ids[THREADS][PER_THREAD][SID_LEN + 1];

static void *thread_main(void *arg)
{
    char(*ids)[SID_LEN + 1] = arg;
    for (size_t i = 0; i < PER_THREAD; i++)
        request_id_new(ids[i]);
    return NULL;
}

/* each thread seeds its own generator: the streams must not repeat one another */
static void test_request_id_threads(void **state)
{
    pthread_t t[THREADS];
    static char *v[THREADS * PER_THREAD];
    for (size_t i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, thread_main, thread_ids[i]), 0);
    for (size_t i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    for (size_t i = 0; i < THREADS; i++)
        for (size_t j = 0; j < PER_THREAD; j++)
            v[i * PER_THREAD + j] = thread_ids[i][j];
    assert_true(all_distinct(v, THREADS * PER_THREAD));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sid_new),
        cmocka_unit_test(test_sid_new_time_ordered),
        cmocka_unit_test(test_sid_valid_case_rules),
        cmocka_unit_test(test_sid_valid_shape),
        cmocka_unit_test(test_sid_valid_any_prefix),
        cmocka_unit_test(test_request_id),
        cmocka_unit_test(test_uuid4),
        cmocka_unit_test(test_request_id_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
