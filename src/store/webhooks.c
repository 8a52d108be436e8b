/* Webhook configuration, the outbox of post-event deliveries and the delivery log, once for both
 * engines (store/webhook_store.h).
 *
 * The outbox is shared by every server on a PostgreSQL database. A claim there is one UPDATE over the
 * rows that a FOR UPDATE SKIP LOCKED subquery picked, so two servers claiming at once never take the
 * same row and never wait for each other; each claim carries its session's key (store_engine's
 * session_key, an advisory lock), so the claims of a server that died are due again at once instead of
 * when their lease runs out. SQLite has one process per file: its claim needs neither. */
#include <stddef.h>
#include <string.h>

#include "store/domain.h"
#include "store/rows.h"
#include "store/webhook_store.h"

/* The log keeps the last LOG_KEEP rows per account: a count per account says when an insert pushes the
 * oldest out, so one tenant's deliveries never trim another's log and no insert counts rows. */
#define LOG_KEEP 10000

/* Per account, only its OUTBOX_WINDOW oldest rows are looked at: a claim costs the same with a million
 * rows waiting behind a receiver that is down as with ten. */
#define OUTBOX_WINDOW "256"

/* the accounts with rows: a skip scan, one index probe each */
#define ACCOUNTS_CTE                                                                                         \
    "WITH RECURSIVE acc(a) AS (SELECT (SELECT min(account_sid) FROM webhook_outbox) UNION ALL"               \
    " SELECT (SELECT min(account_sid) FROM webhook_outbox WHERE account_sid > acc.a) FROM acc"               \
    " WHERE acc.a IS NOT NULL)"
#define IS_HEAD(t)                                                                                           \
    "NOT EXISTS (SELECT 1 FROM webhook_outbox p WHERE p.order_key = " t ".order_key AND p.id < " t ".id)"
#define NOT_BACKING_OFF(t)                                                                                   \
    "NOT EXISTS (SELECT 1 FROM webhook_targets t WHERE t.url = " t ".url AND t.blocked_until > ?2)"
/* ranked within the account and within the URL after what is already claimed (busy) */
#define RANKED                                                                                               \
    " ranked AS (SELECT c.id,"                                                                               \
    "  row_number() OVER (PARTITION BY c.account_sid ORDER BY c.id)"                                         \
    "   + (SELECT count(*) FROM busy b WHERE b.account_sid = c.account_sid) AS ra,"                          \
    "  row_number() OVER (PARTITION BY c.url ORDER BY c.id)"                                                 \
    "   + (SELECT count(*) FROM busy b WHERE b.url = c.url) AS rt FROM cand c)"
/* an outbox row's delivery, in this order in outbox_insert's ?1 .. ?7 and in CLAIMED_COLS after the id;
 * OUTBOX_DELIVERY_COLS binds and reads them */
#define OUTBOX_DELIVERY_SQL "account_sid, event_type, url, method, params, order_key, idempotency_token"
#define CLAIMED_COLS " RETURNING id, " OUTBOX_DELIVERY_SQL ", attempts, next_attempt_at, created_at"
/* PostgreSQL: the advisory lock keys held by live sessions, as pg_advisory_lock(bigint) stores them */
#define LIVE_CLAIM_KEYS                                                                                      \
    "SELECT (l.classid::bigint << 32) | l.objid::bigint FROM pg_locks l"                                     \
    " WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted"
/* PostgreSQL: a row nobody live holds: never claimed, lease over, or its server's session is gone */
#define CLAIM_FREE(t)                                                                                        \
    "(" t ".claimed_until IS NULL OR " t ".claimed_until < ?8::bigint OR " t ".claim_session IS NULL OR " t  \
    ".claim_session NOT IN (" LIVE_CLAIM_KEYS "))"

