/* Conversation Services: /v1/Services[/{Sid}] (create, fetch, list, delete), creation with everything a
 * new service owns, and account bootstrap (BEHAVIOUR §3.2, §3.3, §10.3). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/fail.h"
#include "api/families.h"
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

    int rc = store_service_insert(c, &sv, &cfg);
    for (int i = 0; i < 4 && rc == ST_OK; i++)
        rc = store_role_insert(c, &roles[i]);
    if (rc == ST_OK) rc = store_notifications_put(c, &nt);
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
    aj->rc = store_account_insert(c, &a);
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
    j->rc = store_service_reap(c, REAP_ROWS, &j->more);
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

/* ---- REST: /v1/Services[/{Sid}], a family run by api/runner.c ---- */

#define SERVICE_NAME_MAX 256 /* [SPEC] "limited to 256 characters" */
#define SV(m) offsetof(struct service, m)

static const struct param_spec params[] = {
    {"FriendlyName", PK_STRING, P_REQUIRED, 0, SERVICE_NAME_MAX, E_FRIENDLY_NAME_TOO_LONG, NULL,
     SV(friendly_name)},
};

/* links: the service's URL and each resource under it */
static void render_links(struct jw *w, const void *row, struct req *r)
{
    static const char *const links[][2] = {
        {"conversations", "/Conversations"},
        {"users", "/Users"},
        {"roles", "/Roles"},
        {"bindings", "/Bindings"},
        {"configuration", "/Configuration"},
        {"participant_conversations", "/ParticipantConversations"},
        {"conversation_with_participants", "/ConversationWithParticipants"},
    };
    jw_obj_begin(w);
    for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
        runner_link(w, r, &services_family, row, links[i][0], links[i][1]);
    jw_obj_end(w);
}

static const struct field fields[] = {
    {"account_sid", FK_CHARS, SV(account_sid), NULL},
    {"sid", FK_CHARS, SV(sid), NULL},
    {"friendly_name", FK_STR, SV(friendly_name), NULL},
    {"date_created", FK_DATE, SV(date_created), NULL},
    {"date_updated", FK_DATE, SV(date_updated), NULL},
    {"url", FK_URL, 0, NULL},
    {"links", FK_FN, 0, render_links},
};

/* ---- store calls: a service is created with what it owns, and its delete only marks it ---- */

static int get(struct store_conn *c, struct req *r, const char *sid, void *out)
{
    return store_service_get(c, r->account.sid, sid, &r->arena, out);
}

static int insert(struct store_conn *c, struct req *r, void *row)
{
    const struct service *sv = row;
    int rc = services_insert_with_defaults(c, sv->account_sid, sv->friendly_name, sv->date_created, sv->sid);
    /* recorded here, not by the runner: a service is its own scope (the record's service_sid) */
    return rc ? rc : store_change_record(c, sv->account_sid, sv->sid, "service", sv->sid, NULL, "created");
}

/* The service is marked deleted in this one job (store service_delete); the reaper, kicked here, runs
 * in a later batch and so sees the mark committed. The account's default service is refused: short
 * paths would lose their target (docs/DECISIONS.md). */
static int del(struct store_conn *c, struct req *r, const char *sid)
{
    struct account acct;
    int rc = store_account_get(c, r->account.sid, &r->arena, &acct);
    if (rc != ST_OK) return rc;
    if (strcmp(acct.default_service_sid, sid) == 0)
        return api_detail(r, E_INVALID_PARAM,
                          "Cannot delete the default Conversation Service %s: make another service the "
                          "DefaultChatServiceSid in /v1/Configuration first",
                          sid);
    rc = store_service_delete(c, r->account.sid, sid);
    /* one record for the service: its rows go with it, reaped later without records of their own */
    if (rc == ST_OK) rc = store_change_record(c, r->account.sid, sid, "service", sid, NULL, "deleted");
    if (rc == ST_OK) reaper_kick(r->app->reaper);
    return rc;
}

/* struct service has no keyset position: the store hands it beside the row */
static int list_row(void *ctx, long long id, const struct service *sv)
{
    return runner_list_row_id(ctx, id, sv);
}

static int list(struct store_conn *c, struct req *r, const struct list_filter *f, const struct page_req *p,
                void *ctx)
{
    return store_service_list(c, r->account.sid, p, list_row, ctx);
}

const struct family services_family = {
    .segment = "Services",
    .prefix = "IS",
    .parent = PARENT_ACCOUNT,
    .row_size = sizeof(struct service),
    .sid_off = SV(sid),
    .account_off = SV(account_sid),
    .created_off = SV(date_created),
    .updated_off = SV(date_updated),
    FAMILY_FIELDS(fields),
    FAMILY_PARAMS(params),
    .op_fetch = &ops_table[OPID_FETCH_SERVICE],
    .op_list = &ops_table[OPID_LIST_SERVICE],
    .op_create = &ops_table[OPID_CREATE_SERVICE],
    .op_delete = &ops_table[OPID_DELETE_SERVICE],
    .store = {get, insert, NULL, del, list},
};
