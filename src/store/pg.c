/* PostgreSQL backend (libpq): one PGconn per store_conn, every statement prepared once per session,
 * integer milliseconds for times and a bigserial id per table for keyset paging, as in SQLite.
 *
 * Several Parley servers may share one database. What keeps them correct is in the database:
 * uniqueness by constraints (23505 -> ST_CONFLICT), references by foreign keys (23503 -> ST_IN_USE,
 * cascades by ON DELETE CASCADE), row locks taken by the writer's reads (pg_internal.h), migrations
 * under an advisory lock, and the webhook outbox claimed with FOR UPDATE SKIP LOCKED.
 *
 * Failures: a deadlock, serialization failure or lock timeout (40P01, 40001, 55P03) dooms the writer's
 * transaction, whose COMMIT then answers ST_BUSY so that the writer runs the batch again
 * (store/writer.c). A lost connection is reset once (PQreset, then the session is set up and the
 * statements prepared again): a statement outside a transaction is then run again (every one is a
 * read or an idempotent write); inside a transaction the transaction is lost, so it is doomed the
 * same way (unless nothing of it had been answered yet: it then starts again on the new session). A
 * COMMIT whose answer was lost is not retried: its outcome is unknown, so the request gets a 5xx, and
 * nothing is acknowledged that did not commit.
 *
 * Round trips: the writer's transactions are pipelined (see "the writer's transaction, pipelined"). */
#ifndef NO_STORE_PG
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/account_store.h"
#include "store/address_configs_schema.h"
#include "store/conversations_schema.h"
#include "store/domain.h"
#include "store/engine.h"
#include "store/messages_schema.h"
#include "store/participants_schema.h"
#include "store/pg_internal.h"
#include "store/secret.h"
#include "store/store.h"
#include "store/timers_schema.h"
#include "store/webhook_store.h"
#include "util/arena.h"
#include "util/log.h"

/* Session settings. The writer's lock wait is short on purpose: a lock held longer than this by
 * another server is most likely a deadlock between two batches (deadlock_timeout is 1 s by default
 * and needs a superuser to lower), and the writer's retry runs each job alone, which cannot deadlock
 * over the order of rows. */
#define STATEMENT_TIMEOUT_MS 30000
#define IDLE_IN_TX_TIMEOUT_MS 60000
#define WRITER_LOCK_TIMEOUT_MS 200
/* pg_advisory_lock key of migrations: "parley" in ASCII */
#define MIGRATE_LOCK_KEY 0x7061726c6579LL

/* Schema version N is migrations[0..N). Versions match the SQLite backend's (store/sqlite.c):
 * append only, never edit a released version. */
static const char *const migrations[] = {
    /* 1: accounts, services, roles, service configuration, users */
    "CREATE TABLE accounts("
    "  sid text PRIMARY KEY,"
    "  auth_token text NOT NULL,"
    "  friendly_name text,"
    "  default_service_sid text NOT NULL,"
    "  default_messaging_service_sid text,"
    "  default_inactive_timer text,"
    "  default_closed_timer text,"
    "  date_created bigint NOT NULL);"
    "CREATE TABLE services("
    "  id bigserial PRIMARY KEY,"
    "  sid text NOT NULL UNIQUE,"
    "  account_sid text NOT NULL REFERENCES accounts(sid) ON DELETE CASCADE,"
    "  friendly_name text NOT NULL,"
    "  date_created bigint NOT NULL,"
    "  date_updated bigint NOT NULL);"
    "CREATE INDEX services_by_account ON services(account_sid, id);"
    "CREATE TABLE roles("
    "  id bigserial PRIMARY KEY,"
    "  sid text NOT NULL UNIQUE,"
    "  account_sid text NOT NULL,"
    "  service_sid text NOT NULL REFERENCES services(sid) ON DELETE CASCADE,"
    "  friendly_name text NOT NULL,"
    "  type integer NOT NULL,"
    "  permissions text NOT NULL,"
    "  date_created bigint NOT NULL,"
    "  date_updated bigint NOT NULL);"
    "CREATE INDEX roles_by_service ON roles(service_sid, id);"
    "CREATE TABLE service_configs("
    "  service_sid text PRIMARY KEY REFERENCES services(sid) ON DELETE CASCADE,"
    "  conversation_creator_role_sid text NOT NULL REFERENCES roles(sid) DEFERRABLE INITIALLY DEFERRED,"
    "  conversation_role_sid text NOT NULL REFERENCES roles(sid) DEFERRABLE INITIALLY DEFERRED,"
    "  chat_service_role_sid text NOT NULL REFERENCES roles(sid) DEFERRABLE INITIALLY DEFERRED,"
    "  reachability_enabled integer NOT NULL DEFAULT 0);"
    "CREATE TABLE users("
    "  id bigserial PRIMARY KEY,"
    "  sid text NOT NULL UNIQUE,"
    "  account_sid text NOT NULL,"
    "  service_sid text NOT NULL REFERENCES services(sid) ON DELETE CASCADE,"
    "  role_sid text NOT NULL REFERENCES roles(sid),"
    "  identity text NOT NULL,"
    "  friendly_name text,"
    "  attributes text NOT NULL,"
    "  date_created bigint NOT NULL,"
    "  date_updated bigint NOT NULL,"
    "  UNIQUE(service_sid, identity));"
    "CREATE INDEX users_by_service ON users(service_sid, id);"
    "CREATE INDEX users_by_role ON users(role_sid);",
    /* 2: webhook configuration, the outbox of post-event deliveries and the delivery log */
    PG_WEBHOOKS_MIGRATION,
    /* 3: API keys, service notifications, push credentials and bindings */
    PG_ACCOUNT_MODEL_MIGRATION,
    /* 4: webhook log counts, target backoff, fair-claim indexes */
    PG_WEBHOOKS_FAIR_MIGRATION,
    /* 5: the store's own facts: the check value of the secret key (store/secret.h) */
    "CREATE TABLE store_meta(name text PRIMARY KEY, value text NOT NULL);",
    /* 6: deleted services are reaped in bounded batches */
    PG_SERVICE_REAP_MIGRATION,
    PG_TIMERS_CHANGES_MIGRATION, /* 7: the timer schedule and the change log (store/timers_schema.h) */
    /* 8: conversations (store/conversations_schema.h) */
    PG_CONVERSATIONS_MIGRATION,
    /* 9: participants (store/participants_schema.h) */
    PG_PARTICIPANTS_MIGRATION,
    /* 10: messages, delivery receipts, media (store/messages_schema.h) */
    PG_MESSAGES_MIGRATION,
    /* 11: address configurations (store/address_configs_schema.h) */
    PG_ADDRESS_CONFIGS_MIGRATION,
};

