/* Service configuration: /v1/Services/{ChatServiceSid}/Configuration and its Notifications
 * (BEHAVIOUR §3.5, §3.6): two singleton families run by api/runner.c, each the service's one row of
 * settings. The configuration's hook checks the default roles it is given. */
#include <stddef.h>

#include "api/api.h"
#include "api/families.h"
#include "store/account_store.h"
#include "json/jw.h"

/* ---- configuration ---- */

#define SC(m) offsetof(struct service_config, m)

enum { SC_CREATOR_ROLE, SC_CONVERSATION_ROLE, SC_SERVICE_ROLE, SC_REACHABILITY, SC__COUNT };

static const struct param_spec config_params[SC__COUNT] = {
    [SC_CREATOR_ROLE] = {"DefaultConversationCreatorRoleSid", PK_SID, P_NO_SLOT, 0, 0, 0, "RL", 0},
    [SC_CONVERSATION_ROLE] = {"DefaultConversationRoleSid", PK_SID, P_NO_SLOT, 0, 0, 0, "RL", 0},
    [SC_SERVICE_ROLE] = {"DefaultChatServiceRoleSid", PK_SID, P_NO_SLOT, 0, 0, 0, "RL", 0},
    [SC_REACHABILITY] = {"ReachabilityEnabled", PK_BOOL, 0, 0, 0, 0, NULL, SC(reachability_enabled)},
};

static void render_config_links(struct jw *w, const void *row, struct req *r)
{
    jw_obj_begin(w);
    runner_link(w, r, &service_config_family, row, "notifications", "/Notifications");
    runner_link(w, r, &service_config_family, row, "webhooks", "/Webhooks");
    jw_obj_end(w);
}

static const struct field config_fields[] = {
    {"chat_service_sid", FK_CHARS, SC(service_sid), NULL},
    {"default_conversation_creator_role_sid", FK_CHARS, SC(conversation_creator_role_sid), NULL},
    {"default_conversation_role_sid", FK_CHARS, SC(conversation_role_sid), NULL},
    {"default_chat_service_role_sid", FK_CHARS, SC(chat_service_role_sid), NULL},
    {"url", FK_URL, 0, NULL},
    {"links", FK_FN, 0, render_config_links},
    {"reachability_enabled", FK_BOOL, SC(reachability_enabled), NULL},
};

/* A default role must be a role of this service with the type its slot needs: the service role for
 * new users, conversation roles for conversation creators and members. */
static int config_before_update(struct store_conn *c, struct req *r, void *stored,
                                const struct param_value *v)
{
    struct service_config *cfg = stored;
    int err = roles_take(c, r, &v[SC_CREATOR_ROLE], ROLE_CONVERSATION, cfg->conversation_creator_role_sid);
    if (!err) err = roles_take(c, r, &v[SC_CONVERSATION_ROLE], ROLE_CONVERSATION, cfg->conversation_role_sid);
    if (!err) err = roles_take(c, r, &v[SC_SERVICE_ROLE], ROLE_SERVICE, cfg->chat_service_role_sid);
    return err;
}

static int config_get(struct store_conn *c, struct req *r, const char *key, void *out)
{
    return store_service_config_get(c, r->service_sid, out);
}

static int config_update(struct store_conn *c, struct req *r, const void *row, const void *before)
{
    return store_service_config_update(c, row);
}

const struct family service_config_family = {
    .segment = "Configuration",
    .resource = "service_configuration",
    .singleton = 1,
    .parent = PARENT_SERVICE,
    .row_size = sizeof(struct service_config),
    .service_off = SC(service_sid),
    FAMILY_FIELDS(config_fields),
    FAMILY_PARAMS(config_params),
    .op_fetch = &ops_table[OPID_FETCH_SERVICE_CONFIGURATION],
    .op_update = &ops_table[OPID_UPDATE_SERVICE_CONFIGURATION],
    .store = {.get = config_get, .update = config_update},
    .before_update = config_before_update,
};

/* ---- notifications ---- */

/* Twilio documents no limits (only the codes 50058 / 50059): a template must leave room for the message
 * text in a 4 KiB APNs/FCM payload, and a sound is a file name in the app (docs/DECISIONS.md). */
#define NOTIFICATION_TEMPLATE_MAX 1024
#define NOTIFICATION_SOUND_MAX 256
#define NT(m) offsetof(struct notifications, m)
#define FLAG_PARAM(name, m)                                                                                  \
    {                                                                                                        \
        name, PK_BOOL, 0, 0, 0, 0, NULL, NT(m)                                                               \
    }
#define TEMPLATE_PARAM(name, m)                                                                              \
    {                                                                                                        \
        name, PK_STRING, 0, 0, NOTIFICATION_TEMPLATE_MAX, E_NOTIFICATION_TEMPLATE_TOO_LONG, NULL, NT(m)      \
    }