static struct store_sql account_get = {
    .sql = "SELECT method, filters, pre_webhook_url, post_webhook_url, target FROM account_webhooks"
           " WHERE account_sid = ?1",
    .lock = SQL_LOCK_SHARE,
};
static struct store_sql account_put = {
    .sql =
        "INSERT INTO account_webhooks(account_sid, method, filters, pre_webhook_url, post_webhook_url,"
        " target) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (account_sid) DO UPDATE SET"
        " method = excluded.method, filters = excluded.filters, pre_webhook_url = excluded.pre_webhook_url,"
        " post_webhook_url = excluded.post_webhook_url, target = excluded.target",
};
static struct store_sql service_get = {
    .sql = "SELECT method, filters, pre_webhook_url, post_webhook_url FROM service_webhooks"
           " WHERE service_sid = ?1 AND account_sid = ?2",
    .lock = SQL_LOCK_SHARE,
};
static struct store_sql service_put = {
    .sql =
        "INSERT INTO service_webhooks(service_sid, account_sid, method, filters, pre_webhook_url,"
        " post_webhook_url) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (service_sid) DO UPDATE SET"
        " method = excluded.method, filters = excluded.filters, pre_webhook_url = excluded.pre_webhook_url,"
        " post_webhook_url = excluded.post_webhook_url",
};
static struct store_sql outbox_insert_q = {
    .sql = "INSERT INTO webhook_outbox(" OUTBOX_DELIVERY_SQL ", attempts, next_attempt_at, created_at)"
           " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, ?8)",
};
/* Fair claim: per account its OUTBOX_WINDOW oldest rows filtered to due, claimable heads of their order
 * key, ranked, capped (?5 per account, ?6 per URL) and taken round-robin across accounts (?4 in all);
 * ?1 owner, ?2 now (due times and backoff), ?3 lease, ?7 the session's key, ?8 the lease clock's now (leases
 * are real time, store/webhook_store.h). The window goes by id, not by attempt time: an
 * account's oldest row is always the head of its key, so each account progresses, whereas a retrying
 * head would sort behind its own queued (and long due) successors. PostgreSQL then locks the rows SKIP
 * LOCKED with the claimability checked again at that level, so a row another server claimed meanwhile
 * is re-read and left alone. */
static struct store_sql outbox_claim_q = {
    .sql = ACCOUNTS_CTE
    ","
    " busy AS (SELECT account_sid, url FROM webhook_outbox WHERE claimed_until >= ?8),"
    " cand AS (SELECT x.id, x.account_sid, x.url FROM acc JOIN webhook_outbox x ON x.id IN ("
    "  SELECT y.id FROM (SELECT * FROM webhook_outbox w WHERE w.account_sid = acc.a"
    "   ORDER BY w.id LIMIT " OUTBOX_WINDOW ") y"
    "  WHERE y.next_attempt_at <= ?2 AND (y.claimed_until IS NULL OR y.claimed_until < ?8)"
    "  AND " IS_HEAD("y") " AND " NOT_BACKING_OFF(
        "y") " ORDER BY y.id LIMIT ?5))," RANKED
             " UPDATE webhook_outbox SET claimed_by = ?1, claimed_until = ?8 + ?3 WHERE id IN ("
             "  SELECT id FROM ranked WHERE ra <= ?5 AND rt <= ?6 ORDER BY ra, id LIMIT ?4)" CLAIMED_COLS,
    .sql_pg = ACCOUNTS_CTE
    ","
    " busy AS (SELECT account_sid, url FROM webhook_outbox WHERE claimed_until >= ?8::bigint"
    "  AND claim_session IN (" LIVE_CLAIM_KEYS ")),"
    " cand AS (SELECT y.id, y.account_sid, y.url FROM acc CROSS JOIN LATERAL ("
    "  SELECT z.* FROM (SELECT w.* FROM webhook_outbox w WHERE w.account_sid = acc.a"
    "   ORDER BY w.id LIMIT " OUTBOX_WINDOW ") z"
    "  WHERE z.next_attempt_at <= ?2::bigint AND " CLAIM_FREE("z") " AND " IS_HEAD(
        "z") "  AND " NOT_BACKING_OFF("z") " ORDER BY z.id LIMIT ?5::bigint) y WHERE acc.a IS NOT "
                                           "NULL)," RANKED " UPDATE webhook_outbox SET claimed_by = ?1, "
                                           "claimed_until = ?8::bigint + ?3::bigint,"
                                           " claim_session = ?7::bigint WHERE id IN ("
                                           "  SELECT l.id FROM webhook_outbox l WHERE l.id IN (SELECT id "
                                           "FROM ranked"
                                           "   WHERE ra <= ?5::bigint AND rt <= ?6::bigint ORDER BY ra, id "
                                           "LIMIT ?4::bigint)"
                                           "  AND l.next_attempt_at <= ?2::bigint AND " CLAIM_FREE(
                                               "l") " AND " IS_HEAD("l") "  FOR UPDATE SKIP "
                                                                         "LOCKED)" CLAIMED_COLS,
};
/* the earliest time a head row in an account's window may be claimed (a target's backoff included; on
 * PostgreSQL a claim of a dead session does not delay it), on the domain clock (?1 its now): a lease's end,
 * which is on the lease clock (?2 its now), is carried over by the difference of the two */
