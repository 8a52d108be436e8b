/* The route table: every path Parley answers, after "/v1", built from the resource families (their rows
 * of the generated operation table name the patterns) and the few operations that are no family yet.
 * A family's routes carry the family itself (api/runner.c resolves their parents); a
 * PARENT_TWIN family's also answer under /v1/Services/{ChatServiceSid} (ROUTE_TWIN, through the mount).
 * Order matters only where patterns overlap: fixed segments first. */
#include <string.h>

#include "api/api.h"
#include "api/families.h"
#include "util/sid.h"

/* /v1/Services/{ChatServiceSid}/X is X of that service: the twin of each ROUTE_TWIN row. A segment that is
 * no service SID is no route (404); whether the service is the caller's is the runner's parent chain. */
static int service_segment(const char *s, size_t n)
{
    return sid_valid(s, n, "IS");
}

const struct route_mount api_mount = {"/Services/{}", service_segment};

/* The families whose operations the runner serves, the most requested first (the router tries the rows
 * in order). */
static const struct family *const families[] = {
    &users_family,
    &roles_family,
    &services_family,
    &configuration_family,
    &service_config_family,
    &notifications_family,
    &account_webhooks_family,
    &service_webhooks_family,
    &bindings_family,
    &credentials_family,
    &conversations_family,
    &messages_family,
    &participants_family,
    &user_conversations_family,
    &participant_conversations_family,
    &address_configurations_family,
    &scoped_webhooks_family,
};

/* Operations that are no family: their handlers resolve what their path names. */
static const struct route handlers[] = {
    {"/ConversationWithParticipants", ROUTE_TWIN, NULL, conversation_with_participants_create, NULL},
    /* a receipt's two parents: its runner family is made per request (api/delivery_receipts.c) */
    {"/Conversations/{}/Messages/{}/Receipts", ROUTE_TWIN, receipts_list, NULL, NULL},
    {"/Conversations/{}/Messages/{}/Receipts/{}", ROUTE_TWIN, receipts_fetch, NULL, NULL},
};

#define N_FAMILIES (sizeof(families) / sizeof(families[0]))
#define N_HANDLERS (sizeof(handlers) / sizeof(handlers[0]))

/* A row per pattern: a family's collection and its item (a row per operation at most); the NULL row
 * ends the table. */
#define FAMILY_OPS 5
#define N_ROWS (FAMILY_OPS * N_FAMILIES + N_HANDLERS + 1)
static struct route table[N_ROWS];
static const struct family *family_of[N_ROWS];
const struct route *const api_routes = table;
const struct family *const *const api_route_families = family_of;

/* The family's row for op's pattern (a new one after the n rows when it has none yet); op's method there
 * runs op's kind. */
static size_t add_op(size_t n, const struct family *f, const struct op_def *op)
{
    size_t i = 0;
    while (i < n && !(family_of[i] == f && strcmp(table[i].pattern, op->route) == 0))
        i++;
    if (i == n) {
        table[n].pattern = op->route;
        table[n].flags = f->parent == PARENT_TWIN ? ROUTE_TWIN : 0;
        family_of[n++] = f;
    }
    handler_fn h = runner_handler((enum op_kind)op->kind);
    if (op->method == OPM_GET) table[i].get = h;
    if (op->method == OPM_POST) table[i].post = h;
    if (op->method == OPM_DELETE) table[i].del = h;
    return n;
}

/* Built before main: every user of the table (the server, the unit tests, the fuzz targets) sees it
 * whole, and no request thread races its build. Families are const data, ready before any code runs. */
__attribute__((constructor)) static void routes_build(void)
{
    size_t n = 0;
    for (size_t k = 0; k < N_FAMILIES; k++) {
        const struct family *f = families[k];
        const struct op_def *ops[FAMILY_OPS] = {f->op_list, f->op_create, f->op_fetch, f->op_update,
                                                f->op_delete};
        for (size_t i = 0; i < FAMILY_OPS; i++)
            if (ops[i]) n = add_op(n, f, ops[i]);
    }
    memcpy(&table[n], handlers, sizeof(handlers));
}
