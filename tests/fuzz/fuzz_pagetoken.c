/* libFuzzer target: pagetoken_decode must accept only the exact text pagetoken_encode writes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/pagetoken.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pagetoken t;
    char out[PAGETOKEN_MAX];
    char *s = malloc(size ? size : 1);
    if (!s) return 0;
    memcpy(s, data, size);

    if (pagetoken_decode(s, size, &t) == 0) {
        if ((t.dir != 'a' && t.dir != 'b') || t.key < 0) abort();
        /* one spelling per token: re-encoding reproduces the input byte for byte */
        if (pagetoken_encode(&t, out) != 0) abort();
        if (strlen(out) != size || memcmp(out, s, size) != 0) abort();
    }

    /* and the other direction: any position round-trips */
    if (size >= 9) {
        struct pagetoken in = {.dir = (data[0] & 1) ? 'b' : 'a', .key = 0}, back;
        unsigned long long k = 0;
        for (int i = 1; i < 9; i++)
            k = k << 8 | data[i];
        in.key = (long long)(k >> 1);
        if (pagetoken_encode(&in, out) != 0) abort();
        if (pagetoken_decode(out, strlen(out), &back) != 0 || back.dir != in.dir || back.key != in.key)
            abort();
    }
    free(s);
    return 0;
}