#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

enum stmt_id {
    Q_ACCOUNT_GET,
    Q_ACCOUNT_GET_LOCK,
    Q_ACCOUNT_INSERT,
    Q_ACCOUNT_COUNT,
    Q_ACCOUNT_SET_TOKEN,
    Q_ACCOUNT_FIRST,
    Q__COUNT
};

#define ACCOUNT_COLS                                                                                         \
    "sid, auth_token, friendly_name, default_service_sid, default_messaging_service_sid,"                    \
    " default_inactive_timer, default_closed_timer, date_created"

static const char *const stmt_sql[Q__COUNT] = {
    [Q_ACCOUNT_GET] = "SELECT " ACCOUNT_COLS " FROM accounts WHERE sid = $1",
    [Q_ACCOUNT_GET_LOCK] = "SELECT " ACCOUNT_COLS " FROM accounts WHERE sid = $1 FOR NO KEY UPDATE",
    [Q_ACCOUNT_INSERT] =
        "INSERT INTO accounts(sid, auth_token, friendly_name, default_service_sid, date_created)"
        " VALUES ($1, $2, $3, $4, $5::bigint)",
    [Q_ACCOUNT_COUNT] = "SELECT count(*) FROM accounts",
    [Q_ACCOUNT_SET_TOKEN] = "UPDATE accounts SET auth_token = $2 WHERE sid = $1",
    [Q_ACCOUNT_FIRST] = "SELECT " ACCOUNT_COLS " FROM accounts ORDER BY date_created, sid LIMIT 1",
};

static const struct pg_sql_table pg_main_sql = {'m', Q__COUNT, stmt_sql};

static const struct pg_sql_table *table_of(enum pg_table t)
{
    switch (t) {
    case PGT_WEBHOOKS:
        return &pg_webhook_sql;
    case PGT_ACCOUNT:
        return &pg_account_sql;
    default:
        return &pg_main_sql;
    }
}

/* ---- parameters and columns ---- */

void pp_int(struct pg_params *p, long long x)
{
    snprintf(p->num[p->n], sizeof(p->num[p->n]), "%lld", x);
    p->v[p->n] = p->num[p->n];
    p->n++;
}

void pp_bool(struct pg_params *p, int b)
{
    p->v[p->n++] = b ? "1" : "0";
}

