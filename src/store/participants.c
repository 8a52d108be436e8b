/* Participants, once for both engines: a table of the row codec, scoped by its conversation, with the
 * few hand-written statements the create rules need (counts for the limits, the binding pair's owner,
 * the auto-created user). */
#include <stddef.h>
#include <stdio.h>

#include "store/domain.h"
#include "store/participants.h"
#include "store/rows.h"

#define PC(m) offsetof(struct participant, m)

static const struct column participant_cols[] = {
    {"id", CK_ID, PC(id), 0},
    {"sid", CK_SID, PC(sid), C_KEY},
    {"account_sid", CK_SID, PC(account_sid), C_IMMUTABLE},
    {"service_sid", CK_SID, PC(service_sid), C_IMMUTABLE},
    {"conversation_sid", CK_SID, PC(conversation_sid), C_PARENT},
    {"identity", CK_TEXT, PC(identity), C_ALT_KEY},
    {"role_sid", CK_TEXT, PC(role_sid), 0},
    {"attributes", CK_TEXT, PC(attributes), 0},
    {"binding_type", CK_TEXT, PC(binding_type), 0},
    {"address", CK_TEXT, PC(address), C_IMMUTABLE},
    {"proxy_address", CK_TEXT, PC(proxy_address), 0},
    {"projected_address", CK_TEXT, PC(projected_address), 0},
    {"last_read_message_index", CK_I64N, PC(last_read_message_index), 0},
    {"last_read_timestamp", CK_TEXT, PC(last_read_timestamp), 0},
    {"notification_level", CK_TEXT, PC(notification_level), 0},
    {"date_created", CK_I64, PC(date_created), 0},
    {"date_updated", CK_I64, PC(date_updated), 0},
};

/* participants are read, changed and written back by their own updates: the writer's read locks the row */
struct store_table store_participants_table = {
    .name = "participants",
    .cols = participant_cols,
    .n = sizeof(participant_cols) / sizeof(participant_cols[0]),
    .lock = SQL_LOCK_UPDATE,
};

/* bounded by the limits themselves (at most 1000 rows per conversation) */
static struct store_sql counts_sql = {
    .sql = "SELECT count(*), count(*) - count(identity), count(projected_address) FROM participants"
           " WHERE conversation_sid = ?1",
};

/* a chat participant's user, created if missing (BEHAVIOUR-conversations §2.2 rule 2); another server may
 * create it at the same moment, so an existing one is kept, not a conflict */
static struct store_sql user_ensure_sql = {
    .sql = "INSERT INTO users(sid, account_sid, service_sid, role_sid, identity, friendly_name, attributes,"
           " date_created, date_updated) VALUES (?1, ?2, ?3, ?4, ?5, NULL, '{}', ?6, ?6)"
           " ON CONFLICT (service_sid, identity) DO NOTHING",
};

/* a closed conversation releases its pairs (BEHAVIOUR-conversations §2.2 rule 3) */
static struct store_sql pair_owner_sql = {
    .sql = "SELECT p.conversation_sid FROM participants p JOIN conversations v ON v.sid = p.conversation_sid"
           " WHERE p.account_sid = ?1 AND p.address = ?2 AND p.proxy_address = ?3 AND v.state <> 'closed'"
           " LIMIT 1",
};

int store_participants_sql_add(void)
{
    int rc = rows_table_add(&store_participants_table);
    struct store_sql *const hand[] = {&counts_sql, &pair_owner_sql, &user_ensure_sql};
    for (size_t i = 0; i < sizeof(hand) / sizeof(hand[0]) && rc == ST_OK; i++)
        rc = store_sql_add(hand[i]);
    return rc;
}

int store_participant_get(struct store_conn *c, const char *conversation_sid, const char *key,
                          int by_identity, struct arena *a, struct participant *out)
{
    return rows_get(c, &store_participants_table, by_identity, conversation_sid, key, a, out);
}

int store_participant_insert(struct store_conn *c, struct participant *p)
{
    return rows_insert(c, &store_participants_table, p);
}

int store_participant_update(struct store_conn *c, const struct participant *p)
{
    return rows_update(c, &store_participants_table, p);
}

int store_participant_delete(struct store_conn *c, const char *conversation_sid, const char *sid)
{
    return rows_delete(c, &store_participants_table, conversation_sid, sid);
}

struct participant_list_ctx {
    participant_row_fn fn;
    void *ctx;
};

static int participant_row(void *ctx, const void *row)
{
    const struct participant_list_ctx *l = ctx;
    return l->fn(l->ctx, row);
}

int store_participant_list(struct store_conn *c, const char *conversation_sid, const struct page_req *p,
                           participant_row_fn fn, void *ctx)
{
    struct participant scratch;
    struct participant_list_ctx l = {fn, ctx};
    return rows_list(c, &store_participants_table, conversation_sid, p, &scratch, participant_row, &l);
}

int store_participant_counts(struct store_conn *c, const char *conversation_sid, long long *total,
                             long long *non_chat, long long *projected)
{
    const struct store_engine *e = c->ops->engine;
    struct store_stmt *s = e->stmt(c, &counts_sql);
    if (!s) return ST_ERROR;
    e->bind_text(s, 1, conversation_sid);
    int rc = e->step(s);
    if (rc == 1) {
        *total = e->col_int(s, 0);
        *non_chat = e->col_int(s, 1);
        *projected = e->col_int(s, 2);
    }
    e->reset(s);
    return rc == 1 ? ST_OK : rc == 0 ? ST_ERROR : rc;
}

int store_participant_pair_owner(struct store_conn *c, const char *account_sid, const char *address,
                                 const char *proxy_address, char conversation_sid[SID_LEN + 1])
{
    const struct store_engine *e = c->ops->engine;
    struct store_stmt *s = e->stmt(c, &pair_owner_sql);
    if (!s) return ST_ERROR;
    e->bind_text(s, 1, account_sid);
    e->bind_text(s, 2, address);
    e->bind_text(s, 3, proxy_address);
    int rc = e->step(s);
    if (rc == 1) {
        const char *v = e->col_text(s, 0);
        snprintf(conversation_sid, SID_LEN + 1, "%s", v ? v : "");
    }
    e->reset(s);
    return rc == 1 ? ST_OK : rc == 0 ? ST_NOT_FOUND : rc;
}

int store_participant_user_ensure(struct store_conn *c, const struct user *u)
{
    const struct store_engine *e = c->ops->engine;
    struct store_stmt *s = e->stmt(c, &user_ensure_sql);
    if (!s) return ST_ERROR;
    e->bind_text(s, 1, u->sid);
    e->bind_text(s, 2, u->account_sid);
    e->bind_text(s, 3, u->service_sid);
    e->bind_text(s, 4, u->role_sid);
    e->bind_text(s, 5, u->identity);
    e->bind_int(s, 6, u->date_created);
    int rc = e->step(s);
    long long n = rc >= 0 ? e->changes(s) : 0;
    e->reset(s);
    return rc < 0 ? rc : n == 1 ? ST_OK : ST_CONFLICT;
}
