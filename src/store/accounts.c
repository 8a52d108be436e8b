/* Accounts and API keys, once for both engines. An account's auth token is sealed at rest, bound to
 * its SID (store/secret.h); an API key keeps only a salted hash of its secret. */
#include <stddef.h>
#include <string.h>

#include "store/account_store.h"
#include "store/domain.h"
#include "store/rows.h"
#include "store/secret.h"
#include "util/arena.h"
#include "util/log.h"

/* the sealed token last: a list does not read it */
#define ACCOUNT_COLS                                                                                         \
    "sid, friendly_name, default_service_sid, default_messaging_service_sid, default_inactive_timer,"        \
    " default_closed_timer, date_created, auth_token"

/* the account configuration's update reads, changes and writes back the row */
static struct store_sql account_get_q = {
    .sql = "SELECT " ACCOUNT_COLS " FROM accounts WHERE sid = ?1",
    .lock = SQL_LOCK_UPDATE,
};
static struct store_sql account_first_q = {
    .sql = "SELECT " ACCOUNT_COLS " FROM accounts ORDER BY date_created, sid LIMIT 1",
};
static struct store_sql account_list_q = {
    .sql = "SELECT " ACCOUNT_COLS " FROM accounts ORDER BY date_created, sid",
};
static struct store_sql account_insert_q = {
    .sql = "INSERT INTO accounts(sid, auth_token, friendly_name, default_service_sid, date_created)"
           " VALUES (?1, ?2, ?3, ?4, ?5)",
};
static struct store_sql account_set_token_q = {.sql = "UPDATE accounts SET auth_token = ?2 WHERE sid = ?1"};
static struct store_sql account_update_config_q = {
    .sql = "UPDATE accounts SET default_service_sid = ?2, default_messaging_service_sid = ?3,"
           " default_inactive_timer = ?4, default_closed_timer = ?5 WHERE sid = ?1",
};

/* the secret's salt and hash last: a list does not read them */
#define KEY_COLS "sid, account_sid, friendly_name, date_created, date_revoked, salt, secret_hash"
static struct store_sql key_insert_q = {
    .sql = "INSERT INTO api_keys(" KEY_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
};
static struct store_sql key_get_q = {.sql = "SELECT " KEY_COLS " FROM api_keys WHERE sid = ?1"};
static struct store_sql key_list_q = {.sql = "SELECT " KEY_COLS " FROM api_keys ORDER BY date_created, sid"};
static struct store_sql key_list_account_q = {
    .sql = "SELECT " KEY_COLS " FROM api_keys WHERE account_sid = ?1 ORDER BY date_created, sid",
};
static struct store_sql key_revoke_q = {
    .sql = "UPDATE api_keys SET date_revoked = coalesce(date_revoked, ?2) WHERE sid = ?1",
};

int store_accounts_sql_add(void)
{
    struct store_sql *const all[] = {
        &account_get_q,       &account_first_q,         &account_list_q, &account_insert_q,
        &account_set_token_q, &account_update_config_q, &key_insert_q,   &key_get_q,
        &key_list_q,          &key_list_account_q,      &key_revoke_q,
    };
    return rows_sql_add_all(all, sizeof(all) / sizeof(all[0]));
}

/* ACCOUNT_COLS but the token */
static const struct column account_cols[] = {
    ROWS_COL(struct account, sid, CK_SID, 0),
    ROWS_COL(struct account, friendly_name, CK_TEXT, 0),
    ROWS_COL(struct account, default_service_sid, CK_SID, 0),
    ROWS_COL(struct account, default_messaging_service_sid, CK_TEXT, 0),
    ROWS_COL(struct account, default_inactive_timer, CK_TEXT, 0),
    ROWS_COL(struct account, default_closed_timer, CK_TEXT, 0),
    ROWS_COL(struct account, date_created, CK_I64, 0),
};
#define ACCOUNT_TOKEN_COL 7

/* KEY_COLS */
static const struct column key_cols[] = {
    ROWS_COL(struct api_key, sid, CK_SID, 0),
    ROWS_COL(struct api_key, account_sid, CK_SID, 0),
    ROWS_COL(struct api_key, friendly_name, CK_TEXT, 0),
    ROWS_COL(struct api_key, date_created, CK_I64, 0),
    ROWS_COL(struct api_key, date_revoked, CK_I64, C_ZERO_NULL),
    ROWS_COL(struct api_key, salt, CK_TEXT, 0),
    ROWS_COL(struct api_key, secret_hash, CK_TEXT, 0),
};
#define KEY_LISTED 5 /* the columns a list reads */
#define N(cols) ((int)(sizeof(cols) / sizeof(cols[0])))

