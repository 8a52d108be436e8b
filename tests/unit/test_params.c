/* params_read and params_read_op: every parameter kind, limits counted in characters (not bytes), repeated
 * keys with and without P_LIST, missing and empty values, and the Twilio error each refusal prepares; a
 * repeated parameter's values as a JSON array (params_list_json). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "api/params.h"
#include "http/form.h"
#include "http/request.h"
#include "http/response.h"

#define FORM_TEXT_MAX 40000 /* room for an Attributes value over its 16 KiB limit */

static struct req rq;
static char text[FORM_TEXT_MAX];

/* Decodes body (a form) and reads specs from it; returns params_read's result. */
static int read_form(const char *body, const struct param_spec *spec, size_t n, struct param_value *out)
{
    buf_reset(&rq.out);
    rq.status = 0;
    size_t len = strlen(body);
    assert_true(len < sizeof(text));
    memcpy(text, body, len + 1);
    assert_int_equal(form_decode(text, len, &rq.body), FORM_OK);
    return params_read(&rq, &rq.body, spec, n, out);
}

/* The prepared error: status 400 and the code; message compared when given (a prefix when it ends in '*'). */
static void assert_error(int code, const char *message)
{
    assert_int_equal(rq.status, 400);
    json_error_t e;
    json_t *j = json_loadb(rq.out.p, rq.out.len, 0, &e);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "code")), code);
    assert_int_equal(json_integer_value(json_object_get(j, "status")), 400);
    const char *got = json_string_value(json_object_get(j, "message"));
    assert_non_null(got);
    if (message) {
        size_t n = strlen(message);
        if (n > 0 && message[n - 1] == '*') {
            if (strncmp(got, message, n - 1) != 0)
                fail_msg("message \"%s\" does not start with \"%.*s\"", got, (int)(n - 1), message);
        } else {
            assert_string_equal(got, message);
        }
    }
    json_decref(j);
}

/* A read that must succeed with no response prepared. */
static void assert_ok(int rc)
{
    assert_int_equal(rc, 0);
    assert_int_equal(rq.status, 0);
    assert_int_equal(rq.out.len, 0);
}

static void test_string_limit_in_characters(void **state)
{
    const struct param_spec spec[] = {{"FriendlyName", PK_STRING, 0, 0, 3, 50003, NULL, 0}};
    struct param_value v[1];
    /* three two-byte characters are three characters */
    assert_ok(read_form("FriendlyName=%C3%A9%C3%A9%C3%A9", spec, 1, v));
    assert_true(v[0].present);
    assert_int_equal(v[0].len, 6);
    /* three four-byte characters too */
    assert_ok(read_form("FriendlyName=%F0%9F%98%80%F0%9F%98%80%F0%9F%98%80", spec, 1, v));
    assert_int_equal(v[0].len, 12);
    /* the fourth is one too many, with the parameter's own code */
    assert_int_equal(read_form("FriendlyName=abc%C3%A9", spec, 1, v), -1);
    assert_error(50003, "Friendly name too long");

    /* without an own code: 20001 naming the limit */
    const struct param_spec plain[] = {{"Template", PK_STRING, 0, 0, 2, 0, NULL, 0}};
    assert_int_equal(read_form("Template=abc", plain, 1, v), -1);
    assert_error(20001, "Template must be at most 2 characters");

    /* max 0: no limit */
    const struct param_spec open[] = {{"Body", PK_STRING, 0, 0, 0, 0, NULL, 0}};
    assert_ok(read_form("Body=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", open,
                        1, v));
}

