/* The HTTP front: the only module that includes <microhttpd.h>. It owns connections, limits, body
 * buffering, the per-request arena and the per-thread store connections, and hands each complete
 * request to api_dispatch(). */
#ifndef PARLEY_SERVER_H
#define PARLEY_SERVER_H
#include <stddef.h>

struct app;
struct server;

struct server_config {
    const char *host; /* numeric IPv4 or IPv6 address */
    unsigned short port;
    unsigned threads;
    size_t max_body; /* bytes; larger bodies get 413 */
    unsigned connection_limit;
    unsigned per_ip_limit;    /* 0: none */
    unsigned idle_timeout;    /* seconds */
    unsigned read_timeout;    /* seconds to read a whole request (head and body); 0: no deadline */
    size_t connection_memory; /* bytes per connection: the request line and headers must fit */
    const char *tls_cert;     /* PEM file paths, both or neither */
    const char *tls_key;
};

int server_start(struct server **out, const struct server_config *cfg, struct app *app);
/* Stops accepting, lets in-flight requests finish (up to grace_ms), then stops. */
void server_stop(struct server *s, int grace_ms);

#endif
