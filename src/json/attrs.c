#include "json/attrs.h"

#include <jansson.h>

int attrs_validate(const char *s, size_t n, int object_only)
{
    json_error_t err;

    /* before parsing: the cap bounds the parser's work, not only what is stored */
    if (n > ATTRS_MAX_BYTES)
        return ATTRS_TOO_LONG;
    if (!s)
        return ATTRS_INVALID;
    /* Without JSON_ALLOW_NUL jansson refuses \u0000; it also refuses invalid UTF-8, lone
     * surrogates, NaN, trailing bytes and nesting past JSON_PARSER_MAX_DEPTH. INT_AS_REAL keeps
     * integers beyond 64 bits (valid JSON) from failing: only the verdict is used, not the value. */
    json_t *v = json_loadb(s, n, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, &err);
    if (!v)
        return ATTRS_INVALID;
    int ok = !object_only || json_is_object(v);
    json_decref(v);
    return ok ? ATTRS_OK : ATTRS_INVALID;
}
