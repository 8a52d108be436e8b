/* A per-request bump allocator: everything a handler allocates lives until the request ends and is
 * released at once (h2o's pool idea). Allocation failure aborts: a server out of memory cannot answer. */
#ifndef PARLEY_ARENA_H
#define PARLEY_ARENA_H
#include <stddef.h>

struct arena_chunk;

struct arena {
    struct arena_chunk *head;
    char *cur;
    char *end;
};

void arena_init(struct arena *a);
void arena_reset(struct arena *a); /* frees all but the first chunk */
void arena_free(struct arena *a);
void *arena_alloc(struct arena *a, size_t n);
char *arena_strndup(struct arena *a, const char *s, size_t n); /* NUL-terminated copy */

#endif
