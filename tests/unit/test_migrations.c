/* The one migration list (store/migrations.c): its versions, each engine's rewrite, the released
 * schemas it gives SQLite (schema_vN.sqlite.txt: v6 as the build before the list wrote it, v13 as the
 * build before the steps of versions 7-12 were written once, v14 the messages' index by conversation
 * id, v15 SQLite's change log by key; PostgreSQL's v15 is its v14) and PostgreSQL (schema_v13.pg.txt,
 * schema_v14.pg.txt, when PARLEY_TEST_PG names a cluster), and a
 * file or database of every older version brought up to the latest by the store's own migrate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>
#ifndef NO_STORE_PG
#include <libpq-fe.h>
#endif

#include "store_fixture.h"

#include "store/changes.h"
#include "store/migrations.h"
#include "store/store.h"

#define RELEASED 15          /* the last version whose schema is fixed in a golden file */
#define SCHEMA_MAX (1 << 17) /* the dump of one schema */
#define PATH_MAX_ 512
#define PG_TARGET_MAX 512

static void test_versions_contiguous(void **state)
{
    (void)state;
    assert_true(store_migrations_n > 0);
    assert_int_equal(store_migrations[0].version, 1);
    for (int i = 1; i < store_migrations_n; i++) {
        int d = store_migrations[i].version - store_migrations[i - 1].version;
        assert_true(d == 0 || d == 1);
    }
    assert_true(migration_latest() >= RELEASED);
}

static void test_rewrites(void **state)
{
    (void)state;
    for (int i = 0; i < store_migrations_n; i++) {
        char *sq = migration_text(&store_migrations[i], 0), *pg = migration_text(&store_migrations[i], 1);
        assert_non_null(sq);
        assert_non_null(pg);
        assert_null(strstr(sq, "BIGINT"));
        assert_null(strstr(pg, ") STRICT;"));
        assert_null(strstr(pg, "INTEGER PRIMARY KEY"));
        free(sq);
        free(pg);
    }
    char *users = migration_text(&store_migrations[0], 1);
    assert_non_null(strstr(users, "id BIGSERIAL PRIMARY KEY"));
    assert_non_null(strstr(users, "date_created BIGINT NOT NULL"));
    free(users);
}

/* The schema objects of db, one line each, in creation order. */
static void dump(sqlite3 *db, char *out)
{
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT type || ' ' || name || ': ' || sql FROM sqlite_schema"
                                        " WHERE name NOT LIKE 'sqlite_%' ORDER BY rowid",
                                        -1, &s, NULL),
                     SQLITE_OK);
    size_t n = 0;
    out[0] = '\0';
    while (sqlite3_step(s) == SQLITE_ROW) {
        int len = snprintf(out + n, SCHEMA_MAX - n, "%s\n", (const char *)sqlite3_column_text(s, 0));
        assert_true(len > 0 && (size_t)len < SCHEMA_MAX - n);
        n += (size_t)len;
    }
    sqlite3_finalize(s);
}

/* A new file at path with the steps of versions 1 to upto run as the SQLite engine runs them. */
static sqlite3 *build_at(const char *path, int upto)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    for (int i = 0; i < store_migrations_n && store_migrations[i].version <= upto; i++) {
        char *sql = migration_text(&store_migrations[i], 0), *err = NULL;
        if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) fail_msg("step %d: %s", i, err);
        free(sql);
    }
    char bump[64];
    snprintf(bump, sizeof(bump), "PRAGMA user_version=%d", upto);
    assert_int_equal(sqlite3_exec(db, bump, NULL, NULL, NULL), SQLITE_OK);
    return db;
}

/* Removes the SQLite file at path with its WAL and shared-memory files. */
static void remove_db(const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char side[PATH_MAX_ + 8];
        snprintf(side, sizeof(side), "%s%s", path, suffixes[i]);
        unlink(side);
    }
}

/* A new file at dir/name at version upto (build_at), into path (PATH_MAX_). */
static sqlite3 *fresh_at(char *dir, size_t dir_size, char *path, const char *name, int upto)
{
    assert_int_equal(fixture_tmpdir(dir, dir_size, "migrations"), 0);
    snprintf(path, PATH_MAX_, "%s/%s", dir, name);
    return build_at(path, upto);
}

