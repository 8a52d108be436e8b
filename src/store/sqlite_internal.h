/* Shared by the SQLite backend's files (store/sqlite*.c): the connection and statement helpers.
 * Each file keeps its own statement table; files other than sqlite.c cache theirs in c->extra at a
 * fixed base (SQ_EXTRA_*). */
#ifndef PARLEY_SQLITE_INTERNAL_H
#define PARLEY_SQLITE_INTERNAL_H
#include <sqlite3.h>

#include "store/store.h"

struct arena;

#define SQ_MAIN_STMTS 64
#define SQ_EXTRA_STMTS 128
#define SQ_EXTRA_WEBHOOKS 0 /* store/sqlite_webhooks.c: 32 slots */
#define SQ_EXTRA_ACCOUNT 32 /* the account model (services, configuration, credentials, keys): 96 */

struct sq_checkpointer;

struct sq_conn {
    struct store_conn base;
    sqlite3 *db;
    int writer;
    int sync_full;
    struct sq_checkpointer *ckpt; /* the writer's background checkpoints (store/sqlite.c) */
    sqlite3_stmt *stmt[SQ_MAIN_STMTS];
    sqlite3_stmt *extra[SQ_EXTRA_STMTS];
    sqlite3_stmt **rows; /* the registered statements (store/engine.h), by id */
    int n_rows;
};

/* Prepares sql into *slot once per connection; NULL (logged) when it cannot. */
sqlite3_stmt *sq_stmt(struct sq_conn *c, sqlite3_stmt **slot, const char *sql);
void sq_done(sqlite3_stmt *s);                             /* reset + clear bindings */
void sq_bind_text(sqlite3_stmt *s, int i, const char *v);  /* NULL binds NULL; v must outlive the step */
char *sq_col_dup(sqlite3_stmt *s, int i, struct arena *a); /* NULL for NULL */
void sq_col_sid(sqlite3_stmt *s, int i, char out[SID_LEN + 1]);
int sq_exec(struct sq_conn *c, sqlite3_stmt *s); /* a statement without rows; store_result */
int sq_map_rc(sqlite3 *db, int rc);              /* sqlite extended code -> store_result */

/* Steps a single-row query: read_stmt runs when a row exists; returns ST_OK, ST_NOT_FOUND or a failure. */
#define STEP_ONE(c, s, read_stmt)                                                                            \
    do {                                                                                                     \
        int rc_ = sqlite3_step(s);                                                                           \
        int r_;                                                                                              \
        if (rc_ == SQLITE_ROW) {                                                                             \
            read_stmt;                                                                                       \
            r_ = ST_OK;                                                                                      \
        } else if (rc_ == SQLITE_DONE) {                                                                     \
            r_ = ST_NOT_FOUND;                                                                               \
        } else {                                                                                             \
            r_ = sq_map_rc((c)->db, sqlite3_extended_errcode((c)->db));                                      \
        }                                                                                                    \
        sq_done(s);                                                                                          \
        return r_;                                                                                           \
    } while (0)

/* Steps a list query: call runs per row (non-zero stops). */
#define LIST_ROWS(c, s, row_decl, read_stmt, call)                                                           \
    do {                                                                                                     \
        int rc_;                                                                                             \
        while ((rc_ = sqlite3_step(s)) == SQLITE_ROW) {                                                      \
            row_decl;                                                                                        \
            read_stmt;                                                                                       \
            if (call) break;                                                                                 \
        }                                                                                                    \
        int r_ = (rc_ == SQLITE_ROW || rc_ == SQLITE_DONE)                                                   \
                     ? ST_OK                                                                                 \
                     : sq_map_rc((c)->db, sqlite3_extended_errcode((c)->db));                                \
        sq_done(s);                                                                                          \
        return r_;                                                                                           \
    } while (0)

#endif
