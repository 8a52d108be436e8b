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
 * Round trips: the writer's transactions are pipelined, and writes whose results only have to succeed
 * are deferred (see "the writer's transaction, pipelined"). */
#ifndef NO_STORE_PG
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "store/engine.h"
#include "store/migrations.h"
#include "store/store.h"
#include "util/log.h"

/* Session settings. The writer's lock wait is short on purpose: a lock held longer than this by
 * another server is most likely a deadlock between two batches (deadlock_timeout is 1 s by default
 * and needs a superuser to lower), and the writer's retry runs each job alone, which cannot deadlock
 * over the order of rows. */
#define STATEMENT_TIMEOUT_MS 30000
#define IDLE_IN_TX_TIMEOUT_MS 60000
#define WRITER_LOCK_TIMEOUT_MS 200
/* Results the writer's pipeline may owe at once (utility commands and deferred statements); past it, it
 * waits for them before sending more. A message create to 50 recipients defers about 150. */
#define PIPE_PENDING_MAX 1024
/* pg_advisory_lock key of migrations: "parley" in ASCII */
#define MIGRATE_LOCK_KEY 0x7061726c6579LL

struct store_stmt;

struct pg_conn {
    struct store_conn base;
    PGconn *db;
    int writer;
    int sync_full;
    int prepared;        /* every statement is prepared on this session */
    int in_tx;           /* between tx_begin and tx_commit / tx_rollback: the session is in pipeline mode */
    int queued;          /* commands sent in the pipeline whose results are not read yet */
    int n_deferred;      /* how many of them are deferred statements */
    int deferred_rc;     /* the first failure of a deferred statement since the job's savepoint */
    int tx_answered;     /* some statement of the transaction has been answered, or deferred */
    int tx_doomed;       /* a transient failure (busy, lost connection) ended the transaction's hopes */
    int sp_failed;       /* a statement failed since the last savepoint: the job cannot be kept */
    long long claim_key; /* session advisory lock held while this session has outbox claims */
    int claim_locked;    /* claim_key is locked on the current session */
    /* what each queued command is (enum pending), in the order of their results */
    unsigned char pending[PIPE_PENDING_MAX];
    struct store_stmt *rows; /* the registered statements (store/engine.h), by id */
    int n_rows;
};

/* Text parameters of one statement; integers are formatted into the struct. */
#define PG_MAX_PARAMS STORE_SQL_PARAMS_MAX /* store/engine.h; a message insert binds 24 */
struct pg_params {
    int n;
    const char *v[PG_MAX_PARAMS];
    char num[PG_MAX_PARAMS][24];
};

/* Locking rule of the writer: inside its transaction a single-row read takes a row lock, because
 * writes read a row and write it back. Rows read-modify-written by their own operations take FOR NO
 * KEY UPDATE; rows other writes only read as references (roles, service configuration, services,
 * webhook configuration) take FOR SHARE, so that concurrent user writes of several servers do not queue
 * on them (store_sql's lock). Readers never lock. */
static int pg_locking(const struct pg_conn *c)
{
    return c->writer && c->in_tx;
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

/* Runs a simple command string outside pipeline mode: 0, or -1 (logged). */
static int exec_simple_logged(struct pg_conn *c, const char *sql, const char *what)
{
    PGresult *r = PQexec(c->db, sql);
    ExecStatusType st = PQresultStatus(r);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok) log_err("postgres: %s failed: %s", what, PQresultErrorMessage(r));
    PQclear(r);
    return ok ? 0 : -1;
}

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
    return exec_simple_logged(c, sql, "setting up the session");
}

/* Reads every result up to the pipeline's sync (or the session's end): whether one failed, the first
 * fatal error's message into err (when given). */
