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
    C_ZERO_NULL = 1 << 7,  /* CK_INT, CK_I64: 0 is written as NULL (no status yet, not revoked) */
    /* in an index and written by updates: an update that keeps its value leaves it out of the statement
     * (rows_update's before), because SQLite rewrites the index entry of every column an UPDATE sets,
     * also to the value it had */
    C_INDEXED = 1 << 8,
};

struct column {
    const char *name;
    enum col_kind kind;
    size_t off;
    unsigned flags;
};

/* A column of a hand-written statement's row, named as its field. */
#define ROWS_COL(type, field, k, f)                                                                          \
    {                                                                                                        \
        .name = #field, .kind = (k), .off = offsetof(type, field), .flags = (f)                              \
    }

/* The number of columns of a list. */
#define ROWS_N(cols) ((int)(sizeof(cols) / sizeof((cols)[0])))

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
    struct store_sql get, get_alt, insert, update, update_kept, del, list_after, list_before, key, key_alt;
    char text[13][ROWS_SQL_MAX];
};

/* Builds t's statements and registers them (store_sql_add); called by store_sql_init. */
int rows_table_add(struct store_table *t);

/* The row of parent whose key (or alternate key, when by_alt) is key, into out; its strings in a.
 * ST_NOT_FOUND when there is none. */
int rows_get(struct store_conn *c, const struct store_table *t, int by_alt, const char *parent,
             const char *key, struct arena *a, void *out);
/* The same, but only the row's key (its SID) into out: a third of a whole row's read where only the row's
 * existence and SID matter (a parent in a path). */
int rows_key(struct store_conn *c, const struct store_table *t, int by_alt, const char *parent,
             const char *key, char out[SID_LEN + 1]);
/* Inserts row; its CK_ID column, if any, receives the new id. */
int rows_insert(struct store_conn *c, const struct store_table *t, void *row);
/* The same for a caller that uses nothing but the outcome (no id, no conflict of its own): the engine
 * may read the result later (store/engine.h exec_deferred); the CK_ID column is left as it is. */
int rows_insert_deferred(struct store_conn *c, const struct store_table *t, void *row);
/* Writes the columns that are neither parent, key nor immutable; ST_NOT_FOUND when no row matched. With
 * before, the row as it was stored (or NULL), the C_INDEXED columns are left out when none of them
 * changed. */
int rows_update(struct store_conn *c, const struct store_table *t, const void *row, const void *before);
int rows_delete(struct store_conn *c, const struct store_table *t, const char *parent, const char *key);
/* A keyset page of parent's rows by id. Each row is read into scratch (a struct of t's kind), whose
 * strings point into the engine's result and are valid only during fn; fn returns non-zero to stop. */
int rows_list(struct store_conn *c, const struct store_table *t, const char *parent, const struct page_req *p,
              void *scratch, int (*fn)(void *ctx, const void *row), void *ctx);
/* name(ctx, row): the codec's row callback handing row to the typed callback (fn_type) and context that
 * ctx, a struct name##_ctx {fn, ctx}, holds. */
#define ROWS_LIST_ADAPTER(name, fn_type, row_type)                                                           \
    struct name##_ctx {                                                                                      \
        fn_type fn;                                                                                          \
        void *ctx;                                                                                           \
    };                                                                                                       \
    static int name(void *ctx, const void *row)                                                              \
    {                                                                                                        \
        const struct name##_ctx *l = ctx;                                                                    \
        return l->fn(l->ctx, (const row_type *)row);                                                         \
    }
/* The same with the list filter's n text parameters (each may be NULL), bound from ?4. */
int rows_list_filtered(struct store_conn *c, const struct store_table *t, const char *parent,
                       const struct page_req *p, const char *const *extra, int n, void *scratch,
                       int (*fn)(void *ctx, const void *row), void *ctx);

/* Reads the current row of s into out by cols, the statement's result columns in order (a NULL: strings
 * point into the result). */
void rows_read_cols(const struct store_engine *e, struct store_stmt *s, const struct column *cols, int n,
                    struct arena *a, void *out);
/* The same by a table's columns (a statement that selects the table's readable columns in order). */
static inline void rows_read(const struct store_engine *e, struct store_stmt *s, const struct store_table *t,
                             struct arena *a, void *out)
{
    rows_read_cols(e, s, t->cols, t->n, a, out);
}
/* Runs q to its end with the parameters fmt names, one character each: 't' a string (NULL binds NULL),
 * 'i' a long long, 'z' a long long that binds NULL when 0. Returns 0 or a negative store_result;
 * *changed (may be NULL) receives the rows it changed. */
int rows_exec(struct store_conn *c, struct store_sql *q, long long *changed, const char *fmt, ...);
/* The same for a statement that changes one row: ST_NOT_FOUND when it changed none. */
int rows_exec_one(struct store_conn *c, struct store_sql *q, const char *fmt, ...);
/* A single-row statement with fmt's parameters: its row into out by cols, ST_NOT_FOUND without one. */
int rows_fetch(struct store_conn *c, struct store_sql *q, const struct column *cols, int n, struct arena *a,
               void *out, const char *fmt, ...);
/* The same for a statement whose row is one integer (0 for NULL): a count, an existence, a minimum. */
int rows_int(struct store_conn *c, struct store_sql *q, long long *out, const char *fmt, ...);
/* Every row of q with fmt's parameters, read into scratch by cols (its strings point into the engine's
 * result, valid only during fn; what cols do not read is left as it was) and handed to fn, until fn
 * returns non-zero. */
int rows_each(struct store_conn *c, struct store_sql *q, const struct column *cols, int n, void *scratch,
              int (*fn)(void *ctx, const void *row), void *ctx, const char *fmt, ...);
/* Runs q with row's cols bound as ?1 .. ?n (no sealed columns); deferred: through the engine's
 * exec_deferred (store/engine.h), for a caller that uses nothing but the outcome. */
int rows_write(struct store_conn *c, struct store_sql *q, const struct column *cols, int n, const void *row,
               int deferred);
/* Registers n hand-written statements (store_sql_add); ST_OK or the first failure. */
int rows_sql_add_all(struct store_sql *const *q, size_t n);

#endif
