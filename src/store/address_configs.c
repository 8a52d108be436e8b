/* Address configurations, once for both engines: a codec table whose alternate key is the address and
 * whose list filters by type, the one parameter whose type PostgreSQL cannot infer from `?4 IS NULL`. */
#include <stddef.h>
#include <string.h>

#include "store/address_configs.h"
#include "store/domain.h"
#include "store/rows.h"

#define AC(m) offsetof(struct address_config, m)

static const struct column address_config_cols[] = {
    {"id", CK_ID, AC(id), 0},
    {"sid", CK_SID, AC(sid), C_KEY},
    {"account_sid", CK_SID, AC(account_sid), C_PARENT},
    {"type", CK_TEXT, AC(type), C_IMMUTABLE},
    {"address", CK_TEXT, AC(address), C_ALT_KEY | C_IMMUTABLE},
    {"friendly_name", CK_TEXT, AC(friendly_name), 0},
    {"address_country", CK_TEXT, AC(address_country), C_IMMUTABLE},
    {"auto_enabled", CK_FLAG, AC(auto_enabled), 0},
    {"auto_type", CK_TEXT, AC(auto_type), 0},
    {"service_sid", CK_TEXT, AC(service_sid), C_INDEXED},
    {"webhook_url", CK_TEXT, AC(webhook_url), 0},
    {"webhook_method", CK_TEXT, AC(webhook_method), 0},
    {"webhook_filters", CK_TEXT, AC(webhook_filters), 0},
    {"studio_flow_sid", CK_TEXT, AC(studio_flow_sid), 0},
    {"studio_retry_count", CK_INT, AC(studio_retry_count), 0},
    {"date_created", CK_I64, AC(date_created), C_IMMUTABLE},
    {"date_updated", CK_I64, AC(date_updated), 0},
};

/* read, changed and written back by their own updates; ?4: a type, or NULL for all */
struct store_table store_address_configs_table = {
    .name = "address_configs",
    .cols = address_config_cols,
    .n = sizeof(address_config_cols) / sizeof(address_config_cols[0]),
    .lock = SQL_LOCK_UPDATE,
    .list_filter = " AND (?4 IS NULL OR type = ?4)",
    .list_filter_pg = " AND (?4::text IS NULL OR type = ?4::text)",
};

int store_address_config_get(struct store_conn *c, const char *account_sid, const char *key, int by_sid,
                             struct arena *a, struct address_config *out)
{
    return rows_get(c, &store_address_configs_table, !by_sid, account_sid, key, a, out);
}

int store_address_config_find(struct store_conn *c, const char *account_sid, const char *address,
                              const char *type, struct arena *a, struct address_config *out)
{
    int rc = rows_get(c, &store_address_configs_table, 1, account_sid, address, a, out);
    if (rc == ST_OK && (!type || strcmp(out->type, type) != 0)) return ST_NOT_FOUND;
    return rc;
}

int store_address_config_insert(struct store_conn *c, struct address_config *ac)
{
    return rows_insert(c, &store_address_configs_table, ac);
}

int store_address_config_update(struct store_conn *c, const struct address_config *ac,
                                const struct address_config *before)
{
    return rows_update(c, &store_address_configs_table, ac, before);
}

int store_address_config_delete(struct store_conn *c, const char *account_sid, const char *sid)
{
    return rows_delete(c, &store_address_configs_table, account_sid, sid);
}

ROWS_LIST_ADAPTER(one_row, address_config_row_fn, struct address_config)

int store_address_config_list(struct store_conn *c, const char *account_sid, const char *type,
                              const struct page_req *p, address_config_row_fn fn, void *ctx)
{
    struct address_config ac;
    memset(&ac, 0, sizeof(ac));
    struct one_row_ctx l = {fn, ctx};
    return rows_list_filtered(c, &store_address_configs_table, account_sid, p, &type, 1, &ac, one_row, &l);
}
