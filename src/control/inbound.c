/* POST /parley/inbound: an inbound SMS or WhatsApp message from an address to a proxy address, processed
 * as Twilio processes one (BEHAVIOUR-conversations §2.1, §9.1): into the open conversation of the account
 * that binds the (address, proxy address) pair, reviving it when inactive; else, when the proxy address
 * has an Address Configuration of that channel with auto-creation enabled, into a new conversation of
 * the configuration's service (or the default one) with the sender as its participant; else 404 /
 * E_INBOUND_NO_ROUTE. All of it in one write transaction. Its events are not REST actions: they fire
 * whatever X-Twilio-Webhook-Enabled says, with Source SMS or WHATSAPP (§0.6, §10.2); before the write,
 * the pre-events onConversationAdd (an auto-creation) and onMessageAdd may veto or modify it (§10.1).
 * Behind the account's credentials, like every /parley endpoint. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/fail.h"
#include "api/messages.h"
#include "api/params.h"
#include "api/participants.h"
#include "api/pre_event.h"
#include "api/runner.h"
#include "control/control.h"
#include "store/account_store.h"
#include "store/address_configs.h"
#include "store/changes.h"
#include "store/conversations.h"
#include "store/participants.h"
#include "store/scoped_webhooks.h"
#include "util/buf.h"
#include "util/sid.h"
#include "util/text.h"
#include "util/timefmt.h"
#include "webhook/events.h"
#include "webhook/scoped.h"
#include "json/jw.h"

#define INBOUND_BODY_MAX (32 * 1024) /* bytes: the inbound limit on every channel (§0.3) */
#define ADDRESS_MAX 256              /* characters of an address or proxy address (§0.3) */
#define WHATSAPP_PREFIX "whatsapp:"
#define EVENT_PARAMS_MAX (64 * 1024) /* a conversation's or participant's event: no body in it */
#define PRE_PARAMS_MAX (256 * 1024)  /* a pre-event with the body: 32 KB percent-encoded three times over */
#define FRIENDLY_NAME_MAX 256        /* characters: a conversation's friendly_name ([DOC:limits]) */

enum { IN_FROM, IN_TO, IN_BODY, IN_MEDIA, IN_CHANNEL, IN__COUNT };

static const struct param_spec in_params[IN__COUNT] = {
    [IN_FROM] = {"From", PK_STRING, P_REQUIRED, 0, 0, 0, NULL, 0},
    [IN_TO] = {"To", PK_STRING, P_REQUIRED, 0, 0, 0, NULL, 0},
    [IN_BODY] = {"Body", PK_STRING, 0, 0, 0, 0, NULL, 0},
    [IN_MEDIA] = {"MediaSid", PK_STRING, 0, 0, 0, 0, NULL, 0},
    [IN_CHANNEL] = {"Channel", PK_ENUM, P_ANY_CASE, 0, 0, 0, "sms|whatsapp", 0},
};

/* What the request asked for, checked on the request thread. */
struct inbound {
    char channel[16]; /* "sms" | "whatsapp": the binding type */
    const char *source;
    const char *from, *to; /* the sender's address and the proxy address, with their channel prefix */
    const char *body;      /* NULL: media only */
    const char *media_sid;
};

/* E.164: '+', a first digit 1-9, 2 to 15 digits in all (the participants' rule) */
static int e164(const char *s)
{
    if (s[0] != '+' || s[1] < '1' || s[1] > '9') return 0;
    size_t n = strlen(s + 1);
    return n >= 2 && n <= 15 && strspn(s + 1, "0123456789") == n;
}

/* The channel of an address: "whatsapp" for whatsapp:+E164, "sms" for +E164; NULL for anything else. */
static const char *address_channel(const char *s)
{
    if (strncmp(s, WHATSAPP_PREFIX, strlen(WHATSAPP_PREFIX)) == 0)
        return e164(s + strlen(WHATSAPP_PREFIX)) ? "whatsapp" : NULL;
    return e164(s) ? "sms" : NULL;
}

