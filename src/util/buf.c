#include "util/buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUF_MIN_CAP 64

void buf_init(struct buf *b, size_t max)
{
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max > SIZE_MAX / 2 ? SIZE_MAX / 2 : max; /* keeps len + n + 1 from wrapping */
    b->err = 0;
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    b->err = 0;
    if (b->p) b->p[0] = '\0';
}

void buf_free(struct buf *b)
{
    free(b->p);
    buf_init(b, b->max);
}

/* Makes room for len + n bytes plus the NUL. Fails (and latches err) past the ceiling, so a
 * half-written value never appears in the output. */
static int buf_reserve(struct buf *b, size_t n)
{
    if (b->err) return -1;
    if (n > b->max - b->len) {
        b->err = 1;
        return -1;
    }
    size_t need = b->len + n + 1;
    if (need <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : BUF_MIN_CAP;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
    /* never allocate more than the ceiling can use */
    if (cap - 1 > b->max) cap = b->max + 1;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->err = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

int buf_put_slow(struct buf *b, const void *p, size_t n)
{
    if (buf_reserve(b, n) < 0) return -1;
    if (n) memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

int buf_putc_slow(struct buf *b, char c)
{
    /* fast path: room for the byte and the NUL (cap never exceeds max + 1) */
    if (b->err || b->cap - b->len < 2) {
        if (buf_reserve(b, 1) < 0) return -1;
    }
    b->p[b->len++] = c;
    b->p[b->len] = '\0';
    return 0;
}

int buf_puts(struct buf *b, const char *s)
{
    return buf_put(b, s, strlen(s));
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    char small[256];

    /* Format once into a stack buffer; most calls fit, and the length is then exact. */
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->err = 1;
        return -1;
    }
    if ((size_t)n < sizeof small) return buf_put(b, small, (size_t)n);

    if (buf_reserve(b, (size_t)n) < 0) return -1;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}
