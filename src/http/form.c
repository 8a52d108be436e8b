#include "http/form.h"

#include <string.h>

#include "util/text.h"

/* Decodes s[0..n) in place ('+' is a space, %XX a byte). Returns the decoded length, or a
 * negative form_error. */
static long form_unescape(char *s, size_t n)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (n - i < 3) return FORM_EBADESC;
            int hi = hex_val((unsigned char)s[i + 1]);
            int lo = hex_val((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0) return FORM_EBADESC;
            c = (unsigned char)(hi << 4 | lo);
            i += 2;
        }
        if (c == '\0') return FORM_ENUL;
        s[o++] = (char)c;
    }
    return (long)o;
}

/* Decodes s[0..n) and NUL-terminates the result. Decoding never lengthens, so the NUL lands at
 * or before s[n], which is the separator or the caller's spare byte. */
static long form_field(char *s, size_t n)
{
    long len = form_unescape(s, n);
    if (len < 0) return len;
    s[len] = '\0';
    if (!utf8_valid(s, (size_t)len)) return FORM_EUTF8;
    return len;
}

int form_decode(char *buf, size_t len, struct form *f)
{
    size_t i = 0;
    long rc;

    f->n = 0;
    while (i < len) {
        /* split on the raw '&' first, so an escaped %26 inside a value stays data */
        char *amp = memchr(buf + i, '&', len - i);
        size_t start = i;
        size_t end = amp ? (size_t)(amp - buf) : len;
        i = end + 1;
        if (end == start) continue;
        if (f->n == FORM_MAX_PAIRS) {
            rc = FORM_ETOOMANY;
            goto fail;
        }

        char *eq = memchr(buf + start, '=', end - start);
        size_t kend = eq ? (size_t)(eq - buf) : end;
        size_t vstart = eq ? kend + 1 : end;
        struct form_pair *p = &f->pair[f->n];

        if ((rc = form_field(buf + start, kend - start)) < 0) goto fail;
        p->key = buf + start;
        p->klen = (size_t)rc;
        /* with no '=' the value is the empty string at buf[end], NUL-terminated by this call too */
        if ((rc = form_field(buf + vstart, end - vstart)) < 0) goto fail;
        p->val = buf + vstart;
        p->vlen = (size_t)rc;
        f->n++;
    }
    return FORM_OK;

fail:
    f->n = 0;
    return (int)rc;
}

const char *form_get(const struct form *f, const char *key, size_t *vlen)
{
    size_t kl = strlen(key);

    for (size_t i = 0; i < f->n; i++) {
        const struct form_pair *p = &f->pair[i];
        if (p->klen == kl && memcmp(p->key, key, kl) == 0) {
            if (vlen) *vlen = p->vlen;
            return p->val;
        }
    }
    return NULL;
}

size_t form_count(const struct form *f, const char *key)
{
    size_t kl = strlen(key), count = 0;

    for (size_t i = 0; i < f->n; i++)
        count += f->pair[i].klen == kl && memcmp(f->pair[i].key, key, kl) == 0;
    return count;
}
