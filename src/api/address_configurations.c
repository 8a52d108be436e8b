/* Address configurations: /v1/Configuration/Addresses[/{Sid}] (BEHAVIOUR-conversations §9), a family run
 * by api/runner.c. Account level, no service twin. {Sid} is the IG SID or the address itself. Its hooks:
 * the address must fit its type, the enums are taken in any case and stored in one, the webhook filters
 * must be post-events of a conversation, and the service auto-created conversations go to must be one of
 * the caller's. Inbound traffic (store_address_config_find) reads the rows this writes. */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/fail.h"
#include "api/families.h"
#include "store/account_store.h"
#include "store/address_configs.h"
#include "util/arena.h"
#include "util/sid.h"
#include "webhook/scoped.h"
#include "json/jw.h"

#define ADDRESS_MAX 256 /* as a participant's MessagingBinding.Address (BEHAVIOUR-conversations §0.3) */
#define FRIENDLY_NAME_MAX 256 /* [SPEC] "limited to 256 characters" */
#define WEBHOOK_URL_MAX 512   /* the URL becomes a conversation-scoped webhook's, at most 512 */
#define RETRY_COUNT_MAX 100
#define E164_DIGITS_MIN 7 /* +290 and four digits (Saint Helena) is about the shortest */
#define E164_DIGITS_MAX 15
#define SHORT_CODE_MIN 3 /* short codes run from 3 to 8 digits across countries */
#define SHORT_CODE_MAX 8

#define TYPES "sms|whatsapp|messenger|gbm|email|rcs|apple|chat"
#define AC(m) offsetof(struct address_config, m)

enum {
    A_TYPE,
    A_ADDRESS,
    A_FRIENDLY_NAME,
    A_ENABLED,
    A_AUTO_TYPE,
    A_SERVICE,
    A_WEBHOOK_URL,
    A_WEBHOOK_METHOD,
    A_WEBHOOK_FILTERS,
    A_STUDIO_FLOW,
    A_STUDIO_RETRY,
    A_COUNTRY,
    A__COUNT
};

/* Type, Address and AddressCountry are fixed at create (update has no such parameters [SPEC]). */
static const struct param_spec params[A__COUNT] = {
    [A_TYPE] = {"Type", PK_ENUM, P_CREATE_REQUIRED | P_CREATE_ONLY | P_ANY_CASE, 0, 0, 0, TYPES, AC(type)},
    [A_ADDRESS] = {"Address", PK_STRING, P_CREATE_REQUIRED | P_CREATE_ONLY, 0, ADDRESS_MAX, 0, NULL,
                   AC(address)},
    [A_FRIENDLY_NAME] = {"FriendlyName", PK_STRING, 0, 0, FRIENDLY_NAME_MAX, E_FRIENDLY_NAME_TOO_LONG, NULL,
                         AC(friendly_name)},
    [A_ENABLED] = {"AutoCreation.Enabled", PK_BOOL, 0, 0, 0, 0, NULL, AC(auto_enabled)},
    [A_AUTO_TYPE] = {"AutoCreation.Type", PK_ENUM, P_ANY_CASE, 0, 0, 0, "webhook|studio|default",
                     AC(auto_type)},
    [A_SERVICE] = {"AutoCreation.ConversationServiceSid", PK_SID, 0, 0, 0, 0, "IS", AC(service_sid)},
    [A_WEBHOOK_URL] = {"AutoCreation.WebhookUrl", PK_STRING, P_EMPTY_CLEARS, 0, WEBHOOK_URL_MAX, 0, NULL,
                       AC(webhook_url)},
    [A_WEBHOOK_METHOD] = {"AutoCreation.WebhookMethod", PK_ENUM, P_ANY_CASE, 0, 0, 0, "get|post",
                          AC(webhook_method)},
    [A_WEBHOOK_FILTERS] = {"AutoCreation.WebhookFilters", PK_STRING, P_LIST | P_NO_SLOT, 0, 0, 0, NULL, 0},
    [A_STUDIO_FLOW] = {"AutoCreation.StudioFlowSid", PK_SID, 0, 0, 0, 0, "FW", AC(studio_flow_sid)},
    [A_STUDIO_RETRY] = {"AutoCreation.StudioRetryCount", PK_INT, 0, 0, RETRY_COUNT_MAX, 0, NULL,
                        AC(studio_retry_count)},
    [A_COUNTRY] = {"AddressCountry", PK_STRING, P_CREATE_ONLY, 0, 0, 0, NULL, AC(address_country)},
};

static const struct param_spec list_params[] = {
    {"Type", PK_ENUM, P_ANY_CASE, 0, 0, 0, TYPES, 0},
};

