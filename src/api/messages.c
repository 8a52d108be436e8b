/* Messages: /v1/Conversations/{ConversationSid}/Messages[/{Sid}] and the service twin
 * (BEHAVIOUR-conversations §3), a family run by api/runner.c, nested under its conversation. The index
 * comes from the conversation's counter in the insert's transaction; the list pages by index in either
 * order; a message is the conversation's activity (it revives an inactive one and restarts its timers),
 * and it gets one delivery receipt per non-chat recipient (§4.1). Its hooks: the parameter rules on the
 * request thread; the media, the closed guard, the author's participant and the index in the write
 * transaction; the onMessage* pre-events and post-events. */
#include "api/messages.h"

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/app.h"
#include "api/fail.h"
#include "api/families.h"
#include "api/pre_event.h"
#include "store/changes.h"
#include "store/conversations.h"
#include "util/sid.h"
#include "util/text.h"
#include "util/timefmt.h"
#include "webhook/events.h"
#include "webhook/scoped.h"
#include "json/attrs.h"
#include "json/jw.h"

#define BODY_MAX (32 * 1024)           /* bytes (§0.3): the chat limit, on every channel */
#define SMS_BODY_MAX 1600              /* characters (§0.3): over SMS and WhatsApp, with --strict-sms-body */
#define AUTHOR_MAX 256                 /* characters (§0.3, recommended) */
#define SUBJECT_MAX 256                /* characters [SPEC] */
#define MESSAGE_ATTRS_MAX 4096         /* bytes (§0.3) */
#define CONTENT_VARIABLES_MAX 27801    /* characters in all (§0.3) */
#define CONTENT_VARIABLE_COUNT_MAX 100 /* variables */
#define CONTENT_KEY_MAX 16             /* characters per key */
#define CONTENT_VALUE_MAX 256          /* characters per value */
#define RECIPIENTS_MAX 50              /* the non-chat participants a conversation may have (§0.3) */
#define EVENT_PARAMS_MAX (256 * 1024)  /* a 32 KB body percent-encoded three times over, with room */
#define MEDIA_JSON_MAX 2048            /* the Media event parameter: one media object */
#define MR(m) offsetof(struct message_row, m)

enum {
    MP_AUTHOR,
    MP_BODY,
    MP_DATE_CREATED,
    MP_DATE_UPDATED,
    MP_ATTRIBUTES,
    MP_MEDIA_SID,
    MP_CONTENT_SID,
    MP_CONTENT_VARIABLES,
    MP_SUBJECT,
    MP__COUNT
};

static const struct param_spec params[MP__COUNT] = {
    [MP_AUTHOR] = {"Author", PK_STRING, 0, 0, AUTHOR_MAX, E_AUTHOR_TOO_LONG, NULL, MR(m.author)},
    [MP_BODY] = {"Body", PK_STRING, 0, 0, 0, 0, NULL, MR(m.body)},
    [MP_DATE_CREATED] = {"DateCreated", PK_STRING, P_NO_SLOT, 0, 0, 0, NULL, 0},
    [MP_DATE_UPDATED] = {"DateUpdated", PK_STRING, P_NO_SLOT, 0, 0, 0, NULL, 0},
    [MP_ATTRIBUTES] = {"Attributes", PK_JSON, 0, 0, 0, 0, NULL, MR(m.attributes)},
    [MP_MEDIA_SID] = {"MediaSid", PK_STRING, P_NO_SLOT | P_CREATE_ONLY, 0, 0, 0, NULL, 0},
    [MP_CONTENT_SID] = {"ContentSid", PK_STRING, P_NO_SLOT | P_CREATE_ONLY, 0, 0, 0, NULL, 0},
    [MP_CONTENT_VARIABLES] = {"ContentVariables", PK_STRING, P_NO_SLOT | P_CREATE_ONLY, 0, 0, 0, NULL, 0},
    [MP_SUBJECT] = {"Subject", PK_STRING, 0, 0, SUBJECT_MAX, E_INVALID_PARAM, NULL, MR(m.subject)},
};

enum { ML_ORDER, ML__COUNT };

static const struct param_spec list_params[ML__COUNT] = {
    [ML_ORDER] = {"Order", PK_STRING, 0, 0, 0, 0, NULL, 0},
};

/* ---- rendering ---- */

