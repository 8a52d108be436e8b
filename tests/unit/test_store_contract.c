/* The store's contract, the same cases on every engine: through the calls the server makes (the store's
 * functions, and the row codec over a family's table where the API goes through it), on a fresh SQLite file
 * and, when PARLEY_TEST_PG names a PostgreSQL cluster, on a fresh database there (skipped otherwise).
 * Accounts, services with their configuration, roles and users: create, get, update, delete, keyset pages in
 * both directions, uniqueness, scoping to the parent, and a service delete (marked at once, its rows reaped
 * in bounded steps). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store_fixture.h"

#ifndef NO_STORE_PG
#include <libpq-fe.h>
#endif

#include "store/account_store.h"
#include "store/domain.h"
#include "store/rows.h"
#include "store/store.h"
#include "store/webhook_store.h"
#include "util/arena.h"
#include "util/sid.h"

#define TARGET_MAX 512
#define NUSERS 5          /* users of the first service, listed and paged */
#define MAX_ROWS 16       /* rows one listing collects */
#define REAP_CALLS_MAX 20 /* service_reap calls that must empty one small deleted service */

struct engine {
    const char *name;
    const struct store_ops *ops;
    char target[TARGET_MAX];
    char dbname[64]; /* PostgreSQL: the database created for this run */
    char dir[256];   /* SQLite: the scratch folder */
    int skip;
    struct store_conn *w; /* the writer's connection */
    struct store_conn *r; /* a reader */
    struct arena a;
    /* what the cases share, in order */
    char account[SID_LEN + 1];
    char service[2][SID_LEN + 1];
    char role[2][SID_LEN + 1]; /* a service role of each service */
    char user[NUSERS][SID_LEN + 1];
    long long user_id[NUSERS];
};

static struct engine sqlite_engine = {.name = "sqlite"};
static struct engine pg_engine = {.name = "postgres"};

/* ---- set-up ------------------------------------------------------------------------------------ */

static int open_engine(struct engine *e)
{
    arena_init(&e->a);
    if (e->ops->open(e->target, 1, 0, &e->w) != ST_OK) return -1;
    if (e->w->ops->migrate(e->w) != ST_OK) return -1;
    return e->ops->open(e->target, 0, 0, &e->r) == ST_OK ? 0 : -1;
}

static int setup_sqlite(void **state)
{
    struct engine *e = &sqlite_engine;
    e->ops = &store_sqlite_ops;
    if (fixture_tmpdir(e->dir, sizeof(e->dir), "store-contract") != 0) return -1;
    int n = snprintf(e->target, sizeof(e->target), "%s/store.db", e->dir);
    if (n < 0 || (size_t)n >= sizeof(e->target)) return -1;
    *state = e;
    return open_engine(e);
}

static int setup_pg(void **state)
{
    struct engine *e = &pg_engine;
    e->ops = &store_pg_ops;
    *state = e;
    const char *base = getenv("PARLEY_TEST_PG");
#ifdef NO_STORE_PG
    base = NULL;
#endif
    if (!base || !*base) {
        e->skip = 1;
        return 0;
    }
#ifndef NO_STORE_PG
    snprintf(e->dbname, sizeof(e->dbname), "parley_store_contract_%ld", (long)getpid());
    char sql[128];
    snprintf(sql, sizeof(sql), "CREATE DATABASE %.63s", e->dbname);
    if (fixture_pg_admin(base, sql) != 0 ||
        fixture_pg_url_for(base, e->dbname, e->target, sizeof(e->target)) != 0)
        return -1;
#endif
    return open_engine(e);
}

static int teardown_engine(void **state)
{
    struct engine *e = *state;
    if (e->r) e->r->ops->close(e->r);
    if (e->w) e->w->ops->close(e->w);
    e->r = e->w = NULL;
    if (!e->skip) arena_free(&e->a);
    if (e->dir[0]) {
        char path[TARGET_MAX + 8];
        const char *suffix[] = {"", "-wal", "-shm"};
        for (int i = 0; i < 3; i++) {
            int n = snprintf(path, sizeof(path), "%s%s", e->target, suffix[i]);
            if (n > 0 && (size_t)n < sizeof(path)) unlink(path);
        }
        rmdir(e->dir);
    }
#ifndef NO_STORE_PG
    if (e->dbname[0]) {
        char sql[160];
        snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %.63s WITH (FORCE)", e->dbname);
        fixture_pg_admin(getenv("PARLEY_TEST_PG"), sql);
    }
#endif
    return 0;
}