static struct store_sql outbox_next_due = {
    .sql = ACCOUNTS_CTE " SELECT min(max(o.next_attempt_at, coalesce(o.claimed_until - ?2 + ?1, 0), "
                        "coalesce(t.blocked_until, 0)))"
                        " FROM acc JOIN webhook_outbox o ON o.id IN (SELECT w.id FROM webhook_outbox w"
                        "  WHERE w.account_sid = acc.a ORDER BY w.id LIMIT " OUTBOX_WINDOW ")"
                        " LEFT JOIN webhook_targets t ON t.url = o.url WHERE " IS_HEAD("o"),
    .sql_pg = ACCOUNTS_CTE
    " SELECT min(greatest(o.next_attempt_at, CASE WHEN o.claim_session IN (" LIVE_CLAIM_KEYS ")"
    " THEN o.claimed_until - ?2::bigint + ?1::bigint ELSE 0 END, t.blocked_until))"
    " FROM acc CROSS JOIN LATERAL (SELECT w.* FROM webhook_outbox w WHERE w.account_sid = acc.a"
    "  ORDER BY w.id LIMIT " OUTBOX_WINDOW ") o"
    " LEFT JOIN webhook_targets t ON t.url = o.url WHERE acc.a IS NOT NULL AND " IS_HEAD("o"),
};
/* PostgreSQL's claims also carry the session (its own column) */
static struct store_sql outbox_release_all_q = {
    .sql = "UPDATE webhook_outbox SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by IS NOT NULL",
    .sql_pg = "UPDATE webhook_outbox SET claimed_by = NULL, claimed_until = NULL, claim_session = NULL"
              " WHERE claimed_by IS NOT NULL",
};
static struct store_sql outbox_count_q = {.sql = "SELECT count(*) FROM webhook_outbox"};
static struct store_sql outbox_delete = {.sql = "DELETE FROM webhook_outbox WHERE id = ?1"};
#define RETRY_SET                                                                                            \
    "UPDATE webhook_outbox SET attempts = ?2, next_attempt_at = ?3, last_status = ?4, last_error = ?5,"      \
    " last_latency_ms = ?6, claimed_by = NULL, claimed_until = NULL"
static struct store_sql outbox_retry_q = {
    .sql = RETRY_SET " WHERE id = ?1",
    .sql_pg = RETRY_SET ", claim_session = NULL WHERE id = ?1",
};
/* failures while the target already waits (deliveries that were in flight) count once; the wait is
 * ?3 << failures (at most 20 doublings), capped at ?4 */
