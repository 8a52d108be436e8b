#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/form.h"

/* Decodes a heap copy sized exactly len + 1, so ASan sees any write past the allowed spare byte.
 * The copy stays alive in *keep until the test frees it. */
static int decode(const char *in, size_t len, struct form *f, char **keep)
{
    char *b = malloc(len + 1);
    assert_non_null(b);
    memcpy(b, in, len);
    b[len] = 'X'; /* the decoder may overwrite the spare byte with a NUL, nothing more */
    *keep = b;
    return form_decode(b, len, f);
}

static int decode_str(const char *in, struct form *f, char **keep)
{
    return decode(in, strlen(in), f, keep);
}

static void assert_pair(const struct form *f, size_t i, const char *k, const char *v)
{
    assert_true(i < f->n);
    assert_int_equal(f->pair[i].klen, strlen(k));
    assert_int_equal(f->pair[i].vlen, strlen(v));
    /* NUL-terminated in place */
    assert_string_equal(f->pair[i].key, k);
    assert_string_equal(f->pair[i].val, v);
}

static void test_basic(void **state)
{
    struct form f;
    char *b;
    assert_int_equal(decode_str("a=1&b=x+y&c=%2B", &f, &b), FORM_OK);
    assert_int_equal(f.n, 3);
    assert_pair(&f, 0, "a", "1");
    assert_pair(&f, 1, "b", "x y");
    assert_pair(&f, 2, "c", "+");
    size_t vl = 0;
    assert_string_equal(form_get(&f, "b", &vl), "x y");
    assert_int_equal(vl, 3);
    assert_null(form_get(&f, "d", &vl));
    assert_null(form_get(&f, "", &vl));
    free(b);
}

static void test_plus_and_escapes_in_keys(void **state)
{
    struct form f;
    char *b;
    assert_int_equal(decode_str("Friendly+Name=%41%62c&x%3Dy=%26%3D", &f, &b), FORM_OK);
    assert_int_equal(f.n, 2);
    assert_pair(&f, 0, "Friendly Name", "Abc");
    assert_pair(&f, 1, "x=y", "&="); /* escaped separators are data */
    free(b);
    assert_int_equal(decode_str("a=%2b+%2B++", &f, &b), FORM_OK);
    assert_pair(&f, 0, "a", "+ +  ");
    free(b);
}

static void test_repeated_keys(void **state)
{
    struct form f;
    char *b;
    assert_int_equal(decode_str("Role=a&Other=z&Role=b&Role=a", &f, &b), FORM_OK);
    assert_int_equal(f.n, 4);
    assert_int_equal(form_count(&f, "Role"), 3);
    assert_int_equal(form_count(&f, "Other"), 1);
    assert_int_equal(form_count(&f, "Rol"), 0);
    assert_int_equal(form_count(&f, "RoleX"), 0);
    assert_string_equal(form_get(&f, "Role", NULL), "a"); /* the first one */
    assert_pair(&f, 2, "Role", "b");
    assert_pair(&f, 3, "Role", "a");
    free(b);
}

static void test_empty_segments_and_missing_equals(void **state)
{
    struct form f;
    char *b;
    assert_int_equal(decode_str("", &f, &b), FORM_OK);
    assert_int_equal(f.n, 0);
    free(b);
    assert_int_equal(decode_str("&&&", &f, &b), FORM_OK);
    assert_int_equal(f.n, 0);
    free(b);
    assert_int_equal(decode_str("&a=1&&b=2&", &f, &b), FORM_OK);
    assert_int_equal(f.n, 2);
    assert_pair(&f, 0, "a", "1");
    assert_pair(&f, 1, "b", "2");
    free(b);
    assert_int_equal(decode_str("flag&x=&=v&y", &f, &b), FORM_OK);
    assert_int_equal(f.n, 4);
    assert_pair(&f, 0, "flag", "");
    assert_pair(&f, 1, "x", "");
    assert_pair(&f, 2, "", "v");
    assert_pair(&f, 3, "y", "");
    free(b);
    assert_int_equal(decode_str("a==b=", &f, &b), FORM_OK);
    assert_pair(&f, 0, "a", "=b="); /* only the first '=' splits */
    free(b);
}