char *pg_col(PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

char *pg_col_dup(PGresult *r, int row, int col, struct arena *a)
{
    if (PQgetisnull(r, row, col)) return NULL;
    return arena_strndup(a, PQgetvalue(r, row, col), (size_t)PQgetlength(r, row, col));
}

char *pg_col_text(PGresult *r, int row, int col, struct arena *a)
{
    return a ? pg_col_dup(r, row, col, a) : pg_col(r, row, col);
}

long long pg_col_i64(PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

void pg_col_sid(PGresult *r, int row, int col, char out[SID_LEN + 1])
{
    const char *v = pg_col(r, row, col);
    snprintf(out, SID_LEN + 1, "%s", v ? v : "");
}

/* ---- errors ---- */

static int is_busy_state(const char *st)
{
    return st && (strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0 || strcmp(st, "55P03") == 0 ||
                  strcmp(st, "57014") == 0 || strcmp(st, "53300") == 0);
}

/* SQLSTATE -> store_result. */
static int map_state(const char *st, const char *msg)
{
    if (st) {
        if (strcmp(st, "23505") == 0) return ST_CONFLICT;
        if (strcmp(st, "23503") == 0) return ST_IN_USE;
        if (is_busy_state(st)) return ST_BUSY;
        if (strcmp(st, "53100") == 0) return ST_FULL;
    }
    log_warn("postgres: %s (SQLSTATE %s)", msg ? msg : "?", st ? st : "none");
    return ST_ERROR;
}

/* ---- sessions ---- */

/* Settings of a new or reset session. */
static int session_setup(struct pg_conn *c)
{
    char sql[512];
    snprintf(sql, sizeof(sql),
             "SET statement_timeout = %d; SET idle_in_transaction_session_timeout = %d;"
             " SET lock_timeout = %d; SET synchronous_commit = %s; SET default_transaction_read_only = %s;"
             " SET application_name = 'parley'",
             STATEMENT_TIMEOUT_MS, IDLE_IN_TX_TIMEOUT_MS, c->writer ? WRITER_LOCK_TIMEOUT_MS : 0,
             c->sync_full ? "on" : "off", c->writer ? "off" : "on");
    PGresult *r = PQexec(c->db, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) log_err("postgres: cannot set up the session: %s", PQerrorMessage(c->db));
    PQclear(r);
    return ok ? 0 : -1;
}

/* Prepares every statement of every table in one pipelined round trip. Fails (and leaves
 * c->prepared 0) while the schema is older than this build: the writer migrates, then prepares. */
static int prepare_all(struct pg_conn *c)
{
    PGresult *r = PQexec(c->db, "DEALLOCATE ALL");
    PQclear(r);
    if (!PQenterPipelineMode(c->db)) return -1;
    int sent = 0, failed = 0;
    char name[16];
    for (int t = 0; t < PGT__COUNT; t++) {
        const struct pg_sql_table *tab = table_of((enum pg_table)t);
        for (int i = 0; i < tab->n; i++) {
            snprintf(name, sizeof(name), "%c%d", tab->letter, i);
            if (!PQsendPrepare(c->db, name, tab->sql[i], 0, NULL)) {
                failed = 1;
                break;
            }
            sent++;
        }
    }
    for (const struct store_sql *q = store_sql_first(); q && !failed; q = q->next) {
        snprintf(name, sizeof(name), "r%d", q->id);
        if (!PQsendPrepare(c->db, name, q->pg_text, 0, NULL)) {
            failed = 1;
            break;
        }
        sent++;
        if (q->pg_text_lock) {
            snprintf(name, sizeof(name), "r%dl", q->id);
            if (!PQsendPrepare(c->db, name, q->pg_text_lock, 0, NULL)) {
                failed = 1;
                break;
            }
            sent++;
        }
    }
    PQpipelineSync(c->db);
    const char *first_error = NULL;
    char errbuf[256] = "";
    /* one result (then NULL) per prepare, then the sync */
    for (;;) {
        r = PQgetResult(c->db);
        if (!r) {
            if (PQstatus(c->db) == CONNECTION_BAD) break;
            continue;
        }
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            break;
        }
        if (st != PGRES_COMMAND_OK) {
            failed = 1;
            if (!first_error && st == PGRES_FATAL_ERROR) {
                snprintf(errbuf, sizeof(errbuf), "%s", PQresultErrorMessage(r));
                first_error = errbuf;
            }
        }
        PQclear(r);
    }
    PQexitPipelineMode(c->db);
    c->prepared = !failed && sent > 0;
    if (failed && first_error) log_debug("postgres: statements not prepared yet: %s", first_error);
    return c->prepared ? 0 : -1;
}

/* One PQreset; the session is set up again and its statements prepared again. */
static int reconnect(struct pg_conn *c)
{
    c->prepared = 0;
    c->claim_locked = 0; /* session locks died with the session */
    PQreset(c->db);
    if (PQstatus(c->db) != CONNECTION_OK) {
        log_err("postgres: connection lost and not re-established: %s", PQerrorMessage(c->db));
        return -1;
    }
    if (session_setup(c) != 0) return -1;
    prepare_all(c);
    log_warn("postgres: connection lost; reconnected");
    return 0;
}

/* The session is gone: libpq says so, or the server said it was ending it (class 08, 57P01-57P03). */
static int session_lost(struct pg_conn *c, PGresult *r)
{
    if (PQstatus(c->db) == CONNECTION_BAD) return 1;
    const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (!st) return r == NULL || PQresultStatus(r) == PGRES_FATAL_ERROR;
    return strncmp(st, "08", 2) == 0 || strcmp(st, "57P01") == 0 || strcmp(st, "57P02") == 0 ||
           strcmp(st, "57P03") == 0;
}

/* The error of a failed statement (r may be NULL). A failure inside a transaction leaves the job
 * unkeepable, and a transient one dooms the whole transaction (the writer retries it). */
static int statement_failed(struct pg_conn *c, PGresult *r, int *lost)
{
    *lost = session_lost(c, r);
    int rc;
    if (*lost) {
        rc = ST_ERROR;
    } else {
        const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        rc = map_state(st, PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY));
    }
    if (c->in_tx) {
        c->sp_failed = 1;
        if (*lost || rc == ST_BUSY) c->tx_doomed = 1;
    }
    return rc;
}

/* Runs a simple command string outside pipeline mode (ROLLBACK). */
static int simple(struct pg_conn *c, const char *sql)
{
    PGresult *r = PQexec(c->db, sql);
    int lost, rc = PQresultStatus(r) == PGRES_COMMAND_OK ? ST_OK : statement_failed(c, r, &lost);
    PQclear(r);
    return rc;
}

/* ---- the writer's transaction, pipelined ----
 * Between tx_begin and the end of the transaction the writer's session is in libpq pipeline mode.
 * BEGIN, SAVEPOINT, RELEASE and ROLLBACK TO are queued without waiting; they go out with the next
 * statement, and their results are read before its own. A job thus costs one round trip per statement
 * it runs, and the batch one more for COMMIT. After a failure the pipeline is synced (PostgreSQL skips
 * what follows an error until a sync), which leaves the transaction in its aborted state until the
 * job's savepoint is rolled back: the same states as without a pipeline. */

static int pipe_queue(struct pg_conn *c, const char *sql)
{
    if (!PQsendQueryParams(c->db, sql, 0, NULL, NULL, NULL, NULL, 0)) {
        int lost;
        statement_failed(c, NULL, &lost);
        c->tx_doomed = 1;
        return ST_BUSY;
    }
    c->queued++;
    return ST_OK;
}

/* The next result of the pipeline, with the NULL that ends it consumed; NULL when the session is gone.
 * Only call it once what is waited for has been flushed (a flush request or a sync). */
