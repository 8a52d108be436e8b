/* The durable timer schedule (store/timers.h), once for both engines over the statement seam; the claim
 * alone is PostgreSQL's own text (SKIP LOCKED), because only there do several servers claim at once. */
#include "store/timers.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "store/domain.h"
#include "store/rows.h"
#include "store/store.h"
#include "store/writer.h"
#include "util/clock.h"
#include "util/log.h"

static struct store_sql q_set = {
    .sql = "INSERT INTO timers(kind, target_sid, account_sid, due_ms, next_ms, attempts)"
           " VALUES (?1, ?2, ?3, ?4, ?4, 0) ON CONFLICT(kind, target_sid) DO UPDATE SET"
           " account_sid = excluded.account_sid, due_ms = excluded.due_ms, next_ms = excluded.next_ms,"
           " attempts = 0",
};
static struct store_sql q_clear = {
    .sql = "DELETE FROM timers WHERE kind = ?1 AND target_sid = ?2",
};
static struct store_sql q_get = {
    .sql = "SELECT due_ms FROM timers WHERE kind = ?1 AND target_sid = ?2",
};
/* the due timers, in the order they are due (the claim then takes each alone) */
static struct store_sql q_due = {
    .sql = "SELECT kind, target_sid FROM timers WHERE next_ms <= ?1 ORDER BY next_ms, kind, target_sid"
           " LIMIT ?2",
};
/* one timer, if it is still due: another server may have fired it, or a request re-armed it later */
static struct store_sql q_claim = {
    .sql = "SELECT account_sid, due_ms, attempts FROM timers WHERE kind = ?1 AND target_sid = ?2"
           " AND next_ms <= ?3",
    .sql_pg = "SELECT account_sid, due_ms, attempts FROM timers WHERE kind = ?1 AND target_sid = ?2"
              " AND next_ms <= ?3 FOR UPDATE SKIP LOCKED",
};
static struct store_sql q_retry = {
    .sql = "UPDATE timers SET next_ms = ?3, attempts = attempts + 1 WHERE kind = ?1 AND target_sid = ?2",
};
static struct store_sql q_next = {
    .sql = "SELECT min(next_ms) FROM timers",
};

int store_timers_sql_add(void)
{
    struct store_sql *const all[] = {&q_set, &q_clear, &q_get, &q_due, &q_claim, &q_retry, &q_next};
    return rows_sql_add_all(all, ROWS_N(all));
}

/* ---- the registry ---- */

struct timer_kind {
    char name[TIMER_KIND_MAX + 1];
    timer_fire_fn fire;
};

static struct timer_kind kinds[TIMER_KINDS_MAX];
static int n_kinds;
static int started; /* the scheduler runs: the registry is read without a lock from then on */

int timers_register(const char *kind, timer_fire_fn fire)
{
    size_t n = kind ? strlen(kind) : 0;
    if (started || !fire || n == 0 || n > TIMER_KIND_MAX || n_kinds == TIMER_KINDS_MAX) return -1;
    for (int i = 0; i < n_kinds; i++)
        if (strcmp(kinds[i].name, kind) == 0) return -1;
    memcpy(kinds[n_kinds].name, kind, n + 1);
    kinds[n_kinds].fire = fire;
    n_kinds++;
    return 0;
}

static timer_fire_fn fire_of(const char *kind)
{
    for (int i = 0; i < n_kinds; i++)
        if (strcmp(kinds[i].name, kind) == 0) return kinds[i].fire;
    return NULL;
}

/* ---- the schedule ---- */

static void sched_note_armed(long long due_ms);

static int valid_names(const char *kind, const char *target)
{
    size_t k = kind ? strlen(kind) : 0, t = target ? strlen(target) : 0;
    return k > 0 && k <= TIMER_KIND_MAX && t > 0 && t <= TIMER_TARGET_MAX;
}

int store_timer_set(struct store_conn *c, const char *account_sid, const char *kind, const char *target_sid,
                    long long due_ms)
{
    if (!valid_names(kind, target_sid) || !account_sid) return ST_ERROR;
    int rc = rows_exec(c, &q_set, NULL, "ttti", kind, target_sid, account_sid, due_ms);
    if (rc == ST_OK) sched_note_armed(due_ms);
    return rc;
}

int store_timer_clear(struct store_conn *c, const char *kind, const char *target_sid)
{
    if (!valid_names(kind, target_sid)) return ST_ERROR;
    return rows_exec(c, &q_clear, NULL, "tt", kind, target_sid);
}

int store_timer_get(struct store_conn *c, const char *kind, const char *target_sid, long long *due_ms)
{
    if (!valid_names(kind, target_sid)) return ST_NOT_FOUND;
    return rows_int(c, &q_get, due_ms, "tt", kind, target_sid);
}

struct due_timer {
    char kind[TIMER_KIND_MAX + 1];
    char target[TIMER_TARGET_MAX + 1];
};

static long long retry_delay(long long attempts)
{
    long long d = TIMER_RETRY_MIN_MS;
    for (long long i = 0; i < attempts && d < TIMER_RETRY_MAX_MS; i++)
        d *= 2;
    return d < TIMER_RETRY_MAX_MS ? d : TIMER_RETRY_MAX_MS;
}

