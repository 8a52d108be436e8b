/* Messages, their delivery receipts and registered media metadata (BEHAVIOUR-conversations §3, §4), schema
 * version 12, written once for both engines (store/migrations.c), after the participants table. A
 * conversation gets the counter its message indexes come from: the insert's transaction increments it, so an
 * index is never handed out twice, even by several servers sharing one PostgreSQL database (the row lock
 * serialises them), and never reused after a delete. */
#ifndef PARLEY_MESSAGES_SCHEMA_H
#define PARLEY_MESSAGES_SCHEMA_H

/* UNIQUE(conversation_sid, idx) is also the keyset index of the list in both orders. The first media's
 * metadata is copied into the message when it is posted (the registry may change later; the message
 * keeps what it was sent with). d_*: how many of its receipts are in each status, kept by the receipts'
 * writes in their transaction, so that a page of messages renders its delivery summaries without a
 * query per message. */
#define MESSAGES_MIGRATION                                                                                   \
    "ALTER TABLE conversations ADD COLUMN next_message_index BIGINT NOT NULL DEFAULT 0;"                     \
    "CREATE TABLE messages("                                                                                 \
    "  id INTEGER PRIMARY KEY,"                                                                              \
    "  sid TEXT NOT NULL UNIQUE,"                                                                            \
    "  account_sid TEXT NOT NULL,"                                                                           \
    "  service_sid TEXT NOT NULL,"                                                                           \
    "  conversation_sid TEXT NOT NULL REFERENCES conversations(sid) ON DELETE CASCADE,"                      \
    "  idx BIGINT NOT NULL,"                                                                                 \
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
    "  media_size BIGINT NOT NULL DEFAULT 0,"                                                                \
    "  source TEXT NOT NULL DEFAULT 'API',"                                                                  \
    "  d_sent BIGINT NOT NULL DEFAULT 0,"                                                                    \
    "  d_delivered BIGINT NOT NULL DEFAULT 0,"                                                               \
    "  d_read BIGINT NOT NULL DEFAULT 0,"                                                                    \
    "  d_failed BIGINT NOT NULL DEFAULT 0,"                                                                  \
    "  d_undelivered BIGINT NOT NULL DEFAULT 0,"                                                             \
    "  date_created BIGINT NOT NULL,"                                                                        \
    "  date_updated BIGINT NOT NULL,"                                                                        \
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
    "  error_code BIGINT NOT NULL DEFAULT 0,"                                                                \
    "  date_created BIGINT NOT NULL,"                                                                        \
    "  date_updated BIGINT) STRICT;"                                                                         \
    "CREATE INDEX delivery_receipts_by_message ON delivery_receipts(message_sid, id);"                       \
    "CREATE TABLE media("                                                                                    \
    "  id INTEGER PRIMARY KEY,"                                                                              \
    "  sid TEXT NOT NULL UNIQUE,"                                                                            \
    "  account_sid TEXT NOT NULL,"                                                                           \
    "  content_type TEXT NOT NULL,"                                                                          \
    "  filename TEXT,"                                                                                       \
    "  size BIGINT NOT NULL,"                                                                                \
    "  date_created BIGINT NOT NULL) STRICT;"

#endif
