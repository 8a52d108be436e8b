/* SQLite: webhook configuration, outbox and delivery log. */
#include <string.h>

#include "store/sqlite_internal.h"
#include "store/webhook_store.h"
#include "util/arena.h"

enum wq_id {
    WQ_ACCOUNT_GET,
    WQ_ACCOUNT_PUT,
    WQ_SERVICE_GET,
    WQ_SERVICE_PUT,
    WQ_OUTBOX_INSERT,
    WQ_OUTBOX_CLAIM,
    WQ_OUTBOX_NEXT_DUE,
    WQ_OUTBOX_RELEASE_ALL,
    WQ_OUTBOX_COUNT,
    WQ_OUTBOX_DELETE,
    WQ_OUTBOX_RETRY,
    WQ_TARGET_FAILED,
    WQ_TARGET_OK,
    WQ_LOG_INSERT,
    WQ_LOG_COUNT,
    WQ_LOG_TRIM,
    WQ_LOG_UNCOUNT,
    WQ_PENDING_LIST,
    WQ_LOG_LIST,
    WQ__COUNT
};
_Static_assert(WQ__COUNT <= 32, "webhook statements overflow their slots");

/* The log keeps the last LOG_KEEP rows per account: a count per account says when an insert pushes the
 * oldest out, so one tenant's deliveries never trim another's log and no insert counts rows. */
#define LOG_KEEP 10000

#define OUTBOX_WINDOW "256"

