/* The participants table (BEHAVIOUR-conversations §2), schema version 9, written once for both engines
 * (store/migrations.c, with each engine's live-service trigger), after the conversations table it
 * references. A participant is a chat member (identity), a non-chat member (messaging binding) or a
 * Group-MMS member (projected address); it also holds the user's own state in the UserConversation view
 * (notification_level, §7). */
#ifndef PARLEY_PARTICIPANTS_SCHEMA_H
#define PARLEY_PARTICIPANTS_SCHEMA_H

/* role_sid: ON DELETE SET NULL, so that the service reaper may delete roles before conversations.
 * UNIQUE(conversation_sid, identity): one chat participant per identity, on both engines and across
 * servers sharing one database (NULL identities, the non-chat members, are distinct). */
#define PARTICIPANTS_MIGRATION                                                                               \
    "CREATE TABLE participants("                                                                             \
    "  id INTEGER PRIMARY KEY,"                                                                              \
    "  sid TEXT NOT NULL UNIQUE,"                                                                            \
    "  account_sid TEXT NOT NULL,"                                                                           \
    "  service_sid TEXT NOT NULL,"                                                                           \
    "  conversation_sid TEXT NOT NULL REFERENCES conversations(sid) ON DELETE CASCADE,"                      \
    "  identity TEXT,"                                                                                       \
    "  role_sid TEXT REFERENCES roles(sid) ON DELETE SET NULL,"                                              \
    "  attributes TEXT NOT NULL,"                                                                            \
    "  binding_type TEXT,"                                                                                   \
    "  address TEXT,"                                                                                        \
    "  proxy_address TEXT,"                                                                                  \
    "  projected_address TEXT,"                                                                              \
    "  last_read_message_index BIGINT,"                                                                      \
    "  last_read_timestamp TEXT,"                                                                            \
    "  notification_level TEXT NOT NULL DEFAULT 'default',"                                                  \
    "  date_created BIGINT NOT NULL,"                                                                        \
    "  date_updated BIGINT NOT NULL,"                                                                        \
    "  UNIQUE(conversation_sid, identity)) STRICT;"                                                          \
    "CREATE INDEX participants_by_conversation ON participants(conversation_sid, id);"                       \
    "CREATE INDEX participants_by_identity ON participants(service_sid, identity, id)"                       \
    "  WHERE identity IS NOT NULL;"                                                                          \
    "CREATE INDEX participants_by_address ON participants(service_sid, address, id)"                         \
    "  WHERE address IS NOT NULL;"                                                                           \
    "CREATE INDEX participants_by_pair ON participants(account_sid, address, proxy_address)"                 \
    "  WHERE proxy_address IS NOT NULL;"                                                                     \
    "CREATE INDEX participants_by_role ON participants(role_sid);"

#endif