static struct engine *engine(void **state)
{
    struct engine *e = *state;
    if (e->skip) skip();
    return e;
}

/* ---- helpers ----------------------------------------------------------------------------------- */

static void begin(struct engine *e)
{
    assert_int_equal(e->w->ops->tx_begin(e->w), ST_OK);
}
static void commit(struct engine *e)
{
    assert_int_equal(e->w->ops->tx_commit(e->w), ST_OK);
}
static void rollback(struct engine *e)
{
    e->w->ops->tx_rollback(e->w);
}

/* A service with its configuration and two roles (the configuration names them), in one transaction. */
static void make_service(struct engine *e, char sid[SID_LEN + 1], char role[SID_LEN + 1], long long now)
{
    struct service sv = {.friendly_name = "contract", .date_created = now, .date_updated = now};
    sid_new(sv.sid, "IS");
    memcpy(sv.account_sid, e->account, sizeof(sv.account_sid));
    struct role rl[2];
    for (int i = 0; i < 2; i++) {
        memset(&rl[i], 0, sizeof(rl[i]));
        sid_new(rl[i].sid, "RL");
        memcpy(rl[i].account_sid, e->account, sizeof(rl[i].account_sid));
        memcpy(rl[i].service_sid, sv.sid, sizeof(sv.sid));
        rl[i].friendly_name = i ? "conversation role" : "service role";
        rl[i].type = i ? ROLE_CONVERSATION : ROLE_SERVICE;
        rl[i].permissions = "[\"sendMessage\"]";
        rl[i].date_created = rl[i].date_updated = now;
    }
    struct service_config cfg = {.reachability_enabled = 1};
    memcpy(cfg.service_sid, sv.sid, sizeof(sv.sid));
    memcpy(cfg.chat_service_role_sid, rl[0].sid, sizeof(rl[0].sid));
    memcpy(cfg.conversation_role_sid, rl[1].sid, sizeof(rl[1].sid));
    memcpy(cfg.conversation_creator_role_sid, rl[1].sid, sizeof(rl[1].sid));
    begin(e);
    assert_int_equal(store_service_insert(e->w, &sv, &cfg), ST_OK);
    for (int i = 0; i < 2; i++)
        assert_int_equal(store_role_insert(e->w, &rl[i]), ST_OK);
    commit(e);
    memcpy(sid, sv.sid, SID_LEN + 1);
    memcpy(role, rl[0].sid, SID_LEN + 1);
}

static struct user new_user(struct engine *e, const char *service, const char *role, const char *identity)
{
    struct user u = {
        .identity = (char *)identity, .attributes = "{}", .date_created = 1000, .date_updated = 1000};
    sid_new(u.sid, "US");
    memcpy(u.account_sid, e->account, sizeof(u.account_sid));
    memcpy(u.service_sid, service, SID_LEN + 1);
    memcpy(u.role_sid, role, SID_LEN + 1);
    return u;
}

/* Inserts u in a transaction of its own; the store's answer (the transaction is rolled back on error). */
static int insert_user(struct engine *e, struct user *u)
{
    begin(e);
    int rc = rows_insert(e->w, &store_users_table, u);
    if (rc == ST_OK)
        commit(e);
    else
        rollback(e);
    return rc;
}

struct rows {
    int n;
    long long id[MAX_ROWS];
    char sid[MAX_ROWS][SID_LEN + 1];
};

static int collect_user(void *ctx, const void *row)
{
    const struct user *u = row;
    struct rows *rs = ctx;
    if (rs->n < MAX_ROWS) {
        rs->id[rs->n] = u->id;
        memcpy(rs->sid[rs->n], u->sid, SID_LEN + 1);
    }
    rs->n++;
    return 0;
}

static int collect_role(void *ctx, const void *row)
{
    const struct role *r = row;
    struct rows *rs = ctx;
    if (rs->n < MAX_ROWS) {
        rs->id[rs->n] = r->id;
        memcpy(rs->sid[rs->n], r->sid, SID_LEN + 1);
    }
    rs->n++;
    return 0;
}

static struct rows list_users(struct engine *e, const char *service, char dir, long long key, int limit)
{
    struct rows rs = {0};
    struct page_req p = {.dir = dir, .limit = limit};
    if (dir == 'a')
        p.after = key;
    else
        p.before = key;
    struct user scratch;
    assert_int_equal(rows_list(e->r, &store_users_table, service, &p, &scratch, collect_user, &rs), ST_OK);
    return rs;
}

