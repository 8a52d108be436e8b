/* The schema of both engines, one list. Schema version N is every step numbered up to N; versions
 * append and never edit a released one (a database of an older build must open unchanged).
 *
 * A step is written once, in SQLite's words with BIGINT where PostgreSQL's column is a bigint (INTEGER
 * where it is an integer), and rewritten for each engine (migration_text): SQLite reads BIGINT as
 * INTEGER; PostgreSQL reads "INTEGER PRIMARY KEY" (SQLite's rowid, the keyset position) as BIGSERIAL
 * and drops STRICT and WITHOUT ROWID (its tables have no rowid). Only a step whose meaning differs
 * (triggers, a table or column one engine has alone or got earlier) has PostgreSQL's own text,
 * rewritten the same way; "" is a step that engine skips. Steps run in their order in the list.
 *
 * Adding a version: append its steps with the next number, e.g.
 *     {16, "CREATE TABLE ...", NULL},   (and {16, SQ_LIVE_IU("t"), PG_LIVE("t")} for its triggers)
 * and nothing else: both engines run every step of a version in one transaction. */
#include <stdlib.h>
#include <string.h>

#include "store/address_configs_schema.h"
#include "store/conversations_schema.h"
#include "store/messages_schema.h"
#include "store/migrations.h"
#include "store/participants_schema.h"
#include "store/rows.h"
#include "store/scoped_webhooks_schema.h"
#include "store/secret.h"
#include "store/timers_schema.h"
#include "util/arena.h"
#include "util/log.h"

/* 1: accounts, services, roles, service configuration, users */
#define V1_ACCOUNT_MODEL                                                                                     \
    "CREATE TABLE accounts("                                                                                 \
    "  sid TEXT PRIMARY KEY,"                                                                                \
    "  auth_token TEXT NOT NULL,"                                                                            \
    "  friendly_name TEXT,"                                                                                  \
    "  default_service_sid TEXT NOT NULL,"                                                                   \
    "  default_messaging_service_sid TEXT,"                                                                  \
    "  default_inactive_timer TEXT,"                                                                         \
    "  default_closed_timer TEXT,"                                                                           \
    "  date_created BIGINT NOT NULL) STRICT;"                                                                \
    "CREATE TABLE services("                                                                                 \
    "  id INTEGER PRIMARY KEY,"                                                                              \
    "  sid TEXT NOT NULL UNIQUE,"                                                                            \
    "  account_sid TEXT NOT NULL REFERENCES accounts(sid) ON DELETE CASCADE,"                                \
    "  friendly_name TEXT NOT NULL,"                                                                         \
    "  date_created BIGINT NOT NULL,"                                                                        \
    "  date_updated BIGINT NOT NULL) STRICT;"                                                                \
    "CREATE INDEX services_by_account ON services(account_sid, id);"                                         \
    "CREATE TABLE roles("                                                                                    \
    "  id INTEGER PRIMARY KEY,"                                                                              \
    "  sid TEXT NOT NULL UNIQUE,"                                                                            \
    "  account_sid TEXT NOT NULL,"                                                                           \
    "  service_sid TEXT NOT NULL REFERENCES services(sid) ON DELETE CASCADE,"                                \
    "  friendly_name TEXT NOT NULL,"                                                                         \
    "  type INTEGER NOT NULL,"                                                                               \
    "  permissions TEXT NOT NULL,"                                                                           \
    "  date_created BIGINT NOT NULL,"                                                                        \
    "  date_updated BIGINT NOT NULL) STRICT;"                                                                \
    "CREATE INDEX roles_by_service ON roles(service_sid, id);"                                               \
    "CREATE TABLE service_configs("                                                                          \
    "  service_sid TEXT PRIMARY KEY REFERENCES services(sid) ON DELETE CASCADE,"                             \
    "  conversation_creator_role_sid TEXT NOT NULL REFERENCES roles(sid) DEFERRABLE INITIALLY DEFERRED,"     \
    "  conversation_role_sid TEXT NOT NULL REFERENCES roles(sid) DEFERRABLE INITIALLY DEFERRED,"             \
    "  chat_service_role_sid TEXT NOT NULL REFERENCES roles(sid) DEFERRABLE INITIALLY DEFERRED,"             \
    "  reachability_enabled INTEGER NOT NULL DEFAULT 0) STRICT;"                                             \
    "CREATE TABLE users("                                                                                    \
    "  id INTEGER PRIMARY KEY,"                                                                              \
    "  sid TEXT NOT NULL UNIQUE,"                                                                            \
    "  account_sid TEXT NOT NULL,"                                                                           \
    "  service_sid TEXT NOT NULL REFERENCES services(sid) ON DELETE CASCADE,"                                \
    "  role_sid TEXT NOT NULL REFERENCES roles(sid),"                                                        \
    "  identity TEXT NOT NULL,"                                                                              \
    "  friendly_name TEXT,"                                                                                  \
    "  attributes TEXT NOT NULL,"                                                                            \
    "  date_created BIGINT NOT NULL,"                                                                        \
    "  date_updated BIGINT NOT NULL,"                                                                        \
    "  UNIQUE(service_sid, identity)) STRICT;"                                                               \
    "CREATE INDEX users_by_service ON users(service_sid, id);"                                               \
    "CREATE INDEX users_by_role ON users(role_sid);"

