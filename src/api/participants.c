/* Participants: /v1/Conversations/{ConversationSid}/Participants[/{Sid}] and the service twin
 * (BEHAVIOUR-conversations §2), a family run by api/runner.c, nested under its conversation. {Sid} is an
 * MB SID or the identity. Three kinds: chat (Identity; the user is created if missing), non-chat
 * (MessagingBinding.Address + ProxyAddress) and Group MMS (ProjectedAddress). Its hooks: the kind and
 * address rules on the request thread; the closed guard, the role, the limits, the duplicate identity and
 * the bound pair in the write transaction; the onParticipant* pre-events and post-events. */
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/fail.h"
#include "api/families.h"
#include "api/participants.h"
#include "api/pre_event.h"
#include "store/account_store.h"
#include "store/changes.h"
#include "store/conversations.h"
#include "store/participants.h"
#include "util/sid.h"
#include "util/text.h"
#include "util/timefmt.h"
#include "webhook/events.h"
#include "webhook/scoped.h"
#include "json/attrs.h"
#include "json/jw.h"

#define IDENTITY_MAX 256
#define ADDRESS_MAX 256                 /* MessagingBinding.Address / .ProxyAddress (§0.3) */
#define PARTICIPANT_ATTRS_MAX 4096      /* bytes (§0.3) */
#define PARTICIPANTS_MAX 1000           /* per conversation (§0.3) */
#define NON_CHAT_PARTICIPANTS_MAX 50    /* of which non-chat (§0.3) */
#define IDENTITY_CONVERSATIONS_MAX 1000 /* conversations per identity (§0.3) */
#define EVENT_PARAMS_MAX (64 * 1024)    /* attributes (4 KB) percent-encoded, with room */
#define PR(m) offsetof(struct participant_row, m)

enum {
    PP_IDENTITY,
    PP_ADDRESS,
    PP_PROXY,
    PP_DATE_CREATED,
    PP_DATE_UPDATED,
    PP_ATTRIBUTES,
    PP_PROJECTED,
    PP_ROLE_SID,
    PP_LAST_READ_INDEX,
    PP_LAST_READ_TIMESTAMP,
    PP__COUNT
};

/* Only Attributes lands in a slot: the others follow rules of their own (kinds, "null" removes). */
static const struct param_spec params[PP__COUNT] = {
    [PP_IDENTITY] = {"Identity", PK_STRING, P_NO_SLOT, 0, IDENTITY_MAX, E_IDENTITY_TOO_LONG, NULL, 0},
    [PP_ADDRESS] = {"MessagingBinding.Address", PK_STRING, P_NO_SLOT | P_CREATE_ONLY, 0, ADDRESS_MAX,
                    E_BINDING_ADDRESS_INVALID, NULL, 0},
    [PP_PROXY] = {"MessagingBinding.ProxyAddress", PK_STRING, P_NO_SLOT, 0, ADDRESS_MAX,
                  E_PROXY_ADDRESS_INVALID, NULL, 0},
    [PP_DATE_CREATED] = {"DateCreated", PK_STRING, P_NO_SLOT, 0, 0, 0, NULL, 0},
    [PP_DATE_UPDATED] = {"DateUpdated", PK_STRING, P_NO_SLOT, 0, 0, 0, NULL, 0},
    [PP_ATTRIBUTES] = {"Attributes", PK_JSON, 0, 0, 0, 0, NULL, PR(p.attributes)},
    [PP_PROJECTED] = {"MessagingBinding.ProjectedAddress", PK_STRING, P_NO_SLOT, 0, ADDRESS_MAX,
                      E_BINDING_ADDRESS_INVALID, NULL, 0},
    [PP_ROLE_SID] = {"RoleSid", PK_SID, P_NO_SLOT, 0, 0, 0, "RL", 0},
    [PP_LAST_READ_INDEX] = {"LastReadMessageIndex", PK_STRING, P_NO_SLOT, 0, 0, 0, NULL, 0},
    [PP_LAST_READ_TIMESTAMP] = {"LastReadTimestamp", PK_STRING, P_NO_SLOT, 0, 0, 0, NULL, 0},
};

/* ---- rendering ---- */