static void test_missing_and_empty(void **state)
{
    const struct param_spec spec[] = {
        {"Identity", PK_STRING, P_REQUIRED, 0, 0, 0, NULL, 0},
        {"FriendlyName", PK_STRING, 0, 0, 0, 0, NULL, 0},
    };
    struct param_value v[2];
    assert_int_equal(read_form("FriendlyName=x", spec, 2, v), -1);
    assert_error(20001, "Missing required parameter Identity in the post body");
    /* empty counts as absent for a required parameter */
    assert_int_equal(read_form("Identity=&FriendlyName=x", spec, 2, v), -1);
    assert_error(20001, "Missing required parameter Identity in the post body");
    assert_int_equal(read_form("Identity", spec, 2, v), -1);
    assert_error(20001, "Missing required parameter Identity in the post body");
    /* ... so a later non-empty value is the one read */
    assert_ok(read_form("Identity=&Identity=bob", spec, 2, v));
    assert_string_equal(v[0].s, "bob");
    assert_int_equal(v[0].n, 1);
    /* an optional empty string is present and empty */
    assert_ok(read_form("Identity=a&FriendlyName=", spec, 2, v));
    assert_true(v[1].present);
    assert_int_equal(v[1].len, 0);
    assert_string_equal(v[1].s, "");
    /* absent optional: not present, no value */
    assert_ok(read_form("Identity=a&Other=1", spec, 2, v));
    assert_false(v[1].present);
    assert_null(v[1].s);
    assert_int_equal(params_count_present(v, 2), 1);
    /* names are exact and case-sensitive; unknown parameters are ignored */
    assert_int_equal(read_form("identity=a&Identity.=b&IDENTITY=c", spec, 2, v), -1);
    assert_error(20001, "Missing required parameter Identity in the post body");
    /* '+' is a space in a form value, and a decoded value is read as sent */
    assert_ok(read_form("Identity=a+b%2Bc", spec, 2, v));
    assert_string_equal(v[0].s, "a b+c");
}

static void test_sid(void **state)
{
    const struct param_spec spec[] = {{"RoleSid", PK_SID, 0, 0, 0, 0, "RL", 0}};
    struct param_value v[1];
    assert_ok(read_form("RoleSid=RL0123456789abcdef0123456789abcdef", spec, 1, v));
    assert_ok(read_form("RoleSid=RL0123456789ABCDEF0123456789ABCDEF", spec, 1, v));
    const char *bad[] = {
        "RoleSid=US0123456789abcdef0123456789abcdef",      "RoleSid=rl0123456789abcdef0123456789abcdef",
        "RoleSid=RL0123456789abcdef0123456789abcde",       "RoleSid=RL0123456789abcdef0123456789abcdef0",
        "RoleSid=RL0123456789abcdef0123456789abcdeg",      "RoleSid=foo",
        "RoleSid=RL0123456789abcdef0123456789abcde%C3%A9",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (read_form(bad[i], spec, 1, v) != -1) fail_msg("%s was accepted", bad[i]);
        assert_error(20423, "Invalid SID for RoleSid: it must match ^RL[0-9a-fA-F]{32}$");
    }
    /* empty: an invalid value, not a SID error */
    assert_int_equal(read_form("RoleSid=", spec, 1, v), -1);
    assert_error(20001, "Invalid value for RoleSid");
}

static void test_json(void **state)
{
    const struct param_spec spec[] = {{"Attributes", PK_JSON, 0, 0, 0, 0, NULL, 0}};
    struct param_value v[1];
    assert_ok(read_form("Attributes=%7B%22a%22%3A1%7D", spec, 1, v));
    assert_string_equal(v[0].s, "{\"a\":1}");
    assert_ok(read_form("Attributes=%5B1%2C2%5D", spec, 1, v)); /* valid JSON, not an object */
    assert_int_equal(read_form("Attributes=%7B", spec, 1, v), -1);
    assert_error(50304, "Attributes not valid JSON");
    assert_int_equal(read_form("Attributes=", spec, 1, v), -1);
    assert_error(50304, "Attributes not valid JSON");

    /* 16 KiB of JSON is the limit: a string of 16,383 bytes plus its quotes is over it */
    static char big[FORM_TEXT_MAX];
    int n = snprintf(big, sizeof(big), "Attributes=%%22");
    memset(big + n, 'a', 16383);
    snprintf(big + n + 16383, sizeof(big) - (size_t)n - 16383, "%%22");
    assert_int_equal(read_form(big, spec, 1, v), -1);
    assert_error(50303, "Attributes too long");
}

