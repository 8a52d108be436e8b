/* The webhook client: one thread running libcurl's multi interface (connection reuse across requests).
 * It makes the synchronous-looking pre-event calls for handlers (each completes through a callback) and
 * delivers the durable post-event outbox: oldest first, one at a time per order key, retried with
 * backoff on connection failures, timeouts, 429 and 5xx, each retry carrying RetryCount. Rows are
 * claimed in the store with a lease, so several servers can share one outbox; claims share the slots
 * fairly between accounts and targets, and a failing target backs off as a whole. */
#ifndef PARLEY_CLIENT_H
#define PARLEY_CLIENT_H

#include "util/buf.h"

struct app;
struct hook_client;

struct hook_client_config {
    int pre_timeout_ms;  /* default 5000, as Twilio */
    int post_timeout_ms; /* default 5000 */
    int max_attempts;    /* post-event deliveries: attempts before giving up (default 50) */
    int backoff_base_ms; /* first retry delay, doubled each time (default 500) */
    int backoff_max_ms;  /* ceiling of the delay (default 30000) */
    int max_in_flight;   /* concurrent post-event deliveries (default 32) */
    int per_account_max; /* of which one account's (default three quarters of max_in_flight) */
    int per_target_max;  /* of which to one URL (default half of max_in_flight) */
    int target_policy;   /* enum target_policy (webhook/addr_policy.h): which addresses a webhook may reach */
    int allow_link_local;        /* under TARGETS_OPEN, link-local and metadata addresses too */
    int release_claims_at_start; /* the only server on its store: what a crash left claimed is due */
};

enum pre_outcome { PRE_OK, PRE_HTTP_STATUS, PRE_TIMEOUT, PRE_FAILED };

struct pre_call {
    /* in: all strings must stay valid until done() */
    const char *account_sid;
    const char *event_type;
    const char *url;
    const char *method; /* GET or POST */
    const char *params; /* form-encoded, without RetryCount */
    const char *token;  /* the account's auth token: the signing key */
    /* out */
    enum pre_outcome outcome; /* PRE_OK: 200; PRE_HTTP_STATUS: another status */
    int status;
    struct buf body; /* the response body (bounded) */
    long long latency_ms;
    char error[128];
    void (*done)(struct pre_call *pc); /* on the client thread */
    void *ctx;
};

int hook_client_start(struct hook_client **out, struct app *app, const struct hook_client_config *cfg);
/* Thread-safe: queues a pre-event call. */
void hook_client_pre(struct hook_client *h, struct pre_call *pc);
/* Thread-safe: every pre-event call waiting or to come fails at once (as "server stopping"), for a stop
 * that cannot wait for their timeout. Post-event delivery goes on. */
void hook_client_cancel_pre(struct hook_client *h);
/* Thread-safe: new outbox rows were committed. */
void hook_client_kick(struct hook_client *h);
/* Queued and pending deliveries stay in the outbox for the next start. */
void hook_client_stop(struct hook_client *h);
unsigned long long hook_client_outbox_depth(struct hook_client *h);

#endif
