/* Store operations for webhooks: configuration (account and service level), the outbox of post-event
 * deliveries (written in the same transaction as the change that causes them) and the delivery log. */
#ifndef PARLEY_WEBHOOK_STORE_H
#define PARLEY_WEBHOOK_STORE_H

#include "store/store.h"

struct webhook_config {
    char account_sid[SID_LEN + 1];
    char service_sid[SID_LEN + 1]; /* "" at account level */
    char *method;                  /* "GET" | "POST" | NULL */
    char *filters;                 /* JSON array of event names, or NULL */
    char *pre_url;
    char *post_url;
    char *target; /* account level: "webhook" | "flex" */
};

struct outbox_row {
    long long id;
    char account_sid[SID_LEN + 1];
    char *event_type;
    char *url;
    char *method;
    char *params;    /* form-encoded, without RetryCount */
    char *order_key; /* deliveries with one key go out in id order */
    char *idempotency_token;
    int attempts;
    long long next_attempt_at; /* ms */
    long long created_at;
};

struct webhook_log_entry {
    long long id;
    char account_sid[SID_LEN + 1];
    const char *kind; /* "pre" | "post" */
    const char *event_type;
    const char *url;
    const char *method;
    const char *outcome; /* delivered | failed | pending | vetoed | proceeded | modified */
    int status;          /* last HTTP status, 0 when none */
    int attempts;
    long long latency_ms;
    const char *last_error;
    const char *idempotency_token;
    long long created_at;
    long long completed_at; /* 0 while pending */
};

/* Fair sharing of the delivery slots (issue 10): claimed rows count as in flight on every server. */
struct outbox_claim_limits {
    int per_account; /* in-flight deliveries of one account */
    int per_target;  /* in-flight deliveries to one URL */
};

typedef int (*outbox_row_fn)(void *ctx, const struct outbox_row *row);
typedef int (*webhook_log_fn)(void *ctx, const struct webhook_log_entry *e);

/* service_sid NULL: the account-level configuration. ST_NOT_FOUND when never set. */
int store_webhook_config_get(struct store_conn *c, const char *account_sid, const char *service_sid,
                             struct arena *a, struct webhook_config *out);
int store_webhook_config_put(struct store_conn *c, const struct webhook_config *cfg);
int store_outbox_insert(struct store_conn *c, const struct outbox_row *row);
/* Claims up to limit deliveries for owner until lease_now + lease_ms and passes each to fn (pointers
 * valid during the call): rows that are due at now, not claimed by anyone else (or whose claim expired
 * by lease_now), and the oldest of their order key (so that one key's deliveries go out one at a time,
 * in order), whose target is not backing off. Fair: each account's earliest-due rows, taken round-robin
 * across accounts, with at most lim->per_account claimed rows per account and lim->per_target per URL.
 * Safe with several servers on one database. Two clocks: now (time_now_ms, the domain's, which a test
 * clock moves) for due times and backoff; lease_now (clock_wall_ms, real time, which every server
 * shares) for the leases, which measure how long a delivery has been in flight. When fewer than limit
 * rows were claimed, *next_due receives the earliest time another row falls due, on the domain clock
 * (0: none); when limit rows were, it is 0 (the caller claims again soon anyway). Runs inside the
 * caller's transaction: the writer's (webhook/client.c sends it as a write job, so that claims never
 * contend with the writer for the database). */
int store_outbox_claim(struct store_conn *c, const char *owner, long long now, long long lease_now,
                       long long lease_ms, int limit, const struct outbox_claim_limits *lim, outbox_row_fn fn,
                       void *ctx, long long *next_due);
/* A delivery to url failed in a way worth retrying: the whole target waits base_ms, doubled for
 * each failure since it last answered (at most max_ms). Failures while it waits count once. */
int store_webhook_target_failed(struct store_conn *c, const char *url, long long now, long long base_ms,
                                long long max_ms);
/* A delivery to url succeeded: the target's backoff ends. */
int store_webhook_target_ok(struct store_conn *c, const char *url);
/* Drops every claim (a single server starting: what it had claimed before a crash is due again). */
int store_outbox_release_all(struct store_conn *c);
/* Rows waiting in the outbox. */
int store_outbox_count(struct store_conn *c, long long *n);
/* Delivered or given up: the row leaves the outbox and its outcome enters the log. */
int store_outbox_finish(struct store_conn *c, long long id, const struct webhook_log_entry *e);
/* Not delivered yet: unclaimed, due again at next_attempt_at. */
int store_outbox_retry(struct store_conn *c, long long id, int attempts, long long next_attempt_at,
                       int status, const char *error, long long latency_ms);
int store_webhook_log_insert(struct store_conn *c, const struct webhook_log_entry *e);
/* Pending deliveries, then the log, newest first, at most limit rows in all. */
int store_webhook_log_list(struct store_conn *c, const char *account_sid, int limit, webhook_log_fn fn,
                           void *ctx);

#endif
