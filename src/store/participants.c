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
    {"identity", CK_TEXT, PC(identity), C_ALT_KEY | C_INDEXED},
    {"role_sid", CK_TEXT, PC(role_sid), C_INDEXED},
    {"attributes", CK_TEXT, PC(attributes), 0},
    {"binding_type", CK_TEXT, PC(binding_type), 0},
    {"address", CK_TEXT, PC(address), C_IMMUTABLE},
    {"proxy_address", CK_TEXT, PC(proxy_address), C_INDEXED},
    {"projected_address", CK_TEXT, PC(projected_address), C_INDEXED},
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

/* Each from an index alone: the conversation's entries of participants_by_conversation (at most 1,000, the
 * limit), its NULL identities in UNIQUE(conversation_sid, identity) (at most 50), the first entry of
 * participants_by_projected. One scan reading every participant's row cost a create 0.5k instructions a
 * participant already there (callgrind: 102k of a create's 405k at 200 participants). */
static struct store_sql counts_sql = {
    .sql = "SELECT (SELECT count(*) FROM participants WHERE conversation_sid = ?1),"
           " (SELECT count(*) FROM participants WHERE conversation_sid = ?1 AND identity IS NULL),"
           " CASE WHEN EXISTS (SELECT 1 FROM participants WHERE conversation_sid = ?1"
           " AND projected_address IS NOT NULL) THEN 1 ELSE 0 END",
};

/* a chat participant's user, created if missing with the service's user role (BEHAVIOUR-conversations §2.2
 * rule 2); another server may create it at the same moment, so an existing one is kept, not a conflict.
 * One statement: a look-up of the user and of the service's configuration first cost a create 25k
 * instructions (callgrind). VALUES, not INSERT … SELECT: with the table's trigger SQLite copies a SELECT's
 * rows to a temporary table first (37k more). */
static struct store_sql user_ensure_sql = {
    .sql =
        "INSERT INTO users(sid, account_sid, service_sid, role_sid, identity, friendly_name, attributes,"
        " date_created, date_updated) VALUES (?1, ?2, ?3,"
        " (SELECT chat_service_role_sid FROM service_configs WHERE service_sid = ?3), ?4, NULL, '{}', ?5, ?5)"
        " ON CONFLICT (service_sid, identity) DO NOTHING",
};

/* the identity's conversations, read through the index up to the limit only */
static struct store_sql identity_count_sql = {
    .sql = "SELECT count(*) FROM (SELECT 1 FROM participants WHERE service_sid = ?1 AND identity = ?2 LIMIT "
           "?3) q",
};

/* a closed conversation releases its pairs (BEHAVIOUR-conversations §2.2 rule 3) */
static struct store_sql pair_owner_sql = {
    .sql = "SELECT p.conversation_sid FROM participants p JOIN conversations v ON v.sid = p.conversation_sid"
           " WHERE p.account_sid = ?1 AND p.address = ?2 AND p.proxy_address = ?3 AND v.state <> 'closed'"
           " LIMIT 1",
};

static int views_sql_add(void);