static void test_bool(void **state)
{
    const struct param_spec spec[] = {{"Sandbox", PK_BOOL, 0, 0, 0, 0, NULL, 0}};
    struct param_value v[1];
    const char *yes[] = {"Sandbox=true", "Sandbox=True", "Sandbox=TRUE", "Sandbox=tRuE"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        assert_ok(read_form(yes[i], spec, 1, v));
        assert_int_equal(v[0].i, 1);
    }
    assert_ok(read_form("Sandbox=False", spec, 1, v));
    assert_int_equal(v[0].i, 0);
    const char *bad[] = {"Sandbox=1",   "Sandbox=0",     "Sandbox=yes", "Sandbox=truee",
                         "Sandbox=tru", "Sandbox=+true", "Sandbox="};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (read_form(bad[i], spec, 1, v) != -1) fail_msg("%s was accepted", bad[i]);
        assert_error(20001, "Invalid value for Sandbox*");
    }
}

static void test_int(void **state)
{
    const struct param_spec spec[] = {{"PageSize", PK_INT, 0, 1, 1000, 0, NULL, 0}};
    struct param_value v[1];
    assert_ok(read_form("PageSize=1", spec, 1, v));
    assert_int_equal(v[0].i, 1);
    assert_ok(read_form("PageSize=1000", spec, 1, v));
    assert_int_equal(v[0].i, 1000);
    assert_ok(read_form("PageSize=007", spec, 1, v));
    assert_int_equal(v[0].i, 7);
    const char *bad[] = {
        "PageSize=0",  "PageSize=1001", "PageSize=-1", "PageSize=1.5", "PageSize=+5",
        "PageSize=5a", "PageSize=%205", "PageSize=-",  "PageSize=",    "PageSize=9999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (read_form(bad[i], spec, 1, v) != -1) fail_msg("%s was accepted", bad[i]);
        assert_error(20001, "Invalid value for PageSize");
    }
    /* a negative range */
    const struct param_spec neg[] = {{"Offset", PK_INT, 0, -10, -1, 0, NULL, 0}};
    assert_ok(read_form("Offset=-10", neg, 1, v));
    assert_int_equal(v[0].i, -10);
    assert_int_equal(read_form("Offset=0", neg, 1, v), -1);
    /* the widest value the reader takes: 18 digits */
    const struct param_spec wide[] = {{"N", PK_INT, 0, 0, 999999999999999999LL, 0, NULL, 0}};
    assert_ok(read_form("N=999999999999999999", wide, 1, v));
    assert_int_equal(v[0].i, 999999999999999999LL);
}

static void test_enum(void **state)
{
    const struct param_spec spec[] = {{"Type", PK_ENUM, P_REQUIRED, 0, 0, 0, "apn|gcm|fcm", 0}};
    struct param_value v[1];
    assert_ok(read_form("Type=apn", spec, 1, v));
    assert_ok(read_form("Type=fcm", spec, 1, v));
    const char *bad[] = {"Type=APN",    "Type=ap",     "Type=apns", "Type=apn|gcm",
                         "Type=gcm%7C", "Type=%7Cfcm", "Type=x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (read_form(bad[i], spec, 1, v) != -1) fail_msg("%s was accepted", bad[i]);
        assert_error(20001, "Invalid value for Type: expected one of apn|gcm|fcm");
    }
    assert_int_equal(read_form("Type=", spec, 1, v), -1);
    assert_error(20001, "Missing required parameter Type in the post body");
}

/* P_ANY_CASE: a choice in any case is the choice (kept as sent); anything else is still refused. */
static void test_enum_any_case(void **state)
{
    const struct param_spec spec[] = {{"Type", PK_ENUM, P_REQUIRED | P_ANY_CASE, 0, 0, 0, "sms|whatsapp", 0}};
    struct param_value v[1];
    assert_ok(read_form("Type=whAtsAPP", spec, 1, v));
    assert_string_equal(v[0].s, "whAtsAPP");
    assert_ok(read_form("Type=SMS", spec, 1, v));
    const char *bad[] = {"Type=smss", "Type=sm", "Type=whatsapp%7Csms", "Type=x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (read_form(bad[i], spec, 1, v) != -1) fail_msg("%s was accepted", bad[i]);
        assert_error(20001, "Invalid value for Type: expected one of sms|whatsapp");
    }
}

