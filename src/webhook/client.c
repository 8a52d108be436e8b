#include "webhook/client.h"

#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/app.h"
#include "http/form.h"
#include "store/account_store.h"
#include "store/store.h"
#include "store/webhook_store.h"
#include "store/writer.h"
#include "util/arena.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/timefmt.h"
#include "webhook/addr_policy.h"
#include "webhook/sign.h"

#define USER_AGENT "TwilioProxy/1.1"
#define PRE_BODY_MAX (64 * 1024)

enum transfer_kind { T_PRE, T_POST };

/* One HTTP request in flight. */
struct transfer {
    enum transfer_kind kind;
    CURL *easy;
    struct curl_slist *headers;
    char *url;  /* as sent (GET: with the parameters) */
    char *body; /* POST body */
    struct buf resp;
    long long t0;
    enum target_policy policy;
    int allow_link_local;
    int blocked;         /* the policy refused an address the target resolved to */
    struct pre_call *pc; /* T_PRE */
    /* T_POST: a copy of the outbox row */
    long long id;
    char account_sid[SID_LEN + 1];
    char *event_type, *target_url, *method, *idem;
    int attempts;
    long long created_at;
    struct transfer *prev, *next; /* the client's list of active transfers */
};

struct hook_client {
    struct app *app;
    struct hook_client_config cfg;
    CURLM *multi;
    struct store_conn *db; /* the client's own read connection */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t idle;
    struct pre_call **pre_queue; /* calls waiting to start */
    size_t npre, cappre;
    int kicked;
    int stopping;
    int cancel_pre;   /* hook_client_cancel_pre(): pre-event calls fail at once from now on */
    int in_flight;    /* post-event deliveries started and not yet recorded */
    int pending_jobs; /* outcome jobs queued on the writer */
    char owner[64];   /* this process's name on its outbox claims */
    atomic_ullong outbox_depth;
    struct transfer *active; /* client thread only */
};

static void active_add(struct hook_client *h, struct transfer *t)
{
    t->prev = NULL;
    t->next = h->active;
    if (h->active) h->active->prev = t;
    h->active = t;
}

static void active_remove(struct hook_client *h, struct transfer *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        h->active = t->next;
    if (t->next) t->next->prev = t->prev;
}

/* Dates and due times (created_at, next_attempt_at, a target's backoff) are the clock's (util/clock.h),
 * which a test clock may freeze or move; latency and the loop's own pacing are durations, on the monotonic
 * clock, so that a frozen clock neither stops deliveries nor shows a latency of 0. Claim leases are real
 * time (clock_wall_ms): they bound how long a delivery is in flight, and a test clock jump must not expire
 * one mid-delivery (the event went out twice) nor could another server sharing the outbox see that clock. */
static long long now_ms(void)
{
    return time_now_ms();
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct transfer *t = ud;
    size_t len = size * n;
    if (t->kind == T_PRE) buf_put(&t->resp, p, len); /* past the ceiling the rest is dropped (buf.err) */
    return len;
}

/* libcurl calls this with each address it is about to connect to, after DNS: the policy sees what is
 * really reached, whatever the URL's host says or a rebinding DNS answers later. */
static curl_socket_t open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct transfer *t = ud;
    size_t need = a->family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (purpose != CURLSOCKTYPE_IPCXN || a->addrlen < need ||
        !addr_policy_allows(t->policy, t->allow_link_local, &a->addr)) {
        t->blocked = 1;
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype, a->protocol);
}

/* What the log says about a failed attempt: a coarse class, not curl's text, so that the log of a
 * webhook aimed at an internal address does not describe that network. */
static const char *error_class(const struct transfer *t, CURLcode res)
{
    switch (res) {
    case CURLE_OK:
        return "";
    case CURLE_OPERATION_TIMEDOUT:
        return "timeout";
    case CURLE_COULDNT_RESOLVE_HOST:
        return "dns";
    case CURLE_COULDNT_CONNECT:
        return t->blocked ? "blocked" : "connect";
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
        return "tls";
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_WEIRD_SERVER_REPLY:
        return "connection";
    default:
        return "error";
    }
}