#define SHIFTED "(?3 << CASE WHEN webhook_targets.failures < 20 THEN webhook_targets.failures ELSE 20 END)"
static struct store_sql target_failed_q = {
    .sql = "INSERT INTO webhook_targets(url, failures, blocked_until) VALUES (?1, 1, CAST(?2 AS BIGINT) + ?3)"
           " ON CONFLICT (url) DO UPDATE SET failures = webhook_targets.failures"
           " + CASE WHEN webhook_targets.blocked_until <= ?2 THEN 1 ELSE 0 END,"
           " blocked_until = CASE WHEN webhook_targets.blocked_until > ?2 THEN webhook_targets.blocked_until"
           " ELSE ?2 + CASE WHEN ?4 < " SHIFTED " THEN ?4 ELSE " SHIFTED " END END",
};
static struct store_sql target_ok_q = {.sql = "DELETE FROM webhook_targets WHERE url = ?1"};
static struct store_sql log_insert_q = {
    .sql = "INSERT INTO webhook_log(kind, event_type, url, method, outcome, status, attempts, latency_ms,"
           " last_error, idempotency_token, created_at, completed_at, account_sid)"
           " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
};
/* the count row also serialises two servers' trims */
static struct store_sql log_count = {
    .sql = "INSERT INTO webhook_log_counts(account_sid, n) VALUES (?1, 1) ON CONFLICT (account_sid)"
           " DO UPDATE SET n = webhook_log_counts.n + 1 RETURNING n",
};
/* PostgreSQL deletes and uncounts in one statement; SQLite has no DELETE inside WITH */
static struct store_sql log_trim = {
    .sql = "DELETE FROM webhook_log WHERE id IN (SELECT id FROM webhook_log WHERE account_sid = ?1"
           " ORDER BY id LIMIT ?2)",
    .sql_pg = "WITH gone AS (DELETE FROM webhook_log WHERE id IN (SELECT id FROM webhook_log"
              " WHERE account_sid = ?1 ORDER BY id LIMIT ?2::bigint) RETURNING 1)"
              " UPDATE webhook_log_counts SET n = n - (SELECT count(*) FROM gone) WHERE account_sid = ?1",
};
static struct store_sql log_uncount = {
    .sql = "UPDATE webhook_log_counts SET n = n - ?2 WHERE account_sid = ?1",
    .sql_pg = "",
};
/* in the log's shape (log_list_q): a post-event delivery, pending, not completed */
static struct store_sql pending_list = {
    .sql = "SELECT id, 'post', event_type, url, method, 'pending', last_status, attempts, last_latency_ms,"
           " last_error, idempotency_token, created_at, 0 FROM webhook_outbox WHERE account_sid = ?1"
           " ORDER BY id DESC LIMIT ?2",
};
static struct store_sql log_list_q = {
    .sql = "SELECT id, kind, event_type, url, method, outcome, status, attempts, latency_ms, last_error,"
           " idempotency_token, created_at, completed_at FROM webhook_log WHERE account_sid = ?1"
           " ORDER BY id DESC LIMIT ?2",
};

int store_webhooks_sql_add(void)
{
    struct store_sql *const all[] = {
        &account_get,    &account_put,     &service_get,          &service_put,    &outbox_insert_q,
        &outbox_claim_q, &outbox_next_due, &outbox_release_all_q, &outbox_count_q, &outbox_delete,
        &outbox_retry_q, &target_failed_q, &target_ok_q,          &log_insert_q,   &log_count,
        &log_trim,       &log_uncount,     &pending_list,         &log_list_q,
    };
    return rows_sql_add_all(all, sizeof(all) / sizeof(all[0]));
}

/* ---- rows by offset ---- */

static const struct column config_cols[] = {
    ROWS_COL(struct webhook_config, method, CK_TEXT, 0),
    ROWS_COL(struct webhook_config, filters, CK_TEXT, 0),
    ROWS_COL(struct webhook_config, pre_url, CK_TEXT, 0),
    ROWS_COL(struct webhook_config, post_url, CK_TEXT, 0),
    ROWS_COL(struct webhook_config, target, CK_TEXT, 0),
};
/* the columns of OUTBOX_DELIVERY_SQL */
/* clang-format off */
#define OUTBOX_DELIVERY_COLS                                                                                 \
    ROWS_COL(struct outbox_row, account_sid, CK_SID, 0),                                                     \
    ROWS_COL(struct outbox_row, event_type, CK_TEXT, 0),                                                     \
    ROWS_COL(struct outbox_row, url, CK_TEXT, 0),                                                            \
    ROWS_COL(struct outbox_row, method, CK_TEXT, 0),                                                         \
    ROWS_COL(struct outbox_row, params, CK_TEXT, 0),                                                         \
    ROWS_COL(struct outbox_row, order_key, CK_TEXT, 0),                                                      \
    ROWS_COL(struct outbox_row, idempotency_token, CK_TEXT, 0)