/* Plans the next try of a timer whose fire failed (its claim was rolled back with the fire). */
static int plan_retry(struct store_conn *c, const struct due_timer *t, long long attempts, long long now,
                      int registered)
{
    long long delay = retry_delay(attempts);
    log_warn("timer %s %s: %s; tried again in %lld ms", t->kind, t->target,
             registered ? "its fire failed" : "no such kind is registered", delay);
    return rows_exec(c, &q_retry, NULL, "tti", t->kind, t->target, now + delay);
}

/* Claims and fires one timer in its own savepoint. 1 fired, 0 not there any more (fired by another
 * server, or re-armed for later), 2 its fire failed (rolled back, retry planned), or a negative
 * store_result. */
static int fire_one(struct store_conn *c, const struct due_timer *t, long long now)
{
    const struct store_engine *e = c->ops->engine;
    int rc = c->ops->savepoint(c);
    if (rc != ST_OK) return rc;
    struct store_stmt *s = e->stmt(c, &q_claim);
    if (!s) rc = ST_ERROR;
    char account[TIMER_TARGET_MAX + 1] = "";
    long long due = 0, attempts = 0;
    if (s) {
        e->bind_text(s, 1, t->kind);
        e->bind_text(s, 2, t->target);
        e->bind_int(s, 3, now);
        rc = e->step(s);
        if (rc == 1) {
            const char *a = e->col_text(s, 0);
            snprintf(account, sizeof(account), "%s", a ? a : "");
            due = e->col_int(s, 1);
            attempts = e->col_int(s, 2);
        }
        e->reset(s);
    }
    if (rc == 0) return c->ops->savepoint_release(c) == ST_OK ? 0 : ST_BUSY;
    if (rc == 1) rc = rows_exec(c, &q_clear, NULL, "tt", t->kind, t->target);
    if (rc < 0) {
        c->ops->savepoint_rollback(c);
        c->ops->savepoint_release(c);
        return rc;
    }
    timer_fire_fn fire = fire_of(t->kind);
    if (fire && fire(c, account, t->target, due) == 0)
        return c->ops->savepoint_release(c) == ST_OK ? 1 : ST_BUSY;
    c->ops->savepoint_rollback(c);
    rc = plan_retry(c, t, attempts, now, fire != NULL);
    if (c->ops->savepoint_release(c) != ST_OK && rc == ST_OK) rc = ST_BUSY;
    return rc == ST_OK ? 2 : rc;
}

int timers_run_due(struct store_conn *c, long long now, int max, int *fired, int *failed, long long *next_ms)
{
    *fired = *failed = 0;
    *next_ms = 0;
    if (max > TIMERS_ROUND_MAX) max = TIMERS_ROUND_MAX;
    struct due_timer due[TIMERS_ROUND_MAX];
    int n = 0;
    const struct store_engine *e = c->ops->engine;
    struct store_stmt *s = e->stmt(c, &q_due);
    if (!s) return ST_ERROR;
    e->bind_int(s, 1, now);
    e->bind_int(s, 2, max);
    int rc;
    while (n < max && (rc = e->step(s)) == 1) {
        const char *k = e->col_text(s, 0), *t = e->col_text(s, 1);
        snprintf(due[n].kind, sizeof(due[n].kind), "%s", k ? k : "");
        snprintf(due[n].target, sizeof(due[n].target), "%s", t ? t : "");
        n++;
    }
    e->reset(s);
    if (n < max && rc < 0) return rc;
    for (int i = 0; i < n; i++) {
        rc = fire_one(c, &due[i], now);
        if (rc < 0) return rc;
        if (rc == 1) (*fired)++;
        if (rc == 2) (*failed)++;
    }
    rc = rows_int(c, &q_next, next_ms, ""); /* 0 for NULL: no timer */
    return rc == ST_NOT_FOUND ? ST_OK : rc;
}

/* ---- the scheduler ---- */

/* One process-wide scheduler: the clock and the registry are process-wide too. */
struct sched {
    struct writer *w;
    long long max_sleep_ms; /* TIMERS_RESCAN_MS when shared, else TIMERS_IDLE_MS */
    pthread_t thread;
    struct clock_sleeper sleeper;
    pthread_mutex_t lock; /* guards what follows */
    pthread_cond_t cond;  /* a round ended; a job completed */
    int stop;
    long long planned_ms;  /* when the thread wakes next by itself */
    unsigned long begun;   /* rounds begun */
    unsigned long settled; /* the last round begun that ended with nothing more due (0: none yet) */
    int job_done;
};

static struct sched sched;
static int sched_running;

/* A round as a writer job: apply runs timers_run_due in the writer's transaction. */
struct round_job {
    struct write_job job; /* first: the writer sees only this */
    int rc, fired, failed;
    long long next_ms;
    int committed;
};

static int round_apply(struct store_conn *c, struct write_job *job)
{
    struct round_job *j = (struct round_job *)job;
    j->rc = timers_run_due(c, time_now_ms(), TIMERS_ROUND_MAX, &j->fired, &j->failed, &j->next_ms);
    /* a round that fired nothing only wrote retry times: losing them in a crash costs a retry */
    job->lazy = j->fired == 0;
    return j->rc != ST_OK;
}

