#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/form.h"
#include "webhook/sign.h"

#define URL "https://mycompany.com/myapp.php?foo=1&bar=2"

static struct form_pair pair(const char *k, const char *v)
{
    struct form_pair p = {k, strlen(k), v, strlen(v)};
    return p;
}

static void expect(const struct form_pair *params, size_t n, const char *want)
{
    char sig[SIGNATURE_LEN + 1];
    assert_int_equal(sign_twilio("12345", URL, params, n, sig), 0);
    assert_int_equal(strlen(sig), SIGNATURE_LEN);
    assert_string_equal(sig, want);
}

/* Twilio's request validator test vectors (BEHAVIOUR §7.6) */
static void test_vector_params(void **state)
{
    struct form_pair p[] = {pair("CallSid", "CA1234567890ABCDE"), pair("Caller", "+14158675309"),
                            pair("Digits", "1234"), pair("From", "+14158675309"), pair("To", "+18005551212")};
    expect(p, 5, "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
    /* the order given does not matter */
    struct form_pair r[] = {p[4], p[2], p[0], p[3], p[1]};
    expect(r, 5, "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
}

static void test_vector_repeated(void **state)
{
    struct form_pair p[] = {pair("Sid", "CA123"), pair("SidAccount", "AC123"), pair("Digits", "5678"),
                            pair("Digits", "1234"), pair("Digits", "1234")};
    expect(p, 5, "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
    struct form_pair r[] = {p[3], p[1], p[4], p[0], p[2]};
    expect(r, 5, "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
}

static void test_url_only(void **state)
{
    char sig[SIGNATURE_LEN + 1];
    assert_int_equal(sign_twilio("12345", URL, NULL, 0, sig), 0);
    assert_string_equal(sig, "zYQTYrRWXE7LtzbG4PfP7/bkkGo=");
    assert_int_equal(sign_twilio("", URL, NULL, 0, sig), 0);
    assert_string_equal(sig, "t5xDBY6aFLdRIWN5NLeL/ANHa6A=");
}

static void test_byte_order(void **state)
{
    /* 'B' (0x42) sorts before 'a'; "a" before "aa" */
    struct form_pair p[] = {pair("aa", "0"), pair("a", "1"), pair("B", "2")};
    expect(p, 3, "vw/pEDj/vZnJEezcEt/3Xzz9tIw=");
}

static void test_utf8_and_empty_value(void **state)
{
    struct form_pair p[] = {pair("x", ""), pair("Body", "\xc3\xa9 \xe2\x82\xac")};
    expect(p, 2, "r8S8kZGUi+zSSZW0fJew7/TpLPk=");
}

static void test_bad_arguments(void **state)
{
    char sig[SIGNATURE_LEN + 1];
    struct form_pair p = pair("a", "b");
    assert_int_equal(sign_twilio(NULL, URL, &p, 1, sig), -1);
    assert_int_equal(sign_twilio("t", NULL, &p, 1, sig), -1);
    assert_int_equal(sign_twilio("t", URL, NULL, 1, sig), -1);
}

static void test_oversized_message(void **state)
{
    size_t n = 2u << 20;
    char *v = malloc(n + 1);
    assert_non_null(v);
    memset(v, 'v', n);
    v[n] = '\0';
    struct form_pair p = {"Body", 4, v, n};
    char sig[SIGNATURE_LEN + 1];
    assert_int_equal(sign_twilio("12345", URL, &p, 1, sig), -1);
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector_params),
        cmocka_unit_test(test_vector_repeated),
        cmocka_unit_test(test_url_only),
        cmocka_unit_test(test_byte_order),
        cmocka_unit_test(test_utf8_and_empty_value),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_oversized_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
