/* Read operations: PageSize / Page / PageToken in, the v1 `meta` envelope out. Pages are keyset pages
 * (store/store.h struct page_req), so a page costs the same at any depth. */
#ifndef PARLEY_PAGING_H
#define PARLEY_PAGING_H
#include <stddef.h>

#include "store/store.h"
#include "util/pagetoken.h"

struct req;
struct jw;

#define PAGING_MAX_ROWS 101

struct paging {
    int size;       /* effective PageSize (clamped) */
    long long page; /* Page: client state, echoed */
    int has_token;
    struct pagetoken tok;
    struct page_req req; /* what to ask the store for */
    /* filled while rows are written */
    int rows;
    long long id[PAGING_MAX_ROWS];
    size_t off[PAGING_MAX_ROWS];
};

/* Call before writing each row (the store returns up to size + 1 rows; the extra one tells whether
 * another page exists and is cut again by paging_finish). */
void paging_row(struct paging *pg, struct jw *w, long long id);

/* What a list's row callback gets (the store's typed row callbacks take it as their ctx). */
struct list_ctx {
    struct req *r;
    struct jw *w;
    struct paging *pg;
    void *extra; /* the handler's own state (filters) */
};

/* Call first in each row callback: records the row's position for paging_finish. */
static inline void list_row_begin(struct list_ctx *lc, long long id)
{
    paging_row(lc->pg, lc->w, id);
}

/* A whole Read operation: reads the paging parameters (max: the operation's largest PageSize), writes
 * {"<key>": [rows...], "meta": {...}} with fetch asking the store for the page, and the meta URLs on
 * list_path ("/v1/Users") with filters ("Type=sms&" or ""). Returns 0 (the response is ready). */
int paging_list(struct req *r, int max, const char *key, const char *list_path, const char *filters,
                int (*fetch)(struct list_ctx *lc), void *extra);

#endif
