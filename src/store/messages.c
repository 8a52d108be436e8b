/* Messages, delivery receipts and media metadata, once for both engines: tables of the row codec, plus
 * the statements the codec cannot give (the index counter, the list by index in both orders, the
 * receipts' counters on their message). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "store/conversations.h"
#include "store/domain.h"
#include "store/messages.h"
#include "store/rows.h"
#include "util/arena.h"

#define MC(m) offsetof(struct message, m)

static const struct column message_cols[] = {
    {"id", CK_ID, MC(id), 0},
    {"sid", CK_SID, MC(sid), C_KEY},
    {"account_sid", CK_SID, MC(account_sid), C_IMMUTABLE},
    {"service_sid", CK_SID, MC(service_sid), C_IMMUTABLE},
    {"conversation_sid", CK_SID, MC(conversation_sid), C_PARENT},
    {"conversation_id", CK_I64, MC(conversation_id), C_IMMUTABLE},
    {"idx", CK_I64, MC(index), C_IMMUTABLE},
    {"author", CK_TEXT, MC(author), 0},
    {"participant_sid", CK_TEXT, MC(participant_sid), 0},
    {"body", CK_TEXT, MC(body), 0},
    {"attributes", CK_TEXT, MC(attributes), 0},
    {"subject", CK_TEXT, MC(subject), 0},
    {"content_sid", CK_TEXT, MC(content_sid), C_IMMUTABLE},
    {"content_variables", CK_TEXT, MC(content_variables), C_IMMUTABLE},
    {"media_sid", CK_TEXT, MC(media_sid), C_IMMUTABLE},
    {"media_content_type", CK_TEXT, MC(media_content_type), C_IMMUTABLE},
    {"media_filename", CK_TEXT, MC(media_filename), C_IMMUTABLE},
    {"media_size", CK_I64, MC(media_size), C_IMMUTABLE},
    {"source", CK_TEXT, MC(source), C_IMMUTABLE},
    /* the receipts' counters: written by their own statement only, so a message update never undoes a
     * receipt's change made meanwhile by another server */
    {"d_sent", CK_I64, MC(delivery[RS_SENT]), C_IMMUTABLE},
    {"d_delivered", CK_I64, MC(delivery[RS_DELIVERED]), C_IMMUTABLE},
    {"d_read", CK_I64, MC(delivery[RS_READ]), C_IMMUTABLE},
    {"d_failed", CK_I64, MC(delivery[RS_FAILED]), C_IMMUTABLE},
    {"d_undelivered", CK_I64, MC(delivery[RS_UNDELIVERED]), C_IMMUTABLE},
    {"date_created", CK_I64, MC(date_created), 0},
    {"date_updated", CK_I64, MC(date_updated), 0},
};

/* What a page reads: what a message renders and its events carry. The account, service and conversation
 * are the page's (its caller's template); subject and content variables are never rendered. Each column
 * left out was about a twentieth of reading a page. */
static const struct column message_page_cols[] = {
    {"sid", CK_SID, MC(sid), 0},
    {"idx", CK_I64, MC(index), 0},
    {"author", CK_TEXT, MC(author), 0},
    {"participant_sid", CK_TEXT, MC(participant_sid), 0},
    {"body", CK_TEXT, MC(body), 0},
    {"attributes", CK_TEXT, MC(attributes), 0},
    {"content_sid", CK_TEXT, MC(content_sid), 0},
    {"media_sid", CK_TEXT, MC(media_sid), 0},
    {"media_content_type", CK_TEXT, MC(media_content_type), 0},
    {"media_filename", CK_TEXT, MC(media_filename), 0},
    {"media_size", CK_I64, MC(media_size), 0},
    {"source", CK_TEXT, MC(source), 0},
    {"d_sent", CK_I64, MC(delivery[RS_SENT]), 0},
    {"d_delivered", CK_I64, MC(delivery[RS_DELIVERED]), 0},
    {"d_read", CK_I64, MC(delivery[RS_READ]), 0},
    {"d_failed", CK_I64, MC(delivery[RS_FAILED]), 0},
    {"d_undelivered", CK_I64, MC(delivery[RS_UNDELIVERED]), 0},
    {"date_created", CK_I64, MC(date_created), 0},
    {"date_updated", CK_I64, MC(date_updated), 0},
};
#define PAGE_COLS ((int)(sizeof(message_page_cols) / sizeof(message_page_cols[0])))

/* updates read, change and write back a message: the writer's read locks the row */
static struct store_table messages_table = {
    .name = "messages",
    .cols = message_cols,
    .n = sizeof(message_cols) / sizeof(message_cols[0]),
    .lock = SQL_LOCK_UPDATE,
};

