#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/buf.h"
#include "util/text.h"

#include "../utf8_ref.h"

#define VALID(lit) assert_int_equal(utf8_valid(lit, sizeof(lit) - 1), 1)
#define INVALID(lit) assert_int_equal(utf8_valid(lit, sizeof(lit) - 1), 0)

static void test_utf8_valid_cases(void **state)
{
    VALID("");
    VALID("plain ascii");
    VALID("\x7f");
    VALID("\0"); /* U+0000 is well-formed; NUL policy lives in the decoders */
    VALID("\xc2\x80");
    VALID("\xdf\xbf");
    VALID("\xe0\xa0\x80");
    VALID("\xe2\x82\xac"); /* euro */
    VALID("\xed\x9f\xbf"); /* U+D7FF, just below the surrogates */
    VALID("\xee\x80\x80"); /* U+E000, just above */
    VALID("\xef\xbf\xbf");
    VALID("\xf0\x90\x80\x80");
    VALID("\xf0\x9f\x98\x80"); /* emoji */
    VALID("\xf4\x8f\xbf\xbf"); /* U+10FFFF */

    /* overlong */
    INVALID("\xc0\x80");
    INVALID("\xc0\xaf");
    INVALID("\xc1\xbf");
    INVALID("\xe0\x80\x80");
    INVALID("\xe0\x9f\xbf");
    INVALID("\xf0\x80\x80\x80");
    INVALID("\xf0\x8f\xbf\xbf");
    /* surrogates */
    INVALID("\xed\xa0\x80");
    INVALID("\xed\xbf\xbf");
    INVALID("\xed\xa0\xbd\xed\xb8\x80"); /* CESU-8 pair */
    /* past U+10FFFF */
    INVALID("\xf4\x90\x80\x80");
    INVALID("\xf5\x80\x80\x80");
    INVALID("\xf7\xbf\xbf\xbf");
    INVALID("\xf8\x88\x80\x80\x80");
    INVALID("\xff");
    INVALID("\xfe");
    /* truncated, at the end and before another character */
    INVALID("\xc3");
    INVALID("\xe2\x82");
    INVALID("\xf0\x9f\x98");
    INVALID("\xe2\x82x");
    INVALID("a\xf0\x9f\x98");
    /* lone or extra continuation bytes, bad continuation */
    INVALID("\x80");
    INVALID("a\xbf");
    INVALID("\xe2\x82\xac\x80");
    INVALID("\xe2\x28\xa1");
    INVALID("\xc3\xc3");
}

static void test_utf8_valid_exhaustive(void **state)
{
    unsigned char s[4];
    /* every 1-, 2- and 3-byte string */
    for (unsigned v = 0; v < 0x1000000; v++) {
        s[0] = (unsigned char)(v >> 16);
        s[1] = (unsigned char)(v >> 8);
        s[2] = (unsigned char)v;
        if (v < 0x100 && utf8_valid((char *)s + 2, 1) != utf8_ref_valid(s + 2, 1, NULL))
            fail_msg("1 byte %02x", v);
        if (v < 0x10000 && utf8_valid((char *)s + 1, 2) != utf8_ref_valid(s + 1, 2, NULL))
            fail_msg("2 bytes %04x", v);
        if (utf8_valid((char *)s, 3) != utf8_ref_valid(s, 3, NULL)) fail_msg("3 bytes %06x", v);
    }
    /* 4-byte leads with every second byte and boundary tails */
    static const unsigned char tail[] = {0x00, 0x7f, 0x80, 0xbf, 0xc0, 0xff};
    for (unsigned lead = 0xf0; lead <= 0xff; lead++)
        for (unsigned b1 = 0; b1 < 0x100; b1++)
            for (size_t t2 = 0; t2 < sizeof tail; t2++)
                for (size_t t3 = 0; t3 < sizeof tail; t3++) {
                    s[0] = (unsigned char)lead;
                    s[1] = (unsigned char)b1;
                    s[2] = tail[t2];
                    s[3] = tail[t3];
                    if (utf8_valid((char *)s, 4) != utf8_ref_valid(s, 4, NULL))
                        fail_msg("4 bytes %02x%02x%02x%02x", s[0], s[1], s[2], s[3]);
                }
}

static void test_utf8_len(void **state)
{
    assert_int_equal(utf8_len("", 0), 0);
    assert_int_equal(utf8_len("abc", 3), 3);
    static const char mixed[] = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
    assert_int_equal(utf8_len(mixed, sizeof mixed - 1), 4);
}

/* pct_decode on a copy; returns the result and leaves the decoded text NUL-terminated in out. */
static long pct(const char *in, char *out)
{
    size_t n = strlen(in);
    memcpy(out, in, n + 1);
    long r = pct_decode(out, n);
    if (r >= 0) out[r] = '\0';
    return r;
}