static PGresult *pipe_next(struct pg_conn *c)
{
    PGresult *r = PQgetResult(c->db);
    if (!r || PQresultStatus(r) == PGRES_PIPELINE_SYNC) return r;
    PGresult *end;
    while ((end = PQgetResult(c->db)) != NULL)
        PQclear(end);
    return r;
}

/* Reads the results of the queued utility commands: any failure dooms the transaction. Returns
 * ST_OK or the first failure; *lost when the session is gone. */
static int pipe_drain(struct pg_conn *c, int *lost)
{
    int rc = ST_OK;
    *lost = 0;
    while (c->queued > 0 && !*lost) {
        PGresult *q = pipe_next(c);
        c->queued--;
        if (!q || PQresultStatus(q) != PGRES_COMMAND_OK) {
            /* skipped after an earlier failure: that one tells */
            if (!q || PQresultStatus(q) != PGRES_PIPELINE_ABORTED) {
                int l, frc = statement_failed(c, q, &l);
                if (rc == ST_OK) rc = frc;
                *lost = l;
            } else if (rc == ST_OK) {
                rc = ST_BUSY;
            }
            c->tx_doomed = 1;
        }
        PQclear(q);
    }
    if (*lost) c->queued = 0;
    return rc;
}

/* A sync, and every result up to it: the pipeline takes commands again after a failure. */
static void pipe_sync(struct pg_conn *c)
{
    c->queued = 0;
    if (PQstatus(c->db) == CONNECTION_BAD || !PQpipelineSync(c->db)) return;
    for (;;) {
        PGresult *r = PQgetResult(c->db);
        if (!r) {
            if (PQstatus(c->db) == CONNECTION_BAD) return;
            continue;
        }
        ExecStatusType st = PQresultStatus(r);
        PQclear(r);
        if (st == PGRES_PIPELINE_SYNC) return;
    }
}

/* Leaves pipeline mode; the session stays usable for statements outside a transaction. */
static void pipe_end(struct pg_conn *c)
{
    if (PQpipelineStatus(c->db) != PQ_PIPELINE_OFF && PQstatus(c->db) == CONNECTION_OK) {
        if (c->queued > 0) pipe_sync(c);
        if (!PQexitPipelineMode(c->db)) {
            pipe_sync(c);
            PQexitPipelineMode(c->db);
        }
    }
    c->queued = 0;
}

/* Starts (or starts again, on a new session) the transaction of the job that is running: BEGIN and
 * its savepoint. */
static int pipe_begin(struct pg_conn *c, int with_savepoint)
{
    if (!c->prepared && prepare_all(c) != 0) {
        log_err("postgres: cannot prepare statements (is the schema migrated?)");
        return ST_ERROR;
    }
    if (!PQenterPipelineMode(c->db)) return ST_ERROR;
    int rc = pipe_queue(c, "BEGIN");
    if (rc == ST_OK && with_savepoint) rc = pipe_queue(c, "SAVEPOINT job");
    return rc;
}

static int exec_in_tx(struct pg_conn *c, const char *name, const struct pg_params *p, PGresult **res)
{
    for (int attempt = 0;; attempt++) {
        /* nothing of this transaction has been answered: if the session turns out to be gone, nothing
         * of it happened, and it can start again on a new session */
        int fresh = !c->tx_answered;
        int lost = 0, rc;
        if (!PQsendQueryPrepared(c->db, name, p ? p->n : 0, p ? p->v : NULL, NULL, NULL, 0) ||
            !PQsendFlushRequest(c->db) || PQflush(c->db) != 0) {
            rc = statement_failed(c, NULL, &lost);
            lost = 1;
        } else {
            rc = pipe_drain(c, &lost);
            if (!lost) {
                PGresult *r = pipe_next(c);
                ExecStatusType st = PQresultStatus(r);
                if (rc == ST_OK && (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)) {
                    c->tx_answered = 1;
                    *res = r;
                    return ST_OK;
                }
                if (rc == ST_OK)
                    rc = statement_failed(c, r, &lost); /* else it was skipped after that failure */
                PQclear(r);
            }
        }
        if (lost) {
            c->queued = 0;
            if (fresh && attempt == 0 && reconnect(c) == 0 && pipe_begin(c, 1) == ST_OK) {
                c->tx_doomed = c->sp_failed = 0;
                continue;
            }
            c->tx_doomed = 1;
            return ST_ERROR;
        }
        pipe_sync(c);
        return rc;
    }
}

/* Runs the prepared statement name: in the writer's pipelined transaction, or on its own with one
 * retry after a lost connection. */
static int exec_named(struct pg_conn *c, const char *name, const struct pg_params *p, PGresult **res)
{
    *res = NULL;
    if (c->in_tx) {
        if (c->tx_doomed) return ST_BUSY;
        return exec_in_tx(c, name, p, res);
    }
    if (PQstatus(c->db) == CONNECTION_BAD && reconnect(c) != 0) return ST_ERROR;
    if (!c->prepared && prepare_all(c) != 0) {
        log_err("postgres: cannot prepare statements (is the schema migrated?)");
        return ST_ERROR;
    }
    for (int attempt = 0;; attempt++) {
        PGresult *r = PQexecPrepared(c->db, name, p ? p->n : 0, p ? p->v : NULL, NULL, NULL, 0);
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
            *res = r;
            return ST_OK;
        }
        int lost;
        int rc = statement_failed(c, r, &lost);
        PQclear(r);
        /* outside a transaction every statement is a read or an idempotent write: run it again once */
        if (!lost || attempt > 0 || reconnect(c) != 0) return rc;
    }
}