static int count_account(void *ctx, const struct account *a)
{
    (void)a;
    ++*(long long *)ctx;
    return 0;
}

/* The accounts there are, as the account list (the CLI's) sees them. */
static long long count_accounts(struct engine *e)
{
    long long n = 0;
    assert_int_equal(store_account_list(e->r, count_account, &n), ST_OK);
    return n;
}

/* ---- the cases, run in order on each engine ----------------------------------------------------- */

static void test_accounts(void **state)
{
    struct engine *e = engine(state);
    struct account a = {.auth_token = "token-one-1234", .friendly_name = "contract", .date_created = 1000};
    sid_new(a.sid, "AC");
    sid_new(a.default_service_sid, "IS");
    memcpy(e->account, a.sid, sizeof(a.sid));
    long long before = count_accounts(e);
    begin(e);
    assert_int_equal(store_account_insert(e->w, &a), ST_OK);
    commit(e);
    assert_int_equal(count_accounts(e), before + 1);

    struct account got;
    assert_int_equal(store_account_get(e->r, a.sid, &e->a, &got), ST_OK);
    assert_string_equal(got.sid, a.sid);
    assert_string_equal(got.auth_token, "token-one-1234");
    assert_string_equal(got.friendly_name, "contract");
    assert_string_equal(got.default_service_sid, a.default_service_sid);
    assert_null(got.default_messaging_service_sid);
    assert_int_equal(got.date_created, 1000);

    /* the same SID again: a uniqueness conflict, nothing changes */
    a.auth_token = "token-two-1234";
    begin(e);
    assert_int_equal(store_account_insert(e->w, &a), ST_CONFLICT);
    rollback(e);
    assert_int_equal(count_accounts(e), before + 1);

    begin(e);
    assert_int_equal(store_account_set_token(e->w, a.sid, "token-new-1234"), ST_OK);
    commit(e);
    assert_int_equal(store_account_get(e->r, a.sid, &e->a, &got), ST_OK);
    assert_string_equal(got.auth_token, "token-new-1234");

    char unknown[SID_LEN + 1];
    sid_new(unknown, "AC");
    assert_int_equal(store_account_get(e->r, unknown, &e->a, &got), ST_NOT_FOUND);
}

static void test_services(void **state)
{
    struct engine *e = engine(state);
    make_service(e, e->service[0], e->role[0], 2000);
    make_service(e, e->service[1], e->role[1], 2001);

    struct service sv;
    assert_int_equal(store_service_get(e->r, e->account, e->service[0], &e->a, &sv), ST_OK);
    assert_string_equal(sv.sid, e->service[0]);
    assert_string_equal(sv.account_sid, e->account);
    assert_string_equal(sv.friendly_name, "contract");
    assert_int_equal(sv.date_created, 2000);
    /* scoped to the account */
    char other[SID_LEN + 1];
    sid_new(other, "AC");
    assert_int_equal(store_service_get(e->r, other, e->service[0], &e->a, &sv), ST_NOT_FOUND);

    struct service_config cfg;
    assert_int_equal(store_service_config_get(e->r, e->service[0], &cfg), ST_OK);
    assert_string_equal(cfg.chat_service_role_sid, e->role[0]);
    assert_int_equal(cfg.reachability_enabled, 1);

    /* a service whose account does not exist is refused (a reference) */
    struct service orphan = {.friendly_name = "orphan", .date_created = 1, .date_updated = 1};
    sid_new(orphan.sid, "IS");
    memcpy(orphan.account_sid, other, sizeof(other));
    struct service_config none = {0};
    memcpy(none.service_sid, orphan.sid, sizeof(orphan.sid));
    memcpy(none.chat_service_role_sid, e->role[0], SID_LEN + 1);
    memcpy(none.conversation_role_sid, e->role[0], SID_LEN + 1);
    memcpy(none.conversation_creator_role_sid, e->role[0], SID_LEN + 1);
    begin(e);
    int rc = store_service_insert(e->w, &orphan, &none);
    if (rc == ST_OK)
        rc = e->w->ops->tx_commit(e->w);
    else
        rollback(e);
    assert_true(rc < 0);
    assert_int_equal(store_service_get(e->r, other, orphan.sid, &e->a, &sv), ST_NOT_FOUND);
}

