/* Push bindings: /v1/Services/{ChatServiceSid}/Bindings[/{Sid}] (BEHAVIOUR §3.9): list with its
 * filters, fetch, delete; a family run by api/runner.c. REST cannot create them (SDK clients register for
 * push), so a service's list stays empty until push registrations exist. */
#include <stddef.h>
#include <string.h>

#include "api/api.h"
#include "api/families.h"
#include "http/form.h"
#include "store/account_store.h"
#include "util/buf.h"
#include "util/text.h"
#include "json/jw.h"

/* Ceiling of the filter text built from one request (as JSON, and again as query text for the meta
 * URLs). The spec's filters are unbounded arrays, so only the request limits bound them: a request target
 * of at most 8 KiB (http/server.c) whose decoded bytes take at most 6 bytes each as JSON (\u00XX) and 3
 * as percent-encoded query text. Never reached by a request the server accepted. */
#define FILTER_MAX (6 * 8192 + 64)
#define BS(m) offsetof(struct binding, m)

enum { B_BINDING_TYPE, B_IDENTITY, B__COUNT };

static const struct param_spec filter_params[B__COUNT] = {
    [B_BINDING_TYPE] = {"BindingType", PK_ENUM, P_LIST, 0, 0, 0, "apn|gcm|fcm|twilsock", 0},
    [B_IDENTITY] = {"Identity", PK_STRING, P_LIST, 0, 0, 0, NULL, 0},
};

/* a JSON array Parley stored itself */
static void render_message_types(struct jw *w, const void *row, struct req *r)
{
    const struct binding *b = row;
    jw_raw(w, b->message_types && b->message_types[0] ? b->message_types : "[]");
}

static const struct field fields[] = {
    {"sid", FK_CHARS, BS(sid), NULL},
    {"account_sid", FK_CHARS, BS(account_sid), NULL},
    {"chat_service_sid", FK_CHARS, BS(service_sid), NULL},
    {"credential_sid", FK_CHARS_NULL, BS(credential_sid), NULL},
    {"date_created", FK_DATE, BS(date_created), NULL},
    {"date_updated", FK_DATE, BS(date_updated), NULL},
    {"endpoint", FK_STR, BS(endpoint), NULL},
    {"identity", FK_STR, BS(identity), NULL},
    {"binding_type", FK_STR, BS(binding_type), NULL},
    {"message_types", FK_FN, 0, render_message_types},
    {"url", FK_URL, 0, NULL},
};

/* The values of a repeated query key as a JSON array (NULL when the key is absent), and the same
 * values appended to the query prefix of the meta URLs ("BindingType=apn&"). */
static int filter_of(struct req *r, const char *key, int present, char **json, struct buf *query)
{
    *json = NULL;
    if (!present) return 0;
    struct buf jb;
    buf_init(&jb, FILTER_MAX);
    struct jw w;
    jw_init(&w, &jb);
    jw_arr_begin(&w);
    for (size_t i = 0; i < r->query.n; i++) {
        const struct form_pair *p = &r->query.pair[i];
        if (strcmp(p->key, key) != 0) continue;
        jw_strn(&w, p->val, p->vlen);
        buf_puts(query, key);
        buf_putc(query, '=');
        pct_encode(query, p->val, p->vlen);
        buf_putc(query, '&');
    }
    jw_arr_end(&w);
    int err = jb.err;
    if (!err) *json = arena_strndup(&r->arena, jb.p, jb.len);
    buf_free(&jb);
    return err || query->err ? -1 : 0;
}

/* The filters in spec order, as JSON arrays for the store and as query text for the meta URLs. */
static int list_filter(struct req *r, const struct param_value *v, struct list_filter *out)
{
    struct buf query;
    buf_init(&query, FILTER_MAX);
    struct binding_filter *bf = arena_alloc(&r->arena, sizeof(*bf));
    char *types, *identities;
    int bad = filter_of(r, "BindingType", v[B_BINDING_TYPE].present, &types, &query) != 0 ||
              filter_of(r, "Identity", v[B_IDENTITY].present, &identities, &query) != 0;
    if (!bad) {
        bf->types = types;
        bf->identities = identities;
        out->store_filter = bf;
        out->query = arena_strndup(&r->arena, query.p ? query.p : "", query.len);
    }
    buf_free(&query);
    /* past the ceiling no accepted request reaches: an internal error, not the client's */
    return bad ? ST_ERROR : 0;
}

/* ---- store calls ---- */

static int get(struct store_conn *c, struct req *r, const char *sid, void *out)
{
    return c->ops->model->binding_get(c, r->service_sid, sid, &r->arena, out);
}

static int del(struct store_conn *c, struct req *r, const char *sid)
{
    return c->ops->model->binding_delete(c, r->service_sid, sid);
}

static int list_row(void *ctx, const struct binding *b)
{
    return runner_list_row(ctx, b);
}

static int list(struct store_conn *c, struct req *r, const struct list_filter *f, const struct page_req *p,
                void *ctx)
{
    return c->ops->model->binding_list(c, r->service_sid, f->store_filter, p, list_row, ctx);
}

const struct family bindings_family = {
    .segment = "Bindings",
    .resource = "binding",
    .prefix = "BS",
    .parent = PARENT_SERVICE,
    .row_size = sizeof(struct binding),
    .sid_off = BS(sid),
    .account_off = BS(account_sid),
    .service_off = BS(service_sid),
    .id_off = BS(id),
    .created_off = BS(date_created),
    .updated_off = BS(date_updated),
    .fields = fields,
    .n_fields = sizeof(fields) / sizeof(fields[0]),
    .list_params = filter_params,
    .n_list_params = B__COUNT,
    .op_fetch = &ops_table[OPID_FETCH_SERVICE_BINDING],
    .op_list = &ops_table[OPID_LIST_SERVICE_BINDING],
    .op_delete = &ops_table[OPID_DELETE_SERVICE_BINDING],
    .store = {.get = get, .del = del, .list = list},
    .list_filter = list_filter,
};

/* The route table's entry points (api/routes.c). */
int bindings_list(struct req *r)
{
    return run_list(r, &bindings_family);
}
int bindings_fetch(struct req *r)
{
    return run_fetch(r, &bindings_family);
}
int bindings_delete(struct req *r)
{
    return run_delete(r, &bindings_family);
}
