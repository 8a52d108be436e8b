/* The router (http/router.c) over a small table of its own: fixed segments and "{}" parameters, the
 * mount under which ROUTE_TWIN rows answer again, what the mount's accept() refuses, methods, and the
 * decoding of path parameters. The router knows no resource: the mount here is not Parley's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http/router.h"

static int get_a(struct req *r)
{
    return 0;
}
static int post_a(struct req *r)
{
    return 0;
}

static const struct route table[] = {
    {"/Things", ROUTE_TWIN, get_a, post_a, NULL},
    {"/Things/{}", ROUTE_TWIN, get_a, NULL, NULL},
    {"/Solo/{}", 0, get_a, NULL, NULL},
    {NULL, 0, NULL, NULL, NULL},
};

static int accept_ok(const char *s, size_t n)
{
    return n == 2 && memcmp(s, "ok", 2) == 0;
}
static const struct route_mount mount = {"/Shelves/{}", accept_ok};

static struct req rq;

static int match(enum http_method m, const char *path, const struct route_mount *mt, const struct route **hit)
{
    arena_free(&rq.arena);
    memset(&rq, 0, sizeof(rq));
    arena_init(&rq.arena);
    rq.method = m;
    rq.path = path;
    handler_fn fn = NULL;
    *hit = NULL;
    return router_match(table, "/v1", mt, &rq, hit, &fn);
}

static void test_short_paths_and_parameters(void **state)
{
    const struct route *hit;
    assert_int_equal(match(HTTP_GET, "/v1/Things", &mount, &hit), ROUTE_OK);
    assert_ptr_equal(hit, &table[0]);
    assert_int_equal(rq.service_path, 0);
    assert_int_equal(match(HTTP_GET, "/v1/Things/a%2Bb+c", &mount, &hit), ROUTE_OK);
    assert_ptr_equal(hit, &table[1]);
    assert_string_equal(rq.param[0], "a+b+c"); /* "+" in a path is a literal plus */
    assert_int_equal(match(HTTP_DELETE, "/v1/Things/x", &mount, &hit), ROUTE_NO_METHOD);
    assert_int_equal(match(HTTP_GET, "/v1/Things/x/y", &mount, &hit), ROUTE_NOT_FOUND);
    assert_int_equal(match(HTTP_GET, "/v1/Things/", &mount, &hit), ROUTE_NOT_FOUND);
    assert_int_equal(match(HTTP_GET, "/v1/Things/%zz", &mount, &hit), ROUTE_NOT_FOUND);
    assert_int_equal(match(HTTP_GET, "/v2/Things", &mount, &hit), ROUTE_NOT_FOUND);
}

static void test_twin_rows_answer_under_the_mount(void **state)
{
    const struct route *hit;
    assert_int_equal(match(HTTP_POST, "/v1/Shelves/ok/Things", &mount, &hit), ROUTE_OK);
    assert_ptr_equal(hit, &table[0]);
    assert_int_equal(rq.service_path, 1);
    assert_string_equal(rq.service_sid, "ok");
    assert_int_equal(match(HTTP_GET, "/v1/Shelves/ok/Things/t1", &mount, &hit), ROUTE_OK);
    assert_string_equal(rq.param[0], "t1");
    /* the mount's accept() refuses the segment: no route */
    assert_int_equal(match(HTTP_GET, "/v1/Shelves/no/Things", &mount, &hit), ROUTE_NOT_FOUND);
    /* a row without ROUTE_TWIN is not mounted, and without a mount nothing is */
    assert_int_equal(match(HTTP_GET, "/v1/Shelves/ok/Solo/x", &mount, &hit), ROUTE_NOT_FOUND);
    assert_int_equal(match(HTTP_GET, "/v1/Shelves/ok/Things", NULL, &hit), ROUTE_NOT_FOUND);
    /* the mount alone is no route */
    assert_int_equal(match(HTTP_GET, "/v1/Shelves/ok", &mount, &hit), ROUTE_NOT_FOUND);
}

int main(void)
{
    arena_init(&rq.arena);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_short_paths_and_parameters),
        cmocka_unit_test(test_twin_rows_answer_under_the_mount),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    arena_free(&rq.arena);
    return rc;
}
