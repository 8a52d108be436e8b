#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "util/buf.h"
#include "json/jw.h"

struct fixture {
    struct buf b;
    struct jw w;
};

static int setup(void **state)
{
    static struct fixture f;
    buf_init(&f.b, 1 << 20);
    jw_init(&f.w, &f.b);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    buf_free(&f->b);
    return 0;
}

/* Parses the output with jansson (strict) and returns the tree; fails the test if it does not parse. */
static json_t *parse_back(const struct buf *b)
{
    json_error_t err;
    json_t *v = json_loadb(b->p, b->len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &err);
    if (!v) fail_msg("jansson: %s at %d in %s", err.text, err.position, b->p);
    return v;
}

static void test_resource_shape(void **state)
{
    struct fixture *f = *state;
    struct jw *w = &f->w;
    jw_obj_begin(w);
    jw_kstr(w, "sid", "CH123");
    jw_kstr(w, "friendly_name", NULL);
    jw_kint(w, "index", 7);
    jw_kbool(w, "t", 1);
    jw_kbool(w, "f", 0);
    jw_knull(w, "n");
    jw_key(w, "links");
    jw_obj_begin(w);
    jw_kstr(w, "self", "https://x.test/v1/a/b");
    jw_obj_end(w);
    jw_obj_end(w);
    assert_int_equal(f->b.err, 0);
    assert_string_equal(f->b.p,
                        "{\"sid\":\"CH123\",\"friendly_name\":null,\"index\":7,\"t\":true,\"f\":false,"
                        "\"n\":null,\"links\":{\"self\":\"https://x.test/v1/a/b\"}}");
    json_t *v = parse_back(&f->b);
    assert_string_equal(json_string_value(json_object_get(json_object_get(v, "links"), "self")),
                        "https://x.test/v1/a/b");
    json_decref(v);
}

static void test_nesting_and_commas(void **state)
{
    struct fixture *f = *state;
    struct jw *w = &f->w;
    jw_obj_begin(w);
    jw_key(w, "a");
    jw_arr_begin(w);
    jw_int(w, 1);
    jw_obj_begin(w);
    jw_key(w, "b");
    jw_arr_begin(w);
    jw_arr_end(w);
    jw_obj_end(w);
    jw_arr_begin(w);
    jw_arr_end(w);
    jw_str(w, "x");
    jw_null(w);
    jw_arr_end(w);
    jw_key(w, "c");
    jw_obj_begin(w);
    jw_obj_end(w);
    jw_key(w, "d");
    jw_arr_begin(w);
    jw_arr_begin(w);
    jw_arr_begin(w);
    jw_bool(w, 0);
    jw_arr_end(w);
    jw_arr_end(w);
    jw_arr_end(w);
    jw_obj_end(w);
    assert_int_equal(f->b.err, 0);
    assert_string_equal(f->b.p, "{\"a\":[1,{\"b\":[]},[],\"x\",null],\"c\":{},\"d\":[[[false]]]}");
    json_decref(parse_back(&f->b));
}

static void test_top_level_scalars(void **state)
{
    struct fixture *f = *state;
    jw_str(&f->w, "x");
    assert_string_equal(f->b.p, "\"x\"");
    buf_reset(&f->b);
    jw_init(&f->w, &f->b);
    jw_arr_begin(&f->w);
    jw_arr_end(&f->w);
    assert_string_equal(f->b.p, "[]");
}

static void test_escapes(void **state)
{
    struct fixture *f = *state;
    static const char in[] = "q\"b\\s/n\nr\rt\tB\bF\fz\x01\x1f\x7f\xc3\xa9\xff";
    jw_strn(&f->w, in, sizeof in - 1);
    /* the stray \xff is not UTF-8: it comes out as U+FFFD */
    assert_string_equal(f->b.p,
                        "\"q\\\"b\\\\s/n\\nr\\rt\\tB\\bF\\fz\\u0001\\u001f\x7f\xc3\xa9\xef\xbf\xbd\"");
}

