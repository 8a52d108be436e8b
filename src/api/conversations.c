/* Conversations: /v1/Conversations[/{Sid}] and /v1/Services/{ChatServiceSid}/Conversations[/{Sid}]
 * (BEHAVIOUR-conversations §1), a family run by api/runner.c. {Sid} is a CH SID or the unique name. Its
 * hooks: the state machine and its timers, the date overrides, the messaging service default, the
 * unique name that must not look like a SID, and the closed guard (also for the resources under a
 * conversation: conversations_writable). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/fail.h"
#include "api/families.h"
#include "api/paging.h"
#include "api/pre_event.h"
#include "store/changes.h"
#include "store/conversations.h"
#include "store/timers.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/duration.h"
#include "util/sid.h"
#include "util/text.h"
#include "util/timefmt.h"
#include "webhook/events.h"
#include "webhook/scoped.h"
#include "json/jw.h"

#define FRIENDLY_NAME_MAX 256 /* [DOC:limits] */
#define UNIQUE_NAME_MAX 256   /* not published; BEHAVIOUR-conversations §0.3 recommends 256 */
#define INACTIVE_MIN_S 60     /* Timers.Inactive: PT1M [SPEC] */
#define CLOSED_MIN_S 600      /* Timers.Closed: PT10M [SPEC] */
/* No maximum is documented; past a century a due time in ms would near the range of long long (a
 * duration may name 999999999 years), so longer ones are refused as malformed. */
#define TIMER_MAX_S (100LL * 365 * 86400)
#define CV(m) offsetof(struct conversation, m)

enum {
    C_FRIENDLY_NAME,
    C_UNIQUE_NAME,
    C_DATE_CREATED,
    C_DATE_UPDATED,
    C_MESSAGING_SERVICE,
    C_ATTRIBUTES,
    C_STATE,
    C_TIMER_INACTIVE,
    C_TIMER_CLOSED,
    C_EMAIL_ADDRESS,
    C_EMAIL_NAME,
    C__COUNT
};

/* The hooks read the dates, the messaging service, the state and the timers themselves: each has its
 * own error code, and the state machine needs the stored state beside the requested one. */
static const struct param_spec params[C__COUNT] = {
    [C_FRIENDLY_NAME] = {"FriendlyName", PK_STRING, 0, 0, FRIENDLY_NAME_MAX, E_FRIENDLY_NAME_TOO_LONG, NULL,
                         CV(friendly_name)},
    [C_UNIQUE_NAME] = {"UniqueName", PK_STRING, 0, 0, UNIQUE_NAME_MAX, E_UNIQUE_NAME_TOO_LONG, NULL,
                       CV(unique_name)},
    [C_DATE_CREATED] = {"DateCreated", PK_STRING, P_NO_SLOT, 0, 0, 0, NULL, 0},
    [C_DATE_UPDATED] = {"DateUpdated", PK_STRING, P_NO_SLOT, 0, 0, 0, NULL, 0},
    [C_MESSAGING_SERVICE] = {"MessagingServiceSid", PK_STRING, P_NO_SLOT, 0, 0, 0, NULL, 0},
    [C_ATTRIBUTES] = {"Attributes", PK_JSON, 0, 0, 0, 0, NULL, CV(attributes)},
    [C_STATE] = {"State", PK_STRING, P_NO_SLOT, 0, 0, 0, NULL, 0},
    [C_TIMER_INACTIVE] = {"Timers.Inactive", PK_STRING, P_NO_SLOT, 0, 0, 0, NULL, 0},
    [C_TIMER_CLOSED] = {"Timers.Closed", PK_STRING, P_NO_SLOT, 0, 0, 0, NULL, 0},
    [C_EMAIL_ADDRESS] = {"Bindings.Email.Address", PK_STRING, 0, 0, 0, 0, NULL, CV(email_address)},
    [C_EMAIL_NAME] = {"Bindings.Email.Name", PK_STRING, 0, 0, 0, 0, NULL, CV(email_name)},
};

enum { L_START_DATE, L_END_DATE, L_STATE, L__COUNT };

static const struct param_spec list_params[L__COUNT] = {
    [L_START_DATE] = {"StartDate", PK_STRING, 0, 0, 0, 0, NULL, 0},
    [L_END_DATE] = {"EndDate", PK_STRING, 0, 0, 0, 0, NULL, 0},
    [L_STATE] = {"State", PK_ENUM, 0, 0, 0, 0, "initializing|inactive|active|closed", 0},
};

/* ---- rendering ---- */

int conversations_closed(const struct conversation *cv)
{
    return strcmp(cv->state, CONV_CLOSED) == 0;
}

int conversations_quiet(const struct conversation *cv)
{
    return strcmp(cv->state, CONV_INACTIVE) != 0 && cv->timer_inactive <= 0 && cv->timer_closed <= 0;
}

