/* SQLite: the account model around Users (store/account_store.h): accounts and API keys, services and
 * their deletion, roles, service configuration and notifications, push credentials and bindings. */
#include <string.h>

#include "store/account_store.h"
#include "store/domain.h"
#include "store/secret.h"
#include "store/sqlite_internal.h"
#include "util/arena.h"
#include "util/timefmt.h"

enum aq_id {
    AQ_ACCOUNT_LIST,
    AQ_ACCOUNT_UPDATE_CONFIG,
    AQ_KEY_INSERT,
    AQ_KEY_GET,
    AQ_KEY_LIST,
    AQ_KEY_LIST_ACCOUNT,
    AQ_KEY_REVOKE,
    AQ_SERVICE_MARK,
    AQ_REAP_NEXT,
    AQ_REAP_CONVERSATIONS,
    AQ_REAP_BINDINGS,
    AQ_REAP_USERS,
    AQ_REAP_ROLES,
    AQ_REAP_SERVICE,
    AQ_NOTIFICATIONS_GET,
    AQ_NOTIFICATIONS_PUT,
    AQ__COUNT
};
_Static_assert(AQ__COUNT <= 96, "account model statements overflow their slots");

/* never the secret columns */
#define NOTIFICATION_COLS                                                                                    \
    "account_sid, log_enabled, new_message_enabled, new_message_template, new_message_sound,"                \
    " new_message_badge_count_enabled, new_message_with_media_enabled, new_message_with_media_template,"     \
    " added_enabled, added_template, added_sound, removed_enabled, removed_template, removed_sound"
static const char *const aq_sql[AQ__COUNT] = {
    [AQ_ACCOUNT_LIST] = "SELECT sid, friendly_name, default_service_sid, default_messaging_service_sid,"
                        " default_inactive_timer, default_closed_timer, date_created FROM accounts"
                        " ORDER BY date_created, sid",
    [AQ_ACCOUNT_UPDATE_CONFIG] =
        "UPDATE accounts SET default_service_sid = ?2, default_messaging_service_sid = ?3,"
        " default_inactive_timer = ?4, default_closed_timer = ?5 WHERE sid = ?1",
    [AQ_KEY_INSERT] = "INSERT INTO api_keys(sid, account_sid, friendly_name, salt, secret_hash, date_created)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [AQ_KEY_GET] = "SELECT sid, account_sid, friendly_name, salt, secret_hash, date_created, date_revoked"
                   " FROM api_keys WHERE sid = ?1",
    [AQ_KEY_LIST] = "SELECT sid, account_sid, friendly_name, date_created, date_revoked FROM api_keys"
                    " ORDER BY date_created, sid",
    [AQ_KEY_LIST_ACCOUNT] = "SELECT sid, account_sid, friendly_name, date_created, date_revoked FROM api_keys"
                            " WHERE account_sid = ?1 ORDER BY date_created, sid",
    [AQ_KEY_REVOKE] = "UPDATE api_keys SET date_revoked = coalesce(date_revoked, ?2) WHERE sid = ?1",
    [AQ_SERVICE_MARK] = "UPDATE services SET deleted_at = ?3 WHERE sid = ?1 AND account_sid = ?2"
                        " AND deleted_at IS NULL",
    [AQ_REAP_NEXT] = "SELECT sid FROM services WHERE deleted_at IS NOT NULL ORDER BY deleted_at LIMIT 1",
    /* conversations, bindings and users first (users' role references are immediate constraints), then the
     * roles the configuration does not name; the service row takes the few rows left by ON DELETE CASCADE */
    [AQ_REAP_CONVERSATIONS] = "DELETE FROM conversations WHERE id IN (SELECT id FROM conversations"
                              " WHERE service_sid = ?1 LIMIT ?2)",
    [AQ_REAP_BINDINGS] = "DELETE FROM bindings WHERE id IN (SELECT id FROM bindings WHERE service_sid = ?1"
                         " LIMIT ?2)",
    [AQ_REAP_USERS] = "DELETE FROM users WHERE id IN (SELECT id FROM users WHERE service_sid = ?1 LIMIT ?2)",
    [AQ_REAP_ROLES] = "DELETE FROM roles WHERE id IN (SELECT r.id FROM roles r"
                      " JOIN service_configs c ON c.service_sid = r.service_sid WHERE r.service_sid = ?1"
                      " AND r.sid NOT IN (c.conversation_creator_role_sid, c.conversation_role_sid,"
                      " c.chat_service_role_sid) LIMIT ?2)",
    [AQ_REAP_SERVICE] = "DELETE FROM services WHERE sid = ?1",
    [AQ_NOTIFICATIONS_GET] = "SELECT " NOTIFICATION_COLS " FROM service_notifications WHERE service_sid = ?1",
    [AQ_NOTIFICATIONS_PUT] =
        "INSERT OR REPLACE INTO service_notifications(service_sid, " NOTIFICATION_COLS ")"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
};

static sqlite3_stmt *aq(struct sq_conn *c, enum aq_id id)
{
    return sq_stmt(c, &c->extra[SQ_EXTRA_ACCOUNT + id], aq_sql[id]);
}

