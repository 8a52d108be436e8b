/* A reference UTF-8 check for the tests and fuzz targets: decode each code point the naive way, then
 * apply the three rules (shortest form, no surrogates, at most U+10FFFF). Written independently of
 * src/util/text.c (which works from Unicode's Table 3-7) so that each checks the other. */
#ifndef PARLEY_TESTS_UTF8_REF_H
#define PARLEY_TESTS_UTF8_REF_H
#include <stddef.h>
#include <stdint.h>

/* 1 when s[0..n) is well-formed; *count (may be NULL) receives the number of code points. */
static inline int utf8_ref_valid(const unsigned char *s, size_t n, size_t *count)
{
    size_t i = 0, cps = 0;
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
        if (n - i < len)
            return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
        if ((len > 1 && cp < min[len]) || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
            return 0;
        i += len;
        cps++;
    }
    if (count)
        *count = cps;
    return 1;
}

#endif