/* null, or the one media object (§3.4): registered metadata, else the synthesized entry. */
static void render_media(struct jw *w, const void *row, struct req *r)
{
    const struct message *m = row;
    if (!m->media_sid) {
        jw_null(w);
        return;
    }
    jw_arr_begin(w);
    jw_obj_begin(w);
    jw_kstr(w, "sid", m->media_sid);
    jw_kint(w, "size", m->media_size);
    jw_kstr(w, "content_type", m->media_content_type);
    jw_kstr(w, "filename", m->media_filename);
    jw_obj_end(w);
    jw_arr_end(w);
}

/* "all", "some" or "none" of total */
static const char *share(long long n, long long total)
{
    return n == 0 ? "none" : n >= total ? "all" : "some";
}

/* null without non-chat recipients; else each status as all/some/none of them, a later status counting
 * for the earlier ones (read is also delivered and sent: §3.6) */
static void render_delivery(struct jw *w, const void *row, struct req *r)
{
    const long long *d = ((const struct message *)row)->delivery;
    long long total = 0;
    for (int i = 0; i < RS__COUNT; i++)
        total += d[i];
    if (total <= 0) {
        jw_null(w);
        return;
    }
    jw_obj_begin(w);
    jw_kint(w, "total", total);
    jw_kstr(w, "sent", share(d[RS_SENT] + d[RS_DELIVERED] + d[RS_READ], total));
    jw_kstr(w, "delivered", share(d[RS_DELIVERED] + d[RS_READ], total));
    jw_kstr(w, "read", share(d[RS_READ], total));
    jw_kstr(w, "failed", share(d[RS_FAILED], total));
    jw_kstr(w, "undelivered", share(d[RS_UNDELIVERED], total));
    jw_obj_end(w);
}

/* links.channel_metadata names a path the v1 API does not serve (§3.4): rendered, and 404 when asked */
static void render_links(struct jw *w, const void *row, struct req *r)
{
    jw_obj_begin(w);
    runner_link(w, r, &messages_family, row, "delivery_receipts", "/Receipts");
    runner_link(w, r, &messages_family, row, "channel_metadata", "/ChannelMetadata");
    jw_obj_end(w);
}

/* The two families order url and delivery differently [SPEC]: each is listed where its family has it. */
static const struct field fields[] = {
    {"account_sid", FK_CHARS, MR(m.account_sid), NULL},
    {"chat_service_sid", FK_SVC_CHARS, MR(m.service_sid), NULL},
    {"conversation_sid", FK_CHARS, MR(m.conversation_sid), NULL},
    {"sid", FK_CHARS, MR(m.sid), NULL},
    {"index", FK_I64, MR(m.index), NULL},
    {"author", FK_STR, MR(m.author), NULL},
    {"body", FK_STR, MR(m.body), NULL},
    {"media", FK_FN, 0, render_media},
    {"attributes", FK_STR, MR(m.attributes), NULL},
    {"participant_sid", FK_STR, MR(m.participant_sid), NULL},
    {"date_created", FK_DATE, MR(m.date_created), NULL},
    {"date_updated", FK_DATE, MR(m.date_updated), NULL},
    {"url", FK_SHORT_URL, 0, NULL},
    {"delivery", FK_FN, 0, render_delivery},
    {"url", FK_SVC_URL, 0, NULL},
    {"links", FK_FN, 0, render_links},
    {"content_sid", FK_STR, MR(m.content_sid), NULL},
};

/* ---- rules on the request thread ---- */

static int check_dates(struct message_row *mr, const struct param_value *v)
{
    if (v[MP_DATE_CREATED].present && time_parse_iso(v[MP_DATE_CREATED].s, &mr->date_created) != 0)
        return E_DATE_CREATED_INVALID;
    if (v[MP_DATE_UPDATED].present && time_parse_iso(v[MP_DATE_UPDATED].s, &mr->date_updated) != 0)
        return E_DATE_UPDATED_INVALID;
    return 0;
}

static size_t chars(const char *s)
{
    return utf8_len(s, strlen(s));
}

/* The limits no parameter table states; also for a pre-event's modified values. */
static int check_values(const char *body, const char *author, const char *attributes)
{
    if (body && strlen(body) > BODY_MAX) return E_BODY_TOO_LONG;
    if (author && chars(author) > AUTHOR_MAX) return E_AUTHOR_TOO_LONG;
    if (attributes) {
        if (strlen(attributes) > MESSAGE_ATTRS_MAX) return E_ATTRS_TOO_LONG;
        if (attrs_validate(attributes, strlen(attributes), 0) != ATTRS_OK) return E_ATTRS_INVALID;
    }
    return 0;
}

