/* PostgreSQL: webhook configuration, outbox and delivery log.
 *
 * The outbox is shared by every server on the database. A claim is one UPDATE over the rows that a
 * FOR UPDATE SKIP LOCKED subquery picked (due, the oldest of their order key, not claimed by a live
 * server), so two servers claiming at once never take the same row and never wait for each other.
 * Each claiming session holds a session-level advisory lock on a random key that it writes into its
 * claims: when a server dies its session ends, its lock disappears from pg_locks, and its claims are
 * due again at once instead of when their lease runs out. */
#ifndef NO_STORE_PG
#include <string.h>
#include <sys/random.h>

#include "store/pg_internal.h"
#include "store/webhook_store.h"
#include "util/arena.h"
#include "util/log.h"

enum wq_id {
    WQ_ACCOUNT_GET,
    WQ_ACCOUNT_GET_LOCK,
    WQ_ACCOUNT_PUT,
    WQ_SERVICE_GET,
    WQ_SERVICE_GET_LOCK,
    WQ_SERVICE_PUT,
    WQ_OUTBOX_INSERT,
    WQ_CLAIM_LOCK,
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
    WQ_PENDING_LIST,
    WQ_LOG_LIST,
    WQ__COUNT
};

/* advisory lock keys held by live sessions, as pg_advisory_lock(bigint) stores them in pg_locks */
#define LIVE_CLAIM_KEYS                                                                                      \
    "SELECT (l.classid::bigint << 32) | l.objid::bigint FROM pg_locks l"                                     \
    " WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted"

/* Per account, only its OUTBOX_WINDOW oldest rows are looked at (as in SQLite): a claim costs the same
 * with a million rows waiting behind a receiver that is down as with ten. */
#define OUTBOX_WINDOW "256"

/* a row nobody live holds: never claimed, lease over, or its server's session is gone ($2 now) */
#define CLAIM_FREE(t)                                                                                        \
    "(" t ".claimed_until IS NULL OR " t ".claimed_until < $2::bigint OR " t ".claim_session IS NULL OR " t  \
    ".claim_session NOT IN (" LIVE_CLAIM_KEYS "))"
#define IS_HEAD(t)                                                                                           \
    "NOT EXISTS (SELECT 1 FROM webhook_outbox p WHERE p.order_key = " t ".order_key AND p.id < " t ".id)"