int pg_exec(struct pg_conn *c, enum pg_table t, int id, const struct pg_params *p, PGresult **res)
{
    const struct pg_sql_table *tab = table_of(t);
    char name[16];
    snprintf(name, sizeof(name), "%c%d", tab->letter, id);
    return exec_named(c, name, p, res);
}

/* ---- the statement seam (store/engine.h) ---- */

/* One per registered statement and connection, allocated at open: a request allocates nothing. The
 * statement runs at its first step (text parameters, as pg_exec); later steps walk the result. */
struct store_stmt {
    struct pg_conn *c;
    const struct store_sql *q;
    struct pg_params p;
    PGresult *r;
    int row;
    int ran;
};

static struct store_stmt *eng_stmt(struct store_conn *sc, const struct store_sql *q)
{
    struct pg_conn *c = (struct pg_conn *)sc;
    if (q->id < 0 || q->id >= c->n_rows) return NULL;
    struct store_stmt *s = &c->rows[q->id];
    s->c = c;
    s->q = q;
    return s;
}

static void eng_bind_text(struct store_stmt *s, int i, const char *v)
{
    if (i < 1 || i > PG_MAX_PARAMS) return;
    s->p.v[i - 1] = v;
    if (s->p.n < i) s->p.n = i;
}

static void eng_bind_int(struct store_stmt *s, int i, long long v)
{
    if (i < 1 || i > PG_MAX_PARAMS) return;
    snprintf(s->p.num[i - 1], sizeof(s->p.num[i - 1]), "%lld", v);
    eng_bind_text(s, i, s->p.num[i - 1]);
}

static int eng_step(struct store_stmt *s)
{
    if (!s->ran) {
        char name[16];
        /* the writer's reads lock what they return (pg_internal.h) */
        int lock = s->q->pg_text_lock && pg_locking(s->c);
        snprintf(name, sizeof(name), lock ? "r%dl" : "r%d", s->q->id);
        int rc = exec_named(s->c, name, &s->p, &s->r);
        if (rc != ST_OK) return rc;
        s->ran = 1;
        s->row = -1;
    }
    return ++s->row < PQntuples(s->r) ? 1 : 0;
}

static const char *eng_col_text(struct store_stmt *s, int i)
{
    return pg_col(s->r, s->row, i);
}
static long long eng_col_int(struct store_stmt *s, int i)
{
    return pg_col_i64(s->r, s->row, i);
}
static int eng_col_null(struct store_stmt *s, int i)
{
    return PQgetisnull(s->r, s->row, i);
}
static long long eng_changes(struct store_stmt *s)
{
    return s->r ? strtoll(PQcmdTuples(s->r), NULL, 10) : 0;
}
/* the insert's RETURNING id */
static long long eng_last_id(struct store_stmt *s)
{
    return s->r && PQntuples(s->r) > 0 ? pg_col_i64(s->r, 0, 0) : 0;
}

static void eng_reset(struct store_stmt *s)
{
    PQclear(s->r);
    s->r = NULL;
    s->ran = 0;
    s->p.n = 0;
    memset(s->p.v, 0, sizeof(s->p.v));
}

static const struct store_engine pg_engine = {
    .stmt = eng_stmt,
    .bind_text = eng_bind_text,
    .bind_int = eng_bind_int,
    .step = eng_step,
    .col_text = eng_col_text,
    .col_int = eng_col_int,
    .col_null = eng_col_null,
    .changes = eng_changes,
    .last_id = eng_last_id,
    .reset = eng_reset,
};

int pg_cmd(struct pg_conn *c, enum pg_table t, int id, const struct pg_params *p, long long *changed)
{
    PGresult *r;
    int rc = pg_exec(c, t, id, p, &r);
    if (rc != ST_OK) return rc;
    if (changed) *changed = strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return ST_OK;
}

int pg_cmd_one(struct pg_conn *c, enum pg_table t, int id, const struct pg_params *p)
{
    long long n = 0;
    int rc = pg_cmd(c, t, id, p, &n);
    return rc == ST_OK && n == 0 ? ST_NOT_FOUND : rc;
}

int pg_row(struct pg_conn *c, enum pg_table t, int id, const struct pg_params *p, PGresult **res)
{
    int rc = pg_exec(c, t, id, p, res);
    if (rc == ST_OK && PQntuples(*res) == 0) {
        PQclear(*res);
        *res = NULL;
        return ST_NOT_FOUND;
    }
    return rc;
}

static void quiet_notices(void *arg, const PGresult *r)
{
    (void)arg;
    (void)r;
}

static int pg_open(const char *target, int writer, int sync_full, struct store_conn **out)
{
    struct pg_conn *c = calloc(1, sizeof(*c));
    if (!c || !(c->rows = store_sql_slots(sizeof(*c->rows), &c->n_rows))) {
        free(c);
        return ST_ERROR;
    }
    c->base.ops = &store_pg_ops;
    c->writer = writer;
    c->sync_full = sync_full;
    /* our defaults first, the target last: what the URL or keyword string says wins */
    const char *const keys[] = {"application_name", "connect_timeout", "dbname", NULL};
    const char *const vals[] = {"parley", "10", target, NULL};
    c->db = PQconnectdbParams(keys, vals, 1);
    if (!c->db || PQstatus(c->db) != CONNECTION_OK) {
        log_err("postgres: cannot connect: %s", c->db ? PQerrorMessage(c->db) : "out of memory");
        PQfinish(c->db);
        free(c->rows);
        free(c);
        return ST_ERROR;
    }
    PQsetNoticeReceiver(c->db, quiet_notices, NULL);
    if (session_setup(c) != 0) {
        PQfinish(c->db);
        free(c->rows);
        free(c);
        return ST_ERROR;
    }
    /* the writer's statements are prepared by migrate (which runs first on a new database) or by
     * its first statement; other sessions open on a migrated schema */
    if (!writer) prepare_all(c);
    *out = &c->base;
    return ST_OK;
}

