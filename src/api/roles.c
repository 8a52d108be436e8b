/* Roles: /v1/Roles[/{Sid}] and /v1/Services/{ChatServiceSid}/Roles[/{Sid}] (BEHAVIOUR §3.3). */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/paging.h"
#include "api/params.h"
#include "api/permissions.h"
#include "http/response.h"
#include "json/jw.h"
#include "store/account_store.h"
#include "util/sid.h"
#include "util/timefmt.h"

#define ROLE_NAME_MAX 64   /* [SPEC] "up to 64 characters" */

enum { R_FRIENDLY_NAME, R_TYPE, R_PERMISSION, R__COUNT };

/* Type is read as text: a bad value is 50105, not the generic enum error. */
static const struct param_spec create_params[R__COUNT] = {
    [R_FRIENDLY_NAME] = {"FriendlyName", PK_STRING, P_REQUIRED, 0, ROLE_NAME_MAX, E_FRIENDLY_NAME_TOO_LONG, NULL},
    [R_TYPE] = {"Type", PK_STRING, P_REQUIRED, 0, 0, 0, NULL},
    [R_PERMISSION] = {"Permission", PK_STRING, P_REQUIRED | P_LIST, 0, 0, 0, NULL},
};
/* Update replaces the permission list; name and type are immutable. */
static const struct param_spec *const update_params = &create_params[R_PERMISSION];

static void render_role(struct jw *w, struct req *r, const struct role *ro)
{
    char url[sizeof(r->base) + 64];
    char created[TIME_ISO_LEN + 1], updated[TIME_ISO_LEN + 1];
    size_t n;
    const char *base = api_base(r, &n);
    snprintf(url, sizeof(url), "%.*s/Roles/%s", (int)n, base, ro->sid);
    time_iso(created, ro->date_created);
    time_iso(updated, ro->date_updated);
    jw_obj_begin(w);
    jw_kstr(w, "sid", ro->sid);
    jw_kstr(w, "account_sid", ro->account_sid);
    jw_kstr(w, "chat_service_sid", ro->service_sid);
    jw_kstr(w, "friendly_name", ro->friendly_name);
    jw_kstr(w, "type", ro->type == ROLE_SERVICE ? "service" : "conversation");
    /* permissions are stored as a JSON array of strings written by Parley itself */
    jw_key(w, "permissions");
    jw_raw(w, ro->permissions);
    jw_kstr(w, "date_created", created);
    jw_kstr(w, "date_updated", updated);
    jw_kstr(w, "url", url);
    jw_obj_end(w);
}

int roles_fetch(struct req *r)
{
    if (!sid_valid(r->param[0], r->param_len[0], "RL"))
        return resp_not_found(r);
    struct role ro;
    int rc = r->db->ops->role_get(r->db, r->service_sid, r->param[0], &r->arena, &ro);
    if (rc == ST_NOT_FOUND)
        return resp_not_found(r);
    if (rc != ST_OK)
        return resp_store_error(r, rc);
    struct jw w;
    api_json_begin(r, &w, 200);
    render_role(&w, r, &ro);
    return 0;
}

static int list_row(void *ctx, const struct role *ro)
{
    struct list_ctx *lc = ctx;
    list_row_begin(lc, ro->id);
    render_role(lc->w, lc->r, ro);
    return 0;
}

static int fetch_roles(struct list_ctx *lc)
{
    struct req *r = lc->r;
    return r->db->ops->role_list(r->db, r->service_sid, &lc->pg->req, list_row, lc);
}

int roles_list(struct req *r)
{
    char path[256];
    api_rel_base(r, path, sizeof(path) - 8);
    strcat(path, "/Roles");
    return paging_list(r, 50, "roles", path, "", fetch_roles, NULL);
}

static void respond_role(struct req *r, int status, const struct role *ro)
{
    struct jw w;
    api_json_begin(r, &w, status);
    render_role(&w, r, ro);
}