/* Under an explicit Channel=whatsapp a bare number is the WhatsApp address of that number. */
static const char *with_channel(struct req *r, const char *channel, const char *s)
{
    if (strcmp(channel, "whatsapp") != 0 || !e164(s)) return s;
    const char *parts[] = {WHATSAPP_PREFIX, s};
    size_t n = strlen(WHATSAPP_PREFIX) + strlen(s) + 1;
    char *out = arena_alloc(&r->arena, n);
    text_join(out, n, parts, 2);
    return out;
}

/* The request's rules in the order of §0.5, the participants' address codes (§2.2 rule 3). 0, or -1 with
 * the error answered. */
static int read_request(struct req *r, struct inbound *in)
{
    struct param_value v[IN__COUNT];
    if (params_read(r, &r->body, in_params, IN__COUNT, v) != 0) return -1;
    const char *channel = v[IN_CHANNEL].present ? v[IN_CHANNEL].s
                          : strncmp(v[IN_FROM].s, WHATSAPP_PREFIX, strlen(WHATSAPP_PREFIX)) == 0 ? "whatsapp"
                                                                                                 : "sms";
    snprintf(in->channel, sizeof(in->channel), "%s", channel);
    for (char *p = in->channel; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    in->source = strcmp(in->channel, "whatsapp") == 0 ? "WHATSAPP" : "SMS";
    in->from = v[IN_CHANNEL].present ? with_channel(r, in->channel, v[IN_FROM].s) : v[IN_FROM].s;
    in->to = v[IN_CHANNEL].present ? with_channel(r, in->channel, v[IN_TO].s) : v[IN_TO].s;
    const char *from_channel = address_channel(in->from), *to_channel = address_channel(in->to);
    if (!from_channel || strlen(in->from) > ADDRESS_MAX || strcmp(from_channel, in->channel) != 0)
        return api_failf(r, E_BINDING_ADDRESS_INVALID,
                         "Invalid messaging binding address: From is not an %s address", in->channel);
    if (!to_channel || strlen(in->to) > ADDRESS_MAX) return api_fail(r, E_PROXY_ADDRESS_INVALID);
    if (strcmp(to_channel, in->channel) != 0) return api_fail(r, E_ADDRESS_TYPE_MISMATCH);
    if (strcmp(in->from, in->to) == 0) return api_fail(r, E_ADDRESS_EQUALS_PROXY);
    in->body = v[IN_BODY].present ? v[IN_BODY].s : NULL;
    in->media_sid = v[IN_MEDIA].present && v[IN_MEDIA].len ? v[IN_MEDIA].s : NULL;
    if (in->media_sid && !sid_valid(in->media_sid, v[IN_MEDIA].len, "ME"))
        return api_fail(r, E_MEDIA_SID_INVALID);
    if (!in->media_sid && (!in->body || !*in->body)) return api_fail(r, E_BODY_NOT_PROVIDED);
    if (in->body && v[IN_BODY].len > INBOUND_BODY_MAX) return api_fail(r, E_BODY_TOO_LONG);
    return 0;
}

/* ---- the events of an auto-created conversation (§10.4), Source the channel, null values omitted ---- */

static int queue(struct store_conn *c, struct req *r, const struct conversation *cv, const char *event,
                 struct buf *p)
{
    int n = p->err ? ST_ERROR
                   : conversation_event_queue(c, cv->account_sid, cv->service_sid, cv->sid, event,
                                              p->p ? p->p : "", NULL, &r->arena);
    buf_free(p);
    if (n > 0) r->events_queued = 1;
    return n < 0 ? n : 0;
}

static int conversation_added(struct store_conn *c, struct req *r, const struct inbound *in,
                              const struct conversation *cv)
{
    char created[TIME_ISO_MS_LEN + 1], updated[TIME_ISO_MS_LEN + 1];
    time_iso_ms(created, cv->date_created);
    time_iso_ms(updated, cv->date_updated);
    struct buf p;
    buf_init(&p, EVENT_PARAMS_MAX);
    webhook_param(&p, "AccountSid", cv->account_sid);
    webhook_param(&p, "EventType", "onConversationAdded");
    webhook_param(&p, "Source", in->source);
    webhook_param(&p, "ChatServiceSid", cv->service_sid);
    webhook_param(&p, "ConversationSid", cv->sid);
    webhook_param(&p, "DateCreated", created);
    webhook_param(&p, "DateUpdated", updated);
    webhook_param(&p, "FriendlyName", cv->friendly_name);
    webhook_param(&p, "UniqueName", cv->unique_name);
    webhook_param(&p, "Attributes", cv->attributes);
    webhook_param(&p, "MessagingServiceSid", cv->messaging_service_sid[0] ? cv->messaging_service_sid : NULL);
    webhook_param(&p, "MessagingBinding.ProxyAddress", in->to);
    webhook_param(&p, "MessagingBinding.Address", in->from);
    webhook_param(&p, "State", cv->state);
    return queue(c, r, cv, "onConversationAdded", &p);
}

static int participant_added(struct store_conn *c, struct req *r, const struct inbound *in,
                             const struct conversation *cv, const struct participant *pt)
{
    char created[TIME_ISO_MS_LEN + 1];
    time_iso_ms(created, pt->date_created);
    struct buf p;
    buf_init(&p, EVENT_PARAMS_MAX);
    webhook_param(&p, "AccountSid", pt->account_sid);
    webhook_param(&p, "EventType", "onParticipantAdded");
    webhook_param(&p, "Source", in->source);
    webhook_param(&p, "ChatServiceSid", pt->service_sid);
    webhook_param(&p, "ConversationSid", pt->conversation_sid);
    webhook_param(&p, "ParticipantSid", pt->sid);
    webhook_param(&p, "DateCreated", created);
    webhook_param(&p, "RoleSid", pt->role_sid);
    webhook_param(&p, "Attributes", pt->attributes);
    webhook_param(&p, "MessagingBinding.ProxyAddress", pt->proxy_address);
    webhook_param(&p, "MessagingBinding.Address", pt->address);
    webhook_param(&p, "MessagingBinding.Type", in->source); /* SMS, WHATSAPP: the type upper-case */
    return queue(c, r, cv, "onParticipantAdded", &p);
}

/* ---- the write ---- */

struct inbound_job {
    struct inbound in;
    struct conversation cv;
    struct participant pt;
    struct message_row mr;
    int created; /* the conversation was auto-created */
    /* what the pre-event hooks answered (docs/DECISIONS.md "Inbound pre-events"): the message's body,
     * author and attributes (author NULL: the sender's address; attributes NULL: "{}"), the new
     * conversation's friendly_name, and the SIDs an auto-creation was shown ("" when none was) */
    const char *body, *author, *attributes, *friendly_name;
    char planned_cv[SID_LEN + 1], planned_pt[SID_LEN + 1];
    /* onMessageAdd's targets and parameters, read before the first hook is called */
    struct webhook_target *msg_targets;
    int msg_n;
    const char *msg_params;
};

/* A new conversation with the sender as its SMS/WhatsApp participant, by the configuration ac (§9.1). */
/* The configuration's own target (§9.1): AutoCreation.Type webhook or studio gives the new conversation a
 * scoped webhook of that target, which then receives its events like one made through the REST API;
 * default gives none. */
static int attach_target(struct store_conn *c, const struct conversation *cv, const struct address_config *ac)
{
    int studio = ac->auto_type && strcmp(ac->auto_type, "studio") == 0;
    int webhook = ac->auto_type && strcmp(ac->auto_type, "webhook") == 0 && ac->webhook_url;
    if (!studio && !webhook) return ST_OK;
    struct scoped_webhook w;
    memset(&w, 0, sizeof(w));
    sid_new(w.sid, "WH");
    memcpy(w.account_sid, cv->account_sid, sizeof(w.account_sid));
    memcpy(w.service_sid, cv->service_sid, sizeof(w.service_sid));
    memcpy(w.conversation_sid, cv->sid, sizeof(w.conversation_sid));
    w.target = studio ? "studio" : "webhook";
    if (webhook) {
        w.url = ac->webhook_url;
        w.method = ac->webhook_method && strcasecmp(ac->webhook_method, "GET") == 0 ? "get" : "post";
    }
    w.filters = webhook && ac->webhook_filters ? ac->webhook_filters : "[]";
    w.triggers = "[]";
    w.flow_sid = studio ? ac->studio_flow_sid : NULL;
    w.replay_after = -1;
    w.date_created = w.date_updated = cv->date_created;
    int rc = store_scoped_webhook_insert(c, &w);
    if (rc == ST_OK)
        rc = store_change_record(c, cv->account_sid, cv->service_sid, "conversation_webhook", w.sid, cv->sid,
                                 "created");
    return rc;
}

static int auto_create(struct store_conn *c, struct req *r, struct inbound_job *j,
                       const struct address_config *ac)
{
    long long now = time_now_ms();
    struct conversation *cv = &j->cv;
    memset(cv, 0, sizeof(*cv));
    /* the SID the pre-events named, if they ran */
    if (j->planned_cv[0])
        memcpy(cv->sid, j->planned_cv, sizeof(cv->sid));
    else
        sid_new(cv->sid, "CH");
    cv->friendly_name = (char *)j->friendly_name;
    memcpy(cv->account_sid, r->account.sid, sizeof(cv->account_sid));
    const char *service = ac->service_sid ? ac->service_sid : r->account.default_service_sid;
    snprintf(cv->service_sid, sizeof(cv->service_sid), "%s", service ? service : "");
    cv->date_created = cv->date_updated = now;
    int rc = conversations_insert_plain(c, r, cv);
    if (rc == ST_IN_USE) rc = E_NOT_FOUND; /* the configuration's service is being deleted */
    if (rc == ST_OK) rc = attach_target(c, cv, ac);
    if (rc == ST_OK) rc = conversation_added(c, r, &j->in, cv);
    if (rc != ST_OK) return rc;

    struct participant *pt = &j->pt;
    memset(pt, 0, sizeof(*pt));
    if (j->planned_pt[0])
        memcpy(pt->sid, j->planned_pt, sizeof(pt->sid));
    else
        sid_new(pt->sid, "MB");
    memcpy(pt->account_sid, cv->account_sid, sizeof(pt->account_sid));
    memcpy(pt->service_sid, cv->service_sid, sizeof(pt->service_sid));
    memcpy(pt->conversation_sid, cv->sid, sizeof(pt->conversation_sid));
    struct service_config cfg;
    if ((rc = store_service_config_get(c, cv->service_sid, &cfg)) != ST_OK) return rc;
    /* the role a REST-created participant gets (§2.2 rule 5, recommended for every participant) */
    pt->role_sid = cfg.conversation_role_sid[0] ? arena_strndup(&r->arena, cfg.conversation_role_sid,
                                                                strlen(cfg.conversation_role_sid))
                                                : NULL;
    pt->attributes = "{}";
    pt->binding_type = j->in.channel;
    pt->address = (char *)j->in.from;
    pt->proxy_address = (char *)j->in.to;
    pt->last_read_message_index = -1;
    pt->notification_level = "default";
    pt->date_created = pt->date_updated = now;
    rc = store_participant_insert(c, pt);
    if (rc == ST_OK) rc = participant_change_record(c, pt, "created");
    if (rc == ST_OK) rc = participant_added(c, r, &j->in, cv, pt);
    j->created = 1;
    return rc;
}

/* The conversation the message goes to, into j->cv: the pair's, else an auto-created one. */
static int route(struct store_conn *c, struct req *r, struct inbound_job *j)
{
    char owner[SID_LEN + 1];
    int rc = store_participant_pair_owner(c, r->account.sid, j->in.from, j->in.to, owner);
    if (rc == ST_OK) return store_conversation_get_by_sid(c, owner, &r->arena, &j->cv);
    if (rc != ST_NOT_FOUND) return rc;
    struct address_config ac;
    rc = store_address_config_find(c, r->account.sid, j->in.to, j->in.channel, &r->arena, &ac);
    if (rc == ST_OK && ac.auto_enabled) return auto_create(c, r, j, &ac);
    if (rc != ST_OK && rc != ST_NOT_FOUND) return rc;
    api_failf(r, E_INBOUND_NO_ROUTE,
              "No open conversation binds %s to %s, and no %s Address Configuration of %s auto-creates one",
              j->in.from, j->in.to, j->in.channel, j->in.to);
    return RUNNER_ANSWERED;
}

static void render(struct req *r, const struct inbound_job *j)
{
    const struct message *m = &j->mr.m;
    const char *parts[] = {r->app->public_url,  "/v1/Services/", m->service_sid, "/Conversations/",
                           m->conversation_sid, "/Messages/",    m->sid};
    char url[512];
    text_join(url, sizeof(url), parts, 7);
    struct jw w;
    api_json_begin(r, &w, 201);
    jw_obj_begin(&w);
    jw_kstr(&w, "account_sid", m->account_sid);
    jw_kstr(&w, "chat_service_sid", m->service_sid);
    jw_kstr(&w, "conversation_sid", m->conversation_sid);
    jw_kstr(&w, "message_sid", m->sid);
    jw_kint(&w, "index", m->index);
    jw_kstr(&w, "author", m->author);
    jw_kstr(&w, "participant_sid", m->participant_sid);
    jw_kstr(&w, "body", m->body);
    jw_kstr(&w, "media_sid", m->media_sid);
    jw_kstr(&w, "channel", j->in.channel);
    jw_kstr(&w, "source", m->source);
    jw_kbool(&w, "conversation_created", j->created);
    jw_kstr(&w, "url", url);
    jw_obj_end(&w);
}

static int apply_inbound(struct store_conn *c, struct req *r)
{
    struct inbound_job *j = r->ctx;
    int err = route(c, r, j);
    if (err == ST_NOT_FOUND) err = E_NOT_FOUND;
    if (!err) {
        /* message_post reads the conversation through the request's service and parent */
        r->service_sid = j->cv.service_sid;
        memcpy(r->parent_sid, j->cv.sid, sizeof(r->parent_sid));
        struct message *m = &j->mr.m;
        memset(&j->mr, 0, sizeof(j->mr));
        j->mr.date_created = j->mr.date_updated = -1;
        memcpy(m->account_sid, j->cv.account_sid, sizeof(m->account_sid));
        memcpy(m->service_sid, j->cv.service_sid, sizeof(m->service_sid));
        m->author = (char *)(j->author ? j->author : j->in.from);
        m->body = (char *)j->body;
        m->attributes = (char *)j->attributes;
        m->media_sid = (char *)j->in.media_sid;
        m->source = (char *)j->in.source;
        err = message_post(c, r, &j->mr);
    }
    if (err == RUNNER_ANSWERED) return -1;
    if (err) return api_fail(r, err);
    render(r, j);
    return 0;
}

/* ---- pre-events (docs/DECISIONS.md "Inbound pre-events"): an inbound message asks the account's and
 * the service's pre-event targets as an SDK action does, whatever --rest-pre-webhooks says: first
 * onConversationAdd when it auto-creates a conversation (friendly_name modifiable), then onMessageAdd
 * (body, author, attributes modifiable). A veto or a modified value that breaks a rule stores nothing:
 * no conversation, participant, message or post-event. Everything the hooks are shown is read here, on
 * the request thread, before the first one is called; the write routes again and applies the answers. */

/* The route as a read: the pair's conversation into j->cv, or an auto-creation's service into
 * *service (the SIDs it will take planned in j). 1 for a route, 0 for none (the write answers it). */
static int plan_route(struct req *r, struct inbound_job *j, const char **service)
{
    char owner[SID_LEN + 1];
    int rc = store_participant_pair_owner(r->db, r->account.sid, j->in.from, j->in.to, owner);
    if (rc == ST_OK) {
        if ((rc = store_conversation_get_by_sid(r->db, owner, &r->arena, &j->cv)) != ST_OK)
            return rc == ST_NOT_FOUND ? 0 : rc;
        *service = j->cv.service_sid;
        return 1;
    }
    if (rc != ST_NOT_FOUND) return rc;
    struct address_config ac;
    rc = store_address_config_find(r->db, r->account.sid, j->in.to, j->in.channel, &r->arena, &ac);
    if (rc == ST_NOT_FOUND || (rc == ST_OK && !ac.auto_enabled)) return 0;
    if (rc != ST_OK) return rc;
    *service = ac.service_sid ? ac.service_sid : r->account.default_service_sid;
    sid_new(j->planned_cv, "CH");
    sid_new(j->planned_pt, "MB");
    return 1;
}

/* The message as the hooks see it, into j->mr: its media's metadata (registered or synthesized) and the
 * sender's participant. 1 when the hooks may be asked, 0 when the write will refuse the message anyway
 * (a media SID unknown in strict mode or already sent: its answer comes from the write, hooks last). */
static int plan_message(struct req *r, struct inbound_job *j, const char *service)
{
    struct message *m = &j->mr.m;
    memset(&j->mr, 0, sizeof(j->mr));
    memcpy(m->account_sid, r->account.sid, sizeof(m->account_sid));
    snprintf(m->service_sid, sizeof(m->service_sid), "%s", service ? service : "");
    memcpy(m->conversation_sid, j->planned_cv[0] ? j->planned_cv : j->cv.sid, sizeof(m->conversation_sid));
    m->author = (char *)j->in.from;
    m->body = (char *)j->in.body;
    m->attributes = "{}";
    m->source = (char *)j->in.source;
    if (j->planned_pt[0]) {
        m->participant_sid = j->planned_pt;
    } else {
        int rc = message_author_participant(r->db, r, m);
        if (rc < 0) return rc;
        if (rc > 0) return 0; /* refused: the write answers it */
    }
    if (!j->in.media_sid) return 1;
    m->media_sid = (char *)j->in.media_sid;
    struct media_meta meta;
    int rc = store_media_get(r->db, r->account.sid, m->media_sid, &r->arena, &meta);
    if (rc == ST_OK) {
        m->media_content_type = meta.content_type;
        m->media_filename = meta.filename;
        m->media_size = meta.size;
    } else if (rc == ST_NOT_FOUND) {
        if (r->app->media_strict) return 0;
        m->media_content_type = "application/octet-stream";
    } else {
        return rc;
    }
    int used;
    if ((rc = store_message_media_used(r->db, r->account.sid, m->media_sid, &used)) != ST_OK) return rc;
    return !used;
}

/* onConversationAdd of an auto-creation (§10.4): no ConversationSid yet; the binding, the first message's
 * body and media; what the new conversation will be (attributes "{}", the account's default messaging
 * service, active). */
static const char *conversation_add_params(struct req *r, const struct inbound_job *j)
{
    const struct message *m = &j->mr.m;
    const char *mg = r->account.default_messaging_service_sid;
    struct buf p;
    buf_init(&p, PRE_PARAMS_MAX);
    webhook_param(&p, "AccountSid", r->account.sid);
    webhook_param(&p, "EventType", "onConversationAdd");
    webhook_param(&p, "Source", j->in.source);
    webhook_param(&p, "ChatServiceSid", m->service_sid);
    webhook_param(&p, "Attributes", "{}");
    webhook_param(&p, "MessagingServiceSid", mg && sid_valid(mg, strlen(mg), "MG") ? mg : NULL);
    webhook_param(&p, "MessagingBinding.ProxyAddress", j->in.to);
    webhook_param(&p, "MessagingBinding.Address", j->in.from);
    webhook_param(&p, "MessageBody", j->in.body);
    message_media_param(&p, m, r->app);
    webhook_param(&p, "State", CONV_ACTIVE);
    const char *out = p.err ? NULL : arena_strndup(&r->arena, p.p ? p.p : "", p.len);
    buf_free(&p);
    return out;
}

static const struct pre_event_fields conversation_fields = {{"friendly_name"}, 1};
static const struct pre_event_fields message_fields = {{"body", "author", "attributes"}, 3};

/* Continuations, on the webhook thread once every target allowed the change: they return 0 when they
 * answered (a modified value broke a rule), 1 when the request goes on (the next hook or the write). */
static int proceed_message(struct req *r, const char *const value[PRE_MAX_FIELDS])
{
    struct inbound_job *j = r->ctx;
    int err = message_check_modified(value[0], value[1], value[2]);
    if (err) {
        api_fail(r, err);
        return 0;
    }
    if (value[0]) j->body = value[0];
    if (value[1]) j->author = value[1]; /* "" becomes "system", as for a REST create */
    if (value[2]) j->attributes = value[2];
    return api_write(r, apply_inbound, j);
}

static int proceed_conversation(struct req *r, const char *const value[PRE_MAX_FIELDS])
{
    struct inbound_job *j = r->ctx;
    if (value[0] && utf8_len(value[0], strlen(value[0])) > FRIENDLY_NAME_MAX) {
        api_fail(r, E_FRIENDLY_NAME_TOO_LONG); /* the REST create's answer for a FriendlyName too long */
        return 0;
    }
    if (value[0]) j->friendly_name = value[0];
    if (j->msg_n > 0)
        return pre_event_run(r, "onMessageAdd", j->msg_targets, j->msg_n, j->msg_params, &message_fields,
                             proceed_message);
    return api_write(r, apply_inbound, j);
}

/* 0: no hook to ask, write now; RUNNER_SUSPENDED: the hooks run; or a failure value. */
static int pre_events(struct req *r, struct inbound_job *j)
{
    const char *service = NULL;
    int rc = plan_route(r, j, &service);
    if (rc > 0) rc = plan_message(r, j, service);
    if (rc <= 0) {
        j->planned_cv[0] = j->planned_pt[0] = '\0';
        return rc;
    }
    struct webhook_target *conv_t = NULL;
    int conv_n = 0;
    if (j->planned_cv[0]) {
        conv_t = arena_alloc(&r->arena, sizeof(*conv_t) * WEBHOOK_MAX_TARGETS);
        if ((conv_n = webhook_targets(r->db, r->account.sid, service, "onConversationAdd", 1, &r->arena,
                                      conv_t)) < 0)
            return conv_n;
    }
    j->msg_targets = arena_alloc(&r->arena, sizeof(*j->msg_targets) * WEBHOOK_MAX_TARGETS);
    if ((j->msg_n = webhook_targets(r->db, r->account.sid, service, "onMessageAdd", 1, &r->arena,
                                    j->msg_targets)) < 0)
        return j->msg_n;
    if (j->msg_n > 0) {
        struct buf p;
        buf_init(&p, PRE_PARAMS_MAX);
        rc = message_add_params(&p, &j->mr, r->app);
        j->msg_params = rc ? NULL : arena_strndup(&r->arena, p.p ? p.p : "", p.len);
        buf_free(&p);
        if (rc) return rc;
    }
    if (conv_n > 0) {
        const char *params = conversation_add_params(r, j);
        if (!params) return ST_ERROR;
        pre_event_run(r, "onConversationAdd", conv_t, conv_n, params, &conversation_fields,
                      proceed_conversation);
        return RUNNER_SUSPENDED;
    }
    if (j->msg_n > 0) {
        pre_event_run(r, "onMessageAdd", j->msg_targets, j->msg_n, j->msg_params, &message_fields,
                      proceed_message);
        return RUNNER_SUSPENDED;
    }
    /* no hook: the SIDs are the write's own, as without pre-events */
    j->planned_cv[0] = j->planned_pt[0] = '\0';
    return 0;
}

int inbound_post(struct req *r)
{
    struct inbound_job *j = arena_alloc(&r->arena, sizeof(*j));
    memset(j, 0, sizeof(*j));
    if (read_request(r, &j->in) != 0) return 0;
    j->body = j->in.body;
    r->webhook_enabled = 1; /* not a REST action: its events always fire (§0.6) */
    r->event_source = j->in.source;
    r->ctx = j; /* the pre-events' continuations find the job there */
    int rc = pre_events(r, j);
    if (rc == RUNNER_SUSPENDED) return 1;
    if (rc != 0) {
        api_fail(r, rc);
        return 0;
    }
    return api_write(r, apply_inbound, j);
}
