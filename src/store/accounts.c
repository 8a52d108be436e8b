/* Accounts and API keys, once for both engines. An account's auth token is sealed at rest, bound to
 * its SID (store/secret.h); an API key keeps only a salted hash of its secret. */
#include <stddef.h>

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

/* ACCOUNT_COLS: the sealed token is read last, and opened */
static const struct column account_cols[] = {
    ROWS_COL(struct account, sid, CK_SID, 0),
    ROWS_COL(struct account, friendly_name, CK_TEXT, 0),
    ROWS_COL(struct account, default_service_sid, CK_SID, 0),
    ROWS_COL(struct account, default_messaging_service_sid, CK_TEXT, 0),
    ROWS_COL(struct account, default_inactive_timer, CK_TEXT, 0),
    ROWS_COL(struct account, default_closed_timer, CK_TEXT, 0),
    ROWS_COL(struct account, date_created, CK_I64, 0),
    ROWS_COL(struct account, auth_token, CK_TEXT, 0),
};
#define ACCOUNT_LISTED 7 /* the columns a list reads: all but the token */

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

/* ---- accounts ---- */

/* The account row of q (with sid as ?1 when given), its token opened; ST_ERROR when the token does not
 * open with this key. */
static int account_fetch(struct store_conn *c, struct store_sql *q, const char *sid, struct arena *a,
                         struct account *out)
{
    int rc = rows_fetch(c, q, account_cols, ROWS_N(account_cols), a, out, sid ? "t" : "", sid);
    if (rc == ST_OK && secret_open(a, out->auth_token, out->sid, &out->auth_token) != 0) {
        log_err("account %s: its auth token does not open with this secret key", out->sid);
        rc = ST_ERROR;
    }
    return rc;
}

int store_account_get(struct store_conn *c, const char *sid, struct arena *a, struct account *out)
{
    return account_fetch(c, &account_get_q, sid, a, out);
}

int store_account_first(struct store_conn *c, struct arena *a, struct account *out)
{
    return account_fetch(c, &account_first_q, NULL, a, out);
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

ROWS_LIST_ADAPTER(account_row, account_row_fn, struct account)

int store_account_list(struct store_conn *c, account_row_fn fn, void *ctx)
{
    struct account acct = {0}; /* the token is not read */
    struct account_row_ctx l = {fn, ctx};
    return rows_each(c, &account_list_q, account_cols, ACCOUNT_LISTED, &acct, account_row, &l, "");
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
    return rows_write(c, &key_insert_q, key_cols, ROWS_N(key_cols), k, 0);
}

int store_api_key_get(struct store_conn *c, const char *sid, struct arena *a, struct api_key *out)
{
    return rows_fetch(c, &key_get_q, key_cols, ROWS_N(key_cols), a, out, "t", sid);
}

ROWS_LIST_ADAPTER(key_row, api_key_row_fn, struct api_key)

int store_api_key_list(struct store_conn *c, const char *account_sid, api_key_row_fn fn, void *ctx)
{
    struct api_key k = {0}; /* the salt and hash are not read */
    struct key_row_ctx l = {fn, ctx};
    return rows_each(c, account_sid ? &key_list_account_q : &key_list_q, key_cols, KEY_LISTED, &k, key_row,
                     &l, account_sid ? "t" : "", account_sid);
}

int store_api_key_revoke(struct store_conn *c, const char *sid, long long now)
{
    return rows_exec_one(c, &key_revoke_q, "ti", sid, now);
}