static const char *const wq_sql[WQ__COUNT] = {
    [WQ_ACCOUNT_GET] =
        "SELECT method, filters, pre_webhook_url, post_webhook_url, target FROM account_webhooks"
        " WHERE account_sid = $1",
    [WQ_ACCOUNT_GET_LOCK] = "SELECT method, filters, pre_webhook_url, post_webhook_url, target"
                            " FROM account_webhooks WHERE account_sid = $1 FOR SHARE",
    [WQ_ACCOUNT_PUT] =
        "INSERT INTO account_webhooks(account_sid, method, filters, pre_webhook_url, post_webhook_url,"
        " target) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (account_sid) DO UPDATE SET"
        " method = EXCLUDED.method, filters = EXCLUDED.filters,"
        " pre_webhook_url = EXCLUDED.pre_webhook_url, post_webhook_url = EXCLUDED.post_webhook_url,"
        " target = EXCLUDED.target",
    [WQ_SERVICE_GET] = "SELECT method, filters, pre_webhook_url, post_webhook_url FROM service_webhooks"
                       " WHERE service_sid = $1 AND account_sid = $2",
    [WQ_SERVICE_GET_LOCK] = "SELECT method, filters, pre_webhook_url, post_webhook_url FROM service_webhooks"
                            " WHERE service_sid = $1 AND account_sid = $2 FOR SHARE",
    [WQ_SERVICE_PUT] =
        "INSERT INTO service_webhooks(service_sid, account_sid, method, filters, pre_webhook_url,"
        " post_webhook_url) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (service_sid) DO UPDATE SET"
        " method = EXCLUDED.method, filters = EXCLUDED.filters,"
        " pre_webhook_url = EXCLUDED.pre_webhook_url, post_webhook_url = EXCLUDED.post_webhook_url",
    [WQ_OUTBOX_INSERT] = "INSERT INTO webhook_outbox(account_sid, event_type, url, method, params, order_key,"
                         " idempotency_token, attempts, next_attempt_at, created_at)"
                         " VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8::bigint, $8::bigint)",
    [WQ_CLAIM_LOCK] = "SELECT pg_advisory_lock($1::bigint)",
    /* $1 owner, $2 now, $3 lease, $4 limit, $5 this session's claim key, $6 per account, $7 per URL.
     * Fair as in SQLite (accounts by a skip scan, each one's oldest rows, ranked after what live
     * sessions hold, round-robin); the rows are then locked SKIP LOCKED with the claimability checked
     * again at that level, so a row another server claimed meanwhile is re-read and left alone. */
    [WQ_OUTBOX_CLAIM] =
        "WITH RECURSIVE acc(a) AS (SELECT (SELECT min(account_sid) FROM webhook_outbox) UNION ALL"
        " SELECT (SELECT min(account_sid) FROM webhook_outbox WHERE account_sid > acc.a) FROM acc WHERE "
        "acc.a IS NOT NULL),"
        " busy AS (SELECT account_sid, url FROM webhook_outbox WHERE claimed_until >= $2::bigint"
        "  AND claim_session IN (" LIVE_CLAIM_KEYS ")),"
        " cand AS (SELECT y.id, y.account_sid, y.url FROM acc CROSS JOIN LATERAL ("
        "  SELECT z.* FROM (SELECT w.* FROM webhook_outbox w WHERE w.account_sid = acc.a"
        "   ORDER BY w.id LIMIT " OUTBOX_WINDOW ") z"
        "  WHERE z.next_attempt_at <= $2::bigint AND " CLAIM_FREE("z") " AND " IS_HEAD(
            "z") "  AND NOT EXISTS (SELECT 1 FROM webhook_targets t WHERE t.url = z.url AND t.blocked_until "
                 "> $2::bigint)"
                 "  ORDER BY z.id LIMIT $6::bigint) y WHERE acc.a IS NOT NULL),"
                 " ranked AS (SELECT c.id,"
                 "  row_number() OVER (PARTITION BY c.account_sid ORDER BY c.id)"
                 "   + (SELECT count(*) FROM busy b WHERE b.account_sid = c.account_sid) AS ra,"
                 "  row_number() OVER (PARTITION BY c.url ORDER BY c.id)"
                 "   + (SELECT count(*) FROM busy b WHERE b.url = c.url) AS rt FROM cand c)"
                 " UPDATE webhook_outbox SET claimed_by = $1, claimed_until = $2::bigint + $3::bigint,"
                 " claim_session = $5::bigint WHERE id IN ("
                 "  SELECT l.id FROM webhook_outbox l WHERE l.id IN (SELECT id FROM ranked WHERE ra <= "
                 "$6::bigint"
                 "   AND rt <= $7::bigint ORDER BY ra, id LIMIT $4::bigint)"
                 "  AND l.next_attempt_at <= $2::bigint AND " CLAIM_FREE("l") " AND " IS_HEAD(
                     "l") "  FOR UPDATE SKIP LOCKED)"
                          " RETURNING id, account_sid, event_type, url, method, params, order_key, "
                          "idempotency_token,"
                          " attempts, next_attempt_at, created_at",
    /* a claim of a dead session does not delay the row; a target backing off does */
    [WQ_OUTBOX_NEXT_DUE] =
        "WITH RECURSIVE acc(a) AS (SELECT (SELECT min(account_sid) FROM webhook_outbox) UNION ALL"
        " SELECT (SELECT min(account_sid) FROM webhook_outbox WHERE account_sid > acc.a) FROM acc WHERE "
        "acc.a IS NOT NULL)"
        " SELECT min(greatest(o.next_attempt_at, CASE WHEN o.claim_session IN (" LIVE_CLAIM_KEYS ")"
        " THEN o.claimed_until ELSE 0 END, t.blocked_until))"
        " FROM acc CROSS JOIN LATERAL (SELECT w.* FROM webhook_outbox w WHERE w.account_sid = acc.a"
        "  ORDER BY w.id LIMIT " OUTBOX_WINDOW ") o"
        " LEFT JOIN webhook_targets t ON t.url = o.url WHERE acc.a IS NOT NULL AND " IS_HEAD("o"),
    [WQ_OUTBOX_RELEASE_ALL] =
        "UPDATE webhook_outbox SET claimed_by = NULL, claimed_until = NULL, claim_session = NULL"
        " WHERE claimed_by IS NOT NULL",
    [WQ_OUTBOX_COUNT] = "SELECT count(*) FROM webhook_outbox",
    [WQ_OUTBOX_DELETE] = "DELETE FROM webhook_outbox WHERE id = $1::bigint",
    [WQ_OUTBOX_RETRY] =
        "UPDATE webhook_outbox SET attempts = $2::integer, next_attempt_at = $3::bigint,"
        " last_status = $4::integer, last_error = $5, last_latency_ms = $6::bigint,"
        " claimed_by = NULL, claimed_until = NULL, claim_session = NULL WHERE id = $1::bigint",
    /* failures while the target already waits (deliveries that were in flight) count once */
    [WQ_TARGET_FAILED] =
        "INSERT INTO webhook_targets(url, failures, blocked_until) VALUES ($1, 1, $2::bigint + $3::bigint)"
        " ON CONFLICT (url) DO UPDATE SET failures = webhook_targets.failures"
        " + CASE WHEN webhook_targets.blocked_until <= $2::bigint THEN 1 ELSE 0 END,"
        " blocked_until = CASE WHEN webhook_targets.blocked_until > $2::bigint"
        " THEN webhook_targets.blocked_until"
        " ELSE $2::bigint + least($4::bigint, $3::bigint << least(webhook_targets.failures, 20)) END",
    [WQ_TARGET_OK] = "DELETE FROM webhook_targets WHERE url = $1",
    [WQ_LOG_INSERT] =
        "INSERT INTO webhook_log(account_sid, kind, event_type, url, method, outcome, status, attempts,"
        " latency_ms, last_error, idempotency_token, created_at, completed_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7::integer, $8::integer, $9::bigint, $10, $11, $12::bigint,"
        " $13::bigint) RETURNING id",
    /* the last LOG_KEEP rows per account, as in SQLite: the count row also serialises two servers' trims */
    [WQ_LOG_COUNT] = "INSERT INTO webhook_log_counts(account_sid, n) VALUES ($1, 1) ON CONFLICT (account_sid)"
                     " DO UPDATE SET n = webhook_log_counts.n + 1 RETURNING n",
    [WQ_LOG_TRIM] =
        "WITH gone AS (DELETE FROM webhook_log WHERE id IN (SELECT id FROM webhook_log"
        " WHERE account_sid = $1 ORDER BY id LIMIT $2::bigint) RETURNING 1)"
        " UPDATE webhook_log_counts SET n = n - (SELECT count(*) FROM gone) WHERE account_sid = $1",
    [WQ_PENDING_LIST] =
        "SELECT id, event_type, url, method, last_status, attempts, last_latency_ms, last_error,"
        " idempotency_token, created_at FROM webhook_outbox WHERE account_sid = $1"
        " ORDER BY id DESC LIMIT $2::bigint",
    [WQ_LOG_LIST] =
        "SELECT id, kind, event_type, url, method, outcome, status, attempts, latency_ms, last_error,"
        " idempotency_token, created_at, completed_at FROM webhook_log WHERE account_sid = $1"
        " ORDER BY id DESC LIMIT $2::bigint",
};

