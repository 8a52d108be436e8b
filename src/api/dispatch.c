/* From a parsed request to a handler: authentication (BEHAVIOUR §6), routing, the service the path
 * names, and the hand-off of writes to the single writer. */
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/apikeys.h"
#include "api/fail.h"
#include "control/control.h"
#include "http/auth_header.h"
#include "http/response.h"
#include "store/account_store.h"
#include "store/datalock.h"
#include "util/metrics.h"
#include "util/sid.h"
#include "util/text.h"
#include "webhook/client.h"
#include "json/jw.h"

/* Each HTTP thread keeps the account it last authenticated, so that a request reads one row, not two.
 * Only with SQLite, where one server runs per data file (store/datalock.h): every change to an account
 * commits through this process's writer, which bumps the generation before the change is answered, or
 * through a subcommand in another process (parley account rotate-token), which bumps the data file's
 * shared count after its commit; no thread uses a copy taken before either. API keys are not cached. */
static atomic_uint account_generation;

/* The strings of an account that a cached copy keeps: auth_token, messaging service, the two timers. */
#define CACHED_STRINGS 4

struct account_cache {
    unsigned generation;
    unsigned long long shared_generation; /* datalock_generation() when taken */
    int valid;
    struct account a;
    char strings[CACHED_STRINGS][160];
};

static __thread struct account_cache tl_account;

static void cached_strings(struct account *a, char **s[CACHED_STRINGS])
{
    s[0] = &a->auth_token;
    s[1] = &a->default_messaging_service_sid;
    s[2] = &a->default_inactive_timer;
    s[3] = &a->default_closed_timer;
}

static int cache_string(char *dst, size_t n, const char *s, char **out)
{
    if (!s) {
        *out = NULL;
        return 0;
    }
    size_t len = strlen(s);
    if (len >= n) return -1;
    memcpy(dst, s, len + 1);
    *out = dst;
    return 0;
}

static void cache_put(const struct account *a)
{
    struct account_cache *c = &tl_account;
    c->valid = 0;
    c->a = *a;
    c->a.friendly_name = NULL; /* not used by handlers */
    char **s[CACHED_STRINGS];
    cached_strings(&c->a, s);
    for (size_t i = 0; i < CACHED_STRINGS; i++)
        if (cache_string(c->strings[i], sizeof(c->strings[i]), *s[i], s[i]) != 0) return;
    c->generation = atomic_load(&account_generation);
    c->shared_generation = datalock_generation();
    c->valid = 1;
}

/* The cached account for sid, its strings copied into r's arena (the writer thread may read them). */
static int cache_get(struct req *r, const char *sid)
{
    struct account_cache *c = &tl_account;
    if (!c->valid || c->generation != atomic_load(&account_generation) ||
        c->shared_generation != datalock_generation() || strcmp(c->a.sid, sid) != 0)
        return 0;
    r->account = c->a;
    char **s[CACHED_STRINGS];
    cached_strings(&r->account, s);
    for (size_t i = 0; i < CACHED_STRINGS; i++)
        if (*s[i]) *s[i] = arena_strndup(&r->arena, *s[i], strlen(*s[i]));
    return 1;
}

void api_accounts_changed(void)
{
    atomic_fetch_add(&account_generation, 1);
    datalock_bump();
}

/* One message for an unknown username and a wrong secret, so that a 401 does not tell which SIDs exist
 * (Twilio's own wording for a failed Basic login); both paths also compare a secret of the same length. */
static const char auth_failed[] = "Authenticate";

/* What an unknown account's secret is compared with: the cost of the comparison, not its answer, matters. */
static const char no_token[AUTH_PASS_MAX + 1];