/* 2: webhook configuration, the outbox of post-event deliveries and the delivery log */
#define V2_WEBHOOK_CONFIG                                                                                    \
    "CREATE TABLE account_webhooks("                                                                         \
    "  account_sid TEXT PRIMARY KEY REFERENCES accounts(sid) ON DELETE CASCADE,"                             \
    "  method TEXT, filters TEXT, pre_webhook_url TEXT, post_webhook_url TEXT,"                              \
    "  target TEXT NOT NULL DEFAULT 'webhook') STRICT;"                                                      \
    "CREATE TABLE service_webhooks("                                                                         \
    "  service_sid TEXT PRIMARY KEY REFERENCES services(sid) ON DELETE CASCADE,"                             \
    "  account_sid TEXT NOT NULL,"                                                                           \
    "  method TEXT, filters TEXT, pre_webhook_url TEXT, post_webhook_url TEXT) STRICT;"
#define V2_OUTBOX(claim_session)                                                                             \
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
    "  next_attempt_at BIGINT NOT NULL,"                                                                     \
    "  last_status INTEGER, last_error TEXT, last_latency_ms BIGINT,"                                        \
    "  claimed_by TEXT, claimed_until BIGINT," claim_session "  created_at BIGINT NOT NULL) STRICT;"         \
    "CREATE INDEX webhook_outbox_by_key ON webhook_outbox(order_key, id);"
#define OUTBOX_BY_ACCOUNT "CREATE INDEX webhook_outbox_by_account ON webhook_outbox(account_sid, id);"
#define V2_LOG                                                                                               \
    "CREATE TABLE webhook_log("                                                                              \
    "  id INTEGER PRIMARY KEY,"                                                                              \
    "  account_sid TEXT NOT NULL,"                                                                           \
    "  kind TEXT NOT NULL,"                                                                                  \
    "  event_type TEXT NOT NULL,"                                                                            \
    "  url TEXT NOT NULL,"                                                                                   \
    "  method TEXT NOT NULL,"                                                                                \
    "  outcome TEXT NOT NULL,"                                                                               \
    "  status INTEGER, attempts INTEGER NOT NULL, latency_ms BIGINT, last_error TEXT,"                       \
    "  idempotency_token TEXT, created_at BIGINT NOT NULL, completed_at BIGINT NOT NULL) STRICT;"            \
    "CREATE INDEX webhook_log_by_account ON webhook_log(account_sid, id);"

/* 3: API keys, service notifications, push credentials and bindings; existing services get their
 * notifications row here, new ones with the service */
#define V3_ACCOUNT_MODEL                                                                                     \
    "CREATE TABLE api_keys("                                                                                 \
    "  sid TEXT PRIMARY KEY,"                                                                                \
    "  account_sid TEXT NOT NULL REFERENCES accounts(sid) ON DELETE CASCADE,"                                \
    "  friendly_name TEXT,"                                                                                  \
    "  salt TEXT NOT NULL,"                                                                                  \
    "  secret_hash TEXT NOT NULL,"                                                                           \
    "  date_created BIGINT NOT NULL,"                                                                        \
    "  date_revoked BIGINT) STRICT;"                                                                         \
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
    "  date_created BIGINT NOT NULL,"                                                                        \
    "  date_updated BIGINT NOT NULL) STRICT;"                                                                \
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
    "  date_created BIGINT NOT NULL,"                                                                        \
    "  date_updated BIGINT NOT NULL) STRICT;"                                                                \
    "CREATE INDEX bindings_by_service ON bindings(service_sid, id);"                                         \
    "CREATE INDEX bindings_by_identity ON bindings(service_sid, identity);"                                  \
    "CREATE INDEX bindings_by_credential ON bindings(credential_sid);"

