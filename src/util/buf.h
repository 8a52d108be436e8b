/* A growable byte buffer with a hard ceiling (curl's dynbuf idea): anything sized by a client
 * is bounded. Writes past the ceiling fail and latch b->err; the caller checks once at the end. */
#ifndef PARLEY_BUF_H
#define PARLEY_BUF_H
#include <stddef.h>
#include <string.h>

struct buf {
    char *p; /* always NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
    size_t max; /* ceiling on len */
    int err;    /* set once a write failed (ceiling or out of memory) */
};

void buf_init(struct buf *b, size_t max);
void buf_reset(struct buf *b); /* len = 0, err = 0, memory kept */
void buf_free(struct buf *b);
int buf_put_slow(struct buf *b, const void *p, size_t n);
int buf_putc_slow(struct buf *b, char c);

/* 0, or -1 past the ceiling. The common case (room already there) is inline: a response is built from
 * hundreds of small writes. cap never exceeds max + 1, so fitting in cap is within the ceiling. */
static inline int buf_put(struct buf *b, const void *p, size_t n)
{
    if (!b->err && b->cap - b->len > n) {
        memcpy(b->p + b->len, p, n);
        b->len += n;
        b->p[b->len] = '\0';
        return 0;
    }
    return buf_put_slow(b, p, n);
}

static inline int buf_putc(struct buf *b, char c)
{
    if (!b->err && b->cap - b->len > 1) {
        b->p[b->len++] = c;
        b->p[b->len] = '\0';
        return 0;
    }
    return buf_putc_slow(b, c);
}

int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
