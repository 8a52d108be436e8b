#include "util/clock.h"

#include <limits.h>
#include <stdatomic.h>
#include <time.h>

/* Not frozen: the frozen slot holds this. */
#define NOT_FROZEN LLONG_MIN

static atomic_int test_mode;
static _Atomic long long frozen_at = NOT_FROZEN;
static _Atomic long long offset_ms; /* added to the real clock while running (test mode only) */
static pthread_mutex_t move_lock = PTHREAD_MUTEX_INITIALIZER;

static pthread_mutex_t sleepers_lock = PTHREAD_MUTEX_INITIALIZER;
static struct clock_sleeper *sleepers[CLOCK_SLEEPERS_MAX];

static long long real_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long clock_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long clock_wall_ms(void)
{
    return real_ms();
}

long long time_now_ms(void)
{
    long long f = atomic_load(&frozen_at);
    if (f != NOT_FROZEN) return f;
    return real_ms() + atomic_load(&offset_ms);
}

void clock_test_enable(void)
{
    atomic_store(&test_mode, 1);
}

int clock_test_enabled(void)
{
    return atomic_load(&test_mode);
}

int clock_frozen(void)
{
    return atomic_load(&frozen_at) != NOT_FROZEN;
}

/* Every sleeper looks at the clock again. */
static void wake_all(void)
{
    pthread_mutex_lock(&sleepers_lock);
    for (int i = 0; i < CLOCK_SLEEPERS_MAX; i++)
        if (sleepers[i]) clock_sleeper_wake(sleepers[i]);
    pthread_mutex_unlock(&sleepers_lock);
}

/* Moves the clock to ms (frozen: stays frozen; running: keeps running), under move_lock. */
static int move_to(long long ms, int freeze)
{
    long long now = time_now_ms();
    if (freeze && ms < now) ms = now; /* it stops where it is: it never goes back */
    if (ms < now || ms - now > CLOCK_MOVE_MAX_MS) return -1;
    if (freeze || clock_frozen())
        atomic_store(&frozen_at, ms);
    else
        atomic_store(&offset_ms, ms - real_ms());
    return 0;
}

static int change(long long ms, int relative, int freeze)
{
    if (!clock_test_enabled()) return -1;
    pthread_mutex_lock(&move_lock);
    int rc;
    if (relative && (ms <= 0 || ms > CLOCK_MOVE_MAX_MS))
        rc = -1;
    else
        rc = move_to(relative ? time_now_ms() + ms : ms, freeze);
    pthread_mutex_unlock(&move_lock);
    if (rc == 0) wake_all();
    return rc;
}

int clock_freeze(long long ms)
{
    return change(ms, 0, 1);
}

int clock_advance(long long ms)
{
    return change(ms, 1, 0);
}

int clock_set(long long ms)
{
    return change(ms, 0, 0);
}

int clock_resume(void)
{
    if (!clock_test_enabled()) return -1;
    pthread_mutex_lock(&move_lock);
    long long f = atomic_load(&frozen_at);
    if (f != NOT_FROZEN) {
        /* the offset first: a reader that sees the clock running sees it run from f */
        atomic_store(&offset_ms, f - real_ms());
        atomic_store(&frozen_at, NOT_FROZEN);
    }
    pthread_mutex_unlock(&move_lock);
    wake_all();
    return 0;
}

int clock_cond_init(pthread_cond_t *cv)
{
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0) return -1;
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(cv, &attr);
    pthread_condattr_destroy(&attr);
    return rc == 0 ? 0 : -1;
}

void clock_deadline_in(struct timespec *ts, long long ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    if (ms < 0) ms = 0;
    long long ns = ts->tv_nsec + (ms % 1000) * 1000000LL;
    ts->tv_sec += (time_t)(ms / 1000 + ns / 1000000000LL);
    ts->tv_nsec = (long)(ns % 1000000000LL);
}

/* ---- sleepers ---- */

int clock_sleeper_init(struct clock_sleeper *s)
{
    s->woken = 0;
    s->registered = 0;
    if (clock_cond_init(&s->cond) != 0) return -1;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_lock(&sleepers_lock);
    for (int i = 0; i < CLOCK_SLEEPERS_MAX && !s->registered; i++)
        if (!sleepers[i]) {
            sleepers[i] = s;
            s->registered = 1;
        }
    pthread_mutex_unlock(&sleepers_lock);
    if (!s->registered) {
        pthread_cond_destroy(&s->cond);
        pthread_mutex_destroy(&s->lock);
        return -1;
    }
    return 0;
}

void clock_sleeper_destroy(struct clock_sleeper *s)
{
    if (!s->registered) return;
    pthread_mutex_lock(&sleepers_lock);
    for (int i = 0; i < CLOCK_SLEEPERS_MAX; i++)
        if (sleepers[i] == s) sleepers[i] = NULL;
    pthread_mutex_unlock(&sleepers_lock);
    s->registered = 0;
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
}

void clock_sleeper_wake(struct clock_sleeper *s)
{
    pthread_mutex_lock(&s->lock);
    s->woken = 1;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

int clock_sleep_until(struct clock_sleeper *s, long long due_ms, long long max_wait_ms)
{
    pthread_mutex_lock(&s->lock);
    long long wait = due_ms - time_now_ms();
    /* a frozen clock does not reach due_ms by itself: only a move (which wakes us) or max_wait */
    if (clock_frozen() || wait > max_wait_ms) wait = max_wait_ms;
    if (!s->woken && wait > 0) {
        struct timespec until;
        clock_deadline_in(&until, wait);
        while (!s->woken && pthread_cond_timedwait(&s->cond, &s->lock, &until) == 0)
            ;
    }
    int woken = s->woken;
    s->woken = 0;
    pthread_mutex_unlock(&s->lock);
    return woken;
}