/* Only the configured timers' keys (BEHAVIOUR-conversations §1.2): the due time, or when it happened. */
void conversation_render_timers(struct jw *w, long long timer_inactive, long long date_inactive,
                                long long timer_closed, long long date_closed)
{
    char text[TIME_ISO_LEN + 1];
    jw_obj_begin(w);
    if (timer_inactive > 0 && date_inactive > 0) {
        time_iso(text, date_inactive);
        jw_kstr(w, "date_inactive", text);
    }
    if (timer_closed > 0 && date_closed > 0) {
        time_iso(text, date_closed);
        jw_kstr(w, "date_closed", text);
    }
    jw_obj_end(w);
}

static void render_timers(struct jw *w, const void *row, struct req *r)
{
    const struct conversation *cv = row;
    conversation_render_timers(w, cv->timer_inactive, cv->date_inactive, cv->timer_closed, cv->date_closed);
}

/* The own URL's sub-resources, on the family the request used; always with the SID. The spec's examples
 * also show links.export, a path the v1 API does not have: not rendered (docs/DECISIONS.md). */
static void render_links(struct jw *w, const void *row, struct req *r)
{
    jw_obj_begin(w);
    runner_link(w, r, &conversations_family, row, "participants", "/Participants");
    runner_link(w, r, &conversations_family, row, "messages", "/Messages");
    runner_link(w, r, &conversations_family, row, "webhooks", "/Webhooks");
    jw_obj_end(w);
}

/* {"email": {"projected_address", "name"}} when an email binding is set, else {} [SPEC example]. */
static void render_bindings(struct jw *w, const void *row, struct req *r)
{
    const struct conversation *cv = row;
    jw_obj_begin(w);
    if (cv->email_address || cv->email_name) {
        jw_key(w, "email");
        jw_obj_begin(w);
        jw_kstr(w, "projected_address", cv->email_address);
        jw_kstr(w, "name", cv->email_name);
        jw_obj_end(w);
    }
    jw_obj_end(w);
}

static const struct field fields[] = {
    {"account_sid", FK_CHARS, CV(account_sid), NULL},
    {"chat_service_sid", FK_CHARS, CV(service_sid), NULL},
    {"messaging_service_sid", FK_CHARS_NULL, CV(messaging_service_sid), NULL},
    {"sid", FK_CHARS, CV(sid), NULL},
    {"friendly_name", FK_STR, CV(friendly_name), NULL},
    {"unique_name", FK_STR, CV(unique_name), NULL},
    {"attributes", FK_STR, CV(attributes), NULL},
    {"state", FK_STR, CV(state), NULL},
    {"date_created", FK_DATE, CV(date_created), NULL},
    {"date_updated", FK_DATE, CV(date_updated), NULL},
    {"timers", FK_FN, 0, render_timers},
    {"url", FK_URL, 0, NULL},
    {"links", FK_FN, 0, render_links},
    {"bindings", FK_FN, 0, render_bindings},
};

/* ---- parameters the hooks read ---- */

/* An ISO 8601 date-time or a bare day (its start, or its end when end_of_day); 0 and *ms, or -1. */
static int parse_date(const char *s, int end_of_day, long long *ms)
{
    if (time_parse_iso(s, ms) == 0) return 0;
    char day[TIME_ISO_LEN + 1];
    if (strlen(s) != 10) return -1;
    snprintf(day, sizeof(day), "%sT%s", s, end_of_day ? "23:59:59Z" : "00:00:00Z");
    if (time_parse_iso(day, ms) != 0) return -1;
    if (end_of_day) *ms += 999;
    return 0;
}

/* A timer's duration in ms into *ms (0: PT0S, no timer), or its error code. */
static int parse_timer(const struct param_value *v, long long min_s, int too_short, int bad_format,
                       long long *ms)
{
    long long s;
    if (duration_parse(v->s, v->len, &s) != 0 || s > TIMER_MAX_S) return bad_format;
    if (s != 0 && s < min_s) return too_short;
    *ms = s * 1000;
    return 0;
}

/* The checks of every parameter the hooks read, on the request thread (formats before anything the
 * store knows: validation order, docs/DECISIONS.md). */