static void test_users_crud_and_uniqueness(void **state)
{
    struct engine *e = engine(state);
    const char *names[NUSERS] = {"alice", "Alice", "bob", "carol", "dave\xc3\xa9"};
    for (int i = 0; i < NUSERS; i++) {
        struct user u = new_user(e, e->service[0], e->role[0], names[i]);
        assert_int_equal(insert_user(e, &u), ST_OK);
        memcpy(e->user[i], u.sid, sizeof(u.sid));
        e->user_id[i] = u.id;
        if (i > 0) assert_true(e->user_id[i] > e->user_id[i - 1]); /* ids follow insertion */
    }

    struct user got;
    assert_int_equal(store_user_get(e->r, e->service[0], e->user[0], 1, &e->a, &got), ST_OK);
    assert_string_equal(got.identity, "alice");
    assert_null(got.friendly_name);
    assert_string_equal(got.attributes, "{}");
    assert_int_equal(got.id, e->user_id[0]);
    /* by identity, exact and case-sensitive */
    assert_int_equal(store_user_get(e->r, e->service[0], "Alice", 0, &e->a, &got), ST_OK);
    assert_string_equal(got.sid, e->user[1]);
    assert_int_equal(store_user_get(e->r, e->service[0], "ALICE", 0, &e->a, &got), ST_NOT_FOUND);
    assert_int_equal(store_user_get(e->r, e->service[0], "dave\xc3\xa9", 0, &e->a, &got), ST_OK);
    /* scoped to the service */
    assert_int_equal(store_user_get(e->r, e->service[1], e->user[0], 1, &e->a, &got), ST_NOT_FOUND);
    assert_int_equal(store_user_get(e->r, e->service[1], "alice", 0, &e->a, &got), ST_NOT_FOUND);

    /* one identity per service: a second alice is a conflict and is not stored */
    struct user dup = new_user(e, e->service[0], e->role[0], "alice");
    assert_int_equal(insert_user(e, &dup), ST_CONFLICT);
    assert_int_equal(store_user_get(e->r, e->service[0], dup.sid, 1, &e->a, &got), ST_NOT_FOUND);
    assert_int_equal(list_users(e, e->service[0], 'a', 0, 50).n, NUSERS);
    /* the same identity in another service is another user */
    struct user twin = new_user(e, e->service[1], e->role[1], "alice");
    assert_int_equal(insert_user(e, &twin), ST_OK);
    /* a user whose role does not exist is refused */
    char no_role[SID_LEN + 1];
    sid_new(no_role, "RL");
    struct user lost = new_user(e, e->service[0], no_role, "lost");
    assert_true(insert_user(e, &lost) < 0);
    assert_int_equal(store_user_get(e->r, e->service[0], "lost", 0, &e->a, &got), ST_NOT_FOUND);

    /* update writes the whole row back */
    assert_int_equal(store_user_get(e->r, e->service[0], e->user[2], 1, &e->a, &got), ST_OK);
    got.friendly_name = "Bob";
    got.attributes = "{\"a\":1}";
    got.date_updated = 5000;
    begin(e);
    assert_int_equal(rows_update(e->w, &store_users_table, &got, NULL), ST_OK);
    commit(e);
    struct user again;
    assert_int_equal(store_user_get(e->r, e->service[0], e->user[2], 1, &e->a, &again), ST_OK);
    assert_string_equal(again.friendly_name, "Bob");
    assert_string_equal(again.attributes, "{\"a\":1}");
    assert_int_equal(again.date_updated, 5000);
    assert_int_equal(again.date_created, 1000);
    assert_int_equal(again.id, e->user_id[2]);
    /* an update of a user that is not there changes nothing */
    struct user ghost = new_user(e, e->service[0], e->role[0], "ghost");
    begin(e);
    assert_int_equal(rows_update(e->w, &store_users_table, &ghost, NULL), ST_NOT_FOUND);
    rollback(e);

    /* delete, then the identity is free again */
    struct user temp = new_user(e, e->service[0], e->role[0], "temp");
    assert_int_equal(insert_user(e, &temp), ST_OK);
    begin(e);
    assert_int_equal(rows_delete(e->w, &store_users_table, e->service[0], temp.sid), ST_OK);
    commit(e);
    assert_int_equal(store_user_get(e->r, e->service[0], temp.sid, 1, &e->a, &got), ST_NOT_FOUND);
    begin(e);
    assert_int_equal(rows_delete(e->w, &store_users_table, e->service[0], temp.sid), ST_NOT_FOUND);
    /* and a user of one service cannot be deleted through another */
    assert_int_equal(rows_delete(e->w, &store_users_table, e->service[1], e->user[0]), ST_NOT_FOUND);
    commit(e);
    struct user reuse = new_user(e, e->service[0], e->role[0], "temp");
    assert_int_equal(insert_user(e, &reuse), ST_OK);
    begin(e);
    assert_int_equal(rows_delete(e->w, &store_users_table, e->service[0], reuse.sid), ST_OK);
    commit(e);
    assert_int_equal(store_user_get(e->r, e->service[0], e->user[0], 1, &e->a, &got), ST_OK);
}

