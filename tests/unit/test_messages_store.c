/* Messages in the store on every engine (store/messages.h): the per-conversation index counter (from 0,
 * per conversation, moving on after a delete and after a rolled-back insert, distinct when two servers'
 * writers take indexes at once), the keyset list by index in both orders with its positions, the bounded
 * unread count, the receipts' counters on their message (insert, a status change, a message update
 * that does not undo them), and a receipt found by its SID alone. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engines_fixture.h"
#include "store/conversations.h"
#include "store/domain.h"
#include "store/engine.h"
#include "store/messages.h"
#include "store/participants.h"
#include "store/rows.h"
#include "util/arena.h"
#include "util/sid.h"

#define T0 1000000000000LL
#define MAX_LISTED 64
#define UNREAD_CAP 1000 /* BEHAVIOUR-conversations §7.1 */

ENGINE_GROUPS("messages")

static void make_conversation(struct engine *e, char sid[SID_LEN + 1])
{
    struct conversation cv;
    engine_conversation(e, &cv, T0);
    assert_int_equal(e->w->ops->tx_begin(e->w), ST_OK);
    assert_int_equal(store_conversation_insert(e->w, &cv), ST_OK);
    assert_int_equal(e->w->ops->tx_commit(e->w), ST_OK);
    memcpy(sid, cv.sid, SID_LEN + 1);
}

/* A message of ch with the next index, in c's open transaction. */
static long long post_in(struct engine *e, struct store_conn *c, const char *ch, struct message *m)
{
    engine_message(e, ch, m, T0);
    assert_int_equal(engine_message_index(c, m), ST_OK);
    assert_int_equal(store_message_insert(c, m), ST_OK);
    return m->index;
}

static long long post(struct engine *e, const char *ch, struct message *m)
{
    assert_int_equal(e->w->ops->tx_begin(e->w), ST_OK);
    long long i = post_in(e, e->w, ch, m);
    assert_int_equal(e->w->ops->tx_commit(e->w), ST_OK);
    return i;
}

struct listed {
    int n;
    long long index[MAX_LISTED], pos[MAX_LISTED];
};

static int collect(void *ctx, const struct message *m)
{
    struct listed *l = ctx;
    if (l->n == MAX_LISTED) return 1;
    l->index[l->n] = m->index;
    l->pos[l->n] = m->pos;
    l->n++;
    return 0;
}

static void list(struct engine *e, const char *ch, int desc, char dir, long long key, int limit,
                 struct listed *l)
{
    struct page_req p = {.dir = dir, .limit = limit};
    if (dir == 'a')
        p.after = key;
    else
        p.before = key;
    memset(l, 0, sizeof(*l));
    struct message page = {0};
    snprintf(page.conversation_sid, sizeof(page.conversation_sid), "%s", ch);
    assert_int_equal(store_message_list(e->r, &page, desc, &p, collect, l), ST_OK);
}

static void test_index_counter(void **state)
{
    struct engine *e = engine(state);
    char a[SID_LEN + 1], b[SID_LEN + 1];
    make_conversation(e, a);
    make_conversation(e, b);
    struct message m;
    assert_int_equal(post(e, a, &m), 0);
    assert_int_equal(post(e, a, &m), 1);
    assert_int_equal(post(e, b, &m), 0); /* per conversation */
    /* the last one deleted: its index is not handed out again */
    assert_int_equal(e->w->ops->tx_begin(e->w), ST_OK);
    assert_int_equal(store_message_delete(e->w, a, m.sid), ST_NOT_FOUND); /* m is b's */
    struct message top;
    post_in(e, e->w, a, &top);
    assert_int_equal(top.index, 2);
    assert_int_equal(store_message_delete(e->w, a, top.sid), ST_OK);
    assert_int_equal(e->w->ops->tx_commit(e->w), ST_OK);
    assert_int_equal(post(e, a, &m), 3);
    /* a rolled-back insert takes nothing */
    assert_int_equal(e->w->ops->tx_begin(e->w), ST_OK);
    post_in(e, e->w, a, &m);
    e->w->ops->tx_rollback(e->w);
    assert_int_equal(post(e, a, &m), 4);
    /* the newest message (the first of a descending list) has the last index; no message, none */
    struct listed l;
    list(e, a, 1, 'a', 0, 1, &l);
    assert_int_equal(l.index[0], 4);
    char none[SID_LEN + 1];
    make_conversation(e, none);
    list(e, none, 1, 'a', 0, 1, &l);
    assert_int_equal(l.n, 0);
    /* no such conversation */
    assert_int_equal(e->w->ops->tx_begin(e->w), ST_OK);
    engine_message(e, "CH00000000000000000000000000000000", &m, T0);
    assert_int_equal(engine_message_index(e->w, &m), ST_NOT_FOUND);
    e->w->ops->tx_rollback(e->w);
}