static int check_formats(const struct param_value *v, int create)
{
    long long ms;
    if (v[C_UNIQUE_NAME].present && sid_valid(v[C_UNIQUE_NAME].s, v[C_UNIQUE_NAME].len, "CH"))
        return E_UNIQUE_NAME_LOOKS_LIKE_SID;
    if (v[C_DATE_CREATED].present && time_parse_iso(v[C_DATE_CREATED].s, &ms) != 0)
        return E_DATE_CREATED_INVALID;
    if (v[C_DATE_UPDATED].present && time_parse_iso(v[C_DATE_UPDATED].s, &ms) != 0)
        return E_DATE_UPDATED_INVALID;
    if (v[C_MESSAGING_SERVICE].present &&
        !sid_valid(v[C_MESSAGING_SERVICE].s, v[C_MESSAGING_SERVICE].len, "MG"))
        return E_INVALID_MESSAGING_SERVICE_SID;
    if (v[C_STATE].present) {
        const char *s = v[C_STATE].s;
        if (!*s) return create ? E_STATE_INVALID : E_STATE_EMPTY;
        if (strcmp(s, CONV_ACTIVE) != 0 && strcmp(s, CONV_INACTIVE) != 0 && strcmp(s, CONV_CLOSED) != 0)
            return E_STATE_INVALID;
        if (create && strcmp(s, CONV_CLOSED) == 0) return E_INITIAL_STATE_CLOSED;
    }
    int err = 0;
    if (v[C_TIMER_INACTIVE].present)
        err = parse_timer(&v[C_TIMER_INACTIVE], INACTIVE_MIN_S, E_INACTIVE_TIMER_TOO_SHORT,
                          E_INACTIVE_TIMER_FORMAT, &ms);
    if (!err && v[C_TIMER_CLOSED].present)
        err = parse_timer(&v[C_TIMER_CLOSED], CLOSED_MIN_S, E_CLOSED_TIMER_TOO_SHORT, E_CLOSED_TIMER_FORMAT,
                          &ms);
    return err;
}

/* An account default timer (/v1/Configuration), as stored there: a valid duration (at most a century)
 * or nothing. */
static long long default_timer(const char *text)
{
    long long s;
    if (!text || duration_parse(text, strlen(text), &s) != 0) return 0;
    return (s > TIMER_MAX_S ? TIMER_MAX_S : s) * 1000;
}

/* ---- the state machine ---- */

/* The due times of the pending timers from the state, the durations and the last activity. A timer
 * that is not configured has no date; one that has happened keeps the time it happened. */
static void timers_arm(struct conversation *cv)
{
    if (cv->timer_inactive == 0)
        cv->date_inactive = 0;
    else if (strcmp(cv->state, CONV_ACTIVE) == 0)
        cv->date_inactive = cv->last_activity + cv->timer_inactive;
    if (cv->timer_closed == 0)
        cv->date_closed = 0;
    else if (!conversations_closed(cv))
        cv->date_closed = cv->last_activity + cv->timer_closed;
}

/* A change of state at now, by the API or a timer: the time it happened is kept for the timers' dates. */
static void state_set(struct conversation *cv, const char *state, long long now)
{
    if (strcmp(state, CONV_INACTIVE) == 0)
        cv->date_inactive = now;
    else if (strcmp(state, CONV_CLOSED) == 0) {
        cv->date_closed = now;
        if (strcmp(cv->state, CONV_ACTIVE) == 0 && cv->date_inactive > now) cv->date_inactive = 0;
    }
    cv->state = (char *)state;
}

/* ---- hooks ---- */

/* Twilio's dictionary has 50382 but today's API takes timers alone (BEHAVIOUR-conversations §1.2): only
 * --timers-need-state refuses them. */
static int timers_without_state(const struct req *r, const struct param_value *v)
{
    int timers = v[C_TIMER_INACTIVE].present || v[C_TIMER_CLOSED].present;
    return r->app->timers_need_state && timers && !v[C_STATE].present ? E_TIMER_WITHOUT_STATE : 0;
}

static int check_create(struct req *r, void *row, const struct param_value *v)
{
    struct conversation *cv = row;
    int err = check_formats(v, 1);
    if (!err) err = timers_without_state(r, v);
    if (err) return err;
    if (cv->unique_name && !*cv->unique_name) cv->unique_name = NULL;
    if (!cv->attributes) cv->attributes = "{}";
    cv->state = v[C_STATE].present ? (char *)v[C_STATE].s : CONV_ACTIVE;
    /* omitted: the account's default (BEHAVIOUR-conversations §1.3 rule 2); none: null */
    const char *mg =
        v[C_MESSAGING_SERVICE].present ? v[C_MESSAGING_SERVICE].s : r->account.default_messaging_service_sid;
    if (mg && sid_valid(mg, strlen(mg), "MG")) snprintf(cv->messaging_service_sid, SID_LEN + 1, "%s", mg);
    /* omitted timers take the account's defaults, which are not applied to existing conversations */
    if (v[C_TIMER_INACTIVE].present)
        parse_timer(&v[C_TIMER_INACTIVE], INACTIVE_MIN_S, 0, 0, &cv->timer_inactive);
    else
        cv->timer_inactive = default_timer(r->account.default_inactive_timer);
    if (v[C_TIMER_CLOSED].present)
        parse_timer(&v[C_TIMER_CLOSED], CLOSED_MIN_S, 0, 0, &cv->timer_closed);
    else
        cv->timer_closed = default_timer(r->account.default_closed_timer);
    return 0;
}

