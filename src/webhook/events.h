/* Conversations webhook events: their names, which targets receive them, and the parameters a user
 * event carries (BEHAVIOUR §7, §10.2). */
#ifndef PARLEY_EVENTS_H
#define PARLEY_EVENTS_H
#include <stddef.h>

struct buf;
struct arena;
struct store_conn;
struct user;
struct webhook_config;

/* 1 if name[0..n) is one of the 23 event names of the Filters enums. */
int webhook_event_valid(const char *name, size_t n);
/* 1 if the JSON array text filters (as stored) names event. */
int webhook_filters_has(const char *filters, const char *event);

#define WEBHOOK_MAX_TARGETS 2 /* account level and service level */

struct webhook_target {
    const char *url;
    const char *method; /* "GET" or "POST" */
};

/* The URLs that receive event for this service: account level (target "webhook" only) and service level,
 * each when its Filters name the event. pre selects pre-event URLs. Returns the number found (strings
 * live in a). */
int webhook_targets(struct store_conn *c, const char *account_sid, const char *service_sid, const char *event,
                    int pre, struct arena *a, struct webhook_target out[WEBHOOK_MAX_TARGETS]);

/* Appends name=value (percent-encoded, '&' between pairs) to a form; a NULL value is omitted. */
void webhook_param(struct buf *out, const char *name, const char *value);

/* Inside a write transaction: queues the post-event deliveries of event with its form-encoded parameters
 * (without RetryCount) to every target of the service that takes it; order_key keeps one resource's (one
 * conversation's) deliveries in order. Returns how many were queued (0 when none match), or a negative
 * store_result. */
int webhook_queue_event(struct store_conn *c, const char *account_sid, const char *service_sid,
                        const char *event, const char *order_key, const char *params, struct arena *a);

enum user_event { EV_USER_ADDED, EV_USER_UPDATE, EV_USER_UPDATED };

/* Form-encoded parameters of a user event (without RetryCount), as §10.2.2 lists them: dates with
 * milliseconds, null values omitted. */
void webhook_user_params(struct buf *out, enum user_event ev, const struct user *u);
const char *webhook_user_event_name(enum user_event ev);

/* Inside a write transaction: queues the post-event deliveries of ev for u. Returns how many were
 * queued (0 when none match), or a negative store_result. */
int webhook_queue_user_event(struct store_conn *c, enum user_event ev, const struct user *u, struct arena *a);

#endif