static void test_list_both_orders(void **state)
{
    struct engine *e = engine(state);
    char ch[SID_LEN + 1];
    make_conversation(e, ch);
    struct message m;
    for (int i = 0; i < 7; i++)
        post(e, ch, &m);
    struct listed l;
    /* ascending: positions index + 1, pages after and before a position */
    list(e, ch, 0, 'a', 0, 3, &l);
    assert_int_equal(l.n, 4); /* limit + 1: whether more exist */
    assert_int_equal(l.index[0], 0);
    assert_int_equal(l.pos[0], 1);
    list(e, ch, 0, 'a', l.pos[2], 3, &l);
    assert_int_equal(l.index[0], 3);
    list(e, ch, 0, 'b', 4, 2, &l); /* before index 3, ascending */
    assert_int_equal(l.n, 3);
    assert_int_equal(l.index[0], 0);
    assert_int_equal(l.index[2], 2);
    /* descending: positions grow as indexes fall */
    list(e, ch, 1, 'a', 0, 3, &l);
    assert_int_equal(l.n, 4);
    assert_int_equal(l.index[0], 6);
    assert_int_equal(l.index[3], 3);
    assert_true(l.pos[0] > 0 && l.pos[1] > l.pos[0]);
    long long third = l.pos[2];
    list(e, ch, 1, 'a', third, 3, &l);
    assert_int_equal(l.index[0], 3);
    list(e, ch, 1, 'b', third, 5, &l); /* before the third of the first page: 6, 5 */
    assert_int_equal(l.n, 2);
    assert_int_equal(l.index[0], 6);
    assert_int_equal(l.index[1], 5);
    /* forged ends: before the largest position reaches every row, after it none */
    list(e, ch, 1, 'b', INT64_MAX, 50, &l);
    assert_int_equal(l.n, 7);
    list(e, ch, 1, 'a', INT64_MAX, 50, &l);
    assert_int_equal(l.n, 0);
}

/* The UserConversation of u in p's conversation with p's read horizon moved to horizon (-1: none), as
 * the server reads it (store/participants.c's view): its unread_messages_count (-1: null). */
static long long unread_at(struct engine *e, const struct user *u, struct participant *p, long long horizon)
{
    p->last_read_message_index = horizon;
    assert_int_equal(e->w->ops->tx_begin(e->w), ST_OK);
    assert_int_equal(store_participant_update(e->w, p, NULL), ST_OK);
    assert_int_equal(e->w->ops->tx_commit(e->w), ST_OK);
    struct arena a;
    arena_init(&a);
    struct user_conversation uc;
    assert_int_equal(store_user_conversation_get(e->r, u->service_sid, u->sid, p->conversation_sid, &a, &uc),
                     ST_OK);
    arena_free(&a);
    return uc.unread_messages_count;
}

static void test_unread_count_is_bounded(void **state)
{
    struct engine *e = engine(state);
    char ch[SID_LEN + 1];
    make_conversation(e, ch);
    /* a user who is a chat participant of the conversation */
    struct user u = {.identity = "reader", .attributes = "{}", .date_created = T0, .date_updated = T0};
    sid_new(u.sid, "US");
    memcpy(u.account_sid, e->acct.sid, SID_LEN + 1);
    memcpy(u.service_sid, e->acct.default_service_sid, SID_LEN + 1);
    memcpy(u.role_sid, e->cfg.chat_service_role_sid, SID_LEN + 1);
    struct participant p = {.identity = "reader",
                            .attributes = "{}",
                            .notification_level = "default",
                            .last_read_message_index = -1,
                            .date_created = T0,
                            .date_updated = T0};
    sid_new(p.sid, "MB");
    memcpy(p.account_sid, e->acct.sid, SID_LEN + 1);
    memcpy(p.service_sid, e->acct.default_service_sid, SID_LEN + 1);
    memcpy(p.conversation_sid, ch, SID_LEN + 1);
    assert_int_equal(e->w->ops->tx_begin(e->w), ST_OK);
    assert_int_equal(rows_insert(e->w, &store_users_table, &u), ST_OK);
    assert_int_equal(store_participant_insert(e->w, &p), ST_OK);
    assert_int_equal(e->w->ops->tx_commit(e->w), ST_OK);
    struct message m;
    for (int i = 0; i < 12; i++)
        post(e, ch, &m);
    assert_int_equal(unread_at(e, &u, &p, -1), -1); /* no horizon: null */
    assert_int_equal(unread_at(e, &u, &p, 4), 7);
    assert_int_equal(unread_at(e, &u, &p, 11), 0);
    assert_int_equal(unread_at(e, &u, &p, 100), 0);
    /* capped at UNREAD_CAP: one bounded range of the index, whatever the conversation's length */
    assert_int_equal(e->w->ops->tx_begin(e->w), ST_OK);
    for (int i = 12; i < UNREAD_CAP + 12; i++)
        post_in(e, e->w, ch, &m);
    assert_int_equal(e->w->ops->tx_commit(e->w), ST_OK);
    assert_int_equal(unread_at(e, &u, &p, 0), UNREAD_CAP);
    assert_int_equal(unread_at(e, &u, &p, 20), UNREAD_CAP + 12 - 21);
}

