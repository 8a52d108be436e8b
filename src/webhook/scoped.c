#include "webhook/scoped.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "store/scoped_webhooks.h"
#include "store/store.h"
#include "store/webhook_store.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/sid.h"
#include "webhook/events.h"

/* The post-events that belong to an existing conversation: the list the spec gives for
 * AutoCreation.WebhookFilters (BEHAVIOUR-conversations §5.2). */
static const char *const scoped_events[] = {
    "onMessageAdded",        "onMessageUpdated",           "onMessageRemoved",   "onConversationUpdated",
    "onConversationRemoved", "onConversationStateUpdated", "onParticipantAdded", "onParticipantUpdated",
    "onParticipantRemoved",  "onDeliveryUpdated",
};

#define MESSAGE_ADDED "onMessageAdded"
/* Form parameters of one delivery: the event's (at most 256 KB, see api/conversations.c) and ours. */
#define SCOPED_PARAMS_MAX (256 * 1024 + 256)
/* An order key per target: "CH…/WH…" */
#define ORDER_KEY_LEN (2 * SID_LEN + 1)

static const char *studio_url;
static scoped_replay_fn replay_fn;

void scoped_webhooks_set_studio_url(const char *url)
{
    studio_url = url && *url ? url : NULL;
}

void scoped_webhooks_set_replay(scoped_replay_fn fn)
{
    replay_fn = fn;
}

int scoped_event_valid(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof(scoped_events) / sizeof(scoped_events[0]); i++)
        if (strlen(scoped_events[i]) == n && memcmp(scoped_events[i], name, n) == 0) return 1;
    return 0;
}

static int is_space(char ch)
{
    return isspace((unsigned char)ch) != 0;
}

int scoped_trigger_match(const char *triggers, const char *body)
{
    if (!triggers || !body) return 0;
    while (is_space(*body))
        body++;
    size_t n = strlen(body);
    while (n && is_space(body[n - 1]))
        n--;
    json_t *arr = json_loads(triggers, 0, NULL);
    int hit = 0;
    size_t i;
    json_t *kw;
    json_array_foreach(arr, i, kw)
    {
        const char *k = json_string_value(kw);
        size_t kn = k ? strlen(k) : 0;
        if (!kn || kn > n || strncasecmp(body, k, kn) != 0) continue;
        if (kn == n || is_space(body[kn])) {
            hit = 1;
            break;
        }
    }
    json_decref(arr);
    return hit;
}

int scoped_webhook_takes(const struct scoped_webhook *w, const char *event, const char *body)
{
    if (!scoped_event_valid(event, strlen(event))) return 0;
    if (strcmp(w->target, "webhook") == 0) return webhook_filters_has(w->filters, event);
    if (strcmp(event, MESSAGE_ADDED) != 0) return 0;
    if (strcmp(w->target, "trigger") == 0) return scoped_trigger_match(w->triggers, body);
    return strcmp(w->target, "studio") == 0;
}

/* A studio delivery without a Studio to go to: a line of the delivery log, nothing sent. */
static int record_studio(struct store_conn *c, const struct scoped_webhook *w, const char *event,
                         const char *token)
{
    char url[sizeof("studio:") + SID_LEN];
    snprintf(url, sizeof(url), "studio:%s", w->flow_sid ? w->flow_sid : "");
    long long now = time_now_ms();
    struct webhook_log_entry e = {0};
    memcpy(e.account_sid, w->account_sid, SID_LEN + 1);
    e.kind = "post";
    e.event_type = event;
    e.url = url;
    e.method = "POST";
    e.outcome = "recorded";
    e.idempotency_token = token;
    e.created_at = now;
    e.completed_at = now;
    return store_webhook_log_insert(c, &e);
}

