/* PostgreSQL: the account model around Users (store/account_store.h): accounts and API keys, services
 * and their deletion, roles, service configuration and notifications, push credentials and bindings.
 * What the SQLite backend checks by hand before a delete, the foreign keys decide here as well, so
 * that a reference created by another server between the check and the delete is still refused. */
#ifndef NO_STORE_PG
#include <string.h>

#include "store/account_store.h"
#include "store/domain.h"
#include "store/pg_internal.h"
#include "store/secret.h"
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
    AQ_NOTIFICATIONS_GET_LOCK,
    AQ_NOTIFICATIONS_PUT,
    AQ__COUNT
};

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
        "UPDATE accounts SET default_service_sid = $2, default_messaging_service_sid = $3,"
        " default_inactive_timer = $4, default_closed_timer = $5 WHERE sid = $1",
    [AQ_KEY_INSERT] = "INSERT INTO api_keys(sid, account_sid, friendly_name, salt, secret_hash, date_created)"
                      " VALUES ($1, $2, $3, $4, $5, $6::bigint)",
    [AQ_KEY_GET] = "SELECT sid, account_sid, friendly_name, salt, secret_hash, date_created, date_revoked"
                   " FROM api_keys WHERE sid = $1",
    [AQ_KEY_LIST] = "SELECT sid, account_sid, friendly_name, date_created, date_revoked FROM api_keys"
                    " ORDER BY date_created, sid",
    [AQ_KEY_LIST_ACCOUNT] = "SELECT sid, account_sid, friendly_name, date_created, date_revoked FROM api_keys"
                            " WHERE account_sid = $1 ORDER BY date_created, sid",
    [AQ_KEY_REVOKE] = "UPDATE api_keys SET date_revoked = coalesce(date_revoked, $2::bigint) WHERE sid = $1",
    [AQ_SERVICE_MARK] = "UPDATE services SET deleted_at = $3::bigint WHERE sid = $1 AND account_sid = $2"
                        " AND deleted_at IS NULL",
    /* SKIP LOCKED: servers reaping at once take different services */
    [AQ_REAP_NEXT] = "SELECT sid FROM services WHERE deleted_at IS NOT NULL ORDER BY deleted_at LIMIT 1"
                     " FOR UPDATE SKIP LOCKED",
    /* conversations, bindings and users first, then the roles the configuration does not name; the service
     * row takes the few rows left by ON DELETE CASCADE */
    [AQ_REAP_CONVERSATIONS] = "DELETE FROM conversations WHERE id IN (SELECT id FROM conversations"
                              " WHERE service_sid = $1 LIMIT $2::bigint)",
    [AQ_REAP_BINDINGS] = "DELETE FROM bindings WHERE id IN (SELECT id FROM bindings WHERE service_sid = $1"
                         " LIMIT $2::bigint)",
    [AQ_REAP_USERS] = "DELETE FROM users WHERE id IN (SELECT id FROM users WHERE service_sid = $1"
                      " LIMIT $2::bigint)",
    [AQ_REAP_ROLES] = "DELETE FROM roles WHERE id IN (SELECT r.id FROM roles r"
                      " JOIN service_configs c ON c.service_sid = r.service_sid WHERE r.service_sid = $1"
                      " AND r.sid NOT IN (c.conversation_creator_role_sid, c.conversation_role_sid,"
                      " c.chat_service_role_sid) LIMIT $2::bigint)",
    [AQ_REAP_SERVICE] = "DELETE FROM services WHERE sid = $1",
    [AQ_NOTIFICATIONS_GET] = "SELECT " NOTIFICATION_COLS " FROM service_notifications WHERE service_sid = $1",
    [AQ_NOTIFICATIONS_GET_LOCK] =
        "SELECT " NOTIFICATION_COLS " FROM service_notifications WHERE service_sid = $1"
        " FOR NO KEY UPDATE",
    [AQ_NOTIFICATIONS_PUT] =
        "INSERT INTO service_notifications(service_sid, " NOTIFICATION_COLS ")"
        " VALUES ($1, $2, $3::integer, $4::integer, $5, $6, $7::integer, $8::integer, $9, $10::integer, $11, "
        "$12,"
        " $13::integer, $14, $15) ON CONFLICT (service_sid) DO UPDATE SET account_sid = EXCLUDED.account_sid,"
        " log_enabled = EXCLUDED.log_enabled, new_message_enabled = EXCLUDED.new_message_enabled,"
        " new_message_template = EXCLUDED.new_message_template, new_message_sound = "
        "EXCLUDED.new_message_sound,"
        " new_message_badge_count_enabled = EXCLUDED.new_message_badge_count_enabled,"
        " new_message_with_media_enabled = EXCLUDED.new_message_with_media_enabled,"
        " new_message_with_media_template = EXCLUDED.new_message_with_media_template,"
        " added_enabled = EXCLUDED.added_enabled, added_template = EXCLUDED.added_template,"
        " added_sound = EXCLUDED.added_sound, removed_enabled = EXCLUDED.removed_enabled,"
        " removed_template = EXCLUDED.removed_template, removed_sound = EXCLUDED.removed_sound",
};

