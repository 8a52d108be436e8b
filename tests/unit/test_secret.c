/* store/secret.c: AES-256-GCM sealing of secrets at rest and the key file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "store_fixture.h"

#include "store/secret.h"
#include "util/arena.h"

static char dir[512];

static int setup(void **state)
{
    (void)state;
    return fixture_tmpdir(dir, sizeof(dir), "secret");
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void path_of(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", dir, name);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_key_file_created_0600_and_reloaded(void **state)
{
    (void)state;
    char p[600];
    path_of(p, sizeof(p), "new.key");
    secret_key_forget();
    assert_int_equal(secret_key_load(p, 0), -1); /* not created without create */
    assert_int_equal(secret_key_load(p, 1), 0);
    assert_true(secret_have_key());
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    struct arena a;
    arena_init(&a);
    char *sealed = secret_seal(&a, "my-auth-token", "AC1");
    assert_non_null(sealed);
    /* the same file again: the same key */
    secret_key_forget();
    assert_int_equal(secret_key_load(p, 1), 0);
    char *plain = NULL;
    assert_int_equal(secret_open(&a, sealed, "AC1", &plain), 0);
    assert_string_equal(plain, "my-auth-token");
    arena_free(&a);
}

static void test_seal_open(void **state)
{
    (void)state;
    char p[600];
    path_of(p, sizeof(p), "k1.key");
    write_file(p, "  000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n");
    assert_int_equal(secret_key_load(p, 0), 0);
    struct arena a;
    arena_init(&a);
    char *s1 = secret_seal(&a, "token-123456", "ACx");
    char *s2 = secret_seal(&a, "token-123456", "ACx");
    assert_true(secret_is_sealed(s1));
    assert_null(strstr(s1, "token-123456"));
    assert_string_not_equal(s1, s2); /* a fresh nonce each time */
    char *out = NULL;
    assert_int_equal(secret_open(&a, s1, "ACx", &out), 0);
    assert_string_equal(out, "token-123456");
    /* bound to its row */
    assert_int_equal(secret_open(&a, s1, "ACy", &out), -1);
    /* altered */
    char *bad = strcpy(arena_alloc(&a, strlen(s1) + 1), s1);
    bad[strlen(bad) / 2] = bad[strlen(bad) / 2] == 'A' ? 'B' : 'A';
    assert_int_equal(secret_open(&a, bad, "ACx", &out), -1);
    assert_int_equal(secret_open(&a, "enc1:!!!", "ACx", &out), -1);
    assert_int_equal(secret_open(&a, "enc1:", "ACx", &out), -1);
    /* clear text of older rows reads as it is; NULL stays NULL */
    assert_int_equal(secret_open(&a, "old-clear-token", "ACx", &out), 0);
    assert_string_equal(out, "old-clear-token");
    assert_int_equal(secret_open(&a, NULL, "ACx", &out), 0);
    assert_null(out);
    assert_null(secret_seal(&a, NULL, "ACx"));
    /* an empty value round-trips */
    char *e = secret_seal(&a, "", "ACx");
    assert_int_equal(secret_open(&a, e, "ACx", &out), 0);
    assert_string_equal(out, "");

    /* another key does not open it */
    char p2[600];
    path_of(p2, sizeof(p2), "k2.key");
    write_file(p2, "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    assert_int_equal(secret_key_load(p2, 0), 0);
    assert_int_equal(secret_open(&a, s1, "ACx", &out), -1);
    /* no key: sealed values do not open, new ones stay clear */
    secret_key_forget();
    assert_int_equal(secret_open(&a, s1, "ACx", &out), -1);
    assert_string_equal(secret_seal(&a, "plain", "ACx"), "plain");
    arena_free(&a);
}

static void test_bad_key_files(void **state)
{
    (void)state;
    char p[600];
    path_of(p, sizeof(p), "bad.key");
    const char *bad[] = {"", "abc", "zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
                         "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f00"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        write_file(p, bad[i]);
        assert_int_equal(secret_key_load(p, 0), -1);
        assert_false(secret_have_key());
    }
}

static void test_large_secret(void **state)
{
    (void)state;
    char p[600];
    path_of(p, sizeof(p), "k1.key");
    assert_int_equal(secret_key_load(p, 0), 0);
    struct arena a;
    arena_init(&a);
    char *big = arena_alloc(&a, SECRET_PLAIN_MAX + 2);
    memset(big, 'k', SECRET_PLAIN_MAX);
    big[SECRET_PLAIN_MAX] = '\0';
    char *s = secret_seal(&a, big, "CR1"), *out = NULL;
    assert_non_null(s);
    assert_int_equal(secret_open(&a, s, "CR1", &out), 0);
    assert_string_equal(out, big);
    big[SECRET_PLAIN_MAX] = 'k';
    big[SECRET_PLAIN_MAX + 1] = '\0';
    assert_null(secret_seal(&a, big, "CR1")); /* over the limit: refused, not cut */
    arena_free(&a);
    secret_key_forget();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_file_created_0600_and_reloaded),
        cmocka_unit_test(test_seal_open),
        cmocka_unit_test(test_bad_key_files),
        cmocka_unit_test(test_large_secret),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
