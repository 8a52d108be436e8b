/* router_match: literal and "{}" segments, percent-decoded parameters, both path families, the method
 * lookup, and every shape of path that must be no resource (bad escapes, empty or trailing segments,
 * too many segments or parameters), on a table of its own and on the server's api_routes, which is built
 * from the resource families. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api/api.h"
#include "api/families.h"
#include "http/request.h"
#include "http/router.h"

#define LONG_SEGMENT 6000 /* longer than any name or identity: the router itself sets no segment limit */

static int h_get(struct req *r)
{
    return (void)r, 0;
}
static int h_post(struct req *r)
{
    return (void)r, 0;
}
static int h_del(struct req *r)
{
    return (void)r, 0;
}
static int h_other(struct req *r)
{
    return (void)r, 0;
}

static const struct route table[] = {
    {"/Things", ROUTE_TWIN, h_get, h_post, NULL},
    {"/Things/{}", ROUTE_TWIN, h_get, h_post, h_del},
    {"/Things/{}/Parts/{}", ROUTE_TWIN, h_other, NULL, NULL},
    {"/Plain/{}", 0, h_get, NULL, NULL},
    {"/Services/{}/Own", 0, h_get, NULL, NULL},
    {"/Five/{}/{}/{}/{}/{}", 0, h_get, NULL, NULL},
    {"/Things/first", 0, h_other, NULL, NULL},              /* after "/Things/{}": never reached */
    {"/Deep/1/2/3/4/5/6/7/8/{}", 0, h_get, NULL, NULL},     /* ten segments */
    {"/Deeper/1/2/3/4/5/6/7/8/9/{}", 0, h_get, NULL, NULL}, /* eleven: more than a path may have */
    {NULL, 0, NULL, NULL, NULL},
};

#define IS_SID "IS0123456789abcdef0123456789abcdef"

struct hit {
    int rc;
    const struct route *rt;
    handler_fn fn;
    struct req r;
};

/* Matches path with method m against tbl (prefix "/v1"); the request's arena holds the decoded copy. */
static void run(struct hit *h, const struct route *tbl, enum http_method m, const char *path)
{
    memset(h, 0, sizeof(*h));
    arena_init(&h->r.arena);
    h->r.method = m;
    h->r.path = path;
    h->rc = router_match(tbl, "/v1", &api_mount, &h->r, &h->rt, &h->fn);
}

static void done(struct hit *h)
{
    arena_free(&h->r.arena);
}

static int status_of(const struct route *tbl, enum http_method m, const char *path)
{
    struct hit h;
    run(&h, tbl, m, path);
    int rc = h.rc;
    done(&h);
    return rc;
}

static void test_literals_and_params(void **state)
{
    struct hit h;
    run(&h, table, HTTP_GET, "/v1/Things");
    assert_int_equal(h.rc, ROUTE_OK);
    assert_ptr_equal(h.rt, &table[0]);
    assert_ptr_equal(h.fn, h_get);
    assert_null(h.r.param[0]);
    assert_int_equal(h.r.service_path, 0);
    done(&h);

    run(&h, table, HTTP_DELETE, "/v1/Things/abc");
    assert_int_equal(h.rc, ROUTE_OK);
    assert_ptr_equal(h.rt, &table[1]);
    assert_ptr_equal(h.fn, h_del);
    assert_string_equal(h.r.param[0], "abc");
    assert_int_equal(h.r.param_len[0], 3);
    assert_null(h.r.param[1]);
    done(&h);

    run(&h, table, HTTP_GET, "/v1/Things/a/Parts/b");
    assert_int_equal(h.rc, ROUTE_OK);
    assert_ptr_equal(h.fn, h_other);
    assert_string_equal(h.r.param[0], "a");
    assert_string_equal(h.r.param[1], "b");
    done(&h);

    /* the first matching row wins */
    run(&h, table, HTTP_GET, "/v1/Things/first");
    assert_ptr_equal(h.rt, &table[1]);
    done(&h);

    /* literals are case-sensitive and whole */
    assert_int_equal(status_of(table, HTTP_GET, "/v1/things"), ROUTE_NOT_FOUND);
    assert_int_equal(status_of(table, HTTP_GET, "/v1/Thing"), ROUTE_NOT_FOUND);
    assert_int_equal(status_of(table, HTTP_GET, "/v1/Thingss"), ROUTE_NOT_FOUND);
    assert_int_equal(status_of(table, HTTP_GET, "/v1/Things/a/Parts"), ROUTE_NOT_FOUND);
    assert_int_equal(status_of(table, HTTP_GET, "/v1/Things/a/Parts/b/c"), ROUTE_NOT_FOUND);
}

