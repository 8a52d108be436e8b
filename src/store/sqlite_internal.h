/* Shared by the SQLite backend's files (store/sqlite*.c): the connection and statement helpers.
 * Each file keeps its own statement table; files other than sqlite.c cache theirs in c->extra at a
 * fixed base (SQ_EXTRA_*). */
#ifndef PARLEY_SQLITE_INTERNAL_H
#define PARLEY_SQLITE_INTERNAL_H
#include <sqlite3.h>

#include "store/store.h"

struct arena;

#define SQ_MAIN_STMTS 64
#define SQ_EXTRA_STMTS 128
#define SQ_EXTRA_WEBHOOKS 0 /* store/sqlite_webhooks.c: 32 slots */
#define SQ_EXTRA_ACCOUNT 32 /* the account model (services, configuration, credentials, keys): 96 */

struct sq_checkpointer;

struct sq_conn {
    struct store_conn base;
    sqlite3 *db;
    int writer;
    int sync_full;
    struct sq_checkpointer *ckpt; /* the writer's background checkpoints (store/sqlite.c) */
    sqlite3_stmt *stmt[SQ_MAIN_STMTS];
    sqlite3_stmt *extra[SQ_EXTRA_STMTS];
    sqlite3_stmt **rows; /* the registered statements (store/engine.h), by id */
    int n_rows;
};

/* Prepares sql into *slot once per connection; NULL (logged) when it cannot. */
sqlite3_stmt *sq_stmt(struct sq_conn *c, sqlite3_stmt **slot, const char *sql);
void sq_done(sqlite3_stmt *s);                             /* reset + clear bindings */
void sq_bind_text(sqlite3_stmt *s, int i, const char *v);  /* NULL binds NULL; v must outlive the step */
char *sq_col_dup(sqlite3_stmt *s, int i, struct arena *a); /* NULL for NULL */
void sq_col_sid(sqlite3_stmt *s, int i, char out[SID_LEN + 1]);
int sq_exec(struct sq_conn *c, sqlite3_stmt *s); /* a statement without rows; store_result */
int sq_map_rc(sqlite3 *db, int rc);              /* sqlite extended code -> store_result */

/* Schema and operations of the webhook tables (store/sqlite_webhooks.c). */
#define SQLITE_WEBHOOKS_MIGRATION                                                                            \
    "CREATE TABLE account_webhooks("                                                                         \
    "  account_sid TEXT PRIMARY KEY REFERENCES accounts(sid) ON DELETE CASCADE,"                             \
    "  method TEXT, filters TEXT, pre_webhook_url TEXT, post_webhook_url TEXT,"                              \
    "  target TEXT NOT NULL DEFAULT 'webhook') STRICT;"                                                      \
    "CREATE TABLE service_webhooks("                                                                         \
    "  service_sid TEXT PRIMARY KEY REFERENCES services(sid) ON DELETE CASCADE,"                             \
    "  account_sid TEXT NOT NULL,"                                                                           \
    "  method TEXT, filters TEXT, pre_webhook_url TEXT, post_webhook_url TEXT) STRICT;"                      \
    "CREATE TABLE webhook_outbox("                                                                           \
    "  id INTEGER PRIMARY KEY,"                                                                              \
    "  account_sid TEXT NOT NULL,"                                                                           \
    "  event_type TEXT NOT NULL,"                                                                            \
    "  url TEXT NOT NULL,"                                                                                   \
    "  method TEXT NOT NULL,"                                                                                \
    "  params TEXT NOT NULL,"                                                                                \
    "  order_key TEXT NOT NULL,"                                                                             \
    "  idempotency_token TEXT NOT NULL,"                                                                     \
    "  attempts INTEGER NOT NULL DEFAULT 0,"                                                                 \
    "  next_attempt_at INTEGER NOT NULL,"                                                                    \
    "  last_status INTEGER, last_error TEXT, last_latency_ms INTEGER,"                                       \
    "  claimed_by TEXT, claimed_until INTEGER,"                                                              \
    "  created_at INTEGER NOT NULL) STRICT;"                                                                 \
    "CREATE INDEX webhook_outbox_by_key ON webhook_outbox(order_key, id);"                                   \
    "CREATE TABLE webhook_log("                                                                              \
    "  id INTEGER PRIMARY KEY,"                                                                              \
    "  account_sid TEXT NOT NULL,"                                                                           \
    "  kind TEXT NOT NULL,"                                                                                  \
    "  event_type TEXT NOT NULL,"                                                                            \
    "  url TEXT NOT NULL,"                                                                                   \
    "  method TEXT NOT NULL,"                                                                                \
    "  outcome TEXT NOT NULL,"                                                                               \
    "  status INTEGER, attempts INTEGER NOT NULL, latency_ms INTEGER, last_error TEXT,"                      \
    "  idempotency_token TEXT, created_at INTEGER NOT NULL, completed_at INTEGER NOT NULL) STRICT;"          \
    "CREATE INDEX webhook_log_by_account ON webhook_log(account_sid, id);"

