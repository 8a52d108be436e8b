/* Shared by the PostgreSQL backend's files (store/pg*.c): the connection, the statement tables and the
 * helpers that run a prepared statement and map its outcome to a store_result.
 *
 * Each file owns a table of SQL texts (enum-indexed). Every statement of every table is prepared once
 * per connection, in one pipelined round trip, right after connecting and again after a reset; it is
 * then run by name ("<table letter><index>") with text parameters and text results.
 *
 * Locking rule of the writer: inside the writer's transaction a single-row read takes a row lock,
 * because apply functions read a row and write it back (users.c apply_update). Rows that are
 * read-modify-written by their own operations take FOR NO KEY UPDATE; rows that other writes only
 * read as references (roles, service configuration, services, webhook configuration) take FOR SHARE,
 * so that concurrent user writes of several servers do not queue on them. Readers never lock. */
#ifndef PARLEY_PG_INTERNAL_H
#define PARLEY_PG_INTERNAL_H
#include <libpq-fe.h>

#include "store/store.h"

struct store_webhook_ops;
struct store_account_ops;

struct arena;
struct store_stmt;

enum pg_table { PGT_MAIN, PGT_WEBHOOKS, PGT_ACCOUNT, PGT__COUNT };

struct pg_sql_table {
    char letter; /* statement names: letter + index */
    int n;
    const char *const *sql;
};

extern const struct pg_sql_table pg_webhook_sql; /* store/pg_webhooks.c */
extern const struct pg_sql_table pg_account_sql; /* store/pg_account_model.c */
extern const struct store_webhook_ops pg_webhook_ops;
extern const struct store_account_ops pg_account_ops;

struct pg_conn {
    struct store_conn base;
    PGconn *db;
    int writer;
    int sync_full;
    int prepared;        /* every table is prepared on this session */
    int in_tx;           /* between tx_begin and tx_commit / tx_rollback: the session is in pipeline mode */
    int queued;          /* utility commands sent in the pipeline whose results are not read yet */
    int tx_answered;     /* some statement of the transaction has been answered */
    int tx_doomed;       /* a transient failure (busy, lost connection) ended the transaction's hopes */
    int sp_failed;       /* a statement failed since the last savepoint: the job cannot be kept */
    long long claim_key; /* session advisory lock held while this session has outbox claims */
    int claim_locked;    /* claim_key is locked on the current session */
    struct store_stmt *rows; /* the registered statements (store/engine.h), by id */
    int n_rows;
};

/* Text parameters of one statement; integers are formatted into the struct (do not copy it). */
#define PG_MAX_PARAMS 20
struct pg_params {
    int n;
    const char *v[PG_MAX_PARAMS];
    char num[PG_MAX_PARAMS][24];
};

static inline void pp_text(struct pg_params *p, const char *s)
{
    p->v[p->n++] = s;
}
void pp_int(struct pg_params *p, long long x);
void pp_bool(struct pg_params *p, int b);

/* Runs statement id of table t. On ST_OK *res holds the result (PQclear it); otherwise *res is NULL. */
int pg_exec(struct pg_conn *c, enum pg_table t, int id, const struct pg_params *p, PGresult **res);
/* A statement without rows; *changed (may be NULL) receives the number of rows it changed. */
int pg_cmd(struct pg_conn *c, enum pg_table t, int id, const struct pg_params *p, long long *changed);
/* A statement that changes one row: ST_NOT_FOUND when it changed none. */
int pg_cmd_one(struct pg_conn *c, enum pg_table t, int id, const struct pg_params *p);
/* A single-row query: ST_NOT_FOUND when it returned no row (and then *res is NULL). */
int pg_row(struct pg_conn *c, enum pg_table t, int id, const struct pg_params *p, PGresult **res);

/* The writer holds a transaction on this connection: reads must lock what they return. */
static inline int pg_locking(const struct pg_conn *c)
{
    return c->writer && c->in_tx;
}

/* Column helpers: NULL for SQL NULL; list rows point into the result (valid until PQclear). */
char *pg_col(PGresult *r, int row, int col);
char *pg_col_dup(PGresult *r, int row, int col, struct arena *a);
char *pg_col_text(PGresult *r, int row, int col, struct arena *a);     /* a NULL: no copy */
long long pg_col_i64(PGresult *r, int row, int col);                   /* 0 for NULL */
void pg_col_sid(PGresult *r, int row, int col, char out[SID_LEN + 1]); /* "" for NULL */

/* The rows of a list result: for each row index i, declare the row, read it, hand it over (a non-zero
 * call stops); then frees r and returns ST_OK from the enclosing function (as LIST_ROWS does for SQLite). */
#define PG_LIST_ROWS(r, i, row_decl, read_stmt, call)                                                        \
    do {                                                                                                     \
        for (int i = 0, n_ = PQntuples(r); i < n_; i++) {                                                    \
            row_decl;                                                                                        \
            read_stmt;                                                                                       \
            if (call) break;                                                                                 \
        }                                                                                                    \
        PQclear(r);                                                                                          \
        return ST_OK;                                                                                        \
    } while (0)

#endif