/* Twilio signs the URL and, for POST, the sorted parameters (webhook/sign.h). */
static int prepare(struct transfer *t, const char *url, const char *method, const char *params,
                   int retry_count, const char *token, const char *idem, int timeout_ms)
{
    /* a fragment is a Twilio connection override, never sent (BEHAVIOUR §7.5) */
    size_t ulen = strcspn(url, "#");
    struct buf all;
    buf_init(&all, 1 << 20);
    buf_puts(&all, params);
    buf_printf(&all, "%sRetryCount=%d", all.len ? "&" : "", retry_count);
    if (all.err) {
        buf_free(&all);
        return -1;
    }
    int get = strcmp(method, "GET") == 0;
    struct buf u;
    buf_init(&u, 2 << 20);
    buf_put(&u, url, ulen);
    if (get) {
        buf_putc(&u, memchr(url, '?', ulen) ? '&' : '?');
        buf_put(&u, all.p, all.len);
    }
    char sig[SIGNATURE_LEN + 1];
    int rc;
    if (get) {
        rc = sign_twilio(token, u.p, NULL, 0, sig);
    } else {
        /* decode a copy to get the pairs the signature covers */
        char *copy = strndup(all.p, all.len);
        struct form *f = malloc(sizeof(*f));
        rc = (copy && f && form_decode(copy, all.len, f) == FORM_OK)
                 ? sign_twilio(token, u.p, f->pair, f->n, sig)
                 : -1;
        free(copy);
        free(f);
    }
    if (rc != 0 || u.err) {
        buf_free(&all);
        buf_free(&u);
        return -1;
    }
    t->url = u.p;
    t->body = get ? NULL : all.p;
    if (get) buf_free(&all);

    char h[256];
    snprintf(h, sizeof(h), "X-Twilio-Signature: %s", sig);
    t->headers = curl_slist_append(t->headers, h);
    snprintf(h, sizeof(h), "I-Twilio-Idempotency-Token: %s", idem);
    t->headers = curl_slist_append(t->headers, h);
    t->headers = curl_slist_append(t->headers, "Accept: */*");
    t->headers = curl_slist_append(t->headers, "Expect:");
    if (!get)
        t->headers =
            curl_slist_append(t->headers, "Content-Type: application/x-www-form-urlencoded; charset=utf-8");

    t->easy = curl_easy_init();
    if (!t->easy) return -1;
    curl_easy_setopt(t->easy, CURLOPT_URL, t->url);
    curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(t->easy, CURLOPT_USERAGENT, USER_AGENT);
    curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(t->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(t->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    /* what the policy checks is what is reached: no proxy from the environment, no redirects */
    curl_easy_setopt(t->easy, CURLOPT_PROXY, "");
    curl_easy_setopt(t->easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(t->easy, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(t->easy, CURLOPT_OPENSOCKETDATA, t);
    curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
    if (!get) {
        curl_easy_setopt(t->easy, CURLOPT_POST, 1L);
        curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, t->body);
        curl_easy_setopt(t->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(t->body));
    }
    t->t0 = clock_mono_ms();
    return 0;
}

static void transfer_free(struct transfer *t)
{
    if (t->easy) curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->headers);
    free(t->url);
    free(t->body);
    buf_free(&t->resp);
    free(t->event_type);
    free(t->target_url);
    free(t->method);
    free(t->idem);
    free(t);
}

/* ---- pre-event calls ---- */

static void start_pre(struct hook_client *h, struct pre_call *pc)
{
    struct transfer *t = calloc(1, sizeof(*t));
    char idem[37];
    uuid4_new(idem);
    buf_init(&pc->body, PRE_BODY_MAX);
    if (!t) {
        pc->outcome = PRE_FAILED;
        snprintf(pc->error, sizeof(pc->error), "out of memory");
        pc->done(pc);
        return;
    }
    t->kind = T_PRE;
    t->pc = pc;
    t->policy = (enum target_policy)h->cfg.target_policy;
    t->allow_link_local = h->cfg.allow_link_local;
    buf_init(&t->resp, PRE_BODY_MAX);
    if (prepare(t, pc->url, pc->method, pc->params, 0, pc->token, idem, h->cfg.pre_timeout_ms) != 0 ||
        curl_multi_add_handle(h->multi, t->easy) != CURLM_OK) {
        pc->outcome = PRE_FAILED;
        snprintf(pc->error, sizeof(pc->error), "cannot build the request");
        transfer_free(t);
        pc->done(pc);
        return;
    }
    active_add(h, t);
}

static void finish_pre(struct transfer *t, CURLcode res)
{
    struct pre_call *pc = t->pc;
    long status = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    pc->latency_ms = clock_mono_ms() - t->t0;
    pc->status = (int)status;
    if (res == CURLE_OPERATION_TIMEDOUT) {
        pc->outcome = PRE_TIMEOUT;
        snprintf(pc->error, sizeof(pc->error), "timeout");
    } else if (res != CURLE_OK) {
        pc->outcome = PRE_FAILED;
        snprintf(pc->error, sizeof(pc->error), "%s", error_class(t, res));
        if (t->blocked) pc->latency_ms = 0;
    } else {
        pc->outcome = status == 200 ? PRE_OK : PRE_HTTP_STATUS;
        buf_put(&pc->body, t->resp.p ? t->resp.p : "", t->resp.len);
    }
    pc->done(pc);
}

/* ---- post-event outbox ---- */

enum target_news { TARGET_SAME, TARGET_OK, TARGET_FAILED };

struct outcome_job {
    struct write_job job;
    struct hook_client *h;
    long long id;
    int finish;              /* 1: leaves the outbox; 0: retry later */
    enum target_news target; /* what the attempt says about its URL */
    long long now;
    struct webhook_log_entry e;
    long long next_at;
    char error[128];
    struct transfer *t; /* owns the strings e points into */
};

static int outcome_apply(struct store_conn *c, struct write_job *job)
{
    struct outcome_job *oj = (struct outcome_job *)job;
    const struct hook_client_config *cfg = &oj->h->cfg;
    int rc = ST_OK;
    if (oj->target == TARGET_OK)
        rc = store_webhook_target_ok(c, oj->e.url);
    else if (oj->target == TARGET_FAILED)
        rc = store_webhook_target_failed(c, oj->e.url, oj->now, cfg->backoff_base_ms, cfg->backoff_max_ms);
    if (rc != ST_OK) return 1;
    if (oj->finish) return store_outbox_finish(c, oj->id, &oj->e) != ST_OK;
    return store_outbox_retry(c, oj->id, oj->e.attempts, oj->next_at, oj->e.status, oj->e.last_error,
                              oj->e.latency_ms) != ST_OK;
}

static void outcome_complete(struct write_job *job, int committed, int store_result)
{
    struct outcome_job *oj = (struct outcome_job *)job;
    struct hook_client *h = oj->h;
    if (!committed)
        log_warn("webhook: cannot record the outcome of delivery %lld (%d); it will be sent again", oj->id,
                 store_result);
    pthread_mutex_lock(&h->lock);
    h->in_flight--;
    h->pending_jobs--;
    h->kicked = 1;
    /* under the lock: once the last job is counted out, hook_client_stop() may free h */
    curl_multi_wakeup(h->multi);
    pthread_cond_broadcast(&h->idle);
    pthread_mutex_unlock(&h->lock);
    transfer_free(oj->t);
    free(oj);
}

static int retryable(CURLcode res, long status)
{
    if (res != CURLE_OK) return 1; /* connection refused, reset, timeout, DNS */
    return status == 429 || status >= 500;
}

static void finish_post(struct hook_client *h, struct transfer *t, CURLcode res)
{
    long status = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    struct outcome_job *oj = calloc(1, sizeof(*oj));
    if (!oj) abort();
    oj->h = h;
    oj->id = t->id;
    oj->t = t;
    int attempts = t->attempts + 1;
    long long now = now_ms();
    struct webhook_log_entry *e = &oj->e;
    memcpy(e->account_sid, t->account_sid, sizeof(e->account_sid));
    e->kind = "post";
    e->event_type = t->event_type;
    e->url = t->target_url;
    e->method = t->method;
    e->status = (int)status;
    e->attempts = attempts;
    e->latency_ms = clock_mono_ms() - t->t0;
    e->idempotency_token = t->idem;
    e->created_at = t->created_at;
    e->completed_at = now;
    int blocked = res != CURLE_OK && t->blocked;
    if (res != CURLE_OK)
        snprintf(oj->error, sizeof(oj->error), "%s", error_class(t, res));
    else if (status < 200 || status > 299)
        snprintf(oj->error, sizeof(oj->error), "HTTP %ld", status);
    e->last_error = oj->error[0] ? oj->error : NULL;
    oj->now = now;
    if (res == CURLE_OK && status >= 200 && status <= 299)
        oj->target = TARGET_OK;
    else if (retryable(res, status) && !blocked)
        oj->target = TARGET_FAILED; /* the target as a whole waits, not only this row */
    if (blocked) {
        /* the policy will refuse it again: final at once, and no timing of the network in the log */
        oj->finish = 1;
        e->outcome = "failed";
        e->latency_ms = 0;
        log_warn("webhook: %s to %s refused by the target policy", t->event_type, t->target_url);
    } else if (res == CURLE_OK && status >= 200 && status <= 299) {
        oj->finish = 1;
        e->outcome = "delivered";
    } else if (retryable(res, status) && attempts < h->cfg.max_attempts) {
        long long delay = h->cfg.backoff_base_ms;
        for (int i = 1; i < attempts && delay < h->cfg.backoff_max_ms; i++)
            delay *= 2;
        if (delay > h->cfg.backoff_max_ms) delay = h->cfg.backoff_max_ms;
        oj->next_at = now + delay;
    } else {
        oj->finish = 1;
        e->outcome = "failed";
        log_warn("webhook: %s to %s failed after %d attempt(s): %s", t->event_type, t->target_url, attempts,
                 oj->error);
    }
    oj->job.apply = outcome_apply;
    oj->job.complete = outcome_complete;
    oj->job.lazy = 1; /* lost in a crash, the event is delivered again (same idempotency token) */
    /* the curl handle is done with; the strings stay until the outcome is written */
    curl_multi_remove_handle(h->multi, t->easy);
    curl_easy_cleanup(t->easy);
    t->easy = NULL;
    pthread_mutex_lock(&h->lock);
    h->pending_jobs++;
    pthread_mutex_unlock(&h->lock);
    writer_submit(h->app->writer, &oj->job);
}

/* A claimed row has a lease longer than any delivery takes; a server that dies holding it lets another
 * (or its own restart, for SQLite) deliver the row once the lease ends. */
#define CLAIM_LEASE_MS 30000

static int start_post(struct hook_client *h, const struct outbox_row *row, const char *token)
{
    struct transfer *t = calloc(1, sizeof(*t));
    if (!t) return -1;
    t->kind = T_POST;
    t->id = row->id;
    t->policy = (enum target_policy)h->cfg.target_policy;
    t->allow_link_local = h->cfg.allow_link_local;
    memcpy(t->account_sid, row->account_sid, sizeof(t->account_sid));
    t->event_type = strdup(row->event_type);
    t->target_url = strdup(row->url);
    t->method = strdup(row->method);
    t->idem = strdup(row->idempotency_token);
    t->attempts = row->attempts;
    t->created_at = row->created_at;
    buf_init(&t->resp, 0);
    if (!t->event_type || !t->target_url || !t->method || !t->idem ||
        prepare(t, row->url, row->method, row->params, row->attempts, token, row->idempotency_token,
                h->cfg.post_timeout_ms) != 0 ||
        curl_multi_add_handle(h->multi, t->easy) != CURLM_OK) {
        transfer_free(t);
        return -1;
    }
    active_add(h, t);
    pthread_mutex_lock(&h->lock);
    h->in_flight++;
    pthread_mutex_unlock(&h->lock);
    return 0;
}

/* A claim runs as a write job: inside the writer's transaction, so it never contends with the writer
 * for the database. The claimed rows are copied out for the client thread. */
struct claim_job {
    struct write_job job;
    struct hook_client *h;
    int room;
    long long now, lease_now, due;
    struct outbox_row *rows;
    int n;
    int committed;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int finished;
};

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

static int copy_row(void *ctx, const struct outbox_row *row)
{
    struct claim_job *cj = ctx;
    if (cj->n >= cj->room) return 1;
    struct outbox_row *o = &cj->rows[cj->n++];
    *o = *row;
    o->event_type = dup_or_empty(row->event_type);
    o->url = dup_or_empty(row->url);
    o->method = dup_or_empty(row->method);
    o->params = dup_or_empty(row->params);
    o->order_key = dup_or_empty(row->order_key);
    o->idempotency_token = dup_or_empty(row->idempotency_token);
    return 0;
}

static void free_rows(struct claim_job *cj)
{
    for (int i = 0; i < cj->n; i++) {
        struct outbox_row *o = &cj->rows[i];
        free(o->event_type);
        free(o->url);
        free(o->method);
        free(o->params);
        free(o->order_key);
        free(o->idempotency_token);
    }
    cj->n = 0;
}

static int claim_apply(struct store_conn *c, struct write_job *job)
{
    struct claim_job *cj = (struct claim_job *)job;
    free_rows(cj); /* a retried batch claims again */
    struct outbox_claim_limits lim = {cj->h->cfg.per_account_max, cj->h->cfg.per_target_max};
    int rc = store_outbox_claim(c, cj->h->owner, cj->now, cj->lease_now, CLAIM_LEASE_MS, cj->room, &lim,
                                copy_row, cj, &cj->due);
    if (rc != ST_OK && rc != ST_BUSY) log_warn("webhook: cannot claim from the outbox (%d)", rc);
    return rc != ST_OK;
}

static void claim_complete(struct write_job *job, int committed, int store_result)
{
    struct claim_job *cj = (struct claim_job *)job;
    pthread_mutex_lock(&cj->lock);
    cj->committed = committed;
    cj->finished = 1;
    pthread_cond_signal(&cj->cond);
    pthread_mutex_unlock(&cj->lock);
}

/* Starts what is due; returns when the next row falls due (ms since epoch), 0 if unknown. */
static long long scan_outbox(struct hook_client *h)
{
    pthread_mutex_lock(&h->lock);
    int room = h->cfg.max_in_flight - h->in_flight;
    pthread_mutex_unlock(&h->lock);
    if (room <= 0) return 0;
    struct claim_job cj = {.job = {.apply = claim_apply, .complete = claim_complete, .lazy = 1},
                           .h = h,
                           .room = room,
                           .now = now_ms(),
                           .lease_now = clock_wall_ms()};
    cj.rows = calloc((size_t)room, sizeof(*cj.rows));
    if (!cj.rows) return 0;
    pthread_mutex_init(&cj.lock, NULL);
    pthread_cond_init(&cj.cond, NULL);
    writer_submit(h->app->writer, &cj.job);
    pthread_mutex_lock(&cj.lock);
    while (!cj.finished)
        pthread_cond_wait(&cj.cond, &cj.lock);
    pthread_mutex_unlock(&cj.lock);
    pthread_cond_destroy(&cj.cond);
    pthread_mutex_destroy(&cj.lock);

    struct arena a;
    arena_init(&a);
    for (int i = 0; cj.committed && i < cj.n; i++) {
        const struct outbox_row *row = &cj.rows[i];
        struct account acct;
        /* the signing key is the account's current auth token */
        if (store_account_get(h->db, row->account_sid, &a, &acct) != ST_OK)
            log_warn("webhook: delivery %lld: account %s is gone; its claim lapses", row->id,
                     row->account_sid);
        else if (start_post(h, row, acct.auth_token) != 0)
            log_warn("webhook: delivery %lld could not start; its claim lapses", row->id);
    }
    arena_free(&a);
    free_rows(&cj);
    free(cj.rows);
    return cj.committed ? cj.due : 0;
}

#define CLAIM_SPACING_MS 2
#define CAPPED_RESCAN_MS 50

/* Worth a claim: nothing in flight (a lone event goes out at once), or a quarter of the slots free. */
static int claim_worthwhile(struct hook_client *h)
{
    pthread_mutex_lock(&h->lock);
    int in_flight = h->in_flight, max = h->cfg.max_in_flight;
    pthread_mutex_unlock(&h->lock);
    return in_flight == 0 || max - in_flight >= (max + 3) / 4;
}

/* Ends every pre-event call in flight as a failure ("server stopping"); post-event transfers go on. */
static void abandon_active_pre(struct hook_client *h)
{
    for (struct transfer *t = h->active, *next; t; t = next) {
        next = t->next;
        if (t->kind != T_PRE) continue;
        active_remove(h, t);
        curl_multi_remove_handle(h->multi, t->easy);
        t->pc->outcome = PRE_FAILED;
        snprintf(t->pc->error, sizeof(t->pc->error), "server stopping");
        t->pc->done(t->pc);
        transfer_free(t);
    }
}

static void fail_pre(struct pre_call *pc)
{
    pc->outcome = PRE_FAILED;
    snprintf(pc->error, sizeof(pc->error), "server stopping");
    buf_init(&pc->body, 0);
    pc->done(pc);
}

static void *client_main(void *arg)
{
    struct hook_client *h = arg;
    pthread_setname_np(pthread_self(), "parley-webhooks");
    long long next_scan = 0; /* scan at once: a restart finds what the last run left */
    long long next_depth = 0, last_claim = 0;
    int pending_kick = 0; /* something was committed since the last claim */
    for (;;) {
        pthread_mutex_lock(&h->lock);
        int stopping = h->stopping;
        int cancel_pre = h->cancel_pre;
        int kicked = h->kicked;
        h->kicked = 0;
        size_t npre = h->npre;
        struct pre_call *batch[64];
        if (npre > 64) npre = 64;
        if (npre) {
            memcpy(batch, h->pre_queue, npre * sizeof(*batch));
            memmove(h->pre_queue, h->pre_queue + npre, (h->npre - npre) * sizeof(*batch));
            h->npre -= npre;
        }
        pthread_mutex_unlock(&h->lock);
        if (stopping) break;
        if (cancel_pre) abandon_active_pre(h);
        for (size_t i = 0; i < npre; i++) {
            if (cancel_pre)
                fail_pre(batch[i]); /* done() may queue the next target's call: failed next round */
            else
                start_pre(h, batch[i]);
        }
        long long now = clock_mono_ms();
        if (now >= next_depth) {
            /* the gauge for /metrics: a count is a scan, so once a second */
            long long n = 0;
            if (store_outbox_count(h->db, &n) == ST_OK) atomic_store(&h->outbox_depth, (unsigned long long)n);
            next_depth = now + 1000;
        }
        /* A claim is a write job that reads the head of the outbox: claims are spaced and made for
         * several free slots at once, so that under load delivery costs the writer little. */
        if (kicked) pending_kick = 1;
        if ((pending_kick || now >= next_scan) && now >= last_claim + CLAIM_SPACING_MS &&
            claim_worthwhile(h)) {
            long long due = scan_outbox(h);
            last_claim = now;
            pending_kick = 0;
            next_scan = now + 1000;                      /* a periodic look as a safety net */
            long long due_in = due ? due - now_ms() : 0; /* due is the clock's; next_scan monotonic */
            if (due && now + due_in < next_scan) next_scan = now + due_in;
            /* due already but not claimed: held back by a cap (a completion kicks) or locked by another
             * server's claim; look again soon, not at once */
            if (due && due_in <= 0) next_scan = now + CAPPED_RESCAN_MS;
        }
        int running = 0;
        curl_multi_perform(h->multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(h->multi, &left))) {
            if (m->msg != CURLMSG_DONE) continue;
            struct transfer *t = NULL;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t);
            CURLcode res = m->data.result;
            active_remove(h, t);
            if (t->kind == T_PRE) {
                curl_multi_remove_handle(h->multi, t->easy);
                finish_pre(t, res);
                transfer_free(t);
            } else {
                finish_post(h, t, res);
            }
        }
        long long wake = pending_kick ? last_claim + CLAIM_SPACING_MS : next_scan;
        long long wait = wake - clock_mono_ms();
        if (wait < 0) wait = 0;
        if (wait > 1000) wait = 1000;
        curl_multi_poll(h->multi, NULL, 0, (int)wait, NULL);
    }
    /* abandon what is in flight: pre calls answer as failures, post rows stay in the outbox */
    pthread_mutex_lock(&h->lock);
    size_t npre = h->npre;
    h->npre = 0;
    pthread_mutex_unlock(&h->lock);
    for (size_t i = 0; i < npre; i++) {
        h->pre_queue[i]->outcome = PRE_FAILED;
        snprintf(h->pre_queue[i]->error, sizeof(h->pre_queue[i]->error), "server stopping");
        buf_init(&h->pre_queue[i]->body, 0);
        h->pre_queue[i]->done(h->pre_queue[i]);
    }
    while (h->active) {
        struct transfer *t = h->active;
        active_remove(h, t);
        curl_multi_remove_handle(h->multi, t->easy);
        if (t->kind == T_PRE) {
            t->pc->outcome = PRE_FAILED;
            snprintf(t->pc->error, sizeof(t->pc->error), "server stopping");
            t->pc->done(t->pc);
        }
        transfer_free(t);
    }
    return NULL;
}

