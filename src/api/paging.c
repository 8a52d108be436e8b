#include "api/paging.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/app.h"
#include "api/fail.h"
#include "api/params.h"
#include "http/request.h"
#include "http/response.h"
#include "json/jw.h"

static const struct param_spec paging_params[] = {
    {"PageSize", PK_INT, 0, 1, 1000000000LL, 0, NULL, 0},
    {"Page", PK_INT, 0, 0, 1000000000LL, 0, NULL, 0},
    {"PageToken", PK_STRING, 0, 0, 0, 0, NULL, 0},
};

/* Reads the paging parameters from r->query. max is the operation's largest PageSize.
 * Returns 0, or -1 with the error response prepared. */
static int paging_read(struct req *r, int max, struct paging *pg)
{
    struct param_value v[3];
    memset(pg, 0, sizeof(*pg));
    if (params_read(r, &r->query, paging_params, 3, v) != 0) return -1;
    pg->size = v[0].present ? (int)(v[0].i > max ? max : v[0].i) : (max < 50 ? max : 50);
    pg->page = v[1].present ? v[1].i : 0;
    pg->req.dir = 'a';
    pg->req.limit = pg->size;
    if (v[2].present && v[2].len > 0) {
        if (pagetoken_decode(v[2].s, v[2].len, &pg->tok) != 0)
            return api_failf(r, E_INVALID_PARAM, "Invalid PageToken");
        pg->has_token = 1;
        pg->req.dir = pg->tok.dir;
        if (pg->tok.dir == 'b')
            pg->req.before = pg->tok.key;
        else
            pg->req.after = pg->tok.key;
    }
    /* Page alone cannot position a keyset page: refuse it as Twilio does rather than label page 0 as N */
    if (pg->page > 0 && !pg->has_token) return api_fail(r, E_PAGE_TOKEN_REQUIRED);
    return 0;
}

void paging_row(struct paging *pg, struct jw *w, long long id)
{
    if (pg->rows < PAGING_MAX_ROWS) {
        pg->id[pg->rows] = id;
        pg->off[pg->rows] = w->b->len;
    }
    pg->rows++;
}

/* 0, or -1 when tok names no position (the caller writes null instead of a URL). */
static int page_url(char *out, size_t n, struct req *r, const char *list_path, const char *filters, int size,
                    long long page, const struct pagetoken *tok)
{
    char token[PAGETOKEN_MAX] = "";
    if (tok && pagetoken_encode(tok, token) != 0) return -1;
    snprintf(out, n, "%s%s?%sPageSize=%d&Page=%lld%s%s", r->app->public_url, list_path, filters, size, page,
             tok ? "&PageToken=" : "", token);
    return 0;
}

/* The neighbours of an empty page, from its own token alone. Any key 0..2^63-1 can arrive in a token
 * (the check is not a secret), so both ends saturate: "before 2^63-1" and "after 0" already reach every
 * row, since ids start at 1 and never come near the top. */
static long long key_succ(long long k)
{
    return k < LLONG_MAX ? k + 1 : LLONG_MAX;
}
static long long key_pred(long long k)
{
    return k > 0 ? k - 1 : 0;
}

static void meta_url(struct jw *w, const char *name, struct req *r, const char *list_path,
                     const char *filters, int size, long long page, const struct pagetoken *tok)
{
    /* the filters repeat whatever the request carried (bindings: any number of identities) */
    size_t url_max = strlen(r->app->public_url) + strlen(list_path) + strlen(filters) + PAGETOKEN_MAX + 64;
    char *url = arena_alloc(&r->arena, url_max);
    if (page_url(url, url_max, r, list_path, filters, size, page, tok) == 0)
        jw_kstr(w, name, url);
    else
        jw_knull(w, name);
}

/* Ends the row array, drops the extra row, and writes "meta". list_path is the list's path from /v1 on
 * (e.g. "/v1/Users"), filters a query prefix such as "Type=sms&" or "". */
static void paging_finish(struct paging *pg, struct jw *w, struct req *r, const char *list_path,
                          const char *filters, const char *key)
{
    struct buf *b = w->b;
    int shown = pg->rows;
    long long first = 0, last = 0;
    int has_next, has_prev;
    if (pg->req.dir == 'b') {
        has_next = 1;
        has_prev = pg->rows > pg->size;
        if (has_prev) {
            /* drop the first (oldest) row and the comma after it */
            size_t from = pg->off[1] + 1, to = pg->off[0];
            memmove(b->p + to, b->p + from, b->len - from);
            b->len -= from - to;
            b->p[b->len] = '\0';
            shown = pg->size;
            first = pg->id[1];
        } else if (pg->rows > 0) {
            first = pg->id[0];
        }
        if (pg->rows > 0) last = pg->id[pg->rows - 1];
    } else {
        has_prev = pg->has_token;
        has_next = pg->rows > pg->size;
        if (has_next) {
            b->len = pg->off[pg->size];
            b->p[b->len] = '\0';
            shown = pg->size;
        }
        if (shown > 0) {
            first = pg->id[0];
            last = pg->id[shown - 1];
        }
    }
    jw_arr_end(w);

    jw_key(w, "meta");
    jw_obj_begin(w);
    jw_kint(w, "page", pg->page);
    jw_kint(w, "page_size", pg->size);
    meta_url(w, "first_page_url", r, list_path, filters, pg->size, 0, NULL);
    if (has_prev) {
        struct pagetoken t = {
            'b', shown > 0 ? first : (pg->req.dir == 'a' ? key_succ(pg->req.after) : pg->req.before)};
        meta_url(w, "previous_page_url", r, list_path, filters, pg->size, pg->page > 0 ? pg->page - 1 : 0,
                 &t);
    } else {
        jw_knull(w, "previous_page_url");
    }
    meta_url(w, "url", r, list_path, filters, pg->size, pg->page, pg->has_token ? &pg->tok : NULL);
    if (has_next) {
        struct pagetoken t = {'a', shown > 0 ? last : key_pred(pg->req.before)};
        meta_url(w, "next_page_url", r, list_path, filters, pg->size, pg->page + 1, &t);
    } else {
        jw_knull(w, "next_page_url");
    }
    jw_kstr(w, "key", key);
    jw_obj_end(w);
}

int paging_list(struct req *r, int max, const char *key, const char *list_path, const char *filters,
                int (*fetch)(struct list_ctx *lc), void *extra)
{
    struct paging pg;
    if (paging_read(r, max, &pg) != 0) return 0;
    struct jw w;
    api_json_begin(r, &w, 200);
    jw_obj_begin(&w);
    jw_key(&w, key);
    jw_arr_begin(&w);
    struct list_ctx lc = {r, &w, &pg, extra};
    int rc = fetch(&lc);
    if (rc != ST_OK) return resp_store_error(r, rc);
    paging_finish(&pg, &w, r, list_path, filters, key);
    jw_obj_end(&w);
    return 0;
}
