/* One HTTP request as handlers see it: decoded inputs, the authenticated account, the route's path
 * parameters, and the response being built. Everything lives until the request completes. */
#ifndef PARLEY_REQUEST_H
#define PARLEY_REQUEST_H
#include <stddef.h>

#include "http/form.h"
#include "store/store.h"
#include "store/writer.h"
#include "util/arena.h"
#include "util/buf.h"

enum http_method { HTTP_GET = 1, HTTP_POST = 2, HTTP_DELETE = 4, HTTP_OPTIONS = 8, HTTP_OTHER = 16 };

#define ROUTE_MAX_PARAMS 4

struct app;
struct fail_detail;

struct req {
    struct app *app;
    enum http_method method;
    const char *path;    /* raw request path, e.g. "/v1/Users/alice" (not decoded) */
    const char *v1_path; /* the part after "/v1", for 20404 messages */
    struct form query;
    struct form body;
    int webhook_enabled; /* X-Twilio-Webhook-Enabled: true */
    int body_seen;       /* the request carried a non-empty body */
    enum { INPUT_OK, INPUT_TOO_LARGE, INPUT_BAD_QUERY, INPUT_BAD_BODY } input_error;
    /* the Source of the events a write fires; NULL: "API" (inbound traffic's are SMS, WHATSAPP) */
    const char *event_source;

    /* authentication */
    struct account account;
    const char *credential_sid; /* AC… or SK… used to authenticate */
    int authenticated;          /* api_authenticate() already succeeded (on the headers) */

    /* route */
    const char *param[ROUTE_MAX_PARAMS]; /* percent-decoded path parameters, NUL-terminated */
    size_t param_len[ROUTE_MAX_PARAMS];
    const char *service_sid; /* the service the path addresses (default or explicit) */
    int route_idx;           /* for metrics: api_route_index(), -1 when no route handled it */
    const void *route_arg;   /* what the route serves: for api/, the family its handlers run */
    size_t base_len;         /* api_base(): 0 until computed */
    char base[320];
    void *url_prefix;  /* api/runner.c's cache of the rows' URL prefix, NULL until built */
    void *render_plan; /* api/runner.c's: the rows' fields and prebuilt keys, NULL until built */
    int service_path;  /* 1 when addressed as /v1/Services/{IS}/…, 0 for the short family */
    /* a nested family's parent (a conversation, a user), set by the runner's parent chain */
    char parent_sid[SID_LEN + 1];
    /* set by the runner for a create whose write checks its parent: a parent named by SID is taken as
     * named, and stays 1 while not looked up (api/runner.c, run_create) */
    int parent_deferred;

    /* store */
    struct store_conn *db; /* this thread's read connection */
    struct write_job job;  /* for writes: see api_write() */
    int (*apply)(struct store_conn *c, struct req *r);
    void *ctx;            /* handler state for apply */
    int events_queued;    /* apply queued webhook deliveries: wake the client after commit */
    int accounts_changed; /* apply changed an account row: drop cached copies after commit */
    /* the message of a failure value that has its own (api/fail.h) */
    const struct fail_detail *detail;

    /* response */
    int status;
    const char *content_type; /* NULL: application/json; charset=utf-8 */
    struct buf out;
    struct arena arena;
    void (*on_defer)(struct req *r);         /* set by the server: suspend the connection */
    void (*on_complete)(struct req *r);      /* set by the server: resume the connection */
    void (*on_complete_next)(struct req *r); /* api_dispatch counts the account's request, then calls this */
    void *conn;                              /* the server's connection handle */
};

#endif
