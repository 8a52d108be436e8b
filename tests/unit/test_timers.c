/* The durable timer schedule (store/timers.h) on every engine: set, re-set, clear, firing in the order
 * due, re-arming inside fire, a failed fire rolled back and retried later, exactly one fire when two
 * servers' connections claim at once, and the scheduler thread driven by the test clock (it wakes when
 * the clock moves and fires what is overdue when it starts). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "engines_fixture.h"
#include "store/timers.h"
#include "store/writer.h"
#include "util/clock.h"

#define NTARGETS 20 /* timers the two claimers race for */
#define FIRED_LOG_MAX 64

ENGINE_GROUPS("timers")

/* what the fire functions saw, in order */
static char fired_log[FIRED_LOG_MAX][TIMER_TARGET_MAX + 1];
static long long fired_due[FIRED_LOG_MAX];
static atomic_int n_fired;
static atomic_int per_target[NTARGETS];
static int flaky_failures_left;

static void reset_log(void)
{
    atomic_store(&n_fired, 0);
    for (int i = 0; i < NTARGETS; i++)
        atomic_store(&per_target[i], 0);
}

static void log_fire(const char *target, long long due)
{
    int i = atomic_fetch_add(&n_fired, 1);
    if (i < FIRED_LOG_MAX) {
        snprintf(fired_log[i], sizeof(fired_log[i]), "%s", target);
        fired_due[i] = due;
    }
}

static int fire_plain(struct store_conn *c, const char *account_sid, const char *target, long long due)
{
    log_fire(target, due);
    return 0;
}

/* re-arms itself 1000 ms later, while due < 10000 */
static int fire_rearm(struct store_conn *c, const char *account_sid, const char *target, long long due)
{
    log_fire(target, due);
    return due < 10000 ? store_timer_set(c, account_sid, "rearm", target, due + 1000) : 0;
}

/* writes a side effect, then fails while flaky_failures_left > 0: the side effect must go with it */
static int fire_flaky(struct store_conn *c, const char *account_sid, const char *target, long long due)
{
    if (store_timer_set(c, account_sid, "plain", "side-effect", 1000000) != ST_OK) return -1;
    if (flaky_failures_left > 0) {
        flaky_failures_left--;
        return -1;
    }
    log_fire(target, due);
    return 0;
}

/* targets "t<i>": counts each one's fires */
static int fire_count(struct store_conn *c, const char *account_sid, const char *target, long long due)
{
    int i = (int)strtol(target + 1, NULL, 10);
    if (i >= 0 && i < NTARGETS) atomic_fetch_add(&per_target[i], 1);
    return 0;
}

static void begin(struct store_conn *c)
{
    assert_int_equal(c->ops->tx_begin(c), ST_OK);
}
static void commit(struct store_conn *c)
{
    assert_int_equal(c->ops->tx_commit(c), ST_OK);
}

/* Empties the schedule (cases share the database). */
static void clear_all(struct engine *e)
{
    int fired, failed;
    long long next;
    begin(e->w);
    assert_int_equal(timers_run_due(e->w, INT64_MAX / 2, TIMERS_ROUND_MAX, &fired, &failed, &next), ST_OK);
    commit(e->w);
    begin(e->w);
    assert_int_equal(store_timer_clear(e->w, "plain", "side-effect"), ST_OK);
    commit(e->w);
    reset_log();
}

static void run(struct engine *e, long long now, int *fired, int *failed, long long *next)
{
    begin(e->w);
    assert_int_equal(timers_run_due(e->w, now, TIMERS_ROUND_MAX, fired, failed, next), ST_OK);
    commit(e->w);
}

