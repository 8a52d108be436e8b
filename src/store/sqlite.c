/* SQLite backend: WAL, one connection per thread, every statement prepared once per connection. */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/account_store.h"
#include "store/address_configs_schema.h"
#include "store/conversations_schema.h"
#include "store/domain.h"
#include "store/engine.h"
#include "store/messages_schema.h"
#include "store/participants_schema.h"
#include "store/secret.h"
#include "store/sqlite_internal.h"
#include "store/store.h"
#include "store/timers_schema.h"
#include "store/webhook_store.h"
#include "util/arena.h"
#include "util/log.h"
#include "util/ticker.h"

/* Schema version N is migrations[0..N). Migrations append; they never edit a released version. */
static const char *const migrations[] = {
    /* 1 */
    "CREATE TABLE accounts("
    "  sid TEXT PRIMARY KEY,"
    "  auth_token TEXT NOT NULL,"
    "  friendly_name TEXT,"
    "  default_service_sid TEXT NOT NULL,"
    "  default_messaging_service_sid TEXT,"
    "  default_inactive_timer TEXT,"
    "  default_closed_timer TEXT,"
    "  date_created INTEGER NOT NULL) STRICT;"
    "CREATE TABLE services("
    "  id INTEGER PRIMARY KEY,"
    "  sid TEXT NOT NULL UNIQUE,"
    "  account_sid TEXT NOT NULL REFERENCES accounts(sid) ON DELETE CASCADE,"
    "  friendly_name TEXT NOT NULL,"
    "  date_created INTEGER NOT NULL,"
    "  date_updated INTEGER NOT NULL) STRICT;"
    "CREATE INDEX services_by_account ON services(account_sid, id);"
    "CREATE TABLE roles("
    "  id INTEGER PRIMARY KEY,"
    "  sid TEXT NOT NULL UNIQUE,"
    "  account_sid TEXT NOT NULL,"
    "  service_sid TEXT NOT NULL REFERENCES services(sid) ON DELETE CASCADE,"
    "  friendly_name TEXT NOT NULL,"
    "  type INTEGER NOT NULL,"
    "  permissions TEXT NOT NULL,"
    "  date_created INTEGER NOT NULL,"
    "  date_updated INTEGER NOT NULL) STRICT;"
    "CREATE INDEX roles_by_service ON roles(service_sid, id);"
    "CREATE TABLE service_configs("
    "  service_sid TEXT PRIMARY KEY REFERENCES services(sid) ON DELETE CASCADE,"
    "  conversation_creator_role_sid TEXT NOT NULL REFERENCES roles(sid) DEFERRABLE INITIALLY DEFERRED,"
    "  conversation_role_sid TEXT NOT NULL REFERENCES roles(sid) DEFERRABLE INITIALLY DEFERRED,"
    "  chat_service_role_sid TEXT NOT NULL REFERENCES roles(sid) DEFERRABLE INITIALLY DEFERRED,"
    "  reachability_enabled INTEGER NOT NULL DEFAULT 0) STRICT;"
    "CREATE TABLE users("
    "  id INTEGER PRIMARY KEY,"
    "  sid TEXT NOT NULL UNIQUE,"
    "  account_sid TEXT NOT NULL,"
    "  service_sid TEXT NOT NULL REFERENCES services(sid) ON DELETE CASCADE,"
    "  role_sid TEXT NOT NULL REFERENCES roles(sid),"
    "  identity TEXT NOT NULL,"
    "  friendly_name TEXT,"
    "  attributes TEXT NOT NULL,"
    "  date_created INTEGER NOT NULL,"
    "  date_updated INTEGER NOT NULL,"
    "  UNIQUE(service_sid, identity)) STRICT;"
    "CREATE INDEX users_by_service ON users(service_sid, id);"
    "CREATE INDEX users_by_role ON users(role_sid);",
    /* webhook configuration, the outbox of post-event deliveries and the delivery log */
    SQLITE_WEBHOOKS_MIGRATION,
    /* API keys, service notifications, push credentials and bindings */
    SQLITE_ACCOUNT_MODEL_MIGRATION,
    /* webhook log counts, target backoff, fair-claim indexes */
    SQLITE_WEBHOOKS_FAIR_MIGRATION,
    /* the store's own facts: the check value of the secret key (store/secret.h) */
    "CREATE TABLE store_meta(name TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;",
    /* deleted services are reaped in bounded batches */
    SQLITE_SERVICE_REAP_MIGRATION,
    SQLITE_TIMERS_CHANGES_MIGRATION, /* the timer schedule and the change log (store/timers_schema.h) */
    /* conversations (store/conversations_schema.h) */
    SQLITE_CONVERSATIONS_MIGRATION,
    /* participants (store/participants_schema.h) */
    SQLITE_PARTICIPANTS_MIGRATION,
    /* messages, delivery receipts, media (store/messages_schema.h) */
    SQLITE_MESSAGES_MIGRATION,
    /* address configurations (store/address_configs_schema.h) */
    SQLITE_ADDRESS_CONFIGS_MIGRATION,
};