int store_participants_sql_add(void)
{
    int rc = rows_table_add(&store_participants_table);
    struct store_sql *const hand[] = {&counts_sql, &identity_count_sql, &pair_owner_sql, &user_ensure_sql};
    for (size_t i = 0; i < sizeof(hand) / sizeof(hand[0]) && rc == ST_OK; i++)
        rc = store_sql_add(hand[i]);
    return rc == ST_OK ? views_sql_add() : rc;
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

int store_participant_update(struct store_conn *c, const struct participant *p,
                             const struct participant *before)
{
    return rows_update(c, &store_participants_table, p, before);
}

int store_participant_delete(struct store_conn *c, const char *conversation_sid, const char *sid)
{
    return rows_delete(c, &store_participants_table, conversation_sid, sid);
}

ROWS_LIST_ADAPTER(participant_row, participant_row_fn, struct participant)

int store_participant_list(struct store_conn *c, const char *conversation_sid, const struct page_req *p,
                           participant_row_fn fn, void *ctx)
{
    struct participant scratch;
    struct participant_row_ctx l = {fn, ctx};
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

int store_participant_identity_count(struct store_conn *c, const char *service_sid, const char *identity,
                                     long long limit, long long *n)
{
    int rc = rows_int(c, &identity_count_sql, n, "tti", service_sid, identity, limit);
    return rc == ST_NOT_FOUND ? ST_ERROR : rc; /* a count always has its row */
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
    int rc = rows_exec_one(c, &user_ensure_sql, "tttti", u->sid, u->account_sid, u->service_sid, u->identity,
                           u->date_created);
    return rc == ST_NOT_FOUND ? ST_CONFLICT : rc;
}

/* ---- the views, hand-written: a participant joined with its conversation ---- */

#define VC(m) offsetof(struct participant_view_conversation, m)
#define VIEW_CONVERSATION_COLS(base)                                                                         \
    {"conversation_sid", CK_SID, base + VC(sid), 0}, {"unique_name", CK_TEXT, base + VC(unique_name), 0},    \
        {"friendly_name", CK_TEXT, base + VC(friendly_name), 0},                                             \
        {"attributes", CK_TEXT, base + VC(attributes), 0}, {"state", CK_TEXT, base + VC(state), 0},          \
        {"timer_inactive", CK_I64, base + VC(timer_inactive), 0},                                            \
        {"timer_closed", CK_I64, base + VC(timer_closed), 0},                                                \
        {"date_inactive", CK_I64, base + VC(date_inactive), 0},                                              \
        {"date_closed", CK_I64, base + VC(date_closed), 0},                                                  \
        {"date_created", CK_I64, base + VC(date_created), 0},                                                \
    {                                                                                                        \
        "date_updated", CK_I64, base + VC(date_updated), 0                                                   \
    }
#define VIEW_CONVERSATION_SQL                                                                                \
    " v.sid AS conversation_sid, v.unique_name, v.friendly_name, v.attributes, v.state, v.timer_inactive,"   \
    " v.timer_closed, v.date_inactive, v.date_closed, v.date_created, v.date_updated"

/* both views lead with the participant and its user; off(m) is the member's offset in the view's row */
/* clang-format off */
#define VIEW_MEMBER_COLS(off)                                                                                \
    {"id", CK_ID, off(id), 0},                                                                               \
    {"account_sid", CK_SID, off(account_sid), 0},                                                            \
    {"service_sid", CK_SID, off(service_sid), 0},                                                            \
    {"participant_sid", CK_SID, off(participant_sid), 0},                                                    \
    {"user_sid", CK_SID, off(user_sid), 0}
/* clang-format on */
#define VIEW_MEMBER_SQL " p.id, p.account_sid, p.service_sid, p.sid AS participant_sid, u.sid AS user_sid,"

#define UC(m) offsetof(struct user_conversation, m)
/* the columns of the user view's SELECT, in order (read by the row codec) */
static const struct column user_conversation_cols[] = {
    VIEW_MEMBER_COLS(UC),
    {"unread_messages_count", CK_I64N, UC(unread_messages_count), 0},
    {"last_read_message_index", CK_I64N, UC(last_read_message_index), 0},
    {"last_read_timestamp", CK_TEXT, UC(last_read_timestamp), 0},
    {"notification_level", CK_TEXT, UC(notification_level), 0},
    VIEW_CONVERSATION_COLS(UC(conv)),
};
static const struct store_table user_conversation_view = {
    .name = "user_conversations",
    .cols = user_conversation_cols,
    .n = sizeof(user_conversation_cols) / sizeof(user_conversation_cols[0]),
};

/* Unread messages: computed from the data, never a stored counter (BEHAVIOUR-conversations §7.1): null
 * without a read horizon, else the messages above it, counted on the keyset index messages(conversation_id,
 * idx) and capped at 1000 as Twilio does, so that it reads at most 1000 index entries however long the
 * conversation. v is the participant's conversation. */
#define UNREAD_SQL                                                                                           \
    "CASE WHEN p.last_read_message_index IS NULL THEN NULL ELSE (SELECT count(*) FROM (SELECT 1 FROM"        \
    " messages m WHERE m.conversation_id = v.id AND m.idx > p.last_read_message_index"                       \
    " LIMIT 1000) q) END"

#define USER_VIEW_SQL                                                                                        \
    "SELECT" VIEW_MEMBER_SQL " " UNREAD_SQL " AS unread_messages_count, p.last_read_message_index,"          \
    " p.last_read_timestamp, p.notification_level," VIEW_CONVERSATION_SQL                                    \
    " FROM users u JOIN participants p ON p.service_sid = u.service_sid AND p.identity = u.identity"         \
    " JOIN conversations v ON v.sid = p.conversation_sid WHERE u.service_sid = ?1 AND u.sid = ?2"

static struct store_sql user_view_get = {.sql = USER_VIEW_SQL " AND p.conversation_sid = ?3"};
static struct store_sql user_view_after = {.sql = USER_VIEW_SQL " AND p.id > ?3 ORDER BY p.id LIMIT ?4"};
/* the page before a position is read backwards and turned around (as store/rows.c's lists) */
static struct store_sql user_view_before = {
    .sql = "SELECT * FROM (" USER_VIEW_SQL " AND p.id < ?3 ORDER BY p.id DESC LIMIT ?4) page ORDER BY id"};

#define PCV(m) offsetof(struct participant_conversation, m)
static const struct column participant_conversation_cols[] = {
    VIEW_MEMBER_COLS(PCV),
    {"identity", CK_TEXT, PCV(identity), 0},
    {"binding_type", CK_TEXT, PCV(binding_type), 0},
    {"address", CK_TEXT, PCV(address), 0},
    {"proxy_address", CK_TEXT, PCV(proxy_address), 0},
    {"projected_address", CK_TEXT, PCV(projected_address), 0},
    VIEW_CONVERSATION_COLS(PCV(conv)),
};
static const struct store_table participant_conversation_view = {
    .name = "participant_conversations",
    .cols = participant_conversation_cols,
    .n = sizeof(participant_conversation_cols) / sizeof(participant_conversation_cols[0]),
};

#define PARTICIPANT_VIEW_SQL(key)                                                                            \
    "SELECT" VIEW_MEMBER_SQL                                                                                 \
    " p.identity, p.binding_type, p.address, p.proxy_address, p.projected_address," VIEW_CONVERSATION_SQL    \
    " FROM participants p JOIN conversations v ON v.sid = p.conversation_sid"                                \
    " LEFT JOIN users u ON u.service_sid = p.service_sid AND u.identity = p.identity"                        \
    " WHERE p.service_sid = ?1 AND p." key " = ?2"

static struct store_sql by_identity_after = {.sql =
                                                 PARTICIPANT_VIEW_SQL("identity") " AND p.id > ?3"
                                                                                  " ORDER BY p.id LIMIT ?4"};
static struct store_sql by_identity_before = {
    .sql = "SELECT * FROM (" PARTICIPANT_VIEW_SQL("identity") " AND p.id < ?3 ORDER BY p.id DESC LIMIT ?4)"
                                                              " page ORDER BY id"};
static struct store_sql by_address_after = {.sql = PARTICIPANT_VIEW_SQL("address") " AND p.id > ?3"
                                                                                   " ORDER BY p.id LIMIT ?4"};
static struct store_sql by_address_before = {
    .sql = "SELECT * FROM (" PARTICIPANT_VIEW_SQL("address") " AND p.id < ?3 ORDER BY p.id DESC LIMIT ?4)"
                                                             " page ORDER BY id"};

static int views_sql_add(void)
{
    struct store_sql *const views[] = {&user_view_get,     &user_view_after,    &user_view_before,
                                       &by_identity_after, &by_identity_before, &by_address_after,
                                       &by_address_before};
    int rc = ST_OK;
    for (size_t i = 0; i < sizeof(views) / sizeof(views[0]) && rc == ST_OK; i++)
        rc = store_sql_add(views[i]);
    return rc;
}

int store_user_conversation_get(struct store_conn *c, const char *service_sid, const char *user_sid,
                                const char *conversation_sid, struct arena *a, struct user_conversation *out)
{
    const struct store_engine *e = c->ops->engine;
    struct store_stmt *s = e->stmt(c, &user_view_get);
    if (!s) return ST_ERROR;
    e->bind_text(s, 1, service_sid);
    e->bind_text(s, 2, user_sid);
    e->bind_text(s, 3, conversation_sid);
    int rc = e->step(s);
    if (rc == 1) rows_read(e, s, &user_conversation_view, a, out);
    e->reset(s);
    return rc == 1 ? ST_OK : rc == 0 ? ST_NOT_FOUND : rc;
}

/* A keyset page of a view: ?1 the service, ?2 the key, ?3 the position, ?4 the limit (+ 1). */
static int view_page(struct store_conn *c, const struct store_sql *after, const struct store_sql *before,
                     const struct store_table *view, const char *service_sid, const char *key,
                     const struct page_req *p, void *scratch, int (*fn)(void *ctx, const void *row),
                     void *ctx)
{
    const struct store_engine *e = c->ops->engine;
    struct store_stmt *s = e->stmt(c, p->dir == 'b' ? before : after);
    if (!s) return ST_ERROR;
    e->bind_text(s, 1, service_sid);
    e->bind_text(s, 2, key);
    e->bind_int(s, 3, p->dir == 'b' ? p->before : p->after);
    e->bind_int(s, 4, p->limit + 1);
    int rc;
    while ((rc = e->step(s)) == 1) {
        rows_read(e, s, view, NULL, scratch);
        if (fn(ctx, scratch)) break;
    }
    e->reset(s);
    return rc < 0 ? rc : ST_OK;
}

ROWS_LIST_ADAPTER(user_view_row, user_conversation_row_fn, struct user_conversation)

int store_user_conversation_list(struct store_conn *c, const char *service_sid, const char *user_sid,
                                 const struct page_req *p, user_conversation_row_fn fn, void *ctx)
{
    struct user_conversation scratch;
    struct user_view_row_ctx l = {fn, ctx};
    return view_page(c, &user_view_after, &user_view_before, &user_conversation_view, service_sid, user_sid,
                     p, &scratch, user_view_row, &l);
}

ROWS_LIST_ADAPTER(participant_view_row, participant_conversation_row_fn, struct participant_conversation)

int store_participant_conversation_list(struct store_conn *c, const char *service_sid, const char *key,
                                        int by_address, const struct page_req *p,
                                        participant_conversation_row_fn fn, void *ctx)
{
    struct participant_conversation scratch;
    struct participant_view_row_ctx l = {fn, ctx};
    return view_page(c, by_address ? &by_address_after : &by_identity_after,
                     by_address ? &by_address_before : &by_identity_before, &participant_conversation_view,
                     service_sid, key, p, &scratch, participant_view_row, &l);
}