int api_authenticate(struct req *r, const char *authorization)
{
    struct basic_cred cred;
    if (!authorization || auth_basic_parse(authorization, &cred) != 0)
        return api_failf(r, E_AUTH, "Authentication Error - No credentials provided");
    size_t ulen = strlen(cred.user), plen = strlen(cred.pass);
    if (sid_valid(cred.user, ulen, "SK")) return apikey_authenticate(r, cred.user, cred.pass);
    if (!sid_valid(cred.user, ulen, "AC")) return api_failf(r, E_AUTH, "%s", auth_failed);
    int cached = r->app->cache_accounts && cache_get(r, cred.user);
    int rc = cached ? ST_OK : store_account_get(r->db, cred.user, &r->arena, &r->account);
    if (rc == ST_NOT_FOUND) {
        (void)secret_equal(cred.pass, plen, no_token, plen);
        return api_failf(r, E_AUTH, "%s", auth_failed);
    }
    if (rc != ST_OK) return api_fail(r, rc);
    if (!cached && r->app->cache_accounts) cache_put(&r->account);
    const char *token = r->account.auth_token;
    if (!secret_equal(cred.pass, plen, token, strlen(token))) {
        /* an unknown SID costs a store read: so does a wrong secret for a cached account, or the time of
         * the 401 would tell which SID is in use (measured: about 20 us on loopback) */
        if (cached) (void)store_account_get(r->db, cred.user, &r->arena, &r->account);
        return api_failf(r, E_AUTH, "%s", auth_failed);
    }
    r->credential_sid = r->account.sid;
    return 0;
}

static int api_route_count(void)
{
    int n = 0;
    while (api_routes[n].pattern)
        n++;
    return n;
}

static int dispatch_request(struct req *r, const char *authorization)
{
    const struct route *rt = NULL;
    handler_fn fn = NULL;
    if (!r->authenticated && api_authenticate(r, authorization) != 0) return 0;
    switch (r->input_error) {
    case INPUT_TOO_LARGE:
        return resp_error_status(r, 413, E_INVALID_PARAM, "Request body too large");
    case INPUT_BAD_QUERY:
        return resp_error(r, E_INVALID_PARAM, "Malformed query string");
    case INPUT_BAD_BODY:
        return resp_error(r, E_INVALID_PARAM, "Malformed request body");
    default:
        break;
    }
    int admin = strncmp(r->path, "/parley/", 8) == 0;
    const struct route_mount *mount = admin ? NULL : &api_mount;
    switch (
        router_match(admin ? control_routes : api_routes, admin ? "/parley" : "/v1", mount, r, &rt, &fn)) {
    case ROUTE_NOT_FOUND:
        return resp_not_found(r);
    case ROUTE_NO_METHOD:
        return resp_error(r, E_METHOD, "Method not allowed");
    default:
        break;
    }
    r->route_idx = (int)(rt - (admin ? control_routes : api_routes)) + (admin ? api_route_count() : 0);
    r->route_arg = admin ? NULL : api_route_families[rt - api_routes];
    return fn(r);
}

/* The account's own request counter (its view of /metrics), once the answer is final. */
static void count_account_request(struct req *r)
{
    if (!r->credential_sid) return; /* not authenticated: server-wide counters only */
    metrics_account_request(metrics_account_slot(r->account.sid), r->route_idx,
                            r->method ? __builtin_ctz((unsigned)r->method) : 4, r->status ? r->status : 500);
}

static void counted_complete(struct req *r)
{
    count_account_request(r);
    r->on_complete_next(r);
}

int api_dispatch(struct req *r, const char *authorization)
{
    /* a deferred answer (writer, pre-event hook) completes through on_complete, maybe before
     * dispatch_request returns: wrap it first */
    if (r->on_complete != counted_complete) {
        r->on_complete_next = r->on_complete;
        r->on_complete = counted_complete;
    }
    int deferred = dispatch_request(r, authorization);
    if (!deferred) count_account_request(r);
    return deferred;
}

int api_route_names(const char *const **out)
{
    static const char **names; /* built once, at start-up, for the process's life */
    static int n;
    if (!names) {
        int count = 0;
        for (int t = 0; t < 2; t++)
            for (const struct route *rt = t ? control_routes : api_routes; rt->pattern; rt++)
                count++;
        const char **built = calloc((size_t)count, sizeof(*built));
        for (int t = 0, i = 0; built && t < 2; t++) {
            const char *prefix = t ? "/parley" : "/v1";
            for (const struct route *rt = t ? control_routes : api_routes; rt->pattern; rt++, i++) {
                size_t len = strlen(prefix) + strlen(rt->pattern) + 1;
                char *name = malloc(len);
                if (!name)
                    return -1; /* start-up is failing: the few bytes built so far go with the process */
                snprintf(name, len, "%s%s", prefix, rt->pattern);
                built[i] = name;
            }
        }
        if (!built) return -1;
        names = built;
        n = count;
    }
    *out = names;
    return n;
}

