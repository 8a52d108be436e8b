#include "store/writer.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"
#include "util/log.h"
#include "util/metrics.h"

/* Syncing behind the COMMIT (a store whose sync_fd is not -1: SQLite with --sync full): the writer
 * commits a batch without waiting for the disk and goes on with the next one, while its sync thread
 * makes the committed batches durable with one fdatasync and only then completes their jobs, in commit
 * order. A batch's CPU work and the previous batches' sync overlap: the sync was most of a write's
 * time (a 3 ms fdatasync per batch against 1-2 ms of statements). Jobs that failed wait in the same
 * queue, so that no answer overtakes the durability of what it depends on. */
struct writer {
    struct store_conn *conn;
    int max_batch;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct write_job *head, *tail;
    int stopping;
    pthread_t thread;
    /* sync behind: all under sync_lock except behind, set once at start */
    int behind;
    int fd; /* the descriptor to sync; < 0 until the store has one */
    pthread_mutex_t sync_lock;
    pthread_cond_t sync_wake;
    struct write_job *done_head, *done_tail; /* batches ended, waiting for the sync */
    int done_durable;                        /* one of them committed and must be synced */
    int sync_stopping;
    pthread_t syncer;
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
static int attempt(struct writer *w, struct write_job *first, struct write_job *end, int *was_lazy)
{
    struct store_conn *c = w->conn;
    int r = c->ops->tx_begin(c);
    if (r != ST_OK) return r;
    int n = 0;
    for (struct write_job *j = first; j != end && r == ST_OK; j = j->next) {
        n++;
        j->deferred_result = ST_OK;
        r = c->ops->savepoint(c);
        if (r != ST_OK) break;
        int failed = j->apply(c, j) != 0;
        /* before the job's outcome: a statement it deferred that failed is its failure, not the next
         * job's (an apply that already failed has answered for itself) */
        int dr = c->ops->deferred_wait ? c->ops->deferred_wait(c) : ST_OK;
        if (!failed && dr != ST_OK && dr != ST_BUSY) {
            j->deferred_result = dr;
            failed = 1;
        }
        if (failed) {
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
    *was_lazy = lazy;
    return r;
}

/* Appends j to a queue (the writer's, or the sync thread's). */
static void queue_append(struct write_job **head, struct write_job **tail, struct write_job *j)
{
    j->next = NULL;
    if (*tail)
        (*tail)->next = j;
    else
        *head = j;
    *tail = j;
}

/* The sync behind stops the process when the disk refuses it: after a failed fdatasync the kernel may
 * have dropped the pages it could not write, so nothing committed since can be called durable (the
 * lesson PostgreSQL drew in 2018). The jobs waiting for it are never answered. */
static void sync_failed(const char *what)
{
    log_err("store: %s (%s): stopping; writes not answered yet may be lost, none that were answered", what,
            strerror(errno));
    _exit(EXIT_FAILURE);
}

/* A job's end: completed at once, or queued for the sync behind (durable: its batch committed a change
 * that must reach the disk first). */
static void finish(struct writer *w, struct write_job *j, int committed, int result, int durable)
{
    if (!w->behind) {
        j->complete(j, committed, result);
        return;
    }
    if (committed && w->fd < 0 && (w->fd = w->conn->ops->sync_fd(w->conn)) < 0)
        sync_failed("the data file's log cannot be opened to sync it");
    j->done_committed = committed;
    j->done_result = result;
    pthread_mutex_lock(&w->sync_lock);
    queue_append(&w->done_head, &w->done_tail, j);
    w->done_durable |= durable;
    pthread_cond_signal(&w->sync_wake);
    pthread_mutex_unlock(&w->sync_lock);
}

/* A job of a transaction that ended with r: committed only when the transaction committed and none of
 * the job's deferred statements failed. */
static void finish_job(struct writer *w, struct write_job *j, int r, int lazy)
{
    int own = r == ST_OK && j->deferred_result != ST_OK;
    finish(w, j, r == ST_OK && !own, own ? j->deferred_result : r, r == ST_OK && !lazy);
}

static void *syncer_main(void *arg)
{
    struct writer *w = arg;
    pthread_setname_np(pthread_self(), "parley-sync");
    pthread_mutex_lock(&w->sync_lock);
    for (;;) {
        while (!w->done_head && !w->sync_stopping)
            pthread_cond_wait(&w->sync_wake, &w->sync_lock);
        if (!w->done_head) break;
        struct write_job *j = w->done_head;
        int durable = w->done_durable, fd = w->fd;
        w->done_head = w->done_tail = NULL;
        w->done_durable = 0;
        pthread_mutex_unlock(&w->sync_lock);
        if (durable && fdatasync(fd) != 0) sync_failed("the data file's log could not be synced");
        for (struct write_job *next; j; j = next) {
            next = j->next;
            j->complete(j, j->done_committed, j->done_result);
        }
        pthread_mutex_lock(&w->sync_lock);
    }
    pthread_mutex_unlock(&w->sync_lock);
    return NULL;
}

/* Stops the sync thread once it has drained its queue. */
static void syncer_stop(struct writer *w)
{
    pthread_mutex_lock(&w->sync_lock);
    w->sync_stopping = 1;
    pthread_cond_signal(&w->sync_wake);
    pthread_mutex_unlock(&w->sync_lock);
    pthread_join(w->syncer, NULL);
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
    int lazy;
    int r = attempt(w, batch, NULL, &lazy);
    if (r == ST_BUSY)
        log_info("store: a batch met a transient conflict; its jobs run again, one transaction each");
    else if (r != ST_OK)
        log_err("store: a batch failed (%d); it is rolled back", r);
    for (struct write_job *j = batch, *next; j; j = next) {
        next = j->next;
        /* its own attempt first: it says whether that attempt's commit was lazy */
        int rj = r == ST_BUSY ? attempt(w, j, next, &lazy) : r;
        finish_job(w, j, rj, lazy);
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
    pthread_mutex_init(&w->sync_lock, NULL);
    pthread_cond_init(&w->sync_wake, NULL);
    w->fd = c->ops->sync_fd ? c->ops->sync_fd(c) : -1;
    w->behind = w->fd != -1; /* -1: COMMIT is durable by itself; else a descriptor, or none yet */
    if (w->behind && pthread_create(&w->syncer, NULL, syncer_main, w) != 0) {
        free(w);
        return -1;
    }
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        if (w->behind) syncer_stop(w);
        free(w);
        return -1;
    }
    *out = w;
    return 0;
}

void writer_submit(struct writer *w, struct write_job *job)
{
    pthread_mutex_lock(&w->lock);
    queue_append(&w->head, &w->tail, job);
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
    if (w->behind) syncer_stop(w); /* the writer's last batches are in its queue: it drains them */
    pthread_cond_destroy(&w->sync_wake);
    pthread_mutex_destroy(&w->sync_lock);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w);
}
