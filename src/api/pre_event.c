#include "api/pre_event.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "http/response.h"
#include "store/webhook_store.h"
#include "store/writer.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/timefmt.h"
#include "webhook/client.h"

struct pre_run {
    struct pre_call call; /* first: the client hands it back */
    struct req *r;
    const char *event;
    const struct webhook_target *targets;
    int n, next;
    const char *params;
    const struct pre_event_fields *fields;
    const char *value[PRE_MAX_FIELDS];
    pre_event_proceed_fn proceed;
};

/* The log line of one pre-event call: written through the writer, not waited for. */
struct pre_log_job {
    struct write_job job;
    struct webhook_log_entry e;
    struct buf strings; /* the URL, NUL, the error, NUL: e points into it */
};

/* Room for the longest stored URL (2,048 bytes today; a row written before the byte limit may hold
 * 2,048 four-byte characters) and the error; past it the line is not logged rather than cut. */
#define PRE_LOG_STRINGS_MAX (64 * 1024)

static int pre_log_apply(struct store_conn *c, struct write_job *job)
{
    struct pre_log_job *lj = (struct pre_log_job *)job;
    return store_webhook_log_insert(c, &lj->e) != ST_OK;
}

static void pre_log_complete(struct write_job *job, int committed, int store_result)
{
    struct pre_log_job *lj = (struct pre_log_job *)job;
    buf_free(&lj->strings);
    free(lj);
}

static void log_call(struct pre_run *pr, const char *outcome)
{
    struct pre_log_job *lj = calloc(1, sizeof(*lj));
    if (!lj) return;
    const struct pre_call *pc = &pr->call;
    size_t ulen = strlen(pc->url), elen = strlen(pc->error);
    buf_init(&lj->strings, PRE_LOG_STRINGS_MAX);
    buf_put(&lj->strings, pc->url, ulen + 1);
    buf_put(&lj->strings, pc->error, elen + 1);
    if (lj->strings.err) {
        log_warn("pre-event webhook: a %zu-byte URL is too long to log", ulen);
        buf_free(&lj->strings);
        free(lj);
        return;
    }
    struct webhook_log_entry *e = &lj->e;
    memcpy(e->account_sid, pc->account_sid, SID_LEN);
    e->kind = "pre";
    e->event_type = pr->event;
    e->url = lj->strings.p;
    e->method = pc->method;
    e->outcome = outcome;
    e->status = pc->status;
    e->attempts = 1;
    e->latency_ms = pc->latency_ms;
    e->last_error = elen ? lj->strings.p + ulen + 1 : NULL;
    e->completed_at = time_now_ms();
    e->created_at = e->completed_at - pc->latency_ms;
    lj->job.apply = pre_log_apply;
    lj->job.complete = pre_log_complete;
    lj->job.lazy = 1;
    writer_submit(pr->r->app->writer, &lj->job);
}

static void call_next(struct pre_run *pr);

/* Takes the fields the event allows from a 200's JSON body; anything unparsable changes nothing. */
static void take_fields(struct pre_run *pr)
{
    struct pre_call *pc = &pr->call;
    if (!pr->fields || pr->fields->n == 0 || pc->body.len == 0) return;
    json_t *root = json_loadb(pc->body.p, pc->body.len, 0, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        return;
    }
    for (size_t i = 0; i < pr->fields->n; i++) {
        json_t *v = json_object_get(root, pr->fields->key[i]);
        if (json_is_string(v))
            pr->value[i] = arena_strndup(&pr->r->arena, json_string_value(v), json_string_length(v));
    }
    json_decref(root);
}

static void on_call_done(struct pre_call *pc)
{
    struct pre_run *pr = (struct pre_run *)pc;
    struct req *r = pr->r;
    int proceed;
    const char *outcome;
    switch (pc->outcome) {
    case PRE_OK:
        take_fields(pr);
        proceed = 1;
        outcome = "allowed";
        break;
    case PRE_HTTP_STATUS:
        proceed = 0;
        outcome = "vetoed";
        break;
    default:
        proceed = r->app->pre_failure == PRE_FAILURE_PROCEED;
        outcome = proceed ? "proceeded" : "rejected";
        break;
    }
    log_call(pr, outcome);
    buf_free(&pc->body);
    if (!proceed) {
        if (pc->outcome == PRE_HTTP_STATUS)
            resp_error_status(r, r->app->veto_status, E_WEBHOOK_VETO,
                              "Webhook disabled processing of command");
        else
            resp_error_status(r, r->app->veto_status, E_WEBHOOK_VETO,
                              "Webhook disabled processing of command: the pre-event webhook did not answer");
        r->on_complete(r);
        return;
    }
    call_next(pr);
}

static void call_next(struct pre_run *pr)
{
    struct req *r = pr->r;
    if (pr->next == pr->n) {
        if (pr->proceed(r, pr->value) == 0) r->on_complete(r); /* it answered without a write (an error) */
        return;
    }
    const struct webhook_target *t = &pr->targets[pr->next++];
    struct pre_call *pc = &pr->call;
    memset(pc, 0, sizeof(*pc));
    pc->account_sid = r->account.sid;
    pc->event_type = pr->event;
    pc->url = t->url;
    pc->method = t->method;
    pc->params = pr->params;
    pc->token = r->account.auth_token;
    pc->done = on_call_done;
    hook_client_pre(r->app->hooks, pc);
}

int pre_event_run_form(struct req *r, const char *event, const struct webhook_target *targets, int n,
                       struct buf *form, const struct pre_event_fields *fields, pre_event_proceed_fn proceed)
{
    char *params = arena_strndup(&r->arena, form->p ? form->p : "", form->len);
    int err = form->err;
    buf_free(form);
    return err ? ST_ERROR : pre_event_run(r, event, targets, n, params, fields, proceed);
}

int pre_event_run(struct req *r, const char *event, const struct webhook_target *targets, int n,
                  const char *params, const struct pre_event_fields *fields, pre_event_proceed_fn proceed)
{
    struct pre_run *pr = arena_alloc(&r->arena, sizeof(*pr));
    memset(pr, 0, sizeof(*pr));
    pr->r = r;
    pr->event = event;
    pr->targets = targets;
    pr->n = n;
    pr->params = params;
    pr->fields = fields;
    pr->proceed = proceed;
    r->on_defer(r);
    call_next(pr);
    return 1;
}
