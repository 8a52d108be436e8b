/* SQLite backend: WAL, one connection per thread, every statement prepared once per connection. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/engine.h"
#include "store/migrations.h"
#include "store/store.h"
#include "util/log.h"
#include "util/ticker.h"

struct sq_checkpointer;

enum tx_id {
    Q_BEGIN,
    Q_COMMIT,
    Q_ROLLBACK,
    Q_SAVEPOINT,
    Q_SAVEPOINT_ROLLBACK,
    Q_SAVEPOINT_RELEASE,
    Q__COUNT
};

struct sq_conn {
    struct store_conn base;
    sqlite3 *db;
    int writer;
    int sync_full;
    int wal_fd;                   /* the writer's own descriptor of the WAL, synced behind (sync_fd) */
    struct sq_checkpointer *ckpt; /* the writer's background checkpoints */
    sqlite3_stmt **rows;          /* the registered statements (store/engine.h), by id */
    int n_rows;
    sqlite3_stmt *tx[Q__COUNT]; /* the transaction statements */
};

static const char *const tx_sql[Q__COUNT] = {
    [Q_BEGIN] = "BEGIN IMMEDIATE",
    [Q_COMMIT] = "COMMIT",
    [Q_ROLLBACK] = "ROLLBACK",
    [Q_SAVEPOINT] = "SAVEPOINT job",
    [Q_SAVEPOINT_ROLLBACK] = "ROLLBACK TO job",
    [Q_SAVEPOINT_RELEASE] = "RELEASE job",
};

/* sqlite extended code -> store_result */
static int sq_map_rc(sqlite3 *db, int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return ST_OK;
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) return ST_CONFLICT;
        /* a trigger refuses writes into a deleted service (schema version 6, store/migrations.c) */
        if (rc == SQLITE_CONSTRAINT_FOREIGNKEY || rc == SQLITE_CONSTRAINT_TRIGGER) return ST_IN_USE;
        return ST_ERROR;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return ST_BUSY;
    case SQLITE_FULL:
        return ST_FULL;
    default:
        log_warn("sqlite: %s (%d)", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), rc);
        return ST_ERROR;
    }
}

/* Prepares sql into *slot once per connection; NULL (logged) when it cannot. */
static sqlite3_stmt *sq_stmt(struct sq_conn *c, sqlite3_stmt **slot, const char *sql)
{
    if (!*slot && sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) != SQLITE_OK) {
        log_err("sqlite: prepare \"%.60s…\": %s", sql, sqlite3_errmsg(c->db));
        *slot = NULL;
    }
    return *slot;
}

static void sq_done(sqlite3_stmt *s)
{
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

static int sq_exec_id(struct store_conn *sc, enum tx_id id)
{
    struct sq_conn *c = (struct sq_conn *)sc;
    sqlite3_stmt *s = sq_stmt(c, &c->tx[id], tx_sql[id]);
    if (!s) return ST_ERROR;
    int rc = sqlite3_step(s);
    int r = rc == SQLITE_DONE ? ST_OK : sq_map_rc(c->db, sqlite3_extended_errcode(c->db));
    sq_done(s);
    return r;
}

/* Checkpoints run on their own thread and connection, so that a commit (and the request waiting for it)
 * never pays for copying the WAL back into the database: the writer's autocheckpoint is off. PASSIVE
 * checkpoints take no lock that the writer or the readers wait for.
 *
 * A PASSIVE checkpoint copies the frames that were committed when it began; the WAL only starts over
 * (and journal_size_limit only shrinks it) when the writer begins a transaction while every frame has
 * been copied. A writer that never pauses would outrun that, so the writer's WAL hook wakes the
 * checkpointer once CHECKPOINT_WAKE_PAGES frames are waiting, and past CHECKPOINT_WRITER_PAGES the writer
 * checkpoints itself between two transactions: nothing can be appended meanwhile, and the background
 * checkpoints have already copied most of the frames, so it copies few.
 *
 * A checkpoint copies the newest version of each page once, however often it changed: checkpoints every
 * 100 ms or 1,000 frames rewrote the same hot index pages many times a second, and their disk writes
 * queued ahead of the writer's syncs (durable message creates were 20% slower, bench/RESULTS.md). */
struct sq_checkpointer {
    struct ticker ticker;
    sqlite3 *db;
};

#define CHECKPOINT_EVERY_MS 1000
#define CHECKPOINT_WAKE_PAGES 3500
#define CHECKPOINT_WRITER_PAGES 8000 /* ~32 MB of 4 KiB pages: the WAL stays around this size */

static void checkpoint_tick(void *arg)
{
    struct sq_checkpointer *k = arg;
    int nlog = 0, nckpt = 0;
    int rc = sqlite3_wal_checkpoint_v2(k->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &nlog, &nckpt);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) log_warn("sqlite: checkpoint: %s", sqlite3_errmsg(k->db));
}