static const char *const wq_sql[WQ__COUNT] = {
    [WQ_ACCOUNT_GET] =
        "SELECT method, filters, pre_webhook_url, post_webhook_url, target FROM account_webhooks"
        " WHERE account_sid = ?1",
    [WQ_ACCOUNT_PUT] =
        "INSERT INTO account_webhooks(account_sid, method, filters, pre_webhook_url, post_webhook_url,"
        " target) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(account_sid) DO UPDATE SET"
        " method = ?2, filters = ?3, pre_webhook_url = ?4, post_webhook_url = ?5, target = ?6",
    [WQ_SERVICE_GET] = "SELECT method, filters, pre_webhook_url, post_webhook_url FROM service_webhooks"
                       " WHERE service_sid = ?1 AND account_sid = ?2",
    [WQ_SERVICE_PUT] =
        "INSERT INTO service_webhooks(service_sid, account_sid, method, filters, pre_webhook_url,"
        " post_webhook_url) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(service_sid) DO UPDATE SET"
        " method = ?3, filters = ?4, pre_webhook_url = ?5, post_webhook_url = ?6",
    [WQ_OUTBOX_INSERT] = "INSERT INTO webhook_outbox(account_sid, event_type, url, method, params, order_key,"
                         " idempotency_token, attempts, next_attempt_at, created_at)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, ?8)",
    /* Fair claim: the accounts with rows (a skip scan, one index probe each), then per account its
     * OUTBOX_WINDOW oldest rows (index webhook_outbox_by_account: a claim costs the same with a million
     * rows waiting behind a receiver that is down as with ten) filtered to due, claimable heads of their
     * order key; ranked within the account and within the URL after what is already claimed, capped
     * (?5 per account, ?6 per URL) and taken round-robin across accounts. The window goes by id, not by
     * attempt time: an account's oldest row is always the head of its key, so each account progresses,
     * whereas a retrying head would sort behind its own queued (and long due) successors. */
    [WQ_OUTBOX_CLAIM] =
        "WITH RECURSIVE acc(a) AS (SELECT (SELECT min(account_sid) FROM webhook_outbox) UNION ALL"
        " SELECT (SELECT min(account_sid) FROM webhook_outbox WHERE account_sid > acc.a) FROM acc WHERE "
        "acc.a IS NOT NULL),"
        " busy AS (SELECT account_sid, url FROM webhook_outbox WHERE claimed_until >= ?2),"
        " cand AS (SELECT x.id, x.account_sid, x.url FROM acc JOIN webhook_outbox x ON x.id IN ("
        "  SELECT y.id FROM (SELECT * FROM webhook_outbox w WHERE w.account_sid = acc.a"
        "   ORDER BY w.id LIMIT " OUTBOX_WINDOW ") y"
        "  WHERE y.next_attempt_at <= ?2 AND (y.claimed_until IS NULL OR y.claimed_until < ?2)"
        "  AND NOT EXISTS (SELECT 1 FROM webhook_outbox p WHERE p.order_key = y.order_key AND p.id < y.id)"
        "  AND NOT EXISTS (SELECT 1 FROM webhook_targets t WHERE t.url = y.url AND t.blocked_until > ?2)"
        "  ORDER BY y.id LIMIT ?5)),"
        " ranked AS (SELECT c.id,"
        "  row_number() OVER (PARTITION BY c.account_sid ORDER BY c.id)"
        "   + (SELECT count(*) FROM busy b WHERE b.account_sid = c.account_sid) AS ra,"
        "  row_number() OVER (PARTITION BY c.url ORDER BY c.id)"
        "   + (SELECT count(*) FROM busy b WHERE b.url = c.url) AS rt FROM cand c)"
        " UPDATE webhook_outbox SET claimed_by = ?1, claimed_until = ?2 + ?3 WHERE id IN ("
        "  SELECT id FROM ranked WHERE ra <= ?5 AND rt <= ?6 ORDER BY ra, id LIMIT ?4)"
        " RETURNING id, account_sid, event_type, url, method, params, order_key, idempotency_token,"
        " attempts, next_attempt_at, created_at",
    /* the earliest time a head row in an account's window may be claimed (a target's backoff included) */
    [WQ_OUTBOX_NEXT_DUE] =
        "WITH RECURSIVE acc(a) AS (SELECT (SELECT min(account_sid) FROM webhook_outbox) UNION ALL"
        " SELECT (SELECT min(account_sid) FROM webhook_outbox WHERE account_sid > acc.a) FROM acc WHERE "
        "acc.a IS NOT NULL)"
        " SELECT min(max(o.next_attempt_at, coalesce(o.claimed_until, 0), coalesce(t.blocked_until, 0)))"
        " FROM acc JOIN webhook_outbox o ON o.id IN (SELECT w.id FROM webhook_outbox w WHERE w.account_sid = "
        "acc.a"
        "  ORDER BY w.id LIMIT " OUTBOX_WINDOW ")"
        " LEFT JOIN webhook_targets t ON t.url = o.url"
        " WHERE NOT EXISTS (SELECT 1 FROM webhook_outbox p WHERE p.order_key = o.order_key AND p.id < o.id)",
    [WQ_OUTBOX_RELEASE_ALL] = "UPDATE webhook_outbox SET claimed_by = NULL, claimed_until = NULL"
                              " WHERE claimed_by IS NOT NULL",
    [WQ_OUTBOX_COUNT] = "SELECT count(*) FROM webhook_outbox",
    [WQ_OUTBOX_DELETE] = "DELETE FROM webhook_outbox WHERE id = ?1",
    [WQ_OUTBOX_RETRY] =
        "UPDATE webhook_outbox SET attempts = ?2, next_attempt_at = ?3, last_status = ?4,"
        " last_error = ?5, last_latency_ms = ?6, claimed_by = NULL, claimed_until = NULL WHERE id = ?1",
    /* failures while the target already waits (deliveries that were in flight) count once */
    [WQ_TARGET_FAILED] = "INSERT INTO webhook_targets(url, failures, blocked_until) VALUES (?1, 1, ?2 + ?3)"
                         " ON CONFLICT(url) DO UPDATE SET"
                         " failures = failures + (blocked_until <= ?2),"
                         " blocked_until = CASE WHEN blocked_until > ?2 THEN blocked_until"
                         " ELSE ?2 + min(?4, ?3 << min(failures, 20)) END",
    [WQ_TARGET_OK] = "DELETE FROM webhook_targets WHERE url = ?1",
    [WQ_LOG_INSERT] =
        "INSERT INTO webhook_log(account_sid, kind, event_type, url, method, outcome, status, attempts,"
        " latency_ms, last_error, idempotency_token, created_at, completed_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    [WQ_LOG_COUNT] = "INSERT INTO webhook_log_counts(account_sid, n) VALUES (?1, 1) ON CONFLICT(account_sid)"
                     " DO UPDATE SET n = n + 1 RETURNING n",
    [WQ_LOG_TRIM] = "DELETE FROM webhook_log WHERE id IN (SELECT id FROM webhook_log WHERE account_sid = ?1"
                    " ORDER BY id LIMIT ?2)",
    [WQ_LOG_UNCOUNT] = "UPDATE webhook_log_counts SET n = n - ?2 WHERE account_sid = ?1",
    [WQ_PENDING_LIST] =
        "SELECT id, event_type, url, method, last_status, attempts, last_latency_ms, last_error,"
        " idempotency_token, created_at FROM webhook_outbox WHERE account_sid = ?1"
        " ORDER BY id DESC LIMIT ?2",
    [WQ_LOG_LIST] =
        "SELECT id, kind, event_type, url, method, outcome, status, attempts, latency_ms, last_error,"
        " idempotency_token, created_at, completed_at FROM webhook_log WHERE account_sid = ?1"
        " ORDER BY id DESC LIMIT ?2",
};

