/* paging_list end to end over a fake keyset store: any PageToken the decoder accepts, extreme keys in
 * both directions included, gives a page and meta URLs that can be followed, never an overflow. */
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
#include "json/jw.h"
#include "util/pagetoken.h"

#define NROWS 7   /* ids 1..NROWS, as a store's rowids */

static struct app app = {.public_url = "http://h", .public_url_len = 8};
static struct req rq;
static char query[256];

/* The store's contract (store.h struct page_req): 'a' rows id > after ascending, 'b' the last rows
 * id < before, ascending; limit + 1 of them. */
static int fake_fetch(struct list_ctx *lc)
{
    const struct page_req *p = &lc->pg->req;
    long long lo = 1, hi = NROWS;
    if (p->dir == 'a') {
        if (p->after >= lo)
            lo = p->after >= NROWS ? NROWS + 1 : p->after + 1;
        if (hi - lo + 1 > p->limit + 1)
            hi = lo + p->limit;
    } else {
        if (p->before <= NROWS)
            hi = p->before - 1;
        if (hi - lo + 1 > p->limit + 1)
            lo = hi - p->limit;
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
    paging_list(&rq, 3, "rows", "/v1/Rows", "", fake_fetch, NULL);
    *status = rq.status;
    json_error_t err;
    json_t *j = json_loadb(rq.out.p, rq.out.len, 0, &err);
    if (!j)
        fail_msg("not JSON: %.*s", (int)rq.out.len, rq.out.p);
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
    if (!u)
        return NULL;
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
                if (!n)
                    continue;
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
    assert_int_equal(first_id(body), NROWS - 2);   /* the last three rows */
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
