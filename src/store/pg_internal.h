/* Shared by the PostgreSQL backend's files (store/pg*.c): the connection, the statement tables and the
 * helpers that run a prepared statement and map its outcome to a store_result.
 *
 * Each file owns a table of SQL texts (enum-indexed). Every statement of every table is prepared once
 * per connection, in one pipelined round trip, right after connecting and again after a reset; it is
 * then run by name ("<table letter><index>") with text parameters and text results.
 *
 * Locking rule of the writer: inside the writer's transaction a single-row read takes a row lock,
 * because apply functions read a row and write it back (users.c apply_update). Rows that are
 * read-modify-written by their own operations take FOR NO KEY UPDATE; rows that other writes only
 * read as references (roles, service configuration, services, webhook configuration) take FOR SHARE,
 * so that concurrent user writes of several servers do not queue on them. Readers never lock. */
#ifndef PARLEY_PG_INTERNAL_H
#define PARLEY_PG_INTERNAL_H
#include <libpq-fe.h>

#include "store/engine.h"
#include "store/store.h"

struct store_webhook_ops;
struct store_account_ops;

struct arena;
struct store_stmt;

enum pg_table { PGT_MAIN, PGT_WEBHOOKS, PGT_ACCOUNT, PGT__COUNT };

struct pg_sql_table {
    char letter; /* statement names: letter + index */
    int n;
    const char *const *sql;
};

extern const struct pg_sql_table pg_webhook_sql; /* store/pg_webhooks.c */
extern const struct pg_sql_table pg_account_sql; /* store/pg_account_model.c */
extern const struct store_webhook_ops pg_webhook_ops;
extern const struct store_account_ops pg_account_ops;

struct pg_conn {
    struct store_conn base;
    PGconn *db;
    int writer;
    int sync_full;
    int prepared;        /* every table is prepared on this session */
    int in_tx;           /* between tx_begin and tx_commit / tx_rollback: the session is in pipeline mode */
    int queued;          /* utility commands sent in the pipeline whose results are not read yet */
    int tx_answered;     /* some statement of the transaction has been answered */
    int tx_doomed;       /* a transient failure (busy, lost connection) ended the transaction's hopes */
    int sp_failed;       /* a statement failed since the last savepoint: the job cannot be kept */
    long long claim_key; /* session advisory lock held while this session has outbox claims */
    int claim_locked;    /* claim_key is locked on the current session */
    struct store_stmt *rows; /* the registered statements (store/engine.h), by id */
    int n_rows;
};

/* Text parameters of one statement; integers are formatted into the struct (do not copy it). */
#define PG_MAX_PARAMS STORE_SQL_PARAMS_MAX /* store/engine.h; a message insert binds 24 */
struct pg_params {
    int n;
    const char *v[PG_MAX_PARAMS];
    char num[PG_MAX_PARAMS][24];
};

static inline void pp_text(struct pg_params *p, const char *s)
{
    p->v[p->n++] = s;
}
void pp_int(struct pg_params *p, long long x);
void pp_bool(struct pg_params *p, int b);

/* Runs statement id of table t. On ST_OK *res holds the result (PQclear it); otherwise *res is NULL. */
int pg_exec(struct pg_conn *c, enum pg_table t, int id, const struct pg_params *p, PGresult **res);
/* A statement without rows; *changed (may be NULL) receives the number of rows it changed. */
int pg_cmd(struct pg_conn *c, enum pg_table t, int id, const struct pg_params *p, long long *changed);
/* A statement that changes one row: ST_NOT_FOUND when it changed none. */
int pg_cmd_one(struct pg_conn *c, enum pg_table t, int id, const struct pg_params *p);
/* A single-row query: ST_NOT_FOUND when it returned no row (and then *res is NULL). */
int pg_row(struct pg_conn *c, enum pg_table t, int id, const struct pg_params *p, PGresult **res);

/* The writer holds a transaction on this connection: reads must lock what they return. */
static inline int pg_locking(const struct pg_conn *c)
{
    return c->writer && c->in_tx;
}

/* Column helpers: NULL for SQL NULL; list rows point into the result (valid until PQclear). */
char *pg_col(PGresult *r, int row, int col);
char *pg_col_dup(PGresult *r, int row, int col, struct arena *a);
char *pg_col_text(PGresult *r, int row, int col, struct arena *a);     /* a NULL: no copy */
long long pg_col_i64(PGresult *r, int row, int col);                   /* 0 for NULL */
void pg_col_sid(PGresult *r, int row, int col, char out[SID_LEN + 1]); /* "" for NULL */