static int check_update(struct req *r, const struct param_value *v)
{
    int err = check_formats(v, 0);
    return err ? err : timers_without_state(r, v);
}

/* In the write transaction: the imported dates, and the timers counted from the creation. */
static int before_insert(struct store_conn *c, struct req *r, void *row, const struct param_value *v)
{
    struct conversation *cv = row;
    cv->last_activity = cv->date_created;
    if (cv->state && strcmp(cv->state, CONV_INACTIVE) == 0) cv->date_inactive = cv->date_created;
    if (v[C_DATE_CREATED].present) {
        time_parse_iso(v[C_DATE_CREATED].s, &cv->date_created);
        cv->date_updated = cv->date_created; /* equal at creation unless DateUpdated says otherwise */
    }
    if (v[C_DATE_UPDATED].present) time_parse_iso(v[C_DATE_UPDATED].s, &cv->date_updated);
    timers_arm(cv);
    return 0;
}

/* On the stored row merged with the request: a closed conversation takes no change at all, then the
 * state and timers move (an update that sets either restarts the timers from now). */
static int before_update(struct store_conn *c, struct req *r, void *stored, const struct param_value *v)
{
    struct conversation *cv = stored;
    cv->state_before = NULL;
    if (conversations_closed(cv)) return E_CONVERSATION_CLOSED;
    long long now = time_now_ms();
    if (cv->unique_name && !*cv->unique_name) cv->unique_name = NULL; /* UniqueName= clears it */
    if (v[C_MESSAGING_SERVICE].present)
        snprintf(cv->messaging_service_sid, SID_LEN + 1, "%s", v[C_MESSAGING_SERVICE].s);
    if (v[C_DATE_CREATED].present) time_parse_iso(v[C_DATE_CREATED].s, &cv->date_created);
    if (v[C_DATE_UPDATED].present) time_parse_iso(v[C_DATE_UPDATED].s, &cv->date_updated);
    int moved = 0;
    if (v[C_TIMER_INACTIVE].present) {
        parse_timer(&v[C_TIMER_INACTIVE], INACTIVE_MIN_S, 0, 0, &cv->timer_inactive);
        moved = 1;
    }
    if (v[C_TIMER_CLOSED].present) {
        parse_timer(&v[C_TIMER_CLOSED], CLOSED_MIN_S, 0, 0, &cv->timer_closed);
        moved = 1;
    }
    if (v[C_STATE].present && strcmp(v[C_STATE].s, cv->state) != 0) {
        cv->state_before = cv->state;
        state_set(cv,
                  strcmp(v[C_STATE].s, CONV_ACTIVE) == 0     ? CONV_ACTIVE
                  : strcmp(v[C_STATE].s, CONV_INACTIVE) == 0 ? CONV_INACTIVE
                                                             : CONV_CLOSED,
                  now);
        moved = 1;
    }
    if (moved) {
        cv->last_activity = now;
        timers_arm(cv);
    }
    return 0;
}

/* ---- events (BEHAVIOUR-conversations §10.4): only with X-Twilio-Webhook-Enabled: true ---- */

enum conv_event { EV_ADD, EV_ADDED, EV_UPDATE, EV_UPDATED, EV_REMOVE, EV_REMOVED };

static const char *const event_names[] = {
    [EV_ADD] = "onConversationAdd",       [EV_ADDED] = "onConversationAdded",
    [EV_UPDATE] = "onConversationUpdate", [EV_UPDATED] = "onConversationUpdated",
    [EV_REMOVE] = "onConversationRemove", [EV_REMOVED] = "onConversationRemoved",
};

/* Form parameters: 256 KB holds the 16 KB of attributes percent-encoded three times over. */
#define EVENT_PARAMS_MAX (256 * 1024)

static const char *mg_of(const struct conversation *cv)
{
    return cv->messaging_service_sid[0] ? cv->messaging_service_sid : NULL;
}

/* The parameters of ev as the catalogue lists them, null values omitted; removed is DateRemoved (post
 * removal only). The pre-event of a create has no SID or dates yet. */
