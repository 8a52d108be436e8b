/* Users: /v1/Users[/{Sid}] and /v1/Services/{ChatServiceSid}/Users[/{Sid}] (BEHAVIOUR §2), a family run by
 * api/runner.c. {Sid} is a SID or the identity. Its hooks: the role a user holds (named, or the service's
 * default), the identity that must not look like a SID, the onUserAdded / onUserUpdated post-events in the
 * change's transaction and the onUserUpdate pre-event. */
#include <stddef.h>
#include <string.h>

#include "api/api.h"
#include "api/families.h"
#include "api/paging.h"
#include "api/pre_event.h"
#include "store/account_store.h"
#include "store/domain.h"
#include "util/sid.h"
#include "util/text.h"
#include "webhook/events.h"
#include "json/jw.h"

#define IDENTITY_MAX 256
#define FRIENDLY_NAME_MAX 256
#define US(m) offsetof(struct user, m)

enum { U_IDENTITY, U_FRIENDLY_NAME, U_ATTRIBUTES, U_ROLE_SID, U__COUNT };

/* Identity is immutable: update does not read it. */
static const struct param_spec params[U__COUNT] = {
    [U_IDENTITY] = {"Identity", PK_STRING, P_CREATE_REQUIRED | P_CREATE_ONLY, 0, IDENTITY_MAX,
                    E_IDENTITY_TOO_LONG, NULL, US(identity)},
    [U_FRIENDLY_NAME] = {"FriendlyName", PK_STRING, 0, 0, FRIENDLY_NAME_MAX, E_FRIENDLY_NAME_TOO_LONG, NULL,
                         US(friendly_name)},
    [U_ATTRIBUTES] = {"Attributes", PK_JSON, 0, 0, 0, 0, NULL, US(attributes)},
    [U_ROLE_SID] = {"RoleSid", PK_SID, P_NO_SLOT, 0, 0, 0, "RL", 0},
};

/* links.user_conversations = <url>/Conversations */
static void render_links(struct jw *w, const void *row, struct req *r)
{
    jw_obj_begin(w);
    runner_link(w, r, &users_family, row, "user_conversations", "/Conversations");
    jw_obj_end(w);
}

static const struct field fields[] = {
    {"sid", FK_CHARS, US(sid), NULL},
    {"account_sid", FK_CHARS, US(account_sid), NULL},
    {"chat_service_sid", FK_CHARS, US(service_sid), NULL},
    {"role_sid", FK_CHARS, US(role_sid), NULL},
    {"identity", FK_STR, US(identity), NULL},
    {"friendly_name", FK_STR, US(friendly_name), NULL},
    {"attributes", FK_STR, US(attributes), NULL},
    {"is_online", FK_NULL, 0, NULL},     /* no SDK connections exist in a REST server */
    {"is_notifiable", FK_NULL, 0, NULL}, /* nor push registrations */
    {"date_created", FK_DATE, US(date_created), NULL},
    {"date_updated", FK_DATE, US(date_updated), NULL},
    {"url", FK_URL, 0, NULL},
    {"links", FK_FN, 0, render_links},
};

static int check_create(struct req *r, void *row, const struct param_value *v)
{
    struct user *u = row;
    if (sid_valid(v[U_IDENTITY].s, v[U_IDENTITY].len, "US")) return E_IDENTITY_LOOKS_LIKE_SID;
    if (!u->attributes) u->attributes = "{}";
    return 0;
}

/* The role named, or the service's default user role. A RoleSid must name a service-level role of the same
 * service (BEHAVIOUR §2.2 rule 7); it then replaces the user's role. */
static int before_insert(struct store_conn *c, struct req *r, void *row, const struct param_value *v)
{
    struct user *u = row;
    if (v[U_ROLE_SID].present) return roles_take(c, r, &v[U_ROLE_SID], ROLE_SERVICE, u->role_sid);
    struct service_config cfg;
    int rc = store_service_config_get(c, r->service_sid, &cfg);
    if (rc == ST_OK) memcpy(u->role_sid, cfg.chat_service_role_sid, sizeof(u->role_sid));
    return rc;
}

static int before_update(struct store_conn *c, struct req *r, void *stored, const struct param_value *v)
{
    return roles_take(c, r, &v[U_ROLE_SID], ROLE_SERVICE, ((struct user *)stored)->role_sid);
}

/* Post-event deliveries join the change's transaction: both commit or neither (BEHAVIOUR §2.4). */
static int post_event(struct store_conn *c, struct req *r, enum op_kind kind, const void *row)
{
    if (!r->webhook_enabled) return 0;
    int n = webhook_queue_user_event(c, kind == OPK_CREATE ? EV_USER_ADDED : EV_USER_UPDATED, row, &r->arena);
    if (n > 0) r->events_queued = 1;
    return n < 0 ? n : 0;
}

/* onUserUpdate allows no field to be modified (BEHAVIOUR §10.1.2): the hook can only allow or veto. */
static int proceed_update(struct req *r, const char *const value[PRE_MAX_FIELDS])
{
    return runner_update_write(r);
}

/* The onUserUpdate pre-event hooks, if any match, shown the row the update would write: the checks a
 * write would make come before the hook (validation order, docs/DECISIONS.md). */
static int pre_update(struct req *r)
{
    if (!r->webhook_enabled || !r->app->pre_hooks_for_rest) return 0;
    struct webhook_target *t = arena_alloc(&r->arena, sizeof(*t) * WEBHOOK_MAX_TARGETS);
    int n = webhook_targets(r->db, r->account.sid, r->service_sid, "onUserUpdate", 1, &r->arena, t);
    void *u = NULL;
    int err = n < 0 ? n : n == 0 ? 0 : runner_update_proposal(r, &u);
    if (err || n == 0) return err;
    struct buf form;
    buf_init(&form, 256 * 1024);
    webhook_user_params(&form, EV_USER_UPDATE, u);
    return pre_event_run_form(r, "onUserUpdate", t, n, &form, NULL, proceed_update);
}

const struct family users_family = {
    .segment = "Users",
    .resource = "user",
    .prefix = "US",
    .alt_key = 1,
    .parent = PARENT_TWIN,
    FAMILY_MODEL(struct user),
    .service_off = US(service_sid),
    FAMILY_FIELDS(fields),
    FAMILY_PARAMS(params),
    FAMILY_CRUD(USER),
    .table = &store_users_table,
    .conflict = E_USER_EXISTS,
    .check_create = check_create,
    .before_insert = before_insert,
    .before_update = before_update,
    .post_event = post_event,
    .pre_update = pre_update,
};
