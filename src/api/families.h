/* The resource families that api/runner.c runs from their descriptors, one per api/<family>.c. */
#ifndef PARLEY_FAMILIES_H
#define PARLEY_FAMILIES_H

#include "api/runner.h"

extern const struct family credentials_family;
extern const struct family bindings_family;
extern const struct family roles_family;
extern const struct family users_family;
extern const struct family service_config_family;
extern const struct family notifications_family;
extern const struct family configuration_family;
extern const struct family services_family;
extern const struct family account_webhooks_family;
extern const struct family service_webhooks_family;
extern const struct family conversations_family;
extern const struct family participants_family;
extern const struct family user_conversations_family;
extern const struct family participant_conversations_family;
/* ConversationWithParticipants: built once from conversations_family (api/conversation_with_participants.c)
 */
const struct family *conversation_with_participants_family(void);
extern const struct family address_configurations_family;
extern const struct family scoped_webhooks_family;
extern const struct family messages_family;
extern const struct family receipts_family;

#endif