/* auto_creation as the spec's examples show it: the keys of its type, conversation_service_sid when set. */
static void render_auto_creation(struct jw *w, const void *row, struct req *r)
{
    const struct address_config *ac = row;
    const char *type = ac->auto_type ? ac->auto_type : "default";
    jw_obj_begin(w);
    jw_kbool(w, "enabled", ac->auto_enabled > 0);
    jw_kstr(w, "type", type);
    if (ac->service_sid) jw_kstr(w, "conversation_service_sid", ac->service_sid);
    if (strcmp(type, "webhook") == 0) {
        jw_kstr(w, "webhook_url", ac->webhook_url);
        jw_kstr(w, "webhook_method", ac->webhook_method ? ac->webhook_method : "POST");
        jw_key(w, "webhook_filters");
        jw_raw(w, ac->webhook_filters ? ac->webhook_filters : "[]");
    } else if (strcmp(type, "studio") == 0) {
        jw_kstr(w, "studio_flow_sid", ac->studio_flow_sid);
        jw_key(w, "studio_retry_count");
        if (ac->studio_retry_count >= 0)
            jw_int(w, ac->studio_retry_count);
        else
            jw_null(w);
    }
    jw_obj_end(w);
}

static const struct field fields[] = {
    {"sid", FK_CHARS, AC(sid), NULL},
    {"account_sid", FK_CHARS, AC(account_sid), NULL},
    {"type", FK_STR, AC(type), NULL},
    {"address", FK_STR, AC(address), NULL},
    {"friendly_name", FK_STR, AC(friendly_name), NULL},
    {"auto_creation", FK_FN, 0, render_auto_creation},
    {"date_created", FK_DATE, AC(date_created), NULL},
    {"date_updated", FK_DATE, AC(date_updated), NULL},
    {"url", FK_URL, 0, NULL},
    {"address_country", FK_STR, AC(address_country), NULL},
};

/* ---- the rules no table states ---- */

/* A rule about one parameter that no table states: 400 / 20001 "Invalid value for <Name>". */
static int bad_param(struct req *r, int k)
{
    return api_detail(r, E_INVALID_PARAM, "Invalid value for %s", params[k].name);
}

static int digits(const char *s, size_t min, size_t max)
{
    size_t n = strlen(s);
    if (n < min || n > max) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i])) return 0;
    return 1;
}

/* +[1-9] and at most 15 digits in all (ITU-T E.164) */
static int e164(const char *s)
{
    return s[0] == '+' && s[1] >= '1' && s[1] <= '9' && digits(s + 1, E164_DIGITS_MIN, E164_DIGITS_MAX);
}

/* local@domain.tld, one @, no blanks */
static int email(const char *s)
{
    const char *at = strchr(s, '@');
    if (!at || at == s || strchr(at + 1, '@')) return 0;
    const char *dot = strrchr(at + 1, '.');
    return dot && dot > at + 1 && dot[1] != '\0';
}

/* The address in the format of its type (BEHAVIOUR-conversations §9.1): sms an E.164 number or a short
 * code, whatsapp `whatsapp:` + E.164, messenger `messenger:` + the page id, email an email address, rcs
 * `rcs:` + the sender; the other channels name their senders freely. Never blank, never shaped like an IG
 * SID (the path's {Sid} would then be ambiguous). */
static int address_fits(const char *type, const char *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)a[i] <= ' ' || a[i] == 0x7f) return 0;
    if (n == 0 || sid_valid(a, n, "IG")) return 0;
    if (strcmp(type, "sms") == 0) return e164(a) || digits(a, SHORT_CODE_MIN, SHORT_CODE_MAX);
    if (strcmp(type, "whatsapp") == 0) return strncmp(a, "whatsapp:", 9) == 0 && e164(a + 9);
    if (strcmp(type, "messenger") == 0) return strncmp(a, "messenger:", 10) == 0 && digits(a + 10, 1, 64);
    if (strcmp(type, "email") == 0) return email(a);
    if (strcmp(type, "rcs") == 0) return strncmp(a, "rcs:", 4) == 0 && a[4] != '\0';
    return 1;
}

/* Every AutoCreation.WebhookFilters value names a post-event of an existing conversation, what a
 * conversation-scoped webhook may name [SPEC]; "AutoCreation.WebhookFilters=" alone clears the list. */
static int check_filters(struct req *r, const struct param_value *v)
{
    if (!v[A_WEBHOOK_FILTERS].present) return 0;
    for (size_t i = 0; i < r->body.n; i++) {
        const struct form_pair *p = &r->body.pair[i];
        if (strcmp(p->key, params[A_WEBHOOK_FILTERS].name) != 0) continue;
        if (p->vlen == 0 && v[A_WEBHOOK_FILTERS].n == 1) return 0;
        if (!scoped_event_valid(p->val, strlen(p->val))) return bad_param(r, A_WEBHOOK_FILTERS);
    }
    return 0;
}

static char *recase(struct req *r, const char *s, int upper)
{
    size_t n = strlen(s);
    char *out = arena_strndup(&r->arena, s, n);
    for (size_t i = 0; i < n; i++)
        out[i] = (char)(upper ? toupper((unsigned char)out[i]) : tolower((unsigned char)out[i]));
    return out;
}