static void test_keyset_pages(void **state)
{
    struct engine *e = engine(state);
    /* 'a': rows after the key, ascending, limit + 1 of them */
    struct rows rs = list_users(e, e->service[0], 'a', 0, 2);
    assert_int_equal(rs.n, 3);
    for (int i = 0; i < 3; i++)
        assert_string_equal(rs.sid[i], e->user[i]);
    rs = list_users(e, e->service[0], 'a', e->user_id[1], 2);
    assert_int_equal(rs.n, 3);
    assert_string_equal(rs.sid[0], e->user[2]);
    rs = list_users(e, e->service[0], 'a', e->user_id[3], 2);
    assert_int_equal(rs.n, 1);
    assert_string_equal(rs.sid[0], e->user[4]);
    rs = list_users(e, e->service[0], 'a', e->user_id[4], 2);
    assert_int_equal(rs.n, 0);
    /* 'b': the last rows before the key, ascending, limit + 1 of them */
    rs = list_users(e, e->service[0], 'b', e->user_id[4], 2);
    assert_int_equal(rs.n, 3);
    assert_string_equal(rs.sid[0], e->user[1]);
    assert_string_equal(rs.sid[2], e->user[3]);
    rs = list_users(e, e->service[0], 'b', e->user_id[1], 2);
    assert_int_equal(rs.n, 1);
    assert_string_equal(rs.sid[0], e->user[0]);
    rs = list_users(e, e->service[0], 'b', e->user_id[0], 2);
    assert_int_equal(rs.n, 0);
    /* the far ends of the key space */
    assert_int_equal(list_users(e, e->service[0], 'b', INT64_MAX, 50).n, NUSERS);
    assert_int_equal(list_users(e, e->service[0], 'a', INT64_MAX, 50).n, 0);
    /* only the service's own rows */
    rs = list_users(e, e->service[1], 'a', 0, 50);
    assert_int_equal(rs.n, 1);

    /* roles page the same way */
    struct rows rr = {0};
    struct role scratch;
    struct page_req p = {.dir = 'a', .limit = 1};
    assert_int_equal(rows_list(e->r, &store_roles_table, e->service[0], &p, &scratch, collect_role, &rr),
                     ST_OK);
    assert_int_equal(rr.n, 2);
    assert_string_equal(rr.sid[0], e->role[0]);
    struct rows rb = {0};
    struct page_req pb = {.dir = 'b', .before = rr.id[1], .limit = 5};
    assert_int_equal(rows_list(e->r, &store_roles_table, e->service[0], &pb, &scratch, collect_role, &rb),
                     ST_OK);
    assert_int_equal(rb.n, 1);
    assert_string_equal(rb.sid[0], e->role[0]);
}

