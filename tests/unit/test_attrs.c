#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json/attrs.h"

/* Validates a heap copy of exactly n bytes with no NUL after it, so ASan catches any over-read. */
static int check_n(const char *s, size_t n, int object_only)
{
    char *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, s, n);
    int r = attrs_validate(copy, n, object_only);
    free(copy);
    return r;
}

static int check(const char *s, int object_only)
{
    return check_n(s, strlen(s), object_only);
}

static void test_values(void **state)
{
    static const char *const any[] = {"{}", "[]", "[1,2]", "\"x\"", "5", "-0.5e3", "true", "false", "null",
                                      " \t\r\n{\"a\":{\"b\":[1,\"\\u00e9\",null]}} \n", "\"\\ud83d\\ude00\"",
                                      "\"\xc3\xa9\"", "12345678901234567890",
                                      /* valid RFC 8259 text that strict parsers may refuse: accepted
                                       * (docs/DECISIONS.md, Attributes) */
                                      "{\"a\":1,\"a\":2}", "{\"o\":{\"k\":1,\"k\":1}}", "\"\\u0000\"",
                                      "{\"a\":\"x\\u0000y\"}"};
    for (size_t i = 0; i < sizeof any / sizeof any[0]; i++) {
        if (check(any[i], 0) != ATTRS_OK) fail_msg("rejected %s", any[i]);
        int want = any[i][strspn(any[i], " \t\r\n")] == '{' ? ATTRS_OK : ATTRS_INVALID;
        if (check(any[i], 1) != want) fail_msg("object_only wrong for %s", any[i]);
    }
}

static void test_invalid(void **state)
{
    static const char *const bad[] = {
        "",
        "   ",
        "{\"a\\u0000\":1}", /* \u0000 in a member name: jansson cannot hold it */
        "{}x",              /* trailing garbage */
        "{} {}",
        "{},",
        "NaN",
        "[NaN]",
        "Infinity",
        "-Infinity",
        "\"\\ud800\"", /* lone high surrogate */
        "\"\\udc00\"", /* lone low surrogate */
        "\"\\ud800x\"",
        "\"\xff\"",         /* invalid UTF-8 */
        "\"\xc0\xaf\"",     /* overlong */
        "\"\xed\xa0\x80\"", /* encoded surrogate */
        "{'a':1}",
        "{\"a\":1,}",
        "[1,]",
        "01",
        "+1",
        "0x10",
        "{\"a\":1 /* c */}",
        "\"unterminated",
        "\"tab\there\"", /* raw control char in a string */
        "{\"a\"}",
        "[",
        "]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (check(bad[i], 0) != ATTRS_INVALID) fail_msg("accepted %s", bad[i]);
        assert_int_equal(check(bad[i], 1), ATTRS_INVALID);
    }
    assert_int_equal(attrs_validate(NULL, 0, 0), ATTRS_INVALID);
    /* a raw NUL byte inside the given length */
    assert_int_equal(check_n("{\"a\":\"x\0y\"}", 11, 0), ATTRS_INVALID);
    assert_int_equal(check_n("{}\0", 3, 0), ATTRS_INVALID);
    assert_int_equal(check_n("1\0", 2, 0), ATTRS_INVALID); /* jansson alone accepts this one */
}

/* "[[[...]]]" of the given depth, with n written to *len */
static char *nested(size_t depth, size_t *len)
{
    char *s = malloc(2 * depth);
    assert_non_null(s);
    memset(s, '[', depth);
    memset(s + depth, ']', depth);
    *len = 2 * depth;
    return s;
}

static void test_nesting(void **state)
{
    size_t n;
    char *s = nested(100, &n);
    assert_int_equal(attrs_validate(s, n, 0), ATTRS_OK);
    free(s);
    /* fits in 16 KiB but is deeper than jansson's cap */
    s = nested(5000, &n);
    assert_int_equal(attrs_validate(s, n, 0), ATTRS_INVALID);
    free(s);
    /* far deeper: refused on size before the parser ever recurses */
    s = nested(100000, &n);
    assert_int_equal(attrs_validate(s, n, 0), ATTRS_TOO_LONG);
    free(s);
    /* deep objects, unbalanced, within the size limit */
    char *o = malloc(8000);
    assert_non_null(o);
    for (size_t i = 0; i < 1600; i++)
        memcpy(o + 5 * i, "{\"a\":", 5);
    assert_int_equal(attrs_validate(o, 8000, 1), ATTRS_INVALID);
    free(o);
}

static void test_size_limit(void **state)
{
    /* {"k":"xxxx...."} of exactly the limit, then one byte more */
    char *s = malloc(ATTRS_MAX_BYTES + 1);
    assert_non_null(s);
    memcpy(s, "{\"k\":\"", 6);
    memset(s + 6, 'x', ATTRS_MAX_BYTES - 8);
    memcpy(s + ATTRS_MAX_BYTES - 2, "\"}", 2);
    assert_int_equal(attrs_validate(s, ATTRS_MAX_BYTES, 1), ATTRS_OK);
    memcpy(s + ATTRS_MAX_BYTES - 2, "x\"}", 3);
    assert_int_equal(attrs_validate(s, ATTRS_MAX_BYTES + 1, 1), ATTRS_TOO_LONG);
    assert_int_equal(attrs_validate(s, ATTRS_MAX_BYTES + 1, 0), ATTRS_TOO_LONG);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_nesting),
        cmocka_unit_test(test_size_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