/* ContentVariables: a JSON object of at most 100 string values, each key and value within its limit. */
static int check_content_variables(const char *s, size_t n)
{
    if (chars(s) > CONTENT_VARIABLES_MAX) return E_CONTENT_VARIABLES_TOO_LONG;
    if (attrs_validate(s, n, 1) != ATTRS_OK) return E_CONTENT_VARIABLES_INVALID;
    json_t *o = json_loadb(s, n, 0, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        return E_CONTENT_VARIABLES_INVALID;
    }
    int err = json_object_size(o) > CONTENT_VARIABLE_COUNT_MAX ? E_CONTENT_VARIABLES_TOO_LONG : 0;
    const char *key;
    json_t *value;
    json_object_foreach(o, key, value)
    {
        if (err) break;
        if (chars(key) > CONTENT_KEY_MAX)
            err = E_CONTENT_VARIABLE_KEY_TOO_LONG;
        else if (json_is_string(value) && chars(json_string_value(value)) > CONTENT_VALUE_MAX)
            err = E_CONTENT_VARIABLE_VALUE_TOO_LONG;
    }
    json_decref(o);
    return err;
}

static int check_create(struct req *r, void *row, const struct param_value *v)
{
    struct message_row *mr = row;
    struct message *m = &mr->m;
    mr->date_created = mr->date_updated = -1;
    int has_content = v[MP_CONTENT_SID].present, has_media = v[MP_MEDIA_SID].present;
    if (!v[MP_BODY].present && !has_media && !has_content) return E_BODY_NOT_PROVIDED;
    int err = check_dates(mr, v);
    if (!err) err = check_values(m->body, m->author, m->attributes);
    if (err) return err;
    if (has_media && !sid_valid(v[MP_MEDIA_SID].s, v[MP_MEDIA_SID].len, "ME")) return E_MEDIA_SID_INVALID;
    if (v[MP_CONTENT_VARIABLES].present && !has_content) return E_CONTENT_SID_MISSING;
    if (has_content) {
        if (!sid_valid(v[MP_CONTENT_SID].s, v[MP_CONTENT_SID].len, "HX")) return E_CONTENT_SID_INVALID;
        if (v[MP_CONTENT_VARIABLES].present &&
            (err = check_content_variables(v[MP_CONTENT_VARIABLES].s, v[MP_CONTENT_VARIABLES].len)) != 0)
            return err;
        /* "if this field is set, Body and MediaSid parameters are ignored" [SPEC]; no content registry
         * renders a template, so the body is null (§3.2 rule 4) */
        m->content_sid = (char *)v[MP_CONTENT_SID].s;
        m->content_variables = v[MP_CONTENT_VARIABLES].present ? (char *)v[MP_CONTENT_VARIABLES].s : NULL;
        m->body = NULL;
    } else if (has_media) {
        m->media_sid = (char *)v[MP_MEDIA_SID].s;
    }
    if (!m->author || !*m->author) m->author = "system";
    if (!m->attributes) m->attributes = "{}";
    m->source = "API";
    return 0;
}

static int check_update(struct req *r, const struct param_value *v)
{
    long long ms;
    if (v[MP_DATE_CREATED].present && time_parse_iso(v[MP_DATE_CREATED].s, &ms) != 0)
        return E_DATE_CREATED_INVALID;
    if (v[MP_DATE_UPDATED].present && time_parse_iso(v[MP_DATE_UPDATED].s, &ms) != 0)
        return E_DATE_UPDATED_INVALID;
    return check_values(v[MP_BODY].present ? v[MP_BODY].s : NULL,
                        v[MP_AUTHOR].present ? v[MP_AUTHOR].s : NULL,
                        v[MP_ATTRIBUTES].present ? v[MP_ATTRIBUTES].s : NULL);
}

/* ---- rules in the transaction ---- */

/* The author's participant (§3.1): a chat participant by identity, else a binding address. In a Group
 * MMS the author must be one of them (50513); one statement answers both. */
static int take_author(struct req *r, struct message *m, const char *sid, int group)
{
    m->participant_sid = *sid ? arena_strndup(&r->arena, sid, strlen(sid)) : NULL;
    return !*sid && group ? E_GMMS_AUTHOR : 0;
}

static int resolve_author(struct store_conn *c, struct req *r, struct message *m)
{
    char sid[SID_LEN + 1];
    int group;
    int rc = store_message_author_participant(c, m->conversation_sid, m->service_sid, m->author, sid, &group);
    return rc == ST_OK || rc == ST_NOT_FOUND ? take_author(r, m, sid, group) : rc;
}

