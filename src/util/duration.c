#include "util/duration.h"

/* Designators in the order they may appear, each with its length in seconds. */
struct unit {
    char designator;
    int time_part; /* after 'T' */
    long long seconds;
};

static const struct unit units[] = {
    {'Y', 0, 365LL * 86400}, {'M', 0, 30LL * 86400}, {'W', 0, 7LL * 86400}, {'D', 0, 86400},
    {'H', 1, 3600},          {'M', 1, 60},           {'S', 1, 1},
};
#define UNIT_COUNT (sizeof(units) / sizeof(units[0]))

int duration_parse(const char *s, size_t n, long long *seconds)
{
    if (!s || n < 3 || s[0] != 'P') return -1;
    size_t i = 1, next = 0; /* next: the first unit still allowed */
    int in_time = 0, components = 0, time_components = 0;
    long long total = 0;
    while (i < n) {
        if (s[i] == 'T') {
            if (in_time) return -1;
            in_time = 1;
            while (next < UNIT_COUNT && !units[next].time_part)
                next++;
            i++;
            continue;
        }
        size_t start = i;
        long long v = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (i - start == 9) return -1;
            v = v * 10 + (s[i] - '0');
            i++;
        }
        if (i == start || i == n) return -1;
        size_t u = next;
        while (u < UNIT_COUNT && (units[u].designator != s[i] || units[u].time_part != in_time))
            u++;
        if (u == UNIT_COUNT) return -1;
        total += v * units[u].seconds; /* at most 7 * 999999999 * 31536000: fits in 63 bits */
        next = u + 1;
        components++;
        time_components += in_time;
        i++;
    }
    if (components == 0 || (in_time && time_components == 0)) return -1;
    *seconds = total;
    return 0;
}
