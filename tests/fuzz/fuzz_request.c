/* libFuzzer target: whole requests through the API layer (authentication, routing, parameter checks,
 * the store and the writer), without the socket. Input: a first line "METHOD TARGET", a second line
 * with the Authorization value ("-" for the account's valid credentials), then the body.
 * Webhooks are never enabled, so no input can make the server call out. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "api/api.h"
#include "store/writer.h"
#include "util/base64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define ACCOUNT "AC0123456789abcdef0123456789abcdef"
#define TOKEN "fuzz-token-0123456789"

static struct app app;
static struct store_conn *rdb;
static char valid_auth[128];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int finished;

static void on_defer(struct req *r)
{
    (void)r;
}

static void on_complete(struct req *r)
{
    (void)r;
    pthread_mutex_lock(&lock);
    finished = 1;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static char dir[] = "/tmp/parley-fuzz-XXXXXX";
    static char file[64];
    if (!mkdtemp(dir)) abort();
    snprintf(file, sizeof(file), "%s/fuzz.db", dir);
    app.public_url = "http://127.0.0.1:1";
    app.public_url_len = strlen(app.public_url);
    app.store = store_backend_for(file);
    app.data = file;
    struct store_conn *w;
    if (app.store->open(file, 1, 0, &w) != ST_OK || w->ops->migrate(w) != ST_OK ||
        writer_start(&app.writer, w, 64) != 0)
        abort();
    if (services_create_default_account(&app, ACCOUNT, TOKEN) != 0 ||
        app.store->open(file, 0, 0, &rdb) != ST_OK)
        abort();
    char raw[] = ACCOUNT ":" TOKEN;
    char b64[96];
    b64_encode((const unsigned char *)raw, strlen(raw), b64);
    snprintf(valid_auth, sizeof(valid_auth), "Basic %s", b64);
    return 0;
}

static char *take_line(const char **p, const char *end)
{
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    const char *stop = nl ? nl : end;
    char *s = strndup(*p, (size_t)(stop - *p));
    *p = nl ? nl + 1 : end;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 70000) return 0;
    const char *p = (const char *)data, *end = p + size;
    char *line = take_line(&p, end);
    char *auth = take_line(&p, end);
    char *body = malloc((size_t)(end - p) + 1);
    memcpy(body, p, (size_t)(end - p));
    body[end - p] = '\0';
    size_t body_len = (size_t)(end - p);

    struct req *r = calloc(1, sizeof(*r));
    arena_init(&r->arena);
    buf_init(&r->out, 8u << 20);
    r->app = &app;
    r->db = rdb;
    r->route_idx = -1;
    r->on_defer = on_defer;
    r->on_complete = on_complete;
    char *sp = strchr(line, ' ');
    char *target = sp ? sp + 1 : (char *)"/";
    if (sp) *sp = '\0';
    r->method = strcmp(line, "GET") == 0      ? HTTP_GET
                : strcmp(line, "POST") == 0   ? HTTP_POST
                : strcmp(line, "DELETE") == 0 ? HTTP_DELETE
                                              : HTTP_OTHER;
    char *q = strchr(target, '?');
    if (q) *q++ = '\0';
    r->path = target;
    r->v1_path = strncmp(target, "/v1/", 4) == 0 ? target + 3 : target;
    if ((q && form_decode(q, strlen(q), &r->query) != FORM_OK))
        r->input_error = INPUT_BAD_QUERY;
    else if (body_len && form_decode(body, body_len, &r->body) != FORM_OK)
        r->input_error = INPUT_BAD_BODY;

    finished = 0;
    if (api_dispatch(r, strcmp(auth, "-") == 0 ? valid_auth : auth)) {
        pthread_mutex_lock(&lock);
        while (!finished)
            pthread_cond_wait(&cond, &lock);
        pthread_mutex_unlock(&lock);
    }
    /* every answer is a status and, but for 204, a JSON object */
    if (r->status < 200 || r->status > 599) abort();
    if (r->status != 204) {
        json_t *j = json_loadb(r->out.p ? r->out.p : "", r->out.len, 0, NULL);
        if (!json_is_object(j)) abort();
        if (r->status >= 400 && (!json_is_integer(json_object_get(j, "code")) ||
                                 json_integer_value(json_object_get(j, "status")) != r->status))
            abort();
        json_decref(j);
    }
    buf_free(&r->out);
    arena_free(&r->arena);
    free(r);
    free(body);
    free(auth);
    free(line);
    return 0;
}