/* ---- accounts ---- */

/* One account row of q (bound), its token opened; ST_ERROR when the token does not open with this key. */
static int account_one(struct store_conn *c, struct store_stmt *s, struct arena *a, struct account *out)
{
    const struct store_engine *e = c->ops->engine;
    int rc = e->step(s);
    if (rc == 1) {
        rows_read_cols(e, s, account_cols, N(account_cols), a, out);
        if (secret_open(a, e->col_text(s, ACCOUNT_TOKEN_COL), out->sid, &out->auth_token) != 0) {
            log_err("account %s: its auth token does not open with this secret key", out->sid);
            rc = ST_ERROR;
        }
    }
    e->reset(s);
    return rc == 1 ? ST_OK : rc == 0 ? ST_NOT_FOUND : rc;
}

int store_account_get(struct store_conn *c, const char *sid, struct arena *a, struct account *out)
{
    struct store_stmt *s = c->ops->engine->stmt(c, &account_get_q);
    if (!s) return ST_ERROR;
    c->ops->engine->bind_text(s, 1, sid);
    return account_one(c, s, a, out);
}

int store_account_first(struct store_conn *c, struct arena *a, struct account *out)
{
    struct store_stmt *s = c->ops->engine->stmt(c, &account_first_q);
    return s ? account_one(c, s, a, out) : ST_ERROR;
}

int store_account_insert(struct store_conn *c, const struct account *acct)
{
    struct arena a;
    arena_init(&a);
    char *sealed = secret_seal(&a, acct->auth_token, acct->sid);
    int rc = sealed ? rows_exec(c, &account_insert_q, NULL, "tttti", acct->sid, sealed, acct->friendly_name,
                                acct->default_service_sid, acct->date_created)
                    : ST_ERROR;
    arena_free(&a);
    return rc;
}

int store_account_set_token(struct store_conn *c, const char *sid, const char *token)
{
    struct arena a;
    arena_init(&a);
    char *sealed = secret_seal(&a, token, sid);
    int rc = sealed ? rows_exec_one(c, &account_set_token_q, "tt", sid, sealed) : ST_ERROR;
    arena_free(&a);
    return rc;
}

int store_account_list(struct store_conn *c, account_row_fn fn, void *ctx)
{
    const struct store_engine *e = c->ops->engine;
    struct store_stmt *s = e->stmt(c, &account_list_q);
    if (!s) return ST_ERROR;
    int rc;
    while ((rc = e->step(s)) == 1) {
        struct account acct = {0}; /* the token is not read */
        rows_read_cols(e, s, account_cols, N(account_cols), NULL, &acct);
        if (fn(ctx, &acct)) break;
    }
    e->reset(s);
    return rc < 0 ? rc : ST_OK;
}

int store_account_update_config(struct store_conn *c, const struct account *acct)
{
    return rows_exec_one(c, &account_update_config_q, "ttttt", acct->sid, acct->default_service_sid,
                         acct->default_messaging_service_sid, acct->default_inactive_timer,
                         acct->default_closed_timer);
}

/* ---- API keys ---- */

int store_api_key_insert(struct store_conn *c, const struct api_key *k)
{
    const struct store_engine *e = c->ops->engine;
    struct store_stmt *s = e->stmt(c, &key_insert_q);
    if (!s) return ST_ERROR;
    rows_bind_cols(e, s, key_cols, N(key_cols), k);
    return store_stmt_exec(e, s);
}

int store_api_key_get(struct store_conn *c, const char *sid, struct arena *a, struct api_key *out)
{
    return rows_fetch(c, &key_get_q, key_cols, N(key_cols), a, out, "t", sid);
}

int store_api_key_list(struct store_conn *c, const char *account_sid, api_key_row_fn fn, void *ctx)
{
    const struct store_engine *e = c->ops->engine;
    struct store_stmt *s = e->stmt(c, account_sid ? &key_list_account_q : &key_list_q);
    if (!s) return ST_ERROR;
    if (account_sid) e->bind_text(s, 1, account_sid);
    int rc;
    while ((rc = e->step(s)) == 1) {
        struct api_key k = {0}; /* the salt and hash are not read */
        rows_read_cols(e, s, key_cols, KEY_LISTED, NULL, &k);
        if (fn(ctx, &k)) break;
    }
    e->reset(s);
    return rc < 0 ? rc : ST_OK;
}

int store_api_key_revoke(struct store_conn *c, const char *sid, long long now)
{
    return rows_exec_one(c, &key_revoke_q, "ti", sid, now);
}
