#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/buf.h"

static void test_put_and_terminate(void **state)
{
    struct buf b;
    buf_init(&b, 100);
    assert_null(b.p);
    assert_int_equal(buf_put(&b, "ab", 2), 0);
    assert_int_equal(buf_putc(&b, 'c'), 0);
    assert_int_equal(buf_puts(&b, "de"), 0);
    assert_int_equal(b.len, 5);
    assert_string_equal(b.p, "abcde");
    assert_int_equal(b.err, 0);
    buf_free(&b);
    assert_null(b.p);
    assert_int_equal(b.len, 0);
}

static void test_empty_put_allocates_string(void **state)
{
    struct buf b;
    buf_init(&b, 10);
    assert_int_equal(buf_put(&b, NULL, 0), 0);
    assert_non_null(b.p);
    assert_string_equal(b.p, "");
    buf_free(&b);
}

static void test_ceiling_exact(void **state)
{
    struct buf b;
    buf_init(&b, 5);
    assert_int_equal(buf_puts(&b, "12345"), 0);
    assert_int_equal(b.err, 0);
    assert_int_equal(buf_putc(&b, '6'), -1);
    assert_int_equal(b.err, 1);
    assert_int_equal(b.len, 5);
    assert_string_equal(b.p, "12345");
    buf_free(&b);
}

static void test_failed_put_is_atomic_and_latches(void **state)
{
    struct buf b;
    buf_init(&b, 8);
    assert_int_equal(buf_puts(&b, "abc"), 0);
    assert_int_equal(buf_puts(&b, "defghi"), -1); /* would make 9 */
    assert_int_equal(b.len, 3);
    assert_string_equal(b.p, "abc");
    /* once latched, even writes that would fit fail, so no output has a hole in the middle */
    assert_int_equal(buf_putc(&b, 'd'), -1);
    assert_int_equal(buf_puts(&b, ""), -1);
    assert_int_equal(buf_printf(&b, "%d", 1), -1);
    assert_string_equal(b.p, "abc");
    buf_reset(&b);
    assert_int_equal(b.err, 0);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.p, "");
    assert_int_equal(buf_puts(&b, "12345678"), 0);
    assert_string_equal(b.p, "12345678");
    buf_free(&b);
}

static void test_zero_ceiling(void **state)
{
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(buf_put(&b, "", 0), 0);
    assert_string_equal(b.p, "");
    assert_int_equal(buf_putc(&b, 'x'), -1);
    buf_free(&b);
}

static void test_growth_many_bytes(void **state)
{
    struct buf b;
    buf_init(&b, 100000);
    for (int i = 0; i < 100000; i++)
        assert_int_equal(buf_putc(&b, (char)('a' + i % 26)), 0);
    assert_int_equal(b.len, 100000);
    assert_true(b.cap <= 100001);
    for (int i = 0; i < 100000; i++)
        assert_int_equal(b.p[i], 'a' + i % 26);
    assert_int_equal(b.p[100000], '\0');
    assert_int_equal(buf_putc(&b, 'x'), -1);
    buf_free(&b);
}

static void test_binary_bytes(void **state)
{
    struct buf b;
    buf_init(&b, 16);
    assert_int_equal(buf_put(&b, "a\0b", 3), 0);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.p, "a\0b\0", 4);
    buf_free(&b);
}

static void test_printf(void **state)
{
    struct buf b;
    char big[1000];
    buf_init(&b, 2000);
    assert_int_equal(buf_printf(&b, "%s=%d;", "x", -42), 0);
    assert_string_equal(b.p, "x=-42;");
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    /* longer than the internal stack buffer: takes the second formatting pass */
    assert_int_equal(buf_printf(&b, "[%s]", big), 0);
    assert_int_equal(b.len, 6 + 1001);
    assert_int_equal(b.p[6], '[');
    assert_int_equal(b.p[6 + 1000], ']');
    assert_int_equal(b.p[b.len], '\0');
    assert_int_equal(buf_printf(&b, "%s", big), -1);
    assert_int_equal(b.len, 1007);
    buf_free(&b);
}

static void test_printf_at_ceiling(void **state)
{
    struct buf b;
    buf_init(&b, 4);
    assert_int_equal(buf_printf(&b, "%d", 1234), 0);
    assert_string_equal(b.p, "1234");
    buf_reset(&b);
    assert_int_equal(buf_printf(&b, "%d", 12345), -1);
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_and_terminate), cmocka_unit_test(test_empty_put_allocates_string),
        cmocka_unit_test(test_ceiling_exact),     cmocka_unit_test(test_failed_put_is_atomic_and_latches),
        cmocka_unit_test(test_zero_ceiling),      cmocka_unit_test(test_growth_many_bytes),
        cmocka_unit_test(test_binary_bytes),      cmocka_unit_test(test_printf),
        cmocka_unit_test(test_printf_at_ceiling),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
