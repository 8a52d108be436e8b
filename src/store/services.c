/* Services and their configuration, once for both engines. A service is read through the codec (a
 * service marked deleted is not there: it waits for the reaper); its configuration is one row per
 * service, written with it. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "store/account_store.h"
#include "store/domain.h"
#include "store/rows.h"
#include "util/timefmt.h"

/* struct service has no keyset position; the list hands it over beside the row */
struct service_row {
    long long id;
    struct service s;
};

static const struct column service_cols[] = {
    {"id", CK_ID, offsetof(struct service_row, id), 0},
    {"sid", CK_SID, offsetof(struct service_row, s.sid), C_KEY},
    {"account_sid", CK_SID, offsetof(struct service_row, s.account_sid), C_PARENT},
    {"friendly_name", CK_TEXT, offsetof(struct service_row, s.friendly_name), 0},
    {"date_created", CK_I64, offsetof(struct service_row, s.date_created), C_IMMUTABLE},
    {"date_updated", CK_I64, offsetof(struct service_row, s.date_updated), 0},
};

/* other writes only read a service as the parent they write into */
struct store_table store_services_table = {
    .name = "services",
    .cols = service_cols,
    .n = sizeof(service_cols) / sizeof(service_cols[0]),
    .lock = SQL_LOCK_SHARE,
    .read_filter = " AND deleted_at IS NULL",
};

static struct store_sql config_insert = {
    .sql = "INSERT INTO service_configs(service_sid, conversation_creator_role_sid, conversation_role_sid,"
           " chat_service_role_sid, reachability_enabled) VALUES (?1, ?2, ?3, ?4, ?5)",
};
static struct store_sql config_get = {
    .sql = "SELECT conversation_creator_role_sid, conversation_role_sid, chat_service_role_sid,"
           " reachability_enabled FROM service_configs WHERE service_sid = ?1",
    .lock = SQL_LOCK_SHARE,
};
static struct store_sql config_update = {
    .sql = "UPDATE service_configs SET conversation_creator_role_sid = ?2, conversation_role_sid = ?3,"
           " chat_service_role_sid = ?4, reachability_enabled = ?5 WHERE service_sid = ?1",
};

int store_service_get(struct store_conn *c, const char *account_sid, const char *sid, struct arena *a,
                      struct service *out)
{
    struct service_row row;
    int rc = rows_get(c, &store_services_table, 0, account_sid, sid, a, &row);
    if (rc == ST_OK) *out = row.s;
    return rc;
}

/* config_get's row */
static const struct column config_cols[] = {
    ROWS_COL(struct service_config, conversation_creator_role_sid, CK_SID, 0),
    ROWS_COL(struct service_config, conversation_role_sid, CK_SID, 0),
    ROWS_COL(struct service_config, chat_service_role_sid, CK_SID, 0),
    ROWS_COL(struct service_config, reachability_enabled, CK_INT, 0),
};

int store_service_insert(struct store_conn *c, const struct service *sv, const struct service_config *cfg)
{
    struct service_row row = {0, *sv};
    int rc = rows_insert(c, &store_services_table, &row);
    if (rc != ST_OK) return rc;
    /* the configuration is the new service's; its reachability as given (the update writes 0 or 1) */
    return rows_exec(c, &config_insert, NULL, "tttti", sv->sid, cfg->conversation_creator_role_sid,
                     cfg->conversation_role_sid, cfg->chat_service_role_sid,
                     (long long)cfg->reachability_enabled);
}

int store_service_config_get(struct store_conn *c, const char *service_sid, struct service_config *out)
{
    snprintf(out->service_sid, sizeof(out->service_sid), "%s", service_sid);
    return rows_fetch(c, &config_get, config_cols, ROWS_N(config_cols), NULL, out, "t", service_sid);
}

int store_service_config_update(struct store_conn *c, const struct service_config *cfg)
{
    return rows_exec_one(c, &config_update, "tttti", cfg->service_sid, cfg->conversation_creator_role_sid,
                         cfg->conversation_role_sid, cfg->chat_service_role_sid,
                         cfg->reachability_enabled ? 1LL : 0LL);
}

struct service_list_ctx {
    service_row_fn fn;
    void *ctx;
};

static int service_row(void *ctx, const void *row)
{
    const struct service_list_ctx *l = ctx;
    const struct service_row *r = row;
    return l->fn(l->ctx, r->id, &r->s);
}

int store_service_list(struct store_conn *c, const char *account_sid, const struct page_req *p,
                       service_row_fn fn, void *ctx)
{
    struct service_row r;
    struct service_list_ctx l = {fn, ctx};
    return rows_list(c, &store_services_table, account_sid, p, &r, service_row, &l);
}

/* ---- deletion: marked at once, reaped later in bounded batches ---- */

static struct store_sql service_mark = {
    .sql = "UPDATE services SET deleted_at = ?3 WHERE sid = ?1 AND account_sid = ?2 AND deleted_at IS NULL",
};
/* PostgreSQL: SKIP LOCKED, so that servers reaping at once take different services */
static struct store_sql reap_next = {
    .sql = "SELECT sid FROM services WHERE deleted_at IS NOT NULL ORDER BY deleted_at LIMIT 1",
    .sql_pg = "SELECT sid FROM services WHERE deleted_at IS NOT NULL ORDER BY deleted_at LIMIT 1"
              " FOR UPDATE SKIP LOCKED",
};
/* conversations first (each takes its participants and messages along by ON DELETE CASCADE), bindings
 * and users (users' role references are immediate constraints), then the roles the configuration does
 * not name; the service row takes the few rows left by ON DELETE CASCADE.
 * ?1 the service, ?2 the rows left in the budget. */
