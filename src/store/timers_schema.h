/* The schema of the durable timer schedule (store/timers.h) and the change log (store/changes.h): one
 * migration version, one macro per engine, each appended as one line to its engine's migration list.
 *
 * timers: one pending timer per (kind, target_sid). due_ms is when it is due (what fire is told);
 * next_ms when it is next tried: due_ms, later after a fire that failed (attempts counts those).
 * changes: the ordered change log; seq comes from the account's row in change_seqs, which a recording
 * transaction updates and so holds until it commits (strictly increasing per account in commit order). */
#ifndef PARLEY_TIMERS_SCHEMA_H
#define PARLEY_TIMERS_SCHEMA_H

#define SQLITE_TIMERS_CHANGES_MIGRATION                                                                      \
    "CREATE TABLE timers("                                                                                   \
    "  kind TEXT NOT NULL,"                                                                                  \
    "  target_sid TEXT NOT NULL,"                                                                            \
    "  account_sid TEXT NOT NULL REFERENCES accounts(sid) ON DELETE CASCADE,"                                \
    "  due_ms INTEGER NOT NULL,"                                                                             \
    "  next_ms INTEGER NOT NULL,"                                                                            \
    "  attempts INTEGER NOT NULL DEFAULT 0,"                                                                 \
    "  PRIMARY KEY(kind, target_sid)) STRICT, WITHOUT ROWID;"                                                \
    "CREATE INDEX timers_by_next ON timers(next_ms);"                                                        \
    "CREATE TABLE change_seqs("                                                                              \
    "  account_sid TEXT PRIMARY KEY REFERENCES accounts(sid) ON DELETE CASCADE,"                             \
    "  last_seq INTEGER NOT NULL) STRICT;"                                                                   \
    "CREATE TABLE changes("                                                                                  \
    "  account_sid TEXT NOT NULL,"                                                                           \
    "  seq INTEGER NOT NULL,"                                                                                \
    "  service_sid TEXT,"                                                                                    \
    "  resource TEXT NOT NULL,"                                                                              \
    "  sid TEXT NOT NULL,"                                                                                   \
    "  parent_sid TEXT,"                                                                                     \
    "  kind TEXT NOT NULL,"                                                                                  \
    "  date_ms INTEGER NOT NULL,"                                                                            \
    "  PRIMARY KEY(account_sid, seq)) STRICT, WITHOUT ROWID;"                                                \
    "CREATE INDEX changes_by_date ON changes(date_ms);"

#define PG_TIMERS_CHANGES_MIGRATION                                                                          \
    "CREATE TABLE timers("                                                                                   \
    "  kind text NOT NULL,"                                                                                  \
    "  target_sid text NOT NULL,"                                                                            \
    "  account_sid text NOT NULL REFERENCES accounts(sid) ON DELETE CASCADE,"                                \
    "  due_ms bigint NOT NULL,"                                                                              \
    "  next_ms bigint NOT NULL,"                                                                             \
    "  attempts integer NOT NULL DEFAULT 0,"                                                                 \
    "  PRIMARY KEY(kind, target_sid));"                                                                      \
    "CREATE INDEX timers_by_next ON timers(next_ms);"                                                        \
    "CREATE TABLE change_seqs("                                                                              \
    "  account_sid text PRIMARY KEY REFERENCES accounts(sid) ON DELETE CASCADE,"                             \
    "  last_seq bigint NOT NULL);"                                                                           \
    "CREATE TABLE changes("                                                                                  \
    "  account_sid text NOT NULL,"                                                                           \
    "  seq bigint NOT NULL,"                                                                                 \
    "  service_sid text,"                                                                                    \
    "  resource text NOT NULL,"                                                                              \
    "  sid text NOT NULL,"                                                                                   \
    "  parent_sid text,"                                                                                     \
    "  kind text NOT NULL,"                                                                                  \
    "  date_ms bigint NOT NULL,"                                                                             \
    "  PRIMARY KEY(account_sid, seq));"                                                                      \
    "CREATE INDEX changes_by_date ON changes(date_ms);"

#endif