#define LOG_KEEP 10000

const struct pg_sql_table pg_webhook_sql = {'w', WQ__COUNT, wq_sql};

static int config_get(struct store_conn *sc, const char *account_sid, const char *service_sid,
                      struct arena *a, struct webhook_config *out)
{
    struct pg_conn *c = (struct pg_conn *)sc;
    struct pg_params p = {0};
    memset(out, 0, sizeof(*out));
    memcpy(out->account_sid, account_sid, SID_LEN);
    int id;
    if (service_sid) {
        memcpy(out->service_sid, service_sid, SID_LEN);
        pp_text(&p, service_sid);
        pp_text(&p, account_sid);
        id = pg_locking(c) ? WQ_SERVICE_GET_LOCK : WQ_SERVICE_GET;
    } else {
        pp_text(&p, account_sid);
        id = pg_locking(c) ? WQ_ACCOUNT_GET_LOCK : WQ_ACCOUNT_GET;
    }
    PGresult *r;
    int rc = pg_row(c, PGT_WEBHOOKS, id, &p, &r);
    if (rc != ST_OK) return rc;
    out->method = pg_col_dup(r, 0, 0, a);
    out->filters = pg_col_dup(r, 0, 1, a);
    out->pre_url = pg_col_dup(r, 0, 2, a);
    out->post_url = pg_col_dup(r, 0, 3, a);
    if (!service_sid) out->target = pg_col_dup(r, 0, 4, a);
    PQclear(r);
    return ST_OK;
}