const struct pg_sql_table pg_account_sql = {'a', AQ__COUNT, aq_sql};

#define CONN(sc) ((struct pg_conn *)(sc))

/* ---- accounts ---- */

static int account_list(struct store_conn *sc, account_row_fn fn, void *ctx)
{
    PGresult *r;
    int rc = pg_exec(CONN(sc), PGT_ACCOUNT, AQ_ACCOUNT_LIST, NULL, &r);
    if (rc != ST_OK) return rc;
    for (int i = 0, n = PQntuples(r); i < n; i++) {
        struct account acct;
        memset(&acct, 0, sizeof(acct));
        pg_col_sid(r, i, 0, acct.sid);
        acct.friendly_name = pg_col(r, i, 1);
        pg_col_sid(r, i, 2, acct.default_service_sid);
        acct.default_messaging_service_sid = pg_col(r, i, 3);
        acct.default_inactive_timer = pg_col(r, i, 4);
        acct.default_closed_timer = pg_col(r, i, 5);
        acct.date_created = pg_col_i64(r, i, 6);
        if (fn(ctx, &acct)) break;
    }
    PQclear(r);
    return ST_OK;
}

static int account_update_config(struct store_conn *sc, const struct account *a)
{
    struct pg_params p = {0};
    pp_text(&p, a->sid);
    pp_text(&p, a->default_service_sid);
    pp_text(&p, a->default_messaging_service_sid);
    pp_text(&p, a->default_inactive_timer);
    pp_text(&p, a->default_closed_timer);
    return pg_cmd_one(CONN(sc), PGT_ACCOUNT, AQ_ACCOUNT_UPDATE_CONFIG, &p);
}

/* ---- API keys ---- */

static int key_insert(struct store_conn *sc, const struct api_key *k)
{
    struct pg_params p = {0};
    pp_text(&p, k->sid);
    pp_text(&p, k->account_sid);
    pp_text(&p, k->friendly_name);
    pp_text(&p, k->salt);
    pp_text(&p, k->secret_hash);
    pp_int(&p, k->date_created);
    return pg_cmd(CONN(sc), PGT_ACCOUNT, AQ_KEY_INSERT, &p, NULL);
}

static int key_get(struct store_conn *sc, const char *sid, struct arena *a, struct api_key *out)
{
    struct pg_params p = {0};
    pp_text(&p, sid);
    PGresult *r;
    int rc = pg_row(CONN(sc), PGT_ACCOUNT, AQ_KEY_GET, &p, &r);
    if (rc != ST_OK) return rc;
    pg_col_sid(r, 0, 0, out->sid);
    pg_col_sid(r, 0, 1, out->account_sid);
    out->friendly_name = pg_col_dup(r, 0, 2, a);
    out->salt = pg_col_dup(r, 0, 3, a);
    out->secret_hash = pg_col_dup(r, 0, 4, a);
    out->date_created = pg_col_i64(r, 0, 5);
    out->date_revoked = pg_col_i64(r, 0, 6);
    PQclear(r);
    return ST_OK;
}

static int key_list(struct store_conn *sc, const char *account_sid, api_key_row_fn fn, void *ctx)
{
    struct pg_params p = {0};
    if (account_sid) pp_text(&p, account_sid);
    PGresult *r;
    int rc = pg_exec(CONN(sc), PGT_ACCOUNT, account_sid ? AQ_KEY_LIST_ACCOUNT : AQ_KEY_LIST, &p, &r);
    if (rc != ST_OK) return rc;
    for (int i = 0, n = PQntuples(r); i < n; i++) {
        struct api_key k;
        memset(&k, 0, sizeof(k));
        pg_col_sid(r, i, 0, k.sid);
        pg_col_sid(r, i, 1, k.account_sid);
        k.friendly_name = pg_col(r, i, 2);
        k.date_created = pg_col_i64(r, i, 3);
        k.date_revoked = pg_col_i64(r, i, 4);
        if (fn(ctx, &k)) break;
    }
    PQclear(r);
    return ST_OK;
}

static int key_revoke(struct store_conn *sc, const char *sid, long long now)
{
    struct pg_params p = {0};
    pp_text(&p, sid);
    pp_int(&p, now);
    return pg_cmd_one(CONN(sc), PGT_ACCOUNT, AQ_KEY_REVOKE, &p);
}

