#include "json/attrs.h"

#include <string.h>

#include <jansson.h>

int attrs_validate(const char *s, size_t n, int object_only)
{
    json_error_t err;

    /* before parsing: the cap bounds the parser's work, not only what is stored */
    if (n > ATTRS_MAX_BYTES) return ATTRS_TOO_LONG;
    /* A raw NUL is never valid JSON text, but jansson 2.14 accepts one right after a top-level
     * number ("1\0", found by fuzz_attrs). */
    if (!s || memchr(s, '\0', n)) return ATTRS_INVALID;
    /* RFC 8259 text, as Twilio's own parsers take it: duplicate names and \u0000 escapes are valid
     * JSON and accepted (docs/DECISIONS.md). jansson refuses invalid UTF-8, lone surrogates, NaN,
     * trailing bytes and nesting past JSON_PARSER_MAX_DEPTH. INT_AS_REAL keeps integers beyond 64
     * bits (valid JSON) from failing: only the verdict is used, not the value. */
    json_t *v = json_loadb(s, n, JSON_ALLOW_NUL | JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, &err);
    if (!v) return ATTRS_INVALID;
    int ok = !object_only || json_is_object(v);
    json_decref(v);
    return ok ? ATTRS_OK : ATTRS_INVALID;
}
