/* Delivery to conversation-scoped webhooks (webhook/scoped.c, BEHAVIOUR-conversations §5.3): which
 * target takes which event (a webhook by its filters, a trigger by a keyword of the message body, a studio
 * target onMessageAdded), and on every engine what scoped_webhooks_queue leaves in the outbox (one row per
 * taking target, WebhookSid and WebhookType added, one order key per target), the studio delivery recorded
 * in the log (or sent to --studio-url), the ReplayAfter replay through the function the messages code
 * registers, and the cascade from the conversation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engines_fixture.h"
#include "store/conversations.h"
#include "store/scoped_webhooks.h"
#include "store/webhook_store.h"
#include "util/arena.h"
#include "webhook/scoped.h"

/* ---- which target takes which event ---- */

static void test_trigger_keywords(void **state)
{
    const char *kw = "[\"help\",\"talk to agent\"]";
    assert_true(scoped_trigger_match(kw, "help"));
    assert_true(scoped_trigger_match(kw, "  HELP  "));
    assert_true(scoped_trigger_match(kw, "Help me please"));
    assert_true(scoped_trigger_match(kw, "help\tnow"));
    assert_true(scoped_trigger_match(kw, "Talk to agent"));
    assert_false(scoped_trigger_match(kw, "helpful"));
    assert_false(scoped_trigger_match(kw, "I need help"));
    assert_false(scoped_trigger_match(kw, "hel"));
    assert_false(scoped_trigger_match(kw, ""));
    assert_false(scoped_trigger_match(kw, NULL));
    assert_false(scoped_trigger_match("[]", "help"));
    assert_false(scoped_trigger_match("not json", "help"));
}

static void test_scoped_events(void **state)
{
    const char *yes[] = {"onMessageAdded",        "onMessageUpdated",           "onMessageRemoved",
                         "onConversationUpdated", "onConversationStateUpdated", "onConversationRemoved",
                         "onParticipantAdded",    "onParticipantUpdated",       "onParticipantRemoved",
                         "onDeliveryUpdated"};
    const char *no[] = {"onMessageAdd",
                        "onConversationAdded",
                        "onConversationAdd",
                        "onUserAdded",
                        "onMessageSent",
                        "onConversationDestroyed",
                        ""};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        assert_true(scoped_event_valid(yes[i], strlen(yes[i])));
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        assert_false(scoped_event_valid(no[i], strlen(no[i])));
}

static void test_targets_take(void **state)
{
    struct scoped_webhook w = {.target = "webhook", .filters = "[\"onParticipantAdded\"]", .triggers = "[]"};
    assert_true(scoped_webhook_takes(&w, "onParticipantAdded", NULL));
    assert_false(scoped_webhook_takes(&w, "onMessageAdded", "hi"));
    w.filters = "[\"onUserAdded\"]"; /* never stored, and not a scoped event anyway */
    assert_false(scoped_webhook_takes(&w, "onUserAdded", NULL));
    struct scoped_webhook t = {
        .target = "trigger", .filters = "[\"onMessageUpdated\"]", .triggers = "[\"hi\"]"};
    assert_true(scoped_webhook_takes(&t, "onMessageAdded", "Hi there"));
    assert_false(scoped_webhook_takes(&t, "onMessageAdded", "bye"));
    assert_false(scoped_webhook_takes(&t, "onMessageUpdated", "hi")); /* a trigger is onMessageAdded only */
    struct scoped_webhook s = {.target = "studio", .filters = "[]", .triggers = "[]"};
    assert_true(scoped_webhook_takes(&s, "onMessageAdded", "anything"));
    assert_false(scoped_webhook_takes(&s, "onConversationUpdated", NULL));
}

/* ---- the outbox, on each engine ---- */

ENGINE_GROUPS("scoped_hooks")

static void make_conversation(struct engine *e, char sid[SID_LEN + 1])
{
    struct conversation cv;
    engine_conversation(e, &cv, 1000);
    struct store_conn *c = e->w;
    assert_int_equal(c->ops->tx_begin(c), ST_OK);
    assert_int_equal(store_conversation_insert(c, &cv), ST_OK);
    assert_int_equal(c->ops->tx_commit(c), ST_OK);
    memcpy(sid, cv.sid, SID_LEN + 1);
}

