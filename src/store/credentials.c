/* Push credentials, once for both engines: a codec table whose secrets are sealed and write-only, and
 * whose update keeps what was not given. */
#include <stddef.h>

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
