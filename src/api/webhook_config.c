/* Webhook targets: /v1/Configuration/Webhooks (account level) and
 * /v1/Services/{ChatServiceSid}/Configuration/Webhooks (service level) (BEHAVIOUR §3.10): two singleton
 * families run by api/runner.c, over one parameter table and one set of hooks. */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "api/fail.h"
#include "api/families.h"
#include "store/webhook_store.h"
#include "webhook/events.h"
#include "json/jw.h"

#define URL_MAX 2048

enum { W_METHOD, W_FILTERS, W_PRE_URL, W_POST_URL, W_TARGET, W__COUNT };

#define WH(m) offsetof(struct webhook_config, m)

/* An empty URL clears it; before_update applies the rest in their stored form. */
static const struct param_spec params[W__COUNT] = {
    [W_METHOD] = {"Method", PK_STRING, P_NO_SLOT, 0, 8, 0, NULL, 0},
    [W_FILTERS] = {"Filters", PK_STRING, P_LIST | P_NO_SLOT, 0, 64, 0, NULL, 0},
    [W_PRE_URL] = {"PreWebhookUrl", PK_STRING, P_EMPTY_CLEARS, 0, URL_MAX, 0, NULL, WH(pre_url)},
    [W_POST_URL] = {"PostWebhookUrl", PK_STRING, P_EMPTY_CLEARS, 0, URL_MAX, 0, NULL, WH(post_url)},
    [W_TARGET] = {"Target", PK_ENUM, P_NO_SLOT, 0, 0, 0, "webhook|flex", 0},
};
/* What is rendered is what delivery uses: a target with a URL and no Method is called with POST (the
 * account level always has one), and the account level's filters are a list ([] when none, as Twilio
 * shows them); the service level's fields stay null until set (the spec's fetchEmpty). */
static void render_method(struct jw *w, const void *row, struct req *r)
{
    const struct webhook_config *cfg = row;
    int account_level = cfg->service_sid[0] == '\0';
    jw_str(w, cfg->method || !(account_level || cfg->pre_url || cfg->post_url) ? cfg->method : "POST");
}

static void render_filters(struct jw *w, const void *row, struct req *r)
{
    const struct webhook_config *cfg = row;
    if (cfg->filters || cfg->service_sid[0] == '\0')
        jw_raw(w, cfg->filters ? cfg->filters : "[]");
    else
        jw_null(w);
}

static void render_target(struct jw *w, const void *row, struct req *r)
{
    const struct webhook_config *cfg = row;
    jw_str(w, cfg->target ? cfg->target : "webhook");
}

static const struct field account_fields[] = {
    {"account_sid", FK_CHARS, WH(account_sid), NULL},
    {"method", FK_FN, 0, render_method},
    {"filters", FK_FN, 0, render_filters},
    {"pre_webhook_url", FK_STR, WH(pre_url), NULL},
    {"post_webhook_url", FK_STR, WH(post_url), NULL},
    {"target", FK_FN, 0, render_target},
    {"url", FK_URL, 0, NULL},
};

static const struct field service_fields[] = {
    {"account_sid", FK_CHARS, WH(account_sid), NULL},
    {"chat_service_sid", FK_CHARS, WH(service_sid), NULL},
    {"pre_webhook_url", FK_STR, WH(pre_url), NULL},
    {"post_webhook_url", FK_STR, WH(post_url), NULL},
    {"filters", FK_FN, 0, render_filters},
    {"method", FK_FN, 0, render_method},
    {"url", FK_URL, 0, NULL},
};

/* Method GET or POST, the URLs absolute http or https. */
static int check_update(struct req *r, const struct param_value *v)
{
    const struct param_value *m = &v[W_METHOD];
    if (m->present && strcasecmp(m->s, "GET") != 0 && strcasecmp(m->s, "POST") != 0) return E_WEBHOOK_METHOD;
    for (int k = W_PRE_URL; k <= W_POST_URL; k++) {
        /* the limit counts bytes: what is stored, logged and sent is bounded whatever the characters */
        if (v[k].present && v[k].len > URL_MAX)
            return api_detail(r, E_INVALID_PARAM, "%s must be at most %d bytes", params[k].name, URL_MAX);
        if (v[k].present && v[k].len && !params_http_url(v[k].s, v[k].len))
            return api_detail(r, E_INVALID_PARAM,
                              "Invalid value for %s: an absolute http or https URL is required",
                              params[k].name);
    }
    return 0;
}

/* A Filters value names a webhook event; an empty one names none ("Filters=" alone clears the list). */
static int check_filter(struct req *r, const char *s, size_t n)
{
    if (n == 0 || webhook_event_valid(s, n)) return 0;
    return api_detail(r, E_WEBHOOK_FORMAT, "Invalid webhook format: unknown filter '%.64s'", s);
}

/* The given values into the stored configuration: the filters as a JSON array, Method upper-case. */
static int before_update(struct store_conn *c, struct req *r, void *stored, const struct param_value *v)
{
    struct webhook_config *cfg = stored;
    if (v[W_FILTERS].present) {
        int err = params_list_json(r, params[W_FILTERS].name, check_filter, 0, ST_ERROR, &cfg->filters);
        if (err) return err;
    }
    if (v[W_METHOD].present) cfg->method = strcasecmp(v[W_METHOD].s, "GET") == 0 ? "GET" : "POST";
    if (v[W_TARGET].present) cfg->target = (char *)v[W_TARGET].s;
    return 0;
}

/* ---- store calls: a configuration never set reads as every field null (the spec's fetchEmpty) ---- */

/* the account level's, or the service level's on the service's path (the runner resolved it) */
static int get(struct store_conn *c, struct req *r, const char *key, void *out)
{
    const char *service_sid = r->service_path ? r->service_sid : NULL;
    int rc = store_webhook_config_get(c, r->account.sid, service_sid, &r->arena, out);
    return rc == ST_NOT_FOUND ? ST_OK : rc;
}

static int put(struct store_conn *c, struct req *r, const void *row, const void *before)
{
    return store_webhook_config_put(c, row);
}

const struct family account_webhooks_family = {
    .segment = "Configuration/Webhooks",
    .singleton = 1,
    .parent = PARENT_ACCOUNT,
    .row_size = sizeof(struct webhook_config),
    FAMILY_FIELDS(account_fields),
    FAMILY_PARAMS(params),
    .op_fetch = &ops_table[OPID_FETCH_CONFIGURATION_WEBHOOK],
    .op_update = &ops_table[OPID_UPDATE_CONFIGURATION_WEBHOOK],
    .store = {.get = get, .update = put},
    .check_update = check_update,
    .before_update = before_update,
};

/* The service level has the same parameters but Target. */
const struct family service_webhooks_family = {
    .segment = "Configuration/Webhooks",
    .singleton = 1,
    .parent = PARENT_SERVICE,
    .row_size = sizeof(struct webhook_config),
    .service_off = WH(service_sid),
    FAMILY_FIELDS(service_fields),
    .params = params,
    .n_params = W_TARGET,
    .op_fetch = &ops_table[OPID_FETCH_SERVICE_WEBHOOK_CONFIGURATION],
    .op_update = &ops_table[OPID_UPDATE_SERVICE_WEBHOOK_CONFIGURATION],
    .store = {.get = get, .update = put},
    .check_update = check_update,
    .before_update = before_update,
};