static void make_webhook(struct engine *e, const char *conversation, const char *target, const char *url,
                         const char *filters, const char *triggers, long long replay_after,
                         struct scoped_webhook *out)
{
    struct scoped_webhook w = {0};
    sid_new(w.sid, "WH");
    memcpy(w.account_sid, e->acct.sid, sizeof(w.account_sid));
    memcpy(w.service_sid, e->acct.default_service_sid, sizeof(w.service_sid));
    memcpy(w.conversation_sid, conversation, SID_LEN + 1);
    w.target = (char *)target;
    w.url = (char *)url;
    w.method = url ? "post" : NULL;
    w.filters = (char *)filters;
    w.triggers = (char *)triggers;
    w.flow_sid = url ? NULL : "FW00000000000000000000000000000001";
    w.replay_after = replay_after;
    w.date_created = w.date_updated = 2000;
    struct store_conn *c = e->w;
    assert_int_equal(c->ops->tx_begin(c), ST_OK);
    assert_int_equal(store_scoped_webhook_insert(c, &w), ST_OK);
    assert_int_equal(c->ops->tx_commit(c), ST_OK);
    *out = w;
}

#define SEEN_MAX 8
struct seen {
    int n;
    long long id[SEEN_MAX];
    char url[SEEN_MAX][64];
    char method[SEEN_MAX][8];
    char key[SEEN_MAX][2 * SID_LEN + 2];
    char params[SEEN_MAX][512];
};

static int keep_row(void *ctx, const struct outbox_row *row)
{
    struct seen *s = ctx;
    if (s->n >= SEEN_MAX) return 0;
    s->id[s->n] = row->id;
    snprintf(s->url[s->n], sizeof(s->url[0]), "%s", row->url);
    snprintf(s->method[s->n], sizeof(s->method[0]), "%s", row->method);
    snprintf(s->key[s->n], sizeof(s->key[0]), "%s", row->order_key);
    snprintf(s->params[s->n], sizeof(s->params[0]), "%s", row->params);
    s->n++;
    return 0;
}

/* The rows now due (the oldest of each order key), claimed and finished so that the next call sees the
 * following ones. */
static void claim(struct engine *e, struct seen *s)
{
    memset(s, 0, sizeof(*s));
    long long next = 0;
    struct store_conn *c = e->w;
    struct outbox_claim_limits lim = {1000, 1000};
    assert_int_equal(c->ops->tx_begin(c), ST_OK);
    assert_int_equal(store_outbox_claim(c, "test", INT64_MAX / 4, INT64_MAX / 4, INT64_MAX / 8, 100, &lim,
                                        keep_row, s, &next),
                     ST_OK);
    for (int i = 0; i < s->n; i++) {
        struct webhook_log_entry le = {0};
        memcpy(le.account_sid, e->acct.sid, sizeof(le.account_sid));
        le.kind = "post";
        le.event_type = "test";
        le.url = s->url[i];
        le.method = "POST";
        le.outcome = "delivered";
        le.idempotency_token = "t";
        assert_int_equal(store_outbox_finish(c, s->id[i], &le), ST_OK);
    }
    assert_int_equal(c->ops->tx_commit(c), ST_OK);
}

static int queue(struct engine *e, const char *conversation, const char *event, const char *body)
{
    struct arena a;
    arena_init(&a);
    struct store_conn *c = e->w;
    assert_int_equal(c->ops->tx_begin(c), ST_OK);
    int n = scoped_webhooks_queue(c, e->acct.sid, conversation, event, "EventType=x&Body=b", body, &a);
    assert_int_equal(c->ops->tx_commit(c), ST_OK);
    arena_free(&a);
    return n;
}

static int find(const struct seen *s, const char *url)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->url[i], url) == 0) return i;
    return -1;
}

struct studio_log {
    int n;
    char url[64];
    char outcome[16];
};