/* 4 (webhook safety): a per-account count of log rows (pruning per account without counting), the
 * failing-target backoff, and indexes for the fair claim (each account's oldest rows; the few claimed) */
#define V4_COUNTS_TARGETS                                                                                    \
    "CREATE TABLE webhook_log_counts(account_sid TEXT PRIMARY KEY, n BIGINT NOT NULL) STRICT;"               \
    "INSERT INTO webhook_log_counts SELECT account_sid, count(*) FROM webhook_log GROUP BY account_sid;"     \
    "CREATE TABLE webhook_targets(url TEXT PRIMARY KEY, failures INTEGER NOT NULL,"                          \
    "  blocked_until BIGINT NOT NULL) STRICT;"
#define V4_CLAIMED                                                                                           \
    "CREATE INDEX webhook_outbox_claimed ON webhook_outbox(claimed_until) WHERE claimed_until IS NOT NULL;"

/* 6: a deleted service is marked (deleted_at) in the DELETE's short transaction and its rows are reaped
 * later in bounded batches; triggers refuse writes into a marked service, which the API answers as for a
 * missing one (SQLite: a RAISE, ST_IN_USE; PostgreSQL: 23503, ST_IN_USE). PostgreSQL's FOR SHARE waits
 * for a DELETE that is marking the service on another server, and then sees the mark. */
#define V6_MARK                                                                                              \
    "ALTER TABLE services ADD COLUMN deleted_at BIGINT;"                                                     \
    "CREATE INDEX services_deleted ON services(deleted_at) WHERE deleted_at IS NOT NULL;"
#define SQ_LIVE_NAMED(name, table, when)                                                                     \
    "CREATE TRIGGER " name " BEFORE " when " ON " table                                                      \
    "  WHEN (SELECT deleted_at FROM services WHERE sid = NEW.service_sid) IS NOT NULL"                       \
    "  BEGIN SELECT RAISE(ABORT, 'the service is deleted'); END;"
#define SQ_LIVE(table, op, when) SQ_LIVE_NAMED(table "_live_service_" op, table, when)
#define SQ_LIVE_IU(table) SQ_LIVE(table, "i", "INSERT") SQ_LIVE(table, "u", "UPDATE")
#define PG_LIVE_ON(table, when)                                                                              \
    "CREATE TRIGGER " table "_live_service BEFORE " when " ON " table                                        \
    "  FOR EACH ROW EXECUTE FUNCTION parley_live_service();"
#define PG_LIVE(table) PG_LIVE_ON(table, "INSERT OR UPDATE")
#define PG_LIVE_FUNCTION                                                                                     \
    "CREATE FUNCTION parley_live_service() RETURNS trigger LANGUAGE plpgsql AS $f$"                          \
    "BEGIN"                                                                                                  \
    "  IF (SELECT deleted_at FROM services WHERE sid = NEW.service_sid FOR SHARE) IS NOT NULL THEN"          \
    "    RAISE EXCEPTION 'the service is deleted' USING ERRCODE = 'foreign_key_violation';"                  \
    "  END IF;"                                                                                              \
    "  RETURN NEW;"                                                                                          \
    "END $f$;"
/* 13: the change log loses its date index (the pruner walks each account's oldest records by number,
 * store/changes.c); a Group MMS's projected addresses get a small partial index, so that a message's
 * author lookup does not sort or scan its conversation's participants (store/messages.c); and the
 * non-chat participants get one, so that finding a message's receipt recipients reads those only, not
 * every chat member of the conversation. */
#define V13_WRITE_PATH                                                                                       \
    "DROP INDEX changes_by_date;"                                                                            \
    "CREATE INDEX participants_by_projected ON participants(conversation_sid, id)"                           \
    "  WHERE projected_address IS NOT NULL;"                                                                 \
    "CREATE INDEX participants_nonchat ON participants(conversation_sid, id) WHERE address IS NOT NULL;"
#define LIVE_TABLES(each)                                                                                    \
    each("users") each("roles") each("service_configs") each("service_notifications")                        \
        each("service_webhooks") each("bindings")