static void test_set_reset_clear(void **state)
{
    struct engine *e = engine(state);
    const char *acct = e->acct.sid;
    long long due = 0;
    assert_int_equal(store_timer_get(e->r, "plain", "CHa", &due), ST_NOT_FOUND);
    begin(e->w);
    assert_int_equal(store_timer_set(e->w, acct, "plain", "CHa", 5000), ST_OK);
    assert_int_equal(store_timer_set(e->w, acct, "plain", "CHb", 7000), ST_OK);
    assert_int_equal(store_timer_set(e->w, acct, "rearm", "CHa", 9000), ST_OK); /* another kind: its own */
    commit(e->w);
    assert_int_equal(store_timer_get(e->r, "plain", "CHa", &due), ST_OK);
    assert_int_equal(due, 5000);
    /* re-set: one pending timer per kind and target, the new time wins (also an earlier one) */
    begin(e->w);
    assert_int_equal(store_timer_set(e->w, acct, "plain", "CHa", 3000), ST_OK);
    commit(e->w);
    assert_int_equal(store_timer_get(e->r, "plain", "CHa", &due), ST_OK);
    assert_int_equal(due, 3000);
    assert_int_equal(store_timer_get(e->r, "rearm", "CHa", &due), ST_OK);
    assert_int_equal(due, 9000);
    /* clear: gone; clearing what is not armed is no error */
    begin(e->w);
    assert_int_equal(store_timer_clear(e->w, "plain", "CHa"), ST_OK);
    assert_int_equal(store_timer_clear(e->w, "plain", "CHa"), ST_OK);
    assert_int_equal(store_timer_clear(e->w, "rearm", "CHa"), ST_OK);
    commit(e->w);
    assert_int_equal(store_timer_get(e->r, "plain", "CHa", &due), ST_NOT_FOUND);
    assert_int_equal(store_timer_get(e->r, "plain", "CHb", &due), ST_OK);
    /* bad names are refused, not stored */
    begin(e->w);
    assert_int_equal(store_timer_set(e->w, acct, "", "CHc", 1), ST_ERROR);
    assert_int_equal(store_timer_set(e->w, acct, "plain", "", 1), ST_ERROR);
    commit(e->w);
    /* a rolled-back set leaves nothing */
    begin(e->w);
    assert_int_equal(store_timer_set(e->w, acct, "plain", "CHd", 1), ST_OK);
    e->w->ops->tx_rollback(e->w);
    assert_int_equal(store_timer_get(e->r, "plain", "CHd", &due), ST_NOT_FOUND);
    clear_all(e);
}

static void test_fire_in_order(void **state)
{
    struct engine *e = engine(state);
    const char *acct = e->acct.sid;
    begin(e->w);
    assert_int_equal(store_timer_set(e->w, acct, "plain", "late", 300), ST_OK);
    assert_int_equal(store_timer_set(e->w, acct, "plain", "first", 100), ST_OK);
    assert_int_equal(store_timer_set(e->w, acct, "plain", "second", 200), ST_OK);
    commit(e->w);
    int fired, failed;
    long long next;
    run(e, 99, &fired, &failed, &next); /* nothing due yet */
    assert_int_equal(fired, 0);
    assert_int_equal(next, 100);
    run(e, 250, &fired, &failed, &next);
    assert_int_equal(fired, 2);
    assert_int_equal(failed, 0);
    assert_int_equal(atomic_load(&n_fired), 2);
    assert_string_equal(fired_log[0], "first");
    assert_int_equal(fired_due[0], 100);
    assert_string_equal(fired_log[1], "second");
    assert_int_equal(next, 300);
    /* fired timers are gone: a second round at the same time fires nothing again */
    run(e, 250, &fired, &failed, &next);
    assert_int_equal(fired, 0);
    run(e, 300, &fired, &failed, &next);
    assert_int_equal(fired, 1);
    assert_string_equal(fired_log[2], "late");
    assert_int_equal(next, 0);
    clear_all(e);
}

static void test_rearm_inside_fire(void **state)
{
    struct engine *e = engine(state);
    begin(e->w);
    assert_int_equal(store_timer_set(e->w, e->acct.sid, "rearm", "CHr", 8000), ST_OK);
    commit(e->w);
    int fired, failed;
    long long next, due = 0;
    run(e, 8500, &fired, &failed, &next);
    assert_int_equal(fired, 1);
    assert_int_equal(next, 9000);
    assert_int_equal(store_timer_get(e->r, "rearm", "CHr", &due), ST_OK);
    assert_int_equal(due, 9000);
    run(e, 8999, &fired, &failed, &next); /* the new one is not due yet */
    assert_int_equal(fired, 0);
    run(e, 20000, &fired, &failed, &next); /* 9000 fires and re-arms at 10000, which is due too... */
    assert_int_equal(fired, 1);            /* ...but waits for the next round */
    run(e, 20000, &fired, &failed, &next);
    assert_int_equal(fired, 1);
    assert_int_equal(fired_due[2], 10000);
    assert_int_equal(next, 0); /* due 10000 does not re-arm */
    clear_all(e);
}

