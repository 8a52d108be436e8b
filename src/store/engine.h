/* The seam between the store and its engines: the statement. Domain code (store/users.c, ...) is written
 * once against this; each engine (SQLite, PostgreSQL) implements it, with its connection, statement
 * cache, pipelining, retries and error mapping underneath.
 *
 * SQL text is written once with ?N placeholders. Each statement is registered at start-up (store_sql_add,
 * store/rows.c) and gets an id; an engine prepares every registered statement once per connection and
 * finds it by id (PostgreSQL rewrites ?N to $N at registration). */
#ifndef PARLEY_STORE_ENGINE_H
#define PARLEY_STORE_ENGINE_H

#include <stddef.h>

#include "store/store.h"

/* The highest ?N a statement may use: what every engine binds (a higher one is refused at registration,
 * where an engine would otherwise drop the bind and fail only when the statement runs). */
#define STORE_SQL_PARAMS_MAX 32

/* Row lock that a read inside the writer's transaction takes where the engine has row locks (see
 * store/pg_internal.h for the rule); SQLite's single writer needs none. */
enum sql_lock {
    SQL_LOCK_NONE,
    SQL_LOCK_SHARE,  /* rows other writes only read as references */
    SQL_LOCK_UPDATE, /* rows their own operations read, change and write back */
    SQL_LOCK_DELETE, /* a row about to be deleted: references to it wait */
};

struct store_sql {
    const char *sql; /* ?N placeholders */
    /* NULL: sql rewritten; else PostgreSQL's own text, where the meaning differs; "": nothing to run
     * there (PostgreSQL did it in an earlier statement): its step answers "no rows" at no cost */
    const char *sql_pg;
    enum sql_lock lock;
    /* set by store_sql_add */
    int id;
    char *pg_text;      /* $N placeholders */
    char *pg_text_lock; /* with the lock clause; NULL without a lock */
    struct store_sql *next;
};

/* A prepared statement of one connection, owned by the engine. */
struct store_stmt;

struct store_engine {
    /* q's statement on c, reset and with no bindings; NULL (logged) when it cannot be prepared */
    struct store_stmt *(*stmt)(struct store_conn *c, const struct store_sql *q);
    void (*bind_text)(struct store_stmt *s, int i,
                      const char *v); /* 1-based; NULL binds NULL; v outlives step */
    void (*bind_int)(struct store_stmt *s, int i, long long v);
    /* 1: a row is ready, 0: no more rows, else a negative store_result */
    int (*step)(struct store_stmt *s);
    const char *(*col_text)(struct store_stmt *s, int i); /* 0-based; NULL for NULL; valid until step/reset */
    long long (*col_int)(struct store_stmt *s, int i);    /* 0 for NULL */
    long long (*changes)(struct store_stmt *s);           /* rows the statement changed */
    long long (*last_id)(struct store_stmt *s);           /* the id an insert gave its row */
    void (*reset)(struct store_stmt *s);                  /* done with it: results and bindings go */
    /* Runs s (bound, not stepped) for its effect alone and resets it: 0 or a negative store_result.
     * Only for a statement whose caller uses nothing but success or failure (no rows, no changes(), no
     * last_id, no conflict turned into an answer of its own). In the writer's transaction PostgreSQL
     * queues it in the pipeline and reads its result with the next statement whose result is read, or
     * at the end of the job (store_ops.deferred_wait); its failure then fails that statement, and the
     * job. SQLite (and PostgreSQL outside that transaction) runs it at once. */
    int (*exec_deferred)(struct store_stmt *s);
    /* A key that marks this session's outbox claims, held while the session lives, so that claims of a
     * server that died are free at once (PostgreSQL: a session advisory lock); 0 where one process owns
     * the data (SQLite). ST_OK or a store_result. */
    int (*session_key)(struct store_conn *c, long long *key);
};

/* An engine's two tables from its functions, named alike in both engines (eng_stmt, eng_open, ...). */
#define STORE_ENGINE_FNS                                                                                     \
    .stmt = eng_stmt, .bind_text = eng_bind_text, .bind_int = eng_bind_int, .step = eng_step,                \
    .col_text = eng_col_text, .col_int = eng_col_int, .changes = eng_changes, .last_id = eng_last_id,        \
    .reset = eng_reset, .session_key = eng_session_key, .exec_deferred = eng_exec_deferred
#define STORE_ENGINE_OPS                                                                                     \
    .open = eng_open, .close = eng_close, .migrate = eng_migrate, .tx_begin = eng_tx_begin,                  \
    .tx_commit = eng_tx_commit, .tx_rollback = eng_tx_rollback, .savepoint = eng_savepoint,                  \
    .savepoint_rollback = eng_savepoint_rollback, .savepoint_release = eng_savepoint_release

/* Registers q (once, before any connection opens; store_sql_init calls this for every statement). */
int store_sql_add(struct store_sql *q);
/* Registers every statement of the store: the row codec's tables and the hand-written ones. Thread-safe,
 * idempotent; an engine calls it in open. Returns 0 or ST_ERROR. */
int store_sql_init(void);
/* The registered statements, in id order. */
const struct store_sql *store_sql_first(void);
/* For an engine's open: registers the statements (store_sql_init) and returns a zeroed array of one slot
 * of size bytes per statement (free it), their number in *n; NULL when either fails. */
void *store_sql_slots(size_t size, int *n);

/* Runs a statement without rows to its end: 0 or a negative store_result (s is reset). */
int store_stmt_exec(const struct store_engine *e, struct store_stmt *s);

#endif
