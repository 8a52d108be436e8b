/* store/store.c: which backend a --data target selects, and how a target is shown without its password. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "store/store.h"

static void test_backend_for(void **state)
{
    (void)state;
    assert_ptr_equal(store_backend_for("parley.db"), &store_sqlite_ops);
    assert_ptr_equal(store_backend_for("/var/lib/parley/parley.db"), &store_sqlite_ops);
    assert_ptr_equal(store_backend_for("postgres.db"), &store_sqlite_ops);
    assert_ptr_equal(store_backend_for("postgres://u:p@db:5432/parley"), &store_pg_ops);
    assert_ptr_equal(store_backend_for("postgresql://db/parley?sslmode=require"), &store_pg_ops);
    assert_ptr_equal(store_backend_for("host=/run/postgresql dbname=parley"), &store_pg_ops);
    assert_string_equal(store_pg_ops.name, "postgres");
}

static void check_redact(const char *in, const char *want)
{
    char out[256];
    store_target_redact(in, out, sizeof(out));
    assert_string_equal(out, want);
}

static void test_redact(void **state)
{
    (void)state;
    check_redact("parley.db", "parley.db");
    check_redact("/tmp/pass:word@x/parley.db", "/tmp/pass:word@x/parley.db");
    check_redact("postgres://parley:s3cret@127.0.0.1:5432/parley",
                 "postgres://parley:***@127.0.0.1:5432/parley");
    check_redact("postgresql://u:p:q@h/db", "postgresql://u:***@h/db");
    check_redact("postgres://u@h/db", "postgres://u@h/db");
    check_redact("postgres://h/db?user=u&password=abc&sslmode=require",
                 "postgres://h/db?user=u&password=***&sslmode=require");
    check_redact("host=/tmp dbname=x password=abc user=u", "host=/tmp dbname=x password=*** user=u");
    check_redact("host=/tmp password='a b\\'c' user=u", "host=/tmp password=*** user=u");
    /* bounded output */
    char small[12];
    store_target_redact("postgres://u:secret@host/db", small, sizeof(small));
    assert_int_equal(strlen(small), sizeof(small) - 1);
    assert_null(strstr(small, "secret"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backend_for),
        cmocka_unit_test(test_redact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
