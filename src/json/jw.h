/* A streaming JSON writer for fixed-shape responses: 11x faster than jansson's emitter here
 * (measured, see docs/DECISIONS.md), no per-field allocation. Writes into a bounded struct buf;
 * an overflow latches buf.err. Commas are tracked per nesting level. */
#ifndef PARLEY_JW_H
#define PARLEY_JW_H
#include <stddef.h>

struct buf;

#define JW_MAX_DEPTH 16

struct jw {
    struct buf *b;
    int depth;
    unsigned char first[JW_MAX_DEPTH]; /* 1 while the container at that level is empty */
    int after_key;
};

void jw_init(struct jw *w, struct buf *b);
void jw_obj_begin(struct jw *w);
void jw_obj_end(struct jw *w);
void jw_arr_begin(struct jw *w);
void jw_arr_end(struct jw *w);
void jw_key(struct jw *w, const char *k); /* k is trusted, written unescaped */
/* The same key built once, for rows written many times: jw_key_literal writes ,"k": into out (k is
 * trusted) and returns its length, 0 when cap is too small; jw_key_lit writes it as jw_key would. */
size_t jw_key_literal(char *out, size_t cap, const char *k);
void jw_key_lit(struct jw *w, const char *lit, size_t n);
void jw_str(struct jw *w, const char *s); /* NULL writes null */
/* Escapes ", \, and controls < 0x20; bytes that are not well-formed UTF-8 become U+FFFD, so the output
 * is valid JSON whatever s holds (a path echoed in a 404 message may hold anything). */
void jw_strn(struct jw *w, const char *s, size_t n);
/* 1 when s[0..n) can stand in a JSON string as it is (printable ASCII, no '"', no '\\'). */
int jw_plain(const char *s, size_t n);
/* One string from parts: a part marked plain (jw_plain holds for it, checked once by the caller, e.g.
 * for a prefix every row of a page shares) is copied, any other escaped as jw_strn does. */
struct jw_part {
    const char *s;
    size_t n;
    int plain;
};
void jw_str_parts(struct jw *w, const struct jw_part *p, size_t n);
void jw_int(struct jw *w, long long v);
void jw_bool(struct jw *w, int v);
void jw_null(struct jw *w);
/* Writes trusted, already valid JSON text as a value (e.g. an array Parley itself stored). */
void jw_raw(struct jw *w, const char *json);
/* key + value shorthands */
void jw_kstr(struct jw *w, const char *k, const char *s);
void jw_kint(struct jw *w, const char *k, long long v);
void jw_kbool(struct jw *w, const char *k, int v);
void jw_knull(struct jw *w, const char *k);

#endif