/* Only the keys that are set (§2.5); null without a binding. */
static void render_binding(struct jw *w, const void *row, struct req *r)
{
    const struct participant *p = row;
    if (!p->binding_type) {
        jw_null(w);
        return;
    }
    jw_obj_begin(w);
    jw_kstr(w, "type", p->binding_type);
    if (p->address) jw_kstr(w, "address", p->address);
    if (p->proxy_address) jw_kstr(w, "proxy_address", p->proxy_address);
    if (p->projected_address) jw_kstr(w, "projected_address", p->projected_address);
    jw_obj_end(w);
}

static const struct field fields[] = {
    {"account_sid", FK_CHARS, PR(p.account_sid), NULL},
    {"chat_service_sid", FK_SVC_CHARS, PR(p.service_sid), NULL},
    {"conversation_sid", FK_CHARS, PR(p.conversation_sid), NULL},
    {"sid", FK_CHARS, PR(p.sid), NULL},
    {"identity", FK_STR, PR(p.identity), NULL},
    {"attributes", FK_STR, PR(p.attributes), NULL},
    {"messaging_binding", FK_FN, 0, render_binding},
    {"role_sid", FK_STR, PR(p.role_sid), NULL},
    {"date_created", FK_DATE, PR(p.date_created), NULL},
    {"date_updated", FK_DATE, PR(p.date_updated), NULL},
    {"url", FK_URL, 0, NULL},
    {"last_read_message_index", FK_I64_NULL, PR(p.last_read_message_index), NULL},
    {"last_read_timestamp", FK_STR, PR(p.last_read_timestamp), NULL},
};

void participant_render_timers(struct jw *w, const struct participant_view_conversation *cv)
{
    conversation_render_timers(w, cv->timer_inactive, cv->date_inactive, cv->timer_closed, cv->date_closed);
}

void participant_render_links(struct jw *w, struct req *r, const char *conversation_sid,
                              const char *participant_sid)
{
    size_t n;
    char url[sizeof(r->base) + 128];
    const char *parts[] = {api_base(r, &n), "/Conversations/", conversation_sid, "/Participants/",
                           participant_sid};
    jw_obj_begin(w);
    text_join(url, sizeof(url), parts, 5);
    jw_kstr(w, "participant", url);
    text_join(url, sizeof(url), parts, 3);
    jw_kstr(w, "conversation", url);
    jw_obj_end(w);
}

/* ---- addresses (§2.2 rule 3) ---- */

static int e164(const char *s)
{
    if (s[0] != '+' || s[1] < '1' || s[1] > '9') return 0;
    size_t n = strlen(s + 1);
    if (n < 2 || n > 15) return 0;
    return strspn(s + 1, "0123456789") == n;
}

static int has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The binding type an address stands for, by its prefix; NULL when it is not a valid address. */
static const char *address_type(const char *s)
{
    if (has_prefix(s, "whatsapp:")) return e164(s + 9) ? "whatsapp" : NULL;
    if (has_prefix(s, "rcs:")) return e164(s + 4) ? "rcs" : NULL;
    if (has_prefix(s, "messenger:")) return s[10] ? "messenger" : NULL;
    const char *at = strchr(s, '@');
    if (at && at != s && at[1] && !strchr(s, ':') && !strchr(s, ' ')) return "email";
    return e164(s) ? "sms" : NULL;
}

/* ---- the row: the model and the request's dates ---- */

long long participant_parse_index(const char *s, int *bad)
{
    *bad = 0;
    if (!*s || strcmp(s, "null") == 0) return -1;
    long long v = 0;
    for (const char *c = s; *c; c++) {
        if (*c < '0' || *c > '9' || v > 1000000000000LL) {
            *bad = 1;
            return -1;
        }
        v = v * 10 + (*c - '0');
    }
    return v;
}

/* "null" and "" remove an address (§2.3). */
static int removes(const struct param_value *v)
{
    return v->present && (v->len == 0 || strcmp(v->s, "null") == 0);
}

static int check_dates(struct participant_row *pr, const struct param_value *v)
{
    pr->date_created = pr->date_updated = -1;
    if (v[PP_DATE_CREATED].present && time_parse_iso(v[PP_DATE_CREATED].s, &pr->date_created) != 0)
        return E_DATE_CREATED_INVALID;
    if (v[PP_DATE_UPDATED].present && time_parse_iso(v[PP_DATE_UPDATED].s, &pr->date_updated) != 0)
        return E_DATE_UPDATED_INVALID;
    return 0;
}

