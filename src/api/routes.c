/* The route table: every path Parley answers, after "/v1". ROUTE_TWIN rows also answer under
 * /v1/Services/{ChatServiceSid}. Order matters only where patterns overlap: fixed segments first. */
#include "api/api.h"

const struct route api_routes[] = {
    /* pattern                      flags       GET                       POST           DELETE */
    {"/Configuration", 0, configuration_fetch, NULL, NULL},
    {"/Configuration/Webhooks", 0, account_webhooks_fetch, account_webhooks_update, NULL},
    {"/Services/{}/Configuration/Webhooks", 0, service_webhooks_fetch, service_webhooks_update, NULL},
    {"/Users", ROUTE_TWIN, users_list, users_create, NULL},
    {"/Users/{}", ROUTE_TWIN, users_fetch, users_update, users_delete},
    {"/Users/{}/Conversations", ROUTE_TWIN, user_conversations_list, NULL, NULL},
    {"/Roles", ROUTE_TWIN, roles_list, NULL, NULL},
    {"/Roles/{}", ROUTE_TWIN, roles_fetch, NULL, NULL},
    {NULL, 0, NULL, NULL, NULL},
};

const struct route admin_routes[] = {
    {"/webhooks/log", 0, webhooks_log, NULL, NULL},
    {NULL, 0, NULL, NULL, NULL},
};