/* A statement that changes one row: ST_NOT_FOUND when it changed none. */
static int exec_one(struct sq_conn *c, sqlite3_stmt *s)
{
    int r = sq_exec(c, s);
    if (r == ST_OK && sqlite3_changes(c->db) == 0) return ST_NOT_FOUND;
    return r;
}

/* ---- accounts ---- */

static int account_list(struct store_conn *sc, account_row_fn fn, void *ctx)
{
    struct sq_conn *c = (struct sq_conn *)sc;
    sqlite3_stmt *s = aq(c, AQ_ACCOUNT_LIST);
    if (!s) return ST_ERROR;
    LIST_ROWS(
        c, s, struct account acct,
        {
            memset(&acct, 0, sizeof(acct));
            sq_col_sid(s, 0, acct.sid);
            acct.friendly_name = (char *)sqlite3_column_text(s, 1);
            sq_col_sid(s, 2, acct.default_service_sid);
            acct.default_messaging_service_sid = (char *)sqlite3_column_text(s, 3);
            acct.default_inactive_timer = (char *)sqlite3_column_text(s, 4);
            acct.default_closed_timer = (char *)sqlite3_column_text(s, 5);
            acct.date_created = sqlite3_column_int64(s, 6);
        },
        fn(ctx, &acct));
}

static int account_update_config(struct store_conn *sc, const struct account *a)
{
    struct sq_conn *c = (struct sq_conn *)sc;
    sqlite3_stmt *s = aq(c, AQ_ACCOUNT_UPDATE_CONFIG);
    if (!s) return ST_ERROR;
    sq_bind_text(s, 1, a->sid);
    sq_bind_text(s, 2, a->default_service_sid);
    sq_bind_text(s, 3, a->default_messaging_service_sid);
    sq_bind_text(s, 4, a->default_inactive_timer);
    sq_bind_text(s, 5, a->default_closed_timer);
    return exec_one(c, s);
}

/* ---- API keys ---- */

static int key_insert(struct store_conn *sc, const struct api_key *k)
{
    struct sq_conn *c = (struct sq_conn *)sc;
    sqlite3_stmt *s = aq(c, AQ_KEY_INSERT);
    if (!s) return ST_ERROR;
    sq_bind_text(s, 1, k->sid);
    sq_bind_text(s, 2, k->account_sid);
    sq_bind_text(s, 3, k->friendly_name);
    sq_bind_text(s, 4, k->salt);
    sq_bind_text(s, 5, k->secret_hash);
    sqlite3_bind_int64(s, 6, k->date_created);
    return sq_exec(c, s);
}

static int key_get(struct store_conn *sc, const char *sid, struct arena *a, struct api_key *out)
{
    struct sq_conn *c = (struct sq_conn *)sc;
    sqlite3_stmt *s = aq(c, AQ_KEY_GET);
    if (!s) return ST_ERROR;
    sq_bind_text(s, 1, sid);
    STEP_ONE(c, s, {
        sq_col_sid(s, 0, out->sid);
        sq_col_sid(s, 1, out->account_sid);
        out->friendly_name = sq_col_dup(s, 2, a);
        out->salt = sq_col_dup(s, 3, a);
        out->secret_hash = sq_col_dup(s, 4, a);
        out->date_created = sqlite3_column_int64(s, 5);
        out->date_revoked = sqlite3_column_int64(s, 6);
    });
}

static int key_list(struct store_conn *sc, const char *account_sid, api_key_row_fn fn, void *ctx)
{
    struct sq_conn *c = (struct sq_conn *)sc;
    sqlite3_stmt *s = aq(c, account_sid ? AQ_KEY_LIST_ACCOUNT : AQ_KEY_LIST);
    if (!s) return ST_ERROR;
    if (account_sid) sq_bind_text(s, 1, account_sid);
    LIST_ROWS(
        c, s, struct api_key k,
        {
            memset(&k, 0, sizeof(k));
            sq_col_sid(s, 0, k.sid);
            sq_col_sid(s, 1, k.account_sid);
            k.friendly_name = (char *)sqlite3_column_text(s, 2);
            k.date_created = sqlite3_column_int64(s, 3);
            k.date_revoked = sqlite3_column_int64(s, 4);
        },
        fn(ctx, &k));
}

static int key_revoke(struct store_conn *sc, const char *sid, long long now)
{
    struct sq_conn *c = (struct sq_conn *)sc;
    sqlite3_stmt *s = aq(c, AQ_KEY_REVOKE);
    if (!s) return ST_ERROR;
    sq_bind_text(s, 1, sid);
    sqlite3_bind_int64(s, 2, now);
    return exec_one(c, s);
}

/* ---- services ---- */

static int service_delete(struct store_conn *sc, const char *account_sid, const char *sid)
{
    struct sq_conn *c = (struct sq_conn *)sc;
    sqlite3_stmt *s = aq(c, AQ_SERVICE_MARK);
    if (!s) return ST_ERROR;
    sq_bind_text(s, 1, sid);
    sq_bind_text(s, 2, account_sid);
    sqlite3_bind_int64(s, 3, time_now_ms());
    return exec_one(c, s);
}

