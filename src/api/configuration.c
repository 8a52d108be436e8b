/* Account configuration: /v1/Configuration fetch and update (BEHAVIOUR §3.4). */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/params.h"
#include "http/response.h"
#include "json/jw.h"
#include "store/account_store.h"
#include "util/duration.h"
#include "util/sid.h"

#define INACTIVE_TIMER_MIN 60    /* [SPEC] "Minimum value for this timer is 1 minute" */
#define CLOSED_TIMER_MIN 600     /* [SPEC] "Minimum value for this timer is 10 minutes" */

enum { C_CHAT_SERVICE, C_MESSAGING_SERVICE, C_INACTIVE_TIMER, C_CLOSED_TIMER, C__COUNT };

/* The optional settings are read as text: an empty value clears them (docs/DECISIONS.md). */
static const struct param_spec update_params[C__COUNT] = {
    [C_CHAT_SERVICE] = {"DefaultChatServiceSid", PK_SID, 0, 0, 0, 0, "IS"},
    [C_MESSAGING_SERVICE] = {"DefaultMessagingServiceSid", PK_STRING, 0, 0, 0, 0, NULL},
    [C_INACTIVE_TIMER] = {"DefaultInactiveTimer", PK_STRING, 0, 0, 0, 0, NULL},
    [C_CLOSED_TIMER] = {"DefaultClosedTimer", PK_STRING, 0, 0, 0, 0, NULL},
};

struct config_write {
    struct param_value v[C__COUNT];
};

static void respond_config(struct req *r, const struct account *a)
{
    const char *base = r->app->public_url;
    char url[512], service[600], webhooks[600];
    snprintf(url, sizeof(url), "%s/v1/Configuration", base);
    snprintf(service, sizeof(service), "%s/v1/Services/%s/Configuration", base, a->default_service_sid);
    snprintf(webhooks, sizeof(webhooks), "%s/Webhooks", url);
    struct jw w;
    api_json_begin(r, &w, 200);
    jw_obj_begin(&w);
    jw_kstr(&w, "account_sid", a->sid);
    jw_kstr(&w, "default_chat_service_sid", a->default_service_sid);
    jw_kstr(&w, "default_messaging_service_sid", a->default_messaging_service_sid);
    jw_kstr(&w, "default_inactive_timer", a->default_inactive_timer);
    jw_kstr(&w, "default_closed_timer", a->default_closed_timer);
    jw_kstr(&w, "url", url);
    jw_key(&w, "links");
    jw_obj_begin(&w);
    jw_kstr(&w, "service", service);
    jw_kstr(&w, "webhooks", webhooks);
    jw_obj_end(&w);
    jw_obj_end(&w);
}

int configuration_fetch(struct req *r)
{
    respond_config(r, &r->account);
    return 0;
}

/* An ISO 8601 duration of at least min seconds, or empty (clears the timer); each timer has its own codes
 * for a malformed and a too short value (BEHAVIOUR-conversations §1.2). */
static int check_timer(struct req *r, const struct param_value *v, long long min, enum twilio_code malformed,
                       enum twilio_code too_short)
{
    long long seconds;
    if (!v->present || v->len == 0)
        return 0;
    if (duration_parse(v->s, v->len, &seconds) != 0)
        return resp_error(r, malformed, "%s", resp_title(malformed)), -1;
    if (seconds < min)
        return resp_error(r, too_short, "%s", resp_title(too_short)), -1;
    return 0;
}

/* A set optional value, NULL for an empty one (cleared), or the stored one when absent. */
static char *setting(const struct param_value *v, char *stored)
{
    if (!v->present)
        return stored;
    return v->len ? (char *)v->s : NULL;
}

static int apply_update(struct store_conn *c, struct req *r)
{
    struct config_write *cw = r->ctx;
    struct account a;
    int rc = c->ops->account_get(c, r->account.sid, &r->arena, &a);
    if (rc != ST_OK)
        return resp_store_error(r, rc), -1;
    if (cw->v[C_CHAT_SERVICE].present) {
        /* only a service of this account can become its default */
        struct service sv;
        rc = c->ops->service_get(c, a.sid, cw->v[C_CHAT_SERVICE].s, &r->arena, &sv);
        if (rc == ST_NOT_FOUND)
            return resp_error(r, E_SERVICE_NOT_FOUND, "%s", resp_title(E_SERVICE_NOT_FOUND)), -1;
        if (rc != ST_OK)
            return resp_store_error(r, rc), -1;
        memcpy(a.default_service_sid, sv.sid, sizeof(a.default_service_sid));
    }
    a.default_messaging_service_sid = setting(&cw->v[C_MESSAGING_SERVICE], a.default_messaging_service_sid);
    a.default_inactive_timer = setting(&cw->v[C_INACTIVE_TIMER], a.default_inactive_timer);
    a.default_closed_timer = setting(&cw->v[C_CLOSED_TIMER], a.default_closed_timer);
    rc = c->ops->model->account_update_config(c, &a);
    if (rc != ST_OK)
        return resp_store_error(r, rc), -1;
    r->accounts_changed = 1;
    respond_config(r, &a);
    return 0;
}

int configuration_update(struct req *r)
{
    struct config_write *cw = arena_alloc(&r->arena, sizeof(*cw));
    if (params_read(r, &r->body, update_params, C__COUNT, cw->v) != 0)
        return 0;
    if (params_count_present(cw->v, C__COUNT) == 0)
        return resp_error(r, E_NO_UPDATE_PARAMS, "Parameters are not specified for update request");
    const struct param_value *mg = &cw->v[C_MESSAGING_SERVICE];
    if (mg->present && mg->len && !sid_valid(mg->s, mg->len, "MG"))
        return resp_error(r, E_INVALID_MESSAGING_SERVICE_SID, "%s",
                          resp_title(E_INVALID_MESSAGING_SERVICE_SID));
    if (check_timer(r, &cw->v[C_INACTIVE_TIMER], INACTIVE_TIMER_MIN, E_INACTIVE_TIMER_FORMAT,
                    E_INACTIVE_TIMER_TOO_SHORT) != 0 ||
        check_timer(r, &cw->v[C_CLOSED_TIMER], CLOSED_TIMER_MIN, E_CLOSED_TIMER_FORMAT,
                    E_CLOSED_TIMER_TOO_SHORT) != 0)
        return 0;
    return api_write(r, apply_update, cw);
}
