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
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "http/form.h"
#include "http/request.h"
#include "http/response.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/metrics.h"
#include "util/sid.h"
#include "webhook/client.h"

#define URI_MAX 8192
/* the largest oversized body an authenticated client may send in full to read its 413 */
#define DRAIN_MAX (1024u * 1024)
#define OUT_MAX (8u * 1024 * 1024)
/* MHD's pool holds the request head and, after it, our response headers: the room beyond the header
 * limit lets a head of up to the limit (a 16 KiB URI) still get a Twilio error instead of a silent close */
#define POOL_HEADROOM 2048
/* how often the watchdog looks for connections past their read deadline */
#define WATCHDOG_PERIOD_MS 250
/* the most bytes between a header name's end and its value in MHD's buffer: the colon and the blanks MHD
 * skipped (more is refused as a malformed header) */
#define HEADER_GAP_MAX 256

/* One accepted connection, for the read deadline. deadline_ms is 0 while the server, not the client, has
 * the next move (a request being handled, a response being sent). */
struct conn_track {
    MHD_socket fd;
    atomic_llong deadline_ms;
    int cut;    /* shut down by the watchdog (under track_lock) */
    int listed; /* in the server's list (set and read by the connection's own thread) */
    struct conn_track *prev, *next;
};

struct server {
    struct MHD_Daemon *d;
    struct app *app;
    size_t max_body;
    size_t header_max; /* request line and headers, bytes (431 beyond) */
    long long read_ms; /* a request must be read within this (0: no deadline) */
    long long idle_ms; /* MHD's idle timeout, the grace of a keep-alive connection between requests */
    /* the watchdog: tracks is every open connection; track_lock is also taken by the close notification,
     * so a tracked fd is never shut down after MHD closed it (and the number was reused) */
    pthread_mutex_t track_lock;
    struct conn_track *tracks;
    pthread_t watchdog;
    pthread_cond_t watchdog_wake;
    int watchdog_running, watchdog_stop;
    int tls;
    char api_domain[RESP_API_DOMAIN_MAX];
    atomic_int in_flight;
    pthread_mutex_t conns_lock;
    struct store_conn **conns; /* every per-thread read connection, closed at stop */
    size_t nconns, capconns;
    struct conn_state **states; /* every request state ever allocated, freed at stop */
    size_t nstates, capstates;
};

enum phase { PH_HEADERS, PH_BODY, PH_WAITING, PH_READY, PH_ANSWERED };

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
    int refused; /* the 401 is in req already (authentication ran on the headers) */
    struct conn_track *track;
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
    if (tl_db) return tl_db;
    struct store_conn *c;
    if (s->app->store->open(s->app->data, 0, s->app->sync_full, &c) != ST_OK) return NULL;
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
        if (!st || registry_add(s, (void ***)&s->states, &s->nstates, &s->capstates, st) != 0) abort();
        buf_init(&st->body, 0);
        buf_init(&st->req.out, OUT_MAX);
        arena_init(&st->req.arena);
    }
    st->srv = s;
    st->uri_len = 0;
    st->uri_too_long = 0;
    st->too_large = 0;
    st->refused = 0;
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
    clock_gettime(CLOCK_MONOTONIC,
                  &st->t0); /* a duration (Twilio-Request-Duration, metrics): never the test clock */
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
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    st->track = ci ? ci->socket_context : NULL;
    atomic_fetch_add(&s->in_flight, 1);
    return st;
}

static long long now_ms(void)
{
    struct timespec ts;
    /* a deadline in seconds needs no better than the coarse clock, which costs no syscall */
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* The whole request is in (or answered): the client owes nothing until the response is out. */
static void track_request_read(struct conn_state *st)
{
    if (st->track) atomic_store_explicit(&st->track->deadline_ms, 0, memory_order_relaxed);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct server *s = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct conn_track *t = calloc(1, sizeof(*t));
        *socket_context = t;
        if (!t || !ci) return; /* untracked: only MHD's idle timeout applies to it */
        t->fd = ci->connect_fd;
        atomic_init(&t->deadline_ms, s->read_ms ? now_ms() + s->read_ms : 0);
        t->listed = 1;
        pthread_mutex_lock(&s->track_lock);
        t->next = s->tracks;
        if (s->tracks) s->tracks->prev = t;
        s->tracks = t;
        pthread_mutex_unlock(&s->track_lock);
        return;
    }
    struct conn_track *t = *socket_context;
    if (!t) return;
    *socket_context = NULL;
    if (t->listed) {
        pthread_mutex_lock(&s->track_lock);
        if (t->prev)
            t->prev->next = t->next;
        else
            s->tracks = t->next;
        if (t->next) t->next->prev = t->prev;
        pthread_mutex_unlock(&s->track_lock);
    }
    free(t);
}

