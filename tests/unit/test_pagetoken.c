#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/sha.h>

#include "util/base64.h"
#include "util/pagetoken.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void test_round_trip(void **state)
{
    static const long long keys[] = {0,        1, 255, 256, 65535, 1LL << 31, 1628618458111LL, LLONG_MAX - 1,
                                     LLONG_MAX};
    char tok[PAGETOKEN_MAX];
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        for (int d = 0; d < 2; d++) {
            struct pagetoken in = {.dir = d ? 'b' : 'a', .key = keys[i]}, out = {0, -1};
            assert_int_equal(pagetoken_encode(&in, tok), 0);
            assert_int_equal(strlen(tok), 24);
            assert_memory_equal(tok, "PT", 2);
            assert_int_equal(strspn(tok + 2, alphabet), 22); /* safe in a query string as is */
            assert_int_equal(pagetoken_decode(tok, strlen(tok), &out), 0);
            assert_int_equal(out.dir, in.dir);
            assert_int_equal(out.key, in.key);
        }
    }
}

static void test_distinct_tokens(void **state)
{
    char a[PAGETOKEN_MAX], b[PAGETOKEN_MAX];
    struct pagetoken t = {'a', 41};
    pagetoken_encode(&t, a);
    t.key = 42;
    pagetoken_encode(&t, b);
    assert_string_not_equal(a, b);
    t.dir = 'b';
    pagetoken_encode(&t, a);
    assert_string_not_equal(a, b);
}

/* Every single-character edit of a real token is refused. */
static void test_mutations_rejected(void **state)
{
    char tok[PAGETOKEN_MAX], m[PAGETOKEN_MAX];
    struct pagetoken t = {'a', 1234567}, out;
    pagetoken_encode(&t, tok);
    for (size_t pos = 0; pos < 24; pos++) {
        for (size_t c = 0; c < sizeof alphabet - 1; c++) {
            if (tok[pos] == alphabet[c]) continue;
            memcpy(m, tok, sizeof m);
            m[pos] = alphabet[c];
            if (pagetoken_decode(m, 24, &out) != -1) fail_msg("accepted %s", m);
        }
    }
}

static void test_length_and_prefix(void **state)
{
    char tok[PAGETOKEN_MAX + 8];
    struct pagetoken t = {'b', 99}, out;
    pagetoken_encode(&t, tok);
    assert_int_equal(pagetoken_decode(tok, 23, &out), -1);
    assert_int_equal(pagetoken_decode(tok, 0, &out), -1);
    strcat(tok, "A");
    assert_int_equal(pagetoken_decode(tok, 25, &out), -1);
    assert_int_equal(pagetoken_decode(tok, 24, &out), 0); /* n is the length, not the NUL */
    tok[0] = 'p';
    assert_int_equal(pagetoken_decode(tok, 24, &out), -1);
    tok[0] = 'P';
    tok[1] = 'A';
    assert_int_equal(pagetoken_decode(tok, 24, &out), -1);
    assert_int_equal(pagetoken_decode(NULL, 0, &out), -1);
}

static void test_garbage(void **state)
{
    static const char *const bad[] = {
        "",
        "PT",
        "PT15",
        "PTclosed_2024-01-18T03:17:17.005Z_CHa09ace6334284f0aa7f988ebad3e231a",
        "PTeyJvcmRlciI6ImFzYyJ9",
        "PAUS0123456789abcdef0123456789abcdef",
        "PTAAAAAAAAAAAAAAAAAAAAAA",
        "PT//////////////////////",
        "PT++++++++++++++++++++++",
        "PTAAAAAAAAAAAAAAAAAAAA==",
        "PT AAAAAAAAAAAAAAAAAAAAA",
    };
    struct pagetoken out;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(pagetoken_decode(bad[i], strlen(bad[i]), &out), -1);

    /* random strings of the right shape */
    char tok[25] = "PT";
    uint32_t x = 7;
    for (int i = 0; i < 20000; i++) {
        for (int j = 2; j < 24; j++) {
            x = x * 1664525u + 1013904223u;
            tok[j] = alphabet[(x >> 24) & 63];
        }
        assert_int_equal(pagetoken_decode(tok, 24, &out), -1);
    }
}