static struct store_sql reap_steps[] = {
    {.sql = "DELETE FROM conversations WHERE id IN (SELECT id FROM conversations WHERE service_sid = ?1"
            " LIMIT ?2)"},
    {.sql = "DELETE FROM bindings WHERE id IN (SELECT id FROM bindings WHERE service_sid = ?1 LIMIT ?2)"},
    {.sql = "DELETE FROM users WHERE id IN (SELECT id FROM users WHERE service_sid = ?1 LIMIT ?2)"},
    {.sql = "DELETE FROM roles WHERE id IN (SELECT r.id FROM roles r"
            " JOIN service_configs c ON c.service_sid = r.service_sid WHERE r.service_sid = ?1"
            " AND r.sid NOT IN (c.conversation_creator_role_sid, c.conversation_role_sid,"
            " c.chat_service_role_sid) LIMIT ?2)"},
};
static struct store_sql reap_service = {.sql = "DELETE FROM services WHERE sid = ?1"};

int store_service_delete(struct store_conn *c, const char *account_sid, const char *sid)
{
    return rows_exec_one(c, &service_mark, "tti", sid, account_sid, time_now_ms());
}

int store_service_reap(struct store_conn *c, int max_rows, int *more)
{
    static const struct column sid_col = {"sid", CK_SID, 0, 0};
    char sid[SID_LEN + 1];
    *more = 0;
    int rc = rows_fetch(c, &reap_next, &sid_col, 1, NULL, sid, "");
    if (rc != ST_OK) return rc == ST_NOT_FOUND ? ST_OK : rc;
    *more = 1;
    long long budget = max_rows;
    for (size_t i = 0; i < sizeof(reap_steps) / sizeof(reap_steps[0]); i++) {
        long long n = 0;
        if ((rc = rows_exec(c, &reap_steps[i], &n, "ti", sid, budget)) != ST_OK) return rc;
        if ((budget -= n) <= 0) return ST_OK;
    }
    return rows_exec(c, &reap_service, NULL, "t", sid);
}

/* ---- notifications: one row per service ---- */

#define NOTIFICATION_COLS                                                                                    \
    "service_sid, account_sid, log_enabled, new_message_enabled, new_message_template, new_message_sound,"   \
    " new_message_badge_count_enabled, new_message_with_media_enabled, new_message_with_media_template,"     \
    " added_enabled, added_template, added_sound, removed_enabled, removed_template, removed_sound"
/* the notifications' update reads, changes and writes back the row */
static struct store_sql notifications_get_q = {
    .sql = "SELECT " NOTIFICATION_COLS " FROM service_notifications WHERE service_sid = ?1",
    .lock = SQL_LOCK_UPDATE,
};
static struct store_sql notifications_put_q = {
    .sql = "INSERT INTO service_notifications(" NOTIFICATION_COLS ")"
           " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
           " ON CONFLICT (service_sid) DO UPDATE SET account_sid = excluded.account_sid,"
           " log_enabled = excluded.log_enabled, new_message_enabled = excluded.new_message_enabled,"
           " new_message_template = excluded.new_message_template,"
           " new_message_sound = excluded.new_message_sound,"
           " new_message_badge_count_enabled = excluded.new_message_badge_count_enabled,"
           " new_message_with_media_enabled = excluded.new_message_with_media_enabled,"
           " new_message_with_media_template = excluded.new_message_with_media_template,"
           " added_enabled = excluded.added_enabled, added_template = excluded.added_template,"
           " added_sound = excluded.added_sound, removed_enabled = excluded.removed_enabled,"
           " removed_template = excluded.removed_template, removed_sound = excluded.removed_sound",
};

#define NCOL(field, kind) ROWS_COL(struct notifications, field, kind, 0)
/* NOTIFICATION_COLS */
static const struct column notification_cols[] = {
    NCOL(service_sid, CK_SID),
    NCOL(account_sid, CK_SID),
    NCOL(log_enabled, CK_INT),
    NCOL(new_message_enabled, CK_INT),
    NCOL(new_message_template, CK_TEXT),
    NCOL(new_message_sound, CK_TEXT),
    NCOL(new_message_badge_count_enabled, CK_INT),
    NCOL(new_message_with_media_enabled, CK_INT),
    NCOL(new_message_with_media_template, CK_TEXT),
    NCOL(added_enabled, CK_INT),
    NCOL(added_template, CK_TEXT),
    NCOL(added_sound, CK_TEXT),
    NCOL(removed_enabled, CK_INT),
    NCOL(removed_template, CK_TEXT),
    NCOL(removed_sound, CK_TEXT),
};

int store_notifications_get(struct store_conn *c, const char *service_sid, struct arena *a,
                            struct notifications *out)
{
    memset(out, 0, sizeof(*out));
    memcpy(out->service_sid, service_sid, SID_LEN);
    return rows_fetch(c, &notifications_get_q, notification_cols, ROWS_N(notification_cols), a, out, "t",
                      service_sid);
}

int store_notifications_put(struct store_conn *c, const struct notifications *n)
{
    return rows_write(c, &notifications_put_q, notification_cols, ROWS_N(notification_cols), n, 0);
}

int store_services_sql_add(void)
{
    struct store_sql *const hand[] = {
        &config_insert, &config_get,    &config_update,       &service_mark,
        &reap_next,     &reap_steps[0], &reap_steps[1],       &reap_steps[2],
        &reap_steps[3], &reap_service,  &notifications_get_q, &notifications_put_q,
    };
    int rc = rows_table_add(&store_services_table);
    return rc == ST_OK ? rows_sql_add_all(hand, ROWS_N(hand)) : rc;
}