static int check_attributes(const char *attrs)
{
    return attrs && strlen(attrs) > PARTICIPANT_ATTRS_MAX ? E_ATTRS_TOO_LONG : 0;
}

/* The kind of participant and its addresses, on the request thread, into the row (§2.2 rules 1-3). */
static int check_create(struct req *r, void *row, const struct param_value *v)
{
    struct participant_row *pr = row;
    struct participant *p = &pr->p;
    int has_id = v[PP_IDENTITY].present && v[PP_IDENTITY].len > 0;
    int has_addr = v[PP_ADDRESS].present, has_proxy = v[PP_PROXY].present, has_proj = v[PP_PROJECTED].present;
    if (has_id && (has_addr || has_proxy)) return E_IDENTITY_NOT_ACCEPTABLE;
    if (has_addr && has_proj) return E_BINDING_ADDRESS_INVALID;
    if (!has_id && !has_addr && !has_proxy && !has_proj) return E_IDENTITY_NOT_PROVIDED;
    if (has_id && sid_valid(v[PP_IDENTITY].s, v[PP_IDENTITY].len, "US")) return E_IDENTITY_LOOKS_LIKE_SID;
    int err = check_attributes(p->attributes);
    if (err) return err;
    if ((err = check_dates(pr, v)) != 0) return err;
    p->identity = has_id ? (char *)v[PP_IDENTITY].s : NULL;
    if (has_proxy && !has_addr) return E_ADDRESS_EMPTY;
    if (has_addr) {
        if (v[PP_ADDRESS].len == 0) return E_ADDRESS_EMPTY;
        const char *type = address_type(v[PP_ADDRESS].s);
        if (!type) return E_BINDING_ADDRESS_INVALID;
        if (has_proxy) {
            if (v[PP_PROXY].len == 0) return E_PROXY_ADDRESS_EMPTY;
            const char *ptype = address_type(v[PP_PROXY].s);
            if (!ptype || strcmp(ptype, "email") == 0) return E_PROXY_ADDRESS_INVALID;
            if (strcmp(v[PP_ADDRESS].s, v[PP_PROXY].s) == 0) return E_ADDRESS_EQUALS_PROXY;
            if (strcmp(type, ptype) != 0) return E_ADDRESS_TYPE_MISMATCH;
            p->proxy_address = (char *)v[PP_PROXY].s;
        } else if (strcmp(type, "sms") != 0) {
            return E_PROXY_ADDRESS_EMPTY; /* only a Group-MMS member (sms) goes without a proxy */
        }
        p->address = (char *)v[PP_ADDRESS].s;
        p->binding_type = (char *)type;
    }
    if (has_proj) {
        if (!e164(v[PP_PROJECTED].s)) return E_BINDING_ADDRESS_INVALID;
        p->projected_address = (char *)v[PP_PROJECTED].s;
        p->binding_type = "sms";
    }
    if (v[PP_ROLE_SID].present) p->role_sid = (char *)v[PP_ROLE_SID].s;
    if (!p->attributes) p->attributes = "{}";
    p->last_read_message_index = -1;
    p->notification_level = "default";
    return 0;
}

static int check_update(struct req *r, const struct param_value *v)
{
    int bad = 0;
    if (v[PP_ATTRIBUTES].present && check_attributes(v[PP_ATTRIBUTES].s)) return E_ATTRS_TOO_LONG;
    if (v[PP_LAST_READ_INDEX].present) (void)participant_parse_index(v[PP_LAST_READ_INDEX].s, &bad);
    if (bad) return E_LAST_READ_INDEX_INVALID;
    long long ms;
    if (v[PP_LAST_READ_TIMESTAMP].present && v[PP_LAST_READ_TIMESTAMP].len &&
        time_parse_iso(v[PP_LAST_READ_TIMESTAMP].s, &ms) != 0)
        return E_LAST_READ_TIMESTAMP_INVALID;
    if (v[PP_DATE_CREATED].present && time_parse_iso(v[PP_DATE_CREATED].s, &ms) != 0)
        return E_DATE_CREATED_INVALID;
    if (v[PP_DATE_UPDATED].present && time_parse_iso(v[PP_DATE_UPDATED].s, &ms) != 0)
        return E_DATE_UPDATED_INVALID;
    if (v[PP_PROJECTED].present && !removes(&v[PP_PROJECTED]) && !e164(v[PP_PROJECTED].s))
        return E_BINDING_ADDRESS_INVALID;
    if (v[PP_PROXY].present && !removes(&v[PP_PROXY]) && !address_type(v[PP_PROXY].s))
        return E_PROXY_ADDRESS_INVALID;
    return 0;
}

