/* Delivery to conversation-scoped webhooks (BEHAVIOUR-conversations §5.3): the events of one conversation
 * go to each of its scoped targets that takes them, through the same signed outbox as the account and
 * service targets, each with WebhookSid. */
#ifndef PARLEY_WEBHOOK_SCOPED_H
#define PARLEY_WEBHOOK_SCOPED_H
#include <stddef.h>

struct arena;
struct store_conn;
struct scoped_webhook;

/* 1 if name[0..n) is a post-event of an existing conversation, which a scoped target may filter on. */
int scoped_event_valid(const char *name, size_t n);

/* 1 if the message body matches one of the keywords of triggers (a JSON array): trimmed and compared
 * without case, the body equals a keyword or starts with one followed by white space. */
int scoped_trigger_match(const char *triggers, const char *body);

/* 1 if the scoped target w takes event (body: the message's, NULL for other events): webhook by its
 * filters, trigger on onMessageAdded with a matching body, studio on onMessageAdded. */
int scoped_webhook_takes(const struct scoped_webhook *w, const char *event, const char *body);

/* Inside the write transaction of a change of the conversation: queues event, with its form-encoded
 * parameters (as for the service targets, without RetryCount), to each scoped target of the conversation
 * that takes it, adding WebhookSid and WebhookType; body is the message body for message events (trigger
 * matching), else NULL. Conversations, participants and messages call it beside webhook_queue_event, and
 * only where that one is called (REST calls with X-Twilio-Webhook-Enabled: true, timers, inbound
 * traffic). Returns how many deliveries were queued or recorded (0 when none), or a negative
 * store_result. */
int scoped_webhooks_queue(struct store_conn *c, const char *account_sid, const char *conversation_sid,
                          const char *event, const char *params, const char *body, struct arena *a);

/* Inside a write transaction: an event of a conversation or of what lives in it, to every target that
 * takes it: the account's and the service's (webhook_queue_event, in the conversation's order) and the
 * conversation's own scoped targets. body is a message's body (trigger matching), else NULL. Returns how
 * many deliveries were queued, or a negative store_result. */
int conversation_event_queue(struct store_conn *c, const char *account_sid, const char *service_sid,
                             const char *conversation_sid, const char *event, const char *params,
                             const char *body, struct arena *a);

/* The same for one target only (a ReplayAfter replay of the messages before it existed). */
int scoped_webhook_queue_one(struct store_conn *c, const struct scoped_webhook *w, const char *event,
                             const char *params, const char *body);

/* Where studio targets' events go: Parley has no Studio, so with no URL (the default) a studio delivery is
 * recorded in the delivery log only (outcome "recorded"); with one (--studio-url) it is POSTed there.
 * Set once at start-up; url must outlive the server. */
void scoped_webhooks_set_studio_url(const char *url);

/* Message replay for ReplayAfter, provided by the messages code (scoped_webhooks_set_replay at start-up):
 * calls fn for each message of the conversation with index >= from, in index order, with the
 * onMessageAdded parameters of that message (as webhook_queue_event takes them) and its body. Returns 0
 * or a negative store_result; fn's non-zero result stops it and is returned. */
typedef int (*scoped_replay_row_fn)(void *ctx, const char *params, const char *body);
typedef int (*scoped_replay_fn)(struct store_conn *c, const char *conversation_sid, long long from,
                                struct arena *a, scoped_replay_row_fn fn, void *ctx);
void scoped_webhooks_set_replay(scoped_replay_fn fn);
/* Queues onMessageAdded of every message from index w->replay_after on to w alone (nothing when no replay
 * function is registered, or w has no replay_after). Returns how many were queued, or a store_result. */
int scoped_webhook_replay(struct store_conn *c, const struct scoped_webhook *w, struct arena *a);

#endif
