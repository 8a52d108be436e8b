/* The one clock: every "now" of the domain (dates of rows, timers, webhook retry and backoff times) is
 * time_now_ms(). Durations measured for timeouts and latency use clock_mono_ms() instead, which no
 * test clock moves.
 *
 * Real mode (the default): the system's CLOCK_REALTIME. Test mode (--test-clock, clock_test_enable):
 * the clock can be frozen, advanced and set forward; it never goes back. A frozen clock stands still
 * until it is advanced or resumed; a resumed one runs at real speed from where it stood. The test clock
 * is process-local: two servers on one database each have their own.
 *
 * Thread-safe: readers take no lock (atomics); the few writers serialise on a mutex. */
#ifndef PARLEY_CLOCK_H
#define PARLEY_CLOCK_H
#include <pthread.h>
#include <time.h>

/* Longest single move of the test clock: 10 years. */
#define CLOCK_MOVE_MAX_MS (10LL * 365 * 86400 * 1000)

long long time_now_ms(void);
/* Milliseconds of CLOCK_MONOTONIC: for durations only (never a date). */
long long clock_mono_ms(void);
/* The system's real time, which no test clock moves: for times stored for other processes to compare
 * against theirs (the outbox's claim leases) and the time order of new SIDs (util/sid.c), never for a
 * date of the domain. */
long long clock_wall_ms(void);

/* Test mode: called once at start-up, before any thread reads the clock. */
void clock_test_enable(void);
int clock_test_enabled(void);
int clock_frozen(void);

/* Each returns 0, or -1 (nothing changes) outside test mode or when the move is refused. */
int clock_freeze(long long ms);  /* stand still at ms, or at now when ms is earlier */
int clock_advance(long long ms); /* 0 < ms <= CLOCK_MOVE_MAX_MS, frozen or running */
int clock_set(long long ms);     /* jump to ms (not before now), staying frozen or running */
int clock_resume(void);          /* a frozen clock runs again from where it stands */

/* Condition variables that wait on the monotonic clock, so that neither a test clock move nor a
 * change of the system time stretches or cuts a wait: clock_cond_init makes one, clock_deadline_in
 * gives the deadline ms from now for its pthread_cond_timedwait. */
int clock_cond_init(pthread_cond_t *cv);
void clock_deadline_in(struct timespec *ts, long long ms);

/* A sleeper on the clock: a thread waiting for a clock time wakes when that time comes, when the test
 * clock moves, or when someone wakes it. At most CLOCK_SLEEPERS_MAX exist at once. */
#define CLOCK_SLEEPERS_MAX 8
struct clock_sleeper {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* on CLOCK_MONOTONIC */
    int woken;
    int registered;
};

/* 0, or -1 (no room, or the primitives could not be made). */
int clock_sleeper_init(struct clock_sleeper *s);
void clock_sleeper_destroy(struct clock_sleeper *s);
/* Wakes s's wait under way, or makes its next one return at once. Any thread. */
void clock_sleeper_wake(struct clock_sleeper *s);
/* Sleeps until time_now_ms() >= due_ms, a wake, a clock move, or max_wait_ms of real time, whichever
 * comes first. Returns 1 when woken (by a wake or a clock move), else 0. */
int clock_sleep_until(struct clock_sleeper *s, long long due_ms, long long max_wait_ms);

#endif