/* With --strict-sms-body, a body that goes out over SMS or WhatsApp has at most 1600 characters (§0.3): one
 * with a non-chat recipient, a participant with a binding address other than the author's own (whom
 * receipts go to). Only a longer body costs the recipients query. */
static int check_sms_body(struct store_conn *c, struct req *r, const struct message *m)
{
    if (!r->app->strict_sms_body || !m->body || chars(m->body) <= SMS_BODY_MAX) return 0;
    struct recipient to[RECIPIENTS_MAX];
    int n, rc = store_message_recipients(c, m->conversation_sid, to, RECIPIENTS_MAX, &n);
    for (int i = 0; i < n && rc == ST_OK; i++)
        if (!m->participant_sid || strcmp(m->participant_sid, to[i].sid) != 0) return E_BODY_TOO_LONG;
    return rc;
}

/* The media's metadata, registered or synthesized; 50507 for an unregistered one in strict mode, 50508
 * for one another message already carries (§3.2 rule 3). */
static int take_media(struct store_conn *c, struct req *r, struct message *m)
{
    if (!m->media_sid) return 0;
    struct media_meta meta;
    int rc = store_media_get(c, m->account_sid, m->media_sid, &r->arena, &meta);
    if (rc == ST_OK) {
        m->media_content_type = meta.content_type;
        m->media_filename = meta.filename;
        m->media_size = meta.size;
    } else if (rc == ST_NOT_FOUND) {
        if (r->app->media_strict) return E_MEDIA_NOT_FOUND;
        m->media_content_type = "application/octet-stream";
        m->media_filename = NULL;
        m->media_size = 0;
    } else {
        return rc;
    }
    int used;
    if ((rc = store_message_media_used(c, m->account_sid, m->media_sid, &used)) != 0) return rc;
    return used ? E_MEDIA_ALREADY_SENT : 0;
}

/* Validation order (§0.5): referenced resources (the media), the closed guard; then the index. */
static int create_rules(struct store_conn *c, struct req *r, struct message_row *mr, struct conversation *cv)
{
    struct message *m = &mr->m;
    memcpy(m->conversation_sid, r->parent_sid, sizeof(m->conversation_sid));
    int guard = conversations_writable(c, r, r->parent_sid, cv);
    if (guard && guard != E_CONVERSATION_CLOSED) return guard;
    int err = take_media(c, r, m);
    return err ? err : guard;
}

/* create_rules' order, with the conversation read by the statement that takes the author and the index:
 * the whole row only when the activity changes it (a separate read of it was a tenth of the writer's
 * instructions per create, callgrind). */
static int before_insert(struct store_conn *c, struct req *r, void *row, const struct param_value *v)
{
    struct message_row *mr = row;
    struct message *m = &mr->m;
    struct conversation cv = {0};
    char author[SID_LEN + 1];
    int group;
    memcpy(m->conversation_sid, r->parent_sid, sizeof(m->conversation_sid));
    int err = store_message_author_index(c, m, author, &group, &r->arena, &cv);
    if (err == ST_NOT_FOUND) err = E_NOT_FOUND;
    if (!err) err = take_media(c, r, m);
    if (!err && conversations_closed(&cv)) err = E_CONVERSATION_CLOSED;
    if (!err) err = take_author(r, m, author, group);
    /* a REST create (message_post, for inbound traffic, passes no v: that keeps 32 KB, §0.3) */
    if (!err && v) err = check_sms_body(c, r, m);
    if (err) return err;
    memcpy(mr->messaging_service_sid, cv.messaging_service_sid, sizeof(mr->messaging_service_sid));
    if (mr->date_created >= 0) m->date_created = mr->date_created;
    m->date_updated = mr->date_updated >= 0 ? mr->date_updated : m->date_created;
    if (conversations_quiet(&cv)) return 0;
    err = conversations_writable(c, r, r->parent_sid, &cv);
    return err ? err : conversations_activity(c, r, &cv);
}

/* On the merged stored row: the closed guard, the media body rule, the author's participant, dates. */
static int before_update(struct store_conn *c, struct req *r, void *stored, const struct param_value *v)
{
    struct message *m = &((struct message_row *)stored)->m;
    const struct message *asked = &((const struct message_row *)runner_request_row(r))->m;
    struct conversation cv;
    int err = conversations_writable(c, r, m->conversation_sid, &cv);
    if (err) return err;
    if (asked->body && m->media_sid) return E_MEDIA_BODY_UPDATE;
    if (asked->author && (err = resolve_author(c, r, m)) != 0) return err;
    if (asked->body && (err = check_sms_body(c, r, m)) != 0) return err;
    long long ms;
    if (v[MP_DATE_CREATED].present && time_parse_iso(v[MP_DATE_CREATED].s, &ms) == 0) m->date_created = ms;
    if (v[MP_DATE_UPDATED].present && time_parse_iso(v[MP_DATE_UPDATED].s, &ms) == 0) m->date_updated = ms;
    return 0;
}