/* Rules shared by create and update, on the parameters as read. */
static int check_update(struct req *r, const struct param_value *v)
{
    const struct param_value *url = &v[A_WEBHOOK_URL];
    if (url->present && url->len && !params_http_url(url->s, url->len)) return bad_param(r, A_WEBHOOK_URL);
    return check_filters(r, v);
}

/* The values given into ac in their stored form: enums in one case, the filters as JSON (checked by
 * check_update). Returns 0 or a failure value. */
static int normalise(struct req *r, struct address_config *ac, const struct param_value *v)
{
    if (v[A_AUTO_TYPE].present) ac->auto_type = recase(r, v[A_AUTO_TYPE].s, 0);
    if (v[A_WEBHOOK_METHOD].present) ac->webhook_method = recase(r, v[A_WEBHOOK_METHOD].s, 1);
    if (!v[A_WEBHOOK_FILTERS].present) return 0;
    return params_list_json(r, params[A_WEBHOOK_FILTERS].name, NULL, 0, ST_ERROR, &ac->webhook_filters);
}

static int check_create(struct req *r, void *row, const struct param_value *v)
{
    struct address_config *ac = row;
    ac->type = recase(r, v[A_TYPE].s, 0);
    if (!address_fits(ac->type, v[A_ADDRESS].s, v[A_ADDRESS].len)) return bad_param(r, A_ADDRESS);
    const struct param_value *cc = &v[A_COUNTRY];
    if (cc->present &&
        (cc->len != 2 || !isalpha((unsigned char)cc->s[0]) || !isalpha((unsigned char)cc->s[1])))
        return bad_param(r, A_COUNTRY);
    int err = check_update(r, v);
    return err ? err : normalise(r, ac, v);
}

/* A named service must be one of the caller's (the reference is read in the write transaction). */
static int before_insert(struct store_conn *c, struct req *r, void *row, const struct param_value *v)
{
    if (!v[A_SERVICE].present) return 0;
    struct service sv;
    int rc = store_service_get(c, r->account.sid, v[A_SERVICE].s, &r->arena, &sv);
    return rc == ST_NOT_FOUND ? E_SERVICE_NOT_FOUND : rc;
}

static int before_update(struct store_conn *c, struct req *r, void *stored, const struct param_value *v)
{
    int err = normalise(r, stored, v);
    return err ? err : before_insert(c, r, stored, v);
}

/* ---- store calls: the key is a SID when it has the shape of one, else the address ---- */

static int get(struct store_conn *c, struct req *r, const char *key, void *out)
{
    int by_sid = sid_valid(key, strlen(key), "IG");
    return store_address_config_get(c, r->account.sid, key, by_sid, &r->arena, out);
}

static int insert(struct store_conn *c, struct req *r, void *row)
{
    return store_address_config_insert(c, row);
}
static int update(struct store_conn *c, struct req *r, const void *row, const void *before)
{
    return store_address_config_update(c, row, before);
}

static int del(struct store_conn *c, struct req *r, const char *key)
{
    struct address_config ac;
    int rc = get(c, r, key, &ac);
    return rc == ST_OK ? store_address_config_delete(c, r->account.sid, ac.sid) : rc;
}

RUNNER_LIST_ROW(list_row, struct address_config)

static int list(struct store_conn *c, struct req *r, const struct list_filter *f, const struct page_req *p,
                void *ctx)
{
    return store_address_config_list(c, r->account.sid, f->store_filter, p, list_row, ctx);
}

/* ?Type=, echoed first in the meta URLs (the spec's example: ?Type=sms&PageSize=50&Page=0) */
static int list_filter(struct req *r, const struct param_value *v, struct list_filter *out)
{
    if (!v[0].present) return 0;
    char *type = recase(r, v[0].s, 0);
    size_t n = strlen("Type=&") + strlen(type) + 1;
    char *query = arena_alloc(&r->arena, n);
    snprintf(query, n, "Type=%s&", type);
    out->store_filter = type;
    out->query = query;
    return 0;
}

const struct family address_configurations_family = {
    .segment = "Configuration/Addresses",
    .prefix = "IG",
    .alt_key = 1,
    .parent = PARENT_ACCOUNT,
    FAMILY_MODEL(struct address_config),
    FAMILY_FIELDS(fields),
    FAMILY_PARAMS(params),
    FAMILY_CRUD(CONFIGURATION_ADDRESS),
    .store = {get, insert, update, del, list},
    .list_params = list_params,
    .n_list_params = sizeof(list_params) / sizeof(list_params[0]),
    .conflict = E_CONFLICT,
    .list_filter = list_filter,
    .check_create = check_create,
    .check_update = check_update,
    .before_insert = before_insert,
    .before_update = before_update,
};
