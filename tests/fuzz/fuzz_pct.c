/* libFuzzer target: pct_decode and utf8_valid against simple reference implementations, and
 * pct_encode -> pct_decode round trips. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int ref_hex(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes into out; -1 on a bad escape or a NUL. */
static long ref_pct(const uint8_t *s, size_t n, uint8_t *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = s[i];
        if (c == '%') {
            if (i + 2 >= n) return -1;
            int h = ref_hex(s[i + 1]), l = ref_hex(s[i + 2]);
            if (h < 0 || l < 0) return -1;
            c = h * 16 + l;
            i += 2;
        }
        if (c == 0) return -1;
        out[o++] = (uint8_t)c;
    }
    return (long)o;
}

/* Decodes each code point and applies the rules (shortest form, no surrogates, <= U+10FFFF). */
static int ref_utf8(const uint8_t *s, size_t n, size_t *count)
{
    size_t i = 0;
    *count = 0;
    while (i < n) {
        uint32_t c = s[i], cp;
        size_t len;
        if (c < 0x80) {
            len = 1;
            cp = c;
        } else if ((c & 0xe0) == 0xc0) {
            len = 2;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (n - i < len) return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return 0;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
        if ((len > 1 && cp < min[len]) || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return 0;
        i += len;
        (*count)++;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t count;
    int valid = ref_utf8(data, size, &count);
    if (utf8_valid((const char *)data, size) != valid) abort();
    if (valid && utf8_len((const char *)data, size) != count) abort();

    char *s = malloc(size ? size : 1);
    uint8_t *want = malloc(size ? size : 1);
    if (!s || !want) abort();
    memcpy(s, data, size);
    long got = pct_decode(s, size);
    long ref = ref_pct(data, size, want);
    if (got != ref || (got > 0 && memcmp(s, want, (size_t)got) != 0)) abort();

    /* anything without a NUL survives encode then decode unchanged */
    if (!memchr(data, 0, size)) {
        struct buf b;
        buf_init(&b, 3 * size + 1);
        if (pct_encode(&b, (const char *)data, size) != 0) abort();
        if (b.p && pct_decode(b.p, b.len) != (long)size) abort();
        if (size && memcmp(b.p, data, size) != 0) abort();
        buf_free(&b);
    }
    free(s);
    free(want);
    return 0;
}