const struct migration store_migrations[] = {
    {1, V1_ACCOUNT_MODEL, NULL},
    {2, V2_WEBHOOK_CONFIG, NULL},
    /* PostgreSQL's outbox had the claim session and the account index from the start */
    {2, V2_OUTBOX(""), V2_OUTBOX("  claim_session BIGINT,") OUTBOX_BY_ACCOUNT},
    {2, V2_LOG, NULL},
    {3, V3_ACCOUNT_MODEL, NULL},
    {4, V4_COUNTS_TARGETS, NULL},
    {4, OUTBOX_BY_ACCOUNT, ""},
    {4, V4_CLAIMED, NULL},
    /* the store's own facts: the check value of the secret key (store/secret.h) */
    {5, "CREATE TABLE store_meta(name TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;", NULL},
    {6, V6_MARK LIVE_TABLES(SQ_LIVE_IU), V6_MARK PG_LIVE_FUNCTION LIVE_TABLES(PG_LIVE)},
    /* timers and the change log; PostgreSQL numbers each account's changes from its change_seqs row */
    {7, TIMERS_MIGRATION, NULL},
    {7, "", PG_CHANGE_SEQS_MIGRATION},
    {7, CHANGES_MIGRATION, NULL},
    /* the tables of a service get version 6's live-service triggers (the scoped webhooks' and the
     * messages' on INSERT only, the scoped webhooks' SQLite one named as PostgreSQL's) */
    {8, CONVERSATIONS_MIGRATION, NULL},
    {8, SQ_LIVE_IU("conversations"), PG_LIVE("conversations")},
    {9, PARTICIPANTS_MIGRATION, NULL},
    {9, SQ_LIVE_IU("participants"), PG_LIVE("participants")},
    {10, ADDRESS_CONFIGS_MIGRATION, NULL},
    {11, SCOPED_WEBHOOKS_MIGRATION, NULL},
    {11, SQ_LIVE_NAMED("conversation_webhooks_live_service", "conversation_webhooks", "INSERT"),
     PG_LIVE_ON("conversation_webhooks", "INSERT")},
    {12, MESSAGES_MIGRATION, NULL},
    {12, SQ_LIVE("messages", "i", "INSERT"), PG_LIVE_ON("messages", "INSERT")},
    {13, V13_WRITE_PATH, NULL},
    {14, MESSAGES_V14_SQLITE, MESSAGES_V14_PG},
    {14, SQ_LIVE("messages", "i", "INSERT"), ""},
    {15, CHANGES_V15_SQLITE, ""},
    /* append here */
};

const int store_migrations_n = (int)(sizeof(store_migrations) / sizeof(store_migrations[0]));

int migration_latest(void)
{
    return store_migrations[store_migrations_n - 1].version;
}

/* Replaces every from in s by to, into a new string (s is freed). */
static char *replace(char *s, const char *from, const char *to)
{
    size_t nf = strlen(from), nt = strlen(to), n = 0;
    if (!s) return NULL;
    for (const char *p = s; (p = strstr(p, from)) != NULL; p += nf)
        n++;
    char *out = malloc(strlen(s) + n * nt + 1), *o = out;
    if (!out) {
        free(s);
        return NULL;
    }
    const char *p = s, *q;
    while ((q = strstr(p, from)) != NULL) {
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        memcpy(o, to, nt);
        o += nt;
        p = q + nf;
    }
    memcpy(o, p, strlen(p) + 1);
    free(s);
    return out;
}

char *migration_text(const struct migration *m, int pg)
{
    char *s = strdup(pg && m->pg ? m->pg : m->sql);
    if (!pg) return replace(s, "BIGINT", "INTEGER");
    s = replace(s, ") STRICT, WITHOUT ROWID;", ");");
    return replace(replace(s, "INTEGER PRIMARY KEY", "BIGSERIAL PRIMARY KEY"), ") STRICT;", ");");
}

/* ---- secrets at rest: the start-up migration of the data (store/secret.h) ---- */

#define KEY_CHECK_NAME "secret_key_check"
#define KEY_CHECK_PLAIN "parley secret key check"

static struct store_sql key_check_get = {.sql = "SELECT value FROM store_meta WHERE name = '" KEY_CHECK_NAME
                                                "'"};
static struct store_sql key_check_put = {
    .sql = "INSERT INTO store_meta(name, value) VALUES ('" KEY_CHECK_NAME "', ?1)",
};
/* every column sealed at rest: the rows still in clear text, and their update */
#define PREFIX_LEN "5" /* strlen(SECRET_PREFIX) */
#define SEALED(table, col)                                                                                   \
    {.sql = "SELECT sid, " col " FROM " table " WHERE " col " IS NOT NULL AND substr(" col                   \
            ", 1, " PREFIX_LEN ") <> '" SECRET_PREFIX "'",                                                   \
     .lock = SQL_LOCK_DELETE},                                                                               \
    {                                                                                                        \
        .sql = "UPDATE " table " SET " col " = ?2 WHERE sid = ?1"                                            \
    }
