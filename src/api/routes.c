/* The route table: every path Parley answers, after "/v1". ROUTE_TWIN rows also answer under
 * /v1/Services/{ChatServiceSid}; ROUTE_SERVICE rows take a service of the caller's account as their first
 * parameter (resolved before the handler, 404 otherwise). ROUTE_RUNNER rows run a family descriptor
 * (api/runner.c), which resolves their parents itself. Order matters only where patterns overlap: fixed
 * segments first. */
#include "api/api.h"
#include "util/sid.h"

/* /v1/Services/{ChatServiceSid}/X is X of that service: the twin of each ROUTE_TWIN row. A segment that is
 * no service SID is no route (404); whether the service is the caller's is the runner's parent chain. */
static int service_segment(const char *s, size_t n)
{
    return sid_valid(s, n, "IS");
}

const struct route_mount api_mount = {"/Services/{}", service_segment};

const struct route api_routes[] = {
    /* pattern                      flags       GET                       POST           DELETE */
    {"/Configuration", ROUTE_RUNNER, configuration_fetch, configuration_update, NULL},
    {"/Configuration/Webhooks", 0, account_webhooks_fetch, account_webhooks_update, NULL},
    {"/Configuration/Addresses", ROUTE_RUNNER, address_configurations_list, address_configurations_create,
     NULL},
    {"/Configuration/Addresses/{}", ROUTE_RUNNER, address_configurations_fetch, address_configurations_update,
     address_configurations_delete},
    {"/Services/{}/Configuration/Webhooks", 0, service_webhooks_fetch, service_webhooks_update, NULL},
    {"/Users", ROUTE_TWIN | ROUTE_RUNNER, users_list, users_create, NULL},
    {"/Users/{}", ROUTE_TWIN | ROUTE_RUNNER, users_fetch, users_update, users_delete},
    {"/Users/{}/Conversations", ROUTE_TWIN, user_conversations_list, NULL, NULL},
    {"/Roles", ROUTE_TWIN | ROUTE_RUNNER, roles_list, roles_create, NULL},
    {"/Roles/{}", ROUTE_TWIN | ROUTE_RUNNER, roles_fetch, roles_update, roles_delete},
    {"/Services", 0, services_list, services_create, NULL},
    {"/Services/{}", ROUTE_SERVICE, services_fetch, NULL, services_delete},
    {"/Services/{}/Configuration", ROUTE_RUNNER, service_config_fetch, service_config_update, NULL},
    {"/Services/{}/Configuration/Notifications", ROUTE_RUNNER, notifications_fetch, notifications_update,
     NULL},
    {"/Services/{}/Bindings", ROUTE_RUNNER, bindings_list, NULL, NULL},
    {"/Services/{}/Bindings/{}", ROUTE_RUNNER, bindings_fetch, NULL, bindings_delete},
    {"/Conversations", ROUTE_TWIN | ROUTE_RUNNER, conversations_list, conversations_create, NULL},
    {"/Conversations/{}", ROUTE_TWIN | ROUTE_RUNNER, conversations_fetch, conversations_update,
     conversations_delete},
    {"/Credentials", ROUTE_RUNNER, credentials_list, credentials_create, NULL},
    {"/Credentials/{}", ROUTE_RUNNER, credentials_fetch, credentials_update, credentials_delete},
    {"/Conversations/{}/Participants", ROUTE_TWIN | ROUTE_RUNNER, participants_list, participants_create,
     NULL},
    {"/Conversations/{}/Participants/{}", ROUTE_TWIN | ROUTE_RUNNER, participants_fetch, participants_update,
     participants_delete},
    {"/Conversations/{}/Messages", ROUTE_TWIN | ROUTE_RUNNER, messages_list, messages_create, NULL},
    {"/Conversations/{}/Messages/{}", ROUTE_TWIN | ROUTE_RUNNER, messages_fetch, messages_update,
     messages_delete},
    {"/Conversations/{}/Messages/{}/Receipts", ROUTE_TWIN | ROUTE_RUNNER, receipts_list, NULL, NULL},
    {"/Conversations/{}/Messages/{}/Receipts/{}", ROUTE_TWIN | ROUTE_RUNNER, receipts_fetch, NULL, NULL},
    {NULL, 0, NULL, NULL, NULL},
};

const struct route admin_routes[] = {
    {"/webhooks/log", 0, webhooks_log, NULL, NULL},
    {"/Media/{}", 0, media_fetch, media_register, NULL},
    {"/clock", 0, clock_fetch, clock_update, NULL},
    {"/changes", 0, changes_list, NULL, NULL},
    {"/inbound", 0, NULL, inbound_post, NULL},
    {"/receipts/{}", 0, NULL, delivery_status_update, NULL},
    {NULL, 0, NULL, NULL, NULL},
};
