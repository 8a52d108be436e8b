#include "util/arena.h"

#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK 8192

struct arena_chunk {
    struct arena_chunk *next;
    size_t size;
    max_align_t data[];
};

static struct arena_chunk *chunk_new(size_t size)
{
    struct arena_chunk *c = malloc(sizeof(*c) + size);
    if (!c) abort();
    c->next = NULL;
    c->size = size;
    return c;
}

void arena_init(struct arena *a)
{
    a->head = NULL;
    a->cur = a->end = NULL;
}

void arena_reset(struct arena *a)
{
    if (!a->head) return;
    struct arena_chunk *first = a->head;
    while (first->next) {
        struct arena_chunk *n = first->next;
        first->next = n->next;
        free(n);
    }
    a->cur = (char *)first->data;
    a->end = a->cur + first->size;
}

void arena_free(struct arena *a)
{
    struct arena_chunk *c = a->head;
    while (c) {
        struct arena_chunk *n = c->next;
        free(c);
        c = n;
    }
    arena_init(a);
}

void *arena_alloc(struct arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if ((size_t)(a->end - a->cur) < n || !a->cur) {
        size_t size = n > ARENA_CHUNK ? n : ARENA_CHUNK;
        struct arena_chunk *c = chunk_new(size);
        if (!a->head) {
            a->head = c;
        } else {
            /* keep the first chunk first so that arena_reset keeps it */
            c->next = a->head->next;
            a->head->next = c;
        }
        a->cur = (char *)c->data;
        a->end = a->cur + size;
    }
    void *p = a->cur;
    a->cur += n;
    return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}
