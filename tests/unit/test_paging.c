/* paging_list end to end over a fake keyset store: any PageToken the decoder accepts, extreme keys in
 * both directions included, gives a page and meta URLs that can be followed, never an overflow; and the
 * ordinary contract: PageSize defaults and clamping, refused parameters, the meta envelope, walks in
 * both directions, exact and empty last pages. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "api/app.h"
#include "api/paging.h"
#include "http/request.h"
#include "util/pagetoken.h"
#include "json/jw.h"

#define NROWS 7 /* ids 1..NROWS, as a store's rowids */

static struct app app = {.public_url = "http://h", .public_url_len = 8};
static struct req rq;
static char query[256];
static long long nrows = NROWS; /* rows the fake store holds: ids 1..nrows */
static int list_max = 3;        /* the operation's largest PageSize */
static const char *list_filters = "";

/* The store's contract (store.h struct page_req): 'a' rows id > after ascending, 'b' the last rows
 * id < before, ascending; limit + 1 of them. */
static int fake_fetch(struct list_ctx *lc)
{
    const struct page_req *p = &lc->pg->req;
    long long lo = 1, hi = nrows;
    if (p->dir == 'a') {
        if (p->after >= lo) lo = p->after >= nrows ? nrows + 1 : p->after + 1;
        if (hi - lo + 1 > p->limit + 1) hi = lo + p->limit;
    } else {
        if (p->before <= nrows) hi = p->before - 1;
        if (hi - lo + 1 > p->limit + 1) lo = hi - p->limit;
    }
    for (long long id = lo; id <= hi; id++) {
        list_row_begin(lc, id);
        jw_obj_begin(lc->w);
        jw_kint(lc->w, "id", id);
        jw_obj_end(lc->w);
    }
    return ST_OK;
}

/* Runs a list request with the query string q; returns the parsed body (caller frees) or NULL. */
static json_t *list(const char *q, int *status)
{
    buf_reset(&rq.out);
    rq.app = &app;
    rq.status = 0;
    snprintf(query, sizeof(query), "%s", q);
    assert_int_equal(form_decode(query, strlen(query), &rq.query), 0);
    paging_list(&rq, list_max, "rows", "/v1/Rows", list_filters, fake_fetch, NULL);
    *status = rq.status;
    json_error_t err;
    json_t *j = json_loadb(rq.out.p, rq.out.len, 0, &err);
    if (!j) fail_msg("not JSON: %.*s", (int)rq.out.len, rq.out.p);
    return j;
}

static void token_for(char dir, long long key, char out[PAGETOKEN_MAX])
{
    struct pagetoken t = {dir, key};
    assert_int_equal(pagetoken_encode(&t, out), 0);
}

/* The query part of a meta URL, or NULL when the URL is null. */
static const char *url_query(json_t *body, const char *name)
{
    const char *u = json_string_value(json_object_get(json_object_get(body, "meta"), name));
    if (!u) return NULL;
    assert_non_null(strstr(u, "http://h/v1/Rows?"));
    return strchr(u, '?') + 1;
}

static long long first_id(json_t *body)
{
    json_t *rows = json_object_get(body, "rows");
    return json_array_size(rows) ? json_integer_value(json_object_get(json_array_get(rows, 0), "id")) : -1;
}

/* Follows next_page_url from q to the end; returns the ids seen in order. */
static int walk_next(const char *q, long long *ids, int max)
{
    int n = 0, status;
    char cur[256];
    snprintf(cur, sizeof(cur), "%s", q);
    for (int guard = 0; guard < 10; guard++) {
        json_t *body = list(cur, &status);
        assert_int_equal(status, 200);
        json_t *rows = json_object_get(body, "rows");
        for (size_t i = 0; i < json_array_size(rows) && n < max; i++)
            ids[n++] = json_integer_value(json_object_get(json_array_get(rows, i), "id"));
        const char *next = url_query(body, "next_page_url");
        if (!next) {
            json_decref(body);
            return n;
        }
        snprintf(cur, sizeof(cur), "%s", next);
        json_decref(body);
    }
    fail_msg("next_page_url never ended");
    return n;
}

static const long long extremes[] = {0, 1, NROWS, NROWS + 1, LLONG_MAX - 1, LLONG_MAX};