static void test_repeated(void **state)
{
    const struct param_spec list[] = {{"BindingType", PK_ENUM, P_LIST, 0, 0, 0, "apn|gcm", 0}};
    struct param_value v[1];
    assert_ok(read_form("BindingType=apn&x=1&BindingType=gcm&BindingType=apn", list, 1, v));
    assert_int_equal(v[0].n, 3);
    assert_string_equal(v[0].s, "apn"); /* the first value */
    /* every value of a list is checked, the last one too */
    assert_int_equal(read_form("BindingType=apn&BindingType=gcm&BindingType=fcm", list, 1, v), -1);
    assert_error(20001, "Invalid value for BindingType*");
    /* an empty value inside a list is invalid, not skipped */
    assert_int_equal(read_form("BindingType=apn&BindingType=", list, 1, v), -1);
    assert_error(20001, "Invalid value for BindingType");

    /* without P_LIST the first value is the value: later ones are counted, not checked */
    const struct param_spec one[] = {{"Type", PK_ENUM, 0, 0, 0, 0, "apn|gcm", 0}};
    assert_ok(read_form("Type=gcm&Type=nonsense", one, 1, v));
    assert_string_equal(v[0].s, "gcm");
    assert_int_equal(v[0].n, 2);
    assert_int_equal(read_form("Type=nonsense&Type=gcm", one, 1, v), -1);

    /* a required list skips empty values and keeps the others */
    const struct param_spec perm[] = {{"Permission", PK_STRING, P_REQUIRED | P_LIST, 0, 0, 0, NULL, 0}};
    assert_ok(read_form("Permission=&Permission=a&Permission=b", perm, 1, v));
    assert_int_equal(v[0].n, 2);
    assert_string_equal(v[0].s, "a");
    assert_int_equal(read_form("Permission=&Permission=", perm, 1, v), -1);
    assert_error(20001, "Missing required parameter Permission in the post body");
}

static void test_order(void **state)
{
    /* specs are read in their order: the first one wrong is the one reported */
    const struct param_spec spec[] = {
        {"A", PK_BOOL, 0, 0, 0, 0, NULL, 0},
        {"B", PK_STRING, P_REQUIRED, 0, 0, 0, NULL, 0},
        {"C", PK_SID, 0, 0, 0, 0, "US", 0},
    };
    struct param_value v[3];
    assert_int_equal(read_form("C=x&A=maybe", spec, 3, v), -1);
    assert_error(20001, "Invalid value for A*");
    assert_int_equal(read_form("C=x&A=true", spec, 3, v), -1);
    assert_error(20001, "Missing required parameter B in the post body");
    assert_int_equal(read_form("C=x&A=true&B=b", spec, 3, v), -1);
    assert_error(20423, "Invalid SID for C*");
    assert_ok(read_form("C=US0123456789abcdef0123456789abcdef&A=true&B=b", spec, 3, v));
    assert_int_equal(params_count_present(v, 3), 3);
    /* zero specs read nothing */
    assert_ok(read_form("A=1", spec, 0, v));
}

/* params_read_op: one table shared by create and update. P_CREATE_REQUIRED counts only for a create, an
 * empty value of a required parameter counts as absent, P_CREATE_ONLY is not read for an update. */
static const struct param_spec op_table[] = {
    {"Type", PK_ENUM, P_CREATE_REQUIRED, 0, 0, 0, "apn|gcm", 0},
    {"Identity", PK_STRING, P_CREATE_REQUIRED | P_CREATE_ONLY, 0, 4, E_IDENTITY_TOO_LONG, NULL, 0},
    {"Sandbox", PK_BOOL, 0, 0, 0, 0, NULL, 0},
};
#define OP_N (sizeof(op_table) / sizeof(op_table[0]))

