/* Conversation Services: /v1/Services[/{Sid}] (create, fetch, list, delete), creation with everything a
 * new service owns, and account bootstrap (BEHAVIOUR §3.2, §3.3, §10.3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/fail.h"
#include "api/paging.h"
#include "api/params.h"
#include "http/response.h"
#include "store/account_store.h"
#include "store/changes.h"
#include "store/writer.h"
#include "util/log.h"
#include "util/sid.h"
#include "util/ticker.h"
#include "util/timefmt.h"
#include "json/jw.h"

struct default_role {
    const char *name;
    enum role_type type;
    const char *permissions;
};

/* Names and lists: BEHAVIOUR §3.3 with the §10.3 correction of "channel admin". */
static const struct default_role default_roles[4] = {
    {"service admin", ROLE_SERVICE,
     "[\"createConversation\",\"joinConversation\",\"deleteConversation\",\"addParticipant\","
     "\"removeParticipant\",\"editConversationName\",\"editConversationAttributes\",\"editAnyMessage\","
     "\"editAnyMessageAttributes\",\"deleteAnyMessage\",\"editAnyUserInfo\",\"editOwnUserInfo\"]"},
    {"service user", ROLE_SERVICE, "[\"createConversation\",\"joinConversation\",\"editOwnUserInfo\"]"},
    {"channel admin", ROLE_CONVERSATION,
     "[\"deleteConversation\",\"removeParticipant\",\"editConversationName\",\"editConversationAttributes\","
     "\"addParticipant\",\"sendMessage\",\"sendMediaMessage\",\"leaveConversation\",\"editAnyMessage\","
     "\"editAnyMessageAttributes\",\"editAnyParticipantAttributes\",\"deleteAnyMessage\","
     "\"editNotificationLevel\"]"},
    {"channel user", ROLE_CONVERSATION,
     "[\"sendMessage\",\"sendMediaMessage\",\"leaveConversation\",\"editOwnMessage\","
     "\"editOwnMessageAttributes\","
     "\"deleteOwnMessage\",\"editOwnParticipantAttributes\",\"editNotificationLevel\"]"},
};

int services_insert_with_defaults(struct store_conn *c, const char *account_sid, const char *friendly_name,
                                  long long now, const char *service_sid)
{
    struct service sv;
    memset(&sv, 0, sizeof(sv));
    snprintf(sv.sid, sizeof(sv.sid), "%s", service_sid);
    snprintf(sv.account_sid, sizeof(sv.account_sid), "%s", account_sid);
    sv.friendly_name = (char *)friendly_name;
    sv.date_created = sv.date_updated = now;

    struct role roles[4];
    for (int i = 0; i < 4; i++) {
        memset(&roles[i], 0, sizeof(roles[i]));
        sid_new(roles[i].sid, "RL");
        snprintf(roles[i].account_sid, sizeof(roles[i].account_sid), "%s", account_sid);
        memcpy(roles[i].service_sid, sv.sid, sizeof(sv.sid));
        roles[i].friendly_name = (char *)default_roles[i].name;
        roles[i].type = default_roles[i].type;
        roles[i].permissions = (char *)default_roles[i].permissions;
        roles[i].date_created = roles[i].date_updated = now;
    }
    struct service_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    memcpy(cfg.service_sid, sv.sid, sizeof(sv.sid));
    memcpy(cfg.chat_service_role_sid, roles[1].sid, sizeof(cfg.chat_service_role_sid));
    memcpy(cfg.conversation_creator_role_sid, roles[2].sid, sizeof(cfg.conversation_creator_role_sid));
    memcpy(cfg.conversation_role_sid, roles[3].sid, sizeof(cfg.conversation_role_sid));

    /* every notification off, templates and sounds unset [SPEC "default is false"] */
    struct notifications nt;
    memset(&nt, 0, sizeof(nt));
    memcpy(nt.service_sid, sv.sid, sizeof(sv.sid));
    memcpy(nt.account_sid, sv.account_sid, sizeof(sv.account_sid));

    int rc = c->ops->service_insert(c, &sv, &cfg);
    for (int i = 0; i < 4 && rc == ST_OK; i++)
        rc = c->ops->role_insert(c, &roles[i]);
    if (rc == ST_OK) rc = c->ops->model->notifications_put(c, &nt);
    return rc;
}

struct account_job {
    struct write_job job;
    const char *sid;
    const char *token;
    const char *friendly_name;
    int rc;
};

