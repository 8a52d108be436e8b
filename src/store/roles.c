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
    struct store_sql *const hand[] = {&role_exists, &role_in_use};
    int rc = rows_table_add(&store_roles_table);
    return rc == ST_OK ? rows_sql_add_all(hand, ROWS_N(hand)) : rc;
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
    long long in_use = 0;
    int rc = rows_int(c, &role_exists, &in_use, "tt", service_sid, sid);
    if (rc != ST_OK) return rc;
    rc = rows_int(c, &role_in_use, &in_use, "t", sid);
    if (rc != ST_OK) return rc == ST_NOT_FOUND ? ST_ERROR : rc; /* its answer always has a row */
    return in_use ? ST_IN_USE : rows_delete(c, &store_roles_table, service_sid, sid);
}