static sqlite3_stmt *wq(struct sq_conn *c, enum wq_id id)
{
    return sq_stmt(c, &c->extra[SQ_EXTRA_WEBHOOKS + id], wq_sql[id]);
}

static int config_get(struct store_conn *sc, const char *account_sid, const char *service_sid,
                      struct arena *a, struct webhook_config *out)
{
    struct sq_conn *c = (struct sq_conn *)sc;
    sqlite3_stmt *s = wq(c, service_sid ? WQ_SERVICE_GET : WQ_ACCOUNT_GET);
    if (!s) return ST_ERROR;
    memset(out, 0, sizeof(*out));
    memcpy(out->account_sid, account_sid, SID_LEN);
    if (service_sid) {
        memcpy(out->service_sid, service_sid, SID_LEN);
        sq_bind_text(s, 1, service_sid);
        sq_bind_text(s, 2, account_sid);
    } else {
        sq_bind_text(s, 1, account_sid);
    }
    STEP_ONE(c, s, {
        out->method = sq_col_dup(s, 0, a);
        out->filters = sq_col_dup(s, 1, a);
        out->pre_url = sq_col_dup(s, 2, a);
        out->post_url = sq_col_dup(s, 3, a);
        if (!service_sid) out->target = sq_col_dup(s, 4, a);
    });
}

static int config_put(struct store_conn *sc, const struct webhook_config *cfg)
{
    struct sq_conn *c = (struct sq_conn *)sc;
    int svc = cfg->service_sid[0] != '\0';
    sqlite3_stmt *s = wq(c, svc ? WQ_SERVICE_PUT : WQ_ACCOUNT_PUT);
    if (!s) return ST_ERROR;
    int i = 1;
    if (svc) sq_bind_text(s, i++, cfg->service_sid);
    sq_bind_text(s, i++, cfg->account_sid);
    sq_bind_text(s, i++, cfg->method);
    sq_bind_text(s, i++, cfg->filters);
    sq_bind_text(s, i++, cfg->pre_url);
    sq_bind_text(s, i++, cfg->post_url);
    if (!svc) sq_bind_text(s, i++, cfg->target ? cfg->target : "webhook");
    return sq_exec(c, s);
}

static int outbox_insert(struct store_conn *sc, const struct outbox_row *row)
{
    struct sq_conn *c = (struct sq_conn *)sc;
    sqlite3_stmt *s = wq(c, WQ_OUTBOX_INSERT);
    if (!s) return ST_ERROR;
    sq_bind_text(s, 1, row->account_sid);
    sq_bind_text(s, 2, row->event_type);
    sq_bind_text(s, 3, row->url);
    sq_bind_text(s, 4, row->method);
    sq_bind_text(s, 5, row->params);
    sq_bind_text(s, 6, row->order_key);
    sq_bind_text(s, 7, row->idempotency_token);
    sqlite3_bind_int64(s, 8, row->created_at);
    return sq_exec(c, s);
}

static int run(struct sq_conn *c, enum wq_id id)
{
    sqlite3_stmt *s = wq(c, id);
    return s ? sq_exec(c, s) : ST_ERROR;
}

static int outbox_claim(struct store_conn *sc, const char *owner, long long now, long long lease_ms,
                        int limit, const struct outbox_claim_limits *lim, outbox_row_fn fn, void *ctx,
                        long long *next_due)
{
    struct sq_conn *c = (struct sq_conn *)sc;
    *next_due = 0;
    sqlite3_stmt *s = wq(c, WQ_OUTBOX_CLAIM);
    if (!s) return ST_ERROR;
    sq_bind_text(s, 1, owner);
    sqlite3_bind_int64(s, 2, now);
    sqlite3_bind_int64(s, 3, lease_ms);
    sqlite3_bind_int(s, 4, limit);
    sqlite3_bind_int(s, 5, lim->per_account);
    sqlite3_bind_int(s, 6, lim->per_target);
    int rc, claimed = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        claimed++;
        struct outbox_row row;
        row.id = sqlite3_column_int64(s, 0);
        sq_col_sid(s, 1, row.account_sid);
        row.event_type = (char *)sqlite3_column_text(s, 2);
        row.url = (char *)sqlite3_column_text(s, 3);
        row.method = (char *)sqlite3_column_text(s, 4);
        row.params = (char *)sqlite3_column_text(s, 5);
        row.order_key = (char *)sqlite3_column_text(s, 6);
        row.idempotency_token = (char *)sqlite3_column_text(s, 7);
        row.attempts = sqlite3_column_int(s, 8);
        row.next_attempt_at = sqlite3_column_int64(s, 9);
        row.created_at = sqlite3_column_int64(s, 10);
        fn(ctx, &row);
    }
    int r = rc == SQLITE_DONE ? ST_OK : sq_map_rc(c->db, sqlite3_extended_errcode(c->db));
    sq_done(s);
    if (r != ST_OK || claimed == limit) return r;
    s = wq(c, WQ_OUTBOX_NEXT_DUE);
    if (!s) return ST_ERROR;
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
        *next_due = sqlite3_column_int64(s, 0);
    sq_done(s);
    return ST_OK;
}