/* Webhook safety (issue 10): a per-account count of log rows (pruning per account without counting),
 * the failing-target backoff, and indexes for the fair claim (each account's oldest rows; the few
 * claimed rows). */
#define SQLITE_WEBHOOKS_FAIR_MIGRATION                                                                       \
    "CREATE TABLE webhook_log_counts(account_sid TEXT PRIMARY KEY, n INTEGER NOT NULL) STRICT;"              \
    "INSERT INTO webhook_log_counts SELECT account_sid, count(*) FROM webhook_log GROUP BY account_sid;"     \
    "CREATE TABLE webhook_targets(url TEXT PRIMARY KEY, failures INTEGER NOT NULL,"                          \
    "  blocked_until INTEGER NOT NULL) STRICT;"                                                              \
    "CREATE INDEX webhook_outbox_by_account ON webhook_outbox(account_sid, id);"                             \
    "CREATE INDEX webhook_outbox_claimed ON webhook_outbox(claimed_until) WHERE claimed_until IS NOT NULL;"

/* Schema of the account model tables (store/sqlite_account_model.c); existing services get their
 * notifications row here, new ones from services_insert_with_defaults(). */
#define SQLITE_ACCOUNT_MODEL_MIGRATION                                                                       \
    "CREATE TABLE api_keys("                                                                                 \
    "  sid TEXT PRIMARY KEY,"                                                                                \
    "  account_sid TEXT NOT NULL REFERENCES accounts(sid) ON DELETE CASCADE,"                                \
    "  friendly_name TEXT,"                                                                                  \
    "  salt TEXT NOT NULL,"                                                                                  \
    "  secret_hash TEXT NOT NULL,"                                                                           \
    "  date_created INTEGER NOT NULL,"                                                                       \
    "  date_revoked INTEGER) STRICT;"                                                                        \
    "CREATE INDEX api_keys_by_account ON api_keys(account_sid, date_created);"                               \
    "CREATE TABLE service_notifications("                                                                    \
    "  service_sid TEXT PRIMARY KEY REFERENCES services(sid) ON DELETE CASCADE,"                             \
    "  account_sid TEXT NOT NULL,"                                                                           \
    "  log_enabled INTEGER NOT NULL DEFAULT 0,"                                                              \
    "  new_message_enabled INTEGER NOT NULL DEFAULT 0,"                                                      \
    "  new_message_template TEXT, new_message_sound TEXT,"                                                   \
    "  new_message_badge_count_enabled INTEGER NOT NULL DEFAULT 0,"                                          \
    "  new_message_with_media_enabled INTEGER NOT NULL DEFAULT 0, new_message_with_media_template TEXT,"     \
    "  added_enabled INTEGER NOT NULL DEFAULT 0, added_template TEXT, added_sound TEXT,"                     \
    "  removed_enabled INTEGER NOT NULL DEFAULT 0, removed_template TEXT, removed_sound TEXT) STRICT;"       \
    "INSERT INTO service_notifications(service_sid, account_sid) SELECT sid, account_sid FROM services;"     \
    "CREATE TABLE credentials("                                                                              \
    "  id INTEGER PRIMARY KEY,"                                                                              \
    "  sid TEXT NOT NULL UNIQUE,"                                                                            \
    "  account_sid TEXT NOT NULL REFERENCES accounts(sid) ON DELETE CASCADE,"                                \
    "  friendly_name TEXT,"                                                                                  \
    "  type TEXT NOT NULL,"                                                                                  \
    "  sandbox INTEGER NOT NULL DEFAULT 0,"                                                                  \
    "  certificate TEXT, private_key TEXT, api_key TEXT, secret TEXT,"                                       \
    "  date_created INTEGER NOT NULL,"                                                                       \
    "  date_updated INTEGER NOT NULL) STRICT;"                                                               \
    "CREATE INDEX credentials_by_account ON credentials(account_sid, id);"                                   \
    "CREATE TABLE bindings("                                                                                 \
    "  id INTEGER PRIMARY KEY,"                                                                              \
    "  sid TEXT NOT NULL UNIQUE,"                                                                            \
    "  account_sid TEXT NOT NULL,"                                                                           \
    "  service_sid TEXT NOT NULL REFERENCES services(sid) ON DELETE CASCADE,"                                \
    "  credential_sid TEXT REFERENCES credentials(sid) ON DELETE CASCADE,"                                   \
    "  endpoint TEXT,"                                                                                       \
    "  identity TEXT,"                                                                                       \
    "  binding_type TEXT NOT NULL,"                                                                          \
    "  message_types TEXT NOT NULL DEFAULT '[]',"                                                            \
    "  date_created INTEGER NOT NULL,"                                                                       \
    "  date_updated INTEGER NOT NULL) STRICT;"                                                               \
    "CREATE INDEX bindings_by_service ON bindings(service_sid, id);"                                         \
    "CREATE INDEX bindings_by_identity ON bindings(service_sid, identity);"                                  \
    "CREATE INDEX bindings_by_credential ON bindings(credential_sid);"