/* ---- events (§3.7, §10.4): only with X-Twilio-Webhook-Enabled: true ---- */

enum message_event { ME_ADD, ME_ADDED, ME_UPDATE, ME_UPDATED, ME_REMOVE, ME_REMOVED };

static const char *const event_names[] = {
    [ME_ADD] = "onMessageAdd",         [ME_ADDED] = "onMessageAdded",   [ME_UPDATE] = "onMessageUpdate",
    [ME_UPDATED] = "onMessageUpdated", [ME_REMOVE] = "onMessageRemove", [ME_REMOVED] = "onMessageRemoved",
};

/* Media as a stringified JSON array of PascalCase objects (§10.4, recommended), or with
 * --event-media-keys snake of snake_case ones, the REST representation's style. */
static const char *const media_keys[2][5] = {
    {"Sid", "Filename", "ContentType", "Size", "Category"},
    {"sid", "filename", "content_type", "size", "category"},
};

static void media_param(struct buf *out, const struct message *m, const struct app *app)
{
    const char *const *key = media_keys[app->event_media_snake != 0];
    if (!m->media_sid) return;
    struct buf text;
    buf_init(&text, MEDIA_JSON_MAX);
    struct jw w;
    jw_init(&w, &text);
    jw_arr_begin(&w);
    jw_obj_begin(&w);
    jw_kstr(&w, key[0], m->media_sid);
    jw_kstr(&w, key[1], m->media_filename);
    jw_kstr(&w, key[2], m->media_content_type);
    jw_kint(&w, key[3], m->media_size);
    jw_kstr(&w, key[4], "media");
    jw_obj_end(&w);
    jw_arr_end(&w);
    if (!text.err) webhook_param(out, "Media", text.p);
    if (text.err) out->err = 1;
    buf_free(&text);
}

/* Exactly the catalogue's parameters for ev, null values omitted, as app's switches say; removed is
 * DateRemoved. */
static void event_params(struct buf *out, enum message_event ev, const struct message_row *mr,
                         long long removed, const struct app *app)
{
    const struct message *m = &mr->m;
    char created[TIME_ISO_MS_LEN + 1], updated[TIME_ISO_MS_LEN + 1], gone[TIME_ISO_MS_LEN + 1], index[24];
    time_iso_ms(created, m->date_created);
    time_iso_ms(updated, m->date_updated);
    time_iso_ms(gone, removed);
    snprintf(index, sizeof(index), "%lld", m->index);
    webhook_param(out, "AccountSid", m->account_sid);
    webhook_param(out, "EventType", event_names[ev]);
    webhook_param(out, "Source", m->source ? m->source : "API");
    /* a 2021 onMessageAdded capture has none (§10.2): the switch drops it from the post-events only */
    int post = ev == ME_ADDED || ev == ME_UPDATED || ev == ME_REMOVED;
    if (!(post && app->omit_message_chat_service_sid)) webhook_param(out, "ChatServiceSid", m->service_sid);
    webhook_param(out, "ConversationSid", m->conversation_sid);
    if (ev != ME_ADD) {
        webhook_param(out, "MessageSid", m->sid);
        if (ev == ME_ADDED && mr->messaging_service_sid[0])
            webhook_param(out, "MessagingServiceSid", mr->messaging_service_sid);
        webhook_param(out, "Index", index);
        webhook_param(out, "DateCreated", created);
        if (ev != ME_ADDED) webhook_param(out, "DateUpdated", updated);
    }
    webhook_param(out, "Body", m->body);
    webhook_param(out, "Author", m->author);
    webhook_param(out, "ParticipantSid", m->participant_sid);
    webhook_param(out, "Attributes", m->attributes);
    media_param(out, m, app);
    if (ev == ME_REMOVED) webhook_param(out, "DateRemoved", gone);
}

static int post_event_queue(struct store_conn *c, struct req *r, enum message_event ev,
                            const struct message_row *mr)
{
    if (!r->webhook_enabled) return 0;
    struct buf form;
    buf_init(&form, EVENT_PARAMS_MAX);
    event_params(&form, ev, mr, time_now_ms(), r->app);
    int n = form.err
                ? ST_ERROR
                : conversation_event_queue(c, mr->m.account_sid, mr->m.service_sid, mr->m.conversation_sid,
                                           event_names[ev], form.p ? form.p : "", mr->m.body, &r->arena);
    buf_free(&form);
    if (n > 0) r->events_queued = 1;
    return n < 0 ? n : 0;
}

