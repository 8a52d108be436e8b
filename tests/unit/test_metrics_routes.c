/* The request counters are sized by the route table, not by a fixed limit: with more routes than any
 * fixed array held (64 server-wide, 32 per account), the last route is still counted under its own
 * label, server-wide and in an account's view, and an unknown index still folds into "other". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util/buf.h"
#include "util/metrics.h"
#include "util/sid.h"

#define ROUTES 300 /* beyond 103 operations on both path families */

static char label[ROUTES][24];
static const char *names[ROUTES];

static void test_every_route_has_its_own_counter(void **state)
{
    char sid[SID_LEN + 1];
    snprintf(sid, sizeof(sid), "AC%032x", 7u);
    int slot = metrics_account_slot(sid);
    assert_true(slot >= 0);
    metrics_request(ROUTES - 1, 0, 200, 10);
    metrics_request(ROUTES, 0, 200, 10); /* no such route: "other" */
    metrics_account_request(slot, ROUTES - 1, 1, 201);
    metrics_account_request(slot, 40, 1, 201);

    struct buf b;
    buf_init(&b, 1 << 22);
    metrics_render(&b, 0, 0);
    assert_non_null(
        strstr(b.p, "parley_http_requests_total{route=\"/r/299\",method=\"GET\",status=\"200\"} 1\n"));
    assert_non_null(
        strstr(b.p, "parley_http_requests_total{route=\"other\",method=\"GET\",status=\"200\"} 1\n"));
    buf_reset(&b);
    metrics_render_account(&b, slot);
    char want[192];
    snprintf(want, sizeof(want),
             "parley_account_http_requests_total{account_sid=\"%s\",route=\"/r/"
             "299\",method=\"POST\",status=\"201\"} 1\n",
             sid);
    assert_non_null(strstr(b.p, want));
    snprintf(want, sizeof(want),
             "parley_account_http_requests_total{account_sid=\"%s\",route=\"/r/"
             "40\",method=\"POST\",status=\"201\"} 1\n",
             sid);
    assert_non_null(strstr(b.p, want));
    buf_free(&b);
}

/* Sized once: the same table again is fine, another one is refused (counters never move). */
static void test_sized_once(void **state)
{
    assert_int_equal(metrics_init(names, ROUTES), 0);
    assert_int_equal(metrics_init(names, 3), -1);
}

int main(void)
{
    for (int i = 0; i < ROUTES; i++) {
        snprintf(label[i], sizeof(label[i]), "/r/%d", i);
        names[i] = label[i];
    }
    if (metrics_init(names, ROUTES) != 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_route_has_its_own_counter),
        cmocka_unit_test(test_sized_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
