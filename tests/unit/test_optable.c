/* The generated operation table (api/operations.gen.c): its own shape, and that every route Parley serves
 * (api/routes.c) is an operation of the spec with the same method and path pattern. A route that drifts
 * from the spec, or two routes that claim one operation, fail here. Success statuses are answered by the
 * handlers at run time: tests/e2e/optable.test.mjs compares them with the table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api/api.h"
#include "api/operations.gen.h"

#define PATH_MAX_LEN 256 /* "/v1/Services/{}" + the longest route pattern */

_Static_assert((int)OPM_GET == (int)HTTP_GET, "enum op_method follows enum http_method");
_Static_assert((int)OPM_POST == (int)HTTP_POST, "enum op_method follows enum http_method");
_Static_assert((int)OPM_DELETE == (int)HTTP_DELETE, "enum op_method follows enum http_method");

static int is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* 1 when path is "/v1" followed by segments that are words or "{Name}", each name once and each a path
 * parameter of op, and every path parameter of op appears; 0 otherwise. */
static int pattern_ok(const struct op_def *op)
{
    const char *p = op->path;
    if (strncmp(p, "/v1/", 4) != 0) return 0;
    p += 3;
    int names = 0;
    while (*p == '/') {
        p++;
        if (*p == '{') {
            const char *start = ++p;
            while (is_alnum(*p))
                p++;
            if (*p != '}' || p == start) return 0;
            size_t len = (size_t)(p - start);
            int found = 0;
            for (int i = 0; i < op->n_params; i++) {
                const struct op_param *pa = &op->params[i];
                if (pa->in == PIN_PATH && strlen(pa->name) == len && memcmp(pa->name, start, len) == 0)
                    found++;
            }
            /* the same name twice in one path would also count 1 here: caught by the count below */
            if (found != 1) return 0;
            names++;
            p++;
        } else {
            const char *start = p;
            while (is_alnum(*p))
                p++;
            if (p == start) return 0;
        }
    }
    if (*p) return 0;
    int path_params = 0;
    for (int i = 0; i < op->n_params; i++)
        if (op->params[i].in == PIN_PATH) path_params++;
    return names == path_params;
}

/* Compares a route path ("/v1/Users/{}") with a spec pattern ("/v1/Users/{Sid}"): "{}" matches one
 * "{Name}", everything else byte for byte. */
static int same_pattern(const char *route, const char *spec)
{
    while (*route && *spec) {
        if (spec[0] == '{') {
            if (route[0] != '{' || route[1] != '}') return 0;
            spec = strchr(spec, '}');
            if (!spec) return 0;
            spec++;
            route += 2;
        } else if (*route++ != *spec++) {
            return 0;
        }
    }
    return !*route && !*spec;
}

/* The operation a route path answers with method m, or -1. */
static int route_op(const char *path, enum http_method m)
{
    for (int i = 0; i < OPID_COUNT; i++)
        if ((int)ops_table[i].method == (int)m && same_pattern(path, ops_table[i].path)) return i;
    return -1;
}

static void test_rows(void **state)
{
    assert_int_equal(OPID_COUNT, 103);
    assert_int_equal(sizeof(ops_table) / sizeof(ops_table[0]), 103);
    for (int i = 0; i < OPID_COUNT; i++) {
        const struct op_def *op = &ops_table[i];
        assert_non_null(op->id);
        assert_non_null(op->path);
        for (int j = 0; j < i; j++) {
            assert_string_not_equal(op->id, ops_table[j].id);
            /* one operation per method and path */
            assert_false(op->method == ops_table[j].method && strcmp(op->path, ops_table[j].path) == 0);
        }
        if (!pattern_ok(op)) fail_msg("%s: malformed path pattern %s", op->id, op->path);
        /* the router's pattern is the path after "/v1" with anonymous parameters */
        char v1_route[PATH_MAX_LEN];
        assert_non_null(op->route);
        assert_true(snprintf(v1_route, sizeof(v1_route), "/v1%s", op->route) < (int)sizeof(v1_route));
        if (!same_pattern(v1_route, op->path))
            fail_msg("%s: route %s is not the pattern of %s", op->id, op->route, op->path);
        assert_true(op->method == OPM_GET || op->method == OPM_POST || op->method == OPM_DELETE);
        assert_true(op->status >= 200 && op->status < 300);
        assert_true(op->status_alt == 0 || (op->status_alt > op->status && op->status_alt < 300));
        /* a list has its key and a page maximum; nothing else has either */
        if (op->kind == OPK_LIST) {
            assert_non_null(op->list_key);
            assert_true(op->page_max > 0);
            assert_int_equal(op->method, OPM_GET);
        } else {
            assert_null(op->list_key);
            assert_int_equal(op->page_max, 0);
        }
        /* a 204 has no body; every other success has a schema */
        if (op->status == 204)
            assert_null(op->schema);
        else
            assert_non_null(op->schema);
        if (op->kind == OPK_DELETE) assert_int_equal(op->status, 204);
        if (op->kind == OPK_CREATE) assert_int_equal(op->status, 201);
        if (op->prefix[0]) assert_int_equal(strlen(op->prefix), 2);
    }
}

static void test_schemas(void **state)
{
    for (int i = 0; i < OPID_COUNT; i++) {
        const struct op_schema *s = ops_table[i].schema;
        if (!s) continue;
        assert_true(s->n_fields > 0);
        assert_string_equal(s->prefix, ops_table[i].prefix);
        for (int f = 0; f < s->n_fields; f++) {
            assert_non_null(s->fields[f].name);
            assert_true(s->fields[f].type <= FT_ANY);
            for (int g = 0; g < f; g++)
                assert_string_not_equal(s->fields[f].name, s->fields[g].name);
        }
    }
}

