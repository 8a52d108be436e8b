/* libFuzzer target: pct_decode and utf8_valid against simple reference implementations, and
 * pct_encode -> pct_decode round trips. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/text.h"

#include "../utf8_ref.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t count;
    int valid = utf8_ref_valid(data, size, &count);
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
