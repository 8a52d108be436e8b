/* The change log (store/changes.h), once for both engines over the statement seam.
 *
 * A record and its sequence number are one statement. Where the engines differ is how the number is
 * taken, because only PostgreSQL has concurrent writers:
 * - SQLite: the account's highest number plus one (a primary-key lookup). The single writer orders every
 *   transaction; the pruner keeps each account's newest record, so the number never starts again. The
 *   record's key carries the account's number and its own (below).
 * - PostgreSQL: the account's counter row (change_seqs), bumped by an upsert in the recording
 *   transaction. The row stays locked until that transaction ends, so the next recording transaction
 *   of the account takes the next number only after this one committed (or rolled back, and its number
 *   is taken again): strictly increasing in commit order across several servers, at the price that one
 *   account's recording transactions commit one after the other (docs/DECISIONS.md, "Clock, timers and
 *   the change log"). */
#include "store/changes.h"

#include <string.h>

#include "store/domain.h"
#include "store/engine.h"
#include "store/rows.h"
#include "store/store.h"
#include "store/writer.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/ticker.h"

/* SQLite's records are keyed by (the account's number << 40) | seq in a rowid table: every record of an
 * account appends at its range's end, at the table's right edge when the account is the newest, where
 * SQLite's quick balance adds a page instead of redistributing three (an index b-tree keyed by
 * (account_sid, seq) did that, about twice per commit: bench/RESULTS.md). An account gets its number
 * from change_accounts the first time it records. */
#define SEQ_BITS "40"
#define LO "(a.num << " SEQ_BITS ")"
#define HI "((a.num + 1) << " SEQ_BITS ")"
static struct store_sql q_account = {
    .sql = "INSERT OR IGNORE INTO change_accounts(account_sid) VALUES (?1)",
    .sql_pg = "",
};
/* VALUES, not INSERT … SELECT: a SELECT that reads the table it inserts into is first copied into a
 * temporary table (half a record's cost). q_account ran just before, so the account has its number. */
static struct store_sql q_record = {
    .sql = "INSERT INTO changes(key, service_sid, resource, sid, parent_sid, kind, date_ms)"
           " VALUES ((SELECT coalesce((SELECT key FROM changes WHERE key > " LO " AND key < " HI
           " ORDER BY key DESC LIMIT 1), " LO ") + 1 FROM change_accounts a WHERE a.account_sid = ?1),"
           " ?2, ?3, ?4, ?5, ?6, ?7)",
    .sql_pg =
        "WITH s AS (INSERT INTO change_seqs(account_sid, last_seq) VALUES (?1, 1)"
        " ON CONFLICT(account_sid) DO UPDATE SET last_seq = change_seqs.last_seq + 1 RETURNING last_seq)"
        " INSERT INTO changes(account_sid, seq, service_sid, resource, sid, parent_sid, kind, date_ms)"
        " SELECT ?1, s.last_seq, ?2, ?3, ?4, ?5, ?6, ?7::bigint FROM s",
};
static struct store_sql q_list = {
    .sql = "SELECT c.key - " LO ", c.service_sid, c.resource, c.sid, c.parent_sid, c.kind, c.date_ms"
           " FROM change_accounts a JOIN changes c ON c.key > " LO " + ?2 AND c.key < " HI
           " WHERE a.account_sid = ?1 ORDER BY c.key LIMIT ?3",
    .sql_pg = "SELECT seq, service_sid, resource, sid, parent_sid, kind, date_ms FROM changes"
              " WHERE account_sid = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
};
/* Pruning walks the accounts of the log and deletes each one's oldest records, from its lowest number up
 * to the first one within the retention, keeping its newest (SQLite numbers from it). No index on the
 * date: it cost every write a second b-tree insert, and records are numbered in commit order, so the old
 * ones are a prefix (a clock moved back by a test keeps a few longer, never fewer). */