#define RC(m) offsetof(struct receipt, m)

static const struct column receipt_cols[] = {
    {"id", CK_ID, RC(id), 0},
    {"sid", CK_SID, RC(sid), C_KEY},
    {"account_sid", CK_SID, RC(account_sid), C_IMMUTABLE},
    {"service_sid", CK_SID, RC(service_sid), C_IMMUTABLE},
    {"conversation_sid", CK_SID, RC(conversation_sid), C_IMMUTABLE},
    {"message_sid", CK_SID, RC(message_sid), C_PARENT},
    {"participant_sid", CK_SID, RC(participant_sid), C_IMMUTABLE},
    {"channel_message_sid", CK_SID, RC(channel_message_sid), C_IMMUTABLE},
    {"status", CK_TEXT, RC(status), 0},
    {"error_code", CK_I64, RC(error_code), 0},
    {"date_created", CK_I64, RC(date_created), C_IMMUTABLE},
    {"date_updated", CK_I64N, RC(date_updated), 0},
};

static struct store_table receipts_table = {
    .name = "delivery_receipts",
    .cols = receipt_cols,
    .n = sizeof(receipt_cols) / sizeof(receipt_cols[0]),
    .lock = SQL_LOCK_UPDATE,
};

#define ME(m) offsetof(struct media_meta, m)

static const struct column media_cols[] = {
    {"id", CK_ID, ME(id), 0},
    {"sid", CK_SID, ME(sid), C_KEY},
    {"account_sid", CK_SID, ME(account_sid), C_PARENT},
    {"content_type", CK_TEXT, ME(content_type), 0},
    {"filename", CK_TEXT, ME(filename), 0},
    {"size", CK_I64, ME(size), 0},
    {"date_created", CK_I64, ME(date_created), 0},
};

static struct store_table media_table = {
    .name = "media",
    .cols = media_cols,
    .n = sizeof(media_cols) / sizeof(media_cols[0]),
    .lock = SQL_LOCK_UPDATE,
};

/* A delete raises next_message_index past the deleted index (author_index_sql reads it) on SQLite. */
static struct store_sql delete_mark_sql = {
    .sql = "UPDATE conversations SET next_message_index = (SELECT max(idx + 1, next_message_index)"
           " FROM messages WHERE sid = ?2 AND conversation_sid = ?1) WHERE sid = ?1"
           " AND EXISTS (SELECT 1 FROM messages WHERE sid = ?2 AND conversation_sid = ?1)",
    .sql_pg = "",
};

/* ?2 is an index bound, ?3 the page size + 1; the page before a position is read backwards and turned */
#define LIST_SQL_MAX 1024
static char list_text[4][LIST_SQL_MAX];
static struct store_sql list_sql[4]; /* asc after, asc before, desc after, desc before */

static struct store_sql media_used_sql = {
    .sql = "SELECT 1 FROM messages WHERE media_sid = ?1 AND account_sid = ?2 LIMIT 1",
};

static struct store_sql delivery_add_sql = {
    .sql = "UPDATE messages SET d_sent = d_sent + ?2, d_delivered = d_delivered + ?3, d_read = d_read + ?4,"
           " d_failed = d_failed + ?5, d_undelivered = d_undelivered + ?6 WHERE sid = ?1",
};

/* The author's participant and whether the conversation is a Group MMS, in one step and without a sort:
 * the identity through UNIQUE(conversation_sid, identity), a binding address through
 * participants_by_address, a projected address through participants_by_projected (migration 13). */
#define AUTHOR_COLS                                                                                          \
    "coalesce("                                                                                              \
    "(SELECT sid FROM participants WHERE conversation_sid = ?1 AND identity = ?2),"                          \
    " (SELECT sid FROM participants WHERE service_sid = ?3 AND address = ?2 AND conversation_sid = ?1"       \
    " ORDER BY id LIMIT 1),"                                                                                 \
    " (SELECT sid FROM participants WHERE conversation_sid = ?1 AND projected_address = ?2"                  \
    " ORDER BY id LIMIT 1)),"                                                                                \
    " CASE WHEN EXISTS (SELECT 1 FROM participants WHERE conversation_sid = ?1"                              \
    " AND projected_address IS NOT NULL) THEN 1 ELSE 0 END"