/* clang-format on */
/* outbox_insert's ?1 .. ?8 */
static const struct column outbox_new_cols[] = {
    OUTBOX_DELIVERY_COLS,
    ROWS_COL(struct outbox_row, created_at, CK_I64, 0),
};
/* CLAIMED_COLS */
static const struct column claimed_cols[] = {
    ROWS_COL(struct outbox_row, id, CK_I64, 0),
    OUTBOX_DELIVERY_COLS,
    ROWS_COL(struct outbox_row, attempts, CK_INT, 0),
    ROWS_COL(struct outbox_row, next_attempt_at, CK_I64, 0),
    ROWS_COL(struct outbox_row, created_at, CK_I64, 0),
};
/* log_list's and pending_list's result (the first 13), and from kind on log_insert's ?1 .. ?13 */
static const struct column log_cols[] = {
    ROWS_COL(struct webhook_log_entry, id, CK_I64, 0),
    ROWS_COL(struct webhook_log_entry, kind, CK_TEXT, 0),
    ROWS_COL(struct webhook_log_entry, event_type, CK_TEXT, 0),
    ROWS_COL(struct webhook_log_entry, url, CK_TEXT, 0),
    ROWS_COL(struct webhook_log_entry, method, CK_TEXT, 0),
    ROWS_COL(struct webhook_log_entry, outcome, CK_TEXT, 0),
    ROWS_COL(struct webhook_log_entry, status, CK_INT, C_ZERO_NULL),
    ROWS_COL(struct webhook_log_entry, attempts, CK_INT, 0),
    ROWS_COL(struct webhook_log_entry, latency_ms, CK_I64, 0),
    ROWS_COL(struct webhook_log_entry, last_error, CK_TEXT, 0),
    ROWS_COL(struct webhook_log_entry, idempotency_token, CK_TEXT, 0),
    ROWS_COL(struct webhook_log_entry, created_at, CK_I64, 0),
    ROWS_COL(struct webhook_log_entry, completed_at, CK_I64, 0),
    ROWS_COL(struct webhook_log_entry, account_sid, CK_SID, 0),
};
#define LOG_COLS_N ROWS_N(log_cols)
/* ---- configuration ---- */

int store_webhook_config_get(struct store_conn *c, const char *account_sid, const char *service_sid,
                             struct arena *a, struct webhook_config *out)
{
    memset(out, 0, sizeof(*out));
    memcpy(out->account_sid, account_sid, SID_LEN);
    if (!service_sid)
        return rows_fetch(c, &account_get, config_cols, ROWS_N(config_cols), a, out, "t", account_sid);
    memcpy(out->service_sid, service_sid, SID_LEN);
    /* a service's configuration has no target */
    return rows_fetch(c, &service_get, config_cols, ROWS_N(config_cols) - 1, a, out, "tt", service_sid,
                      account_sid);
}

int store_webhook_config_put(struct store_conn *c, const struct webhook_config *cfg)
{
    if (cfg->service_sid[0])
        return rows_exec(c, &service_put, NULL, "tttttt", cfg->service_sid, cfg->account_sid, cfg->method,
                         cfg->filters, cfg->pre_url, cfg->post_url);
    return rows_exec(c, &account_put, NULL, "tttttt", cfg->account_sid, cfg->method, cfg->filters,
                     cfg->pre_url, cfg->post_url, cfg->target ? cfg->target : "webhook");
}

/* ---- the outbox ---- */

int store_outbox_insert(struct store_conn *c, const struct outbox_row *row)
{
    /* its callers use only the outcome; the row's id is the claim's business */
    return rows_write(c, &outbox_insert_q, outbox_new_cols, ROWS_N(outbox_new_cols), row, 1);
}

/* The claim's rows, handed on and counted (fn's answer does not stop the claim: its rows are claimed). */
struct claimed_ctx {
    outbox_row_fn fn;
    void *ctx;
    int n;
};

static int claimed_row(void *ctx, const void *row)
{
    struct claimed_ctx *l = ctx;
    l->n++;
    l->fn(l->ctx, row);
    return 0;
}

/* One statement in the caller's transaction (the writer's): on PostgreSQL the rows stay locked until it
 * commits, so other servers skip them meanwhile. */