/* ---- rules in the transaction (and on the read connection before a pre-event) ---- */

/* A RoleSid names a conversation role of this service (§2.2 rule 5); none: the service's default. */
static int take_role(struct store_conn *c, struct req *r, struct participant *p, const char *named)
{
    if (named) {
        struct role role;
        int rc = store_role_get(c, r->service_sid, named, &r->arena, &role);
        if (rc == ST_NOT_FOUND || (rc == ST_OK && role.type != ROLE_CONVERSATION))
            return E_CONVERSATION_ROLE_NOT_FOUND;
        if (rc == ST_OK) p->role_sid = arena_strndup(&r->arena, named, strlen(named));
        return rc;
    }
    struct service_config cfg;
    int rc = store_service_config_get(c, r->service_sid, &cfg);
    if (rc == ST_OK)
        p->role_sid = cfg.conversation_role_sid[0] ? arena_strndup(&r->arena, cfg.conversation_role_sid,
                                                                   strlen(cfg.conversation_role_sid))
                                                   : NULL;
    return rc;
}

/* 409/50416 names the conversation that holds the pair (§2.2 rule 3, a real message text). */
static int check_pair(struct store_conn *c, struct req *r, const struct participant *p)
{
    if (!p->address || !p->proxy_address) return 0;
    char owner[SID_LEN + 1];
    int rc = store_participant_pair_owner(c, p->account_sid, p->address, p->proxy_address, owner);
    if (rc == ST_NOT_FOUND) return 0;
    if (rc != ST_OK) return rc;
    api_failf(r, E_BINDING_IN_USE,
              "A binding for this participant and proxy address already exists in Conversation %s", owner);
    return RUNNER_ANSWERED;
}

/* Validation order (§0.5): referenced resources, the closed guard, the limits, uniqueness. bulk: a
 * participant of a ConversationWithParticipants request. */
static int create_rules(struct store_conn *c, struct req *r, struct participant *p, struct conversation *out,
                        int bulk)
{
    int guard = conversations_writable(c, r, r->parent_sid, out);
    if (guard && guard != E_CONVERSATION_CLOSED) return guard;
    int err = take_role(c, r, p, p->role_sid);
    if (!err) err = guard;
    if (!err && p->binding_type && !out->messaging_service_sid[0]) err = E_NO_MESSAGING_SERVICE;
    if (err) return err;
    long long total, non_chat, projected;
    if ((err = store_participant_counts(c, p->conversation_sid, &total, &non_chat, &projected)) != 0)
        return err;
    if (total >= PARTICIPANTS_MAX) return E_PARTICIPANTS_LIMIT;
    if (!p->identity && non_chat >= NON_CHAT_PARTICIPANTS_MAX) return E_NON_CHAT_LIMIT;
    /* an address without a proxy is a Group-MMS member: the group exists once a projected address does */
    if (p->address && !p->proxy_address && projected == 0) return E_PROXY_ADDRESS_EMPTY;
    if (p->identity) {
        /* the limit (400) before uniqueness (409): validation order, §0.5 */
        long long joined;
        err = store_participant_identity_count(c, p->service_sid, p->identity, IDENTITY_CONVERSATIONS_MAX,
                                               &joined);
        if (err) return err;
        if (joined >= IDENTITY_CONVERSATIONS_MAX) return E_USER_CONVERSATIONS_LIMIT;
        struct participant same;
        err = store_participant_get(c, p->conversation_sid, p->identity, 1, &r->arena, &same);
        if (err == ST_OK) return E_PARTICIPANT_EXISTS;
        if (err != ST_NOT_FOUND) return err;
    }
    /* inside a ConversationWithParticipants request the pairs have their own code (§8.2) */
    if (bulk && p->address && p->proxy_address) {
        char owner[SID_LEN + 1];
        err = store_participant_pair_owner(c, p->account_sid, p->address, p->proxy_address, owner);
        return err == ST_NOT_FOUND ? 0 : err == ST_OK ? E_CWP_BINDING_IN_USE : err;
    }
    return check_pair(c, r, p);
}