/* Schema version 6: a deleted service is marked (deleted_at) in the DELETE's short transaction and its rows
 * are reaped later in bounded batches (service_reap); the triggers refuse writes into a marked service,
 * which the API answers as for a missing one. */
#define SQLITE_SERVICE_REAP_MIGRATION                                                                        \
    "ALTER TABLE services ADD COLUMN deleted_at INTEGER;"                                                    \
    "CREATE INDEX services_deleted ON services(deleted_at) WHERE deleted_at IS NOT NULL;"                    \
    "CREATE TRIGGER users_live_service_i BEFORE INSERT ON users"                                             \
    "  WHEN (SELECT deleted_at FROM services WHERE sid = NEW.service_sid) IS NOT NULL"                       \
    "  BEGIN SELECT RAISE(ABORT, 'the service is deleted'); END;"                                            \
    "CREATE TRIGGER users_live_service_u BEFORE UPDATE ON users"                                             \
    "  WHEN (SELECT deleted_at FROM services WHERE sid = NEW.service_sid) IS NOT NULL"                       \
    "  BEGIN SELECT RAISE(ABORT, 'the service is deleted'); END;"                                            \
    "CREATE TRIGGER roles_live_service_i BEFORE INSERT ON roles"                                             \
    "  WHEN (SELECT deleted_at FROM services WHERE sid = NEW.service_sid) IS NOT NULL"                       \
    "  BEGIN SELECT RAISE(ABORT, 'the service is deleted'); END;"                                            \
    "CREATE TRIGGER roles_live_service_u BEFORE UPDATE ON roles"                                             \
    "  WHEN (SELECT deleted_at FROM services WHERE sid = NEW.service_sid) IS NOT NULL"                       \
    "  BEGIN SELECT RAISE(ABORT, 'the service is deleted'); END;"                                            \
    "CREATE TRIGGER service_configs_live_service_i BEFORE INSERT ON service_configs"                         \
    "  WHEN (SELECT deleted_at FROM services WHERE sid = NEW.service_sid) IS NOT NULL"                       \
    "  BEGIN SELECT RAISE(ABORT, 'the service is deleted'); END;"                                            \
    "CREATE TRIGGER service_configs_live_service_u BEFORE UPDATE ON service_configs"                         \
    "  WHEN (SELECT deleted_at FROM services WHERE sid = NEW.service_sid) IS NOT NULL"                       \
    "  BEGIN SELECT RAISE(ABORT, 'the service is deleted'); END;"                                            \
    "CREATE TRIGGER service_notifications_live_service_i BEFORE INSERT ON service_notifications"             \
    "  WHEN (SELECT deleted_at FROM services WHERE sid = NEW.service_sid) IS NOT NULL"                       \
    "  BEGIN SELECT RAISE(ABORT, 'the service is deleted'); END;"                                            \
    "CREATE TRIGGER service_notifications_live_service_u BEFORE UPDATE ON service_notifications"             \
    "  WHEN (SELECT deleted_at FROM services WHERE sid = NEW.service_sid) IS NOT NULL"                       \
    "  BEGIN SELECT RAISE(ABORT, 'the service is deleted'); END;"                                            \
    "CREATE TRIGGER service_webhooks_live_service_i BEFORE INSERT ON service_webhooks"                       \
    "  WHEN (SELECT deleted_at FROM services WHERE sid = NEW.service_sid) IS NOT NULL"                       \
    "  BEGIN SELECT RAISE(ABORT, 'the service is deleted'); END;"                                            \
    "CREATE TRIGGER service_webhooks_live_service_u BEFORE UPDATE ON service_webhooks"                       \
    "  WHEN (SELECT deleted_at FROM services WHERE sid = NEW.service_sid) IS NOT NULL"                       \
    "  BEGIN SELECT RAISE(ABORT, 'the service is deleted'); END;"                                            \
    "CREATE TRIGGER bindings_live_service_i BEFORE INSERT ON bindings"                                       \
    "  WHEN (SELECT deleted_at FROM services WHERE sid = NEW.service_sid) IS NOT NULL"                       \
    "  BEGIN SELECT RAISE(ABORT, 'the service is deleted'); END;"                                            \
    "CREATE TRIGGER bindings_live_service_u BEFORE UPDATE ON bindings"                                       \
    "  WHEN (SELECT deleted_at FROM services WHERE sid = NEW.service_sid) IS NOT NULL"                       \
    "  BEGIN SELECT RAISE(ABORT, 'the service is deleted'); END;"

