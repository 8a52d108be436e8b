/* Push credentials: /v1/Credentials[/{Sid}] (BEHAVIOUR §3.8). Account-level, no service twin.
 * Certificate, PrivateKey, ApiKey and Secret are write-only: stored for push delivery, never read back
 * by this module, never rendered and never logged. */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/paging.h"
#include "api/params.h"
#include "http/response.h"
#include "json/jw.h"
#include "store/account_store.h"
#include "util/sid.h"
#include "util/timefmt.h"

#define CREDENTIAL_NAME_MAX 64   /* [SPEC] "up to 64 characters long" */

enum { CR_TYPE, CR_FRIENDLY_NAME, CR_CERTIFICATE, CR_PRIVATE_KEY, CR_SANDBOX, CR_API_KEY, CR_SECRET, CR__COUNT };

static const struct param_spec create_params[CR__COUNT] = {
    [CR_TYPE] = {"Type", PK_ENUM, P_REQUIRED, 0, 0, 0, "apn|gcm|fcm"},
    [CR_FRIENDLY_NAME] = {"FriendlyName", PK_STRING, 0, 0, CREDENTIAL_NAME_MAX, E_FRIENDLY_NAME_TOO_LONG, NULL},
    [CR_CERTIFICATE] = {"Certificate", PK_STRING, 0, 0, 0, 0, NULL},
    [CR_PRIVATE_KEY] = {"PrivateKey", PK_STRING, 0, 0, 0, 0, NULL},
    [CR_SANDBOX] = {"Sandbox", PK_BOOL, 0, 0, 0, 0, NULL},
    [CR_API_KEY] = {"ApiKey", PK_STRING, 0, 0, 0, 0, NULL},
    [CR_SECRET] = {"Secret", PK_STRING, 0, 0, 0, 0, NULL},
};

/* Update takes the same parameters, none of them required. */
static const struct param_spec update_params[CR__COUNT] = {
    [CR_TYPE] = {"Type", PK_ENUM, 0, 0, 0, 0, "apn|gcm|fcm"},
    [CR_FRIENDLY_NAME] = {"FriendlyName", PK_STRING, 0, 0, CREDENTIAL_NAME_MAX, E_FRIENDLY_NAME_TOO_LONG, NULL},
    [CR_CERTIFICATE] = {"Certificate", PK_STRING, 0, 0, 0, 0, NULL},
    [CR_PRIVATE_KEY] = {"PrivateKey", PK_STRING, 0, 0, 0, 0, NULL},
    [CR_SANDBOX] = {"Sandbox", PK_BOOL, 0, 0, 0, 0, NULL},
    [CR_API_KEY] = {"ApiKey", PK_STRING, 0, 0, 0, 0, NULL},
    [CR_SECRET] = {"Secret", PK_STRING, 0, 0, 0, 0, NULL},
};

static void render_credential(struct jw *w, struct req *r, const struct credential *cr)
{
    char url[400];
    char created[TIME_ISO_LEN + 1], updated[TIME_ISO_LEN + 1];
    snprintf(url, sizeof(url), "%s/v1/Credentials/%s", r->app->public_url, cr->sid);
    time_iso(created, cr->date_created);
    time_iso(updated, cr->date_updated);
    jw_obj_begin(w);
    jw_kstr(w, "sid", cr->sid);
    jw_kstr(w, "account_sid", cr->account_sid);
    jw_kstr(w, "friendly_name", cr->friendly_name);
    jw_kstr(w, "type", cr->type);
    /* a string in the schema; the spec's examples spell it "False". [APN only]: another type shows "False"
     * (the stored flag is kept and shows again if the type goes back to apn) */
    int sandbox = cr->sandbox > 0 && cr->type && strcmp(cr->type, "apn") == 0;
    jw_kstr(w, "sandbox", sandbox ? "True" : "False");
    jw_kstr(w, "date_created", created);
    jw_kstr(w, "date_updated", updated);
    jw_kstr(w, "url", url);
    jw_obj_end(w);
}

static void respond_credential(struct req *r, int status, const struct credential *cr)
{
    struct jw w;
    api_json_begin(r, &w, status);
    render_credential(&w, r, cr);
}

/* Fills the fields present in v; absent ones stay NULL (update: unchanged), sandbox -1. */
static void from_params(struct credential *cr, const struct param_value *v)
{
    cr->type = v[CR_TYPE].present ? (char *)v[CR_TYPE].s : NULL;
    cr->friendly_name = v[CR_FRIENDLY_NAME].present ? (char *)v[CR_FRIENDLY_NAME].s : NULL;
    cr->certificate = v[CR_CERTIFICATE].present ? (char *)v[CR_CERTIFICATE].s : NULL;
    cr->private_key = v[CR_PRIVATE_KEY].present ? (char *)v[CR_PRIVATE_KEY].s : NULL;
    cr->sandbox = v[CR_SANDBOX].present ? (int)v[CR_SANDBOX].i : -1;
    cr->api_key = v[CR_API_KEY].present ? (char *)v[CR_API_KEY].s : NULL;
    cr->secret = v[CR_SECRET].present ? (char *)v[CR_SECRET].s : NULL;
}