static void test_extreme_tokens_answer(void **state)
{
    char tok[PAGETOKEN_MAX], q[128];
    for (size_t i = 0; i < sizeof extremes / sizeof extremes[0]; i++)
        for (int d = 0; d < 2; d++) {
            int status;
            token_for(d ? 'b' : 'a', extremes[i], tok);
            snprintf(q, sizeof(q), "PageSize=3&Page=4&PageToken=%s", tok);
            json_t *body = list(q, &status);
            assert_int_equal(status, 200);
            /* meta.url names the token as given; the page it came from is a real token, and every
             * neighbour URL answers */
            assert_non_null(strstr(url_query(body, "url"), tok));
            const char *back = url_query(body, d ? "next_page_url" : "previous_page_url");
            assert_non_null(back);
            assert_non_null(strstr(back, "&PageToken=PT"));
            for (int k = 0; k < 2; k++) {
                const char *n = url_query(body, k ? "next_page_url" : "previous_page_url");
                if (!n) continue;
                char nq[256];
                snprintf(nq, sizeof(nq), "%s", n);
                json_t *nb = list(nq, &status);
                assert_int_equal(status, 200);
                json_decref(nb);
                /* list() reuses the request: read this page again for the next neighbour */
                json_decref(body);
                body = list(q, &status);
            }
            json_decref(body);
        }
}

/* The token: "after 2^63-1" is an empty page whose previous page is the last one. */
static void test_after_max(void **state)
{
    char tok[PAGETOKEN_MAX], q[128];
    int status;
    token_for('a', LLONG_MAX, tok);
    snprintf(q, sizeof(q), "PageSize=3&PageToken=%s", tok);
    json_t *body = list(q, &status);
    assert_int_equal(status, 200);
    assert_int_equal(json_array_size(json_object_get(body, "rows")), 0);
    assert_true(json_is_null(json_object_get(json_object_get(body, "meta"), "next_page_url")));
    char prev[256];
    snprintf(prev, sizeof(prev), "%s", url_query(body, "previous_page_url"));
    json_decref(body);
    body = list(prev, &status);
    assert_int_equal(status, 200);
    assert_int_equal(first_id(body), NROWS - 2); /* the last three rows */
    json_decref(body);
}

/* "before 0" is an empty page whose next page is the first one; walking on lists every row once. */
static void test_before_zero(void **state)
{
    char tok[PAGETOKEN_MAX], q[128];
    int status;
    token_for('b', 0, tok);
    snprintf(q, sizeof(q), "PageSize=3&PageToken=%s", tok);
    json_t *body = list(q, &status);
    assert_int_equal(status, 200);
    assert_int_equal(json_array_size(json_object_get(body, "rows")), 0);
    json_decref(body);
    long long ids[16];
    assert_int_equal(walk_next(q, ids, 16), NROWS);
    for (int i = 0; i < NROWS; i++)
        assert_int_equal(ids[i], i + 1);
}

/* "before 2^63-1" is the last page. */
static void test_before_max(void **state)
{
    char tok[PAGETOKEN_MAX], q[128];
    int status;
    token_for('b', LLONG_MAX, tok);
    snprintf(q, sizeof(q), "PageSize=3&PageToken=%s", tok);
    json_t *body = list(q, &status);
    assert_int_equal(status, 200);
    assert_int_equal(first_id(body), NROWS - 2);
    json_decref(body);
}

static void test_invalid_token(void **state)
{
    int status;
    json_t *body = list("PageToken=PTAWF__________8tGa6QTRh", &status);
    assert_int_equal(status, 400);
    assert_string_equal(json_string_value(json_object_get(body, "message")), "Invalid PageToken");
    json_decref(body);
}

/* Restores the default fake store and operation after a test that changed them. */
static int reset_fake(void **state)
{
    nrows = NROWS;
    list_max = 3;
    list_filters = "";
    return 0;
}

static const char *meta_str(json_t *body, const char *name)
{
    return json_string_value(json_object_get(json_object_get(body, "meta"), name));
}

static long long meta_int(json_t *body, const char *name)
{
    return json_integer_value(json_object_get(json_object_get(body, "meta"), name));
}

