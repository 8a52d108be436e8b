/* The address configurations' store (store/address_configs.h) on a fresh SQLite file and, when
 * PARLEY_TEST_PG names a PostgreSQL cluster, on a fresh database there: get by SID and by address, the
 * lookup inbound traffic makes by (account, address, type), one configuration per address per account, the
 * Type filter over keyset pages, update and delete, and a deleted service's reference cleared by the reap. */
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
#include "store/address_configs.h"
#include "util/arena.h"

#define TARGET_MAX 512
#define MAX_ROWS 16
#define REAP_CALLS_MAX 20

struct engine {
    const struct store_ops *ops;
    char target[TARGET_MAX];
    char dbname[64];
    char dir[256];
    int skip;
    struct store_conn *w, *r;
    struct arena a;
    struct account acct[2]; /* two accounts, each with its default service */
};

static struct engine sqlite_engine, pg_engine;

static int open_engine(struct engine *e)
{
    arena_init(&e->a);
    if (e->ops->open(e->target, 1, 0, &e->w) != ST_OK || e->w->ops->migrate(e->w) != ST_OK) return -1;
    if (e->ops->open(e->target, 0, 0, &e->r) != ST_OK) return -1;
    for (int i = 0; i < 2; i++) {
        struct service_config cfg;
        fixture_account(e->w, &e->acct[i], &cfg); /* leaves its transaction open */
        if (e->w->ops->tx_commit(e->w) != ST_OK) return -1;
    }
    return 0;
}

static int setup_sqlite(void **state)
{
    struct engine *e = &sqlite_engine;
    e->ops = &store_sqlite_ops;
    *state = e;
    if (fixture_tmpdir(e->dir, sizeof(e->dir), "store-address-configs") != 0) return -1;
    int n = snprintf(e->target, sizeof(e->target), "%s/store.db", e->dir);
    if (n < 0 || (size_t)n >= sizeof(e->target)) return -1;
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
    snprintf(e->dbname, sizeof(e->dbname), "parley_store_addr_%ld", (long)getpid());
    char sql[128];
    snprintf(sql, sizeof(sql), "CREATE DATABASE %.63s", e->dbname);
    if (fixture_pg_admin(base, sql) != 0 ||
        fixture_pg_url_for(base, e->dbname, e->target, sizeof(e->target)) != 0)
        return -1;
#endif
    return open_engine(e);
}

