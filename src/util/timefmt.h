/* Time as integer milliseconds since the epoch, rendered as Twilio renders it. */
#ifndef PARLEY_TIMEFMT_H
#define PARLEY_TIMEFMT_H

#include "util/clock.h" /* time_now_ms: the one clock */

#define TIME_ISO_LEN 20    /* 2019-12-16T22:18:37Z */
#define TIME_ISO_MS_LEN 24 /* 2021-08-10T18:00:58.111Z (webhook parameters) */

void time_iso(char out[TIME_ISO_LEN + 1], long long ms);
void time_iso_ms(char out[TIME_ISO_MS_LEN + 1], long long ms);
/* Parses "YYYY-MM-DDTHH:MM:SSZ" (optionally with .fff before Z); 0 and *ms, or -1. */
int time_parse_iso(const char *s, long long *ms);

#endif