static int target_failed(struct store_conn *sc, const char *url, long long now, long long base_ms,
                         long long max_ms)
{
    struct sq_conn *c = (struct sq_conn *)sc;
    sqlite3_stmt *s = wq(c, WQ_TARGET_FAILED);
    if (!s) return ST_ERROR;
    sq_bind_text(s, 1, url);
    sqlite3_bind_int64(s, 2, now);
    sqlite3_bind_int64(s, 3, base_ms);
    sqlite3_bind_int64(s, 4, max_ms);
    return sq_exec(c, s);
}

static int target_ok(struct store_conn *sc, const char *url)
{
    struct sq_conn *c = (struct sq_conn *)sc;
    sqlite3_stmt *s = wq(c, WQ_TARGET_OK);
    if (!s) return ST_ERROR;
    sq_bind_text(s, 1, url);
    return sq_exec(c, s);
}

static int outbox_release_all(struct store_conn *sc)
{
    return run((struct sq_conn *)sc, WQ_OUTBOX_RELEASE_ALL);
}

static int outbox_count(struct store_conn *sc, long long *n)
{
    struct sq_conn *c = (struct sq_conn *)sc;
    sqlite3_stmt *s = wq(c, WQ_OUTBOX_COUNT);
    if (!s) return ST_ERROR;
    STEP_ONE(c, s, *n = sqlite3_column_int64(s, 0));
}

static int log_insert(struct store_conn *sc, const struct webhook_log_entry *e)
{
    struct sq_conn *c = (struct sq_conn *)sc;
    sqlite3_stmt *s = wq(c, WQ_LOG_INSERT);
    if (!s) return ST_ERROR;
    sq_bind_text(s, 1, e->account_sid);
    sq_bind_text(s, 2, e->kind);
    sq_bind_text(s, 3, e->event_type);
    sq_bind_text(s, 4, e->url);
    sq_bind_text(s, 5, e->method);
    sq_bind_text(s, 6, e->outcome);
    if (e->status) sqlite3_bind_int(s, 7, e->status);
    sqlite3_bind_int(s, 8, e->attempts);
    sqlite3_bind_int64(s, 9, e->latency_ms);
    sq_bind_text(s, 10, e->last_error);
    sq_bind_text(s, 11, e->idempotency_token);
    sqlite3_bind_int64(s, 12, e->created_at);
    sqlite3_bind_int64(s, 13, e->completed_at);
    int r = sq_exec(c, s);
    if (r != ST_OK) return r;
    /* keep the log bounded per account: past LOG_KEEP rows, the account's oldest go */
    s = wq(c, WQ_LOG_COUNT);
    if (!s) return ST_ERROR;
    sq_bind_text(s, 1, e->account_sid);
    long long n = 0;
    int rc = sqlite3_step(s); /* RETURNING: the upsert is done at the first step */
    if (rc == SQLITE_ROW) n = sqlite3_column_int64(s, 0);
    r = rc == SQLITE_ROW ? ST_OK : sq_map_rc(c->db, sqlite3_extended_errcode(c->db));
    sq_done(s);
    if (r != ST_OK || n <= LOG_KEEP) return r;
    s = wq(c, WQ_LOG_TRIM);
    if (!s) return ST_ERROR;
    sq_bind_text(s, 1, e->account_sid);
    sqlite3_bind_int64(s, 2, n - LOG_KEEP);
    r = sq_exec(c, s);
    if (r != ST_OK) return r;
    s = wq(c, WQ_LOG_UNCOUNT);
    if (!s) return ST_ERROR;
    sq_bind_text(s, 1, e->account_sid);
    sqlite3_bind_int64(s, 2, sqlite3_changes(c->db));
    return sq_exec(c, s);
}

