#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http/auth_header.h"
#include "util/base64.h"

/* "<scheme><sep>" + base64(raw[0..n)) */
static char *make(char *out, const char *prefix, const char *raw, size_t n)
{
    size_t p = strlen(prefix);
    memcpy(out, prefix, p);
    b64_encode((const unsigned char *)raw, n, out + p);
    return out;
}

static void test_valid(void **state)
{
    struct basic_cred c;
    assert_int_equal(auth_basic_parse("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", &c), 0);
    assert_string_equal(c.user, "Aladdin");
    assert_string_equal(c.pass, "open sesame");
}

static void test_scheme_variants(void **state)
{
    struct basic_cred c;
    static const char *const ok[] = {
        "basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", "BASIC QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
        "bAsIc    QWxhZGRpbjpvcGVuIHNlc2FtZQ==", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==  "};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        assert_int_equal(auth_basic_parse(ok[i], &c), 0);
        assert_string_equal(c.user, "Aladdin");
    }
    static const char *const bad[] = {
        "BasicQWxhZGRpbjpvcGVuIHNlc2FtZQ==",
        "Basic\tQWxhZGRpbjpvcGVuIHNlc2FtZQ==",
        "Basics QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
        "Bearer QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
        " Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
        "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ== x",
        "Basic QWxhZGRpbjpv cGVuIHNlc2FtZQ==",
        "Basic",
        "Basic ",
        "Basic   ",
        "",
        "Bas",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(auth_basic_parse(bad[i], &c), -1);
    assert_int_equal(auth_basic_parse(NULL, &c), -1);
}

static void test_bad_base64(void **state)
{
    struct basic_cred c;
    assert_int_equal(auth_basic_parse("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ", &c), -1);   /* padding missing */
    assert_int_equal(auth_basic_parse("Basic QWxhZGRpbjpvcGVuIHNlc2FtZR==", &c), -1); /* non-canonical */
    assert_int_equal(auth_basic_parse("Basic QWxhZGRp!jpvcGVuIHNlc2FtZQ==", &c), -1);
    assert_int_equal(auth_basic_parse("Basic QWxhZGRp-jpvcGVuIHNlc2FtZQ==", &c), -1); /* url alphabet */
    assert_int_equal(auth_basic_parse("Basic ====", &c), -1);
}

static void test_colon_rules(void **state)
{
    struct basic_cred c;
    char h[512];
    assert_int_equal(auth_basic_parse(make(h, "Basic ", "nocolon", 7), &c), -1);
    assert_int_equal(auth_basic_parse(make(h, "Basic ", "user:", 5), &c), 0);
    assert_string_equal(c.user, "user");
    assert_string_equal(c.pass, "");
    assert_int_equal(auth_basic_parse(make(h, "Basic ", ":secret", 7), &c), 0);
    assert_string_equal(c.user, "");
    assert_string_equal(c.pass, "secret");
    assert_int_equal(auth_basic_parse(make(h, "Basic ", "AC1:a:b:", 8), &c), 0);
    assert_string_equal(c.user, "AC1");
    assert_string_equal(c.pass, "a:b:");
    assert_int_equal(auth_basic_parse(make(h, "Basic ", ":", 1), &c), 0);
    assert_string_equal(c.user, "");
    assert_string_equal(c.pass, "");
    assert_int_equal(auth_basic_parse("Basic ", &c), -1);
}

static void test_lengths(void **state)
{
    struct basic_cred c;
    char raw[AUTH_USER_MAX + AUTH_PASS_MAX + 8], h[600];

    memset(raw, 'u', AUTH_USER_MAX);
    raw[AUTH_USER_MAX] = ':';
    memset(raw + AUTH_USER_MAX + 1, 'p', AUTH_PASS_MAX);
    assert_int_equal(auth_basic_parse(make(h, "Basic ", raw, AUTH_USER_MAX + 1 + AUTH_PASS_MAX), &c), 0);
    assert_int_equal(strlen(c.user), AUTH_USER_MAX);
    assert_int_equal(strlen(c.pass), AUTH_PASS_MAX);

    /* one byte more in the password */
    raw[AUTH_USER_MAX + 1 + AUTH_PASS_MAX] = 'p';
    assert_int_equal(auth_basic_parse(make(h, "Basic ", raw, AUTH_USER_MAX + 2 + AUTH_PASS_MAX), &c), -1);
    assert_string_equal(c.user, ""); /* nothing is left behind on failure */
    assert_string_equal(c.pass, "");

    /* one byte more in the user, short password */
    memset(raw, 'u', AUTH_USER_MAX + 1);
    memcpy(raw + AUTH_USER_MAX + 1, ":p", 2);
    assert_int_equal(auth_basic_parse(make(h, "Basic ", raw, AUTH_USER_MAX + 3), &c), -1);

    /* far too long: refused before decoding */
    static char huge[10000];
    memcpy(huge, "Basic ", 6);
    memset(huge + 6, 'A', sizeof huge - 7);
    assert_int_equal(auth_basic_parse(huge, &c), -1);
}

static void test_control_chars(void **state)
{
    struct basic_cred c;
    char h[128];
    assert_int_equal(auth_basic_parse(make(h, "Basic ", "us\ter:p", 7), &c), -1);
    assert_int_equal(auth_basic_parse(make(h, "Basic ", "user:p\x7f", 7), &c), -1);
    assert_int_equal(auth_basic_parse(make(h, "Basic ", "user:p\0q", 8), &c), -1);
    assert_int_equal(auth_basic_parse(make(h, "Basic ", "u\0:pq", 5), &c), -1);
    assert_int_equal(auth_basic_parse(make(h, "Basic ", "user:p\r\n", 8), &c), -1);
    /* non-ASCII is fine: tokens are opaque bytes */
    assert_int_equal(auth_basic_parse(make(h, "Basic ", "\xc3\xa9:\xe2\x82\xac", 6), &c), 0);
    assert_string_equal(c.user, "\xc3\xa9");
    assert_string_equal(c.pass, "\xe2\x82\xac");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),      cmocka_unit_test(test_scheme_variants),
        cmocka_unit_test(test_bad_base64), cmocka_unit_test(test_colon_rules),
        cmocka_unit_test(test_lengths),    cmocka_unit_test(test_control_chars),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