static struct store_sql q_prune_next_account = {
    .sql = "SELECT min(account_sid) FROM change_accounts WHERE account_sid > ?1",
    .sql_pg = "SELECT min(account_sid) FROM changes WHERE account_sid > ?1",
};
static struct store_sql q_prune = {
    .sql =
        "WITH a(lo, hi) AS (SELECT num << " SEQ_BITS ", (num + 1) << " SEQ_BITS
        " FROM change_accounts WHERE account_sid = ?1)"
        " DELETE FROM changes WHERE key IN (SELECT c.key FROM changes c, a"
        " WHERE c.key > a.lo AND c.key < a.hi AND c.key < coalesce("
        "(SELECT key FROM changes, a WHERE key > a.lo AND key < a.hi AND date_ms >= ?2 ORDER BY key LIMIT 1),"
        " (SELECT key FROM changes, a WHERE key > a.lo AND key < a.hi ORDER BY key DESC LIMIT 1))"
        " ORDER BY c.key LIMIT ?3)",
    .sql_pg = "DELETE FROM changes WHERE account_sid = ?1 AND seq IN (SELECT seq FROM changes"
              " WHERE account_sid = ?1 AND seq < coalesce("
              "(SELECT seq FROM changes WHERE account_sid = ?1 AND date_ms >= ?2 ORDER BY seq LIMIT 1),"
              " (SELECT max(seq) FROM changes WHERE account_sid = ?1))"
              " ORDER BY seq LIMIT ?3)",
};

int store_changes_sql_add(void)
{
    struct store_sql *const all[] = {&q_account, &q_record, &q_list, &q_prune_next_account, &q_prune};
    int rc = ST_OK;
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]) && rc == ST_OK; i++)
        rc = store_sql_add(all[i]);
    return rc;
}

static int known_kind(const char *kind)
{
    return kind &&
           (strcmp(kind, "created") == 0 || strcmp(kind, "updated") == 0 || strcmp(kind, "deleted") == 0);
}

int store_change_record(struct store_conn *c, const char *account_sid, const char *service_sid,
                        const char *resource, const char *sid, const char *parent_sid, const char *kind)
{
    if (!account_sid || !resource || !*resource || !sid || !*sid || !known_kind(kind)) {
        log_err("change log: a record without account, resource, sid or a known kind (%s)",
                kind ? kind : "?");
        return ST_ERROR;
    }
    int rc = rows_exec(c, &q_account, NULL, "t", account_sid);
    if (rc != ST_OK) return rc;
    const struct store_engine *e = c->ops->engine;
    struct store_stmt *s = e->stmt(c, &q_record);
    if (!s) return ST_ERROR;
    e->bind_text(s, 1, account_sid);
    e->bind_text(s, 2, service_sid && *service_sid ? service_sid : NULL);
    e->bind_text(s, 3, resource);
    e->bind_text(s, 4, sid);
    e->bind_text(s, 5, parent_sid && *parent_sid ? parent_sid : NULL);
    e->bind_text(s, 6, kind);
    e->bind_int(s, 7, time_now_ms());
    /* every caller only passes the outcome on: the result can wait (store/engine.h) */
    return e->exec_deferred(s);
}

int store_change_list(struct store_conn *c, const char *account_sid, long long after, int limit,
                      int (*fn)(void *ctx, const struct change *ch), void *ctx)
{
    if (limit < 1 || limit > CHANGES_PAGE_MAX) return ST_ERROR;
    /* a number beyond the key's seq bits has no record after it, and one below 0 means from the start */
    if (after >= CHANGES_SEQ_MAX) return ST_OK;
    if (after < 0) after = 0;
    const struct store_engine *e = c->ops->engine;
    struct store_stmt *s = e->stmt(c, &q_list);
    if (!s) return ST_ERROR;
    e->bind_text(s, 1, account_sid);
    e->bind_int(s, 2, after);
    e->bind_int(s, 3, limit);
    int rc;
    while ((rc = e->step(s)) == 1) {
        struct change ch = {
            .seq = e->col_int(s, 0),
            .service_sid = e->col_text(s, 1),
            .resource = e->col_text(s, 2),
            .sid = e->col_text(s, 3),
            .parent_sid = e->col_text(s, 4),
            .kind = e->col_text(s, 5),
            .date_ms = e->col_int(s, 6),
        };
        if (fn(ctx, &ch) != 0) {
            rc = 0;
            break;
        }
    }
    e->reset(s);
    return rc < 0 ? rc : ST_OK;
}

