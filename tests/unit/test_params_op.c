/* The parameter reader on one table shared by create and update (api/params.c, params_read_op):
 * P_CREATE_REQUIRED counts only for a create, an empty value of a required parameter counts as absent,
 * P_CREATE_ONLY is not read for an update, and each error is the Twilio body the reader promises. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api/params.h"
#include "http/form.h"
#include "http/request.h"
#include "http/response.h"

static const struct param_spec table[] = {
    {"Type", PK_ENUM, P_CREATE_REQUIRED, 0, 0, 0, "apn|gcm", 0},
    {"Identity", PK_STRING, P_CREATE_REQUIRED | P_CREATE_ONLY, 0, 4, E_IDENTITY_TOO_LONG, NULL, 0},
    {"Sandbox", PK_BOOL, 0, 0, 0, 0, NULL, 0},
};
#define N (sizeof(table) / sizeof(table[0]))

static struct req rq;
static char text[256];

/* Reads body with the table; returns what params_read_op returns. */
static int read(const char *body, int create, struct param_value *v)
{
    memset(&rq.body, 0, sizeof(rq.body));
    buf_reset(&rq.out);
    rq.status = 0;
    snprintf(text, sizeof(text), "%s", body);
    assert_int_equal(form_decode(text, strlen(text), &rq.body), 0);
    return params_read_op(&rq, &rq.body, table, N, v, create);
}

static int setup(void **state)
{
    buf_init(&rq.out, 1 << 12);
    arena_init(&rq.arena);
    return 0;
}

static int teardown(void **state)
{
    buf_free(&rq.out);
    arena_free(&rq.arena);
    return 0;
}

static void test_create_requires_what_update_does_not(void **state)
{
    struct param_value v[N];
    assert_int_equal(read("Sandbox=true", 1, v), -1);
    assert_int_equal(rq.status, 400);
    assert_non_null(strstr(rq.out.p, "Missing required parameter Type"));
    assert_int_equal(read("Sandbox=true", 0, v), 0);
    assert_true(v[2].present && v[2].i == 1);
    assert_false(v[0].present);
}

static void test_empty_required_is_absent_but_empty_optional_is_checked(void **state)
{
    struct param_value v[N];
    assert_int_equal(read("Type=&Identity=ab", 1, v), -1);
    assert_non_null(strstr(rq.out.p, "Missing required parameter Type"));
    assert_int_equal(read("Type=", 0, v), -1);
    assert_non_null(strstr(rq.out.p, "Invalid value for Type"));
}

static void test_create_only_is_not_read_for_update(void **state)
{
    struct param_value v[N];
    assert_int_equal(read("Type=apn&Identity=toolong", 1, v), -1);
    assert_non_null(strstr(rq.out.p, "50207"));
    /* an update ignores it, however long */
    assert_int_equal(read("Type=gcm&Identity=toolong", 0, v), 0);
    assert_false(v[1].present);
    assert_true(v[0].present && strcmp(v[0].s, "gcm") == 0);
    assert_int_equal(params_count_present(v, N), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_requires_what_update_does_not),
        cmocka_unit_test(test_empty_required_is_absent_but_empty_optional_is_checked),
        cmocka_unit_test(test_create_only_is_not_read_for_update),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
