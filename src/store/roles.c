/* Roles, once for both engines: a codec table, and the delete that refuses a role still in use. */
#include <stddef.h>

#include "store/account_store.h"
#include "store/domain.h"
#include "store/rows.h"

static const struct column role_cols[] = {
    {"id", CK_ID, offsetof(struct role, id), 0},
    {"sid", CK_SID, offsetof(struct role, sid), C_KEY},
    {"account_sid", CK_SID, offsetof(struct role, account_sid), C_IMMUTABLE},
    {"service_sid", CK_SID, offsetof(struct role, service_sid), C_PARENT},
    {"friendly_name", CK_TEXT, offsetof(struct role, friendly_name), C_IMMUTABLE},
    {"type", CK_INT, offsetof(struct role, type), C_IMMUTABLE},
    {"permissions", CK_TEXT, offsetof(struct role, permissions), 0},
    {"date_created", CK_I64, offsetof(struct role, date_created), C_IMMUTABLE},
    {"date_updated", CK_I64, offsetof(struct role, date_updated), 0},
};

/* other writes only read a role as a reference: the writer's read shares the row */
struct store_table store_roles_table = {
    .name = "roles",
    .cols = role_cols,
    .n = sizeof(role_cols) / sizeof(role_cols[0]),
    .lock = SQL_LOCK_SHARE,
};

/* The delete locks the role first, so that a user or configuration about to refer to it waits. */
static struct store_sql role_exists = {
    .sql = "SELECT 1 FROM roles WHERE service_sid = ?1 AND sid = ?2",
    .lock = SQL_LOCK_DELETE,
};
static struct store_sql role_in_use = {
    .sql = "SELECT CAST(EXISTS(SELECT 1 FROM users WHERE role_sid = ?1)"
           " OR EXISTS(SELECT 1 FROM service_configs WHERE conversation_creator_role_sid = ?1"
           " OR conversation_role_sid = ?1 OR chat_service_role_sid = ?1) AS integer)",
};

int store_roles_sql_add(void)
{
    int rc = rows_table_add(&store_roles_table);
    if (rc == ST_OK) rc = store_sql_add(&role_exists);
    if (rc == ST_OK) rc = store_sql_add(&role_in_use);
    return rc;
}

int store_role_get(struct store_conn *c, const char *service_sid, const char *sid, struct arena *a,
                   struct role *out)
{
    return rows_get(c, &store_roles_table, 0, service_sid, sid, a, out);
}

int store_role_insert(struct store_conn *c, const struct role *r)
{
    struct role copy = *r; /* the interface's role is const: its id is not reported */
    return rows_insert(c, &store_roles_table, &copy);
}

/* Not found first (a role of another service must not look "in use"), then in use, then gone. The
 * foreign keys back the check up: users refer to roles immediately, the configuration at COMMIT. */
int store_role_delete(struct store_conn *c, const char *service_sid, const char *sid)
{
    const struct store_engine *e = c->ops->engine;
    struct store_stmt *s = e->stmt(c, &role_exists);
    if (!s) return ST_ERROR;
    e->bind_text(s, 1, service_sid);
    e->bind_text(s, 2, sid);
    int rc = e->step(s);
    e->reset(s);
    if (rc != 1) return rc == 0 ? ST_NOT_FOUND : rc;
    if (!(s = e->stmt(c, &role_in_use))) return ST_ERROR;
    e->bind_text(s, 1, sid);
    rc = e->step(s);
    int in_use = rc == 1 && e->col_int(s, 0) != 0;
    e->reset(s);
    if (rc != 1) return rc == 0 ? ST_ERROR : rc;
    if (in_use) return ST_IN_USE;
    return rows_delete(c, &store_roles_table, service_sid, sid);
}
