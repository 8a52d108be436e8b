/* Service configuration: /v1/Services/{ChatServiceSid}/Configuration and its Notifications
 * (BEHAVIOUR §3.5, §3.6). The route (ROUTE_SERVICE) has already found the service among the caller's. */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/params.h"
#include "http/response.h"
#include "json/jw.h"
#include "store/account_store.h"

/* ---- configuration ---- */

enum { SC_CREATOR_ROLE, SC_CONVERSATION_ROLE, SC_SERVICE_ROLE, SC_REACHABILITY, SC__COUNT };

static const struct param_spec config_params[SC__COUNT] = {
    [SC_CREATOR_ROLE] = {"DefaultConversationCreatorRoleSid", PK_SID, 0, 0, 0, 0, "RL"},
    [SC_CONVERSATION_ROLE] = {"DefaultConversationRoleSid", PK_SID, 0, 0, 0, 0, "RL"},
    [SC_SERVICE_ROLE] = {"DefaultChatServiceRoleSid", PK_SID, 0, 0, 0, 0, "RL"},
    [SC_REACHABILITY] = {"ReachabilityEnabled", PK_BOOL, 0, 0, 0, 0, NULL},
};

struct config_write {
    struct param_value v[SC__COUNT];
};

static void respond_config(struct req *r, const struct service_config *cfg)
{
    char url[400], notifications[440], webhooks[440];
    snprintf(url, sizeof(url), "%s/v1/Services/%s/Configuration", r->app->public_url, cfg->service_sid);
    snprintf(notifications, sizeof(notifications), "%s/Notifications", url);
    snprintf(webhooks, sizeof(webhooks), "%s/Webhooks", url);
    struct jw w;
    api_json_begin(r, &w, 200);
    jw_obj_begin(&w);
    jw_kstr(&w, "chat_service_sid", cfg->service_sid);
    jw_kstr(&w, "default_conversation_creator_role_sid", cfg->conversation_creator_role_sid);
    jw_kstr(&w, "default_conversation_role_sid", cfg->conversation_role_sid);
    jw_kstr(&w, "default_chat_service_role_sid", cfg->chat_service_role_sid);
    jw_kstr(&w, "url", url);
    jw_key(&w, "links");
    jw_obj_begin(&w);
    jw_kstr(&w, "notifications", notifications);
    jw_kstr(&w, "webhooks", webhooks);
    jw_obj_end(&w);
    jw_kbool(&w, "reachability_enabled", cfg->reachability_enabled);
    jw_obj_end(&w);
}

int service_config_fetch(struct req *r)
{
    struct service_config cfg;
    int rc = r->db->ops->service_config_get(r->db, r->service_sid, &cfg);
    if (rc != ST_OK)
        return resp_store_error(r, rc);
    respond_config(r, &cfg);
    return 0;
}

/* A default role must be a role of this service with the type its slot needs: the service role for
 * new users, conversation roles for conversation creators and members. */
static int take_role(struct store_conn *c, struct req *r, const struct param_value *v, enum role_type type,
                     char out[SID_LEN + 1])
{
    if (!v->present)
        return 0;
    struct role ro;
    int rc = c->ops->role_get(c, r->service_sid, v->s, &r->arena, &ro);
    if (rc != ST_OK && rc != ST_NOT_FOUND)
        return resp_store_error(r, rc), -1;
    if (rc == ST_NOT_FOUND || ro.type != type) {
        if (type == ROLE_SERVICE)
            return resp_error(r, E_ROLE_NOT_FOUND, "%s", resp_title(E_ROLE_NOT_FOUND)), -1;
        return resp_error(r, E_CONVERSATION_ROLE_NOT_FOUND, "%s", resp_title(E_CONVERSATION_ROLE_NOT_FOUND)), -1;
    }
    memcpy(out, ro.sid, SID_LEN + 1);
    return 0;
}

static int apply_config_update(struct store_conn *c, struct req *r)
{
    struct config_write *cw = r->ctx;
    struct service_config cfg;
    int rc = c->ops->service_config_get(c, r->service_sid, &cfg);
    if (rc != ST_OK)
        return resp_store_error(r, rc), -1;
    if (take_role(c, r, &cw->v[SC_CREATOR_ROLE], ROLE_CONVERSATION, cfg.conversation_creator_role_sid) != 0 ||
        take_role(c, r, &cw->v[SC_CONVERSATION_ROLE], ROLE_CONVERSATION, cfg.conversation_role_sid) != 0 ||
        take_role(c, r, &cw->v[SC_SERVICE_ROLE], ROLE_SERVICE, cfg.chat_service_role_sid) != 0)
        return -1;
    if (cw->v[SC_REACHABILITY].present)
        cfg.reachability_enabled = (int)cw->v[SC_REACHABILITY].i;
    rc = c->ops->model->service_config_update(c, &cfg);
    if (rc != ST_OK)
        return resp_store_error(r, rc), -1;
    respond_config(r, &cfg);
    return 0;
}

