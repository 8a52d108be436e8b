/* api_fail and api_failf: each failure value answers its Twilio error body (404 naming the path, the
 * store's 503 and 500, a code's dictionary title or the detail api_detail gave it, a message of the
 * caller's) and returns -1, so a step that refuses cannot report success. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "api/fail.h"
#include "http/request.h"
#include "store/store.h"

static struct req rq;

/* The prepared body: status, code and message as expected. */
static void assert_body(int status, int code, const char *message)
{
    assert_int_equal(rq.status, status);
    json_error_t e;
    json_t *j = json_loadb(rq.out.p, rq.out.len, 0, &e);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "code")), code);
    assert_int_equal(json_integer_value(json_object_get(j, "status")), status);
    assert_string_equal(json_string_value(json_object_get(j, "message")), message);
    json_decref(j);
    buf_reset(&rq.out);
    rq.status = 0;
}

static void test_not_found_names_the_path(void **state)
{
    (void)state;
    rq.v1_path = "/Credentials/CR00000000000000000000000000000000";
    assert_int_equal(api_fail(&rq, E_NOT_FOUND), -1);
    assert_body(404, E_NOT_FOUND,
                "The requested resource /Credentials/CR00000000000000000000000000000000 was not found");
}

static void test_store_results(void **state)
{
    (void)state;
    assert_int_equal(api_fail(&rq, ST_BUSY), -1);
    assert_body(503, E_UNAVAILABLE, "Service unavailable");
    assert_int_equal(api_fail(&rq, ST_ERROR), -1);
    assert_body(500, E_INTERNAL, "Internal Server Error");
    /* a store's "no such row" reaching api_fail is a store failure: callers map it to E_NOT_FOUND first */
    assert_int_equal(api_fail(&rq, ST_NOT_FOUND), -1);
    assert_body(500, E_INTERNAL, "Internal Server Error");
}

static void test_code_with_its_title(void **state)
{
    (void)state;
    assert_int_equal(api_fail(&rq, E_PAGE_TOKEN_REQUIRED), -1);
    assert_body(400, E_PAGE_TOKEN_REQUIRED, resp_title(E_PAGE_TOKEN_REQUIRED));
}

static void test_message_of_its_own(void **state)
{
    (void)state;
    assert_int_equal(api_failf(&rq, E_INVALID_PARAM, "Invalid value for %s", "PageSize"), -1);
    assert_body(400, E_INVALID_PARAM, "Invalid value for PageSize");
}

/* A failure value with a detail answers its own message for its code only; another code keeps its title. */
static void test_value_with_a_detail(void **state)
{
    (void)state;
    int err = api_detail(&rq, E_INVALID_PARAM, "%s must be at most %d bytes", "PreWebhookUrl", 2048);
    assert_int_equal(err, E_INVALID_PARAM);
    assert_int_equal(rq.status, 0); /* a value: nothing is answered until the runner fails with it */
    assert_int_equal(api_fail(&rq, E_PAGE_TOKEN_REQUIRED), -1);
    assert_body(400, E_PAGE_TOKEN_REQUIRED, resp_title(E_PAGE_TOKEN_REQUIRED));
    assert_int_equal(api_fail(&rq, err), -1);
    assert_body(400, E_INVALID_PARAM, "PreWebhookUrl must be at most 2048 bytes");
    rq.detail = NULL;
}

static int setup(void **state)
{
    (void)state;
    buf_init(&rq.out, 1 << 12);
    arena_init(&rq.arena); /* where a message of its own is kept */
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    buf_free(&rq.out);
    arena_free(&rq.arena);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_found_names_the_path), cmocka_unit_test(test_store_results),
        cmocka_unit_test(test_code_with_its_title),      cmocka_unit_test(test_message_of_its_own),
        cmocka_unit_test(test_value_with_a_detail),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