static void test_role_in_use_and_cascade(void **state)
{
    struct engine *e = engine(state);
    /* a role held by users (and named by the configuration) is not deleted */
    begin(e);
    assert_int_equal(store_role_delete(e->w, e->service[0], e->role[0]), ST_IN_USE);
    commit(e);
    struct role rl;
    assert_int_equal(store_role_get(e->r, e->service[0], e->role[0], &e->a, &rl), ST_OK);
    assert_int_equal(rl.type, ROLE_SERVICE);
    assert_string_equal(rl.permissions, "[\"sendMessage\"]");

    /* deleting the second service marks it: it is gone at once and refuses writes */
    begin(e);
    assert_int_equal(store_service_delete(e->w, e->account, e->service[1]), ST_OK);
    commit(e);
    struct service sv;
    struct service_config cfg;
    struct user got;
    assert_int_equal(store_service_get(e->r, e->account, e->service[1], &e->a, &sv), ST_NOT_FOUND);
    struct user late = new_user(e, e->service[1], e->role[1], "late");
    assert_int_equal(insert_user(e, &late), ST_IN_USE);
    /* the reaper then takes its users, roles and configuration, a few rows per call */
    int more = 1, calls = 0;
    while (more) {
        assert_true(++calls <= REAP_CALLS_MAX);
        begin(e);
        assert_int_equal(store_service_reap(e->w, 2, &more), ST_OK);
        commit(e);
    }
    assert_true(calls > 1); /* five rows, two per call */
    assert_int_equal(store_service_config_get(e->r, e->service[1], &cfg), ST_NOT_FOUND);
    assert_int_equal(store_role_get(e->r, e->service[1], e->role[1], &e->a, &rl), ST_NOT_FOUND);
    assert_int_equal(store_user_get(e->r, e->service[1], "alice", 0, &e->a, &got), ST_NOT_FOUND);
    assert_int_equal(list_users(e, e->service[1], 'a', 0, 50).n, 0);
    /* the first service is untouched */
    assert_int_equal(store_service_get(e->r, e->account, e->service[0], &e->a, &sv), ST_OK);
    assert_int_equal(list_users(e, e->service[0], 'a', 0, 50).n, NUSERS);
    assert_int_equal(store_user_get(e->r, e->service[0], "alice", 0, &e->a, &got), ST_OK);
    /* a second delete finds nothing; nor does another account */
    begin(e);
    assert_int_equal(store_service_delete(e->w, e->account, e->service[1]), ST_NOT_FOUND);
    char other[SID_LEN + 1];
    sid_new(other, "AC");
    assert_int_equal(store_service_delete(e->w, other, e->service[0]), ST_NOT_FOUND);
    commit(e);
    assert_int_equal(store_service_get(e->r, e->account, e->service[0], &e->a, &sv), ST_OK);
}

static int count_key(void *ctx, const struct api_key *k)
{
    int *n = ctx;
    assert_null(k->salt); /* a list does not read the secret's hash */
    (*n)++;
    return 0;
}

static int find_account(void *ctx, const struct account *a)
{
    struct engine *e = ctx;
    if (strcmp(a->sid, e->account) == 0) {
        assert_null(a->auth_token);
        assert_string_equal(a->friendly_name, "contract");
        return 1; /* found: stop */
    }
    return 0;
}

/* Accounts' list and configuration, API keys, a service's notifications. */
static void test_keys_and_notifications(void **state)
{
    struct engine *e = engine(state);
    assert_int_equal(store_account_list(e->r, find_account, e), ST_OK);
    struct account acct;
    assert_int_equal(store_account_get(e->r, e->account, &e->a, &acct), ST_OK);
    acct.default_messaging_service_sid = "MG00000000000000000000000000000001";
    begin(e);
    assert_int_equal(store_account_update_config(e->w, &acct), ST_OK);
    commit(e);
    assert_int_equal(store_account_get(e->r, e->account, &e->a, &acct), ST_OK);
    assert_string_equal(acct.default_messaging_service_sid, "MG00000000000000000000000000000001");
    assert_string_equal(acct.auth_token, "token-new-1234");

    struct api_key k = {.friendly_name = "k", .salt = "ab", .secret_hash = "cd", .date_created = 5};
    sid_new(k.sid, "SK");
    memcpy(k.account_sid, e->account, sizeof(k.account_sid));
    begin(e);
    assert_int_equal(store_api_key_insert(e->w, &k), ST_OK);
    commit(e);
    struct api_key got;
    assert_int_equal(store_api_key_get(e->r, k.sid, &e->a, &got), ST_OK);
    assert_string_equal(got.account_sid, e->account);
    assert_string_equal(got.salt, "ab");
    assert_string_equal(got.secret_hash, "cd");
    assert_int_equal(got.date_revoked, 0);
    int n = 0;
    assert_int_equal(store_api_key_list(e->r, e->account, count_key, &n), ST_OK);
    assert_int_equal(n, 1);
    /* a second revocation keeps the first time */
    begin(e);
    assert_int_equal(store_api_key_revoke(e->w, k.sid, 7), ST_OK);
    assert_int_equal(store_api_key_revoke(e->w, k.sid, 9), ST_OK);
    char unknown[SID_LEN + 1];
    sid_new(unknown, "SK");
    assert_int_equal(store_api_key_revoke(e->w, unknown, 9), ST_NOT_FOUND);
    commit(e);
    assert_int_equal(store_api_key_get(e->r, k.sid, &e->a, &got), ST_OK);
    assert_int_equal(got.date_revoked, 7);

    struct notifications nt = {.log_enabled = 1, .new_message_template = "hi", .added_enabled = 1};
    memcpy(nt.service_sid, e->service[0], SID_LEN + 1);
    memcpy(nt.account_sid, e->account, SID_LEN + 1);
    for (int round = 0; round < 2; round++) { /* the second writes over the first */
        begin(e);
        assert_int_equal(store_notifications_put(e->w, &nt), ST_OK);
        commit(e);
        struct notifications back;
        assert_int_equal(store_notifications_get(e->r, e->service[0], &e->a, &back), ST_OK);
        assert_string_equal(back.service_sid, e->service[0]);
        assert_string_equal(back.account_sid, e->account);
        assert_int_equal(back.log_enabled, nt.log_enabled);
        assert_int_equal(back.added_enabled, 1);
        assert_string_equal(back.new_message_template, nt.new_message_template);
        assert_null(back.removed_sound);
        nt.log_enabled = 0;
        nt.new_message_template = "bye";
    }
}