/* Tokens with a correct check but contents this server never writes: each field is still checked
 * on its own. Builds them with the documented payload layout and check label. */
static void forge(char out[32], unsigned char version, unsigned char dir, unsigned long long key,
                  int good_check)
{
    static const char label[] = "parley pagetoken v1";
    unsigned char msg[sizeof label - 1 + 10], md[SHA256_DIGEST_LENGTH], raw[16];
    raw[0] = version;
    raw[1] = dir;
    for (int i = 0; i < 8; i++)
        raw[2 + i] = (unsigned char)(key >> (56 - 8 * i));
    memcpy(msg, label, sizeof label - 1);
    memcpy(msg + sizeof label - 1, raw, 10);
    SHA256(msg, sizeof msg, md);
    memcpy(raw + 10, md, 6);
    if (!good_check) raw[15] ^= 1;
    out[0] = 'P';
    out[1] = 'T';
    b64url_encode(raw, 16, out + 2);
}

static void test_forged(void **state)
{
    char tok[32];
    struct pagetoken out;
    forge(tok, 1, 'a', 77, 1);
    assert_int_equal(pagetoken_decode(tok, 24, &out), 0); /* the layout the test assumes is right */
    assert_int_equal(out.key, 77);
    forge(tok, 1, 'a', 77, 0);
    assert_int_equal(pagetoken_decode(tok, 24, &out), -1); /* bad check */
    forge(tok, 2, 'a', 77, 1);
    assert_int_equal(pagetoken_decode(tok, 24, &out), -1); /* unknown version */
    forge(tok, 1, 'c', 77, 1);
    assert_int_equal(pagetoken_decode(tok, 24, &out), -1); /* unknown direction */
    forge(tok, 1, 'a', 1ULL << 63, 1);
    assert_int_equal(pagetoken_decode(tok, 24, &out), -1); /* negative key */
}

/* Encode is total: a position no token can name is refused with "", not an assertion. */
static void test_encode_refuses(void **state)
{
    static const struct pagetoken bad[] = {{'a', -1}, {'b', -1}, {'a', LLONG_MIN}, {'b', LLONG_MIN},
                                           {'c', 5},  {0, 0},    {'A', 1}};
    char tok[PAGETOKEN_MAX];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(tok, 'x', sizeof tok);
        assert_int_equal(pagetoken_encode(&bad[i], tok), -1);
        assert_string_equal(tok, "");
    }
}

/* The forged token (key 2^63-1, next page) and its siblings at both ends decode: they are
 * valid positions, which paging must then handle (test_paging.c). */
static void test_extreme_keys(void **state)
{
    struct pagetoken out;
    char tok[PAGETOKEN_MAX];
    assert_int_equal(pagetoken_decode("PTAWF__________8tGa6QTRg", 24, &out), 0);
    assert_int_equal(out.dir, 'a');
    assert_true(out.key == LLONG_MAX);
    static const struct pagetoken ends[] = {{'a', 0}, {'b', 0}, {'a', LLONG_MAX}, {'b', LLONG_MAX}};
    for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++) {
        assert_int_equal(pagetoken_encode(&ends[i], tok), 0);
        assert_int_equal(pagetoken_decode(tok, strlen(tok), &out), 0);
        assert_int_equal(out.dir, ends[i].dir);
        assert_true(out.key == ends[i].key);
    }
    pagetoken_encode(&ends[2], tok);
    assert_string_equal(tok, "PTAWF__________8tGa6QTRg");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_distinct_tokens),
        cmocka_unit_test(test_mutations_rejected),
        cmocka_unit_test(test_length_and_prefix),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_forged),
        cmocka_unit_test(test_encode_refuses),
        cmocka_unit_test(test_extreme_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
