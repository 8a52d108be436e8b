/* Backend selection by the --data target, and the PostgreSQL stand-in of a build without libpq. */
#include <stdio.h>
#include <string.h>

#include "store/store.h"
#include "util/log.h"

static int is_pg_target(const char *target)
{
    return target && (strncmp(target, "postgres://", 11) == 0 || strncmp(target, "postgresql://", 13) == 0 ||
                      strchr(target, '=') != NULL);
}

const struct store_ops *store_backend_for(const char *target)
{
    return is_pg_target(target) ? &store_pg_ops : &store_sqlite_ops;
}

struct redact_out {
    char *p;
    size_t n, len;
};

static void put(struct redact_out *o, const char *s, size_t len)
{
    for (size_t i = 0; i < len && o->len + 1 < o->n; i++)
        o->p[o->len++] = s[i];
    o->p[o->len] = '\0';
}

/* postgres://user:secret@host/db -> postgres://user:***@host/db; password=secret (keyword string or URL
 * query) -> password=*** */
void store_target_redact(const char *target, char *out, size_t n)
{
    const char *t = target ? target : "";
    struct redact_out o = {out, n, 0};
    if (n == 0) return;
    out[0] = '\0';
    if (!is_pg_target(t)) {
        put(&o, t, strlen(t));
        return;
    }
    const char *scheme = strstr(t, "://");
    if (scheme) {
        const char *auth = scheme + 3, *end = auth + strcspn(auth, "/?"), *at = NULL;
        for (const char *q = auth; q < end; q++)
            if (*q == '@') at = q;
        const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
        if (colon) {
            put(&o, t, (size_t)(colon + 1 - t));
            put(&o, "***", 3);
            t = at;
        }
    }
    for (;;) {
        const char *p = strstr(t, "password=");
        if (!p) {
            put(&o, t, strlen(t));
            return;
        }
        put(&o, t, (size_t)(p + 9 - t));
        const char *v = p + 9;
        if (*v == '\'') {
            for (v++; *v && *v != '\''; v++)
                if (*v == '\\' && v[1]) v++;
            if (*v) v++;
        } else {
            v += strcspn(v, " \t&");
        }
        put(&o, "***", 3);
        t = v;
    }
}

#ifdef NO_STORE_PG
static int pg_stub_open(const char *target, int writer, int sync_full, struct store_conn **out)
{
    (void)target;
    (void)writer;
    (void)sync_full;
    (void)out;
    log_err(
        "this build has no PostgreSQL support (built with make STORE_PG=0): rebuild with libpq-dev installed"
        " to use a postgres:// --data target");
    return ST_ERROR;
}

const struct store_ops store_pg_ops = {.name = "postgres", .open = pg_stub_open};
#endif
