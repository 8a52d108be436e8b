/* Users: /v1/Users[/{Sid}] and /v1/Services/{ChatServiceSid}/Users[/{Sid}] (BEHAVIOUR §2). */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/paging.h"
#include "api/params.h"
#include "api/pre_event.h"
#include "http/response.h"
#include "json/jw.h"
#include "util/sid.h"
#include "util/timefmt.h"
#include "webhook/events.h"

#define IDENTITY_MAX 256
#define FRIENDLY_NAME_MAX 256

enum { U_IDENTITY, U_FRIENDLY_NAME, U_ATTRIBUTES, U_ROLE_SID, U__COUNT };

static const struct param_spec create_params[U__COUNT] = {
    [U_IDENTITY] = {"Identity", PK_STRING, P_REQUIRED, 0, IDENTITY_MAX, E_IDENTITY_TOO_LONG, NULL},
    [U_FRIENDLY_NAME] = {"FriendlyName", PK_STRING, 0, 0, FRIENDLY_NAME_MAX, E_FRIENDLY_NAME_TOO_LONG, NULL},
    [U_ATTRIBUTES] = {"Attributes", PK_JSON, 0, 0, 0, 0, NULL},
    [U_ROLE_SID] = {"RoleSid", PK_SID, 0, 0, 0, 0, "RL"},
};

/* Update takes the same parameters but Identity, which is immutable. */
static const struct param_spec *const update_params = &create_params[U_FRIENDLY_NAME];
#define UPDATE_COUNT (U__COUNT - 1)

struct user_write {
    struct param_value v[U__COUNT];
    const char *key;   /* path {Sid}: SID or identity */
    int by_sid;
};

static void render_user(struct jw *w, struct req *r, const struct user *u)
{
    /* url = <base>/Users/<sid>, links.user_conversations = <url>/Conversations: built by copying */
    char url[sizeof(r->base) + 64], links[sizeof(url) + 16];
    char created[TIME_ISO_LEN + 1], updated[TIME_ISO_LEN + 1];
    size_t n;
    const char *base = api_base(r, &n);
    memcpy(url, base, n);
    memcpy(url + n, "/Users/", 7);
    memcpy(url + n + 7, u->sid, SID_LEN + 1);
    size_t ulen = n + 7 + SID_LEN;
    memcpy(links, url, ulen);
    memcpy(links + ulen, "/Conversations", sizeof("/Conversations"));
    time_iso(created, u->date_created);
    time_iso(updated, u->date_updated);
    jw_obj_begin(w);
    jw_kstr(w, "sid", u->sid);
    jw_kstr(w, "account_sid", u->account_sid);
    jw_kstr(w, "chat_service_sid", u->service_sid);
    jw_kstr(w, "role_sid", u->role_sid);
    jw_kstr(w, "identity", u->identity);
    jw_kstr(w, "friendly_name", u->friendly_name);
    jw_kstr(w, "attributes", u->attributes);
    jw_knull(w, "is_online");
    jw_knull(w, "is_notifiable");
    jw_kstr(w, "date_created", created);
    jw_kstr(w, "date_updated", updated);
    jw_kstr(w, "url", url);
    jw_key(w, "links");
    jw_obj_begin(w);
    jw_kstr(w, "user_conversations", links);
    jw_obj_end(w);
    jw_obj_end(w);
}

static void respond_user(struct req *r, int status, const struct user *u)
{
    struct jw w;
    api_json_begin(r, &w, status);
    render_user(&w, r, u);
}

/* A RoleSid must name a service-level role of the same service (BEHAVIOUR §2.2 rule 7). */
static int check_role(struct store_conn *c, struct req *r, const struct param_value *v)
{
    struct role role;
    int rc = c->ops->role_get(c, r->service_sid, v->s, &r->arena, &role);
    if (rc == ST_NOT_FOUND || (rc == ST_OK && role.type != ROLE_SERVICE))
        return resp_error(r, E_ROLE_NOT_FOUND, "%s", resp_title(E_ROLE_NOT_FOUND)), -1;
    if (rc != ST_OK)
        return resp_store_error(r, rc), -1;
    return 0;
}

static int lookup_key(struct req *r, const char **key, int *by_sid)
{
    *key = r->param[0];
    *by_sid = sid_valid(r->param[0], r->param_len[0], "US");
    return 0;
}

/* Post-event deliveries join the change's transaction: both commit or neither (BEHAVIOUR §2.4). */
static int queue_event(struct store_conn *c, struct req *r, enum user_event ev, const struct user *u)
{
    if (!r->webhook_enabled)
        return 0;
    int n = webhook_queue_user_event(c, ev, u, &r->arena);
    if (n < 0)
        return resp_store_error(r, n), -1;
    if (n > 0)
        r->events_queued = 1;
    return 0;
}

/* ---- create ---- */