static void test_receipt_counters(void **state)
{
    struct engine *e = engine(state);
    char ch[SID_LEN + 1];
    make_conversation(e, ch);
    struct message m;
    post(e, ch, &m);
    struct receipt d[2];
    assert_int_equal(e->w->ops->tx_begin(e->w), ST_OK);
    for (int i = 0; i < 2; i++) {
        memset(&d[i], 0, sizeof(d[i]));
        sid_new(d[i].sid, "DY");
        memcpy(d[i].account_sid, m.account_sid, sizeof(d[i].account_sid));
        memcpy(d[i].service_sid, m.service_sid, sizeof(d[i].service_sid));
        memcpy(d[i].conversation_sid, ch, SID_LEN + 1);
        memcpy(d[i].message_sid, m.sid, SID_LEN + 1);
        sid_new(d[i].participant_sid, "MB");
        sid_new(d[i].channel_message_sid, "SM");
        d[i].status = "sent";
        d[i].date_created = T0;
        d[i].date_updated = -1;
        assert_int_equal(store_receipt_insert(e->w, &d[i]), ST_OK);
    }
    assert_int_equal(e->w->ops->tx_commit(e->w), ST_OK);
    struct arena a;
    arena_init(&a);
    struct message got;
    assert_int_equal(store_message_get(e->r, ch, m.sid, &a, &got), ST_OK);
    assert_int_equal(got.delivery[RS_SENT], 2);
    /* a status change moves one counter to another */
    assert_int_equal(e->w->ops->tx_begin(e->w), ST_OK);
    struct receipt stored;
    assert_int_equal(store_receipt_get(e->w, m.sid, d[0].sid, &a, &stored), ST_OK);
    assert_int_equal(store_receipt_set_status(e->w, &stored, "failed", 30003, T0 + 5), ST_OK);
    assert_int_equal(e->w->ops->tx_commit(e->w), ST_OK);
    assert_int_equal(store_receipt_get(e->r, m.sid, d[0].sid, &a, &stored), ST_OK);
    assert_string_equal(stored.status, "failed");
    assert_int_equal(stored.error_code, 30003);
    assert_int_equal(stored.date_updated, T0 + 5);
    /* a message update written from a row read before the change does not undo it */
    got.body = "edited";
    assert_int_equal(e->w->ops->tx_begin(e->w), ST_OK);
    assert_int_equal(store_message_update(e->w, &got), ST_OK);
    assert_int_equal(e->w->ops->tx_commit(e->w), ST_OK);
    assert_int_equal(store_message_get(e->r, ch, m.sid, &a, &got), ST_OK);
    assert_string_equal(got.body, "edited");
    assert_int_equal(got.delivery[RS_SENT], 1);
    assert_int_equal(got.delivery[RS_FAILED], 1);
    /* an unknown status is refused */
    assert_int_equal(e->w->ops->tx_begin(e->w), ST_OK);
    assert_int_equal(store_receipt_set_status(e->w, &stored, "lost", 0, T0), ST_ERROR);
    e->w->ops->tx_rollback(e->w);
    assert_int_equal(receipt_status_index("read"), RS_READ);
    assert_int_equal(receipt_status_index(NULL), -1);
    arena_free(&a);
}

/* A receipt by its SID alone (the delivery-status endpoint's path): its account's only. */
static void test_receipt_find(void **state)
{
    struct engine *e = engine(state);
    char ch[SID_LEN + 1];
    make_conversation(e, ch);
    struct message m;
    post(e, ch, &m);
    struct receipt d;
    memset(&d, 0, sizeof(d));
    sid_new(d.sid, "DY");
    memcpy(d.account_sid, m.account_sid, sizeof(d.account_sid));
    memcpy(d.service_sid, m.service_sid, sizeof(d.service_sid));
    memcpy(d.conversation_sid, ch, SID_LEN + 1);
    memcpy(d.message_sid, m.sid, SID_LEN + 1);
    sid_new(d.participant_sid, "MB");
    sid_new(d.channel_message_sid, "WA");
    d.status = "delivered";
    d.date_created = T0;
    d.date_updated = -1;
    assert_int_equal(e->w->ops->tx_begin(e->w), ST_OK);
    assert_int_equal(store_receipt_insert(e->w, &d), ST_OK);
    assert_int_equal(e->w->ops->tx_commit(e->w), ST_OK);
    struct arena a;
    arena_init(&a);
    struct receipt got;
    assert_int_equal(store_receipt_find(e->r, m.account_sid, d.sid, &a, &got), ST_OK);
    assert_string_equal(got.message_sid, m.sid);
    assert_string_equal(got.channel_message_sid, d.channel_message_sid);
    assert_string_equal(got.status, "delivered");
    assert_int_equal(got.date_updated, -1);
    char other[SID_LEN + 1], unknown[SID_LEN + 1];
    sid_new(other, "AC");
    sid_new(unknown, "DY");
    assert_int_equal(store_receipt_find(e->r, other, d.sid, &a, &got), ST_NOT_FOUND);
    assert_int_equal(store_receipt_find(e->r, m.account_sid, unknown, &a, &got), ST_NOT_FOUND);
    arena_free(&a);
}

