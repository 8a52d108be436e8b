/* Conversation-scoped webhooks: /v1/Conversations/{ConversationSid}/Webhooks[/{Sid}] and the service twin
 * (BEHAVIOUR-conversations §5), a family run by api/runner.c, nested under its conversation
 * ({ConversationSid} a CH SID or the unique name). Its hooks: the Configuration.* rules of §5.2 with their
 * codes, at most five per conversation, the closed guard, the configuration object by target, the change
 * records, and the ReplayAfter replay. Delivery itself is webhook/scoped.c. REST calls on this resource fire
 * no events. */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/fail.h"
#include "api/families.h"
#include "api/paging.h"
#include "store/conversations.h"
#include "store/scoped_webhooks.h"
#include "util/arena.h"
#include "util/sid.h"
#include "util/text.h"
#include "webhook/scoped.h"
#include "json/jw.h"

#define URL_MAX 512           /* bytes [ERRDICT 50372] */
#define TRIGGERS_MAX 5        /* keywords per webhook [ERRDICT 50362] */
#define TRIGGER_MAX_CHARS 248 /* [ERRDICT 50366] */
#define SW(m) offsetof(struct scoped_webhook, m)

enum { W_TARGET, W_URL, W_METHOD, W_FILTERS, W_TRIGGERS, W_FLOW_SID, W_REPLAY_AFTER, W__COUNT };

/* Target is immutable (update has none) and ReplayAfter create-only [SPEC]; the hooks read the rest, each
 * rule having its own code. */
static const struct param_spec params[W__COUNT] = {
    [W_TARGET] = {"Target", PK_STRING, P_CREATE_REQUIRED | P_CREATE_ONLY, 0, 0, 0, NULL, SW(target)},
    [W_URL] = {"Configuration.Url", PK_STRING, P_NO_SLOT, 0, 0, 0, NULL, 0},
    [W_METHOD] = {"Configuration.Method", PK_STRING, P_NO_SLOT, 0, 0, 0, NULL, 0},
    [W_FILTERS] = {"Configuration.Filters", PK_STRING, P_NO_SLOT | P_LIST, 0, 0, 0, NULL, 0},
    [W_TRIGGERS] = {"Configuration.Triggers", PK_STRING, P_NO_SLOT | P_LIST, 0, 0, 0, NULL, 0},
    [W_FLOW_SID] = {"Configuration.FlowSid", PK_STRING, P_NO_SLOT, 0, 0, 0, NULL, 0},
    [W_REPLAY_AFTER] = {"Configuration.ReplayAfter", PK_INT, P_NO_SLOT | P_CREATE_ONLY, 0, 999999999999LL, 0,
                        NULL, 0},
};

/* ---- rendering ---- */

static int is_target(const struct scoped_webhook *w, const char *t)
{
    return strcmp(w->target, t) == 0;
}

/* By target [SPEC examples, BEHAVIOUR-conversations §5.4]: webhook {url, method, filters}, trigger {url,
 * method, triggers} (or the keywords under filters, the spec example's form), studio {flow_sid};
 * replay_after when it was given. */
static void render_configuration(struct jw *w, const void *row, struct req *r)
{
    const struct scoped_webhook *sw = row;
    jw_obj_begin(w);
    if (is_target(sw, "studio")) {
        jw_kstr(w, "flow_sid", sw->flow_sid);
    } else {
        jw_kstr(w, "url", sw->url);
        jw_kstr(w, "method", sw->method);
        int trigger = is_target(sw, "trigger");
        /* the spec's example puts a trigger's keywords under "filters": --scoped-trigger-key filters */
        jw_key(w, trigger && !r->app->scoped_trigger_filters ? "triggers" : "filters");
        jw_raw(w, trigger ? sw->triggers : sw->filters);
    }
    if (sw->replay_after >= 0) jw_kint(w, "replay_after", sw->replay_after);
    jw_obj_end(w);
}

static const struct field fields[] = {
    {"sid", FK_CHARS, SW(sid), NULL},
    {"account_sid", FK_CHARS, SW(account_sid), NULL},
    {"chat_service_sid", FK_SVC_CHARS, SW(service_sid), NULL},
    {"conversation_sid", FK_CHARS, SW(conversation_sid), NULL},
    {"target", FK_STR, SW(target), NULL},
    {"url", FK_URL, 0, NULL},
    {"configuration", FK_FN, 0, render_configuration},
    {"date_created", FK_DATE, SW(date_created), NULL},
    {"date_updated", FK_DATE, SW(date_updated), NULL},
};

/* ---- the configuration rules (§5.2) ---- */

static int check_filter(struct req *r, const char *s, size_t n)
{
    return n == 0 || scoped_event_valid(s, n) ? 0 : E_SW_BAD_FILTER;
}

static int check_trigger(struct req *r, const char *s, size_t n)
{
    size_t chars = utf8_len(s, n);
    return chars >= 1 && chars <= TRIGGER_MAX_CHARS ? 0 : E_SW_BAD_TRIGGER;
}

/* Ten filters at most: the scoped events, each once. */
#define FILTERS_MAX 10

/* The parameters present into w (an update replaces what it names, arrays whole), then the rules of w's
 * target on the result. */