#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

enum stmt_id {
    Q_BEGIN,
    Q_COMMIT,
    Q_ROLLBACK,
    Q_SAVEPOINT,
    Q_SAVEPOINT_ROLLBACK,
    Q_SAVEPOINT_RELEASE,
    Q_ACCOUNT_GET,
    Q_ACCOUNT_INSERT,
    Q_ACCOUNT_COUNT,
    Q_ACCOUNT_SET_TOKEN,
    Q_ACCOUNT_FIRST,
    Q__COUNT
};
_Static_assert(Q__COUNT <= SQ_MAIN_STMTS, "raise SQ_MAIN_STMTS");

static const char *const stmt_sql[Q__COUNT] = {
    [Q_BEGIN] = "BEGIN IMMEDIATE",
    [Q_COMMIT] = "COMMIT",
    [Q_ROLLBACK] = "ROLLBACK",
    [Q_SAVEPOINT] = "SAVEPOINT job",
    [Q_SAVEPOINT_ROLLBACK] = "ROLLBACK TO job",
    [Q_SAVEPOINT_RELEASE] = "RELEASE job",
    [Q_ACCOUNT_GET] =
        "SELECT sid, auth_token, friendly_name, default_service_sid, default_messaging_service_sid,"
        " default_inactive_timer, default_closed_timer, date_created FROM accounts WHERE sid = ?1",
    [Q_ACCOUNT_INSERT] = "INSERT INTO accounts(sid, auth_token, friendly_name, default_service_sid,"
                         " date_created) VALUES (?1, ?2, ?3, ?4, ?5)",
    [Q_ACCOUNT_COUNT] = "SELECT count(*) FROM accounts",
    [Q_ACCOUNT_SET_TOKEN] = "UPDATE accounts SET auth_token = ?2 WHERE sid = ?1",
    [Q_ACCOUNT_FIRST] =
        "SELECT sid, auth_token, friendly_name, default_service_sid, default_messaging_service_sid,"
        " default_inactive_timer, default_closed_timer, date_created FROM accounts"
        " ORDER BY date_created, sid LIMIT 1",
};

int sq_map_rc(sqlite3 *db, int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return ST_OK;
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) return ST_CONFLICT;
        /* a trigger refuses writes into a deleted service (SQLITE_SERVICE_REAP_MIGRATION) */
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

sqlite3_stmt *sq_stmt(struct sq_conn *c, sqlite3_stmt **slot, const char *sql)
{
    if (!*slot && sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) != SQLITE_OK) {
        log_err("sqlite: prepare \"%.60s…\": %s", sql, sqlite3_errmsg(c->db));
        *slot = NULL;
    }
    return *slot;
}

/* Fetches a prepared statement of this file's table. */
static sqlite3_stmt *q(struct sq_conn *c, enum stmt_id id)
{
    return sq_stmt(c, &c->stmt[id], stmt_sql[id]);
}

void sq_done(sqlite3_stmt *s)
{
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

void sq_bind_text(sqlite3_stmt *s, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i);
}

char *sq_col_dup(sqlite3_stmt *s, int i, struct arena *a)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    if (!t) return NULL;
    return arena_strndup(a, (const char *)t, (size_t)sqlite3_column_bytes(s, i));
}

void sq_col_sid(sqlite3_stmt *s, int i, char out[SID_LEN + 1])
{
    const unsigned char *t = sqlite3_column_text(s, i);
    size_t n = t ? (size_t)sqlite3_column_bytes(s, i) : 0;
    if (n > SID_LEN) n = SID_LEN;
    if (n) memcpy(out, t, n);
    out[n] = '\0';
}

