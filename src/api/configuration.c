/* Account configuration: GET /v1/Configuration (BEHAVIOUR §3.4). */
#include <stdio.h>

#include "api/api.h"
#include "http/response.h"
#include "json/jw.h"

int configuration_fetch(struct req *r)
{
    const struct account *a = &r->account;
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
    return 0;
}
