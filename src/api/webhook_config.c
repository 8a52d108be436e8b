/* Webhook targets: /v1/Configuration/Webhooks (account level) and
 * /v1/Services/{ChatServiceSid}/Configuration/Webhooks (service level) (BEHAVIOUR §3.10). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/fail.h"
#include "api/params.h"
#include "http/response.h"
#include "store/webhook_store.h"
#include "util/sid.h"
#include "webhook/events.h"
#include "json/jw.h"

#define URL_MAX 2048

enum { W_METHOD, W_FILTERS, W_PRE_URL, W_POST_URL, W_TARGET, W__COUNT };

static const struct param_spec account_params[W__COUNT] = {
    [W_METHOD] = {"Method", PK_STRING, 0, 0, 8, 0, NULL},
    [W_FILTERS] = {"Filters", PK_STRING, P_LIST, 0, 64, 0, NULL},
    [W_PRE_URL] = {"PreWebhookUrl", PK_STRING, 0, 0, URL_MAX, 0, NULL},
    [W_POST_URL] = {"PostWebhookUrl", PK_STRING, 0, 0, URL_MAX, 0, NULL},
    [W_TARGET] = {"Target", PK_ENUM, 0, 0, 0, 0, "webhook|flex"},
};
/* The service level has the same parameters but Target. */
#define SERVICE_PARAM_COUNT W_TARGET

struct hook_update {
    struct param_value v[W__COUNT];
    const char *service_sid; /* NULL at account level */
    char *method;            /* normalised */
    char *filters;           /* JSON array text, or NULL to clear */
};

/* Keys in each schema's order. What is rendered is what delivery uses: a target with a URL and no Method
 * is called with POST, and the account level's filters are a list ([] when none, as Twilio shows them). */
static void render(struct req *r, const struct webhook_config *cfg, int service_level)
{
    char url[512];
    if (service_level)
        snprintf(url, sizeof(url), "%s/v1/Services/%s/Configuration/Webhooks", r->app->public_url,
                 cfg->service_sid);
    else
        snprintf(url, sizeof(url), "%s/v1/Configuration/Webhooks", r->app->public_url);
    const char *method = cfg->method;
    if (!method && (!service_level || cfg->pre_url || cfg->post_url)) method = "POST";
    struct jw w;
    api_json_begin(r, &w, 200);
    jw_obj_begin(&w);
    jw_kstr(&w, "account_sid", cfg->account_sid);
    if (service_level) {
        jw_kstr(&w, "chat_service_sid", cfg->service_sid);
        jw_kstr(&w, "pre_webhook_url", cfg->pre_url);
        jw_kstr(&w, "post_webhook_url", cfg->post_url);
    } else {
        jw_kstr(&w, "method", method);
    }
    jw_key(&w, "filters");
    if (cfg->filters)
        jw_raw(&w, cfg->filters);
    else if (service_level)
        jw_null(&w); /* the spec's fetchEmpty */
    else
        jw_raw(&w, "[]");
    if (service_level) {
        jw_kstr(&w, "method", method);
    } else {
        jw_kstr(&w, "pre_webhook_url", cfg->pre_url);
        jw_kstr(&w, "post_webhook_url", cfg->post_url);
        jw_kstr(&w, "target", cfg->target ? cfg->target : "webhook");
    }
    jw_kstr(&w, "url", url);
    jw_obj_end(&w);
}

static int load(struct store_conn *c, struct req *r, const char *service_sid, struct webhook_config *cfg)
{
    int rc = c->ops->webhooks->config_get(c, r->account.sid, service_sid, &r->arena, cfg);
    if (rc == ST_NOT_FOUND) return ST_OK; /* never set: every field null (the spec's fetchEmpty) */
    return rc;
}

static int fetch(struct req *r, const char *service_sid)
{
    struct webhook_config cfg;
    int rc = load(r->db, r, service_sid, &cfg);
    if (rc != ST_OK) return resp_store_error(r, rc);
    render(r, &cfg, service_sid != NULL);
    return 0;
}

static int valid_url(const char *s, size_t n)
{
    size_t skip = strncasecmp(s, "https://", 8) == 0 ? 8 : strncasecmp(s, "http://", 7) == 0 ? 7 : 0;
    if (!skip || n <= skip || s[skip] == '/' || s[skip] == '?' || s[skip] == '#') return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f) return 0;
    return 1;
}