static void pg_close(struct store_conn *sc)
{
    struct pg_conn *c = (struct pg_conn *)sc;
    if (!c) return;
    for (int i = 0; i < c->n_rows; i++)
        PQclear(c->rows[i].r);
    PQfinish(c->db);
    free(c->rows);
    free(c);
}

/* ---- migrations ---- */

static int exec_simple_logged(struct pg_conn *c, const char *sql, const char *what)
{
    PGresult *r = PQexec(c->db, sql);
    ExecStatusType st = PQresultStatus(r);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok) log_err("postgres: %s failed: %s", what, PQresultErrorMessage(r));
    PQclear(r);
    return ok ? 0 : -1;
}

static int schema_version(struct pg_conn *c, int *version)
{
    PGresult *r = PQexec(c->db, "SELECT version FROM schema_version");
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    if (ok)
        *version = (int)strtol(PQgetvalue(r, 0, 0), NULL, 10);
    else
        log_err("postgres: cannot read the schema version: %s", PQresultErrorMessage(r));
    PQclear(r);
    return ok ? 0 : -1;
}

/* ---- secrets at rest (the twin of store/sqlite.c's) ---- */

#define KEY_CHECK_NAME "secret_key_check"
#define KEY_CHECK_PLAIN "parley secret key check"

/* Seals the clear-text values of table.col in place. Returns the number sealed, or -1. */
static int seal_column(struct pg_conn *c, const char *table, const char *col)
{
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT sid, %s FROM %s WHERE %s IS NOT NULL AND left(%s, %d) <> '%s'"
             " FOR UPDATE",
             col, table, col, col, (int)strlen(SECRET_PREFIX), SECRET_PREFIX);
    PGresult *r = PQexec(c->db, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        log_err("postgres: reading clear-text secrets failed: %s", PQresultErrorMessage(r));
        PQclear(r);
        return -1;
    }
    snprintf(sql, sizeof(sql), "UPDATE %s SET %s = $2 WHERE sid = $1", table, col);
    int n = 0;
    for (int i = 0; i < PQntuples(r) && n >= 0; i++) {
        struct arena a;
        arena_init(&a);
        const char *sid = PQgetvalue(r, i, 0);
        const char *v[2] = {sid, secret_seal(&a, PQgetvalue(r, i, 1), sid)};
        PGresult *u = v[1] ? PQexecParams(c->db, sql, 2, NULL, v, NULL, NULL, 0) : NULL;
        n = u && PQresultStatus(u) == PGRES_COMMAND_OK ? n + 1 : -1;
        if (n < 0) log_err("postgres: sealing a secret failed: %s", u ? PQresultErrorMessage(u) : "no key");
        PQclear(u);
        arena_free(&a);
    }
    PQclear(r);
    return n;
}

/* The key must be the one the data was sealed with; clear-text secrets are sealed. Runs under the
 * migration lock, so servers starting at once agree on one check value. */
static int secrets_migrate(struct pg_conn *c)
{
    if (exec_simple_logged(c, "BEGIN", "BEGIN") != 0) return -1;
    int ok = 1, sealed = 0;
    struct arena a;
    arena_init(&a);
    PGresult *r = PQexec(c->db, "SELECT value FROM store_meta WHERE name = '" KEY_CHECK_NAME "'");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        log_err("postgres: reading the key check failed: %s", PQresultErrorMessage(r));
        ok = 0;
    } else if (PQntuples(r) == 1) {
        char *plain = NULL;
        if (!secret_have_key()) {
            log_err("this database holds sealed secrets: start with the --secret-key-file they were"
                    " sealed with");
            ok = 0;
        } else if (secret_open(&a, PQgetvalue(r, 0, 0), KEY_CHECK_NAME, &plain) != 0 ||
                   strcmp(plain, KEY_CHECK_PLAIN) != 0) {
            log_err("the secret key does not match this database (its secrets were sealed with another key):"
                    " give the right --secret-key-file");
            ok = 0;
        }
    } else if (secret_have_key()) {
        const char *v[1] = {secret_seal(&a, KEY_CHECK_PLAIN, KEY_CHECK_NAME)};
        static const char insert[] = "INSERT INTO store_meta(name, value) VALUES ('" KEY_CHECK_NAME "', $1)";
        PGresult *u = v[0] ? PQexecParams(c->db, insert, 1, NULL, v, NULL, NULL, 0) : NULL;
        ok = u && PQresultStatus(u) == PGRES_COMMAND_OK;
        PQclear(u);
    }
    PQclear(r);
    arena_free(&a);
    static const char *const columns[][2] = {{"accounts", "auth_token"},
                                             {"credentials", "certificate"},
                                             {"credentials", "private_key"},
                                             {"credentials", "api_key"},
                                             {"credentials", "secret"}};
    for (size_t i = 0; ok && secret_have_key() && i < sizeof(columns) / sizeof(columns[0]); i++) {
        int n = seal_column(c, columns[i][0], columns[i][1]);
        ok = n >= 0;
        sealed += ok ? n : 0;
    }
    if (!ok || exec_simple_logged(c, "COMMIT", "COMMIT") != 0) {
        exec_simple_logged(c, "ROLLBACK", "ROLLBACK");
        return -1;
    }
    if (sealed) log_info("store: sealed %d clear-text secrets with the secret key", sealed);
    return 0;
}

/* Brings the schema to SCHEMA_VERSION, each version in its own transaction, under a session
 * advisory lock: a second server starting at the same time waits, then finds nothing to do. */
