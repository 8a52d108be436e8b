/* Messages, their delivery receipts and registered media metadata (BEHAVIOUR-conversations §3, §4), one
 * migration version per engine, appended after the participants table. A conversation gets the counter
 * its message indexes come from: the insert's transaction increments it, so an index is never handed
 * out twice, even by several servers sharing one PostgreSQL database (the row lock serialises them), and
 * never reused after a delete. */
#ifndef PARLEY_MESSAGES_SCHEMA_H
#define PARLEY_MESSAGES_SCHEMA_H

/* UNIQUE(conversation_sid, idx) is also the keyset index of the list in both orders. The first media's
 * metadata is copied into the message when it is posted (the registry may change later; the message
 * keeps what it was sent with). d_*: how many of its receipts are in each status, kept by the receipts'
 * writes in their transaction, so that a page of messages renders its delivery summaries without a
 * query per message. */
#define SQLITE_MESSAGES_MIGRATION                                                                            \
    "ALTER TABLE conversations ADD COLUMN next_message_index INTEGER NOT NULL DEFAULT 0;"                    \
    "CREATE TABLE messages("                                                                                 \
    "  id INTEGER PRIMARY KEY,"                                                                              \
    "  sid TEXT NOT NULL UNIQUE,"                                                                            \
    "  account_sid TEXT NOT NULL,"                                                                           \
    "  service_sid TEXT NOT NULL,"                                                                           \
    "  conversation_sid TEXT NOT NULL REFERENCES conversations(sid) ON DELETE CASCADE,"                      \
    "  idx INTEGER NOT NULL,"                                                                                \
    "  author TEXT NOT NULL,"                                                                                \
    "  participant_sid TEXT,"                                                                                \
    "  body TEXT,"                                                                                           \
    "  attributes TEXT NOT NULL,"                                                                            \
    "  subject TEXT,"                                                                                        \
    "  content_sid TEXT,"                                                                                    \
    "  content_variables TEXT,"                                                                              \
    "  media_sid TEXT,"                                                                                      \
    "  media_content_type TEXT,"                                                                             \
    "  media_filename TEXT,"                                                                                 \
    "  media_size INTEGER NOT NULL DEFAULT 0,"                                                               \
    "  source TEXT NOT NULL DEFAULT 'API',"                                                                  \
    "  d_sent INTEGER NOT NULL DEFAULT 0,"                                                                   \
    "  d_delivered INTEGER NOT NULL DEFAULT 0,"                                                              \
    "  d_read INTEGER NOT NULL DEFAULT 0,"                                                                   \
    "  d_failed INTEGER NOT NULL DEFAULT 0,"                                                                 \
    "  d_undelivered INTEGER NOT NULL DEFAULT 0,"                                                            \
    "  date_created INTEGER NOT NULL,"                                                                       \
    "  date_updated INTEGER NOT NULL,"                                                                       \
    "  UNIQUE(conversation_sid, idx)) STRICT;"                                                               \
    "CREATE INDEX messages_by_media ON messages(media_sid) WHERE media_sid IS NOT NULL;"                     \
    "CREATE TABLE delivery_receipts("                                                                        \
    "  id INTEGER PRIMARY KEY,"                                                                              \
    "  sid TEXT NOT NULL UNIQUE,"                                                                            \
    "  account_sid TEXT NOT NULL,"                                                                           \
    "  service_sid TEXT NOT NULL,"                                                                           \
    "  conversation_sid TEXT NOT NULL,"                                                                      \
    "  message_sid TEXT NOT NULL REFERENCES messages(sid) ON DELETE CASCADE,"                                \
    "  participant_sid TEXT NOT NULL,"                                                                       \
    "  channel_message_sid TEXT NOT NULL,"                                                                   \
    "  status TEXT NOT NULL,"                                                                                \
    "  error_code INTEGER NOT NULL DEFAULT 0,"                                                               \
    "  date_created INTEGER NOT NULL,"                                                                       \
    "  date_updated INTEGER) STRICT;"                                                                        \
    "CREATE INDEX delivery_receipts_by_message ON delivery_receipts(message_sid, id);"                       \
    "CREATE TABLE media("                                                                                    \
    "  id INTEGER PRIMARY KEY,"                                                                              \
    "  sid TEXT NOT NULL UNIQUE,"                                                                            \
    "  account_sid TEXT NOT NULL,"                                                                           \
    "  content_type TEXT NOT NULL,"                                                                          \
    "  filename TEXT,"                                                                                       \
    "  size INTEGER NOT NULL,"                                                                               \
    "  date_created INTEGER NOT NULL) STRICT;"                                                               \
    "CREATE TRIGGER messages_live_service_i BEFORE INSERT ON messages"                                       \
    "  WHEN (SELECT deleted_at FROM services WHERE sid = NEW.service_sid) IS NOT NULL"                       \
    "  BEGIN SELECT RAISE(ABORT, 'the service is deleted'); END;"