/* One change record per participant write, in its transaction (store/changes.h). */
int participant_change_record(struct store_conn *c, const struct participant *p, const char *kind)
{
    return store_change_record(c, p->account_sid, p->service_sid, "participant", p->sid, p->conversation_sid,
                               kind);
}

/* The user behind a chat participant, created with the service's default user role when missing (§2.2
 * rule 2; no onUserAdded). */
static int ensure_user(struct store_conn *c, struct req *r, const struct participant *p)
{
    if (!p->identity) return 0;
    struct user u = {0};
    sid_new(u.sid, "US");
    memcpy(u.account_sid, p->account_sid, sizeof(u.account_sid));
    memcpy(u.service_sid, p->service_sid, sizeof(u.service_sid));
    u.identity = p->identity;
    u.date_created = u.date_updated = p->date_created;
    int rc = store_participant_user_ensure(c, &u);
    if (rc == ST_CONFLICT) return ST_OK; /* the user exists (maybe created by another server meanwhile) */
    return rc ? rc : store_change_record(c, u.account_sid, u.service_sid, "user", u.sid, NULL, "created");
}

static int before_insert(struct store_conn *c, struct req *r, void *row, const struct param_value *v)
{
    struct participant_row *pr = row;
    struct participant *p = &pr->p;
    memcpy(p->conversation_sid, r->parent_sid, sizeof(p->conversation_sid));
    if (pr->date_created >= 0) p->date_created = pr->date_created;
    if (pr->date_updated >= 0) p->date_updated = pr->date_updated;
    struct conversation cv;
    int err = create_rules(c, r, p, &cv, 0);
    if (!err) err = ensure_user(c, r, p);
    /* a new participant is activity: the timers count from it, an inactive conversation wakes */
    if (!err) err = conversations_activity(c, r, &cv);
    return err;
}

/* The update's rules on the merged row (§2.3), read-only: they run again in the transaction. */
static int before_update(struct store_conn *c, struct req *r, void *stored, const struct param_value *v)
{
    struct participant *p = &((struct participant_row *)stored)->p;
    struct conversation cv;
    int guard = conversations_writable(c, r, p->conversation_sid, &cv);
    if (guard && guard != E_CONVERSATION_CLOSED) return guard;
    int err = v[PP_ROLE_SID].present ? take_role(c, r, p, v[PP_ROLE_SID].s) : 0;
    if (!err) err = guard;
    if (err) return err;
    if (v[PP_IDENTITY].present) {
        /* only a Group-MMS participant with a projected address and no identity takes one */
        if (p->identity || !p->projected_address || v[PP_IDENTITY].len == 0) return E_IDENTITY_ADD_FAILED;
        if (sid_valid(v[PP_IDENTITY].s, v[PP_IDENTITY].len, "US")) return E_IDENTITY_LOOKS_LIKE_SID;
        p->identity = (char *)v[PP_IDENTITY].s;
    }
    if (v[PP_PROXY].present) {
        if (removes(&v[PP_PROXY])) {
            if (!p->proxy_address) return E_PROXY_REMOVE_FAILED;
            p->proxy_address = NULL;
        } else {
            if (p->proxy_address || !p->address) return E_PROXY_ADD_FAILED;
            const char *type = address_type(v[PP_PROXY].s);
            if (strcmp(v[PP_PROXY].s, p->address) == 0) return E_ADDRESS_EQUALS_PROXY;
            if (!type || strcmp(type, p->binding_type) != 0) return E_ADDRESS_TYPE_MISMATCH;
            p->proxy_address = (char *)v[PP_PROXY].s;
            if ((err = check_pair(c, r, p)) != 0) return err;
        }
    }
    if (v[PP_PROJECTED].present) {
        if (removes(&v[PP_PROJECTED])) {
            if (!p->projected_address) return E_PROJECTED_REMOVE_FAILED;
            p->projected_address = NULL;
            if (!p->address) p->binding_type = NULL;
        } else {
            if (p->binding_type) return E_PROJECTED_ADD_FAILED;
            p->projected_address = (char *)v[PP_PROJECTED].s;
            p->binding_type = "sms";
        }
    }
    int bad;
    if (v[PP_LAST_READ_INDEX].present)
        p->last_read_message_index = participant_parse_index(v[PP_LAST_READ_INDEX].s, &bad);
    if (v[PP_LAST_READ_TIMESTAMP].present)
        p->last_read_timestamp = v[PP_LAST_READ_TIMESTAMP].len ? (char *)v[PP_LAST_READ_TIMESTAMP].s : NULL;
    long long ms;
    if (v[PP_DATE_CREATED].present && time_parse_iso(v[PP_DATE_CREATED].s, &ms) == 0) p->date_created = ms;
    if (v[PP_DATE_UPDATED].present && time_parse_iso(v[PP_DATE_UPDATED].s, &ms) == 0) p->date_updated = ms;
    return 0;
}