static int pg_migrate(struct store_conn *sc)
{
    struct pg_conn *c = (struct pg_conn *)sc;
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT pg_advisory_lock(%lld)", MIGRATE_LOCK_KEY);
    /* the lock may be waited for longer than a statement may take */
    if (exec_simple_logged(c, "SET statement_timeout = 0", "migration set-up") != 0 ||
        exec_simple_logged(c, sql, "the migration lock") != 0)
        return ST_ERROR;
    int rc = ST_ERROR, version = 0;
    if (exec_simple_logged(
            c,
            "CREATE TABLE IF NOT EXISTS schema_version(version integer NOT NULL);"
            "INSERT INTO schema_version SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM schema_version)",
            "creating schema_version") != 0 ||
        schema_version(c, &version) != 0)
        goto out;
    if (version > SCHEMA_VERSION) {
        log_err("the database has schema version %d; this build knows up to %d", version, SCHEMA_VERSION);
        goto out;
    }
    for (int v = version; v < SCHEMA_VERSION; v++) {
        char bump[64];
        snprintf(bump, sizeof(bump), "UPDATE schema_version SET version = %d", v + 1);
        if (exec_simple_logged(c, "BEGIN", "BEGIN") != 0 ||
            exec_simple_logged(c, migrations[v], "a migration") != 0 ||
            exec_simple_logged(c, bump, "the version bump") != 0 ||
            exec_simple_logged(c, "COMMIT", "COMMIT") != 0) {
            log_err("migration to schema version %d failed", v + 1);
            exec_simple_logged(c, "ROLLBACK", "ROLLBACK");
            goto out;
        }
        log_info("store: migrated to schema version %d", v + 1);
    }
    if (secrets_migrate(c) != 0) goto out;
    rc = ST_OK;
out:
    snprintf(sql, sizeof(sql), "SELECT pg_advisory_unlock(%lld)", MIGRATE_LOCK_KEY);
    exec_simple_logged(c, sql, "the migration unlock");
    if (session_setup(c) != 0) rc = ST_ERROR;
    if (rc == ST_OK && prepare_all(c) != 0) {
        log_err("postgres: cannot prepare statements after migrating");
        rc = ST_ERROR;
    }
    return rc;
}

/* ---- transactions (the writer's connection; see "the writer's transaction, pipelined") ---- */

static void tx_reset(struct pg_conn *c)
{
    c->in_tx = c->tx_doomed = c->sp_failed = c->tx_answered = 0;
    c->queued = 0;
}

static int pg_tx_begin(struct store_conn *sc)
{
    struct pg_conn *c = (struct pg_conn *)sc;
    tx_reset(c);
    if (PQstatus(c->db) == CONNECTION_BAD && reconnect(c) != 0) return ST_ERROR;
    int rc = pipe_begin(c, 0);
    if (rc != ST_OK) {
        pipe_end(c);
        return rc == ST_ERROR && PQstatus(c->db) == CONNECTION_BAD ? ST_BUSY : rc;
    }
    c->in_tx = 1;
    return ST_OK;
}

static int pg_savepoint(struct store_conn *sc)
{
    struct pg_conn *c = (struct pg_conn *)sc;
    if (c->tx_doomed) return ST_BUSY;
    c->sp_failed = 0;
    return pipe_queue(c, "SAVEPOINT job");
}

static void pg_savepoint_rollback(struct store_conn *sc)
{
    struct pg_conn *c = (struct pg_conn *)sc;
    if (c->tx_doomed) return; /* the whole transaction goes */
    pipe_queue(c, "ROLLBACK TO SAVEPOINT job");
    c->sp_failed = 0;
}

static int pg_savepoint_release(struct store_conn *sc)
{
    struct pg_conn *c = (struct pg_conn *)sc;
    if (c->tx_doomed) return ST_BUSY;
    if (c->sp_failed) {
        /* a statement of this job failed but the job kept its changes: PostgreSQL cannot keep part of a
         * failed subtransaction (SQLite would keep the job's other statements). The job must not be
         * acknowledged: the batch is doomed, and its retry runs this job alone, where it fails. */
        log_warn("store: a job kept its changes after a failed statement; it fails");
        c->tx_doomed = 1;
        return ST_BUSY;
    }
    return pipe_queue(c, "RELEASE SAVEPOINT job");
}

/* Whatever is open is rolled back; the session leaves pipeline mode. */
static void tx_abort(struct pg_conn *c)
{
    pipe_sync(c);
    pipe_end(c);
    if (PQstatus(c->db) == CONNECTION_OK && PQtransactionStatus(c->db) != PQTRANS_IDLE) simple(c, "ROLLBACK");
    tx_reset(c);
}

static int pg_tx_commit(struct store_conn *sc)
{
    struct pg_conn *c = (struct pg_conn *)sc;
    if (!c->in_tx) return ST_ERROR;
    if (c->tx_doomed) {
        tx_abort(c);
        return ST_BUSY;
    }
    int fresh = !c->tx_answered, lost = 0, rc;
    if (!PQsendQueryParams(c->db, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) || !PQpipelineSync(c->db)) {
        rc = statement_failed(c, NULL, &lost);
        lost = 1;
    } else {
        rc = pipe_drain(c, &lost);
        if (!lost) {
            PGresult *r = pipe_next(c);
            if (rc == ST_OK) {
                if (PQresultStatus(r) != PGRES_COMMAND_OK) {
                    int l;
                    rc = statement_failed(c, r, &l);
                    lost = l;
                } else if (strcmp(PQcmdStatus(r), "COMMIT") != 0) {
                    /* a transaction in the aborted state "commits" as ROLLBACK */
                    log_err("postgres: COMMIT answered %s", PQcmdStatus(r));
                    rc = ST_ERROR;
                }
            }
            PQclear(r);
            if (!lost) {
                /* the sync's own result */
                PGresult *s = pipe_next(c);
                PQclear(s);
            }
        }
    }
    if (lost && rc == ST_OK) rc = ST_ERROR;
    if (lost) {
        if (fresh) {
            rc = ST_BUSY; /* no statement had been answered: nothing of it can have committed */
        } else {
            /* the COMMIT may or may not have happened: no retry, the requests get a 5xx */
            log_err("postgres: connection lost around COMMIT; its outcome is unknown");
        }
        c->queued = 0;
    }
    if (rc == ST_OK) {
        pipe_end(c);
        tx_reset(c);
        return ST_OK;
    }
    tx_abort(c);
    return rc;
}

