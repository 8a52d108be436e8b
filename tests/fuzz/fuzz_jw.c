/* libFuzzer target: bytes through jw_strn inside a small document; jansson must read the output
 * back to the same bytes exactly when the input is valid UTF-8, and refuse it otherwise. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/buf.h"
#include "util/text.h"
#include "json/jw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same_string(const json_t *v, const uint8_t *data, size_t size)
{
    return json_is_string(v) && json_string_length(v) == size &&
           memcmp(json_string_value(v), data, size) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf b;
    struct jw w;
    json_error_t err;
    const char *s = (const char *)data;

    /* [ "s", {"k": "s", "n": 1}, [] ]: the string in several positions, commas between */
    /* the string is written twice, at worst 6 bytes per input byte ("\u001f") */
    buf_init(&b, 12 * size + 256);
    jw_init(&w, &b);
    jw_arr_begin(&w);
    jw_strn(&w, s, size);
    jw_obj_begin(&w);
    jw_key(&w, "k");
    jw_strn(&w, s, size);
    jw_kint(&w, "n", (long long)size);
    jw_obj_end(&w);
    jw_arr_begin(&w);
    jw_arr_end(&w);
    jw_arr_end(&w);
    if (b.err || w.depth != 0) abort();

    int valid = utf8_valid(s, size);
    int has_nul = memchr(data, 0, size) != NULL;

    /* strict: no NUL allowed, so only NUL-free input may fail; everything else parses (invalid UTF-8
     * comes out as U+FFFD) */
    json_t *v = json_loadb(b.p, b.len, JSON_REJECT_DUPLICATES, &err);
    if ((v != NULL) != !has_nul) abort();
    if (v && !valid) {
        json_decref(v);
        v = NULL;
    }
    if (v) {
        if (!json_is_array(v) || json_array_size(v) != 3 || !same_string(json_array_get(v, 0), data, size) ||
            !same_string(json_object_get(json_array_get(v, 1), "k"), data, size))
            abort();
        json_decref(v);
    }
    /* allowing NUL, every input parses, and valid UTF-8 round-trips, NULs included */
    v = json_loadb(b.p, b.len, JSON_ALLOW_NUL, &err);
    if (!v) abort();
    if (!valid) {
        json_decref(v);
        v = NULL;
    }
    if (v) {
        if (!same_string(json_array_get(v, 0), data, size)) abort();
        json_decref(v);
    }
    buf_free(&b);
    return 0;
}
