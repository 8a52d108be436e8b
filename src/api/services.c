/* Conversation Services: creation with everything a new service owns (BEHAVIOUR §3.2, §3.3, §10.3). */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "store/writer.h"
#include "util/log.h"
#include "util/sid.h"
#include "util/timefmt.h"

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
     "[\"sendMessage\",\"sendMediaMessage\",\"leaveConversation\",\"editOwnMessage\",\"editOwnMessageAttributes\","
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

    int rc = c->ops->service_insert(c, &sv, &cfg);
    for (int i = 0; i < 4 && rc == ST_OK; i++)
        rc = c->ops->role_insert(c, &roles[i]);
    return rc;
}

struct account_job {
    struct write_job job;
    const char *sid;
    const char *token;
    int rc;
};

static int apply_account(struct store_conn *c, struct write_job *job)
{
    struct account_job *aj = (struct account_job *)job;
    struct account a;
    memset(&a, 0, sizeof(a));
    snprintf(a.sid, sizeof(a.sid), "%s", aj->sid);
    a.auth_token = (char *)aj->token;
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
    if (!committed && aj->rc == ST_OK)
        aj->rc = store_result ? store_result : ST_ERROR;
}

int services_create_default_account(struct app *app, const char *account_sid, const char *auth_token)
{
    struct account_job aj = {.job = {.apply = apply_account, .complete = complete_account},
                             .sid = account_sid,
                             .token = auth_token};
    if (writer_run_sync(app->writer, &aj.job) != 0 || aj.rc != ST_OK) {
        log_err("cannot create account %s (%d)", account_sid, aj.rc);
        return -1;
    }
    return 0;
}
