/* Validation of untrusted JSON strings (Attributes) with jansson: RFC 8259 text (duplicate names and
 * \u0000 escapes are valid JSON and pass), no raw NUL, nesting bounded by jansson's depth cap. The text
 * itself is stored verbatim by the caller; no tree is kept. */
#ifndef PARLEY_ATTRS_H
#define PARLEY_ATTRS_H
#include <stddef.h>

#define ATTRS_MAX_BYTES (16 * 1024)

enum attrs_result { ATTRS_OK = 0, ATTRS_INVALID = -1, ATTRS_TOO_LONG = -2 };

/* Any JSON value is accepted (BEHAVIOUR §10.5); object_only=1 accepts only an object. */
int attrs_validate(const char *s, size_t n, int object_only);

#endif
