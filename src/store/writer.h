/* The single writer: every change goes through one thread and one connection. Concurrent write
 * jobs are batched into one transaction (group commit: one fsync for the batch), each inside its own
 * savepoint so that one failing job does not undo the others. A job's completion is signalled only
 * once the batch is durable (its COMMIT returned, or, where the store syncs behind the COMMIT, the sync
 * after it), so a 2xx is never sent for a change that is not durable. */
#ifndef PARLEY_WRITER_H
#define PARLEY_WRITER_H

struct store_conn;
struct writer;

struct write_job {
    /* Runs on the writer thread inside a savepoint. Returns 0 to keep its changes, non-zero to roll
     * them back (the job has then prepared its own error response). */
    int (*apply)(struct store_conn *c, struct write_job *job);
    /* Runs after the batch ended and is durable, on the writer thread or its sync thread (in commit
     * order either way); committed is 0 when the COMMIT failed, in which case even a job whose apply
     * succeeded changed nothing, or when a statement its apply deferred failed (store_result says how;
     * its changes were rolled back, the batch's others kept). */
    void (*complete)(struct write_job *job, int committed, int store_result);
    /* Optional: runs after a failed apply's changes were rolled back, still inside the batch's
     * transaction, so that the job may read what made it fail (a row deleted since its request was
     * routed) and answer for that instead. */
    void (*undone)(struct store_conn *c, struct write_job *job);
    /* Bookkeeping that a crash may lose (outbox claims and delivery outcomes: the event is then
     * delivered again). A batch of only such jobs commits without waiting for the disk; the next
     * durable commit makes it durable too. */
    int lazy;
    struct write_job *next;
    int done_committed, done_result; /* the writer's: how it ended, while it waits for the sync */
    int deferred_result;             /* the writer's: a deferred statement of its apply failed so */
};

int writer_start(struct writer **out, struct store_conn *c, int max_batch);
/* Queues a job; it completes on the writer thread. */
void writer_submit(struct writer *w, struct write_job *job);
/* Runs one job synchronously from the calling thread (used at start-up and by subcommands). */
int writer_run_sync(struct writer *w, struct write_job *job);
/* Drains the queue, then stops the thread. */
void writer_stop(struct writer *w);

#endif
