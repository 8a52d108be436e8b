/* Roles: /v1/Roles[/{Sid}] and /v1/Services/{ChatServiceSid}/Roles[/{Sid}] (BEHAVIOUR §3.3), a family run
 * by api/runner.c. Its hooks: the type and the permissions it allows, checked on create and again on
 * update against the stored type. */
#include <stddef.h>
#include <string.h>

#include "api/api.h"
#include "api/families.h"
#include "api/permissions.h"
#include "http/request.h"
#include "store/account_store.h"
#include "store/domain.h"
#include "json/jw.h"

#define ROLE_NAME_MAX 64 /* [SPEC] "up to 64 characters" */
#define RL(m) offsetof(struct role, m)

enum { R_FRIENDLY_NAME, R_TYPE, R_PERMISSION, R__COUNT };

/* Type is read as text: a bad value is 50105, not the generic enum error. Update replaces the
 * permission list; name and type are immutable. */
static const struct param_spec params[R__COUNT] = {
    [R_FRIENDLY_NAME] = {"FriendlyName", PK_STRING, P_CREATE_REQUIRED | P_CREATE_ONLY, 0, ROLE_NAME_MAX,
                         E_FRIENDLY_NAME_TOO_LONG, NULL, RL(friendly_name)},
    [R_TYPE] = {"Type", PK_STRING, P_CREATE_REQUIRED | P_CREATE_ONLY | P_NO_SLOT, 0, 0, 0, NULL, 0},
    [R_PERMISSION] = {"Permission", PK_STRING, P_REQUIRED | P_LIST | P_NO_SLOT, 0, 0, 0, NULL, 0},
};

static void render_type(struct jw *w, const void *row, struct req *r)
{
    jw_str(w, ((const struct role *)row)->type == ROLE_SERVICE ? "service" : "conversation");
}

static const struct field fields[] = {
    {"sid", FK_CHARS, RL(sid), NULL},
    {"account_sid", FK_CHARS, RL(account_sid), NULL},
    {"chat_service_sid", FK_CHARS, RL(service_sid), NULL},
    {"friendly_name", FK_STR, RL(friendly_name), NULL},
    {"type", FK_FN, 0, render_type},
    {"permissions", FK_RAW, RL(permissions), NULL}, /* a JSON array Parley wrote itself */
    {"date_created", FK_DATE, RL(date_created), NULL},
    {"date_updated", FK_DATE, RL(date_updated), NULL},
    {"url", FK_URL, 0, NULL},
};

/* The Permission values as the stored array, each valid for the role's type. */
static int permissions_of(struct req *r, struct role *ro)
{
    const char *bad = NULL;
    ro->permissions = permissions_json(&r->body, "Permission", ro->type, &r->arena, &bad);
    return ro->permissions ? 0 : E_PERMISSION_NOT_FOUND;
}

static int check_create(struct req *r, void *row, const struct param_value *v)
{
    struct role *ro = row;
    if (role_type_parse(v[R_TYPE].s, v[R_TYPE].len, &ro->type) != 0) return E_INVALID_ROLE_TYPE;
    return permissions_of(r, ro);
}

static int before_update(struct store_conn *c, struct req *r, void *stored, const struct param_value *v)
{
    return permissions_of(r, stored);
}

int roles_take(struct store_conn *c, struct req *r, const struct param_value *v, enum role_type type,
               char out[SID_LEN + 1])
{
    if (!v->present) return 0;
    struct role ro;
    int rc = store_role_get(c, r->service_sid, v->s, &r->arena, &ro);
    if (rc != ST_OK && rc != ST_NOT_FOUND) return rc;
    if (rc == ST_NOT_FOUND || ro.type != type)
        return type == ROLE_SERVICE ? E_ROLE_NOT_FOUND : E_CONVERSATION_ROLE_NOT_FOUND;
    memcpy(out, ro.sid, SID_LEN + 1);
    return 0;
}

/* A role still in use is refused (ST_IN_USE: 409): the store's delete checks it. */
static int del(struct store_conn *c, struct req *r, const char *sid)
{
    return store_role_delete(c, r->service_sid, sid);
}

const struct family roles_family = {
    .segment = "Roles",
    .resource = "role",
    .prefix = "RL",
    .parent = PARENT_TWIN,
    FAMILY_MODEL(struct role),
    .service_off = RL(service_sid),
    FAMILY_FIELDS(fields),
    FAMILY_PARAMS(params),
    FAMILY_CRUD(ROLE),
    .store = {.del = del},
    .table = &store_roles_table,
    .check_create = check_create,
    .before_update = before_update,
};