static void event_params(struct buf *out, enum conv_event ev, const struct conversation *cv,
                         long long removed)
{
    char created[TIME_ISO_MS_LEN + 1], updated[TIME_ISO_MS_LEN + 1], gone[TIME_ISO_MS_LEN + 1];
    time_iso_ms(created, cv->date_created);
    time_iso_ms(updated, cv->date_updated);
    webhook_param(out, "AccountSid", cv->account_sid);
    webhook_param(out, "EventType", event_names[ev]);
    webhook_param(out, "Source", "API");
    webhook_param(out, "ChatServiceSid", cv->service_sid);
    if (ev != EV_ADD) {
        webhook_param(out, "ConversationSid", cv->sid);
        webhook_param(out, "DateCreated", created);
        webhook_param(out, "DateUpdated", updated);
    }
    if (ev == EV_REMOVED) {
        time_iso_ms(gone, removed);
        webhook_param(out, "DateRemoved", gone);
    }
    webhook_param(out, "FriendlyName", cv->friendly_name);
    webhook_param(out, "UniqueName", cv->unique_name);
    webhook_param(out, "Attributes", cv->attributes);
    webhook_param(out, "MessagingServiceSid", mg_of(cv));
    webhook_param(out, "State", cv->state);
}

/* Queues onConversationStateUpdated: Reason API, EVENT or TIMER (a timer's event has no Source: source
 * NULL). */
static int queue_state_event(struct store_conn *c, const struct conversation *cv, const char *from,
                             const char *reason, const char *source, long long at, struct arena *a)
{
    char when[TIME_ISO_MS_LEN + 1];
    time_iso_ms(when, at);
    struct buf p;
    buf_init(&p, EVENT_PARAMS_MAX);
    webhook_param(&p, "AccountSid", cv->account_sid);
    webhook_param(&p, "EventType", "onConversationStateUpdated");
    webhook_param(&p, "Source", source);
    webhook_param(&p, "ChatServiceSid", cv->service_sid);
    webhook_param(&p, "ConversationSid", cv->sid);
    webhook_param(&p, "StateFrom", from);
    webhook_param(&p, "StateTo", cv->state);
    webhook_param(&p, "StateUpdated", when);
    webhook_param(&p, "Reason", reason);
    webhook_param(&p, "MessagingServiceSid", mg_of(cv));
    int rc = p.err ? ST_ERROR
                   : conversation_event_queue(c, cv->account_sid, cv->service_sid, cv->sid,
                                              "onConversationStateUpdated", p.p, NULL, a);
    buf_free(&p);
    return rc < 0 ? rc : 0;
}

static int queue_event(struct store_conn *c, struct req *r, enum conv_event ev, const struct conversation *cv,
                       long long removed)
{
    struct buf p;
    buf_init(&p, EVENT_PARAMS_MAX);
    event_params(&p, ev, cv, removed);
    int n = p.err ? ST_ERROR
                  : conversation_event_queue(c, cv->account_sid, cv->service_sid, cv->sid, event_names[ev],
                                             p.p, NULL, &r->arena);
    buf_free(&p);
    if (n > 0) r->events_queued = 1;
    return n < 0 ? n : 0;
}

/* ---- the durable timers (store/timers.h) and the change log (store/changes.h) ---- */

#define TIMER_INACTIVE "conversation.inactive"
#define TIMER_CLOSED "conversation.closed"

/* The schedule follows the row: a pending due time is armed (or moved), anything else disarmed. */
static int timers_schedule(struct store_conn *c, const struct conversation *cv)
{
    int inactive = cv->timer_inactive > 0 && strcmp(cv->state, CONV_ACTIVE) == 0;
    int closed = cv->timer_closed > 0 && !conversations_closed(cv);
    int rc = inactive ? store_timer_set(c, cv->account_sid, TIMER_INACTIVE, cv->sid, cv->date_inactive)
                      : store_timer_clear(c, TIMER_INACTIVE, cv->sid);
    if (rc == ST_OK)
        rc = closed ? store_timer_set(c, cv->account_sid, TIMER_CLOSED, cv->sid, cv->date_closed)
                    : store_timer_clear(c, TIMER_CLOSED, cv->sid);
    return rc;
}

static int change(struct store_conn *c, const struct conversation *cv, const char *kind)
{
    return store_change_record(c, cv->account_sid, cv->service_sid, "conversation", cv->sid, NULL, kind);
}

/* A timer's transition, in the scheduler's transaction: only while the row still waits for this very
 * timer (a later change re-arms or disarms it, but a claim may race it). Fires onConversationStateUpdated
 * whatever the header was: no REST call caused it. */