static int config_put(struct store_conn *sc, const struct webhook_config *cfg)
{
    int svc = cfg->service_sid[0] != '\0';
    struct pg_params p = {0};
    if (svc) pp_text(&p, cfg->service_sid);
    pp_text(&p, cfg->account_sid);
    pp_text(&p, cfg->method);
    pp_text(&p, cfg->filters);
    pp_text(&p, cfg->pre_url);
    pp_text(&p, cfg->post_url);
    if (!svc) pp_text(&p, cfg->target ? cfg->target : "webhook");
    return pg_cmd((struct pg_conn *)sc, PGT_WEBHOOKS, svc ? WQ_SERVICE_PUT : WQ_ACCOUNT_PUT, &p, NULL);
}

static int outbox_insert(struct store_conn *sc, const struct outbox_row *row)
{
    struct pg_params p = {0};
    pp_text(&p, row->account_sid);
    pp_text(&p, row->event_type);
    pp_text(&p, row->url);
    pp_text(&p, row->method);
    pp_text(&p, row->params);
    pp_text(&p, row->order_key);
    pp_text(&p, row->idempotency_token);
    pp_int(&p, row->created_at);
    return pg_cmd((struct pg_conn *)sc, PGT_WEBHOOKS, WQ_OUTBOX_INSERT, &p, NULL);
}

/* Takes this session's claim lock (once per session): claims stamped with its key stay claimed
 * only while the session lives. */
static int claim_lock(struct pg_conn *c)
{
    if (c->claim_locked) return ST_OK;
    if (!c->claim_key) {
        unsigned long long k = 0;
        if (getrandom(&k, sizeof(k), 0) != (ssize_t)sizeof(k)) return ST_ERROR;
        c->claim_key = (long long)(k & 0x3fffffffffffffffULL) | 1;
    }
    struct pg_params p = {0};
    pp_int(&p, c->claim_key);
    PGresult *r;
    int rc = pg_exec(c, PGT_WEBHOOKS, WQ_CLAIM_LOCK, &p, &r);
    if (rc != ST_OK) return rc;
    PQclear(r);
    c->claim_locked = 1;
    return ST_OK;
}

/* One statement in the caller's transaction (the writer's): the rows stay locked until it commits, so
 * other servers skip them meanwhile. */
