/* Opaque keyset paging tokens: "PT" + base64url of a small versioned payload.
 * A token names the sort key of the row the page starts after (or ends before). */
#ifndef PARLEY_PAGETOKEN_H
#define PARLEY_PAGETOKEN_H
#include <stddef.h>

#define PAGETOKEN_MAX 64

struct pagetoken {
    char dir;      /* 'a': rows with key > key (next page); 'b': rows with key < key (previous) */
    long long key; /* >= 0 */
};

/* Writes the token (NUL-terminated) to out[PAGETOKEN_MAX] and returns 0; for a position no token can
 * name (dir other than 'a'/'b', key < 0) writes "" and returns -1. */
int pagetoken_encode(const struct pagetoken *t, char out[PAGETOKEN_MAX]);
/* 0, or -1 for anything this server did not issue. */
int pagetoken_decode(const char *s, size_t n, struct pagetoken *t);

#endif