static int path_sid(struct req *r)
{
    return sid_valid(r->param[0], r->param_len[0], "CR") ? 0 : -1;
}

/* ---- create ---- */

static int apply_create(struct store_conn *c, struct req *r)
{
    struct credential *cr = r->ctx;
    cr->date_created = cr->date_updated = time_now_ms();
    int rc = c->ops->model->credential_insert(c, cr);
    if (rc != ST_OK)
        return resp_store_error(r, rc), -1;
    if (cr->sandbox < 0)
        cr->sandbox = 0;
    respond_credential(r, 201, cr);
    return 0;
}

int credentials_create(struct req *r)
{
    struct param_value v[CR__COUNT];
    if (params_read(r, &r->body, create_params, CR__COUNT, v) != 0)
        return 0;
    struct credential *cr = arena_alloc(&r->arena, sizeof(*cr));
    memset(cr, 0, sizeof(*cr));
    from_params(cr, v);
    sid_new(cr->sid, "CR");
    snprintf(cr->account_sid, sizeof(cr->account_sid), "%s", r->account.sid);
    return api_write(r, apply_create, cr);
}

/* ---- fetch ---- */

int credentials_fetch(struct req *r)
{
    if (path_sid(r) != 0)
        return resp_not_found(r);
    struct credential cr;
    int rc = r->db->ops->model->credential_get(r->db, r->account.sid, r->param[0], &r->arena, &cr);
    if (rc == ST_NOT_FOUND)
        return resp_not_found(r);
    if (rc != ST_OK)
        return resp_store_error(r, rc);
    respond_credential(r, 200, &cr);
    return 0;
}

/* ---- update ---- */

static int apply_update(struct store_conn *c, struct req *r)
{
    struct credential *cr = r->ctx;
    struct credential stored;
    int rc = c->ops->model->credential_get(c, r->account.sid, r->param[0], &r->arena, &stored);
    if (rc == ST_NOT_FOUND)
        return resp_not_found(r), -1;
    if (rc != ST_OK)
        return resp_store_error(r, rc), -1;
    long long t = time_now_ms();
    cr->date_updated = t > stored.date_updated ? t : stored.date_updated + 1;
    rc = c->ops->model->credential_update(c, cr);
    if (rc == ST_OK)
        rc = c->ops->model->credential_get(c, r->account.sid, r->param[0], &r->arena, &stored);
    if (rc != ST_OK)
        return resp_store_error(r, rc), -1;
    respond_credential(r, 200, &stored);
    return 0;
}

int credentials_update(struct req *r)
{
    if (path_sid(r) != 0)
        return resp_not_found(r);
    struct param_value v[CR__COUNT];
    int bad = params_read(r, &r->body, update_params, CR__COUNT, v) != 0;
    if (!bad && params_count_present(v, CR__COUNT) == 0) {
        resp_error(r, E_NO_UPDATE_PARAMS, "Parameters are not specified for update request");
        bad = 1;
    }
    if (bad) {
        /* a missing credential outranks a parameter error (validation order, docs/DECISIONS.md) */
        struct credential cr;
        if (r->db->ops->model->credential_get(r->db, r->account.sid, r->param[0], &r->arena, &cr) == ST_NOT_FOUND)
            return resp_not_found(r);
        return 0;
    }
    struct credential *cr = arena_alloc(&r->arena, sizeof(*cr));
    memset(cr, 0, sizeof(*cr));
    from_params(cr, v);
    snprintf(cr->sid, sizeof(cr->sid), "%s", r->param[0]);
    snprintf(cr->account_sid, sizeof(cr->account_sid), "%s", r->account.sid);
    return api_write(r, apply_update, cr);
}

/* ---- delete: the credential's push bindings go with it ---- */

static int apply_delete(struct store_conn *c, struct req *r)
{
    int rc = c->ops->model->credential_delete(c, r->account.sid, r->param[0]);
    return api_deleted(r, rc);
}

int credentials_delete(struct req *r)
{
    if (path_sid(r) != 0)
        return resp_not_found(r);
    return api_write(r, apply_delete, NULL);
}

/* ---- list ---- */

static int list_row(void *ctx, const struct credential *cr)
{
    struct list_ctx *lc = ctx;
    list_row_begin(lc, cr->id);
    render_credential(lc->w, lc->r, cr);
    return 0;
}

static int fetch_credentials(struct list_ctx *lc)
{
    struct req *r = lc->r;
    return r->db->ops->model->credential_list(r->db, r->account.sid, &lc->pg->req, list_row, lc);
}

int credentials_list(struct req *r)
{
    return paging_list(r, 100, "credentials", "/v1/Credentials", "", fetch_credentials, NULL);
}