static void test_prefix(void **state)
{
    assert_int_equal(status_of(table, HTTP_GET, "/v1"), ROUTE_NOT_FOUND);
    assert_int_equal(status_of(table, HTTP_GET, "/v1/"), ROUTE_NOT_FOUND);
    assert_int_equal(status_of(table, HTTP_GET, "/v10/Things"), ROUTE_NOT_FOUND);
    assert_int_equal(status_of(table, HTTP_GET, "/v2/Things"), ROUTE_NOT_FOUND);
    assert_int_equal(status_of(table, HTTP_GET, "v1/Things"), ROUTE_NOT_FOUND);
    assert_int_equal(status_of(table, HTTP_GET, ""), ROUTE_NOT_FOUND);
}

static void test_empty_and_trailing_segments(void **state)
{
    assert_int_equal(status_of(table, HTTP_GET, "/v1/Things/"), ROUTE_NOT_FOUND);
    assert_int_equal(status_of(table, HTTP_GET, "/v1/Things/abc/"), ROUTE_NOT_FOUND);
    assert_int_equal(status_of(table, HTTP_GET, "/v1//Things"), ROUTE_NOT_FOUND);
    assert_int_equal(status_of(table, HTTP_GET, "/v1/Things//Parts/b"), ROUTE_NOT_FOUND);
    assert_int_equal(status_of(table, HTTP_GET, "/v1/Things/a/Parts//"), ROUTE_NOT_FOUND);
    /* an empty parameter is not a parameter */
    assert_int_equal(status_of(table, HTTP_GET, "/v1/Plain/"), ROUTE_NOT_FOUND);
}

static void test_decoding(void **state)
{
    struct hit h;
    run(&h, table, HTTP_GET, "/v1/Plain/a%20b+c%2Fd%C3%A9");
    assert_int_equal(h.rc, ROUTE_OK);
    /* '+' is a literal plus in a path; %2F is a slash inside the one segment */
    assert_string_equal(h.r.param[0], "a b+c/d\xc3\xa9");
    assert_int_equal(h.r.param_len[0], strlen("a b+c/d\xc3\xa9"));
    done(&h);

    /* upper- and lower-case hex digits */
    run(&h, table, HTTP_GET, "/v1/Plain/%41%6a");
    assert_string_equal(h.r.param[0], "Aj");
    done(&h);

    /* the raw path is not changed: the router decodes a copy */
    char path[] = "/v1/Plain/x%41";
    run(&h, table, HTTP_GET, path);
    assert_string_equal(h.r.param[0], "xA");
    assert_string_equal(path, "/v1/Plain/x%41");
    done(&h);
}

static void test_bad_escapes(void **state)
{
    const char *bad[] = {
        "/v1/Plain/%zz",          "/v1/Plain/%2",  "/v1/Plain/%",
        "/v1/Plain/a%g1",         "/v1/Plain/%00", "/v1/Plain/%ff", /* not UTF-8 */
        "/v1/Plain/%C3",                                            /* a truncated sequence */
        "/v1/Plain/%C0%AF",                                         /* an overlong encoding */
        "/v1/Plain/%ED%A0%80",                                      /* a surrogate */
        "/v1/Things/a/Parts/%zz",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (status_of(table, HTTP_GET, bad[i]) != ROUTE_NOT_FOUND) fail_msg("%s was routed", bad[i]);
    }
    /* an escape in a literal segment is no match for the literal */
    assert_int_equal(status_of(table, HTTP_GET, "/v1/%54hings"), ROUTE_NOT_FOUND);
}

static void test_methods(void **state)
{
    assert_int_equal(status_of(table, HTTP_POST, "/v1/Things"), ROUTE_OK);
    assert_int_equal(status_of(table, HTTP_DELETE, "/v1/Things"), ROUTE_NO_METHOD);
    assert_int_equal(status_of(table, HTTP_OPTIONS, "/v1/Things/x"), ROUTE_NO_METHOD);
    assert_int_equal(status_of(table, HTTP_OTHER, "/v1/Things/x"), ROUTE_NO_METHOD);
    assert_int_equal(status_of(table, HTTP_POST, "/v1/Plain/x"), ROUTE_NO_METHOD);
    /* a path that is no route stays 404 whatever the method */
    assert_int_equal(status_of(table, HTTP_OTHER, "/v1/Nothing"), ROUTE_NOT_FOUND);
    /* 405 is decided after the path: a bad escape on a known path is still 404 */
    assert_int_equal(status_of(table, HTTP_OTHER, "/v1/Plain/%zz"), ROUTE_NOT_FOUND);
}