static int apply_account(struct store_conn *c, struct write_job *job)
{
    struct account_job *aj = (struct account_job *)job;
    struct account a;
    memset(&a, 0, sizeof(a));
    snprintf(a.sid, sizeof(a.sid), "%s", aj->sid);
    a.auth_token = (char *)aj->token;
    a.friendly_name = (char *)aj->friendly_name;
    a.date_created = time_now_ms();
    /* the account row first: its default service references it */
    sid_new(a.default_service_sid, "IS");
    aj->rc = c->ops->account_insert(c, &a);
    if (aj->rc == ST_OK)
        aj->rc = services_insert_with_defaults(c, a.sid, "Default Conversations Service", a.date_created,
                                               a.default_service_sid);
    return aj->rc != ST_OK;
}

static void complete_account(struct write_job *job, int committed, int store_result)
{
    struct account_job *aj = (struct account_job *)job;
    if (!committed && aj->rc == ST_OK) aj->rc = store_result ? store_result : ST_ERROR;
}

int services_create_account(struct app *app, const char *account_sid, const char *auth_token,
                            const char *friendly_name)
{
    struct account_job aj = {.job = {.apply = apply_account, .complete = complete_account},
                             .sid = account_sid,
                             .token = auth_token,
                             .friendly_name = friendly_name};
    if (writer_run_sync(app->writer, &aj.job) != 0 || aj.rc != ST_OK) {
        log_err("cannot create account %s (%d)", account_sid, aj.rc);
        return -1;
    }
    return 0;
}

int services_create_default_account(struct app *app, const char *account_sid, const char *auth_token)
{
    return services_create_account(app, account_sid, auth_token, NULL);
}

/* ---- REST: /v1/Services[/{Sid}] ---- */

#define SERVICE_NAME_MAX 256 /* [SPEC] "limited to 256 characters" */

static const struct param_spec create_params[] = {
    {"FriendlyName", PK_STRING, P_REQUIRED, 0, SERVICE_NAME_MAX, E_FRIENDLY_NAME_TOO_LONG, NULL, 0},
};

static void render_service(struct jw *w, struct req *r, const struct service *sv)
{
    static const char *const links[][2] = {
        {"conversations", "Conversations"},
        {"users", "Users"},
        {"roles", "Roles"},
        {"bindings", "Bindings"},
        {"configuration", "Configuration"},
        {"participant_conversations", "ParticipantConversations"},
        {"conversation_with_participants", "ConversationWithParticipants"},
    };
    char url[400], link[480];
    char created[TIME_ISO_LEN + 1], updated[TIME_ISO_LEN + 1];
    snprintf(url, sizeof(url), "%s/v1/Services/%s", r->app->public_url, sv->sid);
    time_iso(created, sv->date_created);
    time_iso(updated, sv->date_updated);
    jw_obj_begin(w);
    jw_kstr(w, "account_sid", sv->account_sid);
    jw_kstr(w, "sid", sv->sid);
    jw_kstr(w, "friendly_name", sv->friendly_name);
    jw_kstr(w, "date_created", created);
    jw_kstr(w, "date_updated", updated);
    jw_kstr(w, "url", url);
    jw_key(w, "links");
    jw_obj_begin(w);
    for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
        snprintf(link, sizeof(link), "%s/%s", url, links[i][1]);
        jw_kstr(w, links[i][0], link);
    }
    jw_obj_end(w);
    jw_obj_end(w);
}

static void respond_service(struct req *r, int status, const struct service *sv)
{
    struct jw w;
    api_json_begin(r, &w, status);
    render_service(&w, r, sv);
}

static int apply_create(struct store_conn *c, struct req *r)
{
    struct service *sv = r->ctx;
    sv->date_created = sv->date_updated = time_now_ms();
    int rc = services_insert_with_defaults(c, sv->account_sid, sv->friendly_name, sv->date_created, sv->sid);
    if (rc == ST_OK)
        rc = store_change_record(c, sv->account_sid, sv->sid, "service", sv->sid, NULL, "created");
    if (rc != ST_OK) return api_fail(r, rc);
    respond_service(r, 201, sv);
    return 0;
}

int services_create(struct req *r)
{
    struct param_value v[1];
    if (params_read(r, &r->body, create_params, 1, v) != 0) return 0;
    struct service *sv = arena_alloc(&r->arena, sizeof(*sv));
    memset(sv, 0, sizeof(*sv));
    sid_new(sv->sid, "IS");
    snprintf(sv->account_sid, sizeof(sv->account_sid), "%s", r->account.sid);
    sv->friendly_name = (char *)v[0].s;
    return api_write(r, apply_create, sv);
}

/* The route (ROUTE_SERVICE) has already found the service among the caller's. */
int services_fetch(struct req *r)
{
    struct service sv;
    int rc = r->db->ops->service_get(r->db, r->account.sid, r->service_sid, &r->arena, &sv);
    if (rc == ST_NOT_FOUND) return resp_not_found(r);
    if (rc != ST_OK) return resp_store_error(r, rc);
    respond_service(r, 200, &sv);
    return 0;
}

