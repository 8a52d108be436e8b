/* store/sqlite.c: the WAL stays bounded under a steady stream of commits (background checkpoints must
 * actually run, and a writer that never pauses must still let the WAL restart). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "store_fixture.h"

#include "api/api.h"
#include "store/domain.h"
#include "store/rows.h"
#include "store/store.h"
#include "util/sid.h"

#define WRITES 100000
#define PER_TX 100
#define USERS 1000
/* Twice the journal_size_limit the store sets: the WAL restarts only after a checkpoint has copied all of
 * it, and the writer goes on appending while a background checkpoint syncs the data file, so on a busy
 * machine it runs past the limit by what was written meanwhile (86 MB seen once under a parallel build).
 * Without working checkpoints it reaches about 400 MB. */
#define WAL_LIMIT (128LL << 20)

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

static void test_wal_bounded(void **state)
{
    (void)state;
    char dir[512];
    assert_int_equal(fixture_tmpdir(dir, sizeof(dir), "wal"), 0);
    char db[600], wal[640];
    snprintf(db, sizeof(db), "%s/t.db", dir);
    snprintf(wal, sizeof(wal), "%s-wal", db);

    struct store_conn *c = NULL;
    assert_int_equal(store_sqlite_ops.open(db, 1, 0, &c), ST_OK);
    assert_int_equal(c->ops->migrate(c), ST_OK);

    struct account a;
    struct service_config cfg;
    fixture_account(c, &a, &cfg);
    assert_int_equal(c->ops->tx_commit(c), ST_OK);

    /* 1,000 users of ~600 bytes, then 100,000 updates of random ones, 100 per commit: without working
     * checkpoints every commit appends ~100 pages and the WAL grows to hundreds of MB */
    char attrs[512];
    memset(attrs, 'x', sizeof(attrs) - 1);
    attrs[sizeof(attrs) - 1] = '\0';
    static struct user users[USERS];
    static char identities[USERS][16];
    assert_int_equal(c->ops->tx_begin(c), ST_OK);
    for (int i = 0; i < USERS; i++) {
        struct user *u = &users[i];
        sid_new(u->sid, "US");
        memcpy(u->account_sid, a.sid, sizeof(u->account_sid));
        memcpy(u->service_sid, a.default_service_sid, sizeof(u->service_sid));
        memcpy(u->role_sid, cfg.chat_service_role_sid, sizeof(u->role_sid));
        snprintf(identities[i], sizeof(identities[i]), "user-%d", i);
        u->identity = identities[i];
        u->attributes = attrs;
        u->date_created = u->date_updated = 1;
        assert_int_equal(rows_insert(c, &store_users_table, u), ST_OK);
    }
    assert_int_equal(c->ops->tx_commit(c), ST_OK);
    long long max_wal = 0;
    srand(1);
    for (int n = 0; n < WRITES;) {
        assert_int_equal(c->ops->tx_begin(c), ST_OK);
        for (int i = 0; i < PER_TX; i++, n++) {
            struct user *u = &users[rand() % USERS];
            u->date_updated = n;
            assert_int_equal(rows_update(c, &store_users_table, u, NULL), ST_OK);
        }
        assert_int_equal(c->ops->tx_commit(c), ST_OK);
        long long w = file_size(wal);
        if (w > max_wal) max_wal = w;
    }
    printf("# %d writes: largest WAL %lld bytes, data file %lld bytes\n", WRITES, max_wal, file_size(db));
    assert_true(max_wal > 0);
    assert_true(max_wal <= WAL_LIMIT);
    c->ops->close(c);
    char extra[640];
    unlink(db);
    unlink(wal);
    snprintf(extra, sizeof(extra), "%s-shm", db);
    unlink(extra);
    snprintf(extra, sizeof(extra), "%s.key", db);
    unlink(extra);
    snprintf(extra, sizeof(extra), "%s.lock", db);
    unlink(extra);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wal_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