static int timer_fire(struct store_conn *c, const char *target_sid, long long due_ms, const char *to)
{
    struct arena a;
    arena_init(&a);
    struct conversation cv;
    int rc = store_conversation_get_by_sid(c, target_sid, &a, &cv);
    int closing = strcmp(to, CONV_CLOSED) == 0;
    int waiting =
        rc == ST_OK &&
        (closing ? !conversations_closed(&cv) && cv.timer_closed > 0 && cv.date_closed == due_ms
                 : strcmp(cv.state, CONV_ACTIVE) == 0 && cv.timer_inactive > 0 && cv.date_inactive == due_ms);
    if (rc == ST_NOT_FOUND || (rc == ST_OK && !waiting)) {
        arena_free(&a);
        return 0;
    }
    const char *from = cv.state;
    long long now = time_now_ms();
    if (rc == ST_OK) {
        const struct conversation stored = cv;
        state_set(&cv, closing ? CONV_CLOSED : CONV_INACTIVE, due_ms);
        cv.date_updated = now > cv.date_updated ? now : cv.date_updated + 1;
        rc = store_conversation_update(c, &cv, &stored);
    }
    if (rc == ST_OK) rc = timers_schedule(c, &cv);
    if (rc == ST_OK) rc = change(c, &cv, "updated");
    if (rc == ST_OK) rc = queue_state_event(c, &cv, from, "TIMER", NULL, now, &a);
    arena_free(&a);
    return rc;
}

static int fire_inactive(struct store_conn *c, const char *account_sid, const char *target_sid,
                         long long due_ms)
{
    return timer_fire(c, target_sid, due_ms, CONV_INACTIVE);
}

static int fire_closed(struct store_conn *c, const char *account_sid, const char *target_sid,
                       long long due_ms)
{
    return timer_fire(c, target_sid, due_ms, CONV_CLOSED);
}

int conversations_timers_register(void)
{
    return timers_register(TIMER_INACTIVE, fire_inactive) || timers_register(TIMER_CLOSED, fire_closed) ? -1
                                                                                                        : 0;
}

int conversations_activity(struct store_conn *c, struct req *r, struct conversation *cv)
{
    /* a busy conversation is not rewritten (nor recorded as changed) on every message and participant */
    if (conversations_quiet(cv)) return 0;
    long long now = time_now_ms();
    const struct conversation stored = *cv;
    const char *from = cv->state;
    int revived = strcmp(cv->state, CONV_INACTIVE) == 0;
    if (revived) {
        state_set(cv, CONV_ACTIVE, now);
        cv->date_updated = now > cv->date_updated ? now : cv->date_updated + 1;
    }
    cv->last_activity = now;
    timers_arm(cv);
    int rc = store_conversation_update(c, cv, &stored);
    if (rc == ST_OK) rc = timers_schedule(c, cv);
    if (rc == ST_OK) rc = change(c, cv, "updated");
    if (rc == ST_OK && revived && r->webhook_enabled) {
        rc = queue_state_event(c, cv, from, "EVENT", r->event_source ? r->event_source : "API", now,
                               &r->arena);
        if (rc == ST_OK) r->events_queued = 1;
    }
    return rc;
}

int conversations_insert_plain(struct store_conn *c, struct req *r, struct conversation *cv)
{
    if (!cv->attributes) cv->attributes = "{}";
    cv->state = CONV_ACTIVE;
    const char *mg = r->account.default_messaging_service_sid;
    if (mg && sid_valid(mg, strlen(mg), "MG")) snprintf(cv->messaging_service_sid, SID_LEN + 1, "%s", mg);
    cv->timer_inactive = default_timer(r->account.default_inactive_timer);
    cv->timer_closed = default_timer(r->account.default_closed_timer);
    cv->last_activity = cv->date_created;
    timers_arm(cv);
    int rc = store_conversation_insert(c, cv);
    if (rc == ST_OK) rc = timers_schedule(c, cv);
    if (rc == ST_OK) rc = change(c, cv, "created");
    return rc;
}

/* After the insert or update, in its transaction (the runner has written the change record): the
 * schedule and, with the header, the post-events; all commit or none. */
static int post_event(struct store_conn *c, struct req *r, enum op_kind kind, const void *row)
{
    const struct conversation *cv = row;
    int err = timers_schedule(c, cv);
    if (err || !r->webhook_enabled) return err;
    err = queue_event(c, r, kind == OPK_CREATE ? EV_ADDED : EV_UPDATED, cv, 0);
    if (!err && kind == OPK_UPDATE && cv->state_before) {
        err = queue_state_event(c, cv, cv->state_before, "API", "API", time_now_ms(), &r->arena);
        if (!err) r->events_queued = 1;
    }
    return err;
}

/* The pre-event hooks that take ev, if any match, shown the row the change would write; the checks the
 * write would make come first (validation order, docs/DECISIONS.md). *out: the targets' number. */
static int pre_targets(struct req *r, enum conv_event ev, struct webhook_target **t, int *n)
{
    *n = 0;
    if (!r->webhook_enabled || !r->app->pre_hooks_for_rest) return 0;
    *t = arena_alloc(&r->arena, sizeof(**t) * WEBHOOK_MAX_TARGETS);
    int got = webhook_targets(r->db, r->account.sid, r->service_sid, event_names[ev], 1, &r->arena, *t);
    if (got < 0) return got;
    *n = got;
    return 0;
}

