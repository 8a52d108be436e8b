/* ISO 8601 durations as the Conversations API takes them for timers ("PT1M", "P1DT12H", "P2W"). */
#ifndef PARLEY_DURATION_H
#define PARLEY_DURATION_H
#include <stddef.h>

/* Parses s[0..n): 'P', then any of nY nM nW nD in that order, then optionally 'T' followed by at least
 * one of nH nM nS in that order; at least one component; n is 1 to 9 decimal digits (no sign, no
 * fraction); designators upper-case only. For comparisons a year counts 365 days and a month 30.
 * Returns 0 and the length in seconds in *seconds, or -1. */
int duration_parse(const char *s, size_t n, long long *seconds);

#endif
