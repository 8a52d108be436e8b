/* Conversations, once for both engines: a codec table whose list filters by state and creation date,
 * and one hand-written read by SID alone (a timer knows no service). */
#include <stddef.h>
#include <stdio.h>

#include "store/conversations.h"
#include "store/domain.h"
#include "store/rows.h"

#define CV(m) offsetof(struct conversation, m)

static const struct column conversation_cols[] = {
    {"id", CK_ID, CV(id), 0},
    {"sid", CK_SID, CV(sid), C_KEY},
    {"account_sid", CK_SID, CV(account_sid), C_IMMUTABLE},
    {"service_sid", CK_SID, CV(service_sid), C_PARENT},
    {"messaging_service_sid", CK_SID, CV(messaging_service_sid), 0},
    {"friendly_name", CK_TEXT, CV(friendly_name), 0},
    {"unique_name", CK_TEXT, CV(unique_name), C_ALT_KEY | C_INDEXED},
    {"attributes", CK_TEXT, CV(attributes), 0},
    {"state", CK_TEXT, CV(state), 0},
    {"timer_inactive", CK_I64, CV(timer_inactive), 0},
    {"timer_closed", CK_I64, CV(timer_closed), 0},
    {"date_inactive", CK_I64, CV(date_inactive), 0},
    {"date_closed", CK_I64, CV(date_closed), 0},
    {"last_activity", CK_I64, CV(last_activity), 0},
    {"email_address", CK_TEXT, CV(email_address), 0},
    {"email_name", CK_TEXT, CV(email_name), 0},
    {"date_created", CK_I64, CV(date_created), 0},
    {"date_updated", CK_I64, CV(date_updated), 0},
};

/* ?4 state or NULL; ?5 / ?6 date_created bounds in ms or NULL. An empty messaging_service_sid is
 * stored as "" by the codec; the API renders it as null. */
struct store_table store_conversations_table = {
    .name = "conversations",
    .cols = conversation_cols,
    .n = sizeof(conversation_cols) / sizeof(conversation_cols[0]),
    .lock = SQL_LOCK_UPDATE,
    .list_filter = " AND (CAST(?4 AS text) IS NULL OR state = CAST(?4 AS text))"
                   " AND (CAST(?5 AS bigint) IS NULL OR date_created >= CAST(?5 AS bigint))"
                   " AND (CAST(?6 AS bigint) IS NULL OR date_created <= CAST(?6 AS bigint))",
};

/* The codec's column order, for the read by SID alone. */
static char by_sid_text[ROWS_SQL_MAX];
static struct store_sql get_by_sid = {.lock = SQL_LOCK_UPDATE};

int store_conversations_sql_add(void)
{
    int rc = rows_table_add(&store_conversations_table);
    if (rc != ST_OK) return rc;
    size_t n = (size_t)snprintf(by_sid_text, sizeof(by_sid_text), "SELECT ");
    for (int i = 0; i < store_conversations_table.n && n < sizeof(by_sid_text); i++)
        n += (size_t)snprintf(by_sid_text + n, sizeof(by_sid_text) - n, "%s%s", i ? ", " : "",
                              conversation_cols[i].name);
    if (n < sizeof(by_sid_text))
        n += (size_t)snprintf(by_sid_text + n, sizeof(by_sid_text) - n, " FROM conversations WHERE sid = ?1");
    if (n >= sizeof(by_sid_text)) return ST_ERROR;
    get_by_sid.sql = by_sid_text;
    return store_sql_add(&get_by_sid);
}

int store_conversation_get(struct store_conn *c, const char *service_sid, const char *key, int by_sid,
                           struct arena *a, struct conversation *out)
{
    return rows_get(c, &store_conversations_table, !by_sid, service_sid, key, a, out);
}

int store_conversation_sid(struct store_conn *c, const char *service_sid, const char *key, int by_sid,
                           char out[SID_LEN + 1])
{
    return rows_key(c, &store_conversations_table, !by_sid, service_sid, key, out);
}

int store_conversation_get_by_sid(struct store_conn *c, const char *sid, struct arena *a,
                                  struct conversation *out)
{
    return rows_fetch(c, &get_by_sid, store_conversations_table.cols, store_conversations_table.n, a, out,
                      "t", sid);
}

int store_conversation_insert(struct store_conn *c, struct conversation *cv)
{
    return rows_insert(c, &store_conversations_table, cv);
}

int store_conversation_update(struct store_conn *c, const struct conversation *cv,
                              const struct conversation *before)
{
    return rows_update(c, &store_conversations_table, cv, before);
}

int store_conversation_delete(struct store_conn *c, const char *service_sid, const char *sid)
{
    return rows_delete(c, &store_conversations_table, service_sid, sid);
}

ROWS_LIST_ADAPTER(conversation_row, conversation_row_fn, struct conversation)

int store_conversation_list(struct store_conn *c, const char *service_sid,
                            const struct conversation_filter *f, const struct page_req *p,
                            conversation_row_fn fn, void *ctx)
{
    char start[24], end[24];
    const char *extra[3] = {NULL, NULL, NULL};
    if (f) {
        extra[0] = f->state;
        if (f->has_start) {
            snprintf(start, sizeof(start), "%lld", f->start);
            extra[1] = start;
        }
        if (f->has_end) {
            snprintf(end, sizeof(end), "%lld", f->end);
            extra[2] = end;
        }
    }
    struct conversation cv;
    struct conversation_row_ctx l = {fn, ctx};
    return rows_list_filtered(c, &store_conversations_table, service_sid, p, extra, 3, &cv, conversation_row,
                              &l);
}