/* Shuts down every connection still reading its request past its deadline: MHD's own timeout only
 * measures inactivity, so a client sending a byte now and then would otherwise keep its slot. */
static void *watchdog_main(void *arg)
{
    struct server *s = arg;
    pthread_setname_np(pthread_self(), "parley-watchdog");
    long long next_flush = 0;
    unsigned long long cuts = 0;
    pthread_mutex_lock(&s->track_lock);
    while (!s->watchdog_stop) {
        long long now = now_ms();
        for (struct conn_track *t = s->tracks; t; t = t->next) {
            long long d = atomic_load_explicit(&t->deadline_ms, memory_order_relaxed);
            if (d && now > d && !t->cut) {
                t->cut = 1;
                shutdown(t->fd, SHUT_RDWR); /* MHD sees the end of the stream and frees the slot */
                cuts++;
            }
        }
        if (now >= next_flush) {
            if (cuts)
                log_limited(LOG_WARN, "http: %llu connections cut: request not read within the read timeout",
                            cuts);
            cuts = 0;
            log_limited_flush();
            next_flush = now + 1000;
        }
        struct timespec ts;
        clock_deadline_in(&ts, WATCHDOG_PERIOD_MS); /* monotonic: no clock move stretches the period */
        pthread_cond_timedwait(&s->watchdog_wake, &s->track_lock, &ts);
    }
    pthread_mutex_unlock(&s->track_lock);
    return NULL;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct server *s = cls;
    struct conn_state *st = *con_cls;
    if (!st) return;
    *con_cls = NULL;
    /* the next request on a kept-alive connection may take the idle timeout to start, then must be read
     * within the read timeout (a closing connection is untracked just after this) */
    if (st->track && s->read_ms)
        atomic_store_explicit(&st->track->deadline_ms, s->idle_ms ? now_ms() + s->idle_ms + s->read_ms : 0,
                              memory_order_relaxed);
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
    if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0) return HTTP_GET;
    if (strcmp(m, "POST") == 0) return HTTP_POST;
    if (strcmp(m, "DELETE") == 0) return HTTP_DELETE;
    if (strcmp(m, "OPTIONS") == 0) return HTTP_OPTIONS;
    return HTTP_OTHER;
}

/* What the headers say about the request's framing, gathered in one pass. */
struct head_scan {
    int n_cl, n_te;
    const char *te;
    int bad; /* a header name that is not a token, or a folded (obs-fold) header */
};

static int is_tchar(unsigned char c)
{
    /* RFC 9110 §5.6.2 token characters */
    static const char extra[] = "!#$%&'*+-.^_`|~";
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && memchr(extra, c, sizeof(extra) - 1));
}

static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    struct head_scan *h = cls;
    size_t klen = 0;
    while (is_tchar((unsigned char)key[klen]))
        klen++;
    /* whitespace before the colon or inside the name (RFC 9112 §5.1: such a request must be refused);
     * MHD keeps it in the name */
    if (klen == 0 || key[klen]) {
        h->bad = 1;
        return MHD_NO;
    }
    /* MHD 0.9.75 parses the name and value in place, so a value starts right after "name:" and optional
     * blanks. A folded line (obs-fold) is appended to a copy of the name made elsewhere in the pool, so the
     * two are no longer adjacent: that is how a fold shows (tests/e2e/http_security.test.mjs checks it). */
    uintptr_t k = (uintptr_t)key, v = (uintptr_t)value;
    if (v <= k + klen || v - (k + klen) > HEADER_GAP_MAX) {
        h->bad = 1;
        return MHD_NO;
    }
    for (const char *p = key + klen + 1; p < value; p++)
        if (*p != ' ' && *p != '\t' && *p != '\0') {
            h->bad = 1;
            return MHD_NO;
        }
    if (klen == 14 && strcasecmp(key, "Content-Length") == 0)
        h->n_cl++;
    else if (klen == 17 && strcasecmp(key, "Transfer-Encoding") == 0) {
        h->n_te++;
        h->te = value;
    }
    return MHD_YES;
}