/* Two servers' writers take indexes of one conversation at once: all distinct, none lost. */
#define PER_WRITER 15

struct racer {
    struct engine *e;
    struct store_conn *c;
    const char *ch;
    long long got[PER_WRITER];
    int failed;
};

static void *race(void *arg)
{
    struct racer *r = arg;
    for (int i = 0; i < PER_WRITER; i++) {
        for (int attempt = 0;; attempt++) {
            struct message m;
            memset(&m, 0, sizeof(m));
            sid_new(m.sid, "IM");
            memcpy(m.account_sid, r->e->acct.sid, sizeof(m.account_sid));
            memcpy(m.service_sid, r->e->acct.default_service_sid, sizeof(m.service_sid));
            memcpy(m.conversation_sid, r->ch, SID_LEN + 1);
            m.author = "system";
            m.attributes = "{}";
            m.source = "API";
            int rc = r->c->ops->tx_begin(r->c);
            if (rc == ST_OK) rc = engine_message_index(r->c, &m);
            if (rc == ST_OK) rc = store_message_insert(r->c, &m);
            if (rc == ST_OK)
                rc = r->c->ops->tx_commit(r->c);
            else
                r->c->ops->tx_rollback(r->c);
            if (rc == ST_OK) {
                r->got[i] = m.index;
                break;
            }
            if (rc != ST_BUSY || attempt > 20) {
                r->failed = 1;
                return NULL;
            }
        }
    }
    return NULL;
}

static void test_two_writers(void **state)
{
    struct engine *e = engine(state);
    if (strcmp(e->name, "postgres") != 0) skip(); /* SQLite has one writer per file */
    char ch[SID_LEN + 1];
    make_conversation(e, ch);
    struct racer r[2] = {{e, e->w, ch, {0}, 0}, {e, e->w2, ch, {0}, 0}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    assert_false(r[0].failed || r[1].failed);
    int seen[2 * PER_WRITER] = {0};
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < PER_WRITER; k++) {
            assert_true(r[i].got[k] >= 0 && r[i].got[k] < 2 * PER_WRITER);
            seen[r[i].got[k]]++;
        }
    for (int k = 0; k < 2 * PER_WRITER; k++)
        assert_int_equal(seen[k], 1);
}

/* A statement binding more parameters than the engines take is refused when it is registered, not
 * (as PostgreSQL did) dropped silently at bind time and failed as a lost session when it runs. */
static void test_registry_refuses_too_many_parameters(void **state)
{
    (void)state;
    static struct store_sql wide = {.sql = "SELECT ?1, ?33"}, fits = {.sql = "SELECT ?1, ?32, ?9"};
    assert_int_equal(store_sql_add(&wide), ST_ERROR);
    static struct store_sql wide_pg = {.sql = "SELECT ?1", .sql_pg = "SELECT ?1, ?100"};
    assert_int_equal(store_sql_add(&wide_pg), ST_ERROR);
    assert_int_equal(store_sql_add(&fits), ST_OK);
}

int main(void)
{
    const struct CMUnitTest cases[] = {
        cmocka_unit_test(test_index_counter),
        cmocka_unit_test(test_list_both_orders),
        cmocka_unit_test(test_unread_count_is_bounded),
        cmocka_unit_test(test_receipt_counters),
        cmocka_unit_test(test_receipt_find),
        cmocka_unit_test(test_two_writers),
    };
    const struct CMUnitTest registry[] = {cmocka_unit_test(test_registry_refuses_too_many_parameters)};
    int failed = cmocka_run_group_tests_name("messages: sqlite", cases, setup_sqlite, teardown);
    failed += cmocka_run_group_tests_name("messages: postgres (PARLEY_TEST_PG)", cases, setup_pg, teardown);
    failed += cmocka_run_group_tests_name("statement registry", registry, NULL, NULL);
    return failed;
}
