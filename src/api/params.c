#include "api/params.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/fail.h"
#include "http/form.h"
#include "http/request.h"
#include "http/response.h"
#include "util/buf.h"
#include "util/sid.h"
#include "util/text.h"
#include "json/attrs.h"
#include "json/jw.h"

static int enum_has(const char *choices, const char *s, size_t n, int any_case)
{
    const char *p = choices;
    while (*p) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && (any_case ? strncasecmp(p, s, n) : memcmp(p, s, n)) == 0) return 1;
        if (!bar) break;
        p = bar + 1;
    }
    return 0;
}

static int parse_int(const char *s, size_t n, long long *out)
{
    if (n == 0 || n > 18) return -1;
    size_t i = 0;
    int neg = 0;
    if (s[0] == '-') {
        neg = 1;
        i = 1;
        if (n == 1) return -1;
    }
    long long v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = neg ? -v : v;
    return 0;
}

static int check_one(struct req *r, const struct param_spec *sp, const char *s, size_t n,
                     struct param_value *v)
{
    switch (sp->kind) {
    case PK_STRING:
        if (sp->max && utf8_len(s, n) > (size_t)sp->max) {
            if (sp->too_long) return api_fail(r, sp->too_long);
            return api_failf(r, E_INVALID_PARAM, "%s must be at most %lld characters", sp->name, sp->max);
        }
        return 0;
    case PK_SID:
        if (!sid_valid(s, n, sp->choices))
            return api_failf(r, E_INVALID_SID, "Invalid SID for %s: it must match ^%s[0-9a-fA-F]{32}$",
                             sp->name, sp->choices);
        return 0;
    case PK_JSON:
        switch (attrs_validate(s, n, 0)) {
        case ATTRS_OK:
            return 0;
        case ATTRS_TOO_LONG:
            return api_fail(r, E_ATTRS_TOO_LONG);
        default:
            return api_fail(r, E_ATTRS_INVALID);
        }
    case PK_BOOL:
        /* any case: twilio-python 7.x sends Python's True/False as they print (docs/DECISIONS.md) */
        if (n == 4 && strncasecmp(s, "true", 4) == 0)
            v->i = 1;
        else if (n == 5 && strncasecmp(s, "false", 5) == 0)
            v->i = 0;
        else
            return api_failf(r, E_INVALID_PARAM, "Invalid value for %s: expected true or false", sp->name);
        return 0;
    case PK_INT:
        if (parse_int(s, n, &v->i) != 0 || v->i < sp->min || v->i > sp->max)
            return api_failf(r, E_INVALID_PARAM, "Invalid value for %s", sp->name);
        return 0;
    case PK_ENUM:
        if (!enum_has(sp->choices, s, n, (sp->flags & P_ANY_CASE) != 0))
            return api_failf(r, E_INVALID_PARAM, "Invalid value for %s: expected one of %s", sp->name,
                             sp->choices);
        return 0;
    }
    return 0;
}

int params_read_op(struct req *r, const struct form *f, const struct param_spec *spec, size_t n,
                   struct param_value *out, int create)
{
    for (size_t k = 0; k < n; k++) {
        const struct param_spec *sp = &spec[k];
        struct param_value *v = &out[k];
        int required = (sp->flags & P_REQUIRED) || (create && (sp->flags & P_CREATE_REQUIRED));
        memset(v, 0, sizeof(*v));
        if (!create && (sp->flags & P_CREATE_ONLY)) continue;
        size_t count = 0;
        for (size_t i = 0; i < f->n; i++) {
            const struct form_pair *p = &f->pair[i];
            if (strcmp(p->key, sp->name) != 0) continue;
            /* An empty value counts as absent for a required parameter, as Twilio's gateway does. */
            if (p->vlen == 0 && required) continue;
            if (count == 0) {
                v->s = p->val;
                v->len = p->vlen;
            }
            if (count == 0 || (sp->flags & P_LIST)) {
                if (p->vlen == 0 && sp->kind != PK_STRING) {
                    if (sp->kind == PK_JSON) return api_fail(r, E_ATTRS_INVALID);
                    return api_failf(r, E_INVALID_PARAM, "Invalid value for %s", sp->name);
                }
                if (check_one(r, sp, p->val, p->vlen, v) != 0) return -1;
            }
            count++;
        }
        v->present = count > 0;
        v->n = count;
        if (!v->present && required)
            return api_failf(r, E_INVALID_PARAM, "Missing required parameter %s in the post body", sp->name);
    }
    return 0;
}

int params_read(struct req *r, const struct form *f, const struct param_spec *spec, size_t n,
                struct param_value *out)
{
    return params_read_op(r, f, spec, n, out, 1);
}

size_t params_count_present(const struct param_value *v, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += v[i].present ? 1 : 0;
    return c;
}

int params_http_url(const char *s, size_t n)
{
    size_t skip = strncasecmp(s, "https://", 8) == 0 ? 8 : strncasecmp(s, "http://", 7) == 0 ? 7 : 0;
    if (!skip || n <= skip || s[skip] == '/' || s[skip] == '?' || s[skip] == '#') return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f) return 0;
    return 1;
}

/* 1 when the body's pair i repeats the value of an earlier pair of its key */
static int repeated(const struct form *f, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (strcmp(f->pair[j].key, f->pair[i].key) == 0 && strcmp(f->pair[j].val, f->pair[i].val) == 0)
            return 1;
    return 0;
}

int params_list_json(struct req *r, const char *name, int (*check)(struct req *r, const char *s, size_t n),
                     int max, int too_many, char **out)
{
    struct buf b;
    buf_init(&b, PARAMS_LIST_JSON_MAX);
    struct jw w;
    jw_init(&w, &b);
    jw_arr_begin(&w);
    int count = 0, err = 0;
    for (size_t i = 0; i < r->body.n && !err; i++) {
        const struct form_pair *p = &r->body.pair[i];
        if (strcmp(p->key, name) != 0) continue;
        if (check && (err = check(r, p->val, p->vlen)) != 0) break;
        if (p->vlen == 0 || repeated(&r->body, i)) continue;
        if (++count > max && max) err = too_many;
        jw_str(&w, p->val);
    }
    jw_arr_end(&w);
    if (!err && b.err) err = too_many; /* more text than any accepted list holds */
    if (!err) *out = count ? arena_strndup(&r->arena, b.p, b.len) : NULL;
    buf_free(&b);
    return err;
}
