/* GET /parley/webhooks/log: the account's recent webhook calls, pending deliveries first, then the log,
 * newest first. Parley's own endpoint (outside /v1), behind the same credentials. */
#include <string.h>

#include "api/api.h"
#include "api/params.h"
#include "control/control.h"
#include "http/response.h"
#include "store/webhook_store.h"
#include "util/timefmt.h"
#include "json/jw.h"

static const struct param_spec log_params[] = {
    {"Limit", PK_INT, 0, 1, 1000, 0, NULL, 0},
};

static void put_time(struct jw *w, const char *key, long long ms)
{
    char t[TIME_ISO_MS_LEN + 1];
    if (!ms) {
        jw_knull(w, key);
        return;
    }
    time_iso_ms(t, ms);
    jw_kstr(w, key, t);
}

static int log_row(void *ctx, const struct webhook_log_entry *e)
{
    struct jw *w = ctx;
    jw_obj_begin(w);
    jw_kstr(w, "kind", e->kind);
    jw_kstr(w, "event_type", e->event_type);
    jw_kstr(w, "url", e->url);
    jw_kstr(w, "method", e->method);
    jw_kstr(w, "outcome", e->outcome);
    if (e->status)
        jw_kint(w, "status", e->status);
    else
        jw_knull(w, "status");
    jw_kint(w, "attempts", e->attempts);
    jw_kint(w, "latency_ms", e->latency_ms);
    jw_kstr(w, "last_error", e->last_error);
    jw_kstr(w, "idempotency_token", e->idempotency_token);
    put_time(w, "date_created", e->created_at);
    put_time(w, "date_completed", e->completed_at);
    jw_obj_end(w);
    return 0;
}

int webhooks_log(struct req *r)
{
    struct param_value v[1];
    if (params_read(r, &r->query, log_params, 1, v) != 0) return 0;
    struct jw w;
    api_json_begin(r, &w, 200);
    jw_obj_begin(&w);
    jw_kstr(&w, "account_sid", r->account.sid);
    jw_key(&w, "deliveries");
    jw_arr_begin(&w);
    int rc = store_webhook_log_list(r->db, r->account.sid, v[0].present ? (int)v[0].i : 100, log_row, &w);
    if (rc != ST_OK) return resp_store_error(r, rc);
    jw_arr_end(&w);
    jw_obj_end(&w);
    return 0;
}