static int outbox_finish(struct store_conn *sc, long long id, const struct webhook_log_entry *e)
{
    struct sq_conn *c = (struct sq_conn *)sc;
    sqlite3_stmt *s = wq(c, WQ_OUTBOX_DELETE);
    if (!s) return ST_ERROR;
    sqlite3_bind_int64(s, 1, id);
    int r = sq_exec(c, s);
    return r == ST_OK ? log_insert(sc, e) : r;
}

static int outbox_retry(struct store_conn *sc, long long id, int attempts, long long next_attempt_at,
                        int status, const char *error, long long latency_ms)
{
    struct sq_conn *c = (struct sq_conn *)sc;
    sqlite3_stmt *s = wq(c, WQ_OUTBOX_RETRY);
    if (!s) return ST_ERROR;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int(s, 2, attempts);
    sqlite3_bind_int64(s, 3, next_attempt_at);
    if (status) sqlite3_bind_int(s, 4, status);
    sq_bind_text(s, 5, error);
    sqlite3_bind_int64(s, 6, latency_ms);
    return sq_exec(c, s);
}

static int log_list(struct store_conn *sc, const char *account_sid, int limit, webhook_log_fn fn, void *ctx)
{
    struct sq_conn *c = (struct sq_conn *)sc;
    sqlite3_stmt *s = wq(c, WQ_PENDING_LIST);
    if (!s) return ST_ERROR;
    sq_bind_text(s, 1, account_sid);
    sqlite3_bind_int(s, 2, limit);
    int seen = 0, rc, stop = 0;
    while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct webhook_log_entry e = {0};
        e.id = sqlite3_column_int64(s, 0);
        memcpy(e.account_sid, account_sid, SID_LEN);
        e.kind = "post";
        e.event_type = (const char *)sqlite3_column_text(s, 1);
        e.url = (const char *)sqlite3_column_text(s, 2);
        e.method = (const char *)sqlite3_column_text(s, 3);
        e.outcome = "pending";
        e.status = sqlite3_column_int(s, 4);
        e.attempts = sqlite3_column_int(s, 5);
        e.latency_ms = sqlite3_column_int64(s, 6);
        e.last_error = (const char *)sqlite3_column_text(s, 7);
        e.idempotency_token = (const char *)sqlite3_column_text(s, 8);
        e.created_at = sqlite3_column_int64(s, 9);
        seen++;
        stop = fn(ctx, &e);
    }
    sq_done(s);
    if (stop || seen >= limit) return ST_OK;
    s = wq(c, WQ_LOG_LIST);
    if (!s) return ST_ERROR;
    sq_bind_text(s, 1, account_sid);
    sqlite3_bind_int(s, 2, limit - seen);
    LIST_ROWS(
        c, s, struct webhook_log_entry e,
        {
            memset(&e, 0, sizeof(e));
            e.id = sqlite3_column_int64(s, 0);
            memcpy(e.account_sid, account_sid, SID_LEN);
            e.kind = (const char *)sqlite3_column_text(s, 1);
            e.event_type = (const char *)sqlite3_column_text(s, 2);
            e.url = (const char *)sqlite3_column_text(s, 3);
            e.method = (const char *)sqlite3_column_text(s, 4);
            e.outcome = (const char *)sqlite3_column_text(s, 5);
            e.status = sqlite3_column_int(s, 6);
            e.attempts = sqlite3_column_int(s, 7);
            e.latency_ms = sqlite3_column_int64(s, 8);
            e.last_error = (const char *)sqlite3_column_text(s, 9);
            e.idempotency_token = (const char *)sqlite3_column_text(s, 10);
            e.created_at = sqlite3_column_int64(s, 11);
            e.completed_at = sqlite3_column_int64(s, 12);
        },
        fn(ctx, &e));
}

const struct store_webhook_ops sqlite_webhook_ops = {
    .config_get = config_get,
    .config_put = config_put,
    .outbox_insert = outbox_insert,
    .outbox_claim = outbox_claim,
    .outbox_release_all = outbox_release_all,
    .target_failed = target_failed,
    .target_ok = target_ok,
    .outbox_count = outbox_count,
    .outbox_finish = outbox_finish,
    .outbox_retry = outbox_retry,
    .log_insert = log_insert,
    .log_list = log_list,
};