int store_outbox_claim(struct store_conn *c, const char *owner, long long now, long long lease_now,
                       long long lease_ms, int limit, const struct outbox_claim_limits *lim, outbox_row_fn fn,
                       void *ctx, long long *next_due)
{
    *next_due = 0;
    long long key = 0;
    int rc = c->ops->engine->session_key(c, &key);
    if (rc != ST_OK) return rc;
    struct outbox_row row;
    struct claimed_ctx l = {fn, ctx, 0};
    rc = rows_each(c, &outbox_claim_q, claimed_cols, ROWS_N(claimed_cols), &row, claimed_row, &l, "tiiiiizi",
                   owner, now, lease_ms, (long long)limit, (long long)lim->per_account,
                   (long long)lim->per_target, key, lease_now);
    if (rc != ST_OK || l.n >= limit) return rc;
    rows_int(c, &outbox_next_due, next_due, "ii", now, lease_now); /* 0 for NULL: nothing waits */
    return ST_OK;
}

int store_webhook_target_failed(struct store_conn *c, const char *url, long long now, long long base_ms,
                                long long max_ms)
{
    return rows_exec(c, &target_failed_q, NULL, "tiii", url, now, base_ms, max_ms);
}

int store_webhook_target_ok(struct store_conn *c, const char *url)
{
    return rows_exec(c, &target_ok_q, NULL, "t", url);
}

int store_outbox_release_all(struct store_conn *c)
{
    return rows_exec(c, &outbox_release_all_q, NULL, "");
}

int store_outbox_count(struct store_conn *c, long long *n)
{
    return rows_int(c, &outbox_count_q, n, "");
}

/* ---- the log ---- */

int store_webhook_log_insert(struct store_conn *c, const struct webhook_log_entry *le)
{
    int rc = rows_write(c, &log_insert_q, log_cols + 1, LOG_COLS_N - 1, le, 0);
    if (rc != ST_OK) return rc;
    /* keep the log bounded per account: past LOG_KEEP rows, the account's oldest go */
    long long n = 0;
    rc = rows_int(c, &log_count, &n, "t", le->account_sid); /* RETURNING: the upsert is done at once */
    if (rc != ST_OK) return rc == ST_NOT_FOUND ? ST_ERROR : rc;
    if (n <= LOG_KEEP) return ST_OK;
    long long gone = 0;
    rc = rows_exec(c, &log_trim, &gone, "ti", le->account_sid, n - LOG_KEEP);
    return rc == ST_OK ? rows_exec(c, &log_uncount, NULL, "ti", le->account_sid, gone) : rc;
}

int store_outbox_finish(struct store_conn *c, long long id, const struct webhook_log_entry *le)
{
    int rc = rows_exec(c, &outbox_delete, NULL, "i", id);
    return rc == ST_OK ? store_webhook_log_insert(c, le) : rc;
}

int store_outbox_retry(struct store_conn *c, long long id, int attempts, long long next_attempt_at,
                       int status, const char *error, long long latency_ms)
{
    return rows_exec(c, &outbox_retry_q, NULL, "iiizti", id, (long long)attempts, next_attempt_at,
                     (long long)status, error, latency_ms);
}

/* The log's rows, handed on and counted; stop: fn asked to stop. */
struct log_ctx {
    webhook_log_fn fn;
    void *ctx;
    int seen, stop;
};

static int log_row(void *ctx, const void *row)
{
    struct log_ctx *l = ctx;
    l->seen++;
    return l->stop = l->fn(l->ctx, row);
}

int store_webhook_log_list(struct store_conn *c, const char *account_sid, int limit, webhook_log_fn fn,
                           void *ctx)
{
    struct log_ctx l = {fn, ctx, 0, 0};
    struct webhook_log_entry le = {0};
    memcpy(le.account_sid, account_sid, SID_LEN);
    int rc = rows_each(c, &pending_list, log_cols, LOG_COLS_N - 1, &le, log_row, &l, "ti", account_sid,
                       (long long)limit);
    if (rc != ST_OK || l.stop || l.seen >= limit) return rc;
    return rows_each(c, &log_list_q, log_cols, LOG_COLS_N - 1, &le, log_row, &l, "ti", account_sid,
                     (long long)(limit - l.seen));
}
