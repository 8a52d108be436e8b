/* Push credentials, once for both engines: a codec table whose secrets are sealed and write-only, and
 * whose update keeps what was not given. */
#include <stddef.h>
#include <string.h>

#include "store/account_store.h"
#include "store/domain.h"
#include "store/rows.h"

#define SECRET (C_WRITE_ONLY | C_SEALED | C_KEEP_NULL)

static const struct column credential_cols[] = {
    {"id", CK_ID, offsetof(struct credential, id), 0},
    {"sid", CK_SID, offsetof(struct credential, sid), C_KEY},
    {"account_sid", CK_SID, offsetof(struct credential, account_sid), C_PARENT},
    {"friendly_name", CK_TEXT, offsetof(struct credential, friendly_name), C_KEEP_NULL},
    {"type", CK_TEXT, offsetof(struct credential, type), C_KEEP_NULL},
    {"sandbox", CK_FLAG, offsetof(struct credential, sandbox), C_KEEP_NULL},
    {"certificate", CK_TEXT, offsetof(struct credential, certificate), SECRET},
    {"private_key", CK_TEXT, offsetof(struct credential, private_key), SECRET},
    {"api_key", CK_TEXT, offsetof(struct credential, api_key), SECRET},
    {"secret", CK_TEXT, offsetof(struct credential, secret), SECRET},
    {"date_created", CK_I64, offsetof(struct credential, date_created), C_IMMUTABLE},
    {"date_updated", CK_I64, offsetof(struct credential, date_updated), 0},
};

/* read, changed and written back by their own updates */
struct store_table store_credentials_table = {
    .name = "credentials",
    .cols = credential_cols,
    .n = sizeof(credential_cols) / sizeof(credential_cols[0]),
    .lock = SQL_LOCK_UPDATE,
};

int store_credentials_sql_add(void)
{
    return rows_table_add(&store_credentials_table);
}

int store_credential_get(struct store_conn *c, const char *account_sid, const char *sid, struct arena *a,
                         struct credential *out)
{
    memset(out, 0, sizeof(*out)); /* the secrets are never read back */
    return rows_get(c, &store_credentials_table, 0, account_sid, sid, a, out);
}

int store_credential_insert(struct store_conn *c, struct credential *cr)
{
    return rows_insert(c, &store_credentials_table, cr);
}

int store_credential_update(struct store_conn *c, const struct credential *cr)
{
    return rows_update(c, &store_credentials_table, cr);
}

int store_credential_delete(struct store_conn *c, const char *account_sid, const char *sid)
{
    return rows_delete(c, &store_credentials_table, account_sid, sid);
}

ROWS_LIST_ADAPTER(credential_row, credential_row_fn, struct credential)

int store_credential_list(struct store_conn *c, const char *account_sid, const struct page_req *p,
                          credential_row_fn fn, void *ctx)
{
    struct credential cr;
    memset(&cr, 0, sizeof(cr));
    struct credential_row_ctx l = {fn, ctx};
    return rows_list(c, &store_credentials_table, account_sid, p, &cr, credential_row, &l);
}