static int read_to_sync(struct pg_conn *c, char *err, size_t n)
{
    int failed = 0;
    for (;;) {
        PGresult *r = PQgetResult(c->db);
        if (!r) {
            if (PQstatus(c->db) == CONNECTION_BAD) return failed;
            continue;
        }
        ExecStatusType st = PQresultStatus(r);
        if (st != PGRES_PIPELINE_SYNC && st != PGRES_COMMAND_OK) {
            failed = 1;
            if (err && !err[0] && st == PGRES_FATAL_ERROR) snprintf(err, n, "%s", PQresultErrorMessage(r));
        }
        PQclear(r);
        if (st == PGRES_PIPELINE_SYNC) return failed;
    }
}

/* Prepares every statement of every table in one pipelined round trip. Fails (and leaves
 * c->prepared 0) while the schema is older than this build: the writer migrates, then prepares. */
static int prepare_all(struct pg_conn *c)
{
    PGresult *r = PQexec(c->db, "DEALLOCATE ALL");
    PQclear(r);
    if (!PQenterPipelineMode(c->db)) return -1;
    int failed = 0;
    char name[16];
    for (const struct store_sql *q = store_sql_first(); q && !failed; q = q->next) {
        if (!q->pg_text[0]) continue; /* nothing to run here */
        snprintf(name, sizeof(name), "r%d", q->id);
        failed = !PQsendPrepare(c->db, name, q->pg_text, 0, NULL);
        if (failed || !q->pg_text_lock) continue;
        snprintf(name, sizeof(name), "r%dl", q->id);
        failed = !PQsendPrepare(c->db, name, q->pg_text_lock, 0, NULL);
    }
    /* the engine's own: session_key's lock */
    if (!failed) failed = !PQsendPrepare(c->db, "claim_lock", "SELECT pg_advisory_lock($1::bigint)", 0, NULL);
    PQpipelineSync(c->db);
    char err[256] = "";
    failed |= read_to_sync(c, err, sizeof(err));
    PQexitPipelineMode(c->db);
    c->prepared = !failed;
    if (failed && err[0]) log_debug("postgres: statements not prepared yet: %s", err);
    return c->prepared ? 0 : -1;
}