static int change(struct store_conn *c, const struct message *m, const char *kind)
{
    return store_change_record(c, m->account_sid, m->service_sid, "message", m->sid, m->conversation_sid,
                               kind);
}

/* One receipt in status sent per non-chat recipient other than the author (§4.1); none with
 * --no-delivery-receipts, and the message's delivery stays null as in a chat-only conversation. */
static int receipts_create(struct store_conn *c, struct req *r, struct message *m)
{
    /* counted afresh: a batch that met a transient conflict runs this job again (store/writer.c) */
    memset(m->delivery, 0, sizeof(m->delivery));
    if (r->app->no_delivery_receipts) return 0;
    struct recipient to[RECIPIENTS_MAX];
    int n, rc = store_message_recipients(c, m->conversation_sid, to, RECIPIENTS_MAX, &n);
    for (int i = 0; i < n && rc == ST_OK; i++) {
        if (m->participant_sid && strcmp(m->participant_sid, to[i].sid) == 0) continue;
        struct receipt d = {0};
        sid_new(d.sid, "DY");
        memcpy(d.account_sid, m->account_sid, sizeof(d.account_sid));
        memcpy(d.service_sid, m->service_sid, sizeof(d.service_sid));
        memcpy(d.conversation_sid, m->conversation_sid, sizeof(d.conversation_sid));
        memcpy(d.message_sid, m->sid, sizeof(d.message_sid));
        memcpy(d.participant_sid, to[i].sid, sizeof(d.participant_sid));
        /* the channel's message: SM… for SMS and MMS, WA… for WhatsApp, as the spec's examples name them */
        sid_new(d.channel_message_sid, strcmp(to[i].type, "whatsapp") == 0 ? "WA" : "SM");
        d.status = "sent";
        d.date_created = m->date_created;
        d.date_updated = -1;
        rc = store_receipt_insert(c, &d);
        if (rc == ST_OK)
            rc = store_change_record(c, d.account_sid, d.service_sid, "delivery_receipt", d.sid,
                                     d.message_sid, "created");
        if (rc == ST_OK) m->delivery[RS_SENT]++;
    }
    return rc;
}

static int post_event(struct store_conn *c, struct req *r, enum op_kind kind, const void *row)
{
    struct message_row *mr = (struct message_row *)row;
    /* the message's record first: a reader following the log sees the message before its receipts */
    int err = change(c, &mr->m, kind == OPK_CREATE ? "created" : "updated");
    if (!err && kind == OPK_CREATE) err = receipts_create(c, r, &mr->m);
    return err ? err : post_event_queue(c, r, kind == OPK_CREATE ? ME_ADDED : ME_UPDATED, mr);
}

int message_post(struct store_conn *c, struct req *r, struct message_row *mr)
{
    struct message *m = &mr->m;
    if (!m->sid[0]) sid_new(m->sid, "IM");
    if (!m->attributes) m->attributes = "{}";
    if (!m->author || !*m->author) m->author = "system";
    if (!m->source) m->source = "API";
    long long now = time_now_ms();
    m->date_created = m->date_updated = now;
    int err = before_insert(c, r, mr, NULL);
    if (!err) err = store_message_insert(c, m);
    if (!err) err = post_event(c, r, OPK_CREATE, mr);
    return err;
}

/* ---- pre-events: body, author and attributes modifiable (§3.7) ---- */

static const struct pre_event_fields modifiable = {{"body", "author", "attributes"}, 3};

static int pre_hook(struct req *r, enum message_event ev, const struct message_row *mr,
                    pre_event_proceed_fn proceed)
{
    if (!r->webhook_enabled || !r->app->pre_hooks_for_rest) return 0;
    struct webhook_target *t = arena_alloc(&r->arena, sizeof(*t) * WEBHOOK_MAX_TARGETS);
    int n = webhook_targets(r->db, r->account.sid, r->service_sid, event_names[ev], 1, &r->arena, t);
    if (n <= 0) return n;
    struct buf form;
    buf_init(&form, EVENT_PARAMS_MAX);
    event_params(&form, ev, mr, 0, r->app);
    return pre_event_run_form(r, event_names[ev], t, n, &form, ev == ME_REMOVE ? NULL : &modifiable, proceed);
}

/* The hook's body, author and attributes replace the request's; a value that breaks a rule answers that
 * rule's error, and nothing is written. */
