/* Push credentials: /v1/Credentials[/{Sid}] (BEHAVIOUR §3.8), a plain family run by api/runner.c.
 * Account-level, no service twin. Certificate, PrivateKey, ApiKey and Secret are write-only: stored for
 * push delivery, never read back, never rendered and never logged. */
#include <stddef.h>
#include <string.h>

#include "api/api.h"
#include "api/families.h"
#include "store/account_store.h"
#include "json/jw.h"

#define CREDENTIAL_NAME_MAX 64 /* [SPEC] "up to 64 characters long" */
#define CR(m) offsetof(struct credential, m)

static const struct param_spec params[] = {
    {"Type", PK_ENUM, P_CREATE_REQUIRED, 0, 0, 0, "apn|gcm|fcm", CR(type)},
    {"FriendlyName", PK_STRING, 0, 0, CREDENTIAL_NAME_MAX, E_FRIENDLY_NAME_TOO_LONG, NULL, CR(friendly_name)},
    {"Certificate", PK_STRING, 0, 0, 0, 0, NULL, CR(certificate)},
    {"PrivateKey", PK_STRING, 0, 0, 0, 0, NULL, CR(private_key)},
    {"Sandbox", PK_BOOL, 0, 0, 0, 0, NULL, CR(sandbox)},
    {"ApiKey", PK_STRING, 0, 0, 0, 0, NULL, CR(api_key)},
    {"Secret", PK_STRING, 0, 0, 0, 0, NULL, CR(secret)},
};

/* A string in the schema; the spec's examples spell it "False". [APN only]: another type shows "False"
 * (the stored flag is kept and shows again if the type goes back to apn). */
static void render_sandbox(struct jw *w, const void *row, struct req *r)
{
    const struct credential *cr = row;
    jw_str(w, cr->sandbox > 0 && cr->type && strcmp(cr->type, "apn") == 0 ? "True" : "False");
}

static const struct field fields[] = {
    {"sid", FK_CHARS, CR(sid), NULL},
    {"account_sid", FK_CHARS, CR(account_sid), NULL},
    {"friendly_name", FK_STR, CR(friendly_name), NULL},
    {"type", FK_STR, CR(type), NULL},
    {"sandbox", FK_FN, 0, render_sandbox},
    {"date_created", FK_DATE, CR(date_created), NULL},
    {"date_updated", FK_DATE, CR(date_updated), NULL},
    {"url", FK_URL, 0, NULL},
};

/* ---- store calls ---- */

static int get(struct store_conn *c, struct req *r, const char *sid, void *out)
{
    return c->ops->model->credential_get(c, r->account.sid, sid, &r->arena, out);
}

static int insert(struct store_conn *c, struct req *r, void *row)
{
    return c->ops->model->credential_insert(c, row);
}
static int update(struct store_conn *c, struct req *r, const void *row)
{
    return c->ops->model->credential_update(c, row);
}

static int del(struct store_conn *c, struct req *r, const char *sid)
{
    /* the credential's push bindings go with it */
    return c->ops->model->credential_delete(c, r->account.sid, sid);
}

static int list_row(void *ctx, const struct credential *cr)
{
    return runner_list_row(ctx, cr);
}

static int list(struct store_conn *c, struct req *r, const struct list_filter *f, const struct page_req *p,
                void *ctx)
{
    return c->ops->model->credential_list(c, r->account.sid, p, list_row, ctx);
}

const struct family credentials_family = {
    .segment = "Credentials",
    .resource = "credential",
    .prefix = "CR",
    .parent = PARENT_ACCOUNT,
    .row_size = sizeof(struct credential),
    .sid_off = CR(sid),
    .account_off = CR(account_sid),
    .id_off = CR(id),
    .created_off = CR(date_created),
    .updated_off = CR(date_updated),
    .fields = fields,
    .n_fields = sizeof(fields) / sizeof(fields[0]),
    .params = params,
    .n_params = sizeof(params) / sizeof(params[0]),
    .op_fetch = &ops_table[OPID_FETCH_CREDENTIAL],
    .op_list = &ops_table[OPID_LIST_CREDENTIAL],
    .op_create = &ops_table[OPID_CREATE_CREDENTIAL],
    .op_update = &ops_table[OPID_UPDATE_CREDENTIAL],
    .op_delete = &ops_table[OPID_DELETE_CREDENTIAL],
    .store = {get, insert, update, del, list},
};

/* The route table's entry points (api/routes.c). */
int credentials_list(struct req *r)
{
    return run_list(r, &credentials_family);
}
int credentials_create(struct req *r)
{
    return run_create(r, &credentials_family);
}
int credentials_fetch(struct req *r)
{
    return run_fetch(r, &credentials_family);
}
int credentials_update(struct req *r)
{
    return run_update(r, &credentials_family);
}
int credentials_delete(struct req *r)
{
    return run_delete(r, &credentials_family);
}
