/* The resource families that api/runner.c runs from their descriptors, one per api/<family>.c. */
#ifndef PARLEY_FAMILIES_H
#define PARLEY_FAMILIES_H

#include "api/runner.h"
#include "store/store.h"

extern const struct family credentials_family;
extern const struct family bindings_family;
extern const struct family roles_family;
/* In a write transaction: the role the parameter v names (nothing when v is absent), which must be one of
 * r->service_sid's of type; its SID into out. 0, E_ROLE_NOT_FOUND or E_CONVERSATION_ROLE_NOT_FOUND (by
 * type) when it is not, or a store result. */
int roles_take(struct store_conn *c, struct req *r, const struct param_value *v, enum role_type type,
               char out[SID_LEN + 1]);
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
