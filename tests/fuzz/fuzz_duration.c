/* libFuzzer target: duration_parse (ISO 8601 durations: timers, the test clock's Advance) against a
 * reference written another way: split the text into number+designator tokens first, then check the
 * order of the designators and sum. Both must accept and refuse the same inputs, with the same value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/duration.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REF_TOKENS 16

/* Order of the designators: date part Y M W D, then (after T) H M S. */
static int rank(char d, int in_time)
{
    static const char date[] = "YMWD", time[] = "HMS";
    const char *p = strchr(in_time ? time : date, d);
    return d && p ? (int)(p - (in_time ? time : date)) + (in_time ? 4 : 0) : -1;
}

static int reference(const char *s, size_t n, long long *seconds)
{
    static const long long secs[7] = {365LL * 86400, 30LL * 86400, 7LL * 86400, 86400, 3600, 60, 1};
    if (n < 2 || s[0] != 'P') return -1;
    size_t t = n; /* position of the one 'T', if any */
    for (size_t i = 1; i < n; i++)
        if (s[i] == 'T') {
            if (t != n) return -1;
            t = i;
        }
    int last = -1, count = 0, time_count = 0;
    long long total = 0;
    for (size_t i = 1; i < n;) {
        if (i == t) {
            i++;
            continue;
        }
        size_t digits = 0;
        long long v = 0;
        while (i + digits < n && s[i + digits] >= '0' && s[i + digits] <= '9') {
            v = v * 10 + (s[i + digits] - '0');
            digits++;
        }
        if (digits == 0 || digits > 9 || i + digits >= n) return -1;
        int r = rank(s[i + digits], i > t);
        if (r < 0 || r <= last) return -1;
        last = r;
        total += v * secs[r];
        count++;
        time_count += i > t;
        if (count > REF_TOKENS) return -1; /* cannot happen: at most 7 */
        i += digits + 1;
    }
    if (count == 0 || (t != n && time_count == 0)) return -1;
    *seconds = total;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256) return 0;
    char *s = malloc(size ? size : 1);
    if (!s) return 0;
    memcpy(s, data, size);
    long long a = -1, b = -1;
    int ra = duration_parse(s, size, &a), rb = reference(s, size, &b);
    if (ra != rb) abort();
    if (ra == 0 && (a != b || a < 0)) abort();
    free(s);
    return 0;
}