static int apply_modified(struct req *r, struct message *m, const char *const value[PRE_MAX_FIELDS])
{
    int err = check_values(value[0], value[1], value[2]);
    if (err) {
        api_fail(r, err);
        return -1;
    }
    if (value[0]) m->body = (char *)value[0];
    if (value[1]) m->author = *value[1] ? (char *)value[1] : "system";
    if (value[2]) m->attributes = (char *)value[2];
    return 0;
}

/* For inbound traffic's onMessageAdd (control/inbound.c): the same parameters, media and checks. */
int message_add_params(struct buf *out, const struct message_row *mr, const struct app *app)
{
    event_params(out, ME_ADD, mr, 0, app);
    return out->err ? ST_ERROR : 0;
}

void message_media_param(struct buf *out, const struct message *m, const struct app *app)
{
    media_param(out, m, app);
}

int message_check_modified(const char *body, const char *author, const char *attributes)
{
    return check_values(body, author, attributes);
}

int message_author_participant(struct store_conn *c, struct req *r, struct message *m)
{
    return resolve_author(c, r, m);
}

static int proceed_create(struct req *r, const char *const value[PRE_MAX_FIELDS])
{
    struct message_row *mr = runner_request_row(r);
    if (apply_modified(r, &mr->m, value) != 0) return 0;
    return runner_create_write(r);
}

static int proceed_update(struct req *r, const char *const value[PRE_MAX_FIELDS])
{
    struct message_row *mr = runner_request_row(r);
    if (apply_modified(r, &mr->m, value) != 0) return 0;
    return runner_update_write(r);
}

static int proceed_delete(struct req *r, const char *const value[PRE_MAX_FIELDS])
{
    return runner_delete_write(r);
}

/* The checks a write would make come before the hook (validation order, docs/DECISIONS.md). */
static int pre_create(struct req *r)
{
    if (!r->webhook_enabled || !r->app->pre_hooks_for_rest) return 0;
    struct message_row *mr = runner_request_row(r);
    struct message_row shown = *mr;
    struct conversation cv;
    int err = create_rules(r->db, r, &shown, &cv);
    if (!err) err = resolve_author(r->db, r, &shown.m);
    if (!err) err = check_sms_body(r->db, r, &shown.m);
    return err ? err : pre_hook(r, ME_ADD, &shown, proceed_create);
}

static int pre_update(struct req *r)
{
    if (!r->webhook_enabled || !r->app->pre_hooks_for_rest) return 0;
    void *row;
    int err = runner_update_proposal(r, &row);
    return err ? err : pre_hook(r, ME_UPDATE, row, proceed_update);
}

static int get(struct store_conn *c, struct req *r, const char *key, void *out);

static int pre_delete(struct req *r)
{
    if (!r->webhook_enabled || !r->app->pre_hooks_for_rest) return 0;
    struct message_row *mr = arena_alloc(&r->arena, sizeof(*mr));
    struct conversation cv;
    int err = get(r->db, r, runner_request_key(r), mr);
    if (!err) err = conversations_writable(r->db, r, r->parent_sid, &cv);
    return err ? err : pre_hook(r, ME_REMOVE, mr, proceed_delete);
}

/* ---- the list: Order=asc|desc in any case, echoed lower-case in the meta URLs (§3.3) ---- */

static const int order_desc = 1, order_asc = 0;

static int list_filter(struct req *r, const struct param_value *v, struct list_filter *out)
{
    out->store_filter = &order_asc;
    out->query = "";
    if (!v[ML_ORDER].present) return 0;
    if (strcasecmp(v[ML_ORDER].s, "desc") == 0) {
        out->store_filter = &order_desc;
        out->query = "Order=desc&";
    } else if (strcasecmp(v[ML_ORDER].s, "asc") == 0) {
        out->query = "Order=asc&";
    } else {
        api_failf(r, E_INVALID_PARAM, "Invalid value for Order: it must be asc or desc");
        return RUNNER_ANSWERED;
    }
    return 0;
}

/* ---- ReplayAfter: the messages a new scoped webhook is sent first (webhook/scoped.c) ---- */

#define REPLAY_PAGE 100

/* the server's switches, for the replay's events (no request carries them there); none until registered */
static const struct app no_switches;
static const struct app *replay_app = &no_switches;

struct replay_walk {
    struct message_row mr;
    scoped_replay_row_fn fn;
    void *ctx;
    int rows, failed;
    long long next; /* the position after the last row seen */
};

