/* store/rows.c: the SQL the row codec builds from a column list, and the store contract of a codec
 * table (users) on SQLite, and on PostgreSQL too when PARLEY_TEST_PG names a cluster. */
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

#include "api/api.h"
#include "store/account_store.h"
#include "store/domain.h"
#include "store/engine.h"
#include "store/rows.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/sid.h"

static void test_users_sql(void **state)
{
    (void)state;
    assert_int_equal(store_sql_init(), ST_OK);
    const struct store_table *t = &store_users_table;
#define COLS                                                                                                 \
    "id, sid, account_sid, service_sid, role_sid, identity, friendly_name, attributes, date_created, "       \
    "date_updated"
    assert_string_equal(t->get.sql, "SELECT " COLS " FROM users WHERE service_sid = ?1 AND sid = ?2");
    assert_string_equal(t->get_alt.sql,
                        "SELECT " COLS " FROM users WHERE service_sid = ?1 AND identity = ?2");
    assert_string_equal(t->insert.sql, "INSERT INTO users(sid, account_sid, service_sid, role_sid, identity,"
                                       " friendly_name, attributes, date_created, date_updated)"
                                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    /* PostgreSQL learns the new id from RETURNING, SQLite from the connection */
    assert_string_equal(t->insert.pg_text,
                        "INSERT INTO users(sid, account_sid, service_sid, role_sid, identity,"
                        " friendly_name, attributes, date_created, date_updated)"
                        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id");
    assert_string_equal(t->update.sql, "UPDATE users SET role_sid = ?3, friendly_name = ?4, attributes = ?5,"
                                       " date_updated = ?6 WHERE service_sid = ?1 AND sid = ?2");
    /* an update that keeps the role leaves the indexed column out */
    assert_string_equal(t->update_kept.sql, "UPDATE users SET friendly_name = ?3, attributes = ?4,"
                                            " date_updated = ?5 WHERE service_sid = ?1 AND sid = ?2");
    assert_null(store_roles_table.update_kept.sql);
    assert_string_equal(t->del.sql, "DELETE FROM users WHERE service_sid = ?1 AND sid = ?2");
    assert_string_equal(t->list_after.sql,
                        "SELECT " COLS " FROM users WHERE service_sid = ?1 AND id > ?2 ORDER BY id LIMIT ?3");
    assert_string_equal(t->list_before.sql, "SELECT * FROM (SELECT " COLS " FROM users WHERE service_sid = ?1"
                                            " AND id < ?2 ORDER BY id DESC LIMIT ?3) page ORDER BY id");
    /* PostgreSQL: $N, and the writer's read locks the row */
    assert_string_equal(t->del.pg_text, "DELETE FROM users WHERE service_sid = $1 AND sid = $2");
    assert_null(t->del.pg_text_lock);
    assert_string_equal(t->get.pg_text_lock,
                        "SELECT " COLS " FROM users WHERE service_sid = $1 AND sid = $2 FOR NO KEY UPDATE");
#undef COLS
    assert_string_equal(
        store_roles_table.update.sql,
        "UPDATE roles SET permissions = ?3, date_updated = ?4 WHERE service_sid = ?1 AND sid = ?2");
    assert_string_equal(
        store_credentials_table.update.sql,
        "UPDATE credentials SET friendly_name = coalesce(?3, friendly_name), type = coalesce(?4, type),"
        " sandbox = coalesce(?5, sandbox), certificate = coalesce(?6, certificate),"
        " private_key = coalesce(?7, private_key), api_key = coalesce(?8, api_key),"
        " secret = coalesce(?9, secret), date_updated = ?10 WHERE account_sid = ?1 AND sid = ?2");
    assert_string_equal(
        store_credentials_table.get.sql,
        "SELECT id, sid, account_sid, friendly_name, type, sandbox, date_created, date_updated"
        " FROM credentials WHERE account_sid = ?1 AND sid = ?2");
    /* a filtered list: one shared text, PostgreSQL's own filter */
#define BCOLS                                                                                                \
    "id, sid, account_sid, service_sid, credential_sid, endpoint, identity, binding_type, message_types,"    \
    " date_created, date_updated"
    assert_string_equal(
        store_bindings_table.list_after.sql,
        "SELECT " BCOLS " FROM bindings WHERE service_sid = ?1 AND id > ?2"
        " AND (?4 IS NULL OR binding_type IN (SELECT value FROM json_each(?4)))"
        " AND (?5 IS NULL OR identity IN (SELECT value FROM json_each(?5))) ORDER BY id LIMIT ?3");
    assert_string_equal(
        store_bindings_table.list_before.pg_text,
        "SELECT * FROM (SELECT " BCOLS " FROM bindings WHERE service_sid = $1 AND id < $2"
        " AND ($4::jsonb IS NULL OR binding_type IN (SELECT jsonb_array_elements_text($4::jsonb)))"
        " AND ($5::jsonb IS NULL OR identity IN (SELECT jsonb_array_elements_text($5::jsonb)))"
        " ORDER BY id DESC LIMIT $3) page ORDER BY id");
#undef BCOLS
    assert_string_equal(
        store_roles_table.get.pg_text_lock,
        "SELECT id, sid, account_sid, service_sid, friendly_name, type, permissions, date_created,"
        " date_updated FROM roles WHERE service_sid = $1 AND sid = $2 FOR SHARE");
}

/* ---- the contract, on one engine ---- */

struct seen {
    int n;
    char identity[8][16];
};

static int collect(void *ctx, const void *row)
{
    const struct user *u = row;
    struct seen *s = ctx;
    if (s->n < 8) snprintf(s->identity[s->n++], sizeof(s->identity[0]), "%s", u->identity);
    return 0;
}

static int count_service(void *ctx, long long id, const struct service *sv)
{
    (void)sv;
    if (id > 0) ++*(int *)ctx;
    return 0;
}

static void contract(const struct store_ops *ops, const char *target)
{
    struct store_conn *c = NULL;
    assert_int_equal(ops->open(target, 1, 0, &c), ST_OK);
    assert_int_equal(c->ops->migrate(c), ST_OK);

    struct account a;
    struct service_config cfg;
    fixture_account(c, &a, &cfg);

    struct user u[3];
    const char *names[3] = {"alice", "bob", "carol"};
    for (int i = 0; i < 3; i++) {
        memset(&u[i], 0, sizeof(u[i]));
        sid_new(u[i].sid, "US");
        memcpy(u[i].account_sid, a.sid, sizeof(a.sid));
        memcpy(u[i].service_sid, a.default_service_sid, sizeof(a.sid));
        memcpy(u[i].role_sid, cfg.chat_service_role_sid, sizeof(a.sid));
        u[i].identity = (char *)names[i];
        u[i].attributes = "{}";
        u[i].date_created = u[i].date_updated = 10 + i;
        assert_int_equal(rows_insert(c, &store_users_table, &u[i]), ST_OK);
        assert_true(u[i].id > (i ? u[i - 1].id : 0));
    }
    /* the alternate key is unique within the service */
    struct user dup = u[0];
    sid_new(dup.sid, "US");
    assert_int_equal(c->ops->savepoint(c), ST_OK);
    assert_int_equal(rows_insert(c, &store_users_table, &dup), ST_CONFLICT);
    c->ops->savepoint_rollback(c);
    assert_int_equal(c->ops->tx_commit(c), ST_OK);

    struct arena ar;
    arena_init(&ar);
    struct user got;
    assert_int_equal(store_user_get(c, a.default_service_sid, u[1].sid, 1, &ar, &got), ST_OK);
    assert_string_equal(got.identity, "bob");
    assert_null(got.friendly_name);
    assert_int_equal(got.id, u[1].id);
    assert_int_equal(got.date_created, 11);
    assert_int_equal(store_user_get(c, a.default_service_sid, "carol", 0, &ar, &got), ST_OK);
    assert_string_equal(got.sid, u[2].sid);
    assert_int_equal(store_user_get(c, a.default_service_sid, "nobody", 0, &ar, &got), ST_NOT_FOUND);
    /* another parent does not see the row */
    assert_int_equal(store_user_get(c, a.sid, u[1].sid, 1, &ar, &got), ST_NOT_FOUND);

    /* update writes the mutable columns only */
    assert_int_equal(c->ops->tx_begin(c), ST_OK);
    struct user ch = u[1];
    ch.friendly_name = "Bob";
    ch.identity = "changed";
    ch.date_created = 99;
    ch.date_updated = 50;
    assert_int_equal(rows_update(c, &store_users_table, &ch, NULL), ST_OK);
    struct user missing = ch;
    sid_new(missing.sid, "US");
    assert_int_equal(rows_update(c, &store_users_table, &missing, NULL), ST_NOT_FOUND);
    assert_int_equal(c->ops->tx_commit(c), ST_OK);
    assert_int_equal(store_user_get(c, a.default_service_sid, u[1].sid, 1, &ar, &got), ST_OK);
    assert_string_equal(got.friendly_name, "Bob");
    assert_string_equal(got.identity, "bob");
    assert_int_equal(got.date_created, 11);
    assert_int_equal(got.date_updated, 50);

    /* with the stored row: the role kept is left out, a role changed is written, and both write the rest */
    assert_int_equal(c->ops->tx_begin(c), ST_OK);
    struct user kept = got, before = got;
    kept.friendly_name = "Bobby";
    assert_int_equal(rows_update(c, &store_users_table, &kept, &before), ST_OK);
    struct user moved = kept;
    memcpy(moved.role_sid, cfg.conversation_role_sid, sizeof(moved.role_sid));
    moved.attributes = "{\"a\":1}";
    assert_int_equal(rows_update(c, &store_users_table, &moved, &kept), ST_OK);
    assert_int_equal(c->ops->tx_commit(c), ST_OK);
    assert_int_equal(store_user_get(c, a.default_service_sid, u[1].sid, 1, &ar, &got), ST_OK);
    assert_string_equal(got.friendly_name, "Bobby");
    assert_string_equal(got.attributes, "{\"a\":1}");
    assert_string_equal(got.role_sid, moved.role_sid);
    /* a role changed behind a before that says otherwise would not be written: before is the stored row */
    assert_int_equal(c->ops->tx_begin(c), ST_OK);
    struct user stale = got;
    memcpy(stale.role_sid, cfg.conversation_creator_role_sid, sizeof(stale.role_sid));
    assert_int_equal(rows_update(c, &store_users_table, &stale, &stale), ST_OK);
    assert_int_equal(c->ops->tx_commit(c), ST_OK);
    assert_int_equal(store_user_get(c, a.default_service_sid, u[1].sid, 1, &ar, &got), ST_OK);
    assert_string_equal(got.role_sid, moved.role_sid);

    /* keyset pages, both directions ascending */
    struct user scratch;
    struct seen s = {0};
    struct page_req p = {.after = 0, .dir = 'a', .limit = 1};
    assert_int_equal(rows_list(c, &store_users_table, a.default_service_sid, &p, &scratch, collect, &s),
                     ST_OK);
    assert_int_equal(s.n, 2); /* limit + 1 */
    assert_string_equal(s.identity[0], "alice");
    assert_string_equal(s.identity[1], "bob");
    memset(&s, 0, sizeof(s));
    p = (struct page_req){.before = u[2].id, .dir = 'b', .limit = 5};
    assert_int_equal(rows_list(c, &store_users_table, a.default_service_sid, &p, &scratch, collect, &s),
                     ST_OK);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.identity[0], "alice");
    assert_string_equal(s.identity[1], "bob");

    assert_int_equal(c->ops->tx_begin(c), ST_OK);
    assert_int_equal(rows_delete(c, &store_users_table, a.default_service_sid, u[0].sid), ST_OK);
    assert_int_equal(rows_delete(c, &store_users_table, a.default_service_sid, u[0].sid), ST_NOT_FOUND);
    assert_int_equal(c->ops->tx_commit(c), ST_OK);
    assert_int_equal(store_user_get(c, a.default_service_sid, u[0].sid, 1, &ar, &got), ST_NOT_FOUND);

    /* roles: a role in use stays; a role of another service is not found; a free one goes */
    assert_int_equal(c->ops->tx_begin(c), ST_OK);
    assert_int_equal(store_role_delete(c, a.default_service_sid, cfg.chat_service_role_sid), ST_IN_USE);
    assert_int_equal(store_role_delete(c, a.sid, cfg.chat_service_role_sid), ST_NOT_FOUND);
    struct role r;
    memset(&r, 0, sizeof(r));
    sid_new(r.sid, "RL");
    memcpy(r.account_sid, a.sid, sizeof(a.sid));
    memcpy(r.service_sid, a.default_service_sid, sizeof(a.sid));
    r.friendly_name = "extra";
    r.type = ROLE_CONVERSATION;
    r.permissions = "[\"a\"]";
    r.date_created = r.date_updated = 5;
    assert_int_equal(store_role_insert(c, &r), ST_OK);
    r.permissions = "[\"b\"]";
    r.friendly_name = "ignored";
    r.date_updated = 6;
    assert_int_equal(rows_update(c, &store_roles_table, &r, NULL), ST_OK);
    assert_int_equal(c->ops->tx_commit(c), ST_OK);
    struct role rg;
    assert_int_equal(store_role_get(c, a.default_service_sid, r.sid, &ar, &rg), ST_OK);
    assert_string_equal(rg.friendly_name, "extra");
    assert_string_equal(rg.permissions, "[\"b\"]");
    assert_int_equal(rg.type, ROLE_CONVERSATION);
    assert_int_equal(rg.date_updated, 6);
    assert_int_equal(c->ops->tx_begin(c), ST_OK);
    assert_int_equal(store_role_delete(c, a.default_service_sid, r.sid), ST_OK);
    assert_int_equal(store_role_delete(c, a.default_service_sid, r.sid), ST_NOT_FOUND);
    assert_int_equal(c->ops->tx_commit(c), ST_OK);

    /* credentials: secrets are write-only; an update keeps what it was not given */
    struct credential cr;
    memset(&cr, 0, sizeof(cr));
    sid_new(cr.sid, "CR");
    memcpy(cr.account_sid, a.sid, sizeof(a.sid));
    cr.friendly_name = "push";
    cr.type = "apn";
    cr.sandbox = 1;
    cr.certificate = "cert";
    cr.private_key = "key";
    cr.date_created = cr.date_updated = 7;
    assert_int_equal(c->ops->tx_begin(c), ST_OK);
    assert_int_equal(rows_insert(c, &store_credentials_table, &cr), ST_OK);
    assert_true(cr.id > 0);
    struct credential keep = cr;
    keep.friendly_name = NULL;
    keep.type = NULL;
    keep.sandbox = -1;
    keep.certificate = keep.private_key = NULL;
    keep.secret = "s";
    keep.date_updated = 8;
    assert_int_equal(rows_update(c, &store_credentials_table, &keep, NULL), ST_OK);
    sid_new(keep.sid, "CR");
    assert_int_equal(rows_update(c, &store_credentials_table, &keep, NULL), ST_NOT_FOUND);
    assert_int_equal(c->ops->tx_commit(c), ST_OK);
    struct credential cg;
    memset(&cg, 0, sizeof(cg)); /* as the runner's get: what is not read stays NULL */
    assert_int_equal(rows_get(c, &store_credentials_table, 0, a.sid, cr.sid, &ar, &cg), ST_OK);
    assert_string_equal(cg.friendly_name, "push");
    assert_string_equal(cg.type, "apn");
    assert_int_equal(cg.sandbox, 1);
    assert_int_equal(cg.date_updated, 8);
    assert_null(cg.certificate);
    assert_null(cg.secret);
    assert_int_equal(rows_get(c, &store_credentials_table, 0, a.default_service_sid, cr.sid, &ar, &cg),
                     ST_NOT_FOUND);
    assert_int_equal(c->ops->tx_begin(c), ST_OK);
    assert_int_equal(rows_delete(c, &store_credentials_table, a.sid, cr.sid), ST_OK);
    assert_int_equal(rows_delete(c, &store_credentials_table, a.sid, cr.sid), ST_NOT_FOUND);
    assert_int_equal(c->ops->tx_commit(c), ST_OK);

    /* services: the configuration is written with the service; a deleted one is not read */
    struct service sv;
    assert_int_equal(store_service_get(c, a.sid, a.default_service_sid, &ar, &sv), ST_OK);
    assert_string_equal(sv.friendly_name, "s");
    assert_int_equal(store_service_get(c, a.default_service_sid, a.default_service_sid, &ar, &sv),
                     ST_NOT_FOUND);
    assert_int_equal(c->ops->tx_begin(c), ST_OK);
    struct service_config cfg2 = cfg;
    cfg2.reachability_enabled = 1;
    assert_int_equal(store_service_config_update(c, &cfg2), ST_OK);
    snprintf(cfg2.service_sid, sizeof(cfg2.service_sid), "%s", a.sid);
    assert_int_equal(store_service_config_update(c, &cfg2), ST_NOT_FOUND);
    assert_int_equal(c->ops->tx_commit(c), ST_OK);
    struct service_config got_cfg;
    assert_int_equal(store_service_config_get(c, a.default_service_sid, &got_cfg), ST_OK);
    assert_int_equal(got_cfg.reachability_enabled, 1);
    assert_string_equal(got_cfg.conversation_role_sid, cfg.conversation_role_sid);
    struct page_req sp = {.after = 0, .dir = 'a', .limit = 10};
    int n_services = 0;
    assert_int_equal(store_service_list(c, a.sid, &sp, count_service, &n_services), ST_OK);
    assert_int_equal(n_services, 1);
    assert_int_equal(c->ops->tx_begin(c), ST_OK);
    assert_int_equal(store_service_delete(c, a.sid, a.default_service_sid), ST_OK);
    assert_int_equal(c->ops->tx_commit(c), ST_OK);
    assert_int_equal(store_service_get(c, a.sid, a.default_service_sid, &ar, &sv), ST_NOT_FOUND);
    n_services = 0;
    assert_int_equal(store_service_list(c, a.sid, &sp, count_service, &n_services), ST_OK);
    assert_int_equal(n_services, 0);

    arena_free(&ar);
    c->ops->close(c);
}

static void test_contract_sqlite(void **state)
{
    (void)state;
    char dir[512], db[600];
    assert_int_equal(fixture_tmpdir(dir, sizeof(dir), "rows"), 0);
    snprintf(db, sizeof(db), "%s/t.db", dir);
    contract(&store_sqlite_ops, db);
    char path[640];
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s%s", db, suffixes[i]);
        unlink(path);
    }
    rmdir(dir);
}

#ifndef NO_STORE_PG
static void admin(const char *base, const char *sql)
{
    PGconn *db = PQconnectdb(base);
    assert_int_equal(PQstatus(db), CONNECTION_OK);
    PGresult *r = PQexec(db, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) fail_msg("%s: %s", sql, PQerrorMessage(db));
    PQclear(r);
    PQfinish(db);
}

static void test_contract_pg(void **state)
{
    (void)state;
    const char *base = getenv("PARLEY_TEST_PG");
    if (!base || !*base) skip();
    char name[64], sql[160], url[1024];
    snprintf(name, sizeof(name), "parley_rows_%ld", (long)getpid());
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
    admin(base, sql);
    /* the base URL with its database replaced */
    const char *slash = strrchr(base, '/');
    assert_non_null(slash);
    snprintf(url, sizeof(url), "%.*s/%s", (int)(slash - base), base, name);
    contract(&store_pg_ops, url);
    snprintf(sql, sizeof(sql), "DROP DATABASE %s WITH (FORCE)", name);
    admin(base, sql);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_users_sql),
        cmocka_unit_test(test_contract_sqlite),
#ifndef NO_STORE_PG
        cmocka_unit_test(test_contract_pg),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
