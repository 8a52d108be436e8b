/* Byte-level text checks and decoders for untrusted input. */
#ifndef PARLEY_TEXT_H
#define PARLEY_TEXT_H
#include <stddef.h>

/* 1 if s[0..n) is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF), else 0. */
int utf8_valid(const char *s, size_t n);
/* Length (1 to 4) of the well-formed UTF-8 sequence at p[0..n), n >= 1; 0 when it is not one. */
size_t utf8_seq_len(const unsigned char *p, size_t n);
/* Number of code points in well-formed UTF-8. */
size_t utf8_len(const char *s, size_t n);

/* Percent-decodes s[0..n) in place ('+' stays '+', as in URL paths). Rejects a '%' not followed by
 * two hex digits, and %00 (or a raw NUL byte). Returns the decoded length, or -1 (s then holds
 * partly decoded bytes). */
long pct_decode(char *s, size_t n);

/* Appends s[0..n) percent-encoded for a query component (unreserved RFC 3986 chars kept,
 * everything else %XX, upper-case hex) to out; returns 0 or -1 when out's ceiling is reached. */
struct buf;
int pct_encode(struct buf *out, const char *s, size_t n);

/* Concatenates the NUL-terminated parts into out[0..cap), truncating (always terminated, cap >= 1); returns
 * the length written. For URLs built once per rendered row, where snprintf's format parsing showed in
 * profiles of list pages. */
size_t text_join(char *out, size_t cap, const char *const *parts, size_t n);

/* Value of an ASCII hex digit (either case), or -1. */
static inline int hex_val(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c |= 0x20; /* folds 'A'-'F' onto 'a'-'f'; no other byte lands there */
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Constant-time equality of a presented secret a and a stored secret b: the time depends only on bn,
 * never on the bytes of either nor on where they differ. Returns 1 when equal. */
int secret_equal(const char *a, size_t an, const char *b, size_t bn);

#endif
