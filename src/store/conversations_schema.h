/* The conversations table, one migration per engine (store/sqlite.c and store/pg.c list them). The rows
 * of a conversation (participants, messages, receipts, scoped webhooks) reference it with ON DELETE
 * CASCADE, so that deleting the row is the whole cascade in one transaction. */
#ifndef PARLEY_CONVERSATIONS_SCHEMA_H
#define PARLEY_CONVERSATIONS_SCHEMA_H

/* Timer durations are milliseconds, 0 for none; date_inactive / date_closed are a pending timer's due
 * time or the time the state changed, 0 for none; last_activity is what the timers count from. Unique
 * names are unique per service (NULLs are not compared). A trigger refuses rows of a deleted service. */
#define SQLITE_CONVERSATIONS_MIGRATION                                                                       \
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
    "  timer_inactive INTEGER NOT NULL DEFAULT 0,"                                                           \
    "  timer_closed INTEGER NOT NULL DEFAULT 0,"                                                             \
    "  date_inactive INTEGER NOT NULL DEFAULT 0,"                                                            \
    "  date_closed INTEGER NOT NULL DEFAULT 0,"                                                              \
    "  last_activity INTEGER NOT NULL,"                                                                      \
    "  email_address TEXT,"                                                                                  \
    "  email_name TEXT,"                                                                                     \
    "  date_created INTEGER NOT NULL,"                                                                       \
    "  date_updated INTEGER NOT NULL,"                                                                       \
    "  UNIQUE(service_sid, unique_name)) STRICT;"                                                            \
    "CREATE INDEX conversations_by_service ON conversations(service_sid, id);"                               \
    "CREATE TRIGGER conversations_live_service_i BEFORE INSERT ON conversations"                             \
    "  WHEN (SELECT deleted_at FROM services WHERE sid = NEW.service_sid) IS NOT NULL"                       \
    "  BEGIN SELECT RAISE(ABORT, 'the service is deleted'); END;"                                            \
    "CREATE TRIGGER conversations_live_service_u BEFORE UPDATE ON conversations"                             \
    "  WHEN (SELECT deleted_at FROM services WHERE sid = NEW.service_sid) IS NOT NULL"                       \
    "  BEGIN SELECT RAISE(ABORT, 'the service is deleted'); END;"

#define PG_CONVERSATIONS_MIGRATION                                                                           \
    "CREATE TABLE conversations("                                                                            \
    "  id bigserial PRIMARY KEY,"                                                                            \
    "  sid text NOT NULL UNIQUE,"                                                                            \
    "  account_sid text NOT NULL,"                                                                           \
    "  service_sid text NOT NULL REFERENCES services(sid) ON DELETE CASCADE,"                                \
    "  messaging_service_sid text,"                                                                          \
    "  friendly_name text,"                                                                                  \
    "  unique_name text,"                                                                                    \
    "  attributes text NOT NULL,"                                                                            \
    "  state text NOT NULL,"                                                                                 \
    "  timer_inactive bigint NOT NULL DEFAULT 0,"                                                            \
    "  timer_closed bigint NOT NULL DEFAULT 0,"                                                              \
    "  date_inactive bigint NOT NULL DEFAULT 0,"                                                             \
    "  date_closed bigint NOT NULL DEFAULT 0,"                                                               \
    "  last_activity bigint NOT NULL,"                                                                       \
    "  email_address text,"                                                                                  \
    "  email_name text,"                                                                                     \
    "  date_created bigint NOT NULL,"                                                                        \
    "  date_updated bigint NOT NULL,"                                                                        \
    "  UNIQUE(service_sid, unique_name));"                                                                   \
    "CREATE INDEX conversations_by_service ON conversations(service_sid, id);"                               \
    "CREATE TRIGGER conversations_live_service BEFORE INSERT OR UPDATE ON conversations"                     \
    "  FOR EACH ROW EXECUTE FUNCTION parley_live_service();"

#endif