static void round_complete(struct write_job *job, int committed, int store_result)
{
    struct round_job *j = (struct round_job *)job;
    pthread_mutex_lock(&sched.lock);
    j->committed = committed;
    if (j->rc == ST_OK && !committed) j->rc = store_result != ST_OK ? store_result : ST_ERROR;
    sched.job_done = 1;
    pthread_cond_broadcast(&sched.cond);
    pthread_mutex_unlock(&sched.lock);
}

/* The earlier of a and b, where 0 is "never". */
static long long earliest(long long a, long long b)
{
    return !a ? b : !b ? a : a < b ? a : b;
}

static void sched_note_armed(long long due_ms)
{
    if (!sched_running) return;
    pthread_mutex_lock(&sched.lock);
    int sooner = due_ms < sched.planned_ms;
    pthread_mutex_unlock(&sched.lock);
    if (sooner) clock_sleeper_wake(&sched.sleeper);
}

static void *sched_main(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "parley-timers");
    for (;;) {
        pthread_mutex_lock(&sched.lock);
        if (sched.stop) {
            pthread_mutex_unlock(&sched.lock);
            break;
        }
        unsigned long round = ++sched.begun;
        sched.job_done = 0;
        pthread_mutex_unlock(&sched.lock);

        struct round_job j = {.job = {.apply = round_apply, .complete = round_complete}};
        writer_submit(sched.w, &j.job);
        pthread_mutex_lock(&sched.lock);
        while (!sched.job_done)
            pthread_cond_wait(&sched.cond, &sched.lock);
        long long now = time_now_ms(), wake;
        int more = j.rc == ST_OK && j.fired + j.failed >= TIMERS_ROUND_MAX;
        if (j.rc != ST_OK) {
            log_warn("timers: a round failed (%d); tried again in %lld ms", j.rc, TIMER_RETRY_MIN_MS);
            wake = now + TIMER_RETRY_MIN_MS;
        } else {
            wake = earliest(j.next_ms, now + sched.max_sleep_ms);
            /* still due after the round: another server holds it (PostgreSQL); no busy loop meanwhile */
            if (wake <= now) wake = now + TIMERS_HELD_MS;
        }
        if (!more && (j.rc != ST_OK || j.next_ms == 0 || j.next_ms > now)) sched.settled = round;
        sched.planned_ms = more ? now : wake;
        pthread_cond_broadcast(&sched.cond);
        pthread_mutex_unlock(&sched.lock);
        if (!more) clock_sleep_until(&sched.sleeper, wake, sched.max_sleep_ms);
    }
    return NULL;
}

int timers_start(struct writer *w, int shared)
{
    if (sched_running) return -1;
    memset(&sched, 0, sizeof(sched));
    sched.w = w;
    sched.max_sleep_ms = shared ? TIMERS_RESCAN_MS : TIMERS_IDLE_MS;
    sched.planned_ms = 0;
    if (clock_sleeper_init(&sched.sleeper) != 0) return -1;
    if (clock_cond_init(&sched.cond) != 0) {
        clock_sleeper_destroy(&sched.sleeper);
        return -1;
    }
    pthread_mutex_init(&sched.lock, NULL);
    started = 1;
    if (pthread_create(&sched.thread, NULL, sched_main, NULL) != 0) {
        clock_sleeper_destroy(&sched.sleeper);
        started = 0;
        return -1;
    }
    sched_running = 1;
    return 0;
}

void timers_stop(void)
{
    if (!sched_running) return;
    pthread_mutex_lock(&sched.lock);
    sched.stop = 1;
    pthread_mutex_unlock(&sched.lock);
    clock_sleeper_wake(&sched.sleeper);
    pthread_join(sched.thread, NULL);
    sched_running = 0;
    clock_sleeper_destroy(&sched.sleeper);
    pthread_cond_destroy(&sched.cond);
    pthread_mutex_destroy(&sched.lock);
    started = 0;
}

unsigned long timers_rounds(void)
{
    if (!sched_running) return 0;
    pthread_mutex_lock(&sched.lock);
    unsigned long n = sched.begun;
    pthread_mutex_unlock(&sched.lock);
    return n;
}

int timers_settle(long long timeout_ms)
{
    if (!sched_running) return 0;
    pthread_mutex_lock(&sched.lock);
    unsigned long after = sched.begun; /* the round under way may have read the clock before the call */
    pthread_mutex_unlock(&sched.lock);
    clock_sleeper_wake(&sched.sleeper);
    long long until = clock_mono_ms() + timeout_ms;
    pthread_mutex_lock(&sched.lock);
    int rc = 0;
    while (sched.settled <= after && !sched.stop) {
        long long left = until - clock_mono_ms();
        if (left <= 0) {
            rc = -1;
            break;
        }
        struct timespec ts;
        clock_deadline_in(&ts, left);
        pthread_cond_timedwait(&sched.cond, &sched.lock, &ts);
    }
    pthread_mutex_unlock(&sched.lock);
    return rc;
}