static int apply_create(struct store_conn *c, struct req *r)
{
    struct user_write *uw = r->ctx;
    struct user u;
    memset(&u, 0, sizeof(u));
    if (uw->v[U_ROLE_SID].present) {
        if (check_role(c, r, &uw->v[U_ROLE_SID]) != 0)
            return -1;
        snprintf(u.role_sid, sizeof(u.role_sid), "%s", uw->v[U_ROLE_SID].s);
    } else {
        struct service_config cfg;
        int rc = c->ops->service_config_get(c, r->service_sid, &cfg);
        if (rc != ST_OK)
            return resp_store_error(r, rc), -1;
        memcpy(u.role_sid, cfg.chat_service_role_sid, sizeof(u.role_sid));
    }
    sid_new(u.sid, "US");
    snprintf(u.account_sid, sizeof(u.account_sid), "%s", r->account.sid);
    snprintf(u.service_sid, sizeof(u.service_sid), "%s", r->service_sid);
    u.identity = (char *)uw->v[U_IDENTITY].s;
    u.friendly_name = uw->v[U_FRIENDLY_NAME].present ? (char *)uw->v[U_FRIENDLY_NAME].s : NULL;
    u.attributes = uw->v[U_ATTRIBUTES].present ? (char *)uw->v[U_ATTRIBUTES].s : "{}";
    u.date_created = u.date_updated = time_now_ms();
    int rc = c->ops->user_insert(c, &u);
    if (rc == ST_CONFLICT)
        return resp_error(r, E_USER_EXISTS, "%s", resp_title(E_USER_EXISTS)), -1;
    if (rc != ST_OK)
        return resp_store_error(r, rc), -1;
    if (queue_event(c, r, EV_USER_ADDED, &u) != 0)
        return -1;
    respond_user(r, 201, &u);
    return 0;
}

int users_create(struct req *r)
{
    struct user_write *uw = arena_alloc(&r->arena, sizeof(*uw));
    if (params_read(r, &r->body, create_params, U__COUNT, uw->v) != 0)
        return 0;
    const struct param_value *id = &uw->v[U_IDENTITY];
    if (sid_valid(id->s, id->len, "US"))
        return resp_error(r, E_IDENTITY_LOOKS_LIKE_SID, "Identity should not match user SID pattern");
    return api_write(r, apply_create, uw);
}

/* ---- fetch ---- */

int users_fetch(struct req *r)
{
    const char *key;
    int by_sid;
    lookup_key(r, &key, &by_sid);
    struct user u;
    int rc = r->db->ops->user_get(r->db, r->service_sid, key, by_sid, &r->arena, &u);
    if (rc == ST_NOT_FOUND)
        return resp_not_found(r);
    if (rc != ST_OK)
        return resp_store_error(r, rc);
    respond_user(r, 200, &u);
    return 0;
}

/* ---- update ---- */

static int apply_update(struct store_conn *c, struct req *r)
{
    struct user_write *uw = r->ctx;
    const struct param_value *v = &uw->v[1];   /* update params start at FriendlyName */
    struct user u;
    int rc = c->ops->user_get(c, r->service_sid, uw->key, uw->by_sid, &r->arena, &u);
    if (rc == ST_NOT_FOUND)
        return resp_not_found(r), -1;
    if (rc != ST_OK)
        return resp_store_error(r, rc), -1;
    if (v[U_ROLE_SID - 1].present) {
        if (check_role(c, r, &v[U_ROLE_SID - 1]) != 0)
            return -1;
        snprintf(u.role_sid, sizeof(u.role_sid), "%s", v[U_ROLE_SID - 1].s);
    }
    if (v[U_FRIENDLY_NAME - 1].present)
        u.friendly_name = (char *)v[U_FRIENDLY_NAME - 1].s;
    if (v[U_ATTRIBUTES - 1].present)
        u.attributes = (char *)v[U_ATTRIBUTES - 1].s;
    long long now = time_now_ms();
    u.date_updated = now > u.date_updated ? now : u.date_updated + 1;
    rc = c->ops->user_update(c, &u);
    if (rc != ST_OK)
        return resp_store_error(r, rc), -1;
    if (queue_event(c, r, EV_USER_UPDATED, &u) != 0)
        return -1;
    respond_user(r, 200, &u);
    return 0;
}

/* onUserUpdate allows no field to be modified (BEHAVIOUR §10.1.2): the hook can only allow or veto. */
static int proceed_update(struct req *r, const char *const value[PRE_MAX_FIELDS])
{
    return api_write(r, apply_update, r->ctx);
}

/* Runs the onUserUpdate pre-event hooks, if any match, with the proposed values. Returns -1 when there
 * are none (go straight to the write), 0 when an error was answered, 1 when the hooks are running. */
