/* store/writer.c: group commit and the sync behind the COMMIT. A fake store counts the transactions; its
 * sync descriptor is a regular file (a sync that works) or a pipe (a sync the kernel refuses). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/store.h"
#include "store/writer.h"

#define JOBS 200

static int fake_fd = -1; /* what the fake store's sync_fd answers */
static int commits;

static int ok(struct store_conn *c)
{
    return ST_OK;
}
static void nothing(struct store_conn *c) {}
static int count_commit(struct store_conn *c)
{
    commits++;
    return ST_OK;
}
static int fake_sync_fd(struct store_conn *c)
{
    return fake_fd;
}

#define FAKE_TX                                                                                              \
    .tx_begin = ok, .tx_commit = count_commit, .tx_rollback = nothing, .savepoint = ok,                      \
    .savepoint_rollback = nothing, .savepoint_release = ok
static const struct store_ops plain_ops = {.name = "fake", FAKE_TX};
static const struct store_ops behind_ops = {.name = "fake-behind", FAKE_TX, .sync_fd = fake_sync_fd};

struct job {
    struct write_job job;
    int n;
    int fail;
};

static int order[JOBS], n_done, report_fd = -1;
static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;

static int job_apply(struct store_conn *c, struct write_job *wj)
{
    return ((struct job *)wj)->fail;
}

static void job_complete(struct write_job *wj, int committed, int store_result)
{
    struct job *j = (struct job *)wj;
    pthread_mutex_lock(&done_lock);
    order[n_done++] = committed ? j->n : -1;
    pthread_mutex_unlock(&done_lock);
    if (report_fd >= 0) (void)!write(report_fd, "c", 1);
}

/* JOBS jobs from one thread: each completes once, committed, in the order it was submitted. */
static void run_jobs(const struct store_ops *ops)
{
    struct store_conn conn = {.ops = ops};
    struct writer *w;
    static struct job jobs[JOBS];
    n_done = 0;
    commits = 0;
    assert_int_equal(writer_start(&w, &conn, 16), 0);
    for (int i = 0; i < JOBS; i++) {
        jobs[i] =
            (struct job){.job = {.apply = job_apply, .complete = job_complete}, .n = i, .fail = i % 7 == 3};
        writer_submit(w, &jobs[i].job);
    }
    writer_stop(w); /* drains both queues */
    assert_int_equal(n_done, JOBS);
    for (int i = 0; i < JOBS; i++)
        assert_int_equal(order[i], i); /* a failed apply still commits the batch: committed is 1 */
    assert_true(commits >= JOBS / 16);
}

static void test_commit_durable_by_itself(void **state)
{
    run_jobs(&plain_ops);
}

static void test_sync_behind_completes_in_order(void **state)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    fake_fd = fileno(f);
    run_jobs(&behind_ops);
    fclose(f);
    fake_fd = -1;
}

/* The disk refuses the sync (fdatasync of a pipe fails): the process stops and no job is answered. */
static void test_failed_sync_answers_nothing(void **state)
{
    int report[2], target[2];
    assert_int_equal(pipe(report), 0);
    assert_int_equal(pipe(target), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(report[0]);
        report_fd = report[1];
        fake_fd = target[0];
        struct store_conn conn = {.ops = &behind_ops};
        struct writer *w;
        static struct job j = {.job = {.apply = job_apply, .complete = job_complete}};
        if (writer_start(&w, &conn, 16) != 0) _exit(3);
        writer_run_sync(w, &j.job);
        _exit(0); /* reached only if the job was answered */
    }
    close(report[1]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), EXIT_FAILURE);
    char c;
    assert_int_equal(read(report[0], &c, 1), 0); /* no completion was ever written */
    close(report[0]);
    close(target[0]);
    close(target[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commit_durable_by_itself),
        cmocka_unit_test(test_sync_behind_completes_in_order),
        cmocka_unit_test(test_failed_sync_answers_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