static size_t row_count(json_t *body)
{
    return json_array_size(json_object_get(body, "rows"));
}

/* The error a query gets: status, code and message. */
static void assert_refused(const char *q, int code, const char *message)
{
    int status;
    json_t *body = list(q, &status);
    assert_int_equal(status, 400);
    assert_int_equal(json_integer_value(json_object_get(body, "code")), code);
    assert_string_equal(json_string_value(json_object_get(body, "message")), message);
    json_decref(body);
}

/* PageSize defaults to 50 or the operation's maximum when that is lower, and is clamped to it. */
static void test_size_default_and_clamp(void **state)
{
    int status;
    json_t *body = list("", &status);
    assert_int_equal(status, 200);
    assert_int_equal(meta_int(body, "page_size"), 3);
    assert_int_equal(row_count(body), 3);
    json_decref(body);

    list_max = 100;
    nrows = 60;
    body = list("", &status);
    assert_int_equal(meta_int(body, "page_size"), 50);
    assert_int_equal(row_count(body), 50);
    assert_string_equal(meta_str(body, "url"), "http://h/v1/Rows?PageSize=50&Page=0");
    json_decref(body);
    /* above the maximum, above 1000 too: clamped, never refused */
    const char *big[] = {"PageSize=101", "PageSize=5000", "PageSize=1000000000"};
    for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
        body = list(big[i], &status);
        assert_int_equal(status, 200);
        assert_int_equal(meta_int(body, "page_size"), 100);
        assert_int_equal(row_count(body), 60);
        assert_true(json_is_null(json_object_get(json_object_get(body, "meta"), "next_page_url")));
        json_decref(body);
    }
    body = list("PageSize=1", &status);
    assert_int_equal(meta_int(body, "page_size"), 1);
    assert_int_equal(row_count(body), 1);
    json_decref(body);
}

static void test_bad_parameters(void **state)
{
    assert_refused("PageSize=0", 20001, "Invalid value for PageSize");
    assert_refused("PageSize=-3", 20001, "Invalid value for PageSize");
    assert_refused("PageSize=x", 20001, "Invalid value for PageSize");
    assert_refused("PageSize=", 20001, "Invalid value for PageSize");
    assert_refused("PageSize=1000000001", 20001, "Invalid value for PageSize");
    assert_refused("Page=-1", 20001, "Invalid value for Page");
    assert_refused("Page=1.0", 20001, "Invalid value for Page");
    /* a later page needs its token */
    assert_refused("Page=1", 70002, "Paged requests must include a PageToken");
    assert_refused("Page=2&PageToken=", 70002, "Paged requests must include a PageToken");
    assert_refused("PageToken=PT", 20001, "Invalid PageToken");
    assert_refused("PageToken=garbage", 20001, "Invalid PageToken");
    /* Page=0 and an empty token are the first page */
    int status;
    json_t *body = list("Page=0&PageToken=", &status);
    assert_int_equal(status, 200);
    assert_int_equal(first_id(body), 1);
    assert_true(json_is_null(json_object_get(json_object_get(body, "meta"), "previous_page_url")));
    json_decref(body);
}

/* meta holds the keys of Twilio's answers in their order, the URLs absolute with the filters first. */
static void test_meta_shape(void **state)
{
    int status;
    list_filters = "Type=x&";
    json_t *body = list("PageSize=2", &status);
    json_t *meta = json_object_get(body, "meta");
    const char *want[] = {"page",          "page_size", "first_page_url", "previous_page_url", "url",
                          "next_page_url", "key"};
    size_t k = 0;
    for (void *it = json_object_iter(meta); it; it = json_object_iter_next(meta, it), k++) {
        assert_true(k < sizeof(want) / sizeof(want[0]));
        assert_string_equal(json_object_iter_key(it), want[k]);
    }
    assert_int_equal(k, sizeof(want) / sizeof(want[0]));
    /* the body is {"rows": [...], "meta": {...}} in that order */
    void *first = json_object_iter(body);
    assert_string_equal(json_object_iter_key(first), "rows");
    assert_string_equal(json_object_iter_key(json_object_iter_next(body, first)), "meta");
    assert_string_equal(meta_str(body, "key"), "rows");
    assert_int_equal(meta_int(body, "page"), 0);
    assert_string_equal(meta_str(body, "url"), "http://h/v1/Rows?Type=x&PageSize=2&Page=0");
    assert_string_equal(meta_str(body, "first_page_url"), "http://h/v1/Rows?Type=x&PageSize=2&Page=0");
    assert_true(json_is_null(json_object_get(meta, "previous_page_url")));
    const char *next = meta_str(body, "next_page_url");
    assert_non_null(next);
    assert_int_equal(strncmp(next, "http://h/v1/Rows?Type=x&PageSize=2&Page=1&PageToken=PT", 54), 0);
    json_decref(body);
}

