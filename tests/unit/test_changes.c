/* The change log (store/changes.h) on every engine: records in order with their fields, per account,
 * appended in the writing transaction (a rolled-back write leaves no record and no gap), sequence
 * numbers without gaps or repeats when two servers' connections record at once, and pruning by age. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engines_fixture.h"
#include "store/changes.h"
#include "util/clock.h"

#define MAX_SEEN 128
#define PER_THREAD 20 /* transactions each concurrent recorder commits */

ENGINE_GROUPS("changes")

struct seen {
    int n;
    long long seq[MAX_SEEN];
    char sid[MAX_SEEN][40];
    char kind[MAX_SEEN][16];
    char resource[MAX_SEEN][24];
    int parent_null[MAX_SEEN], service_null[MAX_SEEN];
    long long date[MAX_SEEN];
};

static int collect(void *ctx, const struct change *ch)
{
    struct seen *s = ctx;
    if (s->n == MAX_SEEN) return 1;
    s->seq[s->n] = ch->seq;
    snprintf(s->sid[s->n], sizeof(s->sid[0]), "%s", ch->sid);
    snprintf(s->kind[s->n], sizeof(s->kind[0]), "%s", ch->kind);
    snprintf(s->resource[s->n], sizeof(s->resource[0]), "%s", ch->resource);
    s->parent_null[s->n] = ch->parent_sid == NULL;
    s->service_null[s->n] = ch->service_sid == NULL;
    s->date[s->n] = ch->date_ms;
    s->n++;
    return 0;
}

static void list(struct engine *e, const char *account, long long after, int limit, struct seen *s)
{
    memset(s, 0, sizeof(*s));
    assert_int_equal(store_change_list(e->r, account, after, limit, collect, s), ST_OK);
}

/* A second account (with its default service) beside the fixture's one. */
static void other_account(struct engine *e, struct account *a)
{
    struct service_config cfg;
    fixture_account(e->w, a, &cfg);
    assert_int_equal(e->w->ops->tx_commit(e->w), ST_OK);
}

static void test_ordered_per_account(void **state)
{
    struct engine *e = engine(state);
    struct account b;
    other_account(e, &b);
    const char *a = e->acct.sid, *svc = e->acct.default_service_sid;
    assert_int_equal(clock_freeze(time_now_ms()), 0);
    long long t0 = time_now_ms();
    assert_int_equal(e->w->ops->tx_begin(e->w), ST_OK);
    assert_int_equal(store_change_record(e->w, a, svc, "user", "US1", NULL, "created"), ST_OK);
    assert_int_equal(store_change_record(e->w, b.sid, NULL, "credential", "CR1", NULL, "created"), ST_OK);
    assert_int_equal(store_change_record(e->w, a, svc, "participant", "MB1", "CH1", "created"), ST_OK);
    assert_int_equal(e->w->ops->tx_commit(e->w), ST_OK);
    assert_int_equal(clock_advance(1000), 0);
    assert_int_equal(e->w->ops->tx_begin(e->w), ST_OK);
    assert_int_equal(store_change_record(e->w, a, svc, "user", "US1", NULL, "updated"), ST_OK);
    assert_int_equal(store_change_record(e->w, a, svc, "user", "US1", NULL, "deleted"), ST_OK);
    assert_int_equal(store_change_record(e->w, b.sid, NULL, "credential", "CR1", NULL, "deleted"), ST_OK);
    /* a bad record is refused */
    assert_int_equal(store_change_record(e->w, a, svc, "user", "US1", NULL, "renamed"), ST_ERROR);
    assert_int_equal(store_change_record(e->w, a, svc, NULL, "US1", NULL, "created"), ST_ERROR);
    assert_int_equal(e->w->ops->tx_commit(e->w), ST_OK);
    assert_int_equal(clock_resume(), 0);

    struct seen s;
    list(e, a, 0, 100, &s);
    assert_int_equal(s.n, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(s.seq[i], i + 1); /* per account: 1, 2, 3, 4 */
    assert_string_equal(s.resource[0], "user");
    assert_string_equal(s.kind[0], "created");
    assert_int_equal(s.date[0], t0); /* the clock's time */
    assert_true(s.parent_null[0]);
    assert_false(s.service_null[0]);
    assert_string_equal(s.resource[1], "participant");
    assert_false(s.parent_null[1]);
    assert_string_equal(s.kind[2], "updated");
    assert_int_equal(s.date[2], t0 + 1000);
    assert_string_equal(s.kind[3], "deleted");
    /* after and limit */
    list(e, a, 2, 1, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.seq[0], 3);
    list(e, a, 4, 10, &s);
    assert_int_equal(s.n, 0);
    /* the other account sees its own only */
    list(e, b.sid, 0, 100, &s);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.sid[0], "CR1");
    assert_true(s.service_null[0]);
    assert_int_equal(s.seq[1], 2);
    assert_int_equal(store_change_list(e->r, a, 0, 0, collect, &s), ST_ERROR);
    assert_int_equal(store_change_list(e->r, a, 0, CHANGES_PAGE_MAX + 1, collect, &s), ST_ERROR);
}

