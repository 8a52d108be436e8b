/* The change log: one ordered record per change of a resource (created, updated, deleted), appended in
 * the same write transaction as the change, for readers that follow it (GET /parley/changes, live
 * views). Each record gets a sequence number, strictly increasing per account in commit order, so that a
 * reader asking for the records after the last one it saw never misses one. Records older than the
 * retention (changes_pruner_start) are pruned in the background. */
#ifndef PARLEY_CHANGES_H
#define PARLEY_CHANGES_H

struct store_conn;
struct writer;

#define CHANGES_PAGE_MAX 1000       /* records one read returns at most */
#define CHANGES_SEQ_MAX (1LL << 40) /* an account's numbers stay below it (SQLite's record key) */

/* resource: "conversation", "participant", "user", "role", ...; kind: "created", "updated" or "deleted";
 * service_sid and parent_sid may be NULL (a participant's parent is its conversation). Inside a write
 * transaction. 0 or a negative store_result. */
int store_change_record(struct store_conn *c, const char *account_sid, const char *service_sid,
                        const char *resource, const char *sid, const char *parent_sid, const char *kind);

struct change {
    long long seq;
    const char *service_sid; /* NULL when none */
    const char *resource;
    const char *sid;
    const char *parent_sid; /* NULL when none */
    const char *kind;
    long long date_ms;
};

/* Calls fn for each of the account's records with seq > after, ascending, at most limit
 * (1..CHANGES_PAGE_MAX); the strings are valid only during the call. fn returns non-zero to stop. Any
 * connection. 0 or a negative store_result. */
int store_change_list(struct store_conn *c, const char *account_sid, long long after, int limit,
                      int (*fn)(void *ctx, const struct change *ch), void *ctx);

/* Deletes up to limit records older than before_ms (of any account), each account's newest one
 * excepted; *deleted says how many. */
int store_change_prune(struct store_conn *c, long long before_ms, int limit, long long *deleted);

/* Prunes, through the writer, records older than keep_days (on the clock) once at start and then every
 * CHANGES_PRUNE_PERIOD_MS, CHANGES_PRUNE_BATCH at a time. keep_days 0 keeps them all (no thread).
 * 0, or -1. */
#define CHANGES_PRUNE_PERIOD_MS (10U * 60 * 1000)
#define CHANGES_PRUNE_BATCH 1000
int changes_pruner_start(struct writer *w, unsigned keep_days);
void changes_pruner_stop(void);

#endif