/* Forward with next_page_url and back with previous_page_url: every row once, pages numbered, both ends null.
 */
static void test_walk_both_ways(void **state)
{
    static const long long want[][2] = {{1, 2}, {3, 4}, {5, 6}, {7, 0}};
    char urls[4][256];
    char q[256] = "PageSize=2";
    int status;
    for (int page = 0; page < 4; page++) {
        json_t *body = list(q, &status);
        assert_int_equal(status, 200);
        assert_int_equal(meta_int(body, "page"), page);
        assert_int_equal(row_count(body), want[page][1] ? 2 : 1);
        assert_int_equal(first_id(body), want[page][0]);
        snprintf(urls[page], sizeof(urls[page]), "%s", q);
        const char *prev = url_query(body, "previous_page_url");
        assert_true(page == 0 ? prev == NULL : prev != NULL);
        const char *next = url_query(body, "next_page_url");
        if (page == 3) {
            assert_null(next);
        } else {
            assert_non_null(next);
            snprintf(q, sizeof(q), "%s", next);
        }
        json_decref(body);
    }
    /* back from the last page */
    snprintf(q, sizeof(q), "%s", urls[3]);
    for (int page = 3; page > 0; page--) {
        json_t *body = list(q, &status);
        const char *prev = url_query(body, "previous_page_url");
        assert_non_null(prev);
        snprintf(q, sizeof(q), "%s", prev);
        json_decref(body);
        body = list(q, &status);
        assert_int_equal(status, 200);
        assert_int_equal(meta_int(body, "page"), page - 1);
        assert_int_equal(first_id(body), want[page - 1][0]);
        assert_int_equal(row_count(body), 2);
        json_decref(body);
    }
    /* the first page reached backwards has no previous page but a next one */
    json_t *body = list(q, &status);
    assert_null(url_query(body, "previous_page_url"));
    assert_non_null(url_query(body, "next_page_url"));
    json_decref(body);
}

/* A page that ends exactly at the last row has no next page; an empty list is one empty page. */
static void test_exact_and_empty(void **state)
{
    int status;
    list_max = 50;
    json_t *body = list("PageSize=7", &status);
    assert_int_equal(row_count(body), 7);
    assert_null(url_query(body, "next_page_url"));
    json_decref(body);
    body = list("PageSize=6", &status);
    assert_int_equal(row_count(body), 6);
    assert_non_null(url_query(body, "next_page_url"));
    json_decref(body);

    nrows = 0;
    body = list("", &status);
    assert_int_equal(status, 200);
    assert_int_equal(row_count(body), 0);
    assert_null(url_query(body, "next_page_url"));
    assert_null(url_query(body, "previous_page_url"));
    assert_int_equal(meta_int(body, "page_size"), 50);
    json_decref(body);
}

int main(void)
{
    buf_init(&rq.out, 1 << 16);
    arena_init(&rq.arena);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_extreme_tokens_answer),
        cmocka_unit_test(test_after_max),
        cmocka_unit_test(test_before_zero),
        cmocka_unit_test(test_before_max),
        cmocka_unit_test(test_invalid_token),
        cmocka_unit_test_teardown(test_size_default_and_clamp, reset_fake),
        cmocka_unit_test_teardown(test_bad_parameters, reset_fake),
        cmocka_unit_test_teardown(test_meta_shape, reset_fake),
        cmocka_unit_test_teardown(test_walk_both_ways, reset_fake),
        cmocka_unit_test_teardown(test_exact_and_empty, reset_fake),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