/* Every statement prepared on this session, or ST_ERROR (logged). */
static int ensure_prepared(struct pg_conn *c)
{
    if (c->prepared || prepare_all(c) == 0) return ST_OK;
    log_err("postgres: cannot prepare statements (is the schema migrated?)");
    return ST_ERROR;
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

/* ---- the writer's transaction, pipelined ----
 * Between tx_begin and the end of the transaction the writer's session is in libpq pipeline mode.
 * BEGIN, SAVEPOINT, RELEASE and ROLLBACK TO are queued without waiting; they go out with the next
 * statement, and their results are read before its own. So are deferred statements (exec_deferred:
 * writes whose callers use only the outcome), whose results are read with the next statement's, or at
 * the job's end (eng_deferred_wait) if none follows. A job thus costs one round trip per statement whose
 * result it reads, one more if it ends with deferred statements, and the batch one more for COMMIT.
 * After a failure the pipeline is synced (PostgreSQL skips what follows an error until a sync), which
 * leaves the transaction in its aborted state until the job's savepoint is rolled back: the same states
 * as without a pipeline. A deferred statement's failure is its job's: it answers the job's next read,
 * or the job's end, and the writer rolls the job back; the jobs after it never see it (their savepoint
 * comes after that wait). */

/* What a queued command's result means: a utility command's failure dooms the transaction; a deferred
 * statement's fails its job (deferred_rc), as it would have had its result been read at once. */
enum pending { PENDING_UTILITY, PENDING_DEFERRED };

static int pipe_wait(struct pg_conn *c);

/* No result is owed any more: read, skipped by a sync, or gone with the session. */
static void pipe_forget(struct pg_conn *c)
{
    c->queued = c->n_deferred = 0;
}

/* Room for one more result owed: ST_OK, or the failure of those waited for to make it. */
static int pipe_room(struct pg_conn *c)
{
    return c->queued < PIPE_PENDING_MAX ? ST_OK : pipe_wait(c);
}

/* Queues a command whose result is owed: a utility command's text (sql), or a deferred statement (the
 * prepared name, with p). A command that cannot be sent dooms the transaction. */
static int pipe_send(struct pg_conn *c, const char *sql, const char *name, const struct pg_params *p)
{
    int rc = pipe_room(c);
    if (rc != ST_OK) return rc;
    if (name ? !PQsendQueryPrepared(c->db, name, p->n, p->v, NULL, NULL, 0)
             : !PQsendQueryParams(c->db, sql, 0, NULL, NULL, NULL, NULL, 0)) {
        int lost;
        statement_failed(c, NULL, &lost);
        c->tx_doomed = 1;
        return ST_BUSY;
    }
    c->pending[c->queued++] = (unsigned char)(name ? PENDING_DEFERRED : PENDING_UTILITY);
    c->n_deferred += name != NULL;
    return ST_OK;
}

static int pipe_queue(struct pg_conn *c, const char *sql)
{
    return pipe_send(c, sql, NULL, NULL);
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

/* Reads the results of the queued commands (flushed already): a utility command's failure dooms the
 * transaction, a deferred statement's is the job's (deferred_rc). Returns ST_OK or the first failure;
 * *lost when the session is gone. */
static int pipe_drain(struct pg_conn *c, int *lost)
{
    int rc = ST_OK;
    *lost = 0;
    for (int i = 0; i < c->queued && !*lost; i++) {
        int deferred = c->pending[i] == PENDING_DEFERRED;
        PGresult *q = pipe_next(c);
        ExecStatusType st = q ? PQresultStatus(q) : PGRES_FATAL_ERROR;
        if (st == PGRES_COMMAND_OK || (deferred && st == PGRES_TUPLES_OK)) {
            PQclear(q);
            continue;
        }
        if (q && st == PGRES_PIPELINE_ABORTED) {
            /* skipped after an earlier failure: that one tells. A deferred statement skipped after one
             * of its job's failed is part of that failure; anything else skipped dooms. */
            if (rc == ST_OK || !deferred) c->tx_doomed = 1;
            if (rc == ST_OK) rc = ST_BUSY;
        } else {
            int l, frc = statement_failed(c, q, &l);
            if (rc == ST_OK) rc = frc;
            *lost = l;
            if (!deferred)
                c->tx_doomed = 1;
            else if (c->deferred_rc == ST_OK)
                c->deferred_rc = frc;
        }
        PQclear(q);
    }
    pipe_forget(c);
    return rc;
}

/* A sync, and every result up to it: the pipeline takes commands again after a failure. */
static void pipe_sync(struct pg_conn *c)
{
    pipe_forget(c);
    if (PQstatus(c->db) != CONNECTION_BAD && PQpipelineSync(c->db)) read_to_sync(c, NULL, 0);
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
    pipe_forget(c);
}

/* The results owed before a command's own, once it was sent (sent: it went out, flushed): ST_OK or the
 * first failure; *lost when the session is gone, as it is when the command could not be sent. */
static int drain_sent(struct pg_conn *c, int sent, int *lost)
{
    if (sent) return pipe_drain(c, lost);
    int rc = statement_failed(c, NULL, lost);
    *lost = 1;
    return rc;
}

/* Every result owed, read now (one round trip): ST_OK or the first failure, after which the pipeline is
 * synced so that the job's savepoint can be rolled back. */
static int pipe_wait(struct pg_conn *c)
{
    if (c->queued == 0) return ST_OK;
    int lost = 0, rc = drain_sent(c, PQsendFlushRequest(c->db) && PQflush(c->db) == 0, &lost);
    if (lost) {
        pipe_forget(c);
        c->tx_doomed = 1;
        return ST_ERROR;
    }
    if (rc != ST_OK) pipe_sync(c);
    return rc;
}

/* Starts (or starts again, on a new session) the transaction of the job that is running: BEGIN and
 * its savepoint. */
static int pipe_begin(struct pg_conn *c, int with_savepoint)
{
    if (ensure_prepared(c) != ST_OK || !PQenterPipelineMode(c->db)) return ST_ERROR;
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
        int sent = PQsendQueryPrepared(c->db, name, p ? p->n : 0, p ? p->v : NULL, NULL, NULL, 0) &&
                   PQsendFlushRequest(c->db) && PQflush(c->db) == 0;
        rc = drain_sent(c, sent, &lost);
        if (!lost) {
            PGresult *r = pipe_next(c);
            ExecStatusType st = PQresultStatus(r);
            if (rc == ST_OK && (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)) {
                c->tx_answered = 1;
                *res = r;
                return ST_OK;
            }
            if (rc == ST_OK) rc = statement_failed(c, r, &lost); /* else it was skipped after that failure */
            PQclear(r);
        }
        if (lost) {
            pipe_forget(c);
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
    if ((PQstatus(c->db) == CONNECTION_BAD && reconnect(c) != 0) || ensure_prepared(c) != ST_OK)
        return ST_ERROR;
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
    if (!s->q->pg_text[0]) return 0;
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

/* NULL for SQL NULL */
static const char *eng_col_text(struct store_stmt *s, int i)
{
    return PQgetisnull(s->r, s->row, i) ? NULL : PQgetvalue(s->r, s->row, i);
}
static long long eng_col_int(struct store_stmt *s, int i)
{
    const char *v = eng_col_text(s, i);
    return v ? strtoll(v, NULL, 10) : 0;
}
static long long eng_changes(struct store_stmt *s)
{
    return s->r ? strtoll(PQcmdTuples(s->r), NULL, 10) : 0;
}
/* the insert's RETURNING id */
static long long eng_last_id(struct store_stmt *s)
{
    return s->r && PQntuples(s->r) > 0 ? strtoll(PQgetvalue(s->r, 0, 0), NULL, 10) : 0;
}

static void eng_reset(struct store_stmt *s)
{
    PQclear(s->r);
    s->r = NULL;
    s->ran = 0;
    s->p.n = 0;
    memset(s->p.v, 0, sizeof(s->p.v));
}

/* In the writer's transaction: queued in the pipeline (libpq copies the parameters), its result owed
 * until the next statement whose result is read, or the job's end (eng_deferred_wait). Elsewhere: at
 * once. */
static int send_deferred(struct store_stmt *s)
{
    struct pg_conn *c = s->c;
    if (!s->q->pg_text[0]) return ST_OK;
    if (!c->in_tx) {
        int rc = eng_step(s);
        return rc < 0 ? rc : ST_OK;
    }
    if (c->tx_doomed) return ST_BUSY;
    char name[16];
    snprintf(name, sizeof(name), "r%d", s->q->id);
    int rc = pipe_send(c, NULL, name, &s->p);
    /* a session lost from now on has lost this statement: the transaction cannot simply start again */
    if (rc == ST_OK) c->tx_answered = 1;
    return rc;
}

static int eng_exec_deferred(struct store_stmt *s)
{
    int rc = send_deferred(s);
    eng_reset(s);
    return rc;
}

/* Takes this session's claim lock (once per session): claims stamped with its key stay claimed only
 * while the session lives. */
static int eng_session_key(struct store_conn *sc, long long *key)
{
    struct pg_conn *c = (struct pg_conn *)sc;
    if (!c->claim_locked) {
        if (!c->claim_key) {
            unsigned long long k = 0;
            if (getrandom(&k, sizeof(k), 0) != (ssize_t)sizeof(k)) return ST_ERROR;
            c->claim_key = (long long)(k & 0x3fffffffffffffffULL) | 1;
        }
        char num[24];
        snprintf(num, sizeof(num), "%lld", c->claim_key);
        PGresult *r;
        int rc = exec_named(c, "claim_lock", &(struct pg_params){.n = 1, .v = {num}}, &r);
        if (rc != ST_OK) return rc;
        PQclear(r);
        c->claim_locked = 1;
    }
    *key = c->claim_key;
    return ST_OK;
}

static const struct store_engine pg_engine = {STORE_ENGINE_FNS};

static void eng_close(struct store_conn *sc)
{
    struct pg_conn *c = (struct pg_conn *)sc;
    if (!c) return;
    for (int i = 0; i < c->n_rows; i++)
        PQclear(c->rows[i].r);
    PQfinish(c->db);
    free(c->rows);
    free(c);
}

static void quiet_notices(void *arg, const PGresult *r)
{
    (void)arg;
    (void)r;
}

static int eng_open(const char *target, int writer, int sync_full, struct store_conn **out)
{
    struct pg_conn *c = calloc(1, sizeof(*c));
    if (!c) return ST_ERROR;
    /* our defaults first, the target last: what the URL or keyword string says wins */
    const char *const keys[] = {"application_name", "connect_timeout", "dbname", NULL};
    const char *const vals[] = {"parley", "10", target, NULL};
    c->db = PQconnectdbParams(keys, vals, 1);
    if (!c->db || PQstatus(c->db) != CONNECTION_OK) {
        log_err("postgres: cannot connect: %s", c->db ? PQerrorMessage(c->db) : "out of memory");
        goto fail;
    }
    PQsetNoticeReceiver(c->db, quiet_notices, NULL);
    c->base.ops = &store_pg_ops;
    c->writer = writer;
    c->sync_full = sync_full;
    if (!(c->rows = store_sql_slots(sizeof(*c->rows), &c->n_rows)) || session_setup(c) != 0) goto fail;
    /* the writer's statements are prepared by migrate (which runs first on a new database) or by
     * its first statement; other sessions open on a migrated schema */
    if (!writer) prepare_all(c);
    *out = &c->base;
    return ST_OK;
fail:
    eng_close(&c->base);
    return ST_ERROR;
}

/* ---- migrations ---- */

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

/* Brings the schema to the latest version of store/migrations.c, each version in its own transaction, under a
 * session advisory lock: a second server starting at the same time waits, then finds nothing to do. */
static int eng_migrate(struct store_conn *sc)
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
    int latest = migration_latest();
    if (version > latest) {
        log_err("the database has schema version %d; this build knows up to %d", version, latest);
        goto out;
    }
    for (int v = version + 1; v <= latest; v++) {
        char bump[64];
        snprintf(bump, sizeof(bump), "UPDATE schema_version SET version = %d", v);
        int ok = exec_simple_logged(c, "BEGIN", "BEGIN") == 0;
        for (int i = 0; ok && i < store_migrations_n; i++) {
            if (store_migrations[i].version != v) continue;
            char *text = migration_text(&store_migrations[i], 1);
            ok = text && (!text[0] || exec_simple_logged(c, text, "a migration") == 0);
            free(text);
        }
        if (!ok || exec_simple_logged(c, bump, "the version bump") != 0 ||
            exec_simple_logged(c, "COMMIT", "COMMIT") != 0) {
            log_err("migration to schema version %d failed", v);
            exec_simple_logged(c, "ROLLBACK", "ROLLBACK");
            goto out;
        }
        log_info("store: migrated to schema version %d", v);
    }
    if (session_setup(c) != 0) goto out;
    if (prepare_all(c) != 0) {
        log_err("postgres: cannot prepare statements after migrating");
        goto out;
    }
    /* under the migration lock, so that servers starting at once agree on one check value */
    if (store_secrets_migrate(sc) < 0) goto out;
    rc = ST_OK;
out:
    snprintf(sql, sizeof(sql), "SELECT pg_advisory_unlock(%lld)", MIGRATE_LOCK_KEY);
    exec_simple_logged(c, sql, "the migration unlock");
    if (rc != ST_OK) session_setup(c); /* the timeouts again */
    return rc;
}

/* ---- transactions (the writer's connection; see "the writer's transaction, pipelined") ---- */

static void tx_reset(struct pg_conn *c)
{
    c->in_tx = c->tx_doomed = c->sp_failed = c->tx_answered = 0;
    pipe_forget(c);
    c->deferred_rc = ST_OK;
}

static int eng_tx_begin(struct store_conn *sc)
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

static int eng_savepoint(struct store_conn *sc)
{
    struct pg_conn *c = (struct pg_conn *)sc;
    if (c->tx_doomed) return ST_BUSY;
    c->sp_failed = 0;
    c->deferred_rc = ST_OK;
    return pipe_queue(c, "SAVEPOINT job");
}

static void eng_savepoint_rollback(struct store_conn *sc)
{
    struct pg_conn *c = (struct pg_conn *)sc;
    if (c->tx_doomed) return; /* the whole transaction goes */
    pipe_queue(c, "ROLLBACK TO SAVEPOINT job");
    c->sp_failed = 0;
    c->deferred_rc = ST_OK;
}

static int eng_savepoint_release(struct store_conn *sc)
{
    struct pg_conn *c = (struct pg_conn *)sc;
    /* deferred statements not waited for (a caller other than the writer) are waited for here */
    if (!c->tx_doomed && c->n_deferred > 0) pipe_wait(c);
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

/* The job's deferred statements, waited for only if it has any. */
static int eng_deferred_wait(struct store_conn *sc)
{
    struct pg_conn *c = (struct pg_conn *)sc;
    if (!c->in_tx) return ST_OK;
    if (c->tx_doomed) return ST_BUSY;
    int rc = c->n_deferred > 0 ? pipe_wait(c) : ST_OK;
    if (rc == ST_OK || c->deferred_rc != ST_OK) rc = c->deferred_rc;
    return rc;
}

/* Whatever is open is rolled back; the session leaves pipeline mode. */
static void tx_abort(struct pg_conn *c)
{
    pipe_sync(c);
    pipe_end(c);
    if (PQstatus(c->db) == CONNECTION_OK && PQtransactionStatus(c->db) != PQTRANS_IDLE)
        exec_simple_logged(c, "ROLLBACK", "ROLLBACK");
    tx_reset(c);
}

static int eng_tx_commit(struct store_conn *sc)
{
    struct pg_conn *c = (struct pg_conn *)sc;
    if (!c->in_tx) return ST_ERROR;
    if (c->tx_doomed) {
        tx_abort(c);
        return ST_BUSY;
    }
    int fresh = !c->tx_answered, lost = 0;
    int sent = PQsendQueryParams(c->db, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) && PQpipelineSync(c->db);
    int rc = drain_sent(c, sent, &lost);
    if (!lost) {
        PGresult *r = pipe_next(c);
        if (rc == ST_OK) {
            if (PQresultStatus(r) != PGRES_COMMAND_OK) {
                rc = statement_failed(c, r, &lost);
            } else if (strcmp(PQcmdStatus(r), "COMMIT") != 0) {
                /* a transaction in the aborted state "commits" as ROLLBACK */
                log_err("postgres: COMMIT answered %s", PQcmdStatus(r));
                rc = ST_ERROR;
            }
        }
        PQclear(r);
        if (!lost) PQclear(pipe_next(c)); /* the sync's own result */
    }
    if (lost && rc == ST_OK) rc = ST_ERROR;
    if (lost) {
        if (fresh) {
            rc = ST_BUSY; /* no statement had been answered: nothing of it can have committed */
        } else {
            /* the COMMIT may or may not have happened: no retry, the requests get a 5xx */
            log_err("postgres: connection lost around COMMIT; its outcome is unknown");
        }
        pipe_forget(c);
    }
    if (rc == ST_OK) {
        pipe_end(c);
        tx_reset(c);
        return ST_OK;
    }
    tx_abort(c);
    return rc;
}

static void eng_tx_rollback(struct store_conn *sc)
{
    struct pg_conn *c = (struct pg_conn *)sc;
    if (c->in_tx) tx_abort(c);
}

const struct store_ops store_pg_ops = {
    .name = "postgres",
    .engine = &pg_engine,
    STORE_ENGINE_OPS,
    .deferred_wait = eng_deferred_wait,
};

#else
typedef int pg_not_built; /* an empty file is not ISO C */
#endif /* NO_STORE_PG */