/* The golden file name beside this source, into out (SCHEMA_MAX). */
static void read_golden(const char *name, char *out)
{
    char path[PATH_MAX_];
    const char *slash = strrchr(__FILE__, '/');
    snprintf(path, sizeof(path), "%.*s/%s", slash ? (int)(slash - __FILE__) : 1, slash ? __FILE__ : ".",
             name);
    FILE *f = fopen(path, "r");
    if (!f) fail_msg("cannot read %s", path);
    size_t n = fread(out, 1, SCHEMA_MAX - 1, f);
    assert_true(n < SCHEMA_MAX - 1);
    out[n] = '\0';
    fclose(f);
}

/* SQLite keeps each object's CREATE text as it was run: a released version's is its golden, byte for
 * byte. */
static void test_released_schema_unchanged(void **state)
{
    (void)state;
    static const struct {
        int version;
        const char *golden;
    } released[] = {{6, "schema_v6.sqlite.txt"},
                    {13, "schema_v13.sqlite.txt"},
                    {14, "schema_v14.sqlite.txt"},
                    {15, "schema_v15.sqlite.txt"}};
    char dir[256], path[PATH_MAX_];
    assert_int_equal(fixture_tmpdir(dir, sizeof(dir), "migrations"), 0);
    static char got[SCHEMA_MAX], want[SCHEMA_MAX];
    for (size_t i = 0; i < sizeof(released) / sizeof(released[0]); i++) {
        snprintf(path, sizeof(path), "%s/v%d.db", dir, released[i].version);
        sqlite3 *db = build_at(path, released[i].version);
        dump(db, got);
        sqlite3_close(db);
        read_golden(released[i].golden, want);
        assert_string_equal(got, want);
        unlink(path);
    }
    rmdir(dir);
}

/* A file left at each older version opens and is migrated to exactly the schema of a new file. */
static void test_every_version_upgrades(void **state)
{
    (void)state;
    char dir[256], path[PATH_MAX_];
    assert_int_equal(fixture_tmpdir(dir, sizeof(dir), "migrations"), 0);
    static char fresh[SCHEMA_MAX], got[SCHEMA_MAX];
    for (int from = 0; from < migration_latest(); from++) {
        snprintf(path, sizeof(path), "%s/v%d.db", dir, from);
        sqlite3_close(build_at(path, from));
        struct store_conn *c;
        assert_int_equal(store_sqlite_ops.open(path, 1, 0, &c), ST_OK);
        assert_int_equal(c->ops->migrate(c), ST_OK);
        c->ops->close(c);
        sqlite3 *db;
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        dump(db, from == 0 ? fresh : got);
        sqlite3_stmt *s;
        assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(s), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(s, 0), migration_latest());
        sqlite3_finalize(s);
        sqlite3_close(db);
        if (from > 0) assert_string_equal(got, fresh);
        remove_db(path);
    }
    rmdir(dir);
}

/* Rows of a version-13 database, written as that schema takes them: two conversations, three messages,
 * one delivery receipt. Version 14 rebuilds the messages table on SQLite. */
static const char v13_rows[] =
    "INSERT INTO accounts(sid, auth_token, default_service_sid, date_created) VALUES ('ACa', 't', 'ISa', 1);"
    "INSERT INTO services(sid, account_sid, friendly_name, date_created, date_updated)"
    " VALUES ('ISa', 'ACa', 's', 1, 1);"
    "INSERT INTO conversations(sid, account_sid, service_sid, attributes, state, last_activity, date_created,"
    " date_updated) VALUES ('CHb', 'ACa', 'ISa', '{}', 'active', 1, 1, 1), ('CHa', 'ACa', 'ISa', '{}',"
    " 'active', 1, 1, 1);"
    "INSERT INTO messages(sid, account_sid, service_sid, conversation_sid, idx, author, attributes,"
    " date_created, date_updated) VALUES ('IM1', 'ACa', 'ISa', 'CHa', 0, 'a', '{}', 1, 1),"
    " ('IM2', 'ACa', 'ISa', 'CHa', 1, 'a', '{}', 1, 1), ('IM3', 'ACa', 'ISa', 'CHb', 0, 'a', '{}', 1, 1);"
    "INSERT INTO delivery_receipts(sid, account_sid, service_sid, conversation_sid, message_sid,"
    " participant_sid, channel_message_sid, status, date_created)"
    " VALUES ('DY1', 'ACa', 'ISa', 'CHa', 'IM2', 'MB1', 'SM1', 'sent', 1);";