static int keep_log(void *ctx, const struct webhook_log_entry *le)
{
    struct studio_log *l = ctx;
    if (strncmp(le->url, "studio:", 7) != 0) return 0;
    if (l->n++ == 0) {
        snprintf(l->url, sizeof(l->url), "%s", le->url);
        snprintf(l->outcome, sizeof(l->outcome), "%s", le->outcome);
    }
    return 0;
}

static void test_queue_to_the_targets_that_take_it(void **state)
{
    struct engine *e = *state;
    if (e->skip) skip();
    char ch[SID_LEN + 1], other[SID_LEN + 1];
    make_conversation(e, ch);
    make_conversation(e, other);
    struct scoped_webhook hook, trig, studio, elsewhere;
    make_webhook(e, ch, "webhook", "http://127.0.0.1:9/hook", "[\"onMessageAdded\",\"onParticipantAdded\"]",
                 "[]", -1, &hook);
    make_webhook(e, ch, "trigger", "http://127.0.0.1:9/trig", "[]", "[\"help\"]", -1, &trig);
    make_webhook(e, ch, "studio", NULL, "[]", "[]", -1, &studio);
    make_webhook(e, other, "webhook", "http://127.0.0.1:9/other", "[\"onMessageAdded\"]", "[]", -1,
                 &elsewhere);

    /* a matching body: webhook and trigger queued, studio recorded (no --studio-url), the other
     * conversation's target untouched */
    assert_int_equal(queue(e, ch, "onMessageAdded", "Help me"), 3);
    struct seen s;
    claim(e, &s);
    assert_int_equal(s.n, 2);
    int h = find(&s, "http://127.0.0.1:9/hook"), t = find(&s, "http://127.0.0.1:9/trig");
    assert_true(h >= 0 && t >= 0);
    char want[256];
    snprintf(want, sizeof(want), "EventType=x&Body=b&WebhookSid=%s&WebhookType=webhook", hook.sid);
    assert_string_equal(s.params[h], want);
    snprintf(want, sizeof(want), "EventType=x&Body=b&WebhookSid=%s&WebhookType=trigger", trig.sid);
    assert_string_equal(s.params[t], want);
    assert_string_equal(s.method[h], "POST");
    snprintf(want, sizeof(want), "%s/%s", ch, hook.sid);
    assert_string_equal(s.key[h], want);
    struct studio_log l = {0};
    assert_int_equal(store_webhook_log_list(e->r, e->acct.sid, 100, keep_log, &l), ST_OK);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.url, "studio:FW00000000000000000000000000000001");
    assert_string_equal(l.outcome, "recorded");

    /* a body without the keyword: the webhook (and studio) only; an event no filter names: nothing */
    assert_int_equal(queue(e, ch, "onMessageAdded", "thanks"), 2);
    claim(e, &s);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.url[0], "http://127.0.0.1:9/hook");
    assert_int_equal(queue(e, ch, "onParticipantRemoved", NULL), 0);
    assert_int_equal(queue(e, ch, "onConversationAdded", NULL), 0); /* not a scoped event */
    claim(e, &s);
    assert_int_equal(s.n, 0);

    /* the conversation's delete takes its targets with it */
    long long n = -1;
    assert_int_equal(store_scoped_webhook_count(e->r, ch, &n), ST_OK);
    assert_int_equal(n, 3);
    struct store_conn *c = e->w;
    assert_int_equal(c->ops->tx_begin(c), ST_OK);
    assert_int_equal(store_conversation_delete(c, e->acct.default_service_sid, ch), ST_OK);
    assert_int_equal(c->ops->tx_commit(c), ST_OK);
    assert_int_equal(store_scoped_webhook_count(e->r, ch, &n), ST_OK);
    assert_int_equal(n, 0);
    assert_int_equal(store_scoped_webhook_count(e->r, other, &n), ST_OK);
    assert_int_equal(n, 1);
    assert_int_equal(queue(e, ch, "onMessageAdded", "help"), 0);
}