static void test_failed_fire_is_retried(void **state)
{
    struct engine *e = engine(state);
    begin(e->w);
    assert_int_equal(store_timer_set(e->w, e->acct.sid, "flaky", "CHf", 1000), ST_OK);
    commit(e->w);
    flaky_failures_left = 2;
    int fired, failed;
    long long next, due;
    run(e, 1000, &fired, &failed, &next);
    assert_int_equal(fired, 0);
    assert_int_equal(failed, 1);
    assert_int_equal(next, 1000 + TIMER_RETRY_MIN_MS); /* tried again later, not in a loop */
    /* rolled back: the timer is still armed for its own time, and the fire's side effect is gone */
    assert_int_equal(store_timer_get(e->r, "flaky", "CHf", &due), ST_OK);
    assert_int_equal(due, 1000);
    assert_int_equal(store_timer_get(e->r, "plain", "side-effect", &due), ST_NOT_FOUND);
    run(e, 1000 + TIMER_RETRY_MIN_MS - 1, &fired, &failed, &next);
    assert_int_equal(fired + failed, 0);
    run(e, 1000 + TIMER_RETRY_MIN_MS, &fired, &failed, &next); /* fails again: the delay doubles */
    assert_int_equal(failed, 1);
    assert_int_equal(next, 1000 + 3 * TIMER_RETRY_MIN_MS);
    run(e, 1000 + 3 * TIMER_RETRY_MIN_MS, &fired, &failed, &next);
    assert_int_equal(fired, 1);
    assert_int_equal(fired_due[0], 1000); /* fire is told when it was due */
    assert_int_equal(store_timer_get(e->r, "flaky", "CHf", &due), ST_NOT_FOUND);
    assert_int_equal(store_timer_get(e->r, "plain", "side-effect", &due), ST_OK); /* kept this time */
    /* a kind nobody registered is not lost: it waits */
    begin(e->w);
    assert_int_equal(store_timer_set(e->w, e->acct.sid, "unknown-kind", "CHu", 5), ST_OK);
    commit(e->w);
    run(e, 10, &fired, &failed, &next);
    assert_int_equal(failed, 1);
    assert_int_equal(store_timer_get(e->r, "unknown-kind", "CHu", &due), ST_OK);
    begin(e->w);
    assert_int_equal(store_timer_clear(e->w, "unknown-kind", "CHu"), ST_OK);
    commit(e->w);
    clear_all(e);
}

static void arm_targets(struct engine *e)
{
    begin(e->w);
    for (int i = 0; i < NTARGETS; i++) {
        char t[16];
        snprintf(t, sizeof(t), "t%d", i);
        assert_int_equal(store_timer_set(e->w, e->acct.sid, "count", t, 100 + i), ST_OK);
    }
    commit(e->w);
}

static void assert_each_fired_once(void)
{
    for (int i = 0; i < NTARGETS; i++)
        assert_int_equal(atomic_load(&per_target[i]), 1);
}

/* Two servers: while the first holds its claims uncommitted, the second's round skips them
 * (PostgreSQL; SQLite's second writer cannot even begin until the first commits). */
static void test_two_claimers_interleaved(void **state)
{
    struct engine *e = engine(state);
    if (e->ops != &store_pg_ops) skip();
    arm_targets(e);
    int fired, failed, fired2, failed2;
    long long next;
    begin(e->w);
    assert_int_equal(timers_run_due(e->w, 1000, TIMERS_ROUND_MAX, &fired, &failed, &next), ST_OK);
    begin(e->w2);
    assert_int_equal(timers_run_due(e->w2, 1000, TIMERS_ROUND_MAX, &fired2, &failed2, &next), ST_OK);
    commit(e->w2);
    commit(e->w);
    assert_int_equal(fired, NTARGETS);
    assert_int_equal(fired2, 0);
    assert_each_fired_once();
    clear_all(e);
}

struct claimer {
    struct store_conn *c;
    pthread_barrier_t *start;
    int fired;
};

static void *claimer_main(void *arg)
{
    struct claimer *k = arg;
    pthread_barrier_wait(k->start);
    /* a round that meets the other's lock (busy) runs again, as the writer would */
    for (int attempt = 0; attempt < 50; attempt++) {
        int fired = 0, failed;
        long long next;
        if (k->c->ops->tx_begin(k->c) != ST_OK) continue;
        int rc = timers_run_due(k->c, 1000, TIMERS_ROUND_MAX, &fired, &failed, &next);
        if (rc == ST_OK && k->c->ops->tx_commit(k->c) == ST_OK) {
            k->fired += fired;
            break;
        }
        if (rc != ST_OK) k->c->ops->tx_rollback(k->c);
    }
    return NULL;
}

/* Two servers at once, in threads: every timer fires exactly once between them. */
static void test_two_claimers_at_once(void **state)
{
    struct engine *e = engine(state);
    arm_targets(e);
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, 2);
    struct claimer a = {e->w, &start, 0}, b = {e->w2, &start, 0};
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, claimer_main, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, claimer_main, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    pthread_barrier_destroy(&start);
    assert_int_equal(a.fired + b.fired, NTARGETS);
    assert_each_fired_once();
    clear_all(e);
}

/* ---- the scheduler ---- */

struct arm_job {
    struct write_job job;
    const char *account, *kind, *target;
    long long due;
};

static int arm_apply(struct store_conn *c, struct write_job *job)
{
    struct arm_job *j = (struct arm_job *)job;
    return store_timer_set(c, j->account, j->kind, j->target, j->due) != ST_OK;
}
static void arm_complete(struct write_job *job, int committed, int store_result) {}