static const struct pre_event_fields modifiable = {{"friendly_name"}, 1};

static int pre_run(struct req *r, enum conv_event ev, const struct webhook_target *t, int n,
                   const struct conversation *cv, pre_event_proceed_fn proceed)
{
    struct buf form;
    buf_init(&form, EVENT_PARAMS_MAX);
    event_params(&form, ev, cv, 0);
    return pre_event_run_form(r, event_names[ev], t, n, &form, ev == EV_REMOVE ? NULL : &modifiable, proceed);
}

/* A unique name another conversation of the service holds: 409 before any hook is asked. */
static int name_taken(struct req *r, const struct conversation *cv)
{
    if (!cv->unique_name) return 0;
    struct conversation other;
    int rc = store_conversation_get(r->db, r->service_sid, cv->unique_name, 0, &r->arena, &other);
    if (rc == ST_NOT_FOUND) return 0;
    if (rc != ST_OK) return rc;
    return strcmp(other.sid, cv->sid) != 0 ? E_UNIQUE_NAME_EXISTS : 0;
}

/* The hook's friendly_name replaces the request's (onConversationAdd / onConversationUpdate); one longer
 * than a request may send answers the request's error for it, and nothing is written. */
static int take_modified(struct req *r, const char *const value[PRE_MAX_FIELDS])
{
    if (value[0] && utf8_len(value[0], strlen(value[0])) > FRIENDLY_NAME_MAX) {
        api_fail(r, E_FRIENDLY_NAME_TOO_LONG);
        return -1;
    }
    if (value[0]) ((struct conversation *)runner_request_row(r))->friendly_name = (char *)value[0];
    return 0;
}

static int proceed_create(struct req *r, const char *const value[PRE_MAX_FIELDS])
{
    return take_modified(r, value) != 0 ? 0 : runner_create_write(r);
}

static int proceed_update(struct req *r, const char *const value[PRE_MAX_FIELDS])
{
    return take_modified(r, value) != 0 ? 0 : runner_update_write(r);
}

static int proceed_delete(struct req *r, const char *const value[PRE_MAX_FIELDS])
{
    return runner_delete_write(r);
}

static int pre_create(struct req *r)
{
    struct webhook_target *t;
    int n;
    const struct conversation *cv = runner_request_row(r);
    int err = pre_targets(r, EV_ADD, &t, &n);
    if (!err && n > 0) err = name_taken(r, cv);
    if (err || n == 0) return err;
    return pre_run(r, EV_ADD, t, n, cv, proceed_create);
}

static int pre_update(struct req *r)
{
    struct webhook_target *t;
    int n;
    void *cv = NULL;
    int err = pre_targets(r, EV_UPDATE, &t, &n);
    if (!err && n > 0) err = runner_update_proposal(r, &cv);
    if (!err && n > 0) err = name_taken(r, cv);
    if (err || n == 0) return err;
    return pre_run(r, EV_UPDATE, t, n, cv, proceed_update);
}

static int get(struct store_conn *c, struct req *r, const char *key, void *out);

static int pre_delete(struct req *r)
{
    struct webhook_target *t;
    int n;
    struct conversation *cv = arena_alloc(&r->arena, sizeof(*cv));
    int err = pre_targets(r, EV_REMOVE, &t, &n);
    if (!err && n > 0) err = get(r->db, r, runner_request_key(r), cv);
    if (err || n == 0) return err;
    return pre_run(r, EV_REMOVE, t, n, cv, proceed_delete);
}

/* ---- the list's filters ---- */

static void query_param(struct buf *q, const char *name, const struct param_value *v)
{
    if (!v->present) return;
    buf_puts(q, name);
    buf_putc(q, '=');
    pct_encode(q, v->s, v->len);
    buf_putc(q, '&');
}

#define FILTER_QUERY_MAX 512

/* A date filter into *ms and *has; an unparsable one is refused naming it. 0 or RUNNER_ANSWERED. */
static int date_filter(struct req *r, const char *name, const struct param_value *v, int end, long long *ms,
                       int *has)
{
    if (!v->present) return 0;
    if (parse_date(v->s, end, ms) != 0) {
        api_failf(r, E_INVALID_PARAM,
                  "Invalid value for %s: a date-time such as 2024-01-31T00:00:00Z, or a day", name);
        return RUNNER_ANSWERED;
    }
    *has = 1;
    return 0;
}

/* StartDate / EndDate bound date_created (inclusive; a bare day is that whole day), State the state.
 * An unparsable date is 400 / 20001 (BEHAVIOUR-conversations §1.3 rule 6). */
