/* libFuzzer target: the router on arbitrary paths and methods, against the real route table. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "control/control.h"
#include "util/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096) return 0;
    static const enum http_method methods[] = {HTTP_GET, HTTP_POST, HTTP_DELETE, HTTP_OPTIONS, HTTP_OTHER};
    struct req r;
    memset(&r, 0, sizeof(r));
    arena_init(&r.arena);
    r.method = methods[data[0] % 5];
    char *path = arena_strndup(&r.arena, (const char *)data + 1, size - 1);
    if (strlen(path) != size - 1) { /* an inner NUL: the server never passes one */
        arena_free(&r.arena);
        return 0;
    }
    r.path = path;
    const struct route *rt = NULL;
    handler_fn fn = NULL;
    int admin = strncmp(path, "/parley/", 8) == 0;
    int rc = router_match(admin ? control_routes : api_routes, admin ? "/parley" : "/v1",
                          admin ? NULL : &api_mount, &r, &rt, &fn);
    if (rc == ROUTE_OK || rc == ROUTE_NO_METHOD) {
        if (!rt || !rt->pattern) abort();
        /* every captured parameter is decoded, NUL-terminated, valid UTF-8 */
        for (int i = 0; i < ROUTE_MAX_PARAMS && r.param[i]; i++)
            if (strlen(r.param[i]) != r.param_len[i] || !utf8_valid(r.param[i], r.param_len[i])) abort();
        if (r.service_path && (!r.service_sid || strlen(r.service_sid) != 34)) abort();
        if (rc == ROUTE_OK && !fn) abort();
    } else if (rc != ROUTE_NOT_FOUND) {
        abort();
    }
    arena_free(&r.arena);
    return 0;
}
