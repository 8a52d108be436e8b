/* Push bindings: /v1/Services/{ChatServiceSid}/Bindings[/{Sid}] (BEHAVIOUR §3.9): list with its
 * filters, fetch, delete. REST cannot create them (SDK clients register for push), so a service's list
 * stays empty until push registrations exist. The route (ROUTE_SERVICE) has found the service. */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/paging.h"
#include "api/params.h"
#include "http/form.h"
#include "http/response.h"
#include "json/jw.h"
#include "store/account_store.h"
#include "util/buf.h"
#include "util/sid.h"
#include "util/text.h"
#include "util/timefmt.h"

/* Ceiling of the filter text built from one request (as JSON, and again as query text for the meta
 * URLs). The spec's filters are unbounded arrays, so only the request limits bound them: a request target
 * of at most 8 KiB (http/server.c) whose decoded bytes take at most 6 bytes each as JSON (\u00XX) and 3
 * as percent-encoded query text. Never reached by a request the server accepted. */
#define FILTER_MAX (6 * 8192 + 64)

enum { B_BINDING_TYPE, B_IDENTITY, B__COUNT };

static const struct param_spec filter_params[B__COUNT] = {
    [B_BINDING_TYPE] = {"BindingType", PK_ENUM, P_LIST, 0, 0, 0, "apn|gcm|fcm|twilsock"},
    [B_IDENTITY] = {"Identity", PK_STRING, P_LIST, 0, 0, 0, NULL},
};

static void render_binding(struct jw *w, struct req *r, const struct binding *b)
{
    char url[480];
    char created[TIME_ISO_LEN + 1], updated[TIME_ISO_LEN + 1];
    snprintf(url, sizeof(url), "%s/v1/Services/%s/Bindings/%s", r->app->public_url, b->service_sid, b->sid);
    time_iso(created, b->date_created);
    time_iso(updated, b->date_updated);
    jw_obj_begin(w);
    jw_kstr(w, "sid", b->sid);
    jw_kstr(w, "account_sid", b->account_sid);
    jw_kstr(w, "chat_service_sid", b->service_sid);
    jw_kstr(w, "credential_sid", b->credential_sid[0] ? b->credential_sid : NULL);
    jw_kstr(w, "date_created", created);
    jw_kstr(w, "date_updated", updated);
    jw_kstr(w, "endpoint", b->endpoint);
    jw_kstr(w, "identity", b->identity);
    jw_kstr(w, "binding_type", b->binding_type);
    /* a JSON array Parley stored itself */
    jw_key(w, "message_types");
    jw_raw(w, b->message_types && b->message_types[0] ? b->message_types : "[]");
    jw_kstr(w, "url", url);
    jw_obj_end(w);
}

int bindings_fetch(struct req *r)
{
    if (!sid_valid(r->param[1], r->param_len[1], "BS"))
        return resp_not_found(r);
    struct binding b;
    int rc = r->db->ops->model->binding_get(r->db, r->service_sid, r->param[1], &r->arena, &b);
    if (rc == ST_NOT_FOUND)
        return resp_not_found(r);
    if (rc != ST_OK)
        return resp_store_error(r, rc);
    struct jw w;
    api_json_begin(r, &w, 200);
    render_binding(&w, r, &b);
    return 0;
}

static int apply_delete(struct store_conn *c, struct req *r)
{
    int rc = c->ops->model->binding_delete(c, r->service_sid, r->param[1]);
    return api_deleted(r, rc);
}

int bindings_delete(struct req *r)
{
    if (!sid_valid(r->param[1], r->param_len[1], "BS"))
        return resp_not_found(r);
    return api_write(r, apply_delete, NULL);
}

/* The values of a repeated query key as a JSON array (NULL when the key is absent), and the same
 * values appended to the query prefix of the meta URLs ("BindingType=apn&"). */
static int filter_of(struct req *r, const char *key, int present, char **json, struct buf *query)
{
    *json = NULL;
    if (!present)
        return 0;
    struct buf jb;
    buf_init(&jb, FILTER_MAX);
    struct jw w;
    jw_init(&w, &jb);
    jw_arr_begin(&w);
    for (size_t i = 0; i < r->query.n; i++) {
        const struct form_pair *p = &r->query.pair[i];
        if (strcmp(p->key, key) != 0)
            continue;
        jw_strn(&w, p->val, p->vlen);
        buf_puts(query, key);
        buf_putc(query, '=');
        pct_encode(query, p->val, p->vlen);
        buf_putc(query, '&');
    }
    jw_arr_end(&w);
    int err = jb.err;
    if (!err)
        *json = arena_strndup(&r->arena, jb.p, jb.len);
    buf_free(&jb);
    return err || query->err ? -1 : 0;
}

static int list_row(void *ctx, const struct binding *b)
{
    struct list_ctx *lc = ctx;
    list_row_begin(lc, b->id);
    render_binding(lc->w, lc->r, b);
    return 0;
}

static int fetch_bindings(struct list_ctx *lc)
{
    struct req *r = lc->r;
    return r->db->ops->model->binding_list(r->db, r->service_sid, lc->extra, &lc->pg->req, list_row, lc);
}

int bindings_list(struct req *r)
{
    struct param_value v[B__COUNT];
    if (params_read(r, &r->query, filter_params, B__COUNT, v) != 0)
        return 0;
    /* filters in spec order, as they go into the meta URLs */
    struct buf query;
    buf_init(&query, FILTER_MAX);
    struct binding_filter f;
    char *types, *identities;
    int bad = filter_of(r, "BindingType", v[B_BINDING_TYPE].present, &types, &query) != 0 ||
              filter_of(r, "Identity", v[B_IDENTITY].present, &identities, &query) != 0;
    char *filters = bad ? NULL : arena_strndup(&r->arena, query.p ? query.p : "", query.len);
    buf_free(&query);
    if (bad)
        return resp_error(r, E_INVALID_PARAM, "BindingType and Identity filters too long (at most %d bytes)", FILTER_MAX);
    f.types = types;
    f.identities = identities;
    char path[128];
    snprintf(path, sizeof(path), "/v1/Services/%s/Bindings", r->service_sid);
    return paging_list(r, 100, "bindings", path, filters, fetch_bindings, &f);
}