/* ---- reaping deleted services ----
 *
 * A DELETE only marks the service: one short write, after which it is not found anywhere and writes into
 * it are refused. Its rows go afterwards, REAP_ROWS at a time, each batch a writer job queued behind the
 * requests already waiting, so a service with 100,000 users does not stall the writer for everyone. */

#define REAP_ROWS 500     /* rows per batch: a few ms of the writer */
#define REAP_POLL_MS 5000 /* a look for work without a kick: another server's, or left by a crash */

struct reaper {
    struct ticker ticker;
    struct app *app;
};

struct reap_job {
    struct write_job job;
    int more;
    int rc;
};

static int apply_reap(struct store_conn *c, struct write_job *job)
{
    struct reap_job *j = (struct reap_job *)job;
    j->rc = c->ops->model->service_reap(c, REAP_ROWS, &j->more);
    return j->rc != ST_OK;
}

static void complete_reap(struct write_job *job, int committed, int store_result)
{
    struct reap_job *j = (struct reap_job *)job;
    if (!committed && j->rc == ST_OK) j->rc = store_result ? store_result : ST_ERROR;
}

/* Reaps every marked service, a batch per writer job, until none is left or the server stops. */
static void reaper_tick(void *arg)
{
    struct reaper *k = arg;
    long long batches = 0;
    for (;;) {
        struct reap_job j = {.job = {.apply = apply_reap, .complete = complete_reap}};
        writer_run_sync(k->app->writer, &j.job);
        if (j.rc != ST_OK) {
            if (j.rc != ST_BUSY)
                log_warn("store: reaping a deleted service failed (%d); it is tried again later", j.rc);
            break;
        }
        if (!j.more || ticker_stopping(&k->ticker)) break;
        batches++;
    }
    if (batches) log_info("store: reaped deleted services' rows in %lld batches", batches);
}

int services_reaper_start(struct app *app)
{
    struct reaper *k = calloc(1, sizeof(*k));
    if (!k) return -1;
    k->app = app;
    /* kicked at once: resume what a previous run left */
    if (ticker_start(&k->ticker, "parley-reaper", REAP_POLL_MS, 1, reaper_tick, k) != 0) {
        free(k);
        return -1;
    }
    app->reaper = k;
    return 0;
}

static void reaper_kick(struct reaper *k)
{
    if (k) ticker_kick(&k->ticker);
}

/* The reaper finishes its batch, then stops; the rest is resumed at the next start. */
void services_reaper_stop(struct app *app)
{
    struct reaper *k = app->reaper;
    if (!k) return;
    ticker_stop(&k->ticker);
    free(k);
    app->reaper = NULL;
}

/* The service is marked deleted in this one job (store service_delete); the reaper, kicked here, runs
 * in a later batch and so sees the mark committed. The account's default service is refused: short
 * paths would lose their target (docs/DECISIONS.md). */
static int apply_delete(struct store_conn *c, struct req *r)
{
    struct account acct;
    int rc = c->ops->account_get(c, r->account.sid, &r->arena, &acct);
    if (rc != ST_OK) return api_fail(r, rc);
    if (strcmp(acct.default_service_sid, r->service_sid) == 0)
        return resp_error(r, E_INVALID_PARAM,
                          "Cannot delete the default Conversation Service %s: make another service the "
                          "DefaultChatServiceSid in /v1/Configuration first",
                          r->service_sid),
               -1;
    rc = c->ops->model->service_delete(c, r->account.sid, r->service_sid);
    /* one record for the service: its rows go with it, reaped later without records of their own */
    if (rc == ST_OK)
        rc = store_change_record(c, r->account.sid, r->service_sid, "service", r->service_sid, NULL,
                                 "deleted");
    if (rc == ST_OK) reaper_kick(r->app->reaper);
    return api_deleted(r, rc);
}

int services_delete(struct req *r)
{
    return api_write(r, apply_delete, NULL);
}

static int list_row(void *ctx, long long id, const struct service *sv)
{
    struct list_ctx *lc = ctx;
    list_row_begin(lc, id);
    render_service(lc->w, lc->r, sv);
    return 0;
}

static int fetch_services(struct list_ctx *lc)
{
    struct req *r = lc->r;
    return r->db->ops->model->service_list(r->db, r->account.sid, &lc->pg->req, list_row, lc);
}

int services_list(struct req *r)
{
    return paging_list(r, 100, "services", "/v1/Services", "", fetch_services, NULL);
}
