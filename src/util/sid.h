/* Twilio SIDs: a two-letter prefix and 32 hex digits (34 chars). */
#ifndef PARLEY_SID_H
#define PARLEY_SID_H
#include <stddef.h>

#define SID_LEN 34

/* out receives prefix (exactly two chars) + 32 lower-case hex digits from getrandom(), NUL-terminated.
 * Aborts if the kernel has no getrandom(): SIDs must be unguessable. */
void sid_new(char out[SID_LEN + 1], const char *prefix);
/* 1 if s[0..n) is prefix followed by exactly 32 hex digits (either case, as the spec's patterns).
 * The prefix matches case-sensitively; a NULL prefix accepts any two upper-case ASCII letters. */
int sid_valid(const char *s, size_t n, const char *prefix);
/* A Twilio-style request id "RQ" + 32 hex, cheap (per-thread PRNG seeded from getrandom). */
void request_id_new(char out[SID_LEN + 1]);
/* A lower-case UUID v4 (36 chars) for I-Twilio-Idempotency-Token. */
void uuid4_new(char out[37]);

#endif
