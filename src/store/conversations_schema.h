/* The conversations table, schema version 8, written once for both engines (store/migrations.c). The rows
 * of a conversation (participants, messages, receipts, scoped webhooks) reference it with ON DELETE
 * CASCADE, so that deleting the row is the whole cascade in one transaction. */
#ifndef PARLEY_CONVERSATIONS_SCHEMA_H
#define PARLEY_CONVERSATIONS_SCHEMA_H

/* Timer durations are milliseconds, 0 for none; date_inactive / date_closed are a pending timer's due
 * time or the time the state changed, 0 for none; last_activity is what the timers count from. Unique
 * names are unique per service (NULLs are not compared). A trigger refuses rows of a deleted service (each
 * engine's own, in the list). */
#define CONVERSATIONS_MIGRATION                                                                              \
    "CREATE TABLE conversations("                                                                            \
    "  id INTEGER PRIMARY KEY,"                                                                              \
    "  sid TEXT NOT NULL UNIQUE,"                                                                            \
    "  account_sid TEXT NOT NULL,"                                                                           \
    "  service_sid TEXT NOT NULL REFERENCES services(sid) ON DELETE CASCADE,"                                \
    "  messaging_service_sid TEXT,"                                                                          \
    "  friendly_name TEXT,"                                                                                  \
    "  unique_name TEXT,"                                                                                    \
    "  attributes TEXT NOT NULL,"                                                                            \
    "  state TEXT NOT NULL,"                                                                                 \
    "  timer_inactive BIGINT NOT NULL DEFAULT 0,"                                                            \
    "  timer_closed BIGINT NOT NULL DEFAULT 0,"                                                              \
    "  date_inactive BIGINT NOT NULL DEFAULT 0,"                                                             \
    "  date_closed BIGINT NOT NULL DEFAULT 0,"                                                               \
    "  last_activity BIGINT NOT NULL,"                                                                       \
    "  email_address TEXT,"                                                                                  \
    "  email_name TEXT,"                                                                                     \
    "  date_created BIGINT NOT NULL,"                                                                        \
    "  date_updated BIGINT NOT NULL,"                                                                        \
    "  UNIQUE(service_sid, unique_name)) STRICT;"                                                            \
    "CREATE INDEX conversations_by_service ON conversations(service_sid, id);"

#endif
