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

int store_services_sql_add(void)
{
    int rc = rows_table_add(&store_services_table);
    struct store_sql *const hand[] = {&config_insert, &config_get, &config_update};
    for (size_t i = 0; i < sizeof(hand) / sizeof(hand[0]) && rc == ST_OK; i++)
        rc = store_sql_add(hand[i]);
    return rc;
}

int store_service_get(struct store_conn *c, const char *account_sid, const char *sid, struct arena *a,
                      struct service *out)
{
    struct service_row row;
    int rc = rows_get(c, &store_services_table, 0, account_sid, sid, a, &row);
    if (rc == ST_OK) *out = row.s;
    return rc;
}

/* Binds cfg's roles and reachability as ?1 (the service) to ?5. */
static void bind_config(const struct store_engine *e, struct store_stmt *s, const struct service_config *cfg)
{
    e->bind_text(s, 1, cfg->service_sid);
    e->bind_text(s, 2, cfg->conversation_creator_role_sid);
    e->bind_text(s, 3, cfg->conversation_role_sid);
    e->bind_text(s, 4, cfg->chat_service_role_sid);
    e->bind_int(s, 5, cfg->reachability_enabled ? 1 : 0);
}

int store_service_insert(struct store_conn *c, const struct service *sv, const struct service_config *cfg)
{
    struct service_row row = {0, *sv};
    int rc = rows_insert(c, &store_services_table, &row);
    if (rc != ST_OK) return rc;
    const struct store_engine *e = c->ops->engine;
    struct store_stmt *s = e->stmt(c, &config_insert);
    if (!s) return ST_ERROR;
    struct service_config own = *cfg;
    memcpy(own.service_sid, sv->sid, sizeof(own.service_sid)); /* the configuration is the new service's */
    bind_config(e, s, &own);
    e->bind_int(s, 5, cfg->reachability_enabled); /* as given (the update writes 0 or 1) */
    return store_stmt_exec(e, s);
}

int store_service_config_get(struct store_conn *c, const char *service_sid, struct service_config *out)
{
    const struct store_engine *e = c->ops->engine;
    struct store_stmt *s = e->stmt(c, &config_get);
    if (!s) return ST_ERROR;
    e->bind_text(s, 1, service_sid);
    snprintf(out->service_sid, sizeof(out->service_sid), "%s", service_sid);
    int rc = e->step(s);
    if (rc == 1) {
        const char *v[3] = {e->col_text(s, 0), e->col_text(s, 1), e->col_text(s, 2)};
        char *dst[3] = {out->conversation_creator_role_sid, out->conversation_role_sid,
                        out->chat_service_role_sid};
        for (int i = 0; i < 3; i++)
            snprintf(dst[i], SID_LEN + 1, "%s", v[i] ? v[i] : "");
        out->reachability_enabled = (int)e->col_int(s, 3);
    }
    e->reset(s);
    return rc == 1 ? ST_OK : rc == 0 ? ST_NOT_FOUND : rc;
}

int store_service_config_update(struct store_conn *c, const struct service_config *cfg)
{
    const struct store_engine *e = c->ops->engine;
    struct store_stmt *s = e->stmt(c, &config_update);
    if (!s) return ST_ERROR;
    bind_config(e, s, cfg);
    int rc = e->step(s);
    long long n = rc >= 0 ? e->changes(s) : 0;
    e->reset(s);
    return rc < 0 ? rc : n == 0 ? ST_NOT_FOUND : ST_OK;
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
    const struct store_engine *e = c->ops->engine;
    *more = 0;
    struct store_stmt *s = e->stmt(c, &reap_next);
    if (!s) return ST_ERROR;
    char sid[SID_LEN + 1];
    int rc = e->step(s);
    if (rc == 1) snprintf(sid, sizeof(sid), "%s", e->col_text(s, 0));
    e->reset(s);
    if (rc != 1) return rc;
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
#define NOTIFICATION_N ((int)(sizeof(notification_cols) / sizeof(notification_cols[0])))

int store_notifications_get(struct store_conn *c, const char *service_sid, struct arena *a,
                            struct notifications *out)
{
    memset(out, 0, sizeof(*out));
    memcpy(out->service_sid, service_sid, SID_LEN);
    return rows_fetch(c, &notifications_get_q, notification_cols, NOTIFICATION_N, a, out, "t", service_sid);
}

int store_notifications_put(struct store_conn *c, const struct notifications *n)
{
    const struct store_engine *e = c->ops->engine;
    struct store_stmt *s = e->stmt(c, &notifications_put_q);
    if (!s) return ST_ERROR;
    rows_bind_cols(e, s, notification_cols, NOTIFICATION_N, n);
    return store_stmt_exec(e, s);
}

int store_service_admin_sql_add(void)
{
    struct store_sql *const all[] = {&service_mark,  &reap_next,           &reap_steps[0],
                                     &reap_steps[1], &reap_steps[2],       &reap_steps[3],
                                     &reap_service,  &notifications_get_q, &notifications_put_q};
    return rows_sql_add_all(all, sizeof(all) / sizeof(all[0]));
}
