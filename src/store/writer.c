#include "store/writer.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "store/store.h"
#include "util/log.h"
#include "util/metrics.h"

struct writer {
    struct store_conn *conn;
    int max_batch;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct write_job *head, *tail;
    int stopping;
    pthread_t thread;
};

/* Commit latency for metrics: a duration, on the monotonic clock (no test clock moves it). */
static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* One transaction over the jobs from first up to (not including) end: BEGIN, a savepoint per job,
 * COMMIT. Returns its store_result; the completions are the caller's. */
static int attempt(struct writer *w, struct write_job *first, struct write_job *end)
{
    struct store_conn *c = w->conn;
    int r = c->ops->tx_begin(c);
    if (r != ST_OK) return r;
    int n = 0;
    for (struct write_job *j = first; j != end && r == ST_OK; j = j->next) {
        n++;
        r = c->ops->savepoint(c);
        if (r != ST_OK) break;
        if (j->apply(c, j) != 0) {
            c->ops->savepoint_rollback(c);
            if (j->undone) j->undone(c, j);
        }
        r = c->ops->savepoint_release(c);
    }
    int lazy = c->ops->tx_commit_lazy != NULL;
    for (struct write_job *j = first; j != end && lazy; j = j->next)
        lazy = j->lazy;
    long long t0 = now_us();
    if (r == ST_OK) r = lazy ? c->ops->tx_commit_lazy(c) : c->ops->tx_commit(c);
    long long t1 = now_us();
    if (r != ST_OK) c->ops->tx_rollback(c);
    metrics_commit(n, t1 - t0);
    return r;
}

/* One batch, then its completions (a completion may free its job).
 *
 * ST_BUSY means the transaction did not commit and may well commit if tried again: with PostgreSQL, a
 * deadlock, serialization failure or lock timeout against another server on the same database, or a
 * connection that was reset before COMMIT (store/pg.c); with SQLite, a lock that outlasted the busy
 * timeout. The batch then runs once more, each job in its own transaction: apply functions are
 * re-runnable (they read again and render their response again), and a one-job transaction cannot
 * deadlock with another server over the order in which a batch locks its rows. A job that fails
 * again is answered with its error (503 for ST_BUSY). Any other failure is not retried: a COMMIT
 * whose outcome is unknown must not be repeated. */
static void run_batch(struct writer *w, struct write_job *batch)
{
    int r = attempt(w, batch, NULL);
    if (r == ST_BUSY) {
        log_info("store: a batch met a transient conflict; its jobs run again, one transaction each");
        for (struct write_job *j = batch, *next; j; j = next) {
            next = j->next;
            int rj = attempt(w, j, next);
            j->complete(j, rj == ST_OK, rj);
        }
        return;
    }
    if (r != ST_OK) log_err("store: a batch failed (%d); it is rolled back", r);
    for (struct write_job *j = batch, *next; j; j = next) {
        next = j->next;
        j->complete(j, r == ST_OK, r);
    }
}

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    pthread_setname_np(pthread_self(), "parley-writer");
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->head && !w->stopping)
            pthread_cond_wait(&w->wake, &w->lock);
        if (!w->head && w->stopping) break;
        /* take up to max_batch jobs */
        struct write_job *batch = w->head, *last = w->head;
        int n = 1;
        while (last->next && n < w->max_batch) {
            last = last->next;
            n++;
        }
        w->head = last->next;
        if (!w->head) w->tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&w->lock);
        run_batch(w, batch);
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

int writer_start(struct writer **out, struct store_conn *c, int max_batch)
{
    struct writer *w = calloc(1, sizeof(*w));
    if (!w) return -1;
    w->conn = c;
    w->max_batch = max_batch > 0 ? max_batch : 256;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        free(w);
        return -1;
    }
    *out = w;
    return 0;
}

void writer_submit(struct writer *w, struct write_job *job)
{
    job->next = NULL;
    pthread_mutex_lock(&w->lock);
    if (w->tail)
        w->tail->next = job;
    else
        w->head = job;
    w->tail = job;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
}

/* A synchronous run wraps the caller's job so the caller can wait for its completion. */
struct sync_job {
    struct write_job job; /* first: the writer sees only this */
    struct write_job *inner;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int finished;
    int result;
};

static int sync_apply(struct store_conn *c, struct write_job *job)
{
    struct sync_job *s = (struct sync_job *)job;
    return s->inner->apply(c, s->inner);
}

static void sync_complete(struct write_job *job, int committed, int store_result)
{
    struct sync_job *s = (struct sync_job *)job;
    s->inner->complete(s->inner, committed, store_result);
    pthread_mutex_lock(&s->lock);
    s->finished = 1;
    s->result = committed ? 0 : -1;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

int writer_run_sync(struct writer *w, struct write_job *job)
{
    struct sync_job s = {.job = {.apply = sync_apply, .complete = sync_complete}, .inner = job};
    pthread_mutex_init(&s.lock, NULL);
    pthread_cond_init(&s.cond, NULL);
    writer_submit(w, &s.job);
    pthread_mutex_lock(&s.lock);
    while (!s.finished)
        pthread_cond_wait(&s.cond, &s.lock);
    pthread_mutex_unlock(&s.lock);
    pthread_cond_destroy(&s.cond);
    pthread_mutex_destroy(&s.lock);
    return s.result;
}

void writer_stop(struct writer *w)
{
    if (!w) return;
    pthread_mutex_lock(&w->lock);
    w->stopping = 1;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w);
}