#define SOUND_PARAM(name, m)                                                                                 \
    {                                                                                                        \
        name, PK_STRING, 0, 0, NOTIFICATION_SOUND_MAX, E_NOTIFICATION_SOUND_TOO_LONG, NULL, NT(m)            \
    }

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
    [N_LOG_ENABLED] = FLAG_PARAM("LogEnabled", log_enabled),
    [N_NEW_ENABLED] = FLAG_PARAM("NewMessage.Enabled", new_message_enabled),
    [N_NEW_TEMPLATE] = TEMPLATE_PARAM("NewMessage.Template", new_message_template),
    [N_NEW_SOUND] = SOUND_PARAM("NewMessage.Sound", new_message_sound),
    [N_NEW_BADGE] = FLAG_PARAM("NewMessage.BadgeCountEnabled", new_message_badge_count_enabled),
    [N_ADDED_ENABLED] = FLAG_PARAM("AddedToConversation.Enabled", added_enabled),
    [N_ADDED_TEMPLATE] = TEMPLATE_PARAM("AddedToConversation.Template", added_template),
    [N_ADDED_SOUND] = SOUND_PARAM("AddedToConversation.Sound", added_sound),
    [N_REMOVED_ENABLED] = FLAG_PARAM("RemovedFromConversation.Enabled", removed_enabled),
    [N_REMOVED_TEMPLATE] = TEMPLATE_PARAM("RemovedFromConversation.Template", removed_template),
    [N_REMOVED_SOUND] = SOUND_PARAM("RemovedFromConversation.Sound", removed_sound),
    [N_MEDIA_ENABLED] = FLAG_PARAM("NewMessage.WithMedia.Enabled", new_message_with_media_enabled),
    [N_MEDIA_TEMPLATE] = TEMPLATE_PARAM("NewMessage.WithMedia.Template", new_message_with_media_template),
};

/* A key of a nested object is rendered once it holds something: `enabled` always, a template or sound once
 * set, badge_count_enabled once true, with_media once it is enabled or has a template; so a fresh service
 * shows {"enabled": false}, as Twilio renders it (docs/DECISIONS.md). */
static void notification_text(struct jw *w, const char *key, const char *value)
{
    if (value) jw_kstr(w, key, value);
}

static void notification_kind(struct jw *w, int enabled, const char *template, const char *sound)
{
    jw_obj_begin(w);
    jw_kbool(w, "enabled", enabled);
    notification_text(w, "template", template);
    notification_text(w, "sound", sound);
    jw_obj_end(w);
}

static void render_new_message(struct jw *w, const void *row, struct req *r)
{
    const struct notifications *n = row;
    jw_obj_begin(w);
    jw_kbool(w, "enabled", n->new_message_enabled);
    notification_text(w, "template", n->new_message_template);
    if (n->new_message_badge_count_enabled) jw_kbool(w, "badge_count_enabled", 1);
    notification_text(w, "sound", n->new_message_sound);
    if (n->new_message_with_media_enabled || n->new_message_with_media_template) {
        jw_key(w, "with_media");
        jw_obj_begin(w);
        jw_kbool(w, "enabled", n->new_message_with_media_enabled);
        notification_text(w, "template", n->new_message_with_media_template);
        jw_obj_end(w);
    }
    jw_obj_end(w);
}

static void render_added(struct jw *w, const void *row, struct req *r)
{
    const struct notifications *n = row;
    notification_kind(w, n->added_enabled, n->added_template, n->added_sound);
}

static void render_removed(struct jw *w, const void *row, struct req *r)
{
    const struct notifications *n = row;
    notification_kind(w, n->removed_enabled, n->removed_template, n->removed_sound);
}

static const struct field notification_fields[] = {
    {"account_sid", FK_CHARS, NT(account_sid), NULL},
    {"chat_service_sid", FK_CHARS, NT(service_sid), NULL},
    {"new_message", FK_FN, 0, render_new_message},
    {"added_to_conversation", FK_FN, 0, render_added},
    {"removed_from_conversation", FK_FN, 0, render_removed},
    {"log_enabled", FK_BOOL, NT(log_enabled), NULL},
    {"url", FK_URL, 0, NULL},
};

static int notifications_get(struct store_conn *c, struct req *r, const char *key, void *out)
{
    return store_notifications_get(c, r->service_sid, &r->arena, out);
}

static int notifications_put(struct store_conn *c, struct req *r, const void *row, const void *before)
{
    return store_notifications_put(c, row);
}

const struct family notifications_family = {
    .segment = "Configuration/Notifications",
    .resource = "service_notifications",
    .singleton = 1,
    .parent = PARENT_SERVICE,
    .row_size = sizeof(struct notifications),
    .service_off = NT(service_sid),
    FAMILY_FIELDS(notification_fields),
    FAMILY_PARAMS(notification_params),
    .op_fetch = &ops_table[OPID_FETCH_SERVICE_NOTIFICATION],
    .op_update = &ops_table[OPID_UPDATE_SERVICE_NOTIFICATION],
    .store = {.get = notifications_get, .update = notifications_put},
};