struct release_job {
    struct write_job job;
    int rc;
};

static int release_apply(struct store_conn *c, struct write_job *job)
{
    struct release_job *rj = (struct release_job *)job;
    rj->rc = store_outbox_release_all(c);
    return rj->rc != ST_OK;
}

static void release_complete(struct write_job *job, int committed, int store_result) {}

static int release_all(struct app *app)
{
    struct release_job rj = {.job = {.apply = release_apply, .complete = release_complete}};
    return writer_run_sync(app->writer, &rj.job) != 0 || rj.rc != ST_OK ? -1 : 0;
}

int hook_client_start(struct hook_client **out, struct app *app, const struct hook_client_config *cfg)
{
    struct hook_client *h = calloc(1, sizeof(*h));
    if (!h) return -1;
    h->app = app;
    h->cfg = *cfg;
    if (h->cfg.max_in_flight <= 0) h->cfg.max_in_flight = 32;
    /* one account, or one URL, can never take every slot: the others always find some free */
    if (h->cfg.per_account_max <= 0)
        h->cfg.per_account_max = h->cfg.max_in_flight * 3 / 4 > 0 ? h->cfg.max_in_flight * 3 / 4 : 1;
    if (h->cfg.per_target_max <= 0)
        h->cfg.per_target_max = h->cfg.max_in_flight / 2 > 0 ? h->cfg.max_in_flight / 2 : 1;
    snprintf(h->owner, sizeof(h->owner), "%ld-%lld", (long)getpid(), now_ms());
    h->multi = curl_multi_init();
    /* its own connection for reads; claims and outcomes go through the writer */
    if (!h->multi || app->store->open(app->data, 0, app->sync_full, &h->db) != ST_OK) {
        if (h->multi) curl_multi_cleanup(h->multi);
        free(h);
        return -1;
    }
    if (cfg->release_claims_at_start && release_all(app) != 0)
        log_warn("webhook: cannot release old outbox claims");
    curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, 64L);
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->idle, NULL);
    if (pthread_create(&h->thread, NULL, client_main, h) != 0) {
        h->db->ops->close(h->db);
        curl_multi_cleanup(h->multi);
        free(h);
        return -1;
    }
    *out = h;
    return 0;
}

