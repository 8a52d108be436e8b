#include "json/jw.h"

#include <stdint.h>

#include <string.h>

#include "util/buf.h"
#include "util/text.h"

void jw_init(struct jw *w, struct buf *b)
{
    w->b = b;
    w->depth = 0;
    w->after_key = 0;
    memset(w->first, 1, sizeof w->first);
}

/* Writes the comma a value needs, unless it follows a key or opens its container. */
static void jw_sep(struct jw *w)
{
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (w->depth > 0 && w->depth <= JW_MAX_DEPTH) {
        if (!w->first[w->depth - 1]) buf_putc(w->b, ',');
        w->first[w->depth - 1] = 0;
    }
}

static void jw_open(struct jw *w, char c)
{
    jw_sep(w);
    buf_putc(w->b, c);
    /* Past the cap the output is refused, but depth still counts so the matching ends balance. */
    if (w->depth >= JW_MAX_DEPTH)
        w->b->err = 1;
    else
        w->first[w->depth] = 1;
    w->depth++;
}

static void jw_close(struct jw *w, char c)
{
    if (w->depth == 0 || w->after_key) {
        w->b->err = 1; /* unbalanced end, or a key with no value: a caller bug, never valid output */
        return;
    }
    w->depth--;
    buf_putc(w->b, c);
}

void jw_obj_begin(struct jw *w)
{
    jw_open(w, '{');
}

void jw_obj_end(struct jw *w)
{
    jw_close(w, '}');
}

void jw_arr_begin(struct jw *w)
{
    jw_open(w, '[');
}

void jw_arr_end(struct jw *w)
{
    jw_close(w, ']');
}

/* Keys are the caller's literals, never input: written as they are, in one bounds check (a page of 50
 * messages writes about 1,000 keys, and three checked writes each were an eighth of its rendering). */
void jw_key(struct jw *w, const char *k)
{
    struct buf *b = w->b;
    size_t n = strlen(k);
    if (w->after_key || w->depth == 0 || w->depth > JW_MAX_DEPTH || b->err || b->cap - b->len <= n + 4) {
        jw_sep(w);
        buf_putc(b, '"');
        buf_put(b, k, n);
        buf_put(b, "\":", 2);
        w->after_key = 1;
        return;
    }
    char *o = b->p + b->len;
    if (!w->first[w->depth - 1]) *o++ = ',';
    w->first[w->depth - 1] = 0;
    *o++ = '"';
    memcpy(o, k, n);
    o += n;
    *o++ = '"';
    *o++ = ':';
    *o = '\0';
    b->len = (size_t)(o - b->p);
    w->after_key = 1;
}

/* A key the caller built once as ,"key": (jw_key_literal): its comma is written only where the object
 * already has a member. */
void jw_key_lit(struct jw *w, const char *lit, size_t n)
{
    if (w->after_key || w->depth == 0 || w->depth > JW_MAX_DEPTH || n < 4) {
        w->b->err = 1; /* a caller bug: a key where no key may stand, or no literal */
        return;
    }
    if (w->first[w->depth - 1]) {
        lit++;
        n--;
    }
    w->first[w->depth - 1] = 0;
    buf_put(w->b, lit, n);
    w->after_key = 1;
}

size_t jw_key_literal(char *out, size_t cap, const char *k)
{
    size_t n = strlen(k);
    if (n + 4 > cap) return 0;
    out[0] = ',';
    out[1] = '"';
    memcpy(out + 2, k, n);
    out[n + 2] = '"';
    out[n + 3] = ':';
    return n + 4;
}

/* 1 when none of the eight bytes needs an escape: none below 0x20, none 0x80 or above, no '"', no '\\'. */
static int plain8(const char *s)
{
    uint64_t v;
    memcpy(&v, s, 8);
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    uint64_t q = v ^ (ones * '"'), bs = v ^ (ones * '\\');
    return !((v | ((v - ones * 0x20) & ~v) | ((q - ones) & ~q) | ((bs - ones) & ~bs)) & high);
}

/* The same for sixteen bytes, in the compiler's vector words (SSE2 on x86-64, NEON on arm64): a page
 * checks every SID, URL part and text it renders, and sixteen at once cost a third of two words of
 * eight (callgrind). A byte is plain when b - 0x20 wraps to below 0x60 (0x20..0x7f) and it is no '"'
 * and no '\\'. */
typedef unsigned char bytes16 __attribute__((vector_size(16)));

static int plain16(const char *s)
{
    bytes16 v;
    memcpy(&v, s, 16);
    bytes16 bad = ((bytes16)(v - 0x20) >= 0x60) | (v == '"') | (v == '\\');
    uint64_t lo, hi;
    memcpy(&lo, &bad, 8);
    memcpy(&hi, (const char *)&bad + 8, 8);
    return !(lo | hi);
}

