/* The conversation-scoped webhooks table (BEHAVIOUR-conversations §5), one migration per engine
 * (store/sqlite.c and store/pg.c list them). A row goes with its conversation (ON DELETE CASCADE), so a
 * conversation's delete is the whole cascade in one transaction. */
#ifndef PARLEY_SCOPED_WEBHOOKS_SCHEMA_H
#define PARLEY_SCOPED_WEBHOOKS_SCHEMA_H

/* filters and triggers are JSON arrays of strings ("[]" when none); method is "get" or "post", NULL for a
 * studio target; replay_after is a message index, -1 when not given. A trigger refuses rows of a
 * deleted service, as for conversations. */
#define SQLITE_SCOPED_WEBHOOKS_MIGRATION                                                                     \
    "CREATE TABLE conversation_webhooks("                                                                    \
    "  id INTEGER PRIMARY KEY,"                                                                              \
    "  sid TEXT NOT NULL UNIQUE,"                                                                            \
    "  account_sid TEXT NOT NULL,"                                                                           \
    "  service_sid TEXT NOT NULL,"                                                                           \
    "  conversation_sid TEXT NOT NULL REFERENCES conversations(sid) ON DELETE CASCADE,"                      \
    "  target TEXT NOT NULL,"                                                                                \
    "  url TEXT,"                                                                                            \
    "  method TEXT,"                                                                                         \
    "  filters TEXT NOT NULL,"                                                                               \
    "  triggers TEXT NOT NULL,"                                                                              \
    "  flow_sid TEXT,"                                                                                       \
    "  replay_after INTEGER NOT NULL DEFAULT -1,"                                                            \
    "  date_created INTEGER NOT NULL,"                                                                       \
    "  date_updated INTEGER NOT NULL) STRICT;"                                                               \
    "CREATE INDEX conversation_webhooks_by_conversation ON conversation_webhooks(conversation_sid, id);"     \
    "CREATE TRIGGER conversation_webhooks_live_service BEFORE INSERT ON conversation_webhooks"               \
    "  WHEN (SELECT deleted_at FROM services WHERE sid = NEW.service_sid) IS NOT NULL"                       \
    "  BEGIN SELECT RAISE(ABORT, 'the service is deleted'); END;"

#define PG_SCOPED_WEBHOOKS_MIGRATION                                                                         \
    "CREATE TABLE conversation_webhooks("                                                                    \
    "  id bigserial PRIMARY KEY,"                                                                            \
    "  sid text NOT NULL UNIQUE,"                                                                            \
    "  account_sid text NOT NULL,"                                                                           \
    "  service_sid text NOT NULL,"                                                                           \
    "  conversation_sid text NOT NULL REFERENCES conversations(sid) ON DELETE CASCADE,"                      \
    "  target text NOT NULL,"                                                                                \
    "  url text,"                                                                                            \
    "  method text,"                                                                                         \
    "  filters text NOT NULL,"                                                                               \
    "  triggers text NOT NULL,"                                                                              \
    "  flow_sid text,"                                                                                       \
    "  replay_after bigint NOT NULL DEFAULT -1,"                                                             \
    "  date_created bigint NOT NULL,"                                                                        \
    "  date_updated bigint NOT NULL);"                                                                       \
    "CREATE INDEX conversation_webhooks_by_conversation ON conversation_webhooks(conversation_sid, id);"     \
    "CREATE TRIGGER conversation_webhooks_live_service BEFORE INSERT ON conversation_webhooks"               \
    "  FOR EACH ROW EXECUTE FUNCTION parley_live_service();"

#endif
