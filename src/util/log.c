#include "util/log.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_level level = LOG_INFO;
static int log_fd = 2;
static char *log_path;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

int log_open(const char *path)
{
    if (!path) return 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) return -1;
    pthread_mutex_lock(&log_lock);
    free(log_path);
    log_path = strdup(path);
    if (log_fd > 2) close(log_fd);
    log_fd = fd;
    pthread_mutex_unlock(&log_lock);
    return 0;
}

void log_reopen(void)
{
    if (!log_path) return;
    int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) return;
    pthread_mutex_lock(&log_lock);
    int old = log_fd;
    log_fd = fd;
    pthread_mutex_unlock(&log_lock);
    if (old > 2) close(old);
}

/* Lines that any client can provoke go through a token bucket: a burst, then a steady rate; what is
 * dropped is counted and reported in one line once lines flow again (or at log_limited_flush()). */
#define LIMIT_BURST 20
#define LIMIT_PER_SEC 5

static double bucket_tokens = LIMIT_BURST;
static long long bucket_ms;               /* when the bucket was last refilled */
static unsigned long long bucket_dropped; /* lines suppressed since the last summary */

static void log_vmsg(enum log_level l, const char *fmt, va_list ap, int limited)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    if (l > level) return;
    char line[1024];
    char summary[160];
    size_t slen = 0;
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts); /* log lines carry the real time, also under a test clock */
    gmtime_r(&ts.tv_sec, &tm);
    char stamp[80];
    snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
    int n = snprintf(line, sizeof(line), "%s %s ", stamp, names[l]);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof(line) - 2) len = sizeof(line) - 2;
    line[len++] = '\n';
    pthread_mutex_lock(&log_lock);
    if (limited) {
        struct timespec mt;
        clock_gettime(CLOCK_MONOTONIC_COARSE, &mt);
        long long now = mt.tv_sec * 1000LL + mt.tv_nsec / 1000000;
        bucket_tokens += (double)(now - bucket_ms) * LIMIT_PER_SEC / 1000.0;
        if (bucket_tokens > LIMIT_BURST) bucket_tokens = LIMIT_BURST;
        bucket_ms = now;
        if (bucket_tokens < 1.0) {
            bucket_dropped++;
            pthread_mutex_unlock(&log_lock);
            return;
        }
        bucket_tokens -= 1.0;
        if (bucket_dropped) {
            int k = snprintf(summary, sizeof(summary), "%s warn log: %llu lines suppressed (rate limit)\n",
                             stamp, bucket_dropped);
            slen = k > 0 && (size_t)k < sizeof(summary) ? (size_t)k : 0;
            bucket_dropped = 0;
        }
    }
    ssize_t w = slen ? write(log_fd, summary, slen) : 0;
    w = write(log_fd, line, len);
    pthread_mutex_unlock(&log_lock);
    (void)w;
}

void log_msg(enum log_level l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(l, fmt, ap, 0);
    va_end(ap);
}

void log_limited(enum log_level l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(l, fmt, ap, 1);
    va_end(ap);
}

void log_limited_flush(void)
{
    pthread_mutex_lock(&log_lock);
    unsigned long long dropped = bucket_dropped;
    bucket_dropped = 0;
    pthread_mutex_unlock(&log_lock);
    if (dropped) log_msg(LOG_WARN, "log: %llu lines suppressed (rate limit)", dropped);
}
