/* Per-account request counters: one slot per account, claimed once, lock-free; an account's view
 * holds its own counters only; a full table counts no more accounts instead of mixing them. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "util/buf.h"
#include "util/metrics.h"
#include "util/sid.h"

static const char *const names[] = {"/v1/Users", "/v1/Users/{}", "/v1/Roles"};

static void sid_of(char out[SID_LEN + 1], unsigned n)
{
    snprintf(out, SID_LEN + 1, "AC%032x", n);
}

static int count_of(struct buf *b, const char *line)
{
    int n = 0;
    for (const char *p = b->p; (p = strstr(p, line)); p += strlen(line))
        n++;
    return n;
}

/* Runs first: the table is empty. */
static void test_own_counters_only(void **state)
{
    char a[SID_LEN + 1], c[SID_LEN + 1];
    sid_of(a, 1);
    sid_of(c, 2);
    int sa = metrics_account_slot(a), sc = metrics_account_slot(c);
    assert_true(sa >= 0 && sc >= 0 && sa != sc);
    assert_int_equal(metrics_account_slot(a), sa); /* the same slot on every look */
    metrics_account_request(sa, 0, 1, 201);
    metrics_account_request(sa, 1, 0, 200);
    metrics_account_request(sa, 1, 0, 200);
    metrics_account_request(sc, 1, 0, 404);
    metrics_account_request(sc, 99, 0, 299); /* out of range route and status: "other" */
    metrics_account_request(-1, 0, 0, 200);  /* no slot: nothing, no crash */

    struct buf b;
    buf_init(&b, 1 << 20);
    metrics_render_account(&b, sa);
    char want[256];
    snprintf(want, sizeof(want),
             "parley_account_http_requests_total{account_sid=\"%s\",route=\"/v1/"
             "Users\",method=\"POST\",status=\"201\"} 1\n",
             a);
    assert_int_equal(count_of(&b, want), 1);
    snprintf(want, sizeof(want),
             "parley_account_http_requests_total{account_sid=\"%s\",route=\"/v1/Users/"
             "{}\",method=\"GET\",status=\"200\"} 2\n",
             a);
    assert_int_equal(count_of(&b, want), 1);
    assert_null(strstr(b.p, c)); /* nothing of the other account */
    assert_null(strstr(b.p, "parley_http_requests_total"));
    assert_null(strstr(b.p, "parley_store_"));

    buf_reset(&b);
    metrics_render_account(&b, sc);
    snprintf(want, sizeof(want),
             "parley_account_http_requests_total{account_sid=\"%s\",route=\"other\",method=\"GET\",status="
             "\"other\"} 1\n",
             c);
    assert_int_equal(count_of(&b, want), 1);
    assert_null(strstr(b.p, a));

    /* the server-wide view ends with both accounts */
    buf_reset(&b);
    metrics_render(&b, 0, 0);
    assert_non_null(strstr(b.p, "parley_store_commit_seconds"));
    assert_non_null(strstr(b.p, a));
    assert_non_null(strstr(b.p, c));
    buf_free(&b);

    assert_int_equal(metrics_account_slot("AC123"), -1); /* not a SID */
}

#define THREADS 4
#define PER_THREAD 200000
#define SHARED 8 /* accounts all threads count for at once */

static void *counter_thread(void *arg)
{
    unsigned t = (unsigned)(uintptr_t)arg;
    char sid[SID_LEN + 1];
    for (int i = 0; i < PER_THREAD; i++) {
        sid_of(sid, 1000 + (unsigned)(i + (int)t) % SHARED);
        metrics_account_request(metrics_account_slot(sid), 2, 0, 200);
    }
    return NULL;
}

/* Threads claiming and counting the same accounts at once lose no count and make no duplicate slot. */
static void test_concurrent_counts(void **state)
{
    pthread_t th[THREADS];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (uintptr_t i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, counter_thread, (void *)i), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ns = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / ((double)THREADS * PER_THREAD);
    print_message("slot lookup + count: %.0f ns per request (%d threads, wall time)\n", ns, THREADS);

    struct buf b;
    buf_init(&b, 1 << 20);
    unsigned long long total = 0;
    for (unsigned k = 0; k < SHARED; k++) {
        char sid[SID_LEN + 1], line[256];
        sid_of(sid, 1000 + k);
        buf_reset(&b);
        metrics_render_account(&b, metrics_account_slot(sid));
        snprintf(line, sizeof(line),
                 "parley_account_http_requests_total{account_sid=\"%s\",route=\"/v1/"
                 "Roles\",method=\"GET\",status=\"200\"} ",
                 sid);
        const char *p = strstr(b.p, line);
        assert_non_null(p);
        total += strtoull(p + strlen(line), NULL, 10);
        /* one slot per account: the server-wide view names it once */
        buf_reset(&b);
        metrics_render(&b, 0, 0);
        assert_int_equal(count_of(&b, line), 1);
    }
    assert_true(total == (unsigned long long)THREADS * PER_THREAD);
    buf_free(&b);
}

/* Runs last: fills the table. */
static void test_full_table(void **state)
{
    char sid[SID_LEN + 1];
    int got = 0;
    for (unsigned i = 0; i < 2 * METRICS_ACCOUNTS; i++) {
        sid_of(sid, 50000 + i);
        if (metrics_account_slot(sid) >= 0) got++;
    }
    assert_int_equal(got, METRICS_ACCOUNTS - 2 - SHARED); /* the earlier tests hold the rest */
    sid_of(sid, 1);
    assert_true(metrics_account_slot(sid) >= 0); /* known accounts keep theirs */
    sid_of(sid, 999999);
    assert_int_equal(metrics_account_slot(sid), -1);
    struct buf b;
    buf_init(&b, 1 << 16);
    metrics_render_account(&b, -1);
    assert_non_null(strstr(b.p, "not counted"));
    assert_null(strstr(b.p, "parley_account_http_requests_total{"));
    buf_free(&b);
}

int main(void)
{
    metrics_init(names, 3);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_own_counters_only),
        cmocka_unit_test(test_concurrent_counts),
        cmocka_unit_test(test_full_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