/* The inside of a JSON string: s escaped, without the quotes. */
static void escape_into(struct buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    static const char short_esc[0x20] = {
        ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f', ['\r'] = 'r'};
    size_t run = 0; /* start of the pending run of bytes that need no escape */

    for (size_t i = 0; i < n; i++) {
        while (i + 8 <= n && plain8(s + i))
            i += 8;
        if (i >= n) break;
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            /* output is always valid JSON: a byte that does not start well-formed UTF-8 becomes U+FFFD */
            size_t len = utf8_seq_len((const unsigned char *)s + i, n - i);
            if (len) {
                i += len - 1;
                continue;
            }
            buf_put(b, s + run, i - run);
            buf_put(b, "\xef\xbf\xbd", 3);
            run = i + 1;
            continue;
        }
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        char esc[6] = {'\\', (char)c};
        size_t elen = 2;
        if (c < 0x20) {
            if (short_esc[c]) {
                esc[1] = short_esc[c];
            } else {
                memcpy(esc + 1, "u00", 3);
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 15];
                elen = 6;
            }
        }
        buf_put(b, s + run, i - run);
        buf_put(b, esc, elen);
        run = i + 1;
    }
    buf_put(b, s + run, n - run);
}

/* Sixteen bytes at a time; from sixteen bytes on the last block overlaps the one before it, from eight
 * to fifteen two words of eight do the same. */
int jw_plain(const char *s, size_t n)
{
    if (n >= 16) {
        for (size_t i = 0; i + 16 <= n; i += 16)
            if (!plain16(s + i)) return 0;
        return plain16(s + n - 16);
    }
    if (n >= 8) return plain8(s) && plain8(s + n - 8);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') return 0;
    }
    return 1;
}

/* Inlined into both callers: jw_strn's one part is the hottest string write there is (a page of 50
 * messages writes 700), and a loop kept for it cost a page 2 % (callgrind). */
static inline void str_parts(struct jw *w, const struct jw_part *p, size_t n)
{
    struct buf *b = w->b;
    jw_sep(w);
    /* most strings (SIDs, URLs, dates, plain text) need no escape: where every part is plain and the
     * whole fits, copied after one room check (escape_into is left for the rest) */
    size_t total = 0;
    int plain = !b->err;
    for (size_t i = 0; i < n && plain; i++) {
        total += p[i].n;
        plain = p[i].plain || jw_plain(p[i].s, p[i].n);
    }
    if (plain && b->cap - b->len > total + 2) {
        char *o = b->p + b->len;
        *o++ = '"';
        for (size_t i = 0; i < n; i++) {
            memcpy(o, p[i].s, p[i].n);
            o += p[i].n;
        }
        *o++ = '"';
        *o = '\0';
        b->len = (size_t)(o - b->p);
        return;
    }
    buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        if (p[i].plain)
            buf_put(b, p[i].s, p[i].n);
        else
            escape_into(b, p[i].s, p[i].n);
    }
    buf_putc(b, '"');
}

void jw_str_parts(struct jw *w, const struct jw_part *p, size_t n)
{
    str_parts(w, p, n);
}

void jw_strn(struct jw *w, const char *s, size_t n)
{
    const struct jw_part one = {s, n, 0};
    str_parts(w, &one, 1);
}

void jw_str(struct jw *w, const char *s)
{
    if (s)
        jw_strn(w, s, strlen(s));
    else
        jw_null(w);
}

void jw_int(struct jw *w, long long v)
{
    char tmp[24];
    char *o = tmp + sizeof tmp;
    /* via unsigned, so LLONG_MIN does not overflow on negation */
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

    do {
        *--o = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) *--o = '-';
    jw_sep(w);
    buf_put(w->b, o, (size_t)(tmp + sizeof tmp - o));
}

void jw_bool(struct jw *w, int v)
{
    jw_sep(w);
    if (v)
        buf_put(w->b, "true", 4);
    else
        buf_put(w->b, "false", 5);
}

void jw_null(struct jw *w)
{
    jw_sep(w);
    buf_put(w->b, "null", 4);
}

void jw_kstr(struct jw *w, const char *k, const char *s)
{
    jw_key(w, k);
    jw_str(w, s);
}

void jw_kint(struct jw *w, const char *k, long long v)
{
    jw_key(w, k);
    jw_int(w, v);
}

void jw_kbool(struct jw *w, const char *k, int v)
{
    jw_key(w, k);
    jw_bool(w, v);
}

void jw_knull(struct jw *w, const char *k)
{
    jw_key(w, k);
    jw_null(w);
}

void jw_raw(struct jw *w, const char *json)
{
    jw_sep(w);
    buf_puts(w->b, json);
}
