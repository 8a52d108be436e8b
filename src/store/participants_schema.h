/* The participants table (BEHAVIOUR-conversations §2), one migration version per engine: appended to
 * each engine's migration list after the conversations table it references. A participant is a chat
 * member (identity), a non-chat member (messaging binding) or a Group-MMS member (projected address); it
 * also holds the user's own state in the UserConversation view (notification_level, §7). */
#ifndef PARLEY_PARTICIPANTS_SCHEMA_H
#define PARLEY_PARTICIPANTS_SCHEMA_H

/* role_sid: ON DELETE SET NULL, so that the service reaper may delete roles before conversations.
 * UNIQUE(conversation_sid, identity): one chat participant per identity, on both engines and across
 * servers sharing one database (NULL identities, the non-chat members, are distinct). */
#define SQLITE_PARTICIPANTS_MIGRATION                                                                        \
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
    "  last_read_message_index INTEGER,"                                                                     \
    "  last_read_timestamp TEXT,"                                                                            \
    "  notification_level TEXT NOT NULL DEFAULT 'default',"                                                  \
    "  date_created INTEGER NOT NULL,"                                                                       \
    "  date_updated INTEGER NOT NULL,"                                                                       \
    "  UNIQUE(conversation_sid, identity)) STRICT;"                                                          \
    "CREATE INDEX participants_by_conversation ON participants(conversation_sid, id);"                       \
    "CREATE INDEX participants_by_identity ON participants(service_sid, identity, id)"                       \
    "  WHERE identity IS NOT NULL;"                                                                          \
    "CREATE INDEX participants_by_address ON participants(service_sid, address, id)"                         \
    "  WHERE address IS NOT NULL;"                                                                           \
    "CREATE INDEX participants_by_pair ON participants(account_sid, address, proxy_address)"                 \
    "  WHERE proxy_address IS NOT NULL;"                                                                     \
    "CREATE INDEX participants_by_role ON participants(role_sid);"                                           \
    "CREATE TRIGGER participants_live_service_i BEFORE INSERT ON participants"                               \
    "  WHEN (SELECT deleted_at FROM services WHERE sid = NEW.service_sid) IS NOT NULL"                       \
    "  BEGIN SELECT RAISE(ABORT, 'the service is deleted'); END;"                                            \
    "CREATE TRIGGER participants_live_service_u BEFORE UPDATE ON participants"                               \
    "  WHEN (SELECT deleted_at FROM services WHERE sid = NEW.service_sid) IS NOT NULL"                       \
    "  BEGIN SELECT RAISE(ABORT, 'the service is deleted'); END;"

#define PG_PARTICIPANTS_MIGRATION                                                                            \
    "CREATE TABLE participants("                                                                             \
    "  id bigserial PRIMARY KEY,"                                                                            \
    "  sid text NOT NULL UNIQUE,"                                                                            \
    "  account_sid text NOT NULL,"                                                                           \
    "  service_sid text NOT NULL,"                                                                           \
    "  conversation_sid text NOT NULL REFERENCES conversations(sid) ON DELETE CASCADE,"                      \
    "  identity text,"                                                                                       \
    "  role_sid text REFERENCES roles(sid) ON DELETE SET NULL,"                                              \
    "  attributes text NOT NULL,"                                                                            \
    "  binding_type text,"                                                                                   \
    "  address text,"                                                                                        \
    "  proxy_address text,"                                                                                  \
    "  projected_address text,"                                                                              \
    "  last_read_message_index bigint,"                                                                      \
    "  last_read_timestamp text,"                                                                            \
    "  notification_level text NOT NULL DEFAULT 'default',"                                                  \
    "  date_created bigint NOT NULL,"                                                                        \
    "  date_updated bigint NOT NULL,"                                                                        \
    "  UNIQUE(conversation_sid, identity));"                                                                 \
    "CREATE INDEX participants_by_conversation ON participants(conversation_sid, id);"                       \
    "CREATE INDEX participants_by_identity ON participants(service_sid, identity, id)"                       \
    "  WHERE identity IS NOT NULL;"                                                                          \
    "CREATE INDEX participants_by_address ON participants(service_sid, address, id)"                         \
    "  WHERE address IS NOT NULL;"                                                                           \
    "CREATE INDEX participants_by_pair ON participants(account_sid, address, proxy_address)"                 \
    "  WHERE proxy_address IS NOT NULL;"                                                                     \
    "CREATE INDEX participants_by_role ON participants(role_sid);"                                           \
    "CREATE TRIGGER participants_live_service BEFORE INSERT OR UPDATE ON participants"                       \
    "  FOR EACH ROW EXECUTE FUNCTION parley_live_service();"

#endif
