/* Push bindings, once for both engines: a codec table whose list filters by JSON arrays of types and
 * identities, the one place the engines spell differently (json_each vs jsonb). */
#include <stddef.h>

#include "store/account_store.h"
#include "store/domain.h"
#include "store/rows.h"

static const struct column binding_cols[] = {
    {"id", CK_ID, offsetof(struct binding, id), 0},
    {"sid", CK_SID, offsetof(struct binding, sid), C_KEY},
    {"account_sid", CK_SID, offsetof(struct binding, account_sid), C_IMMUTABLE},
    {"service_sid", CK_SID, offsetof(struct binding, service_sid), C_PARENT},
    {"credential_sid", CK_SID, offsetof(struct binding, credential_sid), 0},
    {"endpoint", CK_TEXT, offsetof(struct binding, endpoint), 0},
    {"identity", CK_TEXT, offsetof(struct binding, identity), C_INDEXED},
    {"binding_type", CK_TEXT, offsetof(struct binding, binding_type), 0},
    {"message_types", CK_TEXT, offsetof(struct binding, message_types), 0},
    {"date_created", CK_I64, offsetof(struct binding, date_created), C_IMMUTABLE},
    {"date_updated", CK_I64, offsetof(struct binding, date_updated), 0},
};

/* ?4: JSON array of binding types or NULL, ?5: JSON array of identities or NULL */
struct store_table store_bindings_table = {
    .name = "bindings",
    .cols = binding_cols,
    .n = sizeof(binding_cols) / sizeof(binding_cols[0]),
    .list_filter = " AND (?4 IS NULL OR binding_type IN (SELECT value FROM json_each(?4)))"
                   " AND (?5 IS NULL OR identity IN (SELECT value FROM json_each(?5)))",
    .list_filter_pg =
        " AND (?4::jsonb IS NULL OR binding_type IN (SELECT jsonb_array_elements_text(?4::jsonb)))"
        " AND (?5::jsonb IS NULL OR identity IN (SELECT jsonb_array_elements_text(?5::jsonb)))",
};
