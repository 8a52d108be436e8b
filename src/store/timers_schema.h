/* The schema of the durable timer schedule (store/timers.h) and the change log (store/changes.h): one
 * migration version (7), written once for both engines (store/migrations.c); change_seqs is PostgreSQL's
 * alone.
 *
 * timers: one pending timer per (kind, target_sid). due_ms is when it is due (what fire is told);
 * next_ms when it is next tried: due_ms, later after a fire that failed (attempts counts those).
 * changes: the ordered change log, numbered per account (store/changes.c): on PostgreSQL from the
 * account's row in change_seqs, which a recording transaction updates and so holds until it commits;
 * on SQLite, whose one writer orders everything, from the account's newest record. */
#ifndef PARLEY_TIMERS_SCHEMA_H
#define PARLEY_TIMERS_SCHEMA_H

#define TIMERS_MIGRATION                                                                                     \
    "CREATE TABLE timers("                                                                                   \
    "  kind TEXT NOT NULL,"                                                                                  \
    "  target_sid TEXT NOT NULL,"                                                                            \
    "  account_sid TEXT NOT NULL REFERENCES accounts(sid) ON DELETE CASCADE,"                                \
    "  due_ms BIGINT NOT NULL,"                                                                              \
    "  next_ms BIGINT NOT NULL,"                                                                             \
    "  attempts INTEGER NOT NULL DEFAULT 0,"                                                                 \
    "  PRIMARY KEY(kind, target_sid)) STRICT, WITHOUT ROWID;"                                                \
    "CREATE INDEX timers_by_next ON timers(next_ms);"

#define PG_CHANGE_SEQS_MIGRATION                                                                             \
    "CREATE TABLE change_seqs("                                                                              \
    "  account_sid TEXT PRIMARY KEY REFERENCES accounts(sid) ON DELETE CASCADE,"                             \
    "  last_seq BIGINT NOT NULL);"

#define CHANGES_MIGRATION                                                                                    \
    "CREATE TABLE changes("                                                                                  \
    "  account_sid TEXT NOT NULL,"                                                                           \
    "  seq BIGINT NOT NULL,"                                                                                 \
    "  service_sid TEXT,"                                                                                    \
    "  resource TEXT NOT NULL,"                                                                              \
    "  sid TEXT NOT NULL,"                                                                                   \
    "  parent_sid TEXT,"                                                                                     \
    "  kind TEXT NOT NULL,"                                                                                  \
    "  date_ms BIGINT NOT NULL,"                                                                             \
    "  PRIMARY KEY(account_sid, seq)) STRICT, WITHOUT ROWID;"                                                \
    "CREATE INDEX changes_by_date ON changes(date_ms);"

/* 15, SQLite only: the change log becomes a rowid table keyed by (the account's number << 40) | seq, the
 * number from change_accounts (store/changes.c), so that appending a record is SQLite's quick balance at
 * the table's right edge rather than an index b-tree's redistribution of three pages; the records and
 * their numbers are kept. PostgreSQL's table stays as it was. */
/* clang-format off */
#define CHANGES_V15_SQLITE                                                                                   \
    "CREATE TABLE change_accounts("                                                                          \
    "  num INTEGER PRIMARY KEY,"                                                                             \
    "  account_sid TEXT NOT NULL UNIQUE) STRICT;"                                                            \
    "INSERT INTO change_accounts(account_sid) SELECT DISTINCT account_sid FROM changes ORDER BY account_sid;" \
    "CREATE TABLE changes_v15("                                                                              \
    "  key INTEGER PRIMARY KEY,"                                                                             \
    "  service_sid TEXT,"                                                                                    \
    "  resource TEXT NOT NULL,"                                                                              \
    "  sid TEXT NOT NULL,"                                                                                   \
    "  parent_sid TEXT,"                                                                                     \
    "  kind TEXT NOT NULL,"                                                                                  \
    "  date_ms INTEGER NOT NULL) STRICT;"                                                                    \
    "INSERT INTO changes_v15 SELECT (a.num << 40) | c.seq, c.service_sid, c.resource, c.sid, c.parent_sid,"  \
    "  c.kind, c.date_ms FROM changes c JOIN change_accounts a ON a.account_sid = c.account_sid;"           \
    "DROP TABLE changes;"                                                                                    \
    "ALTER TABLE changes_v15 RENAME TO changes;"
/* clang-format on */

#endif
