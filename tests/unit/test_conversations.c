/* Conversations in the store on every engine. The state timers (api/conversations.c) fired by the
 * durable schedule (store/timers.h): an inactive timer turns an active conversation inactive at its due time
 * and not before, the closed timer then closes it; each transition leaves a change record and queues
 * onConversationStateUpdated with Reason=TIMER (no Source), and a timer the row no longer waits for (its
 * conversation moved on, or is gone) changes nothing. A deleted service's conversations are reaped in
 * bounded batches, before its other rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api/api.h"
#include "engines_fixture.h"
#include "http/request.h"
#include "store/account_store.h"
#include "store/changes.h"
#include "store/conversations.h"
#include "store/timers.h"
#include "store/webhook_store.h"
#include "util/arena.h"
#include "util/clock.h"

#define T0 1000000000000LL /* creation time of the test conversations (2001) */
#define MINUTE 60000LL

ENGINE_GROUPS("conversations")

/* A conversation of service created at T0 with both timers, armed as a create arms them. */
static void make_in(struct engine *e, struct conversation *cv, const char *sid, const char *service)
{
    memset(cv, 0, sizeof(*cv));
    snprintf(cv->sid, sizeof(cv->sid), "%s", sid);
    memcpy(cv->account_sid, e->acct.sid, sizeof(cv->account_sid));
    snprintf(cv->service_sid, sizeof(cv->service_sid), "%s", service);
    cv->attributes = "{}";
    cv->state = CONV_ACTIVE;
    cv->timer_inactive = MINUTE;
    cv->timer_closed = 10 * MINUTE;
    cv->last_activity = cv->date_created = cv->date_updated = T0;
    cv->date_inactive = T0 + MINUTE;
    cv->date_closed = T0 + 10 * MINUTE;
    struct store_conn *c = e->w;
    assert_int_equal(c->ops->tx_begin(c), ST_OK);
    assert_int_equal(store_conversation_insert(c, cv), ST_OK);
    assert_int_equal(store_timer_set(c, cv->account_sid, "conversation.inactive", sid, cv->date_inactive),
                     ST_OK);
    assert_int_equal(store_timer_set(c, cv->account_sid, "conversation.closed", sid, cv->date_closed), ST_OK);
    assert_int_equal(c->ops->tx_commit(c), ST_OK);
}

static void make_conversation(struct engine *e, struct conversation *cv, const char *sid)
{
    make_in(e, cv, sid, e->acct.default_service_sid);
}

static int run_due(struct engine *e, long long now)
{
    int fired = 0, failed = 0;
    long long next = 0;
    struct store_conn *c = e->w;
    assert_int_equal(c->ops->tx_begin(c), ST_OK);
    assert_int_equal(timers_run_due(c, now, TIMERS_ROUND_MAX, &fired, &failed, &next), ST_OK);
    assert_int_equal(c->ops->tx_commit(c), ST_OK);
    assert_int_equal(failed, 0);
    return fired;
}

static void fetch(struct engine *e, const char *sid, struct arena *a, struct conversation *out)
{
    assert_int_equal(store_conversation_get(e->r, e->acct.default_service_sid, sid, 1, a, out), ST_OK);
}

struct seen {
    int n;
    char params[4][1024];
    int n_ids;
    long long ids[16];
};

static int keep_row(void *ctx, const struct outbox_row *row)
{
    struct seen *s = ctx;
    if (s->n_ids < 16) s->ids[s->n_ids++] = row->id;
    if (strcmp(row->event_type, "onConversationStateUpdated") == 0 && s->n < 4)
        snprintf(s->params[s->n++], sizeof(s->params[0]), "%s", row->params);
    return 0;
}

/* The state events queued since the last call (claimed and finished, so that a next call sees the new
 * ones: one conversation's rows go out one at a time). */
static void state_events(struct engine *e, struct seen *s)
{
    memset(s, 0, sizeof(*s));
    long long next = 0;
    struct store_conn *c = e->w;
    struct outbox_claim_limits lim = {1000, 1000};
    assert_int_equal(c->ops->tx_begin(c), ST_OK);
    assert_int_equal(store_outbox_claim(c, "test", INT64_MAX / 4, INT64_MAX / 4, INT64_MAX / 8, 100, &lim,
                                        keep_row, s, &next),
                     ST_OK);
    for (int i = 0; i < s->n_ids; i++) {
        struct webhook_log_entry le = {0};
        memcpy(le.account_sid, e->acct.sid, sizeof(le.account_sid));
        le.kind = "post";
        le.event_type = "test";
        le.url = "http://127.0.0.1:9/post";
        le.method = "POST";
        le.outcome = "delivered";
        le.idempotency_token = "t";
        assert_int_equal(store_outbox_finish(c, s->ids[i], &le), ST_OK);
    }
    assert_int_equal(c->ops->tx_commit(c), ST_OK);
}