static int outbox_claim(struct store_conn *sc, const char *owner, long long now, long long lease_ms,
                        int limit, const struct outbox_claim_limits *lim, outbox_row_fn fn, void *ctx,
                        long long *next_due)
{
    struct pg_conn *c = (struct pg_conn *)sc;
    *next_due = 0;
    int rc = claim_lock(c);
    if (rc != ST_OK) return rc;
    struct pg_params p = {0};
    pp_text(&p, owner);
    pp_int(&p, now);
    pp_int(&p, lease_ms);
    pp_int(&p, limit);
    pp_int(&p, c->claim_key);
    pp_int(&p, lim->per_account);
    pp_int(&p, lim->per_target);
    PGresult *r;
    rc = pg_exec(c, PGT_WEBHOOKS, WQ_OUTBOX_CLAIM, &p, &r);
    if (rc != ST_OK) return rc;
    for (int i = 0, n = PQntuples(r); i < n; i++) {
        struct outbox_row row;
        row.id = pg_col_i64(r, i, 0);
        pg_col_sid(r, i, 1, row.account_sid);
        row.event_type = pg_col(r, i, 2);
        row.url = pg_col(r, i, 3);
        row.method = pg_col(r, i, 4);
        row.params = pg_col(r, i, 5);
        row.order_key = pg_col(r, i, 6);
        row.idempotency_token = pg_col(r, i, 7);
        row.attempts = (int)pg_col_i64(r, i, 8);
        row.next_attempt_at = pg_col_i64(r, i, 9);
        row.created_at = pg_col_i64(r, i, 10);
        fn(ctx, &row);
    }
    int claimed = PQntuples(r);
    PQclear(r);
    if (claimed < limit && pg_exec(c, PGT_WEBHOOKS, WQ_OUTBOX_NEXT_DUE, NULL, &r) == ST_OK) {
        if (PQntuples(r) == 1) *next_due = pg_col_i64(r, 0, 0);
        PQclear(r);
    }
    return ST_OK;
}

static int target_failed(struct store_conn *sc, const char *url, long long now, long long base_ms,
                         long long max_ms)
{
    struct pg_params p = {0};
    pp_text(&p, url);
    pp_int(&p, now);
    pp_int(&p, base_ms);
    pp_int(&p, max_ms);
    return pg_cmd((struct pg_conn *)sc, PGT_WEBHOOKS, WQ_TARGET_FAILED, &p, NULL);
}

static int target_ok(struct store_conn *sc, const char *url)
{
    struct pg_params p = {0};
    pp_text(&p, url);
    return pg_cmd((struct pg_conn *)sc, PGT_WEBHOOKS, WQ_TARGET_OK, &p, NULL);
}

static int outbox_release_all(struct store_conn *sc)
{
    return pg_cmd((struct pg_conn *)sc, PGT_WEBHOOKS, WQ_OUTBOX_RELEASE_ALL, NULL, NULL);
}

static int outbox_count(struct store_conn *sc, long long *n)
{
    PGresult *r;
    int rc = pg_row((struct pg_conn *)sc, PGT_WEBHOOKS, WQ_OUTBOX_COUNT, NULL, &r);
    if (rc == ST_OK) {
        *n = pg_col_i64(r, 0, 0);
        PQclear(r);
    }
    return rc;
}

static int log_insert(struct store_conn *sc, const struct webhook_log_entry *e)
{
    struct pg_conn *c = (struct pg_conn *)sc;
    struct pg_params p = {0};
    pp_text(&p, e->account_sid);
    pp_text(&p, e->kind);
    pp_text(&p, e->event_type);
    pp_text(&p, e->url);
    pp_text(&p, e->method);
    pp_text(&p, e->outcome);
    if (e->status)
        pp_int(&p, e->status);
    else
        pp_text(&p, NULL);
    pp_int(&p, e->attempts);
    pp_int(&p, e->latency_ms);
    pp_text(&p, e->last_error);
    pp_text(&p, e->idempotency_token);
    pp_int(&p, e->created_at);
    pp_int(&p, e->completed_at);
    PGresult *r;
    int rc = pg_row(c, PGT_WEBHOOKS, WQ_LOG_INSERT, &p, &r);
    if (rc != ST_OK) return rc;
    PQclear(r);
    /* keep the log bounded per account: past LOG_KEEP rows, the account's oldest go */
    struct pg_params q = {0};
    pp_text(&q, e->account_sid);
    rc = pg_row(c, PGT_WEBHOOKS, WQ_LOG_COUNT, &q, &r);
    if (rc != ST_OK) return rc;
    long long n = pg_col_i64(r, 0, 0);
    PQclear(r);
    if (n <= LOG_KEEP) return ST_OK;
    pp_int(&q, n - LOG_KEEP);
    return pg_cmd(c, PGT_WEBHOOKS, WQ_LOG_TRIM, &q, NULL);
}