void hook_client_pre(struct hook_client *h, struct pre_call *pc)
{
    pthread_mutex_lock(&h->lock);
    if (h->npre == h->cappre) {
        size_t cap = h->cappre ? h->cappre * 2 : 64;
        struct pre_call **p = realloc(h->pre_queue, cap * sizeof(*p));
        if (!p) abort();
        h->pre_queue = p;
        h->cappre = cap;
    }
    h->pre_queue[h->npre++] = pc;
    pthread_mutex_unlock(&h->lock);
    curl_multi_wakeup(h->multi);
}

void hook_client_cancel_pre(struct hook_client *h)
{
    pthread_mutex_lock(&h->lock);
    h->cancel_pre = 1;
    pthread_mutex_unlock(&h->lock);
    curl_multi_wakeup(h->multi);
}

void hook_client_kick(struct hook_client *h)
{
    pthread_mutex_lock(&h->lock);
    h->kicked = 1;
    pthread_mutex_unlock(&h->lock);
    curl_multi_wakeup(h->multi);
}

unsigned long long hook_client_outbox_depth(struct hook_client *h)
{
    return atomic_load(&h->outbox_depth);
}

void hook_client_stop(struct hook_client *h)
{
    if (!h) return;
    pthread_mutex_lock(&h->lock);
    h->stopping = 1;
    pthread_mutex_unlock(&h->lock);
    curl_multi_wakeup(h->multi);
    pthread_join(h->thread, NULL);
    /* outcome jobs still queued on the writer point at us: wait for them */
    pthread_mutex_lock(&h->lock);
    while (h->pending_jobs > 0)
        pthread_cond_wait(&h->idle, &h->lock);
    pthread_mutex_unlock(&h->lock);
    h->db->ops->close(h->db);
    curl_multi_cleanup(h->multi);
    pthread_cond_destroy(&h->idle);
    pthread_mutex_destroy(&h->lock);
    free(h->pre_queue);
    free(h);
}