/* ---- events (§10.4, BEHAVIOUR.md §7) ---- */

static const char *const event_names[] = {
    [PE_ADD] = "onParticipantAdd",       [PE_ADDED] = "onParticipantAdded",
    [PE_UPDATE] = "onParticipantUpdate", [PE_UPDATED] = "onParticipantUpdated",
    [PE_REMOVE] = "onParticipantRemove", [PE_REMOVED] = "onParticipantRemoved",
};

/* MessagingBinding.Type in upper case (SMS, WHATSAPP, ...); a chat participant's is CHAT. */
static void binding_type_upper(const struct participant *p, char out[16])
{
    const char *t = p->binding_type ? p->binding_type : "chat";
    size_t i = 0;
    for (; t[i] && i < 15; i++)
        out[i] = (char)(t[i] >= 'a' && t[i] <= 'z' ? t[i] - 32 : t[i]);
    out[i] = '\0';
}

/* The form parameters of a participant event, exactly those the catalogue lists; null values omitted. */
static void event_params(struct buf *out, enum participant_event ev, const struct participant *p,
                         long long removed)
{
    char created[TIME_ISO_MS_LEN + 1], updated[TIME_ISO_MS_LEN + 1], gone[TIME_ISO_MS_LEN + 1], type[16],
        index[24];
    time_iso_ms(created, p->date_created);
    time_iso_ms(updated, p->date_updated);
    time_iso_ms(gone, removed);
    binding_type_upper(p, type);
    snprintf(index, sizeof(index), "%lld", p->last_read_message_index);
    webhook_param(out, "AccountSid", p->account_sid);
    webhook_param(out, "EventType", event_names[ev]);
    webhook_param(out, "Source", "API");
    webhook_param(out, "ChatServiceSid", p->service_sid);
    webhook_param(out, "ConversationSid", p->conversation_sid);
    if (ev != PE_ADD) {
        webhook_param(out, "ParticipantSid", p->sid);
        webhook_param(out, "DateCreated", created);
    }
    if (ev != PE_ADD && ev != PE_ADDED) webhook_param(out, "DateUpdated", updated);
    webhook_param(out, "Identity", p->identity);
    webhook_param(out, "RoleSid", p->role_sid);
    webhook_param(out, "Attributes", p->attributes);
    webhook_param(out, "MessagingBinding.ProxyAddress", p->proxy_address);
    webhook_param(out, "MessagingBinding.Address", p->address);
    webhook_param(out, "MessagingBinding.ProjectedAddress", p->projected_address);
    webhook_param(out, "MessagingBinding.Type", type);
    if (ev == PE_UPDATED && p->last_read_message_index >= 0)
        webhook_param(out, "LastReadMessageIndex", index);
    if (ev == PE_REMOVED) webhook_param(out, "DateRemoved", gone);
}

int participant_post_event(struct store_conn *c, struct req *r, enum participant_event ev,
                           const struct participant *p)
{
    if (!r->webhook_enabled) return 0;
    struct buf form;
    buf_init(&form, EVENT_PARAMS_MAX);
    event_params(&form, ev, p, time_now_ms());
    int n = form.err ? ST_ERROR
                     : conversation_event_queue(c, p->account_sid, p->service_sid, p->conversation_sid,
                                                event_names[ev], form.p ? form.p : "", NULL, &r->arena);
    buf_free(&form);
    if (n > 0) r->events_queued = 1;
    return n < 0 ? n : 0;
}