/* Decodes body and reads op_table from it for a create or an update; returns params_read_op's result. */
static int read_op(const char *body, int create, struct param_value *v)
{
    memset(&rq.body, 0, sizeof(rq.body));
    buf_reset(&rq.out);
    rq.status = 0;
    snprintf(text, sizeof(text), "%s", body);
    assert_int_equal(form_decode(text, strlen(text), &rq.body), 0);
    return params_read_op(&rq, &rq.body, op_table, OP_N, v, create);
}

static void test_create_requires_what_update_does_not(void **state)
{
    struct param_value v[OP_N];
    assert_int_equal(read_op("Sandbox=true", 1, v), -1);
    assert_int_equal(rq.status, 400);
    assert_non_null(strstr(rq.out.p, "Missing required parameter Type"));
    assert_int_equal(read_op("Sandbox=true", 0, v), 0);
    assert_true(v[2].present && v[2].i == 1);
    assert_false(v[0].present);
}

static void test_empty_required_is_absent_but_empty_optional_is_checked(void **state)
{
    struct param_value v[OP_N];
    assert_int_equal(read_op("Type=&Identity=ab", 1, v), -1);
    assert_non_null(strstr(rq.out.p, "Missing required parameter Type"));
    assert_int_equal(read_op("Type=", 0, v), -1);
    assert_non_null(strstr(rq.out.p, "Invalid value for Type"));
}

static void test_create_only_is_not_read_for_update(void **state)
{
    struct param_value v[OP_N];
    assert_int_equal(read_op("Type=apn&Identity=toolong", 1, v), -1);
    assert_non_null(strstr(rq.out.p, "50207"));
    /* an update ignores it, however long */
    assert_int_equal(read_op("Type=gcm&Identity=toolong", 0, v), 0);
    assert_false(v[1].present);
    assert_true(v[0].present && strcmp(v[0].s, "gcm") == 0);
    assert_int_equal(params_count_present(v, OP_N), 1);
}

/* a check that refuses "bad" with 99, and is shown the empty values too */
static int empties_seen;
static int refuse_bad(struct req *r, const char *s, size_t n)
{
    empties_seen += n == 0;
    return strcmp(s, "bad") == 0 ? 99 : 0;
}

static void decode(const char *body)
{
    size_t len = strlen(body);
    memcpy(text, body, len + 1);
    assert_int_equal(form_decode(text, len, &rq.body), FORM_OK);
}

/* params_list_json: each value once at its first position, empty values left out, NULL for none */
static void test_list_json(void **state)
{
    char *out = (char *)"unset";
    decode("F=b&G=x&F=&F=a&F=b");
    empties_seen = 0;
    assert_int_equal(params_list_json(&rq, "F", refuse_bad, 0, 98, &out), 0);
    assert_string_equal(out, "[\"b\",\"a\"]");
    assert_int_equal(empties_seen, 1);
    /* two values at most: a third is too many; repeats do not count */
    assert_int_equal(params_list_json(&rq, "F", NULL, 2, 98, &out), 0);
    decode("F=a&F=a&F=b&F=c");
    assert_int_equal(params_list_json(&rq, "F", NULL, 2, 98, &out), 98);
    decode("F=a&F=bad");
    assert_int_equal(params_list_json(&rq, "F", refuse_bad, 0, 98, &out), 99);
    decode("F=&G=a");
    assert_int_equal(params_list_json(&rq, "F", refuse_bad, 0, 98, &out), 0);
    assert_null(out);
}

static int setup(void **state)
{
    buf_init(&rq.out, 1 << 16);
    arena_init(&rq.arena);
    return 0;
}

static int teardown(void **state)
{
    buf_free(&rq.out);
    arena_free(&rq.arena);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_string_limit_in_characters),
        cmocka_unit_test(test_missing_and_empty),
        cmocka_unit_test(test_sid),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_bool),
        cmocka_unit_test(test_int),
        cmocka_unit_test(test_enum),
        cmocka_unit_test(test_enum_any_case),
        cmocka_unit_test(test_repeated),
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_create_requires_what_update_does_not),
        cmocka_unit_test(test_empty_required_is_absent_but_empty_optional_is_checked),
        cmocka_unit_test(test_create_only_is_not_read_for_update),
        cmocka_unit_test(test_list_json),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