static struct store_sql author_sql = {.sql = "SELECT " AUTHOR_COLS};
/* What a create needs of its conversation besides: the closed guard, whether its activity changes it */
#define PLACE_COLS "state, timer_inactive, timer_closed, messaging_service_sid"
/* A message's index: one past the conversation's highest, and never below next_message_index, the mark
 * a delete leaves (so that an index is never reused after its message is deleted).
 * - SQLite, one writer: a read of the two in the insert's transaction; a create writes no conversation
 *   row (the counter's UPDATE, with its trigger, was a fifth of a create's writer time, callgrind).
 * - PostgreSQL, several servers: the counter is bumped by every create, and its row lock orders
 *   concurrent creates (distinct indexes in commit order); the delete mark is then a no-op.
 * A create reads its author in the same statement: on PostgreSQL the counter's bump rides along, one
 * round trip less. */
static struct store_sql author_index_sql = {
    .sql = "SELECT " AUTHOR_COLS ", max(coalesce((SELECT max(idx) + 1 FROM messages"
           " WHERE conversation_id = c.id), 0), c.next_message_index), c.id, " PLACE_COLS
           " FROM conversations c WHERE c.sid = ?1 AND c.service_sid = ?3",
    .sql_pg = "WITH n AS (UPDATE conversations SET next_message_index = next_message_index + 1"
              " WHERE sid = ?1 AND service_sid = ?3 RETURNING id, next_message_index - 1 AS idx, " PLACE_COLS
              ") SELECT " AUTHOR_COLS ", idx, id, " PLACE_COLS " FROM n",
};

static struct store_sql recipients_sql = {
    .sql = "SELECT sid, binding_type FROM participants WHERE conversation_sid = ?1 AND address IS NOT NULL"
           " ORDER BY id LIMIT ?2",
};

/* a receipt named by its SID alone (the status endpoint's path), through the sid column's unique index */
static struct store_sql receipt_message_sql = {
    .sql = "SELECT message_sid FROM delivery_receipts WHERE sid = ?1 AND account_sid = ?2",
};

static int list_sql_build(void)
{
    char cols[LIST_SQL_MAX];
    size_t n = 0;
    for (int i = 0; i < PAGE_COLS; i++) {
        int k = snprintf(cols + n, sizeof(cols) - n, "%s%s", i ? ", " : "", message_page_cols[i].name);
        if (k < 0 || (size_t)k >= sizeof(cols) - n) return ST_ERROR;
        n += (size_t)k;
    }
    static const char *const shape[4][3] = {
        {"", "> ?2 ORDER BY idx", ""},
        {"SELECT * FROM (", "< ?2 ORDER BY idx DESC", ") page ORDER BY idx"},
        {"", "< ?2 ORDER BY idx DESC", ""},
        {"SELECT * FROM (", "> ?2 ORDER BY idx", ") page ORDER BY idx DESC"},
    };
    for (int i = 0; i < 4; i++) {
        int k = snprintf(list_text[i], LIST_SQL_MAX,
                         "%sSELECT %s FROM messages WHERE conversation_id ="
                         " (SELECT id FROM conversations WHERE sid = ?1) AND idx %s LIMIT ?3%s",
                         shape[i][0], cols, shape[i][1], shape[i][2]);
        if (k < 0 || k >= LIST_SQL_MAX) return ST_ERROR;
        list_sql[i].sql = list_text[i];
        int rc = store_sql_add(&list_sql[i]);
        if (rc != ST_OK) return rc;
    }
    return ST_OK;
}

int store_messages_sql_add(void)
{
    int rc = rows_table_add(&messages_table);
    if (rc == ST_OK) rc = rows_table_add(&receipts_table);
    if (rc == ST_OK) rc = rows_table_add(&media_table);
    if (rc == ST_OK) rc = list_sql_build();
    /* clang-format off */
    struct store_sql *const hand[] = {
        &delete_mark_sql,
        &media_used_sql,
        &delivery_add_sql,
        &author_sql,
        &author_index_sql,
        &recipients_sql,
    };
    /* clang-format on */
    for (size_t i = 0; i < sizeof(hand) / sizeof(hand[0]) && rc == ST_OK; i++)
        rc = store_sql_add(hand[i]);
    if (rc == ST_OK) rc = store_sql_add(&receipt_message_sql);
    return rc;
}

int store_message_get(struct store_conn *c, const char *conversation_sid, const char *sid, struct arena *a,
                      struct message *out)
{
    return rows_get(c, &messages_table, 0, conversation_sid, sid, a, out);
}

/* Deferred (store/engine.h): no caller reads the id, and no conflict can answer for it: the index comes
 * from the conversation's counter (PostgreSQL) or the single writer (SQLite), the SID is new, and the
 * conversation's row was read and locked before it. */