/* Checks and normalises the update: Method upper-case, Filters a deduplicated JSON array, URLs absolute. */
static int check(struct req *r, struct hook_update *hu, size_t count)
{
    struct param_value *v = hu->v;
    if (v[W_METHOD].present) {
        if (strcasecmp(v[W_METHOD].s, "GET") != 0 && strcasecmp(v[W_METHOD].s, "POST") != 0)
            return api_fail(r, E_WEBHOOK_METHOD);
        hu->method = strcasecmp(v[W_METHOD].s, "GET") == 0 ? "GET" : "POST";
    }
    for (int k = W_PRE_URL; k <= W_POST_URL; k++) {
        /* the limit counts bytes: what is stored, logged and sent is bounded whatever the characters */
        if (v[k].present && v[k].len > URL_MAX)
            return api_failf(r, E_INVALID_PARAM, "%s must be at most %d bytes", account_params[k].name,
                             URL_MAX);
        if (v[k].present && v[k].len && !valid_url(v[k].s, v[k].len))
            return resp_error(r, E_INVALID_PARAM,
                              "Invalid value for %s: an absolute http or https URL is required",
                              account_params[k].name),
                   -1;
    }
    if (v[W_FILTERS].present) {
        struct buf b;
        buf_init(&b, 4096);
        buf_putc(&b, '[');
        int first = 1, only_empty = 1;
        for (size_t i = 0; i < r->body.n; i++) {
            const struct form_pair *p = &r->body.pair[i];
            if (strcmp(p->key, "Filters") != 0 || p->vlen == 0) continue;
            only_empty = 0;
            if (!webhook_event_valid(p->val, p->vlen)) {
                buf_free(&b);
                return api_failf(r, E_WEBHOOK_FORMAT, "Invalid webhook format: unknown filter '%.64s'",
                                 p->val);
            }
            char quoted[80];
            snprintf(quoted, sizeof(quoted), "\"%s\"", p->val);
            if (b.p && strstr(b.p, quoted)) continue;
            if (!first) buf_putc(&b, ',');
            buf_puts(&b, quoted);
            first = 0;
        }
        buf_putc(&b, ']');
        /* "Filters=" alone clears the list */
        hu->filters = only_empty ? NULL : arena_strndup(&r->arena, b.p, b.len);
        buf_free(&b);
    }
    (void)count;
    return 0;
}

static int apply_update(struct store_conn *c, struct req *r)
{
    struct hook_update *hu = r->ctx;
    struct webhook_config cfg;
    int rc = load(c, r, hu->service_sid, &cfg);
    if (rc != ST_OK) return api_fail(r, rc);
    if (hu->service_sid) snprintf(cfg.service_sid, sizeof(cfg.service_sid), "%s", hu->service_sid);
    const struct param_value *v = hu->v;
    if (v[W_METHOD].present) cfg.method = hu->method;
    if (v[W_FILTERS].present) cfg.filters = hu->filters;
    if (v[W_PRE_URL].present) cfg.pre_url = v[W_PRE_URL].len ? (char *)v[W_PRE_URL].s : NULL;
    if (v[W_POST_URL].present) cfg.post_url = v[W_POST_URL].len ? (char *)v[W_POST_URL].s : NULL;
    if (!hu->service_sid && v[W_TARGET].present) cfg.target = (char *)v[W_TARGET].s;
    rc = c->ops->webhooks->config_put(c, &cfg);
    if (rc != ST_OK) return api_fail(r, rc);
    render(r, &cfg, hu->service_sid != NULL);
    return 0;
}

static int update(struct req *r, const char *service_sid)
{
    struct hook_update *hu = arena_alloc(&r->arena, sizeof(*hu));
    memset(hu, 0, sizeof(*hu));
    size_t count = service_sid ? SERVICE_PARAM_COUNT : W__COUNT;
    if (params_read(r, &r->body, account_params, count, hu->v) != 0 || check(r, hu, count) != 0) return 0;
    /* the same rule as every other singleton update (docs/DECISIONS.md) */
    if (params_count_present(hu->v, count) == 0)
        return resp_error(r, E_NO_UPDATE_PARAMS, "Parameters are not specified for update request");
    hu->service_sid = service_sid;
    return api_write(r, apply_update, hu);
}

int account_webhooks_fetch(struct req *r)
{
    return fetch(r, NULL);
}
int account_webhooks_update(struct req *r)
{
    return update(r, NULL);
}

/* /Services/{sid}/Configuration/Webhooks: the service must be the caller's */
static int service_of(struct req *r, const char **sid)
{
    struct service sv;
    if (!sid_valid(r->param[0], r->param_len[0], "IS")) return api_fail(r, E_NOT_FOUND);
    int rc = r->db->ops->service_get(r->db, r->account.sid, r->param[0], &r->arena, &sv);
    if (rc == ST_NOT_FOUND) return api_fail(r, E_NOT_FOUND);
    if (rc != ST_OK) return api_fail(r, rc);
    *sid = r->service_sid = r->param[0]; /* a write re-checks it in the writer (api/dispatch.c) */
    return 0;
}

int service_webhooks_fetch(struct req *r)
{
    const char *sid;
    return service_of(r, &sid) != 0 ? 0 : fetch(r, sid);
}

int service_webhooks_update(struct req *r)
{
    const char *sid;
    return service_of(r, &sid) != 0 ? 0 : update(r, sid);
}