static int outbox_finish(struct store_conn *sc, long long id, const struct webhook_log_entry *e)
{
    struct pg_params p = {0};
    pp_int(&p, id);
    int rc = pg_cmd((struct pg_conn *)sc, PGT_WEBHOOKS, WQ_OUTBOX_DELETE, &p, NULL);
    return rc == ST_OK ? log_insert(sc, e) : rc;
}

static int outbox_retry(struct store_conn *sc, long long id, int attempts, long long next_attempt_at,
                        int status, const char *error, long long latency_ms)
{
    struct pg_params p = {0};
    pp_int(&p, id);
    pp_int(&p, attempts);
    pp_int(&p, next_attempt_at);
    if (status)
        pp_int(&p, status);
    else
        pp_text(&p, NULL);
    pp_text(&p, error);
    pp_int(&p, latency_ms);
    return pg_cmd((struct pg_conn *)sc, PGT_WEBHOOKS, WQ_OUTBOX_RETRY, &p, NULL);
}

static int log_list(struct store_conn *sc, const char *account_sid, int limit, webhook_log_fn fn, void *ctx)
{
    struct pg_conn *c = (struct pg_conn *)sc;
    struct pg_params p = {0};
    pp_text(&p, account_sid);
    pp_int(&p, limit);
    PGresult *r;
    int rc = pg_exec(c, PGT_WEBHOOKS, WQ_PENDING_LIST, &p, &r);
    if (rc != ST_OK) return rc;
    int seen = 0, stop = 0;
    for (int i = 0, n = PQntuples(r); i < n && !stop; i++) {
        struct webhook_log_entry e = {0};
        e.id = pg_col_i64(r, i, 0);
        memcpy(e.account_sid, account_sid, SID_LEN);
        e.kind = "post";
        e.event_type = pg_col(r, i, 1);
        e.url = pg_col(r, i, 2);
        e.method = pg_col(r, i, 3);
        e.outcome = "pending";
        e.status = (int)pg_col_i64(r, i, 4);
        e.attempts = (int)pg_col_i64(r, i, 5);
        e.latency_ms = pg_col_i64(r, i, 6);
        e.last_error = pg_col(r, i, 7);
        e.idempotency_token = pg_col(r, i, 8);
        e.created_at = pg_col_i64(r, i, 9);
        seen++;
        stop = fn(ctx, &e);
    }
    PQclear(r);
    if (stop || seen >= limit) return ST_OK;
    struct pg_params q = {0};
    pp_text(&q, account_sid);
    pp_int(&q, limit - seen);
    rc = pg_exec(c, PGT_WEBHOOKS, WQ_LOG_LIST, &q, &r);
    if (rc != ST_OK) return rc;
    for (int i = 0, n = PQntuples(r); i < n; i++) {
        struct webhook_log_entry e = {0};
        e.id = pg_col_i64(r, i, 0);
        memcpy(e.account_sid, account_sid, SID_LEN);
        e.kind = pg_col(r, i, 1);
        e.event_type = pg_col(r, i, 2);
        e.url = pg_col(r, i, 3);
        e.method = pg_col(r, i, 4);
        e.outcome = pg_col(r, i, 5);
        e.status = (int)pg_col_i64(r, i, 6);
        e.attempts = (int)pg_col_i64(r, i, 7);
        e.latency_ms = pg_col_i64(r, i, 8);
        e.last_error = pg_col(r, i, 9);
        e.idempotency_token = pg_col(r, i, 10);
        e.created_at = pg_col_i64(r, i, 11);
        e.completed_at = pg_col_i64(r, i, 12);
        if (fn(ctx, &e)) break;
    }
    PQclear(r);
    return ST_OK;
}

const struct store_webhook_ops pg_webhook_ops = {
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

#else
typedef int pg_not_built; /* an empty file is not ISO C */
#endif /* NO_STORE_PG */
