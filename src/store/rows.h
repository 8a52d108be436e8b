/* The row codec: a table described once (its columns, their kinds and where they sit in the model
 * struct) gives the get, insert, update, delete and keyset-list statements, built at start-up from the
 * column list and prepared once per connection by the engine. Rows are read and bound by offsetof. */
#ifndef PARLEY_STORE_ROWS_H
#define PARLEY_STORE_ROWS_H
#include <stddef.h>

#include "store/engine.h"

struct arena;
struct page_req;

enum col_kind {
    CK_ID,   /* long long keyset position, assigned by the database on insert */
    CK_SID,  /* char[SID_LEN + 1]; "" for NULL */
    CK_TEXT, /* char *; NULL for NULL */
    CK_I64,  /* long long */
    CK_INT,  /* int (and enums) */
    CK_FLAG, /* int written as 0/1; negative: not given (update binds NULL, insert 0) */
    CK_I64N, /* long long >= 0; -1 for NULL (a read horizon that was never set) */
};

enum col_flag {
    C_PARENT = 1 << 0,     /* the scope of get, delete and list (service_sid, account_sid) */
    C_KEY = 1 << 1,        /* the SID of the row within its parent */
    C_ALT_KEY = 1 << 2,    /* the other name a row is fetched by (identity, unique_name) */
    C_WRITE_ONLY = 1 << 3, /* written, never read back (credential secrets) */
    C_IMMUTABLE = 1 << 4,  /* set by insert, never by update */
    C_SEALED = 1 << 5,     /* sealed at rest, bound to the row's key (store/secret.h) */
    C_KEEP_NULL = 1 << 6,  /* update: a NULL (or a not-given flag) keeps the stored value */
};

struct column {
    const char *name;
    enum col_kind kind;
    size_t off;
    unsigned flags;
};

/* Longest SQL text the codec builds for one statement. */
#define ROWS_SQL_MAX 1024

struct store_table {
    const char *name;
    const struct column *cols;
    int n;
    enum sql_lock lock; /* what a get inside the writer's transaction locks */
    /* Optional condition of every read (get and list), e.g. rows marked deleted are not there. */
    const char *read_filter;
    /* Optional list filter, appended to the keyset condition, with parameters from ?4 (rows_list's
     * extra); PostgreSQL's own text where the meaning differs (json_each vs jsonb). */
    const char *list_filter, *list_filter_pg;
    /* built by rows_table_add */
    struct store_sql get, get_alt, insert, update, del, list_after, list_before;
    char text[10][ROWS_SQL_MAX];
};

/* Builds t's statements and registers them (store_sql_add); called by store_sql_init. */
int rows_table_add(struct store_table *t);

/* The row of parent whose key (or alternate key, when by_alt) is key, into out; its strings in a.
 * ST_NOT_FOUND when there is none. */
int rows_get(struct store_conn *c, const struct store_table *t, int by_alt, const char *parent,
             const char *key, struct arena *a, void *out);
/* Inserts row; its CK_ID column, if any, receives the new id. */
int rows_insert(struct store_conn *c, const struct store_table *t, void *row);
/* Writes the columns that are neither parent, key nor immutable; ST_NOT_FOUND when no row matched. */
int rows_update(struct store_conn *c, const struct store_table *t, const void *row);
int rows_delete(struct store_conn *c, const struct store_table *t, const char *parent, const char *key);
/* A keyset page of parent's rows by id. Each row is read into scratch (a struct of t's kind), whose
 * strings point into the engine's result and are valid only during fn; fn returns non-zero to stop. */
int rows_list(struct store_conn *c, const struct store_table *t, const char *parent, const struct page_req *p,
              void *scratch, int (*fn)(void *ctx, const void *row), void *ctx);
/* The same with the list filter's n text parameters (each may be NULL), bound from ?4. */
int rows_list_filtered(struct store_conn *c, const struct store_table *t, const char *parent,
                       const struct page_req *p, const char *const *extra, int n, void *scratch,
                       int (*fn)(void *ctx, const void *row), void *ctx);

/* Reads the current row of s into out by t's columns (a NULL: strings point into the result). */
void rows_read(const struct store_engine *e, struct store_stmt *s, const struct store_table *t,
               struct arena *a, void *out);

#endif