struct last_change {
    int n;
    char sid[SID_LEN + 1];
    char kind[16];
};

static int keep_change(void *ctx, const struct change *ch)
{
    struct last_change *l = ctx;
    if (strcmp(ch->resource, "conversation") != 0) return 0;
    l->n++;
    snprintf(l->sid, sizeof(l->sid), "%s", ch->sid);
    snprintf(l->kind, sizeof(l->kind), "%s", ch->kind);
    return 0;
}

static void configure_hooks(struct engine *e)
{
    struct webhook_config cfg = {0};
    memcpy(cfg.account_sid, e->acct.sid, sizeof(cfg.account_sid));
    cfg.method = "POST";
    cfg.filters = "[\"onConversationStateUpdated\"]";
    cfg.post_url = "http://127.0.0.1:9/post";
    cfg.target = "webhook";
    struct store_conn *c = e->w;
    assert_int_equal(c->ops->tx_begin(c), ST_OK);
    assert_int_equal(store_webhook_config_put(c, &cfg), ST_OK);
    assert_int_equal(c->ops->tx_commit(c), ST_OK);
}

static void test_inactive_then_closed(void **state)
{
    struct engine *e = *state;
    if (e->skip) skip();
    configure_hooks(e);
    struct seen s;
    state_events(e, &s); /* none before */
    struct conversation cv, got;
    char sid[SID_LEN + 1];
    sid_new(sid, "CH");
    make_conversation(e, &cv, sid);
    struct arena a;
    arena_init(&a);

    assert_int_equal(run_due(e, T0 + MINUTE - 1), 0);
    fetch(e, sid, &a, &got);
    assert_string_equal(got.state, CONV_ACTIVE);

    assert_int_equal(run_due(e, T0 + MINUTE), 1);
    fetch(e, sid, &a, &got);
    assert_string_equal(got.state, CONV_INACTIVE);
    assert_int_equal(got.date_inactive, T0 + MINUTE);
    assert_int_equal(got.date_closed, T0 + 10 * MINUTE);
    long long due = 0;
    assert_int_equal(store_timer_get(e->r, "conversation.inactive", sid, &due), ST_NOT_FOUND);
    assert_int_equal(store_timer_get(e->r, "conversation.closed", sid, &due), ST_OK);
    assert_int_equal(due, T0 + 10 * MINUTE);
    state_events(e, &s);
    assert_int_equal(s.n, 1);
    assert_non_null(strstr(s.params[0], "StateFrom=active&StateTo=inactive&"));
    assert_non_null(strstr(s.params[0], "&Reason=TIMER"));
    assert_null(strstr(s.params[0], "Source="));
    assert_non_null(strstr(s.params[0], sid));
    struct last_change l = {0};
    assert_int_equal(store_change_list(e->r, e->acct.sid, 0, CHANGES_PAGE_MAX, keep_change, &l), ST_OK);
    assert_string_equal(l.sid, sid);
    assert_string_equal(l.kind, "updated");

    assert_int_equal(run_due(e, T0 + 10 * MINUTE), 1);
    fetch(e, sid, &a, &got);
    assert_string_equal(got.state, CONV_CLOSED);
    assert_int_equal(got.date_closed, T0 + 10 * MINUTE);
    state_events(e, &s);
    assert_int_equal(s.n, 1);
    assert_non_null(strstr(s.params[0], "StateFrom=inactive&StateTo=closed&"));
    assert_int_equal(run_due(e, INT64_MAX / 4), 0); /* nothing left */
    arena_free(&a);
}

/* A timer whose conversation has moved on (re-armed elsewhere, closed) or is gone changes nothing. */
static void test_stale_timer_changes_nothing(void **state)
{
    struct engine *e = *state;
    if (e->skip) skip();
    struct conversation cv, got;
    char sid[SID_LEN + 1], gone[SID_LEN + 1];
    sid_new(sid, "CH");
    sid_new(gone, "CH");
    make_conversation(e, &cv, sid);
    struct arena a;
    arena_init(&a);
    /* the row now waits for a later inactive time than the armed timer */
    struct store_conn *c = e->w;
    cv.date_inactive = T0 + 5 * MINUTE;
    assert_int_equal(c->ops->tx_begin(c), ST_OK);
    assert_int_equal(store_conversation_update(c, &cv, NULL), ST_OK);
    assert_int_equal(store_timer_set(c, cv.account_sid, "conversation.inactive", gone, T0), ST_OK);
    assert_int_equal(c->ops->tx_commit(c), ST_OK);
    assert_int_equal(run_due(e, T0 + 2 * MINUTE), 2); /* both fire, neither changes a row */
    fetch(e, sid, &a, &got);
    assert_string_equal(got.state, CONV_ACTIVE);
    assert_int_equal(got.date_updated, T0);
    arena_free(&a);
}