/* One bounded batch of a deleted service's rows: ?1 the service, ?2 the rows left in the budget.
 * Returns the rows deleted, or a store_result. */
static int reap_step(struct sq_conn *c, int id, const char *sid, int budget)
{
    sqlite3_stmt *s = aq(c, id);
    if (!s) return ST_ERROR;
    sq_bind_text(s, 1, sid);
    sqlite3_bind_int(s, 2, budget);
    int r = sq_exec(c, s);
    return r == ST_OK ? sqlite3_changes(c->db) : r;
}

static int service_reap(struct store_conn *sc, int max_rows, int *more)
{
    struct sq_conn *c = (struct sq_conn *)sc;
    *more = 0;
    sqlite3_stmt *s = aq(c, AQ_REAP_NEXT);
    if (!s) return ST_ERROR;
    char sid[SID_LEN + 1];
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) sq_col_sid(s, 0, sid);
    int r = rc == SQLITE_ROW || rc == SQLITE_DONE ? ST_OK : sq_map_rc(c->db, sqlite3_extended_errcode(c->db));
    sq_done(s);
    if (r != ST_OK || rc == SQLITE_DONE) return r;
    *more = 1;
    /* conversations first: each takes its participants and messages along (ON DELETE CASCADE) */
    static const int steps[] = {AQ_REAP_CONVERSATIONS, AQ_REAP_BINDINGS, AQ_REAP_USERS, AQ_REAP_ROLES};
    int budget = max_rows;
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        int n = reap_step(c, steps[i], sid, budget);
        if (n < 0) return n;
        if ((budget -= n) <= 0) return ST_OK;
    }
    if (!(s = aq(c, AQ_REAP_SERVICE))) return ST_ERROR;
    sq_bind_text(s, 1, sid);
    return sq_exec(c, s);
}

/* ---- notifications ---- */

static int notifications_get(struct store_conn *sc, const char *service_sid, struct arena *a,
                             struct notifications *out)
{
    struct sq_conn *c = (struct sq_conn *)sc;
    sqlite3_stmt *s = aq(c, AQ_NOTIFICATIONS_GET);
    if (!s) return ST_ERROR;
    sq_bind_text(s, 1, service_sid);
    memset(out, 0, sizeof(*out));
    memcpy(out->service_sid, service_sid, SID_LEN);
    STEP_ONE(c, s, {
        sq_col_sid(s, 0, out->account_sid);
        out->log_enabled = sqlite3_column_int(s, 1);
        out->new_message_enabled = sqlite3_column_int(s, 2);
        out->new_message_template = sq_col_dup(s, 3, a);
        out->new_message_sound = sq_col_dup(s, 4, a);
        out->new_message_badge_count_enabled = sqlite3_column_int(s, 5);
        out->new_message_with_media_enabled = sqlite3_column_int(s, 6);
        out->new_message_with_media_template = sq_col_dup(s, 7, a);
        out->added_enabled = sqlite3_column_int(s, 8);
        out->added_template = sq_col_dup(s, 9, a);
        out->added_sound = sq_col_dup(s, 10, a);
        out->removed_enabled = sqlite3_column_int(s, 11);
        out->removed_template = sq_col_dup(s, 12, a);
        out->removed_sound = sq_col_dup(s, 13, a);
    });
}

static int notifications_put(struct store_conn *sc, const struct notifications *n)
{
    struct sq_conn *c = (struct sq_conn *)sc;
    sqlite3_stmt *s = aq(c, AQ_NOTIFICATIONS_PUT);
    if (!s) return ST_ERROR;
    sq_bind_text(s, 1, n->service_sid);
    sq_bind_text(s, 2, n->account_sid);
    sqlite3_bind_int(s, 3, n->log_enabled);
    sqlite3_bind_int(s, 4, n->new_message_enabled);
    sq_bind_text(s, 5, n->new_message_template);
    sq_bind_text(s, 6, n->new_message_sound);
    sqlite3_bind_int(s, 7, n->new_message_badge_count_enabled);
    sqlite3_bind_int(s, 8, n->new_message_with_media_enabled);
    sq_bind_text(s, 9, n->new_message_with_media_template);
    sqlite3_bind_int(s, 10, n->added_enabled);
    sq_bind_text(s, 11, n->added_template);
    sq_bind_text(s, 12, n->added_sound);
    sqlite3_bind_int(s, 13, n->removed_enabled);
    sq_bind_text(s, 14, n->removed_template);
    sq_bind_text(s, 15, n->removed_sound);
    return sq_exec(c, s);
}

const struct store_account_ops sqlite_account_ops = {
    .account_list = account_list,
    .account_update_config = account_update_config,
    .key_insert = key_insert,
    .key_get = key_get,
    .key_list = key_list,
    .key_revoke = key_revoke,
    STORE_ACCOUNT_DOMAIN_OPS,
    .service_delete = service_delete,
    .service_reap = service_reap,
    .notifications_get = notifications_get,
    .notifications_put = notifications_put,
};