struct claimed {
    int n;
    long long id[8];
};

static int take_claim(void *ctx, const struct outbox_row *row)
{
    struct claimed *c = ctx;
    assert_true(c->n < 8);
    assert_string_equal(row->method, "POST");
    c->id[c->n++] = row->id;
    return 0;
}

/* The lease clock is not the domain's: real time, which a test clock does not move. */
#define LEASE_CLOCK_OFFSET 5000000000LL

/* Claims at now on the domain clock and lease_now on the lease clock, with a lease of 1000. */
static int claim_at(struct engine *e, long long now, long long lease_now, struct claimed *out,
                    long long *next_due)
{
    const struct outbox_claim_limits lim = {10, 10};
    memset(out, 0, sizeof(*out));
    begin(e);
    assert_int_equal(
        store_outbox_claim(e->w, "contract", now, lease_now, 1000, 10, &lim, take_claim, out, next_due),
        ST_OK);
    commit(e);
    return out->n;
}

/* Both clocks advancing together. */
static int claim(struct engine *e, long long now, struct claimed *out, long long *next_due)
{
    return claim_at(e, now, now + LEASE_CLOCK_OFFSET, out, next_due);
}

struct logged {
    int n;
    char outcome[4][16], kind[4][8];
    long long completed_at[4];
};

static int take_log(void *ctx, const struct webhook_log_entry *le)
{
    struct logged *l = ctx;
    assert_true(l->n < 4);
    snprintf(l->kind[l->n], sizeof(l->kind[0]), "%s", le->kind);
    l->completed_at[l->n] = le->completed_at;
    snprintf(l->outcome[l->n++], sizeof(l->outcome[0]), "%s", le->outcome);
    return 0;
}

/* The webhook configuration of both levels, the outbox's claim, retry and finish, the target backoff and
 * the log. */