static int run_pre_update(struct req *r, struct user_write *uw)
{
    if (!r->webhook_enabled || !r->app->pre_hooks_for_rest)
        return -1;
    struct webhook_target *t = arena_alloc(&r->arena, sizeof(*t) * WEBHOOK_MAX_TARGETS);
    int n = webhook_targets(r->db, r->account.sid, r->service_sid, "onUserUpdate", 1, &r->arena, t);
    if (n < 0)
        return resp_store_error(r, n);
    if (n == 0)
        return -1;
    /* the checks a write would make come before the hook (validation order, docs/DECISIONS.md) */
    const struct param_value *v = &uw->v[1];
    struct user u;
    int rc = r->db->ops->user_get(r->db, r->service_sid, uw->key, uw->by_sid, &r->arena, &u);
    if (rc == ST_NOT_FOUND)
        return resp_not_found(r);
    if (rc != ST_OK)
        return resp_store_error(r, rc);
    if (v[U_ROLE_SID - 1].present) {
        if (check_role(r->db, r, &v[U_ROLE_SID - 1]) != 0)
            return 0;
        snprintf(u.role_sid, sizeof(u.role_sid), "%s", v[U_ROLE_SID - 1].s);
    }
    if (v[U_FRIENDLY_NAME - 1].present)
        u.friendly_name = (char *)v[U_FRIENDLY_NAME - 1].s;
    if (v[U_ATTRIBUTES - 1].present)
        u.attributes = (char *)v[U_ATTRIBUTES - 1].s;
    u.date_updated = time_now_ms();
    struct buf params;
    buf_init(&params, 256 * 1024);
    webhook_user_params(&params, EV_USER_UPDATE, &u);
    char *p = arena_strndup(&r->arena, params.p ? params.p : "", params.len);
    int err = params.err;
    buf_free(&params);
    if (err)
        return resp_store_error(r, ST_ERROR);
    r->ctx = uw;
    return pre_event_run(r, "onUserUpdate", t, n, p, NULL, proceed_update);
}

/* A missing user outranks any parameter error (validation order, docs/DECISIONS.md). Checked only once a
 * parameter error is known, so that a valid update pays nothing for it. */
static int not_found_first(struct req *r)
{
    const char *key;
    int by_sid;
    lookup_key(r, &key, &by_sid);
    struct user u;
    if (r->db->ops->user_get(r->db, r->service_sid, key, by_sid, &r->arena, &u) == ST_NOT_FOUND)
        return resp_not_found(r);
    return 0;
}

int users_update(struct req *r)
{
    struct user_write *uw = arena_alloc(&r->arena, sizeof(*uw));
    memset(uw, 0, sizeof(*uw));
    if (params_read(r, &r->body, update_params, UPDATE_COUNT, &uw->v[1]) != 0)
        return not_found_first(r);
    if (params_count_present(&uw->v[1], UPDATE_COUNT) == 0) {
        resp_error(r, E_NO_UPDATE_PARAMS, "Parameters are not specified for update request");
        return not_found_first(r);
    }
    lookup_key(r, &uw->key, &uw->by_sid);
    int pre = run_pre_update(r, uw);
    if (pre >= 0)
        return pre;
    return api_write(r, apply_update, uw);
}

/* ---- delete ---- */

static int apply_delete(struct store_conn *c, struct req *r)
{
    struct user_write *uw = r->ctx;
    struct user u;
    int rc = c->ops->user_get(c, r->service_sid, uw->key, uw->by_sid, &r->arena, &u);
    if (rc == ST_OK)
        rc = c->ops->user_delete(c, r->service_sid, u.sid);
    return api_deleted(r, rc);
}

int users_delete(struct req *r)
{
    struct user_write *uw = arena_alloc(&r->arena, sizeof(*uw));
    lookup_key(r, &uw->key, &uw->by_sid);
    return api_write(r, apply_delete, uw);
}

/* ---- list ---- */

static int list_row(void *ctx, const struct user *u)
{
    struct list_ctx *lc = ctx;
    list_row_begin(lc, u->id);
    render_user(lc->w, lc->r, u);
    return 0;
}

static int fetch_users(struct list_ctx *lc)
{
    struct req *r = lc->r;
    return r->db->ops->user_list(r->db, r->service_sid, &lc->pg->req, list_row, lc);
}

int users_list(struct req *r)
{
    char path[256];
    api_rel_base(r, path, sizeof(path) - 8);
    strcat(path, "/Users");
    return paging_list(r, 50, "users", path, "", fetch_users, NULL);
}

/* ---- /Users/{Sid}/Conversations: a view over participants; empty until conversations exist ---- */

/* No conversations exist yet: every page is empty (the view will join participants). */
static int no_conversations(struct list_ctx *lc)
{
    return ST_OK;
}

int user_conversations_list(struct req *r)
{
    const char *key;
    int by_sid;
    lookup_key(r, &key, &by_sid);
    struct user u;
    int rc = r->db->ops->user_get(r->db, r->service_sid, key, by_sid, &r->arena, &u);
    if (rc == ST_NOT_FOUND)
        return resp_not_found(r);
    if (rc != ST_OK)
        return resp_store_error(r, rc);
    char path[320];
    char base[256];
    api_rel_base(r, base, sizeof(base));
    snprintf(path, sizeof(path), "%s/Users/%s/Conversations", base, u.sid);
    return paging_list(r, 50, "conversations", path, "", no_conversations, NULL);
}