static void test_last_value_uses_spare_byte(void **state)
{
    struct form f;
    char *b;
    assert_int_equal(decode_str("k=v", &f, &b), FORM_OK);
    assert_int_equal(b[3], '\0');
    assert_pair(&f, 0, "k", "v");
    free(b);
    assert_int_equal(decode_str("k=%41", &f, &b), FORM_OK);
    assert_int_equal(b[5], 'X'); /* shortened: the NUL landed earlier */
    assert_pair(&f, 0, "k", "A");
    free(b);
}

static void test_bad_escapes(void **state)
{
    static const char *const bad[] = {"a=%",   "a=%4",    "a=%zz", "a=%4g", "%=1",
                                      "a%2=1", "a=1&b=%", "a=%%",  "a=% 1", "a=%+1"};
    struct form f;
    char *b;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        f.n = 99;
        assert_int_equal(decode_str(bad[i], &f, &b), FORM_EBADESC);
        assert_int_equal(f.n, 0);
        free(b);
    }
    /* the escape's digits must lie inside the given length */
    assert_int_equal(decode("a=%41", 4, &f, &b), FORM_EBADESC);
    free(b);
}

static void test_nul(void **state)
{
    struct form f;
    char *b;
    assert_int_equal(decode_str("a=x%00y", &f, &b), FORM_ENUL);
    assert_int_equal(f.n, 0);
    free(b);
    assert_int_equal(decode_str("a%00=1", &f, &b), FORM_ENUL);
    free(b);
    assert_int_equal(decode("a=1&b=x\0y", 9, &f, &b), FORM_ENUL);
    assert_int_equal(f.n, 0);
    free(b);
}

static void test_invalid_utf8(void **state)
{
    static const char *const bad[] = {
        "a=%C3",          /* truncated */
        "a=%C0%AF",       /* overlong '/' */
        "a=%ED%A0%80",    /* surrogate */
        "a=%F4%90%80%80", /* past U+10FFFF */
        "a=\xff",         /* raw invalid byte */
        "%FF=1",          /* in a key */
        "a=%E2%82",       /* truncated euro */
    };
    struct form f;
    char *b;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(decode_str(bad[i], &f, &b), FORM_EUTF8);
        assert_int_equal(f.n, 0);
        free(b);
    }
    assert_int_equal(decode_str("a=%C3%A9&b=\xe2\x82\xac", &f, &b), FORM_OK);
    assert_pair(&f, 0, "a", "\xc3\xa9");
    assert_pair(&f, 1, "b", "\xe2\x82\xac");
    free(b);
}

static void test_too_many_pairs(void **state)
{
    char in[FORM_MAX_PAIRS * 8 + 64];
    size_t o = 0;
    struct form f;
    char *b;

    for (int i = 0; i < FORM_MAX_PAIRS; i++)
        o += (size_t)snprintf(in + o, sizeof in - o, "k%d=v&&", i);
    assert_int_equal(decode(in, o, &f, &b), FORM_OK);
    assert_int_equal(f.n, FORM_MAX_PAIRS);
    assert_pair(&f, FORM_MAX_PAIRS - 1, "k127", "v");
    free(b);
    o += (size_t)snprintf(in + o, sizeof in - o, "x");
    assert_int_equal(decode(in, o, &f, &b), FORM_ETOOMANY);
    assert_int_equal(f.n, 0);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_plus_and_escapes_in_keys),
        cmocka_unit_test(test_repeated_keys),
        cmocka_unit_test(test_empty_segments_and_missing_equals),
        cmocka_unit_test(test_last_value_uses_spare_byte),
        cmocka_unit_test(test_bad_escapes),
        cmocka_unit_test(test_nul),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_too_many_pairs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