static void test_params(void **state)
{
    for (int i = 0; i < OPID_COUNT; i++) {
        const struct op_def *op = &ops_table[i];
        assert_true(op->n_params == 0 || op->params);
        for (int k = 0; k < op->n_params; k++) {
            const struct op_param *p = &op->params[k];
            assert_non_null(p->name);
            assert_true(p->in <= PIN_HEADER);
            if (p->in == PIN_PATH) assert_true(p->flags & PF_REQUIRED);
            int enum_kind = p->kind == OPP_ENUM || p->kind == OPP_ENUM_ARRAY;
            assert_int_equal(enum_kind, p->choices != NULL);
            if (p->choices) assert_non_null(p->choices[0]);
            assert_int_equal(p->kind == OPP_SID, p->prefix[0] != '\0');
            if (p->flags & (PF_MIN | PF_MAX)) assert_int_equal(p->kind, OPP_INT);
            if ((p->flags & PF_MIN) && (p->flags & PF_MAX)) assert_true(p->min <= p->max);
            for (int j = 0; j < k; j++)
                assert_string_not_equal(p->name, op->params[j].name);
        }
        if (op->kind == OPK_LIST) {
            /* the page maximum is the PageSize parameter's */
            int seen = 0;
            for (int k = 0; k < op->n_params; k++)
                if (strcmp(op->params[k].name, "PageSize") == 0) {
                    assert_true(op->params[k].flags & PF_MAX);
                    assert_int_equal(op->params[k].max, op->page_max);
                    seen = 1;
                }
            assert_true(seen);
        }
    }
}

/* One route path and method against the table; claims[] counts how often each operation is served. */
static void check_route(const char *path, enum http_method m, int *claims, int *served)
{
    int i = route_op(path, m);
    const char *name = m == HTTP_GET ? "GET" : m == HTTP_POST ? "POST" : "DELETE";
    if (i < 0) fail_msg("route %s %s is no operation of the spec", name, path);
    claims[i]++;
    (*served)++;
}

static void test_routes_are_operations(void **state)
{
    int claims[OPID_COUNT] = {0};
    int served = 0;
    for (const struct route *rt = api_routes; rt->pattern; rt++) {
        char path[2][PATH_MAX_LEN];
        int n = 1;
        assert_true(snprintf(path[0], sizeof(path[0]), "/v1%s", rt->pattern) < (int)sizeof(path[0]));
        /* the twin of a default-service path, as router.c matches it */
        if (rt->flags & ROUTE_TWIN) {
            int len = snprintf(path[1], sizeof(path[1]), "/v1/Services/{}%s", rt->pattern);
            assert_true(len < (int)sizeof(path[1]));
            n = 2;
        }
        for (int k = 0; k < n; k++) {
            if (rt->get) check_route(path[k], HTTP_GET, claims, &served);
            if (rt->post) check_route(path[k], HTTP_POST, claims, &served);
            if (rt->del) check_route(path[k], HTTP_DELETE, claims, &served);
        }
    }
    for (int i = 0; i < OPID_COUNT; i++)
        if (claims[i] > 1) fail_msg("%s is served by %d routes", ops_table[i].id, claims[i]);
    assert_true(served > 0);
    print_message("%d of %d operations served\n", served, OPID_COUNT);
}

/* The matcher can say no: a path, a method or a parameter position that the spec does not have. */
static void test_drift_is_caught(void **state)
{
    assert_true(route_op("/v1/Users/{}", HTTP_GET) >= 0);
    assert_string_equal(ops_table[route_op("/v1/Users/{}", HTTP_GET)].id, "FetchUser");
    assert_string_equal(ops_table[route_op("/v1/Services/{}/Users/{}", HTTP_POST)].id, "UpdateServiceUser");
    assert_int_equal(route_op("/v1/Users/{}/Friends", HTTP_GET), -1);
    assert_int_equal(route_op("/v1/Users/{}", HTTP_OPTIONS), -1);
    assert_int_equal(route_op("/v1/Configuration", HTTP_DELETE), -1);
    assert_int_equal(route_op("/v1/{}/Users", HTTP_GET), -1);
    assert_int_equal(route_op("/v1/Users", HTTP_DELETE), -1);
    assert_int_equal(route_op("/v1/Users/{}/", HTTP_GET), -1);
    assert_int_equal(route_op("/v1/Users/x", HTTP_GET), -1);
    assert_false(same_pattern("/v1/Users/{}", "/v1/Users/{Sid"));
    assert_true(same_pattern("/v1/Services/{}/Users/{}", "/v1/Services/{ChatServiceSid}/Users/{Sid}"));

    /* a malformed pattern is refused */
    static const struct op_param sid_param[] = {{.name = "Sid", .in = PIN_PATH, .flags = PF_REQUIRED}};
    struct op_def bad = {.id = "X", .path = "/v1/Users/{Sid}", .params = sid_param, .n_params = 1};
    assert_true(pattern_ok(&bad));
    bad.path = "/v1/Users/{Other}";
    assert_false(pattern_ok(&bad));
    bad.path = "/v1/Users//{Sid}";
    assert_false(pattern_ok(&bad));
    bad.path = "/v1/Users";
    assert_false(pattern_ok(&bad));
    bad.path = "/v2/Users/{Sid}";
    assert_false(pattern_ok(&bad));
    bad.path = "/v1/Users/{Sid}/{Sid}";
    assert_false(pattern_ok(&bad));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_schemas),
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_routes_are_operations),
        cmocka_unit_test(test_drift_is_caught),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