static void test_rolled_back_write_leaves_no_record(void **state)
{
    struct engine *e = engine(state);
    const char *a = e->acct.sid;
    struct seen s;
    list(e, a, 0, 1000, &s);
    long long last = s.n ? s.seq[s.n - 1] : 0;
    assert_int_equal(e->w->ops->tx_begin(e->w), ST_OK);
    assert_int_equal(store_change_record(e->w, a, NULL, "role", "RL1", NULL, "created"), ST_OK);
    e->w->ops->tx_rollback(e->w);
    list(e, a, last, 100, &s);
    assert_int_equal(s.n, 0);
    /* a job rolled back to its savepoint (the writer's way) takes its record with it */
    assert_int_equal(e->w->ops->tx_begin(e->w), ST_OK);
    assert_int_equal(e->w->ops->savepoint(e->w), ST_OK);
    assert_int_equal(store_change_record(e->w, a, NULL, "role", "RL2", NULL, "created"), ST_OK);
    e->w->ops->savepoint_rollback(e->w);
    assert_int_equal(e->w->ops->savepoint_release(e->w), ST_OK);
    assert_int_equal(store_change_record(e->w, a, NULL, "role", "RL3", NULL, "created"), ST_OK);
    assert_int_equal(e->w->ops->tx_commit(e->w), ST_OK);
    list(e, a, last, 100, &s);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.sid[0], "RL3");
    assert_int_equal(s.seq[0], last + 1); /* no gap where the rolled-back ones were */
}

struct recorder {
    struct store_conn *c;
    const char *account;
    const char *name;
    pthread_barrier_t *start;
    int committed;
};

static void *recorder_main(void *arg)
{
    struct recorder *k = arg;
    pthread_barrier_wait(k->start);
    for (int tries = 0; k->committed < PER_THREAD && tries < PER_THREAD * 50; tries++) {
        if (k->c->ops->tx_begin(k->c) != ST_OK) continue;
        char sid[40];
        snprintf(sid, sizeof(sid), "%s%02d", k->name, k->committed);
        int rc = store_change_record(k->c, k->account, NULL, "user", sid, NULL, "created");
        if (rc == ST_OK && k->c->ops->tx_commit(k->c) == ST_OK)
            k->committed++;
        else if (rc != ST_OK)
            k->c->ops->tx_rollback(k->c);
    }
    return NULL;
}

/* Two servers recording for one account at once: every number once, none skipped, and each server's
 * records in its own commit order. */
