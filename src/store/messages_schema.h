/* Messages, their delivery receipts and registered media metadata (BEHAVIOUR-conversations §3, §4), schema
 * version 12, written once for both engines (store/migrations.c), after the participants table. A
 * conversation gets the counter its message indexes come from: the insert's transaction increments it, so an
 * index is never handed out twice, even by several servers sharing one PostgreSQL database (the row lock
 * serialises them), and never reused after a delete. */
#ifndef PARLEY_MESSAGES_SCHEMA_H
#define PARLEY_MESSAGES_SCHEMA_H

/* The columns of version 12, once for its CREATE and for the rebuild of version 14 (which moves the
 * conversation's foreign key to conversation_id). */
/* clang-format off */
#define MESSAGES_COLUMNS(conversation_sid)                                                                   \
    "  id INTEGER PRIMARY KEY,"                                                                              \
    "  sid TEXT NOT NULL UNIQUE,"                                                                            \
    "  account_sid TEXT NOT NULL,"                                                                           \
    "  service_sid TEXT NOT NULL,"                                                                           \
    conversation_sid                                                                                         \
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
    "  date_updated BIGINT NOT NULL,"

/* UNIQUE(conversation_sid, idx) was the keyset index of the list in both orders (version 14 keys it by
 * the conversation's id). The first media's metadata is copied into the message when it is posted (the
 * registry may change later; the message keeps what it was sent with). d_*: how many of its receipts are
 * in each status, kept by the receipts' writes in their transaction, so that a page of messages renders
 * its delivery summaries without a query per message. */
#define MESSAGES_MIGRATION                                                                                   \
    "ALTER TABLE conversations ADD COLUMN next_message_index BIGINT NOT NULL DEFAULT 0;"                     \
    "CREATE TABLE messages("                                                                                 \
    MESSAGES_COLUMNS("  conversation_sid TEXT NOT NULL REFERENCES conversations(sid) ON DELETE CASCADE,")   \
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

/* 14: a message's place in its conversation is keyed by the conversation's integer id instead of its
 * 34-byte SID. An index entry shrinks from about 46 bytes to about 12, so a leaf holds four times as
 * many: a create across many conversations dirties each conversation's leaf as before but splits them a
 * quarter as often (the WAL frames of a commit, bench/RESULTS.md). The foreign key moves to the new
 * column, whose index now serves a conversation's delete. SQLite cannot drop a table constraint, so its
 * table is rebuilt (store/sqlite.c runs migrations with foreign keys off, and checks them before each
 * commit); PostgreSQL alters it in place. */
#define MESSAGES_V14_SQLITE                                                                                  \
    "CREATE TABLE messages_v14("                                                                             \
    MESSAGES_COLUMNS("  conversation_sid TEXT NOT NULL,")                                                   \
    "  conversation_id BIGINT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,"                      \
    "  UNIQUE(conversation_id, idx)) STRICT;"                                                                \
    "INSERT INTO messages_v14 SELECT m.*, c.id FROM messages m"                                              \
    "  JOIN conversations c ON c.sid = m.conversation_sid;"                                                  \
    "DROP TABLE messages;"                                                                                   \
    "ALTER TABLE messages_v14 RENAME TO messages;"                                                           \
    "CREATE INDEX messages_by_media ON messages(media_sid) WHERE media_sid IS NOT NULL;"
#define MESSAGES_V14_PG                                                                                      \
    "ALTER TABLE messages ADD COLUMN conversation_id BIGINT;"                                                \
    "UPDATE messages SET conversation_id = c.id FROM conversations c"                                        \
    "  WHERE c.sid = messages.conversation_sid;"                                                             \
    "ALTER TABLE messages ALTER COLUMN conversation_id SET NOT NULL;"                                        \
    "ALTER TABLE messages DROP CONSTRAINT messages_conversation_sid_fkey;"                                   \
    "ALTER TABLE messages DROP CONSTRAINT messages_conversation_sid_idx_key;"                                \
    "ALTER TABLE messages ADD FOREIGN KEY (conversation_id) REFERENCES conversations(id) ON DELETE CASCADE;" \
    "ALTER TABLE messages ADD UNIQUE (conversation_id, idx);"
/* clang-format on */

#endif