static void arm(struct writer *w, struct engine *e, const char *kind, const char *target, long long due)
{
    struct arm_job j = {{.apply = arm_apply, .complete = arm_complete}, e->acct.sid, kind, target, due};
    assert_int_equal(writer_run_sync(w, &j.job), 0);
}

static void test_scheduler_follows_the_clock(void **state)
{
    struct engine *e = engine(state);
    long long t0 = time_now_ms();
    assert_int_equal(clock_freeze(t0), 0);
    struct writer *w;
    assert_int_equal(writer_start(&w, e->w, 16), 0);
    /* overdue before the scheduler starts (a restart): fired at start */
    arm(w, e, "plain", "overdue", t0 - 5000);
    assert_int_equal(timers_start(w, e->ops == &store_pg_ops), 0);
    assert_int_equal(timers_register("late-kind", fire_plain), -1); /* the registry is closed */
    assert_int_equal(timers_settle(5000), 0);
    assert_int_equal(atomic_load(&n_fired), 1);
    assert_string_equal(fired_log[0], "overdue");

    /* an hour ahead: nothing while the clock stands, everything once it is advanced */
    arm(w, e, "plain", "in-an-hour", t0 + 3600000);
    assert_int_equal(timers_settle(5000), 0);
    assert_int_equal(atomic_load(&n_fired), 1);
    assert_int_equal(clock_advance(3599999), 0);
    assert_int_equal(timers_settle(5000), 0);
    assert_int_equal(atomic_load(&n_fired), 1);
    long long before = clock_mono_ms();
    assert_int_equal(clock_advance(1), 0);
    assert_int_equal(timers_settle(5000), 0);
    assert_int_equal(atomic_load(&n_fired), 2);
    assert_string_equal(fired_log[1], "in-an-hour");
    assert_true(clock_mono_ms() - before < TIMERS_RESCAN_MS); /* woken by the move, not by a rescan */

    /* armed while the scheduler sleeps, already due: the set wakes it */
    arm(w, e, "plain", "now", time_now_ms());
    assert_int_equal(timers_settle(5000), 0);
    assert_int_equal(atomic_load(&n_fired), 3);

    timers_stop();
    writer_stop(w);
    assert_int_equal(clock_resume(), 0);
    clear_all(e);
}

/* A due timer that another server holds (its transaction has the row locked): the scheduler skips it and
 * looks again every TIMERS_HELD_MS, not in a busy loop, and fires it once the other lets go. */
static void test_scheduler_waits_for_a_held_timer(void **state)
{
    struct engine *e = engine(state);
    if (e->ops != &store_pg_ops) skip(); /* SQLite's other writer could not even begin */
    struct writer *w;
    assert_int_equal(writer_start(&w, e->w, 16), 0);
    arm(w, e, "plain", "held", time_now_ms() - 1);
    begin(e->w2);
    assert_int_equal(store_timer_set(e->w2, e->acct.sid, "plain", "held", time_now_ms() - 1), ST_OK);
    assert_int_equal(timers_start(w, 1), 0);
    usleep(600000);
    unsigned long rounds = timers_rounds();
    assert_int_equal(atomic_load(&n_fired), 0);
    assert_true(rounds >= 2 && rounds <= 600 / TIMERS_HELD_MS + 2);
    e->w2->ops->tx_rollback(e->w2);
    long long m0 = clock_mono_ms();
    while (atomic_load(&n_fired) == 0 && clock_mono_ms() - m0 < 5000)
        usleep(10000);
    assert_int_equal(atomic_load(&n_fired), 1);
    assert_string_equal(fired_log[0], "held");
    timers_stop();
    writer_stop(w);
    clear_all(e);
}

int main(void)
{
    clock_test_enable();
    if (timers_register("plain", fire_plain) || timers_register("rearm", fire_rearm) ||
        timers_register("flaky", fire_flaky) || timers_register("count", fire_count))
        return 1;
    if (timers_register("plain", fire_plain) == 0) return 1; /* a duplicate is refused */
    const struct CMUnitTest cases[] = {
        cmocka_unit_test(test_set_reset_clear),
        cmocka_unit_test(test_fire_in_order),
        cmocka_unit_test(test_rearm_inside_fire),
        cmocka_unit_test(test_failed_fire_is_retried),
        cmocka_unit_test(test_two_claimers_interleaved),
        cmocka_unit_test(test_two_claimers_at_once),
        cmocka_unit_test(test_scheduler_follows_the_clock),
        cmocka_unit_test(test_scheduler_waits_for_a_held_timer),
    };
    int failed = cmocka_run_group_tests_name("timers: sqlite", cases, setup_sqlite, teardown);
    failed += cmocka_run_group_tests_name("timers: postgres (PARLEY_TEST_PG)", cases, setup_pg, teardown);
    return failed;
}
