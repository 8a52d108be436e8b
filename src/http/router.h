/* Method + path → handler, from a static table. Patterns are written after "/v1"; "{}" matches one
 * segment, which is percent-decoded into a path parameter. A route flagged ROUTE_TWIN also answers
 * under the table's mount (for Parley's API "/Services/{}", given by api/routes.c: the explicit twin of
 * the default-service short path). The router knows HTTP paths only, not what a mount means. */
#ifndef PARLEY_ROUTER_H
#define PARLEY_ROUTER_H

#include "http/request.h"

/* A handler fills r->status and r->out and returns 0, or returns 1 after queueing a write job whose
 * completion fills them later. */
typedef int (*handler_fn)(struct req *r);

#define ROUTE_TWIN 1u
#define ROUTE_NO_AUTH 2u

struct route {
    const char *pattern;
    unsigned flags;
    handler_fn get;
    handler_fn post;
    handler_fn del;
};

/* A prefix under which ROUTE_TWIN rows also answer, with one "{}" segment: the router puts it, raw, in
 * r->service_sid (r->service_path = 1) when accept() takes it, and answers no route otherwise. */
struct route_mount {
    const char *pattern;
    int (*accept)(const char *segment, size_t n);
};

enum route_result { ROUTE_OK = 0, ROUTE_NOT_FOUND = -1, ROUTE_NO_METHOD = -2 };

/* Matches r->path, which must start with prefix ("/v1"), against table (terminated by a NULL pattern)
 * whose patterns are written after the prefix. The path is copied into r's arena
 * and decoded there; fills r->param*, r->service_path and, for twin routes reached through the mount
 * (NULL: none), r->service_sid (not yet checked against the store). */
int router_match(const struct route *table, const char *prefix, const struct route_mount *mount,
                 struct req *r, const struct route **out, handler_fn *fn);

#endif