static int permission_error(struct req *r)
{
    return resp_error(r, E_PERMISSION_NOT_FOUND, "%s", resp_title(E_PERMISSION_NOT_FOUND));
}

/* ---- create ---- */

static int apply_create(struct store_conn *c, struct req *r)
{
    struct role *ro = r->ctx;
    ro->date_created = ro->date_updated = time_now_ms();
    int rc = c->ops->role_insert(c, ro);
    if (rc == ST_IN_USE)   /* the service was deleted after the route found it */
        return resp_not_found(r), -1;
    if (rc != ST_OK)
        return resp_store_error(r, rc), -1;
    respond_role(r, 201, ro);
    return 0;
}

int roles_create(struct req *r)
{
    struct param_value v[R__COUNT];
    if (params_read(r, &r->body, create_params, R__COUNT, v) != 0)
        return 0;
    struct role *ro = arena_alloc(&r->arena, sizeof(*ro));
    memset(ro, 0, sizeof(*ro));
    if (role_type_parse(v[R_TYPE].s, v[R_TYPE].len, &ro->type) != 0)
        return resp_error(r, E_INVALID_ROLE_TYPE, "%s", resp_title(E_INVALID_ROLE_TYPE));
    const char *bad = NULL;
    ro->permissions = permissions_json(&r->body, "Permission", ro->type, &r->arena, &bad);
    if (!ro->permissions)
        return permission_error(r);
    sid_new(ro->sid, "RL");
    snprintf(ro->account_sid, sizeof(ro->account_sid), "%s", r->account.sid);
    snprintf(ro->service_sid, sizeof(ro->service_sid), "%s", r->service_sid);
    ro->friendly_name = (char *)v[R_FRIENDLY_NAME].s;
    return api_write(r, apply_create, ro);
}

/* ---- update ---- */

static int apply_update(struct store_conn *c, struct req *r)
{
    struct role ro;
    int rc = c->ops->role_get(c, r->service_sid, r->param[0], &r->arena, &ro);
    if (rc == ST_NOT_FOUND)
        return resp_not_found(r), -1;
    if (rc != ST_OK)
        return resp_store_error(r, rc), -1;
    /* the permissions are checked against the stored type */
    const char *bad = NULL;
    ro.permissions = permissions_json(&r->body, "Permission", ro.type, &r->arena, &bad);
    if (!ro.permissions)
        return permission_error(r), -1;
    long long now = time_now_ms();
    ro.date_updated = now > ro.date_updated ? now : ro.date_updated + 1;
    rc = c->ops->model->role_update(c, &ro);
    if (rc == ST_NOT_FOUND)
        return resp_not_found(r), -1;
    if (rc != ST_OK)
        return resp_store_error(r, rc), -1;
    respond_role(r, 200, &ro);
    return 0;
}

int roles_update(struct req *r)
{
    if (!sid_valid(r->param[0], r->param_len[0], "RL"))
        return resp_not_found(r);
    struct param_value v[1];
    if (params_read(r, &r->body, update_params, 1, v) != 0) {
        /* a missing role outranks a parameter error (validation order, docs/DECISIONS.md) */
        struct role ro;
        if (r->db->ops->role_get(r->db, r->service_sid, r->param[0], &r->arena, &ro) == ST_NOT_FOUND)
            return resp_not_found(r);
        return 0;
    }
    return api_write(r, apply_update, NULL);
}

/* ---- delete ---- */

static int apply_delete(struct store_conn *c, struct req *r)
{
    int rc = c->ops->model->role_delete(c, r->service_sid, r->param[0]);
    /* held by a user or a default of the service configuration; the message is the dictionary title */
    if (rc == ST_IN_USE)
        return resp_error(r, E_CONFLICT, "%s", resp_title(E_CONFLICT)), -1;
    return api_deleted(r, rc);
}

int roles_delete(struct req *r)
{
    if (!sid_valid(r->param[0], r->param_len[0], "RL"))
        return resp_not_found(r);
    return api_write(r, apply_delete, NULL);
}