static void test_twin_family(void **state)
{
    struct hit h;
    run(&h, table, HTTP_GET, "/v1/Services/" IS_SID "/Things/abc");
    assert_int_equal(h.rc, ROUTE_OK);
    assert_ptr_equal(h.rt, &table[1]);
    assert_int_equal(h.r.service_path, 1);
    assert_string_equal(h.r.service_sid, IS_SID);
    assert_string_equal(h.r.param[0], "abc");
    done(&h);

    run(&h, table, HTTP_GET, "/v1/Services/" IS_SID "/Things/a/Parts/b");
    assert_int_equal(h.rc, ROUTE_OK);
    assert_string_equal(h.r.param[1], "b");
    done(&h);

    /* the same row through the short family */
    run(&h, table, HTTP_GET, "/v1/Things/abc");
    assert_int_equal(h.r.service_path, 0);
    assert_null(h.r.service_sid);
    done(&h);

    /* the service segment must be a service SID */
    const char *bad[] = {
        "/v1/Services/US0123456789abcdef0123456789abcdef/Things",
        "/v1/Services/IS0123456789abcdef0123456789abcde/Things",
        "/v1/Services/IS0123456789abcdef0123456789abcdeff/Things",
        "/v1/Services/IS0123456789abcdef0123456789abcdeg/Things",
        "/v1/Services/default/Things",
        "/v1/Services//Things",
        "/v1/Services/" IS_SID "/Things/",
        "/v1/Services/" IS_SID "/Plain/x", /* not a twin row */
        "/v1/Services/" IS_SID,
        "/v1/Services/" IS_SID "/",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (status_of(table, HTTP_GET, bad[i]) != ROUTE_NOT_FOUND) fail_msg("%s was routed", bad[i]);
    }
    /* the method comes from the same row in both families */
    assert_int_equal(status_of(table, HTTP_DELETE, "/v1/Services/" IS_SID "/Things"), ROUTE_NO_METHOD);

    /* a row that names the Services segment itself is matched as written, with no service resolved */
    run(&h, table, HTTP_GET, "/v1/Services/anything/Own");
    assert_int_equal(h.rc, ROUTE_OK);
    assert_int_equal(h.r.service_path, 0);
    assert_string_equal(h.r.param[0], "anything");
    done(&h);
}

static void test_limits(void **state)
{
    /* a long segment is captured whole */
    static char path[LONG_SEGMENT + 32];
    int n = snprintf(path, sizeof(path), "/v1/Plain/");
    memset(path + n, 'x', LONG_SEGMENT);
    path[n + LONG_SEGMENT] = '\0';
    struct hit h;
    run(&h, table, HTTP_GET, path);
    assert_int_equal(h.rc, ROUTE_OK);
    assert_int_equal(h.r.param_len[0], LONG_SEGMENT);
    assert_int_equal(strlen(h.r.param[0]), LONG_SEGMENT);
    done(&h);

    /* ten segments are the most a path can have (the prefix not counted) */
    run(&h, table, HTTP_GET, "/v1/Deep/1/2/3/4/5/6/7/8/x");
    assert_int_equal(h.rc, ROUTE_OK);
    assert_string_equal(h.r.param[0], "x");
    done(&h);
    assert_int_equal(status_of(table, HTTP_GET, "/v1/Deeper/1/2/3/4/5/6/7/8/9/x"), ROUTE_NOT_FOUND);
    assert_int_equal(status_of(table, HTTP_GET, "/v1/Things/a/Parts/b/c/d/e/f/g/h/i/j/k/l/m"),
                     ROUTE_NOT_FOUND);

    /* a pattern with more parameters than a request holds matches nothing */
    assert_int_equal(ROUTE_MAX_PARAMS, 4);
    assert_int_equal(status_of(table, HTTP_GET, "/v1/Five/a/b/c/d/e"), ROUTE_NOT_FOUND);
}

static void test_api_routes(void **state)
{
    struct hit h;
    run(&h, api_routes, HTTP_GET, "/v1/Users/alice%40example.com");
    assert_int_equal(h.rc, ROUTE_OK);
    assert_string_equal(h.r.param[0], "alice@example.com");
    done(&h);

    run(&h, api_routes, HTTP_POST, "/v1/Services/" IS_SID "/Roles/RL0123456789abcdef0123456789abcdef");
    assert_int_equal(h.rc, ROUTE_OK);
    assert_int_equal(h.r.service_path, 1);
    done(&h);

    /* services have no update; the account configuration has no twin */
    assert_int_equal(status_of(api_routes, HTTP_POST, "/v1/Services/" IS_SID), ROUTE_NO_METHOD);
    assert_int_equal(status_of(api_routes, HTTP_GET, "/v1/Services/" IS_SID "/Credentials"), ROUTE_NOT_FOUND);
    assert_int_equal(status_of(api_routes, HTTP_GET, "/v1/Users/"), ROUTE_NOT_FOUND);
    assert_int_equal(status_of(api_routes, HTTP_GET, "/v1/Users/a/Conversations/"), ROUTE_NOT_FOUND);
    assert_int_equal(status_of(api_routes, HTTP_DELETE, "/v1/Users"), ROUTE_NO_METHOD);
}

