#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/base64.h"

static long dec(const char *s, unsigned char *out)
{
    return b64_decode(s, strlen(s), out);
}

static long decu(const char *s, unsigned char *out)
{
    return b64url_decode(s, strlen(s), out);
}

/* RFC 4648 §10 */
static void test_rfc_vectors(void **state)
{
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const enc[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    static const char *const url[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    char out[32];
    unsigned char raw[32];

    for (size_t i = 0; i < 7; i++) {
        size_t n = strlen(plain[i]);
        assert_int_equal(b64_encode((const unsigned char *)plain[i], n, out), strlen(enc[i]));
        assert_string_equal(out, enc[i]);
        assert_int_equal(strlen(enc[i]), B64_ENCODED_LEN(n));
        assert_int_equal(b64url_encode((const unsigned char *)plain[i], n, out), strlen(url[i]));
        assert_string_equal(out, url[i]);

        assert_int_equal(dec(enc[i], raw), (long)n);
        assert_memory_equal(raw, plain[i], n);
        assert_int_equal(decu(url[i], raw), (long)n);
        assert_memory_equal(raw, plain[i], n);
    }
}

static void test_alphabets_differ(void **state)
{
    static const unsigned char in[] = {0xfb, 0xff, 0xbf};
    char out[8];
    unsigned char raw[8];

    b64_encode(in, 3, out);
    assert_string_equal(out, "+/+/");
    b64url_encode(in, 3, out);
    assert_string_equal(out, "-_-_");
    assert_int_equal(dec("-_-_", raw), -1);
    assert_int_equal(decu("+/+/", raw), -1);
    assert_int_equal(decu("-_-_", raw), 3);
    assert_memory_equal(raw, in, 3);
}

static void test_std_rejects(void **state)
{
    unsigned char raw[16];
    static const char *const bad[] = {
        "Zg",       /* padding required */
        "Zg=",      /* length not a multiple of 4 */
        "Zg=a",     /* padding in the middle */
        "=Zg=",     /* padding first */
        "Z===",     /* three pads */
        "====",     /* only padding */
        "Zm9v=",    /* stray pad */
        "Zh==",     /* non-canonical: low bits set */
        "Zm9=",     /* non-canonical: "fo" is Zm8= */
        "Zm9v\n",   /* whitespace */
        "Zm 9",     /* space */
        "Zm9\x80",  /* high byte */
        "Zg==Zg==", /* padding before the end */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(dec(bad[i], raw), -1);
    /* embedded NUL */
    assert_int_equal(b64_decode("Zm\0v", 4, raw), -1);
}

static void test_url_rejects(void **state)
{
    unsigned char raw[16];
    assert_int_equal(decu("Zg==", raw), -1); /* no padding in the url form */
    assert_int_equal(decu("Z", raw), -1);    /* one leftover symbol carries no byte */
    assert_int_equal(decu("Zm9vY", raw), -1);
    assert_int_equal(decu("Zh", raw), -1);  /* non-canonical */
    assert_int_equal(decu("Zm9", raw), -1); /* non-canonical */
    assert_int_equal(decu("Zm8", raw), 2);
}

static void test_round_trip_all_lengths(void **state)
{
    unsigned char in[200], raw[200];
    char out[B64_ENCODED_LEN(200) + 1];
    uint32_t x = 12345;

    for (size_t n = 0; n <= sizeof in; n++) {
        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            in[i] = (unsigned char)(x >> 16);
        }
        size_t e = b64_encode(in, n, out);
        assert_int_equal(e, B64_ENCODED_LEN(n));
        assert_int_equal(out[e], '\0');
        assert_int_equal(b64_decode(out, e, raw), (long)n);
        assert_memory_equal(raw, in, n);
        e = b64url_encode(in, n, out);
        assert_int_equal(e, (n * 4 + 2) / 3);
        assert_int_equal(b64url_decode(out, e, raw), (long)n);
        assert_memory_equal(raw, in, n);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc_vectors),
        cmocka_unit_test(test_alphabets_differ),
        cmocka_unit_test(test_std_rejects),
        cmocka_unit_test(test_url_rejects),
        cmocka_unit_test(test_round_trip_all_lengths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