static void pg_tx_rollback(struct store_conn *sc)
{
    struct pg_conn *c = (struct pg_conn *)sc;
    if (c->in_tx) tx_abort(c);
}

/* ---- accounts ---- */

/* Returns ST_OK, or ST_ERROR when the stored token does not open with this key (logged). */
static int read_account(PGresult *r, struct arena *a, struct account *out)
{
    pg_col_sid(r, 0, 0, out->sid);
    if (secret_open(a, PQgetisnull(r, 0, 1) ? NULL : PQgetvalue(r, 0, 1), out->sid, &out->auth_token) != 0) {
        log_err("account %s: its auth token does not open with this secret key", out->sid);
        return ST_ERROR;
    }
    out->friendly_name = pg_col_dup(r, 0, 2, a);
    pg_col_sid(r, 0, 3, out->default_service_sid);
    out->default_messaging_service_sid = pg_col_dup(r, 0, 4, a);
    out->default_inactive_timer = pg_col_dup(r, 0, 5, a);
    out->default_closed_timer = pg_col_dup(r, 0, 6, a);
    out->date_created = pg_col_i64(r, 0, 7);
    return ST_OK;
}

static int pg_account_get(struct store_conn *sc, const char *sid, struct arena *a, struct account *out)
{
    struct pg_conn *c = (struct pg_conn *)sc;
    struct pg_params p = {0};
    pp_text(&p, sid);
    PGresult *r;
    int rc = pg_row(c, PGT_MAIN, pg_locking(c) ? Q_ACCOUNT_GET_LOCK : Q_ACCOUNT_GET, &p, &r);
    if (rc == ST_OK) {
        rc = read_account(r, a, out);
        PQclear(r);
    }
    return rc;
}

static int pg_account_first(struct store_conn *sc, struct arena *a, struct account *out)
{
    struct pg_conn *c = (struct pg_conn *)sc;
    PGresult *r;
    int rc = pg_row(c, PGT_MAIN, Q_ACCOUNT_FIRST, NULL, &r);
    if (rc == ST_OK) {
        rc = read_account(r, a, out);
        PQclear(r);
    }
    return rc;
}

static int pg_account_count(struct store_conn *sc, long long *n)
{
    struct pg_conn *c = (struct pg_conn *)sc;
    PGresult *r;
    int rc = pg_row(c, PGT_MAIN, Q_ACCOUNT_COUNT, NULL, &r);
    if (rc == ST_OK) {
        *n = pg_col_i64(r, 0, 0);
        PQclear(r);
    }
    return rc;
}

static int pg_account_insert(struct store_conn *sc, const struct account *acct)
{
    struct arena a;
    arena_init(&a);
    char *sealed = secret_seal(&a, acct->auth_token, acct->sid);
    struct pg_params p = {0};
    pp_text(&p, acct->sid);
    pp_text(&p, sealed);
    pp_text(&p, acct->friendly_name);
    pp_text(&p, acct->default_service_sid);
    pp_int(&p, acct->date_created);
    int rc = sealed ? pg_cmd((struct pg_conn *)sc, PGT_MAIN, Q_ACCOUNT_INSERT, &p, NULL) : ST_ERROR;
    arena_free(&a);
    return rc;
}

static int pg_account_set_token(struct store_conn *sc, const char *sid, const char *token)
{
    struct arena a;
    arena_init(&a);
    char *sealed = secret_seal(&a, token, sid);
    struct pg_params p = {0};
    pp_text(&p, sid);
    pp_text(&p, sealed);
    long long changed = 0;
    int rc = sealed ? pg_cmd((struct pg_conn *)sc, PGT_MAIN, Q_ACCOUNT_SET_TOKEN, &p, &changed) : ST_ERROR;
    arena_free(&a);
    return rc == ST_OK && changed == 0 ? ST_NOT_FOUND : rc;
}

const struct store_ops store_pg_ops = {
    .name = "postgres",
    .webhooks = &pg_webhook_ops,
    .model = &pg_account_ops,
    .engine = &pg_engine,
    .open = pg_open,
    .close = pg_close,
    .migrate = pg_migrate,
    .tx_begin = pg_tx_begin,
    .tx_commit = pg_tx_commit,
    .tx_rollback = pg_tx_rollback,
    .savepoint = pg_savepoint,
    .savepoint_rollback = pg_savepoint_rollback,
    .savepoint_release = pg_savepoint_release,
    .account_get = pg_account_get,
    .account_insert = pg_account_insert,
    .account_count = pg_account_count,
    .account_set_token = pg_account_set_token,
    .account_first = pg_account_first,
    STORE_DOMAIN_OPS,
};

#else
typedef int pg_not_built; /* an empty file is not ISO C */
#endif /* NO_STORE_PG */