/* The method's handler of a row. */
static handler_fn handler_of(const struct route *rt, unsigned char method)
{
    return method == OPM_GET ? rt->get : method == OPM_POST ? rt->post : rt->del;
}

/* The table is built from the families' operation rows: each operation of a family has its pattern's row,
 * which carries the family and runs the operation's kind; no row is there twice; a twin family's rows
 * also answer under the mount, and the others do not. */
static void test_routes_from_families(void **state)
{
    const struct family *const fams[] = {&users_family,        &roles_family,         &credentials_family,
                                         &bindings_family,     &configuration_family, &service_config_family,
                                         &notifications_family};
    int rows = 0;
    for (const struct route *rt = api_routes; rt->pattern; rt++, rows++)
        for (const struct route *other = api_routes; other < rt; other++)
            if (strcmp(rt->pattern, other->pattern) == 0) fail_msg("%s is routed twice", rt->pattern);
    for (size_t k = 0; k < sizeof(fams) / sizeof(fams[0]); k++) {
        const struct family *f = fams[k];
        const struct op_def *ops[] = {f->op_fetch, f->op_list, f->op_create, f->op_update, f->op_delete};
        for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
            if (!ops[i]) continue;
            int at = -1;
            for (int j = 0; j < rows; j++)
                if (strcmp(api_routes[j].pattern, ops[i]->route) == 0) at = j;
            if (at < 0) fail_msg("%s: no route for %s", f->segment, ops[i]->id);
            assert_ptr_equal(api_route_families[at], f);
            assert_int_equal(!!(api_routes[at].flags & ROUTE_TWIN), f->parent == PARENT_TWIN);
            assert_ptr_equal(handler_of(&api_routes[at], ops[i]->method), runner_handler(ops[i]->kind));
        }
    }
    /* a handler in a family's row is one of its operations: the row has no method the family lacks */
    for (int j = 0; j < rows; j++) {
        const struct family *f = api_route_families[j];
        if (!f) continue;
        int methods = 0, served = 0;
        const struct op_def *ops[] = {f->op_fetch, f->op_list, f->op_create, f->op_update, f->op_delete};
        for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
            if (ops[i] && strcmp(ops[i]->route, api_routes[j].pattern) == 0) served |= ops[i]->method;
        methods |= api_routes[j].get ? OPM_GET : 0;
        methods |= api_routes[j].post ? OPM_POST : 0;
        methods |= api_routes[j].del ? OPM_DELETE : 0;
        assert_int_equal(methods, served);
    }

    struct hit h;
    run(&h, api_routes, HTTP_DELETE, "/v1/Services/" IS_SID "/Users/alice");
    assert_int_equal(h.rc, ROUTE_OK);
    assert_ptr_equal(api_route_families[h.rt - api_routes], &users_family);
    assert_ptr_equal(h.fn, runner_handler(OPK_DELETE));
    assert_int_equal(h.r.service_path, 1);
    done(&h);
    run(&h, api_routes, HTTP_GET, "/v1/Services/" IS_SID "/Configuration/Notifications");
    assert_ptr_equal(api_route_families[h.rt - api_routes], &notifications_family);
    assert_int_equal(h.r.service_path, 0); /* a service family's path, not a twin */
    assert_string_equal(h.r.param[0], IS_SID);
    done(&h);
    /* no twin for a family of the account */
    assert_int_equal(status_of(api_routes, HTTP_GET, "/v1/Services/" IS_SID "/Configuration/Notifications/x"),
                     ROUTE_NOT_FOUND);
    assert_int_equal(status_of(api_routes, HTTP_DELETE, "/v1/Configuration"), ROUTE_NO_METHOD);
    assert_int_equal(status_of(api_routes, HTTP_POST, "/v1/Services/" IS_SID "/Bindings"), ROUTE_NO_METHOD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literals_and_params),
        cmocka_unit_test(test_prefix),
        cmocka_unit_test(test_empty_and_trailing_segments),
        cmocka_unit_test(test_decoding),
        cmocka_unit_test(test_bad_escapes),
        cmocka_unit_test(test_methods),
        cmocka_unit_test(test_twin_family),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_api_routes),
        cmocka_unit_test(test_routes_from_families),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