int service_config_update(struct req *r)
{
    struct config_write *cw = arena_alloc(&r->arena, sizeof(*cw));
    if (params_read(r, &r->body, config_params, SC__COUNT, cw->v) != 0)
        return 0;
    if (params_count_present(cw->v, SC__COUNT) == 0)
        return resp_error(r, E_NO_UPDATE_PARAMS, "Parameters are not specified for update request");
    return api_write(r, apply_config_update, cw);
}

/* ---- notifications ---- */

/* Twilio documents no limits (only the codes 50058 / 50059): a template must leave room for the message
 * text in a 4 KiB APNs/FCM payload, and a sound is a file name in the app (docs/DECISIONS.md). */
#define NOTIFICATION_TEMPLATE_MAX 1024
#define NOTIFICATION_SOUND_MAX 256
#define TEMPLATE_PARAM(name) \
    {name, PK_STRING, 0, 0, NOTIFICATION_TEMPLATE_MAX, E_NOTIFICATION_TEMPLATE_TOO_LONG, NULL}
#define SOUND_PARAM(name) {name, PK_STRING, 0, 0, NOTIFICATION_SOUND_MAX, E_NOTIFICATION_SOUND_TOO_LONG, NULL}

enum {
    N_LOG_ENABLED,
    N_NEW_ENABLED,
    N_NEW_TEMPLATE,
    N_NEW_SOUND,
    N_NEW_BADGE,
    N_ADDED_ENABLED,
    N_ADDED_TEMPLATE,
    N_ADDED_SOUND,
    N_REMOVED_ENABLED,
    N_REMOVED_TEMPLATE,
    N_REMOVED_SOUND,
    N_MEDIA_ENABLED,
    N_MEDIA_TEMPLATE,
    N__COUNT
};

static const struct param_spec notification_params[N__COUNT] = {
    [N_LOG_ENABLED] = {"LogEnabled", PK_BOOL, 0, 0, 0, 0, NULL},
    [N_NEW_ENABLED] = {"NewMessage.Enabled", PK_BOOL, 0, 0, 0, 0, NULL},
    [N_NEW_TEMPLATE] = TEMPLATE_PARAM("NewMessage.Template"),
    [N_NEW_SOUND] = SOUND_PARAM("NewMessage.Sound"),
    [N_NEW_BADGE] = {"NewMessage.BadgeCountEnabled", PK_BOOL, 0, 0, 0, 0, NULL},
    [N_ADDED_ENABLED] = {"AddedToConversation.Enabled", PK_BOOL, 0, 0, 0, 0, NULL},
    [N_ADDED_TEMPLATE] = TEMPLATE_PARAM("AddedToConversation.Template"),
    [N_ADDED_SOUND] = SOUND_PARAM("AddedToConversation.Sound"),
    [N_REMOVED_ENABLED] = {"RemovedFromConversation.Enabled", PK_BOOL, 0, 0, 0, 0, NULL},
    [N_REMOVED_TEMPLATE] = TEMPLATE_PARAM("RemovedFromConversation.Template"),
    [N_REMOVED_SOUND] = SOUND_PARAM("RemovedFromConversation.Sound"),
    [N_MEDIA_ENABLED] = {"NewMessage.WithMedia.Enabled", PK_BOOL, 0, 0, 0, 0, NULL},
    [N_MEDIA_TEMPLATE] = TEMPLATE_PARAM("NewMessage.WithMedia.Template"),
};

struct notification_write {
    struct param_value v[N__COUNT];
};

/* A key of a nested object is rendered once it holds something: `enabled` always, a template or sound once
 * set, badge_count_enabled once true, with_media once it is enabled or has a template; so a fresh service
 * shows {"enabled": false}, as Twilio renders it (docs/DECISIONS.md). */
static void notification_text(struct jw *w, const char *key, const char *value)
{
    if (value)
        jw_kstr(w, key, value);
}