/* With --studio-url, a studio target's events go there, with its flow, instead of only to the log. */
static void test_studio_url(void **state)
{
    struct engine *e = *state;
    if (e->skip) skip();
    char ch[SID_LEN + 1];
    make_conversation(e, ch);
    struct scoped_webhook studio;
    make_webhook(e, ch, "studio", NULL, "[]", "[]", -1, &studio);
    scoped_webhooks_set_studio_url("http://127.0.0.1:9/studio");
    int n = queue(e, ch, "onMessageAdded", "anything");
    int none = queue(e, ch, "onMessageUpdated", "anything");
    scoped_webhooks_set_studio_url(NULL);
    assert_int_equal(n, 1);
    assert_int_equal(none, 0);
    struct seen s;
    claim(e, &s);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.url[0], "http://127.0.0.1:9/studio");
    assert_string_equal(s.method[0], "POST");
    char want[256];
    snprintf(want, sizeof(want), "EventType=x&Body=b&WebhookSid=%s&WebhookType=studio&FlowSid=%s", studio.sid,
             studio.flow_sid);
    assert_string_equal(s.params[0], want);
}

/* A stand-in for the messages code: messages 0..4 of any conversation, "help 0" … "help 4". */
static int fake_replay(struct store_conn *c, const char *conversation_sid, long long from, struct arena *a,
                       scoped_replay_row_fn fn, void *ctx)
{
    for (long long i = from; i < 5; i++) {
        char params[64], body[32];
        snprintf(params, sizeof(params), "EventType=onMessageAdded&Index=%lld", i);
        snprintf(body, sizeof(body), "help %lld", i);
        int rc = fn(ctx, params, body);
        if (rc) return rc;
    }
    return 0;
}

static void test_replay_after(void **state)
{
    struct engine *e = *state;
    if (e->skip) skip();
    char ch[SID_LEN + 1];
    make_conversation(e, ch);
    struct scoped_webhook w, none;
    make_webhook(e, ch, "webhook", "http://127.0.0.1:9/replay", "[\"onMessageAdded\"]", "[]", 3, &w);
    make_webhook(e, ch, "webhook", "http://127.0.0.1:9/none", "[\"onMessageAdded\"]", "[]", -1, &none);
    struct arena a;
    arena_init(&a);
    struct store_conn *c = e->w;
    scoped_webhooks_set_replay(NULL);
    assert_int_equal(c->ops->tx_begin(c), ST_OK);
    assert_int_equal(scoped_webhook_replay(c, &w, &a), 0); /* no messages code: nothing to replay */
    scoped_webhooks_set_replay(fake_replay);
    assert_int_equal(scoped_webhook_replay(c, &none, &a), 0); /* no ReplayAfter */
    assert_int_equal(scoped_webhook_replay(c, &w, &a), 2);    /* messages 3 and 4 */
    assert_int_equal(c->ops->tx_commit(c), ST_OK);
    scoped_webhooks_set_replay(NULL);
    arena_free(&a);
    /* to that target alone, in index order */
    struct seen s;
    claim(e, &s);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.url[0], "http://127.0.0.1:9/replay");
    assert_non_null(strstr(s.params[0], "Index=3&WebhookSid="));
    claim(e, &s);
    assert_int_equal(s.n, 1);
    assert_non_null(strstr(s.params[0], "Index=4&WebhookSid="));
    claim(e, &s);
    assert_int_equal(s.n, 0);
}

int main(void)
{
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(test_trigger_keywords),
        cmocka_unit_test(test_scoped_events),
        cmocka_unit_test(test_targets_take),
    };
    const struct CMUnitTest cases[] = {
        cmocka_unit_test(test_queue_to_the_targets_that_take_it),
        cmocka_unit_test(test_replay_after),
        cmocka_unit_test(test_studio_url),
    };
    int failed = cmocka_run_group_tests_name("scoped webhooks: matching", pure, NULL, NULL);
    failed += cmocka_run_group_tests_name("scoped webhooks: sqlite", cases, setup_sqlite, teardown);
    failed +=
        cmocka_run_group_tests_name("scoped webhooks: postgres (PARLEY_TEST_PG)", cases, setup_pg, teardown);
    return failed;
}