static struct store_sql sealed_cols[][2] = {
    {SEALED("accounts", "auth_token")},     {SEALED("credentials", "certificate")},
    {SEALED("credentials", "private_key")}, {SEALED("credentials", "api_key")},
    {SEALED("credentials", "secret")},
};
#define SEALED_N (sizeof(sealed_cols) / sizeof(sealed_cols[0]))

int store_secrets_sql_add(void)
{
    _Static_assert(sizeof(SECRET_PREFIX) - 1 == 5, "PREFIX_LEN is strlen(SECRET_PREFIX)");
    int rc = store_sql_add(&key_check_get);
    if (rc == ST_OK) rc = store_sql_add(&key_check_put);
    for (size_t i = 0; i < SEALED_N && rc == ST_OK; i++)
        if ((rc = store_sql_add(&sealed_cols[i][0])) == ST_OK) rc = store_sql_add(&sealed_cols[i][1]);
    return rc;
}

/* Seals the clear-text values of one column in place, each bound to its row's SID. Returns the number
 * sealed, or a store_result. */
static int seal_column(struct store_conn *c, struct store_sql *sel, struct store_sql *upd)
{
    const struct store_engine *e = c->ops->engine;
    struct store_stmt *s = e->stmt(c, sel), *u = e->stmt(c, upd);
    if (!s || !u) return ST_ERROR;
    int n = 0, rc;
    while (n >= 0 && (rc = e->step(s)) == 1) {
        struct arena a;
        arena_init(&a);
        const char *sid = e->col_text(s, 0);
        char *sealed = secret_seal(&a, e->col_text(s, 1), sid);
        if (sealed) {
            e->bind_text(u, 1, sid);
            e->bind_text(u, 2, sealed);
        }
        n = sealed && store_stmt_exec(e, u) == ST_OK ? n + 1 : ST_ERROR;
        arena_free(&a);
    }
    e->reset(s);
    return n >= 0 && rc < 0 ? rc : n;
}

/* The key must be the one the data was sealed with (a check value says so), and clear-text secrets
 * left by older versions (or a PostgreSQL store run without a key) are sealed now. */
int store_secrets_migrate(struct store_conn *c)
{
    static const struct column value = {"value", CK_TEXT, 0, 0};
    const char *what = strcmp(c->ops->name, "sqlite") == 0 ? "data file" : "database";
    int rc = c->ops->tx_begin(c), sealed = 0;
    if (rc != ST_OK) return rc;
    struct arena a;
    arena_init(&a);
    char *stored = NULL, *plain = NULL;
    int row = rows_fetch(c, &key_check_get, &value, 1, &a, &stored, "");
    if (row == ST_OK && !secret_have_key()) {
        log_err("this %s holds sealed secrets: start with the --secret-key-file they were sealed with", what);
        rc = ST_ERROR;
    } else if (row == ST_OK && (secret_open(&a, stored, KEY_CHECK_NAME, &plain) != 0 ||
                                strcmp(plain, KEY_CHECK_PLAIN) != 0)) {
        log_err("the secret key does not match this %s (its secrets were sealed with another key):"
                " give the right --secret-key-file",
                what);
        rc = ST_ERROR;
    } else if (row == ST_NOT_FOUND && secret_have_key()) {
        char *check = secret_seal(&a, KEY_CHECK_PLAIN, KEY_CHECK_NAME);
        rc = check ? rows_exec(c, &key_check_put, NULL, "t", check) : ST_ERROR;
    } else if (row != ST_OK && row != ST_NOT_FOUND) {
        rc = row;
    }
    arena_free(&a);
    for (size_t i = 0; i < SEALED_N && rc == ST_OK && secret_have_key(); i++) {
        int n = seal_column(c, &sealed_cols[i][0], &sealed_cols[i][1]);
        if (n < 0)
            rc = n;
        else
            sealed += n;
    }
    if (rc == ST_OK) rc = c->ops->tx_commit(c);
    if (rc != ST_OK) {
        c->ops->tx_rollback(c);
        return rc;
    }
    if (sealed) log_info("store: sealed %d clear-text secrets with the secret key", sealed);
    return sealed;
}