int sq_exec(struct sq_conn *c, sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    int r = rc == SQLITE_DONE ? ST_OK : sq_map_rc(c->db, sqlite3_extended_errcode(c->db));
    sq_done(s);
    return r;
}

static int sq_exec_id(struct store_conn *sc, enum stmt_id id)
{
    struct sq_conn *c = (struct sq_conn *)sc;
    sqlite3_stmt *s = q(c, id);
    return s ? sq_exec(c, s) : ST_ERROR;
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
 * checkpoints have already copied most of the frames, so it copies few. */
struct sq_checkpointer {
    struct ticker ticker;
    sqlite3 *db;
};

#define CHECKPOINT_EVERY_MS 100
#define CHECKPOINT_WAKE_PAGES 1000
#define CHECKPOINT_WRITER_PAGES 4000 /* ~16 MB of 4 KiB pages: the WAL stays around this size */

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
        sqlite3_exec(k->db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_close(k->db);
        free(k);
        return NULL;
    }
    sqlite3_busy_timeout(k->db, 1000);
    if (ticker_start(&k->ticker, "parley-ckpt", CHECKPOINT_EVERY_MS, 0, checkpoint_tick, k) != 0) {
        sqlite3_close(k->db);
        free(k);
        return NULL;
    }
    return k;
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

static int sq_open(const char *target, int writer, int sync_full, struct store_conn **out)
{
    if (writer && restrict_modes(target) != 0) return ST_ERROR;
    struct sq_conn *c = calloc(1, sizeof(*c));
    if (!c || !(c->rows = store_sql_slots(sizeof(*c->rows), &c->n_rows))) {
        free(c);
        return ST_ERROR;
    }
    c->base.ops = &store_sqlite_ops;
    c->writer = writer;
    c->sync_full = sync_full;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (writer ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(target, &c->db, flags, NULL) != SQLITE_OK) {
        log_err("cannot open %s: %s", target, c->db ? sqlite3_errmsg(c->db) : "out of memory");
        sqlite3_close(c->db);
        free(c->rows);
        free(c);
        return ST_ERROR;
    }
    sqlite3_busy_timeout(c->db, 5000);
    sqlite3_db_config(c->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    char pragmas[256];
    snprintf(pragmas, sizeof(pragmas),
             "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA foreign_keys=ON;"
             " PRAGMA temp_store=MEMORY; PRAGMA journal_size_limit=67108864;%s",
             sync_full ? "FULL" : "NORMAL",
             writer ? " PRAGMA wal_autocheckpoint=0;" : " PRAGMA query_only=ON;");
    char *msg = NULL;
    if (sqlite3_exec(c->db, pragmas, NULL, NULL, &msg) != SQLITE_OK) {
        log_err("cannot configure %s: %s", target, msg ? msg : "?");
        sqlite3_free(msg);
        sqlite3_close(c->db);
        free(c->rows);
        free(c);
        return ST_ERROR;
    }
    if (writer && !(c->ckpt = checkpointer_start(target)))
        log_warn("sqlite: no background checkpoints; the writer checkpoints between its transactions");
    if (writer) sqlite3_wal_hook(c->db, writer_wal_hook, c); /* after the pragma, which resets the hook */
    *out = &c->base;
    return ST_OK;
}

static void sq_close(struct store_conn *sc)
{
    struct sq_conn *c = (struct sq_conn *)sc;
    if (!c) return;
    /* the hook must not wake a checkpointer that is gone (PRAGMA optimize below may commit) */
    if (c->writer) sqlite3_wal_hook(c->db, NULL, NULL);
    checkpointer_stop(c->ckpt);
    c->ckpt = NULL;
    for (int i = 0; i < Q__COUNT; i++)
        sqlite3_finalize(c->stmt[i]);
    for (int i = 0; i < SQ_EXTRA_STMTS; i++)
        sqlite3_finalize(c->extra[i]);
    for (int i = 0; i < c->n_rows; i++)
        sqlite3_finalize(c->rows[i]);
    if (c->writer) {
        sqlite3_exec(c->db, "PRAGMA optimize", NULL, NULL, NULL);
        /* leave a short WAL behind: the next start reads less */
        sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    }
    sqlite3_close(c->db);
    free(c->rows);
    free(c);
}

/* ---- secrets at rest ---- */

#define KEY_CHECK_NAME "secret_key_check"
#define KEY_CHECK_PLAIN "parley secret key check"

/* Column c of table t for the rows whose value is still clear text: sealed in place, bound to the row's
 * SID. Returns the number of rows sealed, or -1. */
static int seal_column(struct sq_conn *c, const char *table, const char *col)
{
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT sid, %s FROM %s WHERE %s IS NOT NULL AND substr(%s, 1, %d) <> '%s'",
             col, table, col, col, (int)strlen(SECRET_PREFIX), SECRET_PREFIX);
    sqlite3_stmt *sel = NULL, *upd = NULL;
    if (sqlite3_prepare_v2(c->db, sql, -1, &sel, NULL) != SQLITE_OK) return -1;
    snprintf(sql, sizeof(sql), "UPDATE %s SET %s = ?2 WHERE sid = ?1", table, col);
    if (sqlite3_prepare_v2(c->db, sql, -1, &upd, NULL) != SQLITE_OK) {
        sqlite3_finalize(sel);
        return -1;
    }
    int n = 0, rc;
    while (n >= 0 && (rc = sqlite3_step(sel)) == SQLITE_ROW) {
        struct arena a;
        arena_init(&a);
        const char *sid = (const char *)sqlite3_column_text(sel, 0);
        char *sealed = secret_seal(&a, (const char *)sqlite3_column_text(sel, 1), sid);
        sqlite3_bind_text(upd, 1, sid, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(upd, 2, sealed, -1, SQLITE_TRANSIENT);
        n = sealed && sqlite3_step(upd) == SQLITE_DONE ? n + 1 : -1;
        sqlite3_reset(upd);
        arena_free(&a);
    }
    if (n >= 0 && rc != SQLITE_DONE) n = -1;
    sqlite3_finalize(sel);
    sqlite3_finalize(upd);
    return n;
}

/* The key must be the one the data was sealed with (a check value says so), and clear-text secrets left
 * by older versions are sealed now, with secure_delete so that their old bytes are zeroed in the file,
 * and a truncating checkpoint so that no copy stays in the WAL. */
static int sq_secrets_migrate(struct sq_conn *c)
{
    if (sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) return ST_ERROR;
    int r = ST_OK, sealed = 0;
    sqlite3_stmt *s = NULL;
    struct arena a;
    arena_init(&a);
    if (sqlite3_prepare_v2(c->db, "SELECT value FROM store_meta WHERE name = '" KEY_CHECK_NAME "'", -1, &s,
                           NULL) != SQLITE_OK)
        r = ST_ERROR;
    int rc = r == ST_OK ? sqlite3_step(s) : SQLITE_ERROR;
    if (rc == SQLITE_ROW) {
        char *plain = NULL;
        if (!secret_have_key()) {
            log_err("this data file holds sealed secrets: start with the --secret-key-file they were"
                    " sealed with");
            r = ST_ERROR;
        } else if (secret_open(&a, (const char *)sqlite3_column_text(s, 0), KEY_CHECK_NAME, &plain) != 0 ||
                   strcmp(plain, KEY_CHECK_PLAIN) != 0) {
            log_err("the secret key does not match this data file (its secrets were sealed with another key):"
                    " give the right --secret-key-file");
            r = ST_ERROR;
        }
    } else if (rc == SQLITE_DONE && secret_have_key()) {
        char *check = secret_seal(&a, KEY_CHECK_PLAIN, KEY_CHECK_NAME);
        static const char insert[] = "INSERT INTO store_meta(name, value) VALUES ('" KEY_CHECK_NAME "', %Q)";
        char *sql = check ? sqlite3_mprintf(insert, check) : NULL;
        if (!sql || sqlite3_exec(c->db, sql, NULL, NULL, NULL) != SQLITE_OK) r = ST_ERROR;
        sqlite3_free(sql);
    } else if (rc != SQLITE_DONE) {
        r = ST_ERROR;
    }
    sqlite3_finalize(s);
    arena_free(&a);
    static const char *const columns[][2] = {{"accounts", "auth_token"},
                                             {"credentials", "certificate"},
                                             {"credentials", "private_key"},
                                             {"credentials", "api_key"},
                                             {"credentials", "secret"}};
    if (r == ST_OK && secret_have_key()) {
        sqlite3_exec(c->db, "PRAGMA secure_delete=ON", NULL, NULL, NULL);
        for (size_t i = 0; i < sizeof(columns) / sizeof(columns[0]) && r == ST_OK; i++) {
            int n = seal_column(c, columns[i][0], columns[i][1]);
            if (n < 0)
                r = ST_ERROR;
            else
                sealed += n;
        }
    }
    if (r == ST_OK && sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) r = ST_ERROR;
    if (r != ST_OK) sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    if (r == ST_OK && sealed) {
        sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
        log_info("store: sealed %d clear-text secrets with the secret key", sealed);
    }
    sqlite3_exec(c->db, "PRAGMA secure_delete=OFF", NULL, NULL, NULL);
    return r;
}

static int sq_migrate(struct store_conn *sc)
{
    struct sq_conn *c = (struct sq_conn *)sc;
    sqlite3_stmt *s;
    int version = 0;
    if (sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK) return ST_ERROR;
    if (sqlite3_step(s) == SQLITE_ROW) version = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    if (version > SCHEMA_VERSION) {
        log_err("the data file has schema version %d; this build knows up to %d", version, SCHEMA_VERSION);
        return ST_ERROR;
    }
    for (int v = version; v < SCHEMA_VERSION; v++) {
        char *msg = NULL;
        char bump[64];
        snprintf(bump, sizeof(bump), "PRAGMA user_version=%d;", v + 1);
        if (sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(c->db, migrations[v], NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(c->db, bump, NULL, NULL, &msg) != SQLITE_OK ||
            sqlite3_exec(c->db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
            log_err("migration to schema version %d failed: %s", v + 1, msg ? msg : "?");
            sqlite3_free(msg);
            sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
            return ST_ERROR;
        }
        log_info("store: migrated to schema version %d", v + 1);
    }
    return sq_secrets_migrate(c);
}

static int sq_tx_begin(struct store_conn *c)
{
    return sq_exec_id(c, Q_BEGIN);
}
static int sq_tx_commit(struct store_conn *c)
{
    return sq_exec_id(c, Q_COMMIT);
}

/* synchronous=OFF for this one COMMIT: the WAL frames are written but not fsynced; the next commit at
 * the configured level fsyncs the WAL, and them with it. */
static int sq_tx_commit_lazy(struct store_conn *sc)
{
    struct sq_conn *c = (struct sq_conn *)sc;
    sqlite3_exec(c->db, "PRAGMA synchronous=OFF", NULL, NULL, NULL);
    int r = sq_exec_id(sc, Q_COMMIT);
    sqlite3_exec(c->db, c->sync_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL", NULL, NULL,
                 NULL);
    return r;
}
static void sq_tx_rollback(struct store_conn *c)
{
    sq_exec_id(c, Q_ROLLBACK);
}
static int sq_savepoint(struct store_conn *c)
{
    return sq_exec_id(c, Q_SAVEPOINT);
}
static void sq_savepoint_rollback(struct store_conn *c)
{
    sq_exec_id(c, Q_SAVEPOINT_ROLLBACK);
}
static int sq_savepoint_release(struct store_conn *c)
{
    return sq_exec_id(c, Q_SAVEPOINT_RELEASE);
}

/* ---- accounts ---- */

/* Returns ST_OK, or ST_ERROR when the stored token does not open with this key (logged). */
static int read_account(sqlite3_stmt *s, struct arena *a, struct account *out)
{
    sq_col_sid(s, 0, out->sid);
    if (secret_open(a, (const char *)sqlite3_column_text(s, 1), out->sid, &out->auth_token) != 0) {
        log_err("account %s: its auth token does not open with this secret key", out->sid);
        return ST_ERROR;
    }
    out->friendly_name = sq_col_dup(s, 2, a);
    sq_col_sid(s, 3, out->default_service_sid);
    out->default_messaging_service_sid = sq_col_dup(s, 4, a);
    out->default_inactive_timer = sq_col_dup(s, 5, a);
    out->default_closed_timer = sq_col_dup(s, 6, a);
    out->date_created = sqlite3_column_int64(s, 7);
    return ST_OK;
}

/* STEP_ONE whose row reader may fail */
#define STEP_ONE_CHECKED(c, s, read_expr)                                                                    \
    do {                                                                                                     \
        int rc_ = sqlite3_step(s), r_;                                                                       \
        if (rc_ == SQLITE_ROW)                                                                               \
            r_ = (read_expr);                                                                                \
        else if (rc_ == SQLITE_DONE)                                                                         \
            r_ = ST_NOT_FOUND;                                                                               \
        else                                                                                                 \
            r_ = sq_map_rc((c)->db, sqlite3_extended_errcode((c)->db));                                      \
        sq_done(s);                                                                                          \
        return r_;                                                                                           \
    } while (0)

static int sq_account_get(struct store_conn *sc, const char *sid, struct arena *a, struct account *out)
{
    struct sq_conn *c = (struct sq_conn *)sc;
    sqlite3_stmt *s = q(c, Q_ACCOUNT_GET);
    if (!s) return ST_ERROR;
    sq_bind_text(s, 1, sid);
    STEP_ONE_CHECKED(c, s, read_account(s, a, out));
}

static int sq_account_first(struct store_conn *sc, struct arena *a, struct account *out)
{
    struct sq_conn *c = (struct sq_conn *)sc;
    sqlite3_stmt *s = q(c, Q_ACCOUNT_FIRST);
    if (!s) return ST_ERROR;
    STEP_ONE_CHECKED(c, s, read_account(s, a, out));
}

static int sq_account_count(struct store_conn *sc, long long *n)
{
    struct sq_conn *c = (struct sq_conn *)sc;
    sqlite3_stmt *s = q(c, Q_ACCOUNT_COUNT);
    if (!s) return ST_ERROR;
    STEP_ONE(c, s, *n = sqlite3_column_int64(s, 0));
}

static int sq_account_insert(struct store_conn *sc, const struct account *acct)
{
    struct sq_conn *c = (struct sq_conn *)sc;
    sqlite3_stmt *s = q(c, Q_ACCOUNT_INSERT);
    if (!s) return ST_ERROR;
    struct arena a;
    arena_init(&a);
    char *sealed = secret_seal(&a, acct->auth_token, acct->sid);
    if (!sealed) {
        arena_free(&a);
        return ST_ERROR;
    }
    sq_bind_text(s, 1, acct->sid);
    sq_bind_text(s, 2, sealed);
    sq_bind_text(s, 3, acct->friendly_name);
    sq_bind_text(s, 4, acct->default_service_sid);
    sqlite3_bind_int64(s, 5, acct->date_created);
    int r = sq_exec(c, s);
    arena_free(&a);
    return r;
}

static int sq_account_set_token(struct store_conn *sc, const char *sid, const char *token)
{
    struct sq_conn *c = (struct sq_conn *)sc;
    sqlite3_stmt *s = q(c, Q_ACCOUNT_SET_TOKEN);
    if (!s) return ST_ERROR;
    struct arena a;
    arena_init(&a);
    char *sealed = secret_seal(&a, token, sid);
    if (!sealed) {
        arena_free(&a);
        return ST_ERROR;
    }
    sq_bind_text(s, 1, sid);
    sq_bind_text(s, 2, sealed);
    int r = sq_exec(c, s);
    arena_free(&a);
    if (r == ST_OK && sqlite3_changes(c->db) == 0) return ST_NOT_FOUND;
    return r;
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

static void eng_bind_text(struct store_stmt *s, int i, const char *v)
{
    sq_bind_text(st(s), i, v);
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
static int eng_col_null(struct store_stmt *s, int i)
{
    return sqlite3_column_type(st(s), i) == SQLITE_NULL;
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

static const struct store_engine sqlite_engine = {
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

const struct store_ops store_sqlite_ops = {
    .name = "sqlite",
    .webhooks = &sqlite_webhook_ops,
    .model = &sqlite_account_ops,
    .engine = &sqlite_engine,
    .open = sq_open,
    .close = sq_close,
    .migrate = sq_migrate,
    .tx_begin = sq_tx_begin,
    .tx_commit = sq_tx_commit,
    .tx_commit_lazy = sq_tx_commit_lazy,
    .tx_rollback = sq_tx_rollback,
    .savepoint = sq_savepoint,
    .savepoint_rollback = sq_savepoint_rollback,
    .savepoint_release = sq_savepoint_release,
    .account_get = sq_account_get,
    .account_insert = sq_account_insert,
    .account_count = sq_account_count,
    .account_set_token = sq_account_set_token,
    .account_first = sq_account_first,
    STORE_DOMAIN_OPS,
};
