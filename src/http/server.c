#include "http/server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "http/form.h"
#include "http/request.h"
#include "http/response.h"
#include "util/log.h"
#include "util/metrics.h"
#include "util/sid.h"

#define URI_MAX 8192
#define OUT_MAX (8u * 1024 * 1024)

struct server {
    struct MHD_Daemon *d;
    struct app *app;
    size_t max_body;
    int tls;
    char api_domain[RESP_API_DOMAIN_MAX];
    atomic_int in_flight;
    pthread_mutex_t conns_lock;
    struct store_conn **conns;   /* every per-thread read connection, closed at stop */
    size_t nconns, capconns;
    struct conn_state **states;  /* every request state ever allocated, freed at stop */
    size_t nstates, capstates;
};

enum phase { PH_HEADERS, PH_BODY, PH_WAITING, PH_READY };

/* Per-request state, recycled per thread so that a request costs no malloc in the steady state. */
struct conn_state {
    struct req req;
    struct MHD_Connection *conn;
    struct server *srv;
    char uri[URI_MAX];
    size_t uri_len;
    int uri_too_long;
    struct buf body;
    int too_large;
    int bad_request;
    enum phase phase;
    struct timespec t0;
    struct conn_state *next_free;
};

/* state_new() resets a request around its two large forms: they must stay together, in this order */
_Static_assert(offsetof(struct req, body) == offsetof(struct req, query) + sizeof(struct form) &&
                   offsetof(struct req, webhook_enabled) == offsetof(struct req, body) + sizeof(struct form),
               "struct req: query and body must be adjacent and followed by webhook_enabled");

static __thread struct store_conn *tl_db;
static __thread struct conn_state *tl_free;

/* Appends p to a growable array under the server's lock. */
static int registry_add(struct server *s, void ***arr, size_t *n, size_t *cap, void *p)
{
    pthread_mutex_lock(&s->conns_lock);
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        void **np = realloc(*arr, nc * sizeof(*np));
        if (!np) {
            pthread_mutex_unlock(&s->conns_lock);
            return -1;
        }
        *arr = np;
        *cap = nc;
    }
    (*arr)[(*n)++] = p;
    pthread_mutex_unlock(&s->conns_lock);
    return 0;
}

static struct store_conn *thread_db(struct server *s)
{
    if (tl_db)
        return tl_db;
    struct store_conn *c;
    if (s->app->store->open(s->app->data, 0, s->app->sync_full, &c) != ST_OK)
        return NULL;
    if (registry_add(s, (void ***)&s->conns, &s->nconns, &s->capconns, c) != 0) {
        c->ops->close(c);
        return NULL;
    }
    tl_db = c;
    return c;
}

static struct conn_state *state_new(struct server *s)
{
    struct conn_state *st = tl_free;
    if (st) {
        tl_free = st->next_free;
    } else {
        st = calloc(1, sizeof(*st));
        if (!st || registry_add(s, (void ***)&s->states, &s->nstates, &s->capstates, st) != 0)
            abort();
        buf_init(&st->body, 0);
        buf_init(&st->req.out, OUT_MAX);
        arena_init(&st->req.arena);
    }
    st->srv = s;
    st->uri_len = 0;
    st->uri_too_long = 0;
    st->too_large = 0;
    st->bad_request = 0;
    st->phase = PH_HEADERS;
    buf_reset(&st->body);
    st->body.max = s->max_body;
    /* reset the request but keep its buffers; the forms are reset by their counts (no 8 KiB memset) */
    struct req *r = &st->req;
    struct buf out = r->out;
    struct arena arena = r->arena;
    memset(r, 0, offsetof(struct req, query));
    r->query.n = 0;
    r->body.n = 0;
    memset(&r->webhook_enabled, 0, sizeof(*r) - offsetof(struct req, webhook_enabled));
    r->route_idx = -1;
    r->out = out;
    r->arena = arena;
    buf_reset(&r->out);
    clock_gettime(CLOCK_MONOTONIC, &st->t0);
    return st;
}

/* States go back to this thread's free list; their number is bounded by the connections this thread
 * ever served at once. Unusually large buffers are given back. */
