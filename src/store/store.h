/* The store: its operations are plain functions written once over the statement seam (store/engine.h),
 * declared by family (store/account_store.h, store/webhook_store.h, store/conversations.h, ...) and
 * called directly; an engine (SQLite, PostgreSQL) supplies only what really differs, in struct store_ops:
 * connections, migrations, transactions and the statement. Every function returns 0 or a negative
 * enum store_result. Strings returned in model structs live in the caller's arena.
 *
 * Threads: each thread owns its own struct store_conn (a connection is never shared). All writes go
 * through the single writer (store/writer.h), which batches them into one transaction. */
#ifndef PARLEY_STORE_H
#define PARLEY_STORE_H
#include <stddef.h>

#include "util/sid.h"

struct arena;

enum store_result {
    ST_OK = 0,
    ST_NOT_FOUND = -1,
    ST_CONFLICT = -2, /* a uniqueness rule refused the write */
    ST_IN_USE = -3,   /* a reference to the row still exists */
    ST_BUSY = -4,
    ST_FULL = -5, /* disk or quota full */
    ST_ERROR = -6,
};

struct account {
    char sid[SID_LEN + 1];
    char *auth_token;
    char *friendly_name;
    char default_service_sid[SID_LEN + 1];
    char *default_messaging_service_sid; /* NULL when unset */
    char *default_inactive_timer;
    char *default_closed_timer;
    long long date_created;
};

struct service {
    char sid[SID_LEN + 1];
    char account_sid[SID_LEN + 1];
    char *friendly_name;
    long long date_created;
    long long date_updated;
};

struct service_config {
    char service_sid[SID_LEN + 1];
    char conversation_creator_role_sid[SID_LEN + 1];
    char conversation_role_sid[SID_LEN + 1];
    char chat_service_role_sid[SID_LEN + 1];
    int reachability_enabled;
};

enum role_type { ROLE_SERVICE = 0, ROLE_CONVERSATION = 1 };

struct role {
    long long id;
    char sid[SID_LEN + 1];
    char account_sid[SID_LEN + 1];
    char service_sid[SID_LEN + 1];
    char *friendly_name;
    enum role_type type;
    char *permissions; /* JSON array text, e.g. ["a","b"] */
    long long date_created;
    long long date_updated;
};

struct user {
    long long id; /* keyset position: insertion order */
    char sid[SID_LEN + 1];
    char account_sid[SID_LEN + 1];
    char service_sid[SID_LEN + 1];
    char role_sid[SID_LEN + 1];
    char *identity;
    char *friendly_name; /* NULL when never set */
    char *attributes;
    long long date_created;
    long long date_updated;
};

/* A keyset page request: rows of one parent ordered by id. */
struct page_req {
    long long after;  /* rows with id > after (when dir == 'a') */
    long long before; /* rows with id < before (when dir == 'b'), returned in ascending order */
    char dir;         /* 'a' or 'b'; 'a' with after = 0 is the first page */
    int limit;        /* page size; the backend fetches limit + 1 to learn whether more exist */
};

struct store_conn;
struct store_engine;

struct store_ops {
    const char *name;
    const struct store_engine *engine; /* the statement seam (store/engine.h) */
    int (*open)(const char *target, int writer, int sync_full, struct store_conn **out);
    void (*close)(struct store_conn *c);
    int (*migrate)(struct store_conn *c);
    /* transactions (the writer's connection only) */
    int (*tx_begin)(struct store_conn *c);
    int (*tx_commit)(struct store_conn *c);
    /* COMMIT without waiting for durability (may be NULL: tx_commit is used) */
    int (*tx_commit_lazy)(struct store_conn *c);
    /* May be NULL. A file descriptor whose fdatasync makes every transaction committed so far durable,
     * for a connection whose COMMIT does not wait for the disk itself (SQLite with --sync full: its WAL);
     * -1 when COMMIT is durable by itself; another negative value while the store has none yet (asked
     * again after the next commit). The writer syncs it on a thread of its own (store/writer.c). */
    int (*sync_fd)(struct store_conn *c);
    void (*tx_rollback)(struct store_conn *c);
    int (*savepoint)(struct store_conn *c);
    void (*savepoint_rollback)(struct store_conn *c);
    int (*savepoint_release)(struct store_conn *c);
    /* May be NULL (nothing is ever deferred). The end of a job: the results of its deferred statements
     * (store/engine.h exec_deferred) are read; ST_OK, or the first one's failure, which is the job's: the
     * writer rolls its savepoint back and answers it with that error. No round trip when none waits. */
    int (*deferred_wait)(struct store_conn *c);
};

struct store_conn {
    const struct store_ops *ops;
};

extern const struct store_ops store_sqlite_ops;
extern const struct store_ops
    store_pg_ops; /* store/pg.c; a stub that refuses to open when built STORE_PG=0 */

/* Picks the backend for a --data target (store/store.c): postgres://..., postgresql://... or a libpq
 * keyword string (it contains '=') selects PostgreSQL; anything else is a SQLite file path. */
const struct store_ops *store_backend_for(const char *target);
/* The target as it may be shown: a password in it is replaced by "***". */
void store_target_redact(const char *target, char *out, size_t n);

#endif