static void test_webhooks(void **state)
{
    struct engine *e = engine(state);
    struct webhook_config cfg;
    assert_int_equal(store_webhook_config_get(e->r, e->account, NULL, &e->a, &cfg), ST_NOT_FOUND);
    struct webhook_config put = {.method = "POST", .filters = "[\"onUserAdded\"]", .post_url = "http://x/p"};
    memcpy(put.account_sid, e->account, SID_LEN + 1);
    for (int round = 0; round < 2; round++) {
        begin(e);
        assert_int_equal(store_webhook_config_put(e->w, &put), ST_OK);
        commit(e);
        assert_int_equal(store_webhook_config_get(e->r, e->account, NULL, &e->a, &cfg), ST_OK);
        assert_string_equal(cfg.method, put.method);
        assert_string_equal(cfg.target, "webhook");
        assert_string_equal(cfg.post_url, "http://x/p");
        assert_null(cfg.pre_url);
        put.method = "GET";
    }
    memcpy(put.service_sid, e->service[0], SID_LEN + 1);
    put.pre_url = "http://x/pre";
    begin(e);
    assert_int_equal(store_webhook_config_put(e->w, &put), ST_OK);
    commit(e);
    assert_int_equal(store_webhook_config_get(e->r, e->account, e->service[0], &e->a, &cfg), ST_OK);
    assert_string_equal(cfg.pre_url, "http://x/pre");
    assert_null(cfg.target);

    /* two deliveries of one order key and one of another */
    const char *keys[3] = {"k1", "k1", "k2"};
    begin(e);
    for (int i = 0; i < 3; i++) {
        struct outbox_row row = {.event_type = "onUserAdded",
                                 .url = i == 2 ? "http://b/" : "http://a/",
                                 .method = "POST",
                                 .params = "A=1",
                                 .order_key = (char *)keys[i],
                                 .idempotency_token = "tok",
                                 .created_at = 100};
        memcpy(row.account_sid, e->account, SID_LEN + 1);
        assert_int_equal(store_outbox_insert(e->w, &row), ST_OK);
    }
    commit(e);
    long long n = 0, due = -1;
    assert_int_equal(store_outbox_count(e->r, &n), ST_OK);
    assert_int_equal(n, 3);
    struct claimed got;
    assert_int_equal(claim(e, 200, &got, &due), 2); /* the head of each key */
    assert_int_equal(due, 1200);                    /* when the claims' leases end */
    long long first = got.id[0] < got.id[1] ? got.id[0] : got.id[1];
    /* the domain clock jumps 10 minutes, 10 ms of real time pass: the leases hold, and end when they
     * would have, seen on the domain clock */
    assert_int_equal(claim_at(e, 200 + 600000, 210 + LEASE_CLOCK_OFFSET, &got, &due), 0);
    assert_int_equal(due, 200 + 600000 + 990);
    begin(e);
    assert_int_equal(store_outbox_retry(e->w, first, 1, 250, 500, "down", 3), ST_OK);
    commit(e);
    assert_int_equal(claim(e, 240, &got, &due), 0); /* not due yet; the other one still claimed */
    assert_int_equal(due, 250);
    assert_int_equal(claim(e, 300, &got, &due), 1);
    assert_int_equal(got.id[0], first);

    /* a failing target waits: its row is not claimed until the target answers again */
    begin(e);
    assert_int_equal(store_outbox_retry(e->w, first, 2, 300, 0, NULL, 3), ST_OK);
    assert_int_equal(store_webhook_target_failed(e->w, "http://a/", 300, 100, 1000), ST_OK);
    commit(e);
    assert_int_equal(claim(e, 350, &got, &due), 0);
    assert_int_equal(due, 400);
    begin(e);
    assert_int_equal(store_webhook_target_ok(e->w, "http://a/"), ST_OK);
    commit(e);
    assert_int_equal(claim(e, 350, &got, &due), 1);

    struct webhook_log_entry le = {.kind = "post",
                                   .event_type = "onUserAdded",
                                   .url = "http://a/",
                                   .method = "POST",
                                   .outcome = "delivered",
                                   .status = 200,
                                   .attempts = 3,
                                   .created_at = 100,
                                   .completed_at = 360};
    memcpy(le.account_sid, e->account, SID_LEN + 1);
    begin(e);
    assert_int_equal(store_outbox_finish(e->w, first, &le), ST_OK);
    commit(e);
    assert_int_equal(store_outbox_count(e->r, &n), ST_OK);
    assert_int_equal(n, 2);
    struct logged lg = {0};
    assert_int_equal(store_webhook_log_list(e->r, e->account, 10, take_log, &lg), ST_OK);
    assert_int_equal(lg.n, 3); /* the two waiting, then the log */
    assert_string_equal(lg.outcome[0], "pending");
    assert_string_equal(lg.outcome[1], "pending");
    assert_string_equal(lg.outcome[2], "delivered");
    for (int i = 0; i < 3; i++) /* the waiting ones are post-event deliveries, not completed */
        assert_string_equal(lg.kind[i], "post");
    assert_true(lg.completed_at[0] == 0 && lg.completed_at[1] == 0 && lg.completed_at[2] == 360);
    begin(e);
    assert_int_equal(store_outbox_release_all(e->w), ST_OK);
    commit(e);
}

int main(void)
{
    const struct CMUnitTest cases[] = {
        cmocka_unit_test(test_accounts),
        cmocka_unit_test(test_services),
        cmocka_unit_test(test_users_crud_and_uniqueness),
        cmocka_unit_test(test_keyset_pages),
        cmocka_unit_test(test_role_in_use_and_cascade),
        cmocka_unit_test(test_keys_and_notifications),
        cmocka_unit_test(test_webhooks),
    };
    int failed = cmocka_run_group_tests_name("store contract: sqlite", cases, setup_sqlite, teardown_engine);
    failed += cmocka_run_group_tests_name("store contract: postgres (PARLEY_TEST_PG)", cases, setup_pg,
                                          teardown_engine);
    return failed;
}
