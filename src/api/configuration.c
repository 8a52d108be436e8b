/* Account configuration: /v1/Configuration fetch and update (BEHAVIOUR §3.4), a singleton family of the
 * account run by api/runner.c. Its hooks: the settings' formats, and the default service, which must be
 * one of the account's. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/families.h"
#include "store/account_store.h"
#include "util/duration.h"
#include "util/sid.h"
#include "json/jw.h"

#define INACTIVE_TIMER_MIN 60 /* [SPEC] "Minimum value for this timer is 1 minute" */
#define CLOSED_TIMER_MIN 600  /* [SPEC] "Minimum value for this timer is 10 minutes" */
#define AC(m) offsetof(struct account, m)

enum { C_CHAT_SERVICE, C_MESSAGING_SERVICE, C_INACTIVE_TIMER, C_CLOSED_TIMER, C__COUNT };

/* An empty optional setting clears it (docs/DECISIONS.md); the default service, which must be one of the
 * account's, is applied by before_update. */
static const struct param_spec params[C__COUNT] = {
    [C_CHAT_SERVICE] = {"DefaultChatServiceSid", PK_SID, P_NO_SLOT, 0, 0, 0, "IS", 0},
    [C_MESSAGING_SERVICE] = {"DefaultMessagingServiceSid", PK_STRING, P_EMPTY_CLEARS, 0, 0, 0, NULL,
                             AC(default_messaging_service_sid)},
    [C_INACTIVE_TIMER] = {"DefaultInactiveTimer", PK_STRING, P_EMPTY_CLEARS, 0, 0, 0, NULL,
                          AC(default_inactive_timer)},
    [C_CLOSED_TIMER] = {"DefaultClosedTimer", PK_STRING, P_EMPTY_CLEARS, 0, 0, 0, NULL,
                        AC(default_closed_timer)},
};

static void render_links(struct jw *w, const void *row, struct req *r)
{
    const struct account *a = row;
    char url[600];
    jw_obj_begin(w);
    snprintf(url, sizeof(url), "%s/v1/Services/%s/Configuration", r->app->public_url, a->default_service_sid);
    jw_kstr(w, "service", url);
    snprintf(url, sizeof(url), "%s/v1/Configuration/Webhooks", r->app->public_url);
    jw_kstr(w, "webhooks", url);
    jw_obj_end(w);
}

static const struct field fields[] = {
    {"account_sid", FK_CHARS, AC(sid), NULL},
    {"default_chat_service_sid", FK_CHARS, AC(default_service_sid), NULL},
    {"default_messaging_service_sid", FK_STR, AC(default_messaging_service_sid), NULL},
    {"default_inactive_timer", FK_STR, AC(default_inactive_timer), NULL},
    {"default_closed_timer", FK_STR, AC(default_closed_timer), NULL},
    {"url", FK_URL, 0, NULL},
    {"links", FK_FN, 0, render_links},
};

/* An ISO 8601 duration of at least min seconds, or empty (clears the timer); each timer has its own codes
 * for a malformed and a too short value (BEHAVIOUR-conversations §1.2). */
static int check_timer(const struct param_value *v, long long min, enum twilio_code malformed,
                       enum twilio_code too_short)
{
    long long seconds;
    if (!v->present || v->len == 0) return 0;
    if (duration_parse(v->s, v->len, &seconds) != 0) return malformed;
    return seconds < min ? too_short : 0;
}

static int check_update(struct req *r, const struct param_value *v)
{
    const struct param_value *mg = &v[C_MESSAGING_SERVICE];
    if (mg->present && mg->len && !sid_valid(mg->s, mg->len, "MG")) return E_INVALID_MESSAGING_SERVICE_SID;
    int err = check_timer(&v[C_INACTIVE_TIMER], INACTIVE_TIMER_MIN, E_INACTIVE_TIMER_FORMAT,
                          E_INACTIVE_TIMER_TOO_SHORT);
    return err ? err
               : check_timer(&v[C_CLOSED_TIMER], CLOSED_TIMER_MIN, E_CLOSED_TIMER_FORMAT,
                             E_CLOSED_TIMER_TOO_SHORT);
}

static int before_update(struct store_conn *c, struct req *r, void *stored, const struct param_value *v)
{
    struct account *a = stored;
    if (v[C_CHAT_SERVICE].present) {
        /* only a service of this account can become its default */
        struct service sv;
        int rc = store_service_get(c, a->sid, v[C_CHAT_SERVICE].s, &r->arena, &sv);
        if (rc) return rc == ST_NOT_FOUND ? E_SERVICE_NOT_FOUND : rc;
        memcpy(a->default_service_sid, sv.sid, sizeof(a->default_service_sid));
    }
    r->accounts_changed = 1; /* cached copies are dropped once this commits */
    return 0;
}

/* On the request's own connection the answer is the account authentication read; the writer reads it
 * again inside its transaction. */
static int get(struct store_conn *c, struct req *r, const char *key, void *out)
{
    if (c == r->db) {
        memcpy(out, &r->account, sizeof(r->account));
        return 0;
    }
    return store_account_get(c, r->account.sid, &r->arena, out);
}

static int update(struct store_conn *c, struct req *r, const void *row, const void *before)
{
    return store_account_update_config(c, row);
}

const struct family configuration_family = {
    .segment = "Configuration",
    .resource = "configuration",
    .singleton = 1,
    .parent = PARENT_ACCOUNT,
    .row_size = sizeof(struct account),
    FAMILY_FIELDS(fields),
    FAMILY_PARAMS(params),
    .op_fetch = &ops_table[OPID_FETCH_CONFIGURATION],
    .op_update = &ops_table[OPID_UPDATE_CONFIGURATION],
    .store = {.get = get, .update = update},
    .check_update = check_update,
    .before_update = before_update,
};
