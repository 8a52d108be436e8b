/* Users, once for both engines: a plain table of the row codec. */
#include <stddef.h>

#include "store/account_store.h"
#include "store/domain.h"
#include "store/rows.h"
#include "store/store.h"

static const struct column user_cols[] = {
    {"id", CK_ID, offsetof(struct user, id), 0},
    {"sid", CK_SID, offsetof(struct user, sid), C_KEY},
    {"account_sid", CK_SID, offsetof(struct user, account_sid), C_IMMUTABLE},
    {"service_sid", CK_SID, offsetof(struct user, service_sid), C_PARENT},
    {"role_sid", CK_SID, offsetof(struct user, role_sid), C_INDEXED},
    {"identity", CK_TEXT, offsetof(struct user, identity), C_ALT_KEY | C_IMMUTABLE},
    {"friendly_name", CK_TEXT, offsetof(struct user, friendly_name), 0},
    {"attributes", CK_TEXT, offsetof(struct user, attributes), 0},
    {"date_created", CK_I64, offsetof(struct user, date_created), C_IMMUTABLE},
    {"date_updated", CK_I64, offsetof(struct user, date_updated), 0},
};

/* users are read, changed and written back by their own updates: the writer's read locks the row */
struct store_table store_users_table = {
    .name = "users",
    .cols = user_cols,
    .n = sizeof(user_cols) / sizeof(user_cols[0]),
    .lock = SQL_LOCK_UPDATE,
};

int store_user_get(struct store_conn *c, const char *service_sid, const char *key, int by_sid,
                   struct arena *a, struct user *out)
{
    return rows_get(c, &store_users_table, !by_sid, service_sid, key, a, out);
}