/* ---- services ---- */

static int service_delete(struct store_conn *sc, const char *account_sid, const char *sid)
{
    struct pg_params p = {0};
    pp_text(&p, sid);
    pp_text(&p, account_sid);
    pp_int(&p, time_now_ms());
    return pg_cmd_one(CONN(sc), PGT_ACCOUNT, AQ_SERVICE_MARK, &p);
}

static int service_reap(struct store_conn *sc, int max_rows, int *more)
{
    *more = 0;
    PGresult *r;
    int rc = pg_row(CONN(sc), PGT_ACCOUNT, AQ_REAP_NEXT, NULL, &r);
    if (rc == ST_NOT_FOUND) return ST_OK;
    if (rc != ST_OK) return rc;
    char sid[SID_LEN + 1];
    pg_col_sid(r, 0, 0, sid);
    PQclear(r);
    *more = 1;
    /* conversations first: each takes its participants and messages along (ON DELETE CASCADE) */
    static const int steps[] = {AQ_REAP_CONVERSATIONS, AQ_REAP_BINDINGS, AQ_REAP_USERS, AQ_REAP_ROLES};
    long long budget = max_rows;
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        struct pg_params p = {0};
        pp_text(&p, sid);
        pp_int(&p, budget);
        long long n = 0;
        if ((rc = pg_cmd(CONN(sc), PGT_ACCOUNT, steps[i], &p, &n)) != ST_OK) return rc;
        if ((budget -= n) <= 0) return ST_OK;
    }
    struct pg_params p = {0};
    pp_text(&p, sid);
    return pg_cmd(CONN(sc), PGT_ACCOUNT, AQ_REAP_SERVICE, &p, NULL);
}

/* ---- notifications ---- */

static int notifications_get(struct store_conn *sc, const char *service_sid, struct arena *a,
                             struct notifications *out)
{
    struct pg_conn *c = CONN(sc);
    struct pg_params p = {0};
    pp_text(&p, service_sid);
    memset(out, 0, sizeof(*out));
    memcpy(out->service_sid, service_sid, SID_LEN);
    PGresult *r;
    int rc = pg_row(c, PGT_ACCOUNT, pg_locking(c) ? AQ_NOTIFICATIONS_GET_LOCK : AQ_NOTIFICATIONS_GET, &p, &r);
    if (rc != ST_OK) return rc;
    pg_col_sid(r, 0, 0, out->account_sid);
    out->log_enabled = (int)pg_col_i64(r, 0, 1);
    out->new_message_enabled = (int)pg_col_i64(r, 0, 2);
    out->new_message_template = pg_col_dup(r, 0, 3, a);
    out->new_message_sound = pg_col_dup(r, 0, 4, a);
    out->new_message_badge_count_enabled = (int)pg_col_i64(r, 0, 5);
    out->new_message_with_media_enabled = (int)pg_col_i64(r, 0, 6);
    out->new_message_with_media_template = pg_col_dup(r, 0, 7, a);
    out->added_enabled = (int)pg_col_i64(r, 0, 8);
    out->added_template = pg_col_dup(r, 0, 9, a);
    out->added_sound = pg_col_dup(r, 0, 10, a);
    out->removed_enabled = (int)pg_col_i64(r, 0, 11);
    out->removed_template = pg_col_dup(r, 0, 12, a);
    out->removed_sound = pg_col_dup(r, 0, 13, a);
    PQclear(r);
    return ST_OK;
}

static int notifications_put(struct store_conn *sc, const struct notifications *n)
{
    struct pg_params p = {0};
    pp_text(&p, n->service_sid);
    pp_text(&p, n->account_sid);
    pp_int(&p, n->log_enabled);
    pp_int(&p, n->new_message_enabled);
    pp_text(&p, n->new_message_template);
    pp_text(&p, n->new_message_sound);
    pp_int(&p, n->new_message_badge_count_enabled);
    pp_int(&p, n->new_message_with_media_enabled);
    pp_text(&p, n->new_message_with_media_template);
    pp_int(&p, n->added_enabled);
    pp_text(&p, n->added_template);
    pp_text(&p, n->added_sound);
    pp_int(&p, n->removed_enabled);
    pp_text(&p, n->removed_template);
    pp_text(&p, n->removed_sound);
    return pg_cmd(CONN(sc), PGT_ACCOUNT, AQ_NOTIFICATIONS_PUT, &p, NULL);
}

const struct store_account_ops pg_account_ops = {
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

#else
typedef int pg_not_built; /* an empty file is not ISO C */
#endif /* NO_STORE_PG */
