#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/log.h"

/* A fresh log file in $TMPDIR (or the working directory), opened as the log. */
static void open_temp_log(char *path, size_t n)
{
    const char *dir = getenv("TMPDIR");
    snprintf(path, n, "%s/parley-test-log-XXXXXX", dir && *dir ? dir : ".");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(log_open(path), 0);
}

/* Counts the lines of path that contain needle, and sums the N of "N lines suppressed". */
static int count_lines(const char *path, const char *needle, unsigned long long *suppressed)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[2048];
    int n = 0;
    *suppressed = 0;
    while (fgets(line, sizeof(line), f)) {
        if (strstr(line, needle)) n++;
        const char *s = strstr(line, " lines suppressed");
        if (s) {
            while (s > line && s[-1] >= '0' && s[-1] <= '9')
                s--;
            *suppressed += strtoull(s, NULL, 10);
        }
    }
    fclose(f);
    return n;
}

static void test_limited_lines_are_bounded_and_counted(void **state)
{
    char path[512];
    open_temp_log(path, sizeof(path));
    for (int i = 0; i < 1000; i++)
        log_limited(LOG_WARN, "flood %d", i);
    log_limited_flush();
    unsigned long long suppressed;
    int written = count_lines(path, "flood ", &suppressed);
    /* a burst of 20, perhaps a token or two more while the loop ran; every other line is counted */
    assert_true(written >= 20 && written < 40);
    assert_int_equal((unsigned long long)written + suppressed, 1000);
    /* ordinary lines are never limited */
    for (int i = 0; i < 100; i++)
        log_warn("plain %d", i);
    assert_int_equal(count_lines(path, "plain ", &suppressed), 100);
    unlink(path);
}

static void test_flush_without_drops_writes_nothing(void **state)
{
    char path[512];
    open_temp_log(path, sizeof(path));
    log_limited_flush();
    unsigned long long suppressed;
    assert_int_equal(count_lines(path, "suppressed", &suppressed), 0);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limited_lines_are_bounded_and_counted),
        cmocka_unit_test(test_flush_without_drops_writes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
