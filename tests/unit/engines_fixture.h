/* A fresh store on each engine for the unit tests of the store's modules (timers, change log): a SQLite
 * file in a new temporary directory and, when PARLEY_TEST_PG names a PostgreSQL cluster, a new database
 * there (the group is skipped otherwise). Two writer connections (for tests of two servers claiming at
 * once) and a reader. Include after <cmocka.h>; the test defines what it keeps in struct engine's user. */
#ifndef PARLEY_TEST_ENGINES_FIXTURE_H
#define PARLEY_TEST_ENGINES_FIXTURE_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/conversations.h"
#include "store/messages.h"
#include "store_fixture.h"
#include "util/sid.h"

#define ENGINE_TARGET_MAX 512

struct engine {
    const char *name;
    const struct store_ops *ops;
    char target[ENGINE_TARGET_MAX];
    char dbname[64]; /* PostgreSQL: the database created for this run */
    char dir[256];   /* SQLite: the scratch folder */
    int skip;
    struct store_conn *w, *w2; /* two writers: two servers on one database */
    struct store_conn *r;      /* a reader */
    struct account acct;       /* the seeded account and its default service */
    struct service_config cfg;
};

/* A test's engine (its group's state); the test is skipped when the group's engine is not there. */
static inline struct engine *engine(void **state)
{
    struct engine *e = *state;
    if (e->skip) skip();
    return e;
}

/* An active conversation and a message of e's account and default service, made at the time at, as the
 * store tests write them (the caller inserts them). */
static inline void engine_conversation(const struct engine *e, struct conversation *cv, long long at)
{
    memset(cv, 0, sizeof(*cv));
    sid_new(cv->sid, "CH");
    memcpy(cv->account_sid, e->acct.sid, sizeof(cv->account_sid));
    memcpy(cv->service_sid, e->acct.default_service_sid, sizeof(cv->service_sid));
    cv->attributes = "{}";
    cv->state = CONV_ACTIVE;
    cv->last_activity = cv->date_created = cv->date_updated = at;
}

static inline void engine_message(const struct engine *e, const char *ch, struct message *m, long long at)
{
    memset(m, 0, sizeof(*m));
    sid_new(m->sid, "IM");
    memcpy(m->account_sid, e->acct.sid, sizeof(m->account_sid));
    memcpy(m->service_sid, e->acct.default_service_sid, sizeof(m->service_sid));
    memcpy(m->conversation_sid, ch, SID_LEN + 1);
    m->author = "system";
    m->body = "hi";
    m->attributes = "{}";
    m->source = "API";
    m->date_created = m->date_updated = at;
}

/* m's index as the server's create takes it, in c's transaction: with the author's participant
 * (store_message_author_index, which api/messages.c calls); 0 or a store_result. */
static inline int engine_message_index(struct store_conn *c, struct message *m)
{
    char author[SID_LEN + 1];
    int group;
    struct arena a;
    arena_init(&a);
    struct conversation cv;
    int rc = store_message_author_index(c, m, author, &group, &a, &cv);
    arena_free(&a);
    return rc;
}

/* Opens the connections, migrates and seeds the account (committed). */
static inline int engine_open(struct engine *e)
{
    if (e->ops->open(e->target, 1, 0, &e->w) != ST_OK || e->w->ops->migrate(e->w) != ST_OK) return -1;
    if (e->ops->open(e->target, 1, 0, &e->w2) != ST_OK) return -1;
    if (e->ops->open(e->target, 0, 0, &e->r) != ST_OK) return -1;
    fixture_account(e->w, &e->acct, &e->cfg);
    return e->w->ops->tx_commit(e->w) == ST_OK ? 0 : -1;
}

static inline int engine_setup_sqlite(struct engine *e, const char *name)
{
    e->ops = &store_sqlite_ops;
    if (fixture_tmpdir(e->dir, sizeof(e->dir), name) != 0) return -1;
    int n = snprintf(e->target, sizeof(e->target), "%s/store.db", e->dir);
    if (n < 0 || (size_t)n >= sizeof(e->target)) return -1;
    return engine_open(e);
}

static inline int engine_setup_pg(struct engine *e, const char *name)
{
    e->ops = &store_pg_ops;
    const char *base = getenv("PARLEY_TEST_PG");
#ifdef NO_STORE_PG
    base = NULL;
#endif
    if (!base || !*base) {
        e->skip = 1;
        return 0;
    }
#ifndef NO_STORE_PG
    snprintf(e->dbname, sizeof(e->dbname), "parley_%s_%ld", name, (long)getpid());
    char sql[128];
    snprintf(sql, sizeof(sql), "CREATE DATABASE %.63s", e->dbname);
    if (fixture_pg_admin(base, sql) != 0 ||
        fixture_pg_url_for(base, e->dbname, e->target, sizeof(e->target)) != 0)
        return -1;
#endif
    return engine_open(e);
}

/* A test file's two engines (sqlite_engine, pg_engine) and its groups' set-up and tear-down (setup_sqlite,
 * setup_pg, teardown, for cmocka_run_group_tests_name); label names its scratch folder and database. */
#define ENGINE_GROUPS(label)                                                                                 \
    static struct engine sqlite_engine = {.name = "sqlite"}, pg_engine = {.name = "postgres"};               \
    static int setup_sqlite(void **state)                                                                    \
    {                                                                                                        \
        *state = &sqlite_engine;                                                                             \
        return engine_setup_sqlite(&sqlite_engine, label);                                                   \
    }                                                                                                        \
    static int setup_pg(void **state)                                                                        \
    {                                                                                                        \
        *state = &pg_engine;                                                                                 \
        return engine_setup_pg(&pg_engine, label);                                                           \
    }                                                                                                        \
    static int teardown(void **state)                                                                        \
    {                                                                                                        \
        engine_teardown(*state);                                                                             \
        return 0;                                                                                            \
    }

static inline void engine_teardown(struct engine *e)
{
    struct store_conn *const conns[] = {e->r, e->w2, e->w};
    for (int i = 0; i < 3; i++)
        if (conns[i]) conns[i]->ops->close(conns[i]);
    e->r = e->w = e->w2 = NULL;
    if (e->dir[0]) {
        char path[ENGINE_TARGET_MAX + 8];
        const char *suffix[] = {"", "-wal", "-shm"};
        for (int i = 0; i < 3; i++) {
            int n = snprintf(path, sizeof(path), "%s%s", e->target, suffix[i]);
            if (n > 0 && (size_t)n < sizeof(path)) unlink(path);
        }
        rmdir(e->dir);
        e->dir[0] = '\0';
    }
#ifndef NO_STORE_PG
    if (e->dbname[0]) {
        char sql[160];
        snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %.63s WITH (FORCE)", e->dbname);
        fixture_pg_admin(getenv("PARLEY_TEST_PG"), sql);
        e->dbname[0] = '\0';
    }
#endif
}

#endif