/* Activity revives an inactive conversation and restarts both timers from now. */
static void test_activity_revives_and_restarts(void **state)
{
    struct engine *e = *state;
    if (e->skip) skip();
    configure_hooks(e);
    struct seen s;
    state_events(e, &s);
    struct conversation cv, got;
    char sid[SID_LEN + 1];
    sid_new(sid, "CH");
    make_conversation(e, &cv, sid);
    assert_int_equal(run_due(e, T0 + MINUTE), 1); /* inactive now */
    state_events(e, &s);
    assert_int_equal(s.n, 1);
    struct req r;
    memset(&r, 0, sizeof(r));
    arena_init(&r.arena);
    r.webhook_enabled = 1;
    assert_int_equal(store_conversation_get_by_sid(e->r, sid, &r.arena, &cv), ST_OK);
    assert_string_equal(cv.state, CONV_INACTIVE);
    long long now = time_now_ms();
    assert_int_equal(clock_freeze(now), 0); /* the clock never goes back: the activity is now */
    struct store_conn *c = e->w;
    assert_int_equal(c->ops->tx_begin(c), ST_OK);
    assert_int_equal(conversations_activity(c, &r, &cv), ST_OK);
    assert_int_equal(c->ops->tx_commit(c), ST_OK);
    assert_int_equal(clock_resume(), 0);
    assert_int_equal(r.events_queued, 1);
    struct arena a;
    arena_init(&a);
    fetch(e, sid, &a, &got);
    assert_string_equal(got.state, CONV_ACTIVE);
    assert_int_equal(got.last_activity, now);
    assert_int_equal(got.date_inactive, now + MINUTE);
    assert_int_equal(got.date_closed, now + 10 * MINUTE);
    long long due = 0;
    assert_int_equal(store_timer_get(e->r, "conversation.inactive", sid, &due), ST_OK);
    assert_int_equal(due, now + MINUTE);
    assert_int_equal(store_timer_get(e->r, "conversation.closed", sid, &due), ST_OK);
    assert_int_equal(due, now + 10 * MINUTE);
    state_events(e, &s);
    assert_int_equal(s.n, 1);
    assert_non_null(strstr(s.params[0], "StateFrom=inactive&StateTo=active&"));
    assert_non_null(strstr(s.params[0], "&Reason=EVENT"));
    assert_non_null(strstr(s.params[0], "&Source=API"));
    arena_free(&a);
    arena_free(&r.arena);
}

#define REAPED 5 /* conversations of the deleted service */

static void test_service_reap_takes_conversations(void **state)
{
    struct engine *e = *state;
    if (e->skip) skip();
    char service[SID_LEN + 1], keep[SID_LEN + 1], sids[REAPED][SID_LEN + 1];
    sid_new(service, "IS");
    sid_new(keep, "CH");
    struct store_conn *c = e->w;
    assert_int_equal(c->ops->tx_begin(c), ST_OK);
    assert_int_equal(services_insert_with_defaults(c, e->acct.sid, "doomed", T0, service), ST_OK);
    assert_int_equal(c->ops->tx_commit(c), ST_OK);
    struct conversation cv;
    for (int i = 0; i < REAPED; i++) {
        sid_new(sids[i], "CH");
        make_in(e, &cv, sids[i], service);
    }
    make_conversation(e, &cv, keep);
    assert_int_equal(c->ops->tx_begin(c), ST_OK);
    assert_int_equal(store_service_delete(c, e->acct.sid, service), ST_OK);
    assert_int_equal(c->ops->tx_commit(c), ST_OK);
    int more = 1, calls = 0;
    while (more) {
        assert_true(++calls <= 20);
        assert_int_equal(c->ops->tx_begin(c), ST_OK);
        assert_int_equal(store_service_reap(c, 2, &more), ST_OK);
        assert_int_equal(c->ops->tx_commit(c), ST_OK);
    }
    /* two conversations per call (then its other rows and the service row): bounded batches */
    assert_true(calls >= REAPED / 2 + 2);
    struct arena a;
    arena_init(&a);
    for (int i = 0; i < REAPED; i++)
        assert_int_equal(store_conversation_get_by_sid(e->r, sids[i], &a, &cv), ST_NOT_FOUND);
    assert_int_equal(store_conversation_get_by_sid(e->r, keep, &a, &cv), ST_OK);
    arena_free(&a);
}

int main(void)
{
    clock_test_enable();
    if (conversations_timers_register() != 0) return 1;
    const struct CMUnitTest cases[] = {
        cmocka_unit_test(test_inactive_then_closed),
        cmocka_unit_test(test_stale_timer_changes_nothing),
        cmocka_unit_test(test_activity_revives_and_restarts),
        cmocka_unit_test(test_service_reap_takes_conversations),
    };
    int failed = cmocka_run_group_tests_name("conversations: sqlite", cases, setup_sqlite, teardown);
    failed +=
        cmocka_run_group_tests_name("conversations: postgres (PARLEY_TEST_PG)", cases, setup_pg, teardown);
    return failed;
}