/* Request smuggling shapes (a front proxy and Parley could disagree on where the request ends): a repeated
 * Content-Length or Transfer-Encoding, both together, a coding other than chunked, whitespace in a header
 * name, a folded header. Returns the reason, or NULL when the framing is unambiguous. */
static const char *framing_error(struct MHD_Connection *conn)
{
    struct head_scan h = {0};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, scan_header, &h);
    if (h.bad) return "Malformed header (whitespace in a header name, or a folded header line)";
    if (h.n_cl > 1 || h.n_te > 1 || (h.n_cl && h.n_te))
        return "Ambiguous request length (repeated Content-Length or Transfer-Encoding, or both)";
    if (h.n_te && strcasecmp(h.te, "chunked") != 0)
        return "Unsupported Transfer-Encoding (only chunked is accepted)";
    return NULL;
}

static enum MHD_Result send_response(struct conn_state *st)
{
    struct req *r = &st->req;
    int status = r->status ? r->status : 500;
    size_t len = status == 204 ? 0 : r->out.len;
    /* the body stays in r->out, untouched, until MHD reports the request completed: no copy */
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, len ? r->out.p : (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp) return MHD_NO;
    for (const struct resp_header *h = resp_fixed_headers; h->name; h++)
        MHD_add_response_header(resp, h->name,
                                r->content_type && h == resp_fixed_headers ? r->content_type : h->value);
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
    if (st->srv->tls) MHD_add_response_header(resp, "Strict-Transport-Security", RESP_HSTS);
    if (status == 401) MHD_add_response_header(resp, "WWW-Authenticate", "Basic realm=\"Twilio API\"");
    /* an answer given on the headers closes the connection (MHD does so): the header tells the client */
    if (st->phase == PH_ANSWERED) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(st->conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* An answer on the headers, before any body is read: MHD closes the connection after it (STACK.md §1.3),
 * which is what a refused request needs. */
static enum MHD_Result answer_early(struct conn_state *st)
{
    st->phase = PH_ANSWERED;
    track_request_read(st);
    return send_response(st);
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
    if (st->phase == PH_WAITING) return; /* already suspended (a pre-event hook ran first) */
    st->phase = PH_WAITING;
    MHD_suspend_connection(st->conn);
}

static int decode_query(struct req *r, char *q)
{
    if (!q) return 0;
    return form_decode(q, strlen(q), &r->query);
}

static enum MHD_Result handle(struct conn_state *st);

/* Paths answered without credentials: preflights, the health check, and /metrics (which authenticates
 * itself, unless it is public). */
static int is_open_path(const struct conn_state *st, enum http_method m)
{
    if (m == HTTP_OPTIONS) return 1;
    size_t n = strcspn(st->uri, "?");
    return m == HTTP_GET && ((n == 8 && memcmp(st->uri, "/healthz", 8) == 0) ||
                             (n == 8 && memcmp(st->uri, "/metrics", 8) == 0));
}

/* The first call: only the headers are in. Framing, the URI, the credentials and the announced length are
 * checked here, so that a refused request is answered without reading (or a 100 Continue inviting) its
 * body. */
static enum MHD_Result on_headers(struct conn_state *st, struct MHD_Connection *conn, const char *method)
{
    struct server *s = st->srv;
    struct req *r = &st->req;
    r->app = s->app;
    r->method = method_of(method);
    r->conn = conn;
    const char *why = framing_error(conn);
    if (why) {
        log_limited(LOG_WARN, "http: refused a request: %s", why);
        resp_error(r, E_INVALID_PARAM, "%s", why);
        return answer_early(st);
    }
    if (st->uri_too_long) {
        resp_error_status(r, 414, E_INVALID_PARAM, "Request URI too long");
        return answer_early(st);
    }
    const union MHD_ConnectionInfo *hi =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    if (hi && hi->header_size > s->header_max) {
        resp_error_status(r, 431, E_INVALID_PARAM, "Request header fields too large");
        return answer_early(st);
    }
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    int has_body = (cl && strcmp(cl, "0") != 0) ||
                   MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    if (cl && strtoull(cl, NULL, 10) > s->max_body) st->too_large = 1;
    if (is_open_path(st, r->method)) {
        /* none of them takes a body: answer now rather than read one from a client without credentials */
        if (has_body) {
            st->phase = PH_ANSWERED;
            track_request_read(st);
            return handle(st);
        }
    } else {
        r->db = thread_db(s);
        if (!r->db) {
            resp_error(r, E_UNAVAILABLE, "Service unavailable");
            return answer_early(st);
        }
        const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        if (api_authenticate(r, auth) != 0) {
            /* without a body the answer can wait for the final call and keep the connection */
            if (has_body) return answer_early(st);
            st->refused = 1;
        } else {
            r->authenticated = 1;
            /* An authenticated client's oversized body is read and dropped up to DRAIN_MAX, so that it
             * gets its 413: closing with the body unread makes the kernel reset the connection, and the
             * client often sees EPIPE instead of the answer. Beyond that, the answer comes at once. */
            if (st->too_large && strtoull(cl, NULL, 10) > DRAIN_MAX) {
                resp_error_status(r, 413, E_INVALID_PARAM, "Request body too large");
                return answer_early(st);
            }
        }
    }
    /* Never answer an accepted request on this call: MHD would close the connection (STACK.md §1.3). */
    st->phase = PH_BODY;
    return MHD_YES;
}

/* Everything that happens once the whole request is in. */
static enum MHD_Result handle(struct conn_state *st)
{
    struct server *s = st->srv;
    struct req *r = &st->req;
    track_request_read(st);
    if (st->refused) return send_response(st);
    r->on_complete = on_write_complete;
    r->on_defer = on_defer;

    char *q = strchr(st->uri, '?');
    if (q) *q++ = '\0';
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
            api_metrics(
                r, MHD_lookup_connection_value(st->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION));
        return send_response(st);
    }
    const char *hook = MHD_lookup_connection_value(st->conn, MHD_HEADER_KIND, "X-Twilio-Webhook-Enabled");
    r->webhook_enabled = hook && strcmp(hook, "true") == 0;

    /* Body and query are decoded only once the credentials were accepted (on the headers), and decoded
     * before routing only to know whether they are well-formed. */
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
    if (api_dispatch(r, NULL)) return MHD_YES; /* suspended in on_defer; the writer resumes us */
    return send_response(st);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    struct conn_state *st = *con_cls;
    if (!st) return MHD_NO;
    switch (st->phase) {
    case PH_HEADERS:
        return on_headers(st, conn, method);
    case PH_BODY:
        if (*upload_data_size) {
            if (!st->too_large && !st->refused && buf_put(&st->body, upload_data, *upload_data_size) != 0)
                st->too_large = 1;
            *upload_data_size = 0;
            return MHD_YES;
        }
        return handle(st);
    case PH_WAITING:
        return MHD_YES;
    case PH_READY:
        return send_response(st);
    case PH_ANSWERED:
        *upload_data_size = 0;
        return MHD_YES;
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
    /* MHD reports what any client can provoke (a closed half request, a bad line): rate-limited */
    log_limited(LOG_WARN, "http: %s", line);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
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
    if (!s) return -1;
    s->app = app;
    /* MHD zeroes this pool on every request: 64 KiB cost 15 % of a fetch's CPU (bench/RESULTS.md) */
    s->max_body = cfg->max_body;
    s->header_max = cfg->connection_memory;
    s->read_ms = cfg->read_timeout * 1000LL;
    s->idle_ms = cfg->idle_timeout * 1000LL;
    s->tls = cfg->tls_cert && cfg->tls_key;
    resp_api_domain(app->public_url, s->api_domain, sizeof(s->api_domain));
    pthread_mutex_init(&s->conns_lock, NULL);
    pthread_mutex_init(&s->track_lock, NULL);
    clock_cond_init(&s->watchdog_wake);

    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (strchr(cfg->host, ':')) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(cfg->port);
        if (inet_pton(AF_INET6, cfg->host, &a6->sin6_addr) != 1) goto fail_addr;
        flags |= MHD_USE_IPv6;
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
        a4->sin_family = AF_INET;
        a4->sin_port = htons(cfg->port);
        if (inet_pton(AF_INET, cfg->host, &a4->sin_addr) != 1) goto fail_addr;
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
    /* before the daemon: its threads count every request from the first one, and a counter array set
     * while they ran was seen half made (a request's counts were NULL under UBSan) */
    const char *const *route_names;
    int nroutes = api_route_names(&route_names);
    if (nroutes < 0 || metrics_init(route_names, nroutes) != 0)
        log_warn("metrics are off: no memory for their counters");
    the_server = s;
    app->in_flight = in_flight_now;
    s->d = MHD_start_daemon(
        flags, cfg->port, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->threads,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->connection_limit, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)cfg->per_ip_limit, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->idle_timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, cfg->connection_memory + POOL_HEADROOM,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
        MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL, MHD_OPTION_ARRAY, tls_opts, MHD_OPTION_END);
    free(cert);
    free(key);
    if (!s->d) {
        log_err("cannot listen on %s:%u", cfg->host, cfg->port);
        the_server = NULL;
        free(s);
        return -1;
    }
    if (s->read_ms) {
        if (pthread_create(&s->watchdog, NULL, watchdog_main, s) != 0) {
            log_err("cannot start the connection watchdog");
            MHD_stop_daemon(s->d);
            the_server = NULL;
            free(s);
            return -1;
        }
        s->watchdog_running = 1;
    }
    *out = s;
    return 0;
fail_addr:
    log_err("--listen: '%s' is not a numeric IPv4 or IPv6 address", cfg->host);
    free(s);
    return -1;
}

static int wait_in_flight(struct server *s, int ms)
{
    for (int waited = 0; atomic_load(&s->in_flight) > 0 && waited < ms; waited += 10)
        usleep(10000);
    return atomic_load(&s->in_flight) == 0;
}

void server_stop(struct server *s, int grace_ms)
{
    if (!s) return;
    /* stop accepting, let requests in flight finish, then close everything */
    MHD_socket fd = MHD_quiesce_daemon(s->d);
    if (!wait_in_flight(s, grace_ms) && s->app->hooks) {
        /* What is left after the grace is suspended, most likely on a pre-event webhook that does not
         * answer (its timeout may be long): end those waits now, as failures (--pre-webhook-failure
         * decides), so that the requests are answered and no connection is still suspended when MHD
         * stops, which it does not allow. */
        log_warn("stopping: %lld requests still in flight after %d ms; ending their pre-event webhook waits",
                 (long long)atomic_load(&s->in_flight), grace_ms);
        hook_client_cancel_pre(s->app->hooks);
        wait_in_flight(s, grace_ms);
    }
    if (atomic_load(&s->in_flight) > 0) {
        /* a write that does not complete (a store that hangs): stopping MHD would abort on the suspended
         * connection, so leave the daemon to the process's exit */
        log_err("stopping: %lld requests still in flight; exiting without closing their connections",
                (long long)atomic_load(&s->in_flight));
        return;
    }
    MHD_stop_daemon(s->d);
    if (fd != MHD_INVALID_SOCKET) close(fd);
    if (s->watchdog_running) {
        pthread_mutex_lock(&s->track_lock);
        s->watchdog_stop = 1;
        pthread_cond_signal(&s->watchdog_wake);
        pthread_mutex_unlock(&s->track_lock);
        pthread_join(s->watchdog, NULL);
    }
    log_limited_flush();
    for (size_t i = 0; i < s->nconns; i++)
        s->conns[i]->ops->close(s->conns[i]);
    free(s->conns);
    for (size_t i = 0; i < s->nstates; i++)
        state_free(s->states[i]);
    free(s->states);
    pthread_cond_destroy(&s->watchdog_wake);
    pthread_mutex_destroy(&s->track_lock);
    pthread_mutex_destroy(&s->conns_lock);
    free(s);
}