int store_message_insert(struct store_conn *c, struct message *m)
{
    return rows_insert_deferred(c, &messages_table, m);
}

int store_message_update(struct store_conn *c, const struct message *m)
{
    return rows_update(c, &messages_table, m, NULL);
}

int store_message_delete(struct store_conn *c, const char *conversation_sid, const char *sid)
{
    int rc = rows_exec(c, &delete_mark_sql, NULL, "tt", conversation_sid, sid);
    return rc == ST_OK ? rows_delete(c, &messages_table, conversation_sid, sid) : rc;
}

int store_message_list(struct store_conn *c, const struct message *page, int desc, const struct page_req *p,
                       message_row_fn fn, void *ctx)
{
    const char *conversation_sid = page->conversation_sid;
    const struct store_engine *e = c->ops->engine;
    int before = p->dir == 'b';
    struct store_stmt *s = e->stmt(c, &list_sql[(desc ? 2 : 0) + before]);
    if (!s) return ST_ERROR;
    long long key = before ? p->before : p->after;
    /* positions to index bounds: asc pos = index + 1, desc pos = MESSAGE_DESC_BASE - index */
    long long bound = desc ? MESSAGE_DESC_BASE - key : key - 1;
    e->bind_text(s, 1, conversation_sid);
    e->bind_int(s, 2, bound);
    e->bind_int(s, 3, (long long)p->limit + 1);
    struct message m = *page;
    int rc;
    while ((rc = e->step(s)) == 1) {
        rows_read_cols(e, s, message_page_cols, PAGE_COLS, NULL, &m);
        m.pos = desc ? MESSAGE_DESC_BASE - m.index : m.index + 1;
        if (fn(ctx, &m)) break;
    }
    e->reset(s);
    return rc < 0 ? rc : ST_OK;
}

int store_message_media_used(struct store_conn *c, const char *account_sid, const char *media_sid, int *used)
{
    long long one = 0;
    int rc = rows_int(c, &media_used_sql, &one, "tt", media_sid, account_sid);
    *used = rc == ST_OK;
    return rc == ST_NOT_FOUND ? ST_OK : rc;
}

/* The author's participant, and with m the create's next index and conversation id, and the conversation's
 * state, timers and messaging service into cv: sid is "" when no participant matches. ST_NOT_FOUND:
 * without m, no participant; with it, no conversation. */
static int author_of(struct store_conn *c, const char *conversation_sid, const char *service_sid,
                     const char *author, char sid[SID_LEN + 1], int *group, struct message *m,
                     struct arena *a, struct conversation *cv)
{
    int index = m != NULL;
    const struct store_engine *e = c->ops->engine;
    struct store_stmt *s = e->stmt(c, index ? &author_index_sql : &author_sql);
    if (!s) return ST_ERROR;
    e->bind_text(s, 1, conversation_sid);
    e->bind_text(s, 2, author);
    e->bind_text(s, 3, service_sid);
    int rc = e->step(s);
    const char *v = rc == 1 ? e->col_text(s, 0) : NULL;
    snprintf(sid, SID_LEN + 1, "%s", v ? v : "");
    *group = rc == 1 && e->col_int(s, 1) == 1;
    int found = index ? rc == 1 && e->col_text(s, 2) != NULL : v != NULL;
    if (index && found) {
        m->index = e->col_int(s, 2);
        m->conversation_id = e->col_int(s, 3);
        const char *state = e->col_text(s, 4);
        cv->state = arena_strndup(a, state ? state : "", state ? strlen(state) : 0);
        cv->timer_inactive = e->col_int(s, 5);
        cv->timer_closed = e->col_int(s, 6);
        const char *mg = e->col_text(s, 7);
        snprintf(cv->messaging_service_sid, SID_LEN + 1, "%s", mg ? mg : "");
    }
    e->reset(s);
    return rc < 0 ? rc : found ? ST_OK : ST_NOT_FOUND;
}

int store_message_author_participant(struct store_conn *c, const char *conversation_sid,
                                     const char *service_sid, const char *author, char sid[SID_LEN + 1],
                                     int *group)
{
    return author_of(c, conversation_sid, service_sid, author, sid, group, NULL, NULL, NULL);
}

int store_message_author_index(struct store_conn *c, struct message *m, char sid[SID_LEN + 1], int *group,
                               struct arena *a, struct conversation *cv)
{
    return author_of(c, m->conversation_sid, m->service_sid, m->author, sid, group, m, a, cv);
}