/* Steps a single-row query: read_stmt runs when a row exists; returns ST_OK, ST_NOT_FOUND or a failure. */
#define STEP_ONE(c, s, read_stmt)                                                                            \
    do {                                                                                                     \
        int rc_ = sqlite3_step(s);                                                                           \
        int r_;                                                                                              \
        if (rc_ == SQLITE_ROW) {                                                                             \
            read_stmt;                                                                                       \
            r_ = ST_OK;                                                                                      \
        } else if (rc_ == SQLITE_DONE) {                                                                     \
            r_ = ST_NOT_FOUND;                                                                               \
        } else {                                                                                             \
            r_ = sq_map_rc((c)->db, sqlite3_extended_errcode((c)->db));                                      \
        }                                                                                                    \
        sq_done(s);                                                                                          \
        return r_;                                                                                           \
    } while (0)

/* Steps a list query: call runs per row (non-zero stops). */
#define LIST_ROWS(c, s, row_decl, read_stmt, call)                                                           \
    do {                                                                                                     \
        int rc_;                                                                                             \
        while ((rc_ = sqlite3_step(s)) == SQLITE_ROW) {                                                      \
            row_decl;                                                                                        \
            read_stmt;                                                                                       \
            if (call) break;                                                                                 \
        }                                                                                                    \
        int r_ = (rc_ == SQLITE_ROW || rc_ == SQLITE_DONE)                                                   \
                     ? ST_OK                                                                                 \
                     : sq_map_rc((c)->db, sqlite3_extended_errcode((c)->db));                                \
        sq_done(s);                                                                                          \
        return r_;                                                                                           \
    } while (0)

#endif