/* Schema of the webhook tables (version 2) and of the account model (version 3). */
#define PG_WEBHOOKS_MIGRATION                                                                                \
    "CREATE TABLE account_webhooks("                                                                         \
    "  account_sid text PRIMARY KEY REFERENCES accounts(sid) ON DELETE CASCADE,"                             \
    "  method text, filters text, pre_webhook_url text, post_webhook_url text,"                              \
    "  target text NOT NULL DEFAULT 'webhook');"                                                             \
    "CREATE TABLE service_webhooks("                                                                         \
    "  service_sid text PRIMARY KEY REFERENCES services(sid) ON DELETE CASCADE,"                             \
    "  account_sid text NOT NULL,"                                                                           \
    "  method text, filters text, pre_webhook_url text, post_webhook_url text);"                             \
    "CREATE TABLE webhook_outbox("                                                                           \
    "  id bigserial PRIMARY KEY,"                                                                            \
    "  account_sid text NOT NULL,"                                                                           \
    "  event_type text NOT NULL,"                                                                            \
    "  url text NOT NULL,"                                                                                   \
    "  method text NOT NULL,"                                                                                \
    "  params text NOT NULL,"                                                                                \
    "  order_key text NOT NULL,"                                                                             \
    "  idempotency_token text NOT NULL,"                                                                     \
    "  attempts integer NOT NULL DEFAULT 0,"                                                                 \
    "  next_attempt_at bigint NOT NULL,"                                                                     \
    "  last_status integer, last_error text, last_latency_ms bigint,"                                        \
    "  claimed_by text, claimed_until bigint, claim_session bigint,"                                         \
    "  created_at bigint NOT NULL);"                                                                         \
    "CREATE INDEX webhook_outbox_by_key ON webhook_outbox(order_key, id);"                                   \
    "CREATE INDEX webhook_outbox_by_account ON webhook_outbox(account_sid, id);"                             \
    "CREATE TABLE webhook_log("                                                                              \
    "  id bigserial PRIMARY KEY,"                                                                            \
    "  account_sid text NOT NULL,"                                                                           \
    "  kind text NOT NULL,"                                                                                  \
    "  event_type text NOT NULL,"                                                                            \
    "  url text NOT NULL,"                                                                                   \
    "  method text NOT NULL,"                                                                                \
    "  outcome text NOT NULL,"                                                                               \
    "  status integer, attempts integer NOT NULL, latency_ms bigint, last_error text,"                       \
    "  idempotency_token text, created_at bigint NOT NULL, completed_at bigint NOT NULL);"                   \
    "CREATE INDEX webhook_log_by_account ON webhook_log(account_sid, id);"

/* Webhook safety (issue 10): as SQLITE_WEBHOOKS_FAIR_MIGRATION (webhook_outbox_by_account exists since 2). */
#define PG_WEBHOOKS_FAIR_MIGRATION                                                                           \
    "CREATE TABLE webhook_log_counts(account_sid text PRIMARY KEY, n bigint NOT NULL);"                      \
    "INSERT INTO webhook_log_counts SELECT account_sid, count(*) FROM webhook_log GROUP BY account_sid;"     \
    "CREATE TABLE webhook_targets(url text PRIMARY KEY, failures integer NOT NULL, blocked_until bigint "    \
    "NOT NULL);"                                                                                             \
    "CREATE INDEX webhook_outbox_claimed ON webhook_outbox(claimed_until) WHERE claimed_until IS NOT NULL;"

