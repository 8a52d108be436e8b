/* libFuzzer target: attrs_validate on arbitrary bytes, both modes, with their relations checked. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json/attrs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact-size copy: the validator must not read a terminator that is not there */
    char *s = malloc(size ? size : 1);
    if (!s) return 0;
    memcpy(s, data, size);
    int any = attrs_validate(s, size, 0);
    int obj = attrs_validate(s, size, 1);
    if (size > ATTRS_MAX_BYTES) {
        if (any != ATTRS_TOO_LONG || obj != ATTRS_TOO_LONG) abort();
    } else {
        if (any == ATTRS_TOO_LONG || obj == ATTRS_TOO_LONG) abort();
        if (obj == ATTRS_OK && any != ATTRS_OK) abort();       /* an object is a value */
        if (any == ATTRS_OK && memchr(s, '\0', size)) abort(); /* a raw NUL is never valid JSON text */
    }
    free(s);
    return 0;
}
