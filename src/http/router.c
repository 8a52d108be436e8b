#include "http/router.h"

#include <string.h>

#include "util/text.h"

#define MAX_SEGMENTS 10

struct segs {
    char *s[MAX_SEGMENTS];
    size_t len[MAX_SEGMENTS];
    int n;
};

/* Splits "/a/b/c" (a private copy) into NUL-terminated segments; -1 on an empty segment
 * ("//", trailing "/") or too many. */
static int split(char *p, struct segs *sg)
{
    sg->n = 0;
    while (*p == '/') {
        char *start = ++p;
        while (*p && *p != '/')
            p++;
        if (p == start || sg->n == MAX_SEGMENTS) return -1;
        sg->s[sg->n] = start;
        sg->len[sg->n] = (size_t)(p - start);
        sg->n++;
    }
    if (*p) return -1;
    for (int i = 0; i < sg->n; i++)
        sg->s[i][sg->len[i]] = '\0';
    return 0;
}

/* Matches pattern against the segments from `from` on, capturing each "{}" segment (raw) into cap[], at
 * most max of them; *ncap says how many. Returns the index after the last segment it matched, or -1. */
static int match_segments(const char *pattern, const struct segs *sg, int from, const char **cap,
                          size_t *cap_len, int max, int *ncap)
{
    int i = from;
    *ncap = 0;
    const char *p = pattern;
    while (*p == '/') {
        p++;
        const char *end = strchr(p, '/');
        size_t plen = end ? (size_t)(end - p) : strlen(p);
        if (i >= sg->n) return -1;
        if (plen == 2 && p[0] == '{' && p[1] == '}') {
            if (*ncap == max) return -1;
            cap[*ncap] = sg->s[i];
            cap_len[*ncap] = sg->len[i];
            (*ncap)++;
        } else if (plen != sg->len[i] || memcmp(p, sg->s[i], plen) != 0) {
            return -1;
        }
        i++;
        p += plen;
    }
    return i;
}

/* A route's pattern against segments [from, n): all of them, parameters into r. */
static int match_pattern(const char *pattern, const struct segs *sg, int from, struct req *r)
{
    int n;
    return match_segments(pattern, sg, from, r->param, r->param_len, ROUTE_MAX_PARAMS, &n) == sg->n;
}

/* The mount's pattern against the first segments: how many it spans (its one "{}" segment in
 * *captured), or 0 when the path does not start with it. */
static int match_mount(const char *pattern, const struct segs *sg, const char **captured)
{
    size_t len;
    int n;
    int end = match_segments(pattern, sg, 0, captured, &len, 1, &n);
    return end > 0 && n == 1 ? end : 0;
}

static handler_fn pick(const struct route *rt, enum http_method m)
{
    switch (m) {
    case HTTP_GET:
        return rt->get;
    case HTTP_POST:
        return rt->post;
    case HTTP_DELETE:
        return rt->del;
    default:
        return NULL;
    }
}

/* Decodes every captured parameter in place; a bad escape means no such resource. */
static int decode_params(struct req *r)
{
    for (int i = 0; i < ROUTE_MAX_PARAMS && r->param[i]; i++) {
        long n = pct_decode((char *)r->param[i], r->param_len[i]);
        if (n < 0 || !utf8_valid(r->param[i], (size_t)n)) return -1;
        ((char *)r->param[i])[n] = '\0';
        r->param_len[i] = (size_t)n;
    }
    return 0;
}

int router_match(const struct route *table, const char *prefix, const struct route_mount *mount,
                 struct req *r, const struct route **out, handler_fn *fn)
{
    size_t plen = strlen(prefix);
    if (strncmp(r->path, prefix, plen) != 0 || r->path[plen] != '/') return ROUTE_NOT_FOUND;
    char *copy = arena_strndup(&r->arena, r->path + plen, strlen(r->path + plen));
    struct segs sg;
    if (split(copy, &sg) != 0) return ROUTE_NOT_FOUND;

    const char *mounted = NULL;
    int skip = mount ? match_mount(mount->pattern, &sg, &mounted) : 0;
    const struct route *hit = NULL;
    for (const struct route *rt = table; rt->pattern && !hit; rt++) {
        memset(r->param, 0, sizeof(r->param));
        if (match_pattern(rt->pattern, &sg, 0, r)) {
            hit = rt;
            r->service_path = 0;
        } else if ((rt->flags & ROUTE_TWIN) && skip && match_pattern(rt->pattern, &sg, skip, r)) {
            hit = rt;
            r->service_path = 1;
            r->service_sid = mounted;
        }
    }
    if (!hit) return ROUTE_NOT_FOUND;
    if (decode_params(r) != 0) return ROUTE_NOT_FOUND;
    if (r->service_path && !mount->accept(r->service_sid, strlen(r->service_sid))) return ROUTE_NOT_FOUND;
    *out = hit;
    *fn = pick(hit, r->method);
    return *fn ? ROUTE_OK : ROUTE_NO_METHOD;
}
