/* The one clock (util/clock.h): real time by default, where nothing can move it; with the test clock,
 * freeze, advance, set forward (never back), resume; sleepers woken by a move, by a wake, by their time. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/clock.h"

#define HOUR_MS 3600000LL

static long long real_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs first: the test clock is off until clock_test_enable. */
static void test_real_mode_cannot_move(void **state)
{
    assert_false(clock_test_enabled());
    long long a = real_now(), now = time_now_ms(), b = real_now();
    assert_true(a <= now && now <= b);
    assert_int_equal(clock_freeze(now), -1);
    assert_int_equal(clock_advance(1000), -1);
    assert_int_equal(clock_set(now + HOUR_MS), -1);
    assert_int_equal(clock_resume(), -1);
    assert_false(clock_frozen());
    long long m0 = clock_mono_ms();
    usleep(2000);
    assert_true(clock_mono_ms() > m0);
}

static void test_freeze_advance_set_resume(void **state)
{
    clock_test_enable();
    long long t = time_now_ms();
    assert_int_equal(clock_freeze(t), 0);
    assert_true(clock_frozen());
    usleep(5000);
    assert_int_equal(time_now_ms(), t); /* stands still */
    assert_int_equal(clock_advance(HOUR_MS), 0);
    assert_int_equal(time_now_ms(), t + HOUR_MS);
    /* moves out of range are refused and change nothing */
    assert_int_equal(clock_advance(0), -1);
    assert_int_equal(clock_advance(-1), -1);
    assert_int_equal(clock_advance(CLOCK_MOVE_MAX_MS + 1), -1);
    assert_int_equal(clock_set(t), -1); /* back */
    assert_int_equal(clock_set(t + HOUR_MS + CLOCK_MOVE_MAX_MS + 1), -1);
    assert_int_equal(time_now_ms(), t + HOUR_MS);
    assert_int_equal(clock_advance(CLOCK_MOVE_MAX_MS), 0); /* the bound itself is allowed */
    assert_int_equal(time_now_ms(), t + HOUR_MS + CLOCK_MOVE_MAX_MS);
    long long far = t + HOUR_MS + CLOCK_MOVE_MAX_MS;
    assert_int_equal(clock_set(far + 5), 0);
    assert_int_equal(time_now_ms(), far + 5);
    assert_int_equal(clock_set(far + 5), 0); /* the same time is not back */
    /* the wall clock (claim leases) is the real time whatever the test clock did */
    long long w0 = real_now(), w = clock_wall_ms(), w1 = real_now();
    assert_true(w0 <= w && w <= w1);
    /* freezing earlier than now stops the clock where it is */
    assert_int_equal(clock_freeze(t), 0);
    assert_int_equal(time_now_ms(), far + 5);
    /* resumed: runs from where it stood, at real speed */
    assert_int_equal(clock_resume(), 0);
    assert_false(clock_frozen());
    long long r0 = time_now_ms();
    assert_true(r0 >= far + 5 && r0 < far + 5 + 1000);
    usleep(20000);
    long long r1 = time_now_ms();
    assert_true(r1 >= r0 + 15 && r1 < r0 + 1000);
    /* a running clock advances too, and keeps running */
    assert_int_equal(clock_advance(HOUR_MS), 0);
    assert_true(time_now_ms() >= r1 + HOUR_MS);
    assert_int_equal(clock_set(time_now_ms() + HOUR_MS), 0);
    assert_true(time_now_ms() >= r1 + 2 * HOUR_MS);
    assert_false(clock_frozen());
}

struct sleeper_run {
    struct clock_sleeper *s;
    long long due;
    int woken;
    long long slept_ms;
};

static void *sleep_main(void *arg)
{
    struct sleeper_run *r = arg;
    long long m0 = clock_mono_ms();
    r->woken = clock_sleep_until(r->s, r->due, 10000);
    r->slept_ms = clock_mono_ms() - m0;
    return NULL;
}

static void test_sleepers(void **state)
{
    clock_test_enable();
    struct clock_sleeper s;
    assert_int_equal(clock_sleeper_init(&s), 0);

    /* a running clock: wakes at its time */
    long long m0 = clock_mono_ms();
    assert_int_equal(clock_sleep_until(&s, time_now_ms() + 30, 10000), 0);
    long long slept = clock_mono_ms() - m0;
    assert_true(slept >= 25 && slept < 2000);
    /* a time already past: at once */
    m0 = clock_mono_ms();
    assert_int_equal(clock_sleep_until(&s, time_now_ms() - 1, 10000), 0);
    assert_true(clock_mono_ms() - m0 < 50);

    /* a frozen clock an hour before the due time: a move wakes the sleeper at once */
    assert_int_equal(clock_freeze(time_now_ms()), 0);
    struct sleeper_run r = {&s, time_now_ms() + HOUR_MS, 0, 0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, sleep_main, &r), 0);
    usleep(50000);
    assert_int_equal(clock_advance(HOUR_MS), 0);
    pthread_join(t, NULL);
    assert_int_equal(r.woken, 1);
    assert_true(r.slept_ms < 5000);

    /* a wake from another thread, and a wake before the wait makes it return at once */
    r = (struct sleeper_run){&s, time_now_ms() + HOUR_MS, 0, 0};
    assert_int_equal(pthread_create(&t, NULL, sleep_main, &r), 0);
    usleep(20000);
    clock_sleeper_wake(&s);
    pthread_join(t, NULL);
    assert_int_equal(r.woken, 1);
    clock_sleeper_wake(&s);
    m0 = clock_mono_ms();
    assert_int_equal(clock_sleep_until(&s, time_now_ms() + HOUR_MS, 10000), 1);
    assert_true(clock_mono_ms() - m0 < 50);
    /* frozen and nobody moves it: max_wait of real time */
    m0 = clock_mono_ms();
    assert_int_equal(clock_sleep_until(&s, time_now_ms() + 10, 40), 0);
    slept = clock_mono_ms() - m0;
    assert_true(slept >= 35 && slept < 2000);
    assert_int_equal(clock_resume(), 0);
    clock_sleeper_destroy(&s);

    /* a bounded number of sleepers */
    struct clock_sleeper many[CLOCK_SLEEPERS_MAX + 1];
    int made = 0;
    while (made <= CLOCK_SLEEPERS_MAX && clock_sleeper_init(&many[made]) == 0)
        made++;
    assert_int_equal(made, CLOCK_SLEEPERS_MAX);
    while (made > 0)
        clock_sleeper_destroy(&many[--made]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_mode_cannot_move),
        cmocka_unit_test(test_freeze_advance_set_resume),
        cmocka_unit_test(test_sleepers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