static int teardown(void **state)
{
    struct engine *e = *state;
    if (e->r) e->r->ops->close(e->r);
    if (e->w) e->w->ops->close(e->w);
    if (!e->skip) arena_free(&e->a);
    if (e->dir[0]) {
        char path[TARGET_MAX + 8];
        const char *suffix[] = {"", "-wal", "-shm", ".key", ".lock"};
        for (int i = 0; i < 5; i++) {
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

static struct address_config config(const struct account *a, const char *type, const char *address)
{
    struct address_config ac = {
        .type = (char *)type,
        .address = (char *)address,
        .auto_enabled = -1,
        .studio_retry_count = -1,
        .date_created = 5000,
        .date_updated = 5000,
    };
    sid_new(ac.sid, "IG");
    memcpy(ac.account_sid, a->sid, sizeof(ac.account_sid));
    return ac;
}

/* Inserts ac in a transaction of its own; the store's answer. */
static int insert(struct engine *e, struct address_config *ac)
{
    assert_int_equal(e->w->ops->tx_begin(e->w), ST_OK);
    int rc = store_address_config_insert(e->w, ac);
    if (rc == ST_OK)
        assert_int_equal(e->w->ops->tx_commit(e->w), ST_OK);
    else
        e->w->ops->tx_rollback(e->w);
    return rc;
}

struct rows {
    int n;
    long long id[MAX_ROWS];
    char sid[MAX_ROWS][SID_LEN + 1];
};

static int collect(void *ctx, const struct address_config *ac)
{
    struct rows *rs = ctx;
    if (rs->n < MAX_ROWS) {
        rs->id[rs->n] = ac->id;
        memcpy(rs->sid[rs->n], ac->sid, SID_LEN + 1);
    }
    rs->n++;
    return 0;
}

static struct rows list(struct engine *e, const struct account *a, const char *type, long long after,
                        int limit)
{
    struct rows rs = {0};
    struct page_req p = {.dir = 'a', .after = after, .limit = limit};
    assert_int_equal(store_address_config_list(e->r, a->sid, type, &p, collect, &rs), ST_OK);
    return rs;
}

static void test_get_find_and_uniqueness(void **state)
{
    struct engine *e = engine(state);
    const struct account *a = &e->acct[0], *b = &e->acct[1];
    struct address_config sms = config(a, "sms", "+13115552368");
    sms.friendly_name = "front desk";
    sms.auto_enabled = 1;
    sms.auto_type = "webhook";
    sms.service_sid = (char *)a->default_service_sid;
    sms.webhook_url = "https://example.com/in";
    sms.webhook_filters = "[\"onMessageAdded\"]";
    assert_int_equal(insert(e, &sms), ST_OK);
    assert_true(sms.id > 0);

    struct address_config got;
    assert_int_equal(store_address_config_get(e->r, a->sid, sms.sid, 1, &e->a, &got), ST_OK);
    assert_string_equal(got.address, "+13115552368");
    assert_string_equal(got.friendly_name, "front desk");
    assert_int_equal(got.auto_enabled, 1);
    assert_string_equal(got.service_sid, a->default_service_sid);
    assert_string_equal(got.webhook_filters, "[\"onMessageAdded\"]");
    assert_null(got.webhook_method);
    assert_null(got.address_country);
    assert_int_equal(got.studio_retry_count, -1);
    assert_int_equal(store_address_config_get(e->r, a->sid, "+13115552368", 0, &e->a, &got), ST_OK);
    assert_string_equal(got.sid, sms.sid);

    /* what an inbound message looks up: the address on its channel, of this account only */
    assert_int_equal(store_address_config_find(e->r, a->sid, "+13115552368", "sms", &e->a, &got), ST_OK);
    assert_string_equal(got.sid, sms.sid);
    assert_int_equal(store_address_config_find(e->r, a->sid, "+13115552368", "whatsapp", &e->a, &got),
                     ST_NOT_FOUND);
    assert_int_equal(store_address_config_find(e->r, a->sid, "+13115552369", "sms", &e->a, &got),
                     ST_NOT_FOUND);
    assert_int_equal(store_address_config_find(e->r, b->sid, "+13115552368", "sms", &e->a, &got),
                     ST_NOT_FOUND);
    assert_int_equal(store_address_config_get(e->r, b->sid, sms.sid, 1, &e->a, &got), ST_NOT_FOUND);

    /* one per address per account; another account may configure it */
    struct address_config again = config(a, "sms", "+13115552368");
    assert_int_equal(insert(e, &again), ST_CONFLICT);
    struct address_config theirs = config(b, "sms", "+13115552368");
    assert_int_equal(insert(e, &theirs), ST_OK);
    assert_int_equal(store_address_config_find(e->r, b->sid, "+13115552368", "sms", &e->a, &got), ST_OK);
    assert_string_equal(got.sid, theirs.sid);
    assert_int_equal(list(e, a, NULL, 0, 50).n, 1);
}

static void test_type_filter_and_pages(void **state)
{
    struct engine *e = engine(state);
    const struct account *a = &e->acct[0];
    const char *types[] = {"whatsapp", "email", "whatsapp", "sms", "whatsapp"};
    const char *addresses[] = {"whatsapp:+13115550001", "a@example.com", "whatsapp:+13115550002",
                               "+13115550003", "whatsapp:+13115550004"};
    for (int i = 0; i < 5; i++) {
        struct address_config ac = config(a, types[i], addresses[i]);
        assert_int_equal(insert(e, &ac), ST_OK);
    }
    assert_int_equal(list(e, a, NULL, 0, 50).n, 6); /* with the first case's */
    assert_int_equal(list(e, a, "sms", 0, 50).n, 2);
    assert_int_equal(list(e, a, "email", 0, 50).n, 1);
    assert_int_equal(list(e, a, "chat", 0, 50).n, 0);
    /* pages of two whatsapp rows: limit + 1 rows come back, in id order */
    struct rows p1 = list(e, a, "whatsapp", 0, 2);
    assert_int_equal(p1.n, 3);
    assert_true(p1.id[0] < p1.id[1] && p1.id[1] < p1.id[2]);
    struct rows p2 = list(e, a, "whatsapp", p1.id[1], 2);
    assert_int_equal(p2.n, 1);
    assert_string_equal(p2.sid[0], p1.sid[2]);
}

static void test_update_delete_and_service_reap(void **state)
{
    struct engine *e = engine(state);
    const struct account *a = &e->acct[0];
    /* a second service that a configuration names, then deleted */
    char svc[SID_LEN + 1];
    sid_new(svc, "IS");
    assert_int_equal(e->w->ops->tx_begin(e->w), ST_OK);
    assert_int_equal(services_insert_with_defaults(e->w, a->sid, "doomed", 1, svc), ST_OK);
    assert_int_equal(e->w->ops->tx_commit(e->w), ST_OK);

    struct address_config ac = config(a, "rcs", "rcs:brand_agent");
    assert_int_equal(insert(e, &ac), ST_OK);
    struct address_config got;
    assert_int_equal(store_address_config_get(e->w, a->sid, ac.sid, 1, &e->a, &got), ST_OK);
    got.friendly_name = "renamed";
    got.auto_type = "studio";
    got.studio_flow_sid = "FW00000000000000000000000000000001";
    got.studio_retry_count = 2;
    got.service_sid = svc;
    got.address = "rcs:changed"; /* immutable: not written */
    got.date_updated = 6000;
    assert_int_equal(e->w->ops->tx_begin(e->w), ST_OK);
    assert_int_equal(store_address_config_update(e->w, &got, NULL), ST_OK);
    assert_int_equal(e->w->ops->tx_commit(e->w), ST_OK);
    assert_int_equal(store_address_config_get(e->r, a->sid, "rcs:brand_agent", 0, &e->a, &got), ST_OK);
    assert_string_equal(got.friendly_name, "renamed");
    assert_string_equal(got.auto_type, "studio");
    assert_int_equal(got.studio_retry_count, 2);
    assert_string_equal(got.service_sid, svc);
    assert_int_equal(got.date_created, 5000);
    assert_int_equal(got.date_updated, 6000);

    /* the service goes: once reaped, the configuration names none (the default service) */
    assert_int_equal(e->w->ops->tx_begin(e->w), ST_OK);
    assert_int_equal(store_service_delete(e->w, a->sid, svc), ST_OK);
    assert_int_equal(e->w->ops->tx_commit(e->w), ST_OK);
    int more = 1, calls = 0;
    while (more) {
        assert_true(++calls <= REAP_CALLS_MAX);
        assert_int_equal(e->w->ops->tx_begin(e->w), ST_OK);
        assert_int_equal(store_service_reap(e->w, 100, &more), ST_OK);
        assert_int_equal(e->w->ops->tx_commit(e->w), ST_OK);
    }
    assert_int_equal(store_address_config_get(e->r, a->sid, ac.sid, 1, &e->a, &got), ST_OK);
    assert_null(got.service_sid);
    assert_string_equal(got.studio_flow_sid, "FW00000000000000000000000000000001");

    /* delete: by SID of its account only */
    assert_int_equal(e->w->ops->tx_begin(e->w), ST_OK);
    assert_int_equal(store_address_config_delete(e->w, e->acct[1].sid, ac.sid), ST_NOT_FOUND);
    assert_int_equal(store_address_config_delete(e->w, a->sid, ac.sid), ST_OK);
    assert_int_equal(store_address_config_delete(e->w, a->sid, ac.sid), ST_NOT_FOUND);
    assert_int_equal(e->w->ops->tx_commit(e->w), ST_OK);
    assert_int_equal(store_address_config_find(e->r, a->sid, "rcs:brand_agent", "rcs", &e->a, &got),
                     ST_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest cases[] = {
        cmocka_unit_test(test_get_find_and_uniqueness),
        cmocka_unit_test(test_type_filter_and_pages),
        cmocka_unit_test(test_update_delete_and_service_reap),
    };
    int failed = cmocka_run_group_tests_name("address configs: sqlite", cases, setup_sqlite, teardown);
    failed +=
        cmocka_run_group_tests_name("address configs: postgres (PARLEY_TEST_PG)", cases, setup_pg, teardown);
    return failed;
}
