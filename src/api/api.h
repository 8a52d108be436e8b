/* What the resource modules in api/ share: the route table, request helpers and renderers. */
#ifndef PARLEY_API_H
#define PARLEY_API_H

#include "api/app.h"
#include "http/request.h"
#include "http/router.h"

struct jw;

struct family;

extern const struct route *const api_routes; /* under /v1, built from the families (api/routes.c) */
/* Beside each row of api_routes: the family its handlers run (r->route_arg), NULL for a handler of its own.
 */
extern const struct family *const *const api_route_families;
extern const struct route_mount api_mount; /* where api_routes' ROUTE_TWIN rows are mounted again */

/* Route labels for metrics ("/v1/Users/{}", "/parley/webhooks/log"), one per route of the tables, in
 * r->route_idx order: *out, and how many (-1 when out of memory). Built on the first call. */
int api_route_names(const char *const **out);
/* GET /metrics (Prometheus text): behind credentials unless public. */
int api_metrics(struct req *r, const char *authorization);

/* HTTP Basic against the store (BEHAVIOUR §6): 0 with r->account set, or -1 with a 401 (or a store
 * error) in r->status/r->out. The server calls it on the headers, before any body is read. */
int api_authenticate(struct req *r, const char *authorization);

/* Authenticates (unless r->authenticated), routes and runs the handler: 0 when r->status/r->out are ready, 1
 * when a write job was queued (r->on_complete is called once it is durable or failed). */
int api_dispatch(struct req *r, const char *authorization);

/* An account row changed (its default service, settings or token): cached copies are stale. */
void api_accounts_changed(void);

/* Queues r->apply on the writer. The handler returns what this returns. */
int api_write(struct req *r, int (*apply)(struct store_conn *c, struct req *r), void *ctx);

/* Starts a JSON object response with the given status; returns the writer for the body. */
void api_json_begin(struct req *r, struct jw *w, int status);

/* "<public>/v1" or "<public>/v1/Services/IS…" by the request's path family, computed once per request
 * (rendering a list page asks 50 times); its length in *len. */
const char *api_base(struct req *r, size_t *len);
/* The same without the public URL ("/v1/…"), for list paths and messages. */
void api_rel_base(struct req *r, char *out, size_t n);

/* Account bootstrap (api/services.c): the account row with its default service, used at start-up. */
int services_create_default_account(struct app *app, const char *account_sid, const char *auth_token);
/* The same with a friendly name (NULL: none), for `parley account create`. */
int services_create_account(struct app *app, const char *account_sid, const char *auth_token,
                            const char *friendly_name);
/* The background reaper of deleted services' rows (bounded batches through the writer, resumed at start
 * and polled for, so that a batch another server left behind is finished too). */
int services_reaper_start(struct app *app);
void services_reaper_stop(struct app *app);

/* Inside a write transaction: a service with its configuration, notifications and default roles. */
int services_insert_with_defaults(struct store_conn *c, const char *account_sid, const char *friendly_name,
                                  long long now, const char *service_sid);

/* Handlers of the operations that are no family (api/routes.c) */
int conversation_with_participants_create(struct req *r);
int receipts_list(struct req *r); /* api/delivery_receipts.c */
int receipts_fetch(struct req *r);

struct conversation;
/* The conversation of r->service_sid whose SID or unique name is key (BEHAVIOUR-conversations §0.2), for
 * reading: ST_NOT_FOUND when none; strings in r's arena. */
int conversations_get(struct store_conn *c, struct req *r, const char *key, struct conversation *out);
/* The runner's resolve_parent of the families under a conversation: r->parent_sid is the SID of the
 * conversation {ConversationSid} names; 20404 when there is none. A SID with r->parent_deferred is taken
 * as named, unread (the create's write checks it). */
int conversations_resolve_parent(struct req *r, const char *key);
/* The closed guard (BEHAVIOUR-conversations §0.4) for a write to or under the conversation key (a SID or
 * unique name) of r->service_sid: 0 with the conversation in *out (strings in r's arena); 20404 when
 * there is none, 50377 when it is closed, or a store result. Call it in the write transaction. */
int conversations_writable(struct store_conn *c, struct req *r, const char *key, struct conversation *out);
/* Activity in the conversation (a participant added, a message), in that change's write transaction,
 * after conversations_writable: the timers count from now again and an inactive conversation becomes
 * active (with the header, onConversationStateUpdated Reason=EVENT). *cv is updated and written, unless
 * it is active without timers (nothing would change); 0 or a store result. */
int conversations_activity(struct store_conn *c, struct req *r, struct conversation *cv);
/* 1 when cv is closed (its state alone is read). */
int conversations_closed(const struct conversation *cv);
/* 1 when activity would change nothing in cv: it is not inactive and has no timer (state and timers are
 * all it reads). */
int conversations_quiet(const struct conversation *cv);
/* A conversation's timers object: the key of each timer configured (> 0) and due or past (its date > 0),
 * for every resource that shows one (a conversation, a participant's or user's view of it). */
void conversation_render_timers(struct jw *w, long long timer_inactive, long long date_inactive,
                                long long timer_closed, long long date_closed);
/* Inside a write transaction, a conversation no REST call creates (inbound auto-creation,
 * BEHAVIOUR-conversations §9.1): cv, zeroed but for its SID, account, service and dates, gets what an
 * empty create gives (active, attributes "{}", the account's messaging service and timers), is inserted
 * with its timers' schedule and its change record. No event: the caller queues those of its traffic. */
int conversations_insert_plain(struct store_conn *c, struct req *r, struct conversation *cv);
/* Registers the conversation state timers' kinds (store/timers.h); at start-up, before the timer
 * scheduler starts. 0, or -1. */
int conversations_timers_register(void);
/* Gives conversation-scoped webhooks their ReplayAfter (webhook/scoped.h), its events rendered as app's
 * switches say (app outlives the server); at start-up. */
void messages_replay_register(const struct app *app);

#endif