#define PG_ACCOUNT_MODEL_MIGRATION                                                                           \
    "CREATE TABLE api_keys("                                                                                 \
    "  sid text PRIMARY KEY,"                                                                                \
    "  account_sid text NOT NULL REFERENCES accounts(sid) ON DELETE CASCADE,"                                \
    "  friendly_name text,"                                                                                  \
    "  salt text NOT NULL,"                                                                                  \
    "  secret_hash text NOT NULL,"                                                                           \
    "  date_created bigint NOT NULL,"                                                                        \
    "  date_revoked bigint);"                                                                                \
    "CREATE INDEX api_keys_by_account ON api_keys(account_sid, date_created);"                               \
    "CREATE TABLE service_notifications("                                                                    \
    "  service_sid text PRIMARY KEY REFERENCES services(sid) ON DELETE CASCADE,"                             \
    "  account_sid text NOT NULL,"                                                                           \
    "  log_enabled integer NOT NULL DEFAULT 0,"                                                              \
    "  new_message_enabled integer NOT NULL DEFAULT 0,"                                                      \
    "  new_message_template text, new_message_sound text,"                                                   \
    "  new_message_badge_count_enabled integer NOT NULL DEFAULT 0,"                                          \
    "  new_message_with_media_enabled integer NOT NULL DEFAULT 0, new_message_with_media_template text,"     \
    "  added_enabled integer NOT NULL DEFAULT 0, added_template text, added_sound text,"                     \
    "  removed_enabled integer NOT NULL DEFAULT 0, removed_template text, removed_sound text);"              \
    "INSERT INTO service_notifications(service_sid, account_sid) SELECT sid, account_sid FROM services;"     \
    "CREATE TABLE credentials("                                                                              \
    "  id bigserial PRIMARY KEY,"                                                                            \
    "  sid text NOT NULL UNIQUE,"                                                                            \
    "  account_sid text NOT NULL REFERENCES accounts(sid) ON DELETE CASCADE,"                                \
    "  friendly_name text,"                                                                                  \
    "  type text NOT NULL,"                                                                                  \
    "  sandbox integer NOT NULL DEFAULT 0,"                                                                  \
    "  certificate text, private_key text, api_key text, secret text,"                                       \
    "  date_created bigint NOT NULL,"                                                                        \
    "  date_updated bigint NOT NULL);"                                                                       \
    "CREATE INDEX credentials_by_account ON credentials(account_sid, id);"                                   \
    "CREATE TABLE bindings("                                                                                 \
    "  id bigserial PRIMARY KEY,"                                                                            \
    "  sid text NOT NULL UNIQUE,"                                                                            \
    "  account_sid text NOT NULL,"                                                                           \
    "  service_sid text NOT NULL REFERENCES services(sid) ON DELETE CASCADE,"                                \
    "  credential_sid text REFERENCES credentials(sid) ON DELETE CASCADE,"                                   \
    "  endpoint text,"                                                                                       \
    "  identity text,"                                                                                       \
    "  binding_type text NOT NULL,"                                                                          \
    "  message_types text NOT NULL DEFAULT '[]',"                                                            \
    "  date_created bigint NOT NULL,"                                                                        \
    "  date_updated bigint NOT NULL);"                                                                       \
    "CREATE INDEX bindings_by_service ON bindings(service_sid, id);"                                         \
    "CREATE INDEX bindings_by_identity ON bindings(service_sid, identity);"                                  \
    "CREATE INDEX bindings_by_credential ON bindings(credential_sid);"

/* The rows of a list result: for each row index i, declare the row, read it, hand it over (a non-zero
 * call stops); then frees r and returns ST_OK from the enclosing function (as LIST_ROWS does for SQLite). */
#define PG_LIST_ROWS(r, i, row_decl, read_stmt, call)                                                        \
    do {                                                                                                     \
        for (int i = 0, n_ = PQntuples(r); i < n_; i++) {                                                    \
            row_decl;                                                                                        \
            read_stmt;                                                                                       \
            if (call) break;                                                                                 \
        }                                                                                                    \
        PQclear(r);                                                                                          \
        return ST_OK;                                                                                        \
    } while (0)

/* Schema version 6 (the twin of SQLITE_SERVICE_REAP_MIGRATION): deleted services are marked and reaped in
 * bounded batches; the triggers refuse writes into a marked service with 23503 (ST_IN_USE). FOR SHARE
 * waits for a DELETE that is marking the service on another server, and then sees the mark. */
#define PG_SERVICE_REAP_MIGRATION                                                                            \
    "ALTER TABLE services ADD COLUMN deleted_at bigint;"                                                     \
    "CREATE INDEX services_deleted ON services(deleted_at) WHERE deleted_at IS NOT NULL;"                    \
    "CREATE FUNCTION parley_live_service() RETURNS trigger LANGUAGE plpgsql AS $f$"                          \
    "BEGIN"                                                                                                  \
    "  IF (SELECT deleted_at FROM services WHERE sid = NEW.service_sid FOR SHARE) IS NOT NULL THEN"          \
    "    RAISE EXCEPTION 'the service is deleted' USING ERRCODE = 'foreign_key_violation';"                  \
    "  END IF;"                                                                                              \
    "  RETURN NEW;"                                                                                          \
    "END $f$;"                                                                                               \
    "CREATE TRIGGER users_live_service BEFORE INSERT OR UPDATE ON users"                                     \
    "  FOR EACH ROW EXECUTE FUNCTION parley_live_service();"                                                 \
    "CREATE TRIGGER roles_live_service BEFORE INSERT OR UPDATE ON roles"                                     \
    "  FOR EACH ROW EXECUTE FUNCTION parley_live_service();"                                                 \
    "CREATE TRIGGER service_configs_live_service BEFORE INSERT OR UPDATE ON service_configs"                 \
    "  FOR EACH ROW EXECUTE FUNCTION parley_live_service();"                                                 \
    "CREATE TRIGGER service_notifications_live_service BEFORE INSERT OR UPDATE ON service_notifications"     \
    "  FOR EACH ROW EXECUTE FUNCTION parley_live_service();"                                                 \
    "CREATE TRIGGER service_webhooks_live_service BEFORE INSERT OR UPDATE ON service_webhooks"               \
    "  FOR EACH ROW EXECUTE FUNCTION parley_live_service();"                                                 \
    "CREATE TRIGGER bindings_live_service BEFORE INSERT OR UPDATE ON bindings"                               \
    "  FOR EACH ROW EXECUTE FUNCTION parley_live_service();"

#endif