static void test_invalid_utf8(void **state)
{
    struct fixture *f = *state;
    /* overlong, surrogate, truncated, past U+10FFFF, lone continuation; valid 4-byte kept */
    static const char in[] = "a\xc0\xaf"
                             "b\xed\xa0\x80"
                             "c\xe2\x82"
                             "d\xf4\x90\x80\x80"
                             "e\x80"
                             "f\xf0\x9f\x98\x80";
    jw_strn(&f->w, in, sizeof in - 1);
    assert_string_equal(f->b.p, "\"a\xef\xbf\xbd\xef\xbf\xbd"
                                "b\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                                "c\xef\xbf\xbd\xef\xbf\xbd"
                                "d\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                                "e\xef\xbf\xbd"
                                "f\xf0\x9f\x98\x80\"");
}

static void test_every_control_char(void **state)
{
    struct fixture *f = *state;
    char in[32];
    for (int i = 0; i < 32; i++)
        in[i] = (char)i;
    jw_strn(&f->w, in, 32);
    assert_string_equal(f->b.p,
                        "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r"
                        "\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018"
                        "\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\"");
    /* jansson reads it back to the same bytes when allowed to hold the NUL */
    json_error_t err;
    json_t *v = json_loadb(f->b.p, f->b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    assert_non_null(v);
    assert_int_equal(json_string_length(v), 32);
    assert_memory_equal(json_string_value(v), in, 32);
    json_decref(v);
}

static void test_round_trip_text(void **state)
{
    struct fixture *f = *state;
    /* every byte 1..127 plus multibyte UTF-8 */
    char in[127 + 16];
    size_t n = 0;
    for (int i = 1; i < 128; i++)
        in[n++] = (char)i;
    memcpy(in + n, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9);
    n += 9;
    jw_obj_begin(&f->w);
    jw_key(&f->w, "s");
    jw_strn(&f->w, in, n);
    jw_obj_end(&f->w);
    json_t *v = parse_back(&f->b);
    json_t *s = json_object_get(v, "s");
    assert_int_equal(json_string_length(s), n);
    assert_memory_equal(json_string_value(s), in, n);
    json_decref(v);
}

/* A plain part is copied, any other escaped; jw_plain says which bytes may be copied. */
static void test_parts(void **state)
{
    struct fixture *f = *state;
    assert_true(jw_plain("http://h:1/v1/Conversations/", 28));
    assert_false(jw_plain("a\"b", 3));
    assert_false(jw_plain("0123456789\\", 11)); /* past the first eight bytes too */
    assert_false(jw_plain("\x01", 1));
    assert_false(jw_plain("caf\xc3\xa9", 5));
    assert_true(jw_plain("", 0));
    const struct jw_part parts[] = {
        {"http://h/v1/Users/", 18, 1}, {"US\"1\n", 5, 0}, {"/Conversations", 14, 1}};
    jw_arr_begin(&f->w);
    jw_str_parts(&f->w, parts, 3);
    jw_str_parts(&f->w, parts, 0);
    jw_arr_end(&f->w);
    assert_string_equal(f->b.p, "[\"http://h/v1/Users/US\\\"1\\n/Conversations\",\"\"]");
    json_decref(parse_back(&f->b));
}

/* jw_plain agrees with the byte rule at every length up to three blocks of sixteen, for every byte at
 * every position (the vector and word checks, and the overlapping last block, see each one). */
static void test_plain_every_byte(void **state)
{
    char s[48];
    for (size_t n = 1; n <= sizeof(s); n++) {
        for (size_t at = 0; at < n; at++) {
            for (int c = 0; c < 256; c++) {
                memset(s, 'a', n);
                s[at] = (char)c;
                int plain = c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
                if (jw_plain(s, n) != plain) fail_msg("length %zu, byte 0x%02x at %zu", n, c, at);
            }
        }
    }
}

/* A prebuilt key writes what jw_key writes, its comma only after a first member. */
static void test_key_literal(void **state)
{
    struct fixture *f = *state;
    char a[16], b[16];
    size_t na = jw_key_literal(a, sizeof(a), "sid"), nb = jw_key_literal(b, sizeof(b), "index");
    assert_int_equal(na, 7);
    assert_int_equal(jw_key_literal(b, 8, "index"), 0); /* ,"index": needs 9 */
    nb = jw_key_literal(b, sizeof(b), "index");
    jw_arr_begin(&f->w);
    for (int i = 0; i < 2; i++) {
        jw_obj_begin(&f->w);
        jw_key_lit(&f->w, a, na);
        jw_str(&f->w, "IM1");
        jw_key_lit(&f->w, b, nb);
        jw_int(&f->w, i);
        jw_obj_end(&f->w);
    }
    jw_arr_end(&f->w);
    assert_false(f->b.err);
    assert_string_equal(f->b.p, "[{\"sid\":\"IM1\",\"index\":0},{\"sid\":\"IM1\",\"index\":1}]");
    jw_key_lit(&f->w, a, na); /* at the top level: no key may stand there */
    assert_true(f->b.err);
}

/* A key past the one-pass copy's reach is written whole, and the comma logic holds on either path. */
static void test_long_key(void **state)
{
    struct fixture *f = *state;
    char key[200];
    memset(key, 'k', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    jw_obj_begin(&f->w);
    jw_kint(&f->w, "a", 1);
    jw_kint(&f->w, key, 2);
    jw_kint(&f->w, "b", 3);
    jw_obj_end(&f->w);
    json_t *v = parse_back(&f->b);
    assert_int_equal(json_object_size(v), 3);
    assert_int_equal(json_integer_value(json_object_get(v, key)), 2);
    assert_int_equal(json_integer_value(json_object_get(v, "b")), 3);
    json_decref(v);
}

static void test_ints(void **state)
{
    struct fixture *f = *state;
    jw_arr_begin(&f->w);
    jw_int(&f->w, 0);
    jw_int(&f->w, -1);
    jw_int(&f->w, 1234567890123LL);
    jw_int(&f->w, LLONG_MAX);
    jw_int(&f->w, LLONG_MIN);
    jw_arr_end(&f->w);
    assert_string_equal(f->b.p, "[0,-1,1234567890123,9223372036854775807,-9223372036854775808]");
    json_t *v = parse_back(&f->b);
    assert_int_equal(json_integer_value(json_array_get(v, 4)), LLONG_MIN);
    json_decref(v);
}

static void test_str_null_and_empty(void **state)
{
    struct fixture *f = *state;
    jw_arr_begin(&f->w);
    jw_str(&f->w, NULL);
    jw_str(&f->w, "");
    jw_strn(&f->w, "abc", 0);
    jw_arr_end(&f->w);
    assert_string_equal(f->b.p, "[null,\"\",\"\"]");
}

static void test_depth_cap(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < JW_MAX_DEPTH; i++)
        jw_arr_begin(&f->w);
    for (int i = 0; i < JW_MAX_DEPTH; i++)
        jw_arr_end(&f->w);
    assert_int_equal(f->b.err, 0);
    json_decref(parse_back(&f->b));

    buf_reset(&f->b);
    jw_init(&f->w, &f->b);
    for (int i = 0; i < JW_MAX_DEPTH + 3; i++)
        jw_obj_begin(&f->w);
    assert_int_equal(f->b.err, 1);
    for (int i = 0; i < JW_MAX_DEPTH + 3; i++)
        jw_obj_end(&f->w);
    assert_int_equal(f->w.depth, 0);
}

static void test_misuse_latches(void **state)
{
    struct fixture *f = *state;
    jw_obj_end(&f->w); /* nothing open */
    assert_int_equal(f->b.err, 1);

    buf_reset(&f->b);
    jw_init(&f->w, &f->b);
    jw_obj_begin(&f->w);
    jw_key(&f->w, "dangling");
    jw_obj_end(&f->w); /* key without a value */
    assert_int_equal(f->b.err, 1);
}

static void test_ceiling(void **state)
{
    struct buf b;
    struct jw w;
    buf_init(&b, 10);
    jw_init(&w, &b);
    jw_obj_begin(&w);
    jw_kstr(&w, "key", "a long value");
    jw_obj_end(&w);
    assert_int_equal(b.err, 1);
    assert_true(b.len <= 10);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_resource_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nesting_and_commas, setup, teardown),
        cmocka_unit_test_setup_teardown(test_top_level_scalars, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_control_char, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plain_every_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_literal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ints, setup, teardown),
        cmocka_unit_test_setup_teardown(test_str_null_and_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_depth_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_misuse_latches, setup, teardown),
        cmocka_unit_test(test_ceiling),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
