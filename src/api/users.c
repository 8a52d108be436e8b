/* Users: /v1/Users[/{Sid}] and /v1/Services/{ChatServiceSid}/Users[/{Sid}] (BEHAVIOUR §2), a family run by
 * api/runner.c. {Sid} is a SID or the identity. Its hooks: the role a user holds (named, or the service's
 * default), the identity that must not look like a SID, the onUserAdded / onUserUpdated post-events in the
 * change's transaction and the onUserUpdate pre-event. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/families.h"
#include "api/paging.h"
#include "api/pre_event.h"
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
    size_t n;
    char url[sizeof(r->base) + 64];
    const char *parts[] = {api_base(r, &n), "/Users/", ((const struct user *)row)->sid, "/Conversations"};
    text_join(url, sizeof(url), parts, 4);
    jw_obj_begin(w);
    jw_kstr(w, "user_conversations", url);
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

/* A RoleSid must name a service-level role of the same service (BEHAVIOUR §2.2 rule 7); it then replaces
 * the user's role. */
static int take_role(struct store_conn *c, struct req *r, struct user *u, const struct param_value *v)
{
    struct role role;
    int rc = c->ops->role_get(c, r->service_sid, v->s, &r->arena, &role);
    if (rc == ST_NOT_FOUND || (rc == ST_OK && role.type != ROLE_SERVICE)) return E_ROLE_NOT_FOUND;
    if (rc == ST_OK) snprintf(u->role_sid, sizeof(u->role_sid), "%s", v->s);
    return rc;
}

static int check_create(struct req *r, void *row, const struct param_value *v)
{
    struct user *u = row;
    if (sid_valid(v[U_IDENTITY].s, v[U_IDENTITY].len, "US")) return E_IDENTITY_LOOKS_LIKE_SID;
    if (!u->attributes) u->attributes = "{}";
    return 0;
}

/* The role named, or the service's default user role. */
static int before_insert(struct store_conn *c, struct req *r, void *row, const struct param_value *v)
{
    struct user *u = row;
    if (v[U_ROLE_SID].present) return take_role(c, r, u, &v[U_ROLE_SID]);
    struct service_config cfg;
    int rc = c->ops->service_config_get(c, r->service_sid, &cfg);
    if (rc == ST_OK) memcpy(u->role_sid, cfg.chat_service_role_sid, sizeof(u->role_sid));
    return rc;
}

static int before_update(struct store_conn *c, struct req *r, void *stored, const struct param_value *v)
{
    return v[U_ROLE_SID].present ? take_role(c, r, stored, &v[U_ROLE_SID]) : 0;
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
    char *p = arena_strndup(&r->arena, form.p ? form.p : "", form.len);
    err = form.err;
    buf_free(&form);
    if (err) return ST_ERROR;
    pre_event_run(r, "onUserUpdate", t, n, p, NULL, proceed_update);
    return RUNNER_SUSPENDED;
}

/* ---- store calls: the key is a SID when it has the shape of one, else the identity ---- */

static int get(struct store_conn *c, struct req *r, const char *key, void *out)
{
    int by_sid = sid_valid(key, strlen(key), "US");
    return c->ops->user_get(c, r->service_sid, key, by_sid, &r->arena, out);
}

static int insert(struct store_conn *c, struct req *r, void *row)
{
    return c->ops->user_insert(c, row);
}
static int update(struct store_conn *c, struct req *r, const void *row)
{
    return c->ops->user_update(c, row);
}

static int del(struct store_conn *c, struct req *r, const char *key)
{
    struct user u;
    int rc = get(c, r, key, &u);
    return rc == ST_OK ? c->ops->user_delete(c, r->service_sid, u.sid) : rc;
}

static int list_row(void *ctx, const struct user *u)
{
    return runner_list_row(ctx, u);
}

static int list(struct store_conn *c, struct req *r, const struct list_filter *f, const struct page_req *p,
                void *ctx)
{
    return c->ops->user_list(c, r->service_sid, p, list_row, ctx);
}

const struct family users_family = {
    .segment = "Users",
    .resource = "user",
    .prefix = "US",
    .alt_key = 1,
    .parent = PARENT_TWIN,
    .row_size = sizeof(struct user),
    .sid_off = US(sid),
    .account_off = US(account_sid),
    .service_off = US(service_sid),
    .id_off = US(id),
    .created_off = US(date_created),
    .updated_off = US(date_updated),
    .fields = fields,
    .n_fields = sizeof(fields) / sizeof(fields[0]),
    .params = params,
    .n_params = U__COUNT,
    .op_fetch = &ops_table[OPID_FETCH_USER],
    .op_list = &ops_table[OPID_LIST_USER],
    .op_create = &ops_table[OPID_CREATE_USER],
    .op_update = &ops_table[OPID_UPDATE_USER],
    .op_delete = &ops_table[OPID_DELETE_USER],
    .store = {get, insert, update, del, list},
    .conflict = E_USER_EXISTS,
    .check_create = check_create,
    .before_insert = before_insert,
    .before_update = before_update,
    .post_event = post_event,
    .pre_update = pre_update,
};

/* The route table's entry points (api/routes.c). */
int users_list(struct req *r)
{
    return run_list(r, &users_family);
}
int users_create(struct req *r)
{
    return run_create(r, &users_family);
}
int users_fetch(struct req *r)
{
    return run_fetch(r, &users_family);
}
int users_update(struct req *r)
{
    return run_update(r, &users_family);
}
int users_delete(struct req *r)
{
    return run_delete(r, &users_family);
}

/* ---- /Users/{Sid}/Conversations: a view over participants; empty until conversations exist ---- */

/* No conversations exist yet: every page is empty (the view will join participants). */
static int no_conversations(struct list_ctx *lc)
{
    return ST_OK;
}

int user_conversations_list(struct req *r)
{
    struct user u;
    int rc = get(r->db, r, r->param[0], &u);
    if (rc == ST_NOT_FOUND) return resp_not_found(r);
    if (rc != ST_OK) return resp_store_error(r, rc);
    char path[320];
    char base[256];
    api_rel_base(r, base, sizeof(base));
    snprintf(path, sizeof(path), "%s/Users/%s/Conversations", base, u.sid);
    return paging_list(r, 50, "conversations", path, "", no_conversations, NULL);
}
