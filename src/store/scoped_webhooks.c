/* Conversation-scoped webhooks, once for both engines: a codec table scoped by the conversation, and one
 * hand-written count for the limit of five. */
#include <stddef.h>

#include "store/domain.h"
#include "store/rows.h"
#include "store/scoped_webhooks.h"

#define SW(m) offsetof(struct scoped_webhook, m)

static const struct column scoped_webhook_cols[] = {
    {"id", CK_ID, SW(id), 0},
    {"sid", CK_SID, SW(sid), C_KEY},
    {"account_sid", CK_SID, SW(account_sid), C_IMMUTABLE},
    {"service_sid", CK_SID, SW(service_sid), C_IMMUTABLE},
    {"conversation_sid", CK_SID, SW(conversation_sid), C_PARENT},
    {"target", CK_TEXT, SW(target), C_IMMUTABLE},
    {"url", CK_TEXT, SW(url), 0},
    {"method", CK_TEXT, SW(method), 0},
    {"filters", CK_TEXT, SW(filters), 0},
    {"triggers", CK_TEXT, SW(triggers), 0},
    {"flow_sid", CK_TEXT, SW(flow_sid), 0},
    {"replay_after", CK_I64, SW(replay_after), C_IMMUTABLE},
    {"date_created", CK_I64, SW(date_created), 0},
    {"date_updated", CK_I64, SW(date_updated), 0},
};

/* An update reads the row, merges the request and writes it back: locked on PostgreSQL. */
static struct store_table scoped_webhooks_table = {
    .name = "conversation_webhooks",
    .cols = scoped_webhook_cols,
    .n = sizeof(scoped_webhook_cols) / sizeof(scoped_webhook_cols[0]),
    .lock = SQL_LOCK_UPDATE,
};

static struct store_sql count_sql = {
    .sql = "SELECT count(*) FROM conversation_webhooks WHERE conversation_sid = ?1",
};

int store_scoped_webhooks_sql_add(void)
{
    int rc = rows_table_add(&scoped_webhooks_table);
    return rc != ST_OK ? rc : store_sql_add(&count_sql);
}

int store_scoped_webhook_get(struct store_conn *c, const char *conversation_sid, const char *sid,
                             struct arena *a, struct scoped_webhook *out)
{
    return rows_get(c, &scoped_webhooks_table, 0, conversation_sid, sid, a, out);
}

int store_scoped_webhook_insert(struct store_conn *c, struct scoped_webhook *w)
{
    return rows_insert(c, &scoped_webhooks_table, w);
}

int store_scoped_webhook_update(struct store_conn *c, const struct scoped_webhook *w)
{
    return rows_update(c, &scoped_webhooks_table, w, NULL);
}

int store_scoped_webhook_delete(struct store_conn *c, const char *conversation_sid, const char *sid)
{
    return rows_delete(c, &scoped_webhooks_table, conversation_sid, sid);
}

ROWS_LIST_ADAPTER(list_row, scoped_webhook_row_fn, struct scoped_webhook)

int store_scoped_webhook_list(struct store_conn *c, const char *conversation_sid, const struct page_req *p,
                              scoped_webhook_row_fn fn, void *ctx)
{
    struct scoped_webhook w;
    struct list_row_ctx l = {fn, ctx};
    return rows_list(c, &scoped_webhooks_table, conversation_sid, p, &w, list_row, &l);
}

int store_scoped_webhook_count(struct store_conn *c, const char *conversation_sid, long long *n)
{
    int rc = rows_int(c, &count_sql, n, "t", conversation_sid);
    return rc == ST_NOT_FOUND ? ST_ERROR : rc; /* a count has a row */
}