/* The account after `after` in the log ("" for the first), into next; 0 when there is none. */
static int prune_next_account(struct store_conn *c, const char *after, char next[SID_LEN + 1])
{
    const struct store_engine *e = c->ops->engine;
    struct store_stmt *s = e->stmt(c, &q_prune_next_account);
    if (!s) return ST_ERROR;
    e->bind_text(s, 1, after);
    int rc = e->step(s);
    const char *v = rc == 1 ? e->col_text(s, 0) : NULL;
    int found = v && strlen(v) <= SID_LEN;
    if (found) memcpy(next, v, strlen(v) + 1);
    e->reset(s);
    return rc < 0 ? rc : found;
}

int store_change_prune(struct store_conn *c, long long before_ms, int limit, long long *deleted)
{
    const struct store_engine *e = c->ops->engine;
    char account[SID_LEN + 1] = "";
    int rc = ST_OK;
    *deleted = 0;
    while (*deleted < limit && (rc = prune_next_account(c, account, account)) == 1) {
        struct store_stmt *s = e->stmt(c, &q_prune);
        if (!s) return ST_ERROR;
        e->bind_text(s, 1, account);
        e->bind_int(s, 2, before_ms);
        e->bind_int(s, 3, limit - *deleted);
        rc = e->step(s);
        if (rc >= 0) *deleted += e->changes(s);
        e->reset(s);
        if (rc < 0) return rc;
    }
    return rc < 0 ? rc : ST_OK;
}

/* ---- the pruner ---- */

#define MS_PER_DAY 86400000LL

static struct {
    struct ticker ticker;
    struct writer *w;
    long long keep_ms;
    int running;
} pruner;

struct prune_job {
    struct write_job job;
    long long deleted;
};

static int prune_apply(struct store_conn *c, struct write_job *job)
{
    struct prune_job *j = (struct prune_job *)job;
    return store_change_prune(c, time_now_ms() - pruner.keep_ms, CHANGES_PRUNE_BATCH, &j->deleted) != ST_OK;
}

static void prune_complete(struct write_job *job, int committed, int store_result)
{
    struct prune_job *j = (struct prune_job *)job;
    if (!committed) j->deleted = 0;
}

/* One batch per writer job, queued behind the requests already waiting, until a batch is not full. */
static void prune_tick(void *ctx)
{
    (void)ctx;
    long long total = 0;
    for (;;) {
        struct prune_job j = {.job = {.apply = prune_apply, .complete = prune_complete, .lazy = 1}};
        if (writer_run_sync(pruner.w, &j.job) != 0) break;
        total += j.deleted;
        if (j.deleted < CHANGES_PRUNE_BATCH || ticker_stopping(&pruner.ticker)) break;
    }
    if (total) log_info("change log: %lld records older than the retention pruned", total);
}

int changes_pruner_start(struct writer *w, unsigned keep_days)
{
    if (keep_days == 0 || pruner.running) return 0;
    pruner.w = w;
    pruner.keep_ms = (long long)keep_days * MS_PER_DAY;
    if (ticker_start(&pruner.ticker, "parley-changes", CHANGES_PRUNE_PERIOD_MS, 1, prune_tick, NULL) != 0)
        return -1;
    pruner.running = 1;
    return 0;
}

void changes_pruner_stop(void)
{
    if (!pruner.running) return;
    ticker_stop(&pruner.ticker);
    pruner.running = 0;
}