static void state_release(struct conn_state *st)
{
    arena_reset(&st->req.arena);
    if (st->body.cap > 65536) {
        buf_free(&st->body);
        buf_init(&st->body, 0);
    }
    if (st->req.out.cap > 262144) {
        buf_free(&st->req.out);
        buf_init(&st->req.out, OUT_MAX);
    }
    st->next_free = tl_free;
    tl_free = st;
}

static void state_free(struct conn_state *st)
{
    buf_free(&st->body);
    buf_free(&st->req.out);
    arena_free(&st->req.arena);
    free(st);
}

/* MHD hands us the raw request target here, before it parses it; the return value becomes the
 * request's context pointer. Parley decodes path and query itself (tested, fuzzed). */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct server *s = cls;
    struct conn_state *st = state_new(s);
    st->conn = conn;
    size_t n = strlen(uri);
    if (n >= URI_MAX) {
        st->uri_too_long = 1;
        n = 0;
    }
    memcpy(st->uri, uri, n);
    st->uri[n] = '\0';
    st->uri_len = n;
    atomic_fetch_add(&s->in_flight, 1);
    return st;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    struct server *s = cls;
    struct conn_state *st = *con_cls;
    if (!st)
        return;
    *con_cls = NULL;
    state_release(st);
    atomic_fetch_sub(&s->in_flight, 1);
}

/* MHD must not unescape: the router and the form decoder do it, with their own error handling. */
static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
    return strlen(s);
}

static enum http_method method_of(const char *m)
{
    /* HEAD answers as GET; libmicrohttpd sends the headers (Content-Length included) without the body */
    if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
        return HTTP_GET;
    if (strcmp(m, "POST") == 0)
        return HTTP_POST;
    if (strcmp(m, "DELETE") == 0)
        return HTTP_DELETE;
    if (strcmp(m, "OPTIONS") == 0)
        return HTTP_OPTIONS;
    return HTTP_OTHER;
}

struct cl_count {
    int n;
    const char *first;
    int differ;
};

static enum MHD_Result count_cl(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    struct cl_count *c = cls;
    if (strcasecmp(key, "Content-Length") != 0)
        return MHD_YES;
    /* a repeated Content-Length is a request smuggling shape even when the values agree */
    if (c->n++ == 0)
        c->first = value;
    else
        c->differ = 1;
    return MHD_YES;
}