/* The pre-event hooks, if any match: veto only (§2.6, no modifiable fields). */
static int pre_hook(struct req *r, enum participant_event ev, const struct participant *p,
                    pre_event_proceed_fn proceed)
{
    struct webhook_target *t = arena_alloc(&r->arena, sizeof(*t) * WEBHOOK_MAX_TARGETS);
    int n = webhook_targets(r->db, r->account.sid, r->service_sid, event_names[ev], 1, &r->arena, t);
    if (n <= 0) return n;
    struct buf form;
    buf_init(&form, EVENT_PARAMS_MAX);
    event_params(&form, ev, p, 0);
    return pre_event_run_form(r, event_names[ev], t, n, &form, NULL, proceed);
}

static int pre_hooks_wanted(struct req *r)
{
    return r->webhook_enabled && r->app->pre_hooks_for_rest;
}

static int proceed_create(struct req *r, const char *const value[PRE_MAX_FIELDS])
{
    return runner_create_write(r);
}
static int proceed_update(struct req *r, const char *const value[PRE_MAX_FIELDS])
{
    return runner_update_write(r);
}
static int proceed_delete(struct req *r, const char *const value[PRE_MAX_FIELDS])
{
    return runner_delete_write(r);
}

/* The checks a write would make come before the hook (validation order, docs/DECISIONS.md). */
static int pre_create(struct req *r)
{
    if (!pre_hooks_wanted(r)) return 0;
    struct participant_row *pr = runner_request_row(r);
    struct participant p = pr->p;
    memcpy(p.conversation_sid, r->parent_sid, sizeof(p.conversation_sid));
    struct conversation cv;
    int err = create_rules(r->db, r, &p, &cv, 0);
    return err ? err : pre_hook(r, PE_ADD, &p, proceed_create);
}

static int pre_update(struct req *r)
{
    if (!pre_hooks_wanted(r)) return 0;
    void *row;
    int err = runner_update_proposal(r, &row);
    return err ? err : pre_hook(r, PE_UPDATE, &((struct participant_row *)row)->p, proceed_update);
}

static int get(struct store_conn *c, struct req *r, const char *key, void *out);

/* The closed guard of a delete: --closed-allows-delete lets a closed conversation's participants go
 * (BEHAVIOUR-conversations §0.4, a switch; off: 400/50377). */
static int removable(struct store_conn *c, struct req *r, const char *conversation_sid,
                     struct conversation *cv)
{
    int err = conversations_writable(c, r, conversation_sid, cv);
    return err == E_CONVERSATION_CLOSED && r->app->closed_allows_delete ? 0 : err;
}

static int pre_delete(struct req *r)
{
    if (!pre_hooks_wanted(r)) return 0;
    struct participant_row pr;
    struct conversation cv;
    int err = get(r->db, r, runner_request_key(r), &pr);
    if (!err) err = removable(r->db, r, r->parent_sid, &cv);
    return err ? err : pre_hook(r, PE_REMOVE, &pr.p, proceed_delete);
}

/* The change record is the runner's (the family's resource, its conversation as parent). */
static int post_event(struct store_conn *c, struct req *r, enum op_kind kind, const void *row)
{
    const struct participant *p = &((const struct participant_row *)row)->p;
    return participant_post_event(c, r, kind == OPK_CREATE ? PE_ADDED : PE_UPDATED, p);
}

/* ---- store calls: the key is an MB SID when it has the shape of one, else the identity ---- */

static int get(struct store_conn *c, struct req *r, const char *key, void *out)
{
    int by_identity = !sid_valid(key, strlen(key), "MB");
    return store_participant_get(c, r->parent_sid, key, by_identity, &r->arena, out);
}

static int insert(struct store_conn *c, struct req *r, void *row)
{
    return store_participant_insert(c, row);
}
static int update(struct store_conn *c, struct req *r, const void *row, const void *before)
{
    return store_participant_update(c, row, before);
}

int participant_remove(struct store_conn *c, struct req *r, const struct participant *p, int events)
{
    struct conversation cv;
    int err = removable(c, r, p->conversation_sid, &cv);
    if (!err) err = store_participant_delete(c, p->conversation_sid, p->sid);
    if (!err && events) err = participant_post_event(c, r, PE_REMOVED, p);
    return err;
}

static int del(struct store_conn *c, struct req *r, const char *key)
{
    struct participant_row pr;
    int rc = get(c, r, key, &pr);
    return rc == ST_OK ? participant_remove(c, r, &pr.p, 1) : rc;
}

RUNNER_LIST_ROW(list_row, struct participant)

static int list(struct store_conn *c, struct req *r, const struct list_filter *f, const struct page_req *p,
                void *ctx)
{
    return store_participant_list(c, r->parent_sid, p, list_row, ctx);
}