static int writer_wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
    struct sq_conn *c = arg;
    if (frames >= CHECKPOINT_WRITER_PAGES) {
        int rc = sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY) log_warn("sqlite: checkpoint: %s", sqlite3_errmsg(db));
    } else if (frames >= CHECKPOINT_WAKE_PAGES && c->ckpt) {
        ticker_kick(&c->ckpt->ticker);
    }
    return SQLITE_OK;
}

static struct sq_checkpointer *checkpointer_start(const char *target)
{
    struct sq_checkpointer *k = calloc(1, sizeof(*k));
    if (!k) return NULL;
    /* A connection checkpoints only once it has read the database and so opened its WAL; before that
     * sqlite3_wal_checkpoint_v2 is a silent no-op. */
    if (sqlite3_open_v2(target, &k->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
        sqlite3_exec(k->db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_busy_timeout(k->db, 1000);
    if (ticker_start(&k->ticker, "parley-ckpt", CHECKPOINT_EVERY_MS, 0, checkpoint_tick, k) == 0) return k;
fail:
    sqlite3_close(k->db);
    free(k);
    return NULL;
}

static void checkpointer_stop(struct sq_checkpointer *k)
{
    if (!k) return;
    ticker_stop(&k->ticker);
    sqlite3_close(k->db);
    free(k);
}

/* The data file and its -wal and -shm hold the account's data: only the owner may read them. SQLite
 * gives the -wal and -shm the mode of the data file, so creating that one 0600 is enough; files left
 * readable by an older version are narrowed. */
static int restrict_modes(const char *target)
{
    int fd = open(target, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        log_err("cannot open %s: %s", target, strerror(errno));
        return -1;
    }
    close(fd);
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        char path[4096];
        struct stat st;
        if (snprintf(path, sizeof(path), "%s%s", target, suffixes[i]) >= (int)sizeof(path)) return -1;
        if (stat(path, &st) == 0 && (st.st_mode & 077) && chmod(path, st.st_mode & 0700) != 0)
            log_warn("cannot narrow the mode of %s: %s", path, strerror(errno));
    }
    return 0;
}

/* Before the library initialises: no memory statistics. With them every allocation takes a global mutex
 * and updates counters, about 60 allocations per write (callgrind); Parley reads no statistic. Too late
 * (the library already initialised, as a unit test may have done) is harmless. */
static pthread_once_t library_once = PTHREAD_ONCE_INIT;
static void library_configure(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static int eng_open(const char *target, int writer, int sync_full, struct store_conn **out)
{
    pthread_once(&library_once, library_configure);
    if (writer && restrict_modes(target) != 0) return ST_ERROR;
    struct sq_conn *c = calloc(1, sizeof(*c));
    if (!c) return ST_ERROR;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (writer ? SQLITE_OPEN_CREATE : 0);
    char pragmas[256], *msg = NULL;
    if (sqlite3_open_v2(target, &c->db, flags, NULL) != SQLITE_OK) {
        log_err("cannot open %s: %s", target, c->db ? sqlite3_errmsg(c->db) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(c->db, 5000);
    sqlite3_db_config(c->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    /* synchronous=NORMAL in WAL mode keeps the file consistent through a crash and syncs at checkpoints;
     * with --sync full the writer makes each batch durable by syncing the WAL behind the COMMIT
     * (sync_fd), before any of its jobs is answered */
    snprintf(pragmas, sizeof(pragmas),
             "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
             " PRAGMA temp_store=MEMORY; PRAGMA journal_size_limit=67108864;%s",
             writer ? " PRAGMA wal_autocheckpoint=0;" : " PRAGMA query_only=ON;");
    if (sqlite3_exec(c->db, pragmas, NULL, NULL, &msg) != SQLITE_OK) {
        log_err("cannot configure %s: %s", target, msg ? msg : "?");
        sqlite3_free(msg);
        goto fail;
    }
    if (!(c->rows = store_sql_slots(sizeof(*c->rows), &c->n_rows))) goto fail;
    c->base.ops = &store_sqlite_ops;
    c->writer = writer;
    c->sync_full = sync_full;
    c->wal_fd = -1;
    if (writer && !(c->ckpt = checkpointer_start(target)))
        log_warn("sqlite: no background checkpoints; the writer checkpoints between its transactions");
    if (writer) sqlite3_wal_hook(c->db, writer_wal_hook, c); /* after the pragma, which resets the hook */
    *out = &c->base;
    return ST_OK;
fail:
    sqlite3_close(c->db);
    free(c);
    return ST_ERROR;
}

static void eng_close(struct store_conn *sc)
{
    struct sq_conn *c = (struct sq_conn *)sc;
    if (!c) return;
    /* the hook must not wake a checkpointer that is gone (PRAGMA optimize below may commit) */
    if (c->writer) sqlite3_wal_hook(c->db, NULL, NULL);
    checkpointer_stop(c->ckpt);
    c->ckpt = NULL;
    for (int i = 0; i < Q__COUNT; i++)
        sqlite3_finalize(c->tx[i]);
    for (int i = 0; i < c->n_rows; i++)
        sqlite3_finalize(c->rows[i]);
    if (c->writer) {
        sqlite3_exec(c->db, "PRAGMA optimize", NULL, NULL, NULL);
        /* leave a short WAL behind: the next start reads less */
        sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    }
    sqlite3_close(c->db);
    if (c->wal_fd >= 0) close(c->wal_fd);
    free(c->rows);
    free(c);
}

/* The secrets' migration (store/migrations.c) with secure_delete, so that the old bytes of the values it
 * seals are zeroed in the file, and a truncating checkpoint after it, so that no copy stays in the WAL. */
static int sq_secrets_migrate(struct sq_conn *c)
{
    sqlite3_exec(c->db, "PRAGMA secure_delete=ON", NULL, NULL, NULL);
    int n = store_secrets_migrate(&c->base);
    if (n > 0) sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    sqlite3_exec(c->db, "PRAGMA secure_delete=OFF", NULL, NULL, NULL);
    return n < 0 ? n : ST_OK;
}

/* Runs one statement text outside a transaction of the store; ST_OK or ST_ERROR (logged). */
static int sq_exec_text(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK) return ST_OK;
    log_err("store: %s failed: %s", sql, msg ? msg : "?");
    sqlite3_free(msg);
    return ST_ERROR;
}

/* The steps of version v in one transaction, which commits only if no foreign key is left dangling. */
static int migrate_to(sqlite3 *db, int v)
{
    char *msg = NULL;
    char bump[64];
    snprintf(bump, sizeof(bump), "PRAGMA user_version=%d;", v);
    int ok = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) == SQLITE_OK;
    for (int i = 0; ok && i < store_migrations_n; i++) {
        if (store_migrations[i].version != v) continue;
        char *sql = migration_text(&store_migrations[i], 0);
        ok = sql && sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK;
        free(sql);
    }
    sqlite3_stmt *s = NULL;
    if (ok && sqlite3_prepare_v2(db, "PRAGMA foreign_key_check", -1, &s, NULL) == SQLITE_OK) {
        int step = sqlite3_step(s);
        ok = step == SQLITE_DONE;
        if (step == SQLITE_ROW)
            log_err("migration to schema version %d leaves a row of %s without its parent", v,
                    (const char *)sqlite3_column_text(s, 0));
    } else
        ok = 0;
    sqlite3_finalize(s);
    if (!ok || sqlite3_exec(db, bump, NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
        log_err("migration to schema version %d failed: %s", v, msg ? msg : "?");
        sqlite3_free(msg);
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return ST_ERROR;
    }
    log_info("store: migrated to schema version %d", v);
    return ST_OK;
}

static int eng_migrate(struct store_conn *sc)
{
    struct sq_conn *c = (struct sq_conn *)sc;
    sqlite3_stmt *s;
    int version = 0;
    if (sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK) return ST_ERROR;
    if (sqlite3_step(s) == SQLITE_ROW) version = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    int latest = migration_latest();
    if (version > latest) {
        log_err("the data file has schema version %d; this build knows up to %d", version, latest);
        return ST_ERROR;
    }
    /* Foreign keys off while the schema changes (SQLite's procedure for rebuilding a table: dropping the
     * old one must not cascade into the tables that refer to it); each version checks them before its
     * commit instead. */
    int rc = version < latest ? sq_exec_text(c->db, "PRAGMA foreign_keys=OFF") : ST_OK;
    for (int v = version + 1; v <= latest && rc == ST_OK; v++)
        rc = migrate_to(c->db, v);
    if (version < latest && sq_exec_text(c->db, "PRAGMA foreign_keys=ON") != ST_OK) rc = ST_ERROR;
    return rc == ST_OK ? sq_secrets_migrate(c) : rc;
}

static int eng_tx_begin(struct store_conn *c)
{
    return sq_exec_id(c, Q_BEGIN);
}
static int eng_tx_commit(struct store_conn *c)
{
    return sq_exec_id(c, Q_COMMIT);
}

/* synchronous=OFF for this one COMMIT: the WAL frames are written but not fsynced; the next commit at
 * the configured level fsyncs the WAL, and them with it. */
static int eng_tx_commit_lazy(struct store_conn *sc)
{
    struct sq_conn *c = (struct sq_conn *)sc;
    sqlite3_exec(c->db, "PRAGMA synchronous=OFF", NULL, NULL, NULL);
    int r = sq_exec_id(sc, Q_COMMIT);
    sqlite3_exec(c->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
    return r;
}

/* The WAL, opened once the first commit has created it. An fdatasync of any descriptor of a file syncs
 * the file, so this one, used only by the writer's sync thread, syncs what SQLite's own wrote. The WAL is
 * never deleted while the writer's connection is open (a checkpoint only truncates it). */
static int eng_sync_fd(struct store_conn *sc)
{
    struct sq_conn *c = (struct sq_conn *)sc;
    if (!c->writer || !c->sync_full) return -1;
    if (c->wal_fd < 0) {
        const char *wal = sqlite3_filename_wal(sqlite3_db_filename(c->db, "main"));
        c->wal_fd = wal ? open(wal, O_RDWR | O_CLOEXEC) : -1;
        if (c->wal_fd < 0) {
            log_err("sqlite: cannot open the WAL to sync it: %s", strerror(errno));
            return -2;
        }
    }
    return c->wal_fd;
}
static void eng_tx_rollback(struct store_conn *c)
{
    sq_exec_id(c, Q_ROLLBACK);
}
static int eng_savepoint(struct store_conn *c)
{
    return sq_exec_id(c, Q_SAVEPOINT);
}
static void eng_savepoint_rollback(struct store_conn *c)
{
    sq_exec_id(c, Q_SAVEPOINT_ROLLBACK);
}
static int eng_savepoint_release(struct store_conn *c)
{
    return sq_exec_id(c, Q_SAVEPOINT_RELEASE);
}

/* ---- the statement seam (store/engine.h) ---- */

/* A store_stmt of this engine is the sqlite3_stmt itself: nothing to allocate per request. */
static sqlite3_stmt *st(struct store_stmt *s)
{
    return (sqlite3_stmt *)s;
}

static struct store_stmt *eng_stmt(struct store_conn *sc, const struct store_sql *q)
{
    struct sq_conn *c = (struct sq_conn *)sc;
    if (q->id < 0 || q->id >= c->n_rows) return NULL;
    return (struct store_stmt *)sq_stmt(c, &c->rows[q->id], q->sql);
}

/* NULL binds NULL; v outlives the step */
static void eng_bind_text(struct store_stmt *s, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st(s), i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st(s), i);
}
static void eng_bind_int(struct store_stmt *s, int i, long long v)
{
    sqlite3_bind_int64(st(s), i, v);
}

static int eng_step(struct store_stmt *s)
{
    int rc = sqlite3_step(st(s));
    if (rc == SQLITE_ROW) return 1;
    if (rc == SQLITE_DONE) return 0;
    sqlite3 *db = sqlite3_db_handle(st(s));
    return sq_map_rc(db, sqlite3_extended_errcode(db));
}

static const char *eng_col_text(struct store_stmt *s, int i)
{
    return (const char *)sqlite3_column_text(st(s), i);
}
static long long eng_col_int(struct store_stmt *s, int i)
{
    return sqlite3_column_int64(st(s), i);
}
static long long eng_changes(struct store_stmt *s)
{
    return sqlite3_changes(sqlite3_db_handle(st(s)));
}
static long long eng_last_id(struct store_stmt *s)
{
    return sqlite3_last_insert_rowid(sqlite3_db_handle(st(s)));
}
static void eng_reset(struct store_stmt *s)
{
    sq_done(st(s));
}
static const struct store_engine sqlite_engine;
/* nothing to wait for: the statement runs in this thread, now */
static int eng_exec_deferred(struct store_stmt *s)
{
    return store_stmt_exec(&sqlite_engine, s);
}
/* one process owns the file: its claims need no session mark */
static int eng_session_key(struct store_conn *c, long long *key)
{
    *key = 0;
    return ST_OK;
}

static const struct store_engine sqlite_engine = {STORE_ENGINE_FNS};

const struct store_ops store_sqlite_ops = {
    .name = "sqlite",
    .engine = &sqlite_engine,
    STORE_ENGINE_OPS,
    .tx_commit_lazy = eng_tx_commit_lazy,
    .sync_fd = eng_sync_fd,
};