int store_message_recipients(struct store_conn *c, const char *conversation_sid, struct recipient *out,
                             int max, int *n)
{
    const struct store_engine *e = c->ops->engine;
    struct store_stmt *s = e->stmt(c, &recipients_sql);
    if (!s) return ST_ERROR;
    e->bind_text(s, 1, conversation_sid);
    e->bind_int(s, 2, max);
    int rc;
    *n = 0;
    while ((rc = e->step(s)) == 1 && *n < max) {
        const char *sid = e->col_text(s, 0), *type = e->col_text(s, 1);
        snprintf(out[*n].sid, sizeof(out[*n].sid), "%s", sid ? sid : "");
        snprintf(out[*n].type, sizeof(out[*n].type), "%s", type ? type : "");
        (*n)++;
    }
    e->reset(s);
    return rc < 0 ? rc : ST_OK;
}

/* ---- receipts ---- */

static const char *const status_names[RS__COUNT] = {"sent", "delivered", "read", "failed", "undelivered"};

int receipt_status_index(const char *status)
{
    for (int i = 0; status && i < RS__COUNT; i++)
        if (strcmp(status, status_names[i]) == 0) return i;
    return -1;
}

/* Adds delta[i] to the message's counter of status i. */
static int delivery_add(struct store_conn *c, const char *message_sid, const long long delta[RS__COUNT])
{
    const struct store_engine *e = c->ops->engine;
    struct store_stmt *s = e->stmt(c, &delivery_add_sql);
    if (!s) return ST_ERROR;
    e->bind_text(s, 1, message_sid);
    for (int i = 0; i < RS__COUNT; i++)
        e->bind_int(s, 2 + i, delta[i]);
    /* the receipt's own statement answered for the receipt; this one only has to succeed */
    return e->exec_deferred(s);
}

int store_receipt_get(struct store_conn *c, const char *message_sid, const char *sid, struct arena *a,
                      struct receipt *out)
{
    return rows_get(c, &receipts_table, 0, message_sid, sid, a, out);
}

int store_receipt_find(struct store_conn *c, const char *account_sid, const char *sid, struct arena *a,
                       struct receipt *out)
{
    static const struct column message_sid_col = {"message_sid", CK_SID, 0, 0};
    char message_sid[SID_LEN + 1];
    int rc =
        rows_fetch(c, &receipt_message_sql, &message_sid_col, 1, NULL, message_sid, "tt", sid, account_sid);
    return rc == ST_OK ? store_receipt_get(c, message_sid, sid, a, out) : rc;
}

int store_receipt_insert(struct store_conn *c, struct receipt *d)
{
    int st = receipt_status_index(d->status);
    if (st < 0) return ST_ERROR;
    /* deferred: a new SID, its message written by this job; its caller uses only the outcome */
    int rc = rows_insert_deferred(c, &receipts_table, d);
    long long delta[RS__COUNT] = {0};
    delta[st] = 1;
    return rc == ST_OK ? delivery_add(c, d->message_sid, delta) : rc;
}

int store_receipt_set_status(struct store_conn *c, struct receipt *d, const char *status,
                             long long error_code, long long now)
{
    int from = receipt_status_index(d->status), to = receipt_status_index(status);
    if (from < 0 || to < 0) return ST_ERROR;
    d->status = (char *)status_names[to];
    d->error_code = error_code;
    d->date_updated = now;
    int rc = rows_update(c, &receipts_table, d, NULL);
    long long delta[RS__COUNT] = {0};
    delta[from]--;
    delta[to]++;
    return rc == ST_OK ? delivery_add(c, d->message_sid, delta) : rc;
}

struct receipt_list_ctx {
    receipt_row_fn fn;
    void *ctx;
};

static int receipt_row(void *ctx, const void *row)
{
    const struct receipt_list_ctx *l = ctx;
    return l->fn(l->ctx, row);
}

int store_receipt_list(struct store_conn *c, const char *message_sid, const struct page_req *p,
                       receipt_row_fn fn, void *ctx)
{
    struct receipt scratch;
    struct receipt_list_ctx l = {fn, ctx};
    return rows_list(c, &receipts_table, message_sid, p, &scratch, receipt_row, &l);
}

/* ---- media ---- */

int store_media_get(struct store_conn *c, const char *account_sid, const char *sid, struct arena *a,
                    struct media_meta *out)
{
    return rows_get(c, &media_table, 0, account_sid, sid, a, out);
}

int store_media_put(struct store_conn *c, struct media_meta *m)
{
    int rc = rows_update(c, &media_table, m, NULL);
    return rc == ST_NOT_FOUND ? rows_insert(c, &media_table, m) : rc;
}