static int replay_row(void *ctx, const struct message *m)
{
    struct replay_walk *w = ctx;
    w->mr.m = *m;
    w->next = m->pos;
    w->rows++;
    struct buf form;
    buf_init(&form, EVENT_PARAMS_MAX);
    event_params(&form, ME_ADDED, &w->mr, 0, replay_app);
    w->failed = form.err ? ST_ERROR : w->fn(w->ctx, form.p ? form.p : "", m->body);
    buf_free(&form);
    return w->failed != 0;
}

/* onMessageAdded of every message of the conversation from index from on, in index order, a page at a
 * time (keyset: the cost of a page does not grow with the conversation). */
static int replay_messages(struct store_conn *c, const char *conversation_sid, long long from,
                           struct arena *a, scoped_replay_row_fn fn, void *ctx)
{
    struct conversation cv;
    int rc = store_conversation_get_by_sid(c, conversation_sid, a, &cv);
    if (rc != ST_OK) return rc;
    struct replay_walk w;
    memset(&w, 0, sizeof(w));
    memcpy(w.mr.messaging_service_sid, cv.messaging_service_sid, sizeof(w.mr.messaging_service_sid));
    w.fn = fn;
    w.ctx = ctx;
    w.next = from < 0 ? 0 : from; /* an ascending position is index + 1: from is the position before it */
    struct message page = {0};
    memcpy(page.account_sid, cv.account_sid, sizeof(page.account_sid));
    memcpy(page.service_sid, cv.service_sid, sizeof(page.service_sid));
    snprintf(page.conversation_sid, sizeof(page.conversation_sid), "%s", conversation_sid);
    do {
        struct page_req p = {.after = w.next, .dir = 'a', .limit = REPLAY_PAGE - 1};
        w.rows = 0;
        rc = store_message_list(c, &page, 0, &p, replay_row, &w);
        if (rc == ST_OK) rc = w.failed;
    } while (rc == ST_OK && w.rows == REPLAY_PAGE);
    return rc;
}

void messages_replay_register(const struct app *app)
{
    replay_app = app;
    scoped_webhooks_set_replay(replay_messages);
}

/* ---- store calls ---- */

static int get(struct store_conn *c, struct req *r, const char *key, void *out)
{
    return store_message_get(c, r->parent_sid, key, &r->arena, out);
}

static int insert(struct store_conn *c, struct req *r, void *row)
{
    return store_message_insert(c, row);
}

static int update(struct store_conn *c, struct req *r, const void *row, const void *before)
{
    return store_message_update(c, row);
}

/* Deleting a message leaves its index unused for good and moves no read horizon (§3.3). */
static int del(struct store_conn *c, struct req *r, const char *key)
{
    struct message_row mr = {0};
    struct conversation cv;
    int rc = get(c, r, key, &mr);
    if (rc == ST_OK) rc = conversations_writable(c, r, r->parent_sid, &cv);
    if (rc == ST_OK) rc = store_message_delete(c, r->parent_sid, mr.m.sid);
    if (rc == ST_OK) rc = change(c, &mr.m, "deleted");
    if (rc == ST_OK) rc = post_event_queue(c, r, ME_REMOVED, &mr);
    return rc;
}

/* the runner reads the keyset position at id_off: here pos, the order's position */
RUNNER_LIST_ROW(list_row, struct message)

static int list(struct store_conn *c, struct req *r, const struct list_filter *f, const struct page_req *p,
                void *ctx)
{
    int desc = f->store_filter && *(const int *)f->store_filter;
    struct message page = {0};
    snprintf(page.account_sid, sizeof(page.account_sid), "%s", r->account.sid);
    snprintf(page.service_sid, sizeof(page.service_sid), "%s", r->service_sid);
    snprintf(page.conversation_sid, sizeof(page.conversation_sid), "%s", r->parent_sid);
    return store_message_list(c, &page, desc, p, list_row, ctx);
}

const struct family messages_family = {
    .segment = "Messages",
    .prefix = "IM",
    .parent = PARENT_TWIN,
    .parent_segment = "Conversations",
    .resolve_parent = conversations_resolve_parent,
    .parent_off = MR(m.conversation_sid),
    .create_checks_parent = 1, /* store_message_author_index answers ST_NOT_FOUND */
    FAMILY_MODEL_IN(struct message_row, m, pos),
    FAMILY_FIELDS(fields),
    FAMILY_PARAMS(params),
    FAMILY_CRUD(CONVERSATION_MESSAGE),
    FAMILY_ALL_HOOKS,
    .list_params = list_params,
    .n_list_params = ML__COUNT,
    .list_filter = list_filter,
};