int scoped_webhook_queue_one(struct store_conn *c, const struct scoped_webhook *w, const char *event,
                             const char *params, const char *body)
{
    char token[37];
    uuid4_new(token);
    int studio = strcmp(w->target, "studio") == 0;
    if (studio && !studio_url) return record_studio(c, w, event, token);
    struct buf p;
    buf_init(&p, SCOPED_PARAMS_MAX);
    buf_puts(&p, params ? params : "");
    webhook_param(&p, "WebhookSid", w->sid);
    webhook_param(&p, "WebhookType", w->target);
    if (studio) webhook_param(&p, "FlowSid", w->flow_sid);
    /* each target's deliveries in order, and a dead receiver holds up only its own */
    char key[ORDER_KEY_LEN + 1];
    snprintf(key, sizeof(key), "%s/%s", w->conversation_sid, w->sid);
    struct outbox_row row = {0};
    memcpy(row.account_sid, w->account_sid, SID_LEN + 1);
    row.event_type = (char *)event;
    row.url = (char *)(studio ? studio_url : w->url);
    row.method = (char *)(!studio && w->method && strcasecmp(w->method, "get") == 0 ? "GET" : "POST");
    row.params = p.p ? p.p : "";
    row.order_key = key;
    row.idempotency_token = token;
    row.created_at = time_now_ms();
    int rc = p.err ? ST_ERROR : store_outbox_insert(c, &row);
    buf_free(&p);
    return rc;
}

struct collect {
    struct arena *a;
    struct scoped_webhook w[SCOPED_WEBHOOKS_MAX];
    int n;
};

static char *dup(struct arena *a, const char *s)
{
    return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

static int collect_row(void *ctx, const struct scoped_webhook *w)
{
    struct collect *col = ctx;
    if (col->n >= SCOPED_WEBHOOKS_MAX) return 1;
    struct scoped_webhook *o = &col->w[col->n++];
    *o = *w;
    o->target = dup(col->a, w->target);
    o->url = dup(col->a, w->url);
    o->method = dup(col->a, w->method);
    o->filters = dup(col->a, w->filters);
    o->triggers = dup(col->a, w->triggers);
    o->flow_sid = dup(col->a, w->flow_sid);
    return 0;
}

int scoped_webhooks_queue(struct store_conn *c, const char *account_sid, const char *conversation_sid,
                          const char *event, const char *params, const char *body, struct arena *a)
{
    if (!conversation_sid || !scoped_event_valid(event, strlen(event))) return 0;
    struct collect col = {.a = a};
    struct page_req p = {.dir = 'a', .after = 0, .limit = SCOPED_WEBHOOKS_MAX};
    /* read whole before queueing: no statement runs while the list's is still stepping */
    int rc = store_scoped_webhook_list(c, conversation_sid, &p, collect_row, &col);
    if (rc != ST_OK) return rc;
    int queued = 0;
    for (int i = 0; i < col.n; i++) {
        if (strcmp(col.w[i].account_sid, account_sid) != 0) continue; /* a conversation has one account */
        if (!scoped_webhook_takes(&col.w[i], event, body)) continue;
        rc = scoped_webhook_queue_one(c, &col.w[i], event, params, body);
        if (rc != ST_OK) return rc;
        queued++;
    }
    return queued;
}

struct replay_ctx {
    struct store_conn *c;
    const struct scoped_webhook *w;
    int queued;
};

static int replay_row(void *ctx, const char *params, const char *body)
{
    struct replay_ctx *rc = ctx;
    if (!scoped_webhook_takes(rc->w, MESSAGE_ADDED, body)) return 0;
    int err = scoped_webhook_queue_one(rc->c, rc->w, MESSAGE_ADDED, params, body);
    if (err == ST_OK) rc->queued++;
    return err;
}

int scoped_webhook_replay(struct store_conn *c, const struct scoped_webhook *w, struct arena *a)
{
    if (!replay_fn || w->replay_after < 0) return 0;
    struct replay_ctx ctx = {c, w, 0};
    int rc = replay_fn(c, w->conversation_sid, w->replay_after, a, replay_row, &ctx);
    return rc != ST_OK ? rc : ctx.queued;
}

int conversation_event_queue(struct store_conn *c, const char *account_sid, const char *service_sid,
                             const char *conversation_sid, const char *event, const char *params,
                             const char *body, struct arena *a)
{
    int n = webhook_queue_event(c, account_sid, service_sid, event, conversation_sid, params, a);
    if (n < 0) return n;
    int s = scoped_webhooks_queue(c, account_sid, conversation_sid, event, params, body, a);
    return s < 0 ? s : n + s;
}