static enum MHD_Result send_response(struct conn_state *st)
{
    struct req *r = &st->req;
    int status = r->status ? r->status : 500;
    size_t len = status == 204 ? 0 : r->out.len;
    /* the body stays in r->out, untouched, until MHD reports the request completed: no copy */
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, len ? r->out.p : (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    for (const struct resp_header *h = resp_fixed_headers; h->name; h++)
        MHD_add_response_header(resp, h->name, r->content_type && h == resp_fixed_headers ? r->content_type : h->value);
    char rid[SID_LEN + 1];
    request_id_new(rid);
    MHD_add_response_header(resp, "Twilio-Request-Id", rid);
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long long us = (t1.tv_sec - st->t0.tv_sec) * 1000000LL + (t1.tv_nsec - st->t0.tv_nsec) / 1000;
    long long ms = us / 1000;
    metrics_request(r->route_idx, r->method ? __builtin_ctz((unsigned)r->method) : 4, status, us);
    char dur[32];
    snprintf(dur, sizeof(dur), "%lld.%03lld", ms / 1000, ms % 1000);
    MHD_add_response_header(resp, "Twilio-Request-Duration", dur);
    char concurrent[16];
    snprintf(concurrent, sizeof(concurrent), "%d", atomic_load(&st->srv->in_flight));
    MHD_add_response_header(resp, "Twilio-Concurrent-Requests", concurrent);
    MHD_add_response_header(resp, "X-API-Domain", st->srv->api_domain);
    if (st->srv->tls)
        MHD_add_response_header(resp, "Strict-Transport-Security", RESP_HSTS);
    if (status == 401)
        MHD_add_response_header(resp, "WWW-Authenticate", "Basic realm=\"Twilio API\"");
    enum MHD_Result ret = MHD_queue_response(st->conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* Called on the writer thread once a write job is durable (or failed): wake the connection up. */
static void on_write_complete(struct req *r)
{
    struct conn_state *st = (struct conn_state *)r;
    st->phase = PH_READY;
    MHD_resume_connection(st->conn);
}

/* Called by api_write() before the job is queued, so that the connection is suspended before the
 * writer can possibly resume it. */
static void on_defer(struct req *r)
{
    struct conn_state *st = (struct conn_state *)r;
    if (st->phase == PH_WAITING)
        return;   /* already suspended (a pre-event hook ran first) */
    st->phase = PH_WAITING;
    MHD_suspend_connection(st->conn);
}

static int decode_query(struct req *r, char *q)
{
    if (!q)
        return 0;
    return form_decode(q, strlen(q), &r->query);
}

/* Everything that happens once the whole request is in. */
static enum MHD_Result handle(struct conn_state *st, const char *method)
{
    struct server *s = st->srv;
    struct req *r = &st->req;
    r->app = s->app;
    r->method = method_of(method);
    r->on_complete = on_write_complete;
    r->on_defer = on_defer;
    r->conn = st->conn;

    char *q = strchr(st->uri, '?');
    if (q)
        *q++ = '\0';
    r->path = st->uri;
    r->v1_path = strncmp(st->uri, "/v1/", 4) == 0 ? st->uri + 3 : st->uri;

    if (r->method == HTTP_OPTIONS) {
        r->status = 204;
        return send_response(st);
    }
    if (strcmp(r->path, "/healthz") == 0 && r->method == HTTP_GET) {
        r->status = 200;
        buf_puts(&r->out, "{\"status\":\"ok\"}");
        return send_response(st);
    }
    if (strcmp(r->path, "/metrics") == 0 && r->method == HTTP_GET) {
        r->db = thread_db(s);
        if (!r->db)
            resp_error(r, E_UNAVAILABLE, "Service unavailable");
        else
            api_metrics(r, MHD_lookup_connection_value(st->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION));
        return send_response(st);
    }
    if (st->uri_too_long) {
        resp_error_status(r, 414, E_INVALID_PARAM, "Request URI too long");
        return send_response(st);
    }
    if (st->bad_request) {
        resp_error(r, E_INVALID_PARAM, "Ambiguous request length (repeated Content-Length, or Content-Length with Transfer-Encoding)");
        return send_response(st);
    }
    r->db = thread_db(s);
    if (!r->db) {
        resp_error(r, E_UNAVAILABLE, "Service unavailable");
        return send_response(st);
    }
    const char *auth = MHD_lookup_connection_value(st->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    const char *hook = MHD_lookup_connection_value(st->conn, MHD_HEADER_KIND, "X-Twilio-Webhook-Enabled");
    r->webhook_enabled = hook && strcmp(hook, "true") == 0;

    /* Body and query are decoded before authentication only to know whether they are well-formed;
     * nothing is acted on before the credentials are checked. */
    int form_rc = 0, query_rc = decode_query(r, q);
    if (st->too_large) {
        form_rc = 1;
    } else if (st->body.len) {
        r->body_seen = 1;
        form_rc = form_decode(st->body.p, st->body.len, &r->body);
    }
    if (st->too_large)
        r->input_error = INPUT_TOO_LARGE;
    else if (query_rc != 0)
        r->input_error = INPUT_BAD_QUERY;
    else if (form_rc != 0)
        r->input_error = INPUT_BAD_BODY;
    if (api_dispatch(r, auth))
        return MHD_YES;   /* suspended in on_defer; the writer resumes us */
    return send_response(st);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    struct conn_state *st = *con_cls;
    if (!st)
        return MHD_NO;
    switch (st->phase) {
    case PH_HEADERS: {
        /* Never answer on the first call: MHD would close the connection (STACK.md §1.3). */
        struct cl_count cc = {0};
        MHD_get_connection_values(conn, MHD_HEADER_KIND, count_cl, &cc);
        /* Content-Length beside Transfer-Encoding is the classic request smuggling shape: refuse it */
        if (cc.differ || (cc.n && MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Transfer-Encoding")))
            st->bad_request = 1;
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > st->srv->max_body)
            st->too_large = 1;
        st->phase = PH_BODY;
        return MHD_YES;
    }
    case PH_BODY:
        if (*upload_data_size) {
            if (!st->too_large && buf_put(&st->body, upload_data, *upload_data_size) != 0)
                st->too_large = 1;
            *upload_data_size = 0;
            return MHD_YES;
        }
        return handle(st, method);
    case PH_WAITING:
        return MHD_YES;
    case PH_READY:
        return send_response(st);
    }
    return MHD_NO;
}

static void on_mhd_error(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    vsnprintf(line, sizeof(line), fmt, ap);
    size_t n = strlen(line);
    while (n && line[n - 1] == '\n')
        line[--n] = '\0';
    log_warn("http: %s", line);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct buf b;
    buf_init(&b, 1 << 20);
    char tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
        buf_put(&b, tmp, n);
    fclose(f);
    if (b.err) {
        buf_free(&b);
        return NULL;
    }
    return b.p;
}

/* The running server, for the in-flight gauge (one server per process). */
static struct server *the_server;

static long long in_flight_now(void)
{
    return the_server ? atomic_load(&the_server->in_flight) : 0;
}

int server_start(struct server **out, const struct server_config *cfg, struct app *app)
{
    struct server *s = calloc(1, sizeof(*s));
    if (!s)
        return -1;
    s->app = app;
    /* MHD zeroes this pool on every request: 64 KiB cost 15 % of a fetch's CPU (bench/RESULTS.md) */
    s->max_body = cfg->max_body;
    s->tls = cfg->tls_cert && cfg->tls_key;
    resp_api_domain(app->public_url, s->api_domain, sizeof(s->api_domain));
    pthread_mutex_init(&s->conns_lock, NULL);

    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (strchr(cfg->host, ':')) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(cfg->port);
        if (inet_pton(AF_INET6, cfg->host, &a6->sin6_addr) != 1)
            goto fail_addr;
        flags |= MHD_USE_IPv6;
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
        a4->sin_family = AF_INET;
        a4->sin_port = htons(cfg->port);
        if (inet_pton(AF_INET, cfg->host, &a4->sin_addr) != 1)
            goto fail_addr;
    }
    char *cert = NULL, *key = NULL;
    if (cfg->tls_cert && cfg->tls_key) {
        cert = read_file(cfg->tls_cert);
        key = read_file(cfg->tls_key);
        if (!cert || !key) {
            log_err("cannot read the TLS certificate or key");
            free(cert);
            free(key);
            free(s);
            return -1;
        }
        flags |= MHD_USE_TLS;
    }
    struct MHD_OptionItem tls_opts[] = {
        {cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, cert},
        {key ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, key},
        {MHD_OPTION_END, 0, NULL},
    };
    s->d = MHD_start_daemon(flags, cfg->port, NULL, NULL, on_request, s,
                            MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, NULL,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                            MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->threads,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->connection_limit,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg->per_ip_limit,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->idle_timeout,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, cfg->connection_memory,
                            MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
                            MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                            MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL,
                            MHD_OPTION_ARRAY, tls_opts,
                            MHD_OPTION_END);
    free(cert);
    free(key);
    if (!s->d) {
        log_err("cannot listen on %s:%u", cfg->host, cfg->port);
        free(s);
        return -1;
    }
    the_server = s;
    app->in_flight = in_flight_now;
    static const char *route_names[METRICS_MAX_ROUTES];
    metrics_init(route_names, api_route_names(route_names, METRICS_MAX_ROUTES));
    *out = s;
    return 0;
fail_addr:
    log_err("--listen: '%s' is not a numeric IPv4 or IPv6 address", cfg->host);
    free(s);
    return -1;
}

unsigned short server_port(const struct server *s)
{
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    return i ? i->port : 0;
}

void server_stop(struct server *s, int grace_ms)
{
    if (!s)
        return;
    /* stop accepting, let requests in flight finish, then close everything */
    MHD_socket fd = MHD_quiesce_daemon(s->d);
    for (int waited = 0; atomic_load(&s->in_flight) > 0 && waited < grace_ms; waited += 10)
        usleep(10000);
    MHD_stop_daemon(s->d);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    for (size_t i = 0; i < s->nconns; i++)
        s->conns[i]->ops->close(s->conns[i]);
    free(s->conns);
    for (size_t i = 0; i < s->nstates; i++)
        state_free(s->states[i]);
    free(s->states);
    pthread_mutex_destroy(&s->conns_lock);
    free(s);
}
