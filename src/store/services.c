/* Services and their configuration, once for both engines. A service is read through the codec (a
 * service marked deleted is not there: it waits for the reaper); its configuration is one row per
 * service, written with it. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "store/account_store.h"
#include "store/domain.h"
#include "store/rows.h"

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