/* ---- ConversationWithParticipants (§8): the same rules for each participant of the request ---- */

/* A JSON string value of obj at key into *v (absent: not present); 1 when the value is no string. */
static int json_param(json_t *obj, const char *key, struct req *r, struct param_value *v)
{
    json_t *x = json_object_get(obj, key);
    if (!x || json_is_null(x)) return 0;
    if (!json_is_string(x)) return 1;
    v->present = 1;
    v->len = json_string_length(x);
    v->s = arena_strndup(&r->arena, json_string_value(x), v->len);
    return 0;
}

int participant_from_json(struct req *r, const char *text, size_t len, struct participant_row *pr)
{
    json_error_t jerr;
    json_t *obj = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    struct param_value v[PP__COUNT];
    memset(v, 0, sizeof(v));
    int bad = !json_is_object(obj);
    json_t *binding = bad ? NULL : json_object_get(obj, "messaging_binding");
    if (binding && !json_is_object(binding) && !json_is_null(binding)) bad = 1;
    if (!bad) {
        bad = json_param(obj, "identity", r, &v[PP_IDENTITY]) ||
              json_param(obj, "attributes", r, &v[PP_ATTRIBUTES]) ||
              json_param(obj, "role_sid", r, &v[PP_ROLE_SID]);
        if (!bad && json_is_object(binding))
            bad = json_param(binding, "address", r, &v[PP_ADDRESS]) ||
                  json_param(binding, "proxy_address", r, &v[PP_PROXY]) ||
                  json_param(binding, "projected_address", r, &v[PP_PROJECTED]);
    }
    json_decref(obj);
    if (bad) return E_CWP_PARTICIPANT_INVALID;
    /* what the parameter reader checks for the participant resource */
    for (int k = 0; k < PP__COUNT; k++) {
        const struct param_spec *sp = &params[k];
        if (!v[k].present) continue;
        if (sp->kind == PK_STRING && sp->max && utf8_len(v[k].s, v[k].len) > (size_t)sp->max)
            return sp->too_long;
        if (sp->kind == PK_SID && !sid_valid(v[k].s, v[k].len, sp->choices)) return E_INVALID_SID;
        if (sp->kind == PK_JSON && attrs_validate(v[k].s, v[k].len, 0) != ATTRS_OK) return E_ATTRS_INVALID;
    }
    memset(pr, 0, sizeof(*pr));
    snprintf(pr->p.account_sid, sizeof(pr->p.account_sid), "%s", r->account.sid);
    snprintf(pr->p.service_sid, sizeof(pr->p.service_sid), "%s", r->service_sid);
    sid_new(pr->p.sid, "MB");
    pr->p.attributes = v[PP_ATTRIBUTES].present ? (char *)v[PP_ATTRIBUTES].s : NULL;
    return check_create(r, pr, v);
}

int participant_add_bulk(struct store_conn *c, struct req *r, struct participant_row *pr, long long now)
{
    struct participant *p = &pr->p;
    struct conversation cv;
    memcpy(p->conversation_sid, r->parent_sid, sizeof(p->conversation_sid));
    p->date_created = p->date_updated = now;
    int err = create_rules(c, r, p, &cv, 1);
    if (!err) err = ensure_user(c, r, p);
    if (!err) err = store_participant_insert(c, p);
    if (err == ST_CONFLICT) err = E_PARTICIPANT_EXISTS;
    if (!err) err = participant_change_record(c, p, "created");
    if (!err) err = participant_post_event(c, r, PE_ADDED, p);
    return err;
}

const struct family participants_family = {
    .segment = "Participants",
    .prefix = "MB",
    .resource = "participant",
    .alt_key = 1,
    .parent = PARENT_TWIN,
    .parent_segment = "Conversations",
    .resolve_parent = conversations_resolve_parent,
    .parent_off = PR(p.conversation_sid),
    .create_checks_parent = 1, /* create_rules' closed guard answers 20404 */
    FAMILY_MODEL_IN(struct participant_row, p, id),
    FAMILY_FIELDS(fields),
    FAMILY_PARAMS(params),
    FAMILY_CRUD(CONVERSATION_PARTICIPANT),
    FAMILY_ALL_HOOKS,
    .conflict = E_PARTICIPANT_EXISTS,
};
