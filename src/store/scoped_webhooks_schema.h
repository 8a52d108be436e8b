/* The conversation-scoped webhooks table (BEHAVIOUR-conversations §5), schema version 11, written once for
 * both engines (store/migrations.c). A row goes with its conversation (ON DELETE CASCADE), so a
 * conversation's delete is the whole cascade in one transaction. */
#ifndef PARLEY_SCOPED_WEBHOOKS_SCHEMA_H
#define PARLEY_SCOPED_WEBHOOKS_SCHEMA_H

/* filters and triggers are JSON arrays of strings ("[]" when none); method is "get" or "post", NULL for a
 * studio target; replay_after is a message index, -1 when not given. A trigger (each engine's own, in the
 * list) refuses rows of a deleted service, as for conversations. */
#define SCOPED_WEBHOOKS_MIGRATION                                                                            \
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
    "  replay_after BIGINT NOT NULL DEFAULT -1,"                                                             \
    "  date_created BIGINT NOT NULL,"                                                                        \
    "  date_updated BIGINT NOT NULL) STRICT;"                                                                \
    "CREATE INDEX conversation_webhooks_by_conversation ON conversation_webhooks(conversation_sid, id);"

#endif
