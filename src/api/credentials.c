/* Push credentials: /v1/Credentials[/{Sid}] (BEHAVIOUR §3.8), a plain family run by api/runner.c.
 * Account-level, no service twin. Certificate, PrivateKey, ApiKey and Secret are write-only: stored for
 * push delivery, never read back, never rendered and never logged. */
#include <stddef.h>
#include <string.h>

#include "api/api.h"
#include "api/families.h"
#include "store/account_store.h"
#include "store/domain.h"
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

const struct family credentials_family = {
    .segment = "Credentials",
    .resource = "credential",
    .prefix = "CR",
    .parent = PARENT_ACCOUNT,
    FAMILY_MODEL(struct credential),
    FAMILY_FIELDS(fields),
    FAMILY_PARAMS(params),
    FAMILY_CRUD(CREDENTIAL),
    .table = &store_credentials_table, /* a credential's delete takes its push bindings along */
};
