/* The one migration list (store/migrations.c): its versions, each engine's rewrite, the released
 * schema it gives SQLite (schema_v6.sqlite.txt, as the build before the list wrote it), and a file of
 * every older version brought up to the latest by the store's own migrate. */
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

#include "store_fixture.h"

#include "store/migrations.h"
#include "store/store.h"

#define RELEASED 6           /* the last version whose schema is fixed in schema_v6.sqlite.txt */
#define SCHEMA_MAX (1 << 16) /* the dump of one schema */
#define PATH_MAX_ 512

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

static void test_released_schema_unchanged(void **state)
{
    (void)state;
    char dir[256], path[PATH_MAX_], golden_path[PATH_MAX_];
    assert_int_equal(fixture_tmpdir(dir, sizeof(dir), "migrations"), 0);
    snprintf(path, sizeof(path), "%s/v6.db", dir);
    static char got[SCHEMA_MAX], want[SCHEMA_MAX];
    sqlite3 *db = build_at(path, RELEASED);
    dump(db, got);
    sqlite3_close(db);
    /* the golden file sits beside this source */
    const char *slash = strrchr(__FILE__, '/');
    snprintf(golden_path, sizeof(golden_path), "%.*s/schema_v6.sqlite.txt",
             slash ? (int)(slash - __FILE__) : 1, slash ? __FILE__ : ".");
    FILE *f = fopen(golden_path, "r");
    assert_non_null(f);
    size_t n = fread(want, 1, sizeof(want) - 1, f);
    want[n] = '\0';
    fclose(f);
    assert_string_equal(got, want);
    unlink(path);
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
        char side[PATH_MAX_ + 8];
        static const char *const suffixes[] = {"", "-wal", "-shm"};
        for (size_t i = 0; i < 3; i++) {
            snprintf(side, sizeof(side), "%s%s", path, suffixes[i]);
            unlink(side);
        }
    }
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_versions_contiguous),
        cmocka_unit_test(test_rewrites),
        cmocka_unit_test(test_released_schema_unchanged),
        cmocka_unit_test(test_every_version_upgrades),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