#define PG_MESSAGES_MIGRATION                                                                                \
    "ALTER TABLE conversations ADD COLUMN next_message_index bigint NOT NULL DEFAULT 0;"                     \
    "CREATE TABLE messages("                                                                                 \
    "  id bigserial PRIMARY KEY,"                                                                            \
    "  sid text NOT NULL UNIQUE,"                                                                            \
    "  account_sid text NOT NULL,"                                                                           \
    "  service_sid text NOT NULL,"                                                                           \
    "  conversation_sid text NOT NULL REFERENCES conversations(sid) ON DELETE CASCADE,"                      \
    "  idx bigint NOT NULL,"                                                                                 \
    "  author text NOT NULL,"                                                                                \
    "  participant_sid text,"                                                                                \
    "  body text,"                                                                                           \
    "  attributes text NOT NULL,"                                                                            \
    "  subject text,"                                                                                        \
    "  content_sid text,"                                                                                    \
    "  content_variables text,"                                                                              \
    "  media_sid text,"                                                                                      \
    "  media_content_type text,"                                                                             \
    "  media_filename text,"                                                                                 \
    "  media_size bigint NOT NULL DEFAULT 0,"                                                                \
    "  source text NOT NULL DEFAULT 'API',"                                                                  \
    "  d_sent bigint NOT NULL DEFAULT 0,"                                                                    \
    "  d_delivered bigint NOT NULL DEFAULT 0,"                                                               \
    "  d_read bigint NOT NULL DEFAULT 0,"                                                                    \
    "  d_failed bigint NOT NULL DEFAULT 0,"                                                                  \
    "  d_undelivered bigint NOT NULL DEFAULT 0,"                                                             \
    "  date_created bigint NOT NULL,"                                                                        \
    "  date_updated bigint NOT NULL,"                                                                        \
    "  UNIQUE(conversation_sid, idx));"                                                                      \
    "CREATE INDEX messages_by_media ON messages(media_sid) WHERE media_sid IS NOT NULL;"                     \
    "CREATE TABLE delivery_receipts("                                                                        \
    "  id bigserial PRIMARY KEY,"                                                                            \
    "  sid text NOT NULL UNIQUE,"                                                                            \
    "  account_sid text NOT NULL,"                                                                           \
    "  service_sid text NOT NULL,"                                                                           \
    "  conversation_sid text NOT NULL,"                                                                      \
    "  message_sid text NOT NULL REFERENCES messages(sid) ON DELETE CASCADE,"                                \
    "  participant_sid text NOT NULL,"                                                                       \
    "  channel_message_sid text NOT NULL,"                                                                   \
    "  status text NOT NULL,"                                                                                \
    "  error_code bigint NOT NULL DEFAULT 0,"                                                                \
    "  date_created bigint NOT NULL,"                                                                        \
    "  date_updated bigint);"                                                                                \
    "CREATE INDEX delivery_receipts_by_message ON delivery_receipts(message_sid, id);"                       \
    "CREATE TABLE media("                                                                                    \
    "  id bigserial PRIMARY KEY,"                                                                            \
    "  sid text NOT NULL UNIQUE,"                                                                            \
    "  account_sid text NOT NULL,"                                                                           \
    "  content_type text NOT NULL,"                                                                          \
    "  filename text,"                                                                                       \
    "  size bigint NOT NULL,"                                                                                \
    "  date_created bigint NOT NULL);"                                                                       \
    "CREATE TRIGGER messages_live_service BEFORE INSERT ON messages"                                         \
    "  FOR EACH ROW EXECUTE FUNCTION parley_live_service();"

#endif
