/* application/x-www-form-urlencoded decoder (also used for query strings).
 * Decodes in place: keys and values point into the caller's buffer and are NUL-terminated there.
 * Repeated keys are kept in order (Twilio sends arrays as repeated keys). */
#ifndef PARLEY_FORM_H
#define PARLEY_FORM_H
#include <stddef.h>

#define FORM_MAX_PAIRS 128

struct form_pair {
    const char *key;
    size_t klen;
    const char *val;
    size_t vlen;
};

struct form {
    struct form_pair pair[FORM_MAX_PAIRS];
    size_t n;
};

enum form_error {
    FORM_OK = 0,
    FORM_EBADESC = -1,  /* '%' not followed by two hex digits */
    FORM_ENUL = -2,     /* %00 (or a raw NUL byte) in a key or value */
    FORM_ETOOMANY = -3, /* more than FORM_MAX_PAIRS pairs */
    FORM_EUTF8 = -4,    /* a key or value is not well-formed UTF-8 after decoding */
};

/* Decodes buf[0..len) ("a=1&b=x+y&c=%2B"). '+' is a space, "%XX" a byte. Empty segments ("a=1&&b=2")
 * are skipped; a segment without '=' is a key with an empty value; "=v" is an empty key. Returns 0
 * or a form_error; on error f->n is 0 and buf holds partly decoded bytes.
 * buf must be writable for len + 1 bytes: the last value's NUL may land on buf[len] (a struct buf's
 * p, or any NUL-terminated copy, satisfies this). */
int form_decode(char *buf, size_t len, struct form *f);

/* First value for key, or NULL; *vlen receives its length. */
const char *form_get(const struct form *f, const char *key, size_t *vlen);
/* Number of values for key. */
size_t form_count(const struct form *f, const char *key);

#endif