/* after the upgrade: every message with its conversation's id, the receipt kept */
static const char v14_linked[] = "SELECT (SELECT count(*) FROM messages m JOIN conversations c ON c.id ="
                                 " m.conversation_id AND c.sid = m.conversation_sid) * 10 +"
                                 " (SELECT count(*) FROM delivery_receipts)";
/* a conversation's delete takes its messages and their receipts with it */
static const char v14_delete[] = "DELETE FROM conversations WHERE sid = 'CHa'";
static const char v14_left[] =
    "SELECT (SELECT count(*) FROM messages) * 10 + (SELECT count(*) FROM delivery_receipts)";

static int sq_scalar(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int v = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return v;
}

/* Version 14 on a file with messages: nothing lost, nothing cascaded by the rebuild, and the foreign
 * key of the new column cascades a conversation's delete. */
static void test_v14_keeps_messages(void **state)
{
    (void)state;
    char dir[256], path[PATH_MAX_];
    sqlite3 *db = fresh_at(dir, sizeof(dir), path, "v13-rows.db", 13);
    assert_int_equal(sqlite3_exec(db, v13_rows, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    struct store_conn *c;
    assert_int_equal(store_sqlite_ops.open(path, 1, 0, &c), ST_OK);
    assert_int_equal(c->ops->migrate(c), ST_OK);
    c->ops->close(c);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sq_scalar(db, v14_linked), 31);
    assert_int_equal(sqlite3_exec(db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, v14_delete, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sq_scalar(db, v14_left), 10);
    sqlite3_close(db);
    remove_db(path);
    rmdir(dir);
}

/* One record as "seq resource sid service parent kind date;" ("-" for none; a date of now as "-"). */
static int append_change(void *ctx, const struct change *ch)
{
    char *out = ctx;
    size_t n = strlen(out);
    char date[24];
    if (ch->date_ms < 1000)
        snprintf(date, sizeof(date), "%lld", ch->date_ms);
    else
        snprintf(date, sizeof(date), "-");
    snprintf(out + n, 256 - n, "%lld %s %s %s %s %s %s;", ch->seq, ch->resource, ch->sid,
             ch->service_sid ? ch->service_sid : "-", ch->parent_sid ? ch->parent_sid : "-", ch->kind, date);
    return 0;
}

/* Version 15 on a file with change records of two accounts: SQLite's rowid table keeps every record with
 * its number, and numbering goes on from each account's newest. */
static void test_v15_keeps_changes(void **state)
{
    (void)state;
    char dir[256], path[PATH_MAX_];
    sqlite3 *db = fresh_at(dir, sizeof(dir), path, "v14-changes.db", 14);
    assert_int_equal(
        sqlite3_exec(db,
                     "INSERT INTO changes(account_sid, seq, service_sid, resource, sid, parent_sid,"
                     " kind, date_ms) VALUES ('ACb', 7, 'ISb', 'user', 'US1', NULL, 'created', 5),"
                     " ('ACa', 1, NULL, 'role', 'RL1', NULL, 'created', 6),"
                     " ('ACa', 2, 'ISa', 'user', 'US2', 'IS2', 'deleted', 7)",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    struct store_conn *c;
    assert_int_equal(store_sqlite_ops.open(path, 1, 0, &c), ST_OK);
    assert_int_equal(c->ops->migrate(c), ST_OK);
    assert_int_equal(c->ops->tx_begin(c), ST_OK);
    assert_int_equal(store_change_record(c, "ACa", NULL, "user", "US3", NULL, "updated"), ST_OK);
    assert_int_equal(store_change_record(c, "ACc", NULL, "user", "US4", NULL, "created"), ST_OK);
    assert_int_equal(c->ops->tx_commit(c), ST_OK);
    char got[256] = "";
    assert_int_equal(store_change_list(c, "ACa", 0, 10, append_change, got), ST_OK);
    assert_string_equal(got,
                        "1 role RL1 - - created 6;2 user US2 ISa IS2 deleted 7;3 user US3 - - updated -;");
    got[0] = '\0';
    assert_int_equal(store_change_list(c, "ACb", 6, 10, append_change, got), ST_OK);
    assert_string_equal(got, "7 user US1 ISb - created 5;");
    got[0] = '\0';
    assert_int_equal(store_change_list(c, "ACc", 0, 10, append_change, got), ST_OK);
    assert_string_equal(got, "1 user US4 - - created -;");
    c->ops->close(c);
    remove_db(path);
    rmdir(dir);
}

#ifndef NO_STORE_PG
/* PostgreSQL's schema, one line an object: the columns with their types, nullability and defaults, the
 * constraints, indexes, triggers and functions (whitespace runs as one space), in a fixed order. */
static const char pg_schema_sql[] =
    "SELECT line FROM ("
    "  SELECT 1 AS k, table_name::text AS a, lpad(ordinal_position::text, 4, '0') AS b,"
    "         'column ' || table_name || '.' || column_name || ': ' || data_type"
    "         || CASE WHEN is_nullable = 'NO' THEN ' NOT NULL' ELSE '' END"
    "         || COALESCE(' DEFAULT ' || column_default, '') AS line"
    "    FROM information_schema.columns WHERE table_schema = 'public'"
    "  UNION ALL"
    "  SELECT 2, conrelid::regclass::text, conname::text,"
    "         'constraint ' || conrelid::regclass::text || '.' || conname || ': ' || "
    "pg_get_constraintdef(oid)"
    "    FROM pg_constraint WHERE connamespace = 'public'::regnamespace"
    "  UNION ALL"
    "  SELECT 3, tablename::text, indexname::text, 'index ' || indexname || ': ' || indexdef"
    "    FROM pg_indexes WHERE schemaname = 'public'"
    "  UNION ALL"
    "  SELECT 4, t.tgrelid::regclass::text, t.tgname::text,"
    "         'trigger ' || t.tgname || ': ' || pg_get_triggerdef(t.oid)"
    "    FROM pg_trigger t JOIN pg_class r ON r.oid = t.tgrelid"
    "   WHERE r.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal"
    "  UNION ALL"
    "  SELECT 5, p.proname::text, '', 'function ' || p.proname || ': '"
    "         || regexp_replace(pg_get_functiondef(p.oid), '\\s+', ' ', 'g')"
    "    FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace"
    ") x ORDER BY k, a COLLATE \"C\", b COLLATE \"C\"";

struct pg_db {
    char name[64];
    char url[PG_TARGET_MAX];
};

/* A new database on PARLEY_TEST_PG, for the step from of a test; skips the test without the variable. */
static void pg_create(struct pg_db *d, int from)
{
    const char *base = getenv("PARLEY_TEST_PG");
    if (!base || !*base) skip();
    snprintf(d->name, sizeof(d->name), "parley_migrations_%ld_%d", (long)getpid(), from);
    char sql[128];
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", d->name);
    assert_int_equal(fixture_pg_admin(base, sql), 0);
    assert_int_equal(fixture_pg_url_for(base, d->name, d->url, sizeof(d->url)), 0);
}

static void pg_drop(struct pg_db *d)
{
    char sql[160];
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", d->name);
    fixture_pg_admin(getenv("PARLEY_TEST_PG"), sql);
}

static void pg_exec(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) fail_msg("%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
}

/* d with the steps of versions 1 to upto run as the PostgreSQL engine runs them, and its version. */
static void pg_build_at(struct pg_db *d, int upto)
{
    PGconn *c = PQconnectdb(d->url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    for (int i = 0; i < store_migrations_n && store_migrations[i].version <= upto; i++) {
        char *sql = migration_text(&store_migrations[i], 1);
        assert_non_null(sql);
        if (sql[0]) pg_exec(c, sql);
        free(sql);
    }
    if (upto > 0) {
        char bump[128];
        snprintf(bump, sizeof(bump),
                 "CREATE TABLE schema_version(version integer NOT NULL);"
                 "INSERT INTO schema_version VALUES (%d)",
                 upto);
        pg_exec(c, bump);
    }
    PQfinish(c);
}

/* d's schema (pg_schema_sql) into out, and its recorded version into *version. */
static void pg_dump(struct pg_db *d, char *out, int *version)
{
    PGconn *c = PQconnectdb(d->url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, pg_schema_sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) fail_msg("the schema dump: %s", PQerrorMessage(c));
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0; i < PQntuples(r); i++) {
        int len = snprintf(out + n, SCHEMA_MAX - n, "%s\n", PQgetvalue(r, i, 0));
        assert_true(len > 0 && (size_t)len < SCHEMA_MAX - n);
        n += (size_t)len;
    }
    PQclear(r);
    r = PQexec(c, "SELECT version FROM schema_version");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_int_equal(PQntuples(r), 1);
    *version = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    PQfinish(c);
}
#endif

#ifndef NO_STORE_PG
static int pg_scalar(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) fail_msg("%s: %s", sql, PQerrorMessage(c));
    int v = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}
#endif

/* test_v14_keeps_messages on PostgreSQL, which alters the table in place. */
static void test_v14_keeps_messages_pg(void **state)
{
    (void)state;
#ifdef NO_STORE_PG
    skip();
#else
    struct pg_db d;
    pg_create(&d, 1013);
    pg_build_at(&d, 13);
    PGconn *pc = PQconnectdb(d.url);
    assert_int_equal(PQstatus(pc), CONNECTION_OK);
    pg_exec(pc, v13_rows);
    struct store_conn *c;
    assert_int_equal(store_pg_ops.open(d.url, 1, 0, &c), ST_OK);
    assert_int_equal(c->ops->migrate(c), ST_OK);
    c->ops->close(c);
    assert_int_equal(pg_scalar(pc, v14_linked), 31);
    pg_exec(pc, v14_delete);
    assert_int_equal(pg_scalar(pc, v14_left), 10);
    PQfinish(pc);
    pg_drop(&d);
#endif
}

/* PostgreSQL keeps no CREATE text: its catalog's account of the released schema is the golden. */
static void test_released_schema_unchanged_pg(void **state)
{
    (void)state;
#ifdef NO_STORE_PG
    skip();
#else
    static char got[SCHEMA_MAX], want[SCHEMA_MAX];
    static const struct {
        int version;
        const char *golden;
    } released[] = {{13, "schema_v13.pg.txt"}, {14, "schema_v14.pg.txt"}, {15, "schema_v14.pg.txt"}};
    for (size_t i = 0; i < sizeof(released) / sizeof(released[0]); i++) {
        struct pg_db d;
        int version;
        pg_create(&d, released[i].version);
        pg_build_at(&d, released[i].version);
        pg_dump(&d, got, &version);
        pg_drop(&d);
        assert_int_equal(version, released[i].version);
        read_golden(released[i].golden, want);
        assert_string_equal(got, want);
    }
#endif
}

/* A database left at each older version is migrated to exactly the schema of a new one. */
static void test_every_version_upgrades_pg(void **state)
{
    (void)state;
#ifdef NO_STORE_PG
    skip();
#else
    static char fresh[SCHEMA_MAX], got[SCHEMA_MAX];
    for (int from = 0; from < migration_latest(); from++) {
        struct pg_db d;
        int version;
        pg_create(&d, from);
        pg_build_at(&d, from);
        struct store_conn *c;
        assert_int_equal(store_pg_ops.open(d.url, 1, 0, &c), ST_OK);
        assert_int_equal(c->ops->migrate(c), ST_OK);
        c->ops->close(c);
        pg_dump(&d, from == 0 ? fresh : got, &version);
        pg_drop(&d);
        assert_int_equal(version, migration_latest());
        if (from > 0) assert_string_equal(got, fresh);
    }
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_versions_contiguous),
        cmocka_unit_test(test_rewrites),
        cmocka_unit_test(test_released_schema_unchanged),
        cmocka_unit_test(test_every_version_upgrades),
        cmocka_unit_test(test_released_schema_unchanged_pg),
        cmocka_unit_test(test_every_version_upgrades_pg),
        cmocka_unit_test(test_v14_keeps_messages),
        cmocka_unit_test(test_v14_keeps_messages_pg),
        cmocka_unit_test(test_v15_keeps_changes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