static int apply_config(struct req *r, struct scoped_webhook *w, const struct param_value *v)
{
    int err = 0;
    if (v[W_URL].present) {
        if (v[W_URL].len > URL_MAX) return E_SW_URL_TOO_LONG;
        if (v[W_URL].len && !params_http_url(v[W_URL].s, v[W_URL].len)) {
            api_failf(r, E_INVALID_PARAM,
                      "Invalid value for Configuration.Url: an absolute http or https URL is required");
            return RUNNER_ANSWERED;
        }
        w->url = v[W_URL].len ? (char *)v[W_URL].s : NULL;
    }
    if (v[W_METHOD].present) {
        const char *m = v[W_METHOD].s;
        if (strcasecmp(m, "get") != 0 && strcasecmp(m, "post") != 0) return E_WEBHOOK_METHOD;
        w->method = strcasecmp(m, "get") == 0 ? "get" : "post";
    }
    if (v[W_FILTERS].present && (err = params_list_json(r, params[W_FILTERS].name, check_filter, FILTERS_MAX,
                                                        E_SW_BAD_FILTER, &w->filters)))
        return err;
    if (v[W_TRIGGERS].present && (err = params_list_json(r, params[W_TRIGGERS].name, check_trigger,
                                                         TRIGGERS_MAX, E_SW_TOO_MANY_TRIGGERS, &w->triggers)))
        return err;
    if (v[W_FLOW_SID].present) {
        if (!sid_valid(v[W_FLOW_SID].s, v[W_FLOW_SID].len, "FW")) return E_SW_BAD_FLOW;
        w->flow_sid = (char *)v[W_FLOW_SID].s;
    }
    if (!w->filters) w->filters = "[]";
    if (!w->triggers) w->triggers = "[]";
    if (is_target(w, "studio")) return w->flow_sid ? 0 : E_SW_BAD_FLOW;
    if (!w->method) w->method = "post"; /* BEHAVIOUR-conversations §5.2 default */
    if (!w->url) return E_SW_NO_URL;
    if (is_target(w, "webhook") && strcmp(w->filters, "[]") == 0) return E_SW_NO_FILTER;
    if (is_target(w, "trigger") && strcmp(w->triggers, "[]") == 0) return E_SW_NO_TRIGGER;
    return 0;
}

/* ---- hooks ---- */

static int check_create(struct req *r, void *row, const struct param_value *v)
{
    struct scoped_webhook *w = row;
    /* exact, as the spec's enum: webhook | trigger | studio */
    if (!is_target(w, "webhook") && !is_target(w, "trigger") && !is_target(w, "studio")) return E_SW_BAD_TYPE;
    memcpy(w->conversation_sid, r->parent_sid, SID_LEN + 1);
    w->replay_after = v[W_REPLAY_AFTER].present ? v[W_REPLAY_AFTER].i : -1;
    return apply_config(r, w, v);
}

/* In the write transaction: the closed guard (which on PostgreSQL also locks the conversation, so that
 * two servers cannot both add a fifth), then the limit. */
static int before_insert(struct store_conn *c, struct req *r, void *row, const struct param_value *v)
{
    struct conversation cv;
    int err = conversations_writable(c, r, r->parent_sid, &cv);
    long long n = 0;
    if (!err) err = store_scoped_webhook_count(c, r->parent_sid, &n);
    if (!err && n >= SCOPED_WEBHOOKS_MAX) err = E_SW_TOO_MANY;
    return err;
}

/* On the stored row: the closed guard, then the request's changes and the rules on the result (a
 * missing webhook is a 404 before any of them). */
static int before_update(struct store_conn *c, struct req *r, void *stored, const struct param_value *v)
{
    struct conversation cv;
    int err = conversations_writable(c, r, r->parent_sid, &cv);
    return err ? err : apply_config(r, stored, v);
}

/* On create, the replay of the messages from ReplayAfter on (§5.3). The runner writes the change records
 * (resource "conversation_webhook", the conversation as parent). */
static int post_event(struct store_conn *c, struct req *r, enum op_kind kind, const void *row)
{
    const struct scoped_webhook *w = row;
    if (kind != OPK_CREATE) return 0;
    int n = scoped_webhook_replay(c, w, &r->arena);
    if (n > 0) r->events_queued = 1;
    return n < 0 ? n : 0;
}

/* ---- store calls ---- */

static int get(struct store_conn *c, struct req *r, const char *sid, void *out)
{
    return store_scoped_webhook_get(c, r->parent_sid, sid, &r->arena, out);
}

static int insert(struct store_conn *c, struct req *r, void *row)
{
    return store_scoped_webhook_insert(c, row);
}

static int update(struct store_conn *c, struct req *r, const void *row, const void *before)
{
    return store_scoped_webhook_update(c, row);
}

/* The closed guard holds for a delete too (§0.4). */
static int del(struct store_conn *c, struct req *r, const char *sid)
{
    struct conversation cv;
    int rc = conversations_writable(c, r, r->parent_sid, &cv);
    return rc ? rc : store_scoped_webhook_delete(c, r->parent_sid, sid);
}

RUNNER_LIST_ROW(list_row, struct scoped_webhook)

static int list(struct store_conn *c, struct req *r, const struct list_filter *f, const struct page_req *p,
                void *ctx)
{
    return store_scoped_webhook_list(c, r->parent_sid, p, list_row, ctx);
}

const struct family scoped_webhooks_family = {
    .segment = "Webhooks",
    .prefix = "WH",
    .parent = PARENT_TWIN,
    .resource = "conversation_webhook",
    FAMILY_MODEL(struct scoped_webhook),
    .service_off = SW(service_sid),
    FAMILY_FIELDS(fields),
    FAMILY_PARAMS(params),
    FAMILY_CRUD(CONVERSATION_SCOPED_WEBHOOK),
    .store = {get, insert, update, del, list},
    .check_create = check_create,
    .before_insert = before_insert,
    .before_update = before_update,
    .post_event = post_event,
    .parent_segment = "Conversations",
    .resolve_parent = conversations_resolve_parent,
    .parent_off = SW(conversation_sid),
};