static void notification_kind(struct jw *w, const char *key, int enabled, const char *template,
                              const char *sound)
{
    jw_key(w, key);
    jw_obj_begin(w);
    jw_kbool(w, "enabled", enabled);
    notification_text(w, "template", template);
    notification_text(w, "sound", sound);
    jw_obj_end(w);
}

static void respond_notifications(struct req *r, const struct notifications *n)
{
    char url[480];
    snprintf(url, sizeof(url), "%s/v1/Services/%s/Configuration/Notifications", r->app->public_url,
             n->service_sid);
    struct jw w;
    api_json_begin(r, &w, 200);
    jw_obj_begin(&w);
    jw_kstr(&w, "account_sid", n->account_sid);
    jw_kstr(&w, "chat_service_sid", n->service_sid);
    jw_key(&w, "new_message");
    jw_obj_begin(&w);
    jw_kbool(&w, "enabled", n->new_message_enabled);
    notification_text(&w, "template", n->new_message_template);
    if (n->new_message_badge_count_enabled)
        jw_kbool(&w, "badge_count_enabled", 1);
    notification_text(&w, "sound", n->new_message_sound);
    if (n->new_message_with_media_enabled || n->new_message_with_media_template) {
        jw_key(&w, "with_media");
        jw_obj_begin(&w);
        jw_kbool(&w, "enabled", n->new_message_with_media_enabled);
        notification_text(&w, "template", n->new_message_with_media_template);
        jw_obj_end(&w);
    }
    jw_obj_end(&w);
    notification_kind(&w, "added_to_conversation", n->added_enabled, n->added_template, n->added_sound);
    notification_kind(&w, "removed_from_conversation", n->removed_enabled, n->removed_template,
                      n->removed_sound);
    jw_kbool(&w, "log_enabled", n->log_enabled);
    jw_kstr(&w, "url", url);
    jw_obj_end(&w);
}

int notifications_fetch(struct req *r)
{
    struct notifications n;
    int rc = r->db->ops->model->notifications_get(r->db, r->service_sid, &r->arena, &n);
    if (rc != ST_OK)
        return resp_store_error(r, rc);
    respond_notifications(r, &n);
    return 0;
}

static void set_flag(int *field, const struct param_value *v)
{
    if (v->present)
        *field = (int)v->i;
}

static void set_text(char **field, const struct param_value *v)
{
    if (v->present)
        *field = (char *)v->s;
}

static int apply_notifications_update(struct store_conn *c, struct req *r)
{
    const struct param_value *v = ((struct notification_write *)r->ctx)->v;
    struct notifications n;
    int rc = c->ops->model->notifications_get(c, r->service_sid, &r->arena, &n);
    if (rc != ST_OK)
        return resp_store_error(r, rc), -1;
    set_flag(&n.log_enabled, &v[N_LOG_ENABLED]);
    set_flag(&n.new_message_enabled, &v[N_NEW_ENABLED]);
    set_text(&n.new_message_template, &v[N_NEW_TEMPLATE]);
    set_text(&n.new_message_sound, &v[N_NEW_SOUND]);
    set_flag(&n.new_message_badge_count_enabled, &v[N_NEW_BADGE]);
    set_flag(&n.added_enabled, &v[N_ADDED_ENABLED]);
    set_text(&n.added_template, &v[N_ADDED_TEMPLATE]);
    set_text(&n.added_sound, &v[N_ADDED_SOUND]);
    set_flag(&n.removed_enabled, &v[N_REMOVED_ENABLED]);
    set_text(&n.removed_template, &v[N_REMOVED_TEMPLATE]);
    set_text(&n.removed_sound, &v[N_REMOVED_SOUND]);
    set_flag(&n.new_message_with_media_enabled, &v[N_MEDIA_ENABLED]);
    set_text(&n.new_message_with_media_template, &v[N_MEDIA_TEMPLATE]);
    rc = c->ops->model->notifications_put(c, &n);
    if (rc != ST_OK)
        return resp_store_error(r, rc), -1;
    respond_notifications(r, &n);
    return 0;
}

int notifications_update(struct req *r)
{
    struct notification_write *nw = arena_alloc(&r->arena, sizeof(*nw));
    if (params_read(r, &r->body, notification_params, N__COUNT, nw->v) != 0)
        return 0;
    if (params_count_present(nw->v, N__COUNT) == 0)
        return resp_error(r, E_NO_UPDATE_PARAMS, "Parameters are not specified for update request");
    return api_write(r, apply_notifications_update, nw);
}