static void test_pct_decode(void **state)
{
    char b[64];
    assert_int_equal(pct("", b), 0);
    assert_int_equal(pct("abc", b), 3);
    assert_string_equal(b, "abc");
    assert_int_equal(pct("a%20b", b), 3);
    assert_string_equal(b, "a b");
    assert_int_equal(pct("a+b%2B", b), 4);
    assert_string_equal(b, "a+b+"); /* '+' is literal in paths */
    assert_int_equal(pct("%2b%2B%2f", b), 3);
    assert_string_equal(b, "++/");
    assert_int_equal(pct("%E2%82%AC", b), 3);
    assert_string_equal(b, "\xe2\x82\xac");
    assert_int_equal(pct("%ff", b), 1); /* bytes only; UTF-8 is checked separately */
    assert_int_equal((unsigned char)b[0], 0xff);
    assert_int_equal(pct("%2541", b), 3);
    assert_string_equal(b, "%41"); /* decoded once, not twice */
}

static void test_pct_decode_rejects(void **state)
{
    char b[64];
    static const char *const bad[] = {"%",    "%4",   "a%4", "%zz",   "%g0", "%0g", "%%41",
                                      "%41%", "% 41", "%00", "a%00b", "%-1", "%+1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(pct(bad[i], b), -1);
    memcpy(b, "a\0b", 3);
    assert_int_equal(pct_decode(b, 3), -1);
    /* a '%' at the end of the given length must not read past it */
    memcpy(b, "%41", 3);
    assert_int_equal(pct_decode(b, 2), -1);
}

static void test_pct_encode(void **state)
{
    struct buf b;
    buf_init(&b, 256);
    static const char in[] = "a b+c/\xc3\xa9~-._&=%\x01Z9";
    assert_int_equal(pct_encode(&b, in, sizeof in - 1), 0);
    assert_string_equal(b.p, "a%20b%2Bc%2F%C3%A9~-._%26%3D%25%01Z9");
    buf_reset(&b);
    assert_int_equal(pct_encode(&b, "", 0), 0);
    assert_string_equal(b.p, "");
    assert_int_equal(pct_encode(&b, "\0", 1), 0);
    assert_string_equal(b.p, "%00");
    buf_free(&b);

    /* round trip through the decoder for every byte but NUL */
    char all[255], back[255 * 3 + 1];
    for (int i = 0; i < 255; i++)
        all[i] = (char)(i + 1);
    buf_init(&b, sizeof back);
    assert_int_equal(pct_encode(&b, all, sizeof all), 0);
    memcpy(back, b.p, b.len);
    assert_int_equal(pct_decode(back, b.len), 255);
    assert_memory_equal(back, all, 255);
    buf_free(&b);
}

static void test_pct_encode_ceiling(void **state)
{
    struct buf b;
    buf_init(&b, 5);
    assert_int_equal(pct_encode(&b, "ab cd", 5), -1); /* "ab%20cd" is 7 */
    assert_int_equal(b.err, 1);
    buf_free(&b);
    buf_init(&b, 7);
    assert_int_equal(pct_encode(&b, "ab cd", 5), 0);
    assert_string_equal(b.p, "ab%20cd");
    buf_free(&b);
}

static void test_secret_equal(void **state)
{
    static const char tok[] = "0123456789abcdef0123456789abcdef";
    assert_int_equal(secret_equal(tok, 32, tok, 32), 1);
    assert_int_equal(secret_equal(tok, 32, "0123456789abcdef0123456789abcdef", 32), 1);
    assert_int_equal(secret_equal(tok, 32, "x123456789abcdef0123456789abcdef", 32), 0);
    assert_int_equal(secret_equal(tok, 32, "0123456789abcdef0123456789abcdeX", 32), 0);
    assert_int_equal(secret_equal(tok, 32, tok, 31), 0); /* prefix */
    assert_int_equal(secret_equal(tok, 31, tok, 32), 0);
    assert_int_equal(secret_equal(tok, 32, "", 0), 0);
    assert_int_equal(secret_equal("", 0, "", 0), 1);
    assert_int_equal(secret_equal(NULL, 0, "", 0), 1);
    assert_int_equal(secret_equal("a\0b", 3, "a\0b", 3), 1);
    assert_int_equal(secret_equal("a\0b", 3, "a\0c", 3), 0);
}

static void test_text_join(void **state)
{
    (void)state;
    char out[16];
    const char *parts[] = {"http://h", "/v1/", "Users", "/", "US1"};
    assert_int_equal(text_join(out, sizeof(out), parts, 5), 15); /* truncated at the cap */
    assert_string_equal(out, "http://h/v1/Use");
    char big[64];
    assert_int_equal(text_join(big, sizeof(big), parts, 5), 21);
    assert_string_equal(big, "http://h/v1/Users/US1");
    assert_int_equal(text_join(big, sizeof(big), parts, 0), 0);
    assert_string_equal(big, "");
    char one[1];
    assert_int_equal(text_join(one, sizeof(one), parts, 5), 0);
    assert_string_equal(one, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_valid_cases),   cmocka_unit_test(test_utf8_valid_exhaustive),
        cmocka_unit_test(test_utf8_len),           cmocka_unit_test(test_pct_decode),
        cmocka_unit_test(test_pct_decode_rejects), cmocka_unit_test(test_pct_encode),
        cmocka_unit_test(test_pct_encode_ceiling), cmocka_unit_test(test_secret_equal),
        cmocka_unit_test(test_text_join),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