static int list_filter(struct req *r, const struct param_value *v, struct list_filter *out)
{
    struct conversation_filter *cf = arena_alloc(&r->arena, sizeof(*cf));
    memset(cf, 0, sizeof(*cf));
    int err = date_filter(r, "StartDate", &v[L_START_DATE], 0, &cf->start, &cf->has_start);
    if (!err) err = date_filter(r, "EndDate", &v[L_END_DATE], 1, &cf->end, &cf->has_end);
    if (err) return err;
    if (v[L_STATE].present) cf->state = v[L_STATE].s;
    struct buf q;
    buf_init(&q, FILTER_QUERY_MAX);
    query_param(&q, "StartDate", &v[L_START_DATE]);
    query_param(&q, "EndDate", &v[L_END_DATE]);
    query_param(&q, "State", &v[L_STATE]);
    err = q.err ? ST_ERROR : 0; /* past the ceiling no accepted date or state reaches */
    out->store_filter = cf;
    out->query = arena_strndup(&r->arena, q.p ? q.p : "", q.len);
    buf_free(&q);
    return err;
}

/* ---- store calls: the key is a SID when it has the shape of one, else the unique name ---- */

static int get(struct store_conn *c, struct req *r, const char *key, void *out)
{
    return conversations_get(c, r, key, out);
}

static int insert(struct store_conn *c, struct req *r, void *row)
{
    return store_conversation_insert(c, row);
}

static int update(struct store_conn *c, struct req *r, const void *row, const void *before)
{
    int rc = store_conversation_update(c, row, before);
    return rc == ST_CONFLICT ? E_UNIQUE_NAME_EXISTS : rc;
}

/* A closed conversation may still be deleted (BEHAVIOUR-conversations §0.4). */
static int del(struct store_conn *c, struct req *r, const char *key)
{
    struct conversation cv;
    int rc = get(c, r, key, &cv);
    /* the event first: its scoped targets go with the cascade (in the same transaction, so the event
     * commits only with the delete) */
    if (rc == ST_OK && r->webhook_enabled) rc = queue_event(c, r, EV_REMOVED, &cv, time_now_ms());
    /* the cascade of the rows under it is the schema's (ON DELETE CASCADE); its timers go here */
    if (rc == ST_OK) rc = store_conversation_delete(c, r->service_sid, cv.sid);
    if (rc == ST_OK) rc = store_timer_clear(c, TIMER_INACTIVE, cv.sid);
    if (rc == ST_OK) rc = store_timer_clear(c, TIMER_CLOSED, cv.sid);
    return rc;
}

RUNNER_LIST_ROW(list_row, struct conversation)

static int list(struct store_conn *c, struct req *r, const struct list_filter *f, const struct page_req *p,
                void *ctx)
{
    return store_conversation_list(c, r->service_sid, f->store_filter, p, list_row, ctx);
}

const struct family conversations_family = {
    .segment = "Conversations",
    .prefix = "CH",
    .alt_key = 1,
    .parent = PARENT_TWIN,
    .resource = "conversation",
    FAMILY_MODEL(struct conversation),
    .service_off = CV(service_sid),
    FAMILY_FIELDS(fields),
    FAMILY_PARAMS(params),
    FAMILY_CRUD(CONVERSATION),
    FAMILY_ALL_HOOKS,
    .list_params = list_params,
    .n_list_params = L__COUNT,
    .conflict = E_UNIQUE_NAME_EXISTS,
    .no_update_params = E_CONVERSATION_NO_UPDATE_PARAMS,
    .list_filter = list_filter,
};

/* ---- what lives under a conversation: its key, and the closed guard ---- */

int conversations_get(struct store_conn *c, struct req *r, const char *key, struct conversation *out)
{
    int by_sid = sid_valid(key, strlen(key), "CH");
    return store_conversation_get(c, r->service_sid, key, by_sid, &r->arena, out);
}

int conversations_resolve_parent(struct req *r, const char *key)
{
    int by_sid = sid_valid(key, strlen(key), "CH");
    if (by_sid && r->parent_deferred) {
        memcpy(r->parent_sid, key, SID_LEN + 1);
        return 0;
    }
    r->parent_deferred = 0;
    int err = store_conversation_sid(r->db, r->service_sid, key, by_sid, r->parent_sid);
    return err == ST_NOT_FOUND ? E_NOT_FOUND : err;
}

int conversations_writable(struct store_conn *c, struct req *r, const char *key, struct conversation *out)
{
    int rc = get(c, r, key, out);
    if (rc == ST_NOT_FOUND) return E_NOT_FOUND;
    if (rc != ST_OK) return rc;
    return conversations_closed(out) ? E_CONVERSATION_CLOSED : 0;
}