/* An admin credential: "Bearer <token>" or Basic "admin:<token>". 1 for one (*token set), else 0. */
static int admin_credential(const char *authorization, struct basic_cred *cred, const char **token)
{
    if (!authorization) return 0;
    if (strncasecmp(authorization, "Bearer ", 7) == 0) {
        const char *t = authorization + 7;
        while (*t == ' ')
            t++;
        *token = t;
        return 1;
    }
    if (auth_basic_parse(authorization, cred) == 0 && strcmp(cred->user, "admin") == 0) {
        *token = cred->pass;
        return 1;
    }
    return 0;
}

int api_metrics(struct req *r, const char *authorization)
{
    /* server-wide: --metrics-public, or the admin token; an account's credentials: its own counters */
    int server_wide = r->app->metrics_public;
    struct basic_cred cred;
    const char *token;
    if (!server_wide && admin_credential(authorization, &cred, &token)) {
        const char *want = r->app->admin_token;
        if (!want || !secret_equal(token, strlen(token), want, strlen(want)))
            return resp_error(r, E_AUTH, "Authenticate");
        server_wide = 1;
    }
    if (!server_wide && api_authenticate(r, authorization) != 0) return 0;
    buf_reset(&r->out);
    if (server_wide)
        metrics_render(&r->out, r->app->hooks ? (long long)hook_client_outbox_depth(r->app->hooks) : 0,
                       r->app->in_flight ? r->app->in_flight() : 0);
    else
        metrics_render_account(&r->out, metrics_account_slot(r->account.sid));
    r->status = 200;
    r->content_type = "text/plain; version=0.0.4; charset=utf-8";
    return 0;
}

static int job_apply(struct store_conn *c, struct write_job *job)
{
    struct req *r = (struct req *)((char *)job - offsetof(struct req, job));
    return r->apply(c, r);
}

/* A write on a service that was deleted after the route found it (a create racing the service's
 * delete) fails on a missing row or a foreign key; it is answered as the route would answer now: 404. */
static void job_undone(struct store_conn *c, struct write_job *job)
{
    struct req *r = (struct req *)((char *)job - offsetof(struct req, job));
    if (!r->service_sid) return;
    struct service sv;
    struct arena a;
    arena_init(&a);
    if (store_service_get(c, r->account.sid, r->service_sid, &a, &sv) == ST_NOT_FOUND) resp_not_found(r);
    arena_free(&a);
}

static void job_complete(struct write_job *job, int committed, int store_result)
{
    struct req *r = (struct req *)((char *)job - offsetof(struct req, job));
    /* a change that did not commit must not be acknowledged */
    if (!committed && r->status < 300) resp_store_error(r, store_result);
    if (committed && r->accounts_changed) api_accounts_changed();
    if (committed && r->events_queued && r->app->hooks) hook_client_kick(r->app->hooks);
    r->on_complete(r);
}

int api_write(struct req *r, int (*apply)(struct store_conn *c, struct req *r), void *ctx)
{
    r->apply = apply;
    r->ctx = ctx;
    r->status = 0;
    r->job.apply = job_apply;
    r->job.complete = job_complete;
    r->job.undone = job_undone;
    r->on_defer(r);
    writer_submit(r->app->writer, &r->job);
    return 1;
}

void api_json_begin(struct req *r, struct jw *w, int status)
{
    buf_reset(&r->out);
    r->status = status;
    jw_init(w, &r->out);
}

void api_rel_base(struct req *r, char *out, size_t n)
{
    if (r->service_path)
        snprintf(out, n, "/v1/Services/%s", r->service_sid);
    else
        snprintf(out, n, "/v1");
}

const char *api_base(struct req *r, size_t *len)
{
    if (!r->base_len) {
        char rel[64]; /* "/v1/Services/IS…" */
        api_rel_base(r, rel, sizeof(rel));
        snprintf(r->base, sizeof(r->base), "%s%s", r->app->public_url, rel);
        r->base_len = strlen(r->base);
    }
    *len = r->base_len;
    return r->base;
}