static void test_concurrent_recorders(void **state)
{
    struct engine *e = engine(state);
    const char *a = e->acct.sid;
    struct seen s;
    list(e, a, 0, 1000, &s);
    long long last = s.n ? s.seq[s.n - 1] : 0;
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, 2);
    struct recorder x = {e->w, a, "x", &start, 0}, y = {e->w2, a, "y", &start, 0};
    pthread_t tx, ty;
    assert_int_equal(pthread_create(&tx, NULL, recorder_main, &x), 0);
    assert_int_equal(pthread_create(&ty, NULL, recorder_main, &y), 0);
    pthread_join(tx, NULL);
    pthread_join(ty, NULL);
    pthread_barrier_destroy(&start);
    assert_int_equal(x.committed, PER_THREAD);
    assert_int_equal(y.committed, PER_THREAD);
    list(e, a, last, 1000, &s);
    assert_int_equal(s.n, 2 * PER_THREAD);
    int next_x = 0, next_y = 0;
    for (int i = 0; i < s.n; i++) {
        assert_int_equal(s.seq[i], last + 1 + i);
        int *next = s.sid[i][0] == 'x' ? &next_x : &next_y;
        assert_int_equal((int)strtol(s.sid[i] + 1, NULL, 10), *next);
        (*next)++;
    }
}

static void test_prune_by_age(void **state)
{
    struct engine *e = engine(state);
    struct account c, d;
    other_account(e, &c);
    other_account(e, &d);
    long long t0 = time_now_ms();
    assert_int_equal(clock_freeze(t0), 0);
    assert_int_equal(e->w->ops->tx_begin(e->w), ST_OK);
    assert_int_equal(store_change_record(e->w, c.sid, NULL, "role", "RLold1", NULL, "created"), ST_OK);
    assert_int_equal(store_change_record(e->w, c.sid, NULL, "role", "RLold2", NULL, "created"), ST_OK);
    assert_int_equal(store_change_record(e->w, d.sid, NULL, "role", "RLd1", NULL, "created"), ST_OK);
    assert_int_equal(store_change_record(e->w, d.sid, NULL, "role", "RLd2", NULL, "deleted"), ST_OK);
    assert_int_equal(e->w->ops->tx_commit(e->w), ST_OK);
    assert_int_equal(clock_advance(86400000), 0);
    assert_int_equal(e->w->ops->tx_begin(e->w), ST_OK);
    assert_int_equal(store_change_record(e->w, c.sid, NULL, "role", "RLnew", NULL, "created"), ST_OK);
    long long deleted = -1;
    assert_int_equal(store_change_prune(e->w, t0 + 1, 1, &deleted), ST_OK); /* bounded */
    assert_int_equal(deleted, 1);
    assert_int_equal(store_change_prune(e->w, t0 + 1, 1000, &deleted), ST_OK);
    assert_true(deleted >= 1); /* the other old one, and the earlier cases' records (of any account) */
    assert_int_equal(store_change_prune(e->w, t0 + 1, 1000, &deleted), ST_OK);
    assert_int_equal(deleted, 0);
    assert_int_equal(e->w->ops->tx_commit(e->w), ST_OK);
    assert_int_equal(clock_resume(), 0);
    struct seen s;
    list(e, c.sid, 0, 100, &s);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.sid[0], "RLnew");
    assert_int_equal(s.seq[0], 3); /* numbering goes on after pruning */
    /* an account whose records are all old keeps its newest one, and numbers on from it */
    list(e, d.sid, 0, 100, &s);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.sid[0], "RLd2");
    assert_int_equal(e->w->ops->tx_begin(e->w), ST_OK);
    assert_int_equal(store_change_prune(e->w, time_now_ms() + 1, 1000, &deleted), ST_OK);
    assert_int_equal(store_change_record(e->w, d.sid, NULL, "role", "RLd3", NULL, "created"), ST_OK);
    assert_int_equal(e->w->ops->tx_commit(e->w), ST_OK);
    list(e, d.sid, 0, 100, &s);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.seq[0], 2);
    assert_int_equal(s.seq[1], 3);
}

int main(void)
{
    clock_test_enable();
    const struct CMUnitTest cases[] = {
        cmocka_unit_test(test_ordered_per_account),
        cmocka_unit_test(test_rolled_back_write_leaves_no_record),
        cmocka_unit_test(test_concurrent_recorders),
        cmocka_unit_test(test_prune_by_age),
    };
    int failed = cmocka_run_group_tests_name("changes: sqlite", cases, setup_sqlite, teardown);
    failed += cmocka_run_group_tests_name("changes: postgres (PARLEY_TEST_PG)", cases, setup_pg, teardown);
    return failed;
}
